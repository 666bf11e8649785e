"""The run directory: where a run's records (`jaxgp.search.records`) are written and read.

Layout of a run directory:

- `config.json`: the run's settings (marked with `"format": "jaxgp-run"`) and their
  fingerprint (`jaxgp.search.seal`), by which a resume finds a hand edit;
- `ledger.jsonl`: one `Evaluation` per line, appended, flushed and fsync'd as soon as it is
  known, so a crash or `kill -9` loses at most the evaluations still in training;
- `trainings.jsonl`: one `Training` per line (a chunk of candidates on one dataset, or a CE
  baseline), written the same way, so that a crash also keeps the datasets already
  trained for the evaluations in progress (`jaxgp.search.store`);
- `baselines.json`: the CE `Baselines` (trained once per run);
- `generations/<algorithm>_<g>.json`: the `Snapshot` of the population after each
  generation (`initial_0` for the initial population);
- `summary.json`: the `Summary`, written at the end.

Files that are rewritten are written atomically (temporary file, fsync, `os.replace`; the
temporary file is removed when that fails), and a journal line that cannot be written whole
is cut off again, so a full disk or an unwritable path loses nothing already written: it is
a one-line `StorageError` (exit 3), and `--resume` continues once the cause is fixed.
One process writes a run directory (`jaxgp.search.run_lock`).
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
from contextlib import suppress
from pathlib import Path
from typing import Any

from jaxgp.errors import ConfigError, StorageError
from jaxgp.search import seal
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


def write_json_atomic(path: Path, value: Any, hint: str = "") -> None:
    """Replace `path` with `value` as JSON, or leave it as it was: the text goes to a
    temporary file that is fsync'd and renamed over `path`, and removed when anything fails
    (a full disk leaves no empty `.tmp` behind). `StorageError` (ending with `hint`) when
    the machine cannot write it."""
    tmp = path.with_name(path.name + ".tmp")
    data = (dumps(value, indent=2) + "\n").encode("utf-8")
    try:
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
        try:
            _write_all(fd, data)
            os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(tmp, path)
    except BaseException as error:
        with suppress(OSError):
            tmp.unlink()
        if isinstance(error, OSError):
            raise StorageError("write", path, error, hint) from None
        raise


def make_directory(path: Path) -> Path:
    """`path` and its missing parents made; `StorageError` naming the one the machine
    refuses (under /proc, on a read-only filesystem, a name too long)."""
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise StorageError("create", error.filename or path, error) from None
    return path


def read_json(path: Path) -> Any:
    with open(path, encoding="utf-8") as handle:
        return json.load(handle)


class RunDir:
    """One run directory; `create` a new one or `open` an existing one to resume it."""

    def __init__(self, path: str | os.PathLike, writer: bool = True) -> None:
        self.path = Path(path)
        self.writer = writer

    @staticmethod
    def check_new(path: str | os.PathLike) -> None:
        """`ConfigError` unless a new run can be made at `path`: it holds no run and is a
        directory or nothing (os.path: False, not OSError, for a name too long)."""
        path = Path(path)
        if os.path.exists(path / CONFIG):
            raise ConfigError(
                f"{path} already holds a run; continue it with --resume {path} "
                "or choose another --out"
            )
        if os.path.exists(path) and not os.path.isdir(path):
            raise ConfigError(f"--out {path} exists and is not a directory")

    @classmethod
    def create(cls, path: str | os.PathLike, config: dict, writer: bool = True) -> RunDir:
        run = cls(path, writer)
        if not writer:
            return run
        cls.check_new(run.path)
        run.make_directories()
        write_json_atomic(run.path / CONFIG, _sealed(config))  # nothing to resume yet
        return run

    @classmethod
    def existing(cls, path: str | os.PathLike) -> RunDir:
        """An existing run directory, to read: this process writes nothing to it (`open`
        continues one); else `ConfigError`."""
        run = cls(path, writer=False)
        run._require_run()
        return run

    @classmethod
    def open(cls, path: str | os.PathLike, writer: bool = True) -> RunDir:
        """An existing run directory, to continue (resume) it; `writer=False` for a process
        other than 0 of a run spread over several (see the module's docstring)."""
        run = cls(path, writer)
        run._require_run()
        if writer:
            run.make_directories()
        return run

    def _require_run(self) -> None:
        """`ConfigError` unless this directory holds a valid `config.json` of this format."""
        try:
            config = read_json(self.path / CONFIG)
        except (OSError, ValueError):
            config = None
        valid = isinstance(config, dict) and isinstance(config.get("settings"), dict)
        if not valid or config.get("format") != FORMAT:
            raise ConfigError(f"{self.path} is not a jaxgp run directory (no valid {CONFIG})")

    def make_directories(self) -> None:
        """The run directory and its `generations/` (`StorageError` if the machine refuses)."""
        make_directory(self.path / GENERATIONS)

    @property
    def resume_hint(self) -> str:
        """What a `StorageError` in the middle of a run tells the user to do."""
        return f"every record before it is kept: fix that, then continue with --resume {self.path}"

    # configuration ------------------------------------------------------------------
    def read_config(self) -> dict:
        """The stored settings (`jaxgp.search.run_settings.RunSettings.from_dict` reads them)."""
        return read_json(self.path / CONFIG)["settings"]

    def edited_settings(self) -> list[str] | None:
        """The settings changed in `config.json` since it was written (`jaxgp.search.seal`):
        [] when none, None when it has no fingerprint (a run made before them)."""
        config = read_json(self.path / CONFIG)
        if "fingerprint" not in config:
            return None
        return seal.edited(config["settings"], config["fingerprint"])

    def _write(self, path: Path, value: Any) -> None:
        """Rewrite one file atomically (nothing when this process does not write)."""
        if self.writer:
            write_json_atomic(path, value, self.resume_hint)

    def _append(self, path: Path, record: dict) -> None:
        """Append one durable line (nothing when this process does not write)."""
        if self.writer:
            _append_line(path, record, self.resume_hint)

    def write_config(self, settings: dict) -> None:
        """Store `settings` with their fingerprint (`jaxgp.search.seal`)."""
        self._write(self.path / CONFIG, _sealed(settings))

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
        """Write `summary.json`, once: a finished run's summary is never rewritten."""
        if self.writer and os.path.exists(self.path / SUMMARY):
            raise ConfigError(f"{self.path} is finished: its {SUMMARY} is kept as it is")
        self._write(self.path / SUMMARY, summary.to_dict())

    def read_summary(self, warnings: list[str]) -> Summary | None:
        """The summary of a finished run; None while it runs (or if unreadable: warned)."""
        return _read_file(
            self.path / SUMMARY, Summary.from_dict, warnings,
            "unreadable, reported as a run in progress",
        )  # fmt: skip


def _sealed(settings: dict) -> dict:
    """`config.json`'s content: the settings as JSON stores them, and their fingerprint."""
    stored = json.loads(dumps(settings))
    return {"format": FORMAT, "settings": stored, "fingerprint": seal.fingerprint(stored)}


def _read_file(path: Path, parse, warnings: list[str], what: str = "unreadable"):
    if not path.exists():
        return None
    try:
        return parse(read_json(path))
    except (OSError, ValueError, KeyError, TypeError) as error:
        warnings.append(f"{path}: {what} ({error})")
        return None


def _append_line(path: Path, record: dict, hint: str = "") -> None:
    """Append one line and fsync it, or leave the file as it was: a write cut short (a full
    disk, Ctrl-C) is cut off again, so no torn line is left for a resume to skip."""
    data = (dumps(record) + "\n").encode("utf-8")
    try:
        fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    except OSError as error:
        raise StorageError("write", path, error, hint) from None
    try:
        size = os.fstat(fd).st_size  # one writer (`run_lock`): nothing else appends
        try:
            _write_all(fd, data)
            os.fsync(fd)
        except BaseException:
            with suppress(OSError):
                os.ftruncate(fd, size)
            raise
    except OSError as error:
        raise StorageError("write", path, error, hint) from None
    finally:
        os.close(fd)


def _write_all(fd: int, data: bytes) -> None:
    """`os.write` until all of `data` is written (a write may take only part of it)."""
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view) :]


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
            try:
                with open(path, "r+b") as handle:
                    handle.truncate(len(data) - len(tail))
                    handle.flush()
                    os.fsync(handle.fileno())
            except OSError as error:
                raise StorageError("repair", path, error) from None
    return records, warnings
