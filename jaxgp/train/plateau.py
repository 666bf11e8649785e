"""Keras's ReduceLROnPlateau on validation accuracy, per candidate, on the host.

At the end of each epoch: an accuracy above the best by more than `min_delta` becomes the
best and resets the wait; otherwise the wait grows, and once it reaches `patience` the
learning rate is multiplied by `factor` (never below `min_lr`) and the wait resets. This is
Keras's `mode='max'` logic with `cooldown=0`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass
class Plateau:
    """Reduce-on-plateau state for K candidates."""

    rates: np.ndarray
    factor: float
    patience: int
    min_lr: float | np.ndarray
    """One floor for all, or one per candidate (kept as one per candidate)."""
    min_delta: float
    best: np.ndarray | None = None
    wait: np.ndarray | None = None

    def __post_init__(self) -> None:
        self.rates = np.asarray(self.rates, np.float64)
        self.min_lr = np.broadcast_to(np.asarray(self.min_lr, np.float64), self.rates.shape)
        self.best = np.full(self.rates.shape, -np.inf)
        self.wait = np.zeros(self.rates.shape, np.int64)

    def update(self, val_accuracy: np.ndarray) -> np.ndarray:
        """Record this epoch's validation accuracies; return the learning rates to use next."""
        improved = val_accuracy - self.min_delta > self.best
        self.best = np.where(improved, val_accuracy, self.best)
        self.wait = np.where(improved, 0, self.wait + 1)
        reduce = (self.wait >= self.patience) & (self.rates > self.min_lr)
        self.rates = np.where(reduce, np.maximum(self.rates * self.factor, self.min_lr), self.rates)
        self.wait = np.where(self.wait >= self.patience, 0, self.wait)
        return self.rates

    def take(self, positions: np.ndarray) -> Plateau:
        """The state of the candidates at `positions` (a re-packed batch), in that order."""
        taken = Plateau(self.rates[positions], self.factor, self.patience,
                        self.min_lr[positions], self.min_delta)  # fmt: skip
        taken.best, taken.wait = self.best[positions], self.wait[positions]
        return taken
