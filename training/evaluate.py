"""Evaluate the shipped model through the runtime path: `python -m training.evaluate`.

Everything is scored through the LiteRT interpreter and the shared
normalization, exactly as the camera pipeline runs it: MNIST test (overall, per
class), the reject rule on both error sides (digits wrongly rejected, held-back
synthetic negatives accepted), and real handwriting that is not MNIST (USPS
test, NSYSU exam crops, ORAND cheque digits), and the runtime's own cuts of the ORAND
test strings (a piece that is one digit read, two digits run together or a fragment
rejected: what segmentation asks of the model), and the runtime's cuts of photographed
pages of printed words and doodles (all to be rejected). Prints a table, writes JSON, and
draws training curves, a confusion matrix and a montage of mistakes as PNGs.
"""
from __future__ import annotations

import argparse
import csv
import json
import sys
from pathlib import Path

import cv2
import numpy as np

from recognizer.classifier import REJECT_CLASS, DigitClassifier, ModelError
from recognizer.normalize import normalize_batch
from training.clutter_pages import clutter_cuts
from training.data import DataError, load_mnist
from training.negatives import make_negatives
from training.realdata import load_nsysu, load_orand_digits, load_orand_pieces, load_usps

HELD_BACK_NEGATIVES = 3000
NEGATIVE_SEED = 987  # differs from training's seeds; built from MNIST *test* digits
HELD_BACK_CLUTTER = 2000  # clutter-page cuts (printed words, doodles) on pages training never drew


def decide(classifier: DigitClassifier, x: np.ndarray, conf_threshold: float):
    """Digit predictions and the reject decision, as the runtime makes them."""
    pred = classifier.classify(x)
    said_reject = pred.probs.argmax(axis=1) == REJECT_CLASS
    rejected = said_reject | (pred.confidences < conf_threshold)
    return pred, rejected


def score(classifier, x, y, conf_threshold) -> dict:
    """Accuracy of the best digit (no reject), accuracy among accepted, and reject rate."""
    pred, rejected = decide(classifier, x, conf_threshold)
    correct = pred.digits == y
    accepted = ~rejected
    per_class = {str(d): round(float(correct[y == d].mean()), 4) for d in range(10) if (y == d).any()}
    return {"n": int(len(y)), "accuracy": round(float(correct.mean()), 5),
            "rejected": round(float(rejected.mean()), 5),
            "accuracy_accepted": round(float(correct[accepted].mean()), 5) if accepted.any() else 0.0,
            "per_class": per_class, "_pred": pred.digits}


def real_sets():
    """Name -> loader of the real crop sets; a missing set is reported, not fatal."""
    return {"usps_test": lambda: load_usps("test"), "nsysu_exams": load_nsysu,
            "orand_test_digits": lambda: load_orand_digits("test")}


def pieces_report(classifier: DigitClassifier, conf_threshold: float) -> dict:
    """The ORAND test strings cut as at runtime: digit pieces read right, the rest rejected."""
    x, y = load_orand_pieces("test")
    pred, rejected = decide(classifier, x, conf_threshold)
    digit = y != REJECT_CLASS
    read = ~rejected & (pred.digits == y)
    return {"digit_pieces": int(digit.sum()), "read": round(float(read[digit].mean()), 5),
            "not_digit_pieces": int((~digit).sum()), "rejected": round(float(rejected[~digit].mean()), 5)}


