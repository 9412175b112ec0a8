"""`digits batch`: read an archive of scans, photos and videos into one results file.

    digits batch --source scans/ --output results.parquet                 # this machine, one process
    digits batch --source 's3://bucket/scans/**' --output results.parquet --engine ray   # a Ray cluster
    digits batch --source scans/ --output results.jsonl --resume          # after an interruption: the rest

A source is a folder (read recursively), a glob, a URI (`s3://`, `gs://`, ... through pyarrow's
file systems) or one file. Each file is one unit of work, read by `SourceReader`: an image gives
one record, the same record as `main.py --json` writes for it; a video gives one record per
frame, tracking and reuse on and restarted for each file, as `Recognizer.stream` reads it; a
file that cannot be read gives one record with an `error`, never a failed job. In forms mode
(`--form TEMPLATE|auto`) each image gives one form record, as `main.py --form --json` writes it.

The two engines read the same list of sources with the same SourceReader and write through the
same output (recognizer/batch_output.py), so their records are the same; only the order in the
file may differ (Ray returns units as they finish): sorted by source and frame they are equal.
The local engine (default) reads in this process; the Ray engine (recognizer/batch_ray.py,
`pip install .[ray]`) in a pool of actors, one SourceReader each.
"""
from __future__ import annotations

import argparse
import glob
import sys
import time
from pathlib import Path

from tqdm import tqdm

from recognizer.capture import IMAGE_EXTENSIONS, SourceError, decode_checked, read_checked
from recognizer.log import configure, log, quiet

VIDEO_EXTENSIONS = {".mp4", ".m4v", ".mov", ".avi", ".mkv", ".webm", ".mpg", ".mpeg", ".wmv"}


def is_uri(source: str) -> bool:
    """s3://bucket/key, gs://..., hdfs://...: read through pyarrow's file systems (not file://)."""
    scheme = source.split("://", 1)[0] if "://" in source else ""
    return bool(scheme) and scheme != "file" and scheme.isalnum()


def list_sources(source: str) -> list[str]:
    """The files to read, sorted: a folder's images and videos (recursively), a glob's, a URI
    prefix's, or the one file named. SourceError when there are none."""
    if is_uri(source):
        found = _uri_files(source)
    elif Path(source).is_dir():
        found = [str(p) for p in Path(source).rglob("*") if _readable_kind(p.name) and not p.is_dir()]
    elif glob.has_magic(source):
        found = [p for p in glob.glob(source, recursive=True) if _readable_kind(p) and not Path(p).is_dir()]
    elif Path(source).exists():
        found = [source]
    else:
        raise SourceError(f"source not found: {source}")
    if not found:
        raise SourceError(f"no images or videos in {source}")
    return sorted(found)


def _readable_kind(name: str) -> bool:
    suffix = Path(name).suffix.lower()
    return suffix in IMAGE_EXTENSIONS or suffix in VIDEO_EXTENSIONS


def _uri_files(uri: str) -> list[str]:
    """Files under a URI prefix (or matching its glob), through pyarrow.fs (installed with .[ray])."""
    try:
        from pyarrow import fs
    except ImportError:
        raise SourceError(f"reading {uri} needs pyarrow: pip install '.[ray]'") from None
    base = uri.split("*", 1)[0].rsplit("/", 1)[0] if glob.has_magic(uri) else uri
    try:
        filesystem, root = fs.FileSystem.from_uri(base)
        infos = filesystem.get_file_info(fs.FileSelector(root, recursive=True))
    except Exception as exc:  # pyarrow raises OSError, ValueError or ArrowInvalid by scheme
        raise SourceError(f"cannot list {uri}: {str(exc).splitlines()[0]}") from None
    scheme = uri.split("://", 1)[0]
    names = [f"{scheme}://{info.path}" for info in infos if info.type == fs.FileType.File]
    if glob.has_magic(uri):
        import fnmatch

        names = [n for n in names if fnmatch.fnmatch(n, uri)]
    return [n for n in names if _readable_kind(n)]


