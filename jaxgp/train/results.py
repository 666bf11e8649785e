"""What training returns: per-epoch history and final metrics for each candidate."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, field

from jaxgp.status import Status
from jaxgp.train.batch_plan import BatchPlan


@dataclass(frozen=True)
class EpochRecord:
    """Metrics of one epoch of one candidate (losses are the candidate's own loss)."""

    epoch: int
    train_loss: float
    train_accuracy: float
    val_loss: float
    val_accuracy: float
    learning_rate: float

    def to_dict(self) -> dict:
        return asdict(self)

    @staticmethod
    def from_dict(data: Mapping, epoch: int) -> EpochRecord:
        """The record `to_dict` wrote (`epoch` where it has none; a value it lacks, or one
        written as null, reads as NaN)."""
        values = {
            name: float("nan") if data.get(name) is None else float(data[name])
            for name in ("train_loss", "train_accuracy", "val_loss", "val_accuracy",
                         "learning_rate")
        }  # fmt: skip
        return EpochRecord(int(data.get("epoch") or epoch), **values)


@dataclass(frozen=True)
class CandidateResult:
    """One candidate trained on one dataset.

    `status` is `trained`; `failed` when its loss or gradients turned non-finite (its
    parameters were frozen at `failed_epoch`, 1-based, and its metrics are those of the
    frozen model); or `stopped` when a stop rule ended its training after `stopped_epoch`
    (its metrics are those of that epoch's model). `history` has one record per epoch it
    trained. `seconds` is its share of the wall time of the epochs it trained in (split
    equally among the candidates training in each), without preparing programs;
    `compile_seconds` its share of the tracing, lowering and XLA compiling (or loading from
    the compilation cache) done meanwhile, which only the first candidates of a new program
    pay.
    """

    label: str
    dataset: str
    status: Status
    val_loss: float
    val_accuracy: float
    test_loss: float
    test_accuracy: float
    seconds: float
    failed_epoch: int | None = None
    history: list[EpochRecord] = field(default_factory=list)
    stopped_epoch: int | None = None
    compile_seconds: float = 0.0

    @property
    def failed(self) -> bool:
        return self.status == Status.FAILED

    @property
    def stopped(self) -> bool:
        return self.status == Status.STOPPED

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass(frozen=True)
class TrainReport:
    """A call of `train_candidates`: the results in input order and what it cost."""

    results: list[CandidateResult]
    candidates_per_batch: int
    compilations: int
    compile_seconds: float
    seconds: float
    compilation_cache_hits: int = 0
    batching: BatchPlan | None = None
    """The plan behind `candidates_per_batch`."""
