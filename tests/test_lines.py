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
