"""Random trees: methods, bounds, both leaves, validity and determinism."""

import numpy as np
import pytest
from hypothesis import given

from jaxgp import ConfigError, TreeConfig, check_validity, random_tree, random_trees
from jaxgp.expr.generate import random_subtree

from .strategies import seeds, structural_trees


@given(structural_trees())
def test_generated_trees_respect_bounds_and_contain_both_leaves(tree):
    config = TreeConfig()
    assert config.min_height <= tree.height <= config.max_height
    assert len(tree) <= config.max_nodes
    assert tree.has_both_leaves()


def test_full_method_reaches_the_drawn_height_on_every_branch():
    rng = np.random.default_rng(0)
    for _ in range(50):
        tree = random_subtree(rng, height=4, full=True)
        leaf_depths = {
            d
            for d, n in zip(tree.depths, tree.nodes, strict=False)
            if not (isinstance(n, str) and n in "+-*/negsqrtlogexpsincos")
        }
        assert leaf_depths == {4}


@pytest.mark.parametrize("method", ["grow", "full", "ramped"])
def test_every_method_gives_valid_trees_by_default(method):
    config = TreeConfig(min_height=2, max_height=4)
    for seed in range(5):
        tree = random_tree(seed, method=method, config=config)
        assert check_validity(tree).ok
        assert 2 <= tree.height <= 4


@given(seeds)
def test_the_same_seed_gives_the_same_tree(seed):
    a = random_tree(seed, require_valid=False)
    assert a == random_tree(seed, require_valid=False)
    assert a == random_tree(np.random.default_rng(seed), require_valid=False)


def test_random_trees_are_valid_and_reproducible():
    trees = random_trees(7, 10)
    assert len(trees) == 10 and all(check_validity(t).ok for t in trees)
    assert trees == random_trees(7, 10)


def test_constants_are_rounded_and_in_range():
    config = TreeConfig(constant_low=-1.0, constant_high=1.0)
    for seed in range(30):
        tree = random_tree(seed, config=config, require_valid=False)
        for node in tree.nodes:
            if isinstance(node, float):
                assert -1.0 <= node <= 1.0 and round(node, 4) == node


def test_bad_configuration_is_a_clear_error():
    with pytest.raises(ConfigError, match="min_height <= max_height"):
        TreeConfig(min_height=5, max_height=3)
    with pytest.raises(ConfigError, match="unknown method 'bushy'"):
        random_tree(0, method="bushy")


@pytest.mark.parametrize("language", ["thesis", "priors"])
def test_a_valid_random_tree_and_the_stream_after_it_are_those_of_checking_one_by_one(language):
    """random_tree checks its candidates in batches and rewinds the generator to just after
    the one it returns: the thesis's runs draw exactly what they drew one at a time."""
    from jaxgp.expr.generate import _candidate

    config = TreeConfig(screen="learnable", language=language)

    def one_by_one(rng):
        while True:
            tree = _candidate(rng, "ramped", config)
            if tree is not None and check_validity(tree, screen="learnable", language=language).ok:
                return tree

    for seed in range(4):
        batched, sequential = np.random.default_rng(seed), np.random.default_rng(seed)
        assert random_tree(batched, config=config) == one_by_one(sequential)
        assert batched.random() == sequential.random()
