"""`jaxgp evolve` and `jaxgp compare`: thin commands over `jaxgp.search.run_search`.

Options left out come from the scale (`--scale`, default tiny), or, with `--resume DIR`, from
the run's stored configuration. Progress goes to stderr (rich bars per generation and per
candidate batch, and a live line with the best expression); the results table to stdout.
Ctrl-C stops cleanly and prints the command that resumes the run; `--resume` of a finished
run says so, prints its summary and exits 0 without writing anything.
"""

from __future__ import annotations

import inspect
import os
from collections.abc import Callable
from typing import Annotated, Any, get_type_hints

import typer
from rich.console import Console

from jaxgp.cli.config_file import configurable
from jaxgp.cli.main import app
from jaxgp.cli.options import (
    Imbalance,
    LabelNoise,
    NoiseKind,
    Quiet,
    TrainFraction,
    loaded_from_cache,
    split_names,
)
from jaxgp.display import improvement, progress_for
from jaxgp.distributed import is_writer
from jaxgp.errors import RunFinished
from jaxgp.search.options import RunOptions
from jaxgp.search.records import Summary
from jaxgp.search.rundir import CONFIG

Scale = Annotated[
    str | None, typer.Option("--scale", help="tiny | tiny-lt | small | large (default tiny)")
]
Population = Annotated[int | None, typer.Option("--population", "-P", help="population P")]
Generations = Annotated[int | None, typer.Option("--generations", "-T", help="generations T")]
SampleSize = Annotated[int | None, typer.Option("--sample-size", help="tournament sample G")]
TopN = Annotated[int | None, typer.Option("--top-n", help="tournament top N")]
Epochs = Annotated[int | None, typer.Option("--epochs", help="training epochs per candidate")]
Data = Annotated[str | None, typer.Option("--data", help="dataset(s), comma-separated")]
Model = Annotated[str | None, typer.Option("--model", help="small_cnn | inception_v3")]
Fitness = Annotated[str | None, typer.Option("--fitness", help="accuracy (default) | loss")]
Seed = Annotated[int | None, typer.Option("--seed", help="random seed (default 0)")]
Out = Annotated[str | None, typer.Option("--out", help="run directory (default runs/<time>)")]
Resume = Annotated[str | None, typer.Option("--resume", help="continue the run in DIR")]
Force = Annotated[bool, typer.Option("--force", help="resume even if the settings changed")]
DataDir = Annotated[str | None, typer.Option("--data-dir", help="tensorflow-datasets dir")]
PerBatch = Annotated[
    str | None, typer.Option("--candidates-per-batch", help="auto | K candidates trained at once")
]
Screen = Annotated[
    str | None,
    typer.Option(
        "--screen",
        help="thesis (the thesis's filter alone) | learnable (and the learnability screen); "
        "default: the scale's",
    ),
]
EarlyStop = Annotated[
    str | None,
    typer.Option(
        "--early-stop",
        help="baseline (default: stop a candidate at epoch 2, 4, 8.. when it is 40% (epoch 2) "
        "or 20% behind CE at that epoch) | none (train every candidate fully, as the thesis)",
    ),
]


LearningRate = Annotated[
    float | None,
    typer.Option("--learning-rate", help="Adam's initial learning rate (default: the scale's)"),
]
Language = Annotated[
    str | None,
    typer.Option(
        "--language",
        help="thesis (y_pred, y_true, constants, the ten operators: the thesis and NGL) | "
        "priors (also the class priors `prior` and the class sum `csum`); default: the "
        "scale's (priors for tiny-lt, else thesis)",
    ),
]
FitnessSeeds = Annotated[
    int | None,
    typer.Option(
        "--fitness-seeds",
        help="train every candidate and CE with this many model seeds and compare their "
        "means (1: one training, as the thesis; default: the scale's)",
    ),
]
Track = Annotated[
    list[str] | None,
    typer.Option(
        "--track",
        help="log the run live: tensorboard (event files in RUN/tensorboard/) | mlflow "
        "(a SQLite store beside the runs) | mlflow=URI | none; repeat for several. A resume "
        "continues the trackers of the run (pip install 'jaxgp[track]')",
    ),
]
ConfirmSeeds = Annotated[
    int | None,
    typer.Option(
        "--confirm-seeds",
        help="train the best 3 of the final population and CE again on this many seeds before "
        "naming the best (0: none; default: the scale's)",
    ),
]


