"""training/conditions.py: the condition-matrix scenes must carry true ground truth and look
like their condition, or every row of bench/bench_conditions.py measures the renderer, not
the recognizer. Checks the renderer only; no recognizer runs here."""
from __future__ import annotations

import cv2
import numpy as np
import pytest

from training.conditions import CONDITIONS, LOOKS, load_pool, render, white_on_black


@pytest.fixture(scope="module")
def pool():
    """MNIST test plus USPS test when present (the quick loaders; NSYSU and ORAND are the same
    path through `white_on_black`). Skips when MNIST's IDX files are not on this machine,
    rather than downloading them."""
    from training.data import mnist_dir

    if mnist_dir() is None:
        pytest.skip("MNIST IDX files absent (../shared/data/mnist or $MNIST_DIR): no digits to render")
    return load_pool(("usps", "mnist"), quiet=True)


def _gray(image: np.ndarray) -> np.ndarray:
    """Luminance as float, for brightness comparisons."""
    return cv2.cvtColor(image, cv2.COLOR_BGR2GRAY).astype(np.float32)


def _ink_contrast(image: np.ndarray, box) -> float:
    """How far the box's inkiest pixels lie from the page colour around it (BGR distance):
    the 97th percentile of distances from the median colour of a ring half a box around it."""
    x, y, w, h = box
    H, W = image.shape[:2]
    m = max(3, h // 2)
    x0, y0, x1, y1 = max(0, x - m), max(0, y - m), min(W, x + w + m), min(H, y + h + m)
    around = np.ones((y1 - y0, x1 - x0), bool)
    around[y - y0: y - y0 + h, x - x0: x - x0 + w] = False
    patch = image[y0:y1, x0:x1].astype(np.float32)
    paper = np.median(patch[around], axis=0)
    inside = image[y:y + h, x:x + w].astype(np.float32).reshape(-1, 3)
    return float(np.percentile(np.linalg.norm(inside - paper, axis=1), 97))


def test_conditions_and_looks_agree():
    assert set(LOOKS) <= set(CONDITIONS)
    assert len(CONDITIONS) >= 22 and all(n == n.lower() and " " not in n for n in CONDITIONS)


def test_white_on_black_turns_dark_ink_light():
    crop = np.full((2, 28, 28), 240, np.uint8)  # dark ink on paper ...
    crop[:, 8:20, 12:16] = 20
    crop[1] = 255 - crop[1]  # ... and one already light on dark
    out = white_on_black(crop)
    assert out.dtype == np.uint8
    for c in out:
        assert c[0, 0] < 20 and c[10, 14] > 200


@pytest.mark.parametrize("name", ["dark_desk", "printed_beside", "held_dark_room"])
def test_render_is_deterministic(pool, name):
    a = render(name, np.random.default_rng(5), pool)
    b = render(name, np.random.default_rng(5), pool)
    assert np.array_equal(a[0], b[0]) and a[1] == b[1] and a[2] == b[2]
    c = render(name, np.random.default_rng(6), pool)
    assert not np.array_equal(a[0], c[0])


@pytest.mark.parametrize("name", ["dark_desk", "marker_orange", "pencil", "ruled_paper", "small_far_page",
                                  "printed_beside", "perspective_35"])
def test_truth_boxes_lie_inside_and_on_ink(pool, name):
    image, gts, ignore = render(name, np.random.default_rng(11), pool)
    H, W = image.shape[:2]
    assert image.dtype == np.uint8 and image.shape[2] == 3
    lo, hi = LOOKS[name].get("digits", (6, 20))
    assert max(1, lo - 2) <= len(gts) <= hi
    floor = 18.0 if name == "pencil" else 35.0  # pencil is faint by design
    for digit, (x, y, w, h) in gts:
        assert 0 <= digit <= 9
        assert w > 0 and h > 0 and x >= 0 and y >= 0 and x + w <= W and y + h <= H
        assert _ink_contrast(image, (x, y, w, h)) > floor, (digit, (x, y, w, h))
    if name == "small_far_page":
        assert 7 <= np.median([h for _, (_, _, _, h) in gts]) <= 17  # digits 10-14 px, give or take the camera


def test_dark_desk_has_a_dark_surround_and_a_bright_page(pool):
    image, gts, _ = render("dark_desk", np.random.default_rng(3), pool)
    gray = _gray(image)
    H, W = gray.shape
    b = max(4, int(0.015 * min(H, W)))
    frame_edge = np.concatenate([gray[:b].ravel(), gray[-b:].ravel(), gray[:, :b].ravel(), gray[:, -b:].ravel()])
    xs = [x for _, (x, _, _, _) in gts] + [x + w for _, (x, _, w, _) in gts]
    ys = [y for _, (_, y, _, _) in gts] + [y + h for _, (_, y, _, h) in gts]
    page = gray[min(ys):max(ys), min(xs):max(xs)]  # where the writing is: paper, mostly
    assert np.median(frame_edge) < 70
    assert np.median(page) > 140
    assert np.median(page) - np.median(frame_edge) > 90


def test_printed_digits_are_ignored_not_truth(pool):
    image, gts, ignore = render("printed_beside", np.random.default_rng(2), pool)
    assert ignore, "a worksheet prints digits in its prompts"
    for x, y, w, h in ignore:
        assert _ink_contrast(image, (x, y, w, h)) > 35
        for _, (gx, gy, gw, gh) in gts:  # never the same ink as a handwritten digit
            ix = min(x + w, gx + gw) - max(x, gx)
            iy = min(y + h, gy + gh) - max(y, gy)
            assert ix <= 0 or iy <= 0 or ix * iy < 0.2 * min(w * h, gw * gh)


def test_one_bold_digit_and_webcam_frame(pool):
    image, gts, _ = render("one_bold_digit", np.random.default_rng(4), pool)
    assert len(gts) == 1
    h = gts[0][1][3] / image.shape[0]
    assert 0.22 <= h <= 0.7  # 30-60% of the frame height, the camera's tilt and scale aside
    image, gts, _ = render("webcam_jpeg", np.random.default_rng(4), pool)
    assert image.shape == (480, 640, 3) and len(gts) >= 4


def test_the_matrix_says_where_each_missed_digit_was_lost():
    """bench_conditions' `misses` sorts each true digit not read into never proposed, refused by
    the verdict, or misread: where a fix must go (session 14: two thirds were never proposed)."""
    import sys
    from pathlib import Path

    sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "bench"))
    from bench_conditions import misses
    from recognizer.results import Digit, Rejected, Results

    gts = [(3, (10, 10, 20, 30)), (5, (50, 10, 20, 30)), (7, (90, 10, 20, 30)), (1, (130, 10, 20, 30))]
    res = Results(source="", frame=0, width=200, height=60,
                  digits=[Digit(3, 0.9, (11, 11, 19, 29)), Digit(6, 0.9, (50, 12, 20, 28))],
                  rejected=[Rejected((91, 9, 20, 31), "not a digit", 0.8)])
    assert misses(res, gts) == {"misread": 1, "refused": 1, "unproposed": 1}
