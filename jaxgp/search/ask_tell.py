"""What every search algorithm is: a config and a seed that, given a state, ask for its next
children and, told their scores, return the next state (evosax's shape: the state is a value).

The session owns the loop, the evaluation and the progress:

    search = ALGORITHMS[name].search(config, seed)
    state = search.init(initial)
    for generation in 1..T:
        children = search.ask(state)                 # the generation's new trees
        state = search.tell(state, children, evaluate(children, name, generation))

`ask` draws generation g = `state.generation + 1` from `default_rng([seed, algorithm_id, g])`,
so one state always asks for the same trees and a resumed run asks for exactly those it
asked before; `tell` takes one `Individual` per child, in order, selects, and returns the
next `SearchState`, leaving the one it was given as it was.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from jaxgp.expr.tree import Tree
from jaxgp.search.population import Individual, generation_rng, keep_best
from jaxgp.search.scales import SearchConfig


@dataclass(frozen=True)
class SearchState:
    """A search after `generation` generations: its population, best first, and the trees
    that selection abandoned, where the algorithm keeps them (NGL; in the order abandoned)."""

    population: tuple[Individual, ...]
    archive: tuple[Tree, ...] = ()
    generation: int = 0


@dataclass(frozen=True)
class Search:
    """One algorithm's run, all but its state; subclasses say how to propose the children
    of a state and how to select the next population (and archive)."""

    name: ClassVar[str] = ""
    algorithm_id: ClassVar[int] = -1

    config: SearchConfig
    seed: int

    def init(self, initial: Sequence[Individual]) -> SearchState:
        """The state before the first generation: the P best of `initial`."""
        return SearchState(tuple(keep_best(initial, self.config.population)))

    def ask(self, state: SearchState) -> tuple[Tree, ...]:
        """The children of the generation after `state` (tell their evaluations next)."""
        rng = generation_rng(self.seed, self.algorithm_id, state.generation + 1)
        return tuple(self.propose(state, rng))

    def tell(
        self, state: SearchState, children: Sequence[Tree], evaluations: Sequence[Individual]
    ) -> SearchState:
        """The state after the generation whose `children` `ask(state)` returned, told their
        `evaluations` (one per child, in order)."""
        if [individual.tree for individual in evaluations] != list(children):
            raise ValueError(
                f"{self.name}: tell takes one evaluation per asked child, in order "
                f"({len(evaluations)} for {len(children)} children)"
            )
        population, archive = self.select(state, evaluations)
        return SearchState(tuple(population), tuple(archive), state.generation + 1)

    def propose(self, state: SearchState, rng: np.random.Generator) -> list[Tree]:
        raise NotImplementedError

    def select(
        self, state: SearchState, children: Sequence[Individual]
    ) -> tuple[Sequence[Individual], Sequence[Tree]]:
        """(the next population, best first; the next archive)."""
        raise NotImplementedError
