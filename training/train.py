"""Train the digit CNN: `python -m training.train`.

The story, top to bottom: prepare the data (MNIST through the shared
normalization, optional real crops, synthetic "not a digit" crops), build the
model, train with on-the-fly augmentation, a warm-up + cosine learning rate,
checkpoints and a CSV log, then calibrate the reject rule and export the
`.keras`, `.tflite` and metadata JSON to assets/models/.
"""
from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np

from training.clutter_pages import clutter_cuts
from training.data import DataError, data_fingerprint, load_mnist
from training.negatives import make_negatives
from training.realdata import extra_available, load_extra_training
from training.small_digits import small_digit_cuts
from recognizer.classifier import REJECT_CLASS
from recognizer.normalize import normalize_batch

# Hyper-parameters
EPOCHS = 15  # passes over the data, MNIST twice in each (MNIST_REPEAT)
MNIST_REPEAT = 2  # MNIST's weight beside the real and negative crops: once, they cost it ~0.1 point
BATCH = 128
PEAK_LR = 3e-3
WARMUP_EPOCHS = 1
VAL_SIZE = 2000
NEGATIVES_TRAIN = 10000
CLUTTER_TRAIN = 6000  # printed words and doodles on photographed pages, cut by the runtime
SMALL_DIGITS_MODEL = 6000  # --small-digits of the shipped small-digit model (digits_small.tflite)
NEGATIVES_VAL = 600
SEED = 1234
REPRESENTATIVE = 500  # crops that calibrate int8 quantization at export
MAX_FALSE_REJECT = 0.002  # at most this share of held-back digits may be rejected
DEFAULT_EXTRA = ["usps", "orand", "orand_cuts"]  # real crops added to MNIST by default (docs/model.md says why)


def default_extra() -> list[str]:
    """The real crop sets the shipped model was trained with, where this machine has them: a
    user without ../shared/data/realworld still trains (on MNIST alone), and is told so."""
    present = [name for name in DEFAULT_EXTRA if extra_available(name)]
    if present != DEFAULT_EXTRA:
        missing = ", ".join(sorted(set(DEFAULT_EXTRA) - set(present)))
        print(f"note: real-world crops absent ({missing}); training without them", file=sys.stderr)
    return present


def prepare_data(args):
    """Normalized arrays: train (MNIST + real extras + small photographed digits + negatives) and
    validation (MNIST + negatives)."""
    (x_train, y_train), _ = load_mnist(args.data)
    digits = normalize_batch(x_train, ink="light")
    x_val, y_val = digits[-VAL_SIZE:], y_train[-VAL_SIZE:].astype(np.int64)
    x_tr, y_tr = digits[:-VAL_SIZE], y_train[:-VAL_SIZE].astype(np.int64)
    extra_x, extra_y = load_extra_training(args.extra)
    small_x, small_y = small_digit_cuts(args.small_digits, x_train[:-VAL_SIZE], y_train[:-VAL_SIZE], seed=SEED)
    neg_tr = np.concatenate([make_negatives(NEGATIVES_TRAIN, x_train[:-VAL_SIZE], seed=SEED),
                             clutter_cuts(CLUTTER_TRAIN, seed=SEED)])
    neg_val = make_negatives(NEGATIVES_VAL, x_train[-VAL_SIZE:], seed=SEED + 1)
    x_tr = np.concatenate([x_tr] * MNIST_REPEAT + [extra_x, small_x, neg_tr])
    y_tr = np.concatenate([y_tr] * MNIST_REPEAT + [extra_y, small_y, np.full(len(neg_tr), REJECT_CLASS)])
    x_val = np.concatenate([x_val, neg_val])
    y_val = np.concatenate([y_val, np.full(len(neg_val), REJECT_CLASS)])
    print(f"train {len(x_tr)} crops ({len(extra_x)} real extra, {len(small_x)} small photographed, "
          f"{len(neg_tr)} negatives), validation {len(x_val)}")
    return (x_tr[..., None], y_tr), (x_val[..., None], y_val)


def make_datasets(train, val, tf):
    from training.augment import augment_batch

    train_ds = (tf.data.Dataset.from_tensor_slices(train)
                .shuffle(len(train[0]), seed=SEED, reshuffle_each_iteration=True)
                .batch(BATCH, drop_remainder=True)
                .map(augment_batch, num_parallel_calls=tf.data.AUTOTUNE)
                .prefetch(tf.data.AUTOTUNE))
    val_ds = tf.data.Dataset.from_tensor_slices(val).batch(512)
    return train_ds, val_ds


def learning_rate(steps_per_epoch: int, epochs: int, keras):
    return keras.optimizers.schedules.CosineDecay(
        initial_learning_rate=PEAK_LR / 10, decay_steps=max(1, steps_per_epoch * (epochs - WARMUP_EPOCHS)),
        warmup_target=PEAK_LR, warmup_steps=steps_per_epoch * WARMUP_EPOCHS, alpha=0.01)


