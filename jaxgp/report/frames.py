"""A run's evaluations as pandas DataFrames, for notebooks: `jaxgp.load_run(DIR).candidates()`.

`candidates` has one row per ledger line (evaluation), in the ledger's order: `algorithm`
(`initial` for the initial population), `generation`, `expression`, `nodes`, `status`
(trained, stopped, failed, cached), `wins` and `fitness` (the average improvement over CE in
percent under the run's metric; NaN for a failed candidate), then per dataset its final
`<dataset>/val_accuracy`, `/val_loss`, `/test_accuracy`, `/test_loss` and `/epochs`
trained, then `seconds` of training and `time`, when it was ledgered. `curves` has one row
per (evaluation, dataset, epoch) of the histories the ledger holds, CE's baseline included
(evaluation -1). pandas is an optional extra (`pip install 'jaxgp[notebook]'`).
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

from jaxgp.errors import ConfigError

if TYPE_CHECKING:
    import pandas

    from jaxgp.report.run_data import RunData

METRICS = ("val_accuracy", "val_loss", "test_accuracy", "test_loss")


def pandas_module():
    """pandas, or a `ConfigError` saying how to install it."""
    try:
        import pandas
    except ImportError:
        raise ConfigError(
            "pandas is not installed: pip install 'jaxgp[notebook]' (or pip install pandas)"
        ) from None
    return pandas


def _number(value: float | None) -> float:
    return math.nan if value is None else float(value)


def _nodes(expression: str, sizes: dict[str, int]) -> int:
    if expression not in sizes:
        from jaxgp.expr.parse import parse

        try:
            sizes[expression] = parse(expression).size
        except Exception:  # an expression an older jaxgp wrote and this one cannot read
            sizes[expression] = -1
    return sizes[expression]


def candidates(run: RunData) -> pandas.DataFrame:
    """One row per evaluation of the run (see the module docstring)."""
    pd = pandas_module()
    sizes: dict[str, int] = {}
    rows = []
    for record in run.records:
        row: dict[str, Any] = {
            "algorithm": record.algorithm,
            "generation": record.generation,
            "expression": record.expression,
            "nodes": _nodes(record.expression, sizes),
            "status": str(record.status),
            "wins": record.wins,
            "fitness": math.nan if record.failed else _number(record.average_improvement),
        }
        for dataset in run.datasets:
            scores = record.scores.get(dataset)
            for metric in METRICS:
                row[f"{dataset}/{metric}"] = _number(getattr(scores, metric, None))
            epochs = None
            if scores is not None:
                epochs = scores.stopped_epoch or (len(scores.history) or None)
            row[f"{dataset}/epochs"] = epochs
        row["seconds"] = record.seconds
        row["time"] = pd.to_datetime(record.time, unit="s") if record.time else pd.NaT
        rows.append(row)
    frame = pd.DataFrame(rows)
    frame.index.name = "evaluation"
    return frame


def curves(run: RunData) -> pandas.DataFrame:
    """One row per (evaluation, dataset, epoch) of the stored histories; CE's baseline as
    evaluation -1 with expression `ce`."""
    pd = pandas_module()
    rows = []
    sources = [(-1, "baselines", "ce", run.baselines)]
    sources += [(n, r.algorithm, r.expression, r.scores) for n, r in enumerate(run.records)]
    for number, algorithm, expression, scores_of in sources:
        for dataset, scores in scores_of.items():
            for epoch in scores.history:
                rows.append({"evaluation": number, "algorithm": algorithm,
                             "expression": expression, "dataset": dataset,
                             **epoch.to_dict()})  # fmt: skip
    columns = ["evaluation", "algorithm", "expression", "dataset", "epoch", "train_loss",
               "train_accuracy", "val_loss", "val_accuracy", "learning_rate"]  # fmt: skip
    return pd.DataFrame(rows, columns=columns)
