"""A finished fake run for the reliability tests, and its files as bytes."""

from __future__ import annotations

import shutil
from pathlib import Path

from tests.search import fake_run


def finished_run(directory: Path) -> Path:
    """A finished run (the fake trainer, `fake_run.OPTIONS`) in `directory`/run."""
    out = directory / "run"
    fake_run.run(out)
    return out


def copy_of(run: Path, directory: Path, *, finished: bool = True) -> Path:
    """A copy of `run` in `directory`; without its summary unless `finished`."""
    out = directory / "copy"
    shutil.copytree(run, out)
    if not finished:
        (out / "summary.json").unlink()
    return out


def files_of(directory: Path) -> dict[str, bytes]:
    """Every file under `directory` (hidden ones too) -> its bytes."""
    return {str(p.relative_to(directory)): p.read_bytes() for p in sorted(directory.rglob("*"))
            if p.is_file()}  # fmt: skip
