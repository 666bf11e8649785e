"""`jaxgp verify`'s results drawn and tabulated: its PNG and the report's section.

- `verification_figure`: the test accuracy of every seed, the loss's beside its reference's,
  one panel per comparison; the two models of a seed are joined by a line;
- `verification_table`: per comparison, the mean and standard deviation of both, the paired
  difference with its interval, the Holm-corrected p value and the verdict;
- `sweep_table`: each loss's mean accuracies at each learning rate tried;
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
    Comparison,
    VerifyResult,
    read_verification,
)

LOSS_COLOR, CE_COLOR = "#1f77b4", "#000000"


def fmt_signed(value: float) -> str:
    number = finite(value)
    return DASH if number is None else f"{number:+.4f}"


def interval(comparison: Comparison) -> str:
    """`[low, high]` of the paired difference (95 %, not corrected)."""
    d = comparison.difference
    return f"[{fmt_signed(d.low)}, {fmt_signed(d.high)}]"


def display_name(label: str) -> str:
    """A loss's label as tables print it (`ce` as CE)."""
    return "CE" if label == "ce" else label


def verification_figure(result: VerifyResult, path: Path) -> Path:
    """Test accuracy per seed, one panel per comparison (a loss against a reference on a
    dataset), the two models of a seed joined by a line."""
    count = len(result.comparisons)
    columns = min(count, 4)
    rows = -(-count // columns)
    width = 1.2 + 4.3 * columns
    fig = Figure(figsize=(width, 0.6 + 3.8 * rows), dpi=DPI)
    axes = fig.subplots(rows, columns, squeeze=False).ravel()
    xs = list(range(len(result.seeds)))
    verdicts = result.verdicts()
    for ax, c, verdict in zip(axes, result.comparisons, verdicts, strict=False):
        for x, loss, other in zip(xs, c.loss_accuracy, c.against_accuracy, strict=True):
            ax.plot([x, x], [other, loss], color="#bbbbbb", linewidth=1.0, zorder=1)
        ax.scatter(xs, c.against_accuracy, color=CE_COLOR, marker="o", zorder=3)
        ax.scatter(xs, c.loss_accuracy, color=LOSS_COLOR, marker="s", zorder=3)
        ax.axhline(c.against_mean, color=CE_COLOR, linestyle=":", linewidth=1.0)
        ax.axhline(c.loss_mean, color=LOSS_COLOR, linestyle=":", linewidth=1.0)
        ax.set_xticks(xs, [str(seed) for seed in result.seeds])
        ax.set_xlim(-0.6, len(xs) - 0.4)
        ax.set_xlabel("seed")
        ax.set_ylabel("test accuracy")
        ax.grid(True, axis="y", alpha=0.3)
        loss = textwrap.shorten(c.loss, width=28, placeholder="...")
        ax.set_title(
            f"{c.dataset}: {loss} - {display_name(c.against)} {fmt_signed(c.difference.mean)}\n"
            f"95 % CI {interval(c)}: {verdict}",
            fontsize=9,
        )
    for ax in axes[count:]:
        ax.set_visible(False)
    handles = [
        Line2D([], [], marker="s", linestyle="", color=LOSS_COLOR, label="loss verified"),
        Line2D([], [], marker="o", linestyle="", color=CE_COLOR, label="reference"),
        Line2D([], [], linestyle=":", color="#555555", label="mean"),
    ]
    fig.legend(handles=handles, loc="lower center", ncol=3, fontsize=8, frameon=False)
    loss = textwrap.shorten(result.loss, width=int(11 * width) - 10, placeholder=" ...")
    references = ", ".join(dict.fromkeys(display_name(c.against) for c in result.comparisons))
    fig.suptitle(
        f"loss = {loss}\nagainst {references}: {result.model}, {result.epochs} epoch(s), "
        f"{len(result.seeds)} seeds, training split {result.train_split.describe()}",
        fontsize=9,
    )
    fig.tight_layout(rect=(0, 0.07 / rows, 1, 1))
    fig.savefig(path)
    return path


def verification_table(result: VerifyResult) -> Table:
    """Per comparison: both means +- standard deviations, the paired difference, its
    interval, the Holm-corrected p value and the verdict."""
    headers = ("dataset", "loss", "test acc", "against", "test acc", "difference", "95 % CI",
               "Holm p", "verdict")  # fmt: skip
    rows = []
    for c, p, verdict in zip(result.comparisons, result.adjusted_p_values, result.verdicts(),
                             strict=True):  # fmt: skip
        failed = []
        if c.loss_failed:
            failed.append(f"loss failed on {c.loss_failed} seed(s)")
        if c.against_failed:
            failed.append(f"{display_name(c.against)} failed on {c.against_failed} seed(s)")
        rate = f" (lr {c.loss_learning_rate:g})" if c.loss_learning_rate is not None else ""
        other = f" (lr {c.against_learning_rate:g})" if c.against_learning_rate is not None else ""
        rows.append(
            (
                c.dataset,
                code(c.loss) + rate,
                f"{fmt(c.loss_mean)} ± {fmt(c.loss_std)}",
                display_name(c.against) + other,
                f"{fmt(c.against_mean)} ± {fmt(c.against_std)}",
                fmt_signed(c.difference.mean),
                interval(c),
                DASH if finite(p) is None else f"{p:.3g}",
                "; ".join([verdict, *failed]),
            )
        )
    return Table(headers, tuple(rows))


def sweep_table(result: VerifyResult) -> Table | None:
    """Mean validation / test accuracy of each loss at each learning rate tried."""
    if not result.sweeps:
        return None
    rates = result.sweeps[0].learning_rates
    headers = ("dataset", "loss", *(f"lr {r:g}: val / test" for r in rates), "chosen")
    rows = tuple(
        (
            s.dataset, code(s.loss),
            *(f"{fmt(v)} / {fmt(t)}" for v, t in zip(s.val_means, s.test_means, strict=True)),
            f"{s.chosen:g}",
        )
        for s in result.sweeps
    )  # fmt: skip
    return Table(headers, rows)


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
    references = ", ".join(dict.fromkeys(display_name(c.against) for c in result.comparisons))
    rates = (
        f" Each at the learning rate of its best mean validation accuracy among "
        f"{', '.join(f'{r:g}' for r in result.sweeps[0].learning_rates)} (below)."
        if result.sweeps else ""
    )  # fmt: skip
    lines += [
        f"{code(result.loss)} ({result.origin}) and {references} trained again from scratch "
        f"on {len(result.seeds)} seeds the search did not use "
        f"({', '.join(map(str, result.seeds))}; data order, split and training-split "
        f"transform: seed {result.data_seed}), with {result.model} for {result.epochs} "
        f"epoch(s), training split {result.train_split.describe()}.{rates} Test accuracy, "
        "mean ± standard deviation over the seeds; the difference is the mean paired "
        "difference (pairs share a seed) with its 95 % paired-t interval; the verdict reads "
        "the two-sided paired-t p value Holm-corrected over all the comparisons shown: "
        "`better` or `worse` below 0.05, `no evidence` otherwise."
        + (f" Note: {'; '.join(notes)}." if notes else ""),
        "",
        verification_table(result).markdown(),
        "",
    ]
    sweep = sweep_table(result)
    if sweep is not None:
        lines += [sweep.markdown(), ""]
    lines.append(f"![test accuracy per seed]({VERIFY_PNG})")
    return lines
