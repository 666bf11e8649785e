"""The variation step's rules: children pass the filter and are no clones, and the random
second parent passes the filter too; runs made before these rules keep theirs."""

import dataclasses
from types import SimpleNamespace

import numpy as np
import pytest

from jaxgp.expr.generate import TreeConfig, random_trees
from jaxgp.expr.parse import parse
from jaxgp.expr.validity import check_validity_batch
from jaxgp.search import population
from jaxgp.search.population import fresh_tree, make_children, vary
from jaxgp.search.scales import SearchConfig


def _config(screen="thesis", **rates):
    return SearchConfig(population=8, generations=1, tree=TreeConfig(screen=screen), **rates)


def _children(config, seed, members, parents):
    rng = np.random.default_rng(seed)
    pairs = [(parent, lambda r, c=config: fresh_tree(r, c)) for parent in parents]
    return make_children(pairs, rng, config, members)


@pytest.mark.parametrize("seed", range(6))
def test_no_child_is_a_clone_of_a_parent_or_a_member(seed):
    # No mutation and a crossover with one leaf would often give a parent back.
    config = _config(subtree_rate=0.0, point_rate=0.0)
    members = random_trees(np.random.default_rng(seed), 8)
    children = _children(config, seed, members, members)
    assert len(children) == 8
    assert not {str(c) for c in children} & {str(m) for m in members}
    assert all(v.ok for v in check_validity_batch(children))


def test_variation_alone_does_give_clones_back_so_the_rule_matters():
    config = _config(subtree_rate=0.0, point_rate=0.0)
    members = random_trees(np.random.default_rng(0), 8)
    rng = np.random.default_rng(0)
    tries = [vary(m, lambda r: members[0], rng, config) for m in members * 25]
    assert any(str(child) in {str(m) for m in members} for child, _ in tries)


def test_a_run_with_the_legacy_screen_keeps_its_clones():
    legacy = dataclasses.replace(_config(subtree_rate=0.0, point_rate=0.0),
                                 tree=TreeConfig(screen="legacy"))  # fmt: skip
    members = random_trees(np.random.default_rng(3), 8, config=legacy.tree)
    found = [_children(legacy, seed, members, members) for seed in range(20)]
    assert any(str(c) in {str(m) for m in members} for kids in found for c in kids)


@pytest.mark.parametrize("screen", ["thesis", "learnable"])
def test_the_random_second_parent_passes_the_filter(screen):
    config = _config(screen)
    rng = np.random.default_rng(5)
    seconds = [fresh_tree(rng, config) for _ in range(12)]
    assert all(v.ok for v in check_validity_batch(seconds, screen=screen))


def test_the_learnable_screen_holds_for_every_child():
    config = _config("learnable")
    members = random_trees(np.random.default_rng(1), 8, config=config.tree)
    children = _children(config, 1, members, members)
    assert all(v.ok for v in check_validity_batch(children, screen="learnable"))
    assert all(v.ok for v in check_validity_batch(members, screen="learnable"))


def test_a_clone_check_compares_canonical_text():
    config = _config(subtree_rate=0.0, point_rate=0.0)
    parent = parse("y_pred * (y_true + 1)")
    children = _children(config, 0, [parse("(y_true + 1.0) * y_pred")], [parent])
    assert str(children[0]) not in {str(parent), "y_pred * (y_true + 1.0)"}


def _priors_config(**rates):
    tree = TreeConfig(screen="thesis", language="priors")
    return SearchConfig(population=8, generations=1, tree=tree, **rates)


@pytest.mark.parametrize("seed", range(3))
def test_in_the_priors_language_no_child_trains_like_a_member_or_an_earlier_child(seed):
    from jaxgp.expr.equivalence import fingerprints

    config = _priors_config(subtree_rate=0.0, point_rate=0.0)
    rng = np.random.default_rng(seed)
    members = random_trees(rng, 8, config=config.tree)
    # members holding additive constants: crossover then often moves only a constant
    members = [parse(f"({m}) + prior") if i % 2 else m for i, m in enumerate(members)]
    children = _children(config, seed, members, members)
    member_prints = set(fingerprints(members, "priors"))
    child_prints = fingerprints(children, "priors")
    assert len(children) == 8 and len(set(child_prints)) == 8
    assert not set(child_prints) & member_prints


def test_without_the_rule_children_that_train_like_members_do_occur():
    """The rule is what keeps them out: plain variation gives them back."""
    from jaxgp.expr.equivalence import fingerprints

    config = _priors_config(subtree_rate=0.0, point_rate=0.0)
    members = [parse("prior * y_pred + exp(y_true - y_pred) + 0.5"), parse("y_true * sin(y_pred)")]
    rng = np.random.default_rng(1)
    tries = [vary(members[0], lambda r: members[1], rng, config)[0] for _ in range(60)]
    prints = set(fingerprints(members, "priors"))
    twins = [t for t in tries if str(t) not in {str(m) for m in members}]
    assert any(p in prints for p in fingerprints(twins, "priors"))


@pytest.mark.parametrize("language", ["thesis", "priors"])
def test_a_child_rejected_in_every_round_is_a_fresh_valid_tree_no_member_has(language, monkeypatch):
    """After `MAX_ATTEMPTS` rounds, a fresh random tree of the run's tree settings: valid,
    drawn from the run's generator, and never the text of a member (drawing it again)."""
    tree = TreeConfig(screen="thesis", language=language, max_height=3)
    config = SearchConfig(population=8, generations=1, tree=tree)
    parents = random_trees(np.random.default_rng(3), 4, config=tree)

    def children(members):
        with monkeypatch.context() as patch:  # every variation rejected, in every round
            patch.setattr(population, "check_validity_batch",
                          lambda trees, **_: [SimpleNamespace(ok=False)] * len(trees))  # fmt: skip
            patch.setattr(population, "MAX_ATTEMPTS", 10)
            pairs = [(parent, lambda rng: parents[0]) for parent in parents]
            return make_children(pairs, np.random.default_rng(0), config, members)

    fresh = children(parents)
    assert len(fresh) == 4 and fresh == children(parents)
    assert all(child.height <= 3 for child in fresh)
    assert all(v.ok for v in check_validity_batch(fresh, language=language))
    assert not {str(c) for c in fresh} & {str(p) for p in parents}
    # The same draws, now that the first children are members: each is drawn again.
    members = [*parents, *fresh]
    assert not {str(c) for c in children(members)} & {str(m) for m in members}


def test_in_the_priors_language_a_fresh_child_that_trains_like_a_member_is_drawn_again(
    monkeypatch,
):
    config = SearchConfig(population=8, generations=1,
                          tree=TreeConfig(screen="thesis", language="priors"))  # fmt: skip
    members = [parse("y_true * log(y_pred)"), parse("y_true * y_pred")]
    texts = ["log(y_pred) * y_true", "y_true * exp(y_pred)", "exp(y_pred) * y_true", "y_pred"]
    draws = iter(map(parse, texts))  # a twin of a member, A, a twin of A, B
    monkeypatch.setattr(population, "random_tree", lambda rng, config: next(draws))
    monkeypatch.setattr(population, "check_validity_batch",
                        lambda trees, **_: [SimpleNamespace(ok=False)] * len(trees))  # fmt: skip
    monkeypatch.setattr(population, "MAX_ATTEMPTS", 2)
    pairs = [(members[0], lambda rng: members[1])] * 2
    children = make_children(pairs, np.random.default_rng(0), config, members)
    assert [str(child) for child in children] == ["y_true * exp(y_pred)", "y_pred"]
