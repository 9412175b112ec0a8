"""A folder of scanned or photographed forms -> one CSV row and one JSON line per form.

Every row is flushed as soon as it is written, so Ctrl-C or a crash never loses
what is already done. A page that cannot be read (corrupt file, no fields found)
gets a row with its error, is reported on stderr, and the batch goes on.
"""
from __future__ import annotations

import csv
import json
import sys
from pathlib import Path

from tqdm import tqdm

from recognizer.capture import folder_images, is_image_file, read_checked
from recognizer.log import log, quiet
from recognizer.forms.reader import FormReader, FormResult

TAIL = ["confidence", "review", "flags", "error"]


def csv_columns(reader: FormReader) -> list[str]:
    """file, one column per template field (auto: one 'fields' column), then the review columns."""
    if reader.template is None:
        return ["file", "fields"] + TAIL
    return ["file"] + [f.name for f in reader.template.fields] + TAIL


def csv_row(record: dict, auto: bool) -> dict:
    """A form's CSV row from its record (FormResult.to_record): each field's text, the weakest
    confidence, review flag and reasons."""
    fields = record["fields"]
    row = {"file": Path(record["source"]).name}
    if auto:
        row["fields"] = ";".join(f"{f['name']}={f['text']}" for f in fields)
    else:
        row.update({f["name"]: f["text"] for f in fields})
    row["confidence"] = f"{min((f['confidence'] for f in fields), default=0.0):.4f}"
    row["review"] = "yes" if record["review"] else "no"
    row["flags"] = ";".join(f"{f['name']}:{flag}" for f in fields for flag in f["flags"])
    return row


class FormWriter:
    """CSV and JSON-lines files written row by row, each line flushed."""

    def __init__(self, columns: list[str], csv_path=None, json_path=None):
        self.columns = columns
        self._files = []
        self._csv = self._json = None
        if csv_path:
            fh = self._open(csv_path)
            self._csv = csv.DictWriter(fh, fieldnames=columns, extrasaction="ignore")
            self._csv.writeheader()
            fh.flush()
        if json_path:
            self._json = self._open(json_path)

    def _open(self, path):
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        fh = open(path, "w", newline="", encoding="utf-8")
        self._files.append(fh)
        return fh

    def write(self, row: dict, record: dict) -> None:
        if self._csv is not None:
            self._csv.writerow(row)
        if self._json is not None:
            self._json.write(json.dumps(record, separators=(",", ":")) + "\n")
        for fh in self._files:
            fh.flush()

    def close(self) -> None:
        for fh in self._files:
            fh.close()
        self._files = []

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def image_paths(source: str) -> list[Path]:
    """--source as a list of image files: the file itself, or a folder's images by name."""
    path = Path(source)
    if path.is_dir():
        return folder_images(path)
    if not path.exists():
        hint = " (--form reads images: give --source an image file or a folder)" if source.isdigit() else ""
        raise FileNotFoundError(f"source not found: {path}{hint}")
    if not is_image_file(path):
        raise FileNotFoundError(f"--form reads images, not {path.suffix or 'this file'}: {path}")
    return [path]


def read_one(reader: FormReader, path: Path):
    """(FormResult, image) of one form; ValueError (one line) when the file is not an
    image or holds no fields."""
    image, why = read_checked(path)
    if image is None:
        raise ValueError(f"cannot read image {path}: {why}")
    return read_form(reader, image, str(path)), image


def read_form(reader: FormReader, image, source: str) -> FormResult:
    """The form in an image; ValueError (one line) when it holds no fields."""
    result = reader(image, source)
    if not result.fields:
        raise ValueError(f"{source}: no boxed fields or grids found")
    return result


def process(reader: FormReader, paths: list[Path], writer: FormWriter, echo=log.info, progress: bool = True,
            on_result=None) -> tuple[int, int]:
    """Read every form, writing as it goes; returns (forms read, pages failed)."""
    auto = reader.template is None
    done = failed = 0
    bar = tqdm(paths, unit="form", disable=not progress or len(paths) < 2 or quiet(), file=sys.stderr)
    for path in bar:
        try:
            result, image = read_one(reader, path)
        except ValueError as exc:
            failed += 1
            log.error(str(exc))
            writer.write({"file": path.name, "error": str(exc), "review": "yes"},
                         {"source": str(path), "error": str(exc)})
            continue
        done += 1
        record = result.to_record()
        writer.write(csv_row(record, auto), record)
        echo(summary(result))
        if on_result is not None:
            on_result(result, image)
    return done, failed


def summary(result: FormResult) -> str:
    """One human line per form: file: name=text ... (flags)."""
    parts = []
    for f in result.fields:
        text = f.text or "-"
        parts.append(f"{f.name}={text}" + (f"({','.join(f.flags)})" if f.flags else ""))
    return f"{Path(result.source).name}: " + " ".join(parts)
