"""Evaluations: trees in, evaluated `Individual`s out, from the store, the cache or the trainer.

`Evaluations(...)(trees, algorithm, generation)` resolves each tree in order:

1. replay: the store's evaluation of an earlier session for this exact slot is taken back
   as it was (nothing is trained or written);
2. cache (canonical text): a tree already evaluated in this run (by this algorithm, or
   before the algorithms forked: the initial population), or trained by an earlier session
   for another slot, is never trained again; it is ledgered with status `cached`;
3. otherwise it is trained: all such trees of the call go to the trainer together, one call
   per dataset, in chunks (the trainer's `chunk_size`) so that each finished chunk reaches the
   ledger, and each gets a `trained`, `failed` or `stopped` line. Each trainer call is
   recorded in the store as it returns (and, on resume, taken back from it).

Under an early-stop policy (`jaxgp.search.early_stop`) the datasets are trained cheapest
first, each trainer call gets the policy's rule for its dataset, and a tree that stopped
(or failed) on a dataset is not trained on the datasets after it.

The trainer is a `Trainer`: `prepare` turns a loaded dataset into what `train` takes (the
real one puts it on the device), `chunk_size` says how many new trees one call trains,
`train` has the signature of `jaxgp.train.loop.train_candidates` and reports each call's
`BatchPlan`. `train_baselines` trains CE once per dataset with it.
"""

from __future__ import annotations

import copy
import dataclasses
import time
from collections.abc import Sequence
from typing import Any, Protocol

from jaxgp.expr.tree import Tree
from jaxgp.fitness import Metric, Scores
from jaxgp.search.early_stop import StopPolicy
from jaxgp.search.population import Individual
from jaxgp.search.progress import Progress
from jaxgp.search.records import Candidate, Evaluation, Training
from jaxgp.search.store import EvaluationStore, Trained
from jaxgp.status import Status
from jaxgp.train.config import TrainConfig
from jaxgp.train.results import TrainReport


class Trainer(Protocol):
    def prepare(self, dataset: Any) -> Any: ...

    def chunk_size(self, config: TrainConfig, pending: int) -> int: ...

    def train(
        self, losses: list, dataset: Any, config: TrainConfig, *, progress=None, stop=None,
        seeds=None,
    ) -> TrainReport: ...  # fmt: skip


class DeviceTrainer:
    """The real trainer: each dataset is put on the device once, before any training."""

    def prepare(self, dataset: Any) -> Any:
        from jaxgp.train.loop import DeviceDataset

        return DeviceDataset.from_dataset(dataset)

    def chunk_size(self, config: TrainConfig, pending: int) -> int:
        """How many of `pending` new trees one trainer call trains (`batching.chunk_size`)."""
        from jaxgp.train.batching import chunk_size

        return chunk_size(config.candidates_per_batch, pending)

    def train(
        self, losses: list, dataset: Any, config: TrainConfig, *, progress=None, stop=None,
        seeds=None,
    ) -> TrainReport:  # fmt: skip
        from jaxgp.train.loop import train_candidates

        return train_candidates(losses, dataset, config, progress=progress, stop=stop, seeds=seeds)


def train_on(
    store: EvaluationStore,
    trainer: Trainer,
    losses: Sequence[Any],
    dataset: Any,
    config: TrainConfig,
    *,
    algorithm: str,
    generation: int,
    progress: Progress,
    stop: Any = None,
    seeds: Sequence[int] | None = None,
) -> Trained:
    """One trainer call on one dataset (with the early-stop rule `stop`, and each
    candidate's model seed, if given): taken back from the store, or trained and recorded."""
    expressions = [str(loss) for loss in losses]
    taken = store.taken_back(expressions, dataset.name, algorithm=algorithm, generation=generation)
    if taken is not None:
        return taken
    progress.training_started(algorithm, generation, dataset.name, len(losses))
    report = trainer.train(
        list(losses), dataset, config, progress=progress.training, stop=stop,
        seeds=None if seeds is None else list(seeds),
    )  # fmt: skip
    trained = [(Scores.from_result(r), float(r.seconds)) for r in report.results]
    store.record_training(
        Training(
            store.eval_key,
            algorithm,
            generation,
            dataset.name,
            tuple(expressions),
            tuple(trained),
            report.batching,
        )  # fmt: skip
    )
    if report.batching is not None:
        progress.batching(dataset.name, report.batching)
    return trained


