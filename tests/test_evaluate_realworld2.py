"""The realworld2 scoring helpers (training/evaluate_realworld2.py) on made-up detections:
what a figure in the table means must not drift when the helpers are touched."""
from __future__ import annotations

import cv2

from training.evaluate_realworld2 import Cells, clean_frames, multiset_counts, reading_text
from recognizer.results import Digit


def _d(digit: int, x: int, y: int, w: int = 10, h: int = 20) -> Digit:
    return Digit(digit, 0.9, (x, y, w, h))


def test_multiset_counts_ignore_order_and_line_breaks():
    assert multiset_counts("12/3", "321") == (3, 0, 0)
    assert multiset_counts("118", "1188") == (3, 0, 1)  # one 8 missed
    assert multiset_counts("1199", "19") == (2, 2, 0)  # a second 1 and 9 are false
    assert multiset_counts("", "45") == (0, 0, 2)


def test_reading_text_orders_lines_top_down_and_digits_left_to_right():
    digits = [_d(5, 40, 52), _d(3, 40, 2), _d(1, 0, 0), _d(2, 20, 4), _d(4, 0, 50)]
    assert reading_text(digits) == "123/45"
    assert reading_text([]) == ""


def test_reading_text_keeps_a_gently_slanted_line_whole():
    # each digit 6 px lower than the last: its neighbour's centre stays within its box
    assert reading_text([_d(k, 12 * k, 6 * k) for k in range(1, 6)]) == "12345"


def _grid(labels: list[int], side: int = 10) -> Cells:
    """A 1 x len(labels) row of square cells, as CELLS.csv rows."""
    rows = []
    for k, label in enumerate(labels):
        x0, x1 = k * side, (k + 1) * side
        rows.append({"label": str(label), "x_tl": x0, "y_tl": 0, "x_tr": x1, "y_tr": 0,
                     "x_br": x1, "y_br": side, "x_bl": x0, "y_bl": side})
    return Cells(rows)


def test_cells_score_digit_blank_and_candidate_cells():
    cells = _grid([5, 0, 10, 7])  # digit, blank, candidates, digit
    digits = [_d(5, 2, 2, 6, 6),  # right in the 5's cell
              _d(5, 3, 1, 6, 6),  # a second one there: false
              _d(1, 12, 2, 6, 6),  # in a blank cell: false
              _d(4, 22, 2, 6, 6),  # candidates: ignored
              _d(9, 60, 2, 6, 6)]  # outside the grid: ignored
    assert cells.score(digits) == (1, 2, 1)  # the 7 is missed


def test_cells_at_agrees_with_testing_every_polygon():
    cells = _grid([1] * 9, side=7)
    for x in range(-3, 70, 2):
        for y in (-1, 0, 3, 7, 9):
            every = [i for i, p in enumerate(cells.polys) if cv2.pointPolygonTest(p, (x, y), False) >= 0]
            assert cells.at(x, y) == (every[0] if every else None), (x, y)


def test_clean_frames_reads_ranges():
    assert clean_frames("5-7;10-10") == {5, 6, 7, 10}


def test_the_default_sets_name_every_realworld2_set(tmp_path):
    import json

    from training.evaluate_recognizer import main
    from training.evaluate_realworld2 import SETS

    out = tmp_path / "all.json"
    none = str(tmp_path / "none")
    assert main(["--scenes", "0", "--data", none, "--data2", none, "--json", str(out)]) == 0
    skipped = [note.split(":")[0] for note in json.loads(out.read_text())["skipped"]]
    assert [name for name in skipped if name in SETS] == list(SETS)


def test_absent_realworld2_folders_are_skipped_with_a_note(tmp_path, capsys):
    import json

    from training.evaluate_recognizer import main
    from training.evaluate_realworld2 import SETS

    out = tmp_path / "rw2.json"
    assert main(["--sets", ",".join(SETS), "--scenes", "0", "--data2", str(tmp_path / "none"), "--json", str(out)]) == 0
    report = json.loads(out.read_text())
    assert len(report["skipped"]) == len(SETS) and "kubiesa: " in report["skipped"][0]
    assert "skipped  divyakh: " in capsys.readouterr().out
