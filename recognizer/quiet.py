"""Native libraries' own messages kept off the terminal, where the caller says what happened in one line.

OpenCV's backends (V4L, FFmpeg, the PNG reader) log through OpenCV's logger;
libpng and LiteRT's C++ write straight to file descriptor 2, which Python's
`sys.stderr` redirection does not reach.
"""
from __future__ import annotations

import contextlib
import os
import sys

import cv2


def quiet_opencv() -> None:
    """Only OpenCV's errors from now on: no backend warnings (V4L/FFmpeg probing)."""
    logging = getattr(cv2.utils, "logging", None)
    if logging is not None:
        logging.setLogLevel(logging.LOG_LEVEL_ERROR)


@contextlib.contextmanager
def opencv_silenced():
    """Nothing from OpenCV's logger for a moment (a probe or decode whose failure the caller reports)."""
    logging = getattr(cv2.utils, "logging", None)
    if logging is None:
        yield
        return
    level = logging.getLogLevel()
    logging.setLogLevel(logging.LOG_LEVEL_SILENT)
    try:
        yield
    finally:
        logging.setLogLevel(level)


@contextlib.contextmanager
def native_stderr_silenced():
    """File descriptor 2 sent to /dev/null for a moment: what C/C++ code prints there ("INFO:
    Created TensorFlow Lite XNNPACK delegate", "libpng error: IDAT: CRC error") is not
    filtered by Python."""
    sys.stderr.flush()
    try:
        saved = os.dup(2)
    except OSError:  # no descriptor 2 (a detached process): nothing to silence
        yield
        return
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, 2)
        yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)
        os.close(devnull)
