"""Small numeric helpers shared by the per-frame stages."""
from __future__ import annotations

import cv2
import numpy as np


def median(values) -> float:
    """The median of a few numbers, exactly what np.median gives (the mean of the two middle
    values for an even count), without its ~10 us of call overhead.

    The per-frame stages take medians of a handful of box sizes a dozen times a frame.
    `values`: a sequence of Python or numpy numbers (not empty, no NaN).
    """
    ordered = sorted(values.tolist() if hasattr(values, "tolist") else values)
    mid = len(ordered) // 2
    if len(ordered) % 2:
        return float(ordered[mid])
    return (ordered[mid - 1] + ordered[mid]) / 2


def chains(items: list, linked) -> list[int]:
    """A chain label per item: items joined by `linked(a, b)`, directly or through others
    (union-find over all pairs; the label is an item index, the same for a whole chain)."""
    parent = list(range(len(items)))

    def root(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    for i in range(len(items)):
        for j in range(i + 1, len(items)):
            if linked(items[i], items[j]):
                parent[root(j)] = root(i)
    return [root(i) for i in range(len(items))]


# OpenCV >= 4.11 can compute a threshold without writing the thresholded image (DRYRUN); older
# versions write it and it is dropped. The level is the same either way.
_OTSU_ONLY = cv2.THRESH_BINARY + cv2.THRESH_OTSU + getattr(cv2, "THRESH_DRYRUN", 0)


def otsu_level(image: np.ndarray) -> float:
    """Otsu's split of a uint8 image, without paying for an output image nobody reads.

    Used for the frame (preprocess), for every crop (normalize) and for finding pages (paper).
    """
    return cv2.threshold(image, 0, 255, _OTSU_ONLY)[0]
