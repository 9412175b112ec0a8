"""Render a webcam clip of sheets held up to the camera: the realistic bench clip of issue 20.

    python -m training.webcam_clip                                  # runs/bench/webcam_clip.mp4 + .jsonl
    python -m training.webcam_clip --seconds 4 --seed 3 --out runs/bench/short.mp4

What a laptop webcam sees when a person shows it handwritten digits, unlike the demo video's
camera gliding over a page on a table: a sheet of real handwriting (training/conditions.py:
USPS, NSYSU, ORAND and MNIST crops; ballpoint on the first sheet, red, green and blue marker on
the second) held in two hands, thumbs over its edges, in front of a dark room and the person's
coloured T-shirt. The sheet comes in from below, sways, turns and comes closer while held, and
half-way through is swapped for the other sheet in the same hands (a scene change); the second
leaves the frame sideways at the end. Auto-exposure drifts, the sheet's motion blurs it, the lens
is soft, the sensor noisy, the video compressed, and a window title bar with printed text and a
running clock lies over the top of the image (as in a screen recording of a webcam app).

The ground truth is one JSON line per frame in training/demo_video.py's format, so its `score`
and `flicker` read it: the digits wholly in view and not under a thumb, with their boxes moved
by the same homography as the sheet; "ignore" holds digits cut by the frame or the title bar or
a quarter hidden by a hand, the title bar and each of its printed characters (not handwriting).
"""
from __future__ import annotations

import argparse
import json
from pathlib import Path

import cv2
import numpy as np

from training.conditions import (_box, _dark_room, _hidden_share, _inside, _meets, _noise, hands, lay_page,
                                 load_pool, look, place_page, write_page)
from training.demo_video import motion_blur

SIZE = (720, 576)  # a PAL-sized webcam frame, as the clip that measured 129 ms a frame
FPS = 25.0
TITLE_PX = 24  # the window title bar over the top of the image
SWAP_AT = 0.5  # share of the clip after which the second sheet replaces the first
ENTER_S, LEAVE_S = 0.8, 0.8  # seconds the first sheet takes to come in, the second to go out
PENS = [(150, 50, 25), (35, 35, 35)]  # BGR ballpoint blue, black
MARKERS = [(40, 40, 220), (60, 180, 60), (200, 90, 30)]  # BGR red, green, blue marker
SHIRTS = [(40, 40, 170), (150, 90, 30), (40, 120, 40), (30, 150, 200), (120, 50, 120)]  # BGR


def sheet_look(markers: bool) -> dict:
    """The look of one held sheet: the held_dark_room condition at webcam size, pens or markers."""
    p = {**look("held_dark_room"), "frame": SIZE, "digits": (10, 16), "page_area": (0.32, 0.42),
         "roll": (-6.0, 6.0), "tilt": (0.0, 10.0)}
    if markers:
        p.update(inks=MARKERS, stroke=(0.12, 0.2), ink_alpha=(0.9, 1.0))
    return p


