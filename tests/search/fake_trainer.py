"""A fake `train_candidates`: deterministic pseudo-results from a hash of the loss text.

Fast and JAX-free, so the search tests need no training. Results depend only on (loss,
dataset, epochs, model seed), like the real trainer's (CE's are fixed). About 1 candidate
in 12 "diverges" (status `failed`, NaN losses). Validation accuracy rises linearly to its
final value over the epochs (the history), and a `stop` rule is applied to it epoch by
epoch as the real trainer does (status `stopped`). Every trained label is appended to
`calls` (and, when `log` is set, to that file), so tests can check that nothing is trained
twice.
"""

from __future__ import annotations

import dataclasses
import hashlib
import time
from dataclasses import dataclass, field
from pathlib import Path
from types import SimpleNamespace

from jaxgp.losses import resolve_loss
from jaxgp.train.batching import chunk_size
from jaxgp.train.results import CandidateResult, EpochRecord, TrainReport

CE_ACCURACY = 0.5
CE_LOSS = 1.0


def _unit(*parts: object) -> list[float]:
    digest = hashlib.sha256("|".join(map(str, parts)).encode()).digest()
    return [int.from_bytes(digest[i : i + 4], "big") / 2**32 for i in range(0, 20, 4)]


def fake_result(label: str, dataset: str, epochs: int, seed: int, stop=None) -> CandidateResult:
    if label == "ce":
        acc, loss, failed = CE_ACCURACY, CE_LOSS, False
    else:
        u = _unit(label, dataset, epochs, seed)
        acc, loss, failed = 0.2 + 0.6 * u[0], 0.1 + 2.0 * u[1], u[2] < 1 / 12
    nan = float("nan")
    history = [
        EpochRecord(e, loss, acc * e / epochs, loss, (0.1 if failed else acc) * e / epochs, 1e-3)
        for e in range(1, epochs + 1)
    ]
    if stop is not None and not failed:
        for record in history[:-1]:
            if stop(record.epoch, record):
                return CandidateResult(
                    label, dataset, "stopped", record.val_loss, record.val_accuracy,
                    record.val_loss * 1.1, record.val_accuracy - 0.01, 0.001,
                    history=history[: record.epoch], stopped_epoch=record.epoch,
                )  # fmt: skip
    result = CandidateResult(
        label=label,
        dataset=dataset,
        status="failed" if failed else "trained",
        val_loss=nan if failed else loss,
        val_accuracy=0.1 if failed else acc,
        test_loss=nan if failed else loss * 1.1,
        test_accuracy=0.1 if failed else acc - 0.01,
        seconds=0.001,
        failed_epoch=1 if failed else None,
        history=history,
    )
    if failed and stop is not None:  # the real trainer lets a failed candidate go at once
        result = dataclasses.replace(result, history=history[:1])
    return result


@dataclass
class FakeTrainer:
    """A `jaxgp.search.Trainer` (datasets are used as loaded; `train` is callable like
    `train_candidates`); `sleep` seconds per candidate."""

    sleep: float = 0.0
    log: Path | None = None
    calls: list[str] = field(default_factory=list)
    """Labels trained with the run's seed (the search and its baselines)."""
    reseeded: list[tuple[str, int]] = field(default_factory=list)
    """(label, seed) trained with another model seed (the confirmation)."""

    def prepare(self, dataset):
        return dataset

    def chunk_size(self, config, pending):
        return chunk_size(config.candidates_per_batch, pending)  # the real trainer's rule

    def train(self, losses, dataset, config, *, progress=None, stop=None, seeds=None):
        return self(losses, dataset, config, progress=progress, stop=stop, seeds=seeds)

    def __call__(
        self, losses, dataset, config, *, progress=None, stop=None, seeds=None
    ) -> TrainReport:
        labels = [resolve_loss(loss).label for loss in losses]
        seeds = list(seeds) if seeds is not None else [config.seed] * len(labels)
        results = []
        for number, (label, seed) in enumerate(zip(labels, seeds, strict=True), start=1):
            time.sleep(self.sleep)
            results.append(fake_result(label, dataset.name, config.epochs, seed, stop))
            if progress is not None:
                progress("chunk", number, len(labels))
        self.calls.extend(label for label, seed in zip(labels, seeds, strict=True)
                          if seed == config.seed)  # fmt: skip
        self.reseeded.extend((label, seed) for label, seed in zip(labels, seeds, strict=True)
                             if seed != config.seed)  # fmt: skip
        if self.log is not None:
            with open(self.log, "a", encoding="utf-8") as handle:
                handle.writelines(f"{dataset.name}\t{label}\n" for label in labels)
        return TrainReport(results, len(labels), 0, 0.0, 0.0)

    def trained(self) -> list[str]:
        """Labels trained so far, without the CE baselines."""
        return [label for label in self.calls if label != "ce"]


def fake_load(name: str, **_: object) -> SimpleNamespace:
    """A stand-in for `load_dataset`: the evaluator only needs the name."""
    return SimpleNamespace(name=name)
