"""The registry of search algorithms: name -> `Algorithm` (`tournament`, `ngl`)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from jaxgp.search.ask_tell import Search
from jaxgp.search.ngl import NGL
from jaxgp.search.scales import SearchConfig
from jaxgp.search.tournament import Tournament


@dataclass(frozen=True)
class Algorithm:
    """A search: its name, the id that seeds its generators, the `Search` made of a config
    and a seed (`search(config, seed)`), and how many children it asks for per generation."""

    name: str
    algorithm_id: int
    search: type[Search]
    children_per_generation: Callable[[SearchConfig], int]

    def evaluations(self, config: SearchConfig) -> int:
        """Evaluations of a whole run, the initial population included."""
        return config.population + config.generations * self.children_per_generation(config)

    def expected(self, config: SearchConfig) -> int:
        """Evaluations of the algorithm's own generations (the initial population excluded)."""
        return config.generations * self.children_per_generation(config)


ALGORITHMS: dict[str, Algorithm] = {
    Tournament.name: Algorithm(Tournament.name, Tournament.algorithm_id, Tournament,
                               lambda c: c.N),
    NGL.name: Algorithm(NGL.name, NGL.algorithm_id, NGL, lambda c: c.population),
}  # fmt: skip
