"""Where `digits batch` writes: JSON lines or Parquet, a source's records at a time, resumable.

Both outputs take a source's records together (`write(source, records)`) and know which
sources they already hold (`done`), which is all `--resume` needs: a rerun skips those.

- JSON lines (`results.jsonl`): the records of `main.py --json`, plus `{"source", "error"}`
  for a file that could not be read. A source's records go out in one write and are flushed;
  a run killed mid-write leaves at most its last source torn, so on resume the last source
  in the file is dropped and read again.
- Parquet (`results.parquet`): a folder of parts (`part-00000.parquet`, ...), the layout Ray,
  Spark and pandas read as one table. Rows are buffered and a part is written every
  PART_ROWS rows or PART_SECONDS seconds, under a temporary name renamed when whole: a killed
  run loses only the rows not yet in a part. One row per image or video frame (columns in
  `digit_schema`); in forms mode one row per form (`form_schema`): each template field a
  column holding its text, or with `--form auto` one `fields` column (name=text;...), as the
  forms CSV has them.
"""
from __future__ import annotations

import json
import os
import time
from pathlib import Path

from recognizer.output import OutputError

PART_ROWS = 2000  # a Parquet part is written once this many rows are buffered ...
PART_SECONDS = 30.0  # ... or this many seconds after the last one (what an interruption can lose)


def open_output(path: str, form: str | None = None, resume: bool = False):
    """The output named by --output's suffix; an existing one is kept only with --resume.
    form: --form (a template's path or "auto"), None for digits."""
    if "://" in path:
        raise OutputError(f"--output is written where the job runs: a local path, not {path}")
    target = Path(path)
    suffix = target.suffix.lower()
    if suffix not in (".jsonl", ".parquet"):
        raise OutputError(f"--output must end in .parquet or .jsonl, not {target.name}")
    if target.exists() and not resume:
        raise OutputError(f"{path} exists: add --resume to read only the sources it lacks, or remove it")
    return ParquetOutput(target, form) if suffix == ".parquet" else JsonLinesOutput(target)


class JsonLinesOutput:
    """JSON lines, a source's records in one flushed write (module docstring)."""

    def __init__(self, path: Path):
        self.path, self.errors = path, 0
        self.done = self._kept_sources() if path.exists() else set()
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            self._file = open(path, "a", encoding="utf-8")
        except OSError as exc:
            raise OutputError(f"cannot write {path}: {exc.strerror}") from None

    def _kept_sources(self) -> set[str]:
        """The sources of an earlier run's whole records, the file cut back to them: a torn last
        line and the last source (perhaps not all of its frames written) go and are read again.
        Read line by line: an archive's results can be larger than memory."""
        done, last, last_start, offset = set(), None, 0, 0
        with open(self.path, "r+b") as fh:
            for number, line in enumerate(fh, 1):
                if not line.endswith(b"\n"):
                    break  # torn by a kill
                try:
                    source = json.loads(line)["source"]
                except (ValueError, KeyError, TypeError):
                    raise OutputError(f"{self.path}:{number} is not a record of digits batch; "
                                      "cannot resume from it") from None
                if source != last:
                    done.add(last)
                    last, last_start = source, offset
                offset += len(line)
            fh.truncate(last_start)
        done.discard(None)
        return done

    def write(self, source: str, records: list[dict]) -> None:
        self.errors += any("error" in r for r in records)
        self._file.write("".join(json.dumps(r, separators=(",", ":")) + "\n" for r in records))
        self._file.flush()
        self.done.add(source)

    def close(self) -> None:
        self._file.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def digit_schema():
    """The Parquet columns of a digits run: a record's keys, nested lists as lists of structs."""
    import pyarrow as pa

    box = pa.list_(pa.int32())
    return pa.schema([
        ("source", pa.string()), ("frame", pa.int64()), ("time", pa.float64()),
        ("width", pa.int32()), ("height", pa.int32()),
        ("digits", pa.list_(pa.struct([("digit", pa.int8()), ("confidence", pa.float64()), ("box", box),
                                       ("track", pa.int64())]))),
        ("numbers", pa.list_(pa.struct([("text", pa.string()), ("confidence", pa.float64()), ("box", box),
                                        ("digits", pa.list_(pa.int32()))]))),
        ("rejected", pa.list_(pa.struct([("box", box), ("reason", pa.string()), ("confidence", pa.float64())]))),
        ("model", pa.struct([("name", pa.string()), ("version", pa.string()), ("sha256", pa.string()),
                             ("conf", pa.float64()), ("reject", pa.float64())])),
        ("error", pa.string()),
    ])


