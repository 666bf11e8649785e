"""Confirmation: the search's best few losses and CE trained again on more seeds before the
run names its best.

A search scores each tree by one training per dataset, so the top of its final population
is partly the luck of that seed (the winner's curse). After the search, the `top` best
distinct trees of each algorithm's final population that trained fully (distinct in what
the search measured of them: a converged population holds many copies of one loss), and
CE, are trained
again on each dataset with S further model seeds (`confirmation_seeds`: s + 100 + i for run
seed s; the data, split and batch order stay the run's). The confirmed best is ranked by
the run's fitness (wins, then average improvement over CE) on the validation metric
averaged over the seeds; its test accuracy is then compared with CE's seed by seed (the
paired interval of `jaxgp.paired`). Test accuracy never takes part in choosing.

These seeds differ from `jaxgp verify`'s (s + 1000 + i), so a verification still trains on
seeds the search never used. Each dataset's confirmation is one trainer call recorded in
the run's trainings file, so a resumed run takes it back instead of training it again.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from jaxgp.fitness import Fitness, Metric, Scores, compute_fitness
from jaxgp.paired import PairedDifference, paired_difference
from jaxgp.search.evaluated import Evaluated
from jaxgp.search.evaluations import Slot, TrainerCalls
from jaxgp.search.labels import Stage
from jaxgp.status import Status

CONFIRM_SEED_OFFSET = 100
DEFAULT_TOP = 3


def confirmation_seeds(run_seed: int, count: int) -> tuple[int, ...]:
    return tuple(run_seed + CONFIRM_SEED_OFFSET + i for i in range(count))


def _mean_scores(per_seed: Sequence[Scores]) -> Scores:
    """The mean of each metric over the seeds; failed when any seed failed."""
    failed = any(not s.usable for s in per_seed)
    means = {
        name: float(np.mean([getattr(s, name) for s in per_seed]))
        for name in ("val_loss", "val_accuracy", "test_loss", "test_accuracy")
    }
    return Scores(**means, status=Status.FAILED if failed else Status.TRAINED)


@dataclass(frozen=True)
class Confirmed:
    """One loss retrained on the confirmation seeds: its scores per dataset, seed by seed."""

    expression: str
    algorithms: tuple[str, ...]
    scores: Mapping[str, tuple[Scores, ...]]

    def mean(self) -> dict[str, Scores]:
        return {name: _mean_scores(seeds) for name, seeds in self.scores.items()}

    def to_dict(self) -> dict:
        return {
            "expression": self.expression,
            "algorithms": list(self.algorithms),
            "datasets": {name: [s.to_dict() for s in seeds] for name, seeds in self.scores.items()},
        }

    @staticmethod
    def from_dict(data: Mapping) -> Confirmed:
        return Confirmed(
            str(data["expression"]),
            tuple(data.get("algorithms") or ()),
            {
                name: tuple(Scores.from_dict(s) for s in seeds)
                for name, seeds in data["datasets"].items()
            },
        )


@dataclass(frozen=True)
class Confirmation:
    """The confirmed candidates (in the order they were chosen), CE, and the seeds."""

    seeds: tuple[int, ...]
    metric: Metric
    candidates: tuple[Confirmed, ...]
    ce: Confirmed

    def fitness(self, candidate: Confirmed) -> Fitness:
        """The run's fitness of the candidate's seed-averaged validation metric against CE's."""
        return compute_fitness(candidate.mean(), self.ce.mean(), self.metric)

    @property
    def best(self) -> Confirmed | None:
        """The best by fitness (the first chosen on ties); None without candidates."""
        if not self.candidates:
            return None
        return max(self.candidates, key=lambda c: self.fitness(c).sort_key)

    def test_difference(self, candidate: Confirmed, dataset: str) -> PairedDifference:
        """Test accuracy loss - CE, paired by seed, with its 95 % interval."""
        return paired_difference(
            [s.test_accuracy for s in candidate.scores[dataset]],
            [s.test_accuracy for s in self.ce.scores[dataset]],
        )

    def describe_best(self) -> list[str]:
        """Lines naming the confirmed best and its test accuracy against CE per dataset."""
        best = self.best
        if best is None:
            return ["confirmation: no candidate trained fully"]
        fitness = self.fitness(best)
        lines = [
            f"confirmed best on {len(self.seeds)} more seeds: {best.expression} (wins "
            f"{fitness.wins}, average improvement {fitness.average_improvement or 0:+.2f} % "
            f"in seed-averaged validation {self.metric})"
        ]
        for name in self.ce.scores:
            d = self.test_difference(best, name)
            mean = best.mean()[name].test_accuracy
            ce = self.ce.mean()[name].test_accuracy
            lines.append(
                f"  {name}: test acc {mean:.4f} (CE {ce:.4f}), loss - CE {d.mean:+.4f}, "
                f"95 % CI [{d.low:+.4f}, {d.high:+.4f}]: {d.verdict}"
            )
        return lines

    def ranked(self) -> list[Confirmed]:
        """The candidates best first by fitness (the first chosen first on ties)."""
        order = range(len(self.candidates))
        keys = [self.fitness(c).sort_key for c in self.candidates]
        return [self.candidates[i] for i in sorted(order, key=lambda i: keys[i], reverse=True)]

    def to_dict(self) -> dict:
        best = self.best
        summary = []
        for candidate in self.ranked():
            fitness = self.fitness(candidate)
            tests = {}
            for name in self.ce.scores:
                d = self.test_difference(candidate, name)
                tests[name] = {"mean": d.mean, "low": d.low, "high": d.high, "verdict": d.verdict}
            summary.append({"expression": candidate.expression, "fitness": fitness.to_dict(),
                            "test_difference": tests})  # fmt: skip
        return {
            "seeds": list(self.seeds),
            "metric": self.metric,
            "best": best.expression if best is not None else None,
            "ranking": summary,
            "candidates": [c.to_dict() for c in self.candidates],
            "ce": self.ce.to_dict(),
        }

    @staticmethod
    def from_dict(data: Mapping) -> Confirmation:
        return Confirmation(
            tuple(int(s) for s in data["seeds"]),
            Metric(data["metric"]),
            tuple(Confirmed.from_dict(c) for c in data["candidates"]),
            Confirmed.from_dict(data["ce"]),
        )


