"""Prepare the data: MNIST from IDX files (or keras.datasets), plus optional real crops.

Where MNIST comes from, in order: `--data DIR`, the `MNIST_DIR` environment
variable, `../shared/data/mnist` beside the project, then `keras.datasets.mnist`
(downloads on a user's machine). Files are validated: magic number, counts and
the published sha256, so a truncated download fails with one clear line.
"""
from __future__ import annotations

import gzip
import hashlib
import os
import struct
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
SHARED = ROOT.parent / "shared" / "data"
FILES = {
    "train_images": "train-images-idx3-ubyte",
    "train_labels": "train-labels-idx1-ubyte",
    "test_images": "t10k-images-idx3-ubyte",
    "test_labels": "t10k-labels-idx1-ubyte",
}
SHA256 = {
    "train-images-idx3-ubyte.gz": "440fcabf73cc546fa21475e81ea370265605f56be210a4024d2ca8f203523609",
    "train-labels-idx1-ubyte.gz": "3552534a0a558bbed6aed32b30c495cca23d567ec52cac8be1a0730e8010255c",
    "t10k-images-idx3-ubyte.gz": "8d422c7b0a1c1c79245a5bcf07fe86e33eeafee792b84584aec276f5a2dbc4e6",
    "t10k-labels-idx1-ubyte.gz": "f7ae60f92e00ec6debd23a6088c31dbd2371eca3ffa0defaefb259924204aec6",
}
COUNTS = {"train": 60000, "test": 10000}
IMAGE_MAGIC, LABEL_MAGIC = 0x00000803, 0x00000801


class DataError(RuntimeError):
    """Data missing or corrupt; the message is one line for the user."""


def sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def read_idx(path: str | Path) -> np.ndarray:
    """Read one IDX file (gzipped or not): images -> (N, rows, cols) uint8, labels -> (N,) uint8."""
    path = Path(path)
    opener = gzip.open if path.suffix == ".gz" else open
    try:
        with opener(path, "rb") as fh:
            raw = fh.read()
    except (OSError, EOFError) as exc:
        raise DataError(f"cannot read {path}: {exc}") from None
    if len(raw) < 8:
        raise DataError(f"{path} is not an IDX file (too short)")
    magic, count = struct.unpack(">II", raw[:8])
    if magic == IMAGE_MAGIC:
        rows, cols = struct.unpack(">II", raw[8:16])
        shape, offset = (count, rows, cols), 16
    elif magic == LABEL_MAGIC:
        shape, offset = (count,), 8
    else:
        raise DataError(f"{path} has bad magic number 0x{magic:08x}")
    need = int(np.prod(shape))
    if len(raw) - offset != need:
        raise DataError(f"{path} is truncated or padded: {len(raw) - offset} bytes of data, expected {need}")
    return np.frombuffer(raw, np.uint8, need, offset).reshape(shape)


def find_idx(directory: Path, stem: str) -> Path:
    for name in (stem + ".gz", stem, stem.replace("-idx", ".idx")):
        if (directory / name).is_file():
            return directory / name
    raise DataError(f"MNIST file {stem}[.gz] not found in {directory}")


def load_idx_dir(directory: str | Path, verify: bool = True):
    """(x_train, y_train), (x_test, y_test) from the four IDX files in `directory`."""
    directory = Path(directory)
    if not directory.is_dir():
        raise DataError(f"MNIST directory not found: {directory}")
    arrays = {}
    for key, stem in FILES.items():
        path = find_idx(directory, stem)
        if verify and path.name in SHA256 and sha256(path) != SHA256[path.name]:
            raise DataError(f"{path} is corrupt: sha256 does not match the published MNIST file")
        arrays[key] = read_idx(path)
    for split in ("train", "test"):
        x, y = arrays[f"{split}_images"], arrays[f"{split}_labels"]
        if len(x) != len(y) or len(x) != COUNTS[split]:
            raise DataError(f"MNIST {split}: {len(x)} images and {len(y)} labels, expected {COUNTS[split]}")
    return (arrays["train_images"], arrays["train_labels"]), (arrays["test_images"], arrays["test_labels"])


def mnist_dir(explicit: str | None = None) -> Path | None:
    """The IDX folder to use, or None to fall back to keras.datasets (download)."""
    for candidate in (explicit, os.environ.get("MNIST_DIR")):
        if candidate:
            return Path(candidate)
    shared = SHARED / "mnist"
    return shared if shared.is_dir() else None


def load_mnist(directory: str | None = None):
    """MNIST as uint8 arrays, from IDX files when available, else keras.datasets.mnist."""
    folder = mnist_dir(directory)
    if folder is not None:
        return load_idx_dir(folder)
    from keras.datasets import mnist  # downloads to ~/.keras/datasets on a user's machine

    try:
        return mnist.load_data()
    except Exception as exc:  # network errors come in many types
        raise DataError(f"cannot download MNIST ({exc}); pass --data DIR with the IDX files") from None


def data_fingerprint(directory: str | None = None) -> dict:
    """sha256 of the MNIST files used, for the model's metadata."""
    folder = mnist_dir(directory)
    if folder is None:
        return {"source": "keras.datasets.mnist"}
    return {find_idx(folder, s).name: sha256(find_idx(folder, s)) for s in FILES.values()}
