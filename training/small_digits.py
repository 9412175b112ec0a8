"""Small digits far from the camera, photographed and cut by the recognizer itself.

A webcam 640 px wide that sees a whole page writes each digit 9-18 px tall.
Blown up to 20x20 such a crop is soft, low in contrast and blocky, unlike any
MNIST digit, and v15 called 37% of 9-12 px digits and 12% of 12-18 px ones
"not a digit" (while misreading under 2%: what it accepted it read right).
So training adds digits exactly as the runtime hands them over at that size:
MNIST TRAINING digits drawn small on synthetic photographed pages
(`training.scenes.make_scene`, whose camera effects are the same as the
evaluation scenes'), cut by the runtime's `locate` (enlarged as at runtime), and labelled with
the digit whose drawn box a candidate matches. The evaluation scenes draw MNIST
test digits, so no evaluated digit is trained on.
"""
from __future__ import annotations

import numpy as np

from recognizer.normalize import normalize_batch
from recognizer.pipeline import locate
from training.realdata import box_overlaps
from training.scenes import make_scene

HEIGHTS = [(8, 12), (10, 15), (12, 18), (15, 22)]  # digit heights in px, one range per page
MATCH_IOU = 0.6  # a candidate is the drawn digit when their boxes overlap this much ...
OTHER_INSIDE = 0.3  # ... and it holds no more than this share of any other drawn digit's box


def page_cuts(image: np.ndarray, truth: list) -> tuple[list[np.ndarray], list[int]]:
    """The runtime's crops of one page that stand on one drawn digit, with that digit.

    A crop that also holds much of another digit (a slim 1 beside a 0 matches the 0's
    box well) is left out: it is neither digit.
    """
    prep, found = locate(image)
    crops, labels = [], []
    for c in found:
        if c.tail:
            continue
        cut, iou, true_area = box_overlaps(prep.input_box(c.box), truth)
        held = np.flatnonzero(cut >= OTHER_INSIDE * true_area)
        if len(held) == 1 and iou[held[0]] >= MATCH_IOU:
            crops.append(c.crop)
            labels.append(truth[held[0]][0])
    return crops, labels


def small_digit_cuts(count: int, images: np.ndarray, labels: np.ndarray, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """`count` normalized 28x28 crops of small photographed digits and their labels.

    images, labels: MNIST training digits (never the test set: the evaluation draws those).
    """
    rng = np.random.default_rng(seed)
    crops: list[np.ndarray] = []
    digits: list[int] = []
    while len(crops) < count:
        height = HEIGHTS[int(rng.integers(len(HEIGHTS)))]
        image, truth, _ = make_scene(rng, images, labels, digit_height=height)
        c, d = page_cuts(image, truth)
        crops += c
        digits += d
    return normalize_batch(crops[:count], ink="light"), np.asarray(digits[:count], np.int64)
