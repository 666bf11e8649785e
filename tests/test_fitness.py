"""Algorithm 3: wins against CE, average improvement, both metrics, ranking."""

import math

import pytest

from jaxgp.errors import ConfigError
from jaxgp.fitness import Fitness, Metric, Scores, compute_fitness, rank
from jaxgp.status import Status
from jaxgp.train.results import EpochRecord

NAN = float("nan")


def acc(*values, failed=False):
    status = Status.FAILED if failed else Status.TRAINED
    return [Scores(1.0, v, 1.0, v, status) for v in values]


def loss(*values):
    return [Scores(v, 0.5, v, 0.5) for v in values]


def table(candidate, baseline):
    names = [f"d{i}" for i in range(len(baseline))]
    return dict(zip(names, candidate, strict=True)), dict(zip(names, baseline, strict=True))


# (candidate, CE baselines, metric, wins, average improvement or None when failed)
CASES = [
    ("one win", acc(0.6, 0.4), acc(0.5, 0.5), "accuracy", 1, 20.0),
    ("all win", acc(0.6, 0.75), acc(0.5, 0.5), "accuracy", 2, 35.0),
    ("all lose: mean of all", acc(0.4, 0.25), acc(0.5, 0.5), "accuracy", 0, -35.0),
    ("tie is not a win", acc(0.5, 0.6), acc(0.5, 0.5), "accuracy", 1, 20.0),
    ("all ties", acc(0.5, 0.5), acc(0.5, 0.5), "accuracy", 0, 0.0),
    ("lose and tie", acc(0.4, 0.5), acc(0.5, 0.5), "accuracy", 0, -10.0),
    ("zero CE accuracy: points", acc(0.1, 0.5), acc(0.0, 0.5), "accuracy", 1, 10.0),
    ("zero CE and zero", acc(0.0), acc(0.0), "accuracy", 0, 0.0),
    ("lower loss wins", loss(0.5, 2.0), loss(1.0, 1.0), "loss", 1, 50.0),
    ("all losses higher", loss(2.0, 1.5), loss(1.0, 1.0), "loss", 0, -75.0),
    ("negative CE loss", loss(-3.0), loss(-2.0), "loss", 1, 50.0),
    ("zero CE loss", loss(-0.2), loss(0.0), "loss", 1, 20.0),
    ("failed on one dataset", acc(0.9) + acc(0.9, failed=True), acc(0.5, 0.5), "accuracy", 0, None),
    ("non-finite value", loss(NAN, 0.5), loss(1.0, 1.0), "loss", 0, None),
    ("non-finite accuracy", acc(NAN), acc(0.5), "accuracy", 0, None),
]


@pytest.mark.parametrize(
    "candidate, baseline, metric, wins, average", [c[1:] for c in CASES], ids=[c[0] for c in CASES]
)
def test_fitness_table(candidate, baseline, metric, wins, average):
    scores, baselines = table(candidate, baseline)
    fitness = compute_fitness(scores, baselines, Metric(metric))
    assert fitness.wins == wins
    if average is None:
        assert fitness.failed and fitness.average_improvement is None
    else:
        assert not fitness.failed
        assert fitness.average_improvement == pytest.approx(average)
        assert len(fitness.improvements) == len(baseline)


def test_positive_improvement_means_better_under_both_metrics():
    assert Metric.ACCURACY.improvement(0.6, 0.5) > 0
    assert Metric.LOSS.improvement(0.4, 0.5) > 0
    assert Metric.LOSS.improvement(0.6, 0.5) < 0
    assert Metric.ACCURACY.beats(0.6, 0.5) and not Metric.ACCURACY.beats(0.5, 0.5)


def test_any_gain_over_ce_beats_it_and_wins_the_dataset_however_small():
    assert Metric.ACCURACY.improvement(0.502, 0.5) == pytest.approx(0.4)  # percent
    assert Metric.ACCURACY.beats(0.502, 0.5) and Metric.LOSS.beats(0.499, 0.5)
    assert not Metric.LOSS.beats(0.5, 0.5)
    scores, baselines = table([Scores(1.0, 0.502, 1.0, 0.5)], [Scores(1.0, 0.5, 1.0, 0.5)])
    fitness = compute_fitness(scores, baselines, Metric.ACCURACY)
    assert fitness.wins == 1 and fitness.average_improvement == pytest.approx(0.4)


