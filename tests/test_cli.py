"""main.py on images and folders, run as a user would (subprocess, no display).

Scenes are drawn by the test itself with training/scenes.py (MNIST test digits
as ink on paper, photographed), so the expected digits and boxes are known.
"""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import cv2
import numpy as np
import pytest

ROOT = Path(__file__).resolve().parent.parent


def main_py(*args, timeout=120) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY")}
    return subprocess.run([sys.executable, str(ROOT / "main.py"), *map(str, args)], capture_output=True,
                          text=True, timeout=timeout, env=env, cwd=ROOT)


def iou(a, b) -> float:
    ix = max(0, min(a[0] + a[2], b[0] + b[2]) - max(a[0], b[0]))
    iy = max(0, min(a[1] + a[3], b[1] + b[3]) - max(a[1], b[1]))
    return ix * iy / max(a[2] * a[3] + b[2] * b[3] - ix * iy, 1e-9)


@pytest.fixture(scope="module")
def scenes(tmp_path_factory, mnist):
    """Three drawn scenes on disk and their ground truth [(digit, box)]."""
    from training.scenes import make_scene

    _, (x_test, y_test) = mnist
    folder = tmp_path_factory.mktemp("scenes")
    rng = np.random.default_rng(5)
    truth = {}
    for name in ("a.png", "b.jpg", "c.png"):
        image, digits, _ = make_scene(rng, x_test, y_test, width=640, height=480, n_digits=12, camera=0.3)
        cv2.imwrite(str(folder / name), image)
        truth[name] = digits
    return folder, truth


def found_right(record: dict, truth) -> int:
    """How many true digits have a reported digit of the same value on them."""
    return sum(any(d["digit"] == g and iou(d["box"], box) >= 0.5 for d in record["digits"]) for g, box in truth)


def test_one_image_gives_an_annotated_image_and_one_json_record(scenes, tmp_path):
    folder, truth = scenes
    out, js = tmp_path / "annotated.png", tmp_path / "a.jsonl"
    proc = main_py("--source", folder / "a.png", "--output", out, "--json", js)
    assert proc.returncode == 0, proc.stderr
    annotated = cv2.imread(str(out))
    original = cv2.imread(str(folder / "a.png"))
    assert annotated.shape == original.shape
    assert np.abs(annotated.astype(int) - original.astype(int)).max() > 100  # something was drawn
    (record,) = [json.loads(line) for line in js.read_text().splitlines()]
    assert (record["width"], record["height"]) == (640, 480)
    assert found_right(record, truth["a.png"]) >= 0.5 * len(truth["a.png"])
    assert all(set(d) == {"digit", "confidence", "box"} for d in record["digits"])


def test_folder_with_a_corrupt_file_processes_the_rest_and_reports_it(scenes, tmp_path):
    folder, truth = scenes
    work = tmp_path / "in"
    work.mkdir()
    for name in truth:
        (work / name).write_bytes((folder / name).read_bytes())
    (work / "b2_broken.png").write_bytes(b"\x89PNG\r\n\x1a\n" + os.urandom(200))
    out, js = tmp_path / "out", tmp_path / "all.jsonl"
    proc = main_py("--source", work, "--output", out, "--json", js, "--no-display")
    assert proc.returncode == 1  # something was skipped: a script can tell
    assert "Traceback" not in proc.stderr
    assert "b2_broken.png" in proc.stderr and "processed 3 images" in proc.stderr
    records = [json.loads(line) for line in js.read_text().splitlines()]
    assert [Path(r["source"]).name for r in records] == ["a.png", "b.jpg", "c.png"]  # sorted order
    assert sorted(p.name for p in out.iterdir()) == ["a.png", "b.jpg", "c.png"]
    assert sum(found_right(r, truth[Path(r["source"]).name]) for r in records) >= 0.5 * 36


@pytest.mark.parametrize("case", ["corrupt image", "missing file", "missing model", "damaged model",
                                  "missing small model", "too many pixels"])