def _epochs(summary: Summary) -> str:
    trained, saved = summary.candidate_epochs_trained, summary.candidate_epochs_saved
    if trained is None or saved is None:
        return ""
    return f"{trained} candidate-epochs trained ({saved} saved by early stopping), "


def _print_summary(summary: Summary) -> None:
    console = Console(soft_wrap=True)
    metric = summary.metric
    initial = summary.initial.evaluations or 0
    for name, row in summary.algorithms.items():
        best = row.best
        console.print(f"[bold]{name}[/]: best [cyan]{best.expression}[/]")
        console.print(
            f"  wins {best.wins}, average improvement {improvement(best.average_improvement)}"
            f" ({metric}); evaluations {row.evaluations} (+{initial} initial): trained "
            f"{row.trained}, stopped early {row.stopped or 0}, cached {row.cached}, failed "
            f"{row.failed}, replayed {row.replayed}; {row.wall_seconds:.1f} s, "
            f"{row.compilations} compilations"
        )
        for dataset, scores in best.scores.items():
            ce = summary.baselines[dataset]
            console.print(
                f"  {dataset}: val acc {scores.val_accuracy:.4f} (CE {ce.val_accuracy:.4f})"
                f", val loss {scores.val_loss:.4g} (CE {ce.val_loss:.4g}), test acc "
                f"{scores.test_accuracy:.4f} (CE {ce.test_accuracy:.4f})"
            )
    console.print(
        f"best overall ({summary.best_algorithm}): {summary.best.expression}\n"
        f"{summary.evaluations} evaluations, {summary.cache_hits} cache hits, "
        f"{_epochs(summary)}"
        f"{summary.compilations} XLA compilations ({summary.compile_seconds:.1f} s"
        f"{loaded_from_cache(summary.compilation_cache_hits or 0)}), "
        f"{summary.wall_seconds:.1f} s; summary: {summary.run_dir}/summary.json"
    )
    if summary.command == "compare":
        console.print(f"timing: {summary.timing}")
    if summary.confirmation is not None:
        for line in summary.confirmation.describe_best():
            console.print(line, markup=False)


def _run(command: str, options: RunOptions, quiet: bool = False) -> None:
    from jaxgp.search.session import run_search

    console = Console(stderr=True, soft_wrap=True)
    started: list = []

    def watch(run, settings, resumed: bool):
        started.append(run.path)
        if quiet:
            return progress_for(console, quiet=True)
        console.print(
            f"{'resuming' if resumed else 'starting'} {command} in {run.path}: scale "
            f"{settings.scale}, P={settings.search.population} T={settings.search.generations}"
            f" epochs={settings.train.epochs} data={','.join(settings.datasets)}"
            f" model={settings.train.model} fitness={settings.metric} seed={settings.seed}"
            f" language={settings.language}"
            f" screen={settings.search.tree.screen} early-stop={settings.early_stop}"
            f" lr={settings.train.learning_rate:g} confirm-seeds={settings.confirm_seeds}"
            f" fitness-seeds={settings.fitness_seeds}"
            f" training split: {settings.train_split.describe()}",
            markup=False,
            highlight=False,
        )
        return progress_for(console)

    try:
        summary = run_search(command, options, watch=watch)
    except RunFinished as finished:  # nothing run, nothing written
        if is_writer():
            console.print(str(finished), markup=False, highlight=False)
            if isinstance(finished.summary, Summary):
                _print_summary(finished.summary)
        raise typer.Exit(0) from None
    except KeyboardInterrupt:
        if not is_writer():  # another process of a search over several: process 0 says it
            raise typer.Exit(130) from None
        if not started or not os.path.exists(started[0] / CONFIG):  # an unrecorded start: undone
            console.print("\ninterrupted before the run started: nothing was written")
        else:
            console.print(
                f"\ninterrupted: every finished evaluation is in {started[0]}/ledger.jsonl.\n"
                f"resume with: jaxgp {command} --resume {started[0]}"
            )
        raise typer.Exit(130) from None
    if is_writer():
        _print_summary(summary)


