"""`Status`: how an evaluation of a candidate ended, the one vocabulary of every record.

`trained`, `stopped` (early, by the run's policy) and `failed` (training failed or a metric
is not finite) say the candidate was trained for this evaluation; `cached` that its scores
came from an earlier evaluation of the same tree. The values are the strings the run
directory has always held, so a `Status` is written and compared as its text.

The trainer decides a training's status once (`jaxgp.train.loop`); every record after it
(`Scores`, the ledger's `Evaluation`) carries that value on, and a candidate trained on
several datasets, or with several model seeds, has the `combined` status of its trainings.
"""

from __future__ import annotations

from collections.abc import Iterable
from enum import StrEnum


class Status(StrEnum):
    TRAINED = "trained"
    STOPPED = "stopped"
    FAILED = "failed"
    CACHED = "cached"

    @staticmethod
    def of(failed: bool, stopped: bool) -> Status:
        """The status of a training that failed, or else stopped early, or else ran out."""
        return Status.FAILED if failed else Status.STOPPED if stopped else Status.TRAINED

    @staticmethod
    def combined(statuses: Iterable[Status]) -> Status:
        """The status of one candidate's several trainings (its datasets, or its model
        seeds): failed if one failed, else stopped if one stopped, else trained."""
        statuses = set(statuses)
        return Status.of(Status.FAILED in statuses, Status.STOPPED in statuses)

    @property
    def trained_here(self) -> bool:
        """Whether the evaluation trained the candidate (every status but `cached`)."""
        return self != Status.CACHED