def backdrop(rng: np.random.Generator, w: int, h: int) -> np.ndarray:
    """A dark room with the person behind the sheet: a coloured T-shirt filling the lower middle,
    soft folds in it, a darker neck line; float32 BGR."""
    img = _dark_room(rng, h, w)
    shirt = np.float32(SHIRTS[rng.integers(len(SHIRTS))]) * rng.uniform(0.6, 1.0)
    x0, x1, y0 = int(rng.uniform(0.12, 0.25) * w), int(rng.uniform(0.75, 0.88) * w), int(rng.uniform(0.3, 0.45) * h)
    torso = np.zeros((h, w), np.float32)
    cv2.ellipse(torso, ((x0 + x1) // 2, h + (h - y0) // 3), ((x1 - x0) // 2, int(1.3 * (h - y0))), 0, 0, 360, 1.0, -1)
    torso = cv2.GaussianBlur(torso, (0, 0), 0.01 * w)[:, :, None]
    folds = 1.0 + 0.2 * _noise(rng, h, w, cell=h / 5, stretch=0.5)
    cv2.ellipse(img, ((x0 + x1) // 2, y0), (int(0.08 * w), int(0.05 * h)), 0, 0, 180, (10, 10, 12), -1)
    return img * (1 - torso) + shirt * folds[:, :, None] * torso


def motion(t: float, seconds: float, size: tuple[int, int], centre: np.ndarray, rng_phase: np.ndarray) -> np.ndarray:
    """The sheet's movement at time t as a 3x3 transform about its centre: it sways and turns a
    little all the time and comes closer now and then; it comes in from below at the start and
    leaves to the side at the end."""
    w, h = size
    a, b, c = rng_phase
    dx = 0.04 * w * np.sin(2 * np.pi * 0.23 * t + a) + 0.015 * w * np.sin(2 * np.pi * 1.1 * t + b)
    dy = 0.03 * h * np.sin(2 * np.pi * 0.31 * t + b)
    angle = 4.0 * np.sin(2 * np.pi * 0.17 * t + c)
    scale = 1.0 + 0.12 * np.sin(2 * np.pi * 0.11 * t + a)
    if t < ENTER_S:
        dy += (1 - t / ENTER_S) ** 2 * 0.9 * h
    if t > seconds - LEAVE_S:
        dx += ((t - seconds + LEAVE_S) / LEAVE_S) ** 2 * 1.1 * w
    M = cv2.getRotationMatrix2D((float(centre[0]), float(centre[1])), angle, scale)
    M[:, 2] += dx, dy
    return np.vstack([M, [0, 0, 1]])


def title_bar(img: np.ndarray, t: float) -> list[list[int]]:
    """A webcam app's window title bar with a running clock (printed digits), drawn in place;
    returns the boxes of its printed characters (a detection on one is neither right nor wrong)."""
    w = img.shape[1]
    img[:TITLE_PX] = (60, 60, 60)
    clock = f"Camera - {int(t) // 60:02d}:{int(t) % 60:02d}:{int(t * 100) % 100:02d} - {w}x{img.shape[0]} - 25 fps"
    text = np.zeros((TITLE_PX, w), np.uint8)
    cv2.putText(text, clock, (8, TITLE_PX - 7), cv2.FONT_HERSHEY_SIMPLEX, 0.5, 255, 1, cv2.LINE_AA)
    img[:TITLE_PX][text > 0] = np.clip(60 + text[text > 0, None] * (175 / 255), 0, 255).astype(np.uint8)
    for k in range(3):  # the window's buttons
        cv2.circle(img, (w - 16 - 22 * k, TITLE_PX // 2), 6, (90, 90, 200) if k == 0 else (150, 150, 150), -1)
    _, _, stats, _ = cv2.connectedComponentsWithStats((text > 64).astype(np.uint8))
    return [[int(v) for v in row[:4]] for row in stats[1:]]


def camera(frame: np.ndarray, velocity: np.ndarray, t: float, rng: np.random.Generator) -> np.ndarray:
    """The webcam: exposure drifting, motion blur, a soft lens, sensor noise (uint8 out)."""
    gain = 1.0 + 0.18 * np.sin(2 * np.pi * t / 3.7) + 0.06 * np.sin(2 * np.pi * t / 1.3)
    img = np.clip(frame * gain, 0, 255).astype(np.uint8)
    img = motion_blur(img, velocity)
    img = cv2.GaussianBlur(img, (0, 0), 0.7)
    noise = rng.normal(0, 3.5, img.shape).astype(np.float32)
    return np.clip(img.astype(np.float32) + noise, 0, 255).astype(np.uint8)


def frame_truth(index: int, sheet: int, truth: list, T: np.ndarray, hidden: np.ndarray, printed: list) -> dict:
    """One frame's ground truth: digits wholly in view below the title bar and not under a hand;
    the title bar and each of its printed characters ignored."""
    w, h = SIZE
    digits, ignore = [], [[0, 0, w, TITLE_PX], *printed]
    for k, (digit, pts) in enumerate(truth):
        x, y, bw, bh = _box(pts, T)
        below = (x, y - TITLE_PX, bw, bh)
        if _inside(below, w, h - TITLE_PX) and _hidden_share(hidden, pts, T) < 0.25:
            digits.append({"digit": int(digit), "box": [x, y, bw, bh], "id": 1000 * sheet + k})
        elif _meets((x, y, bw, bh), w, h):
            ignore.append([x, y, bw, bh])
    return {"frame": index, "time": round(index / FPS, 4), "digits": digits, "numbers": [], "ignore": ignore}


def render(out: Path, seconds: float = 10.0, seed: int = 1, quality: int = 80) -> dict:
    """Write the clip (mp4) and its ground truth (.jsonl beside it); returns a summary."""
    rng = np.random.default_rng(seed)
    pool = load_pool(quiet=True)
    w, h = SIZE
    Hm, size, quad = place_page(rng, sheet_look(False))
    sheets = [write_page(rng, sheet_look(markers), pool, Hm, size)[:2] for markers in (False, True)]
    back = backdrop(rng, w, h)
    hand_seed, phase = int(rng.integers(1 << 30)), rng.uniform(0, 2 * np.pi, 3)
    centre = quad.mean(axis=0)
    n = int(round(seconds * FPS))
    out.parent.mkdir(parents=True, exist_ok=True)
    writer = cv2.VideoWriter(str(out), cv2.VideoWriter_fourcc(*"mp4v"), FPS, SIZE)
    if not writer.isOpened():
        raise SystemExit(f"error: cannot write {out}")
    truth_path = out.with_suffix(".jsonl")
    last, counts = None, []
    with open(truth_path, "w") as fh:
        for i in range(n):
            t = i / FPS
            sheet = int(i >= SWAP_AT * n)
            page, truth = sheets[sheet]
            T = motion(t, seconds, SIZE, centre, phase) @ Hm
            frame, cover = lay_page(back, page, T, shadow=False)
            moved = cv2.perspectiveTransform(quad.reshape(1, -1, 2), T @ np.linalg.inv(Hm))[0]
            hidden = hands(np.random.default_rng(hand_seed), frame, moved, cover)  # the same grip every frame
            velocity = moved.mean(axis=0) - (last if last is not None else moved.mean(axis=0))
            last = moved.mean(axis=0)
            img = camera(frame, velocity, t, rng)
            printed = title_bar(img, t)
            ok, buf = cv2.imencode(".jpg", img, [cv2.IMWRITE_JPEG_QUALITY, quality])
            writer.write(cv2.imdecode(buf, cv2.IMREAD_COLOR))
            rec = frame_truth(i, sheet, truth, T, hidden, printed)
            fh.write(json.dumps(rec, separators=(",", ":")) + "\n")
            counts.append(len(rec["digits"]))
    writer.release()
    return {"video": str(out), "truth": str(truth_path), "frames": n, "swap_frame": int(SWAP_AT * n),
            "digits_per_frame": float(np.mean(counts)), "bytes": out.stat().st_size}


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", default="runs/bench/webcam_clip.mp4", help="the video; its truth is written beside it")
    ap.add_argument("--seconds", type=float, default=10.0)
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args(argv)
    info = render(Path(args.out), args.seconds, args.seed)
    print(f"wrote {info['video']} ({info['frames']} frames, sheet swapped at frame {info['swap_frame']}, "
          f"{info['digits_per_frame']:.1f} scorable digits a frame) and {info['truth']}")


if __name__ == "__main__":
    main()
