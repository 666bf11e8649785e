"""What a search returns, and the hooks it calls around each generation."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from jaxgp.expr.tree import Tree
from jaxgp.search.population import Individual


def _ignore(*_: object) -> None:
    return None


@dataclass(frozen=True)
class GenerationHooks:
    """`start(algorithm, generation, total)` before the variation of a generation and
    `end(algorithm, generation, population, archive)` after its selection."""

    start: Callable[[str, int, int], None] = _ignore
    end: Callable[[str, int, Sequence[Individual], Sequence[Tree]], None] = _ignore


@dataclass(frozen=True)
class SearchResult:
    """The final population, best first (and NGL's archive of abandoned trees)."""

    algorithm: str
    population: list[Individual]
    archive: list[Tree] = field(default_factory=list)

    @property
    def best(self) -> Individual:
        return self.population[0]
