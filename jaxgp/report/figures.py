"""The report's figures, drawn on `matplotlib.figure.Figure` objects and saved with the Agg
canvas: no display and no pyplot state, so the caller's backend is left alone.

- `fitness_figure`: every individual of every generation's population, average improvement
  (top) and wins (bottom), as the thesis's Figures 4.1-4.4; each algorithm is drawn with a
  small x offset and equal points of one generation are spread apart so none hide another.
  Individuals stopped early (`jaxgp.search.early_stop`) are drawn hollow; children of a
  generation still in progress (no population snapshot yet) as triangles.
- `best_figure`: the best individual per generation of each algorithm on one plot
  (Figures 4.5 and 4.6).
- `history_figure`: validation accuracy per epoch of the best losses against CE on one
  dataset, when the run stored per-epoch history.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path

from matplotlib.figure import Figure
from matplotlib.lines import Line2D

from jaxgp.report.run_data import RunData, best_of
from jaxgp.search.labels import Stage
from jaxgp.search.records import Member

COLORS = {Stage.INITIAL: "#7f7f7f", "ngl": "#d62728", "tournament": "#1f77b4"}
_EXTRA = ("#2ca02c", "#9467bd", "#8c564b", "#e377c2")
DPI = 110


def color(label: str, labels: list[str]) -> str:
    if label in COLORS:
        return COLORS[label]
    return _EXTRA[labels.index(label) % len(_EXTRA)] if label in labels else "#000000"


def offsets(algorithms: list[str], width: float = 0.36) -> dict[str, float]:
    """x offset of each algorithm within a generation (0 for a single algorithm)."""
    if len(algorithms) <= 1:
        return dict.fromkeys(algorithms, 0.0)
    step = width / (len(algorithms) - 1)
    return {name: -width / 2 + i * step for i, name in enumerate(algorithms)}


def spread(center: float, values: list[float], step: float = 0.03) -> list[float]:
    """x positions around `center` that put equal values side by side, not on one another."""
    counts = Counter(values)
    seen: Counter = Counter()
    xs = []
    for value in values:
        n = counts[value]
        width = min(step, 0.16 / max(n - 1, 1))
        xs.append(center + (seen[value] - (n - 1) / 2) * width)
        seen[value] += 1
    return xs


def _groups(run: RunData) -> list[tuple[str, int, list, bool]]:
    """(label, generation, individuals, complete): each generation's population from its
    snapshot, or the children evaluated so far from the ledger (complete False)."""
    groups: list[tuple[str, int, list, bool]] = []
    initial = run.population_of(Stage.INITIAL, 0)
    if initial:
        groups.append((Stage.INITIAL, 0, initial, True))
    elif run.records_of(Stage.INITIAL):
        groups.append((Stage.INITIAL, 0, run.records_of(Stage.INITIAL), False))
    for algorithm in run.algorithms:
        snapshots = run.snapshots.get(algorithm, {})
        ledger_generations = {r.generation for r in run.records_of(algorithm)}
        for generation in sorted(set(snapshots) | ledger_generations):
            if generation == 0:
                continue
            if generation in snapshots:
                population = list(snapshots[generation].population)
                groups.append((algorithm, generation, population, True))
            else:
                children = [r for r in run.records_of(algorithm) if r.generation == generation]
                groups.append((algorithm, generation, children, False))
    return groups


def _generation_axis(ax, run: RunData) -> None:
    last = max(run.generations, 1)
    ax.set_xticks(range(0, last + 1))
    ax.set_xlim(-0.5, last + 0.5)
    ax.grid(True, axis="y", alpha=0.3)


def _legend(ax, handles: list) -> None:
    """One row of legend entries above the plot, where it cannot hide a point."""
    if handles:
        ax.legend(
            handles=handles, loc="lower center", bbox_to_anchor=(0.5, 1.0), ncol=len(handles),
            fontsize=8, frameon=False,
        )  # fmt: skip


def _improvement_and_wins_axes(
    top, bottom, run: RunData, improvement_label: str, wins_label: str, generation_label: str
) -> None:
    """Label the improvement (top) and wins (bottom) axes, one tick per possible win count."""
    top.axhline(0.0, color="black", linewidth=0.8, alpha=0.6)
    top.set_ylabel(improvement_label)
    bottom.set_ylabel(wins_label)
    bottom.set_xlabel(generation_label)
    n_datasets = max(len(run.datasets), 1)
    bottom.set_yticks(range(0, n_datasets + 1))
    bottom.set_ylim(-0.5, n_datasets + 0.5)
    _generation_axis(top, run)
    _generation_axis(bottom, run)


def fitness_figure(run: RunData, path: Path) -> Path:
    """Average improvement and wins of every individual per generation."""
    labels = [Stage.INITIAL, *run.algorithms]
    shift = offsets(run.algorithms)
    fig = Figure(figsize=(7.5, 6.2), dpi=DPI)
    top, bottom = fig.subplots(2, 1, sharex=True)
    failed = 0
    in_progress = stopped = False
    for label, generation, individuals, complete in _groups(run):
        usable = [i for i in individuals if not i.failed]
        failed += len(individuals) - len(usable)
        if not usable:
            continue
        center = generation + shift.get(label, 0.0)
        improvements = [float(i.average_improvement) for i in usable]
        wins = [float(i.wins) for i in usable]
        hollow = [bool(getattr(i, "stopped", False)) for i in usable]
        stopped |= any(hollow)
        in_progress |= not complete
        style = dict(
            s=26 if complete else 34,
            marker="o" if complete else "^",
            facecolors=["none" if h else color(label, labels) for h in hollow],
            edgecolors=color(label, labels),
            linewidths=1.0,
            zorder=3,
        )
        top.scatter(spread(center, improvements), improvements, **style)
        bottom.scatter(spread(center, wins), wins, **style)
    _improvement_and_wins_axes(
        top, bottom, run, f"average improvement vs CE (%)\n({run.metric})", "wins against CE",
        "generation",
    )  # fmt: skip
    handles = [
        Line2D([], [], marker="o", linestyle="", color=color(label, labels), label=label)
        for label in labels
        if label == Stage.INITIAL or label in run.algorithms
    ]
    if stopped:
        handles.append(
            Line2D(
                [], [], marker="o", linestyle="", markerfacecolor="none", color="black",
                label="stopped early",
            )
        )  # fmt: skip
    if in_progress:
        handles.append(
            Line2D(
                [], [], marker="^", linestyle="", color="black",
                label="evaluated so far (generation in progress)",
            )
        )  # fmt: skip
    _legend(top, handles)
    title = f"Fitness of every individual per generation ({run.path.name})"
    if failed:
        title += f"; {failed} failed individual(s) not drawn"
    fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    fig.savefig(path)
    return path


def best_series(run: RunData, algorithm: str) -> list[tuple[int, Member]]:
    """(generation, best individual) from generation 0 (the shared initial population)
    to the last generation with a snapshot."""
    series = []
    initial = run.population_of(Stage.INITIAL, 0)
    if initial:
        series.append((0, best_of(initial)))
    for generation, snapshot in sorted(run.snapshots.get(algorithm, {}).items()):
        if generation > 0 and snapshot.population:
            series.append((generation, best_of(snapshot.population)))
    return series


def best_figure(run: RunData, path: Path) -> Path:
    """The best individual of each generation, every algorithm on one plot."""
    labels = [Stage.INITIAL, *run.algorithms]
    shift = offsets(run.algorithms, width=0.12)
    fig = Figure(figsize=(7.5, 5.6), dpi=DPI)
    top, bottom = fig.subplots(2, 1, sharex=True)
    for algorithm in run.algorithms:
        series = [(g, b) for g, b in best_series(run, algorithm) if not b.failed]
        if not series:
            continue
        xs = [g + shift.get(algorithm, 0.0) for g, _ in series]
        style = dict(color=color(algorithm, labels), marker="o", label=algorithm)
        top.plot(xs, [float(b.average_improvement) for _, b in series], **style)
        bottom.plot(xs, [b.wins for _, b in series], **style)
    _improvement_and_wins_axes(
        top, bottom, run, f"best average improvement (%)\n({run.metric})", "wins of the best",
        "generation (0: the shared initial population)",
    )  # fmt: skip
    _legend(top, top.get_legend_handles_labels()[0])
    fig.suptitle(f"Best individual per generation ({run.path.name})", fontsize=10)
    fig.tight_layout()
    fig.savefig(path)
    return path


def history_figure(run: RunData, dataset: str, path: Path) -> Path | None:
    """Validation accuracy per epoch of each algorithm's best loss and of CE on `dataset`;
    None when the run holds no history for it."""
    labels = [Stage.INITIAL, *run.algorithms]
    curves = []
    ce = run.baselines.get(dataset)
    if ce is not None and ce.history:
        curves.append(("CE", list(ce.history), "black"))
    for algorithm in run.algorithms:
        history = run.history(run.best(algorithm), dataset)
        if history:
            curves.append((f"{algorithm} best", history, color(algorithm, labels)))
    if not any(name != "CE" for name, _, _ in curves):
        return None
    fig = Figure(figsize=(6.5, 4.0), dpi=DPI)
    ax = fig.subplots()
    for name, history, line_color in curves:
        epochs = [record.epoch for record in history]
        values = [record.val_accuracy for record in history]
        ax.plot(epochs, values, marker="o", color=line_color, label=name)
    ax.set_xlabel("epoch")
    ax.set_ylabel("validation accuracy")
    ax.grid(True, alpha=0.3)
    ax.legend(fontsize=8)
    ax.set_title(f"Validation accuracy per epoch on {dataset}", fontsize=10)
    fig.tight_layout()
    fig.savefig(path)
    return path
