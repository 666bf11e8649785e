"""Individuals built by hand for the algorithm and confirmation tests."""

from jaxgp.expr.tree import Tree
from jaxgp.fitness import Fitness, Scores
from jaxgp.search.evaluated import Evaluated
from jaxgp.search.records import Candidate
from jaxgp.status import Status


def individual(tree: Tree, fitness: Fitness, scores: dict[str, Scores] | None = None) -> Evaluated:
    """`tree` trained, with `fitness` under its metric and `scores` per dataset."""
    candidate = Candidate(str(tree), Status.TRAINED, fitness.metric, dict(scores or {}),
                          {fitness.metric: fitness})  # fmt: skip
    return Evaluated.of(tree, candidate)
