"""The evaluation store: what this run knows about evaluations, kept in its run directory.

It answers, for a tree about to be evaluated:

- `replay(algorithm, generation, expression)`: the evaluation an earlier session ledgered
  for exactly this slot (taken once, in ledger order): this is how a resumed run replays
  up to where it stopped, nothing trained or written;
- `earlier(expression)`: an evaluation an earlier session trained for another slot
  (taken once, by the first slot that asks and was not replayed);
- `taken_back(expressions, dataset, algorithm, generation)`: the results of an exact
  trainer call an earlier session made (the chunk in order, on that dataset), so an
  evaluation cut short between its datasets resumes with the datasets already trained.
  A call is taken back whole or trained whole, never re-cut, so its candidates see the
  same companions (and results) as in an uninterrupted run.

and records what is new: every evaluation (`record`, a ledger line, durable before it
returns) and every trainer call (`record_training`). Only records of this run's
evaluation key are used.
"""

from __future__ import annotations

from collections import Counter, defaultdict, deque
from collections.abc import Sequence
from typing import Any

from jaxgp.search.records import Evaluation, Trained, Training
from jaxgp.search.rundir import RunDir
from jaxgp.train.batch_plan import BatchPlan


def _call(algorithm: Any, generation: Any, dataset: Any, expressions: Sequence[Any]) -> tuple:
    return algorithm, generation, dataset, tuple(str(e) for e in expressions)


class EvaluationStore:
    """The ledger and the trainings file of one run, read once and appended to."""

    def __init__(
        self,
        eval_key: str,
        run: RunDir | None = None,
        evaluations: Sequence[Evaluation] = (),
        trainings: Sequence[Training] = (),
    ) -> None:
        self.eval_key = eval_key
        self.run = run
        self._slots: dict[tuple, deque[Evaluation]] = defaultdict(deque)
        self._earlier: dict[str, Evaluation] = {}
        for evaluation in evaluations:
            if evaluation.eval_key != eval_key:
                continue
            slot = (evaluation.algorithm, evaluation.generation, evaluation.expression)
            self._slots[slot].append(evaluation)
            if evaluation.status.trained_here:
                self._earlier.setdefault(evaluation.expression, evaluation)
        self._calls: dict[tuple, deque[Training]] = defaultdict(deque)
        for training in trainings:
            if training.eval_key == eval_key:
                key = _call(training.algorithm, training.generation, training.dataset,
                            training.expressions)  # fmt: skip
                self._calls[key].append(training)
        self.replays: Counter[str] = Counter()
        """algorithm -> evaluations taken back from the ledger this session."""
        self.plans: list[tuple[str, int, BatchPlan]] = []
        """(dataset, candidates, plan) of each trainer call recorded this session, in
        order (the run summary's `candidates_per_batch`)."""

    # evaluations ---------------------------------------------------------------------
    def replay(self, algorithm: str, generation: int, expression: str) -> Evaluation | None:
        queue = self._slots.get((algorithm, generation, expression))
        if not queue:
            return None
        evaluation = queue.popleft()
        self._earlier.pop(expression, None)
        self.replays[algorithm] += 1
        return evaluation

    def earlier(self, expression: str) -> Evaluation | None:
        return self._earlier.pop(expression, None)

    def record(self, evaluation: Evaluation) -> None:
        if self.run is not None:
            self.run.append_evaluation(evaluation)

    # trainer calls -------------------------------------------------------------------
    def taken_back(
        self, expressions: Sequence[Any], dataset: str, *, algorithm: str, generation: int
    ) -> list[Trained] | None:
        """The recorded results of this exact trainer call, once; None if there are none."""
        queue = self._calls.get(_call(algorithm, generation, dataset, expressions))
        return list(queue.popleft().results) if queue else None

    def record_training(self, training: Training) -> None:
        if self.run is not None:
            self.run.append_training(training)
        if training.batching is not None:
            self.plans.append((training.dataset, len(training.expressions), training.batching))
