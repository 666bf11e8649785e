"""Per-dataset training results, kept so that a crash loses at most one dataset's training.

An evaluation needs every dataset of the run, so its ledger line is written only after the
last one. `TrainingLog.train` writes each trainer call (one chunk of candidates on one
dataset) to `trainings.jsonl` as one line as soon as it returns, and a resumed run takes
such a line back instead of training that chunk on that dataset again. A line is matched on
(evaluation key, algorithm, generation, dataset, the chunk's expressions in order): a chunk
is taken back whole or trained whole, never re-cut, so its candidates see the same
companions (and results) as in an uninterrupted run.
"""

from __future__ import annotations

from collections import defaultdict, deque
from collections.abc import Callable, Sequence
from typing import Any

from jaxgp.fitness import Scores
from jaxgp.search.records import scores_from_dict, scores_from_result, scores_to_dict
from jaxgp.search.reporting import Reporter

TrainFn = Callable[..., Any]
Trained = list[tuple[Scores, float]]
"""(scores, seconds) of each candidate of a chunk, in order."""


def _key(algorithm: Any, generation: Any, dataset: Any, expressions: Sequence[Any]) -> tuple:
    return algorithm, generation, dataset, tuple(str(e) for e in expressions)


class TrainingLog:
    """Trains through `train_fn`, recording each call, and takes back recorded calls."""

    def __init__(
        self,
        eval_key: str,
        record: Callable[[dict], None] | None = None,
        lines: Sequence[dict] = (),
    ) -> None:
        self.eval_key = eval_key
        self.record = record
        self.stored: dict[tuple, deque] = defaultdict(deque)
        for line in lines:
            try:
                expressions, results = line["expressions"], line["results"]
                if line["eval_key"] != eval_key or len(results) != len(expressions):
                    continue
                key = _key(line["algorithm"], line["generation"], line["dataset"], expressions)
            except (KeyError, TypeError):
                continue
            self.stored[key].append(line)
        self.taken_back = 0
        self.batching: dict[str, dict] = {}
        """Per dataset: K per number of candidates, and the latest decision's source and
        probe (the run summary's `candidates_per_batch`)."""

    def take_back(
        self, losses: Sequence[Any], dataset: Any, *, algorithm: str, generation: int
    ) -> Trained | None:
        """The recorded results of this exact call, once; None if there are none."""
        queue = self.stored.get(_key(algorithm, generation, dataset.name, losses))
        if not queue:
            return None
        self.taken_back += 1
        return [
            (scores_from_dict(result), float(result.get("seconds") or 0.0))
            for result in queue.popleft()["results"]
        ]

    def train(
        self,
        train_fn: TrainFn,
        losses: Sequence[Any],
        dataset: Any,
        config: Any,
        *,
        algorithm: str,
        generation: int,
        reporter: Reporter | None = None,
    ) -> Trained:
        """The losses' results on `dataset`: taken back if recorded, else trained and recorded."""
        taken = self.take_back(losses, dataset, algorithm=algorithm, generation=generation)
        if taken is not None:
            return taken
        reporter = reporter or Reporter()
        reporter.training_started(algorithm, generation, dataset.name, len(losses))
        report = train_fn(list(losses), dataset, config, progress=reporter.training_progress)
        trained = [(scores_from_result(r), float(r.seconds)) for r in report.results]
        if report.batching is not None:
            self._note_batching(dataset.name, len(losses), report.batching)
            reporter.batching(dataset.name, report.batching)
        if self.record is not None:
            self.record(
                {
                    "eval_key": self.eval_key,
                    "algorithm": algorithm,
                    "generation": generation,
                    "dataset": dataset.name,
                    "expressions": [str(loss) for loss in losses],
                    "results": [
                        {**scores_to_dict(scores), "seconds": seconds}
                        for scores, seconds in trained
                    ],
                }
            )
        return trained

    def _note_batching(self, dataset: str, count: int, decision: Any) -> None:
        entry = self.batching.setdefault(dataset, {"k_by_candidates": {}})
        entry["k_by_candidates"][str(count)] = decision.k
        if count > 1 or "source" not in entry:
            entry.update(decision.to_dict())
            entry.pop("k")
