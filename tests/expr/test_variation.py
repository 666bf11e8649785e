"""Variation operators: invariants on random parents."""

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from jaxgp import TreeConfig, crossover, parse, point_mutation, subtree_mutation
from jaxgp.expr.tree import arity

from .strategies import seeds, structural_trees

CONFIG = TreeConfig()


def _respects_caps(tree):
    return len(tree) <= CONFIG.max_nodes and tree.height <= CONFIG.max_height


@given(structural_trees(), structural_trees(), seeds)
def test_crossover_child_respects_caps_and_is_made_of_both_parents(a, b, seed):
    child = crossover(a, b, np.random.default_rng(seed))
    assert _respects_caps(child) and child.has_both_leaves()
    if child != a:
        text = str(child)
        donor_pieces = {str(b.subtree(i)) for i in range(len(b))}
        assert any(piece in text for piece in donor_pieces)


@given(structural_trees(), seeds)
def test_subtree_mutation_keeps_the_root_and_caps(tree, seed):
    child = subtree_mutation(tree, np.random.default_rng(seed))
    assert _respects_caps(child) and child.has_both_leaves()
    assert child.nodes[0] == tree.nodes[0]


@given(structural_trees(), seeds)
def test_point_mutation_changes_one_non_root_node_and_keeps_arity(tree, seed):
    child = point_mutation(tree, np.random.default_rng(seed))
    assert child.has_both_leaves() and len(child) == len(tree)
    changed = [i for i, (x, y) in enumerate(zip(tree.nodes, child.nodes, strict=False)) if x != y]
    assert len(changed) <= 1
    for i in changed:
        assert i != 0
        assert arity(tree.nodes[i]) == arity(child.nodes[i])


@given(st.sampled_from(["y_pred * y_true", "neg(y_pred - y_true)"]), seeds)
def test_point_mutation_cannot_remove_a_required_leaf(text, seed):
    child = point_mutation(parse(text), np.random.default_rng(seed))
    assert child.has_both_leaves()


def test_operators_are_pure_functions_of_their_rng():
    a, b = parse("exp(y_pred) * log(y_true + 2)"), parse("sin(y_true) / cos(y_pred)")
    for op in (
        lambda r: crossover(a, b, r),
        lambda r: subtree_mutation(a, r),
        lambda r: point_mutation(a, r),
    ):
        assert op(np.random.default_rng(3)) == op(np.random.default_rng(3))
