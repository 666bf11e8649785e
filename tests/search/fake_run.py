"""A run with the fake trainer, as a script (the SIGKILL test runs it in a subprocess).

python -m tests.search.fake_run OUT [--resume] [--sleep S] [--log FILE]
"""

from __future__ import annotations

import argparse
import json
from contextlib import nullcontext
from pathlib import Path

from jaxgp.search.options import RunOptions
from jaxgp.search.progress import Progress
from jaxgp.search.session import run_search
from tests.search.fake_trainer import FakeTrainer, fake_load

#: The settings of the fake runs of the resume tests (early stopping on: some candidates stop).
OPTIONS = dict(population=8, generations=3, datasets=["digits"], candidates_per_batch=1, seed=3,
               early_stop="baseline")  # fmt: skip


def run(out: Path, *, resume: bool = False, trainer: FakeTrainer | None = None, progress=None):
    """A fake-data run of the resume tests' `OPTIONS`."""
    return run_with(out, trainer or FakeTrainer(), OPTIONS, resume=resume, progress=progress)


def run_with(
    out: Path, trainer, options: dict, *, resume: bool = False, progress=None,
    command: str = "evolve",
):  # fmt: skip
    """A fake-data `command` run of `options` with `trainer` (resumed from `out` if
    `resume`), its progress reported to `progress` when given."""
    given = RunOptions(resume=str(out)) if resume else RunOptions(out=str(out), **options)
    watch = None if progress is None else (lambda *_: nullcontext(progress))
    return run_search(command, given, trainer=trainer, load_fn=fake_load, watch=watch)


def epochs_of(out: Path) -> int:
    """The epochs the run in `out` trains each model for, as its config.json says."""
    return json.loads((out / "config.json").read_text())["settings"]["train"]["epochs"]


class Phases(Progress):
    """A progress that keeps the phases it is told of, as (name, generations)."""

    def __init__(self) -> None:
        self.seen: list[tuple[str, int]] = []

    def phase(self, name: str, generations: int) -> None:
        self.seen.append((name, generations))


def cut_copy(out: Path, directory: Path, kept: int, torn: str = "") -> Path:
    """A copy of the run in `out` (in `directory`/cut) as a run cut after its ledger's first
    `kept` lines would leave it, with `torn` (the start of a line left unfinished) after
    them."""
    cut = directory / "cut"
    cut.mkdir(parents=True)
    for name in ("config.json", "baselines.json"):
        cut.joinpath(name).write_text(out.joinpath(name).read_text())
    lines = out.joinpath("ledger.jsonl").read_text().splitlines(keepends=True)
    cut.joinpath("ledger.jsonl").write_text("".join(lines[:kept]) + torn)
    return cut


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("out", type=Path)
    parser.add_argument("--resume", action="store_true")
    parser.add_argument("--sleep", type=float, default=0.0)
    parser.add_argument("--log", type=Path, default=None)
    args = parser.parse_args()
    run(args.out, resume=args.resume, trainer=FakeTrainer(sleep=args.sleep, log=args.log))


if __name__ == "__main__":
    main()
