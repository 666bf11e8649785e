"""Tree structure: sizes, heights, subtrees, replacement, immutability and hashing."""

import dataclasses

import pytest
from hypothesis import given

from jaxgp import Tree, parse

from .strategies import any_trees


def test_height_counts_edges_and_size_counts_nodes():
    assert parse("y_pred").height == 0
    tree = parse("exp(2.4092 - y_pred*(1 + y_true)) - cos(cos(sin(y_pred)))")
    assert tree.size == 13
    assert tree.height == 5


def test_subtree_and_replace_splice_the_prefix_tuple():
    tree = parse("log(y_pred) * (y_true + 2)")
    assert tree.children(0) == [1, 3]
    assert str(tree.subtree(3)) == "y_true + 2.0"
    assert str(tree.replace(3, parse("sin(y_true)"))) == "log(y_pred) * sin(y_true)"


def test_trees_are_immutable_and_hashable_by_value():
    a, b = parse("y_pred * y_true"), Tree(("*", "y_pred", "y_true"))
    assert a == b and hash(a) == hash(b) and len({a, b}) == 1
    with pytest.raises(dataclasses.FrozenInstanceError):
        a.nodes = ()  # type: ignore[misc]


@given(any_trees())
def test_every_subtree_is_a_tree_and_depths_agree_with_height(tree):
    for i in range(len(tree)):
        sub = tree.subtree(i)
        assert sub.height == max(tree.depths[i : tree.subtree_end(i)]) - tree.depths[i]
    assert tree.height == max(tree.depths)
