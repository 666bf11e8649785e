"""Evaluations: trees in, `Evaluated` individuals out, from the store, the cache or the trainer.

`Evaluations(calls, scoring)(trees, algorithm, generation)` resolves each tree in order:

1. replay: the store's evaluation of an earlier session for this exact slot is taken back
   as it was (nothing is trained or written);
2. cache (canonical text): a tree already evaluated in this run (by this algorithm, or
   before the algorithms forked: the initial population), or trained by an earlier session
   for another slot, is never trained again; it is ledgered with status `cached`;
3. otherwise it is trained: all such trees of the call go to the trainer together, one call
   per dataset, in chunks (the trainer's `chunk_size`) so that each finished chunk reaches the
   ledger, and each gets the status its trainings ended with (`Status.combined`:
   `trained`, `failed` or `stopped`). Each trainer call is recorded in the store as it
   returns (and, on resume, taken back from it): `TrainerCalls`.

Under an early-stop policy (`jaxgp.search.early_stop`) the datasets are trained cheapest
first, each trainer call gets the policy's rule for its dataset, and a tree that stopped
(or failed) on a dataset is not trained on the datasets after it.

The trainer is a `jaxgp.train.protocols.Trainer` (`DeviceTrainer` for real);
`train_baselines` trains CE once per dataset with it.
"""

from __future__ import annotations

import copy
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from jaxgp.expr.tree import Tree
from jaxgp.fitness import Metric, Scores
from jaxgp.search.early_stop import StopPolicy
from jaxgp.search.evaluated import Evaluated
from jaxgp.search.labels import Stage
from jaxgp.search.progress import Progress
from jaxgp.search.records import Candidate, Evaluation, Trained, Training
from jaxgp.search.store import EvaluationStore
from jaxgp.status import Status
from jaxgp.train.config import TrainConfig
from jaxgp.train.protocols import Stop, Trainer
from jaxgp.train.trainer import DeviceTrainer

__all__ = ["DeviceTrainer", "Evaluations", "Scoring", "Trainer", "TrainerCalls", "Slot"]


@dataclass(frozen=True)
class Slot:
    """Where an evaluation or a trainer call belongs: an algorithm's name (or a `Stage`)
    and its generation."""

    algorithm: str
    generation: int


@dataclass(frozen=True)
class TrainerCalls:
    """A run's trainer calls, each taken back from the store (an earlier session made it)
    or trained with `config` and recorded, `progress` told as they go."""

    store: EvaluationStore
    trainer: Trainer
    config: TrainConfig
    progress: Progress = field(default_factory=Progress)

    def train_on(
        self,
        losses: Sequence[Any],
        dataset: Any,
        slot: Slot,
        *,
        stop: Stop | None = None,
        seeds: Sequence[int] | None = None,
    ) -> list[Trained]:
        """One trainer call on one dataset (with the early-stop rule `stop`, and each
        candidate's model seed, if given): taken back from the store, or trained and
        recorded."""
        expressions = [str(loss) for loss in losses]
        algorithm, generation = slot.algorithm, slot.generation
        taken = self.store.taken_back(
            expressions, dataset.name, algorithm=algorithm, generation=generation
        )
        if taken is not None:
            return taken
        self.progress.training_started(algorithm, generation, dataset.name, len(losses))
        report = self.trainer.train(
            list(losses), dataset, self.config, progress=self.progress.training, stop=stop,
            seeds=None if seeds is None else list(seeds),
        )  # fmt: skip
        trained = [Trained(Scores.from_result(r), float(r.seconds)) for r in report.results]
        self.store.record_training(
            Training(
                self.store.eval_key,
                algorithm,
                generation,
                dataset.name,
                tuple(expressions),
                tuple(trained),
                report.batching,
            )  # fmt: skip
        )
        if report.batching is not None:
            self.progress.batching(dataset.name, report.batching)
        return trained

    def train_seeds(
        self,
        losses: Sequence[Any],
        dataset: Any,
        slot: Slot,
        seeds: Sequence[int] | None,
        *,
        stop: Stop | None = None,
    ) -> list[Trained]:
        """`train_on` with each loss trained once per model seed of `seeds` (None: once,
        from the run seed) in one trainer call, its scores the mean over them
        (`Scores.mean_over_seeds`) and its seconds their sum."""
        if seeds is None:
            return self.train_on(losses, dataset, slot, stop=stop)
        count = len(seeds)
        runs = [loss for loss in losses for _ in range(count)]
        trained = self.train_on(runs, dataset, slot, stop=stop,
                                seeds=[seed for _ in losses for seed in seeds])  # fmt: skip
        return [
            Trained(
                Scores.mean_over_seeds([t.scores for t in trained[n * count : (n + 1) * count]]),
                sum(t.seconds for t in trained[n * count : (n + 1) * count]),
            )
            for n in range(len(losses))
        ]


def fitness_seeds(run_seed: int, count: int) -> tuple[int, ...] | None:
    """The model seeds a run's fitness averages over: the run seed, then s + 200 + i (apart
    from confirmation's s + 100 + i and verification's s + 1000 + i); None for one, which
    trains as runs always did (every model from the run seed)."""
    if count <= 1:
        return None
    return (run_seed, *(run_seed + FITNESS_SEED_OFFSET + i for i in range(1, count)))


FITNESS_SEED_OFFSET = 200


