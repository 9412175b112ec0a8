"""recognizer/context.py: the classifier also reads what lies around each candidate.

A finger's gap or a T-shirt's fold, cut out, is a perfect 1; only its surroundings say it is
no writing (issue 20: 402 of the demo's 594 false digits were such 1s). These tests draw their
scenes: an ink map with a page, and a webcam clip of a sheet held in two hands
(training/webcam_clip.py, a seed the context gate was not trained on).
"""
from __future__ import annotations

import cv2
import numpy as np
import pytest

from recognizer import pipeline
from recognizer.context import CONTEXT_SPAN, blank_context, context_batch


def test_surroundings_show_the_ink_around_and_off_frame_as_paper():
    ink = np.zeros((100, 100), np.uint8)
    ink[40:60, 48:52] = 200  # the candidate: a stroke
    ink[40:60, 70:74] = 100  # a neighbour 20 px to its right
    ink[:, :30] = 180  # a broad inked shape (a finger) ending 18 px left of the stroke
    (around,) = context_batch(ink, [(48, 40, 4, 20)])
    side = 2 * round(CONTEXT_SPAN * 20 / 2)  # the square's side in frame pixels
    left = 50 - side // 2  # its left edge in frame pixels
    scale = 28 / side
    assert around[14, 14] == pytest.approx(200 / 255, abs=0.05)  # the stroke, in the middle
    assert around[:, :int((30 - left) * scale) - 1].min() > 0.6  # the broad shape
    assert around[14, int((72 - left) * scale)] > 0.2  # the neighbour
    assert around[2:26, 16:20].max() < 0.05  # blank paper between them
    (corner,) = context_batch(ink, [(0, 0, 10, 10)])
    assert corner[:7].max() == 0.0  # the rows above the frame: nothing known, paper
    assert corner[10:].max() > 0.6  # the broad shape below them, in the frame


def test_blank_surroundings_hold_the_crop_small_in_the_middle():
    crop = np.zeros((1, 28, 28), np.float32)
    crop[0, 4:24, 12:16] = 1.0  # a 1, 20 px tall as normalized
    (around,) = blank_context(crop)
    rows = np.where(around.max(axis=1) > 0.3)[0]
    assert 9 <= len(rows) <= 13 and abs(rows.mean() - 13.5) < 1.5  # 20 px / CONTEXT_SPAN, centred
    assert around[:, :8].max() == 0 and around[:, 20:].max() == 0


@pytest.fixture(scope="module")
def held_clip(tmp_path_factory):
    from training.demo_video import load_jsonl
    from training.webcam_clip import render

    info = render(tmp_path_factory.mktemp("held") / "held.mp4", seconds=6.0, seed=5)
    cap = cv2.VideoCapture(info["video"])
    truths = load_jsonl(info["truth"])
    frames = [cap.read()[1] for _ in truths]
    held = slice(25, None, 2)  # from 1 s on, the sheet held in view; every other frame (near copies)
    return frames[held], truths[held]


def test_surroundings_refuse_the_hands_and_keep_the_writing(held_clip, monkeypatch):
    """The same frames read with each candidate's surroundings, then with none (blank paper
    round every crop, as the digit network alone would judge them): the false digits, mostly
    the gaps between the fingers holding the sheet, fall to at most a third, and the true
    digits read fall by at most 5%."""
    from recognizer.pipeline import Recognizer
    from training.demo_video import score_frame

    frames, truths = held_clip
    rec = Recognizer()
    if rec.classifier.channels != 2:
        pytest.fail("the shipped model reads no surroundings (assets/models/digits.tflite: 28x28x1)")

    def totals():
        rows = [score_frame(rec(f, frame_index=i).to_record()["digits"], t)
                for i, (f, t) in enumerate(zip(frames, truths))]
        return np.sum(rows, axis=0)

    tp, fp, _ = totals()
    monkeypatch.setattr(pipeline, "surroundings", lambda prep, todo: None)
    tp_blank, fp_blank, _ = totals()
    assert fp_blank >= 20, "the clip should hold hands that read as digits without surroundings"
    assert fp <= fp_blank / 2, (fp, fp_blank)
    assert tp >= 0.95 * tp_blank, (tp, tp_blank)


def test_a_large_box_reads_its_square_from_halved_copies_as_a_direct_shrink_would():
    """A blob hundreds of pixels tall (a blurred sheet read as ink) reads its surroundings from
    the ink map halved twice: the same picture as shrinking the whole square at once."""
    rng = np.random.default_rng(0)
    ink = cv2.GaussianBlur((rng.random((600, 800)) * 255).astype(np.uint8), (0, 0), 6)
    cv2.rectangle(ink, (300, 200), (460, 420), 255, 6)
    box = (300, 200, 160, 220)
    (around,) = context_batch(ink, [box])
    half = round(CONTEXT_SPAN * 220 / 2)
    cx, cy = 300 + 80, 200 + 110
    window = np.zeros((2 * half, 2 * half), np.uint8)
    window[max(0, half - cy):, :] = ink[max(0, cy - half): cy + half, cx - half: cx + half][: 2 * half]
    direct = cv2.resize(window, (28, 28), interpolation=cv2.INTER_AREA) / 255.0
    assert np.abs(around - direct).mean() < 0.03 and np.abs(around - direct).max() < 0.25
