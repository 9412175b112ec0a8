"""training/webcam_clip.py: the realistic bench clip (a sheet held up to a webcam, swapped half-way)
must carry true ground truth, or bench/bench_video.py measures the renderer, not the recognizer."""
from __future__ import annotations

import cv2
import numpy as np
import pytest


@pytest.fixture(scope="module")
def clip(tmp_path_factory, mnist):
    """A 2.4 s clip (60 frames), its frames and its truth."""
    from training.demo_video import load_jsonl
    from training.webcam_clip import render

    out = tmp_path_factory.mktemp("webcam") / "clip.mp4"
    info = render(out, seconds=2.4, seed=3)
    cap = cv2.VideoCapture(str(out))
    frames = []
    while True:
        ok, image = cap.read()
        if not ok:
            break
        frames.append(image)
    return info, frames, load_jsonl(info["truth"])


def test_every_frame_has_its_truth_and_the_title_bar_is_ignored(clip):
    from training.webcam_clip import SIZE, TITLE_PX

    info, frames, truth = clip
    assert len(frames) == len(truth) == info["frames"] == 60
    assert frames[0].shape[:2] == SIZE[::-1]
    assert all(t["ignore"][0] == [0, 0, SIZE[0], TITLE_PX] for t in truth)
    assert all(d["box"][1] >= TITLE_PX for t in truth for d in t["digits"])


def test_the_sheet_comes_in_and_is_swapped_half_way(clip):
    info, _, truth = clip
    seen = [len(t["digits"]) for t in truth]
    assert seen[0] < max(seen) and max(seen) >= 8  # coming in from below: few digits whole at first
    sheets = [{d["id"] // 1000 for d in t["digits"]} for t in truth]
    swap = info["swap_frame"]
    assert all(s <= {0} for s in sheets[:swap]) and all(s <= {1} for s in sheets[swap:])
    assert sheets[swap - 1] == {0} and sheets[swap] == {1}  # a hard cut: no frame without a sheet


def test_truth_boxes_hold_ink_on_paper(clip):
    """In each scorable box the inkiest pixels stand far from the paper around it (in colour:
    the second sheet is written in marker)."""
    _, frames, truth = clip
    far = []
    for k in (20, 45):
        image = frames[k].astype(np.float32)
        for d in truth[k]["digits"]:
            x, y, w, h = d["box"]
            m = max(3, h // 2)
            around = image[max(0, y - m): y + h + m, max(0, x - m): x + w + m].reshape(-1, 3)
            paper = np.median(around, axis=0)
            inside = image[y:y + h, x:x + w].reshape(-1, 3)
            far.append(np.percentile(np.linalg.norm(inside - paper, axis=1), 97))
    assert len(far) >= 10 and np.median(far) > 60 and min(far) > 25, sorted(far)[:5]
