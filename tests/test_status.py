"""How an evaluation ended: the trainer's status carried into the records, and combined."""

import math

import pytest

from jaxgp.fitness import Scores
from jaxgp.status import Status
from jaxgp.train.results import CandidateResult

TRAINED, STOPPED, FAILED = Status.TRAINED, Status.STOPPED, Status.FAILED


@pytest.mark.parametrize(
    "statuses, combined",
    [
        ([TRAINED, TRAINED], TRAINED),
        ([TRAINED, STOPPED], STOPPED),
        ([STOPPED, FAILED, TRAINED], FAILED),
        ([FAILED], FAILED),
    ],
)
def test_a_candidate_failed_if_one_training_failed_else_stopped_if_one_stopped(statuses, combined):
    assert Status.combined(statuses) is combined


def result(status: Status, val_loss: float = 1.0, stopped_epoch=None) -> CandidateResult:
    return CandidateResult("l", "d", status, val_loss, 0.5, 1.0, 0.5, 0.1,
                           stopped_epoch=stopped_epoch)  # fmt: skip


@pytest.mark.parametrize("status", [TRAINED, FAILED])
def test_scores_carry_the_trainers_status_unchanged(status):
    assert Scores.from_result(result(status)).status is status


def test_scores_carry_a_stop_and_its_epoch_unchanged():
    scores = Scores.from_result(result(STOPPED, stopped_epoch=2))
    assert scores.status is STOPPED and scores.stopped_epoch == 2 and scores.stopped


def test_a_metric_that_is_not_finite_makes_the_scores_failed():
    scores = Scores.from_result(result(TRAINED, val_loss=math.nan))
    assert scores.status is FAILED and not scores.usable
    assert Scores.from_dict(scores.to_dict()).status is FAILED


def test_scores_with_a_stop_epoch_cannot_say_they_trained_every_epoch():
    with pytest.raises(ValueError, match="stop epoch"):
        Scores(1.0, 0.5, 1.0, 0.5, TRAINED, stopped_epoch=3)


def test_every_status_but_cached_trained_the_candidate_here():
    assert [s for s in Status if s.trained_here] == [TRAINED, STOPPED, FAILED]
