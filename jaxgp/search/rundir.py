"""The run directory: where a run's records (`jaxgp.search.records`) are written and read.

Layout of a run directory:

- `config.json`: the run's settings (marked with `"format": "jaxgp-run"`);
- `ledger.jsonl`: one `Evaluation` per line, appended, flushed and fsync'd as soon as it is
  known, so a crash or `kill -9` loses at most the evaluations still in training;
- `trainings.jsonl`: one `Training` per line (a chunk of candidates on one dataset, or a CE
  baseline), written the same way, so that a crash also keeps the datasets already
  trained for the evaluations in progress (`jaxgp.search.store`);
- `baselines.json`: the CE `Baselines` (trained once per run);
- `generations/<algorithm>_<g>.json`: the `Snapshot` of the population after each
  generation (`initial_0` for the initial population);
- `summary.json`: the `Summary`, written at the end.

Files that are rewritten are written atomically (temporary file, fsync, `os.replace`).
A `RunDir` made with `writer=False` (a process other than 0 of a run spread over several
processes, `jaxgp.distributed`) reads the directory but writes nothing to it.
Non-finite floats are stored as `null`, so every file is strict JSON. A line or file that
is not a record of its kind is skipped with a warning, never fatal to a reader.
"""

from __future__ import annotations

import json
import math
import os
import re
from pathlib import Path
from typing import Any

from jaxgp.errors import ConfigError
from jaxgp.search.records import Baselines, Evaluation, Snapshot, Summary, Training

FORMAT = "jaxgp-run"
CONFIG = "config.json"
LEDGER = "ledger.jsonl"
TRAININGS = "trainings.jsonl"
BASELINES = "baselines.json"
SUMMARY = "summary.json"
GENERATIONS = "generations"
_SNAPSHOT = re.compile(r"^(?P<algorithm>[a-z_]+?)_(?P<generation>\d+)\.json$")


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

    def __init__(self, path: str | os.PathLike, writer: bool = True) -> None:
        self.path = Path(path)
        self.writer = writer

    @classmethod
    def create(cls, path: str | os.PathLike, config: dict, writer: bool = True) -> RunDir:
        run = cls(path, writer)
        if not writer:
            return run
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
    def existing(cls, path: str | os.PathLike, writer: bool = True) -> RunDir:
        """An existing run directory, to read (nothing is written); else `ConfigError`."""
        run = cls(path, writer)
        try:
            config = read_json(run.path / CONFIG)
        except (OSError, ValueError):
            config = None
        if not isinstance(config, dict) or config.get("format") != FORMAT:
            raise ConfigError(f"{run.path} is not a jaxgp run directory (no valid {CONFIG})")
        return run

    @classmethod
    def open(cls, path: str | os.PathLike, writer: bool = True) -> RunDir:
        """An existing run directory, to continue (resume) it."""
        run = cls.existing(path, writer)
        if writer:
            (run.path / GENERATIONS).mkdir(exist_ok=True)
        return run

    # configuration ------------------------------------------------------------------
    def read_config(self) -> dict:
        """The stored settings (`jaxgp.search.run_settings.RunSettings.from_dict` reads them)."""
        return read_json(self.path / CONFIG)["settings"]

    def _write(self, path: Path, value: Any) -> None:
        """Rewrite one file atomically (nothing when this process does not write)."""
        if self.writer:
            write_json_atomic(path, value)

    def _append(self, path: Path, record: dict) -> None:
        """Append one durable line (nothing when this process does not write)."""
        if self.writer:
            _append_line(path, record)

    def write_config(self, settings: dict) -> None:
        self._write(self.path / CONFIG, {"format": FORMAT, "settings": settings})

    # the two journals ----------------------------------------------------------------
    def append_evaluation(self, evaluation: Evaluation) -> None:
        """Append one ledger line and make it durable before returning."""
        self._append(self.path / LEDGER, evaluation.to_dict())

    def read_evaluations(self, repair: bool = False) -> tuple[list[Evaluation], list[str]]:
        """(evaluations, warnings). A truncated or unreadable line is skipped with a warning;
        with `repair`, a truncated last line is cut off so that new lines can follow."""
        return _read_records(
            self.path / LEDGER, repair and self.writer, "that evaluation will be redone",
            Evaluation.from_dict,
        )  # fmt: skip

    def append_training(self, training: Training) -> None:
        """Append one line to `trainings.jsonl` and make it durable before returning."""
        self._append(self.path / TRAININGS, training.to_dict())

    def read_trainings(self, repair: bool = False) -> tuple[list[Training], list[str]]:
        """(trainings, warnings) of `trainings.jsonl`, read like the ledger."""
        return _read_records(
            self.path / TRAININGS, repair and self.writer, "that training will be redone",
            Training.from_dict,
        )  # fmt: skip

    # the other files -----------------------------------------------------------------
    def read_baselines(self, warnings: list[str] | None = None) -> Baselines | None:
        return _read_file(
            self.path / BASELINES, Baselines.from_dict, [] if warnings is None else warnings
        )

    def write_baselines(self, baselines: Baselines) -> None:
        self._write(self.path / BASELINES, baselines.to_dict())

    def write_snapshot(self, snapshot: Snapshot) -> None:
        name = f"{snapshot.algorithm}_{snapshot.generation}.json"
        self._write(self.path / GENERATIONS / name, snapshot.to_dict())

    def read_snapshots(self, warnings: list[str]) -> dict[str, dict[int, Snapshot]]:
        """Every readable snapshot: algorithm -> generation -> snapshot."""
        snapshots: dict[str, dict[int, Snapshot]] = {}
        folder = self.path / GENERATIONS
        for file in sorted(folder.iterdir()) if folder.is_dir() else ():
            match = _SNAPSHOT.match(file.name)
            if match is None:
                continue
            algorithm, generation = match["algorithm"], int(match["generation"])
            snapshot = _read_file(
                file, lambda data, a=algorithm, g=generation: Snapshot.from_dict(data, a, g),
                warnings, "unreadable population snapshot, skipped",
            )  # fmt: skip
            if snapshot is not None:
                snapshots.setdefault(algorithm, {})[generation] = snapshot
        return snapshots

    def write_summary(self, summary: Summary) -> None:
        self._write(self.path / SUMMARY, summary.to_dict())

    def read_summary(self, warnings: list[str]) -> Summary | None:
        """The summary of a finished run; None while it runs (or if unreadable: warned)."""
        return _read_file(
            self.path / SUMMARY, Summary.from_dict, warnings,
            "unreadable, reported as a run in progress",
        )  # fmt: skip


def _read_file(path: Path, parse, warnings: list[str], what: str = "unreadable"):
    if not path.exists():
        return None
    try:
        return parse(read_json(path))
    except (OSError, ValueError, KeyError, TypeError) as error:
        warnings.append(f"{path}: {what} ({error})")
        return None


def _append_line(path: Path, record: dict) -> None:
    line = dumps(record) + "\n"
    with open(path, "a", encoding="utf-8") as handle:
        handle.write(line)
        handle.flush()
        os.fsync(handle.fileno())


def _read_records(path: Path, repair: bool, lost: str, parse) -> tuple[list, list[str]]:
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
            records.append(parse(record))
        except (ValueError, KeyError, TypeError):
            warnings.append(f"{path}: skipped unreadable line {number}")
    if tail.strip():
        warnings.append(f"{path}: skipped a truncated last line (line {len(complete) + 1}); {lost}")
        if repair:
            with open(path, "r+b") as handle:
                handle.truncate(len(data) - len(tail))
                handle.flush()
                os.fsync(handle.fileno())
    return records, warnings
