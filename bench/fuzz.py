"""Fuzz the Python API and the image-file reader with hypothesis: nothing but results or one documented error.

    python bench/fuzz.py [--examples 10000] [--seed 0]

Two targets, each given `--examples` examples drawn by hypothesis:
  * `Recognizer()(frame)` on arrays an API user might pass (`frames()`): any numeric
    or bool dtype, 1-4 dimensions, sides from 0 to 700 px (often 1-3 px thin), 0-5
    channels, values from flat to noise to NaN and inf, and non-contiguous views.
    Each call must return Results whose `to_json()` is valid JSON (no NaN, no numpy
    types) or raise `FrameError`;
  * `capture.read_checked(path)` then the recognizer on image files (`image_files()`):
    a real PNG or JPEG of a drawn digit with bytes flipped, cut off or inserted, or a
    header that claims a huge size. Each must come back as an image that is read, or
    as None with the reason; no exception.
Prints, per target: examples, read / refused, unexpected exceptions (with the first
few, reproducible from the seed), and the slowest call (issue 21: none over 2 s).
Exit 1 if anything unexpected happened. `tests/test_frames.py` runs a few hundred
examples of the same strategies in the suite.
"""
from __future__ import annotations

import argparse
import json
import math
import os
import sys
import tempfile
import time
import traceback
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import cv2  # noqa: E402
import numpy as np  # noqa: E402
from hypothesis import HealthCheck, given, seed, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from recognizer.quiet import native_stderr_silenced, quiet_opencv  # noqa: E402
from recognizer.capture import read_checked  # noqa: E402
from recognizer.frames import FrameError  # noqa: E402

SLOW_S = 2.0  # issue 21: no call may take longer than this
DTYPES = [np.uint8, np.uint16, np.int8, np.int32, np.int64, np.float16, np.float32, np.float64, np.bool_]
THIN = [0, 1, 2, 3, 7, 28, 33]  # no pixels, strips, one digit


