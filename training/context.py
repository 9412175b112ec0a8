"""Teach the classifier to read a candidate's surroundings: is this writing on paper, or not?

    python -m training.context                 # collect, train, export: assets/models/digits*.tflite
    python -m training.context --collect-only  # just the proposals, runs/context/<source>.npz

The digit network sees each candidate cut out (its own ink, centred): a finger's
gap, a T-shirt's fold and a shadow's edge cut out are perfect 1s and 7s, and no
amount of training on crops can refuse them. Their surroundings can
(recognizer/context.py). This module

1. runs the recognizer's own proposal stage (`pipeline.locate`: every candidate
   it would classify) on rendered scenes whose digits are known: every condition
   of the condition matrix (training/conditions.py: desks, fabric, dark rooms and
   hands, markers, pencil, lamps, noise, webcam JPEG; seed CONDITION_SEED, other
   scenes than bench/bench_conditions.py's) and webcam clips of held sheets
   (training/webcam_clip.py; seeds WEBCAM_SEEDS, not the demo's 1 or the bench
   clip's 2);
2. labels each candidate by the truth: writing where it covers a true digit
   or a piece of one (WRITING_SHARE of it inside), not writing where it touches no digit nor
   anything the truth ignores (printed digits, digits cut by the frame or under a thumb),
   neither (left out) in between; MNIST training digits with blank surroundings
   are writing too (a digit alone on clean paper, as a form's cell is read);
3. trains a small network (the "context gate") on the crop and its
   surroundings, two channels, to say "not writing";
4. exports each shipped digit model joined with the gate as ONE LiteRT model of
   a (28, 28, 2) input (one call per frame, as before): the digit probabilities,
   with the gate's "not writing" folded into the not-a-digit class,
   `reject' = 1 - (1 - reject)(1 - gate)`. The gate can only add doubt: where it
   says "writing" the digit network's reading and reject stand unchanged.

The .keras files stay the digit networks alone, and `context.keras` the gate, all
standard layers (loaded with safe mode on); the join exists only in the .tflite.
"""
from __future__ import annotations

import argparse
import json
import sys
import time
import zlib
from pathlib import Path

import cv2
import numpy as np
from tqdm import tqdm

from recognizer import pipeline
from recognizer.context import blank_context, context_batch
from recognizer.normalize import normalize_batch

ROOT = Path(__file__).resolve().parent.parent
MODELS = ROOT / "assets" / "models"
CACHE = ROOT / "runs" / "context"  # rendered clips and each source's proposals (<source>.npz)
CONDITION_SEED = 4321  # the condition matrix benchmark renders seed 1234
SCENES_PER_CONDITION = 20
WEBCAM_SEEDS = tuple(range(11, 31))  # the demo is seed 1, the bench clip seed 2
WEBCAM_SECONDS = 6.0
WEBCAM_EVERY = 3  # every third frame: neighbours are nearly the same picture
CHEQUE_EVERY = 2  # every other cheque of ORAND's train split
GRID_SEED, GRID_PAGES = 9001, 40  # photographed hand-filled puzzle grids
CUTS_PER_SCENE = 3  # digits cut out of each scene with their surroundings (`cut_out`) ...
CUT_MARGIN = (0.05, 0.8)  # ... with a margin of this share of their size
FORM_SEEDS = tuple(range(5000, 5030))  # bench/bench_forms.py draws its pages from seeds 7000+ and 11000+
WRITING_SHARE = 0.6  # a candidate lying this much inside true digits is writing ...
CLEAR_SHARE = 0.05  # ... one with no more than this share inside true or ignored boxes is not
MNIST_WRITING = 20000  # MNIST digits with blank surroundings among the writing
HELD_OUT = 0.15  # share of the scenes (whole scenes) kept for validation
EPOCHS = 15
MAX_WRITING_REFUSED = 0.02  # the gate's threshold: set on held-out scenes so it refuses at most this share of writing


