"""An evaluation store for the search tests: records kept in lists (as their JSON form)."""

from __future__ import annotations

from jaxgp.search.records import Evaluation, Training
from jaxgp.search.store import EvaluationStore


class ListSink:
    """Stands for a run directory: keeps what the store appends, as dicts."""

    def __init__(self) -> None:
        self.lines: list[dict] = []
        self.trainings: list[dict] = []

    def append_evaluation(self, evaluation: Evaluation) -> None:
        self.lines.append(evaluation.to_dict())

    def append_training(self, training: Training) -> None:
        self.trainings.append(training.to_dict())


def store(
    key: str = "key", ledger: list[dict] = (), trainings: list[dict] = (), sink=None
) -> EvaluationStore:
    """A store of evaluation key `key` that has read `ledger` and `trainings` (dicts)."""
    return EvaluationStore(
        key,
        sink if sink is not None else ListSink(),
        [Evaluation.from_dict(line) for line in ledger],
        [Training.from_dict(line) for line in trainings],
    )
