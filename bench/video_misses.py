"""Where a rendered clip's true digits go, by digit height: read, misread, refused (by reason), never proposed.

    python bench/video_misses.py                                   # the demo and the bench clip
    python bench/video_misses.py --clip runs/bench/webcam_bench.mp4 --truth runs/bench/webcam_bench.jsonl

Reads each frame on its own (no tracking, no reuse: what the network and the candidate stage
do with one frame) and sorts every true digit of the clip's truth (training/webcam_clip.py
writes it beside the clip) by what happened to it: read (a digit of its value on it, IoU >=
0.5), misread (another digit on it), refused (a rejected candidate on it: its reason), box
off (something overlaps it, IoU < 0.5: cut or merged wrongly) or never proposed (nothing on
it). Then the share read per height band. Prints markdown.
"""
from __future__ import annotations

import argparse
import collections
import statistics
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from recognizer.capture import open_source  # noqa: E402
from recognizer.pipeline import Recognizer  # noqa: E402
from training.demo_video import iou, load_jsonl  # noqa: E402

BANDS = [(0, 12), (12, 16), (16, 20), (20, 28), (28, 10_000)]  # digit heights, px


def fate(truth: dict, record: dict) -> str:
    """What happened to one true digit in one frame's record."""
    on = [d for d in record["digits"] if iou(d["box"], truth["box"]) >= 0.5]
    if any(d["digit"] == truth["digit"] for d in on):
        return "read"
    if on:
        return "misread"
    refused = [r for r in record["rejected"] if iou(r["box"], truth["box"]) >= 0.5]
    if refused:
        return f"refused: {refused[0]['reason']}"
    near = [d for d in record["digits"] + record["rejected"] if iou(d["box"], truth["box"]) >= 0.1]
    return "box off (IoU < 0.5)" if near else "never proposed"


def clip_fates(clip: Path, truth: Path) -> dict[str, list[int]]:
    """{fate: [height of each true digit it befell]} over the clip."""
    truths = {t["frame"]: t for t in load_jsonl(truth)}
    recognizer, heights = Recognizer(), collections.defaultdict(list)
    with open_source(str(clip)) as source:
        while (frame := source.read()) is not None:
            record = recognizer(frame.image, frame_index=frame.index).to_record()
            for digit in truths[frame.index]["digits"]:
                heights[fate(digit, record)].append(digit["box"][3])
    return heights


def report(name: str, heights: dict[str, list[int]]) -> None:
    total = sum(map(len, heights.values()))
    print(f"\n{name}: {total} true digits\n\n| what became of them | digits | share | median height px |\n|---|---|---|---|")
    for what, hs in sorted(heights.items(), key=lambda kv: -len(kv[1])):
        print(f"| {what} | {len(hs)} | {len(hs) / total:.1%} | {statistics.median(hs):.0f} |")
    print("\n| height px | true digits | share of all | read |\n|---|---|---|---|")
    for lo, hi in BANDS:
        band = sum(lo <= h < hi for hs in heights.values() for h in hs)
        read = sum(lo <= h < hi for h in heights.get("read", []))
        if band:
            print(f"| {lo}-{hi if hi < 10_000 else ''} | {band} | {band / total:.1%} | {read / band:.1%} |")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--clip", help="a rendered clip (default: the demo and the bench clip)")
    ap.add_argument("--truth", help="its truth, JSON lines (default: the clip's name with .jsonl)")
    args = ap.parse_args()
    clips = [Path(args.clip)] if args.clip else [ROOT / "assets" / "demo" / "demo.mp4",
                                                 ROOT / "runs" / "bench" / "webcam_bench.mp4"]
    for clip in clips:
        truth = Path(args.truth) if args.truth else clip.with_suffix(".jsonl")
        if not clip.is_file() or not truth.is_file():
            print(f"\n{clip}: missing (the bench clip is rendered by bench/bench_video.py)")
            continue
        report(clip.name, clip_fates(clip, truth))
    return 0


if __name__ == "__main__":
    sys.exit(main())
