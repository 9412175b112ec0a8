"""Training pieces: the IDX reader, augmentation, negatives, one training step."""
import gzip
import struct

import numpy as np
import pytest

from recognizer.normalize import normalize_batch
from training.data import DataError, read_idx


def write_idx(path, array, magic, compress=False):
    header = struct.pack(">II", magic, len(array))
    if array.ndim == 3:
        header += struct.pack(">II", *array.shape[1:])
    payload = header + array.astype(np.uint8).tobytes()
    (gzip.open if compress else open)(path, "wb").write(payload)


@pytest.mark.parametrize("compress", [False, True])
def test_idx_reader_round_trip(tmp_path, compress):
    images = np.random.default_rng(1).integers(0, 256, (5, 28, 28)).astype(np.uint8)
    labels = np.array([3, 1, 4, 1, 5], np.uint8)
    suffix = ".gz" if compress else ""
    write_idx(tmp_path / f"img{suffix}", images, 0x803, compress)
    write_idx(tmp_path / f"lab{suffix}", labels, 0x801, compress)
    assert np.array_equal(read_idx(tmp_path / f"img{suffix}"), images)
    assert np.array_equal(read_idx(tmp_path / f"lab{suffix}"), labels)


def test_idx_reader_rejects_bad_magic_and_truncation(tmp_path):
    write_idx(tmp_path / "bad", np.zeros((2, 4, 4)), 0x1234)
    with pytest.raises(DataError, match="magic"):
        read_idx(tmp_path / "bad")
    write_idx(tmp_path / "short", np.zeros((2, 4, 4)), 0x803)
    data = (tmp_path / "short").read_bytes()
    (tmp_path / "short").write_bytes(data[:-5])
    with pytest.raises(DataError, match="truncated"):
        read_idx(tmp_path / "short")


def test_missing_mnist_folder_is_a_clear_error(tmp_path):
    from training.data import load_idx_dir

    with pytest.raises(DataError, match="not found"):
        load_idx_dir(tmp_path / "nowhere")


def test_augmentation_keeps_shape_and_range(mnist):
    import tensorflow as tf

    from training.augment import augment_batch

    (x, y), _ = mnist
    tf.random.set_seed(7)  # about 1 crop in 6,400 comes out faint (a thin 1 thinned and blurred)
    batch = tf.constant(x[:64, ..., None].astype(np.float32) / 255.0)
    out, labels = augment_batch(batch, tf.constant(y[:64]))
    out = out.numpy()
    assert out.shape == (64, 28, 28, 1)
    assert out.min() >= 0.0 and out.max() <= 1.0
    assert np.array_equal(labels.numpy(), y[:64])
    changed = np.abs(out - batch.numpy()).mean(axis=(1, 2, 3))
    assert (changed > 0.01).mean() > 0.9  # it really distorts
    assert (out.reshape(64, -1).max(axis=1) > 0.4).all()  # and keeps the digit


def test_motion_blur_smears_digits_and_keeps_full_ink(mnist, monkeypatch):
    """A moved page smears each stroke along one direction; the normalization stretches every
    crop back to full ink, so the smeared training digits are stretched too."""
    import tensorflow as tf

    from training import augment

    (x, _), _ = mnist
    monkeypatch.setattr(augment, "P_MOTION", 1.0)
    batch = x[:64, ..., None].astype(np.float32) / 255.0
    out = augment.motion_blur(tf.constant(batch)).numpy()
    assert out.shape == batch.shape
    assert np.allclose(out.reshape(64, -1).max(axis=1), 1.0)
    spread = (out > 0.1).sum(axis=(1, 2, 3)) > (batch > 0.1).sum(axis=(1, 2, 3))
    assert spread.mean() > 0.9, spread.mean()


def test_negatives_are_normalized_crops(mnist):
    from training.negatives import GENERATORS, make_negatives

    (x, _), _ = mnist
    neg = make_negatives(len(GENERATORS) * 3, x[:100], seed=5)
    assert neg.shape == (len(GENERATORS) * 3, 28, 28)
    assert neg.min() >= 0.0 and neg.max() <= 1.0
    peak = neg.reshape(len(neg), -1).max(axis=1)
    kinds = np.array([g.__name__ for g in GENERATORS] * 3)
    assert (peak > 0).all()  # no blank crops
    # drawn shapes keep strong ink; sparse speckle may be faint once normalization drops specks
    assert (peak[kinds != "noise"] > 0.3).all()


def test_one_training_step_lowers_the_loss(mnist):
    import keras

    from training.model import NUM_CLASSES, build_model

    (x, y), _ = mnist
    keras.utils.set_random_seed(0)
    model = build_model()
    model.compile(optimizer=keras.optimizers.Adam(1e-3), loss="sparse_categorical_crossentropy")
    xb, yb = x[:256, ..., None].astype(np.float32) / 255.0, y[:256]
    before = model.evaluate(xb, yb, verbose=0)
    for _ in range(5):
        model.train_on_batch(xb, yb)
    assert model.output_shape == (None, NUM_CLASSES)
    assert model.evaluate(xb, yb, verbose=0) < before


