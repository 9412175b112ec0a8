"""Video: frame sources on clips the tests write, and main.py end to end on videos.

Capture: each frame carries its own number as a row of black/white blocks, so
the test can read back which frame it was handed (files drop nothing, a live
source never repeats). End to end: a clip rendered by training/demo_video.py
with its exact ground truth, processed by main.py as a subprocess with no display.
"""
from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import cv2
import numpy as np
import pytest

from recognizer.capture import CameraSource, SourceError, VideoSource, open_source

BITS, BLOCK = 10, 16


def stamp(index: int, size=(320, 240)) -> np.ndarray:
    img = np.full((size[1], size[0], 3), 128, np.uint8)
    for b in range(BITS):
        value = 255 if index >> b & 1 else 0
        img[8:8 + BLOCK, 8 + b * (BLOCK + 4): 8 + b * (BLOCK + 4) + BLOCK] = value
    return img


def read_stamp(img: np.ndarray) -> int:
    gray = cv2.cvtColor(img, cv2.COLOR_BGR2GRAY)
    index = 0
    for b in range(BITS):
        x = 8 + b * (BLOCK + 4)
        if gray[12:12 + BLOCK - 8, x + 4:x + BLOCK - 4].mean() > 128:
            index |= 1 << b
    return index


@pytest.fixture(scope="module")
def numbered_clip(tmp_path_factory):
    path = tmp_path_factory.mktemp("clip") / "numbered.avi"
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"MJPG"), 25.0, (320, 240))
    assert writer.isOpened()
    for i in range(120):
        writer.write(stamp(i))
    writer.release()
    return path


def test_video_file_yields_every_frame_in_order_even_with_a_slow_consumer(numbered_clip):
    with VideoSource(str(numbered_clip)) as source:
        assert (source.width, source.height, source.fps) == (320, 240, 25.0)
        seen, times = [], []
        while (frame := source.read()) is not None:
            if len(seen) < 15:
                time.sleep(0.01)  # slower than the decoder: the queue fills, nothing may drop
            seen.append((frame.index, read_stamp(frame.image)))
            times.append(frame.time)
    assert [s[0] for s in seen] == list(range(120))
    assert [s[1] for s in seen] == list(range(120))
    assert times[25] == pytest.approx(1.0)


