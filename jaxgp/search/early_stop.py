"""Early stopping of hopeless candidates: the policies and the rule each one applies.

- `none`: every candidate trains every epoch on every dataset (the thesis).
- `baseline` (the default): at each rung, the epochs 2, 4, 8, 16, ... before the last, a
  candidate is stopped when its improvement over CE at that same epoch of CE's baseline run
  (`jaxgp.fitness.improvement` of the run's fitness metric: validation accuracy by default)
  is below the rung's threshold: -40% at epoch 2, -20% from epoch 4 on (with accuracy: under
  60%, then under 80%, of CE's). The rule looks at the candidate and CE only, never at the
  candidates trained with it, so a candidate stops at the same epoch whatever K, chunk or
  resume it is trained in.

Chosen on the learning curves of 200 random trees on digits with the tiny recipe, and
measured on others (benchmarks/studies/early_stop.py, benchmarks/RESULTS.md): epoch 1 is too noisy
to rank by, and at epoch 2 slow starters that end near CE are still 30% behind it, hence the
wider first threshold; successive halving among the run's candidates (ASHA), simulated on
the same curves, stopped the eventual best in many orders, so it does not ship.

A candidate whose training failed (non-finite loss or gradients) also leaves at once under
any policy but `none`: its frozen model's metrics can no longer change.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum

from jaxgp.errors import parse_choice
from jaxgp.fitness import Metric, Scores

FIRST_RUNG = 2
FIRST_THRESHOLD = -40.0
THRESHOLD = -20.0
"""Percent: a candidate this much (or more) worse than CE at a rung is stopped (at the
first rung, `FIRST_THRESHOLD`)."""


def rungs(epochs: int) -> tuple[int, ...]:
    """The epochs (1-based) after which a candidate may be stopped: 2, 4, 8, ... < `epochs`."""
    out, rung = [], FIRST_RUNG
    while rung < epochs:
        out.append(rung)
        rung *= 2
    return tuple(out)


@dataclass(frozen=True)
class BaselineRule:
    """Stop at a rung when the candidate is the rung's threshold (percent) or more worse than
    CE was at that epoch; `baseline[e - 1]` is CE's validation value of `metric` after
    epoch e."""

    baseline: tuple[float, ...]
    metric: Metric
    epochs: int
    first_threshold: float = FIRST_THRESHOLD
    threshold: float = THRESHOLD

    def __call__(self, epoch: int, record) -> bool:
        """Whether a candidate whose epoch `epoch` ended with `record` stops there."""
        if epoch not in rungs(self.epochs) or epoch > len(self.baseline):
            return False
        threshold = self.first_threshold if epoch == FIRST_RUNG else self.threshold
        change = self.metric.improvement(self.metric.of(record), self.baseline[epoch - 1])
        return not change >= threshold  # a non-finite value compares false: it stops


def baseline_curve(scores: Scores, metric: Metric) -> tuple[float, ...]:
    """CE's validation value of `metric` after each epoch, from its recorded history."""
    return tuple(scores.value_at(epoch, metric) for epoch in range(1, len(scores.history) + 1))


class StopPolicy(StrEnum):
    """An early-stop policy, parsed once (`StopPolicy.parse`) where settings are built: it
    gives the rule a candidate is stopped by on a dataset and the order datasets train in."""

    NONE = "none"
    BASELINE = "baseline"

    @staticmethod
    def parse(text: str) -> StopPolicy:
        """The policy named `text`; `ConfigError` naming the valid ones otherwise."""
        return parse_choice(StopPolicy, text, "early-stop policy")

    def rule(self, baseline: Scores, metric: Metric, epochs: int) -> BaselineRule | None:
        """The rule for one dataset whose CE run is `baseline` (None: train every epoch)."""
        if self is StopPolicy.NONE:
            return None
        return BaselineRule(baseline_curve(baseline, metric), metric, epochs)

    def order(self, datasets: Sequence) -> list:
        """The datasets in the order candidates train on them: the cheapest first when
        candidates may stop (the cheapest decides first), the suite's order otherwise."""
        if self is StopPolicy.NONE:
            return list(datasets)
        return sorted(datasets, key=training_cost)


POLICIES = tuple(StopPolicy)
DEFAULT_POLICY = StopPolicy.BASELINE


def training_cost(dataset) -> int:
    """Values seen in one epoch, training images times their size (0 when unknown: a
    stable sort then keeps the suite's order)."""
    images = getattr(getattr(dataset, "train", None), "images", None)
    return 0 if images is None else math.prod(int(extent) for extent in images.shape)
