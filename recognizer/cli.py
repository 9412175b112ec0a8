"""Command line: parse flags, pick what to run, turn every expected failure into one line.

    python main.py                          # camera 0
    python main.py --source clip.mp4 --output out.mp4 --json out.jsonl
    python main.py --source scans/ --output annotated/ --json scans.jsonl
    python main.py --demo                   # bundled demo video

Bad input (missing file, corrupt image, no camera, missing model) prints
"error: ..." on stderr and exits non-zero, never a traceback.
"""
from __future__ import annotations

import argparse
import os
import sys

from recognizer import __version__, asset, runs_folder
from recognizer.log import configure, log

DEMO_VIDEO = asset("demo", "demo.mp4")
DEMO_OUT = runs_folder() / "demo"
SNAPSHOTS = runs_folder() / "snapshots"


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        description="Recognize handwritten digits and numbers live from a camera, a video, images or a folder.",
        epilog="keys in the window: q/Esc quit, space pause, s snapshot (PNG+JSON), "
               "t debug view (binary image + 28x28 crops), +/- confidence threshold. "
               "An archive of images and videos into one results file, here or on Ray: "
               "'batch --help' (docs/scale.md)",
    )
    p.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    p.add_argument("-q", "--quiet", dest="verbosity", action="store_const", const=-1, default=0,
                   help="say nothing but errors (no progress bar, no summary)")
    p.add_argument("-v", "--verbose", dest="verbosity", action="store_const", const=1,
                   help="also the median time of each stage at the end")
    p.add_argument("--source", default="0",
                   help="camera index (0, 1, ...), video file, rtsp/http URL, image, or folder of images "
                        "(default: camera 0)")
    p.add_argument("--demo", action="store_true",
                   help="run on the bundled demo video (assets/demo/demo.mp4); "
                        "writes runs/demo/demo.mp4 and demo.jsonl unless --output/--json say otherwise")
    p.add_argument("--output", "-o", metavar="PATH",
                   help="annotated output: a video file (.mp4/.avi) for camera/video, "
                        "an image file for one image, a folder for a folder of images")
    p.add_argument("--json", metavar="FILE", help="write JSON lines: one record per frame or image, flushed as it goes")
    add_reading_flags(p)
    p.add_argument("--small-model", metavar="FILE",
                   help="TFLite model for frames whose digits are too small to read as they are, looked at "
                        "enlarged (default: assets/models/digits_small.tflite beside the default --model; "
                        "'none': --model reads every frame)")
    p.add_argument("--no-display", action="store_true",
                   help="no window (automatic when there is no display); files show a progress bar")
    p.add_argument("--no-track", action="store_true", help="video: no tracking or temporal smoothing")
    p.add_argument("--smooth", type=int, metavar="N",
                   help="video: average each tracked digit's probabilities over the last N frames "
                        "(default: the config's tracker.window, 5)")
    p.add_argument("--camera-timeout", type=float, default=5.0, metavar="S",
                   help="a camera that delivers no frame for S seconds is given up (retrying with back-off "
                        "until then; default 5)")
    p.add_argument("--no-reuse", action="store_true",
                   help="video: read every frame on its own, classifying every candidate (default: a digit "
                        "whose box and ink stay put reuses its classification from a recent frame, refreshed "
                        "every few frames, and a tilted page keeps the last frame's turn while it fits)")
    p.add_argument("--workers", type=int, default=0, metavar="N",
                   help="worker processes recognizing frames (default: 2 for a video file read headless "
                        "when a core is free, else 1); results stay in frame order and no frame is dropped")
    p.add_argument("--max-frames", type=int, metavar="N", help="stop after N frames")
    p.add_argument("--snapshots", default=str(SNAPSHOTS), metavar="DIR",
                   help="where the s key saves snapshots (default runs/snapshots)")
    p.add_argument("--print-config", action="store_true",
                   help="print every tuned setting in force (with --config's overrides) and its meaning, "
                        "as TOML, and exit")
    p.add_argument("--form", metavar="TEMPLATE|auto",
                   help="read a paper form: a template file, or 'auto' to find boxes and grids; "
                        "--output then names the CSV (one row per form) or, for one image, the annotated "
                        "image; --json writes a record per form (see docs/forms.md)")
    return p


