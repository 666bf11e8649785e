"""The two searches, asked and told with a stand-in evaluator: counts, selection, sampling,
determinism, and the ask/tell contract every registered algorithm keeps."""

import hashlib
from collections import Counter

import numpy as np
import pytest

from jaxgp.expr.generate import random_trees
from jaxgp.expr.validity import check_validity_batch
from jaxgp.fitness import Metric, Scores, compute_fitness
from jaxgp.search import ALGORITHMS, Individual, SearchConfig, generation_rng, ranked
from jaxgp.search.tournament import sample_tournament

BASELINES = {"a": Scores(1.0, 0.5, 1.0, 0.5), "b": Scores(1.0, 0.5, 1.0, 0.5)}


def individual(tree):
    digest = hashlib.sha256(str(tree).encode()).digest()
    scores = {
        name: Scores(1.0, digest[i] / 255, 1.0, digest[i] / 255, digest[2] < 20)
        for i, name in enumerate(BASELINES)
    }
    return Individual(tree, compute_fitness(scores, BASELINES, Metric.ACCURACY), scores)


class Recorder:
    def __init__(self):
        self.calls = []

    def __call__(self, trees, algorithm, generation):
        self.calls.append((algorithm, generation, list(trees)))
        return [individual(tree) for tree in trees]


def drive(name, initial, evaluate, config, seed):
    """The session's loop: (the search, (population, archive) after each generation)."""
    search = ALGORITHMS[name].start(initial, config, seed)
    ends = []
    for generation in range(1, config.generations + 1):
        search.tell(evaluate(search.ask(), name, generation))
        ends.append((list(search.population), list(search.archive)))
    return search, ends


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
    assert len(result.population) == config.population
    children = [tree for _, _, trees in recorder.calls for tree in trees]
    assert all(verdict.ok for verdict in check_validity_batch(children))


@pytest.mark.parametrize("name", list(ALGORITHMS))
def test_the_population_is_the_p_best_of_everything_evaluated(name, initial):
    config = SearchConfig(population=8, generations=3)
    recorder = Recorder()
    result, _ = drive(name, initial, recorder, config, 1)
    everyone = list(initial) + [individual(t) for _, _, trees in recorder.calls for t in trees]
    best_keys = [i.fitness.sort_key for i in ranked(everyone)[:8]]
    assert [i.fitness.sort_key for i in result.population] == best_keys
    assert result.population == ranked(result.population)


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
    result, ends = drive("ngl", initial, recorder, config, 0)
    everyone = list(initial) + [individual(t) for _, _, trees in recorder.calls for t in trees]
    removed = Counter(i.expression for i in everyone) - Counter(
        i.expression for i in result.population
    )
    assert {str(t) for t in result.archive} == set(removed)
    assert len(ends) == 2 and len(ends[0][1]) > 0


@pytest.mark.parametrize("name", list(ALGORITHMS))
def test_a_search_must_be_told_each_generation_before_it_is_asked_again(name, initial):
    search = ALGORITHMS[name].start(initial, SearchConfig(population=8, generations=2), 0)
    children = search.ask()
    with pytest.raises(RuntimeError, match="before asking again"):
        search.ask()
    with pytest.raises(RuntimeError, match="one evaluation per asked child"):
        search.tell([individual(tree) for tree in children[:-1]])
    search.tell([individual(tree) for tree in children])
    assert search.generation == 1 and len(search.ask()) == len(children)


@pytest.mark.parametrize("name", list(ALGORITHMS))
def test_starting_a_search_leaves_the_initial_population_as_it_was(name, initial):
    before = list(initial)
    search, _ = drive(name, initial, Recorder(), SearchConfig(population=8, generations=1), 0)
    assert initial == before and search.population is not initial
