"""What a frame may be: the one gate every input passes before the recognizer reads it.

    from recognizer.frames import FrameError, checked
    image = checked(frame)        # a 2-D or 3-D numeric array, or FrameError

Numpy arrays reach the Python API from anywhere (a camera, a decoder, a scientific
pipeline), so the recognizer takes any numeric dtype (uint8, 16-bit, float with NaN or
inf, bool), gray or 1, 3 or 4 channels, views and non-contiguous slices, and strips one
pixel thin. What it cannot read raises FrameError, one documented type (a ValueError)
with a message that says what was wrong: no array, no pixels, a shape that is no image,
or more pixels than MAX_PIXELS (a decoded 40000x40000 PNG would take gigabytes).
"""
from __future__ import annotations

import numpy as np

MAX_PIXELS = 100_000_000  # 100 MP: any phone or scanner page; beyond, a frame is refused, not read for minutes
CHANNELS = (1, 3, 4)  # gray, BGR, BGRA


class FrameError(ValueError):
    """A frame the recognizer cannot read (the message says why)."""


def checked(frame) -> np.ndarray:
    """The frame as a numeric array of a readable shape, NaN and inf replaced by black and white;
    FrameError when it cannot be read."""
    try:
        image = np.asarray(frame)
    except Exception as exc:  # an object numpy cannot turn into an array
        raise FrameError(f"not an image array: {type(frame).__name__} ({exc})") from None
    if image.dtype == bool:
        image = image.astype(np.uint8) * 255
    if not (np.issubdtype(image.dtype, np.integer) or np.issubdtype(image.dtype, np.floating)):
        raise FrameError(f"not an image array: dtype {image.dtype} (numbers expected)")
    if image.ndim not in (2, 3) or (image.ndim == 3 and image.shape[2] not in CHANNELS):
        raise FrameError(f"not an image shape: {image.shape} (height x width, with 1, 3 or 4 channels)")
    if image.size == 0:
        raise FrameError(f"an empty frame: {image.shape}")
    if image.shape[0] * image.shape[1] > MAX_PIXELS:
        raise FrameError(f"too many pixels: {image.shape[1]}x{image.shape[0]} (at most {MAX_PIXELS // 1_000_000} MP)")
    if np.issubdtype(image.dtype, np.floating) and not np.isfinite(image).all():
        white = float(np.max(image[np.isfinite(image)], initial=1.0))  # 1.0, or the brightest finite value
        image = np.nan_to_num(image, nan=0.0, posinf=white, neginf=0.0)
    return np.ascontiguousarray(image)
