"""Frames -> Results, in this process or in worker processes, always handed back in frame order.

A video file must not drop frames, but nothing says they must be recognized
one after another. Half of a frame's work is Python (candidate bookkeeping,
per-crop normalization, grouping), which holds the GIL, so threads barely
help; worker processes do. Measured on the 2-core machine, 80 demo frames in
one run: 2 threads 1.0-1.1x, 2 processes 1.9x while a core was free (no gain
when another job holds one: the app then defaults to one). Each worker process builds its own
Recognizer once. Frames go to the workers in runs of RUN consecutive frames, one
task per run, each run to the next worker in turn; a frame travels in colour
(the ink map reads pens of any colour: preprocess.ink_map) through memory shared
with the workers (FrameRing), and Results come back pickled. Results are handed back
in the order the frames were read, and every frame still goes through ONE
classifier call. A live camera uses the in-process recognizer: there the
newest frame and the lowest latency matter, not throughput.

    recognition = Recognition(source, recognizer, processes=2, recognizer_kwargs={...})
    while (item := recognition.read()) is not None:
        frame, results, seconds = item
"""
from __future__ import annotations

import ctypes
import mmap
import multiprocessing
import os
import signal
import sys
import time
from collections import deque
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool

import cv2
import numpy as np

from recognizer.capture import Frame, SourceError
from recognizer.preprocess import to_uint8
from recognizer.results import Results

_WORKER = None  # the Recognizer of a worker process
PR_SET_PDEATHSIG = 1  # prctl option: the signal a process gets when its parent dies (Linux)
CLOSE_WAIT_S = 1.5  # a stop waits this long for the workers' running frames, then ends them
RUN = 8  # consecutive frames sent to a worker process as one task (then the next worker's turn)


_RING = None  # a worker process's view of the main process's FrameRing (fork only)


class FrameRing:
    """Colour frames handed to forked worker processes through memory they share with the main
    process, instead of pickled through a pipe.

    An anonymous shared mapping made before the workers are forked is the same memory in
    all of them. Pickling a 720x576 frame, sending it and unpickling it cost ~0.8 ms of CPU
    a frame in all (measured), a tenth of what a worker spends recognizing it with reuse.
    Frame i goes to slot i % slots: with at most `slots` frames in flight, and results
    taken in order, a slot is only written again once its frame's result is back.
    """

    def __init__(self, slots: int, width: int, height: int):
        self.slots, self.shape = slots, (height, width, 3)
        self.size = width * height * 3
        self._mem = mmap.mmap(-1, slots * self.size)

    def put(self, index: int, image: np.ndarray) -> int | None:
        """Copy a BGR frame into its slot; its slot number, or None when it does not fit (a stream
        that changed size, a gray one: that frame is sent pickled)."""
        if image.shape != self.shape:
            return None
        slot = index % self.slots
        np.copyto(self.view(slot), image)
        return slot

    def view(self, slot: int) -> np.ndarray:
        return np.ndarray(self.shape, np.uint8, buffer=self._mem, offset=slot * self.size)

    def close(self) -> None:
        self._mem.close()


HEAP_KEEP = 64 << 20  # bytes of freed memory a process keeps for its next frames (see keep_freed_memory)


def keep_freed_memory() -> bool:
    """glibc only: serve every per-frame buffer from the heap and do not hand freed memory
    back to the system, so the next frame reuses pages that are already mapped.

    Full-frame temporaries (0.4 MB at 720x576) are above glibc's threshold for private
    mappings or, freed two at a time, over its trim threshold: either way each frame had
    its buffers mapped anew, ~150 page faults a frame (0.3 ms of system time in a worker).
    Allocation sizes and contents do not change, so results cannot: only where the memory
    comes from. The cost is that a process keeps its peak heap (tens of MB). Returns
    whether it applied (False off glibc: nothing changes there).
    """
    try:
        libc = ctypes.CDLL("libc.so.6")
        m_trim_threshold, m_mmap_threshold = -1, -3  # mallopt parameters, glibc's malloc.h
        return bool(libc.mallopt(m_mmap_threshold, 16 << 20)) and bool(libc.mallopt(m_trim_threshold, HEAP_KEEP))
    except (OSError, AttributeError):
        return False


