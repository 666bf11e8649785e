"""What a finished run gives its trackers: final numbers and the confirmed candidates' curves.

Read from the run directory once `summary.json` is written. Curves (step = epoch, from 1):

- with a confirmation (`jaxgp.search.confirm`), for each confirmed candidate in its ranking
  (1 = the confirmed best) and for CE, the validation accuracy and loss per epoch on each
  dataset, averaged over the confirmation seeds (`confirmed/<rank>/<dataset>/val_accuracy`,
  `confirmed/ce/<dataset>/val_loss`; the candidate's expression is
  `confirmed/<rank>/expression`), from the trainer calls recorded in `trainings.jsonl`;
- without one, the search's best and CE's baseline (`best/<dataset>/val_accuracy`,
  `ce/<dataset>/val_accuracy`), from their stored histories.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from jaxgp.fitness import Scores
from jaxgp.search.labels import Stage
from jaxgp.search.records import Summary
from jaxgp.search.rundir import RunDir

CURVE_METRICS = ("val_accuracy", "val_loss")


@dataclass(frozen=True)
class RunEnd:
    """The end of a run, as trackers log it."""

    path: Path
    summary: Summary
    scalars: dict[str, float] = field(default_factory=dict)
    curves: dict[str, tuple[float, ...]] = field(default_factory=dict)
    """Tag -> value per epoch (epoch 1 first)."""
    texts: dict[str, str] = field(default_factory=dict)


def mean_curve(histories: Iterable[Sequence[float]]) -> tuple[float, ...]:
    """The mean per epoch over the histories that reach it."""
    histories = [list(h) for h in histories if len(h)]
    length = max((len(h) for h in histories), default=0)
    return tuple(
        float(np.mean([h[epoch] for h in histories if len(h) > epoch])) for epoch in range(length)
    )


def _curves_of(prefix: str, per_dataset: dict[str, list[Scores]]) -> dict[str, tuple[float, ...]]:
    curves = {}
    for dataset, runs in per_dataset.items():
        for metric in CURVE_METRICS:
            curve = mean_curve([getattr(e, metric) for e in s.history] for s in runs)
            if curve:
                curves[f"{prefix}/{dataset}/{metric}"] = curve
    return curves


def run_end(path: Path) -> RunEnd | None:
    """The end of the run in `path`; None when it has no summary (it did not finish)."""
    run = RunDir(path, writer=False)
    summary = run.read_summary([])
    if summary is None:
        return None
    best = summary.best
    scalars = {
        "final/evaluations": summary.evaluations,
        "final/wall_seconds": summary.wall_seconds,
        "final/compilations": summary.compilations,
        "final/cache_hits": summary.cache_hits,
    }
    if best is not None:
        scalars["final/best_wins"] = best.wins
        scalars["final/best_fitness"] = best.average_improvement
    end = RunEnd(path, summary, {k: float(v) for k, v in scalars.items() if v is not None})
    if best is not None:
        end.texts["final/best_expression"] = best.expression
    confirmation = summary.confirmation
    ranking = [c.expression for c in confirmation.ranked()] if confirmation is not None else []
    if ranking:
        per_loss: dict[str, dict[str, list[Scores]]] = {}
        for training in run.read_trainings()[0]:
            if training.algorithm != Stage.CONFIRM:
                continue
            for expression, (scores, _) in zip(training.expressions, training.results, strict=True):
                per_loss.setdefault(expression, {}).setdefault(training.dataset, []).append(scores)
        for rank, expression in enumerate(ranking, start=1):
            end.curves.update(_curves_of(f"confirmed/{rank}", per_loss.get(expression, {})))
            end.texts[f"confirmed/{rank}/expression"] = expression
        end.curves.update(_curves_of("confirmed/ce", per_loss.get("ce", {})))
    elif best is not None:
        end.curves.update(_curves_of("best", {d: [s] for d, s in best.scores.items()}))
        baselines = run.read_baselines()
        if baselines is not None:
            end.curves.update(_curves_of("ce", {d: [s] for d, s in baselines.scores.items()}))
    return end
