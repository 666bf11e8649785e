"""The registry of search algorithms: name -> `Algorithm` (`tournament`, `ngl`)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from jaxgp.search import ngl, tournament
from jaxgp.search.config import SearchConfig
from jaxgp.search.population import EvaluateFn, Individual
from jaxgp.search.result import GenerationHooks, SearchResult

RunFn = Callable[
    [Sequence[Individual], EvaluateFn, SearchConfig, int, GenerationHooks | None], SearchResult
]


@dataclass(frozen=True)
class Algorithm:
    """A search: its name, the id that seeds its generators, and how many evaluations."""

    name: str
    algorithm_id: int
    run: RunFn
    children_per_generation: Callable[[SearchConfig], int]

    def evaluations(self, config: SearchConfig) -> int:
        """Evaluations of a whole run, the initial population included."""
        return config.population + config.generations * self.children_per_generation(config)


ALGORITHMS: dict[str, Algorithm] = {
    tournament.NAME: Algorithm(
        tournament.NAME, tournament.ALGORITHM_ID, tournament.run_tournament, lambda c: c.N
    ),
    ngl.NAME: Algorithm(ngl.NAME, ngl.ALGORITHM_ID, ngl.run_ngl, lambda c: c.population),
}
