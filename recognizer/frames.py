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

import struct

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
    refused = too_many(image.shape)
    if refused:
        raise FrameError(refused)
    if np.issubdtype(image.dtype, np.floating) and not np.isfinite(image).all():
        white = float(np.max(image[np.isfinite(image)], initial=1.0))  # 1.0, or the brightest finite value
        image = np.nan_to_num(image, nan=0.0, posinf=white, neginf=0.0)
    return np.ascontiguousarray(image)


def too_big(data: bytes) -> str | None:
    """Why an encoded image file is refused before it is decoded (its header says more than
    MAX_PIXELS), or None. PNG and JPEG headers are read; other formats are decoded and
    then meet `checked`. A 40000x40000 PNG of one colour is a few kB on disk and 1.6 GB
    decoded: the header is the only cheap place to stop it."""
    size = png_size(data) or jpeg_size(data)
    return too_many((size[1], size[0])) if size else None


def too_many(shape) -> str | None:
    """Why an image of this shape (height, width, ...) is refused, or None."""
    if shape[0] * shape[1] > MAX_PIXELS:
        return f"too many pixels: {shape[1]}x{shape[0]} (at most {MAX_PIXELS // 1_000_000} MP)"
    return None


def png_size(data: bytes) -> tuple[int, int] | None:
    """(width, height) from a PNG's IHDR chunk."""
    if data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) >= 24 and data[12:16] == b"IHDR":
        return struct.unpack(">II", data[16:24])
    return None


def jpeg_size(data: bytes) -> tuple[int, int] | None:
    """(width, height) from a JPEG's first start-of-frame marker."""
    if data[:2] != b"\xff\xd8":
        return None
    i = 2
    while i + 9 <= len(data):
        if data[i] != 0xFF:
            return None
        marker = data[i + 1]
        if marker in (0xD8, 0x01) or 0xD0 <= marker <= 0xD7:  # markers without a length
            i += 2
            continue
        if 0xC0 <= marker <= 0xCF and marker not in (0xC4, 0xC8, 0xCC):  # SOFn
            height, width = struct.unpack(">HH", data[i + 5:i + 9])
            return width, height
        i += 2 + struct.unpack(">H", data[i + 2:i + 4])[0]
    return None
