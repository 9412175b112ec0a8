"""recognizer/frames.py: the API reads any numeric image array, or raises FrameError saying why.

Issue 21 fuzzed `Recognizer()(frame)` and 2,236 of 4,800 arrays raised OpenCV assertions or
numpy errors (zero-size arrays, strips one pixel thin, 2 or 5 channels...). Here a few hundred
random arrays of every dtype, shape and value range the tests draw themselves: each call returns
Results whose JSON is valid, or raises FrameError; nothing else.
"""
from __future__ import annotations

import json

import numpy as np
import pytest

from recognizer.frames import MAX_PIXELS, FrameError, checked

hypothesis = pytest.importorskip("hypothesis", reason="hypothesis not installed (pip install -r requirements.txt)")
from bench.fuzz import Tally, check_file, check_frame, frames, image_files  # noqa: E402

@pytest.fixture(scope="module")
def recognizer():
    from recognizer.pipeline import Recognizer

    return Recognizer()


DTYPES = [np.uint8, np.uint16, np.int32, np.int64, np.float32, np.float64, np.bool_, np.int8]


def random_frame(rng: np.random.Generator):
    """An array an API user might pass: any of the dtypes, 1-4 dimensions, sides 0-700 (often
    1-3 px thin), 0-5 channels, values from noise to NaN and inf, sometimes a strided view."""
    ndim = int(rng.choice([1, 2, 2, 3, 3, 3, 4]))
    sides = [int(rng.choice([0, 1, 2, 3, 7, 30, 33, int(rng.integers(1, 700))])) for _ in range(2)]
    shape = [sides[0]] if ndim == 1 else sides + ([int(rng.integers(0, 6))] if ndim >= 3 else [])
    shape += [2] * (ndim - len(shape))
    dtype = DTYPES[rng.integers(len(DTYPES))]
    scale = {np.bool_: 2, np.int8: 127}.get(dtype, float(rng.choice([1.0, 255.0, 65535.0])))
    values = rng.random(shape) * scale
    if np.issubdtype(dtype, np.floating) and rng.random() < 0.3 and values.size:
        values.ravel()[rng.integers(values.size, size=max(1, values.size // 50))] = rng.choice([np.nan, np.inf, -np.inf])
    frame = values.astype(dtype)
    if rng.random() < 0.2 and frame.ndim >= 2 and frame.shape[0] > 2:
        frame = frame[::2]  # a view, not contiguous
    return frame


def test_every_array_is_read_or_refused_with_a_frame_error(recognizer):
    rng = np.random.default_rng(21)
    read = refused = 0
    for _ in range(300):
        frame = random_frame(rng)
        try:
            res = recognizer(frame)
        except FrameError as exc:
            refused += 1
            assert str(exc)
            continue
        read += 1
        json.loads(res.to_json())  # valid JSON: no NaN confidences, no numpy types
        assert (res.width, res.height) == (frame.shape[1], frame.shape[0])
    assert read > 100 and refused > 30, (read, refused)  # both kinds were drawn


FUZZ = hypothesis.settings(max_examples=200, deadline=None, database=None, derandomize=True,
                           suppress_health_check=list(hypothesis.HealthCheck))


def test_hypothesis_arrays_give_results_or_a_frame_error(recognizer):
    """bench/fuzz.py's array strategy (10,000 examples there), 200 here: valid JSON or FrameError."""
    tally = Tally("arrays")

    @FUZZ
    @hypothesis.given(frames())
    def one(frame):
        check_frame(recognizer, frame, tally)

    one()
    assert not tally.unexpected, tally.unexpected[0]
    assert tally.read > 40 and tally.refused > 20, (tally.read, tally.refused)


def test_hypothesis_damaged_image_files_are_read_or_refused_with_a_reason(recognizer, tmp_path):
    """Flipped, cut, padded PNG/JPEG bytes and headers claiming billions of pixels: never an exception."""
    tally = Tally("image files")

    @FUZZ
    @hypothesis.given(image_files())
    def one(data):
        check_file(recognizer, data, tmp_path, tally)

    one()
    assert not tally.unexpected, tally.unexpected[0]
    assert tally.read > 10 and tally.refused > 10, (tally.read, tally.refused)


@pytest.mark.parametrize("frame, says", [
    (np.zeros((0, 0, 3), np.uint8), "empty"),
    (np.zeros((50, 50, 2), np.uint8), "shape"),
    (np.zeros(100, np.uint8), "shape"),
    (np.zeros((40, 40), complex), "dtype"),
    ("photo.png", "dtype"),
])
def test_what_is_no_image_is_refused_with_a_message(frame, says):
    with pytest.raises(FrameError, match=says):
        checked(frame)


def test_nan_and_inf_are_black_and_white_and_views_become_contiguous():
    a = np.array([[np.nan, 0.5], [np.inf, -np.inf]], np.float32)
    assert np.array_equal(checked(a), [[0.0, 0.5], [1.0, 0.0]])  # +inf: white (1.0, or the brightest finite value)
    view = np.zeros((20, 30, 3), np.uint8)[::2, ::3]
    assert checked(view).flags.c_contiguous


def test_more_pixels_than_the_limit_are_refused_before_any_work():
    huge = np.broadcast_to(np.uint8(0), (MAX_PIXELS // 1000 + 1, 1000))  # no memory behind it
    with pytest.raises(FrameError, match="too many pixels"):
        checked(huge)


def test_a_strip_thinner_than_a_digit_reads_as_nothing(recognizer):
    for shape in [(1, 5000), (5000, 1), (2, 3000, 3), (9, 1000)]:
        res = recognizer(np.full(shape, 200, np.uint8))
        assert res.digits == [] and (res.height, res.width) == shape[:2]


def test_image_file_headers_give_their_size_before_decoding(tmp_path):
    """PNG and JPEG headers are read for the pixel gate: a file over MAX_PIXELS is refused
    without decoding; ordinary files pass; junk is not mistaken for a size."""
    import cv2

    from recognizer.frames import too_big

    for ext in (".png", ".jpg"):
        path = tmp_path / f"small{ext}"
        cv2.imwrite(str(path), np.zeros((120, 160), np.uint8))
        assert too_big(path.read_bytes()) is None
    big = tmp_path / "big.png"
    cv2.imwrite(str(big), np.zeros((10001, 10001), np.uint8))
    assert too_big(big.read_bytes()[:1 << 16]) == "too many pixels: 10001x10001 (at most 100 MP)"
    for junk in (b"", b"\xff\xd8", b"\xff\xd8\xff\xe0\x00", b"\x89PNG\r\n\x1a\n", bytes(range(256)) * 4):
        assert too_big(junk) is None
