"""Fitness: the thesis's "Average Improvement" (Algorithm 3) against cross-entropy baselines.

A candidate is trained on every dataset of the suite; on each dataset its result is compared
with a CE model trained with the same recipe and seed.

- `accuracy` (the default): validation accuracy, HIGHER is better. The candidate beats CE
  when `acc > ce_acc`; improvement = `(acc - ce_acc) / ce_acc * 100`.
- `loss` (the thesis's exact metric): the final validation loss value (the candidate's own
  loss) against CE's, LOWER is better. The candidate beats CE when `loss < ce_loss`;
  improvement = `(ce_loss - loss) / |ce_loss| * 100`, so a positive improvement always
  means "better than CE" whichever metric drives selection. (This metric rewards losses
  whose values are merely small: the thesis's small-scale best losses learned nothing,
  its Table 4.2.)

A zero baseline leaves the relative difference undefined: the denominator is then 1, i.e. the
improvement is the signed difference times 100 (percentage points for accuracy). An equal
value is a tie: improvement 0 and not a win.

wins = number of datasets where the candidate beats CE. If there are no wins the fitness is
the average of all (negative or zero) improvements, otherwise the average over the won
datasets. Ranking: wins first, then average improvement, failed candidates last (a candidate
is failed when training failed or a metric is not finite on any dataset); equal keys keep
their input order (`rank` is a stable sort).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import TypeVar

from jaxgp.errors import parse_choice
from jaxgp.record_fields import json_field, record_dict, unless_true
from jaxgp.status import Status
from jaxgp.train.results import CandidateResult, EpochRecord

T = TypeVar("T")


class Metric(StrEnum):
    """What fitness compares with CE: validation accuracy (higher is better) or the final
    validation loss value (lower is better). Parsed once (`Metric.parse`), where settings
    are built; its text is what the run directory holds."""

    ACCURACY = "accuracy"
    LOSS = "loss"

    @staticmethod
    def parse(text: str) -> Metric:
        """The metric named `text`; `ConfigError` naming the valid ones otherwise."""
        return parse_choice(Metric, text, "fitness metric")

    @property
    def field(self) -> str:
        """The name of the validation value it compares (in `Scores`, an epoch's record and
        its dict form alike)."""
        return "val_accuracy" if self is Metric.ACCURACY else "val_loss"

    def of(self, scores) -> float:
        """The validation value it compares, of `Scores` or an epoch's record."""
        return getattr(scores, self.field)

    def improvement(self, value: float, baseline: float) -> float:
        """Relative difference from CE in percent; positive means better than CE."""
        gain = value - baseline if self is Metric.ACCURACY else baseline - value
        denominator = abs(baseline) if baseline != 0 else 1.0
        return gain / denominator * 100.0

    def beats(self, value: float, baseline: float) -> bool:
        """Whether `value` is strictly better than the CE `baseline`."""
        return self.improvement(value, baseline) > 0


METRICS = tuple(Metric)


@dataclass(frozen=True)
class Scores:
    """One model trained on one dataset: final validation and test loss and accuracy, and
    how its training ended (`status`, as the trainer said; a metric that is not finite makes
    it `failed`), with the epoch it stopped at when a stop rule ended it."""

    val_loss: float
    val_accuracy: float
    test_loss: float
    test_accuracy: float
    status: Status = Status.TRAINED
    history: tuple[EpochRecord, ...] = field(default=(), compare=False)
    stopped_epoch: int | None = None
    """The epoch (1-based) after which training stopped early; None when it ran them all."""
    epochs_trained: int | None = None
    """Epochs trained over every model seed these scores average (`mean_over_seeds`); None
    for one model, whose history says it."""

    def __post_init__(self) -> None:
        if self.stopped_epoch is not None and self.status == Status.TRAINED:
            raise ValueError("scores with a stop epoch are of a stopped (or failed) training")
        values = (self.val_loss, self.val_accuracy, self.test_loss, self.test_accuracy)
        if not all(math.isfinite(v) for v in values):
            object.__setattr__(self, "status", Status.FAILED)

    @property
    def usable(self) -> bool:
        """Whether its metrics can be compared (it did not fail)."""
        return self.status != Status.FAILED

    @property
    def stopped(self) -> bool:
        return self.status == Status.STOPPED

    def to_dict(self) -> dict:
        """The JSON form of the run directory (non-finite values become null there)."""
        data: dict = {name: getattr(self, name) for name in SCORE_FIELDS}
        data["status"] = self.status
        if self.stopped_epoch is not None:
            data["stopped_epoch"] = self.stopped_epoch
        if self.history:
            data["history"] = [record.to_dict() for record in self.history]
        if self.epochs_trained is not None:
            data["epochs_trained"] = self.epochs_trained
        return data

    @staticmethod
    def from_dict(data: Mapping) -> Scores:
        values = {name: _float(data.get(name)) for name in SCORE_FIELDS}
        stopped, epochs = data.get("stopped_epoch"), data.get("epochs_trained")
        return Scores(
            **values, status=Status(data.get("status", Status.TRAINED)),
            history=tuple(EpochRecord.from_dict(record, epoch)
                          for epoch, record in enumerate(data.get("history") or (), start=1)),
            stopped_epoch=None if stopped is None else int(stopped),
            epochs_trained=None if epochs is None else int(epochs),
        )  # fmt: skip

    @staticmethod
    def from_result(result: CandidateResult) -> Scores:
        """The scores of a trainer's `CandidateResult`, its status and stop epoch as they
        are."""
        values = {name: float(getattr(result, name)) for name in SCORE_FIELDS}
        return Scores(
            **values, status=Status(result.status), history=tuple(result.history),
            stopped_epoch=result.stopped_epoch,
        )  # fmt: skip

    @staticmethod
    def mean_over_seeds(per_seed: Sequence[Scores]) -> Scores:
        """One candidate's scores on one dataset trained with several model seeds, as one:
        each metric the mean over the seeds; failed when one failed; stopped (at the
        earliest epoch one stopped at) when one stopped; the history epoch by epoch the
        mean over the seeds that trained that epoch (so the value at the stop epoch is
        every seed's mean); `epochs_trained` the epochs of every seed together."""
        per_seed = list(per_seed)
        if len(per_seed) == 1:
            return per_seed[0]
        means = {name: math.fsum(getattr(s, name) for s in per_seed) / len(per_seed)
                 for name in SCORE_FIELDS}  # fmt: skip
        stops = [s.stopped_epoch for s in per_seed if s.stopped_epoch is not None]
        longest = max(len(s.history) for s in per_seed)
        history = []
        for epoch in range(1, longest + 1):
            records = [s.history[epoch - 1] for s in per_seed if len(s.history) >= epoch]
            history.append(EpochRecord(epoch, *(
                math.fsum(getattr(r, name) for r in records) / len(records)
                for name in ("train_loss", "train_accuracy", "val_loss", "val_accuracy",
                             "learning_rate")
            )))  # fmt: skip
        return Scores(
            **means, status=Status.combined(s.status for s in per_seed), history=tuple(history),
            stopped_epoch=min(stops) if stops else None,
            epochs_trained=sum(len(s.history) for s in per_seed),
        )  # fmt: skip

    def value_at(self, epoch: int | None, metric: Metric) -> float:
        """The validation value of `metric` after `epoch` (from the history), or the final
        one when `epoch` is None or not recorded."""
        if epoch is not None and 1 <= epoch <= len(self.history):
            return metric.of(self.history[epoch - 1])
        return metric.of(self)


