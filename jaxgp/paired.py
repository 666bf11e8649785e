"""The paired comparison behind `jaxgp verify`: a loss against CE, seed by seed.

`paired_difference(loss, ce)` takes one score per seed of each (the two models of a pair
share their seed) and gives the mean of the differences loss - CE with its two-sided
paired-t confidence interval, mean +- t(1 - alpha/2, n - 1) * sd / sqrt(n), where sd is the
standard deviation of the differences with n - 1 degrees of freedom. Its verdict reads the
interval: `better` when it lies above 0, `worse` when below 0, `no evidence` when it
contains 0 (or a score is not finite). Its `p_value` is the two-sided paired t test's, so
p < 0.05 exactly when the 95 % interval excludes 0.

Several comparisons at once (`jaxgp verify --against`) are read with Holm's step-down
correction (`holm`): the familywise error of all the verdicts together stays at 5 %.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy import stats

from jaxgp.errors import ConfigError

BETTER, WORSE, NO_EVIDENCE = "better", "worse", "no evidence"
CONFIDENCE = 0.95


@dataclass(frozen=True)
class PairedDifference:
    """The mean difference loss - CE over n seeds and its confidence interval."""

    mean: float
    std: float
    low: float
    high: float
    n: int
    confidence: float = CONFIDENCE

    @property
    def verdict(self) -> str:
        if self.low > 0:
            return BETTER
        if self.high < 0:
            return WORSE
        return NO_EVIDENCE

    @property
    def p_value(self) -> float:
        """Two-sided paired t test of a zero mean difference (NaN when not finite; 1.0 when
        every difference is the same 0)."""
        if not all(math.isfinite(v) for v in (self.mean, self.std)):
            return float("nan")
        if self.std == 0:
            return 1.0 if self.mean == 0 else 0.0
        t = self.mean / (self.std / math.sqrt(self.n))
        return float(2 * stats.t.sf(abs(t), self.n - 1))


def holm(p_values: Sequence[float]) -> list[float]:
    """Holm's step-down adjusted p values, in the input order: the i-th smallest of m is
    multiplied by m - i (i from 0), made non-decreasing in that order and capped at 1;
    a NaN stays NaN and counts as a comparison."""
    m = len(p_values)
    order = sorted(range(m), key=lambda i: (math.isnan(p_values[i]), p_values[i]))
    adjusted = [float("nan")] * m
    running = 0.0
    for rank, i in enumerate(order):
        if math.isnan(p_values[i]):
            continue
        running = max(running, min(1.0, (m - rank) * p_values[i]))
        adjusted[i] = running
    return adjusted


def verdict(mean: float, p_value: float, alpha: float = round(1 - CONFIDENCE, 12)) -> str:
    """`better` or `worse` (the sign of `mean`) when `p_value` < `alpha`, else `no evidence`."""
    if not math.isfinite(p_value) or p_value >= alpha:
        return NO_EVIDENCE
    return BETTER if mean > 0 else WORSE


def paired_difference(
    loss: Sequence[float], ce: Sequence[float], confidence: float = CONFIDENCE
) -> PairedDifference:
    """The paired-t interval of `loss[i] - ce[i]`; at least two pairs are needed."""
    a, b = np.asarray(loss, np.float64), np.asarray(ce, np.float64)
    if a.ndim != 1 or a.shape != b.shape:
        raise ValueError(f"one score per seed of each expected, got {a.shape} and {b.shape}")
    if len(a) < 2:
        raise ConfigError(f"a paired interval needs at least 2 seeds, got {len(a)}")
    differences = a - b
    n = len(differences)
    mean = float(differences.mean())
    std = float(differences.std(ddof=1))
    half = float(stats.t.ppf(0.5 + confidence / 2, n - 1)) * std / math.sqrt(n)
    return PairedDifference(mean, std, mean - half, mean + half, n, confidence)
