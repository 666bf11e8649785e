"""Confirmation: the best few of the final population and CE trained again on more seeds, the
confirmed best chosen on validation alone, recorded in the summary and resumable."""

import re

import numpy as np
import pytest

from jaxgp.errors import ConfigError
from jaxgp.expr import parse
from jaxgp.fitness import Fitness, Metric, Scores
from jaxgp.search.confirm import Confirmation, Confirmed, choose, confirmation_seeds
from jaxgp.search.options import RunOptions
from jaxgp.search.records import Summary
from jaxgp.search.run_settings import RunSettings, build_settings
from jaxgp.search.rundir import RunDir
from jaxgp.verify import verification_seeds
from tests.search import fake_run
from tests.search.fake_trainer import FakeTrainer
from tests.search.individuals import individual
from tests.search.test_store import DATASETS, Crash, CrashingTrainer

OPTIONS = dict(population=8, generations=2, datasets=["digits"], confirm_seeds=3, seed=4)


def _individual(text, wins=1, average=1.0, failed=False, stopped=False):
    fitness = Fitness(Metric.ACCURACY, wins, None if failed else average, (), failed, stopped)
    return individual(parse(text), fitness)


def test_the_best_three_fully_trained_distinct_trees_of_each_algorithm_are_chosen():
    ngl = [
        _individual("y_pred * y_true", 1, 5.0),
        _individual("y_pred - y_true", 0, 1.0, stopped=True),
        _individual("y_pred + y_true", 1, 2.0),
        _individual("exp(y_pred) * y_true", 1, 1.0),
        _individual("sin(y_pred) * y_true"),
    ]
    tournament = [
        _individual("y_pred + y_true"),
        _individual("cos(y_pred) * y_true", failed=True),
        _individual("log(y_pred) * y_true"),
    ]
    chosen = choose({"ngl": ngl, "tournament": tournament}, top=3)
    assert chosen == [
        ("y_pred * y_true", ["ngl"]),
        ("y_pred + y_true", ["ngl", "tournament"]),
        ("exp(y_pred) * y_true", ["ngl"]),
        ("log(y_pred) * y_true", ["tournament"]),
    ]


def _scores(val, test):
    return Scores(1.0, val, 1.0, test)


def test_a_tree_that_behaved_exactly_as_a_chosen_one_does_not_use_up_the_confirmation():
    def scored(text, val):
        made = _individual(text)
        return individual(made.tree, made.fitness, {"digits": _scores(val, 0.5)})

    population = [scored("y_pred * y_true", 0.8), scored("y_true * y_pred", 0.8),
                  scored("y_pred + y_true", 0.7), scored("y_pred - y_true", 0.6),
                  scored("exp(y_pred) * y_true", 0.5)]  # fmt: skip
    chosen = [expression for expression, _ in choose({"tournament": population}, top=3)]
    assert chosen == ["y_pred * y_true", "y_pred + y_true", "y_pred - y_true"]


def test_the_confirmed_best_is_chosen_on_validation_and_its_test_difference_is_paired():
    ce = Confirmed("ce", (), {"digits": (_scores(0.5, 0.5), _scores(0.52, 0.48))})
    # a: better on validation, worse on test; b: the other way round
    a = Confirmed("a", ("t",), {"digits": (_scores(0.7, 0.5), _scores(0.72, 0.52))})
    b = Confirmed("b", ("t",), {"digits": (_scores(0.6, 0.9), _scores(0.6, 0.92))})
    confirmation = Confirmation((104, 105), Metric.ACCURACY, (b, a), ce)
    assert confirmation.best is a
    d = confirmation.test_difference(a, "digits")
    assert d.mean == pytest.approx(((0.5 - 0.5) + (0.52 - 0.48)) / 2)
    again = Confirmation.from_dict(confirmation.to_dict())
    assert again == confirmation and again.to_dict()["best"] == "a"


def test_the_summarys_confirmation_ranking_lists_the_best_first():
    ce = Confirmed("ce", (), {"digits": (_scores(0.5, 0.5), _scores(0.5, 0.5))})
    worse = Confirmed("w", ("t",), {"digits": (_scores(0.55, 0.5), _scores(0.55, 0.5))})
    best = Confirmed("b", ("t",), {"digits": (_scores(0.7, 0.5), _scores(0.7, 0.5))})
    tie = Confirmed("t", ("t",), {"digits": (_scores(0.55, 0.5), _scores(0.55, 0.5))})
    data = Confirmation((1, 2), Metric.ACCURACY, (worse, best, tie), ce).to_dict()
    assert [row["expression"] for row in data["ranking"]] == ["b", "w", "t"]
    assert data["best"] == data["ranking"][0]["expression"]


def test_confirmation_seeds_are_neither_the_search_seed_nor_verifications():
    seeds = confirmation_seeds(4, 5)
    assert seeds == (104, 105, 106, 107, 108)
    assert 4 not in seeds and not set(seeds) & set(verification_seeds(4, 5))


