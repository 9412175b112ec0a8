"""recognizer/results.py: records name their model, numbers their digits; records read back; filtering."""
from __future__ import annotations

import hashlib
import json

import cv2
import numpy as np
import pytest

from recognizer.classifier import DEFAULT_MODEL
from recognizer.pipeline import Recognizer
from recognizer.results import Results


@pytest.fixture(scope="module")
def read_page(mnist):
    """A drawn page with numbers on it, read."""
    from training.scenes import make_scene

    _, (x_test, y_test) = mnist
    image, _, _ = make_scene(np.random.default_rng(3), x_test, y_test, width=640, height=480, n_digits=14, camera=0.3)
    return Recognizer()(image, source="page.png")


def test_a_record_names_the_model_that_read_it_and_the_thresholds(read_page):
    rec = read_page.to_record()
    assert rec["model"]["name"] == DEFAULT_MODEL.name
    assert rec["model"]["sha256"] == hashlib.sha256(DEFAULT_MODEL.read_bytes()).hexdigest()[:16]
    assert 0 < rec["model"]["conf"] < 1 and 0 < rec["model"]["reject"] <= 1


def test_each_number_lists_its_digits_and_a_record_reads_back(read_page):
    rec = json.loads(read_page.to_json())
    assert rec["numbers"] and any(len(n["text"]) > 1 for n in rec["numbers"])
    for n in rec["numbers"]:
        assert "".join(str(rec["digits"][i]["digit"]) for i in n["digits"]) == n["text"]
    back = Results.from_record(rec)
    assert back.to_record() == rec
    assert all(d in back.digits for n in back.numbers for d in n.digits)


def test_filter_keeps_the_digits_asked_and_the_numbers_all_of_whose_digits_stay(read_page):
    long = max(read_page.numbers, key=lambda n: len(n.text))
    drop = long.digits[0]
    kept = read_page.filter([d is not drop for d in read_page.digits])
    assert len(kept.digits) == len(read_page.digits) - 1 and drop not in kept.digits
    assert long not in kept.numbers and len(kept.numbers) == len(read_page.numbers) - 1
    assert read_page.filter(np.ones(len(read_page.digits), bool)).to_record() == read_page.to_record()
    with pytest.raises(ValueError, match="one boolean per digit"):
        read_page.filter([True])


def test_filter_keeps_numbers_read_from_records_that_list_no_digits_and_leaves_the_original(read_page):
    rec = read_page.to_record()
    for n in rec["numbers"]:
        del n["digits"]  # a record written before numbers listed their digits
    old = Results.from_record(rec)
    kept = old.filter([True] * len(old.digits))
    assert len(kept.numbers) == len(old.numbers)
    kept.rejected.append(kept.rejected[0] if kept.rejected else None)
    assert len(old.rejected) == len(rec["rejected"])
