"""Real handwriting that is not MNIST, prepared through the shared normalization.

USPS envelopes, NSYSU exam-sheet crops and the per-digit boxes of the ORAND
cheque amounts live in ../shared/data/realworld (never copied into the
project). Every crop goes through `normalize_crop`, exactly as the runtime
prepares a camera crop, so accuracy here measures what users will get.

The ORAND strings also give the runtime's own pieces (`load_orand_pieces`):
the recognizer cuts each string as it would a photo, and the per-digit boxes
say which pieces are one digit and which are two digits run together or a
fragment of one, "not a digit". That is what recognition-driven segmentation
needs the classifier to know, and no crop of a single clean digit teaches it.
"""
from __future__ import annotations

import csv
import gzip
from pathlib import Path

import cv2
import numpy as np

from recognizer.classifier import REJECT_CLASS
from recognizer.normalize import normalize_batch, normalize_crop
from recognizer.pipeline import locate
from recognizer.tracking import overlap_matrix
from training.data import SHARED, DataError

REALWORLD = SHARED / "realworld"
USPS, ORAND = "usps_zip", "orand_car_a"  # folders of the two sets that can join training
ONE_DIGIT = 0.6  # a piece with this IoU against a digit's box is that digit ...
COVERS = 0.6  # ... one holding this share of two digits' boxes is both run together ...
FRAGMENT = 0.4  # ... one under this IoU, lying (FRAGMENT_INSIDE of it) within one digit, a fragment;
FRAGMENT_INSIDE = 0.7  # other pieces are ambiguous and left out
SLIVER = 0.4  # fragments narrower than this share of their height look like a 1: left out too


def realworld_dir(name: str) -> Path:
    folder = REALWORLD / name
    if not folder.is_dir():
        raise DataError(f"real-world set absent: {folder}")
    return folder


def _stack(crops, labels):
    return np.stack(crops).astype(np.float32), np.asarray(labels, np.int64)


def load_usps(split: str = "test"):
    """USPS zip-code digits, 16x16 in [-1, 1] (-1 = paper), as normalized 28x28."""
    folder = realworld_dir(USPS)
    if split == "test":
        data = np.load(folder / "usps_test.npz")
        images, labels = data["images"], data["labels"]
    else:
        with gzip.open(folder / "zip.train.gz", "rt") as fh:
            rows = np.array([line.split() for line in fh if line.strip()], np.float32)
        labels, images = rows[:, 0].astype(np.int64), rows[:, 1:].reshape(-1, 16, 16)
    crops = [normalize_crop((img + 1.0) / 2.0, ink="light") for img in images]
    return _stack(crops, labels)


def load_nsysu():
    """NSYSU exam-sheet crops: dark pencil on paper, not centred, many writers."""
    folder = realworld_dir("nsysu_digits_exams")
    crops, labels = [], []
    with open(folder / "LABELS.csv") as fh:
        for row in csv.DictReader(fh):
            img = cv2.imread(str(folder / row["file"]), cv2.IMREAD_GRAYSCALE)
            if img is None:
                raise DataError(f"cannot read {folder / row['file']}")
            crops.append(normalize_crop(img, ink="dark"))
            labels.append(int(row["label"]))
    return _stack(crops, labels)


def orand_boxes(split: str, folder: Path | None = None) -> dict[str, list[tuple[int, tuple[int, int, int, int]]]]:
    """Per-digit ground truth of one ORAND split: image file -> [(digit, (x, y, w, h)), ...].

    folder: the ORAND folder (default: the one in ../shared/data/realworld).
    """
    folder = folder or realworld_dir(ORAND)
    boxes: dict[str, list] = {}
    with open(folder / "BOXES.csv") as fh:
        for row in csv.DictReader(fh):
            if f"/{split}/" in row["file"]:
                box = tuple(int(float(row[k])) for k in ("x", "y", "w", "h"))
                boxes.setdefault(row["file"], []).append((int(row["digit"]), box))
    return boxes


