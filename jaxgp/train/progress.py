"""Rich progress bars for training: candidate batches, epochs and steps."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn


@contextmanager
def training_progress(console: Console | None = None, label: str = "") -> Iterator:
    """A `progress(what, done, total)` callback drawing one bar per level, on stderr."""
    console = console or Console(stderr=True)
    bars = Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
        transient=True,
    )
    tasks: dict[str, int] = {}

    def progress(what: str, done: int, total: int) -> None:
        if what not in tasks:
            tasks[what] = bars.add_task(f"{label}{what}s", total=total or None)
        bars.update(tasks[what], completed=done, total=total or None)
        if what == "epoch" and "step" in tasks:
            bars.reset(tasks["step"])
        if what == "chunk" and "epoch" in tasks:
            bars.reset(tasks["epoch"])

    with bars:
        yield progress