def build_batch_parser() -> argparse.ArgumentParser:
    """`digits batch`'s flags (recognizer/batch.py, docs/scale.md)."""
    p = argparse.ArgumentParser(prog="digits batch", description="Read a folder, glob or URI of images and "
                                "videos into one results file (Parquet or JSON lines), here or on a Ray cluster.")
    p.add_argument("--source", required=True, help="folder (recursive), glob ('scans/**/*.png'), URI "
                   "(s3://bucket/prefix/, needs pyarrow) or one file")
    p.add_argument("--output", "-o", required=True, metavar="PATH",
                   help="results.parquet (a folder of Parquet parts, one row per image or video frame) "
                        "or results.jsonl (the records of main.py --json)")
    p.add_argument("--form", metavar="TEMPLATE|auto", help="read paper forms: one row per form, its fields as columns")
    p.add_argument("--engine", choices=("local", "ray"), default="local",
                   help="local: this process (default); ray: a pool of Ray actors (pip install '.[ray]')")
    p.add_argument("--resume", action="store_true",
                   help="keep what --output holds and read only the sources not in it")
    p.add_argument("--cpus", type=int, metavar="N",
                   help="ray: readers (actors, one CPU each); default: every CPU of the cluster")
    p.add_argument("--address", metavar="ADDR",
                   help="ray: the cluster to join (default: $RAY_ADDRESS, else a local Ray on this machine)")
    add_reading_flags(p)
    p.add_argument("-q", "--quiet", dest="verbosity", action="store_const", const=-1, default=0,
                   help="say nothing but errors")
    return p


def add_reading_flags(p: argparse.ArgumentParser) -> None:
    """The Recognizer's own flags, the same for main.py and digits batch."""
    p.add_argument("--model", metavar="FILE", help="TFLite model (default: assets/models/digits.tflite)")
    p.add_argument("--conf", type=probability, metavar="P",
                   help="minimum confidence to accept a digit (default: the model's own threshold; "
                        "in the window +/- change it live)")
    p.add_argument("--config", metavar="FILE.toml",
                   help="override tuned settings: TOML tables of --print-config's form, e.g. "
                        "'[candidates]' then 'merge_gap = 0.35' (see docs/config.md)")


def apply_demo(args) -> None:
    """--demo: the bundled video, with default outputs under runs/demo/."""
    if not DEMO_VIDEO.is_file():
        raise FileNotFoundError(f"demo video missing: {DEMO_VIDEO} (render it with: python -m training.demo_video)")
    args.source = str(DEMO_VIDEO)
    if not args.output and not args.json:
        args.output = str(DEMO_OUT / "demo.mp4")
        args.json = str(DEMO_OUT / "demo.jsonl")
        log.info(f"demo: writing {args.output} and {args.json}")


def run_form(args) -> int:
    """--form: dispatch to the paper-forms module, if this install has it."""
    try:
        from recognizer import forms
        run = forms.run
    except (ImportError, AttributeError):
        log.error("--form is not available in this version (recognizer.forms.run missing)")
        return 2
    return int(run(args) or 0)


def use_system_fonts() -> None:
    """The pip OpenCV's Qt window looks for fonts in cv2/qt/fonts, which the wheel does not ship,
    and prints a warning for every window. Point it at the system's fonts when it has some."""
    import cv2  # noqa: F401  (imported for its side effect: it sets QT_QPA_FONTDIR to its own, empty, folder)

    if os.path.isdir(os.environ.get("QT_QPA_FONTDIR", "")):
        return
    for folder in ("/usr/share/fonts", "/usr/local/share/fonts"):
        if os.path.isdir(folder):
            os.environ["QT_QPA_FONTDIR"] = folder
            return


def probability(text: str) -> float:
    """An argparse type: a number from 0 to 1 (NaN and out-of-range values are refused)."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
    if not 0.0 <= value <= 1.0:
        raise argparse.ArgumentTypeError(f"{text} is not a probability from 0 to 1")
    return value


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["batch"]:  # digits batch ...: an archive into one results file (recognizer/batch.py)
        from recognizer import batch

        try:
            return batch.run(build_batch_parser().parse_args(argv[1:]))
        except KeyboardInterrupt:  # while starting (a job stopped mid-way says more itself)
            log.info("interrupted")
            return 130
    args = build_parser().parse_args(argv)
    configure(args.verbosity)
    use_system_fonts()
    from recognizer.capture import SourceError
    from recognizer.classifier import ModelError
    from recognizer.config import Config, ConfigError, use
    from recognizer.output import OutputError

    try:
        args.config = Config.load(args.config) if args.config else None  # None: the defaults
        if args.print_config:
            print((args.config or Config()).to_toml(), end="")
            return 0
        use(args.config)
        if args.form:
            return run_form(args)
        if args.demo:
            apply_demo(args)
        from recognizer.app import run

        return run(args)
    except (SourceError, ModelError, OutputError, ConfigError, FileNotFoundError) as exc:
        log.error(str(exc).splitlines()[0])
        return 1
    except KeyboardInterrupt:
        log.info("interrupted")
        return 130
