"""Frame sources: a live camera, a video file or URL, one image, a folder of images.

Every source yields `Frame`s in order and is used the same way:

    with open_source("0") as source:
        while (frame := source.read()) is not None:
            ...

A live camera must never make processing wait for the sensor, and a slow loop
must never show an old frame: a reader thread keeps only the NEWEST frame, and
`read()` hands out each one at most once (sequence numbers tell, unlike
imutils' VideoStream, which hands out the same frame again). A file is the
opposite: every frame is processed, in order, none dropped; a small bounded
queue lets decoding of frame i+1 overlap processing of frame i.
"""
from __future__ import annotations

import os
import queue
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from recognizer.frames import too_big, too_many
from recognizer.quiet import native_stderr_silenced, opencv_silenced, quiet_opencv

IMAGE_EXTENSIONS = {".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff", ".webp",
                    ".pgm", ".ppm", ".pbm", ".pnm", ".jp2", ".sr", ".ras", ".avif"}
HEADER_BYTES = 1 << 16  # read first, for an image file's size (frames.too_big)
SHORT_READ = 0.02  # a video that ends more than this share (and 2 frames) before its header's frame count is reported
CAMERA_LOST_AFTER_S = 5.0  # a camera that delivers nothing for this long is gone
FILE_QUEUE = 8  # decoded frames buffered ahead of processing (bounded: never drops)


class SourceError(RuntimeError):
    """A source cannot be opened or read; the message is one line for the user."""


@dataclass
class Frame:
    """One image to process, with where it came from."""

    image: np.ndarray | None  # BGR; None when an image file could not be read
    index: int  # sequence number within the source (0, 1, 2, ...)
    time: float | None  # seconds into the video / since the camera started; None for images
    name: str  # source name written to results ("0", "clip.mp4", "scans/a.png")
    error: str | None = None  # why `image` is None (folder mode reports and goes on)


def open_quietly(device: int | str, api: int = cv2.CAP_ANY) -> cv2.VideoCapture:
    """Open a capture device with OpenCV's probing errors silenced ("index out of range"...):
    the caller reports failure in its own words."""
    with opencv_silenced():
        return cv2.VideoCapture(device, api)


def open_video(path: str) -> cv2.VideoCapture:
    """A video file or URL, decoded by one thread.

    The file is decoded ahead by its own reader thread anyway, while the frames
    are recognized on every core. Decoder threads only add work there: measured
    on the demo, 0.53-0.58 ms of CPU per frame with one thread, 0.59-0.77 ms with
    FFmpeg's default. The decoded pixels are the same. A backend that refuses the
    setting opens the video with its defaults.
    """
    cap = cv2.VideoCapture(path, cv2.CAP_ANY, [cv2.CAP_PROP_N_THREADS, 1])
    if cap.isOpened():
        return cap
    cap.release()
    return cv2.VideoCapture(path)


def is_camera(source: str) -> bool:
    return str(source).isdigit()


def is_url(source: str) -> bool:
    return "://" in str(source)


def is_image_file(path: Path) -> bool:
    return path.suffix.lower() in IMAGE_EXTENSIONS


class Source:
    """What every source shares: used in a `with` block, it is closed however the loop ends."""

    def close(self) -> None:
        """Release the device or file (each source says how)."""

    def cut_short(self) -> str | None:
        """Why the source ended early although it read to its end (a video says so), or None."""
        return None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