def test_a_video_cut_short_is_read_to_where_it_stops_and_says_so(numbered_clip, tmp_path):
    """A file cut off half-way (its header still gives 120 frames): every frame that is there
    is read, in order, and the source says where it stopped; the whole file says nothing."""
    cut = tmp_path / "cut.avi"
    cut.write_bytes(numbered_clip.read_bytes()[: numbered_clip.stat().st_size // 2])
    for path, whole in ((numbered_clip, True), (cut, False)):
        with VideoSource(str(path)) as source:
            seen = []
            while (frame := source.read()) is not None:
                seen.append(read_stamp(frame.image))
            assert seen == list(range(len(seen)))
            if whole:
                assert len(seen) == 120 and source.cut_short() is None
            else:
                assert 30 < len(seen) < 100
                assert f"ended at frame {len(seen)} of the 120" in source.cut_short()


def test_live_source_hands_out_only_new_frames_newest_first(numbered_clip, tmp_path):
    """A file opened as a 'camera' is read flat out; a slow loop must skip frames, never repeat one."""
    device = tmp_path / "cam.avi"
    shutil.copy(numbered_clip, device)
    got = []
    with CameraSource(str(device), lost_after=0.3) as source:
        os.remove(device)  # one pass only: at the end re-opening fails instead of restarting the file
        try:
            while (frame := source.read()) is not None:
                got.append((frame.index, read_stamp(frame.image)))
                time.sleep(0.005)
        except SourceError:
            pass
    stamps = [g[1] for g in got]
    assert [g[0] for g in got] == stamps  # the sequence number is the frame's own number
    assert stamps == sorted(set(stamps))  # strictly increasing: no frame handed out twice
    assert len(stamps) < 120 and stamps[-1] > len(stamps)  # the slow reader skipped to the newest


def test_camera_that_stops_delivering_gives_up_with_a_clear_error(numbered_clip, tmp_path):
    """Unplugging simulated: the device vanishes, re-opening fails, back-off ends in SourceError."""
    device = tmp_path / "cam.avi"
    shutil.copy(numbered_clip, device)
    source = CameraSource(str(device), lost_after=1.0)
    os.remove(device)
    t0 = time.monotonic()
    with pytest.raises(SourceError, match="stopped delivering frames"):
        while source.read() is not None:
            pass
    source.close()
    assert 0.9 < time.monotonic() - t0 < 6.0


def test_absent_camera_and_bad_paths_raise_one_line_errors(tmp_path):
    with pytest.raises(SourceError, match="no camera could be opened at index 9.*--demo"):
        open_source("9")
    with pytest.raises(SourceError, match="source not found"):
        open_source(str(tmp_path / "nothing.mp4"))
    junk = tmp_path / "junk.mp4"
    junk.write_bytes(b"this is not a video" * 100)
    with pytest.raises(SourceError, match="cannot (open|read) video"):
        open_source(str(junk))
    broken = tmp_path / "broken.png"
    broken.write_bytes(b"\x89PNG\r\n\x1a\n" + b"\x00" * 50)
    with pytest.raises(SourceError, match="cannot read image"):
        open_source(str(broken))


def test_folder_is_read_in_sorted_order_and_reports_unreadable_files(tmp_path):
    for name in ("b.png", "a.png", "c.jpg"):
        cv2.imwrite(str(tmp_path / name), stamp(ord(name[0])))
    (tmp_path / "bad.png").write_bytes(b"garbage")
    (tmp_path / "notes.txt").write_text("not an image")
    with open_source(str(tmp_path)) as source:
        frames = []
        while (f := source.read()) is not None:
            frames.append(f)
    assert [os.path.basename(f.name) for f in frames] == ["a.png", "b.png", "bad.png", "c.jpg"]
    assert frames[2].image is None and "bad.png" in frames[2].error
    assert [read_stamp(f.image) for f in frames if f.image is not None] == [ord("a"), ord("b"), ord("c")]


# ---- main.py end to end on videos ----------------------------------------------------------------

ROOT = Path(__file__).resolve().parent.parent
DEMO = ROOT / "assets" / "demo" / "demo.mp4"


def headless_env() -> dict:
    """The environment of a server: no X display, no Qt platform override."""
    env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM")}
    env["PYTHONUNBUFFERED"] = "1"
    return env


def main_py(*args, timeout=120) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(ROOT / "main.py"), *map(str, args)], capture_output=True,
                          text=True, timeout=timeout, env=headless_env(), cwd=ROOT)


@pytest.fixture(scope="module")
def drawn_clip(tmp_path_factory, mnist):
    """A 1.6 s clip the test renders itself: the demo camera over a fresh page of MNIST test digits."""
    from training.demo_video import render

    out = tmp_path_factory.mktemp("drawn") / "sweep.mp4"
    summary = render(out, size=(640, 480), seconds=1.6, fps=25.0, seed=11)
    assert summary["frames"] == 40 and summary["digits_per_frame"] > 8
    return out


def test_video_end_to_end_headless_with_tracks_times_and_a_playable_output(drawn_clip, tmp_path):
    from training.demo_video import load_jsonl, score

    out, js = tmp_path / "annotated.mp4", tmp_path / "frames.jsonl"
    proc = main_py("--source", drawn_clip, "--output", out, "--json", js)  # no DISPLAY: headless on its own
    assert proc.returncode == 0, proc.stderr
    assert "Traceback" not in proc.stderr
    records = load_jsonl(js)
    assert [r["frame"] for r in records] == list(range(40))
    assert records[25]["time"] == pytest.approx(1.0)
    assert all("track" in d for r in records for d in r["digits"])
    truth = load_jsonl(drawn_clip.with_suffix(".jsonl"))
    figures = score(records, truth)
    assert figures["tp"] > 0.5 * (figures["tp"] + figures["fn"])  # most visible digits read right
    cap = cv2.VideoCapture(str(out))
    assert cap.isOpened()
    assert (cap.get(cv2.CAP_PROP_FRAME_WIDTH), cap.get(cv2.CAP_PROP_FRAME_HEIGHT)) == (640, 480)
    assert cap.get(cv2.CAP_PROP_FPS) == pytest.approx(25.0)
    n = 0
    while cap.read()[0]:
        n += 1
    assert n == 40