@st.composite
def frames(draw) -> np.ndarray:
    """An array an API user might pass to the recognizer (see the module docstring)."""
    ndim = draw(st.sampled_from([3, 2, 3, 2, 3, 1, 4]))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))  # sizes and pixels: hypothesis would keep them small
    h, w = (int(rng.integers(8, 701)) if rng.random() < 0.6 else int(rng.choice(THIN)) for _ in range(2))
    shape = {1: (h,), 2: (h, w), 3: (h, w, draw(st.sampled_from([3, 1, 4, 3, 0, 2, 5]))), 4: (h, w, 3, 2)}[ndim]
    dtype = np.dtype(draw(st.sampled_from(DTYPES)))
    kind = draw(st.sampled_from(["noise", "flat", "strokes"]))
    top = {"b": 1, "i": 127, "u": 255}.get(dtype.kind, draw(st.sampled_from([1.0, 255.0, 65535.0])))
    if dtype.kind == "u":
        top = min(np.iinfo(dtype).max, draw(st.sampled_from([255, 65535, np.iinfo(dtype).max])))
    values = np.full(shape, top * draw(st.floats(0, 1)), np.float64) if kind == "flat" else rng.random(shape) * top
    if kind == "strokes" and values.ndim >= 2 and min(values.shape[:2]) > 4:
        values[...] = top  # paper, and a few dark bars on it
        for _ in range(3):
            y, x = rng.integers(0, values.shape[0] - 2), rng.integers(0, values.shape[1] - 2)
            values[y: y + rng.integers(2, 40), x: x + rng.integers(2, 8)] = 0
    if dtype.kind == "f" and values.size and draw(st.booleans()):
        spots = rng.integers(values.size, size=max(1, values.size // 50))
        values.ravel()[spots] = draw(st.sampled_from([math.nan, math.inf, -math.inf]))
    with np.errstate(invalid="ignore", over="ignore"):
        frame = values.astype(dtype)
    if draw(st.booleans()) and frame.ndim >= 2 and frame.shape[0] > 2:
        frame = frame[::2, ::-1]  # a strided, reversed view
    return frame


def _digit_image(colour: bool) -> np.ndarray:
    """A drawn 7 on paper, 64x48."""
    img = np.full((64, 48, 3) if colour else (64, 48), 235, np.uint8)
    cv2.line(img, (10, 12), (38, 12), (30, 30, 30) if colour else 30, 4)
    cv2.line(img, (38, 12), (20, 56), (30, 30, 30) if colour else 30, 4)
    return img


@st.composite
def image_files(draw) -> bytes:
    """The bytes of an image file as it may arrive damaged: a drawn digit as PNG or JPEG,
    with bytes flipped, the file cut off, garbage inserted, or the header's size rewritten."""
    ext = draw(st.sampled_from([".png", ".jpg"]))
    data = bytearray(cv2.imencode(ext, _digit_image(draw(st.booleans())))[1].tobytes())
    damage = draw(st.sampled_from(["flip", "cut", "insert", "huge", "none"]))
    if damage == "flip":
        for i in draw(st.lists(st.integers(0, len(data) - 1), min_size=1, max_size=20)):
            data[i] ^= draw(st.integers(1, 255))
    elif damage == "cut":
        data = data[: draw(st.integers(0, len(data)))]
    elif damage == "insert":
        at = draw(st.integers(0, len(data)))
        data[at:at] = draw(st.binary(min_size=1, max_size=64))
    elif damage == "huge" and ext == ".png":
        data[16:24] = (draw(st.integers(1, 2**31 - 1)).to_bytes(4, "big")
                       + draw(st.integers(1, 2**31 - 1)).to_bytes(4, "big"))
    return bytes(data)


class Tally:
    """What one target did: read, refused, unexpected exceptions, the slowest call."""

    def __init__(self, name: str):
        self.name, self.read, self.refused, self.slowest, self.slowest_input = name, 0, 0, 0.0, None
        self.unexpected: list[str] = []

    def timed(self, call, what=None):
        t = time.perf_counter()
        try:
            return call()
        finally:
            took = time.perf_counter() - t
            if took > self.slowest:
                self.slowest, self.slowest_input = took, what

    def line(self) -> str:
        return (f"{self.name:<12} {self.read + self.refused + len(self.unexpected):>8} {self.read:>6} "
                f"{self.refused:>8} {len(self.unexpected):>11} {1000 * self.slowest:>11.0f}")


def check_frame(recognizer, frame: np.ndarray, tally: Tally) -> None:
    """One API call: Results with valid JSON of the frame's size, or FrameError; else noted."""
    try:
        res = tally.timed(lambda: recognizer(frame), frame)
        json.loads(res.to_json(), parse_constant=_no_constant)
        assert (res.width, res.height) == (frame.shape[1], frame.shape[0]), "wrong size in results"
        tally.read += 1
    except FrameError as exc:
        assert str(exc), "FrameError without a message"
        tally.refused += 1
    except Exception:  # noqa: BLE001 - what the fuzzer is looking for
        tally.unexpected.append(f"{frame.dtype} {frame.shape}: {traceback.format_exc(limit=3)}")


def check_file(recognizer, data: bytes, folder: Path, tally: Tally) -> None:
    """One damaged file: read (and recognized) or refused with a reason; no exception."""
    path = folder / ("x.png" if data[:4] == b"\x89PNG" else "x.jpg")
    path.write_bytes(data)
    try:
        image, why = tally.timed(lambda: read_checked(path))
        if image is None:
            assert why, "refused without a reason"
            tally.refused += 1
        else:
            json.loads(tally.timed(lambda: recognizer(image)).to_json(), parse_constant=_no_constant)
            tally.read += 1
    except Exception:  # noqa: BLE001
        tally.unexpected.append(f"{len(data)} bytes: {traceback.format_exc(limit=3)}")


def _no_constant(name: str):
    raise ValueError(f"{name} in the JSON")


def fuzz(examples: int, seed_value: int) -> list[Tally]:
    from recognizer.pipeline import Recognizer

    recognizer = Recognizer()
    arrays, files = Tally("arrays"), Tally("image files")
    common = settings(max_examples=examples, deadline=None, database=None, derandomize=False,
                      suppress_health_check=list(HealthCheck))

    @seed(seed_value)
    @common
    @given(frames())
    def run_arrays(frame):
        check_frame(recognizer, frame, arrays)

    with tempfile.TemporaryDirectory() as tmp:
        @seed(seed_value)
        @common
        @given(image_files())
        def run_files(data):
            check_file(recognizer, data, Path(tmp), files)

        run_arrays()
        run_files()
    return [arrays, files]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--examples", type=int, default=10_000, help="examples per target")
    ap.add_argument("--seed", type=int, default=0)
    a = ap.parse_args()
    t0 = time.perf_counter()
    quiet_opencv()
    with native_stderr_silenced():  # libpng's own lines on each damaged file
        tallies = fuzz(a.examples, a.seed)
    print(f"fuzz: seed {a.seed}, {time.perf_counter() - t0:.0f} s, load {os.getloadavg()[0]:.1f}")
    print(f"{'target':<12} {'examples':>8} {'read':>6} {'refused':>8} {'unexpected':>11} {'slowest ms':>11}")
    for t in tallies:
        print(t.line())
    bad = [u for t in tallies for u in t.unexpected]
    for u in bad[:5]:
        print("\n" + u)
    slow = [t for t in tallies if t.slowest > SLOW_S]
    for t in slow:
        what = t.slowest_input
        shape = f"{what.dtype} {what.shape}" if isinstance(what, np.ndarray) else "a file"
        print(f"slower than {SLOW_S} s: {t.name}, {t.slowest:.2f} s on {shape}")
        if isinstance(what, np.ndarray):
            np.save(Path(tempfile.gettempdir()) / "fuzz_slowest.npy", what)
            print(f"  saved as {Path(tempfile.gettempdir()) / 'fuzz_slowest.npy'}")
    return 1 if bad or slow else 0


if __name__ == "__main__":
    sys.exit(main())
