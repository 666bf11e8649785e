"""The thesis's genetic operators, as pure functions of trees and a NumPy Generator.

- `crossover(tree, donor)`: a node of `tree` (any, the root included) is deleted with its
  subtree and a subtree of `donor` (rooted at any node) is put in its place.
- `subtree_mutation(tree)`: a node other than the root is replaced, with its subtree, by a
  new random subtree (grow method, height 0 to `SUBTREE_MAX_HEIGHT`).
- `point_mutation(tree)`: a node other than the root is replaced by another node of the
  same arity, so the shape of the tree is kept: a binary operator by another of `+ - * /`,
  a unary one by another of `neg sqrt log exp sin cos` (and `csum` in the priors
  language), a leaf by another kind of leaf (`y_pred`, `y_true`, `prior` in the priors
  language, or a fresh constant).

Each result has at most `max_nodes` nodes, height at most `max_height`, and contains both
`y_pred` and `y_true`. An operator draws again (up to `MAX_TRIES` times) until its result
does; if none does, it returns its input unchanged. Whether the result passes the validity
filter is the search's concern, which regenerates invalid offspring.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from jaxgp.expr.generate import DEFAULT_TREE_CONFIG, TreeConfig, random_leaf, random_subtree
from jaxgp.expr.tree import Tree, arity

MAX_TRIES = 100
SUBTREE_MAX_HEIGHT = 3


def _fits(tree: Tree, config: TreeConfig) -> bool:
    return (
        len(tree) <= config.max_nodes
        and tree.height <= config.max_height
        and tree.has_both_leaves()
    )


def _retry(tree: Tree, config: TreeConfig, attempt: Callable[[], Tree | None]) -> Tree:
    for _ in range(MAX_TRIES):
        child = attempt()
        if child is not None and _fits(child, config):
            return child
    return tree


def crossover(
    tree: Tree, donor: Tree, rng: np.random.Generator, config: TreeConfig = DEFAULT_TREE_CONFIG
) -> Tree:
    """`tree` with the subtree at a random node replaced by a random subtree of `donor`."""

    def attempt() -> Tree:
        target = int(rng.integers(len(tree)))
        source = int(rng.integers(len(donor)))
        return tree.replace(target, donor.subtree(source))

    return _retry(tree, config, attempt)


def subtree_mutation(
    tree: Tree, rng: np.random.Generator, config: TreeConfig = DEFAULT_TREE_CONFIG
) -> Tree:
    """`tree` with a random non-root subtree replaced by a new random subtree."""
    if len(tree) < 2:
        return tree

    def attempt() -> Tree:
        target = int(rng.integers(1, len(tree)))
        height = int(rng.integers(SUBTREE_MAX_HEIGHT + 1))
        return tree.replace(target, random_subtree(rng, height=height, config=config))

    return _retry(tree, config, attempt)


def point_mutation(
    tree: Tree, rng: np.random.Generator, config: TreeConfig = DEFAULT_TREE_CONFIG
) -> Tree:
    """`tree` with one non-root node replaced by a different node of the same arity."""
    if len(tree) < 2:
        return tree

    def attempt() -> Tree | None:
        target = int(rng.integers(1, len(tree)))
        old = tree.nodes[target]
        n = arity(old)
        if n == 0:
            new = random_leaf(rng, config)
        else:
            language = config.lang
            choices = [op for op in (language.binary if n == 2 else language.unary) if op != old]
            new = choices[int(rng.integers(len(choices)))]
        if new == old:
            return None
        return Tree(tree.nodes[:target] + (new,) + tree.nodes[target + 1 :])

    return _retry(tree, config, attempt)