def _start_worker(make_recognizer, recognizer_kwargs: dict, ring: FrameRing | None = None) -> None:
    """In a worker process: Ctrl-C is the main process's to handle (it stops after the current
    frame and shuts the workers down); SIGTERM kills, as the pool expects of a broken worker
    (a fork inherits the main process's handlers, so both are set here); one core, one thread."""
    global _WORKER, _RING
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    _die_with_parent()
    cv2.setNumThreads(1)  # the workers already fill the cores; OpenCV's pool would only contend
    keep_freed_memory()  # inherited by a fork already; a spawned worker sets it itself
    _WORKER = make_recognizer(threads=1, **recognizer_kwargs)
    _RING = ring


def _die_with_parent() -> None:
    """Linux: end this worker when the main process dies, however it dies. Killed with
    SIGKILL, the main process cannot shut its pool down, and a forked worker never sees its
    task pipe close (it holds a copy of the writing end itself): it would wait forever,
    holding its memory. The kernel sends it SIGTERM instead (prctl PR_SET_PDEATHSIG)."""
    if not sys.platform.startswith("linux"):
        return
    try:
        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGTERM)
    except (OSError, AttributeError):
        return
    if os.getppid() == 1:  # the main process died before the request was made
        os._exit(0)


def _recognize_run_in_worker(items: list[tuple], conf: float) -> list[tuple[Results, float]]:
    """A run of consecutive frames, each (frame or its FrameRing slot, name, index, time),
    -> (Results, seconds recognizing) for each, in the same order."""
    _WORKER.conf = conf
    out = []
    for image, name, index, time_s in items:
        if isinstance(image, int):  # copied out once: OpenCV ran 10-15% slower on the shared mapping itself
            image = _RING.view(image).copy()
        out.append(_timed(_WORKER, image, name, index, time_s))
    return out


def _timed(recognizer, image, name: str, index: int, time_s) -> tuple[Results, float]:
    """Recognize one frame; the seconds it took are the latency the window shows."""
    t0 = time.perf_counter()
    results = recognizer(image, source=name, frame_index=index, time_s=time_s)
    return results, time.perf_counter() - t0


def _context():
    """fork on Linux: workers start in ~20 ms with everything imported, and the main
    module is not run again (forkserver and spawn re-import it: ~0.4 s, and a script
    without a __main__ guard would start over). Checked: OpenCV, the LiteRT
    interpreter and our reader thread survive the fork. spawn elsewhere (macOS, Windows).
    """
    return multiprocessing.get_context("fork" if sys.platform.startswith("linux") else "spawn")


