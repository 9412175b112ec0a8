"""Small numeric helpers shared by the per-frame stages."""
from __future__ import annotations


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
