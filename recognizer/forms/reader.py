"""Read a whole form: rectify the page, cut every field, ONE classifier call, assemble.

Flow: photo -> Page (page.py) -> CutField crops (fields.py) -> one
DigitClassifier.predict batch -> FieldResult per field -> FormResult, which
serializes itself (JSON line, CSV row) and converts to recognizer.results.Results
for drawing.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import cv2
import numpy as np

from recognizer.classifier import DigitClassifier
from recognizer.forms import boxes
from recognizer.forms.fields import CutField, boxes_found, cut_tables, cut_template_field, page_rulings
from recognizer.forms.page import (Page, cut_by_frame, deskew, find_page, orientations, sheet_quad, to_gray_u8,
                                  turned, warp_quad)
from recognizer.forms.register import register
from recognizer.forms.template import Template
from recognizer.normalize import normalize_batch
from recognizer.results import Digit, Number, Rejected, Results, union_box

MAX_SIDE = 1600  # px: a bigger photo is read from a copy this size (a 12 MP phone photo: 4x faster)
SURE_NOT_DIGIT = 0.9  # template fields drop a crop only when "not a digit" is this likely
DEFAULT_CONF = 0.7  # a field with any digit below this confidence is flagged "unsure"


@dataclass
class FieldResult:
    """One field's reading. `cells` shows blanks as '.', grid rows joined by '/'."""

    name: str
    kind: str
    text: str
    digits: list[Digit]  # boxes in input pixels
    box: tuple[int, int, int, int]
    cells: str | None = None
    flags: list[str] = field(default_factory=list)
    type: str = "digits"

    @property
    def confidence(self) -> float:
        """The weakest digit's confidence (0 for an empty field)."""
        return min((d.confidence for d in self.digits), default=0.0)

    @property
    def value(self):
        """What the field says: a string of digits, or an int for type "number"."""
        if self.type == "number" and self.text:
            return int(self.text)
        return self.text

    def to_record(self) -> dict:
        rec = {"name": self.name, "kind": self.kind, "text": self.text, "value": self.value,
               "confidence": round(self.confidence, 4),
               "confidences": [round(float(d.confidence), 4) for d in self.digits],
               "box": [int(v) for v in self.box], "flags": self.flags}
        if self.cells is not None:
            rec["cells"] = self.cells
        return rec


@dataclass
class FormResult:
    """Every field of one form image; `review` is True when any field is flagged."""

    source: str
    width: int
    height: int
    fields: list[FieldResult]
    page_found: bool = False
    rejected: list[Rejected] = field(default_factory=list)

    @property
    def review(self) -> bool:
        return any(f.flags for f in self.fields)

    def to_record(self) -> dict:
        return {"source": self.source, "width": self.width, "height": self.height,
                "page_found": self.page_found, "review": self.review,
                "fields": [f.to_record() for f in self.fields]}

    def to_results(self) -> Results:
        """As the per-frame Results (a Number per field), so the usual overlay draws it."""
        digits = [d for f in self.fields for d in f.digits]
        numbers = [Number(f.text, f.confidence, union_box([d.box for d in f.digits]), f.digits)
                   for f in self.fields if f.text]
        return Results(self.source, 0, self.width, self.height, digits, numbers, self.rejected)


def box_to_input(to_input: np.ndarray, box) -> tuple[int, int, int, int]:
    """(x, y, w, h) through a 3x3 homography -> bounding box in the input image."""
    x, y, w, h = box
    pts = np.float32([[x, y], [x + w, y], [x + w, y + h], [x, y + h]]).reshape(-1, 1, 2)
    out = cv2.perspectiveTransform(pts, to_input).reshape(-1, 2)
    (x0, y0), (x1, y1) = np.floor(out.min(axis=0)), np.ceil(out.max(axis=0))
    return int(x0), int(y0), int(x1 - x0), int(y1 - y0)