SCORE_FIELDS = ("val_loss", "val_accuracy", "test_loss", "test_accuracy")


def _float(value) -> float:
    return float("nan") if value is None else float(value)


class Ranked:
    """How an evaluated loss ranks under one metric, whichever record holds it (`Fitness`,
    a candidate, a snapshot's member): its wins against CE, its average improvement (None
    when it failed) and whether it failed or stopped early."""

    wins: int
    average_improvement: float | None
    failed: bool
    stopped: bool

    @property
    def sort_key(self) -> tuple[int, int, float]:
        """Larger is better: (2 completed, 1 stopped early, 0 failed; wins; average
        improvement)."""
        return ranking_key(self)


def ranking_key(ranked: Ranked) -> tuple[int, int, float]:
    """`Ranked.sort_key`'s rule, as a function: mutation testing (mutmut) leaves properties
    alone."""
    if ranked.failed or ranked.average_improvement is None:
        return (0, 0, 0.0)
    if ranked.stopped:
        return (1, 0, ranked.average_improvement)
    return (2, ranked.wins, ranked.average_improvement)


@dataclass(frozen=True)
class Fitness(Ranked):
    """Wins against CE and average improvement under one metric.

    `average_improvement` is None for a failed candidate. `improvements` holds the
    per-dataset improvements in suite order (empty when failed).
    """

    metric: Metric
    wins: int
    average_improvement: float | None
    improvements: tuple[tuple[str, float], ...] = json_field(default=(), write=dict)
    failed: bool = False
    stopped: bool = json_field(default=False, omit=unless_true)

    def to_dict(self) -> dict:
        return record_dict(self)

    @staticmethod
    def from_dict(data: Mapping) -> Fitness:
        average = data.get("average_improvement")
        return Fitness(
            metric=Metric(data.get("metric", "accuracy")),
            wins=int(data.get("wins") or 0),
            average_improvement=None if average is None else float(average),
            improvements=tuple(
                (str(k), _float(v)) for k, v in (data.get("improvements") or {}).items()
            ),
            failed=bool(data.get("failed")) or average is None,
            stopped=bool(data.get("stopped")),
        )


def failed_fitness(metric: Metric) -> Fitness:
    return Fitness(metric, 0, None, (), True)


def compute_fitness(
    scores: Mapping[str, Scores], baselines: Mapping[str, Scores], metric: Metric
) -> Fitness:
    """Algorithm 3 over the datasets of `baselines` (the suite, in its order); a candidate
    stopped early, or failed, may lack the datasets it never reached."""
    reached = [name for name in baselines if name in scores]
    ended = any(scores[name].stopped or not scores[name].usable for name in reached)
    if len(reached) < len(baselines) and not ended:
        missing = [name for name in baselines if name not in scores]
        raise ValueError(f"no scores for datasets {missing}")
    if any(not scores[name].usable for name in reached):
        return failed_fitness(metric)
    per_dataset = tuple(
        (
            name,
            metric.improvement(
                metric.of(scores[name]),
                baselines[name].value_at(scores[name].stopped_epoch, metric),
            ),
        )
        for name in reached
    )
    if ended:
        average = sum(value for _, value in per_dataset) / len(per_dataset)
        return Fitness(metric, 0, average, per_dataset, stopped=True)
    won = [value for _, value in per_dataset if value > 0]
    chosen = won if won else [value for _, value in per_dataset]
    average = sum(chosen) / len(chosen) if chosen else 0.0
    return Fitness(metric, len(won), average, per_dataset)


def rank(items: Iterable[T], fitness: Callable[[T], Fitness]) -> list[T]:
    """`items` best first (wins, then average improvement; failed last); stable on ties."""
    return sorted(items, key=lambda item: fitness(item).sort_key, reverse=True)