class ParquetOutput:
    """A folder of Parquet parts written whole (module docstring)."""

    def __init__(self, path: Path, form: str | None = None):
        try:
            import pyarrow  # noqa: F401
        except ImportError:
            raise OutputError("Parquet output needs pyarrow: pip install '.[ray]' (or write .jsonl)") from None
        self.schema = digit_schema() if form is None else form_schema(form)
        self.path, self.form, self.errors = path, form, 0
        self._rows: list[dict] = []
        self._last = time.monotonic()
        try:
            path.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise OutputError(f"cannot write {path}: {exc.strerror}") from None
        for tmp in path.glob(".part-*.tmp"):  # a part a killed run did not finish
            tmp.unlink()
        parts = sorted(p for p in path.glob("part-*.parquet") if p.stem[5:].isdigit())
        self._next = 1 + max((int(p.stem[5:]) for p in parts), default=-1)  # never over an old one
        self.done = self._sources(parts)

    @staticmethod
    def _sources(parts: list[Path]) -> set[str]:
        import pyarrow as pa
        import pyarrow.parquet as pq

        done = set()
        for part in parts:
            try:
                done.update(pq.read_table(part, columns=["source"]).column("source").to_pylist())
            except (pa.ArrowException, OSError, KeyError) as exc:
                raise OutputError(f"{part} cannot be read ({str(exc).splitlines()[0]}): "
                                  "remove it to read its sources again") from None
        return done

    def write(self, source: str, records: list[dict]) -> None:
        self.errors += any("error" in r for r in records)
        self._rows += [r if self.form is None else form_row(r, auto=self.form == "auto") for r in records]
        self.done.add(source)
        if len(self._rows) >= PART_ROWS or time.monotonic() - self._last >= PART_SECONDS:
            self.flush()

    def flush(self) -> None:
        """Write the buffered rows as the next part (temporary name, renamed when whole)."""
        import pyarrow as pa
        import pyarrow.parquet as pq

        self._last = time.monotonic()
        if not self._rows:
            return
        table = pa.Table.from_pylist(self._rows, schema=self.schema)
        final = self.path / f"part-{self._next:05d}.parquet"
        tmp = self.path / f".part-{self._next:05d}.tmp"
        pq.write_table(table, tmp)
        with open(tmp, "rb") as fh:
            os.fsync(fh.fileno())  # on disk before it is named a part (a power cut leaves no half part)
        os.replace(tmp, final)
        self._next += 1
        self._rows = []

    def close(self) -> None:
        self.flush()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def form_schema(form: str):
    """The Parquet columns of a forms run: source and size, then the forms CSV's columns (a
    template's fields by name, or `fields` for auto), all text, and the error."""
    import pyarrow as pa

    from recognizer.forms.batch import TAIL
    from recognizer.forms.template import TemplateError, load_template

    try:
        fields = ["fields"] if form == "auto" else [f.name for f in load_template(form).fields]
    except TemplateError as exc:
        raise OutputError(str(exc)) from None
    return pa.schema([("source", pa.string()), ("width", pa.int32()), ("height", pa.int32())]
                     + [(name, pa.string()) for name in fields + TAIL])


def form_row(record: dict, auto: bool) -> dict:
    """A form record as one Parquet row (`form_schema`), or its source and error."""
    if "error" in record:
        return {"source": record["source"], "error": record["error"], "review": "yes"}
    from recognizer.forms.batch import csv_row

    row = {"source": record["source"], "width": record["width"], "height": record["height"]}
    return {**row, **{k: v for k, v in csv_row(record, auto).items() if k != "file"}}
