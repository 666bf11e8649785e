"""The record of a confirmation (`jaxgp.search.confirm`): each confirmed loss's and CE's
scores on the confirmation seeds, seed by seed, what they rank and how the best's test
accuracy compares with CE's; in the run summary (`Summary.confirmation`) with the times of
its phase."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from jaxgp.fitness import Fitness, Metric, Scores, compute_fitness
from jaxgp.paired import PairedDifference, paired_difference
from jaxgp.search.phase_times import PhaseTimes
from jaxgp.status import Status


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
    """The confirmed candidates (in the order they were chosen), CE, and the seeds; with
    `times`, what its phase of the run cost."""

    seeds: tuple[int, ...]
    metric: Metric
    candidates: tuple[Confirmed, ...]
    ce: Confirmed
    times: PhaseTimes | None = None

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
            **(self.times.to_dict() if self.times is not None else {}),
        }

    @staticmethod
    def from_dict(data: Mapping) -> Confirmation:
        return Confirmation(
            tuple(int(s) for s in data["seeds"]),
            Metric(data["metric"]),
            tuple(Confirmed.from_dict(c) for c in data["candidates"]),
            Confirmed.from_dict(data["ce"]),
            PhaseTimes.from_dict(data) if "wall_seconds" in data else None,
        )
