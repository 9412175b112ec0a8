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


def chains(items: list, linked, reach=None) -> list[int]:
    """A chain label per item: items joined by `linked(a, b)`, directly or through others
    (union-find; the label is an item index, the same for a whole chain).

    items are boxes (x, y, w, h, ...). With `reach(a)`, how far right of its box `a` can
    link at all, only pairs that near in x are tried, in one sweep in x order: a frame of
    1,000 specks costs thousands of tests, not a million. Without it, every pair.
    """
    parent = list(range(len(items)))

    def root(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    order = sorted(range(len(items)), key=lambda k: items[k][0]) if reach else list(range(len(items)))
    for n, i in enumerate(order):
        a = items[i]
        end = a[0] + a[2] + reach(a) if reach else None
        for j in order[n + 1:]:
            if end is not None and items[j][0] > end:
                break  # sorted by x: no later box starts near enough
            if linked(a, items[j]) if i < j else linked(items[j], a):
                parent[root(max(i, j))] = root(min(i, j))
    return [root(i) for i in range(len(items))]


# OpenCV >= 4.11 can compute a threshold without writing the thresholded image (DRYRUN); older
# versions write it and it is dropped. The level is the same either way.
_OTSU_ONLY = cv2.THRESH_BINARY + cv2.THRESH_OTSU + getattr(cv2, "THRESH_DRYRUN", 0)


def otsu_level(image: np.ndarray) -> float:
    """Otsu's split of a uint8 image, without paying for an output image nobody reads.

    Used for the frame (preprocess), for every crop (normalize) and for finding pages (paper).
    """
    return cv2.threshold(image, 0, 255, _OTSU_ONLY)[0]
