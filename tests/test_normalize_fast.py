"""The fused fast path of normalize_crop gives exactly the pixels of the step-by-step reference.

The shipped model was trained through the reference steps, so the runtime's
faster path may not change a single pixel: checked on MNIST, on real NSYSU
pencil crops (dark ink, colour and 16-bit copies), on the crops the pipeline
cuts from the demo video, and on drawn crops with specks, a dot inside a loop
and ink touching the border (the rarer multi-component branch).
"""
import csv

import cv2
import numpy as np
import pytest

from recognizer.normalize import normalize_batch, normalize_crop, reference_crop


def assert_identical(crops, ink):
    fast = normalize_batch(crops, ink=ink)
    ref = np.stack([reference_crop(c, ink) for c in crops])
    worst = np.abs(fast - ref).max(axis=(1, 2))
    assert worst.max() < 1e-6, f"{int((worst >= 1e-6).sum())} of {len(crops)} crops differ"
    single = np.stack([normalize_crop(c, ink) for c in crops[:50]])
    assert np.abs(single - ref[:50]).max() < 1e-6


def test_mnist_crops_identical(mnist):
    (x_train, _), _ = mnist
    assert_identical(list(x_train[:3000]), "light")


def test_nsysu_crops_identical(realworld):
    folder = realworld / "nsysu_digits_exams"
    if not folder.is_dir():
        pytest.skip(f"real-world data absent: {folder}")
    with open(folder / "LABELS.csv") as fh:
        files = [row["file"] for row in csv.DictReader(fh)][::3]
    crops = [cv2.imread(str(folder / f), cv2.IMREAD_GRAYSCALE) for f in files]
    assert_identical(crops, "dark")
    assert_identical(crops[:150], "auto")
    assert_identical([cv2.cvtColor(c, cv2.COLOR_GRAY2BGR) for c in crops[:100]], "auto")
    assert_identical([c.astype(np.uint16) * 257 for c in crops[:100]], "auto")


def test_pipeline_crops_from_demo_identical():
    from recognizer import preprocess
    from recognizer.classifier import DEFAULT_MODEL
    from recognizer.pipeline import Recognizer

    video = DEFAULT_MODEL.parent.parent / "demo" / "demo.mp4"
    if not video.is_file():
        pytest.skip(f"demo video absent: {video}")
    recognizer, cap, crops = Recognizer(), cv2.VideoCapture(str(video)), []
    for _ in range(40):
        ok, frame = cap.read()
        if not ok:
            break
        crops += [c.crop for c in recognizer._candidates(preprocess.prepare(frame))]
    cap.release()
    assert len(crops) > 200
    assert_identical(crops, "light")


def drawn_crops(rng, n=300):
    """Digit-like strokes with specks, dots inside loops, pieces cut at the border, empty crops."""
    out = []
    for i in range(n):
        h, w = int(rng.integers(12, 90)), int(rng.integers(8, 90))
        img = np.zeros((h, w), np.uint8)
        pts = rng.integers(0, [w, h], size=(int(rng.integers(2, 5)), 2)).astype(np.int32)
        cv2.polylines(img, [pts], False, int(rng.integers(60, 256)), int(rng.integers(1, 6)))
        if i % 3 == 0:
            cv2.ellipse(img, (w // 2, h // 2), (max(1, w // 3), max(1, h // 3)), 0, 0, 360, 255, 2)
            cv2.circle(img, (w // 2, h // 2), 1, 200, -1)  # a dot inside the loop
        for _ in range(int(rng.integers(0, 4))):  # specks, some touching the border
            x, y = int(rng.integers(0, w)), int(rng.integers(0, h))
            img[y: y + int(rng.integers(1, 4)), x: x + int(rng.integers(1, 4))] = int(rng.integers(30, 256))
        if i % 17 == 0:
            img[:] = 0
        img = cv2.GaussianBlur(img, (3, 3), 0) if i % 2 else img
        out.append(img if i % 5 else 255 - img)
    return out


def test_drawn_crops_with_specks_identical():
    crops = drawn_crops(np.random.default_rng(1))
    assert_identical(crops, "auto")
    assert_identical(crops, "light")
