"""The record of a `jaxgp verify` run (`verify.json`), with its JSON round trip.

A verification trains one or more losses and their references (CE by default; `--against`
adds others) on the same seeds; each `Comparison` is one loss against one reference on one
dataset: the test accuracy of each model per seed, in seed order, each loss at the learning
rate it did best at on validation (`RateSweep`, when several were tried). The statistics
(means, standard deviations with n - 1 degrees of freedom, the paired difference and its
interval and p value, `jaxgp.paired`) are computed from the accuracies, written to the JSON
for other readers, and computed again when it is read back; the verdicts are Holm-corrected
over every comparison of the verification. Files written before `--against` existed (one
loss against CE, `ce_test_accuracy`) still read.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from jaxgp.data.train_split import TrainSplit
from jaxgp.errors import ConfigError
from jaxgp.paired import PairedDifference, holm, paired_difference, verdict
from jaxgp.search.rundir import read_json

VERIFY_JSON = "verify.json"
VERIFY_PNG = "verify.png"


def _nan(value: Any) -> float:
    return float("nan") if value is None else float(value)


def _optional(value: Any) -> float | None:
    return None if value is None else float(value)


@dataclass(frozen=True)
class Comparison:
    """A loss against a reference on one dataset: test accuracy per seed, in seed order."""

    dataset: str
    loss: str
    against: str
    loss_accuracy: tuple[float, ...]
    against_accuracy: tuple[float, ...]
    loss_failed: int = 0
    against_failed: int = 0
    loss_learning_rate: float | None = None
    against_learning_rate: float | None = None
    seconds: float = 0.0
    """Wall time of the dataset's training (every model of the verification on it)."""

    @property
    def difference(self) -> PairedDifference:
        return paired_difference(self.loss_accuracy, self.against_accuracy)

    @property
    def loss_mean(self) -> float:
        return float(np.mean(self.loss_accuracy))

    @property
    def against_mean(self) -> float:
        return float(np.mean(self.against_accuracy))

    @property
    def loss_std(self) -> float:
        """Standard deviation over the seeds, with n - 1 degrees of freedom."""
        return float(np.std(self.loss_accuracy, ddof=1))

    @property
    def against_std(self) -> float:
        return float(np.std(self.against_accuracy, ddof=1))

    def to_dict(self) -> dict:
        d = self.difference
        return {
            "dataset": self.dataset,
            "loss": self.loss,
            "against": self.against,
            "loss_test_accuracy": list(self.loss_accuracy),
            "against_test_accuracy": list(self.against_accuracy),
            "loss_mean": self.loss_mean,
            "loss_std": self.loss_std,
            "against_mean": self.against_mean,
            "against_std": self.against_std,
            "difference": {
                "mean": d.mean,
                "std": d.std,
                "low": d.low,
                "high": d.high,
                "confidence": d.confidence,
                "p_value": d.p_value,
            },  # fmt: skip
            "loss_failed": self.loss_failed,
            "against_failed": self.against_failed,
            "loss_learning_rate": self.loss_learning_rate,
            "against_learning_rate": self.against_learning_rate,
            "seconds": self.seconds,
        }

    @staticmethod
    def from_dict(data: Mapping, loss: str = "") -> Comparison:
        """Read back (an old file's entry, against CE, takes the result's `loss`); the
        statistics are computed again from the per-seed accuracies."""
        old = "ce_test_accuracy" in data
        return Comparison(
            dataset=str(data["dataset"]),
            loss=str(data.get("loss", loss)),
            against="ce" if old else str(data["against"]),
            loss_accuracy=tuple(_nan(v) for v in data["loss_test_accuracy"]),
            against_accuracy=tuple(
                _nan(v) for v in data["ce_test_accuracy" if old else "against_test_accuracy"]
            ),
            loss_failed=int(data.get("loss_failed") or 0),
            against_failed=int(data.get("ce_failed" if old else "against_failed") or 0),
            loss_learning_rate=_optional(data.get("loss_learning_rate")),
            against_learning_rate=_optional(data.get("against_learning_rate")),
            seconds=float(data.get("seconds") or 0.0),
        )


