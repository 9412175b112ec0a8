"""`Recognizer.stream(source)`: every frame of a camera, video, URL, image, folder or glob, read as results.

    from recognizer.pipeline import Recognizer
    for results in Recognizer().stream("clip.mp4"):     # or 0, "rtsp://...", "scans/", "scans/*.png"
        print(results.frame, [d.digit for d in results.digits])

The same reading as the command line with one process (`main.py --workers 1`): on a video
or camera, classification reuse and a steady turn (recognizer/reuse.py) and tracking
(recognizer/tracking.py) are on unless turned off, so the records are the CLI's records.
A folder entry that cannot be read is skipped with a warning (`warnings.warn`), as the CLI
reports and skips it; a source that cannot be opened raises capture.SourceError.
"""
from __future__ import annotations

import glob
import warnings
from collections.abc import Iterator
from pathlib import Path

from recognizer.capture import ImageSource, SourceError, is_camera, is_image_file, is_url, open_source
from recognizer.results import Results
from recognizer import reuse as reuse_module  # its REFRESH is read when a stream starts (a config may set it)
from recognizer.tracking import DigitTracker

def frames_of(recognizer, source, track: bool = True, reuse: bool = True, smooth: int | None = None,
              max_frames: int | None = None) -> Iterator[Results]:
    """Results for each frame of `source` (see the module docstring); the recognizer's reuse and
    steadiness are set for the stream and put back when it ends or is dropped."""
    src = _open(source)
    recognizer.config.install()  # the reuse memory and the tracker read their settings when made
    kept = recognizer.reuse, recognizer.steady
    recognizer.set_reuse(reuse_module.REFRESH if reuse and src.stream else 0)
    recognizer.steady = bool(reuse and src.stream)
    tracker = DigitTracker(window=smooth) if track and src.stream else None
    count = 0
    try:
        with src:
            while max_frames is None or count < max_frames:
                frame = src.read()
                if frame is None:
                    return
                if frame.image is None:
                    warnings.warn(f"skipped: {frame.error}", stacklevel=2)
                    continue
                results = recognizer(frame.image, source=frame.name, frame_index=frame.index, time_s=frame.time)
                count += 1
                yield tracker.update(results) if tracker else results
    finally:
        recognizer.reuse, recognizer.steady = kept


def _open(source):
    """A glob pattern of images (that names no existing path) is a sorted list of them; anything
    else goes to capture.open_source as the CLI's --source does."""
    text = str(source)
    if glob.has_magic(text) and not (is_url(text) or is_camera(text) or Path(text).exists()):
        paths = sorted(Path(p) for p in glob.glob(text) if is_image_file(Path(p)))
        if not paths:
            raise SourceError(f"no image file matches {text}")
        return ImageSource(paths, text)
    return open_source(text)
