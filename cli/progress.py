"""Rich progress bars, built in one place: the training bars and the run's progress.

`TrainingBars` turns the trainer's `progress(what, done, total)` callback into one bar per
level (probes, candidate batches, epochs, steps), a lower level starting again when the one
above it advances. `training_progress` shows them for `jaxgp train`; `RichProgress` is the
run's `jaxgp.search.Progress` for `jaxgp evolve` and `jaxgp compare`: bars for
generations and the trainer's levels, and a line with the best expression so far.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from rich.console import Console, Group
from rich.live import Live
from rich.progress import BarColumn, MofNCompleteColumn, TextColumn, TimeElapsedColumn
from rich.progress import Progress as Bars
from rich.text import Text

from jaxgp.search.progress import Progress
from jaxgp.train.batch_plan import BatchPlan

LABELS = {"probe": "K probes", "chunk": "candidate batches", "epoch": "epochs", "step": "steps"}
LOWER = {"probe": "chunk", "chunk": "epoch", "epoch": "step"}


def bars(console: Console, *, transient: bool = False) -> Bars:
    return Bars(
        TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
        TimeElapsedColumn(), console=console, transient=transient,
    )  # fmt: skip


class TrainingBars:
    """The trainer's `progress(what, done, total)` callback drawn on `bars`."""

    def __init__(self, bars: Bars, prefix: str = "") -> None:
        self.bars = bars
        self.prefix = prefix
        self.tasks: dict[str, Any] = {}

    def restart(self, prefix: str) -> None:
        """New bars, labelled with `prefix`, for the next trainer call."""
        for task in self.tasks.values():
            self.bars.remove_task(task)
        self.tasks = {}
        self.prefix = prefix

    def __call__(self, what: str, done: int, total: int) -> None:
        if what not in self.tasks:
            label = LABELS.get(what, what + "s")
            self.tasks[what] = self.bars.add_task(self.prefix + label, total=total or None)
        self.bars.update(self.tasks[what], completed=done, total=total or None)
        lower = LOWER.get(what)
        if lower in self.tasks and done < total:
            self.bars.reset(self.tasks[lower])


@contextmanager
def training_progress(
    console: Console | None = None, label: str = "", *, quiet: bool = False
) -> Iterator[TrainingBars | None]:
    """A `progress(what, done, total)` callback drawing one bar per level, on stderr (None,
    no callback, when `quiet`)."""
    if quiet:
        yield None
        return
    shown = bars(console or Console(stderr=True), transient=True)
    with shown:
        yield TrainingBars(shown, label)


class RichProgress(Progress):
    """Bars for generations and the trainer's levels, plus a best-so-far line."""

    def __init__(self, console: Console) -> None:
        self.console = console
        self.bars = bars(console)
        self.trainer = TrainingBars(self.bars, "  ")
        self.best_line = Text("best: -", no_wrap=True, overflow="ellipsis")
        self.live = Live(Group(self.bars, self.best_line), console=console)
        self.generations: Any = None
        self.batched: set[str] = set()

    def __enter__(self) -> RichProgress:
        self.live.start()
        return self

    def __exit__(self, *_: object) -> None:
        self.live.stop()
        if not self.console.is_terminal:  # there rich leaves its last render without a line end,
            self.console.line()  # and an error line would follow on the same line

    def phase(self, name: str, generations: int) -> None:
        if generations:
            self.generations = self.bars.add_task(f"{name}: generations", total=generations)
        else:
            self.console.print(f"[bold]{name}[/]")

    def generation(self, algorithm: str, generation: int, total: int) -> None:
        if self.generations is not None:
            self.bars.update(
                self.generations,
                completed=generation - 1,
                description=f"{algorithm}: generation {generation}/{total}",
            )

    def training_started(self, algorithm: str, generation: int, dataset: str, count: int) -> None:
        self.trainer.restart(f"  {algorithm} g{generation} {dataset} ({count} candidates): ")

    def training(self, what: str, done: int, total: int) -> None:
        self.trainer(what, done, total)

    def batching(self, dataset: str, plan: BatchPlan) -> None:
        if plan.source == "one candidate" or dataset in self.batched:
            return
        self.batched.add(dataset)
        self.console.print(f"  {dataset}: candidates trained at once: {plan.describe()}")

    def best(self, algorithm: str, individual: Any) -> None:
        if self.generations is not None:
            self.bars.advance(self.generations)
        fitness = individual.fitness
        self.best_line.plain = (
            f"best ({algorithm}): {individual.expression}  wins={fitness.wins} "
            f"improvement={fitness.average_improvement}"
        )

    def warning(self, text: str) -> None:
        self.console.print(f"[yellow]warning:[/] {text}")
