"""The paired comparison behind `jaxgp verify`: a loss against CE, seed by seed.

`paired_difference(loss, ce)` takes one score per seed of each (the two models of a pair
share their seed) and gives the mean of the differences loss - CE with its two-sided
paired-t confidence interval, mean +- t(1 - alpha/2, n - 1) * sd / sqrt(n), where sd is the
standard deviation of the differences with n - 1 degrees of freedom. Its verdict reads the
interval: `better` when it lies above 0, `worse` when below 0, `no evidence` when it
contains 0 (or a score is not finite).
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
