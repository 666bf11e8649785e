"""The record of a `jaxgp verify` run (`verify.json`), with its JSON round trip.

Per dataset, the test accuracy of the loss's model and of CE's model on each seed, in seed
order; the statistics (means, standard deviations with n - 1 degrees of freedom, the paired
difference and its verdict, `jaxgp.paired`) are computed from them, written to the JSON
for other readers, and computed again when it is read back.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from jaxgp.errors import ConfigError
from jaxgp.paired import PairedDifference, paired_difference
from jaxgp.search.rundir import read_json

VERIFY_JSON = "verify.json"
VERIFY_PNG = "verify.png"


def _nan(value: Any) -> float:
    return float("nan") if value is None else float(value)


@dataclass(frozen=True)
class DatasetVerification:
    """The test accuracy of the loss and of CE per seed on one dataset, in seed order."""

    dataset: str
    loss_accuracy: tuple[float, ...]
    ce_accuracy: tuple[float, ...]
    loss_failed: int = 0
    ce_failed: int = 0
    seconds: float = 0.0

    @property
    def difference(self) -> PairedDifference:
        return paired_difference(self.loss_accuracy, self.ce_accuracy)

    @property
    def loss_mean(self) -> float:
        return float(np.mean(self.loss_accuracy))

    @property
    def ce_mean(self) -> float:
        return float(np.mean(self.ce_accuracy))

    @property
    def loss_std(self) -> float:
        """Standard deviation over the seeds, with n - 1 degrees of freedom."""
        return float(np.std(self.loss_accuracy, ddof=1))

    @property
    def ce_std(self) -> float:
        return float(np.std(self.ce_accuracy, ddof=1))

    def to_dict(self) -> dict:
        d = self.difference
        return {
            "dataset": self.dataset,
            "loss_test_accuracy": list(self.loss_accuracy),
            "ce_test_accuracy": list(self.ce_accuracy),
            "loss_mean": self.loss_mean,
            "loss_std": self.loss_std,
            "ce_mean": self.ce_mean,
            "ce_std": self.ce_std,
            "difference": {
                "mean": d.mean,
                "std": d.std,
                "low": d.low,
                "high": d.high,
                "confidence": d.confidence,
            },  # fmt: skip
            "verdict": d.verdict,
            "loss_failed": self.loss_failed,
            "ce_failed": self.ce_failed,
            "seconds": self.seconds,
        }

    @staticmethod
    def from_dict(data: Mapping) -> DatasetVerification:
        """Read back; the statistics are computed again from the per-seed accuracies."""
        return DatasetVerification(
            str(data["dataset"]),
            tuple(_nan(v) for v in data["loss_test_accuracy"]),
            tuple(_nan(v) for v in data["ce_test_accuracy"]),
            int(data.get("loss_failed") or 0),
            int(data.get("ce_failed") or 0),
            float(data.get("seconds") or 0.0),
        )


@dataclass(frozen=True)
class VerifyResult:
    """A verification: what was trained, with which recipe and seeds, and the results."""

    loss: str
    origin: str
    model: str
    epochs: int
    search_seed: int
    seeds: tuple[int, ...]
    data_seed: int
    datasets: tuple[DatasetVerification, ...]
    run_dir: str | None = None
    seconds: float = 0.0

    def to_dict(self) -> dict:
        return {
            "loss": self.loss,
            "origin": self.origin,
            "run_dir": self.run_dir,
            "model": self.model,
            "epochs": self.epochs,
            "search_seed": self.search_seed,
            "seeds": list(self.seeds),
            "data_seed": self.data_seed,
            "datasets": [d.to_dict() for d in self.datasets],
            "seconds": self.seconds,
        }

    @staticmethod
    def from_dict(data: Mapping) -> VerifyResult:
        """Read back; `ValueError` unless every dataset has one accuracy of each per seed
        and there are at least two seeds."""
        result = VerifyResult(
            loss=str(data["loss"]),
            origin=str(data["origin"]),
            model=str(data["model"]),
            epochs=int(data["epochs"]),
            search_seed=int(data["search_seed"]),
            seeds=tuple(int(s) for s in data["seeds"]),
            data_seed=int(data["data_seed"]),
            datasets=tuple(DatasetVerification.from_dict(d) for d in data["datasets"]),
            run_dir=data.get("run_dir"),
            seconds=float(data.get("seconds") or 0.0),
        )
        n = len(result.seeds)
        for d in result.datasets:
            if n < 2 or len(d.loss_accuracy) != n or len(d.ce_accuracy) != n:
                raise ValueError(f"{d.dataset}: one accuracy of each per seed expected, of {n}")
        return result


def read_verification(path: str | Path) -> VerifyResult:
    """A `verify.json`; `ConfigError` when it is not one."""
    try:
        return VerifyResult.from_dict(read_json(Path(path)))
    except (OSError, ValueError, KeyError, TypeError) as error:
        raise ConfigError(f"{path} is not a jaxgp verify result ({error})") from None
