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
from typing import Any

from jaxgp.fitness import Metric, Scores
from jaxgp.search.confirmation import Confirmation, Confirmed
from jaxgp.search.evaluated import Evaluated
from jaxgp.search.evaluations import Slot, TrainerCalls
from jaxgp.search.labels import Stage

CONFIRM_SEED_OFFSET = 100
DEFAULT_TOP = 3


def confirmation_seeds(run_seed: int, count: int) -> tuple[int, ...]:
    return tuple(run_seed + CONFIRM_SEED_OFFSET + i for i in range(count))


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