class FormReader:
    """Reads forms with a template, or finds boxed tables by itself (template None)."""

    def __init__(self, template: Template | None = None, classifier: DigitClassifier | None = None,
                 conf: float | None = None):
        self.template = template
        self.classifier = classifier or DigitClassifier()
        self.conf = DEFAULT_CONF if conf is None else conf
        self.reject_threshold = float(self.classifier.metadata.get("reject_threshold", 0.5))
        # A template field's box holds digits: ink there is kept as its best digit (flagged
        # unsure by its low confidence) unless the model is sure it is no digit at all.
        # Auto mode reads whatever boxes it finds, so it drops every rejected crop.
        self.drop_above = self.reject_threshold if template is None else max(self.reject_threshold, SURE_NOT_DIGIT)

    def page(self, image: np.ndarray) -> Page:
        """The rectified sheet: at the template's size, or at its own for auto mode (where,
        with no sheet edge in view, each table is warped level on its own).
        A photo bigger than MAX_SIDE is read from a smaller copy (boxes still map back)."""
        scale = min(1.0, MAX_SIDE / max(image.shape[:2]))
        if scale < 1.0:
            small = cv2.resize(image, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
            page = self.page(small)
            page.to_input = np.diag([1 / scale, 1 / scale, 1.0]) @ page.to_input
            return page
        if self.template is None:  # a sheet in view is warped flat: its rulings level, each box found
            quad = find_page(image)  # without one (a scan, a close-up) each table is levelled on its own;
            if quad is None:
                return Page(image, np.eye(3), found=False)
            flat = warp_quad(image, quad)
            if not cut_by_frame(quad, image.shape):
                return flat
            # the sheet goes on past the photo's edge, and its visible outline may skew it: of
            # warping by that outline and turning the photo level, take what shows more boxes
            level = Page(*deskew(image), found=False)
            return max((flat, level), key=lambda p: len(boxes.find_cells(page_rulings(p.image))))
        page = self.upright(*sheet_quad(image))
        boxed = sum(f.kind != "line" for f in self.template.fields)
        score = boxes_found(page.image, self.template.fields, self.template.page)
        if score * 2 < boxed:  # no page edge in view, or only part of the sheet: align on the printed boxes,
            for placed in (self.placed_by_boxes(image), self.placed_by_boxes(page.image, page.to_input)):
                found = boxes_found(placed.image, self.template.fields, self.template.page) if placed else -1
                if found > score:  # ... of the photo, or of the sheet flattened (its rulings level)
                    page, score = placed, found
        return page

    def placed_by_boxes(self, image: np.ndarray, to_input: np.ndarray | None = None) -> Page | None:
        """The template's page cut out of `image` by registering its printed boxes
        (`to_input`: the map from `image` to the photo, when `image` is a warp of it)."""
        h = register(to_gray_u8(image), self.template)
        if h is None:
            return None
        flat = cv2.warpPerspective(image, h, self.template.page, flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP,
                                   borderMode=cv2.BORDER_REPLICATE)
        return Page(flat, h if to_input is None else to_input @ h, found=False)

    def upright(self, image, quad, to_input, found) -> Page:
        """The sheet turned the way that puts the template's printed boxes where it expects
        them (a form photographed upside down or on its side reads the same)."""
        size = self.template.page
        best, best_score = None, -1
        for turns in orientations(quad, size):
            page = turned(image, quad, to_input, turns, size, found)
            score = boxes_found(page.image, self.template.fields, size)
            if score > best_score:
                best, best_score = page, score
            if score == sum(f.kind != "line" for f in self.template.fields):
                break
        return best

    def cut(self, page: Page) -> list[CutField]:
        """Every field's crops; the page stays in colour, which tells pen from print."""
        image = page.image
        if self.template is None:
            return cut_tables(image, page.to_input)
        size = (image.shape[1], image.shape[0])
        return [cut_template_field(image, page.to_input, spec, size) for spec in self.template.fields]

    def __call__(self, image: np.ndarray, source: str = "") -> FormResult:
        page = self.page(image)
        cuts = self.cut(page)
        if self.template is not None:
            self.hide_out_of_view(cuts, page, image.shape)
        slots = [(k, s) for k, cut in enumerate(cuts) for s in cut.slots]
        crops = [c for _, s in slots for c in [s.crop] + [p.crop for p in s.pieces]]
        pred = self.classifier.classify(normalize_batch(crops, ink="light"))  # the page's one inference call
        per_field: list[list] = [[] for _ in cuts]
        rejected = []
        i = 0
        for k, slot in slots:
            n = 1 + len(slot.pieces)
            for part, j in self.choose(slot, pred, i):
                box = box_to_input(cuts[k].to_input, part.box)
                if pred.reject[j] > self.drop_above:
                    rejected.append(Rejected(box, "not a digit", float(pred.reject[j])))
                    continue
                digit = Digit(int(pred.digits[j]), float(pred.confidences[j]), box, pred.probs[j])
                per_field[k].append((slot.cell, digit))
            i += n
        fields = [self.assemble(cut, found) for cut, found in zip(cuts, per_field)]
        h, w = image.shape[:2]
        return FormResult(source, w, h, fields, page.found, rejected)

    def hide_out_of_view(self, cuts: list[CutField], page: Page, shape) -> None:
        """A field the photo does not show whole (a close-up, a cut-off scan) reads nothing
        and is flagged, rather than reading the smeared border of the warp."""
        h, w = shape[:2]
        slack = 0.01 * max(h, w)
        for cut, spec in zip(cuts, self.template.fields):
            x, y, bw, bh = box_to_input(page.to_input, spec.pixel_box(self.template.page))
            if x < -slack or y < -slack or x + bw > w + slack or y + bh > h + slack:
                cut.slots, cut.hidden = [], True

    def score(self, pred, j: int) -> float:
        """How well crop j reads as a digit: its confidence, or 0 when it is 'not a digit'."""
        return 0.0 if pred.reject[j] > self.reject_threshold else float(pred.confidences[j])

    def choose(self, slot, pred, i: int) -> list:
        """[(slot part, prediction index)]: the blob whole, or its pieces when they read better
        (a blob of two touching digits is 'not a digit' or unsure as a whole)."""
        if not slot.pieces:
            return [(slot, i)]
        whole = self.score(pred, i)
        parts = min(self.score(pred, i + 1 + m) for m in range(len(slot.pieces)))
        if parts > whole:
            return [(p, i + 1 + m) for m, p in enumerate(slot.pieces)]
        return [(slot, i)]

    def assemble(self, cut: CutField, found: list) -> FieldResult:
        """Digits of one field -> its text, cell string and review flags."""
        digits = [d for _, d in found]
        text = "".join(str(d.digit) for d in digits)
        cells = None
        if cut.kind in ("comb", "grid"):
            chars = ["."] * (cut.rows * cut.cols)
            for cell, d in found:
                chars[cell] = str(d.digit)
            rows = ["".join(chars[r * cut.cols:(r + 1) * cut.cols]) for r in range(cut.rows)]
            cells = "/".join(rows)
            if cut.kind == "grid":
                text = cells
        flags = []
        if any(d.confidence < self.conf for d in digits):
            flags.append("unsure")
        spec = cut.spec
        if spec is not None and spec.length is not None and len(text) != spec.length:
            flags.append("wrong_length")
        if cut.kind == "comb" and cells is not None and "." in cells.rstrip(".").lstrip("."):
            flags.append("gap")
        if cut.hidden:
            flags.append("out_of_view")
        elif spec is not None and not digits:
            flags.append("empty")
        box = box_to_input(cut.to_input, cut.outline)
        return FieldResult(cut.name, cut.kind, text, digits, box, cells, flags,
                           spec.type if spec is not None else "digits")
