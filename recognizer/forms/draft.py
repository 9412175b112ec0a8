"""Draft a template from a form: every closed printed box found becomes a named field.

    python -m recognizer.forms.draft blank_form.jpg > template.json

The page is rectified as the reader will rectify it, the boxes are found as
`--form auto` finds them (recognizer/forms/boxes.py: every innermost closed box;
touching one-digit boxes make a comb), and each is written as a field in the
page's 0..1 coordinates, named by its position: r03c02 is the second field of
the third row. A filled form drafts as well as a blank one (the boxes are
printed, the writing inside them does not matter). Rename the fields, add
"length" and "type" where you know them, and add "line" fields for ruled lines
by hand. Grids of many rows (a Sudoku) are left to --form auto.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

import numpy as np

from recognizer.capture import read_checked
from recognizer.log import configure, log
from recognizer.forms import boxes
from recognizer.forms.fields import on_lines, page_fields
from recognizer.forms.auto import level_with_margin
from recognizer.forms.grid import find_grid
from recognizer.forms.page import rectify

PAGE_WIDTH = 1000  # drafted templates describe the page at this width


def draft_template(image: np.ndarray, name: str = "draft") -> dict:
    """A template dict for the form in `image` (BGR or gray), blank or filled."""
    page = rectify(image)
    h, w = page.image.shape[:2]
    groups = page_fields(page.image)
    fields = []
    for group, field_name in zip(groups, boxes.names(groups)):
        cells = len(group)
        if group[0].table:
            level, inner = level_with_margin(page.image, group[0].quad)
            rows, cells = find_grid(level.image, inner=inner).shape
            if rows > 1:
                continue  # grids are read by --form auto; a template field is one row
        quad = group[0].quad if group[0].table else on_lines(boxes.outline(group))  # the printed box
        x0, y0 = quad.min(axis=0)
        x1, y1 = quad.max(axis=0)
        field = {"name": field_name, "kind": "comb" if cells > 1 else "box",
                 "box": [round(float(x0) / w, 4), round(float(y0) / h, 4),
                         round(float(x1 - x0) / w, 4), round(float(y1 - y0) / h, 4)],
                 "type": "digits"}
        if cells > 1:
            field["cells"] = int(cells)
        fields.append(field)
    return {"name": name, "page": {"width": PAGE_WIDTH, "height": int(round(PAGE_WIDTH * h / w))},
            "fields": fields}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("image", help="photo or scan of the blank (or filled) form")
    args = ap.parse_args(argv)
    configure()
    image, why = read_checked(Path(args.image))
    if image is None:
        log.error(f"cannot read image {args.image}: {why}")
        return 1
    template = draft_template(image, Path(args.image).stem)
    if not template["fields"]:
        log.error(f"no printed boxes found in {args.image}")
        return 1
    try:
        print(json.dumps(template, indent=1), flush=True)
    except BrokenPipeError:  # `| head`: the reader left; no traceback
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
    return 0


if __name__ == "__main__":
    sys.exit(main())
