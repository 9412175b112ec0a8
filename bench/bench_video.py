"""Video benchmark: headless frames per second, time per stage, accuracy, and the naive baseline.

    python bench/bench_video.py [--baseline-frames 10] [--model FILE]

Prints, all measured in this run on this machine:
  * the demo video (assets/demo/demo.mp4: 10 s of sheets held up to a 720x576 webcam,
    ~13 digits in view, swapped half-way; training/webcam_clip.py) and a 20 s bench clip
    of the same kind rendered now (other sheets, hands, T-shirt): frames per second of
    the real capture loop (recognizer.app.run, headless, writing JSON lines),
    and the median milliseconds of each stage (read, recognize, track, write)
    and inside recognize, in one process (--workers 1) and with 2 worker
    processes (--workers 2, the default for a video file read headless when
    other programs leave a core free), each with classification reuse off
    (--no-reuse) and on (the default for video; recognizer/reuse.py), one
    after the other so machine load hits both alike;
    then with the annotated video written too (draw + write stages);
  * digit precision/recall/F1 per frame and flicker against the ground truth,
    for reuse off and on, and without tracking (tracking must never lower F1);
  * what a cluttered frame costs against a clean one (`clutter_line`);
  * the naive approach on the same clip: the same candidates, but one keras
    `model.predict` per digit (assets/models/digits.keras), timed on the first
    --baseline-frames frames, and the speed-up ratio of the real loop over it.
"""
from __future__ import annotations

import argparse
import contextlib
import io
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import cv2  # noqa: E402
import numpy as np  # noqa: E402

import recognizer.pipeline  # noqa: E402
from recognizer.app import FREE_CORE_NEEDED, Stopwatch, free_cores, run  # noqa: E402
from recognizer.cli import build_parser  # noqa: E402
from recognizer.reuse import ClassificationReuse  # noqa: E402
from training.demo_video import flicker, load_jsonl, score  # noqa: E402
from training.webcam_clip import render  # noqa: E402

DEMO = ROOT / "assets" / "demo" / "demo.mp4"
BENCH_CLIP = ROOT / "runs" / "bench" / "webcam_bench.mp4"


def loop(video: Path, out_dir: Path, model: str | None, draw: bool, workers: int,
         reuse: bool = True, track: bool = True) -> tuple[float, dict, Path]:
    """The real capture loop, headless: (frames per second, median ms per stage, JSON path)."""
    js = out_dir / f"{video.stem}_w{workers}_{'reuse' if reuse else 'noreuse'}{'' if track else '_notrack'}.jsonl"
    argv = ["--source", str(video), "--json", str(js), "--no-display", "--workers", str(workers)]
    argv += [] if reuse else ["--no-reuse"]
    argv += [] if track else ["--no-track"]
    # workers=2 is what `main.py --source FILE --no-display` does by default
    if draw:
        argv += ["--output", str(out_dir / (video.stem + "_annotated.mp4"))]
    if model:
        argv += ["--model", model]
    sw = Stopwatch()
    t0, c0 = time.perf_counter(), time.process_time()
    children0 = children_cpu()
    with contextlib.redirect_stderr(io.StringIO()):  # no progress bar in the figures
        code = run(build_parser().parse_args(argv), sw)
    wall, cpu = time.perf_counter() - t0, time.process_time() - c0
    if code != 0:
        raise SystemExit(f"error: main loop exited with {code} on {video}")
    frames = len(sw.stages["recognize"])
    ms = sw.medians_ms()
    ms["recognize_p95"] = 1000 * float(np.percentile(sw.stages["recognize"], 95))
    ms["recognize_each"] = [1000 * v for v in sw.stages["recognize"]]  # per frame, in order (1 process)
    ms["cpu_per_frame"] = 1000 * cpu / max(frames, 1)  # all threads: what the frame costs a less busy machine
    ms["workers_cpu_per_frame"] = 1000 * (children_cpu() - children0) / max(frames, 1)
    return frames / wall, ms, js


