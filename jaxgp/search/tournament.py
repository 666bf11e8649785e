"""The sample-tournament GP (thesis Algorithm 1): only the top N of a random sample vary.

Per generation g (generator `default_rng([seed, 1, g])`): sample G distinct individuals
uniformly without replacement; take the top N of the sample (by fitness ranking) as X; for
each member of X, in ranking order, the second parent is with probability Cr another member
of X (uniformly; a fresh random tree when N = 1) and otherwise a fresh random tree; the
child is made by `make_children`. All N children are evaluated in ONE call (so the trainer
batches them), appended, and the P best are kept. Cost: P + T*N evaluations.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from jaxgp.expr.tree import Tree
from jaxgp.search.config import SearchConfig
from jaxgp.search.population import (
    EvaluateFn,
    Individual,
    fresh_tree,
    generation_rng,
    keep_best,
    make_children,
    ranked,
)
from jaxgp.search.result import GenerationHooks, SearchResult

NAME = "tournament"
ALGORITHM_ID = 1


def sample_tournament(
    population: Sequence[Individual], config: SearchConfig, rng: np.random.Generator
) -> list[Individual]:
    """The top N of G individuals drawn uniformly without replacement."""
    indices = rng.choice(len(population), size=min(config.G, len(population)), replace=False)
    return ranked([population[int(i)] for i in indices])[: config.N]


def tournament_children(
    population: Sequence[Individual], config: SearchConfig, rng: np.random.Generator
) -> list[Tree]:
    selected = [individual.tree for individual in sample_tournament(population, config, rng)]
    parents = []
    for i, parent in enumerate(selected):
        others = selected[:i] + selected[i + 1 :]

        def second_parent(rng: np.random.Generator, others: list[Tree] = others) -> Tree:
            if others and rng.random() < config.crossover_rate:
                return others[int(rng.integers(len(others)))]
            return fresh_tree(rng, config)

        parents.append((parent, second_parent))
    return make_children(parents, rng, config)


def run_tournament(
    initial: Sequence[Individual],
    evaluate: EvaluateFn,
    config: SearchConfig,
    seed: int,
    hooks: GenerationHooks | None = None,
) -> SearchResult:
    """Algorithm 1 from an evaluated initial population; returns the final population."""
    hooks = hooks or GenerationHooks()
    population = keep_best(initial, config.population)
    for generation in range(1, config.generations + 1):
        hooks.start(NAME, generation, config.generations)
        rng = generation_rng(seed, ALGORITHM_ID, generation)
        children = tournament_children(population, config, rng)
        evaluated = evaluate(children, NAME, generation)
        population = keep_best(list(population) + evaluated, config.population)
        hooks.end(NAME, generation, population, [])
    return SearchResult(NAME, population)