class CameraSource(Source):
    """A live camera read by a background thread that keeps only the newest frame.

    When the camera stops delivering (unplugged, driver hiccup) the thread
    re-opens it with growing back-off; after `lost_after` seconds without a
    frame `read()` raises SourceError so the app can stop with outputs intact.
    """

    stream = True
    live = True

    def __init__(self, index: int | str, lost_after: float = CAMERA_LOST_AFTER_S, api: int = cv2.CAP_ANY):
        # index is a camera number; any other device OpenCV opens (a stream URL, a file
        # played as if it were live) works too and is read the same way.
        self.index, self.lost_after, self.api = index, lost_after, api
        self.name = str(index)
        self.cap = open_quietly(index, api)
        if not self.cap.isOpened() or not self._first_frame():
            self.cap.release()
            raise SourceError(f"no camera could be opened at index {index} "
                              f"(tried --source {index}); try --demo or --source VIDEO_FILE")
        self.fps = self.cap.get(cv2.CAP_PROP_FPS) or 0.0
        self.width = int(self.cap.get(cv2.CAP_PROP_FRAME_WIDTH))
        self.height = int(self.cap.get(cv2.CAP_PROP_FRAME_HEIGHT))
        self.frame_count = 0  # unknown for a live stream
        self._cond = threading.Condition()
        self._latest: np.ndarray | None = self._first
        self._seq, self._taken = 0, -1
        self._t0 = time.monotonic()
        self._stamp = 0.0
        self._lost: str | None = None
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._reader, name=f"camera-{index}", daemon=True)
        self._thread.start()

    def _first_frame(self) -> bool:
        """Some drivers open but never deliver: insist on one real frame within a second or two."""
        deadline = time.monotonic() + 2.0
        while time.monotonic() < deadline:
            ok, image = self.cap.read()
            if ok and image is not None:
                self._first = image
                return True
            time.sleep(0.05)
        return False

    def _reader(self) -> None:
        """Read as fast as the camera delivers; overwrite the previous frame (never queue)."""
        last_ok, backoff = time.monotonic(), 0.1
        while not self._stop.is_set():
            ok, image = self.cap.read()
            now = time.monotonic()
            if ok and image is not None:
                last_ok, backoff = now, 0.1
                with self._cond:
                    self._latest, self._seq, self._stamp = image, self._seq + 1, now - self._t0
                    self._cond.notify_all()
                continue
            if now - last_ok > self.lost_after:
                with self._cond:
                    self._lost = (f"camera {self.index} stopped delivering frames "
                                  f"for {self.lost_after:.0f} s; giving up")
                    self._cond.notify_all()
                return
            self._stop.wait(backoff)  # retry with back-off, re-opening the device
            backoff = min(backoff * 2, 1.0)
            self.cap.release()
            self.cap = open_quietly(self.index, self.api)

    def read(self, timeout: float = 0.5) -> Frame | None:
        """The newest frame not yet handed out; waits for a new one. Raises SourceError when lost.

        Returns None only when the source was closed.
        """
        with self._cond:
            while self._seq == self._taken:
                if self._lost:
                    raise SourceError(self._lost)
                if self._stop.is_set():
                    return None
                self._cond.wait(timeout)
            self._taken = self._seq
            return Frame(self._latest, self._seq, self._stamp, self.name)

    def close(self) -> None:
        self._stop.set()
        with self._cond:
            self._cond.notify_all()
        self._thread.join(timeout=2.0)
        self.cap.release()


class VideoSource(Source):
    """A video file or URL: every frame, in order, decoded one step ahead by a thread."""

    stream = True
    live = False

    def __init__(self, path: str):
        self.name = str(path)
        self.cap = open_video(str(path))
        if not self.cap.isOpened():
            raise SourceError(f"cannot open video {path}: not a video OpenCV can read")
        self.fps = self.cap.get(cv2.CAP_PROP_FPS) or 0.0
        if not 0 < self.fps < 1000:
            self.fps = 0.0
        self.width = int(self.cap.get(cv2.CAP_PROP_FRAME_WIDTH))
        self.height = int(self.cap.get(cv2.CAP_PROP_FRAME_HEIGHT))
        self.frame_count = max(0, int(self.cap.get(cv2.CAP_PROP_FRAME_COUNT)))
        ok, self._first = self.cap.read()
        if not ok or self._first is None:  # opens but decodes nothing: corrupt or empty
            self.cap.release()
            raise SourceError(f"cannot read video {path}: no frame could be decoded")
        self.frames_read: int | None = None  # set when the reader reaches the end
        self._queue: queue.Queue = queue.Queue(maxsize=FILE_QUEUE)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._reader, name="video-reader", daemon=True)
        self._thread.start()

    def _reader(self) -> None:
        """Decode in order into a bounded queue: it blocks when full instead of dropping."""
        index, image = 0, self._first
        while not self._stop.is_set():
            if index > 0:
                ok, image = self.cap.read()
                if not ok or image is None:
                    break
            t = index / self.fps if self.fps else self.cap.get(cv2.CAP_PROP_POS_MSEC) / 1000.0
            item = Frame(image, index, t, self.name)
            while not self._stop.is_set():
                try:
                    self._queue.put(item, timeout=0.1)
                    break
                except queue.Full:
                    continue
            index += 1
        self.frames_read = index
        self._put_end()

    def cut_short(self) -> str | None:
        """Why the video seems cut short (it ended well before the frame count its header
        gives: a truncated or damaged file), or None. Headers estimate the count of a
        variable-rate video, so a few percent short is not reported."""
        read, count = self.frames_read, self.frame_count
        if read is None or not count or read >= count * (1 - SHORT_READ) - 2:
            return None
        return f"{self.name} ended at frame {read} of the {count} its header gives: the file may be cut short"

    def _put_end(self) -> None:
        while not self._stop.is_set():
            try:
                self._queue.put(None, timeout=0.1)
                return
            except queue.Full:
                continue

    def read(self) -> Frame | None:
        """The next frame in order, or None at the end of the video."""
        if self._stop.is_set():
            return None
        return self._queue.get()

    def close(self) -> None:
        self._stop.set()
        self._thread.join(timeout=2.0)
        self.cap.release()


