"""The two searches, asked and told with a stand-in evaluator: counts, selection, sampling,
determinism, and the ask/tell contract every registered algorithm keeps (the state a value)."""

import dataclasses
import hashlib
import importlib
from collections import Counter

import numpy as np
import pytest

from jaxgp.expr.generate import TreeConfig, random_trees
from jaxgp.expr.tree import Tree
from jaxgp.expr.validity import check_validity_batch
from jaxgp.fitness import Metric, Scores, compute_fitness
from jaxgp.search import ALGORITHMS, SearchConfig, generation_rng, ranked
from jaxgp.search.ngl import archived
from jaxgp.search.population import make_children
from jaxgp.search.tournament import sample_tournament
from jaxgp.status import Status
from tests.search.individuals import individual as scored_individual

BASELINES = {"a": Scores(1.0, 0.5, 1.0, 0.5), "b": Scores(1.0, 0.5, 1.0, 0.5)}


def individual(tree):
    digest = hashlib.sha256(str(tree).encode()).digest()
    scores = {
        name: Scores(1.0, digest[i] / 255, 1.0, digest[i] / 255, Status.of(digest[2] < 20, False))
        for i, name in enumerate(BASELINES)
    }
    return scored_individual(tree, compute_fitness(scores, BASELINES, Metric.ACCURACY), scores)


class Recorder:
    def __init__(self):
        self.calls = []

    def __call__(self, trees, algorithm, generation):
        self.calls.append((algorithm, generation, list(trees)))
        return [individual(tree) for tree in trees]


def drive(name, initial, evaluate, config, seed, state=None):
    """The session's loop (from `state` on, if given): (the last state, the states after
    each generation)."""
    search = ALGORITHMS[name].search(config, seed)
    state = search.init(initial) if state is None else state
    states = []
    for generation in range(state.generation + 1, config.generations + 1):
        children = search.ask(state)
        state = search.tell(state, children, evaluate(children, name, generation))
        states.append(state)
    return state, states


@pytest.fixture(scope="module")
def initial():
    return [individual(tree) for tree in random_trees(np.random.default_rng(7), 8)]


@pytest.mark.parametrize("name", list(ALGORITHMS))
def test_children_per_generation_are_evaluated_in_one_call(name, initial):
    config = SearchConfig(population=8, generations=2)
    recorder = Recorder()
    algorithm = ALGORITHMS[name]
    result, _ = drive(name, initial, recorder, config, 0)
    expected = {"tournament": config.N, "ngl": config.population}[name]
    assert [(a, g, len(t)) for a, g, t in recorder.calls] == [
        (name, 1, expected),
        (name, 2, expected),
    ]
    assert algorithm.evaluations(config) == 8 + 2 * expected
    assert algorithm.expected(config) == 2 * expected
    assert len(result.population) == config.population
    children = [tree for _, _, trees in recorder.calls for tree in trees]
    assert all(verdict.ok for verdict in check_validity_batch(children))


@pytest.mark.parametrize("name", list(ALGORITHMS))
def test_the_population_is_the_p_best_of_everything_evaluated(name, initial):
    config = SearchConfig(population=8, generations=3)
    recorder = Recorder()
    result, _ = drive(name, initial, recorder, config, 1)
    everyone = list(initial) + [individual(t) for _, _, trees in recorder.calls for t in trees]
    keys = [i.fitness.sort_key for i in result.population]
    assert keys == sorted((i.fitness.sort_key for i in everyone), reverse=True)[:8]
    assert keys == sorted(keys, reverse=True)  # best first


@pytest.mark.parametrize("name", list(ALGORITHMS))
def test_same_seed_same_search(name, initial):
    config = SearchConfig(population=8, generations=2)
    runs = [drive(name, initial, Recorder(), config, 5)[0] for _ in range(2)]
    assert [i.expression for i in runs[0].population] == [i.expression for i in runs[1].population]


def test_tournament_samples_without_replacement(initial):
    # With G = P every individual is drawn exactly once, so X is the top N of everyone.
    config = SearchConfig(population=8, generations=1, sample_size=8, top_n=8)
    for seed in range(20):
        chosen = sample_tournament(initial, config, generation_rng(seed, 1, 1))
        assert len({id(i) for i in chosen}) == 8
        assert chosen == ranked(initial)


def test_tournament_takes_the_top_n_of_the_sample(initial):
    config = SearchConfig(population=8, generations=1, sample_size=4, top_n=2)
    chosen = sample_tournament(initial, config, generation_rng(0, 1, 1))
    assert len(chosen) == 2 and chosen == ranked(chosen)


def test_generation_generators_are_independent_and_reproducible():
    a = generation_rng(0, 1, 2).random(3)
    assert np.array_equal(a, generation_rng(0, 1, 2).random(3))
    assert not np.array_equal(a, generation_rng(0, 2, 2).random(3))
    assert not np.array_equal(a, generation_rng(0, 1, 3).random(3))


def test_ngl_archive_holds_the_removed_individuals(initial):
    config = SearchConfig(population=8, generations=2, crossover_rate=0.0)
    recorder = Recorder()
    result, states = drive("ngl", initial, recorder, config, 0)
    everyone = list(initial) + [individual(t) for _, _, trees in recorder.calls for t in trees]
    removed = Counter(i.expression for i in everyone) - Counter(
        i.expression for i in result.population
    )
    assert {str(t) for t in result.archive} == set(removed)
    assert len(states) == 2 and len(states[0].archive) > 0
    assert len({str(t) for t in result.archive}) == len(result.archive)
    assert result.archive[: len(states[0].archive)] == states[0].archive


