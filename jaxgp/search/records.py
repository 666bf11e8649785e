"""`Scores` as they are written to the run directory, and as the trainer hands them over."""

from __future__ import annotations

import dataclasses
from typing import Any

from jaxgp.fitness import Scores

SCORE_FIELDS = ("val_loss", "val_accuracy", "test_loss", "test_accuracy")


def _float(value: Any) -> float:
    return float("nan") if value is None else float(value)


def scores_from_result(result: Any) -> Scores:
    """`Scores` of a `CandidateResult`."""
    values = {name: float(getattr(result, name)) for name in SCORE_FIELDS}
    history = tuple(
        record if isinstance(record, dict) else dataclasses.asdict(record)
        for record in getattr(result, "history", ())
    )
    return Scores(**values, failed=result.status == "failed", history=history)


def scores_to_dict(scores: Scores) -> dict:
    data: dict[str, Any] = {name: getattr(scores, name) for name in SCORE_FIELDS}
    data["status"] = "failed" if not scores.usable else "trained"
    if scores.history:
        data["history"] = list(scores.history)
    return data


def scores_from_dict(data: dict) -> Scores:
    values = {name: _float(data.get(name)) for name in SCORE_FIELDS}
    history = tuple(data.get("history", ()))
    return Scores(**values, failed=data.get("status") == "failed", history=history)
