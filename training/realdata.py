"""Real handwriting that is not MNIST, prepared through the shared normalization.

USPS envelopes, NSYSU exam-sheet crops and the per-digit boxes of the ORAND
cheque amounts live in ../shared/data/realworld (never copied into the
project). Every crop goes through `normalize_crop`, exactly as the runtime
prepares a camera crop, so accuracy here measures what users will get.
"""
from __future__ import annotations

import csv
import gzip
from pathlib import Path

import cv2
import numpy as np

from recognizer.normalize import normalize_crop
from training.data import SHARED, DataError

REALWORLD = SHARED / "realworld"
USPS, ORAND = "usps_zip", "orand_car_a"  # folders of the two sets that can join training


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


def load_orand_digits(split: str = "train"):
    """Per-digit boxes cut from the ORAND cheque amounts of one split."""
    folder = realworld_dir(ORAND)
    crops, labels, cache = [], [], {}
    with open(folder / "BOXES.csv") as fh:
        for row in csv.DictReader(fh):
            if f"/{split}/" not in row["file"]:
                continue
            if row["file"] not in cache:
                cache = {row["file"]: cv2.imread(str(folder / row["file"]), cv2.IMREAD_GRAYSCALE)}
            page = cache[row["file"]]
            x, y, w, h = (int(float(row[k])) for k in ("x", "y", "w", "h"))
            crop = page[max(y, 0): y + h, max(x, 0): x + w]
            if crop.size == 0 or min(crop.shape) < 3:
                continue
            crops.append(normalize_crop(crop, ink="dark"))
            labels.append(int(row["digit"]))
    return _stack(crops, labels)


EXTRA_SETS = {"usps": (USPS, load_usps), "orand": (ORAND, load_orand_digits)}  # name: (folder, loader)


def extra_available(name: str) -> bool:
    """Whether the folder of an extra training set is on this machine."""
    return (REALWORLD / EXTRA_SETS[name][0]).is_dir()


def load_extra_training(names: list[str]):
    """The optional extra real crops for training (`--extra usps,orand`): their train splits."""
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