def children_cpu() -> float:
    """CPU seconds of the worker processes that have ended (they end with each run)."""
    t = os.times()
    return t.children_user + t.children_system


def naive_per_frame_ms(video: Path, frames: int, model: str | None) -> tuple[float, float]:
    """The naive way: same candidates, one keras model.predict per digit. (median ms/frame, digits/frame)."""
    import keras  # only here: the runtime never imports TensorFlow

    from recognizer.normalize import normalize_crop
    from recognizer.pipeline import Recognizer, locate

    net = keras.models.load_model(ROOT / "assets" / "models" / "digits.keras", compile=False)
    recognizer = Recognizer(model=model)
    cap = cv2.VideoCapture(str(video))
    times, counts = [], []
    for _ in range(frames + 1):
        ok, frame = cap.read()
        if not ok:
            break
        t0 = time.perf_counter()
        _, found = locate(frame, recognizer.max_side, recognizer.polarity)  # the pipeline's own candidates
        for c in found:
            net.predict(normalize_crop(c.crop, ink="light")[None, :, :, None], verbose=0)
        times.append(time.perf_counter() - t0)
        counts.append(len(found))
    cap.release()
    return 1000 * statistics.median(times[1:]), statistics.mean(counts[1:])  # first call warms keras up


def stages_line(ms: dict) -> str:
    order = ["read", "wait", "recognize", "track", "draw", "write"]
    line = "  ".join(f"{k} {ms[k]:.2f}" for k in order if k in ms)
    line += f"  (recognize p95 {ms['recognize_p95']:.1f})  | CPU {ms['cpu_per_frame']:.1f} ms/frame"
    if ms["workers_cpu_per_frame"] > 0:
        line += f" + workers {ms['workers_cpu_per_frame']:.1f}"
    return line


def substages_line(ms: dict) -> str:
    return "  ".join(f"{k.split('.', 1)[1]} {v:.2f}" for k, v in ms.items() if k.startswith("recognize."))


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--baseline-frames", type=int, default=10, help="frames timed for the naive baseline")
    ap.add_argument("--model", help="TFLite model (default assets/models/digits.tflite)")
    args = ap.parse_args(argv)
    if not DEMO.is_file():
        raise SystemExit(f"error: {DEMO} missing (python -m training.demo_video)")
    if not BENCH_CLIP.is_file():
        print(f"rendering {BENCH_CLIP} ...", flush=True)
        render(BENCH_CLIP, seconds=20.0, seed=2)
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(f"machine: {os.cpu_count()} cores, load average {load:.1f} at start; opencv {cv2.__version__}")
    free = free_cores()
    print(f"default for a headless video now: {2 if free >= FREE_CORE_NEEDED else 1} worker process(es) "
          f"({free:.1f} cores free, 2 from {FREE_CORE_NEEDED:.1f})")
    print("stage times are medians per frame in ms; 'wait' = main process waiting on the worker processes")
    print("(0 for most frames: results come back a run of 8 frames at a time);")
    print("CPU = main-process CPU time per frame over all threads (+ that of the worker processes)")
    print("reuse: a crop whose box and ink match one classified in a recent frame reuses its classification")
    recognizer.pipeline.ClassificationReuse = CountingReuse  # where Recognizer.set_reuse makes it
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp)
        for video in (DEMO, BENCH_CLIP):
            bench_video(video, out, args)


