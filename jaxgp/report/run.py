"""A run directory read for reporting: finished (with `summary.json`) or still in progress.

Everything the report shows is derived here from the files `jaxgp.runs` writes: the ledger
(one line per evaluation, the source of every count), the CE baselines, the per-generation
population snapshots and, once the run has finished, the summary (the only file with wall
times and XLA compilation counts). A run still in progress has no summary; its ledger holds
what has been evaluated so far and its snapshots the generations that have ended.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from jaxgp.errors import ConfigError
from jaxgp.runs import BASELINES, CONFIG, FORMAT, GENERATIONS, SUMMARY, RunDir, read_json

STATUSES = ("trained", "cached", "failed")
_SNAPSHOT = re.compile(r"^(?P<algorithm>[a-z_]+?)_(?P<generation>\d+)\.json$")


def fitness_key(record: dict) -> tuple[int, int, float]:
    """Larger is better: (not failed, wins, average improvement), as `Fitness.sort_key`."""
    average = record.get("average_improvement")
    if record.get("status") == "failed" or record.get("failed") or average is None:
        return (0, 0, 0.0)
    return (1, int(record.get("wins") or 0), float(average))


def best_of(records: list[dict]) -> dict | None:
    """The best record (stable: the first of equal ones), or None for no records."""
    return sorted(records, key=fitness_key, reverse=True)[0] if records else None


def is_failed(record: dict) -> bool:
    return fitness_key(record)[0] == 0


@dataclass
class RunData:
    """What a report needs from one run directory."""

    path: Path
    settings: dict
    records: list[dict]
    baselines: dict[str, dict] = field(default_factory=dict)
    snapshots: dict[str, dict[int, list[dict]]] = field(default_factory=dict)
    summary: dict | None = None
    eval_key: str | None = None
    ignored: int = 0
    warnings: list[str] = field(default_factory=list)

    # -- settings -----------------------------------------------------------------------
    @property
    def command(self) -> str:
        return str(self.settings.get("command", "evolve"))

    @property
    def algorithms(self) -> list[str]:
        return list(self.settings.get("algorithms") or [])

    @property
    def metric(self) -> str:
        return str(self.settings.get("fitness", "accuracy"))

    @property
    def datasets(self) -> list[str]:
        names = list(self.settings.get("datasets") or [])
        return names or list(self.baselines)

    @property
    def population(self) -> int:
        return int(self.settings.get("search", {}).get("population", 0))

    @property
    def generations(self) -> int:
        return int(self.settings.get("search", {}).get("generations", 0))

    @property
    def finished(self) -> bool:
        return self.summary is not None

    def children_per_generation(self, algorithm: str) -> int:
        search = self.settings.get("search", {})
        if algorithm == "ngl":
            return self.population
        return int(search.get("top_n") or max(1, (3 * self.population // 4) // 2))

    def expected_evaluations(self, label: str) -> int:
        """Ledger lines a finished run has for `label` (P initial; T*N or T*P children)."""
        if label == "initial":
            return self.population
        return self.generations * self.children_per_generation(label)

    # -- ledger -------------------------------------------------------------------------
    @property
    def labels(self) -> list[str]:
        """`initial`, then the run's algorithms, then any other label the ledger holds."""
        seen = ["initial", *self.algorithms]
        for record in self.records:
            label = record.get("algorithm", "?")
            if label not in seen:
                seen.append(label)
        return seen

    def records_of(self, label: str) -> list[dict]:
        return [r for r in self.records if r.get("algorithm") == label]

    def counts(self, label: str | None = None) -> dict[str, int]:
        """Evaluations and how many per status, for one label or (None) the whole ledger."""
        records = self.records if label is None else self.records_of(label)
        counter = Counter(r.get("status", "?") for r in records)
        return {"evaluations": len(records), **{s: counter.get(s, 0) for s in STATUSES}}

    def training_seconds(self, label: str) -> float:
        return sum(float(r.get("seconds") or 0.0) for r in self.records_of(label))

    def best(self, algorithm: str) -> dict | None:
        """The algorithm's best loss: from the summary, or the best of the initial population
        and the algorithm's own children in the ledger so far (both algorithms keep their
        best, so that is the best the finished run will report unless a later child beats it).
        """
        if self.summary is not None:
            row = self.summary.get("algorithms", {}).get(algorithm)
            if row and row.get("best"):
                return row["best"]
        return best_of(self.records_of("initial") + self.records_of(algorithm))

    def best_overall(self) -> tuple[str, dict] | None:
        """(algorithm, record) of the best loss of the run."""
        if self.summary is not None and self.summary.get("best"):
            best = self.summary["best"]
            return str(best.get("algorithm", "?")), best
        candidates = [(a, self.best(a)) for a in self.algorithms]
        candidates = [(a, b) for a, b in candidates if b is not None]
        if not candidates:
            best = best_of(self.records)
            return ("initial", best) if best is not None else None
        ordered = sorted(candidates, key=lambda item: fitness_key(item[1]), reverse=True)
        return ordered[0]

    def generations_done(self, algorithm: str) -> int:
        """Generations of `algorithm` whose population snapshot is written."""
        done = [g for g in self.snapshots.get(algorithm, {}) if g > 0]
        return max(done, default=0)

    def history(self, record: dict | None, dataset: str) -> list[dict] | None:
        """Per-epoch history of a record on a dataset, if the run stored one."""
        if not record:
            return None
        history = (record.get("datasets") or {}).get(dataset, {}).get("history")
        return history if isinstance(history, list) and history else None

    @property
    def has_history(self) -> bool:
        return any(
            isinstance(scores, dict) and scores.get("history")
            for record in [*self.records, {"datasets": self.baselines}]
            for scores in (record.get("datasets") or {}).values()
        )