def _options(
    algorithm: Annotated[
        str | None, typer.Option("--algorithm", help="tournament (default) | ngl")
    ] = None,
    scale: Scale = None,
    population: Population = None,
    generations: Generations = None,
    sample_size: SampleSize = None,
    top_n: TopN = None,
    epochs: Epochs = None,
    data: Data = None,
    model: Model = None,
    fitness: Fitness = None,
    seed: Seed = None,
    out: Out = None,
    resume: Resume = None,
    force: Force = False,
    data_dir: DataDir = None,
    candidates_per_batch: PerBatch = None,
    screen: Screen = None,
    early_stop: EarlyStop = None,
    imbalance: Imbalance = None,
    label_noise: LabelNoise = None,
    noise_kind: NoiseKind = None,
    train_fraction: TrainFraction = None,
    confirm_seeds: ConfirmSeeds = None,
    learning_rate: LearningRate = None,
    language: Language = None,
    fitness_seeds: FitnessSeeds = None,
    track: Track = None,
) -> RunOptions:
    """The options of both search commands (`compare` has no `--algorithm`), as one value."""
    given = dict(locals())
    data, track = given.pop("data"), given.pop("track")
    return RunOptions(
        **given,
        datasets=tuple(split_names(data)) if data is not None else None,
        track=tuple(track) if track is not None else None,
    )


def _display_options(quiet: Quiet = False) -> None:
    """The options of both search commands that change what is shown, not what is run."""


def _signature(function: Callable, without: tuple[str, ...] = ()) -> list[inspect.Parameter]:
    hints = get_type_hints(function, include_extras=True)
    return [
        parameter.replace(annotation=hints[name])
        for name, parameter in inspect.signature(function).parameters.items()
        if name not in without
    ]


def _search_command(command: str, doc: str, without: tuple[str, ...] = ()) -> Callable:
    """A command taking `_options`'s parameters (less `without`) and the display options,
    and running `command`."""
    parameters = _signature(_options, without) + _signature(_display_options)

    def search_command(quiet: bool = False, **given: Any) -> None:
        _run(command, _options(**given), quiet=quiet)

    search_command.__signature__ = inspect.Signature(parameters)  # what Typer reads
    search_command.__doc__ = doc
    search_command.__name__ = command

    def effective(values: dict) -> dict:
        return _effective(command, values)

    return configurable(search_command, effective=effective, template=run_template)


_OPTION_NAMES = tuple(inspect.signature(_options).parameters)


def _values(options: RunOptions) -> dict:
    """`options` as the values of `_options`'s parameters."""
    values = {name: getattr(options, name, None) for name in _OPTION_NAMES}
    values["data"] = list(options.datasets) if options.datasets is not None else None
    values["track"] = list(options.track) if options.track is not None else None
    return values


def run_template(settings: dict) -> dict:
    """The options an earlier run's settings give (never its directory)."""
    from jaxgp.search.run_settings import RunSettings, options_of

    return _values(options_of(RunSettings.from_dict(settings)))


def _effective(command: str, values: dict) -> dict:
    """The options `values` run with, each setting resolved (from the scale, or from the run
    resumed), and the run's directory where one was given."""
    from jaxgp.search.run_settings import RunSettings, build_settings, options_of
    from jaxgp.search.rundir import RunDir

    options = _options(**{name: values[name] for name in _OPTION_NAMES if name in values})
    base = None
    if options.resume is not None:
        base = RunSettings.from_dict(RunDir.existing(options.resume).read_config())
    settings = build_settings(command, options, base=base)
    return {**_values(options_of(settings)), "out": options.out, "resume": options.resume,
            "force": options.force, "track": _values(options)["track"]}  # fmt: skip


app.command("evolve")(
    _search_command(
        "evolve", "Evolve a loss function with one GP algorithm (thesis Algorithm 1 by default)."
    )
)
app.command("compare")(
    _search_command(
        "compare",
        "Thesis Algorithm 2: NGL GP and the sample tournament from one initial population, timed.",
        without=("algorithm",),
    )
)
