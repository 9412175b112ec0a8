"""What the command line tells the user on stderr, through `logging`, so that -q and -v set how much.

    from recognizer.log import log
    log.error("cannot open video x.mp4")      # error: cannot open video x.mp4
    log.warning("x.mp4 ended at frame 148")   # warning: x.mp4 ended at frame 148
    log.info("processed 250 frames ...")      # as it is (notes, the summary line)

Each message stays one line with its usual prefix, written through tqdm so that a progress
bar stays whole. `configure` (the CLI does it) chooses: -q errors only (no progress bars
either), the default errors, warnings and notes, -v also the time each stage took. Used as a
library without `configure`, the recognizer says nothing but what Python's logging shows
(warnings and errors).
"""
from __future__ import annotations

import logging
import sys

from tqdm import tqdm

log = logging.getLogger("recognizer")
PREFIX = {logging.ERROR: "error: ", logging.WARNING: "warning: ", logging.DEBUG: "debug: "}
LEVELS = {-1: logging.ERROR, 0: logging.INFO, 1: logging.DEBUG}  # -q, default, -v


class _OneLine(logging.Handler):
    """Each record as "prefix: message" on stderr, written around any progress bar."""

    def emit(self, record: logging.LogRecord) -> None:
        try:
            tqdm.write(PREFIX.get(record.levelno, "") + record.getMessage(), file=sys.stderr)
        except Exception:  # noqa: BLE001 - a closed stderr must not end the run
            self.handleError(record)


def configure(verbosity: int = 0) -> None:
    """-1 (-q), 0 or 1 (-v): see the module docstring."""
    log.handlers[:] = [_OneLine()]
    log.setLevel(LEVELS[max(-1, min(1, verbosity))])
    log.propagate = False


def configure_once(verbosity: int = 0) -> None:
    """`configure`, unless the CLI already did: the loop and the forms reader called from Python
    (a bench, a test) say what the CLI would."""
    if not log.handlers:
        configure(verbosity)


def quiet() -> bool:
    """Errors only (-q): no notes, no progress bars."""
    return log.level >= logging.ERROR
