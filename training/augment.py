"""Augment on the fly, aimed at handwriting seen through a camera.

Each batch is distorted inside the tf.data pipeline (vectorized over the batch,
so it keeps up with training on 2 cores): affine (rotation, scale, shear,
shift), elastic distortion, stroke width (dilate/erode), blur, motion blur,
noise and contrast. Images are (B, 28, 28, 1) float32 in [0, 1], ink white on black.
"""
from __future__ import annotations

import math

import cv2
import numpy as np
import tensorflow as tf

ROTATION_DEG = 8.0
SCALE = (0.9, 1.1)
SHEAR = 0.15
SHIFT_PX = 2.0
ELASTIC_PX = 0.5  # displacement amplitude of the coarse elastic field (1.0 cost ~0.1 point of MNIST)
ELASTIC_GRID = 4  # coarse field is GRID x GRID, upsampled smoothly
P_STROKE = 0.2  # chance of thickening or thinning strokes
P_BLUR = 0.2
P_MOTION = 0.1  # chance of a motion blur: a page moved in front of a webcam (docs/model.md, v21) ...
MOTION_PX = (3, 5)  # ... its lengths at 28x28 (0.15 of crops and 7 px too, v20, cost cheque strings) ...
MOTION_ANGLES = 8  # ... each in this many directions
NOISE_STD = 0.03


def _uniform(batch, lo, hi):
    return tf.random.uniform([batch], lo, hi)


def affine_transforms(batch: int, size: int = 28) -> tf.Tensor:
    """Random projective transforms (output->input maps) about the image centre, (B, 8)."""
    angle = _uniform(batch, -ROTATION_DEG, ROTATION_DEG) * (math.pi / 180.0)
    scale = _uniform(batch, *SCALE)
    shear = _uniform(batch, -SHEAR, SHEAR)
    tx, ty = _uniform(batch, -SHIFT_PX, SHIFT_PX), _uniform(batch, -SHIFT_PX, SHIFT_PX)
    cos, sin = tf.cos(angle) / scale, tf.sin(angle) / scale
    a0, a1 = cos, -sin + shear * cos
    b0, b1 = sin, cos + shear * sin
    c = (size - 1) / 2.0
    a2 = c - a0 * c - a1 * c - tx
    b2 = c - b0 * c - b1 * c - ty
    zeros = tf.zeros([batch])
    return tf.stack([a0, a1, a2, b0, b1, b2, zeros, zeros], axis=1)


def random_affine(images: tf.Tensor) -> tf.Tensor:
    batch = tf.shape(images)[0]
    return tf.raw_ops.ImageProjectiveTransformV3(
        images=images, transforms=affine_transforms(batch), output_shape=tf.shape(images)[1:3],
        fill_value=0.0, interpolation="BILINEAR", fill_mode="CONSTANT")


def elastic(images: tf.Tensor) -> tf.Tensor:
    """Smooth random displacement field (coarse grid, bilinear upsampled), bilinear sampling."""
    shape = tf.shape(images)
    batch, h, w = shape[0], shape[1], shape[2]
    coarse = tf.random.normal([batch, ELASTIC_GRID, ELASTIC_GRID, 2]) * ELASTIC_PX
    flow = tf.image.resize(coarse, [h, w], method="bicubic")
    ys, xs = tf.meshgrid(tf.range(h, dtype=tf.float32), tf.range(w, dtype=tf.float32), indexing="ij")
    sy = tf.clip_by_value(ys[None] + flow[..., 0], 0.0, tf.cast(h - 1, tf.float32))
    sx = tf.clip_by_value(xs[None] + flow[..., 1], 0.0, tf.cast(w - 1, tf.float32))
    y0, x0 = tf.floor(sy), tf.floor(sx)
    wy, wx = (sy - y0)[..., None], (sx - x0)[..., None]
    y0i, x0i = tf.cast(y0, tf.int32), tf.cast(x0, tf.int32)
    y1i, x1i = tf.minimum(y0i + 1, h - 1), tf.minimum(x0i + 1, w - 1)

    def at(yy, xx):
        return tf.gather_nd(images, tf.stack([yy, xx], axis=-1), batch_dims=1)

    top = at(y0i, x0i) * (1 - wx) + at(y0i, x1i) * wx
    bottom = at(y1i, x0i) * (1 - wx) + at(y1i, x1i) * wx
    return top * (1 - wy) + bottom * wy