def test_both_metrics_can_disagree():
    scores, baselines = table([Scores(0.01, 0.1, 0.01, 0.1)], [Scores(1.0, 0.5, 1.0, 0.5)])
    assert compute_fitness(scores, baselines, Metric.LOSS).wins == 1
    assert compute_fitness(scores, baselines, Metric.ACCURACY).wins == 0


def test_unknown_metric_is_a_config_error():
    with pytest.raises(ConfigError, match="unknown fitness metric 'f1'; valid: accuracy, loss"):
        Metric.parse("f1")


def fit(wins, average, failed=False):
    return Fitness("accuracy", wins, None if failed else average, (), failed)


def test_rank_wins_first_then_improvement_failed_last_ties_stable():
    items = [
        ("failed", fit(0, 0.0, failed=True)),
        ("lose", fit(0, -3.0)),
        ("one win big", fit(1, 50.0)),
        ("two wins small", fit(2, 1.0)),
        ("lose badly", fit(0, -1e9)),
        ("tie a", fit(1, 5.0)),
        ("tie b", fit(1, 5.0)),
    ]
    order = [name for name, _ in rank(items, lambda item: item[1])]
    assert order == ["two wins small", "one win big", "tie a", "tie b", "lose", "lose badly",
                     "failed"]  # fmt: skip


def test_fitness_dict_is_json_friendly():
    scores, baselines = table(acc(0.6), acc(0.5))
    data = compute_fitness(scores, baselines, Metric.ACCURACY).to_dict()
    assert data["wins"] == 1 and math.isclose(data["average_improvement"], 20.0)
    assert data["improvements"] == {"d0": pytest.approx(20.0)}


def stopped_scores(accuracy, epoch):
    """A training a stop rule ended after `epoch` with validation accuracy `accuracy`."""
    return Scores(1.0, accuracy, 1.0, accuracy, Status.STOPPED, stopped_epoch=epoch)


def _curve_baseline(curve):
    history = tuple(EpochRecord(e, 1.0, a, 1.0, a, 1e-3) for e, a in enumerate(curve, start=1))
    return Scores(1.0, curve[-1], 1.0, curve[-1], history=history)


def test_a_stopped_candidate_is_compared_with_ce_at_the_epoch_it_stopped():
    baselines = {"a": _curve_baseline([0.3, 0.5, 0.8]), "b": _curve_baseline([0.2, 0.4, 0.6])}
    scores = {"a": Scores(1.0, 0.9, 1.0, 0.9), "b": stopped_scores(0.2, 2)}
    fitness = compute_fitness(scores, baselines, Metric.ACCURACY)
    a, b = (0.9 - 0.8) / 0.8 * 100, (0.2 - 0.4) / 0.4 * 100
    assert fitness.stopped and not fitness.failed and fitness.wins == 0
    assert dict(fitness.improvements) == pytest.approx({"a": a, "b": b})
    assert fitness.average_improvement == pytest.approx((a + b) / 2)
    assert Fitness.from_dict(fitness.to_dict()) == fitness


def test_a_candidate_stopped_on_its_first_dataset_needs_no_scores_on_the_others():
    baselines = {"a": _curve_baseline([0.3, 0.5, 0.8]), "b": _curve_baseline([0.2, 0.4, 0.6])}
    stopped = {"b": stopped_scores(0.1, 1)}
    fitness = compute_fitness(stopped, baselines, Metric.ACCURACY)
    assert fitness.stopped and fitness.average_improvement == pytest.approx(-50.0)
    with pytest.raises(ValueError, match=r"no scores for datasets \['a'\]"):
        compute_fitness({"b": Scores(1.0, 0.1, 1.0, 0.1)}, baselines, Metric.ACCURACY)


def test_stopped_candidates_rank_below_every_completed_one_and_above_the_failed():
    baseline = {"d": _curve_baseline([0.5, 0.5, 0.5])}
    completed = compute_fitness({"d": Scores(1.0, 0.05, 1.0, 0.05)}, baseline, Metric.ACCURACY)
    stopped = compute_fitness({"d": stopped_scores(0.9, 2)}, baseline, Metric.ACCURACY)
    failed = compute_fitness({"d": acc(0.9, failed=True)[0]}, baseline, Metric.ACCURACY)
    assert stopped.average_improvement > completed.average_improvement
    assert rank([failed, stopped, completed], lambda f: f) == [completed, stopped, failed]


