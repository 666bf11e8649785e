"""`write_report`: `report.md` and its PNG figures for one run directory."""

from __future__ import annotations

import os
from pathlib import Path

from jaxgp.errors import ConfigError
from jaxgp.report import figures, tables, timing, verification
from jaxgp.report.run_data import RunData, load_run
from jaxgp.search.rundir import make_directory

FITNESS_PNG = "fitness.png"
BEST_PNG = "best.png"
REPORT_MD = "report.md"

MISSING_HISTORY = (
    "Not available: this run directory stores only the final validation and test loss and "
    "accuracy of each model (in `ledger.jsonl` and `baselines.json`), not the per-epoch "
    "history the trainer computes (`CandidateResult.history`), so the validation-accuracy "
    "curves of the best losses against CE cannot be drawn. The final accuracies are in the "
    "accuracy table above."
)


def _settings_line(run: RunData) -> str:
    search, train = run.settings.search, run.settings.train
    parts = [
        f"`jaxgp {run.command}`",
        f"scale {run.settings.scale}",
        f"P={search.population}, T={search.generations}",
    ]
    if "tournament" in run.algorithms:
        parts.append(f"tournament G={search.G}, N={search.N}")
    parts += [
        f"model {train.model}, {train.epochs} epoch(s)",
        f"datasets {', '.join(run.datasets)}",
        f"language {run.settings.language}",
        f"fitness {run.metric}",
        f"early stop {run.settings.early_stop}",
        f"training split {run.settings.train_split.describe()}",
        f"confirmation seeds {run.settings.confirm_seeds}",
        *(
            [f"fitness seeds {run.settings.fitness_seeds}"]
            if run.settings.fitness_seeds > 1
            else []
        ),
        f"seed {run.settings.seed}",
    ]
    return "; ".join(parts)


def _confirmation_lines(run: RunData) -> list[str]:
    """The confirmed best and every confirmed candidate, when the run confirmed."""
    confirmation = run.summary.confirmation if run.summary is not None else None
    if confirmation is None:
        return []
    seeds = ", ".join(map(str, confirmation.seeds))
    lines = [
        "",
        f"## Confirmed on {len(confirmation.seeds)} more seeds",
        "",
        f"The best fully trained losses of the final population(s) and CE, trained again with "
        f"model seeds {seeds} (the run's data, split and batch order). The confirmed best is "
        f"ranked by the run's fitness on the seed-averaged validation {confirmation.metric}; "
        "test accuracy takes no part in the choice and is shown against CE's, paired by seed "
        "(95 % paired-t interval, not corrected for the candidates compared).",
        "",
    ]
    lines += confirmation.describe_best()[:1]
    rows = []
    ce = confirmation.ce.mean()
    for candidate in confirmation.candidates:
        fitness = confirmation.fitness(candidate)
        for name in confirmation.ce.scores:
            d = confirmation.test_difference(candidate, name)
            mean = candidate.mean()[name]
            rows.append((
                tables.code(candidate.expression), ", ".join(candidate.algorithms), name,
                tables.fmt(mean.val_accuracy), tables.fmt(ce[name].val_accuracy),
                tables.fmt(mean.test_accuracy), f"{d.mean:+.4f} [{d.low:+.4f}, {d.high:+.4f}]",
                d.verdict, tables.fmt_percent(fitness.average_improvement),
            ))  # fmt: skip
    headers = ("loss", "from", "dataset", "val acc", "CE val acc", "test acc",
               "test - CE [95 % CI]", "verdict", "average improvement")  # fmt: skip
    lines += ["", tables.Table(headers, tuple(rows)).markdown()]
    return lines


def _status_line(run: RunData) -> str:
    counts = run.counts()
    if run.finished:
        resumed = " (resumed)" if run.summary and run.summary.resumed else ""
        return f"finished{resumed}: {counts['evaluations']} evaluations in the ledger."
    done = ", ".join(
        f"{algorithm} {run.generations_done(algorithm)}/{run.generations}"
        for algorithm in run.algorithms
    )
    return (
        f"**in progress** (no `summary.json` yet): {counts['evaluations']} evaluations in "
        f"the ledger so far; generations ended: {done}. Wall times and compilation counts "
        "are written at the end of the run."
    )


def _time_text(run: RunData) -> str:
    if not {"ngl", "tournament"} <= set(run.algorithms):
        return ""
    change = timing.time_reduction(run)
    lines = []
    if change["wall"] is not None:
        lines.append(
            "The tournament's change against NGL (negative: it took less time), in two "
            "accountings. jaxgp's `compare` evaluates the shared initial population once and "
            "times each algorithm without it; the thesis's Algorithm 2 times each algorithm "
            "including its own evaluation of the initial population, so the thesis's "
            "accounting adds the initial population's time to both. The thesis's Table 4.4 "
            "(-64.0 % at the small scale, -57.9 % at the large one) compares with the "
            f"thesis-accounting change: {tables.fmt_percent(change['thesis_wall'])} here "
            f"({tables.fmt_percent(change['thesis_wall_excluding_compilation'])} excluding "
            "compilation)."
        )
        lines.append(timing.accountings(run).markdown())
    else:
        lines.append("The wall-time comparison is available when the run has finished.")
    lines.append(
        f"Summed training time in the ledger: {tables.fmt_percent(change['training'])}; "
        f"expected evaluations (T*N against T*P): "
        f"{tables.fmt_percent(change['expected_evaluations'])}."
    )
    return "\n\n".join(lines)


