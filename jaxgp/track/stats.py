"""What a tracker logs per generation, gathered from the run's progress calls.

`Generations` is fed the calls of `jaxgp.search.Progress` (`phase`, `generation`,
`evaluated`, `best`) and gives one `GenerationStats` when a generation ends: for an
algorithm's generation g when its best is reported, and for the initial population, at
step 0 of each algorithm, when that algorithm's phase begins. Per generation:

- `best_fitness`, `best_wins`, `best_expression`: the population's best after it (its
  average improvement over CE in percent, under the run's metric);
- `median_fitness`: the median average improvement of the candidates evaluated in it
  (failed ones left out);
- `failed_share`, `stopped_share`: of those candidates, the share whose training failed or
  stopped early;
- `rejected_share`: of the trees drawn for it, the share the validity filter and screen
  turned away before training (`jaxgp.expr.validity.screened`);
- `evaluations`, `evaluations_per_second`: candidates evaluated in it (replayed and cached
  ones included), per second of its wall time.
"""

from __future__ import annotations

import math
import statistics
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from jaxgp.expr.validity import Screened, screened
from jaxgp.search.labels import Stage
from jaxgp.status import Status

INITIAL = Stage.INITIAL


@dataclass(frozen=True)
class GenerationStats:
    """One generation of one algorithm (step 0: the initial population)."""

    algorithm: str
    step: int
    best_expression: str
    best_fitness: float | None
    best_wins: int
    median_fitness: float | None
    failed_share: float | None
    stopped_share: float | None
    rejected_share: float | None
    evaluations: int
    evaluations_per_second: float | None

    def scalars(self) -> dict[str, float]:
        """The numbers to log, by tag (`<algorithm>/<name>`), leaving out those it lacks."""
        values = {
            "best_fitness": self.best_fitness,
            "best_wins": self.best_wins,
            "median_fitness": self.median_fitness,
            "failed_share": self.failed_share,
            "stopped_share": self.stopped_share,
            "rejected_share": self.rejected_share,
            "evaluations": self.evaluations,
            "evaluations_per_second": self.evaluations_per_second,
        }
        return {
            f"{self.algorithm}/{name}": float(value)
            for name, value in values.items()
            if value is not None and math.isfinite(value)
        }


def _share(count: int, total: int) -> float | None:
    return count / total if total else None


@dataclass
class _Open:
    """A generation being evaluated: when it began, the screen's count then, its
    evaluations so far."""

    generation: int
    started: float
    screened: Screened
    evaluated: list[Any] = field(default_factory=list)


def summarize(
    algorithm: str, best: Any, open_: _Open, seconds: float, drawn: Screened
) -> GenerationStats:
    """The stats of a generation whose evaluations `open_` holds, `best` its best, that took
    `seconds` and drew the trees `drawn` counts."""
    evaluated: Sequence[Any] = open_.evaluated
    statuses = [individual.status for individual in evaluated]
    improvements = [
        i.fitness.average_improvement
        for i in evaluated
        if not i.fitness.failed and i.fitness.average_improvement is not None
    ]
    fitness = best.fitness
    return GenerationStats(
        algorithm=algorithm,
        step=open_.generation,
        best_expression=best.expression,
        best_fitness=None if fitness.failed else fitness.average_improvement,
        best_wins=fitness.wins,
        median_fitness=statistics.median(improvements) if improvements else None,
        failed_share=_share(statuses.count(Status.FAILED), len(statuses)),
        stopped_share=_share(statuses.count(Status.STOPPED), len(statuses)),
        rejected_share=_share(drawn.rejected, drawn.judged),
        evaluations=len(evaluated),
        evaluations_per_second=len(evaluated) / seconds if seconds > 0 else None,
    )


class Generations:
    """Turns progress calls into `GenerationStats`, as generations end (`clock` and
    `count` read the time and the screen's count: `time.perf_counter`, `screened`)."""

    def __init__(
        self,
        clock: Callable[[], float] = time.perf_counter,
        count: Callable[[], Screened] = screened,
    ) -> None:
        self.clock, self.count = clock, count
        self.open: dict[str, _Open] = {}
        self.initial: GenerationStats | None = None

    def _begin(self, generation: int) -> _Open:
        return _Open(generation, self.clock(), self.count())

    def _end(self, algorithm: str, best: Any, open_: _Open) -> GenerationStats:
        seconds = self.clock() - open_.started
        return summarize(algorithm, best, open_, seconds, self.count() - open_.screened)

    def phase(self, name: str, generations: int) -> list[GenerationStats]:
        """A phase begins; for an algorithm, the initial population's stats under its name."""
        ended = []
        if INITIAL in self.open and self.initial is None and name != INITIAL:
            initial = self.open.pop(INITIAL)
            if initial.evaluated:
                best = max(initial.evaluated, key=lambda i: i.candidate.sort_key)
                self.initial = self._end(INITIAL, best, initial)
        if name == INITIAL:
            self.open[INITIAL] = self._begin(0)
        elif generations and self.initial is not None:
            ended.append(replace(self.initial, algorithm=name))
        return ended

    def generation(self, algorithm: str, generation: int) -> None:
        self.open[algorithm] = self._begin(generation)

    def evaluated(self, algorithm: str, individual: Any) -> None:
        if algorithm in self.open:
            self.open[algorithm].evaluated.append(individual)

    def best(self, algorithm: str, individual: Any) -> GenerationStats | None:
        """The generation of `algorithm` ends with `individual` its best."""
        open_ = self.open.pop(algorithm, None)
        return None if open_ is None else self._end(algorithm, individual, open_)