def stroke_width(images: tf.Tensor) -> tf.Tensor:
    """Thicken (max-pool) or thin (min-pool) some strokes: pens differ, MNIST is thick."""
    batch = tf.shape(images)[0]
    dilated = tf.nn.max_pool2d(images, 2, 1, "SAME")
    eroded = -tf.nn.max_pool2d(-images, 2, 1, "SAME")
    pick = tf.random.uniform([batch, 1, 1, 1])
    half = P_STROKE / 2
    out = tf.where(pick < half, dilated, images)
    return tf.where((pick >= half) & (pick < P_STROKE), eroded, out)


def _gaussian_kernel(sigma: float = 0.9, radius: int = 2) -> tf.Tensor:
    x = tf.range(-radius, radius + 1, dtype=tf.float32)
    g = tf.exp(-(x ** 2) / (2 * sigma ** 2))
    g = g / tf.reduce_sum(g)
    return (g[:, None] * g[None, :])[:, :, None, None]


def blur(images: tf.Tensor) -> tf.Tensor:
    batch = tf.shape(images)[0]
    blurred = tf.nn.conv2d(images, _gaussian_kernel(), 1, "SAME")
    amount = tf.where(tf.random.uniform([batch, 1, 1, 1]) < P_BLUR,
                      tf.random.uniform([batch, 1, 1, 1], 0.4, 1.0), 0.0)
    return images * (1 - amount) + blurred * amount


def _motion_kernels() -> tf.Tensor:
    """(7, 7, 1, K) line kernels, one per length and direction, anti-aliased (drawn 8x larger)."""
    kernels = []
    for length in MOTION_PX:
        for k in range(MOTION_ANGLES):
            angle = math.pi * k / MOTION_ANGLES
            big = np.zeros((56, 56), np.float32)
            dx, dy = 4 * (length - 1) * math.cos(angle), 4 * (length - 1) * math.sin(angle)
            cv2.line(big, (round(28 - dx), round(28 - dy)), (round(28 + dx), round(28 + dy)), 1.0, 8)
            small = cv2.resize(big, (7, 7), interpolation=cv2.INTER_AREA)
            kernels.append(small / small.sum())
    return tf.constant(np.stack(kernels, axis=-1)[:, :, None, :])


def motion_blur(images: tf.Tensor) -> tf.Tensor:
    """Smear some digits along a line, as a moving page or camera does, then stretch back to full
    ink (the normalization stretches every crop so). One convolution gives every kernel; each
    image keeps the one it drew."""
    batch = tf.shape(images)[0]
    kernels = _motion_kernels()
    smeared = tf.nn.conv2d(images, kernels, 1, "SAME")
    pick = tf.one_hot(tf.random.uniform([batch], 0, kernels.shape[-1], tf.int32), kernels.shape[-1])
    chosen = tf.reduce_sum(smeared * pick[:, None, None, :], axis=3, keepdims=True)
    chosen /= tf.maximum(tf.reduce_max(chosen, axis=[1, 2, 3], keepdims=True), 1e-6)
    return tf.where(tf.random.uniform([batch, 1, 1, 1]) < P_MOTION, chosen, images)


def noise_and_contrast(images: tf.Tensor) -> tf.Tensor:
    """Slightly fainter ink and sensor noise: what survives the normalization's contrast stretch."""
    batch = tf.shape(images)[0]
    gain = tf.random.uniform([batch, 1, 1, 1], 0.85, 1.0)
    std = tf.random.uniform([batch, 1, 1, 1], 0.0, NOISE_STD)
    noisy = images * gain + tf.random.normal(tf.shape(images)) * std
    return tf.clip_by_value(noisy, 0.0, 1.0)


def augment_batch(images: tf.Tensor, labels: tf.Tensor):
    """The whole chain for one batch; labels pass through unchanged."""
    x = random_affine(images)
    x = elastic(x)
    x = stroke_width(x)
    x = blur(x)
    x = motion_blur(x)
    x = noise_and_contrast(x)
    return x, labels
