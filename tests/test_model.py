"""The shipped model, scored through the runtime path (LiteRT interpreter, shared normalization)."""
import subprocess
import sys

import numpy as np
import pytest

from recognizer.classifier import DEFAULT_MODEL, DigitClassifier, ModelError
from recognizer.normalize import normalize_batch
from training.evaluate import HELD_BACK_NEGATIVES, NEGATIVE_SEED, decide
from training.negatives import make_negatives


@pytest.fixture(scope="module")
def classifier():
    return DigitClassifier()


def test_shipped_model_reads_mnist_test(classifier, mnist):
    _, (x_test, y_test) = mnist
    pred = classifier.classify(normalize_batch(x_test, ink="light"))
    accuracy = (pred.digits == y_test).mean()
    assert accuracy >= 0.995, f"MNIST test accuracy {accuracy:.4f} through TFLite"


def test_small_digit_model_reads_mnist_and_ships_beside_the_main_one(mnist):
    """The model for frames enlarged for their small digits (pipeline.locate) is a full digit
    reader too: trained on MNIST plus small photographed digits, it gives up a little MNIST
    accuracy (99.42% against the main model's 99.61%), so it only reads such frames."""
    from recognizer.classifier import SMALL_MODEL
    from recognizer.pipeline import Recognizer

    small = DigitClassifier(SMALL_MODEL)
    _, (x_test, y_test) = mnist
    accuracy = (small.classify(normalize_batch(x_test, ink="light")).digits == y_test).mean()
    assert accuracy >= 0.993, accuracy
    assert small.metadata["small_digits"] > 0 and SMALL_MODEL.with_suffix(".keras").is_file()
    assert Recognizer().small_classifier is not None
    assert Recognizer(model=DEFAULT_MODEL).small_classifier is None  # a chosen model reads alone
    assert Recognizer(small_model="none").small_classifier is None