def test_the_ngl_archive_keeps_the_first_tree_of_an_expression_in_the_order_removed(initial):
    a, b, c = (i.tree for i in initial[:3])
    a_again = Tree(a.nodes)
    removed = [individual(tree) for tree in (b, a, a_again, b)]
    assert archived((), removed) == (b, a) and archived((), removed)[1] is a
    grown = archived((c, a_again), removed)
    assert grown == (c, a, b) and grown[1] is a_again


def _clones_of_members(name, make_children):
    """Over 20 small populations where a child equal to a member is likely (height-2 trees,
    crossover with another member, no mutation): how many ask a child whose text is that of
    a member, with `make_children` as the algorithm's module sees it."""
    tree = TreeConfig(min_height=1, max_height=2)
    config = SearchConfig(population=8, generations=1, crossover_rate=1.0, subtree_rate=0.0,
                          point_rate=0.0, tree=tree)  # fmt: skip
    module = importlib.import_module(ALGORITHMS[name].search.__module__)
    found = 0
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(module, "make_children", make_children)
        for seed in range(20):
            members = random_trees(np.random.default_rng(seed), 8, config=tree)
            search = ALGORITHMS[name].search(config, seed)
            children = search.ask(search.init([individual(t) for t in members]))
            found += bool({str(c) for c in children} & {str(m) for m in members})
    return found


@pytest.mark.parametrize("name", list(ALGORITHMS))
def test_no_child_is_a_clone_of_any_member_of_the_population_not_only_of_its_parents(name):
    def parents_only(parents, rng, config, members=()):
        return make_children(parents, rng, config)

    assert _clones_of_members(name, parents_only) > 0  # the population's trees matter here
    assert _clones_of_members(name, make_children) == 0


def test_ngl_crosses_each_individual_with_an_archived_tree_when_not_with_another_one(initial):
    """With Cr = 0 and no mutation, every child is its parent with one subtree replaced by
    a subtree of a tree of the archive (not of a fresh random tree)."""
    config = SearchConfig(population=8, generations=1, crossover_rate=0.0, subtree_rate=0.0,
                          point_rate=0.0)  # fmt: skip
    for seed in range(3):
        archive = tuple(random_trees(np.random.default_rng(100 + seed), 2))
        search = ALGORITHMS["ngl"].search(config, seed)
        state = dataclasses.replace(search.init(initial), archive=archive)
        children = search.ask(state)
        crossings = [
            {str(parent.tree.replace(at, donor.subtree(source)))
             for donor in archive for at in range(len(parent.tree))
             for source in range(len(donor))}
            for parent in state.population
        ]  # fmt: skip
        assert len(children) == 8
        assert all(str(c) in made for c, made in zip(children, crossings, strict=True))


@pytest.mark.parametrize("name", list(ALGORITHMS))
def test_tell_takes_one_evaluation_per_asked_child_in_order(name, initial):
    search = ALGORITHMS[name].search(SearchConfig(population=8, generations=2), 0)
    state = search.init(initial)
    children = search.ask(state)
    assert search.ask(state) == children
    evaluations = [individual(tree) for tree in children]
    with pytest.raises(ValueError, match="one evaluation per asked child"):
        search.tell(state, children, evaluations[:-1])
    with pytest.raises(ValueError, match="in order"):
        search.tell(state, children, evaluations[::-1])
    after = search.tell(state, children, evaluations)
    assert after.generation == 1 and len(search.ask(after)) == len(children)


@pytest.mark.parametrize("name", list(ALGORITHMS))
def test_tell_returns_a_new_state_and_leaves_the_old_one_unchanged(name, initial):
    search = ALGORITHMS[name].search(SearchConfig(population=8, generations=3), 0)
    state = search.init(initial)
    for _ in range(3):
        before = ([*state.population], [*state.archive], state.generation)
        children = search.ask(state)
        after = search.tell(state, children, [individual(tree) for tree in children])
        assert after is not state and after.generation == state.generation + 1
        assert ([*state.population], [*state.archive], state.generation) == before
        assert search.ask(state) == children
        state = after
    with pytest.raises(dataclasses.FrozenInstanceError):
        state.generation = 0  # type: ignore[misc]


@pytest.mark.parametrize("name", list(ALGORITHMS))
def test_a_states_generations_replayed_from_the_same_seed_give_the_same_populations(name, initial):
    config = SearchConfig(population=8, generations=4)
    _, states = drive(name, initial, Recorder(), config, 3)
    start = ALGORITHMS[name].search(config, 3).init(initial)
    for k, state in enumerate([start, *states[:-1]]):
        _, replayed = drive(name, initial, Recorder(), config, 3, state=state)
        assert replayed == states[k:]
        assert [[i.expression for i in s.population] for s in replayed] == [
            [i.expression for i in s.population] for s in states[k:]
        ]


@pytest.mark.parametrize("name", list(ALGORITHMS))
def test_starting_a_search_leaves_the_initial_population_as_it_was(name, initial):
    before = list(initial)
    state, _ = drive(name, initial, Recorder(), SearchConfig(population=8, generations=1), 0)
    assert initial == before and state.population is not initial


@pytest.mark.parametrize("name", list(ALGORITHMS))
def test_an_algorithm_needs_only_each_individuals_tree_and_fitness(name, initial):
    """As in evosax and optax: no record, scores or status reach the algorithm."""
    from jaxgp.search.population import Individual

    def bare(individuals):
        return [Individual(i.tree, i.fitness) for i in individuals]

    def evaluate(trees, algorithm, generation):
        return bare(individual(tree) for tree in trees)

    config = SearchConfig(population=8, generations=2)
    bare_run, _ = drive(name, bare(initial), evaluate, config, 3)
    full_run, _ = drive(name, initial, Recorder(), config, 3)
    assert [i.expression for i in bare_run.population] == [
        i.expression for i in full_run.population
    ]
    assert all(type(i) is Individual for i in bare_run.population)
