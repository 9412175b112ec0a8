"""`digits batch`: read an archive of scans, photos and videos into one results file.

    digits batch --source scans/ --output results.parquet                 # this machine, one process
    digits batch --source 's3://bucket/scans/**' --output results.parquet --engine ray   # a Ray cluster
    digits batch --source scans/ --output results.jsonl --resume          # after an interruption: the rest

The sources and what each gives are recognizer/archive.py's (`list_sources`, `SourceReader`):
an image the record `main.py --json` writes for it, a video one per frame, a form its forms
record, a file that cannot be read one record with an `error`, never a failed job. The flags
are parsed by recognizer/cli.py (`build_batch_parser`).

The two engines read the same list of sources with the same SourceReader and write through the
same output (recognizer/batch_output.py), so their records are the same; only the order in the
file may differ (Ray returns units as they finish): sorted by source and frame they are equal.
The local engine (default) reads in this process; the Ray engine (recognizer/batch_ray.py,
`pip install .[ray]`) in a pool of actors, one SourceReader each.
"""
from __future__ import annotations

import importlib.util
import sys
import time

from tqdm import tqdm

from recognizer.archive import SourceReader, list_sources
from recognizer.capture import SourceError
from recognizer.log import configure, log, quiet


def reader_settings(args) -> dict:
    """SourceReader's arguments from the command line (picklable: Ray sends them to its actors)."""
    return {"model": args.model, "conf": args.conf, "config": args.config, "form": args.form}


def run_local(sources: list[str], output, reader: SourceReader) -> int:
    """The local engine: every source in this process, written as it is read; sources read."""
    bar = tqdm(sources, unit="file", disable=quiet() or len(sources) < 2, file=sys.stderr, mininterval=0.5)
    for source in bar:
        output.write(source, reader.read(source))
    return len(sources)


def run(args) -> int:
    """`digits batch ...` / `python main.py batch ...` (flags: cli.build_batch_parser); 0 when every
    source was read (error rows included: they are results), 1 on an error that stops the job,
    130 when interrupted."""
    from recognizer.batch_output import open_output
    from recognizer.classifier import ModelError
    from recognizer.config import Config, ConfigError
    from recognizer.forms.template import TemplateError
    from recognizer.output import OutputError

    configure(args.verbosity)
    if args.engine == "ray" and importlib.util.find_spec("ray") is None:  # before any output is made
        log.error("--engine ray needs Ray: pip install '.[ray]'")
        return 1
    try:
        args.config = Config.load(args.config) if args.config else None  # None: the defaults
        sources = list_sources(args.source)
        reader = SourceReader(**reader_settings(args), frame_bar=not quiet())  # a bad model or template
        # stops here, not in a worker; this one reads for the local engine
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
    log.info(f"read {read} source{'s' if read != 1 else ''} ({output.errors} with an error) in "
             f"{seconds:.1f} s ({read / max(seconds, 1e-9):.1f} a second) -> {args.output}")
    return 0
