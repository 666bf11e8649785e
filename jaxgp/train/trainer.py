"""`DeviceTrainer`: the real `jaxgp.train.protocols.Trainer`, training on this process's
devices with `jaxgp.train.loop.train_candidates`."""

from __future__ import annotations

from collections.abc import Sequence

from jaxgp.data.dataset import Dataset
from jaxgp.expr.tree import Tree
from jaxgp.losses import LossSpec
from jaxgp.train.batching import chunk_size
from jaxgp.train.config import TrainConfig
from jaxgp.train.device_data import DeviceDataset
from jaxgp.train.loop import train_candidates
from jaxgp.train.protocols import Stop, TrainProgress
from jaxgp.train.results import TrainReport


class DeviceTrainer:
    """The real trainer: each dataset is put on the device once, before any training."""

    def prepare(self, dataset: Dataset) -> DeviceDataset:
        return DeviceDataset.from_dataset(dataset)

    def chunk_size(self, config: TrainConfig, pending: int) -> int:
        """How many of `pending` new trees one trainer call trains (`batching.chunk_size`)."""
        return chunk_size(config.candidates_per_batch, pending)

    def train(
        self,
        losses: Sequence[str | Tree | LossSpec],
        dataset: DeviceDataset,
        config: TrainConfig,
        *,
        progress: TrainProgress | None = None,
        stop: Stop | None = None,
        seeds: Sequence[int] | None = None,
    ) -> TrainReport:
        return train_candidates(losses, dataset, config, progress=progress, stop=stop, seeds=seeds)
