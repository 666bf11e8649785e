"""Showing a run's progress where it runs: rich bars, plain lines, or warnings only.

`run_search` reports to a `jaxgp.search.Progress`; this module picks the one that reads well
where the output goes (`progress_for`):

- a terminal, or a Jupyter notebook with ipywidgets: the live rich bars and best-so-far line
  of `jaxgp.cli.progress.RichProgress`;
- anything else (a log file, a pipe, a notebook without ipywidgets): `LineProgress`, one
  plain, complete line per phase and per generation, so a log reads top to bottom and no
  live line is cut short or glued to the next;
- `--quiet`: `WarningsOnly`, nothing but warnings.

`watch()` is the `watch` argument of `run_search` for notebooks and scripts:
`run_search("evolve", options, watch=jaxgp.display.watch())`.
"""

from __future__ import annotations

import importlib.util
import sys
import time
from contextlib import AbstractContextManager, nullcontext
from typing import Any, TextIO

from rich.console import Console

from jaxgp.search.labels import Stage
from jaxgp.search.progress import Progress
from jaxgp.train.batch_plan import BatchPlan, PlanSource

PHASES = {
    "baselines": "CE baselines",
    Stage.INITIAL: "initial population",
    Stage.CONFIRM: "confirming the best on more seeds",
}


def improvement(value: float | None) -> str:
    """An average improvement over CE as the summaries print it (`failed` when None)."""
    return "failed" if value is None else f"{value:+.2f} %"


class LineProgress(Progress):
    """One plain line per phase, per generation (its best so far), per batching decision
    and per warning, written whole to `stream` (default stderr)."""

    def __init__(self, stream: TextIO | None = None) -> None:
        self.stream = stream
        self.total: dict[str, int] = {}
        self.current: dict[str, int] = {}
        self.started = time.perf_counter()
        self.batched: set[str] = set()

    def _line(self, text: str) -> None:
        stream = self.stream or sys.stderr
        print(text, file=stream, flush=True)

    def phase(self, name: str, generations: int) -> None:
        self.total[name] = generations
        self._line(f"{name}: {generations} generations" if generations else PHASES.get(name, name))

    def generation(self, algorithm: str, generation: int, total: int) -> None:
        self.current[algorithm] = generation

    def batching(self, dataset: str, plan: BatchPlan) -> None:
        alone = plan.source == PlanSource.ONE_CANDIDATE and not plan.per_device
        if alone or dataset in self.batched:
            return
        self.batched.add(dataset)
        self._line(f"  {dataset}: candidates trained at once: {plan.describe()}")

    def best(self, algorithm: str, individual: Any) -> None:
        fitness = individual.fitness
        generation = self.current.get(algorithm, 0)
        seconds = time.perf_counter() - self.started
        self._line(
            f"  {algorithm} generation {generation}/{self.total.get(algorithm, '?')}: best "
            f"{individual.expression} (wins {fitness.wins}, average improvement "
            f"{improvement(fitness.average_improvement)}; {seconds:.1f} s)"
        )

    def warning(self, text: str) -> None:
        self._line(f"warning: {text}")


class WarningsOnly(Progress):
    """`--quiet`: no progress at all, but warnings still reach stderr."""

    def __init__(self, stream: TextIO | None = None) -> None:
        self.stream = stream

    def warning(self, text: str) -> None:
        print(f"warning: {text}", file=self.stream or sys.stderr, flush=True)


def live_capable(console: Console) -> bool:
    """Whether rich can redraw its bars on `console`: a terminal, or Jupyter with
    ipywidgets (without them rich only warns and shows nothing)."""
    if console.is_jupyter:
        return importlib.util.find_spec("ipywidgets") is not None
    return console.is_terminal and not console.is_dumb_terminal


def progress_for(console: Console, *, quiet: bool = False) -> AbstractContextManager[Progress]:
    """The progress display for output to `console`: a context giving the `Progress`."""
    stream = console.file
    if quiet:
        return nullcontext(WarningsOnly(stream))
    if live_capable(console):
        from jaxgp.cli.progress import RichProgress

        return RichProgress(console)
    return nullcontext(LineProgress(stream))


def watch(console: Console | None = None, *, quiet: bool = False):
    """A `watch` for `jaxgp.search.run_search` that shows the run's progress on `console`
    (default: rich's console for this notebook or terminal, else stderr)."""

    def watching(run: Any, settings: Any, resumed: bool) -> AbstractContextManager[Progress]:
        shown = console or Console(stderr=not Console().is_jupyter)
        return progress_for(shown, quiet=quiet)

    return watching
