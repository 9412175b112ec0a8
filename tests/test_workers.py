"""Worker processes change how fast a video file is read, never what is written."""
import json
from pathlib import Path

import pytest

from recognizer.app import run
from recognizer.cli import build_parser

DEMO = Path(__file__).resolve().parent.parent / "assets" / "demo" / "demo.mp4"


def records(tmp_path: Path, workers: int, frames: int = 30) -> list[dict]:
    out = tmp_path / f"w{workers}.jsonl"
    args = build_parser().parse_args(["--source", str(DEMO), "--no-display", "--json", str(out),
                                      "--workers", str(workers), "--max-frames", str(frames)])
    assert run(args) == 0
    return [json.loads(line) for line in out.read_text().splitlines()]


def test_two_worker_processes_write_what_one_process_writes(tmp_path):
    if not DEMO.is_file():
        pytest.skip(f"demo video absent: {DEMO} (python -m training.demo_video)")
    serial, parallel = records(tmp_path, 1), records(tmp_path, 2)
    assert len(serial) == len(parallel) == 30
    assert [r["frame"] for r in parallel] == list(range(30))  # in order, none dropped
    assert sum(len(r["digits"]) for r in serial) > 100  # the demo has ~20 digits a frame
    assert parallel == serial  # same digits, boxes, confidences and track ids
