"""Accepted digits -> numbers: digits on one line, close together, read left to right.

Last stage before the Results. Two digits belong to the same number when they
share most of their height (same line), are of similar size, and the gap
between them is small relative to their height; numbers come out in reading
order (top to bottom by line, then left to right).
"""
from __future__ import annotations

from recognizer.results import Digit, Number, Rejected

LINE_OVERLAP = 0.5  # share of the smaller digit's height two digits on one line overlap by
MAX_GAP = 0.5  # a gap wider than this share of the digit height starts a new number
SIZE_RATIO = 1.8  # digits of one number differ in height by less than this factor
WORD_GAP = 0.35  # a non-digit glyph this close (share of height) beside a digit makes it part of a word ...
WORD_SIZE = 1.3  # ... when their heights differ by less than this factor ...
WORD_ASPECT = 0.35  # ... and the glyph is at least this wide for its height (not a rule remnant)


def same_number(a: Digit, b: Digit) -> bool:
    """b follows a in one number: same line, similar size, close gap to the right."""
    ax, ay, aw, ah = a.box
    bx, by, bw, bh = b.box
    overlap = min(ay + ah, by + bh) - max(ay, by)
    if overlap < LINE_OVERLAP * min(ah, bh):
        return False
    if max(ah, bh) > SIZE_RATIO * min(ah, bh):
        return False
    gap = bx - (ax + aw)
    return gap <= MAX_GAP * max(ah, bh)


def in_words(digits: list[Digit], rejected: list[Rejected],
             glyphs: list[Rejected] | None = None) -> tuple[list[Digit], list[Rejected]]:
    """Digits written among letters are letters: S, Z, B, l in a word read as 5, 2, 8, 1.

    A digit with a glyph beside it on the same line, of its size and digit-like
    shape, that the classifier called "not a digit", is moved to rejected.
    glyphs: the rejected candidates that may be letters (default: all rejected).
    """
    pool = rejected if glyphs is None else glyphs
    letters = [r for r in pool if r.reason == "not a digit" and r.box[2] >= WORD_ASPECT * r.box[3]]
    keep, moved = list(digits), []
    grew = True
    while grew:  # a word spreads: the digit-like letter beside a letter is a letter too
        grew = False
        for d in list(keep):
            if any(_neighbours(d.box, r.box) for r in letters):
                keep.remove(d)
                r = Rejected(d.box, "in a word", d.confidence)
                moved.append(r)
                letters.append(r)
                grew = True
    return keep, rejected + moved


def _neighbours(a, b) -> bool:
    """Same line, same size, side by side with a small gap."""
    overlap = min(a[1] + a[3], b[1] + b[3]) - max(a[1], b[1])
    if overlap < LINE_OVERLAP * max(a[3], b[3]) or max(a[3], b[3]) > WORD_SIZE * min(a[3], b[3]):
        return False
    gap = max(a[0], b[0]) - min(a[0] + a[2], b[0] + b[2])
    return gap <= WORD_GAP * max(a[3], b[3])


def union_box(digits: list[Digit]) -> tuple[int, int, int, int]:
    """Smallest box holding all the digits' boxes."""
    x0 = min(d.box[0] for d in digits)
    y0 = min(d.box[1] for d in digits)
    x1 = max(d.box[0] + d.box[2] for d in digits)
    y1 = max(d.box[1] + d.box[3] for d in digits)
    return (x0, y0, x1 - x0, y1 - y0)


def group_numbers(digits: list[Digit]) -> list[Number]:
    """Chain digits left to right into numbers; return them in reading order."""
    chains: list[list[Digit]] = []
    for d in sorted(digits, key=lambda d: d.box[0]):
        # attach to the chain whose last digit it follows most closely
        best, best_gap = None, None
        for chain in chains:
            last = chain[-1]
            if same_number(last, d):
                gap = d.box[0] - (last.box[0] + last.box[2])
                if best is None or gap < best_gap:
                    best, best_gap = chain, gap
        if best is None:
            chains.append([d])
        else:
            best.append(d)
    numbers = [Number(text="".join(str(d.digit) for d in c),
                      confidence=min(float(d.confidence) for d in c),
                      box=union_box(c), digits=c) for c in chains]
    return reading_order(numbers)


def reading_order(numbers: list[Number]) -> list[Number]:
    """Sort into lines (by vertical overlap with the line's first number), then left to right."""
    lines: list[list[Number]] = []
    for n in sorted(numbers, key=lambda n: n.box[1] + n.box[3] / 2):
        cy = n.box[1] + n.box[3] / 2
        for line in lines:
            head = line[0].box
            if head[1] <= cy <= head[1] + head[3]:
                line.append(n)
                break
        else:
            lines.append([n])
    return [n for line in lines for n in sorted(line, key=lambda n: n.box[0])]