class Recognition:
    """Read frames from `source` and recognize them, here or in `processes` worker processes, in order.

    recognizer: the in-process Recognizer (also the one whose conf the keys change); worker
        processes build theirs with its class: `type(recognizer)(threads=1, **recognizer_kwargs)`.
    recognizer_kwargs: picklable (Recognizer.settings(), with reuse and steadiness).
    """

    def __init__(self, source, recognizer, stopwatch=None, processes: int = 0,
                 recognizer_kwargs: dict | None = None):
        self.source, self.recognizer, self.sw = source, recognizer, stopwatch
        self._pools: list[ProcessPoolExecutor] = []
        self._ahead = 2 * RUN * processes  # frames in flight: a run queued for every worker, and the next
        self._ring = self._opencv_threads = None
        if processes > 1:  # one single-process pool per worker: we choose which worker gets which frame
            context = _context()
            if context.get_start_method() == "fork":
                self._opencv_threads = cv2.getNumThreads()  # put back by close()
                cv2.setNumThreads(1)  # OpenCV's thread pool does not survive a fork: a child forked after
                # the pool ran hangs in its first parallel call (seen: a stream with workers after one without)
                if getattr(source, "width", 0) > 0:
                    self._ring = FrameRing(self._ahead, source.width, source.height)
            self._pools = [ProcessPoolExecutor(1, mp_context=context, initializer=_start_worker,
                                               initargs=(type(recognizer), recognizer_kwargs or {}, self._ring))
                           for _ in range(processes)]
        self._pending: deque[tuple[Frame, Future | None, int]] = deque()  # frame, its run, its place in it
        self._handed = self._runs = 0
        self._ended = False

    def read(self) -> tuple[Frame, Results | None, float] | None:
        """(frame, results, seconds recognizing) for the next frame in order; None at the end.

        results is None for an unreadable image (frame.error says why).
        """
        if not self._pools:
            return self._read_here()
        try:
            return self._read_pooled()
        except BrokenProcessPool:  # a worker was killed (out of memory, kill -9): stop, keep what was written
            raise SourceError("a recognizer worker process stopped unexpectedly") from None

    def _read_pooled(self) -> tuple[Frame, Results | None, float] | None:
        while not self._ended and len(self._pending) + RUN <= self._ahead:
            self._submit_run()
        if not self._pending:
            return None
        frame, run, place = self._pending.popleft()
        if run is None:
            return frame, None, 0.0
        results, seconds = run.result()[place]
        if self.sw:
            self.sw.lap("wait")
            self.sw.stages["recognize"].append(seconds)
        return frame, results, seconds

    def _submit_run(self) -> None:
        """Read the next RUN frames and send them to the next worker as ONE task.

        One round trip per run instead of per frame: the pool's threads, queues and
        pipes cost ~0.6 ms of main-process CPU per task (measured with a worker that
        returns at once).
        """
        frames, items = [], []
        while len(frames) < RUN:
            frame = self.source.read()
            if frame is None:
                self._ended = True
                break
            frames.append(frame)
            if frame.image is not None:
                items.append((self._hand_over(frame.image), frame.name, frame.index, frame.time))
        run = self._next_pool().submit(_recognize_run_in_worker, items, self.recognizer.conf) if items else None
        place = 0
        for frame in frames:
            if frame.image is None:
                self._pending.append((frame, None, 0))
            else:
                self._pending.append((frame, run, place))
                place += 1

    def _read_here(self) -> tuple[Frame, Results | None, float] | None:
        frame = self.source.read()
        if frame is None:
            return None
        if self.sw:
            self.sw.lap("read")
        if frame.image is None:
            return frame, None, 0.0
        results, seconds = _timed(self.recognizer, frame.image, frame.name, frame.index, frame.time)
        if self.sw:
            self.sw.lap("recognize")
        return frame, results, seconds

    def _hand_over(self, image: np.ndarray) -> np.ndarray | int:
        """What is sent for a frame: its slot in the shared FrameRing, else the 8-bit frame itself."""
        image = to_uint8(image)
        slot = self._ring.put(self._handed, image) if self._ring is not None else None
        self._handed += 1
        return image if slot is None else slot

    def _next_pool(self) -> ProcessPoolExecutor:
        """Runs go to the workers in turn: a worker then mostly sees neighbouring frames, whose
        crops it can reuse (recognizer/reuse.py), and which worker reads which frame is fixed,
        so the output of a run does not depend on timing."""
        pool = self._pools[self._runs % len(self._pools)]
        self._runs += 1
        return pool

    def close(self) -> None:
        """Shut the worker processes down within CLOSE_WAIT_S: queued runs are cancelled, the
        running ones finish or are ended (a stop request does not wait for them)."""
        deadline = time.monotonic() + CLOSE_WAIT_S
        for pool in self._pools:
            processes = list((getattr(pool, "_processes", None) or {}).values())  # (no public API)
            pool.shutdown(wait=False, cancel_futures=True)
            for process in processes:
                process.join(max(0.0, deadline - time.monotonic()))
                if process.is_alive():
                    process.terminate()
                    process.join(0.5)
        if self._ring is not None:
            self._ring.close()
        if self._opencv_threads is not None:
            cv2.setNumThreads(self._opencv_threads)
            self._opencv_threads = None
