"""Shared fixtures: MNIST (from ../shared or $MNIST_DIR, else downloaded) and the shipped model."""
from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")


@pytest.fixture(scope="session")
def mnist():
    """(x_train, y_train), (x_test, y_test); downloads via keras when no IDX folder is found."""
    from training.data import load_mnist

    return load_mnist()


@pytest.fixture(scope="session")
def realworld():
    """The real handwriting folder, or a skip that says it is absent."""
    folder = ROOT.parent / "shared" / "data" / "realworld"
    if not folder.is_dir():
        pytest.skip(f"real-world data absent: {folder} not found")
    return folder
