"""DigitTracker: stable ids, smoothed labels without flicker, unconfirmed digits held back.

The inputs are frame sequences the tests build themselves: digits moving a few
pixels per frame with noisy class probabilities, the way a hand-held camera
sees a blurred digit whose single-frame guess wavers.
"""
from __future__ import annotations

import cv2
import numpy as np

from recognizer.results import Digit, Number, Results
from recognizer.tracking import DigitTracker, iou_matrix


def noisy_probs(rng, true: int, rival: int, p_true: float) -> np.ndarray:
    """11 probabilities: `true` on average p_true, `rival` taking most of the rest, jittered."""
    p = np.full(11, 0.005)
    jitter = rng.normal(0, 0.2)
    p[true] = np.clip(p_true + jitter, 0.05, 0.95)
    p[rival] = 1.0 - p[true] - 0.045
    return p / p.sum()


def frame(index: int, items) -> Results:
    """items: (box, probs) -> Results with one Digit per item, labelled by its own argmax."""
    digits = []
    for box, probs in items:
        d = int(np.argmax(probs[:10]))
        digits.append(Digit(d, float(probs[d]), tuple(int(v) for v in box), probs))
    return Results("test", index, 640, 480, digits)


def test_iou_matrix_matches_hand_computed_overlap():
    a = np.array([[0, 0, 10, 10]], float)
    b = np.array([[5, 0, 10, 10], [20, 20, 5, 5]], float)
    assert np.allclose(iou_matrix(a, b), [[50 / 150, 0.0]])


def test_ids_stay_stable_while_digits_move():
    rng = np.random.default_rng(0)
    tracker = DigitTracker()
    ids = []
    for i in range(40):
        items = [((100 + 4 * i, 100 + 2 * i, 30, 45), noisy_probs(rng, 3, 8, 0.9)),
                 ((300 - 3 * i, 200, 30, 45), noisy_probs(rng, 7, 1, 0.9))]
        res = tracker.update(frame(i, items))
        ids.append(sorted(d.track for d in res.digits))
    assert all(x == ids[5] for x in ids[5:]) and len(ids[5]) == 2
    assert len(tracker.tracks) == 2


def test_smoothing_removes_flicker_of_a_wavering_digit():
    rng = np.random.default_rng(1)
    tracker = DigitTracker()
    raw, shown = [], []
    for i in range(200):
        probs = noisy_probs(rng, 5, 6, 0.6)  # single frames often say 6
        raw.append(int(np.argmax(probs[:10])))
        res = tracker.update(frame(i, [((50 + i % 3, 60, 28, 40), probs)]))
        shown.append(res.digits[0].digit if res.digits else None)
    raw_flips = sum(a != b for a, b in zip(raw, raw[1:]))
    shown_flips = sum(a != b for a, b in zip(shown, shown[1:]) if a is not None and b is not None)
    assert raw_flips > 20  # the input really flickers
    assert shown_flips <= 2  # the output does not
    visible = [s for s in shown if s is not None]
    assert len(visible) > 150 and visible.count(5) / len(visible) > 0.95


def test_unconfident_track_is_held_back_as_unconfirmed():
    tracker = DigitTracker()
    flat = np.full(11, 0.09)
    flat[2], flat[9] = 0.2, 0.19  # never clearly one digit
    for i in range(10):
        res = tracker.update(frame(i, [((10, 10, 20, 30), flat.copy())]))
        assert res.digits == []
        assert [r.reason for r in res.rejected] == ["unconfirmed"]


def test_lost_track_expires_and_a_new_one_gets_a_new_id():
    rng = np.random.default_rng(2)
    tracker = DigitTracker(max_missed=3)
    first = tracker.update(frame(0, [((10, 10, 20, 30), noisy_probs(rng, 4, 9, 0.95))])).digits[0].track
    for i in range(1, 6):
        tracker.update(frame(i, []))
    again = tracker.update(frame(6, [((10, 10, 20, 30), noisy_probs(rng, 4, 9, 0.95))])).digits[0].track
    assert again != first
    assert len(tracker.tracks) == 1


