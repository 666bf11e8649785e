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
Ranking is `Fitness.sort_key`'s rule for every record.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from jaxgp.fitness import METRICS, Fitness, Metric, Scores, compute_fitness, ranking_key
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
class Member:
    """A member of a population, as snapshots and the summary list it."""

    expression: str
    status: Status
    wins: int
    average_improvement: float | None
    failed: bool
    stopped: bool = False
    """Stopped early (written only when true; a cached copy keeps it)."""

    @property
    def sort_key(self) -> tuple[int, int, float]:
        return ranking_key(self.wins, self.average_improvement, self.failed, self.stopped)

    def to_dict(self) -> dict:
        data = {
            "expression": self.expression,
            "status": self.status,
            "wins": self.wins,
            "average_improvement": self.average_improvement,
            "failed": self.failed,
        }
        if self.stopped:
            data["stopped"] = True
        return data

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
class Candidate:
    """An evaluated loss: its scores on every dataset and its fitness under every metric;
    `metric` is the one that ranks it (the run's `--fitness`)."""

    expression: str
    status: Status
    metric: Metric
    scores: Mapping[str, Scores] = field(default_factory=dict)
    fitness: Mapping[str, Fitness] = field(default_factory=dict)

    @staticmethod
    def evaluated(
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
    def sort_key(self) -> tuple[int, int, float]:
        return (0, 0, 0.0) if self.failed else self.ranking.sort_key

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


@dataclass(frozen=True)
class Training:
    """One trainer call (a chunk of candidates, or a CE baseline, on one dataset):
    `results` holds each candidate's scores and its share of the call's seconds."""

    eval_key: str | None
    algorithm: str
    generation: int
    dataset: str
    expressions: tuple[str, ...]
    results: tuple[tuple[Scores, float], ...]
    batching: BatchPlan | None = None

    def to_dict(self) -> dict:
        data = {
            "eval_key": self.eval_key,
            "algorithm": self.algorithm,
            "generation": self.generation,
            "dataset": self.dataset,
            "expressions": list(self.expressions),
            "results": [{**s.to_dict(), "seconds": seconds} for s, seconds in self.results],
        }
        if self.batching is not None:
            data["batching"] = self.batching.to_dict()
        return data

    @staticmethod
    def from_dict(data: Mapping) -> Training:
        expressions = tuple(str(e) for e in data["expressions"])
        results = tuple(
            (Scores.from_dict(r), float(r.get("seconds") or 0.0)) for r in data["results"]
        )
        if len(results) != len(expressions):
            raise ValueError("as many results as expressions expected")
        return Training(
            data.get("eval_key"), str(data["algorithm"]), int(data["generation"]),
            str(data["dataset"]), expressions, results,
            None if data.get("batching") is None else BatchPlan.from_dict(data["batching"]),
        )  # fmt: skip


@dataclass(frozen=True)
class Baselines:
    """The CE models of the run, one per dataset, trained under `eval_key`."""

    eval_key: str | None
    scores: Mapping[str, Scores]

    def to_dict(self) -> dict:
        return {"eval_key": self.eval_key, "datasets": _scores_json(self.scores)}

    @staticmethod
    def from_dict(data: Mapping) -> Baselines:
        return Baselines(data.get("eval_key"), _scores_of(data.get("datasets")))


@dataclass(frozen=True)
class Snapshot:
    """The population after a generation (best first), and NGL's archive of abandoned trees."""

    algorithm: str
    generation: int
    population: tuple[Member, ...]
    archive: tuple[str, ...] = ()

    def to_dict(self) -> dict:
        return {
            "algorithm": self.algorithm,
            "generation": self.generation,
            "population": [member.to_dict() for member in self.population],
            "archive": list(self.archive),
        }

    @staticmethod
    def from_dict(data: Mapping, algorithm: str, generation: int) -> Snapshot:
        population = tuple(Member.from_dict(m) for m in data["population"])
        return Snapshot(algorithm, generation, population, tuple(data.get("archive") or ()))


TIME_FIELDS = ("wall_seconds", "compilations", "compile_seconds", "compilation_cache_hits",
               "wall_seconds_excluding_compilation")  # fmt: skip
COUNT_FIELDS = ("evaluations", "trained", "cached", "failed", "stopped",
                "candidate_epochs_trained", "candidate_epochs_saved")  # fmt: skip


@dataclass(frozen=True)
class Phase:
    """One phase of a finished run (the initial population, or an algorithm): its time,
    XLA compilations, evaluation counts, and for an algorithm its best and final population.

    `candidate_epochs_trained` counts the epochs its trained evaluations ran, one per dataset
    and epoch; `candidate_epochs_saved` those early stopping spared them."""

    wall_seconds: float | None = None
    compilations: int | None = None
    compile_seconds: float | None = None
    compilation_cache_hits: int | None = None
    wall_seconds_excluding_compilation: float | None = None
    evaluations: int | None = None
    trained: int | None = None
    cached: int | None = None
    failed: int | None = None
    stopped: int | None = None
    candidate_epochs_trained: int | None = None
    candidate_epochs_saved: int | None = None
    replayed: int | None = None
    expected_evaluations: int | None = None
    best: Candidate | None = None
    final_population: tuple[Member, ...] = ()

    def to_dict(self) -> dict:
        data = {name: getattr(self, name) for name in TIME_FIELDS + COUNT_FIELDS}
        data["replayed"] = self.replayed
        if self.best is not None:
            data = {"best": self.best.to_dict(), **data}
            data["expected_evaluations"] = self.expected_evaluations
            data["final_population"] = [member.to_dict() for member in self.final_population]
        return data

    @staticmethod
    def from_dict(data: Mapping | None, metric: str | None) -> Phase:
        data = data or {}
        numbers = {
            name: (_optional_int if "compilations" in name or name in COUNT_FIELDS else
                   _optional_float)(data.get(name))
            for name in TIME_FIELDS + COUNT_FIELDS
        }  # fmt: skip
        best = data.get("best")
        return Phase(
            **numbers,
            replayed=_optional_int(data.get("replayed")),
            expected_evaluations=_optional_int(data.get("expected_evaluations")),
            best=Candidate.from_dict(best, metric) if best else None,
            final_population=tuple(Member.from_dict(m) for m in data.get("final_population", ())),
        )


@dataclass(frozen=True)
class Summary:
    """`summary.json`: what a finished run found and what it cost."""

    command: str
    metric: Metric
    best: Candidate | None
    best_algorithm: str | None
    baselines: Mapping[str, Scores]
    initial: Phase
    algorithms: Mapping[str, Phase]
    eval_key: str | None
    run_dir: str | None = None
    status: str = "finished"
    resumed: bool = False
    evaluations: int | None = None
    cache_hits: int | None = None
    trained: int | None = None
    failed: int | None = None
    stopped: int | None = None
    candidate_epochs_trained: int | None = None
    candidate_epochs_saved: int | None = None
    wall_seconds: float | None = None
    compilations: int | None = None
    compile_seconds: float | None = None
    compilation_cache_hits: int | None = None
    timing: str | None = None
    candidates_per_batch: Mapping = field(default_factory=dict)
    confirmation: Mapping | None = None
    """`jaxgp.search.confirm.Confirmation.to_dict()` with its phase's times, when the run
    confirmed its best on more seeds."""
    augmentation: Mapping = field(default_factory=dict)
    """Per dataset, the augmentation its models trained with (the flip resolved)."""

    def to_dict(self) -> dict:
        best = None
        if self.best is not None:
            best = {"algorithm": self.best_algorithm, **self.best.to_dict()}
        return {
            "command": self.command,
            "run_dir": self.run_dir,
            "status": self.status,
            "resumed": self.resumed,
            "fitness_metric": self.metric,
            "best": best,
            "baselines": _scores_json(self.baselines),
            "initial": self.initial.to_dict(),
            "algorithms": {name: phase.to_dict() for name, phase in self.algorithms.items()},
            "evaluations": self.evaluations,
            "cache_hits": self.cache_hits,
            "trained": self.trained,
            "failed": self.failed,
            "stopped": self.stopped,
            "candidate_epochs_trained": self.candidate_epochs_trained,
            "candidate_epochs_saved": self.candidate_epochs_saved,
            "wall_seconds": self.wall_seconds,
            "compilations": self.compilations,
            "compile_seconds": self.compile_seconds,
            "compilation_cache_hits": self.compilation_cache_hits,
            "timing": self.timing,
            "eval_key": self.eval_key,
            "candidates_per_batch": dict(self.candidates_per_batch),
            "confirmation": None if self.confirmation is None else dict(self.confirmation),
            "augmentation": dict(self.augmentation),
        }

    @staticmethod
    def from_dict(data: Mapping) -> Summary:
        metric = Metric(data.get("fitness_metric") or Metric.ACCURACY)
        best = data.get("best")
        counts = (
            "evaluations",
            "cache_hits",
            "trained",
            "failed",
            "stopped",
            "compilations",
            "compilation_cache_hits",
            "candidate_epochs_trained",
            "candidate_epochs_saved",
        )
        numbers = {
            name: (_optional_int if name in counts else _optional_float)(data.get(name))
            for name in counts + ("wall_seconds", "compile_seconds")
        }  # fmt: skip
        return Summary(
            command=str(data.get("command", "evolve")),
            metric=metric,
            best=Candidate.from_dict(best, metric) if best else None,
            best_algorithm=(best or {}).get("algorithm"),
            baselines=_scores_of(data.get("baselines")),
            initial=Phase.from_dict(data.get("initial"), metric),
            algorithms={
                str(name): Phase.from_dict(phase, metric)
                for name, phase in (data.get("algorithms") or {}).items()
            },
            eval_key=data.get("eval_key"),
            run_dir=data.get("run_dir"),
            status=str(data.get("status", "finished")),
            resumed=bool(data.get("resumed")),
            timing=data.get("timing"),
            candidates_per_batch=dict(data.get("candidates_per_batch") or {}),
            confirmation=data.get("confirmation"),
            augmentation=dict(data.get("augmentation") or {}),
            **numbers,
        )
