"""A dataset on the device: uint8 images and int32 labels per split, placed once, read by
every compiled step (the training programs take a `DeviceSplit` as data)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple

import jax
import numpy as np

from jaxgp.data.dataset import Dataset, Split
from jaxgp.data.train_split import class_priors
from jaxgp.train.placement import place_replicated


class DeviceSplit(NamedTuple):
    """A split on the device: [N, H, W, C] uint8 images and [N] int32 labels."""

    images: jax.Array
    labels: jax.Array

    @property
    def size(self) -> int:
        return int(self.labels.shape[0])

    @staticmethod
    def from_split(split: Split) -> DeviceSplit:
        images, labels = place_replicated((np.asarray(split.images), np.asarray(split.labels)))
        return DeviceSplit(images, labels)


@dataclass(frozen=True, eq=False)
class DeviceDataset:
    """A dataset whose splits live on the device; build it once and train many chunks."""

    name: str
    num_classes: int
    image_shape: tuple[int, int, int]
    train: DeviceSplit
    val: DeviceSplit
    test: DeviceSplit
    horizontal_flip: bool = False
    """The dataset's own augmentation choice (`jaxgp.data.Dataset.horizontal_flip`)."""
    prior: np.ndarray | None = None
    """The training split's class frequencies [C] (`class_priors`), what a loss's `prior`
    leaves read; None: uniform."""

    @property
    def class_prior(self) -> np.ndarray:
        """`prior`, or 1/C for every class where none was given."""
        if self.prior is None:
            return np.full(self.num_classes, 1.0 / self.num_classes, np.float32)
        return np.asarray(self.prior, np.float32)

    @staticmethod
    def from_dataset(dataset: Dataset) -> DeviceDataset:
        return DeviceDataset(
            dataset.name,
            dataset.num_classes,
            tuple(dataset.image_shape),
            DeviceSplit.from_split(dataset.train),
            DeviceSplit.from_split(dataset.val),
            DeviceSplit.from_split(dataset.test),
            bool(getattr(dataset, "horizontal_flip", False)),
            class_priors(dataset.train.labels, dataset.num_classes),
        )
