"""Candidates stopped by a stop rule leave the batch; the survivors train on unchanged."""

import dataclasses
import math

import numpy as np
import pytest

from jaxgp.compilation import count_compilations
from jaxgp.train import train_candidates
from jaxgp.train.loop import packed_size

LOSSES = ["ce", "ngl", "mse", "neg(y_true * log(y_pred)) + 0.1 * (y_pred - y_true) * y_pred"]
DIVERGING = "exp(y_pred * 1000) * exp(y_pred * 1000) * y_true"


@pytest.fixture(scope="module")
def recipe(quick):
    """Three epochs, all four candidates in one batch."""
    return dataclasses.replace(quick, epochs=3, candidates_per_batch=4)


@pytest.fixture(scope="module")
def full(digits, recipe):
    return train_candidates(LOSSES, digits, recipe).results


def _history(result):
    return [dataclasses.astuple(record) for record in result.history]


@pytest.mark.parametrize(("active", "k", "expected"), [(3, 8, 4), (1, 4, 1), (5, 6, 6), (2, 2, 2)])
def test_survivors_are_packed_into_the_smallest_power_of_two_that_holds_them(active, k, expected):
    assert packed_size(active, k) == expected


def test_stopped_candidates_leave_and_the_repacked_survivors_train_as_if_nothing_happened(
    digits, recipe, full
):
    first = sorted({r.history[0].val_accuracy for r in full})
    assert len(first) >= 2, "the candidates need different first-epoch accuracies"
    threshold = first[len(first) // 2]  # stops the lower half (at least one), keeps the rest

    def stop(epoch, record):
        return epoch == 1 and record.val_accuracy < threshold

    results = train_candidates(LOSSES, digits, recipe, stop=stop).results
    stopped = [r for r in results if r.status == "stopped"]
    assert stopped and len(stopped) < len(results)
    for alone, result in zip(full, results, strict=True):
        if result.status == "stopped":
            assert result.stopped_epoch == 1 and len(result.history) == 1
            np.testing.assert_allclose(_history(result), _history(alone)[:1], rtol=2e-4, atol=1e-5)
            assert result.val_accuracy == result.history[0].val_accuracy
            assert math.isfinite(result.test_accuracy) and math.isfinite(result.test_loss)
        else:
            assert result.status == "trained" and result.stopped_epoch is None
            np.testing.assert_allclose(_history(result), _history(alone), rtol=2e-4, atol=1e-5)
            np.testing.assert_allclose(result.test_accuracy, alone.test_accuracy, atol=1e-6)

    survivors = [r for r in results if r.status == "trained"]
    # charged for the epochs they trained in: one, where the survivors trained three
    assert max(r.seconds for r in stopped) < min(r.seconds for r in survivors)

    with count_compilations() as again:
        train_candidates(LOSSES, digits, recipe, stop=stop)
    assert again.count == 0  # the smaller batch sizes are compiled once per run


def test_under_a_stop_rule_a_failed_candidate_leaves_at_once(digits, recipe, full):
    never = train_candidates(
        [LOSSES[0], DIVERGING, LOSSES[2]], digits, recipe, stop=lambda *_: False
    ).results
    assert never[1].status == "failed" and never[1].failed_epoch == 1
    assert len(never[1].history) == 1
    for i in (0, 2):
        assert never[i].status == "trained"
        np.testing.assert_allclose(_history(never[i]), _history(full[i]), rtol=2e-4, atol=1e-5)
    without = train_candidates([LOSSES[0], DIVERGING], digits, recipe).results
    assert without[1].status == "failed" and len(without[1].history) == recipe.epochs