def fitness_seeds(run_seed: int, count: int) -> tuple[int, ...] | None:
    """The model seeds a run's fitness averages over: the run seed, then s + 200 + i (apart
    from confirmation's s + 100 + i and verification's s + 1000 + i); None for one, which
    trains as runs always did (every model from the run seed)."""
    if count <= 1:
        return None
    return (run_seed, *(run_seed + FITNESS_SEED_OFFSET + i for i in range(1, count)))


FITNESS_SEED_OFFSET = 200


def train_seeds(
    store: EvaluationStore,
    trainer: Trainer,
    losses: Sequence[Any],
    dataset: Any,
    config: TrainConfig,
    seeds: Sequence[int] | None,
    **call: Any,
) -> Trained:
    """`train_on` with each loss trained once per model seed of `seeds` (None: once, from
    the run seed) in one trainer call, its scores the mean over them
    (`Scores.mean_over_seeds`) and its seconds their sum."""
    if seeds is None:
        return train_on(store, trainer, losses, dataset, config, **call)
    count = len(seeds)
    runs = [loss for loss in losses for _ in range(count)]
    trained = train_on(store, trainer, runs, dataset, config,
                       seeds=[seed for _ in losses for seed in seeds], **call)  # fmt: skip
    return [
        (Scores.mean_over_seeds([scores for scores, _ in trained[n * count : (n + 1) * count]]),
         sum(spent for _, spent in trained[n * count : (n + 1) * count]))
        for n in range(len(losses))
    ]  # fmt: skip


def train_baselines(
    store: EvaluationStore,
    trainer: Trainer,
    datasets: Sequence[Any],
    config: TrainConfig,
    progress: Progress,
    seeds: Sequence[int] | None = None,
) -> dict[str, Scores]:
    """CE trained once per dataset with the run's recipe and seed (or on each of `seeds`,
    its scores their mean)."""
    baselines = {}
    for dataset in datasets:
        ((scores, _),) = train_seeds(
            store, trainer, ["ce"], dataset, config, seeds,
            algorithm="baseline", generation=0, progress=progress,
        )  # fmt: skip
        baselines[dataset.name] = scores
    return baselines