def test_sigint_leaves_a_playable_video_and_whole_json_lines(tmp_path):
    out, js = tmp_path / "cut.mp4", tmp_path / "cut.jsonl"
    proc = subprocess.Popen([sys.executable, str(ROOT / "main.py"), "--source", str(DEMO), "--output", str(out),
                             "--json", str(js)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env=headless_env(), cwd=ROOT)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and (not js.exists() or js.read_text().count("\n") < 8):
        time.sleep(0.05)
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=30)
    assert proc.returncode == 130, err
    assert "Traceback" not in err and "interrupted" in err
    lines = js.read_text().splitlines()
    assert 8 <= len(lines) < 300
    records = [json.loads(line) for line in lines]  # every line whole
    assert [r["frame"] for r in records] == list(range(len(records)))
    cap = cv2.VideoCapture(str(out))
    n = 0
    while cap.read()[0]:
        n += 1
    assert n == len(records)


def test_absent_camera_is_one_clear_line_and_a_nonzero_exit():
    proc = main_py("--source", "9", timeout=60)
    assert proc.returncode != 0
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and "camera" in lines[0] and "--demo" in lines[0], proc.stderr


def test_demo_runs_headless_and_says_where_it_wrote(tmp_path):
    js = tmp_path / "demo.jsonl"
    proc = main_py("--demo", "--max-frames", "12", "--json", js)
    assert proc.returncode == 0, proc.stderr
    assert len(js.read_text().splitlines()) == 12
    assert str(js) in proc.stderr


def test_camera_lost_mid_run_stops_with_a_message_and_keeps_the_outputs(drawn_clip, tmp_path, monkeypatch, capsys):
    """The loop on a 'camera' that vanishes (its device file deleted): clear error, exit 1, files whole."""
    import recognizer.app as app
    from recognizer.cli import build_parser

    device = tmp_path / "cam.mp4"
    shutil.copy(drawn_clip, device)

    def open_vanishing_camera(source, lost_after):
        camera = CameraSource(str(device), lost_after=lost_after)
        os.remove(device)  # unplugged: the open handle drains, re-opening fails
        return camera

    monkeypatch.setattr(app, "open_source", open_vanishing_camera)
    out, js = tmp_path / "live.avi", tmp_path / "live.jsonl"
    args = build_parser().parse_args(["--source", "0", "--camera-timeout", "1", "--no-display",
                                      "--output", str(out), "--json", str(js)])
    assert app.run(args) == 1
    err = capsys.readouterr().err
    assert "error: camera" in err and "stopped delivering frames" in err
    records = [json.loads(line) for line in js.read_text().splitlines()]
    assert len(records) >= 1
    assert [r["frame"] for r in records] == sorted({r["frame"] for r in records})  # newest-first, no repeats
    cap = cv2.VideoCapture(str(out))
    n = 0
    while cap.read()[0]:
        n += 1
    assert n == len(records)


# ---- classification reuse across frames ----------------------------------------------------------

def moved_candidates(shift: tuple[int, int], ink: int = 200):
    """Three digit-sized candidates on a page moved by `shift` px."""
    from recognizer.candidates import Candidate

    boxes = [(100, 80, 30, 45), (160, 84, 28, 44), (400, 300, 32, 46)]
    return [Candidate((x + shift[0], y + shift[1], w, h), np.full((h, w), ink, np.uint8)) for x, y, w, h in boxes]


def fake_predictions(n: int, digit: int):
    from recognizer.classifier import Predictions

    probs = np.full((n, 11), 0.01)
    probs[:, digit] = 0.9
    return Predictions(np.full(n, digit), np.full(n, 0.9), np.full(n, 0.01), probs)


def test_reuse_reclassifies_a_crop_whose_ink_moved_though_its_amount_did_not():
    """A clock's digits on screen, a digit rewritten in place: the same box, the same amount of
    ink, another glyph. A reading is reused only while the ink lies where it did (issue 20)."""
    from recognizer.candidates import Candidate
    from recognizer.reuse import ClassificationReuse

    left, right = np.zeros((40, 30), np.uint8), np.zeros((40, 30), np.uint8)
    left[:, :15], right[:, 15:] = 200, 200
    reuse = ClassificationReuse()
    reuse.todo([Candidate((100, 80, 30, 40), left)], 0)
    reuse.merge(fake_predictions(1, 2))
    assert reuse.todo([Candidate((100, 80, 30, 40), left.copy())], 1) == []  # the same crop: reused
    reuse.merge(fake_predictions(0, 2))
    assert len(reuse.todo([Candidate((100, 80, 30, 40), right)], 2)) == 1  # the ink moved: classified