def test_numbers_are_rebuilt_from_smoothed_digits_and_records_carry_track():
    tracker = DigitTracker(window=5)
    sure = {d: np.eye(11)[d] * 0.9 + 0.01 for d in range(10)}
    for i in range(5):
        res = frame(i, [((10, 10, 20, 30), sure[4]), ((32, 10, 20, 30), sure[2])])
        res.numbers = [Number("42", 0.9, (10, 10, 42, 30), list(res.digits))]
        res = tracker.update(res)
    # one bad frame: the second digit reads as 7, the track keeps showing 2
    res = frame(5, [((10, 10, 20, 30), sure[4]), ((32, 10, 20, 30), sure[7])])
    res.numbers = [Number("47", 0.9, (10, 10, 42, 30), list(res.digits))]
    res = tracker.update(res)
    assert [d.digit for d in res.digits] == [4, 2]
    assert res.numbers[0].text == "42"
    rec = res.to_record()
    assert all(isinstance(d["track"], int) for d in rec["digits"])


def test_digit_cut_by_the_frame_edge_is_not_shown_until_fully_in_view():
    """A digit entering from the bottom reads as something else while cut: that reading must not stick."""
    tracker = DigitTracker()
    half_a_2_looks_like_7 = np.eye(11)[7] * 0.9 + 0.01
    a_2 = np.eye(11)[2] * 0.9 + 0.01
    shown = []
    for i in range(12):
        entering = i < 6
        box = (300, 470 - 6 * i, 30, 10 + 6 * i) if entering else (300, 430 - 2 * i, 30, 45)
        res = tracker.update(frame(i, [(box, half_a_2_looks_like_7 if entering else a_2)]))
        shown.append(res.digits[0].digit if res.digits else None)
        if entering:
            assert [r.reason for r in res.rejected] == ["at frame edge"]
    assert shown[:6] == [None] * 6 and shown[6:] == [2] * 6


def test_a_digit_fully_in_view_near_the_edge_is_shown():
    """Cut means the box reaches the border. A digit a pixel or two inside it is whole, and the
    recognizer read it: hiding it (a 2 px margin, before) lowered F1 on panning clips below
    reading without tracking (issue 20)."""
    tracker = DigitTracker()
    a_2 = np.eye(11)[2] * 0.9 + 0.01
    for box in [(1, 200, 30, 45), (300, 2, 30, 45), (608, 200, 30, 45), (300, 433, 30, 45)]:
        res = tracker.update(frame(0, [(box, a_2)]))
        assert [d.digit for d in res.digits] == [2], box
        tracker.reset()


def test_labels_follow_a_swapped_sheet_within_3_frames():
    """A sheet swapped for another under a steady camera: new digits in the same boxes. On a real
    webcam clip tracks kept their old labels for several frames (seven digits shown as "1"),
    waiting for the 5-frame average to turn. Most shown tracks clearly contradicted at once is a
    scene change: the old tracks go, and the new labels show by the third frame at the latest."""
    tracker = DigitTracker()
    boxes = [(40 + 40 * k, 60, 28, 40) for k in range(4)]
    before, after = [1, 1, 7, 4], [3, 8, 2, 9]
    sure = {d: np.eye(11)[d] * 0.96 + 0.004 for d in range(10)}
    for i in range(10):
        tracker.update(frame(i, [(b, sure[d]) for b, d in zip(boxes, before)]))
    shown = []
    for i in range(10, 16):
        res = tracker.update(frame(i, [(b, sure[d]) for b, d in zip(boxes, after)]))
        shown.append([d.digit for d in sorted(res.digits, key=lambda d: d.box[0])])
    assert all(s == after for s in shown[2:]), shown  # the third frame after the swap, and every one after
    assert all(set(s) <= set(before) | set(after) for s in shown)


def test_one_digit_rewritten_among_steady_ones_follows_within_3_frames():
    """No scene change, one digit changed (crossed out and rewritten, a finger lifted off a 4
    that was read as 1): its label follows once `follow` (3) frames in a row read the new digit;
    the digits beside it keep their labels and tracks."""
    tracker = DigitTracker()
    boxes = [(40 + 40 * k, 60, 28, 40) for k in range(4)]
    sure = {d: np.eye(11)[d] * 0.96 + 0.004 for d in range(10)}
    for i in range(10):
        res = tracker.update(frame(i, [(b, sure[d]) for b, d in zip(boxes, [5, 1, 6, 0])]))
    ids = sorted(d.track for d in res.digits)
    shown = []
    for i in range(10, 15):
        res = tracker.update(frame(i, [(b, sure[d]) for b, d in zip(boxes, [5, 4, 6, 0])]))
        shown.append([d.digit for d in sorted(res.digits, key=lambda d: d.box[0])])
    assert shown[2:] == [[5, 4, 6, 0]] * 3, shown
    assert sorted(d.track for d in res.digits) == ids


