"""`Evaluated`: an `Individual` as the session holds it, with the record of its evaluation.

The algorithms see an `Individual` (a tree and its fitness); what the evaluations return,
and the algorithms hand back, are `Evaluated` individuals, which also carry the
`Candidate` record the ledger, the snapshots and the summary are made of.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from jaxgp.expr.tree import Tree
from jaxgp.fitness import Scores
from jaxgp.search.population import Individual
from jaxgp.search.records import Candidate, Member
from jaxgp.status import Status


@dataclass(frozen=True)
class Evaluated(Individual):
    """A tree, its fitness under the run's metric (`candidate.ranking`) and its record."""

    candidate: Candidate

    @staticmethod
    def of(tree: Tree, candidate: Candidate) -> Evaluated:
        return Evaluated(tree, candidate.ranking, candidate)

    @property
    def scores(self) -> Mapping[str, Scores]:
        return self.candidate.scores

    @property
    def status(self) -> Status:
        return self.candidate.status

    def member(self) -> Member:
        """The individual as population snapshots and the summary list it."""
        return self.candidate.member()
