"""The window and its keys, on a real X server: Xvfb draws it, xdotool presses the keys.

Everything else runs headless; this is the one place the window path (cv2.imshow,
waitKey, the debug view, snapshots, quitting) runs for real. That test needs the
Debian packages xvfb and xdotool (`.ci/run` installs them when it can) and is
skipped, saying so, when they are absent. A DISPLAY that does not answer must
fall back to headless instead of letting Qt abort the process.
"""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import cv2
import pytest

ROOT = Path(__file__).resolve().parent.parent
DEMO = ROOT / "assets" / "demo" / "demo.mp4"

needs_x = pytest.mark.skipif(not (shutil.which("Xvfb") and shutil.which("xdotool")),
                             reason="Xvfb and xdotool not installed (apt-get install xvfb xdotool)")


@pytest.fixture
def x_display():
    """A private virtual screen for one test; its number is picked to avoid a running one."""
    number = 90 + os.getpid() % 50
    server = subprocess.Popen(["Xvfb", f":{number}", "-screen", "0", "1280x1024x24", "-nolisten", "tcp"],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    time.sleep(1.0)
    if server.poll() is not None:
        pytest.skip(f"Xvfb could not start display :{number}")
    yield f":{number}"
    server.terminate()
    server.wait(timeout=10)


def _xdotool(display: str, *args: str) -> str:
    env = {**os.environ, "DISPLAY": display}
    return subprocess.run(["xdotool", *args], env=env, capture_output=True, text=True, timeout=10).stdout


def _wait_for_window(display: str, name: str, timeout: float = 30.0) -> str:
    deadline = time.time() + timeout
    while time.time() < deadline:
        found = _xdotool(display, "search", "--onlyvisible", "--name", f"^{name}$").split()
        if found:
            return found[0]
        time.sleep(0.3)
    raise AssertionError(f"no window named {name!r} appeared within {timeout:.0f} s")


@needs_x
def test_window_keys_debug_view_snapshot_and_quit(x_display, tmp_path):
    """Play the demo in a window; t shows the debug view, s saves it, q quits cleanly."""
    env = {**os.environ, "DISPLAY": x_display}
    env.pop("QT_QPA_PLATFORM", None)  # a real window, not Qt's offscreen platform
    snaps, record = tmp_path / "snaps", tmp_path / "out.jsonl"
    run = subprocess.Popen([sys.executable, str(ROOT / "main.py"), "--source", str(DEMO),
                            "--snapshots", str(snaps), "--json", str(record)],
                           cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        window = _wait_for_window(x_display, "digits")
        deadline = time.monotonic() + 30  # the demo's sheet comes in from below during its first 20 frames
        while time.monotonic() < deadline and (not record.exists() or len(record.read_text().splitlines()) < 40):
            time.sleep(0.1)
        for key in ("s", "t"):
            _xdotool(x_display, "key", "--window", window, key)
            time.sleep(1.0)
        _xdotool(x_display, "key", "--window", window, "s")
        time.sleep(1.0)
        _xdotool(x_display, "key", "--window", window, "q")
        _, err = run.communicate(timeout=30)
    finally:
        if run.poll() is None:
            run.kill()
    assert run.returncode == 0, err[-2000:]
    shots = sorted(snaps.glob("*.png"))
    assert len(shots) == 2, err[-2000:]
    plain, debug = (cv2.imread(str(p)) for p in shots)
    frame_shape = cv2.VideoCapture(str(DEMO)).read()[1].shape
    assert plain.shape == frame_shape  # the annotated frame itself
    assert debug.shape != frame_shape  # the debug view: frame and binary side by side over the crop strip
    saved = json.loads(shots[0].with_suffix(".json").read_text())
    assert saved["digits"], ("the snapshot's JSON lists the digits on screen", saved)
    lines = record.read_text().splitlines()
    assert lines and all(json.loads(line)["frame"] == i for i, line in enumerate(lines))
    frames = int(cv2.VideoCapture(str(DEMO)).get(cv2.CAP_PROP_FRAME_COUNT))
    assert len(lines) < frames, "q stopped the run before the demo's end"


def test_display_that_does_not_answer_runs_headless(tmp_path):
    """A stale DISPLAY (an old ssh -X session) must not abort inside Qt: a note, then headless."""
    from recognizer.app import x_server_reachable

    dead = next(f":{n}" for n in range(150, 200) if not x_server_reachable(f":{n}"))
    env = {**os.environ, "DISPLAY": dead}
    env.pop("QT_QPA_PLATFORM", None)
    record = tmp_path / "out.jsonl"
    run = subprocess.run([sys.executable, str(ROOT / "main.py"), "--source", str(DEMO), "--max-frames", "5",
                          "--json", str(record)], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr[-2000:]
    assert f"no X server answers on DISPLAY={dead}" in run.stderr
    assert len(record.read_text().splitlines()) == 5