class Evaluations:
    """Evaluates trees for one run; `with_own_cache` gives an algorithm its own cache."""

    def __init__(
        self,
        store: EvaluationStore,
        trainer: Trainer,
        datasets: Sequence[Any],
        config: TrainConfig,
        baselines: dict[str, Scores],
        metric: Metric,
        progress: Progress | None = None,
        cache: dict[str, tuple[dict[str, Scores], float]] | None = None,
        early_stop: StopPolicy = StopPolicy.NONE,
        seeds: Sequence[int] | None = None,
    ) -> None:
        self.store = store
        self.trainer = trainer
        self.datasets = list(datasets)
        self.config = config
        self.baselines = baselines
        self.metric = metric
        self.progress = progress or Progress()
        self.cache = dict(cache or {})
        """expression -> (scores, seconds) of every tree this algorithm has evaluated."""
        self.early_stop = early_stop
        self.seeds = None if seeds is None else tuple(seeds)
        """The model seeds each tree trains with, its scores their mean (`fitness_seeds`);
        None: one model, from the run seed."""

    def with_own_cache(self) -> Evaluations:
        """The same evaluations with a copy of the cache (store and trainer shared)."""
        own = copy.copy(self)
        own.cache = dict(self.cache)
        return own

    def _individual(self, tree: Tree, scores: dict[str, Scores], status: Status) -> Individual:
        candidate = Candidate.evaluated(str(tree), status, scores, self.baselines, self.metric)
        if status == Status.TRAINED:  # the trainer's scores say whether it failed or stopped
            ranking = candidate.ranking
            status = Status.of(ranking.failed, ranking.stopped)
            candidate = dataclasses.replace(candidate, status=status)
        return Individual(tree, candidate)

    def _record(self, individual: Individual, algorithm: str, generation: int, seconds: float):
        self.store.record(
            Evaluation(
                **vars(individual.candidate), algorithm=algorithm, generation=generation,
                seconds=seconds, eval_key=self.store.eval_key, time=time.time(),
            )
        )  # fmt: skip
        self.progress.evaluated(algorithm, generation, individual)

    def _cached(self, tree: Tree, algorithm: str, generation: int) -> Individual:
        scores, _ = self.cache[str(tree)]
        individual = self._individual(tree, scores, Status.CACHED)
        self._record(individual, algorithm, generation, 0.0)
        return individual

    def __call__(self, trees: Sequence[Tree], algorithm: str, generation: int) -> list[Individual]:
        out: list[Individual | None] = [None] * len(trees)
        pending: dict[str, list[int]] = {}
        for i, tree in enumerate(trees):
            text = str(tree)
            replayed = self.store.replay(algorithm, generation, text)
            if replayed is not None:
                scores = dict(replayed.scores)
                if replayed.status.trained_here:
                    self.cache.setdefault(text, (scores, replayed.seconds))
                out[i] = self._individual(tree, scores, replayed.status)
                self.progress.evaluated(algorithm, generation, out[i])
            elif text in pending:
                pending[text].append(i)
            elif text in self.cache:
                out[i] = self._cached(tree, algorithm, generation)
            elif (earlier := self.store.earlier(text)) is not None:
                self.cache[text] = (dict(earlier.scores), earlier.seconds)
                out[i] = self._cached(tree, algorithm, generation)
            else:
                pending[text] = [i]
        order = list(pending)
        size = self.trainer.chunk_size(self.config, len(order))
        for start in range(0, len(order), size):
            chunk = order[start : start + size]
            trained = self._train([trees[pending[t][0]] for t in chunk], algorithm, generation)
            for text, individual in zip(chunk, trained, strict=True):
                first, *rest = pending[text]
                out[first] = individual
                for i in rest:
                    out[i] = self._cached(trees[i], algorithm, generation)
        return [individual for individual in out if individual is not None]

    def _train(self, trees: list[Tree], algorithm: str, generation: int) -> list[Individual]:
        per_tree: list[dict[str, Scores]] = [{} for _ in trees]
        seconds = [0.0] * len(trees)
        going = list(range(len(trees)))
        for dataset in self.early_stop.order(self.datasets):
            if not going:
                break
            rule = self.early_stop.rule(self.baselines[dataset.name], self.metric,
                                        self.config.epochs)  # fmt: skip
            trained = train_seeds(
                self.store, self.trainer, [trees[i] for i in going], dataset, self.config,
                self.seeds, algorithm=algorithm, generation=generation, progress=self.progress,
                stop=rule,
            )  # fmt: skip
            for i, (scores, spent) in zip(going, trained, strict=True):
                per_tree[i][dataset.name] = scores
                seconds[i] += spent
            if rule is not None:
                going = [i for i in going if per_tree[i][dataset.name].status == Status.TRAINED]
        individuals = []
        for tree, scores, spent in zip(trees, per_tree, seconds, strict=True):
            individual = self._individual(tree, scores, Status.TRAINED)
            self.cache[str(tree)] = (scores, spent)
            self._record(individual, algorithm, generation, spent)
            individuals.append(individual)
        return individuals
