"""recognizer/stream.py: `Recognizer().stream(source)` gives the CLI's records; a path reads as an image."""
from __future__ import annotations

import json
import subprocess
import sys
import warnings
from pathlib import Path

import cv2
import numpy as np
import pytest

from recognizer.capture import SourceError
from recognizer.frames import FrameError
from recognizer.pipeline import Recognizer

ROOT = Path(__file__).resolve().parent.parent
DEMO = ROOT / "assets" / "demo" / "demo.mp4"


@pytest.fixture(scope="module")
def recognizer():
    return Recognizer()


def test_stream_of_a_video_gives_the_records_the_cli_writes(recognizer, tmp_path):
    """The demo's first 40 frames: tracking, reuse and the steady turn on in both."""
    out = tmp_path / "cli.jsonl"
    run = subprocess.run([sys.executable, str(ROOT / "main.py"), "--source", str(DEMO), "--json", str(out),
                          "--workers", "1", "--no-display", "--max-frames", "40"], capture_output=True, text=True)
    assert run.returncode == 0, run.stderr
    cli = [json.loads(line) for line in out.read_text().splitlines()]
    streamed = [r.to_record() for r in recognizer.stream(DEMO, max_frames=40)]
    assert len(streamed) == 40 and any(r["digits"] for r in streamed)
    assert json.loads(json.dumps(streamed)) == cli
    assert recognizer.reuse is None and not recognizer.steady  # put back for still images


def test_stream_with_worker_processes_gives_the_cli_s_records_in_order(recognizer, tmp_path):
    """--workers 2 --no-reuse is workers=2, reuse=False; the recognizer has already read frames in
    this process (its OpenCV thread pool ran: a fork after that once hung the workers)."""
    out = tmp_path / "cli.jsonl"
    run = subprocess.run([sys.executable, str(ROOT / "main.py"), "--source", str(DEMO), "--json", str(out),
                          "--workers", "2", "--no-reuse", "--no-display", "--max-frames", "24"],
                         capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr
    cli = [json.loads(line) for line in out.read_text().splitlines()]
    streamed = [r.to_record() for r in recognizer.stream(DEMO, max_frames=24, workers=2, reuse=False)]
    assert [r["frame"] for r in streamed] == list(range(24))
    assert json.loads(json.dumps(streamed)) == cli


def _seven(path: Path) -> None:
    image = np.full((120, 200, 3), 235, np.uint8)
    cv2.line(image, (60, 30), (100, 30), (30, 30, 30), 5)
    cv2.line(image, (100, 30), (75, 95), (30, 30, 30), 5)
    cv2.imwrite(str(path), image)


def test_a_glob_and_a_folder_stream_their_images_and_skip_a_bad_one_with_a_warning(recognizer, tmp_path):
    _seven(tmp_path / "a.png")
    _seven(tmp_path / "b.png")
    (tmp_path / "c.png").write_bytes(b"not an image")
    with pytest.warns(UserWarning, match="c.png"):
        read = list(recognizer.stream(tmp_path / "*.png"))
    assert [[d.digit for d in r.digits] for r in read] == [[7], [7]]
    with warnings.catch_warnings(record=True):
        assert len(list(recognizer.stream(tmp_path))) == 2
    with pytest.raises(SourceError, match="no image file matches"):
        list(recognizer.stream(tmp_path / "*.jpg"))


def test_a_path_reads_as_the_image_it_names(recognizer, tmp_path):
    _seven(tmp_path / "seven.png")
    results = recognizer(tmp_path / "seven.png")
    assert [d.digit for d in results.digits] == [7] and results.source.endswith("seven.png")
    with pytest.raises(FrameError, match="cannot read image"):
        recognizer(str(tmp_path / "missing.png"))


def test_an_address_with_a_query_is_opened_as_a_stream_not_taken_for_a_pattern(recognizer):
    """`?` in an IP camera's address is no glob: the address is opened (and here refused)."""
    with pytest.raises(SourceError) as err:
        list(recognizer.stream("http://127.0.0.1:9/video.mjpg?action=stream"))
    assert "no image file matches" not in str(err.value)
