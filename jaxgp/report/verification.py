"""`jaxgp verify`'s results drawn and tabulated: its PNG and the report's section.

- `verification_figure`: the test accuracy of every seed, the loss's beside CE's, one panel
  per dataset; the two models of a seed are joined by a line;
- `verification_table`: per dataset, the mean and standard deviation of both, the paired
  difference with its interval, and the verdict;
- `section`: the report's Markdown for a run directory that holds a `verify.json`.
"""

from __future__ import annotations

import textwrap
from pathlib import Path

from matplotlib.figure import Figure
from matplotlib.lines import Line2D

from jaxgp.errors import ConfigError
from jaxgp.report.figures import DPI
from jaxgp.report.run_data import RunData
from jaxgp.report.tables import DASH, Table, code, finite, fmt
from jaxgp.verify_result import (
    VERIFY_JSON,
    VERIFY_PNG,
    DatasetVerification,
    VerifyResult,
    read_verification,
)

LOSS_COLOR, CE_COLOR = "#1f77b4", "#000000"


def fmt_signed(value: float) -> str:
    number = finite(value)
    return DASH if number is None else f"{number:+.4f}"


def interval(dataset: DatasetVerification) -> str:
    """`[low, high]` of the paired difference."""
    d = dataset.difference
    return f"[{fmt_signed(d.low)}, {fmt_signed(d.high)}]"


def verification_figure(result: VerifyResult, path: Path) -> Path:
    """Test accuracy per seed, loss against CE, one panel per dataset."""
    count = len(result.datasets)
    width = 1.2 + 4.3 * count
    fig = Figure(figsize=(width, 4.4), dpi=DPI)
    axes = fig.subplots(1, count, squeeze=False)[0]
    xs = list(range(len(result.seeds)))
    for ax, dataset in zip(axes, result.datasets, strict=True):
        for x, loss, ce in zip(xs, dataset.loss_accuracy, dataset.ce_accuracy, strict=True):
            ax.plot([x, x], [ce, loss], color="#bbbbbb", linewidth=1.0, zorder=1)
        ax.scatter(xs, dataset.ce_accuracy, color=CE_COLOR, marker="o", zorder=3)
        ax.scatter(xs, dataset.loss_accuracy, color=LOSS_COLOR, marker="s", zorder=3)
        ax.axhline(dataset.ce_mean, color=CE_COLOR, linestyle=":", linewidth=1.0)
        ax.axhline(dataset.loss_mean, color=LOSS_COLOR, linestyle=":", linewidth=1.0)
        ax.set_xticks(xs, [str(seed) for seed in result.seeds])
        ax.set_xlim(-0.6, len(xs) - 0.4)
        ax.set_xlabel("seed")
        ax.set_ylabel("test accuracy")
        ax.grid(True, axis="y", alpha=0.3)
        d = dataset.difference
        ax.set_title(
            f"{dataset.dataset}: loss - CE {fmt_signed(d.mean)}\n"
            f"95 % CI {interval(dataset)}: {d.verdict}",
            fontsize=9,
        )
    handles = [
        Line2D([], [], marker="s", linestyle="", color=LOSS_COLOR, label="loss"),
        Line2D([], [], marker="o", linestyle="", color=CE_COLOR, label="CE"),
        Line2D([], [], linestyle=":", color="#555555", label="mean"),
    ]
    fig.legend(handles=handles, loc="lower center", ncol=3, fontsize=8, frameon=False)
    loss = textwrap.shorten(result.loss, width=int(11 * width) - 10, placeholder=" ...")
    fig.suptitle(
        f"loss = {loss}\nagainst CE: {result.model}, {result.epochs} epoch(s), "
        f"{len(result.seeds)} seeds",
        fontsize=9,
    )
    fig.tight_layout(rect=(0, 0.07, 1, 1))
    fig.savefig(path)
    return path


def verification_table(result: VerifyResult) -> Table:
    """Per dataset: both means +- standard deviations, the paired difference and verdict."""
    headers = ("dataset", "loss test acc", "CE test acc", "loss - CE", "95 % CI", "verdict")
    rows = []
    for dataset in result.datasets:
        d = dataset.difference
        failed = []
        if dataset.loss_failed:
            failed.append(f"loss failed on {dataset.loss_failed} seed(s)")
        if dataset.ce_failed:
            failed.append(f"CE failed on {dataset.ce_failed} seed(s)")
        rows.append(
            (
                dataset.dataset,
                f"{fmt(dataset.loss_mean)} ± {fmt(dataset.loss_std)}",
                f"{fmt(dataset.ce_mean)} ± {fmt(dataset.ce_std)}",
                fmt_signed(d.mean),
                interval(dataset),
                "; ".join([d.verdict, *failed]),
            )
        )
    return Table(headers, tuple(rows))


def section(run: RunData, out: Path) -> list[str]:
    """The report's lines on `jaxgp verify`'s results, with the figure drawn into `out`;
    none when the run directory has no `verify.json`."""
    path = run.path / VERIFY_JSON
    if not path.exists():
        return []
    lines = ["", "## Verification on new seeds (`jaxgp verify`)", ""]
    try:
        result = read_verification(path)
        verification_figure(result, out / VERIFY_PNG)
    except ConfigError as error:
        return [*lines, f"Not shown: {error}."]
    best = run.best_overall()
    recipe = run.settings.train
    notes = []
    if best is not None and best[1].expression != result.loss:
        notes.append(f"the run's best loss is now `{best[1].expression}`, not the one verified")
    if (result.model, result.epochs) != (recipe.model, recipe.epochs):
        notes.append(f"the run's own recipe is {recipe.model}, {recipe.epochs} epoch(s)")
    lines += [
        f"{code(result.loss)} ({result.origin}) and CE trained again from scratch on "
        f"{len(result.seeds)} seeds the search did not use ({', '.join(map(str, result.seeds))}"
        f"; data order and split: seed {result.data_seed}), with {result.model} for "
        f"{result.epochs} epoch(s). Test accuracy, mean ± standard deviation over the seeds; "
        "loss - CE is the mean paired difference (pairs share a seed) with its 95 % paired-t "
        "interval: `better` when the interval lies above 0, `worse` below, `no evidence` "
        "when it contains 0." + (f" Note: {'; '.join(notes)}." if notes else ""),
        "",
        verification_table(result).markdown(),
        "",
        f"![test accuracy per seed]({VERIFY_PNG})",
    ]
    return lines
