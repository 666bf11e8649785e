"""Evaluations: the fitness cache, chunked training, ledger lines, replay and own caches."""

import pytest

from jaxgp.expr import parse
from jaxgp.fitness import Metric, Scores
from jaxgp.search import Evaluations
from jaxgp.search.evaluations import FITNESS_SEED_OFFSET, Scoring, TrainerCalls, fitness_seeds
from jaxgp.train import batching
from jaxgp.train.config import TrainConfig
from tests.search.fake_trainer import CE_ACCURACY, CE_LOSS, FakeTrainer, fake_load
from tests.search.sink import ListSink, store

BASE = Scores(CE_LOSS, CE_ACCURACY, CE_LOSS * 1.1, CE_ACCURACY - 0.01)
A = parse("sin(y_pred) * y_true")
B = parse("(y_pred - y_true) * (y_pred - y_true)")
C = parse("exp(y_pred) * y_true")


def make(k="auto", replay=(), datasets=("digits", "synthetic"), trainer=None, trainings=(),
         sink=None):  # fmt: skip
    """(evaluations, their trainer, their ledger lines) with the fake trainer by default."""
    trainer, sink = trainer or FakeTrainer(), sink or ListSink()
    evaluations = Evaluations(
        TrainerCalls(store("key", replay, trainings, sink), trainer,
                     TrainConfig(candidates_per_batch=k)),
        Scoring(tuple(fake_load(name) for name in datasets), {name: BASE for name in datasets},
                Metric.ACCURACY),
    )  # fmt: skip
    return evaluations, trainer, sink.lines


def test_an_identical_tree_is_never_trained_twice():
    evaluator, trainer, lines = make()
    first = evaluator([A, B, A], "tournament", 1)
    assert [i.status for i in first] == ["trained", "trained", "cached"]
    assert first[0].fitness == first[2].fitness
    again = evaluator([parse(str(A))], "tournament", 2)
    assert again[0].status == "cached"
    assert sorted(trainer.trained()) == sorted([str(A), str(B)] * 2)  # once per dataset
    statuses = [(line["expression"], line["status"]) for line in lines]
    assert sorted(statuses) == sorted(
        [(str(A), "trained"), (str(B), "trained"), (str(A), "cached"), (str(A), "cached")]
    )
    assert statuses[-1] == (str(A), "cached")
    assert [line["seconds"] for line in lines if line["status"] == "cached"] == [0.0, 0.0]


def test_ledger_lines_hold_both_metrics_and_every_dataset():
    evaluator, _, lines = make()
    evaluator([A], "ngl", 3)
    line = lines[0]
    assert (line["algorithm"], line["generation"], line["expression"]) == ("ngl", 3, str(A))
    assert set(line["datasets"]) == {"digits", "synthetic"}
    assert set(line["datasets"]["digits"]) >= {
        "val_loss",
        "val_accuracy",
        "test_loss",
        "test_accuracy",
    }
    assert set(line["fitness"]) == {"accuracy", "loss"}
    assert line["wins"] == line["fitness"]["accuracy"]["wins"]
    assert line["eval_key"] == "key"
    assert line["seconds"] == pytest.approx(2 * 0.001)  # the fake trainer's, on both datasets


def test_candidates_are_trained_in_chunks_of_k_all_datasets_per_chunk():
    sink, seen = ListSink(), []
    evaluator, trainer, _ = make(k=2, sink=sink)
    sink.append_evaluation = lambda e: seen.append((e.expression, len(trainer.calls)))
    evaluator([A, B, C], "tournament", 1)
    # chunk 1 (A, B) on both datasets -> 4 labels trained before their lines are written
    assert [count for _, count in seen] == [4, 4, 6]


@pytest.mark.parametrize(("batching_pays", "expected"), [(True, [3]), (False, [1, 1, 1])])
def test_auto_trains_all_children_together_where_batching_pays_else_one_at_a_time(
    monkeypatch, batching_pays, expected
):
    monkeypatch.setattr(batching, "batching_pays", lambda: batching_pays)
    evaluator, trainer, _ = make(datasets=("digits",))
    calls = []
    inner = trainer.train
    trainer.train = lambda losses, *a, **k: calls.append(len(losses)) or inner(losses, *a, **k)
    evaluator([A, B, C], "tournament", 1)
    assert calls == expected


def test_replayed_records_are_not_trained_or_written_again():
    evaluator, _, lines = make()
    evaluator([A, B], "tournament", 1)
    evaluator([A], "tournament", 2)
    replaying, trainer, new_lines = make(replay=lines)
    out = replaying([A, B], "tournament", 1) + replaying([A], "tournament", 2)
    assert [i.status for i in out] == ["trained", "trained", "cached"]
    assert trainer.calls == [] and new_lines == []
    assert replaying([C], "tournament", 3)[0].status == "trained"
    assert len(new_lines) == 1


def test_records_of_other_training_settings_are_ignored():
    evaluator, _, lines = make()
    evaluator([A], "tournament", 1)
    for line in lines:
        line["eval_key"] = "other"
    replaying, trainer, _ = make(replay=lines)
    assert replaying([A], "tournament", 1)[0].status == "trained"
    assert len(trainer.trained()) == 2


def test_each_algorithm_has_its_own_cache_seeded_with_the_initial_population():
    evaluator, trainer, _ = make(datasets=("digits",))
    evaluator([A], "initial", 0)
    left, right = evaluator.with_own_cache(), evaluator.with_own_cache()
    left([B], "ngl", 1)
    assert left([A], "ngl", 2)[0].status == "cached"
    assert right([B], "tournament", 1)[0].status == "trained"
    assert trainer.trained() == [str(A), str(B), str(B)]


def test_a_diverging_candidate_is_failed_and_ranked_last():
    evaluator, _, lines = make(datasets=("digits",))
    trees = [parse(f"y_pred * y_true + {c}.5") for c in range(40)]
    out = evaluator(trees, "initial", 0)
    failed = [i for i in out if i.status == "failed"]
    assert failed, "the fake trainer fails about 1 in 12"
    assert all(i.fitness.failed and i.fitness.average_improvement is None for i in failed)
    worst = min(i.fitness.sort_key for i in out if not i.fitness.failed)
    assert all(i.fitness.sort_key < worst for i in failed)
    assert any(line["status"] == "failed" for line in lines)


@pytest.mark.parametrize("k", ["auto", 1, 2])
def test_results_do_not_depend_on_chunking(k):
    evaluator, _, _ = make(k=k)
    reference, _, _ = make()
    trees = [A, B, C]
    assert [i.fitness for i in evaluator(trees, "x", 1)] == [
        i.fitness for i in reference(trees, "x", 1)
    ]


def test_a_runs_fitness_seeds_are_its_seed_then_offset_ones_and_none_for_one_seed():
    assert fitness_seeds(7, 1) is None  # trains as runs always did
    assert fitness_seeds(7, 2) == (7, 7 + FITNESS_SEED_OFFSET + 1)
    assert fitness_seeds(7, 3) == (7, 7 + FITNESS_SEED_OFFSET + 1, 7 + FITNESS_SEED_OFFSET + 2)
