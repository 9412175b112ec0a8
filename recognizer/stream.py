"""The engine's loop over a source, shared by `Recognizer.stream` and the command line.

    from recognizer.pipeline import Recognizer
    for results in Recognizer().stream("clip.mp4"):     # or 0, "rtsp://...", "scans/", "scans/*.png"
        print(results.frame, [d.digit for d in results.digits])

`recognized` is the loop: frames read in order (recognizer/capture.py), recognized here or
in worker processes (recognizer/workers.py), tracked on video (recognizer/tracking.py), with
classification reuse and a steady turn on video unless turned off (recognizer/reuse.py).
The command line (recognizer/app.py) draws, writes and shows what it yields; `frames_of`
(`Recognizer.stream`) hands over the Results. So the API and `main.py` give the same records
for the same options: each flag is one option (README, "From Python").

A folder entry that cannot be read is skipped with a warning (`warnings.warn`) by the API,
as the CLI reports and skips it; a source that cannot be opened raises capture.SourceError.
"""
from __future__ import annotations

import glob
import warnings
from collections.abc import Iterator
from contextlib import closing
from pathlib import Path

from recognizer import reuse as reuse_module  # its REFRESH is read when a stream starts (a config may set it)
from recognizer.config import use
from recognizer.capture import Frame, ImageSource, SourceError, is_camera, is_image_file, is_url, open_source
from recognizer.results import Results
from recognizer.tracking import DigitTracker
from recognizer.workers import Recognition


class recognized:
    """(frame, results, seconds recognizing) for each frame of an open source, in order; results
    is None for a folder entry that cannot be read (frame.error says why). Reuse and the steady
    turn apply to video and cameras only; worker processes (`workers` > 1, files only: a live
    camera is read here, newest frame first) build their recognizers from
    `recognizer.settings()`. An iterator that ends its worker processes only when closed
    (`close()`), never on its own: the command line closes it where a further Ctrl-C cannot
    cut the shutdown short."""

    def __init__(self, recognizer, source, track: bool = True, reuse: bool = True,
                 smooth: int | None = None, workers: int = 1, stopwatch=None):
        use(recognizer.config)  # the reuse memory and the tracker read their settings when made
        frames = reuse_module.REFRESH if reuse and source.stream else 0
        recognizer.set_reuse(frames)
        recognizer.steady = bool(frames)
        self.tracker = DigitTracker(window=smooth) if track and source.stream else None
        self.stopwatch = stopwatch
        self.recognition = Recognition(source, recognizer, stopwatch, processes=1 if source.live else workers,
                                       recognizer_kwargs={**recognizer.settings(), "reuse": frames,
                                                          "steady": bool(frames)})

    def __iter__(self):
        return self

    def __next__(self) -> tuple[Frame, Results | None, float]:
        item = self.recognition.read()
        if item is None:
            raise StopIteration
        frame, results, seconds = item
        if results is not None and self.stopwatch:
            self.stopwatch.add_substages("recognize", results.timings)
        if results is not None and self.tracker:
            results = self.tracker.update(results)
            if self.stopwatch:
                self.stopwatch.lap("track")
        return frame, results, seconds

    def close(self) -> None:
        self.recognition.close()


def frames_of(recognizer, source, track: bool = True, reuse: bool = True, smooth: int | None = None,
              max_frames: int | None = None, workers: int = 1) -> Iterator[Results]:
    """Results for each frame of `source` (see the module docstring); the recognizer's reuse and
    steadiness are set for the stream and put back when it ends or is dropped."""
    if max_frames is not None and max_frames <= 0:
        return
    src = _open(source)
    kept = recognizer.reuse, recognizer.steady
    count = 0
    try:
        with src, closing(recognized(recognizer, src, track, reuse, smooth, workers)) as loop:
            for frame, results, _ in loop:
                if results is None:
                    warnings.warn(f"skipped: {frame.error}", stacklevel=2)
                    continue
                count += 1
                yield results
                if max_frames is not None and count >= max_frames:
                    return  # before the next frame is read
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
