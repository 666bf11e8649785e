"""What the search and the training loop hand each other, typed in one place.

- `TrainProgress`: the trainer's progress callback, `progress(what, done, total)` with
  `what` one of `probe`, `chunk`, `epoch`, `step` (the run's `jaxgp.search.progress.Progress`
  passes its `training` method);
- `Stop`: an early-stop rule, `stop(epoch, record)`: whether a candidate whose epoch
  `epoch` (1-based) ended with `record` stops training there (`jaxgp.search.early_stop`
  builds them);
- `Trainer`: what the search trains with (`jaxgp.train.trainer.DeviceTrainer`, or a test's
  fake), generic in what it trains on: `prepare` turns a loaded `Dataset` into that (the
  real trainer: a `DeviceDataset`, the dataset on the device), `chunk_size` says how
  many new trees one call takes, `train` has the signature of
  `jaxgp.train.loop.train_candidates`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Protocol, TypeVar

if TYPE_CHECKING:
    from jaxgp.data.dataset import Dataset
    from jaxgp.expr.tree import Tree
    from jaxgp.losses import LossSpec
    from jaxgp.train.config import TrainConfig
    from jaxgp.train.results import EpochRecord, TrainReport


class TrainProgress(Protocol):
    def __call__(self, what: str, done: int, total: int) -> None: ...


class Stop(Protocol):
    def __call__(self, epoch: int, record: EpochRecord) -> bool: ...


Prepared = TypeVar("Prepared")
"""What a trainer trains on, made by its `prepare`."""


class Trainer(Protocol[Prepared]):
    def prepare(self, dataset: Dataset) -> Prepared:
        """What `train` takes of a loaded dataset."""
        ...

    def chunk_size(self, config: TrainConfig, pending: int) -> int:
        """How many of `pending` new trees one call trains."""
        ...

    def train(
        self,
        losses: Sequence[str | Tree | LossSpec],
        dataset: Prepared,
        config: TrainConfig,
        *,
        progress: TrainProgress | None = None,
        stop: Stop | None = None,
        seeds: Sequence[int] | None = None,
    ) -> TrainReport:
        """Every loss trained on `dataset`, the results in input order."""
        ...
