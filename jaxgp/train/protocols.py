"""What the search and the training loop hand each other, typed in one place.

- `TrainProgress`: the trainer's progress callback, `progress(what, done, total)` with
  `what` one of `probe`, `chunk`, `epoch`, `step` (the run's `jaxgp.search.progress.Progress`
  passes its `training` method);
- `Stop`: an early-stop rule, `stop(epoch, record)`: whether a candidate whose epoch
  `epoch` (1-based) ended with `record` stops training there (`jaxgp.search.early_stop`
  builds them);
- `Trainer`: what the search trains with (`jaxgp.train.trainer.DeviceTrainer`, or a test's
  fake): `prepare` turns a loaded dataset into what `train` takes, `chunk_size` says how
  many new trees one call takes, `train` has the signature of
  `jaxgp.train.loop.train_candidates`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from jaxgp.expr.tree import Tree
    from jaxgp.losses import LossSpec
    from jaxgp.train.config import TrainConfig
    from jaxgp.train.results import EpochRecord, TrainReport


class TrainProgress(Protocol):
    def __call__(self, what: str, done: int, total: int) -> None: ...


class Stop(Protocol):
    def __call__(self, epoch: int, record: EpochRecord) -> bool: ...


class Trainer(Protocol):
    def prepare(self, dataset: Any) -> Any:
        """What `train` takes of a loaded dataset (the real trainer: it on the device)."""
        ...

    def chunk_size(self, config: TrainConfig, pending: int) -> int:
        """How many of `pending` new trees one call trains."""
        ...

    def train(
        self,
        losses: Sequence[str | Tree | LossSpec],
        dataset: Any,
        config: TrainConfig,
        *,
        progress: TrainProgress | None = None,
        stop: Stop | None = None,
        seeds: Sequence[int] | None = None,
    ) -> TrainReport:
        """Every loss trained on `dataset`, the results in input order."""
        ...