def test_page_shift_is_the_motion_most_boxes_agree_on():
    from recognizer.reuse import page_shift

    old = np.array([c.box for c in moved_candidates((0, 0))], float)
    new = np.array([c.box for c in moved_candidates((13, -6))] + [(600, 20, 30, 40)], float)  # + a newcomer
    assert np.allclose(page_shift(new, old), (13, -6))
    assert np.allclose(page_shift(new, old[:0]), (0, 0))


def test_reuse_follows_the_page_and_reclassifies_new_changed_and_expired_crops():
    from recognizer.reuse import ClassificationReuse

    reuse = ClassificationReuse(refresh=4)
    assert len(reuse.todo(moved_candidates((0, 0)), 0)) == 3  # nothing seen yet
    reuse.merge(fake_predictions(3, 7))
    todo = reuse.todo(moved_candidates((9, 4)), 1)  # the camera moved: same handwriting, reused
    assert todo == []
    merged = reuse.merge(fake_predictions(0, 7))
    assert list(merged.digits) == [7, 7, 7] and merged.probs.shape == (3, 11)
    assert len(reuse.todo(moved_candidates((9, 4), ink=120), 2)) == 3  # the ink changed: classify again
    reuse.merge(fake_predictions(3, 2))
    ages = []
    for frame in range(3, 12):  # every crop is classified again within `refresh` frames, not all at once
        ages.append(len(reuse.todo(moved_candidates((9, 4), ink=120), frame)))
        reuse.merge(fake_predictions(ages[-1], 2))
    assert sum(ages) >= 3 * 9 // 4 and max(ages) < 3
    assert len(reuse.todo(moved_candidates((9, 4), ink=120), 30)) == 3  # a long gap: start afresh


def test_reuse_reads_the_same_digits_as_classifying_every_crop_with_fewer_crops(drawn_clip):
    """On a clip the test renders (the demo camera over fresh MNIST test digits): every frame's
    digits with reuse are those read without it, while far fewer crops go through the classifier."""
    from recognizer.pipeline import Recognizer
    from recognizer.reuse import REFRESH

    plain, reusing = Recognizer(threads=1, steady=True), Recognizer(threads=1, reuse=REFRESH, steady=True)
    cap = cv2.VideoCapture(str(drawn_clip))
    both = only_one = 0
    index = 0
    while True:
        ok, image = cap.read()
        if not ok:
            break
        a = {(d.box, d.digit) for d in plain(image, frame_index=index).digits}
        b = {(d.box, d.digit) for d in reusing(image, frame_index=index).digits}
        both, only_one = both + len(a & b), only_one + len(a ^ b)
        index += 1
    assert index == 40 and both > 1000
    assert only_one <= 0.03 * both
    stats = reusing.reuse
    assert stats.reused > stats.classified  # most crops were taken over from a recent frame


def test_reuse_is_on_for_videos_and_cameras_only_and_off_with_no_reuse(tmp_path):
    """The loop the CLI and the API share (stream.recognized) turns reuse and the steady turn on
    for a video, off with reuse=False (--no-reuse) and for still images."""
    from recognizer.capture import open_source
    from recognizer.pipeline import Recognizer
    from recognizer.reuse import REFRESH
    from recognizer.stream import recognized

    demo = Path(__file__).resolve().parent.parent / "assets" / "demo" / "demo.mp4"
    cv2.imwrite(str(tmp_path / "page.png"), np.full((60, 80, 3), 255, np.uint8))
    recognizer = Recognizer()
    for source, reuse, refresh in ((demo, True, REFRESH), (demo, False, None), (tmp_path / "page.png", True, None)):
        with open_source(str(source)) as src:
            loop = recognized(recognizer, src, reuse=reuse)
            next(loop)
            assert (recognizer.reuse.refresh if recognizer.reuse else None) == refresh
            assert recognizer.steady == (refresh is not None)
            loop.close()


def test_the_loop_keeps_a_bounded_number_of_timings():
    """A camera left running for hours kept 9 floats a frame for its summary (issue 21: 31 MB an
    hour at 30 fps); the stopwatch keeps the last TIMED_FRAMES laps of each stage."""
    from recognizer.app import TIMED_FRAMES, Stopwatch

    sw = Stopwatch()
    for _ in range(TIMED_FRAMES + 500):
        sw.lap("recognize")
        sw.add_substages("recognize", {"infer": 0.001})
    assert len(sw.stages["recognize"]) == len(sw.stages["recognize.infer"]) == TIMED_FRAMES
    assert set(sw.medians_ms()) == {"recognize", "recognize.infer"}