def proposals(image: np.ndarray) -> tuple[np.ndarray, np.ndarray, list]:
    """What the recognizer would classify in this image: (crops, surroundings, boxes in input pixels)."""
    h, w = image.shape[:2]
    prep, found = pipeline.locate(image)
    heads = [c for c in found if not c.tail]
    crops = normalize_batch([c.crop for c in heads], ink="light") if heads else np.zeros((0, 28, 28), np.float32)
    around = context_batch(prep.ink, [c.box for c in heads])
    boxes = []
    for c in heads:
        box = pipeline._to_input(c.box, prep, (w, h))
        boxes.append(pipeline._unlevelled(box, prep, (w, h)) if prep.level_to_input is not None else box)
    return crops, around, boxes


def inside_share(box, others: list) -> float:
    """The share of `box`'s area inside the union of `others` (rasterized at the box's size)."""
    x, y, w, h = (int(v) for v in box)
    if w <= 0 or h <= 0:
        return 0.0
    covered = np.zeros((h, w), bool)
    for ox, oy, ow, oh in others:
        x0, y0, x1, y1 = max(x, ox), max(y, oy), min(x + w, ox + ow), min(y + h, oy + oh)
        if x1 > x0 and y1 > y0:
            covered[y0 - y: y1 - y, x0 - x: x1 - x] = True
    return float(covered.mean())


def labels(boxes: list, digits: list, ignore: list) -> np.ndarray:
    """1 writing, 0 not writing, -1 neither. Writing: a candidate mostly (WRITING_SHARE) inside
    true digits: a whole digit, a piece of one, two touching ones (whether it is a good cut is
    the digit network's question, not the gate's). Not writing: one overlapping no true digit
    and nothing the truth ignores (printed digits, digits cut by the frame or under a thumb)."""
    out = np.full(len(boxes), -1, np.int8)
    for i, box in enumerate(boxes):
        if inside_share(box, digits) >= WRITING_SHARE:
            out[i] = 1
        elif inside_share(box, [*digits, *ignore]) <= CLEAR_SHARE:
            out[i] = 0
    return out


def condition_scenes():
    """(name, image, digit boxes, ignored boxes) for SCENES_PER_CONDITION scenes of every condition."""
    from training.conditions import CONDITIONS, load_pool, render

    pool = load_pool(quiet=True)
    for name in CONDITIONS:
        for k in range(SCENES_PER_CONDITION if name != "photo_12mp" else 3):
            rng = np.random.default_rng([CONDITION_SEED, zlib.crc32(name.encode()), k])  # as bench_conditions
            image, gts, ignore = render(name, rng, pool)
            yield f"{name}/{k}", image, [b for _, b in gts], list(ignore)


def webcam_frames(folder: Path):
    """(name, frame, digit boxes, ignored boxes) from held-sheet clips rendered into `folder`."""
    from training.webcam_clip import render

    for seed in WEBCAM_SEEDS:
        clip = folder / f"webcam_{seed}.mp4"
        if not clip.is_file():
            render(clip, seconds=WEBCAM_SECONDS, seed=seed)
        truth = [json.loads(line) for line in clip.with_suffix(".jsonl").read_text().splitlines()]
        cap = cv2.VideoCapture(str(clip))
        for index, t in enumerate(truth):
            ok, frame = cap.read()
            if not ok:
                break
            if index % WEBCAM_EVERY == 0:
                yield f"webcam{seed}/{index}", frame, [d["box"] for d in t["digits"]], t["ignore"]
        cap.release()


def form_pages():
    """(name, image, digit boxes, ignored boxes) of real-looking forms (training/real_forms.py),
    scanned and photographed: digits in boxes, combs and tables. Only their fields' insides are
    known to be writing; everything else on the page is ignored (printed prompts, headers)."""
    from training.data import load_mnist
    from training.real_forms import render_pair

    _, (images, labels_) = load_mnist()
    for seed in FORM_SEEDS:
        for image, truth in render_pair(seed, images, labels_):
            fields = [f["box"] for f in truth["fields"]]
            yield f"form{seed}/{truth['look']}", image, fields, [[0, 0, image.shape[1], image.shape[0]]]