class ImageSource(Source):
    """One image file or a folder of them (sorted by name); unreadable files come back with `error`."""

    stream = False
    live = False
    fps = 0.0

    def __init__(self, paths: list[Path], name: str):
        self.paths, self.name = paths, name
        self.frame_count = len(paths)
        self._next = 0

    def read(self) -> Frame | None:
        if self._next >= len(self.paths):
            return None
        path = self.paths[self._next]
        self._next += 1
        image, why = read_checked(path)
        error = None if image is not None else f"cannot read image {path}: {why}"
        return Frame(image, self._next - 1, None, str(path), error)


def read_checked(path: Path) -> tuple[np.ndarray | None, str]:
    """(image, "") or (None, why it cannot be read): a file too big is refused by its header,
    before it is decoded (frames.too_big)."""
    if not path.is_file():  # opening a FIFO would wait for a writer forever
        return None, "not a regular file (a pipe, a device, or a broken or looping link)"
    try:
        with open(path, "rb") as fh:
            refused = too_big(fh.read(HEADER_BYTES))  # before the rest of a huge file is read
        if refused:
            return None, refused
        data = np.fromfile(str(path), np.uint8)
    except OSError as exc:
        return None, exc.strerror or "cannot be read"
    return decode_checked(data)


def decode_checked(data) -> tuple[np.ndarray | None, str]:
    """(image, "") or (None, why) from an image file's bytes (a file, an object store's blob):
    too big by its header or its decoded size (frames.too_big, too_many), or not an image."""
    data = np.frombuffer(data, np.uint8) if isinstance(data, (bytes, bytearray, memoryview)) else data
    refused = too_big(data[:HEADER_BYTES].tobytes())
    if refused:
        return None, refused
    with opencv_silenced(), native_stderr_silenced():  # a damaged file: our one line says so, not libpng's
        image = cv2.imdecode(data, cv2.IMREAD_COLOR) if data.size else None
    if image is None:
        return None, "not a valid image file"
    refused = too_many(image.shape)  # a format whose header was not read
    return (None, refused) if refused else (image, "")


def read_image(path: Path) -> np.ndarray | None:
    """cv2.imread that also takes non-ASCII paths and never raises (None when unreadable)."""
    return read_checked(path)[0]


def folder_images(folder: Path) -> list[Path]:
    """Entries of a folder named as images, sorted by name (not recursive; sub-folders are
    left out). Those that are no regular file (a FIFO, a device, a broken or looping link)
    are kept, to be reported and skipped by `read_checked` without being opened."""
    return sorted(p for p in folder.iterdir() if is_image_file(p) and not p.is_dir())


def open_source(source: str, lost_after: float = CAMERA_LOST_AFTER_S):
    """--source value -> the matching source; SourceError (one line) when it cannot be used."""
    quiet_opencv()
    source = str(source)
    if is_camera(source):
        return CameraSource(int(source), lost_after=lost_after)
    if is_url(source):
        return VideoSource(source)
    path = Path(source)
    if path.is_dir():
        paths = folder_images(path)
        if not paths:
            raise SourceError(f"no images in folder {path} (looked for {', '.join(sorted(IMAGE_EXTENSIONS))})")
        return ImageSource(paths, str(path))
    if not path.exists():
        raise SourceError(f"source not found: {source}")
    if not os.access(path, os.R_OK):
        raise SourceError(f"cannot read {source}: permission denied")
    if is_image_file(path):
        image, why = read_checked(path)
        if image is None:
            raise SourceError(f"cannot read image {path}: {why}")
        return ImageSource([path], str(path))
    return VideoSource(source)
