"""What every search algorithm is: a state that is asked for children and told their scores.

The session owns the loop, the evaluation and the progress (evosax's shape):

    search = ALGORITHMS[name].start(initial, config, seed)
    for generation in 1..T:
        children = search.ask()                      # the generation's new trees
        search.tell(evaluate(children, name, generation))

`ask` draws the generation's variation from `default_rng([seed, algorithm_id, g])`, so a
resumed run asks for exactly the same trees; `tell` takes one `Individual` per child, in
order, and selects. `population` is the current population, best first; `archive` the
trees that selection abandoned, where the algorithm keeps them (NGL).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from jaxgp.expr.tree import Tree
from jaxgp.search.population import Individual, generation_rng, keep_best
from jaxgp.search.scales import SearchConfig


class Search:
    """The state of one algorithm's run; subclasses say how to propose and to select."""

    name = ""
    algorithm_id = -1

    def __init__(self, initial: Sequence[Individual], config: SearchConfig, seed: int) -> None:
        self.config = config
        self.seed = seed
        self.population = keep_best(initial, config.population)
        self.generation = 0
        self._asked: list[Tree] | None = None

    @property
    def archive(self) -> list[Tree]:
        return []

    def ask(self) -> list[Tree]:
        """The children of the next generation (call `tell` with their evaluations next)."""
        if self._asked is not None:
            raise RuntimeError(f"{self.name}: tell the evaluations of generation "
                               f"{self.generation} before asking again")  # fmt: skip
        self.generation += 1
        rng = generation_rng(self.seed, self.algorithm_id, self.generation)
        self._asked = self.propose(rng)
        return list(self._asked)

    def tell(self, children: Sequence[Individual]) -> None:
        """The evaluations of the trees `ask` returned, in order."""
        if self._asked is None or len(children) != len(self._asked):
            raise RuntimeError(f"{self.name}: tell takes one evaluation per asked child")
        self._asked = None
        self.select(children)

    def propose(self, rng: np.random.Generator) -> list[Tree]:
        raise NotImplementedError

    def select(self, children: Sequence[Individual]) -> None:
        raise NotImplementedError
