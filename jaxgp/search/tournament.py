"""The sample-tournament GP (thesis Algorithm 1): only the top N of a random sample vary.

Per generation g (generator `default_rng([seed, 1, g])`): sample G distinct individuals
uniformly without replacement; take the top N of the sample (by fitness ranking) as X; for
each member of X, in ranking order, the second parent is with probability Cr another member
of X (uniformly; a fresh random tree when N = 1) and otherwise a fresh random tree; the
child is made by `make_children`. The N children are asked for together (so the session
evaluates them in one call and the trainer batches them); told their evaluations, the
algorithm appends them and keeps the P best. Cost: P + T*N evaluations.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from jaxgp.expr.tree import Tree
from jaxgp.search.ask_tell import Search, SearchState
from jaxgp.search.population import (
    Individual,
    fresh_tree,
    keep_best,
    make_children,
    ranked,
    with_second_parents,
)
from jaxgp.search.scales import SearchConfig

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
    """A child of each of the top N of a sample; the second parent, when not another of
    them, is a fresh random tree."""
    selected = [individual.tree for individual in sample_tournament(population, config, rng)]
    parents = with_second_parents(selected, config, lambda rng: fresh_tree(rng, config))
    return make_children(parents, rng, config, [i.tree for i in population])


class Tournament(Search):
    """Algorithm 1 as ask/tell: `ask` the N children of the generation after a state, `tell`
    their evaluations: the next state keeps the P best of the enlarged population."""

    name = NAME
    algorithm_id = ALGORITHM_ID

    def propose(self, state: SearchState, rng: np.random.Generator) -> list[Tree]:
        return tournament_children(state.population, self.config, rng)

    def select(
        self, state: SearchState, children: Sequence[Individual]
    ) -> tuple[list[Individual], tuple[Tree, ...]]:
        return keep_best([*state.population, *children], self.config.population), ()
