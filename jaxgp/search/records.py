"""The run directory's records, each defined once with its JSON form.

| file                          | record                       |
|-------------------------------|------------------------------|
| `config.json`                 | `jaxgp.search.run_settings.RunSettings` |
| `ledger.jsonl`, one per line  | `Evaluation`                 |
| `trainings.jsonl`, per line   | `Training`                   |
| `baselines.json`              | `Baselines`                  |
| `generations/<alg>_<g>.json`  | `Snapshot` (of `Member`s)    |
| `summary.json`                | `Summary` (of `Phase`s)      |

Every writer builds these records and every reader (resume, report, export, the CLI) reads
them, so a field's meaning and a file's layout live here only. `from_dict` accepts what
earlier versions wrote: a field they did not write reads as None (or empty), and an
evaluation's ranking fitness falls back to its top-level `wins` and `average_improvement`.
Every record ranks by one rule, `Ranked.sort_key`.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, NamedTuple

from jaxgp.fitness import METRICS, Fitness, Metric, Ranked, Scores, compute_fitness
from jaxgp.record_fields import json_field, number, record_dict, record_from, unless_true
from jaxgp.search.confirmation import Confirmation
from jaxgp.status import Status
from jaxgp.train.batch_plan import BatchPlan


def _optional_float(value: Any) -> float | None:
    return None if value is None else float(value)


def _optional_int(value: Any) -> int | None:
    return None if value is None else int(value)


def _scores_of(data: Mapping | None) -> dict[str, Scores]:
    return {str(name): Scores.from_dict(scores) for name, scores in (data or {}).items()}


def _scores_json(scores: Mapping[str, Scores]) -> dict:
    return {name: value.to_dict() for name, value in scores.items()}


@dataclass(frozen=True)
class Member(Ranked):
    """A member of a population, as snapshots and the summary list it."""

    expression: str
    status: Status
    wins: int
    average_improvement: float | None
    failed: bool
    stopped: bool = json_field(default=False, omit=unless_true)
    """Stopped early (written only when true; a cached copy keeps it)."""

    def to_dict(self) -> dict:
        return record_dict(self)

    @staticmethod
    def from_dict(data: Mapping) -> Member:
        average = _optional_float(data.get("average_improvement"))
        status = Status(data.get("status", Status.TRAINED))
        failed = bool(data.get("failed")) or status == Status.FAILED or average is None
        stopped = bool(data.get("stopped")) or status == Status.STOPPED
        return Member(
            str(data["expression"]), status,
            int(data.get("wins") or 0), average, failed, stopped and not failed,
        )  # fmt: skip


@dataclass(frozen=True)
class Candidate(Ranked):
    """An evaluated loss: its scores on every dataset and its fitness under every metric;
    `metric` is the one that ranks it (the run's `--fitness`)."""

    expression: str
    status: Status
    metric: Metric
    scores: Mapping[str, Scores] = field(default_factory=dict)
    fitness: Mapping[str, Fitness] = field(default_factory=dict)

    @staticmethod
    def scored(
        expression: str,
        status: Status,
        scores: Mapping[str, Scores],
        baselines: Mapping[str, Scores],
        metric: Metric,
    ) -> Candidate:
        """A candidate whose fitness is computed against `baselines` under every metric."""
        fitness = {m: compute_fitness(scores, baselines, m) for m in METRICS}
        return Candidate(expression, status, metric, dict(scores), fitness)

    @property
    def ranking(self) -> Fitness:
        return self.fitness.get(self.metric) or Fitness(self.metric, 0, None, failed=True)

    @property
    def wins(self) -> int:
        return self.ranking.wins

    @property
    def average_improvement(self) -> float | None:
        return self.ranking.average_improvement

    @property
    def failed(self) -> bool:
        return self.status == Status.FAILED or self.ranking.sort_key[0] == 0

    @property
    def stopped(self) -> bool:
        return not self.failed and self.ranking.stopped

    def member(self) -> Member:
        return Member(self.expression, self.status, self.wins, self.average_improvement,
                      self.failed, self.stopped)  # fmt: skip

    def to_dict(self) -> dict:
        return {
            **self.member().to_dict(),
            "fitness_metric": self.metric,
            "fitness": {m: f.to_dict() for m, f in self.fitness.items()},
            "datasets": _scores_json(self.scores),
        }

    @staticmethod
    def _fields(data: Mapping, metric: str | None) -> dict:
        metric = Metric(data.get("fitness_metric") or metric or Metric.ACCURACY)
        fitness = {Metric(m): Fitness.from_dict(f) for m, f in (data.get("fitness") or {}).items()}
        if metric not in fitness:  # written before the fitness of every metric was kept
            member = Member.from_dict(data)
            fitness[metric] = Fitness(metric, member.wins, member.average_improvement,
                                      failed=member.failed, stopped=member.stopped)  # fmt: skip
        return {
            "expression": str(data["expression"]),
            "status": Status(data.get("status", Status.TRAINED)),
            "metric": metric,
            "scores": _scores_of(data.get("datasets")),
            "fitness": fitness,
        }

    @staticmethod
    def from_dict(data: Mapping, metric: str | None = None) -> Candidate:
        return Candidate(**Candidate._fields(data, metric))


@dataclass(frozen=True)
class Evaluation(Candidate):
    """One ledger line: a candidate evaluated for an algorithm's generation (`initial` 0
    for the initial population), with its training time and the evaluation key."""

    algorithm: str = ""
    generation: int = 0
    seconds: float = 0.0
    eval_key: str | None = None
    time: float = 0.0

    def to_dict(self) -> dict:
        data = super().to_dict()
        data.pop("failed")
        data.pop("stopped", None)
        return {
            "algorithm": self.algorithm,
            "generation": self.generation,
            **data,
            "seconds": self.seconds,
            "eval_key": self.eval_key,
            "time": self.time,
        }

    @staticmethod
    def from_dict(data: Mapping, metric: str | None = None) -> Evaluation:
        return Evaluation(
            **Candidate._fields(data, metric),
            algorithm=str(data.get("algorithm", "?")),
            generation=int(data.get("generation") or 0),
            seconds=float(data.get("seconds") or 0.0),
            eval_key=data.get("eval_key"),
            time=float(data.get("time") or 0.0),
        )


class Trained(NamedTuple):
    """One candidate's result of one trainer call: its scores and its share of the call's
    seconds."""

    scores: Scores
    seconds: float


def _results(data: Any) -> tuple[Trained, ...]:
    return tuple(Trained(Scores.from_dict(r), float(r.get("seconds") or 0.0)) for r in data)


def _plan(data: Any) -> BatchPlan | None:
    return None if data is None else BatchPlan.from_dict(data)


def _is_none(value: Any) -> bool:
    return value is None


def _confirmation(data: Any) -> Confirmation | None:
    return None if data is None else Confirmation.from_dict(data)


def _members(data: Any) -> tuple[Member, ...]:
    return tuple(Member.from_dict(m) for m in data or ())


@dataclass(frozen=True)
class Training:
    """One trainer call (a chunk of candidates, or a CE baseline, on one dataset):
    `results` holds each candidate's scores and its share of the call's seconds."""

    eval_key: str | None = json_field()
    algorithm: str = json_field(parse=str)
    generation: int = json_field(parse=int)
    dataset: str = json_field(parse=str)
    expressions: tuple[str, ...] = json_field(parse=lambda data: tuple(str(e) for e in data))
    results: tuple[Trained, ...] = json_field(parse=_results)
    batching: BatchPlan | None = json_field(default=None, parse=_plan, omit=_is_none)

    def to_dict(self) -> dict:
        data = record_dict(self)
        data["results"] = [{**s.to_dict(), "seconds": seconds} for s, seconds in self.results]
        return data

    @staticmethod
    def from_dict(data: Mapping) -> Training:
        training = record_from(Training, {"eval_key": None, **data})
        if len(training.results) != len(training.expressions):
            raise ValueError("as many results as expressions expected")
        return training


@dataclass(frozen=True)
class Baselines:
    """The CE models of the run, one per dataset, trained under `eval_key`."""

    eval_key: str | None = json_field(default=None)
    scores: Mapping[str, Scores] = json_field(
        key="datasets", parse=_scores_of, default_factory=dict
    )

    def to_dict(self) -> dict:
        return record_dict(self)

    @staticmethod
    def from_dict(data: Mapping) -> Baselines:
        return record_from(Baselines, data)


@dataclass(frozen=True)
class Snapshot:
    """The population after a generation (best first), and NGL's archive of abandoned trees;
    its file's name says which algorithm and generation."""

    algorithm: str
    generation: int
    population: tuple[Member, ...] = json_field(parse=_members)
    archive: tuple[str, ...] = json_field(default=(), parse=lambda data: tuple(data or ()))

    def to_dict(self) -> dict:
        return record_dict(self)

    @staticmethod
    def from_dict(data: Mapping, algorithm: str, generation: int) -> Snapshot:
        return record_from(Snapshot, data, algorithm=algorithm, generation=generation)


@dataclass(frozen=True)
class Phase:
    """One phase of a finished run (the initial population, or an algorithm): its time,
    XLA compilations, evaluation counts, and for an algorithm its best and final population.

    `candidate_epochs_trained` counts the epochs its trained evaluations ran, one per dataset
    and epoch; `candidate_epochs_saved` those early stopping spared them."""

    best: Candidate | None = json_field(default=None, omit=_is_none)
    wall_seconds: float | None = number(float)
    compilations: int | None = number(int)
    compile_seconds: float | None = number(float)
    compilation_cache_hits: int | None = number(int)
    wall_seconds_excluding_compilation: float | None = number(float)
    evaluations: int | None = number(int)
    trained: int | None = number(int)
    cached: int | None = number(int)
    failed: int | None = number(int)
    stopped: int | None = number(int)
    candidate_epochs_trained: int | None = number(int)
    candidate_epochs_saved: int | None = number(int)
    replayed: int | None = number(int)
    expected_evaluations: int | None = json_field(default=None, parse=_optional_int, omit=_is_none)
    final_population: tuple[Member, ...] = json_field(
        default=(), parse=_members, omit=lambda members: not members
    )

    def to_dict(self) -> dict:
        return record_dict(self)

    @staticmethod
    def from_dict(data: Mapping | None, metric: str | None) -> Phase:
        best = (data or {}).get("best")
        return record_from(Phase, data, best=Candidate.from_dict(best, metric) if best else None)


class RunState(StrEnum):
    """Where a run stands when its summary is written: `finished` (the only state a summary
    records: a run without one is still to be resumed)."""

    FINISHED = "finished"


@dataclass(frozen=True)
class Summary:
    """`summary.json`: what a finished run found and what it cost."""

    command: str = json_field(default="evolve", parse=str)
    run_dir: str | None = json_field(default=None)
    status: RunState = json_field(default=RunState.FINISHED, parse=RunState)
    resumed: bool = json_field(default=False, parse=bool)
    metric: Metric = json_field(key="fitness_metric", default=Metric.ACCURACY, parse=Metric)
    language: str = json_field(default="thesis", parse=str)
    """The loss language searched (`jaxgp.expr.language`); runs made before it: thesis."""
    best: Candidate | None = json_field(default=None)
    """Written with `best_algorithm` as its `algorithm`."""
    best_algorithm: str | None = json_field(default=None, written=False)
    baselines: Mapping[str, Scores] = json_field(default_factory=dict, parse=_scores_of)
    initial: Phase = json_field(default_factory=Phase)
    algorithms: Mapping[str, Phase] = json_field(default_factory=dict)
    evaluations: int | None = number(int)
    cache_hits: int | None = number(int)
    trained: int | None = number(int)
    failed: int | None = number(int)
    stopped: int | None = number(int)
    candidate_epochs_trained: int | None = number(int)
    candidate_epochs_saved: int | None = number(int)
    wall_seconds: float | None = number(float)
    compilations: int | None = number(int)
    compile_seconds: float | None = number(float)
    compilation_cache_hits: int | None = number(int)
    timing: str | None = json_field(default=None)
    eval_key: str | None = json_field(default=None)
    candidates_per_batch: Mapping = json_field(default_factory=dict, parse=dict)
    confirmation: Confirmation | None = json_field(default=None, parse=_confirmation)
    """The confirmation with its phase's times, when the run confirmed its best on more
    seeds."""
    augmentation: Mapping = json_field(default_factory=dict, parse=dict)
    """Per dataset, the augmentation its models trained with (the flip resolved)."""

    def to_dict(self) -> dict:
        data = record_dict(self)
        if self.best is not None:
            data["best"] = {"algorithm": self.best_algorithm, **self.best.to_dict()}
        return data

    @staticmethod
    def from_dict(data: Mapping) -> Summary:
        metric = Metric(data.get("fitness_metric") or Metric.ACCURACY)
        best = data.get("best")
        return record_from(
            Summary, {k: v for k, v in data.items() if v is not None or k in _NULLABLE},
            metric=metric,
            best=Candidate.from_dict(best, metric) if best else None,
            best_algorithm=(best or {}).get("algorithm"),
            initial=Phase.from_dict(data.get("initial"), metric),
            algorithms={
                str(name): Phase.from_dict(phase, metric)
                for name, phase in (data.get("algorithms") or {}).items()
            },
        )  # fmt: skip


_NULLABLE = {f.name for f in dataclasses.fields(Summary) if f.default is None}
"""The summary's fields whose null is a value (the others read null as their default)."""