def test_reject_rule_separates_negatives_from_digits(classifier, mnist):
    _, (x_test, y_test) = mnist
    conf = classifier.metadata.get("conf_threshold", 0.0)
    _, digits_rejected = decide(classifier, normalize_batch(x_test[:3000], ink="light"), conf)
    negatives = make_negatives(HELD_BACK_NEGATIVES // 3, x_test, seed=NEGATIVE_SEED)
    _, negatives_rejected = decide(classifier, negatives, conf)
    assert digits_rejected.mean() <= 0.01
    assert negatives_rejected.mean() >= 0.9


def test_printed_words_and_doodles_cut_by_the_runtime_are_refused(classifier):
    """Held-back clutter pages (seeds training never drew), cut by pipeline.locate: model v14,
    trained on drawn glyphs only, refused 87.6%; v15, trained on such cuts, 96.7%."""
    from training.clutter_pages import clutter_cuts

    conf = classifier.metadata.get("conf_threshold", 0.0)
    _, rejected = decide(classifier, clutter_cuts(600, seed=NEGATIVE_SEED), conf)
    assert rejected.mean() >= 0.93


def test_batch_sizes_give_identical_predictions(classifier, mnist):
    _, (x_test, _) = mnist
    batch = normalize_batch(x_test[:37], ink="light")
    whole = classifier.probabilities(batch)
    parts = np.concatenate([classifier.probabilities(batch[:5]), classifier.probabilities(batch[5:])])
    assert np.allclose(whole, parts, atol=1e-5)
    assert classifier.probabilities(batch[:0]).shape[0] == 0


def test_metadata_travels_with_the_model(classifier):
    meta = classifier.metadata
    assert meta["classes"][:10] == [str(d) for d in range(10)] and len(meta["classes"]) == 11
    assert meta["input"] == [28, 28, classifier.channels]  # the crop, and its surroundings (recognizer/context.py)
    assert DEFAULT_MODEL.with_suffix(".keras").is_file()
    if classifier.channels == 2:
        assert (DEFAULT_MODEL.parent / meta["context"]["model"]).is_file()


def test_missing_and_damaged_models_raise_one_line_errors(tmp_path):
    with pytest.raises(ModelError, match="not found"):
        DigitClassifier(tmp_path / "none.tflite")
    bad = tmp_path / "bad.tflite"
    bad.write_bytes(b"this is not a flatbuffer" * 10)
    with pytest.raises(ModelError) as err:
        DigitClassifier(bad)
    assert "\n" not in str(err.value)


def test_runtime_does_not_import_tensorflow():
    code = ("import sys; from recognizer.classifier import DigitClassifier; import numpy as np;"
            "DigitClassifier().classify(np.zeros((3, 28, 28), np.float32));"
            "print('tensorflow' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_shipped_model_reads_cut_digits_and_refuses_pairs(classifier, realworld):
    """Recognition-driven segmentation rests on this: the ORAND test strings cut by the
    recognizer itself, a piece that is one digit is read, two digits in one piece or a
    fragment is rejected (a model trained on whole digits only: 86% and 72%)."""
    from training.evaluate import pieces_report

    r = pieces_report(classifier, classifier.metadata.get("conf_threshold", 0.0))
    assert r["read"] >= 0.88 and r["rejected"] >= 0.82, r


@pytest.fixture(scope="module")
def odd_models(tmp_path_factory):
    """Tiny TFLite models this runtime must refuse at load (issue 21): logits instead of
    probabilities, 5 classes, 32x32 crops. Built with TensorFlow here (training's dependency)."""
    tf = pytest.importorskip("tensorflow")
    keras = tf.keras
    folder = tmp_path_factory.mktemp("models")

    def save(name, inputs, outputs):
        model = keras.Model(inputs, outputs)
        path = folder / f"{name}.tflite"
        path.write_bytes(tf.lite.TFLiteConverter.from_keras_model(model).convert())
        return path

    x = keras.Input((28, 28, 1))
    flat = keras.layers.Flatten()(x)
    paths = {"logits": save("logits", x, keras.layers.Dense(11)(flat) * 50.0),
             "five": save("five", x, keras.layers.Dense(5, activation="softmax")(flat))}
    y = keras.Input((32, 32, 1))
    paths["big"] = save("big", y, keras.layers.Dense(11, activation="softmax")(keras.layers.Flatten()(y)))
    return paths


@pytest.mark.parametrize("name, says", [("logits", "probabilities"), ("five", "outputs per crop"),
                                        ("big", "28x28x1")])
def test_models_this_runtime_cannot_use_are_refused_at_load(odd_models, name, says):
    with pytest.raises(ModelError, match=says) as err:
        DigitClassifier(odd_models[name])
    assert "\n" not in str(err.value)


def test_metadata_thresholds_must_be_probabilities(tmp_path):
    import json
    import shutil

    for value in ("high", 1.5, None, True):
        model = tmp_path / "digits.tflite"
        shutil.copy(DEFAULT_MODEL, model)
        model.with_suffix(".json").write_text(json.dumps({"conf_threshold": value}))
        with pytest.raises(ModelError, match="conf_threshold"):
            DigitClassifier(model)


def test_thresholds_that_are_no_probability_are_refused():
    """NaN switched the confidence gate off without a word (issue 21)."""
    import subprocess
    import sys

    from recognizer.pipeline import Recognizer

    for value in (float("nan"), -0.1, 2.0):
        with pytest.raises(ValueError, match="probability"):
            Recognizer(conf=value)
    run = subprocess.run([sys.executable, "main.py", "--source", "x.png", "--conf", "nan"], capture_output=True,
                         text=True, cwd=DEFAULT_MODEL.parent.parent.parent, timeout=60)
    assert run.returncode == 2 and "Traceback" not in run.stderr
    assert [line for line in run.stderr.splitlines() if "error:" in line] == [
        "main.py: error: argument --conf: nan is not a probability from 0 to 1"]
