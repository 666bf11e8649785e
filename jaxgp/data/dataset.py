"""The in-memory dataset: immutable uint8 image arrays and int32 labels per split.

Images stay uint8 in host memory (CIFAR-10's 50,000 training images are 150 MB) and go to
the device as uint8; `jaxgp.data.augment` turns them into float32 inside the jitted step.
Arrays are made read-only so that a `Dataset` can be shared and cached safely.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from jaxgp.errors import ConfigError


@dataclass(frozen=True, eq=False)
class Split:
    """One split: ``images`` uint8 [N, H, W, C] and ``labels`` int32 [N]."""

    images: np.ndarray
    labels: np.ndarray

    def __post_init__(self) -> None:
        images = np.asarray(self.images)
        labels = np.asarray(self.labels)
        if images.dtype != np.uint8 or images.ndim != 4:
            raise ValueError(
                f"images must be uint8 [N, H, W, C], got {images.dtype} {images.shape}"
            )
        if labels.dtype != np.int32 or labels.shape != images.shape[:1]:
            raise ValueError(
                f"labels must be int32 [{images.shape[0]}], got {labels.dtype} {labels.shape}"
            )
        images.flags.writeable = False
        labels.flags.writeable = False
        object.__setattr__(self, "images", images)
        object.__setattr__(self, "labels", labels)

    def __len__(self) -> int:
        return int(self.labels.shape[0])

    def take(self, indices: np.ndarray) -> Split:
        """A new split holding the examples at ``indices``, in that order."""
        return Split(self.images[indices], self.labels[indices])


@dataclass(frozen=True, eq=False)
class Dataset:
    """A loaded dataset: training, validation and test splits plus what they hold.

    `horizontal_flip`: whether the recipe's augmentation may mirror its images. A registered
    dataset carries its registry entry's choice (`load_dataset`: CIFAR and Fashion-MNIST
    flip, as the thesis; digits do not, a mirrored digit is another symbol); a dataset built
    by hand is not flipped unless it says so.
    """

    name: str
    num_classes: int
    image_shape: tuple[int, int, int]
    train: Split
    val: Split
    test: Split
    horizontal_flip: bool = False

    def head(self, train: int, val: int, test: int) -> Dataset:
        """The same dataset cut to its first examples of each split (for quick runs)."""
        return Dataset(
            self.name,
            self.num_classes,
            self.image_shape,
            self.train.take(np.arange(min(train, len(self.train)))),
            self.val.take(np.arange(min(val, len(self.val)))),
            self.test.take(np.arange(min(test, len(self.test)))),
            self.horizontal_flip,
        )

    def __post_init__(self) -> None:
        for split_name in ("train", "val", "test"):
            split: Split = getattr(self, split_name)
            if split.images.shape[1:] != tuple(self.image_shape):
                raise ValueError(
                    f"{self.name} {split_name} images have shape {split.images.shape[1:]}, "
                    f"expected {tuple(self.image_shape)}"
                )
            if len(split) and (split.labels.min() < 0 or split.labels.max() >= self.num_classes):
                raise ValueError(
                    f"{self.name} {split_name} labels fall outside [0, {self.num_classes})"
                )


def split_train_val(train: Split, *, val_fraction: float, seed: int) -> tuple[Split, Split]:
    """Hold out ``round(val_fraction * N)`` random examples of ``train`` for validation.

    The split is a seeded uniform permutation (not stratified), as Keras-style "10% of the
    training split held out": 50,000 -> 45,000 / 5,000 for CIFAR, 60,000 -> 54,000 / 6,000
    for Fashion-MNIST. Both parts keep the original order of the examples; the trainer
    shuffles per epoch. The same seed gives the same split.
    """
    if not 0.0 < val_fraction < 1.0:
        raise ConfigError(f"val_fraction must be strictly between 0 and 1, got {val_fraction}")
    n = len(train)
    n_val = int(round(n * val_fraction))
    if n_val < 1 or n_val >= n:
        raise ConfigError(
            f"val_fraction {val_fraction} of {n} training examples leaves an empty split"
        )
    order = np.random.default_rng(seed).permutation(n)
    val_idx = np.sort(order[:n_val])
    train_idx = np.sort(order[n_val:])
    return train.take(train_idx), train.take(val_idx)