class SourceReader:
    """Reads one source file into its records; what an engine's worker holds (one model each).

    settings: the picklable arguments (`reader_settings`): model, conf, config, form."""

    def __init__(self, model=None, conf: float | None = None, config=None, form: str | None = None):
        import cv2

        from recognizer.pipeline import Recognizer

        cv2.setNumThreads(1)  # one core per reader: the engines run one reader per core
        self.recognizer = Recognizer(model, conf=conf, threads=1, config=config)
        self.forms = None
        if form:
            from recognizer.forms.reader import FormReader
            from recognizer.forms.template import load_template

            if config is not None:
                self.recognizer.config.install()
            template = None if form == "auto" else load_template(form)
            self.forms = FormReader(template, self.recognizer.classifier, conf=conf)

    def read(self, source: str) -> list[dict]:
        """The records of one file (see the module docstring); never raises for a bad file."""
        try:
            if Path(source).suffix.lower() in VIDEO_EXTENSIONS:
                return self._video(source)
            image, why = _image(source)
            if image is None:
                raise ValueError(f"cannot read image {source}: {why}")
            if self.forms is None:
                return [self.recognizer(image, source=source).to_record()]
            from recognizer.forms.batch import read_form

            self.recognizer.config.install()  # the forms modules read theirs as they run
            return [read_form(self.forms, image, source).to_record()]
        except (SourceError, ValueError, OSError) as exc:
            return [{"source": source, "error": str(exc).splitlines()[0]}]

    def _video(self, source: str) -> list[dict]:
        if self.forms is not None:
            raise ValueError(f"{source}: forms mode reads images, not videos")
        if is_uri(source):  # OpenCV opens files and streaming URLs, not object stores
            raise ValueError(f"{source}: a video is read from a path on a file system, not a URI")
        records = [results.to_record() for results in self.recognizer.stream(source)]
        if not records:
            raise ValueError(f"{source}: no frame could be read")
        return records


def _image(source: str):
    """(image, "") or (None, why): a local path through capture.read_checked, a URI's bytes
    through pyarrow, checked the same way (capture.decode_checked)."""
    if not is_uri(source):
        return read_checked(Path(source))
    from pyarrow import fs

    filesystem, path = fs.FileSystem.from_uri(source)
    with filesystem.open_input_file(path) as fh:
        return decode_checked(fh.read())


def reader_settings(args) -> dict:
    """SourceReader's arguments from the command line (picklable: Ray sends them to its actors)."""
    return {"model": args.model, "conf": args.conf, "config": args.config, "form": args.form}


def run_local(sources: list[str], output, reader: SourceReader) -> int:
    """The local engine: every source in this process, written as it is read; sources read."""
    bar = tqdm(sources, unit="file", disable=quiet() or len(sources) < 2, file=sys.stderr, mininterval=0.5)
    for source in bar:
        output.write(source, reader.read(source))
    return len(sources)


def build_parser() -> argparse.ArgumentParser:
    from recognizer.cli import probability

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
    p.add_argument("--model", metavar="FILE", help="TFLite model (default: the bundled one)")
    p.add_argument("--conf", type=probability, metavar="P", help="minimum confidence to accept a digit")
    p.add_argument("--config", metavar="FILE.toml", help="override tuned settings (docs/config.md)")
    p.add_argument("-q", "--quiet", dest="verbosity", action="store_const", const=-1, default=0,
                   help="say nothing but errors")
    return p


def main(argv: list[str]) -> int:
    """`digits batch ...` / `python main.py batch ...`; 0 when every source was read (error rows
    included: they are results), 1 on an error that stops the job, 130 when interrupted."""
    from recognizer.batch_output import open_output
    from recognizer.classifier import ModelError
    from recognizer.config import Config, ConfigError
    from recognizer.forms.template import TemplateError
    from recognizer.output import OutputError

    args = build_parser().parse_args(argv)
    configure(args.verbosity)
    try:
        args.config = Config.load(args.config) if args.config else Config()
        sources = list_sources(args.source)
        reader = SourceReader(**reader_settings(args))  # a bad model or template stops here, not in a worker
        output = open_output(args.output, form=args.form, resume=args.resume)
    except (SourceError, ConfigError, OutputError, ModelError, TemplateError) as exc:
        log.error(str(exc).splitlines()[0])
        return 1
    todo = [s for s in sources if s not in output.done]
    if args.resume:
        log.info(f"resume: {len(sources) - len(todo)} of {len(sources)} sources already in {args.output}; "
                 f"reading {len(todo)}")
    start = time.perf_counter()
    try:
        with output:
            if args.engine == "ray":
                from recognizer.batch_ray import run_ray

                read = run_ray(todo, output, reader_settings(args), cpus=args.cpus, address=args.address)
            else:
                read = run_local(todo, output, reader)
    except KeyboardInterrupt:
        log.info(f"interrupted: {args.output} holds every source finished; --resume reads the rest")
        return 130
    except (ImportError, OutputError, SourceError) as exc:
        log.error(str(exc).splitlines()[0])
        return 1
    seconds = time.perf_counter() - start
    log.info(f"read {read} sources ({output.errors} with an error) in {seconds:.1f} s "
             f"({read / max(seconds, 1e-9):.1f} a second) -> {args.output}")
    return 0