def _read_snapshots(path: Path, warnings: list[str]) -> dict[str, dict[int, list[dict]]]:
    snapshots: dict[str, dict[int, list[dict]]] = {}
    folder = path / GENERATIONS
    if not folder.is_dir():
        return snapshots
    for file in sorted(folder.iterdir()):
        match = _SNAPSHOT.match(file.name)
        if match is None:
            continue
        try:
            data = read_json(file)
            population = list(data["population"])
        except (OSError, ValueError, KeyError, TypeError):
            warnings.append(f"{file}: unreadable population snapshot, skipped")
            continue
        algorithm, generation = match["algorithm"], int(match["generation"])
        snapshots.setdefault(algorithm, {})[generation] = population
    return snapshots


def load_run(path: str | Path) -> RunData:
    """Read a run directory; `ConfigError` when it is not a run or has no evaluations yet."""
    path = Path(path)
    if not path.is_dir():
        raise ConfigError(f"{path} is not a directory (expected a jaxgp run directory)")
    run = RunDir(path)  # read only: RunDir.open would create generations/
    try:
        config = read_json(path / CONFIG)
    except (OSError, ValueError):
        config = None
    if not isinstance(config, dict) or config.get("format") != FORMAT:
        raise ConfigError(f"{path} is not a jaxgp run directory (no valid {CONFIG})")
    settings = config.get("settings")
    records, warnings = run.read_ledger()
    summary = None
    if (path / SUMMARY).exists():
        try:
            summary = read_json(path / SUMMARY)
        except (OSError, ValueError):
            warnings.append(f"{path / SUMMARY}: unreadable, reported as a run in progress")
    baselines_file: dict = {}
    if (path / BASELINES).exists():
        try:
            baselines_file = read_json(path / BASELINES) or {}
        except (OSError, ValueError):
            warnings.append(f"{path / BASELINES}: unreadable")
    key = (summary or {}).get("eval_key") or baselines_file.get("eval_key")
    if key is None and records:
        key = records[-1].get("eval_key")
    kept = [r for r in records if key is None or r.get("eval_key") == key]
    ignored = len(records) - len(kept)
    if ignored:
        warnings.append(
            f"{ignored} ledger line(s) belong to other training settings (evaluation key) "
            "and are left out"
        )
    if not kept:
        raise ConfigError(f"{path} has no evaluations in its ledger yet: nothing to report")
    baselines = dict(baselines_file.get("datasets") or (summary or {}).get("baselines") or {})
    return RunData(
        path=path,
        settings=settings if isinstance(settings, dict) else {},
        records=kept,
        baselines=baselines,
        snapshots=_read_snapshots(path, warnings),
        summary=summary,
        eval_key=key,
        ignored=ignored,
        warnings=warnings,
    )
