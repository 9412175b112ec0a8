"""The capture loop: read a frame, recognize, track, draw, write, show, handle keys.

Shaped like OpenCV's samples/python/digits_video.py: `run()` opens the source
and outputs, then one flat while-loop does everything per frame. Whatever
stops it (end of file, q/Esc, a closed window, Ctrl-C, a lost camera), the
`finally` closes the outputs, so the video plays and the JSON lines are whole.

Keys: q/Esc quit, space pause, s snapshot (PNG + JSON), t debug view,
+/- confidence threshold.
"""
from __future__ import annotations

import contextlib
import os
import signal
import socket
import sys
import time
from collections import defaultdict, deque

import cv2
import numpy as np
from tqdm import tqdm

from recognizer.capture import SourceError, open_source
from recognizer.log import configure_once, log, quiet
from recognizer.normalize import normalize_batch
from recognizer.output import Outputs, save_snapshot
from recognizer.pipeline import Recognizer
from recognizer.stream import recognized
from recognizer.workers import keep_freed_memory

WINDOW = "digits"
CONF_STEP = 0.05
PROCESS_START_FRAMES = 20  # starting worker processes costs ~0.1 s: worth it from about this many frames
FREE_CORE_NEEDED = 1.0  # default to a second worker process only when other programs leave this much CPU free
TIMED_FRAMES = 10_000  # the summary's medians are over the last this many frames (about 6 minutes at 30 fps)
OPENCV_THREADS = 1  # measured at 720x576: OpenCV's pool busy-waits, +6 ms CPU a frame for no wall-time gain


class Stopwatch:
    """Per-stage wall times of the loop (read, recognize, track, draw, write), for the summary and bench.

    Only the last TIMED_FRAMES laps of each stage are kept: a camera left running for hours
    kept 9 floats a frame (31 MB an hour at 30 fps) for a summary of medians.
    """

    def __init__(self):
        self.stages: dict[str, deque[float]] = defaultdict(lambda: deque(maxlen=TIMED_FRAMES))
        self._t = time.perf_counter()

    def start(self) -> None:
        self._t = time.perf_counter()

    def lap(self, stage: str) -> float:
        now = time.perf_counter()
        self.stages[stage].append(now - self._t)
        self._t = now
        return self.stages[stage][-1]

    def add_substages(self, stage: str, timings: dict) -> None:
        """The recognizer's own breakdown (preprocess, candidates, normalize, infer, group)."""
        for name, seconds in timings.items():
            self.stages[f"{stage}.{name}"].append(seconds)

    def medians_ms(self) -> dict[str, float]:
        return {k: 1000 * float(np.median(v)) for k, v in self.stages.items() if v}


class StopFlag:
    """Ctrl-C / SIGTERM ask the loop to stop after the current frame; a second Ctrl-C forces it."""

    def __init__(self):
        self.set = False
        self._old = {}
        for sig in (signal.SIGINT, signal.SIGTERM):
            try:
                self._old[sig] = signal.signal(sig, self._handle)
            except ValueError:  # not the main thread (e.g. called from a worker): no handler
                pass

    def _handle(self, signum, _frame) -> None:
        if self.set and signum == signal.SIGINT:
            raise KeyboardInterrupt
        self.set = True

    def shielded(self) -> None:
        """While outputs and workers are closed: a further Ctrl-C or SIGTERM only marks the stop."""
        for sig in self._old:
            signal.signal(sig, self._mark)

    def _mark(self, signum, _frame) -> None:
        self.set = True

    def restore(self) -> None:
        for sig, old in self._old.items():
            signal.signal(sig, old)


def display_available() -> bool:
    """A window can be shown: not offscreen, and on Linux a Wayland display or a reachable X server."""
    if os.environ.get("QT_QPA_PLATFORM", "") in ("offscreen", "minimal"):
        return False
    if sys.platform.startswith("linux"):
        if os.environ.get("WAYLAND_DISPLAY"):
            return True
        display = os.environ.get("DISPLAY", "")
        if display and not x_server_reachable(display):
            log.info(f"note: no X server answers on DISPLAY={display}; running headless")
            return False
        return bool(display)
    return True


def x_server_reachable(display: str, timeout: float = 0.5) -> bool:
    """Whether DISPLAY names an X server that answers. Qt aborts the whole process (no exception
    to catch) when it cannot connect, which a stale DISPLAY from an old ssh -X session causes;
    so we knock first: the local socket for ":N", TCP port 6000+N for "host:N"."""
    host, _, rest = display.rpartition(":")
    number = rest.split(".")[0]
    if not number.isdigit():
        return False
    if host not in ("", "unix"):
        try:
            socket.create_connection((host, 6000 + int(number)), timeout=timeout).close()
            return True
        except OSError:
            return False
    for path in (f"\0/tmp/.X11-unix/X{number}", f"/tmp/.X11-unix/X{number}"):  # abstract, then file
        with socket.socket(socket.AF_UNIX) as sock:
            sock.settimeout(timeout)
            try:
                sock.connect(path)
                return True
            except OSError:
                continue
    return False


