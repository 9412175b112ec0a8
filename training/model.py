"""Build the model: a small CNN sized for one batched call per frame on two CPU cores.

Eleven classes: the digits 0-9 and 10 = "not a digit". About 8.7 M multiply-adds
per crop, so a frame's 20 crops classify in about a millisecond through LiteRT.
"""
from __future__ import annotations

import keras
from keras import layers

NUM_CLASSES = 11  # 0-9 and "not a digit"
INPUT_SHAPE = (28, 28, 1)


def conv_block(filters: int, kernel: int) -> list:
    return [
        layers.Conv2D(filters, kernel, padding="same", use_bias=False),
        layers.BatchNormalization(),
        layers.ReLU(),
    ]


def build_model(dropout: float = 0.3) -> keras.Model:
    """The digit CNN; reads like its diagram: 28 -> 14 -> 7 -> dense -> 11 classes."""
    return keras.Sequential(
        [
            keras.Input(INPUT_SHAPE),
            *conv_block(32, 5),
            layers.MaxPooling2D(),
            *conv_block(64, 3),
            layers.MaxPooling2D(),
            *conv_block(128, 3),
            layers.Flatten(),
            layers.Dropout(dropout),
            layers.Dense(128, use_bias=False),
            layers.BatchNormalization(),
            layers.ReLU(),
            layers.Dropout(dropout),
            layers.Dense(NUM_CLASSES, activation="softmax"),
        ],
        name="digit_cnn",
    )