def confusion_png(y, pred, path: Path) -> None:
    """A 10x10 confusion matrix drawn with OpenCV (log-shaded cells, counts written)."""
    cm = np.zeros((10, 10), int)
    np.add.at(cm, (y, pred), 1)
    cell, margin = 52, 40
    img = np.full((margin + 10 * cell + 10, margin + 10 * cell + 10, 3), 255, np.uint8)
    shade = np.log1p(cm) / np.log1p(cm.max())
    for t in range(10):
        cv2.putText(img, str(t), (10, margin + t * cell + 32), cv2.FONT_HERSHEY_SIMPLEX, 0.7, 0, 2)
        cv2.putText(img, str(t), (margin + t * cell + 18, 28), cv2.FONT_HERSHEY_SIMPLEX, 0.7, 0, 2)
        for p in range(10):
            x0, y0 = margin + p * cell, margin + t * cell
            v = int(255 * (1 - shade[t, p]))
            color = (v, v, 255) if t != p else (v, 255, v)
            cv2.rectangle(img, (x0, y0), (x0 + cell - 2, y0 + cell - 2), color, -1)
            if cm[t, p]:
                cv2.putText(img, str(cm[t, p]), (x0 + 4, y0 + 30), cv2.FONT_HERSHEY_SIMPLEX, 0.4, 0, 1)
    cv2.imwrite(str(path), img)


def mistakes_png(x, y, pred, path: Path, limit: int = 64) -> None:
    """Misread crops, each captioned 'true>predicted'."""
    wrong = np.nonzero(pred != y)[0][:limit]
    tiles = []
    for i in wrong:
        tile = cv2.cvtColor(cv2.resize((x[i] * 255).astype(np.uint8), (84, 84)), cv2.COLOR_GRAY2BGR)
        cv2.putText(tile, f"{y[i]}>{pred[i]}", (2, 16), cv2.FONT_HERSHEY_SIMPLEX, 0.5, (0, 200, 255), 1)
        tiles.append(tile)
    while len(tiles) % 8:
        tiles.append(np.zeros((84, 84, 3), np.uint8))
    if tiles:
        rows = [np.hstack(tiles[i: i + 8]) for i in range(0, len(tiles), 8)]
        cv2.imwrite(str(path), np.vstack(rows))


