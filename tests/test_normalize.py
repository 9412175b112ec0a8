"""The shared normalization makes any crop look like MNIST (properties, not pixels)."""
import cv2
import numpy as np
import pytest

from recognizer.normalize import normalize_batch, normalize_crop


def centre_of_mass(img):
    m = cv2.moments(img)
    return m["m10"] / m["m00"], m["m01"] / m["m00"]


def ink_box(img):
    ys, xs = np.nonzero(img > 0.2)
    return xs.max() - xs.min() + 1, ys.max() - ys.min() + 1


def drawn_seven(h=120, w=80, dark_ink=True):
    img = np.full((h, w), 235, np.uint8)
    cv2.line(img, (8, 10), (w - 8, 10), 20, 7)
    cv2.line(img, (w - 8, 10), (w // 3, h - 8), 20, 7)
    return img if dark_ink else 255 - img


def test_output_is_28x28_float_in_unit_range():
    out = normalize_crop(drawn_seven())
    assert out.shape == (28, 28) and out.dtype == np.float32
    assert 0.0 <= out.min() and out.max() <= 1.0 and out.max() > 0.9


def test_centre_of_mass_within_one_pixel_of_centre():
    rng = np.random.default_rng(0)
    for _ in range(20):
        img = np.full((90, 140), 220, np.uint8)
        pts = rng.integers(5, [135, 85], size=(4, 2)).astype(np.int32)
        cv2.polylines(img, [pts], False, 30, 6)
        cx, cy = centre_of_mass(normalize_crop(img))
        assert abs(cx - 13.5) <= 1.0 and abs(cy - 13.5) <= 1.0


def test_aspect_ratio_kept_and_fits_20_pixels():
    img = np.zeros((200, 100), np.uint8)
    cv2.ellipse(img, (50, 100), (40, 90), 0, 0, 360, 255, 10)
    w, h = ink_box(normalize_crop(img, ink="light"))
    assert 19 <= h <= 22  # 20, plus a pixel each side when thin strokes are thickened
    assert abs(w / h - 0.45) < 0.1


def test_both_polarities_give_the_same_image():
    dark, light = drawn_seven(dark_ink=True), drawn_seven(dark_ink=False)
    assert np.abs(normalize_crop(dark) - normalize_crop(light)).max() < 1e-6


def test_colour_and_16_bit_inputs_match_gray():
    gray = drawn_seven()
    bgr = cv2.cvtColor(gray, cv2.COLOR_GRAY2BGR)
    deep = gray.astype(np.uint16) * 257
    ref = normalize_crop(gray)
    assert np.abs(normalize_crop(bgr) - ref).max() < 1e-5
    assert np.abs(normalize_crop(deep) - ref).max() < 0.02


def test_mnist_digits_stay_mnist(mnist):
    (_, _), (x_test, _) = mnist
    out = normalize_batch(x_test[:200], ink="light")
    assert out.shape == (200, 28, 28)
    assert np.abs(out - x_test[:200] / 255.0).mean() < 0.08


def test_blank_crop_gives_blank_image():
    assert normalize_crop(np.full((40, 40), 200, np.uint8)).max() == 0.0


def test_a_trailing_dot_is_dropped_but_the_bar_of_a_five_is_kept():
    five = np.full((80, 60), 235, np.uint8)
    cv2.line(five, (14, 12), (44, 12), 20, 6)  # the bar, not touching the body
    cv2.line(five, (14, 20), (14, 38), 20, 6)
    cv2.ellipse(five, (28, 52), (16, 14), 0, -120, 150, 20, 6)
    with_dot = five.copy()
    cv2.circle(with_dot, (56, 74), 2, 20, -1)  # a full stop after the digit
    assert np.abs(normalize_crop(with_dot) - normalize_crop(five)).max() < 1e-6
    top_rows = normalize_crop(five)[:10]
    assert top_rows.max() > 0.9  # the bar survived at the top


def test_thin_pen_strokes_are_thickened_toward_mnist():
    from recognizer.normalize import stroke_width

    thin = np.full((200, 140), 240, np.uint8)
    cv2.line(thin, (20, 20), (120, 20), 10, 2)
    cv2.line(thin, (120, 20), (50, 190), 10, 2)
    assert stroke_width(normalize_crop(thin)) >= 1.9