def cheques():
    """(name, image, digit boxes, nothing ignored) of ORAND's train split (real cheques' amount
    fields: printed patterns and rules round the handwriting; the evaluation reads the test
    split). Skipped, saying so, where the real-world data is absent."""
    from training.realdata import DataError, ORAND, orand_boxes, realworld_dir

    try:
        folder = realworld_dir(ORAND)
    except DataError as exc:
        print(f"note: {exc}; no cheques among the proposals", file=sys.stderr)
        return
    for k, (name, digits) in enumerate(sorted(orand_boxes("train", folder).items())):
        image = cv2.imread(str(folder / name))
        if image is not None and k % CHEQUE_EVERY == 0:
            yield f"orand/{name}", image, [box for _, box in digits], []


def grid_pages():
    """(name, image, digit boxes, nothing ignored) of photographed grids filled in by hand: a 9x9
    puzzle grid, thick lines every third, printed and handwritten digits in some cells, some
    digits touching a line (as people fill Sudokus). The printed ones are ignored."""
    from training.conditions import _box
    from training.data import load_mnist
    from training.scenes import draw_digit, paper, photograph

    _, (images, _) = load_mnist()
    rng = np.random.default_rng(GRID_SEED)
    for k in range(GRID_PAGES):
        cell = int(rng.integers(36, 80))
        side, margin = 9 * cell, int(rng.integers(20, 120))
        page = paper(rng, side + 2 * margin, side + 2 * margin, ruled=False)
        thin, thick = int(rng.integers(1, 3)), int(rng.integers(3, 7))
        for i in range(10):
            width = thick if i % 3 == 0 else thin
            at = margin + i * cell
            cv2.line(page, (margin, at), (margin + side, at), (40, 40, 40), width)
            cv2.line(page, (at, margin), (at, margin + side), (40, 40, 40), width)
        digits, printed = [], []
        for r in range(9):
            for c in range(9):
                what = rng.random()
                x, y = margin + c * cell, margin + r * cell
                if what < 0.2:  # printed
                    cv2.putText(page, str(int(rng.integers(1, 10))), (x + cell // 4, y + 3 * cell // 4),
                                cv2.FONT_HERSHEY_SIMPLEX, cell / 40, (30, 30, 30), max(1, cell // 18))
                    printed.append([x, y, cell, cell])
                elif what < 0.55:  # handwritten, sometimes over a line
                    h = int(cell * rng.uniform(0.55, 1.0))
                    dx, dy = (int(v) for v in rng.integers(-cell // 5, cell // 5 + 1, 2))
                    box = (x + (cell - h * 3 // 4) // 2 + dx, y + (cell - h) // 2 + dy, h * 3 // 4, h)
                    ink = [(150, 50, 25), (35, 35, 35), (40, 40, 200)][int(rng.integers(3))]
                    digits.append(list(draw_digit(page, images[int(rng.integers(len(images)))], box, ink, rng)))
        image, m = photograph(page, rng, strength=float(rng.uniform(0.3, 1.0)))
        moved = lambda boxes: [list(_box(corners(b), m)) for b in boxes]  # noqa: E731
        yield f"grid{k}", image, moved(digits), moved(printed)


def corners(box) -> np.ndarray:
    """A box's four corners, (4, 2)."""
    x, y, w, h = box
    return np.float32([[x, y], [x + w, y], [x + w, y + h], [x, y + h]])


def cut_out(scenes, rng: np.random.Generator):
    """The same scenes as pre-cut pieces, as people feed them too (a folder of Sudoku cells, a
    form's fields, a cheque's amount): up to CUTS_PER_SCENE true digits each cut out with a
    margin of CUT_MARGIN times its size, grid lines and neighbours included, read as a frame."""
    for name, image, digits, ignore in scenes:
        h, w = image.shape[:2]
        for k in rng.permutation(len(digits))[:CUTS_PER_SCENE]:
            x, y, bw, bh = digits[k]
            m = rng.uniform(*CUT_MARGIN) * max(bw, bh)
            x0, y0 = max(0, int(x - m * rng.uniform(0.5, 1.5))), max(0, int(y - m * rng.uniform(0.5, 1.5)))
            x1, y1 = min(w, int(x + bw + m * rng.uniform(0.5, 1.5))), min(h, int(y + bh + m * rng.uniform(0.5, 1.5)))
            if x1 - x0 < 8 or y1 - y0 < 8:
                continue
            moved = lambda boxes: [[bx - x0, by - y0, bw_, bh_] for bx, by, bw_, bh_ in boxes]  # noqa: E731
            whole = [b for b in digits if b[0] >= x0 and b[1] >= y0 and b[0] + b[2] <= x1 and b[1] + b[3] <= y1]
            cut = [b for b in digits if b not in whole]  # a digit the cut goes through: neither
            yield f"{name}/cut{k}", image[y0:y1, x0:x1], moved(whole), moved([*cut, *ignore])


def cut_scenes():
    """Pre-cut digits (`cut_out`) from the condition scenes and the forms."""
    rng = np.random.default_rng(CONDITION_SEED)
    yield from cut_out(condition_scenes(), rng)
    yield from cut_out(form_pages(), rng)
    yield from cut_out(grid_pages(), rng)


SOURCES = {"conditions": condition_scenes, "webcam": lambda: webcam_frames(CACHE), "forms": form_pages,
           "cheques": cheques, "grids": grid_pages, "cut_out": cut_scenes}


def collect(name: str) -> dict:
    """One source's proposals, labelled; kept in CACHE/<name>.npz."""
    crops, around, writing, scene = [], [], [], []
    CACHE.mkdir(parents=True, exist_ok=True)
    for tag, image, digits, ignore in tqdm(SOURCES[name](), desc=f"proposals ({name})", file=sys.stderr):
        c, a, boxes = proposals(image)
        y = labels(boxes, digits, ignore)
        keep = y >= 0
        crops.append(c[keep])
        around.append(a[keep])
        writing.append(y[keep])
        scene += [tag] * int(keep.sum())
    data = {"crops": np.concatenate(crops).astype(np.float16), "around": np.concatenate(around).astype(np.float16),
            "writing": np.concatenate(writing), "scene": np.array(scene)}
    np.savez_compressed(CACHE / f"{name}.npz", **data)
    return data


def load(recollect: bool = False) -> dict:
    """Every source's proposals, collected where not cached (or `recollect`)."""
    parts = [dict(np.load(CACHE / f"{n}.npz")) if (CACHE / f"{n}.npz").is_file() and not recollect else collect(n)
             for n in SOURCES]
    return {k: np.concatenate([p[k] for p in parts]) for k in parts[0]}


def mnist_writing(n: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """n MNIST training digits, normalized, with blank surroundings (a digit alone on paper)."""
    from training.data import load_mnist

    (x, _), _ = load_mnist()
    pick = np.random.default_rng(seed).permutation(len(x))[:n]
    crops = normalize_batch(x[pick], "light")
    return crops, blank_context(crops)


def build_gate():
    """The context gate: (28, 28, 2) crop and surroundings -> P(not writing). About 0.5 M
    multiply-adds a crop, a twentieth of the digit network."""
    import keras
    from keras import layers

    inp = keras.Input((28, 28, 2), name="crop_and_context")
    x = layers.Conv2D(12, 3, padding="same", activation="relu")(inp)
    x = layers.MaxPooling2D()(x)
    x = layers.Conv2D(24, 3, padding="same", activation="relu")(x)
    x = layers.MaxPooling2D()(x)
    x = layers.Conv2D(32, 3, activation="relu")(x)
    x = layers.Flatten()(x)
    x = layers.Dropout(0.3)(x)
    x = layers.Dense(32, activation="relu")(x)
    out = layers.Dense(1, activation="sigmoid", name="not_writing")(x)
    return keras.Model(inp, out, name="context_gate")


def split(data: dict, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Whole scenes held out (HELD_OUT of them): neighbouring crops of one scene are near copies."""
    scenes = np.unique(data["scene"])
    held = set(np.random.default_rng(seed).choice(scenes, int(HELD_OUT * len(scenes)), replace=False))
    val = np.array([s in held for s in data["scene"]])
    return ~val, val


def train(data: dict, epochs: int = EPOCHS):
    """The gate trained on the proposals (and MNIST writing); returns (model, validation figures)."""
    import keras

    tr, val = split(data)
    x = np.stack([data["crops"], data["around"]], axis=-1).astype(np.float32)
    y = 1 - data["writing"].astype(np.float32)  # 1: not writing
    mc, ma = mnist_writing(MNIST_WRITING)
    x_tr = np.concatenate([x[tr], np.stack([mc, ma], axis=-1)])
    y_tr = np.concatenate([y[tr], np.zeros(len(mc), np.float32)])
    keras.utils.set_random_seed(0)
    model = build_gate()
    model.compile(optimizer=keras.optimizers.Adam(1e-3), loss="binary_crossentropy", metrics=["accuracy"])
    weight = {0: 1.0, 1: float((y_tr == 0).sum() / max(1, (y_tr == 1).sum()))}  # the classes weigh alike
    model.fit(x_tr, y_tr, batch_size=256, epochs=epochs, validation_data=(x[val], y[val]), class_weight=weight,
              callbacks=[keras.callbacks.EarlyStopping(patience=3, restore_best_weights=True)], verbose=2)
    threshold = calibrate(model, x[val][y[val] == 0])
    g = model.predict(x[val], batch_size=1024, verbose=0)[:, 0]
    figures = {"threshold": threshold,
               "val_writing_refused": float((g[y[val] == 0] >= 0.5).mean()),
               "val_not_writing_refused": float((g[y[val] == 1] >= 0.5).mean()),
               "mnist_refused": float((model.predict(np.stack([mc[:5000], ma[:5000]], -1), verbose=0) >= 0.5).mean()),
               "train_proposals": int(tr.sum()), "val_proposals": int(val.sum()),
               "not_writing_share": float(y.mean())}
    return model, figures


def calibrate(model, writing: np.ndarray) -> float:
    """Move the gate's decision to the threshold at which it refuses MAX_WRITING_REFUSED of the
    held-out writing (never under 0.5): the output layer's bias shifted by that threshold's
    logit, so 0.5 means it in the exported model. Returns the threshold."""
    g = model.predict(writing, batch_size=1024, verbose=0)[:, 0]
    threshold = max(0.5, float(np.quantile(g, 1 - MAX_WRITING_REFUSED)))
    threshold = min(threshold, 0.999)
    layer = model.get_layer("not_writing")
    kernel, bias = layer.get_weights()
    layer.set_weights([kernel, bias - np.log(threshold / (1 - threshold))])
    return threshold


def export(gate, data: dict, figures: dict) -> list[Path]:
    """The gate as context.keras, and each shipped digit model re-exported joined with it."""
    import keras

    from training.export import joined, to_tflite, update_metadata

    gate.save(MODELS / "context.keras")
    x = np.stack([data["crops"], data["around"]], axis=-1).astype(np.float32)
    mc, ma = mnist_writing(300, seed=1)
    pick = np.random.default_rng(0).permutation(len(x))[:300]
    representative = np.concatenate([np.stack([mc, ma], -1), x[pick]])
    written = [MODELS / "context.keras"]
    for name in ("digits", "digits_small"):
        digits = keras.models.load_model(MODELS / f"{name}.keras", safe_mode=True)
        path = MODELS / f"{name}.tflite"
        path.write_bytes(to_tflite(joined(digits, gate), representative, channels=2))
        update_metadata(path.with_suffix(".json"), input=[28, 28, 2], exported=time.strftime("%Y-%m-%d %H:%M:%S"),
                        context={"model": "context.keras", "span": "recognizer/context.py CONTEXT_SPAN",
                                 "trained": time.strftime("%Y-%m-%d %H:%M:%S"), **figures})
        written.append(path)
    return written


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--collect-only", action="store_true")
    ap.add_argument("--recollect", action="store_true", help="render and collect again even if cached")
    ap.add_argument("--epochs", type=int, default=EPOCHS)
    a = ap.parse_args(argv)
    data = load(a.recollect)
    n, bad = len(data["writing"]), int((data["writing"] == 0).sum())
    print(f"{n} proposals from {len(np.unique(data['scene']))} scenes: {n - bad} writing, {bad} not writing")
    if a.collect_only:
        return 0
    gate, figures = train(data, a.epochs)
    print(json.dumps(figures, indent=1))
    for path in export(gate, data, figures):
        print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