def test_stopped_scores_round_trip_with_their_epoch():
    scores = Scores(
        1.0,
        0.3,
        1.1,
        0.29,
        Status.STOPPED,
        stopped_epoch=4,
        history=(EpochRecord(1, 1.0, 0.3, 1.0, 0.3, 1e-3),),
    )
    data = scores.to_dict()
    assert data["status"] == "stopped" and data["stopped_epoch"] == 4
    assert Scores.from_dict(data) == scores and Scores.from_dict(data).stopped
    assert "stopped_epoch" not in Scores(1.0, 0.3, 1.1, 0.29).to_dict()


def test_scores_over_seeds_are_the_mean_stopped_at_the_first_stop_with_each_epochs_mean():
    from jaxgp.train.results import EpochRecord

    def run(values, stopped=None, failed=False):
        history = tuple(EpochRecord(e, 1.0, v, 2.0 * v, v, 1e-3)
                        for e, v in enumerate(values, start=1))  # fmt: skip
        status = Status.of(failed, stopped is not None)
        return Scores(2.0 * values[-1], values[-1], 3.0, values[-1] - 0.1, status,
                      history=history, stopped_epoch=stopped)  # fmt: skip

    full, stopped = run([0.2, 0.4, 0.6, 0.8]), run([0.1, 0.3], stopped=2)
    mean = Scores.mean_over_seeds([full, stopped])
    assert mean.val_accuracy == pytest.approx((0.8 + 0.3) / 2)
    assert mean.test_accuracy == pytest.approx((0.7 + 0.2) / 2)
    assert mean.stopped_epoch == 2 and mean.status == "stopped" and mean.epochs_trained == 6
    assert [r.val_accuracy for r in mean.history] == pytest.approx([0.15, 0.35, 0.6, 0.8])
    assert [r.epoch for r in mean.history] == [1, 2, 3, 4]
    assert mean.value_at(2, Metric.ACCURACY) == pytest.approx(0.35)  # both seeds' epoch 2
    assert Scores.mean_over_seeds([full, run([0.5], failed=True)]).status == "failed"
    assert Scores.mean_over_seeds([full]) is full
    assert Scores.from_dict(mean.to_dict()) == mean and mean.to_dict()["epochs_trained"] == 6


def test_the_value_at_the_last_recorded_epoch_comes_from_the_history_not_the_final_metrics():
    history = (EpochRecord(1, 1.0, 0.2, 1.0, 0.2, 1e-3), EpochRecord(2, 1.0, 0.4, 0.9, 0.4, 1e-3))
    scores = Scores(0.5, 0.9, 0.5, 0.9, history=history)  # final metrics after a restore
    assert scores.value_at(2, Metric.ACCURACY) == 0.4
    assert scores.value_at(2, Metric.LOSS) == 0.9
    assert scores.value_at(3, Metric.ACCURACY) == scores.value_at(None, Metric.ACCURACY) == 0.9


def test_scores_of_a_trainer_result_keep_its_status_stop_epoch_and_history():
    from jaxgp.train.results import CandidateResult

    history = [EpochRecord(1, 1.0, 0.2, 1.0, 0.2, 1e-3), EpochRecord(2, 0.8, 0.3, 0.9, 0.3, 1e-3)]
    result = CandidateResult("c", "digits", Status.STOPPED, 0.9, 0.3, 0.95, 0.28, 1.5,
                             history=history, stopped_epoch=2)  # fmt: skip
    scores = Scores.from_result(result)
    assert scores.history == tuple(history) and scores.stopped_epoch == 2 and scores.stopped
    assert (scores.val_loss, scores.val_accuracy, scores.test_loss, scores.test_accuracy) == (
        0.9, 0.3, 0.95, 0.28)  # fmt: skip


def test_scores_with_a_stop_epoch_but_trained_to_the_end_are_refused():
    refusal = r"^scores with a stop epoch are of a stopped \(or failed\) training$"
    with pytest.raises(ValueError, match=refusal):
        Scores(1.0, 0.5, 1.0, 0.5, Status.TRAINED, stopped_epoch=2)
