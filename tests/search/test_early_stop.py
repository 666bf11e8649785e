"""The early-stop policies: rungs, the baseline rule's thresholds, the training order."""

import math
from types import SimpleNamespace

import numpy as np
import pytest

from jaxgp.errors import ConfigError
from jaxgp.fitness import Metric, Scores
from jaxgp.search.early_stop import BaselineRule, StopPolicy, rungs
from jaxgp.train.results import EpochRecord

CE_CURVE = (0.4, 0.6, 0.7, 0.8, 0.85, 0.9, 0.92, 0.94, 0.95, 0.96)


def record(epoch, accuracy, loss=1.0):
    return EpochRecord(epoch, loss, accuracy, loss, accuracy, 1e-3)


def ce_scores(curve=CE_CURVE, losses=None):
    losses = losses or [1.0] * len(curve)
    history = tuple(
        EpochRecord(e, v, a, v, a, 1e-3)
        for e, (a, v) in enumerate(zip(curve, losses, strict=True), start=1)
    )
    return Scores(losses[-1], curve[-1], losses[-1], curve[-1], history=history)


@pytest.mark.parametrize(
    ("epochs", "expected"),
    [(10, (2, 4, 8)), (6, (2, 4)), (16, (2, 4, 8)), (17, (2, 4, 8, 16)), (2, ()), (1, ())],
)
def test_rungs_double_from_epoch_two_and_skip_the_last_epoch(epochs, expected):
    assert rungs(epochs) == expected


def test_a_candidate_stops_at_a_rung_when_far_enough_behind_ce_at_that_epoch():
    rule = StopPolicy.BASELINE.rule(ce_scores(), Metric.ACCURACY, 10)
    # epoch 2: under 60% of CE's 0.6 stops
    assert rule(2, record(2, 0.6 * 0.6 - 1e-6)) and not rule(2, record(2, 0.6 * 0.6 + 1e-6))
    # epochs 4 and 8: under 80% of CE's
    assert rule(4, record(4, 0.8 * 0.8 - 1e-6)) and not rule(4, record(4, 0.8 * 0.8 + 1e-6))
    assert rule(8, record(8, 0.8 * 0.94 - 1e-6)) and not rule(8, record(8, 0.8 * 0.94 + 1e-6))
    # never between rungs, nor after the last epoch, however bad
    assert not any(rule(e, record(e, 0.0)) for e in (1, 3, 5, 6, 7, 9, 10))
    assert rule(2, record(2, math.nan))


def test_under_the_loss_metric_a_candidate_stops_when_its_loss_is_far_above_ce():
    losses = [2.0, 1.5, 1.2, 1.0, 0.9, 0.8, 0.7, 0.6, 0.5, 0.4]
    rule = StopPolicy.BASELINE.rule(ce_scores(losses=losses), Metric.LOSS, 10)
    assert rule(4, record(4, 0.9, loss=1.0 * 1.2 + 1e-6))
    assert not rule(4, record(4, 0.0, loss=1.0 * 1.2 - 1e-6))


def test_a_baseline_without_history_stops_nobody():
    rule = BaselineRule((), Metric.ACCURACY, 10)
    assert not any(rule(e, record(e, 0.0)) for e in range(1, 11))


def test_no_rule_without_a_policy_and_a_clear_error_for_an_unknown_one():
    assert StopPolicy.NONE.rule(ce_scores(), Metric.ACCURACY, 10) is None
    assert StopPolicy.parse("baseline") is StopPolicy.BASELINE
    with pytest.raises(
        ConfigError, match="unknown early-stop policy 'asha'; valid: none, baseline"
    ):
        StopPolicy.parse("asha")


def _dataset(name, n, shape):
    return SimpleNamespace(name=name, train=SimpleNamespace(images=np.zeros((n, *shape))))


def test_with_a_policy_the_cheapest_dataset_trains_first():
    suite = [_dataset("cifar10", 45, (32, 32, 3)), _dataset("fashion_mnist", 54, (28, 28, 1)),
             _dataset("cifar100", 45, (32, 32, 3))]  # fmt: skip
    names = [d.name for d in StopPolicy.BASELINE.order(suite)]
    assert names == ["fashion_mnist", "cifar10", "cifar100"]  # equal costs keep suite order
    assert [d.name for d in StopPolicy.NONE.order(suite)] == ["cifar10", "fashion_mnist",
                                                               "cifar100"]  # fmt: skip


def test_the_rule_holds_ces_value_after_every_epoch_it_recorded():
    assert StopPolicy.BASELINE.rule(ce_scores(), Metric.ACCURACY, 10).baseline == CE_CURVE


def test_a_rung_at_ces_last_recorded_epoch_is_judged_and_one_after_it_is_not():
    rule = BaselineRule(CE_CURVE[:4], Metric.ACCURACY, 10)
    assert rule(4, record(4, 0.0))
    assert not BaselineRule(CE_CURVE[:3], Metric.ACCURACY, 10)(4, record(4, 0.0))
