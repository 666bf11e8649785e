"""The evaluator: trees in, evaluated `Individual`s out, through cache, ledger and trainer.

`Evaluator(trees, algorithm, generation)` resolves each tree in order:

1. replay: a ledger record of an earlier session for the same (algorithm, generation,
   expression) is taken back as it was (nothing is trained or written) -- this is how a
   resumed run replays up to where it stopped;
2. cache (canonical text, within one evaluation key): an identical tree is never trained
   twice; the hit is written to the ledger with status `cached`;
3. otherwise the tree is trained: all such trees of the call go to `train_fn` together, one
   call per dataset, in chunks (`ledger_chunk_size`) so that each finished chunk reaches
   the ledger, and each gets a `trained` or `failed` line. Each trainer call goes through
   a `TrainingLog`, which records it per dataset (and, on resume, takes it back), so a
   crash loses at most the dataset in training.

`train_fn` has the signature of `jaxgp.train.loop.train_candidates`. The CE baselines are
trained by `train_baselines` with the same function and settings.
"""

from __future__ import annotations

import time
from collections import Counter, defaultdict, deque
from collections.abc import Callable, Sequence
from typing import Any

from jaxgp import policy
from jaxgp.expr.tree import Tree
from jaxgp.fitness import METRICS, Scores, compute_fitness
from jaxgp.search.population import Individual
from jaxgp.search.records import scores_from_dict, scores_to_dict
from jaxgp.search.reporting import Reporter
from jaxgp.search.trainings import TrainFn, TrainingLog
from jaxgp.train.config import TrainConfig


def ledger_chunk_size(candidates_per_batch: int | str, pending: int) -> int:
    """How many new trees to train before their results are written to the ledger.

    An explicit K, or `auto` on a CPU (where it means 1); `auto` on an accelerator depends
    on the dataset, so the whole call is trained together there.
    """
    if isinstance(candidates_per_batch, int):
        return candidates_per_batch
    return max(1, pending) if policy.batching_pays() else 1


def default_train_fn() -> TrainFn:
    from jaxgp.train.loop import train_candidates

    return train_candidates


def train_baselines(
    datasets: Sequence[Any],
    config: TrainConfig,
    train_fn: TrainFn,
    reporter: Reporter,
    trainings: TrainingLog | None = None,
) -> dict[str, Scores]:
    """CE trained once per dataset with the run's recipe and seed."""
    trainings = trainings or TrainingLog("")
    baselines = {}
    for dataset in datasets:
        ((scores, _),) = trainings.train(
            train_fn, ["ce"], dataset, config,
            algorithm="baseline", generation=0, reporter=reporter,
        )  # fmt: skip
        baselines[dataset.name] = scores
    return baselines


class Evaluator:
    """Evaluates trees for one run; `fork` gives an algorithm its own copy of the cache."""

    def __init__(
        self,
        datasets: Sequence[Any],
        config: TrainConfig,
        baselines: dict[str, Scores],
        metric: str,
        eval_key: str,
        *,
        train_fn: TrainFn,
        record: Callable[[dict], None],
        replay: Sequence[dict] = (),
        reporter: Reporter | None = None,
        trainings: TrainingLog | None = None,
    ) -> None:
        self.datasets = list(datasets)
        self.config = config
        self.baselines = baselines
        self.metric = metric
        self.eval_key = eval_key
        self.train_fn = train_fn
        self.record = record
        self.reporter = reporter or Reporter()
        self.trainings = trainings or TrainingLog(eval_key)
        self.cache: dict[str, tuple[dict[str, Scores], float]] = {}
        self.counts: Counter = Counter()
        self.replay: dict[tuple, deque] = defaultdict(deque)
        self.pool: dict[str, dict] = {}
        for rec in replay:
            if rec.get("eval_key") != eval_key or "expression" not in rec:
                continue
            key = (rec.get("algorithm"), rec.get("generation"), rec["expression"])
            self.replay[key].append(rec)
            if rec.get("status") in ("trained", "failed"):
                self.pool.setdefault(rec["expression"], rec)

    def fork(self) -> Evaluator:
        """The same evaluator with its own copy of the cache (replay and counts shared)."""
        twin = object.__new__(Evaluator)
        twin.__dict__.update(self.__dict__)
        twin.cache = dict(self.cache)
        return twin

    def _scores(self, rec: dict) -> dict[str, Scores]:
        return {name: scores_from_dict(rec["datasets"][name]) for name in self.baselines}

    def _individual(self, tree: Tree, scores: dict[str, Scores], status: str) -> Individual:
        fitness = compute_fitness(scores, self.baselines, self.metric)
        if fitness.failed and status == "trained":
            status = "failed"
        return Individual(tree, fitness, scores, status)

    def _write(self, individual: Individual, algorithm: str, generation: int, seconds: float):
        fitness = individual.fitness
        self.record(
            {
                "algorithm": algorithm,
                "generation": generation,
                "expression": individual.expression,
                "status": individual.status,
                "wins": fitness.wins,
                "average_improvement": fitness.average_improvement,
                "fitness_metric": self.metric,
                "datasets": {k: scores_to_dict(v) for k, v in individual.scores.items()},
                "fitness": {
                    m: compute_fitness(individual.scores, self.baselines, m).to_dict()
                    for m in METRICS
                },
                "seconds": seconds,
                "eval_key": self.eval_key,
                "time": time.time(),
            }
        )
        self.counts[(algorithm, individual.status)] += 1
        self.reporter.evaluated(algorithm, generation, individual)

    def _cached(self, tree: Tree, algorithm: str, generation: int) -> Individual:
        scores, _ = self.cache[str(tree)]
        individual = self._individual(tree, scores, "cached")
        self._write(individual, algorithm, generation, 0.0)
        return individual

    def __call__(self, trees: Sequence[Tree], algorithm: str, generation: int) -> list[Individual]:
        out: list[Individual | None] = [None] * len(trees)
        pending: dict[str, list[int]] = {}
        for i, tree in enumerate(trees):
            text = str(tree)
            queue = self.replay.get((algorithm, generation, text))
            if queue:
                rec = queue.popleft()
                scores = self._scores(rec)
                if rec["status"] != "cached":
                    self.cache.setdefault(text, (scores, float(rec.get("seconds") or 0.0)))
                    self.pool.pop(text, None)
                out[i] = self._individual(tree, scores, rec["status"])
                self.counts[(algorithm, "replayed")] += 1
                self.reporter.evaluated(algorithm, generation, out[i])
            elif text in pending:
                pending[text].append(i)
            elif text in self.cache:
                out[i] = self._cached(tree, algorithm, generation)
            elif text in self.pool:
                rec = self.pool.pop(text)
                self.cache[text] = (self._scores(rec), float(rec.get("seconds") or 0.0))
                out[i] = self._cached(tree, algorithm, generation)
            else:
                pending[text] = [i]
        order = list(pending)
        size = ledger_chunk_size(self.config.candidates_per_batch, len(order))
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
        for dataset in self.datasets:
            trained = self.trainings.train(
                self.train_fn, trees, dataset, self.config,
                algorithm=algorithm, generation=generation, reporter=self.reporter,
            )  # fmt: skip
            for i, (scores, spent) in enumerate(trained):
                per_tree[i][dataset.name] = scores
                seconds[i] += spent
        individuals = []
        for tree, scores, spent in zip(trees, per_tree, seconds, strict=True):
            individual = self._individual(tree, scores, "trained")
            self.cache[str(tree)] = (scores, spent)
            self._write(individual, algorithm, generation, spent)
            individuals.append(individual)
        return individuals
