"""Pages per second of `digits batch`: the local engine, Ray with 1 and with 2 CPUs, one run.

    python bench/bench_scale.py [--pages 500] [--folder runs/bench/pages] [--repeat 1]

Renders the folder of photographed pages the first time (training/scenes.py: MNIST test digits
written on plain, ruled or squared paper, photographed: perspective, light, blur, noise, JPEG;
1280x960, 30 digits and a few marks each), then reads it with each engine in this process,
through the same calls as `digits batch` (recognizer/batch.py), into a JSON-lines file in a
temporary folder. Each figure is the job's wall time from the first page handed out to the
last record written; starting Ray (`ray.init`, a few seconds, once per cluster) is timed and
printed apart. Prints a markdown table: pages/s, ratio to the local engine, per-core
efficiency (pages/s per CPU over the local engine's), and checks that every engine wrote the
same records. The local engine and each Ray actor read with one core (LiteRT and OpenCV one
thread each), so the ratios are per core.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

import cv2
import numpy as np
from tqdm import tqdm

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from recognizer.archive import SourceReader, list_sources  # noqa: E402
from recognizer.batch import run_local  # noqa: E402
from recognizer.batch_output import JsonLinesOutput  # noqa: E402
from recognizer.config import Config  # noqa: E402


def render_pages(folder: Path, n: int, seed: int = 7) -> None:
    """n photographed pages of handwritten digits (skipped when the folder has them)."""
    from training.data import load_mnist
    from training.scenes import make_scene

    have = len(list(folder.glob("page_*.jpg")))
    if have >= n:
        return
    folder.mkdir(parents=True, exist_ok=True)
    _, (x_test, y_test) = load_mnist()
    rng = np.random.default_rng(seed)
    for i in tqdm(range(n), desc="rendering pages", file=sys.stderr):
        image, _, _ = make_scene(rng, x_test, y_test, width=1280, height=960, n_digits=30,
                                 camera=float(rng.uniform(0.3, 1.0)), tilt=float(rng.uniform(-8, 8)))
        cv2.imwrite(str(folder / f"page_{i:04d}.jpg"), image, [cv2.IMWRITE_JPEG_QUALITY, 90])


def records(path: Path) -> list[dict]:
    return sorted((json.loads(line) for line in path.open()), key=lambda r: (r["source"], r.get("frame", 0)))


class TimedOutput(JsonLinesOutput):
    """The JSON-lines output, noting when its first source arrived (the readers' start-up before)."""

    first = None

    def write(self, source: str, records: list[dict]) -> None:
        super().write(source, records)
        self.first = self.first or time.perf_counter()


def timed_job(engine: str, sources: list[str], settings: dict, out: Path, cpus: int = 1) -> tuple:
    """(job seconds, steady pages/s after the first source, Ray start seconds) of one engine."""
    start_s = 0.0
    if engine == "ray":
        import ray

        from recognizer.batch_ray import run_ray

        t = time.perf_counter()
        ray.init(num_cpus=cpus, include_dashboard=False, logging_level="WARNING")
        start_s = time.perf_counter() - t
    try:
        with TimedOutput(out) as output:
            t = time.perf_counter()
            if engine == "ray":
                run_ray(sources, output, settings, cpus=cpus)
            else:
                run_local(sources, output, SourceReader(**settings))  # its start-up timed, as Ray's actors'
            end = time.perf_counter()
    finally:
        if engine == "ray":
            ray.shutdown()
    return end - t, (len(sources) - 1) / max(end - output.first, 1e-9), start_s


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--pages", type=int, default=500)
    ap.add_argument("--folder", help="your own pages to read (default: rendered into runs/bench/pages)")
    ap.add_argument("--repeat", type=int, default=1, help="runs per engine (the median is printed)")
    args = ap.parse_args()
    os.environ.setdefault("RAY_DATA_LOG_LEVEL", "WARNING")
    folder = Path(args.folder) if args.folder else ROOT / "runs" / "bench" / "pages"
    if not args.folder:
        render_pages(folder, args.pages)
    sources = list_sources(str(folder))[: args.pages]
    settings = {"model": None, "conf": None, "config": Config(), "form": None}
    engines = [("local", 1), ("ray", 1), ("ray", 2)]
    rows, outputs = [], {}
    with tempfile.TemporaryDirectory() as tmp:
        for engine, cpus in engines:
            runs = []
            for k in range(args.repeat):
                out = Path(tmp) / f"{engine}{cpus}_{k}.jsonl"
                runs.append(timed_job(engine, sources, settings, out, cpus))
                outputs[(engine, cpus)] = records(out)
            seconds, steady = (sorted(r[i] for r in runs)[len(runs) // 2] for i in (0, 1))
            rows.append((engine, cpus, len(sources) / seconds, seconds, steady, max(r[2] for r in runs)))
            print(f"{engine} {cpus} CPU: {rows[-1][2]:.2f} pages/s", file=sys.stderr, flush=True)
        same = all(recs == outputs[("local", 1)] for recs in outputs.values())
    local = rows[0][2]
    print(f"\n{len(sources)} pages (1280x960 photographs, 30 digits each), {os.cpu_count()} cores, "
          f"load {os.getloadavg()[0]:.1f}; records identical across engines: {same}\n")
    print("| engine | CPUs | pages/s (whole job) | job s | vs local | per-core efficiency | "
          "pages/s after the first (readers started) | Ray start s (apart) |")
    print("|---|---|---|---|---|---|---|---|")
    for engine, cpus, rate, seconds, steady, start_s in rows:
        print(f"| {engine} | {cpus} | {rate:.2f} | {seconds:.1f} | {rate / local:.2f}x | "
              f"{rate / cpus / local:.0%} | {steady:.2f} | {start_s:.1f} |")
    ray1, ray2 = rows[1][2], rows[2][2]
    print(f"\nWhole job: Ray 2 CPUs / Ray 1 CPU {ray2 / ray1:.2f}x (target >= 1.7); Ray 1 CPU / local "
          f"{ray1 / local:.2f} (target >= 0.85). Readers started: {rows[2][4] / rows[1][4]:.2f}x and "
          f"{rows[1][4] / rows[0][4]:.2f}. One core reads {3600 * rows[0][4]:,.0f} pages an hour.")
    return 0 if same else 1


if __name__ == "__main__":
    sys.exit(main())
