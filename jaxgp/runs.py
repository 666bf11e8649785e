"""The run directory: configuration, ledger, baselines, snapshots and summary, all JSON.

Layout of a run directory:

- `config.json`: the run's settings (marked with `"format": "jaxgp-run"`);
- `ledger.jsonl`: one line per evaluation, appended, flushed and fsync'd as soon as it is
  known, so a crash or `kill -9` loses at most the evaluations still in training;
- `trainings.jsonl`: one line per trainer call (a chunk of candidates on one dataset, or a
  CE baseline), written the same way, so that a crash also keeps the datasets already
  trained for the evaluations in progress (`jaxgp.search.trainings`);
- `baselines.json`: the CE baselines (trained once per run);
- `generations/<algorithm>_<g>.json`: the population after each generation (`initial_0`
  for the initial population);
- `summary.json`: written at the end.

Files that are rewritten are written atomically (temporary file, fsync, `os.replace`).
Non-finite floats are stored as `null`, so every file is strict JSON.
"""

from __future__ import annotations

import json
import math
import os
from pathlib import Path
from typing import Any

from jaxgp.errors import ConfigError

FORMAT = "jaxgp-run"
CONFIG = "config.json"
LEDGER = "ledger.jsonl"
TRAININGS = "trainings.jsonl"
BASELINES = "baselines.json"
SUMMARY = "summary.json"
GENERATIONS = "generations"


def _clean(value: Any) -> Any:
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {str(k): _clean(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_clean(v) for v in value]
    return value


def dumps(value: Any, **kwargs: Any) -> str:
    """Strict JSON (non-finite floats as null)."""
    return json.dumps(_clean(value), allow_nan=False, **kwargs)


def write_json_atomic(path: Path, value: Any) -> None:
    tmp = path.with_name(path.name + ".tmp")
    with open(tmp, "w", encoding="utf-8") as handle:
        handle.write(dumps(value, indent=2) + "\n")
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(tmp, path)


def read_json(path: Path) -> Any:
    with open(path, encoding="utf-8") as handle:
        return json.load(handle)


class RunDir:
    """One run directory; `create` a new one or `open` an existing one to resume it."""

    def __init__(self, path: str | os.PathLike) -> None:
        self.path = Path(path)

    @classmethod
    def create(cls, path: str | os.PathLike, config: dict) -> RunDir:
        run = cls(path)
        if (run.path / CONFIG).exists():
            raise ConfigError(
                f"{run.path} already holds a run; continue it with --resume {run.path} "
                "or choose another --out"
            )
        if run.path.exists() and not run.path.is_dir():
            raise ConfigError(f"--out {run.path} exists and is not a directory")
        (run.path / GENERATIONS).mkdir(parents=True, exist_ok=True)
        run.write_config(config)
        return run

    @classmethod
    def open(cls, path: str | os.PathLike) -> RunDir:
        run = cls(path)
        try:
            config = read_json(run.path / CONFIG)
        except (OSError, ValueError):
            config = None
        if not isinstance(config, dict) or config.get("format") != FORMAT:
            raise ConfigError(f"{run.path} is not a jaxgp run directory (no valid {CONFIG})")
        (run.path / GENERATIONS).mkdir(exist_ok=True)
        return run

    # configuration ------------------------------------------------------------------
    def read_config(self) -> dict:
        data = read_json(self.path / CONFIG)
        return data["settings"]

    def write_config(self, settings: dict) -> None:
        write_json_atomic(self.path / CONFIG, {"format": FORMAT, "settings": settings})

    # ledger -------------------------------------------------------------------------
    @property
    def ledger_path(self) -> Path:
        return self.path / LEDGER

    def append(self, record: dict) -> None:
        """Append one ledger line and make it durable before returning."""
        _append_line(self.ledger_path, record)

    def read_ledger(self, repair: bool = False) -> tuple[list[dict], list[str]]:
        """(records, warnings). A truncated or unreadable line is skipped with a warning;
        with `repair`, a truncated last line is cut off so that new lines can follow."""
        return _read_lines(self.ledger_path, repair, "that evaluation will be redone")

    def append_training(self, record: dict) -> None:
        """Append one line to `trainings.jsonl` and make it durable before returning."""
        _append_line(self.path / TRAININGS, record)

    def read_trainings(self, repair: bool = False) -> tuple[list[dict], list[str]]:
        """(records, warnings) of `trainings.jsonl`, read like the ledger."""
        return _read_lines(self.path / TRAININGS, repair, "that training will be redone")

    # other files --------------------------------------------------------------------
    def read_baselines(self) -> dict | None:
        path = self.path / BASELINES
        return read_json(path) if path.exists() else None

    def write_baselines(self, data: dict) -> None:
        write_json_atomic(self.path / BASELINES, data)

    def write_snapshot(self, algorithm: str, generation: int, data: dict) -> None:
        write_json_atomic(self.path / GENERATIONS / f"{algorithm}_{generation}.json", data)

    def read_snapshot(self, algorithm: str, generation: int) -> dict:
        return read_json(self.path / GENERATIONS / f"{algorithm}_{generation}.json")

    def write_summary(self, data: dict) -> None:
        write_json_atomic(self.path / SUMMARY, data)

    def read_summary(self) -> dict:
        return read_json(self.path / SUMMARY)


def _append_line(path: Path, record: dict) -> None:
    line = dumps(record) + "\n"
    with open(path, "a", encoding="utf-8") as handle:
        handle.write(line)
        handle.flush()
        os.fsync(handle.fileno())


def _read_lines(path: Path, repair: bool, lost: str) -> tuple[list[dict], list[str]]:
    if not path.exists():
        return [], []
    data = path.read_bytes()
    records, warnings = [], []
    lines = data.split(b"\n")
    complete, tail = lines[:-1], lines[-1]
    for number, raw in enumerate(complete, start=1):
        try:
            record = json.loads(raw)
            if not isinstance(record, dict):
                raise ValueError("not an object")
            records.append(record)
        except ValueError:
            warnings.append(f"{path}: skipped unreadable line {number}")
    if tail.strip():
        warnings.append(f"{path}: skipped a truncated last line (line {len(complete) + 1}); {lost}")
        if repair:
            with open(path, "r+b") as handle:
                handle.truncate(len(data) - len(tail))
                handle.flush()
                os.fsync(handle.fileno())
    return records, warnings