def test_a_run_confirms_its_best_on_more_seeds_and_names_the_confirmed_best(tmp_path):
    trainer, phases = FakeTrainer(), fake_run.Phases()
    summary = fake_run.run_with(tmp_path / "run", trainer, OPTIONS, progress=phases)
    confirmation = summary.confirmation
    chosen = [c.expression for c in confirmation.candidates]
    finals = summary.algorithms["tournament"].final_population
    usable = [m.expression for m in finals if not (m.failed or m.stopped)]
    assert chosen == usable[:3]
    assert confirmation.seeds == (104, 105, 106)
    assert sorted(trainer.reseeded) == sorted(
        (label, seed) for label in [*chosen, "ce"] for seed in (104, 105, 106)
    )
    assert confirmation.best.expression in chosen
    assert confirmation.times.wall_seconds > 0
    data = summary.to_dict()["confirmation"]
    assert data["best"] == confirmation.best.expression and "compilations" in data
    assert Summary.from_dict(summary.to_dict()).confirmation == confirmation
    described = confirmation.describe_best()
    best, fitness = confirmation.best, confirmation.fitness(confirmation.best)
    head = re.fullmatch(
        rf"confirmed best on 3 more seeds: {re.escape(best.expression)} \(wins {fitness.wins}, "
        r"average improvement ([+-]\d+\.\d\d) % in seed-averaged validation accuracy\)",
        described[0],
    )
    assert head and float(head[1]) == pytest.approx(fitness.average_improvement or 0, abs=0.005)
    line = re.fullmatch(r"  digits: test acc (\d\.\d{4}) \(CE (\d\.\d{4})\), loss - CE "
                        r"[+-]\d\.\d{4}, 95 % CI \[[+-]\d\.\d{4}, [+-]\d\.\d{4}\]: .+",
                        described[1])  # fmt: skip
    means = [np.mean([s.test_accuracy for s in c.scores["digits"]])
             for c in (best, confirmation.ce)]  # fmt: skip
    assert line and [float(line[1]), float(line[2])] == pytest.approx(means, abs=5e-5)
    assert len(described) == 2
    assert confirmation.ce.expression == "ce" and phases.seen[-1] == ("confirm", 0)
    seeds = [s for c in (*confirmation.candidates, confirmation.ce) for s in c.scores["digits"]]
    assert len(seeds) == 4 * 3 and all(s.history == () for s in seeds)  # trainings.jsonl has them
    trainings, _ = RunDir.existing(tmp_path / "run").read_trainings()
    confirming = [t for t in trainings if t.algorithm == "confirm"]
    # at generation 0, where earlier runs recorded it: a run cut while confirming resumes
    assert [(t.generation, t.expressions[-1]) for t in confirming] == [(0, "ce")]


def test_a_run_killed_during_its_confirmation_resumes_without_training_a_dataset_again(tmp_path):
    options = {**OPTIONS, "datasets": list(DATASETS), "candidates_per_batch": 4}

    def run(out, trainer, resume=False):
        return fake_run.run_with(out, trainer, options, resume=resume)

    reference = FakeTrainer()
    uninterrupted = run(tmp_path / "reference", reference)
    counting = CrashingTrainer(at=0)
    run(tmp_path / "count", counting)
    crashing = CrashingTrainer(at=counting.count)  # the last call: confirmation's 2nd dataset
    with pytest.raises(Crash):
        run(tmp_path / "killed", crashing)
    resumed = CrashingTrainer(at=0)
    summary = run(tmp_path / "killed", resumed, resume=True)
    assert resumed.count == 1 and resumed.pairs == []  # only the cut confirmation call
    assert {seed for _, seed in resumed.reseeded} == {104, 105, 106}
    ranking = summary.confirmation.to_dict()["ranking"]
    assert ranking == uninterrupted.confirmation.to_dict()["ranking"]


def test_a_confirmation_without_a_fully_trained_candidate_says_so():
    empty = Confirmation((104, 105), Metric.ACCURACY, (), Confirmed("ce", (), {}))
    assert empty.describe_best() == ["confirmation: no candidate trained fully"]
    nan, ce = float("nan"), Scores(1.0, 0.5, 1.0, 0.5)
    diverged = Confirmed("y_pred", ("tournament",), {"digits": (Scores(nan, 0.1, nan, 0.1),) * 2})
    baseline = Confirmed("ce", (), {"digits": (ce, ce)})
    failed = Confirmation((104, 105), Metric.ACCURACY, (diverged,), baseline)
    assert failed.describe_best()[0] == (
        "confirmed best on 2 more seeds: y_pred (wins 0, average improvement +0.00 % in "
        "seed-averaged validation accuracy)"
    )


def test_confirm_seeds_are_zero_or_at_least_two_and_old_runs_read_as_none():
    with pytest.raises(ConfigError, match="confirm seeds must be 0"):
        build_settings("evolve", RunOptions(confirm_seeds=1))
    assert build_settings("evolve", RunOptions(confirm_seeds=0)).confirm_seeds == 0
    assert build_settings("evolve", RunOptions(scale="tiny-lt")).confirm_seeds == 5
    old = build_settings("evolve").to_dict()
    del old["confirm_seeds"]
    assert RunSettings.from_dict(old).confirm_seeds == 0
