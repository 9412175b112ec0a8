"""Export the trained model: Keras 3 `.keras`, a LiteRT/TFLite flatbuffer, and metadata JSON.

The runtime reads only the `.tflite` file (through ai-edge-litert, no TensorFlow
import) and the JSON beside it (classes, input, normalization version,
thresholds, accuracies), so the three files travel together.
"""
from __future__ import annotations

import json
import time
from pathlib import Path

import numpy as np

from recognizer.normalize import NORMALIZATION_VERSION

MODEL_NAME = "digits"
CLASSES = [str(d) for d in range(10)] + ["not a digit"]


def to_tflite(model, representative=None, channels: int = 1) -> bytes:
    """LiteRT flatbuffer with a dynamic batch dimension, so a frame's crops go in one call.

    With representative crops, weights and activations are quantized to int8
    (input and output stay float32): about 5x faster on CPU for the same
    accuracy, which is what keeps a 20-digit frame near the OpenCV floor.
    """
    import tensorflow as tf

    converter = tf.lite.TFLiteConverter.from_keras_model(model)
    if representative is not None and len(representative):
        samples = np.asarray(representative, np.float32).reshape(-1, 28, 28, channels)
        converter.optimizations = [tf.lite.Optimize.DEFAULT]
        converter.representative_dataset = lambda: ([samples[i: i + 1]] for i in range(len(samples)))
    return converter.convert()


def joined(digits, gate):
    """One model of a (28, 28, 2) input: the digit network reads channel 0 (the crop), the context
    gate both (crop and surroundings, recognizer/context.py); the gate's "not writing" is folded
    into not-a-digit, reject' = 1 - (1 - reject)(1 - gate). Built for conversion only (its
    Lambda layers are never saved: the .keras files stay the two networks)."""
    import keras
    from keras import layers, ops

    inp = keras.Input((28, 28, 2), name="crop_and_context")
    crop = layers.Lambda(lambda t: t[..., :1], name="crop")(inp)
    probs = digits(crop)
    g = gate(inp)
    out = layers.Lambda(lambda pg: ops.concatenate([pg[0][:, :10] * (1 - pg[1]),
                                                    1 - (1 - pg[0][:, 10:]) * (1 - pg[1])], axis=-1),
                        name="with_context")([probs, g])
    return keras.Model(inp, out, name="digits_with_context")


def runtime_model(model, out_dir: Path, representative=None):
    """What the runtime reads, and its calibration crops: the digit network joined with the context
    gate beside it (`context.keras`, trained by `python -m training.context`) where there is one,
    so that retraining the digits keeps the surroundings; else the digit network alone."""
    gate_path = Path(out_dir) / "context.keras"
    if not gate_path.is_file():
        return model, representative, 1
    import keras

    from recognizer.context import blank_context

    gate = keras.models.load_model(gate_path, safe_mode=True)
    if representative is not None and len(representative):
        crops = np.asarray(representative, np.float32).reshape(-1, 28, 28)
        representative = np.stack([crops, blank_context(crops)], axis=-1)
    return joined(model, gate), representative, 2


def inference_copy(model):
    """The same layers and weights without optimizer state: a third of the file size."""
    from training.model import build_model

    copy = build_model()
    copy.set_weights(model.get_weights())
    return copy


def write_metadata(path: Path, info: dict) -> None:
    meta = {"classes": CLASSES, "input": [28, 28, 1], "input_range": [0.0, 1.0],
            "ink": "white on black", "normalization_version": NORMALIZATION_VERSION,
            "exported": time.strftime("%Y-%m-%d %H:%M:%S"), **info}
    path.write_text(json.dumps(meta, indent=2) + "\n")


def update_metadata(path: Path, **fields) -> None:
    """Merge new fields (e.g. measured accuracies) into an existing metadata JSON."""
    meta = json.loads(path.read_text()) if path.is_file() else {}
    meta.update(fields)
    path.write_text(json.dumps(meta, indent=2) + "\n")


def export_model(model, out_dir: Path, info: dict, representative=None, name: str = MODEL_NAME) -> list[Path]:
    out_dir.mkdir(parents=True, exist_ok=True)
    keras_path = out_dir / f"{name}.keras"
    tflite_path = out_dir / f"{name}.tflite"
    meta_path = out_dir / f"{name}.json"
    inference_copy(model).save(keras_path)
    runtime, calibration, channels = runtime_model(model, out_dir, representative)
    tflite_path.write_bytes(to_tflite(runtime, calibration, channels))
    quant = "int8 weights and activations, float32 input/output" if representative is not None else "float32"
    context = {"context": _previous_context(meta_path)} if channels == 2 else {}
    write_metadata(meta_path, {"tflite": quant, "input": [28, 28, channels], **context, **info})
    return [keras_path, tflite_path, meta_path]


def _previous_context(meta_path: Path) -> dict:
    """The context gate's entry of the metadata being replaced (its training figures), or its name."""
    try:
        return json.loads(meta_path.read_text()).get("context") or {"model": "context.keras"}
    except (OSError, ValueError):
        return {"model": "context.keras"}


def main(argv=None) -> int:
    """Re-export the LiteRT model from a saved `.keras` (e.g. after changing quantization)."""
    import argparse
    import sys

    p = argparse.ArgumentParser(description="Convert a trained .keras model to the runtime's .tflite.")
    p.add_argument("--keras", default=f"assets/models/{MODEL_NAME}.keras", help="trained Keras 3 model")
    p.add_argument("--float", action="store_true", help="keep float32 (default: int8 quantized)")
    p.add_argument("--data", help="MNIST IDX folder for the calibration crops")
    args = p.parse_args(argv)
    import keras

    from recognizer.normalize import normalize_batch
    from training.data import load_mnist

    path = Path(args.keras)
    try:
        model = keras.models.load_model(path, safe_mode=True)
    except (OSError, ValueError) as exc:
        print(f"error: cannot load {path}: {str(exc).splitlines()[0]}", file=sys.stderr)
        return 2
    (x_train, _), _ = load_mnist(args.data)
    rng = np.random.default_rng(0)
    representative = None if args.float else normalize_batch(x_train[rng.permutation(len(x_train))[:500]], "light")
    runtime, calibration, channels = runtime_model(model, path.parent, representative)
    path.with_suffix(".tflite").write_bytes(to_tflite(runtime, calibration, channels))
    update_metadata(path.with_suffix(".json"), input=[28, 28, channels], tflite="float32" if args.float else
                    "int8 weights and activations, float32 input/output")
    print(f"wrote {path.with_suffix('.tflite')}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
