"""Where results go: JSON lines, an annotated video, annotated images, snapshots.

Each writer is safe to stop at any moment (Ctrl-C, a lost camera): JSON lines
are flushed per record, so the file is always whole lines; the video writer
is released in `close()`, which the app always reaches, so the file plays.
"""
from __future__ import annotations

import json
import time
from pathlib import Path

import cv2
import numpy as np

from recognizer.capture import IMAGE_EXTENSIONS
from recognizer.results import Results

VIDEO_CODECS = {".mp4": "mp4v", ".m4v": "mp4v", ".mov": "mp4v", ".avi": "MJPG", ".mkv": "MJPG"}
DEFAULT_FPS = 25.0


class OutputError(RuntimeError):
    """An output cannot be written; the message is one line for the user."""


class JsonLinesWriter:
    """One JSON record per line, flushed as it goes (a reader can tail it live)."""

    def __init__(self, path: str | Path):
        self.path = Path(path)
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._file = open(self.path, "w", encoding="utf-8", buffering=1)
        except OSError as exc:
            raise OutputError(f"cannot write {path}: {exc.strerror or exc}") from None

    def write(self, results: Results) -> None:
        try:
            self._file.write(results.to_json() + "\n")
            self._file.flush()
        except OSError as exc:  # a full disk, a device that takes nothing: the lines so far are whole
            raise OutputError(f"cannot write {self.path}: {exc.strerror or exc}") from None

    def close(self) -> None:
        if not self._file.closed:
            try:
                self._file.close()
            except OSError:  # the failed write already said why
                pass


class VideoOutput:
    """Annotated frames into a video at the input's size and frame rate.

    Opened on the first frame, so the size is the size actually drawn.
    """

    def __init__(self, path: str | Path, fps: float):
        self.path = Path(path)
        self.fps = fps if fps and fps > 0 else DEFAULT_FPS
        codec = VIDEO_CODECS.get(self.path.suffix.lower())
        if codec is None:
            raise OutputError(f"cannot write video {path}: use one of {', '.join(sorted(VIDEO_CODECS))}")
        self.fourcc = cv2.VideoWriter_fourcc(*codec)
        self._writer: cv2.VideoWriter | None = None
        self.size: tuple[int, int] | None = None
        self.frames = 0

    def write(self, image: np.ndarray) -> None:
        h, w = image.shape[:2]
        if self._writer is None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._writer = cv2.VideoWriter(str(self.path), self.fourcc, self.fps, (w, h))
            if not self._writer.isOpened():
                raise OutputError(f"cannot write video {self.path}: OpenCV could not open a writer")
            self.size = (w, h)
        if (w, h) != self.size:  # e.g. a debug view toggled on: keep the file's own size
            image = cv2.resize(image, self.size, interpolation=cv2.INTER_AREA)
        self._writer.write(image)
        self.frames += 1

    def close(self) -> None:
        if self._writer is not None:
            self._writer.release()
            self._writer = None


class ImageOutput:
    """Annotated images: to one file for a single image, else into a folder under each input's name."""

    def __init__(self, path: str | Path, single: bool):
        self.path = Path(path)
        self.folder = not (single and self.path.suffix.lower() in IMAGE_EXTENSIONS)
        self.written: list[Path] = []

    def target(self, source_name: str) -> Path:
        if not self.folder:
            return self.path
        name = Path(source_name)
        keep = name.suffix.lower() in {".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff", ".webp"}
        return self.path / (name.name if keep else name.stem + ".png")

    def write(self, image: np.ndarray, source_name: str) -> Path:
        out = self.target(source_name)
        try:
            out.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:  # e.g. --output names a file that is not a folder (/dev/full)
            raise OutputError(f"cannot write image {out}: {out.parent} is not a folder we can write to"
                              f" ({exc.strerror or exc})") from None
        if not write_image(out, image):
            raise OutputError(f"cannot write image {out}")
        self.written.append(out)
        return out

    def close(self) -> None:
        pass


def write_image(path: Path, image: np.ndarray) -> bool:
    """cv2.imwrite that also takes non-ASCII paths."""
    ok, data = cv2.imencode(path.suffix or ".png", image)
    if not ok:
        return False
    try:
        data.tofile(str(path))
    except OSError:
        return False
    return True


def save_snapshot(folder: str | Path, image: np.ndarray, results: Results) -> Path:
    """The s key: the annotated view as PNG and its results as JSON, side by side."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    stem = folder / time.strftime(f"snapshot_%Y%m%d_%H%M%S_{results.frame:06d}")
    write_image(stem.with_suffix(".png"), image)
    stem.with_suffix(".json").write_text(json.dumps(results.to_record(), indent=1))
    return stem.with_suffix(".png")


class Outputs:
    """All outputs a run asked for, written and closed together."""

    def __init__(self, json_path=None, output=None, stream: bool = True, fps: float = 0.0,
                 single_image: bool = False):
        self.json = JsonLinesWriter(json_path) if json_path else None
        self.video = self.images = None
        if output and stream:
            self.video = VideoOutput(output, fps)
        elif output:
            self.images = ImageOutput(output, single_image)

    @property
    def wants_drawing(self) -> bool:
        return self.video is not None or self.images is not None

    def write(self, results: Results, annotated: np.ndarray | None) -> None:
        if self.json:
            self.json.write(results)
        if annotated is not None and self.video:
            self.video.write(annotated)
        if annotated is not None and self.images:
            self.images.write(annotated, results.source)

    def close(self) -> None:
        for w in (self.json, self.video, self.images):
            if w is not None:
                w.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
