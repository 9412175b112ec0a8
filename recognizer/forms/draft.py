"""Draft a template from a blank form: every printed box found becomes a named field.

    python -m recognizer.forms.draft blank_form.jpg > template.json

The page is rectified as the reader will rectify it, boxed tables are found as
`--form auto` finds them, and each one is written as a field in the page's 0..1
coordinates: a row of boxes is a comb with its number of cells, a single box is
a free "box" field. Rename the fields (field1, field2, ...), add "length" and
"type" where you know them, and add "line" fields for ruled lines by hand.
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

from recognizer.capture import read_image
from recognizer.forms.auto import find_tables, level_with_margin
from recognizer.forms.grid import find_grid
from recognizer.forms.page import rectify, to_gray_u8

PAGE_WIDTH = 1000  # drafted templates describe the page at this width


def draft_template(image: np.ndarray, name: str = "draft") -> dict:
    """A template dict for the blank form in `image` (BGR or gray)."""
    page = rectify(image)
    gray = to_gray_u8(page.image)
    h, w = gray.shape
    fields = []
    for quad in find_tables(gray):
        level, inner = level_with_margin(gray, quad)
        rows, cols = find_grid(level.image, inner=inner).shape
        if rows > 1:
            continue  # grids are read by --form auto; a template field is one row
        x0, y0 = quad.min(axis=0)
        x1, y1 = quad.max(axis=0)
        field = {"name": f"field{len(fields) + 1}", "kind": "comb" if cols > 1 else "box",
                 "box": [round(float(x0) / w, 4), round(float(y0) / h, 4),
                         round(float(x1 - x0) / w, 4), round(float(y1 - y0) / h, 4)],
                 "type": "digits"}
        if cols > 1:
            field["cells"] = cols
        fields.append(field)
    return {"name": name, "page": {"width": PAGE_WIDTH, "height": int(round(PAGE_WIDTH * h / w))},
            "fields": fields}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("image", help="photo or scan of the blank (or filled) form")
    args = ap.parse_args(argv)
    image = read_image(Path(args.image))
    if image is None:
        print(f"error: cannot read image {args.image}", file=sys.stderr)
        return 1
    template = draft_template(image, Path(args.image).stem)
    if not template["fields"]:
        print(f"error: no printed boxes found in {args.image}", file=sys.stderr)
        return 1
    print(json.dumps(template, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
