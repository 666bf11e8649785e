"""The evaluation store's trainer calls: a crash between datasets loses only the dataset in
training, and a recorded call is taken back only by the same call, once."""

import dataclasses
import json

import pytest

from jaxgp.expr import parse
from jaxgp.search.evaluations import Slot, TrainerCalls, train_baselines
from jaxgp.train.batch_plan import BatchPlan, PlanSource
from jaxgp.train.config import TrainConfig
from tests.search import fake_run
from tests.search.fake_trainer import FakeTrainer, fake_load
from tests.search.sink import ListSink, store
from tests.search.test_evaluations import make

A = parse("sin(y_pred) * y_true")
B = parse("(y_pred - y_true) * (y_pred - y_true)")
DATASETS = ("digits", "synthetic")


class Crash(Exception):
    """Stands for the process dying in the middle of training."""


class CrashingTrainer(FakeTrainer):
    """A FakeTrainer that dies on its `at`-th call (counting from 1)."""

    def __init__(self, at: int):
        super().__init__()
        self.at, self.count, self.pairs = at, 0, []

    def __call__(self, losses, dataset, config, *, progress=None, stop=None, seeds=None):
        self.count += 1
        if self.count == self.at:
            raise Crash
        report = super().__call__(
            losses, dataset, config, progress=progress, stop=stop, seeds=seeds
        )
        seeds = seeds or [config.seed] * len(report.results)
        self.pairs += [(dataset.name, result.label)  # the search's trainings, not confirmation's
                       for result, seed in zip(report.results, seeds, strict=True)
                       if seed == config.seed]  # fmt: skip
        return report


def evaluator(trainer, sink, trainings=()):
    """Evaluations over DATASETS, K = 2, that have read `trainings`, and their ledger lines."""
    evaluate, _, ledger = make(
        k=2, datasets=DATASETS, trainer=trainer, trainings=trainings, sink=sink
    )
    return evaluate, ledger


def comparable(line: dict) -> dict:
    return {k: v for k, v in line.items() if k != "time"}


def test_an_evaluation_cut_between_datasets_resumes_without_training_the_first_again():
    sink = ListSink()
    crashing = CrashingTrainer(at=2)  # dies on the second dataset of the chunk
    evaluate, ledger = evaluator(crashing, sink)
    with pytest.raises(Crash):
        evaluate([A, B], "ngl", 1)
    lines = sink.trainings
    assert ledger == [] and len(lines) == 1 and lines[0]["dataset"] == "digits"

    resumed = CrashingTrainer(at=0)
    evaluate, resumed_ledger = evaluator(resumed, sink, json.loads(json.dumps(lines)))
    out = evaluate([A, B], "ngl", 1)
    assert resumed.pairs == [("synthetic", str(A)), ("synthetic", str(B))]
    assert len(lines) == 2  # the synthetic call is new; the digits one was taken back

    evaluate, expected = evaluator(FakeTrainer(), ListSink())
    reference = evaluate([A, B], "ngl", 1)
    assert [i.fitness for i in out] == [i.fitness for i in reference]
    assert list(map(comparable, resumed_ledger)) == list(map(comparable, expected))


@pytest.mark.parametrize(
    "call",
    [
        dict(losses=[B, A], algorithm="ngl", generation=1, key="key"),  # other order
        dict(losses=[A], algorithm="ngl", generation=1, key="key"),  # other chunk
        dict(losses=[A, B], algorithm="ngl", generation=2, key="key"),
        dict(losses=[A, B], algorithm="tournament", generation=1, key="key"),
        dict(losses=[A, B], algorithm="ngl", generation=1, key="other settings"),
    ],
)
def test_a_recorded_line_is_taken_back_only_by_the_same_call(call):
    sink = ListSink()
    calls = TrainerCalls(store("key", sink=sink), FakeTrainer(), TrainConfig())
    calls.train_on([A, B], fake_load("digits"), Slot("ngl", 1))
    other = store(call.pop("key"), trainings=sink.trainings)
    losses = [str(loss) for loss in call.pop("losses")]
    assert other.taken_back(losses, "digits", **call) is None
    same = store("key", trainings=sink.trainings)
    assert same.taken_back([str(A), str(B)], "digits", algorithm="ngl", generation=1)


def test_a_recorded_line_is_taken_back_once():
    sink = ListSink()
    calls = TrainerCalls(store("key", sink=sink), FakeTrainer(), TrainConfig())
    calls.train_on([A], fake_load("digits"), Slot("ngl", 1))
    again = store("key", trainings=sink.trainings)
    call = dict(algorithm="ngl", generation=1)
    assert again.taken_back([str(A)], "digits", **call) is not None
    assert again.taken_back([str(A)], "digits", **call) is None


