"""Worker processes change how fast a video file is read, never what is written."""
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import cv2
import pytest

from recognizer.app import run
from recognizer.output import FRAGMENT_S
from recognizer.cli import build_parser

DEMO = Path(__file__).resolve().parent.parent / "assets" / "demo" / "demo.mp4"


def records(tmp_path: Path, workers: int, frames: int = 30, *extra: str) -> list[dict]:
    out = tmp_path / f"w{workers}{''.join(extra)}.jsonl"
    args = build_parser().parse_args(["--source", str(DEMO), "--no-display", "--json", str(out),
                                      "--workers", str(workers), "--max-frames", str(frames), *extra])
    assert run(args) == 0
    return [json.loads(line) for line in out.read_text().splitlines()]


def labels(recs: list[dict]) -> list[tuple]:
    """(frame, box, digit) of every digit written."""
    return [(r["frame"], tuple(d["box"]), d["digit"]) for r in recs for d in r["digits"]]


@pytest.fixture(autouse=True)
def demo_video():
    if not DEMO.is_file():
        pytest.skip(f"demo video absent: {DEMO} (python -m training.demo_video)")


def test_two_worker_processes_write_what_one_process_writes(tmp_path):
    serial, parallel = records(tmp_path, 1, 30, "--no-reuse"), records(tmp_path, 2, 30, "--no-reuse")
    assert len(serial) == len(parallel) == 30
    assert [r["frame"] for r in parallel] == list(range(30))  # in order, none dropped
    assert sum(len(r["digits"]) for r in serial) > 100  # the demo has ~13 digits a frame in view
    assert parallel == serial  # same digits, boxes, confidences and track ids


def test_workers_with_reuse_are_repeatable_and_read_what_one_process_reads(tmp_path):
    """With reuse each worker remembers only the frames it saw; which worker gets which frame is
    fixed (runs of consecutive frames), so a run's output does not depend on timing."""
    first, again = records(tmp_path / "a", 2, 40), records(tmp_path / "b", 2, 40)
    serial = records(tmp_path, 1, 40)
    assert [r["frame"] for r in first] == list(range(40))
    assert first == again
    same = set(labels(first)) & set(labels(serial))
    assert len(same) >= 0.97 * max(len(labels(first)), len(labels(serial)))


def test_frame_ring_hands_over_frames_by_slot_and_refuses_other_sizes():
    import numpy as np

    from recognizer.workers import FrameRing

    ring = FrameRing(3, width=8, height=4)
    frames = [np.full((4, 8, 3), (i, 10 + i, 20 + i), np.uint8) for i in range(4)]  # colour: pens of any colour
    slots = [ring.put(i, f) for i, f in enumerate(frames)]
    assert slots == [0, 1, 2, 0]  # frame 3 reuses frame 0's slot (its result is back by then)
    assert (ring.view(0) == frames[3]).all() and (ring.view(2) == frames[2]).all()
    assert ring.put(4, np.zeros((5, 8, 3), np.uint8)) is None  # a frame of another size goes pickled
    assert ring.put(5, np.zeros((4, 8), np.uint8)) is None  # and a gray one
    ring.close()


def _processes_with(marker: str) -> list[int]:
    """Pids of the processes whose command line holds `marker` (Linux /proc)."""
    pids = []
    for proc in Path("/proc").iterdir():
        if proc.name.isdigit():
            try:
                if marker in (proc / "cmdline").read_bytes().decode(errors="ignore"):
                    pids.append(int(proc.name))
            except OSError:
                pass
    return pids


def _demo_with_workers(tmp_path, name: str, records: int) -> tuple[subprocess.Popen, Path]:
    """main.py on the demo with 2 worker processes, once its JSON holds `records` lines:
    (the process, its JSON lines file, whose path marks its processes' command lines)."""
    root = Path(__file__).resolve().parent.parent
    out = tmp_path / f"{name}.jsonl"
    proc = subprocess.Popen([sys.executable, str(root / "main.py"), "--demo", "--json", str(out),
                             "--output", str(tmp_path / f"{name}.mp4"), "--workers", "2"],
                            cwd=root, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.time() + 60
    while time.time() < deadline and (not out.exists() or len(out.read_text().splitlines()) < records):
        time.sleep(0.05)
    return proc, out


needs_proc = pytest.mark.skipif(not Path("/proc/self/cmdline").exists(), reason="needs Linux /proc")


@needs_proc
def test_worker_processes_end_when_the_main_process_is_killed(tmp_path):
    """SIGKILL leaves the main process no chance to shut its pool down: the workers must still
    end (not wait forever on their task pipe), the JSON lines written so far stay whole, and
    the MP4 plays up to at most a fragment (a second) before the kill (an index written at the
    end, as OpenCV writes MP4s, never is: "moov atom not found")."""
    pytest.importorskip("av", reason="PyAV not installed (pip install -r requirements.txt)")
    proc, out = _demo_with_workers(tmp_path, "killed", 60)
    assert len(_processes_with(str(out))) == 3, "expected the main process and 2 workers"
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    deadline = time.time() + 10
    while time.time() < deadline and _processes_with(str(out)):
        time.sleep(0.2)
    left = _processes_with(str(out))
    for pid in left:  # do not leave them behind for the rest of the suite
        os.kill(pid, signal.SIGKILL)
    assert not left, f"worker processes left running: {left}"
    lines = out.read_text().splitlines()
    assert lines and all(json.loads(line)["frame"] >= 0 for line in lines)
    video = cv2.VideoCapture(str(out.with_suffix(".mp4")))
    playable = 0
    while video.read()[0]:
        playable += 1
    fragment = round(FRAGMENT_S * video.get(cv2.CAP_PROP_FPS) or 25)
    assert playable >= len(lines) - fragment - 1, (playable, len(lines))


@needs_proc
@pytest.mark.parametrize("signals,after", [(1, 8), (2, 40), (3, 80), (2, 120), (3, 160)])
def test_repeated_ctrl_c_with_workers_exits_130_within_2_s(tmp_path, signals, after):
    """Ctrl-C once or several times in quick succession while 2 workers run, at several points
    of the demo: exit 130 within 2 s, no traceback, whole JSON lines and no worker left (a
    second Ctrl-C landing inside the pool's shutdown used to hang the run: 3 runs in 6)."""
    proc, out = _demo_with_workers(tmp_path, "stopped", after)
    start = time.time()
    for _ in range(signals):
        proc.send_signal(signal.SIGINT)
        time.sleep(0.05)
    try:
        code = proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()
        raise
    took = time.time() - start
    assert code == 130 and took < 2.0, (code, took)
    assert "Traceback" not in proc.stderr.read().decode()
    assert all(json.loads(line)["frame"] >= 0 for line in out.read_text().splitlines())
    assert not _processes_with(str(out))