def bench_video(video: Path, out: Path, args) -> None:
    """All figures for one clip: reuse off/on x 1/2 processes, annotated video, accuracy, naive baseline."""
    cap = cv2.VideoCapture(str(video))
    w, h = int(cap.get(cv2.CAP_PROP_FRAME_WIDTH)), int(cap.get(cv2.CAP_PROP_FRAME_HEIGHT))
    cap.release()
    truth = load_jsonl(video.with_suffix(".jsonl"))
    per_frame = statistics.mean(len(t["digits"]) for t in truth)
    print(f"\n{video.name} ({w}x{h}, {len(truth)} frames, {per_frame:.1f} digits/frame in truth)")
    fps, js = {}, {}
    for workers in (1, 2):
        for reuse in (False, True):
            key = (workers, reuse)
            CountingReuse.made.clear()
            fps[key], ms, js[key] = loop(video, out, args.model, draw=False, workers=workers, reuse=reuse)
            if key == (1, False):
                each = ms["recognize_each"]
            label = f"{workers} process{'es' if workers > 1 else ''}, reuse {'on ' if reuse else 'off'}"
            gain = f"  -> {fps[key] / fps[(1, False)]:.2f}x" if key != (1, False) else ""
            print(f"  headless + JSON, {label}: {fps[key]:7.1f} fps   median ms: {stages_line(ms)}{gain}")
            if workers == 1:
                share = f"; {reused_share():.0%} of crops reused" if reuse else ""
                print(f"    inside recognize{' ' * 19}: median ms: {substages_line(ms)}{share}")
    fps_v, ms_v, _ = loop(video, out, args.model, draw=True, workers=1)
    print(f"  + annotated video, 1 process, reuse on : {fps_v:7.1f} fps   median ms: {stages_line(ms_v)}")
    _, _, js["no tracking"] = loop(video, out, args.model, draw=False, workers=1, reuse=False, track=False)
    for key in ((1, False), (1, True), (2, True), "no tracking"):
        records = load_jsonl(js[key])
        s, f = score(records, truth), flicker(records)
        label = "1 process, reuse off, tracking off" if key == "no tracking" else \
            f"{key[0]} process(es), reuse {'on ' if key[1] else 'off'}"
        print(f"  {label}: {len(records)} frames; digits precision "
              f"{s['precision']:.3f} recall {s['recall']:.3f} F1 {s['f1']:.3f} (tp {s['tp']} fp {s['fp']} "
              f"fn {s['fn']}); flicker {f['flicker']:.4f} ({f['changes']} changes in {f['track_frames']} track-frames)")
    print("  " + clutter_line(load_jsonl(js[(1, False)]), each))
    naive_ms, naive_n = naive_per_frame_ms(video, args.baseline_frames, args.model)
    ours_ms = 1000 / max(fps.values())
    print(f"  naive predict/digit: {naive_ms:7.1f} ms/frame ({naive_n:.0f} predict calls/frame, "
          f"{args.baseline_frames} frames)  vs {ours_ms:.2f} ms/frame -> {naive_ms / ours_ms:.0f}x faster")


def clutter_line(records: list[dict], each: list[float]) -> str:
    """What a cluttered frame costs against a clean one, in one run (1 process, no reuse): the
    median recognize ms of the tenth of frames with the most candidates (digits and rejected)
    against the median of the third with the fewest. Issue 20's budget: at most 2.5x."""
    count = np.array([len(r["digits"]) + len(r["rejected"]) for r in records])
    ms = np.array(each[:len(count)])
    order = np.argsort(count, kind="stable")
    clean, busy = order[: max(1, len(order) // 3)], order[-max(1, len(order) // 10):]
    c, b = float(np.median(ms[clean])), float(np.median(ms[busy]))
    return (f"clutter: {np.median(count[busy]):.0f} candidates a frame cost {b:.1f} ms (median of the busiest "
            f"tenth), {np.median(count[clean]):.0f} cost {c:.1f} ms (quietest third): {b / max(c, 1e-9):.1f}x")


class CountingReuse(ClassificationReuse):
    """The in-process reuse cache (installed in recognizer.pipeline by main), kept so the bench
    can say what share of crops it reused."""

    made: list = []

    def __init__(self, *a, **k):
        super().__init__(*a, **k)
        CountingReuse.made.append(self)


def reused_share() -> float:
    """Share of crops the in-process cache of the last run reused instead of classifying."""
    r = CountingReuse.made[-1] if CountingReuse.made else None
    return r.reused / max(1, r.reused + r.classified) if r else 0.0


if __name__ == "__main__":
    main()
