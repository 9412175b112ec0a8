"""Frames -> Results, on one thread or several, always handed back in frame order.

A video file must not drop frames, but nothing says they must be recognized
one after another: OpenCV and the LiteRT interpreter release the GIL, so two
Recognizers on two threads read a file almost twice as fast on two cores.
Each Recognizer is used by one thread at a time (they keep per-call state),
results come back in the order the frames were read, and every frame still
goes through ONE classifier call. A live camera uses one worker: there the
newest frame matters, not throughput.

    recognition = Recognition(source, recognizers)
    while (item := recognition.read()) is not None:
        frame, results, seconds = item
"""
from __future__ import annotations

import queue
import time
from collections import deque
from concurrent.futures import Future, ThreadPoolExecutor

from recognizer.capture import Frame
from recognizer.results import Results


class Recognition:
    """Read frames from `source` and recognize them with a pool of Recognizers, in order."""

    def __init__(self, source, recognizers: list, stopwatch=None):
        self.source, self.recognizers, self.sw = source, recognizers, stopwatch
        self.workers = len(recognizers)
        self._idle: queue.Queue = queue.Queue()
        for r in recognizers:
            self._idle.put(r)
        self._pool = ThreadPoolExecutor(self.workers, "recognize") if self.workers > 1 else None
        self._pending: deque[tuple[Frame, Future | None]] = deque()
        self._ahead = 2 * self.workers  # frames in flight: enough to keep every worker busy
        self._ended = False

    def _recognize(self, frame: Frame) -> tuple[Results, float]:
        recognizer = self._idle.get()
        try:
            t0 = time.perf_counter()
            results = recognizer(frame.image, source=frame.name, frame_index=frame.index, time_s=frame.time)
            return results, time.perf_counter() - t0
        finally:
            self._idle.put(recognizer)

    def read(self) -> tuple[Frame, Results | None, float] | None:
        """(frame, results, seconds recognizing) for the next frame in order; None at the end.

        results is None for an unreadable image (frame.error says why).
        """
        if self._pool is None:
            return self._read_serial()
        while not self._ended and len(self._pending) < self._ahead:
            frame = self.source.read()
            if frame is None:
                self._ended = True
                break
            self._pending.append((frame, self._pool.submit(self._recognize, frame) if frame.image is not None else None))
        if not self._pending:
            return None
        frame, future = self._pending.popleft()
        if future is None:
            return frame, None, 0.0
        results, seconds = future.result()
        if self.sw:
            self.sw.lap("wait")
            self.sw.stages["recognize"].append(seconds)
        return frame, results, seconds

    def _read_serial(self) -> tuple[Frame, Results | None, float] | None:
        frame = self.source.read()
        if frame is None:
            return None
        if self.sw:
            self.sw.lap("read")
        if frame.image is None:
            return frame, None, 0.0
        results, seconds = self._recognize(frame)
        if self.sw:
            self.sw.lap("recognize")
        return frame, results, seconds

    def set_conf(self, conf: float) -> None:
        for r in self.recognizers:
            r.conf = conf

    def set_debug(self, on: bool) -> None:
        for r in self.recognizers:
            r.debug_on = on
            r.debug.clear()

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