def _behaviour(individual: Evaluated) -> tuple:
    """What the search saw of a tree: its validation loss and accuracy on every dataset.
    Two trees with the same are (as far as the search can tell) the same loss written
    twice, such as `y_true + y_true` and `2 * y_true` in the same place."""
    return tuple(
        (name, scores.val_loss, scores.val_accuracy)
        for name, scores in sorted(individual.scores.items())
    )


def choose(finals: Mapping[str, Sequence[Evaluated]], top: int) -> list[tuple[str, list[str]]]:
    """(expression, algorithms) of the `top` best fully trained trees of each algorithm's
    final population (best first), in the order they were chosen, skipping a tree that
    behaved exactly as one already chosen (so a converged population's copies of one loss
    do not use up the confirmation)."""
    chosen: dict[str, list[str]] = {}
    seen: dict[tuple, str] = {}
    for algorithm, population in finals.items():
        taken = 0
        for individual in population:
            if taken == top:
                break
            if individual.fitness.failed or individual.fitness.stopped:
                continue
            behaviour = _behaviour(individual)
            expression = individual.expression
            if behaviour:  # the first tree seen behaving so stands for the others
                expression = seen.setdefault(behaviour, expression)
            if algorithm in chosen.get(expression, ()):
                continue
            taken += 1
            chosen.setdefault(expression, []).append(algorithm)
    return list(chosen.items())


def confirm(
    calls: TrainerCalls,
    datasets: Sequence[Any],
    finals: Mapping[str, Sequence[Evaluated]],
    *,
    seeds: Sequence[int],
    metric: Metric,
    top: int = DEFAULT_TOP,
) -> Confirmation:
    """Train the chosen trees and CE on every dataset with every seed (one trainer call per
    dataset, recorded under `Stage.CONFIRM`, taken back from the store on resume)."""
    chosen = choose(finals, top)
    names = [expression for expression, _ in chosen] + ["ce"]
    losses = [name for name in names for _ in seeds]
    per_seed: dict[str, dict[str, tuple[Scores, ...]]] = {name: {} for name in names}
    n = len(seeds)
    calls.progress.phase(Stage.CONFIRM, 0)
    for dataset in datasets:
        trained = calls.train_on(
            losses, dataset, Slot(Stage.CONFIRM, 0), seeds=list(seeds) * len(names)
        )
        for i, name in enumerate(names):
            scores = [dataclasses.replace(s, history=()) for s, _ in trained[i * n : (i + 1) * n]]
            per_seed[name][dataset.name] = tuple(scores)
    candidates = tuple(
        Confirmed(expression, tuple(algorithms), per_seed[expression])
        for expression, algorithms in chosen
    )
    return Confirmation(tuple(seeds), metric, candidates, Confirmed("ce", (), per_seed["ce"]))
