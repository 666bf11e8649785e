"""The NGL authors' GP as the thesis describes it: every individual varies each generation.

Per generation g (generator `default_rng([seed, 2, g])`): for each individual, in ranking
order, the second crossover parent is, with probability Cr, another existing individual of
the population (uniformly), and otherwise an abandoned one (uniformly from the archive of
trees that earlier selections removed; a fresh random tree while the archive is empty).
The child is made by `make_children` (same mutations and validity redo as the tournament).
All P children are evaluated in one call; the P best of parents + children are kept and the
removed ones join the archive (each expression once). Cost: P + T*P evaluations.
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

NAME = "ngl"
ALGORITHM_ID = 2


def ngl_children(
    population: Sequence[Individual],
    archive: Sequence[Tree],
    config: SearchConfig,
    rng: np.random.Generator,
) -> list[Tree]:
    trees = [individual.tree for individual in population]
    parents = []
    for i, parent in enumerate(trees):
        others = trees[:i] + trees[i + 1 :]

        def second_parent(rng: np.random.Generator, others: list[Tree] = others) -> Tree:
            if others and rng.random() < config.crossover_rate:
                return others[int(rng.integers(len(others)))]
            if archive:
                return archive[int(rng.integers(len(archive)))]
            return fresh_tree(rng, config)

        parents.append((parent, second_parent))
    return make_children(parents, rng, config)


def select(
    population: Sequence[Individual], children: Sequence[Individual], size: int
) -> tuple[list[Individual], list[Individual]]:
    """(the `size` best of parents + children, the removed ones)."""
    combined = ranked(list(population) + list(children))
    return combined[:size], combined[size:]


def run_ngl(
    initial: Sequence[Individual],
    evaluate: EvaluateFn,
    config: SearchConfig,
    seed: int,
    hooks: GenerationHooks | None = None,
) -> SearchResult:
    """The NGL GP from an evaluated initial population; returns the final population."""
    hooks = hooks or GenerationHooks()
    population = keep_best(initial, config.population)
    archive: dict[str, Tree] = {}
    for generation in range(1, config.generations + 1):
        hooks.start(NAME, generation, config.generations)
        rng = generation_rng(seed, ALGORITHM_ID, generation)
        children = ngl_children(population, list(archive.values()), config, rng)
        evaluated = evaluate(children, NAME, generation)
        population, removed = select(population, evaluated, config.population)
        for individual in removed:
            archive.setdefault(individual.expression, individual.tree)
        hooks.end(NAME, generation, population, list(archive.values()))
    return SearchResult(NAME, population, list(archive.values()))
