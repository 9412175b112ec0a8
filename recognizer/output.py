"""Where results go: JSON lines, an annotated video, annotated images, snapshots.

Each writer is safe to stop at any moment (Ctrl-C, a lost camera): JSON lines
are flushed per record, so the file is always whole lines; the video writer
is released in `close()`, which the app always reaches, so the file plays.
A run killed outright (SIGKILL, power loss) never reaches `close()`: an MP4 is
therefore written fragmented (PyAV), playable up to its last fragment (one a
second), and an AVI (MJPG) plays as far as it was written anyway.
"""
from __future__ import annotations

import json
import math
import time
from fractions import Fraction
from pathlib import Path

import cv2
import numpy as np

from recognizer.capture import IMAGE_EXTENSIONS
from recognizer.results import Results

VIDEO_CODECS = {".mp4": "mp4v", ".m4v": "mp4v", ".mov": "mp4v", ".avi": "MJPG", ".mkv": "MJPG"}
FRAGMENT_S = 1.0  # a fragment (and a key frame) every this many seconds: what a killed run can lose at most
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
            self._writer = self._open((w, h))
            self.size = (w, h)
        if (w, h) != self.size:  # e.g. a debug view toggled on: keep the file's own size
            image = cv2.resize(image, self.size, interpolation=cv2.INTER_AREA)
        self._writer.write(image)
        self.frames += 1

    def _open(self, size: tuple[int, int]):
        """PyAV's fragmented MP4 for an MP4 when PyAV is there, else OpenCV's writer."""
        if VIDEO_CODECS[self.path.suffix.lower()] == "mp4v" and FragmentedMp4.available():  # the MP4 family
            return FragmentedMp4(self.path, self.fps, size)
        writer = cv2.VideoWriter(str(self.path), self.fourcc, self.fps, size)
        if not writer.isOpened():
            raise OutputError(f"cannot write video {self.path}: OpenCV could not open a writer")
        return writer

    def close(self) -> None:
        if self._writer is not None:
            self._writer.release()
            self._writer = None


class FragmentedMp4:
    """An MP4 (MPEG-4 part 2, as OpenCV's "mp4v") written as a header, then one self-contained
    fragment a FRAGMENT_S: a run killed outright leaves a file that plays up to its last
    fragment. OpenCV's writer puts the MP4 index at the end, written on release only, and a
    killed run left a file no player opens ("moov atom not found"). Same calls as cv2.VideoWriter."""

    def __init__(self, path: Path, fps: float, size: tuple[int, int]):
        import av

        try:
            self._file = av.open(str(path), "w", format="mp4" if path.suffix.lower() != ".mov" else "mov",
                                 options={"movflags": "frag_keyframe+empty_moov+default_base_moof",
                                          "flush_packets": "1"})  # each fragment to disk as it ends
            self._stream = self._file.add_stream("mpeg4", rate=_rate(fps))
            self._stream.width, self._stream.height = size
            self._stream.pix_fmt = "yuv420p"
            self._stream.options = {"g": str(max(1, round(FRAGMENT_S * fps))), "qscale": "3"}
        except Exception as exc:  # noqa: BLE001 - PyAV's errors: an OSError, or its own FFmpegError
            raise OutputError(f"cannot write video {path}: {_reason(exc)}") from None
        self.path = path
        self._frame = av.VideoFrame.from_ndarray

    @staticmethod
    def available() -> bool:
        try:
            import av  # noqa: F401
        except ImportError:
            return False
        return True

    def write(self, image: np.ndarray) -> None:
        try:
            self._mux(self._stream.encode(self._frame(np.ascontiguousarray(image), format="bgr24")))
        except Exception as exc:  # noqa: BLE001 - a full disk, a device that takes nothing
            raise OutputError(f"cannot write video {self.path}: {_reason(exc)}") from None

    def _mux(self, packets) -> None:
        for packet in packets:
            self._file.mux(packet)

    def release(self) -> None:
        """The encoder's last frames, then the file closed; what fails here was reported by `write`."""
        try:
            self._mux(self._stream.encode())
        except Exception:  # noqa: BLE001, S110
            pass
        try:
            self._file.close()
        except Exception:  # noqa: BLE001, S110
            pass


def _rate(fps: float) -> Fraction:
    """The frame rate as a fraction whose numerator MPEG-4's time base takes (at most 65535):
    30000/1001 for NTSC's 29.97, and the nearest such fraction for a phone's 99.999 or 120.0024."""
    return Fraction(fps).limit_denominator(min(1001, max(1, 65535 // math.ceil(fps))))


def _reason(exc: Exception) -> str:
    """One line from an I/O error, PyAV's included."""
    text = getattr(exc, "strerror", None) or str(exc)
    return text.splitlines()[0] if text else type(exc).__name__


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
