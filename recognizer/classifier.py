"""Batched digit classification through the LiteRT (TFLite) interpreter.

The runtime never imports TensorFlow (about 3 s to import) and never calls
`model.predict` per digit (about 35 ms of fixed overhead per call): all crops of
a frame go through ONE interpreter invocation.
"""
from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from recognizer import asset
from recognizer.context import blank_context
from recognizer.quiet import native_stderr_silenced

ASSETS = asset("models")
DEFAULT_MODEL = ASSETS / "digits.tflite"
SMALL_MODEL = ASSETS / "digits_small.tflite"  # reads frames enlarged for their small digits (pipeline.locate)
REJECT_CLASS = 10  # index of the "not a digit" class
NUM_CLASSES = 11  # digits 0-9 and "not a digit"


class ModelError(RuntimeError):
    """The model file is missing or cannot be loaded; the message is one line for the user."""


@dataclass
class Predictions:
    """Per-crop predictions: best digit, its probability, and the full probabilities."""

    digits: np.ndarray  # (N,) int, 0-9 best digit class (ignores the reject class)
    confidences: np.ndarray  # (N,) float, probability of that digit
    reject: np.ndarray  # (N,) float, probability of "not a digit"
    probs: np.ndarray  # (N, C) float


def _make_interpreter(model_path: Path, content: bytes, threads: int):
    try:
        from ai_edge_litert.interpreter import Interpreter
    except ImportError:  # older installs ship the interpreter inside TensorFlow
        from tensorflow.lite.python.interpreter import Interpreter  # type: ignore
    try:  # from memory, not mapped: a model file replaced while a run goes on (retrained) cannot crash it
        return Interpreter(model_content=content, num_threads=threads)
    except (ValueError, RuntimeError) as exc:
        raise ModelError(f"cannot load model {model_path}: {str(exc).splitlines()[0]}") from None


class DigitClassifier:
    """Classify a batch of 28x28 MNIST-style crops with one interpreter call."""

    def __init__(self, model_path: str | Path | None = None, threads: int = 2):
        path = Path(model_path) if model_path else DEFAULT_MODEL
        if not path.is_file():
            raise ModelError(f"model not found: {path}")
        self.path = path
        self.metadata = load_metadata(path)
        try:
            content = path.read_bytes()
        except OSError as exc:
            raise ModelError(f"cannot load model {path}: {exc.strerror or exc}") from None
        # what a record names as the model that read it (Results.model): two runs' files can be compared
        self.identity = {"name": path.name, "version": self.metadata.get("exported"),
                         "sha256": hashlib.sha256(content).hexdigest()[:16]}
        self._interp = _make_interpreter(path, content, threads)
        self._in = self._interp.get_input_details()[0]["index"]
        self._out = self._interp.get_output_details()[0]["index"]
        self._batch = -1
        self.channels = 1
        self._check()

    def _check(self) -> None:
        """Refuse at load, in one line, a model this runtime cannot use, rather than crash or
        write nonsense on the first frame: a 28x28 float input of one channel (the crop) or two
        (the crop and its surroundings, recognizer/context.py) whose batch can change, and
        NUM_CLASSES probabilities out (a probe batch: finite, in [0, 1], each row summing to 1;
        a logits model or one of other classes would write confidences of 50 or find nothing)."""
        detail = self._interp.get_input_details()[0]
        shape = tuple(detail["shape"][1:])
        if shape not in ((28, 28, 1), (28, 28, 2)) or detail["dtype"] != np.float32:
            raise ModelError(f"model {self.path.name} takes {tuple(detail['shape'])} {np.dtype(detail['dtype']).name}, "
                             "not 28x28x1 (or x2: crop and context) float32 crops")
        self.channels = shape[2]
        probe = np.zeros((3, 28, 28), np.float32)
        probe[1, 6:22, 12:16] = 1.0  # a stroke, a 1
        probe[2] = np.random.default_rng(0).random((28, 28))
        try:
            with native_stderr_silenced():  # LiteRT's C++ announces its CPU delegate on the first call
                probs = self.probabilities(probe)
        except (ValueError, RuntimeError) as exc:
            raise ModelError(f"model {self.path.name} cannot read a batch of crops: {str(exc).splitlines()[0]}") from None
        if probs.shape != (3, NUM_CLASSES):
            raise ModelError(f"model {self.path.name} gives {probs.shape[1:]} outputs per crop, not {NUM_CLASSES} "
                             "(digits 0-9 and not-a-digit)")
        if not (np.isfinite(probs).all() and probs.min() >= -1e-3 and probs.max() <= 1 + 1e-3
                and np.allclose(probs.sum(axis=1), 1.0, atol=0.05)):
            raise ModelError(f"model {self.path.name} does not output probabilities (finite, 0-1, summing to 1)")

    def _resize(self, n: int) -> None:
        """Re-allocate only when the batch size changes.

        Measured: re-allocating costs microseconds, while each padded crop costs a
        full crop's inference (~60 us), so batches are sized exactly, never padded.
        """
        if n != self._batch:
            self._interp.resize_tensor_input(self._in, [n, 28, 28, self.channels])
            self._interp.allocate_tensors()
            self._batch = n

    def probabilities(self, batch: np.ndarray, context: np.ndarray | None = None) -> np.ndarray:
        """(N, 28, 28) float32 crops in [0, 1], and their surroundings for a two-channel model
        (recognizer/context.py; None: nothing known round them) -> (N, C) class probabilities."""
        n = len(batch)
        if n == 0:
            return np.zeros((0, NUM_CLASSES), np.float32)
        self._resize(n)
        inputs = np.asarray(batch, np.float32).reshape(n, 28, 28, 1)
        if self.channels == 2:
            around = blank_context(inputs[..., 0]) if context is None else np.asarray(context, np.float32)
            inputs = np.stack([inputs[..., 0], around.reshape(n, 28, 28)], axis=-1)
        self._interp.set_tensor(self._in, np.ascontiguousarray(inputs))
        self._interp.invoke()
        return self._interp.get_tensor(self._out).copy()

    def classify(self, batch: np.ndarray, context: np.ndarray | None = None) -> Predictions:
        """Best digit per crop, with the reject probability kept separately."""
        probs = self.probabilities(batch, context)
        digit_probs = probs[:, :REJECT_CLASS]
        digits = digit_probs.argmax(axis=1)
        conf = digit_probs[np.arange(len(digits)), digits]
        reject = probs[:, REJECT_CLASS] if probs.shape[1] > REJECT_CLASS else np.zeros(len(digits))
        return Predictions(digits, conf, reject, probs)


def load_metadata(model_path: Path) -> dict:
    """Read the JSON written beside the model at export (classes, thresholds, accuracies)."""
    meta = model_path.with_suffix(".json")
    if not meta.is_file():
        return {}
    try:
        data = json.loads(meta.read_text())
    except (OSError, json.JSONDecodeError):
        raise ModelError(f"model metadata is damaged: {meta}") from None
    if not isinstance(data, dict):
        raise ModelError(f"model metadata is damaged: {meta} (not an object)")
    for key in ("conf_threshold", "reject_threshold"):
        if key in data and not is_probability(data[key]):
            raise ModelError(f"model metadata {meta.name}: {key} is {data[key]!r}, not a probability (0-1)")
    return data


def is_probability(value) -> bool:
    """A number from 0 to 1 (not NaN, not a string, not a bool)."""
    return isinstance(value, (int, float)) and not isinstance(value, bool) and 0.0 <= value <= 1.0
