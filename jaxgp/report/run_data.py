"""A run directory read for reporting and notebooks: finished (with `summary.json`) or still in
progress (`jaxgp.load_run`; its evaluations as DataFrames: `candidates()`, `curves()`).

Everything the report shows comes from the run's records (`jaxgp.search.records`): the
ledger (one `Evaluation` per line, the source of every count), the CE baselines, the
per-generation population snapshots and, once the run has finished, the `Summary` (the only
record with wall times and XLA compilation counts). A run still in progress has no summary;
its ledger holds what has been evaluated so far and its snapshots the generations that
have ended. Expected counts come from the algorithms (`jaxgp.search.algorithms`), rankings
from `Fitness.sort_key` through each record's `sort_key`.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from jaxgp.errors import ConfigError
from jaxgp.expr.tree import Tree
from jaxgp.fitness import Scores
from jaxgp.search.algorithms import ALGORITHMS
from jaxgp.search.labels import Stage
from jaxgp.search.records import Candidate, Evaluation, Member, Phase, Snapshot, Summary
from jaxgp.search.run_settings import RunSettings
from jaxgp.search.rundir import RunDir
from jaxgp.search.summary import COUNTS, ledger_counts
from jaxgp.train.results import EpochRecord


def best_of(records: Sequence[Any]) -> Any:
    """The best record (stable: the first of equal ones), or None for no records."""
    return sorted(records, key=lambda r: r.sort_key, reverse=True)[0] if records else None


@dataclass
class RunData:
    """What a report needs from one run directory."""

    path: Path
    settings: RunSettings
    records: list[Evaluation]
    baselines: dict[str, Scores] = field(default_factory=dict)
    snapshots: dict[str, dict[int, Snapshot]] = field(default_factory=dict)
    summary: Summary | None = None
    eval_key: str | None = None
    ignored: int = 0
    warnings: list[str] = field(default_factory=list)

    # -- settings -----------------------------------------------------------------------
    @property
    def command(self) -> str:
        return self.settings.command

    @property
    def algorithms(self) -> list[str]:
        return list(self.settings.algorithms)

    @property
    def metric(self) -> str:
        return self.settings.metric

    @property
    def datasets(self) -> list[str]:
        return list(self.settings.datasets) or list(self.baselines)

    @property
    def population(self) -> int:
        return self.settings.search.population

    @property
    def generations(self) -> int:
        return self.settings.search.generations

    @property
    def finished(self) -> bool:
        return self.summary is not None

    def expected_evaluations(self, label: str) -> int:
        """Ledger lines a finished run has for `label` (P initial; T*N or T*P children)."""
        if label == Stage.INITIAL:
            return self.population
        algorithm = ALGORITHMS.get(label)
        return algorithm.expected(self.settings.search) if algorithm else 0

    def phase(self, label: str) -> Phase | None:
        """The summary's record of a phase (`initial` or an algorithm), when finished."""
        if self.summary is None:
            return None
        return (
            self.summary.initial if label == Stage.INITIAL else self.summary.algorithms.get(label)
        )

    # -- ledger -------------------------------------------------------------------------
    @property
    def labels(self) -> list[str]:
        """`initial`, then the run's algorithms, then any other label the ledger holds."""
        seen = [Stage.INITIAL, *self.algorithms]
        for record in self.records:
            if record.algorithm not in seen:
                seen.append(record.algorithm)
        return seen

    def records_of(self, label: str) -> list[Evaluation]:
        return [r for r in self.records if r.algorithm == label]

    def counts(self, label: str | None = None) -> dict[str, int]:
        """Evaluations, how many per status and the candidate-epochs trained and saved by
        early stopping, for one label or (None) the whole ledger."""
        zero = dict.fromkeys(COUNTS, 0)
        per_label = ledger_counts(self.records, self.settings.train.epochs, self.datasets)
        if label is not None:
            return per_label.get(label, zero)
        return {k: sum(c[k] for c in per_label.values()) for k in zero}

    def training_seconds(self, label: str) -> float:
        return sum(r.seconds for r in self.records_of(label))

    def best(self, algorithm: str) -> Candidate | None:
        """The algorithm's best loss: from the summary, or the best of the initial population
        and the algorithm's own children in the ledger so far (both algorithms keep their
        best, so that is the best the finished run will report unless a later child beats it).
        """
        phase = self.phase(algorithm)
        if phase is not None and phase.best is not None:
            return phase.best
        return best_of(self.records_of(Stage.INITIAL) + self.records_of(algorithm))

    def confirmed_best(self) -> tuple[str, Candidate] | None:
        """(the algorithms it came from, its ledger record) of the best loss the run's
        confirmation on more seeds chose; None when the run did not confirm."""
        confirmation = self.summary.confirmation if self.summary is not None else None
        best = confirmation.best if confirmation is not None else None
        if best is None:
            return None
        expression = best.expression
        record = next((r for r in reversed(self.records) if r.expression == expression
                       and r.status in ("trained", "cached")), None)  # fmt: skip
        if record is None:
            return None
        return ", ".join(best.algorithms or [record.algorithm]), record

    def best_overall(self) -> tuple[str, Candidate] | None:
        """(algorithm, record) of the best loss of the run: the confirmed best when the run
        confirmed its best few on more seeds, else the search's best."""
        confirmed = self.confirmed_best()
        if confirmed is not None:
            return confirmed
        if self.summary is not None and self.summary.best is not None:
            return self.summary.best_algorithm or "?", self.summary.best
        candidates = [(a, self.best(a)) for a in self.algorithms]
        candidates = [(a, b) for a, b in candidates if b is not None]
        if not candidates:
            best = best_of(self.records)
            return (Stage.INITIAL, best) if best is not None else None
        return sorted(candidates, key=lambda item: item[1].sort_key, reverse=True)[0]

    def population_of(self, algorithm: str, generation: int) -> list[Member] | None:
        """The population after a generation (generation 0: the initial population)."""
        name = Stage.INITIAL if generation == 0 else algorithm
        snapshot = self.snapshots.get(name, {}).get(generation)
        return list(snapshot.population) if snapshot is not None else None

    def generations_done(self, algorithm: str) -> int:
        """Generations of `algorithm` whose population snapshot is written."""
        return max((g for g in self.snapshots.get(algorithm, {}) if g > 0), default=0)

    def history(self, record: Candidate | None, dataset: str) -> list[EpochRecord] | None:
        """Per-epoch history of a record on a dataset, if the run stored one."""
        scores = record.scores.get(dataset) if record is not None else None
        return list(scores.history) if scores is not None and scores.history else None

    # -- as tables (pandas, for notebooks) ----------------------------------------------
    def candidates(self):
        """Every evaluation as a pandas DataFrame, one row each (`jaxgp.report.frames`)."""
        from jaxgp.report.frames import candidates

        return candidates(self)

    def curves(self):
        """Every stored training history as a pandas DataFrame, one row per epoch."""
        from jaxgp.report.frames import curves

        return curves(self)

    @property
    def has_history(self) -> bool:
        every = [*(s for r in self.records for s in r.scores.values()), *self.baselines.values()]
        return any(scores.history for scores in every)