def train_baselines(
    calls: TrainerCalls, datasets: Sequence[Any], seeds: Sequence[int] | None = None
) -> dict[str, Scores]:
    """CE trained once per dataset with the run's recipe and seed (or on each of `seeds`,
    its scores their mean)."""
    baselines = {}
    for dataset in datasets:
        ((scores, _),) = calls.train_seeds(["ce"], dataset, Slot(Stage.BASELINE, 0), seeds)
        baselines[dataset.name] = scores
    return baselines


@dataclass(frozen=True)
class Scoring:
    """How a run scores a tree: trained on each of `datasets` (with each of `seeds`, its
    scores their mean; None: one model, from the run seed), cheapest first with the rules of
    `early_stop`, and judged by `metric` against CE's `baselines`."""

    datasets: tuple[Any, ...]
    baselines: Mapping[str, Scores]
    metric: Metric
    early_stop: StopPolicy = StopPolicy.NONE
    seeds: tuple[int, ...] | None = None


class Evaluations:
    """Evaluates trees for one run; `with_own_cache` gives an algorithm its own cache."""

    def __init__(
        self,
        calls: TrainerCalls,
        scoring: Scoring,
        cache: dict[str, tuple[dict[str, Scores], float]] | None = None,
    ) -> None:
        self.calls = calls
        self.scoring = scoring
        self.cache = dict(cache or {})
        """expression -> (scores, seconds) of every tree this algorithm has evaluated."""

    @property
    def store(self) -> EvaluationStore:
        return self.calls.store

    @property
    def progress(self) -> Progress:
        return self.calls.progress

    def with_own_cache(self) -> Evaluations:
        """The same evaluations with a copy of the cache (store and trainer shared)."""
        own = copy.copy(self)
        own.cache = dict(self.cache)
        return own

    def _evaluated(self, tree: Tree, scores: dict[str, Scores], status: Status) -> Evaluated:
        scoring = self.scoring
        candidate = Candidate.scored(str(tree), status, scores, scoring.baselines, scoring.metric)
        return Evaluated.of(tree, candidate)

    def _record(self, individual: Evaluated, slot: Slot, seconds: float) -> None:
        self.store.record(
            Evaluation(
                **vars(individual.candidate), algorithm=slot.algorithm,
                generation=slot.generation, seconds=seconds, eval_key=self.store.eval_key,
                time=time.time(),
            )
        )  # fmt: skip
        self.progress.evaluated(slot.algorithm, slot.generation, individual)

    def _cached(self, tree: Tree, slot: Slot) -> Evaluated:
        scores, _ = self.cache[str(tree)]
        individual = self._evaluated(tree, scores, Status.CACHED)
        self._record(individual, slot, 0.0)
        return individual

    def __call__(self, trees: Sequence[Tree], algorithm: str, generation: int) -> list[Evaluated]:
        slot = Slot(algorithm, generation)
        out: list[Evaluated | None] = [None] * len(trees)
        pending: dict[str, list[int]] = {}
        for i, tree in enumerate(trees):
            text = str(tree)
            replayed = self.store.replay(algorithm, generation, text)
            if replayed is not None:
                scores = dict(replayed.scores)
                if replayed.status.trained_here:
                    self.cache.setdefault(text, (scores, replayed.seconds))
                out[i] = self._evaluated(tree, scores, replayed.status)
                self.progress.evaluated(algorithm, generation, out[i])
            elif text in pending:
                pending[text].append(i)
            elif text in self.cache:
                out[i] = self._cached(tree, slot)
            elif (earlier := self.store.earlier(text)) is not None:
                self.cache[text] = (dict(earlier.scores), earlier.seconds)
                out[i] = self._cached(tree, slot)
            else:
                pending[text] = [i]
        order = list(pending)
        size = self.calls.trainer.chunk_size(self.calls.config, len(order))
        for start in range(0, len(order), size):
            chunk = order[start : start + size]
            trained = self._train([trees[pending[t][0]] for t in chunk], slot)
            for text, individual in zip(chunk, trained, strict=True):
                first, *rest = pending[text]
                out[first] = individual
                for i in rest:
                    out[i] = self._cached(trees[i], slot)
        return [individual for individual in out if individual is not None]

    def _train(self, trees: list[Tree], slot: Slot) -> list[Evaluated]:
        scoring = self.scoring
        per_tree: list[dict[str, Scores]] = [{} for _ in trees]
        seconds = [0.0] * len(trees)
        going = list(range(len(trees)))
        for dataset in scoring.early_stop.order(scoring.datasets):
            if not going:
                break
            rule = scoring.early_stop.rule(scoring.baselines[dataset.name], scoring.metric,
                                           self.calls.config.epochs)  # fmt: skip
            trained = self.calls.train_seeds(
                [trees[i] for i in going], dataset, slot, scoring.seeds, stop=rule
            )
            for i, (scores, spent) in zip(going, trained, strict=True):
                per_tree[i][dataset.name] = scores
                seconds[i] += spent
            if rule is not None:
                going = [i for i in going if per_tree[i][dataset.name].status == Status.TRAINED]
        individuals = []
        for tree, scores, spent in zip(trees, per_tree, seconds, strict=True):
            status = Status.combined(s.status for s in scores.values())
            individual = self._evaluated(tree, scores, status)
            self.cache[str(tree)] = (scores, spent)
            self._record(individual, slot, spent)
            individuals.append(individual)
        return individuals
