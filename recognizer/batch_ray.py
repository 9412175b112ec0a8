"""The Ray engine of `digits batch`: the same SourceReader, one per actor, on a Ray cluster.

    digits batch --source scans/ --output results.parquet --engine ray              # a local Ray
    RAY_ADDRESS=ray://head:10001 digits batch --source s3://bucket/scans/ --output results.parquet --engine ray

Ray Data turns the list of sources into a dataset of tasks (`tasks`: a video alone, images
IMAGES_PER_TASK at a time) and maps it through a fixed pool of actors, each holding one
SourceReader (one LiteRT interpreter, one CPU). The actors read the files themselves (a local path on a file system
every node sees, or a URI through pyarrow): a file that cannot be read is an error record,
never a failed read task. Each task returns its sources' records as JSON lines; the driver
writes them through the same output as the local engine, as they arrive, so an interrupted
job keeps what finished and `--resume` reads the rest. An actor that dies (killed, out of
memory, its node lost) is restarted and its task retried by Ray (Ray Data's defaults for an
actor pool, kept: unbounded restarts and retries; Ray 2.60 deprecates setting them). A file
that would kill every reader it met would be retried for ever: what can (an image whose
pixels would fill the memory) is refused before it is decoded (capture.decode_checked). A
video is one task, read whole by one actor (tracking runs over the whole file).

Ray is imported only here, and only for `--engine ray`: the base install does not have it.
"""
from __future__ import annotations

import json
import logging
import os
from pathlib import Path

from recognizer.log import quiet

from recognizer.workers import RUN as IMAGES_PER_TASK  # a task of a few images, as a worker process's of
# a few frames: the per-task cost spread over them, the work still fine-grained


def tasks(sources: list[str]) -> list[list[str]]:
    """The units of work: each video alone (one task: tracking runs over the whole file), the
    images IMAGES_PER_TASK at a time; videos first, so the longest tasks do not come last."""
    from recognizer.archive import VIDEO_EXTENSIONS

    videos = [s for s in sources if Path(s).suffix.lower() in VIDEO_EXTENSIONS]
    images = [s for s in sources if Path(s).suffix.lower() not in VIDEO_EXTENSIONS]
    return [[v] for v in videos] + [images[i:i + IMAGES_PER_TASK] for i in range(0, len(images), IMAGES_PER_TASK)]


class ReadSources:
    """A Ray Data actor: one SourceReader, built once, reading task after task of sources."""

    def __init__(self, settings: dict):
        from recognizer.archive import SourceReader

        self.reader = SourceReader(**settings)

    def __call__(self, batch: dict) -> dict:
        sources = [str(s) for unit in batch["sources"] for s in unit]
        texts = ["\n".join(json.dumps(r, separators=(",", ":")) for r in self.reader.read(s)) for s in sources]
        return {"source": sources, "records": texts}


def run_ray(sources: list[str], output, settings: dict, cpus: int | None = None,
            address: str | None = None) -> int:
    """Read `sources` on Ray (a local one of `cpus` CPUs, or the cluster at `address` or
    $RAY_ADDRESS), writing each task's records to `output` as it finishes; sources read."""
    os.environ.setdefault("RAY_DATA_LOG_LEVEL", "WARNING")  # Ray Data's plans and timings: its log file
    try:
        import ray
    except ImportError:
        raise ImportError("--engine ray needs Ray: pip install '.[ray]'") from None
    if not sources:
        return 0
    started_here = not ray.is_initialized()
    if started_here:
        joining = address or os.environ.get("RAY_ADDRESS")
        ray.init(address=joining, num_cpus=None if joining else cpus, include_dashboard=False,
                 logging_level=logging.WARNING)
    try:
        readers = cpus or max(1, int(ray.cluster_resources().get("CPU", 1)))
        context = ray.data.DataContext.get_current()
        context.enable_progress_bars = not quiet()
        units = tasks(sources)
        dataset = ray.data.from_items([{"sources": unit} for unit in units], override_num_blocks=len(units))
        read = dataset.map_batches(ReadSources, fn_constructor_kwargs={"settings": settings}, batch_size=1,
                                   num_cpus=1, compute=ray.data.ActorPoolStrategy(size=readers))
        count = 0
        for batch in read.iter_batches(batch_size=None, batch_format="numpy"):
            for source, text in zip(batch["source"], batch["records"]):
                output.write(str(source), [json.loads(line) for line in str(text).splitlines()])
                count += 1
        return count
    finally:
        if started_here:
            ray.shutdown()
