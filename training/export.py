"""Export the trained model: Keras 3 `.keras`, a LiteRT/TFLite flatbuffer, and metadata JSON.

The runtime reads only the `.tflite` file (through ai-edge-litert, no TensorFlow
import) and the JSON beside it (classes, input, normalization version,
thresholds, accuracies), so the three files travel together.
"""
from __future__ import annotations

import json
import time
from pathlib import Path

from recognizer.normalize import NORMALIZATION_VERSION

MODEL_NAME = "digits"
CLASSES = [str(d) for d in range(10)] + ["not a digit"]


def to_tflite(model) -> bytes:
    """Float32 flatbuffer; batch dimension left dynamic so a frame's crops go in one call."""
    import tensorflow as tf

    converter = tf.lite.TFLiteConverter.from_keras_model(model)
    return converter.convert()


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


def export_model(model, out_dir: Path, info: dict) -> list[Path]:
    out_dir.mkdir(parents=True, exist_ok=True)
    keras_path = out_dir / f"{MODEL_NAME}.keras"
    tflite_path = out_dir / f"{MODEL_NAME}.tflite"
    meta_path = out_dir / f"{MODEL_NAME}.json"
    model.save(keras_path)
    tflite_path.write_bytes(to_tflite(model))
    write_metadata(meta_path, info)
    return [keras_path, tflite_path, meta_path]