def test_a_box_that_changed_size_starts_afresh():
    """New ink under a track (a digit written over, a bigger digit in its place) changes its box by
    far more than a moving camera does: the old reading is dropped at once, not averaged in."""
    tracker = DigitTracker()
    sure = {d: np.eye(11)[d] * 0.96 + 0.004 for d in range(10)}
    for i in range(8):
        tracker.update(frame(i, [((100, 100, 20, 30), sure[1])]))
    res = tracker.update(frame(8, [((95, 90, 34, 48), sure[8])]))
    assert [d.digit for d in res.digits] == [8]
    track = res.digits[0].track
    res = tracker.update(frame(9, [((96, 91, 34, 48), sure[8])]))  # and the track goes on with it
    assert [(d.digit, d.track) for d in res.digits] == [(8, track)]


def test_tracking_never_lowers_f1_on_rendered_clips(tmp_path, mnist):
    """Two rendered hand-held clips back to back (training/demo_video.py: pan, zoom, blur, light
    drift), the second page cut in as a scene change: digit F1 per frame with the tracker is at
    least that of the same frames read one by one, over the whole run and over the 10 frames after
    the cut (issue 20: on a real clip tracking lowered F1 from 0.80 to 0.77)."""
    import copy

    from recognizer.pipeline import Recognizer
    from training.demo_video import load_jsonl, render, score_frame

    rec, tracker = Recognizer(), DigitTracker()
    plain, tracked, cut = [], [], None
    for seed in (3, 11):
        clip = tmp_path / f"clip{seed}.mp4"
        render(clip, size=(640, 480), seconds=2.0, fps=25.0, seed=seed)
        truths = load_jsonl(clip.with_suffix(".jsonl"))
        cap = cv2.VideoCapture(str(clip))
        cut = len(plain) if cut is None and plain else cut
        for truth in truths:
            ok, image = cap.read()
            assert ok
            res = rec(image, frame_index=len(plain))
            plain.append(score_frame(res.to_record()["digits"], truth))
            tracked.append(score_frame(tracker.update(copy.deepcopy(res)).to_record()["digits"], truth))

    def f1(rows):
        tp, fp, fn = np.sum(rows, axis=0)
        return 2 * tp / max(1, 2 * tp + fp + fn)

    assert f1(tracked) >= f1(plain) > 0.8, (f1(tracked), f1(plain))
    after = slice(cut, cut + 10)
    assert f1(tracked[after]) >= f1(plain[after]), (f1(tracked[after]), f1(plain[after]))


def test_labels_follow_the_swapped_sheet_on_a_rendered_webcam_clip(tmp_path, mnist):
    """training/webcam_clip.py: a sheet held up to a webcam, swapped for another half-way in the
    same hands. Over the four frames from the third after the swap, digit F1 with tracking is at
    least that without: no old label is left on the new sheet. (Over a whole short clip of fast
    motion tracking may still cost a little: 0.4606 against 0.4637 on this one, a right reading
    outvoted by the wrong ones before it; see docs/video.md.)"""
    import copy

    from recognizer.pipeline import Recognizer
    from training.demo_video import load_jsonl, score_frame
    from training.webcam_clip import render

    info = render(tmp_path / "held.mp4", seconds=2.4, seed=3)
    truths = load_jsonl(info["truth"])
    rec, tracker = Recognizer(steady=True), DigitTracker()
    cap = cv2.VideoCapture(info["video"])
    plain, tracked = [], []
    for i, truth in enumerate(truths):
        ok, image = cap.read()
        assert ok
        res = rec(image, frame_index=i)
        plain.append(score_frame(res.to_record()["digits"], truth))
        tracked.append(score_frame(tracker.update(copy.deepcopy(res)).to_record()["digits"], truth))

    def f1(rows):
        tp, fp, fn = np.sum(rows, axis=0)
        return 2 * tp / max(1, 2 * tp + fp + fn)

    swap = info["swap_frame"]
    after = slice(swap + 2, swap + 6)
    assert f1(tracked[after]) >= f1(plain[after]) > 0.4, (f1(tracked[after]), f1(plain[after]))
