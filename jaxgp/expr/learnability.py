"""The learnability screen: does a loss fall when probability moves to the true class?

A loss that a classifier can learn from must prefer, at least locally, predictions that put
more probability on the true class. The screen (after Neural Loss Function Evolution's
screening of candidate losses) compares the loss before and after moving probability mass
to the true class, in three cases, for 10 and for 100 classes:

- from chance: every class at 1/C; then 0.1 more on the true class;
- from a confident wrong prediction: 0.6 on one wrong class; then 0.2 of it to the true class;
- from a weakly right prediction: 0.2 on the true class; then 0.3.

In each case the rest is spread evenly over the other classes, over a batch of
`SCREEN_BATCH` examples with random true classes (fixed seeds). A loss passes when its mean
value falls in every case (by more than float32 rounding). The cases stay below the
confidence where bounded losses such as NGL turn (NGL stops pulling the true class up near
p = 0.35-0.4, which still classifies correctly), so every named loss passes.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import cache

import numpy as np

CLASSES = (10, 100)
SCREEN_BATCH = 32
CASES = ("from chance", "from a confident wrong prediction", "from a weakly right prediction")
TOLERANCE = 1e-6


def _spread(true: np.ndarray, wrong: np.ndarray, p_true, p_wrong, classes: int) -> np.ndarray:
    """[B, C] probabilities: `p_true` on the true class, `p_wrong` on the wrong one (None:
    no wrong class singled out), the rest spread evenly over the other classes."""
    batch = len(true)
    rows = np.arange(batch)
    singled = 1 if p_wrong is not None else 0
    rest = (1.0 - p_true - (p_wrong or 0.0)) / (classes - 1 - singled)
    y_pred = np.full((batch, classes), rest)
    y_pred[rows, true] = p_true
    if p_wrong is not None:
        y_pred[rows, wrong] = p_wrong
    return y_pred


@cache
def screen_inputs(classes: int) -> tuple[np.ndarray, np.ndarray]:
    """(y_pred [2 * len(CASES), B, C]: each case's before then after, y_true [B, C])."""
    rng = np.random.default_rng(1000 + classes)
    true = rng.integers(classes, size=SCREEN_BATCH)
    wrong = (true + 1 + rng.integers(classes - 1, size=SCREEN_BATCH)) % classes
    chance = 1.0 / classes
    pairs = [
        ((chance, None), (chance + 0.1, None)),
        ((0.4 / (classes - 1), 0.6), (0.4 / (classes - 1) + 0.2, 0.4)),
        ((0.2, None), (0.3, None)),
    ]
    y_pred = [_spread(true, wrong, *point, classes) for pair in pairs for point in pair]
    y_true = np.eye(classes)[true]
    return np.stack(y_pred).astype(np.float32), y_true.astype(np.float32)


def judge(values: dict[int, np.ndarray]) -> str:
    """'' when the loss falls in every case, else why not; `values[C]` holds the loss at
    each of `screen_inputs(C)`'s points, case by case (before, after), for the class counts
    given (in `CLASSES` order: a screen may judge 10 classes before computing 100)."""
    for classes in (c for c in CLASSES if c in values):
        points = np.asarray(values[classes], dtype=np.float64).reshape(len(CASES), 2)
        for case, (before, after) in zip(CASES, points, strict=True):
            if not np.isfinite(before) or not np.isfinite(after):
                return f"the loss is not finite on the learnability probes ({classes} classes)"
            if not after < before - TOLERANCE * max(1.0, abs(before)):
                return (
                    f"the loss does not fall when probability moves to the true class "
                    f"({classes} classes, {case}: {before:.4g} -> {after:.4g})"
                )
    return ""


def screen_function(loss: Callable) -> str:
    """The screen's reason for rejecting `loss(y_pred, y_true) -> scalar`, or '' if it passes
    (for losses that are not trees, such as the named `ce`, `fpl` and `focal`)."""
    values = {}
    for classes in CLASSES:
        y_pred, y_true = screen_inputs(classes)
        values[classes] = np.array([float(loss(point, y_true)) for point in y_pred])
    return judge(values)