def test_piece_labels_follow_the_true_digit_boxes():
    """A piece on one digit's box is that digit; two digits run together or a fragment of
    one is "not a digit"; a sliver (a 1's look-alike) or a half-overlap is left out."""
    from recognizer.classifier import REJECT_CLASS
    from training.realdata import piece_label

    digits = [(3, (0, 0, 30, 40)), (7, (28, 0, 30, 40))]
    assert piece_label((1, 0, 29, 40), digits) == 3
    assert piece_label((0, 0, 58, 40), digits) == REJECT_CLASS  # both
    assert piece_label((30, 0, 14, 20), digits) == REJECT_CLASS  # the top-left corner of the 7
    assert piece_label((30, 0, 8, 40), digits) is None  # a sliver: could pass for a 1
    assert piece_label((14, 0, 30, 40), digits) is None  # half of each: neither


def test_orand_pieces_are_the_runtime_cuts_labelled(realworld):
    """The recognizer's own pieces of real cheque strings: digits and rejects, normalized."""
    from recognizer.classifier import REJECT_CLASS
    from training.realdata import load_orand_pieces

    x, y = load_orand_pieces("test")
    assert x.shape[1:] == (28, 28) and len(x) == len(y) > 400  # 128 strings, 562 digits
    assert 0.0 <= x.min() and x.max() <= 1.0
    counts = np.bincount(y, minlength=REJECT_CLASS + 1)
    assert (counts[:10] > 0).all()  # every digit occurs
    assert 0.1 < counts[REJECT_CLASS] / len(y) < 0.5  # touching strings give rejects, not mostly


def test_clutter_page_cuts_are_runtime_crops_without_ones():
    """Pages of printed words and doodles, cut by pipeline.locate: normalized 28x28 crops,
    and never a stem or a single straight stroke (those are 1s to anyone)."""
    import cv2

    from training.clutter_pages import clutter_cuts, one_like

    crops = clutter_cuts(200, seed=3)
    assert crops.shape == (200, 28, 28) and crops.dtype == np.float32
    assert 0.0 <= crops.min() and crops.max() <= 1.0 and (crops.reshape(200, -1).max(axis=1) > 0.5).all()
    bar = np.zeros((40, 12), np.uint8)
    bar[2:38, 4:8] = 255
    slash = np.zeros((40, 40), np.uint8)
    cv2.line(slash, (4, 36), (36, 4), 255, 3)
    letter = np.zeros((40, 40), np.uint8)
    cv2.putText(letter, "A", (4, 36), cv2.FONT_HERSHEY_SIMPLEX, 1.2, 255, 3)
    assert one_like(bar, (0, 0, 12, 40)) and one_like(slash, (0, 0, 40, 40))
    assert not one_like(letter, (0, 0, 40, 40))


def test_small_digit_cuts_carry_the_digits_drawn(mnist):
    """Small MNIST training digits drawn on photographed pages and cut by the runtime come back
    as normalized crops labelled with the digit drawn there: the shipped classifier, which
    never trained on these pages, agrees with most labels, and every digit is present."""
    from recognizer.classifier import DigitClassifier
    from training.small_digits import small_digit_cuts

    (x, y), _ = mnist
    crops, labels = small_digit_cuts(300, x[:5000], y[:5000], seed=3)
    assert crops.shape == (300, 28, 28) and labels.shape == (300,)
    assert set(labels.tolist()) == set(range(10))
    read = DigitClassifier().classify(crops).digits
    assert (read == labels).mean() >= 0.85, (read == labels).mean()


def test_export_beside_a_context_gate_joins_it_so_retraining_keeps_the_surroundings(tmp_path, mnist):
    """`export_model` into a folder that holds context.keras writes the runtime model of two
    channels (crop and surroundings) with the gate inside, its metadata saying so; MNIST digits
    on blank paper read as before."""
    import shutil

    import keras

    from recognizer.classifier import ASSETS, DigitClassifier
    from training.export import export_model

    (x_train, _), (x_test, y_test) = mnist
    shutil.copy(ASSETS / "context.keras", tmp_path / "context.keras")
    digits = keras.models.load_model(ASSETS / "digits.keras", safe_mode=True)
    export_model(digits, tmp_path, {}, normalize_batch(x_train[:100], "light"))
    runtime = DigitClassifier(tmp_path / "digits.tflite")
    assert runtime.channels == 2 and runtime.metadata["input"] == [28, 28, 2]
    assert runtime.metadata["context"]["model"] == "context.keras"
    read = runtime.classify(normalize_batch(x_test[:1000], "light"))
    assert (read.digits == y_test[:1000]).mean() >= 0.99 and (read.reject >= 0.5).mean() <= 0.005
