"""training/scenes.py: synthetic pages must carry correct ground truth, or every score built on them lies."""
from __future__ import annotations

import cv2
import numpy as np

from training.scenes import draw_digit, make_scene


def _ink_inside(image: np.ndarray, box) -> float:
    """How much darker than the page median the darkest pixels in the box are."""
    gray = cv2.cvtColor(image, cv2.COLOR_BGR2GRAY).astype(np.float32)
    x, y, w, h = box
    return float(np.median(gray)) - float(np.percentile(gray[y:y + h, x:x + w], 2))


def test_draw_digit_puts_ink_only_in_its_box(mnist):
    (_, _), (xt, yt) = mnist
    canvas = np.full((100, 100, 3), 230, np.uint8)
    box = draw_digit(canvas, xt[0], (30, 20, 30, 40), (150, 40, 20), np.random.default_rng(0), strength=1.0)
    x, y, w, h = box
    assert 30 <= x and x + w <= 60 and 20 <= y and y + h <= 60 and h >= 38  # fits the box, fills its height
    outside = canvas.copy()
    outside[y:y + h, x:x + w] = 230
    assert (outside == 230).all()  # nothing drawn outside the ink box it reports
    assert canvas[y:y + h, x:x + w].min() < 120  # real ink inside


def test_scene_boxes_hold_the_digits_they_claim(mnist):
    (_, _), (xt, yt) = mnist
    rng = np.random.default_rng(7)
    image, digits, numbers = make_scene(rng, xt, yt, width=640, height=480, n_digits=20)
    assert image.shape == (480, 640, 3) and image.dtype == np.uint8
    assert len(digits) == 20
    for d, (x, y, w, h) in digits:
        assert 0 <= d <= 9
        assert x >= 0 and y >= 0 and x + w <= 640 and y + h <= 480
        assert _ink_inside(image, (x, y, w, h)) > 40
    # the numbers' texts are the digits, grouped
    assert sorted("".join(t for t, _ in numbers)) == sorted("".join(str(d) for d, _ in digits))
    boxes = [b for _, b in digits]
    for i, a in enumerate(boxes):  # digits never overlap each other much
        for b in boxes[i + 1:]:
            ix = min(a[0] + a[2], b[0] + b[2]) - max(a[0], b[0])
            iy = min(a[1] + a[3], b[1] + b[3]) - max(a[1], b[1])
            assert ix <= 0 or iy <= 0 or ix * iy < 0.2 * min(a[2] * a[3], b[2] * b[3])


def test_scenes_are_reproducible_and_light_ink_inverts(mnist):
    (_, _), (xt, yt) = mnist
    a = make_scene(np.random.default_rng(3), xt, yt, n_digits=8, camera=0.0)
    b = make_scene(np.random.default_rng(3), xt, yt, n_digits=8, camera=0.0)
    assert np.array_equal(a[0], b[0]) and a[1] == b[1]
    dark = make_scene(np.random.default_rng(3), xt, yt, n_digits=8, camera=0.0, light_ink=True)
    assert np.median(dark[0]) < 80 < np.median(a[0])  # chalk board: dark ground
