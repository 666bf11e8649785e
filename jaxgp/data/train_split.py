"""Harder training splits: long-tailed, noisy or smaller, with validation and test untouched.

Losses differ little on a clean, balanced training split (on digits every loss tried lands
within noise of cross-entropy) and a lot on a long-tailed or noisy one, so these are the
benchmarks a loss search can win. `TrainSplit` says what to do to the training split of
any dataset (digits, synthetic, the tfds datasets); `apply` does it, seeded, in this order:

1. `train_fraction` F: each class keeps max(1, round(F * n_c)) of its n_c images (the
   class balance is kept; few-shot training);
2. `imbalance` R (long tail, as CIFAR-10-LT): with n_max the smallest class count, class c
   keeps floor(n_max * R ** (-c / (C - 1))) images, at least 1: class 0 keeps n_max, the
   last class n_max / R;
3. `label_noise` P: exactly round(P * N) of the N remaining images, chosen at random, get
   a wrong label: `symmetric`, drawn uniformly from the other C - 1 classes; `asymmetric`,
   the next class (c -> c + 1 mod C, a fixed confusion).

The validation split (held out of the original training split before this) and the test
split are never changed, so they measure what a model learned of the real, balanced task.
Every candidate and its CE baseline train on the same transformed split.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import numpy as np

from jaxgp.data.dataset import Dataset, Split
from jaxgp.errors import ConfigError

NOISE_KINDS = ("symmetric", "asymmetric")
_SALT = 0x7A11  # the transform's random stream differs from the train/validation split's


@dataclass(frozen=True)
class TrainSplit:
    """What to do to a training split; the default changes nothing."""

    imbalance: float = 1.0
    label_noise: float = 0.0
    noise_kind: str = "symmetric"
    train_fraction: float = 1.0

    def __post_init__(self) -> None:
        if not np.isfinite(self.imbalance) or self.imbalance < 1:
            raise ConfigError(f"imbalance must be a ratio of at least 1, got {self.imbalance}")
        if not 0 <= self.label_noise < 1:
            raise ConfigError(f"label noise must be in [0, 1), got {self.label_noise}")
        if self.noise_kind not in NOISE_KINDS:
            raise ConfigError(
                f"unknown noise kind {self.noise_kind!r}; valid: {', '.join(NOISE_KINDS)}"
            )
        if not 0 < self.train_fraction <= 1:
            raise ConfigError(f"train fraction must be in (0, 1], got {self.train_fraction}")
        for name in ("imbalance", "label_noise", "train_fraction"):
            object.__setattr__(self, name, float(getattr(self, name)))

    @property
    def identity(self) -> bool:
        return self.imbalance == 1 and self.label_noise == 0 and self.train_fraction == 1

    def describe(self) -> str:
        """One line for tables and logs: `clean` or what changes."""
        parts = []
        if self.train_fraction != 1:
            parts.append(f"{self.train_fraction:g} of the images")
        if self.imbalance != 1:
            parts.append(f"long-tailed, ratio {self.imbalance:g}")
        if self.label_noise:
            parts.append(f"{self.label_noise:.0%} {self.noise_kind} label noise")
        return ", ".join(parts) or "clean"

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)

    @staticmethod
    def from_dict(data: dict | None) -> TrainSplit:
        return TrainSplit(**(data or {}))

    def select(self, dataset: Dataset, seed: int) -> tuple[np.ndarray, np.ndarray]:
        """(positions kept in the training split, in order; their labels after the noise)."""
        rng = np.random.default_rng([seed, _SALT])
        labels = np.asarray(dataset.train.labels)
        keep = np.arange(len(labels))
        if self.train_fraction != 1:
            keep = _per_class(
                rng, labels, keep, lambda c, n: max(1, round(self.train_fraction * n))
            )
        if self.imbalance != 1:
            counts = np.asarray(label_counts(labels[keep], dataset.num_classes))
            n_max = int(counts.min())
            if n_max < 1:
                missing = int(np.argmin(counts))
                raise ConfigError(
                    f"{dataset.name}: class {missing} has no training image, so no long tail "
                    "can be cut from it"
                )
            exponent = 1 / max(1, dataset.num_classes - 1)
            keep = _per_class(
                rng, labels, keep,
                lambda c, n: max(1, int(n_max * self.imbalance ** (-c * exponent))),
            )  # fmt: skip
        kept = labels[keep]
        if self.label_noise:
            kept = _noisy(rng, kept, self, dataset.num_classes)
        return keep, np.asarray(kept, dtype=np.int32)

    def apply(self, dataset: Dataset, seed: int) -> Dataset:
        """`dataset` with its training split transformed (the same seed, the same split)."""
        if self.identity:
            return dataset
        keep, labels = self.select(dataset, seed)
        train = Split(dataset.train.images[keep], labels)
        return dataclasses.replace(dataset, train=train)


def _per_class(rng: np.random.Generator, labels: np.ndarray, keep: np.ndarray, count) -> np.ndarray:
    """The positions of `keep` that survive when class c keeps `count(c, n_c)` of its n_c,
    chosen at random, in their original order."""
    chosen = []
    for c in np.unique(labels[keep]):
        members = keep[labels[keep] == c]
        size = min(len(members), count(int(c), len(members)))
        chosen.append(rng.choice(members, size=size, replace=False))
    return np.sort(np.concatenate(chosen)) if chosen else keep


def _noisy(rng: np.random.Generator, labels: np.ndarray, split: TrainSplit, classes: int):
    labels = np.array(labels, dtype=np.int32)
    flipped = rng.choice(len(labels), size=round(split.label_noise * len(labels)), replace=False)
    if split.noise_kind == "symmetric":
        shift = rng.integers(1, classes, size=len(flipped))
    else:
        shift = np.ones(len(flipped), dtype=np.int64)
    labels[flipped] = (labels[flipped] + shift) % classes
    return labels


def label_counts(labels, num_classes: int) -> list[int]:
    """How many of `labels` are each class."""
    return np.bincount(np.asarray(labels), minlength=num_classes).tolist()


def class_counts(split: Split, num_classes: int) -> list[int]:
    """Images per class of a split."""
    return label_counts(split.labels, num_classes)


def class_priors(labels, num_classes: int) -> np.ndarray:
    """The class frequencies pi_c = n_c / N of `labels` (float32 [C], summing to 1): what
    the priors language's `prior` leaf reads. Uniform for an empty split."""
    counts = np.bincount(np.asarray(labels, np.int64), minlength=num_classes).astype(np.float64)
    if counts.sum() == 0:
        return np.full(num_classes, 1.0 / num_classes, np.float32)
    return (counts / counts.sum()).astype(np.float32)