def test_bad_input_is_one_line_on_stderr_and_a_nonzero_exit(scenes, tmp_path, case):
    folder, _ = scenes
    args = ["--source", folder / "a.png", "--no-display"]
    if case == "corrupt image":
        bad = tmp_path / "photo.jpg"
        bad.write_bytes(b"\xff\xd8\xff\xe0" + b"not really a jpeg" * 20)
        args[1] = bad
    elif case == "missing file":
        args[1] = tmp_path / "nowhere.png"
    elif case == "too many pixels":  # 110 MP of one colour: 100 kB on disk, refused by its header
        args[1] = tmp_path / "huge.png"
        cv2.imwrite(str(args[1]), np.zeros((11000, 10000), np.uint8))
    elif case == "missing model":
        args += ["--model", tmp_path / "none.tflite"]
    elif case == "missing small model":
        args += ["--small-model", tmp_path / "small.tflite"]
    else:
        broken = tmp_path / "broken.tflite"
        broken.write_bytes(b"TFL3" + b"\x00" * 64)
        args += ["--model", broken]
    proc = main_py(*args)
    assert proc.returncode != 0
    assert "Traceback" not in proc.stderr
    errors = [line for line in proc.stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 1, proc.stderr
    assert str(args[1].name if case in ("corrupt image", "missing file", "too many pixels") else args[-1].name) in errors[0]
    if case == "too many pixels":
        assert "too many pixels: 10000x11000" in errors[0]


def test_help_lists_the_flags_a_user_tunes():
    proc = main_py("--help")
    assert proc.returncode == 0
    for flag in ("--source", "--demo", "--output", "--json", "--model", "--small-model", "--conf", "--no-display",
                 "--form"):
        assert flag in proc.stdout


@pytest.mark.skipif(not Path("/dev/full").exists(), reason="needs /dev/full (a device that is always full)")
@pytest.mark.parametrize("flag", ["--json", "--output"])
def test_an_output_that_cannot_be_written_is_one_line_and_exit_1(scenes, flag):
    """A full disk (/dev/full takes no byte) or an --output that is no folder: one line, exit 1."""
    folder, _ = scenes
    proc = main_py("--source", folder / "a.png", "--no-display", flag, "/dev/full")
    assert proc.returncode == 1
    assert "Traceback" not in proc.stderr
    errors = [line for line in proc.stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 1 and "/dev/full" in errors[0], proc.stderr


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs FIFOs (POSIX)")
def test_folder_with_a_fifo_and_broken_links_reports_them_and_reads_the_rest(scenes, tmp_path):
    """A FIFO named like an image would block a reader forever; a broken or looping link and a
    folder named like an image cannot be read: each is reported and skipped, exit 1."""
    folder, _ = scenes
    odd = tmp_path / "odd"
    odd.mkdir()
    shutil.copy(folder / "a.png", odd / "a.png")
    os.mkfifo(odd / "b.png")
    (odd / "c.png").symlink_to(tmp_path / "nowhere.png")
    (odd / "d.png").symlink_to(odd / "d.png")
    (odd / "e.png").mkdir()
    proc = main_py("--source", odd, "--no-display", "--json", tmp_path / "odd.jsonl", timeout=60)
    assert proc.returncode == 1 and "Traceback" not in proc.stderr
    skipped = [line for line in proc.stderr.splitlines() if "skipped:" in line]
    assert len(skipped) == 3 and all("not a regular file" in line for line in skipped), proc.stderr
    assert "processed 1 image" in proc.stderr
    assert len((tmp_path / "odd.jsonl").read_text().splitlines()) == 1


def test_quiet_says_only_errors_and_verbose_adds_the_stage_times(scenes, tmp_path):
    """-q: nothing on stderr for a run that succeeds (no summary, no progress bar), one `error:`
    line for one that fails; -v: the summary and each stage's median time."""
    folder, _ = scenes
    quiet = main_py("--source", folder, "--json", tmp_path / "q.jsonl", "-q", "--no-display")
    assert quiet.returncode == 0 and quiet.stderr == "", quiet.stderr
    assert len((tmp_path / "q.jsonl").read_text().splitlines()) == 3
    bad = tmp_path / "some"
    bad.mkdir()
    shutil.copy(folder / "a.png", bad / "a.png")
    (bad / "b.png").write_bytes(b"not an image")
    partly = main_py("--source", bad, "-q", "--no-display")
    assert partly.returncode == 1 and [line.split(" (")[0] for line in partly.stderr.splitlines()] == [
        "error: 1 unreadable file skipped"], partly.stderr
    failed = main_py("--source", tmp_path / "missing.png", "-q")
    assert failed.returncode == 1 and failed.stderr.splitlines() == [f"error: source not found: {tmp_path / 'missing.png'}"]
    loud = main_py("--source", folder, "-v", "--no-display")
    lines = loud.stderr.splitlines()
    assert any(line.startswith("processed 3 images") for line in lines)
    assert any(line.startswith("debug: median ms a frame:") and "recognize.infer" in line for line in lines)