@dataclass(frozen=True)
class RateSweep:
    """One loss on one dataset at each learning rate tried: the mean validation and test
    accuracy over the seeds, and the rate chosen (the best mean validation accuracy)."""

    dataset: str
    loss: str
    learning_rates: tuple[float, ...]
    val_means: tuple[float, ...]
    test_means: tuple[float, ...]

    @property
    def chosen(self) -> float:
        values = [v if np.isfinite(v) else -np.inf for v in self.val_means]
        return self.learning_rates[int(np.argmax(values))]

    def to_dict(self) -> dict:
        return {"dataset": self.dataset, "loss": self.loss,
                "learning_rates": list(self.learning_rates), "val_means": list(self.val_means),
                "test_means": list(self.test_means), "chosen": self.chosen}  # fmt: skip

    @staticmethod
    def from_dict(data: Mapping) -> RateSweep:
        return RateSweep(
            str(data["dataset"]), str(data["loss"]),
            tuple(float(r) for r in data["learning_rates"]),
            tuple(_nan(v) for v in data["val_means"]), tuple(_nan(v) for v in data["test_means"]),
        )  # fmt: skip


@dataclass(frozen=True)
class VerifyResult:
    """A verification: what was trained, with which recipe and seeds, and the comparisons."""

    losses: tuple[str, ...]
    origin: str
    model: str
    epochs: int
    search_seed: int
    seeds: tuple[int, ...]
    data_seed: int
    comparisons: tuple[Comparison, ...]
    run_dir: str | None = None
    seconds: float = 0.0
    train_split: TrainSplit = TrainSplit()
    sweeps: tuple[RateSweep, ...] = ()

    @property
    def loss(self) -> str:
        """The (first) loss verified."""
        return self.losses[0]

    @property
    def datasets(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(c.dataset for c in self.comparisons))

    @property
    def adjusted_p_values(self) -> list[float]:
        """Each comparison's p value, Holm-corrected over all of them."""
        return holm([c.difference.p_value for c in self.comparisons])

    def verdicts(self) -> list[str]:
        """`better`, `worse` or `no evidence` per comparison, at the 5 % familywise level."""
        return [
            verdict(c.difference.mean, p)
            for c, p in zip(self.comparisons, self.adjusted_p_values, strict=True)
        ]

    def to_dict(self) -> dict:
        comparisons = []
        for c, p, v in zip(self.comparisons, self.adjusted_p_values, self.verdicts(),
                           strict=True):  # fmt: skip
            comparisons.append({**c.to_dict(), "holm_p_value": p, "verdict": v})
        return {
            "losses": list(self.losses),
            "origin": self.origin,
            "run_dir": self.run_dir,
            "model": self.model,
            "epochs": self.epochs,
            "search_seed": self.search_seed,
            "seeds": list(self.seeds),
            "data_seed": self.data_seed,
            "train_split": self.train_split.to_dict(),
            "comparisons": comparisons,
            "learning_rate_sweeps": [s.to_dict() for s in self.sweeps],
            "seconds": self.seconds,
        }

    @staticmethod
    def from_dict(data: Mapping) -> VerifyResult:
        """Read back; `ValueError` unless every comparison has one accuracy of each per seed
        and there are at least two seeds."""
        losses = tuple(data["losses"]) if "losses" in data else (str(data["loss"]),)
        entries = data["comparisons"] if "comparisons" in data else data["datasets"]
        result = VerifyResult(
            losses=losses,
            origin=str(data["origin"]),
            model=str(data["model"]),
            epochs=int(data["epochs"]),
            search_seed=int(data["search_seed"]),
            seeds=tuple(int(s) for s in data["seeds"]),
            data_seed=int(data["data_seed"]),
            comparisons=tuple(Comparison.from_dict(c, losses[0]) for c in entries),
            run_dir=data.get("run_dir"),
            seconds=float(data.get("seconds") or 0.0),
            train_split=TrainSplit.from_dict(data.get("train_split")),
            sweeps=tuple(RateSweep.from_dict(s) for s in data.get("learning_rate_sweeps") or ()),
        )
        n = len(result.seeds)
        for c in result.comparisons:
            if n < 2 or len(c.loss_accuracy) != n or len(c.against_accuracy) != n:
                raise ValueError(f"{c.dataset}: one accuracy of each per seed expected, of {n}")
        return result


def read_verification(path: str | Path) -> VerifyResult:
    """A `verify.json`; `ConfigError` when it is not one."""
    try:
        return VerifyResult.from_dict(read_json(Path(path)))
    except (OSError, ValueError, KeyError, TypeError) as error:
        raise ConfigError(f"{path} is not a jaxgp verify result ({error})") from None