def draw_status(image: np.ndarray, fps: float, latency_ms: float, conf: float | None,
                paused: bool) -> np.ndarray:
    """Frame rate, latency and threshold in the top-left corner, on a dark band for contrast."""
    text = f"{fps:5.1f} fps  {latency_ms:5.1f} ms"
    if conf is not None:
        text += f"  conf>={conf:.2f}"
    if paused:
        text += "  PAUSED"
    scale = max(0.5, image.shape[1] / 1400)
    (w, h), base = cv2.getTextSize(text, cv2.FONT_HERSHEY_SIMPLEX, scale, 1)
    cv2.rectangle(image, (0, 0), (w + 12, h + base + 12), (0, 0, 0), -1)
    cv2.putText(image, text, (6, h + 6), cv2.FONT_HERSHEY_SIMPLEX, scale, (255, 255, 255), 1, cv2.LINE_AA)
    return image


def debug_view(frame: np.ndarray, results, annotated: np.ndarray, debug: dict) -> np.ndarray:
    """The t key: annotated frame beside the binary image, over the strip of 28x28 crops.

    Uses the binary image and batch the recognizer kept (`Recognizer.debug`);
    falls back to the shared normalization of the result boxes when it kept none.
    """
    binary, batch = debug.get("binary"), debug.get("batch")
    if binary is None or batch is None:
        gray = cv2.cvtColor(frame, cv2.COLOR_BGR2GRAY) if frame.ndim == 3 else frame
        binary = cv2.adaptiveThreshold(gray, 255, cv2.ADAPTIVE_THRESH_MEAN_C, cv2.THRESH_BINARY_INV, 31, 10)
        boxes = [d.box for d in results.digits] + [r.box for r in results.rejected]
        crops = [gray[y:y + h, x:x + w] for x, y, w, h in boxes if w > 0 and h > 0]
        batch = normalize_batch(crops) if crops else np.zeros((0, 28, 28))
    binary = cv2.resize(binary, (annotated.shape[1], annotated.shape[0]), interpolation=cv2.INTER_NEAREST)
    strip = crop_strip(batch, frame.shape[1])
    top = np.hstack([annotated, cv2.cvtColor(binary, cv2.COLOR_GRAY2BGR)])
    top = cv2.resize(top, (frame.shape[1], frame.shape[0] // 2), interpolation=cv2.INTER_AREA)
    return np.vstack([top, strip])


def crop_strip(batch: np.ndarray, width: int, cell: int = 40) -> np.ndarray:
    """(N, 28, 28) -> one BGR strip `width` wide, crops enlarged to `cell` px, in detection order."""
    per_row = max(1, width // cell)
    rows = max(1, -(-len(batch) // per_row))
    strip = np.full((rows * cell, width, 3), 40, np.uint8)
    for i, crop in enumerate(batch):
        y, x = (i // per_row) * cell, (i % per_row) * cell
        tile = cv2.resize((crop * 255).astype(np.uint8), (cell - 2, cell - 2), interpolation=cv2.INTER_NEAREST)
        strip[y + 1:y + cell - 1, x + 1:x + cell - 1] = tile[:, :, None]
    return strip


def render(results, image: np.ndarray) -> np.ndarray:
    """Boxes, digits, confidences and numbers drawn by the results themselves (the core's annotators)."""
    return results.plot(image)


def worker_count(args, source, show: bool) -> int:
    """Worker processes: two only for video files read headless (order kept, nothing dropped),
    long enough to repay their start, on a machine with a core free for the second.

    A window or a live camera always recognizes in this process: lowest latency,
    and the keys (threshold, debug view) act on that recognizer directly.
    """
    if source.live or show:
        return 1
    if args.workers:
        return max(1, args.workers)
    if not source.stream or 0 < source.frame_count < PROCESS_START_FRAMES:
        return 1
    return 2 if free_cores() >= FREE_CORE_NEEDED else 1


def free_cores() -> float:
    """Cores not already kept busy by other programs (1-minute load average; all where unknown).

    Measured on 2 cores: a second worker process gives 1.5-1.9x when a core is
    free, but 0.8-0.9x when another job already holds one (they only contend).
    """
    cores = os.cpu_count() or 1
    try:
        return cores - os.getloadavg()[0]
    except (AttributeError, OSError):  # no load average (Windows)
        return float(cores)


def make_recognizer(args, threads: int) -> Recognizer:
    """The flags' Recognizer (--model, --small-model, --conf, --config: its arguments one to one)."""
    return Recognizer(args.model, conf=args.conf, small_model=args.small_model, threads=threads,
                      config=getattr(args, "config", None))


def run(args, stopwatch: Stopwatch | None = None) -> int:
    """Process one --source until it ends or the user stops; returns the exit code."""
    sw = stopwatch or Stopwatch()
    configure_once(getattr(args, "verbosity", 0))
    cv2.setNumThreads(OPENCV_THREADS)  # per-frame images are small: threads cost more than they give
    keep_freed_memory()  # per-frame buffers stay mapped between frames (glibc); forked workers inherit it
    first = make_recognizer(args, threads=2)  # a bad model fails here, before any camera is opened
    source = open_source(args.source, lost_after=args.camera_timeout)
    show = not args.no_display and display_available()
    try:
        outputs = Outputs(args.json, args.output, stream=source.stream, fps=source.fps,
                          single_image=not source.stream and source.frame_count == 1)
    except Exception:
        source.close()
        raise
    loop = recognized(first, source, track=not args.no_track, reuse=not args.no_reuse, smooth=args.smooth,
                      workers=worker_count(args, source, show), stopwatch=sw)  # the flags one to one
    stop = StopFlag()
    bar = tqdm(total=source.frame_count or None, unit="frame" if source.stream else "image",
               disable=show or source.live or source.frame_count == 1 or quiet(), file=sys.stderr, mininterval=0.5)
    frames = skipped = 0
    paused, debug, fps, latency = False, False, 0.0, 0.0
    frame = results = annotated = None
    conf = first.conf
    t_start = time.perf_counter()
    message, code = None, 0
    try:
        while not stop.set and (args.max_frames is None or frames < args.max_frames):
            if not paused or frame is None:
                sw.start()
                item = next(loop, None)  # read, recognize (worker processes for files; order kept), track
                if item is None:
                    break
                frame, results, latency = item
                if results is None:  # folder mode: an unreadable file is reported, skipped, and we go on
                    log.warning(f"skipped: {frame.error}")
                    skipped += 1
                    bar.update(1)
                    continue
                annotated = None
                if show or outputs.wants_drawing:
                    annotated = render(results, frame.image)
                    if show:
                        draw_status(annotated, fps, 1000 * latency, conf, paused)
                    sw.lap("draw")
                outputs.write(results, annotated)
                sw.lap("write")
                frames += 1
                bar.update(1)
                elapsed = time.perf_counter() - t_start
                fps = frames / elapsed if elapsed > 0 else 0.0
            if not show:
                continue
            view = debug_view(frame.image, results, annotated, first.debug) if debug else annotated
            try:
                cv2.imshow(WINDOW, view)
            except cv2.error:  # an OpenCV built without GUI (opencv-python-headless): go on headless
                log.info("note: this OpenCV cannot open a window; going on headless")
                show = False
                continue
            key = cv2.waitKey(30 if paused else (1 if source.stream else 0)) & 0xFF
            if key in (ord("q"), 27) or cv2.getWindowProperty(WINDOW, cv2.WND_PROP_VISIBLE) < 1:
                break
            if key == ord(" "):
                paused = not paused
            elif key == ord("s"):
                log.info(f"snapshot: {save_snapshot(args.snapshots, view, results)}")
            elif key == ord("t"):
                debug = not debug
                first.debug_on = debug  # the view falls back to the boxes until the next frame
                first.debug.clear()
            elif key in (ord("+"), ord("="), ord("-")):
                conf = float(np.clip(conf + (CONF_STEP if key != ord("-") else -CONF_STEP), 0.05, 0.99))
                first.conf = conf  # worker processes get it with each run of frames
    except SourceError as exc:  # camera lost mid-run: stop, keep what was written
        message, code = str(exc), 1
    except KeyboardInterrupt:
        stop.set = True
    finally:
        stop.shielded()  # more Ctrl-C while closing would leave outputs half-closed and workers behind
        loop.close()  # the worker processes end
        outputs.close()
        source.close()
        bar.close()
        stop.restore()
        if show:
            with contextlib.suppress(cv2.error):
                cv2.destroyAllWindows()
    elapsed = time.perf_counter() - t_start
    summary(frames, skipped, elapsed, outputs, interrupted=stop.set, unit="frame" if source.stream else "image")
    if skipped and quiet():  # -q hides the warnings naming them; the exit code 1 still needs its one line
        log.error(f"{skipped} unreadable file{'s' if skipped != 1 else ''} skipped (run without -q to see which)")
    log.debug("median ms a frame: " + ", ".join(f"{k} {v:.2f}" for k, v in sorted(sw.medians_ms().items())))
    short = source.cut_short() if not stop.set and args.max_frames is None else None
    if short:  # the frames read are valid and written; the input is what is wrong
        log.warning(short)
    if message and not stop.set:  # a stop request also ends the worker processes: no error then
        log.error(message)
    if stop.set:
        return 130
    return code or (1 if skipped else 0)


def summary(frames: int, skipped: int, elapsed: float, outputs: Outputs, interrupted: bool,
            unit: str = "frame") -> None:
    """One line on stderr: what was processed, how fast, where the outputs are."""
    rate = frames / elapsed if elapsed > 0 else 0.0
    parts = [f"processed {frames} {unit}{'s' if frames != 1 else ''} in {elapsed:.1f} s ({rate:.1f} fps)"]
    if skipped:
        parts.append(f"{skipped} unreadable skipped")
    written = [str(w.path) for w in (outputs.json, outputs.video, outputs.images) if w is not None]
    if written:
        parts.append("wrote " + ", ".join(written))
    if interrupted:
        parts.insert(0, "interrupted")
    log.info("; ".join(parts))