def _compile_text(run: RunData) -> str:
    if run.summary is None:
        return "XLA compilation counts are recorded in `summary.json` at the end of the run."
    s = run.summary
    return (
        f"XLA compilations: {s.compilations if s.compilations is not None else '?'} in the "
        f"whole run ({tables.fmt_seconds(s.compile_seconds)} s), including the CE baselines."
    )


def render(run: RunData, out: Path) -> str:
    """Draw the figures into `out` and return the Markdown text of the report."""
    md: list[str] = [f"# jaxgp report: {run.path.name}", ""]
    md += [f"Run directory: `{run.path}`", "", _settings_line(run) + ".", "", _status_line(run)]
    best = run.best_overall()
    if best is not None:
        name, record = best
        confirmed = " (confirmed on more seeds, below)" if run.confirmed_best() else ""
        md += [
            "",
            f"**Best loss** ({name}{confirmed}): `{record.expression}`: "
            f"{record.wins} win(s) against CE, average improvement "
            f"{tables.fmt_improvement(record)} ({run.metric}).",
        ]
    md += ["", "## Best loss of each algorithm", "", tables.best_losses(run).markdown()]
    md += [
        "",
        "## Accuracy of the best losses against CE (thesis Tables 4.2 and 4.3)",
        "",
        "Validation and test accuracy of each algorithm's best loss, trained with the run's "
        "recipe, next to cross-entropy's.",
        "",
        tables.accuracy(run).markdown(),
    ]
    md += _confirmation_lines(run)
    md += verification.section(run, out)
    md += [
        "",
        "## Execution time (thesis Table 4.4)",
        "",
        timing.execution_time(run).markdown(),
    ]
    text = _time_text(run)
    if text:
        md += ["", text]
    if run.summary is not None and run.summary.timing:
        md += ["", f"How the phases are timed: {run.summary.timing}"]
    md += [
        "",
        "## Evaluations, cache hits, failed candidates, compilations",
        "",
        "From the ledger (one line per evaluation). `expected` is what a finished run has: "
        "P for the initial population, T*N children for the tournament, T*P for NGL. A cache "
        "hit is a tree already trained under the same settings, not trained again; a failed "
        "candidate's loss or gradients turned non-finite.",
        "",
        tables.evaluations(run).markdown(),
        "",
        _compile_text(run),
    ]
    figures.fitness_figure(run, out / FITNESS_PNG)
    md += [
        "",
        "## Fitness of every individual per generation (thesis Figures 4.1 to 4.4)",
        "",
        f"![fitness per generation]({FITNESS_PNG})",
        "",
        "Each point is one individual of the population after a generation (generation 0: "
        "the initial population"
        + (", shared by both algorithms" if len(run.algorithms) > 1 else "")
        + "). Top: average improvement against CE; bottom: wins. Individuals are ranked by "
        "wins first, so a population's best can have a lower average improvement than "
        "another individual with fewer wins."
        + (" Algorithms are offset slightly along x." if len(run.algorithms) > 1 else "")
        + (
            " Hollow points are individuals stopped early (their training ended at a rung "
            "where they were far behind CE): they rank below every individual that trained "
            "fully, by their improvement over CE at the epoch they stopped."
            if run.settings.early_stop != "none"
            else ""
        ),
    ]
    figures.best_figure(run, out / BEST_PNG)
    md += [
        "",
        "## Best individual per generation (thesis Figures 4.5 and 4.6)",
        "",
        f"![best per generation]({BEST_PNG})",
        "",
        tables.best_per_generation(run).markdown(),
    ]
    md += ["", "## Validation accuracy per epoch: best losses against CE", ""]
    drawn = []
    if run.has_history:
        for dataset in run.datasets:
            name = f"history_{dataset.replace(':', '_').replace('/', '_')}.png"
            if figures.history_figure(run, dataset, out / name) is not None:
                drawn.append(f"![validation accuracy per epoch on {dataset}]({name})")
    md += drawn or [MISSING_HISTORY]
    md += ["", "## Best distinct losses in the ledger", "", tables.top_losses(run).markdown()]
    if run.warnings:
        md += ["", "## Notes", "", *(f"- {warning}" for warning in run.warnings)]
    md += ["", "_Written by `jaxgp report`._", ""]
    return "\n".join(md)


def write_report(run_dir: str | Path, out: str | Path | None = None) -> Path:
    """Write `report.md` and the figures for the run in `run_dir` into `out` (default
    `run_dir/report`); returns the path of `report.md`. Raises `ConfigError` when `run_dir`
    is not a run directory or its ledger is empty."""
    run = load_run(run_dir)
    target = Path(out) if out is not None else run.path / "report"
    if os.path.exists(target) and not os.path.isdir(target):
        raise ConfigError(f"--out {target} exists and is not a directory")
    make_directory(target)
    text = render(run, target)
    path = target / REPORT_MD
    path.write_text(text, encoding="utf-8")
    return path
