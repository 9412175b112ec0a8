"""lines.open_straight: the fast opening is pixel for pixel OpenCV's, so line removal did not change."""
import cv2
import numpy as np
import pytest

from recognizer.lines import open_straight


@pytest.mark.parametrize("length", [1, 2, 5, 40, 57, 110])
@pytest.mark.parametrize("vertical", [False, True])
def test_open_straight_is_opencvs_opening_borders_included(length, vertical):
    rng = np.random.default_rng(length)
    image = np.where(rng.random((120, 150)) < 0.93, 255, 0).astype(np.uint8)  # long runs, broken here and there
    image[40, 3:140] = 255  # a ruled line, and one touching the image border
    image[:, 148] = 255
    kernel = cv2.getStructuringElement(cv2.MORPH_RECT, (1, length) if vertical else (length, 1))
    assert np.array_equal(open_straight(image, length, vertical), cv2.morphologyEx(image, cv2.MORPH_OPEN, kernel))


def test_open_straight_of_handwriting_without_lines_is_empty():
    image = np.zeros((100, 100), np.uint8)
    cv2.putText(image, "407", (5, 70), cv2.FONT_HERSHEY_SIMPLEX, 2, 255, 3)
    assert not open_straight(image, 60, False).any() and not open_straight(image, 60, True).any()


def _stroke_along_rule(line_ink: int):
    """A 200x80 ink map: a rule at rows 39-41 and a dark pen stroke lying along it for 60 px."""
    ink = np.zeros((80, 200), np.uint8)
    ink[39:42, :] = line_ink
    cv2.line(ink, (40, 20), (70, 40), 220, 3)
    cv2.line(ink, (70, 40), (130, 41), 220, 3)  # along the rule
    cv2.line(ink, (130, 41), (160, 62), 220, 3)
    return ink, np.where(ink > 40, 255, 0).astype(np.uint8)


def test_pen_over_a_faint_rule_is_kept_and_the_rule_removed():
    from recognizer.lines import remove_lines

    ink, binary = _stroke_along_rule(line_ink=70)
    clean, lines = remove_lines(binary, length=100, ink=ink)
    assert lines[40, 5] and not clean[40, 5] and not clean[40, 190]  # the rule itself is gone
    n, _ = cv2.connectedComponents(clean)
    assert n == 2 and clean[40, 100]  # the stroke is one piece, its stretch on the rule kept
    plain, _ = remove_lines(binary, length=100)  # without the ink map: the stroke falls apart
    assert cv2.connectedComponents(plain)[0] > 2


def test_nothing_is_given_back_on_a_rule_as_dark_as_the_pen():
    """Form boxes, Sudoku grids and cheque baselines are printed as dark as the writing."""
    from recognizer.lines import remove_lines

    ink, binary = _stroke_along_rule(line_ink=210)
    clean, _ = remove_lines(binary, length=100, ink=ink)
    plain, _ = remove_lines(binary, length=100)
    assert np.array_equal(clean, plain)
