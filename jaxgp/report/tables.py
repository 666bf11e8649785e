"""The report's tables, each built as rows of cells and rendered as a Markdown table.

- `best_losses`: each algorithm's best loss (expression, wins, average improvement);
- `accuracy`: validation and test accuracy of each algorithm's best loss per dataset against
  CE (thesis Tables 4.2 and 4.3);
- `evaluations`: evaluations, cache hits and failed candidates per phase, from the ledger;
- `best_per_generation`: the best individual of every generation (Figures 4.5 and 4.6);
- `top_losses`: the best distinct losses of the whole ledger.

The execution-time tables (Table 4.4) are in `jaxgp.report.timing`.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from jaxgp.fitness import Scores
from jaxgp.report.run_data import RunData, best_of
from jaxgp.search.labels import Stage
from jaxgp.search.records import Evaluation
from jaxgp.search.summary import EPOCH_FIELDS

DASH = "–"


@dataclass(frozen=True)
class Table:
    headers: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]

    def markdown(self) -> str:
        def line(cells: Sequence[str]) -> str:
            return "| " + " | ".join(cell.replace("|", "\\|") for cell in cells) + " |"

        columns = range(len(self.headers))
        numeric = [i > 0 and all(_numeric(row[i]) for row in self.rows) for i in columns]
        separator = "|" + "|".join(" ---: " if right else " --- " for right in numeric) + "|"
        return "\n".join([line(self.headers), separator, *(line(r) for r in self.rows)])

    def column(self, header: str) -> list[str]:
        index = self.headers.index(header)
        return [row[index] for row in self.rows]


def _numeric(cell: str) -> bool:
    text = cell.removesuffix(" %").strip()
    if text in (DASH, "failed"):
        return True
    try:
        float(text)
    except ValueError:
        return False
    return True


def finite(value: Any) -> float | None:
    """`value` as a float when it is a finite number, else None."""
    if isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value):
        return float(value)
    return None


def fmt(value: Any, digits: int = 4) -> str:
    number = finite(value)
    return DASH if number is None else f"{number:.{digits}f}"


def fmt_seconds(value: Any) -> str:
    number = finite(value)
    return DASH if number is None else f"{number:.1f}"


def fmt_improvement(record: Any) -> str:
    """A record's average improvement (any record with `failed` and `average_improvement`)."""
    if record is None:
        return DASH
    if record.failed:
        return "failed"
    return f"{record.average_improvement:+.2f} %"


def fmt_percent(value: float | None) -> str:
    return DASH if value is None else f"{value:+.1f} %"


def code(text: str) -> str:
    return f"`{text}`"


def best_losses(run: RunData) -> Table:
    rows = []
    for algorithm in run.algorithms:
        best = run.best(algorithm)
        if best is None:
            rows.append((algorithm, DASH, DASH, DASH))
            continue
        rows.append((algorithm, code(best.expression), str(best.wins), fmt_improvement(best)))
    return Table(("algorithm", "best loss", "wins", "average improvement"), tuple(rows))


def accuracy(run: RunData) -> Table:
    """Per dataset: CE's val / test accuracy, then each algorithm's best loss's."""
    headers = ["dataset", "CE val", "CE test"]
    for algorithm in run.algorithms:
        headers += [f"{algorithm} val", f"{algorithm} test"]
    bests = {algorithm: run.best(algorithm) for algorithm in run.algorithms}
    rows = []
    for dataset in run.datasets:
        row = [dataset, *_accuracies(run.baselines.get(dataset))]
        for algorithm in run.algorithms:
            best = bests[algorithm]
            row += _accuracies(best.scores.get(dataset) if best is not None else None)
        rows.append(tuple(row))
    return Table(tuple(headers), tuple(rows))


def _accuracies(scores: Scores | None) -> list[str]:
    """Validation and test accuracy, or dashes."""
    if scores is None:
        return [DASH, DASH]
    return [fmt(scores.val_accuracy), fmt(scores.test_accuracy)]


def evaluations(run: RunData) -> Table:
    """Per phase: evaluations (expected), trained, stopped early, cache hits, failed, and the
    candidate-epochs (one model, one dataset, one epoch) trained and saved by stopping."""
    headers = ("phase", "evaluations", "expected", "trained", "stopped early", "cache hits",
               "failed", "candidate-epochs trained", "candidate-epochs saved")  # fmt: skip
    fields = ("trained", "stopped", "cached", "failed", *EPOCH_FIELDS)
    rows = []
    for label in run.labels:
        counts = run.counts(label)
        if not counts["evaluations"] and label not in (Stage.INITIAL, *run.algorithms):
            continue
        expected = (
            run.expected_evaluations(label) if label in (Stage.INITIAL, *run.algorithms) else 0
        )
        rows.append(
            (label, str(counts["evaluations"]), str(expected) if expected else DASH,
             *(str(counts[name]) for name in fields))
        )  # fmt: skip
    total = run.counts()
    expected_total = sum(run.expected_evaluations(x) for x in (Stage.INITIAL, *run.algorithms))
    rows.append(
        ("total", str(total["evaluations"]), str(expected_total),
         *(str(total[name]) for name in fields))
    )  # fmt: skip
    return Table(headers, tuple(rows))


def best_per_generation(run: RunData) -> Table:
    """Generation by generation, the best individual of each algorithm's population."""
    headers = ["generation"]
    for algorithm in run.algorithms:
        headers += [f"{algorithm} best", f"{algorithm} wins", f"{algorithm} improvement"]
    rows = []
    for generation in range(0, run.generations + 1):
        row = [str(generation)]
        found = False
        for algorithm in run.algorithms:
            population = run.population_of(algorithm, generation)
            if population:
                best = best_of(population)
                row += [code(best.expression), str(best.wins), fmt_improvement(best)]
                found = True
            else:
                row += [DASH, DASH, DASH]
        if found:
            rows.append(tuple(row))
    return Table(tuple(headers), tuple(rows))


def top_losses(run: RunData, limit: int = 10) -> Table:
    """The best distinct expressions of the ledger, with who found them first."""
    first: dict[str, Evaluation] = {}
    for record in run.records:
        first.setdefault(record.expression, record)
    ordered = sorted(first.values(), key=lambda r: r.sort_key, reverse=True)[:limit]
    headers = ["#", "loss", "found by", "wins", "average improvement"]
    headers += [f"{dataset} val acc" for dataset in run.datasets]
    rows = []
    for number, record in enumerate(ordered, start=1):
        found = f"{record.algorithm} g{record.generation}"
        row = [str(number), code(record.expression), found, str(record.wins),
               fmt_improvement(record)]  # fmt: skip
        for dataset in run.datasets:
            row.append(_accuracies(record.scores.get(dataset))[0])
        rows.append(tuple(row))
    return Table(tuple(headers), tuple(rows))
