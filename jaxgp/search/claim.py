"""Process 0's claim on its run directory for the length of a run: make the directory (a
new run), lock it (`jaxgp.search.run_lock`) before anything is written, and undo a start
that failed.

A run that fails (an error, or Ctrl-C) before it recorded anything a resume could use (no
baselines, ledger, snapshot or summary, and no training that did not fail) leaves nothing
behind: the directory is removed when this claim made it, with the empty parents it made,
and otherwise emptied of what the run put there. A run that recorded something keeps it
all, to be resumed.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path

from jaxgp import distributed
from jaxgp.errors import JaxgpError, RunFinished, StorageError
from jaxgp.search.run_lock import LOCK, RunLock
from jaxgp.search.rundir import (
    BASELINES,
    CONFIG,
    GENERATIONS,
    LEDGER,
    SUMMARY,
    TRAININGS,
    RunDir,
)

RECORDS = (BASELINES, LEDGER, SUMMARY)


class Claim:
    """The run directory `path` held by this process (`acquire`, then `release`)."""

    def __init__(self, path: str | os.PathLike, resumed: bool) -> None:
        self.path = Path(path)
        self.resumed = resumed
        self.made: list[Path] = []
        """The directories this claim made, the run directory first."""
        self.lock: RunLock | None = None

    def acquire(self) -> None:
        """Make the directory of a new run and lock it; `RunBusyError` when another process
        holds it, `RunFinished` when the run it resumes finished meanwhile, `StorageError`
        when the machine refuses."""
        if not self.resumed:
            self.made = _missing(self.path)
            try:
                self.path.mkdir(parents=True, exist_ok=True)
            except OSError as error:
                self.made = []
                raise StorageError("create", error.filename or self.path, error) from None
        lock = RunLock(self.path)
        lock.acquire()  # from here on, the directory is this process's alone
        self.lock = lock
        if self.resumed and os.path.exists(self.path / SUMMARY):
            raise RunFinished(finished_message(self.path))

    def release(self, failed: bool) -> None:
        """Let the lock go; after a failure, first remove what an unrecorded start made."""
        if self.lock is None:
            return
        if failed and not self.resumed and not recorded(self.path):
            self._undo()
        self.lock.release()
        self.lock = None

    def _undo(self) -> None:
        if self.made and self.made[0] == self.path:
            shutil.rmtree(self.path, ignore_errors=True)
            for parent in self.made[1:]:
                with suppress(OSError):  # only while empty: another run may have come in
                    parent.rmdir()
            return
        from jaxgp.track.state import STATE
        from jaxgp.track.tensorboard_tracker import DIRECTORY as TENSORBOARD

        for name in (CONFIG, TRAININGS, LOCK, STATE):
            with suppress(OSError):
                (self.path / name).unlink()
        with suppress(OSError):
            (self.path / GENERATIONS).rmdir()
        shutil.rmtree(self.path / TENSORBOARD, ignore_errors=True)  # `--track tensorboard`'s


@contextmanager
def claim_run(path: str | os.PathLike, resumed: bool, writer: bool = True) -> Iterator[None]:
    """Hold `path` for the body (`Claim`). In a search over several processes only process
    0 (`writer`) claims it, and a claim it cannot make stops every process
    (`distributed.raise_together`)."""
    claim = Claim(path, resumed) if writer else None
    failed = True
    try:
        error = None
        if claim is not None:
            try:
                claim.acquire()
            except JaxgpError as caught:
                error = caught
        distributed.raise_together(error)
        yield
        failed = False
    finally:
        if claim is not None:
            claim.release(failed)


def recorded(path: Path) -> bool:
    """Whether the run in `path` recorded anything a resume could use: beyond its settings,
    a record other than failed trainings (a CE baseline that did not train, met again by
    every resume)."""
    if any(os.path.exists(path / name) for name in RECORDS):
        return True
    generations = path / GENERATIONS
    if generations.is_dir() and any(generations.iterdir()):
        return True
    trainings, _ = RunDir(path, writer=False).read_trainings()
    return any(scores.usable for training in trainings for scores, _ in training.results)


def finished_message(path: str | os.PathLike) -> str:
    """What `--resume` of the finished run in `path` says."""
    return (
        f"{path} is finished: its {SUMMARY} is final, so nothing was run or written "
        f"(`jaxgp report {path}` reads it; start a new run with --out to search again)"
    )


def _missing(path: Path) -> list[Path]:
    """`path` and its parents that do not exist yet, deepest first."""
    missing = []
    for directory in (path, *path.parents):
        if os.path.exists(directory):
            break
        missing.append(directory)
    return missing
