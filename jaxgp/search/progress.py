"""The one progress channel of a run: the session and the trainer call it as they go.

`Progress` ignores everything; the CLI's subclass draws rich bars. It is passed explicitly:
`execute(..., progress=...)` hands it to the run's `TrainerCalls`, which pass
`progress.training` to the trainer as its `jaxgp.train.protocols.TrainProgress` callback
(and the trainer passes that on to each training epoch for its steps).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from jaxgp.train.batch_plan import BatchPlan

if TYPE_CHECKING:
    from jaxgp.search.evaluated import Evaluated


class Progress:
    """Called by the run as it goes; override what you want to show."""

    def phase(self, name: str, generations: int) -> None:
        """A phase begins: `baselines`, `initial`, or an algorithm with its generations."""

    def generation(self, algorithm: str, generation: int, total: int) -> None:
        """Generation `generation` of `total` of `algorithm` begins."""

    def training_started(self, algorithm: str, generation: int, dataset: str, count: int) -> None:
        """`count` candidates go to the trainer on `dataset`."""

    def training(self, what: str, done: int, total: int) -> None:
        """The trainer's progress: `what` is `probe`, `chunk`, `epoch` or `step`."""

    def batching(self, dataset: str, plan: BatchPlan) -> None:
        """How many candidates the trainer trained at once on `dataset`, and why (a
        `jaxgp.train.batch_plan.BatchPlan`)."""

    def evaluated(self, algorithm: str, generation: int, individual: Evaluated) -> None:
        """One evaluation finished (trained, cached, failed or replayed from the ledger)."""

    def best(self, algorithm: str, individual: Evaluated) -> None:
        """The best individual of `algorithm` after a generation."""

    def warning(self, text: str) -> None:
        """Something the user should know that does not stop the run."""