def load_run(path: str | Path) -> RunData:
    """Read a run directory; `ConfigError` when it is not a run or has no evaluations yet."""
    path = Path(path)
    if not os.path.isdir(path):  # False, not OSError, for a name too long to look up
        raise ConfigError(f"{path} is not a directory (expected a jaxgp run directory)")
    run = RunDir.existing(path)
    try:
        settings = RunSettings.from_dict(run.read_config())
    except ConfigError as error:
        raise ConfigError(f"{path}: {error}") from None
    records, warnings = run.read_evaluations()
    summary = run.read_summary(warnings)
    baselines = run.read_baselines(warnings)
    key = (summary.eval_key if summary else None) or (baselines.eval_key if baselines else None)
    if key is None and records:
        key = records[-1].eval_key
    kept = [r for r in records if key is None or r.eval_key == key]
    ignored = len(records) - len(kept)
    if ignored:
        warnings.append(
            f"{ignored} ledger line(s) belong to other training settings (evaluation key) "
            "and are left out"
        )
    if not kept:
        raise ConfigError(f"{path} has no evaluations in its ledger yet: nothing to report")
    scores = dict(baselines.scores) if baselines else dict(summary.baselines if summary else {})
    return RunData(
        path=path,
        settings=settings,
        records=kept,
        baselines=scores,
        snapshots=run.read_snapshots(warnings),
        summary=summary,
        eval_key=key,
        ignored=ignored,
        warnings=warnings,
    )


def load_best(path: str | Path, what: str) -> tuple[RunData, str, Candidate, Tree]:
    """(the run, the algorithm that found it, its best loss, as a tree) of a run directory,
    for `what` (`export`, `verify`); `ConfigError` when the run has none or it is not a
    readable expression."""
    from jaxgp.errors import ExpressionError
    from jaxgp.expr.parse import parse

    run = load_run(path)
    best = run.best_overall()
    if best is None:
        raise ConfigError(f"{path} has no evaluations in its ledger yet: nothing to {what}")
    algorithm, candidate = best
    try:
        tree = parse(candidate.expression)
    except ExpressionError as error:
        raise ConfigError(f"{path}: the best loss is not a readable expression ({error})") from None
    return run, algorithm, candidate, tree
