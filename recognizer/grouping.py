"""Accepted digits -> numbers: digits on one line, close together, read left to right.

Last stage before the Results. Two digits belong to the same number when they
share most of their height (same line), are of similar size, and the gap
between them is small relative to their height; numbers come out in reading
order (top to bottom by line, then left to right).
"""
from __future__ import annotations

from recognizer.numeric import chains, median
from recognizer.results import Digit, Number, Rejected, union_box

LINE_OVERLAP = 0.5  # share of the smaller digit's height two digits on one line overlap by
MAX_GAP = 0.5  # a gap wider than this share of the digit height starts a new number
SIZE_RATIO = 1.8  # digits of one number differ in height by less than this factor
WORD_GAP = 0.35  # a non-digit glyph this close (share of height) beside a digit makes it part of a word ...
WORD_SIZE = 1.3  # ... when their heights differ by less than this factor ...
WORD_ASPECT = 0.35  # ... and the glyph is at least this wide for its height (not a rule remnant)
MARK_SHARE = 0.65  # a "digit" shorter than this share of the digits beside it, above or below
# their middle, is a comma, period or apostrophe; "beside": within MARK_REACH heights left or right,
MARK_REACH = 1.5  # digit heights left or right of a digit within which a smaller "digit" is a mark beside it
MARK_OVERLAP = 0.1  # sharing this share of the smaller height (a comma's tail hangs below the line)
MARK_ALONE = 1.3  # a mark is alone: no digit of its own size is beside it (small written cents, "00")


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

    Glyphs side by side on one line (small gaps, similar size) form a run; a
    run holding at least as many letter-like glyphs (candidates the classifier
    called "not a digit", of digit-like shape) as digits is a word, and its
    digits move to rejected. A run of digits with one odd glyph in it stays a
    number: one badly written or badly cut digit must not erase its neighbours.
    glyphs: the rejected candidates that may be letters (default: all rejected).
    """
    pool = rejected if glyphs is None else glyphs
    letters = [r for r in pool if r.reason == "not a digit" and r.box[2] >= WORD_ASPECT * r.box[3]]
    if not letters or not digits:
        return list(digits), list(rejected)
    boxes = [d.box for d in digits] + [r.box for r in letters]
    run = _runs(boxes)
    n_digits: dict[int, int] = {}
    for k in run[:len(digits)]:
        n_digits[k] = n_digits.get(k, 0) + 1
    n_letters: dict[int, int] = {}
    for k in run[len(digits):]:
        n_letters[k] = n_letters.get(k, 0) + 1
    keep, moved = [], []
    for d, k in zip(digits, run):
        if n_letters.get(k, 0) >= n_digits[k]:
            moved.append(Rejected(d.box, "in a word", d.confidence))
        else:
            keep.append(d)
    return keep, list(rejected) + moved


def punctuation(digits: list[Digit], rejected: list[Rejected]) -> tuple[list[Digit], list[Rejected]]:
    """Commas, periods and apostrophes between digits read as 1 or 0: drop them by context.

    Written numbers carry marks ("1.250,00", "5'000"): a mark is much shorter
    than the digits beside it and sits low or high on their line, never across
    its middle, where even a small written 0 or 1 crosses. Digits written small
    on purpose (the "00" of cents) come in pairs, so a small one with a
    neighbour of its own size stays.
    """
    keep, moved = [], []
    tallest = max((d.box[3] for d in digits), default=0)
    for d in digits:
        x, y, w, h = d.box
        if h >= MARK_SHARE * tallest:  # cheap: most digits cannot be marks, skip their neighbour search
            keep.append(d)
            continue
        near = [e.box for e in digits if e is not d and _beside(d.box, e.box)]
        if near:
            tall = median([b[3] for b in near])
            middle = median([b[1] + b[3] / 2 for b in near])
            alone = min(b[3] for b in near) > MARK_ALONE * h  # small 00 of cents come in pairs
            if h < MARK_SHARE * tall and alone and (y > middle or y + h < middle):
                moved.append(Rejected(d.box, "not a digit", d.confidence))
                continue
        keep.append(d)
    return keep, list(rejected) + moved


def _beside(mark, digit) -> bool:
    """digit is on mark's line (shares some of its height: a comma hangs below) and within reach."""
    overlap = min(mark[1] + mark[3], digit[1] + digit[3]) - max(mark[1], digit[1])
    gap = max(mark[0], digit[0]) - min(mark[0] + mark[2], digit[0] + digit[2])
    return overlap > MARK_OVERLAP * min(mark[3], digit[3]) and gap <= MARK_REACH * max(mark[3], digit[3])


def _runs(boxes: list) -> list[int]:
    """Run label per box: boxes chained by the neighbour relation."""
    return chains(boxes, _neighbours, reach=_reach)


def _reach(a) -> float:
    """How far right of a box a neighbour can start: WORD_GAP of the taller, at most WORD_SIZE times a's height."""
    return WORD_GAP * WORD_SIZE * a[3]


def _neighbours(a, b) -> bool:
    """Same line, same size, side by side with a small gap."""
    overlap = min(a[1] + a[3], b[1] + b[3]) - max(a[1], b[1])
    if overlap < LINE_OVERLAP * max(a[3], b[3]) or max(a[3], b[3]) > WORD_SIZE * min(a[3], b[3]):
        return False
    gap = max(a[0], b[0]) - min(a[0] + a[2], b[0] + b[2])
    return gap <= WORD_GAP * max(a[3], b[3])


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
                      box=union_box([d.box for d in c]), digits=c) for c in chains]
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