def curves_png(log_csv: Path, path: Path) -> bool:
    """Training and validation accuracy per epoch from the CSV log."""
    if not log_csv.is_file():
        return False
    rows = list(csv.DictReader(open(log_csv)))
    if len(rows) < 2:
        return False
    w, h, pad = 640, 360, 40
    img = np.full((h, w, 3), 255, np.uint8)
    series = {"accuracy": (200, 120, 0), "val_accuracy": (0, 140, 0)}
    lo = min(float(r[k]) for r in rows for k in series)
    for k, color in series.items():
        pts = [(pad + i * (w - 2 * pad) // (len(rows) - 1),
                h - pad - int((float(r[k]) - lo) / (1 - lo + 1e-9) * (h - 2 * pad))) for i, r in enumerate(rows)]
        cv2.polylines(img, [np.array(pts, np.int32)], False, color, 2)
        cv2.putText(img, k, (pad + 10, 20 + 20 * list(series).index(k)), cv2.FONT_HERSHEY_SIMPLEX, 0.5, color, 1)
    cv2.rectangle(img, (pad, pad), (w - pad, h - pad), (0, 0, 0), 1)
    cv2.putText(img, f"{lo:.3f}", (2, h - pad), cv2.FONT_HERSHEY_SIMPLEX, 0.4, 0, 1)
    cv2.putText(img, "1.000", (2, pad + 4), cv2.FONT_HERSHEY_SIMPLEX, 0.4, 0, 1)
    cv2.putText(img, "epoch", (w // 2, h - 10), cv2.FONT_HERSHEY_SIMPLEX, 0.5, 0, 1)
    cv2.imwrite(str(path), img)
    return True


def print_table(report: dict) -> None:
    print(f"{'set':<22}{'n':>7}{'accuracy':>10}{'rejected':>10}{'acc. kept':>11}")
    for name, r in report["sets"].items():
        if "n" in r:
            print(f"{name:<22}{r['n']:>7}{r['accuracy']:>10.4f}{r['rejected']:>10.4f}{r['accuracy_accepted']:>11.4f}")
        else:
            print(f"{name:<22}  skipped: {r['skipped']}")
    pieces = report.get("orand_test_pieces", {})
    if "read" in pieces:
        print(f"ORAND test cuts: {pieces['digit_pieces']} digit pieces read {pieces['read']:.4f}, "
              f"{pieces['not_digit_pieces']} pairs/fragments rejected {pieces['rejected']:.4f}")
    for key, name in (("negatives", "synthetic negatives"), ("clutter_cuts", "clutter-page cuts")):
        neg = report[key]
        print(f"{name:<22}{neg['n']:>7}{'':>10}{neg['rejected']:>10.4f}")
    print("MNIST per class: " + " ".join(f"{k}:{v:.4f}" for k, v in report["sets"]["mnist_test"]["per_class"].items()))


def evaluate(model_path, data_dir, out_dir: Path, log_csv: Path = Path("runs/train/log.csv")) -> dict:
    classifier = DigitClassifier(model_path)
    conf = float(classifier.metadata.get("conf_threshold", 0.0))
    (x_train, _), (x_test, y_test) = load_mnist(data_dir)
    x_mnist = normalize_batch(x_test, ink="light")
    sets = {"mnist_test": (x_mnist, y_test.astype(np.int64))}
    report = {"model": str(classifier.path), "conf_threshold": conf, "sets": {}}
    for name, loader in real_sets().items():
        try:
            sets[name] = loader()
        except DataError as exc:
            report["sets"][name] = {"skipped": str(exc)}
    out_dir.mkdir(parents=True, exist_ok=True)
    for name, (x, y) in sets.items():
        r = score(classifier, x, y, conf)
        mistakes_png(x, y, r.pop("_pred"), out_dir / f"mistakes_{name}.png")
        report["sets"][name] = r
    try:
        report["orand_test_pieces"] = pieces_report(classifier, conf)
    except DataError as exc:
        report["orand_test_pieces"] = {"skipped": str(exc)}
    negatives = make_negatives(HELD_BACK_NEGATIVES, x_test, seed=NEGATIVE_SEED)
    _, rejected = decide(classifier, negatives, conf)
    report["negatives"] = {"n": len(negatives), "rejected": round(float(rejected.mean()), 5)}
    clutter = clutter_cuts(HELD_BACK_CLUTTER, seed=NEGATIVE_SEED)
    _, rejected = decide(classifier, clutter, conf)
    report["clutter_cuts"] = {"n": len(clutter), "rejected": round(float(rejected.mean()), 5)}
    pred, _ = decide(classifier, x_mnist, conf)
    confusion_png(y_test, pred.digits, out_dir / "confusion_mnist.png")
    curves_png(log_csv, out_dir / "training_curves.png")
    (out_dir / "training.json").write_text(json.dumps(report, indent=2) + "\n")
    return report


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description="Score the digit model on MNIST, real handwriting and negatives.")
    p.add_argument("--model", help="TFLite model (default: assets/models/digits.tflite)")
    p.add_argument("--data", help="MNIST IDX folder (default: $MNIST_DIR or ../shared/data/mnist)")
    p.add_argument("--out", default="runs/evaluate", help="folder for JSON and PNGs (default: runs/evaluate)")
    p.add_argument("--log", default="runs/train/log.csv", help="training CSV log to draw curves from")
    p.add_argument("--update-metadata", action="store_true", help="write the accuracies into the model's JSON")
    args = p.parse_args(argv)
    try:
        report = evaluate(args.model, args.data, Path(args.out), Path(args.log))
    except (ModelError, DataError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print_table(report)
    print(f"wrote {args.out}/training.json, confusion_mnist.png, mistakes_mnist_test.png, training_curves.png")
    if args.update_metadata:
        from training.export import update_metadata

        accuracies = {k: v["accuracy"] for k, v in report["sets"].items() if "accuracy" in v}
        update_metadata(Path(report["model"]).with_suffix(".json"), accuracies=accuracies,
                        negatives_rejected=report["negatives"]["rejected"],
                        mnist_test_rejected=report["sets"]["mnist_test"]["rejected"])
    return 0


if __name__ == "__main__":
    sys.exit(main())