def calibrate(model, val) -> dict:
    """Pick the digit-confidence floor so few real digits are rejected; measure both error sides."""
    probs = model.predict(val[0], batch_size=1024, verbose=0)
    is_digit = val[1] != REJECT_CLASS
    conf = probs[:, :REJECT_CLASS].max(axis=1)
    said_reject = probs.argmax(axis=1) == REJECT_CLASS
    base_false = said_reject[is_digit].mean()
    budget = max(MAX_FALSE_REJECT - base_false, 0.0)
    kept = conf[is_digit & ~said_reject]
    floor = float(np.quantile(kept, budget * is_digit.sum() / max(len(kept), 1))) if budget > 0 else 0.0
    rejected = said_reject | (conf < floor)
    return {"conf_threshold": round(floor, 4),
            "val_digits_rejected": float(rejected[is_digit].mean()),
            "val_negatives_rejected": float(rejected[~is_digit].mean())}


def parse_args(argv=None):
    p = argparse.ArgumentParser(description="Train the handwritten digit CNN on MNIST (+ optional real crops).")
    p.add_argument("--data", help="folder with the four MNIST IDX files (default: $MNIST_DIR, "
                   "../shared/data/mnist, else download via keras.datasets)")
    p.add_argument("--epochs", type=int, default=EPOCHS)
    p.add_argument("--extra", default=None,
                   help="comma-separated real crop sets added to training: usps, orand, orand_cuts, or 'none' "
                        f"(default: {','.join(DEFAULT_EXTRA)} when ../shared/data/realworld has them)")
    p.add_argument("--small-digits", type=int, default=0, metavar="N",
                   help="add N MNIST training digits drawn 8-22 px tall on photographed pages and cut by the "
                        f"recognizer (the small-digit model: {SMALL_DIGITS_MODEL}, with --name digits_small); "
                        "default 0: no model trained with them has reached 99.60%% on MNIST")
    p.add_argument("--name", default="digits", help="exported file names, NAME.keras/.tflite/.json (default: digits)")
    p.add_argument("--out", default="assets/models", help="export folder (default: assets/models)")
    p.add_argument("--run-dir", default="runs/train", help="checkpoints and CSV log (default: runs/train)")
    p.add_argument("--limit", type=int, default=0, help="train on only this many crops (smoke tests)")
    args = p.parse_args(argv)
    if args.extra is None:
        args.extra = default_extra()
    else:
        args.extra = [] if args.extra in ("", "none") else args.extra.split(",")
    return args


def main(argv=None) -> int:
    args = parse_args(argv)
    start = time.time()
    try:
        train, val = prepare_data(args)
    except DataError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    if args.limit:
        order = np.random.default_rng(SEED).permutation(len(train[0]))[: args.limit]
        train = (train[0][order], train[1][order])

    import keras
    import tensorflow as tf

    from training.export import export_model
    from training.model import build_model

    keras.utils.set_random_seed(SEED)
    run_dir = Path(args.run_dir)
    run_dir.mkdir(parents=True, exist_ok=True)
    train_ds, val_ds = make_datasets(train, val, tf)
    steps = len(train[0]) // BATCH
    model = build_model()
    # use_ema: the exported weights are an exponential moving average of the last ~2 epochs'
    # steps (fit swaps them in at the end), which smooths out the last noisy updates.
    optimizer = keras.optimizers.Adam(learning_rate(steps, args.epochs, keras), use_ema=True, ema_momentum=0.999)
    model.compile(optimizer=optimizer,
                  loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    callbacks = [keras.callbacks.ModelCheckpoint(run_dir / "checkpoint.keras", monitor="val_accuracy",
                                                 save_best_only=True),
                 keras.callbacks.CSVLogger(run_dir / "log.csv")]
    model.fit(train_ds, epochs=args.epochs, validation_data=val_ds, callbacks=callbacks,
              verbose=1 if sys.stdout.isatty() else 2)
    calibration = calibrate(model, val)
    minutes = (time.time() - start) / 60
    print(f"trained in {minutes:.1f} min; calibration {calibration}")
    info = {"training_minutes": round(minutes, 1), "epochs": args.epochs, "extra_training": args.extra,
            "small_digits": args.small_digits,
            "data_sha256": data_fingerprint(args.data), **calibration}
    representative = train[0][np.random.default_rng(SEED).permutation(len(train[0]))[:REPRESENTATIVE]]
    paths = export_model(model, Path(args.out), info, representative, name=args.name)
    print("exported " + ", ".join(str(p) for p in paths))
    return 0


if __name__ == "__main__":
    sys.exit(main())