def test_baselines_cut_after_the_first_dataset_keep_it():
    sink = ListSink()
    datasets = [fake_load(name) for name in DATASETS]
    with pytest.raises(Crash):
        train_baselines(TrainerCalls(store("k", sink=sink), CrashingTrainer(at=2), TrainConfig()),
                        datasets)  # fmt: skip
    resumed = CrashingTrainer(at=0)
    again = store("k", trainings=list(sink.trainings), sink=sink)
    baselines = train_baselines(TrainerCalls(again, resumed, TrainConfig()), datasets)
    assert resumed.pairs == [("synthetic", "ce")]
    assert set(baselines) == set(DATASETS)


def test_a_run_killed_between_datasets_resumes_to_the_uninterrupted_result(tmp_path):
    options = dict(population=8, generations=2, datasets=list(DATASETS), candidates_per_batch=4)

    def run(out, trainer, resume=False):
        return fake_run.run_with(out, trainer, options, resume=resume)

    out = tmp_path / "killed"
    crashing = CrashingTrainer(at=6)  # 2 baselines, then the first chunk of 4: both datasets,
    with pytest.raises(Crash):  # then the second chunk: its first dataset, then dies
        run(out, crashing)
    resumed = CrashingTrainer(at=0)
    summary = run(out, resumed, resume=True)
    assert not set(crashing.pairs) & set(resumed.pairs), "a recorded training was redone"
    assert ("synthetic", "ce") not in resumed.pairs

    reference = run(tmp_path / "uninterrupted", FakeTrainer())
    assert summary.best == reference.best
    final = summary.algorithms["tournament"].final_population
    assert final == reference.algorithms["tournament"].final_population
    assert summary.confirmation.to_dict()["ranking"] == reference.confirmation.to_dict()["ranking"]


@pytest.mark.parametrize("status", ["trained", "failed", "stopped"])
def test_an_earlier_sessions_failed_or_stopped_evaluation_is_taken_back_like_a_trained_one(
    status,
):
    """Every status but `cached` trained the tree: a resumed run must not train a failed or
    stopped tree again for another slot (`Status.trained_here`)."""
    sink = ListSink()
    evaluate, _, lines = make(datasets=("digits",), sink=sink)
    evaluate([A], "ngl", 1)
    (line,) = lines
    earlier = store("key", [{**line, "status": status}])
    assert earlier.earlier(str(A)) is not None
    cached = store("key", [{**line, "status": "cached"}])
    assert cached.earlier(str(A)) is None


def test_a_ledger_line_of_other_settings_hides_none_of_the_lines_after_it():
    sink = ListSink()
    evaluate, _, lines = make(datasets=("digits",), sink=sink)
    evaluate([A, B], "ngl", 1)
    first, second = lines
    resumed = store("key", [{**first, "eval_key": "other"}, second])
    assert resumed.replay("ngl", 1, str(A)) is None
    assert resumed.replay("ngl", 1, str(B)) is not None


def test_a_replayed_evaluation_is_not_offered_again_to_another_slot():
    sink = ListSink()
    evaluate, _, lines = make(datasets=("digits",), sink=sink)
    evaluate([A], "ngl", 1)
    resumed = store("key", lines)
    assert resumed.replay("ngl", 1, str(A)) is not None
    assert resumed.earlier(str(A)) is None


def test_the_store_counts_each_algorithms_replays():
    sink = ListSink()
    evaluate, _, lines = make(datasets=("digits",), sink=sink)
    evaluate([A, B], "ngl", 1)
    evaluate([A], "tournament", 1)
    resumed = store("key", lines)
    for algorithm, expression in (("ngl", A), ("ngl", B), ("tournament", A)):
        resumed.replay(algorithm, 1, str(expression))
    assert resumed.replays == {"ngl": 2, "tournament": 1}


def test_the_store_keeps_each_recorded_calls_batch_plan_for_the_summary():
    calls = TrainerCalls(store("key"), PlanningTrainer(), TrainConfig())
    calls.train_on([A, B], fake_load("digits"), Slot("ngl", 1))
    ((dataset, candidates, plan),) = calls.store.plans
    assert (dataset, candidates, plan.k) == ("digits", 2, 2)


class PlanningTrainer(FakeTrainer):
    """A FakeTrainer whose report names its batch plan, as the real trainer's does."""

    def __call__(self, losses, dataset, config, **options):
        report = super().__call__(losses, dataset, config, **options)
        return dataclasses.replace(report, batching=BatchPlan(len(losses), PlanSource.EXPLICIT))
