"""Form templates: named fields by their box on the rectified page, in 0..1 coordinates.

{
  "name": "example",
  "page": {"width": 1000, "height": 1414},      # rectified page size in pixels (its aspect)
  "fields": [
    {"name": "student_id", "box": [0.1, 0.2, 0.5, 0.05], "kind": "comb", "cells": 8,
     "type": "digits", "length": 8},
    {"name": "amount", "box": [0.1, 0.3, 0.3, 0.06], "kind": "box", "type": "number"}
  ]
}

box is [x, y, w, h] relative to the page's width and height. kind: "comb" (one
printed box per digit; "cells" boxes), "box" (one printed box, digits written
freely inside) or "line" (digits written on a ruled line). type: "digits" keeps
leading zeros (an ID), "number" is read as an integer. length, optional, is the
expected number of digits: a field of another length is flagged for review.
"""
from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

KINDS = ("comb", "box", "line")
TYPES = ("digits", "number")
DEFAULT_PAGE = (1000, 1414)  # A4 portrait at about 120 dpi
MAX_FIELDS = 2000  # more fields than any paper form holds: a template beyond is refused, not read for minutes
MAX_CELLS = 200  # digits or cells in one field


class TemplateError(ValueError):
    """The template file is missing or invalid; the message is one line for the user."""


@dataclass
class Field:
    name: str
    box: tuple[float, float, float, float]  # x, y, w, h relative to the page
    kind: str = "box"
    type: str = "digits"
    length: int | None = None
    cells: int | None = None

    def pixel_box(self, size: tuple[int, int]) -> tuple[int, int, int, int]:
        """The field's box in a rectified page of `size` = (w, h) pixels."""
        w, h = size
        x, y, bw, bh = self.box
        return int(round(x * w)), int(round(y * h)), int(round(bw * w)), int(round(bh * h))


@dataclass
class Template:
    name: str
    page: tuple[int, int]  # rectified page size (w, h)
    fields: list[Field]


def parse_field(raw, i: int) -> Field:
    """One field entry -> Field, with every mistake named in the error."""
    if not isinstance(raw, dict):
        raise TemplateError(f"field #{i + 1} is not an object")
    name = raw.get("name")
    if not isinstance(name, str) or not name:
        raise TemplateError(f"field #{i + 1} has no name")
    box = raw.get("box")
    if (not isinstance(box, list) or len(box) != 4 or not all(isinstance(v, (int, float)) for v in box)):
        raise TemplateError(f"field '{name}': box must be [x, y, w, h] numbers in 0..1")
    x, y, w, h = (float(v) for v in box)
    if not (0 <= x < 1 and 0 <= y < 1 and 0 < w and 0 < h and x + w <= 1.0001 and y + h <= 1.0001):
        raise TemplateError(f"field '{name}': box {box} is not inside the page (0..1)")
    kind = raw.get("kind", "comb" if raw.get("cells") else "box")
    if kind not in KINDS:
        raise TemplateError(f"field '{name}': kind must be one of {', '.join(KINDS)}")
    ftype = raw.get("type", "digits")
    if ftype not in TYPES:
        raise TemplateError(f"field '{name}': type must be one of {', '.join(TYPES)}")
    length, cells = raw.get("length"), raw.get("cells")
    for key, val in (("length", length), ("cells", cells)):
        if val is not None and (not isinstance(val, int) or isinstance(val, bool) or not 1 <= val <= MAX_CELLS):
            raise TemplateError(f"field '{name}': {key} must be a whole number from 1 to {MAX_CELLS}")
    if kind == "comb" and cells is None:
        cells = length
    if kind == "comb" and cells is None:
        raise TemplateError(f"field '{name}': a comb field needs 'cells' (or 'length')")
    return Field(name, (x, y, w, h), kind, ftype, length, cells)


def parse_template(data, name: str = "template") -> Template:
    """A decoded JSON object -> Template (raises TemplateError on any mistake)."""
    if not isinstance(data, dict) or not isinstance(data.get("fields"), list) or not data["fields"]:
        raise TemplateError(f"{name}: needs a non-empty 'fields' list")
    page = data.get("page", {})
    try:
        size = (int(page.get("width", DEFAULT_PAGE[0])), int(page.get("height", DEFAULT_PAGE[1])))
    except (AttributeError, TypeError, ValueError):
        raise TemplateError(f"{name}: page must be {{\"width\": int, \"height\": int}}") from None
    if min(size) < 100 or max(size) > 10000:
        raise TemplateError(f"{name}: page size {size} is out of range (100..10000 px)")
    if len(data["fields"]) > MAX_FIELDS:
        raise TemplateError(f"{name}: {len(data['fields'])} fields (at most {MAX_FIELDS})")
    fields = [parse_field(raw, i) for i, raw in enumerate(data["fields"])]
    dup = {n for n, k in Counter(f.name for f in fields).items() if k > 1}
    if dup:
        raise TemplateError(f"{name}: duplicate field names: {', '.join(sorted(dup))}")
    return Template(str(data.get("name", name)), size, fields)


def load_template(path: str | Path) -> Template:
    """Read and validate a template JSON file."""
    path = Path(path)
    try:
        data = json.loads(path.read_text())
    except FileNotFoundError:
        raise TemplateError(f"template not found: {path}") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise TemplateError(f"cannot read template {path}: {exc}") from None
    except json.JSONDecodeError as exc:
        raise TemplateError(f"template {path} is not valid JSON: {exc}") from None
    return parse_template(data, path.name)