def _read(path: Path, mode: int = cv2.IMREAD_GRAYSCALE) -> np.ndarray:
    page = cv2.imread(str(path), mode)
    if page is None:
        raise DataError(f"cannot read {path}")
    return page


def load_orand_digits(split: str = "train"):
    """Per-digit boxes cut from the ORAND cheque amounts of one split."""
    folder = realworld_dir(ORAND)
    crops, labels = [], []
    for name, digits in orand_boxes(split).items():
        page = _read(folder / name)
        for digit, (x, y, w, h) in digits:
            crop = page[max(y, 0): y + h, max(x, 0): x + w]
            if crop.size == 0 or min(crop.shape) < 3:
                continue
            crops.append(normalize_crop(crop, ink="dark"))
            labels.append(digit)
    return _stack(crops, labels)


def load_orand_pieces(split: str = "train"):
    """The recognizer's own candidates on the ORAND strings of one split, labelled by the boxes.

    Each string is prepared and cut exactly as at runtime (pipeline.locate),
    so the pieces carry the runtime's masks and cut paths: a digit cut well from its
    neighbour keeps its label, two digits in one piece and a fragment are "not a
    digit" (piece_label).
    """
    folder = realworld_dir(ORAND)
    crops, labels = [], []
    for name, digits in orand_boxes(split).items():
        prep, found = locate(_read(folder / name, cv2.IMREAD_COLOR))  # as main.py reads it
        for c in found:
            label = None if c.tail else piece_label(prep.input_box(c.box), digits)
            if label is not None:
                crops.append(c.crop)
                labels.append(label)
    if not crops:
        return np.zeros((0, 28, 28), np.float32), np.zeros((0,), np.int64)
    return normalize_batch(crops, ink="light"), np.asarray(labels, np.int64)


def box_overlaps(box, digits: list) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """A candidate's box against the true digit boxes [(digit, (x, y, w, h)), ...]: per true digit,
    the intersection area, the IoU and the true box's area (how training labels a runtime crop)."""
    truth = np.array([b for _, b in digits], np.float64).reshape(-1, 4)
    cut = overlap_matrix(np.array([box], np.float64), truth)[0]
    true_area = truth[:, 2] * truth[:, 3]
    return cut, cut / (box[2] * box[3] + true_area - cut), true_area


def piece_label(box, digits: list) -> int | None:
    """A candidate's label from the true digit boxes: the digit it is, REJECT_CLASS for
    two digits run together or a fragment, None where it is neither clearly."""
    x, y, w, h = box
    cut, iou, true_area = box_overlaps(box, digits)
    area = w * h
    best = int(np.argmax(iou)) if len(iou) else -1
    if best >= 0 and iou[best] >= ONE_DIGIT:
        return digits[best][0]
    held = int(np.count_nonzero(cut >= COVERS * true_area))
    fragment = best >= 0 and iou[best] < FRAGMENT and cut.max() / area >= FRAGMENT_INSIDE and w >= SLIVER * h
    return REJECT_CLASS if held >= 2 or fragment else None


EXTRA_SETS = {"usps": (USPS, load_usps), "orand": (ORAND, load_orand_digits),  # name: (folder, loader)
              "orand_cuts": (ORAND, load_orand_pieces)}


def extra_available(name: str) -> bool:
    """Whether the folder of an extra training set is on this machine."""
    return (REALWORLD / EXTRA_SETS[name][0]).is_dir()


def load_extra_training(names: list[str]):
    """The optional extra real crops for training (`--extra usps,orand,orand_cuts`): their train splits."""
    xs, ys = [], []
    for name in names:
        if name not in EXTRA_SETS:
            raise DataError(f"unknown extra training set {name!r}; choose from {sorted(EXTRA_SETS)}")
        x, y = EXTRA_SETS[name][1]("train")
        xs.append(x)
        ys.append(y)
    if not xs:
        return np.zeros((0, 28, 28), np.float32), np.zeros((0,), np.int64)
    return np.concatenate(xs), np.concatenate(ys)
