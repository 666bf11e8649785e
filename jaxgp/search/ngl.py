"""The NGL authors' GP as the thesis describes it: every individual varies each generation.

Per generation g (generator `default_rng([seed, 2, g])`): for each individual, in ranking
order, the second crossover parent is, with probability Cr, another existing individual of
the population (uniformly), and otherwise an abandoned one (uniformly from the archive of
trees that earlier selections removed; a fresh random tree while the archive is empty).
The child is made by `make_children` (same mutations and validity redo as the tournament).
The P children are asked for together and evaluated in one call; told their evaluations,
the algorithm keeps the P best of parents + children and the removed ones join the archive
(each expression once). Cost: P + T*P evaluations.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from jaxgp.expr.tree import Tree
from jaxgp.search.ask_tell import Search, SearchState
from jaxgp.search.population import (
    Individual,
    fresh_tree,
    make_children,
    ranked,
    with_second_parents,
)
from jaxgp.search.scales import SearchConfig

NAME = "ngl"
ALGORITHM_ID = 2


def ngl_children(
    population: Sequence[Individual],
    archive: Sequence[Tree],
    config: SearchConfig,
    rng: np.random.Generator,
) -> list[Tree]:
    """A child of every individual, in ranking order; the second parent, when not another
    individual, is an abandoned tree (a fresh one while the archive is empty)."""

    def abandoned(rng: np.random.Generator) -> Tree:
        if archive:
            return archive[int(rng.integers(len(archive)))]
        return fresh_tree(rng, config)

    trees = [individual.tree for individual in population]
    return make_children(with_second_parents(trees, config, abandoned), rng, config, trees)


def select(
    population: Sequence[Individual], children: Sequence[Individual], size: int
) -> tuple[list[Individual], list[Individual]]:
    """(the `size` best of parents + children, the removed ones)."""
    combined = ranked(list(population) + list(children))
    return combined[:size], combined[size:]


def archived(archive: Sequence[Tree], removed: Sequence[Individual]) -> tuple[Tree, ...]:
    """`archive` (distinct expressions), then each removed tree whose expression it does not
    hold yet, in the order removed (of one expression, the first tree is kept)."""
    kept = {str(tree): tree for tree in archive}
    for individual in removed:
        kept.setdefault(individual.expression, individual.tree)
    return tuple(kept.values())


class NGL(Search):
    """The NGL GP as ask/tell: `ask` a child of every individual of a state, `tell` their
    evaluations: the next state keeps the P best of parents and children, and the removed
    ones join its archive."""

    name = NAME
    algorithm_id = ALGORITHM_ID

    def propose(self, state: SearchState, rng: np.random.Generator) -> list[Tree]:
        return ngl_children(state.population, state.archive, self.config, rng)

    def select(
        self, state: SearchState, children: Sequence[Individual]
    ) -> tuple[list[Individual], tuple[Tree, ...]]:
        population, removed = select(state.population, children, self.config.population)
        return population, archived(state.archive, removed)
