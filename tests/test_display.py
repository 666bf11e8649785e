"""Where a run's progress goes: rich bars in a terminal or Jupyter with ipywidgets, plain
lines elsewhere (a notebook without ipywidgets, a log file), warnings only when quiet."""

import importlib.util
import io
from types import SimpleNamespace

import pytest
from rich.console import Console

from jaxgp.cli.progress import RichProgress
from jaxgp.display import LineProgress, WarningsOnly, live_capable, progress_for, watch
from jaxgp.fitness import Fitness, Metric


def member(expression="y_pred * y_true", wins=1, improvement=2.5):
    return SimpleNamespace(
        expression=expression, fitness=Fitness(Metric.ACCURACY, wins, improvement)
    )


@pytest.mark.parametrize("widgets", [True, False])
def test_a_notebook_gets_rich_bars_only_with_ipywidgets(monkeypatch, widgets):
    find_spec = importlib.util.find_spec

    def found(name, *args):
        if name == "ipywidgets":
            return object() if widgets else None
        return find_spec(name, *args)

    monkeypatch.setattr(importlib.util, "find_spec", found)
    notebook = Console(force_jupyter=True, file=io.StringIO())
    assert live_capable(notebook) is widgets
    shown = progress_for(notebook)
    assert (
        isinstance(shown, RichProgress) if widgets else isinstance(shown.__enter__(), LineProgress)
    )


def test_a_terminal_gets_rich_bars_and_a_file_plain_lines():
    assert isinstance(progress_for(Console(force_terminal=True, file=io.StringIO())), RichProgress)
    log = io.StringIO()
    with progress_for(Console(file=log, force_jupyter=False)) as progress:
        progress.phase("initial", 0)
        progress.phase("tournament", 2)
        progress.generation("tournament", 1, 2)
        progress.best("tournament", member())
        progress.warning("a tracker failed")
    lines = log.getvalue().splitlines()
    assert lines[:2] == ["initial population", "tournament: 2 generations"]
    assert lines[2].startswith("  tournament generation 1/2: best y_pred * y_true (wins 1, "
                               "average improvement +2.50 %; ")  # fmt: skip
    assert lines[3] == "warning: a tracker failed"


def test_quiet_shows_warnings_only():
    log = io.StringIO()
    with watch(Console(file=log), quiet=True)(None, None, False) as progress:
        assert isinstance(progress, WarningsOnly)
        progress.phase("tournament", 2)
        progress.best("tournament", member())
        progress.warning("kept")
    assert log.getvalue() == "warning: kept\n"


def test_line_progress_prints_to_the_given_stream():
    stream = io.StringIO()
    LineProgress(stream).phase("baselines", 0)
    assert stream.getvalue() == "CE baselines\n"
