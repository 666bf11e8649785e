"""`jaxgp verify`: train found losses and their references again on new seeds and compare."""

from __future__ import annotations

from typing import Annotated

import typer

from jaxgp.cli.config_file import configurable
from jaxgp.cli.evolve_commands import run_template
from jaxgp.cli.main import app
from jaxgp.cli.options import (
    Imbalance,
    LabelNoise,
    NoiseKind,
    Quiet,
    TrainFraction,
    split_names,
    train_split,
    train_split_options,
)
from jaxgp.cli.progress import training_progress
from jaxgp.errors import ConfigError


def _rates(text: str) -> list[float]:
    try:
        return [float(value) for value in split_names(text)]
    except ValueError:
        raise ConfigError(
            f"--learning-rates takes comma-separated numbers (e.g. 3e-4,1e-3,3e-3), got {text!r}"
        ) from None


def verify(
    targets: Annotated[
        list[str],
        typer.Argument(
            help="a run directory (its best loss), or one or more named losses or expressions"
        ),
    ],
    seeds: Annotated[int, typer.Option(help="New seeds per dataset (at least 2).")] = 5,
    against: Annotated[
        str,
        typer.Option(
            help="Losses to compare with, comma-separated (e.g. ce,cb,la,ngl,focal); the verdicts "
            "are Holm-corrected over every comparison."
        ),
    ] = "ce",
    learning_rates: Annotated[
        str | None,
        typer.Option(
            "--learning-rates",
            help="Train every loss at each rate (e.g. 3e-4,1e-3,3e-3) and compare each at its "
            "best validation rate (default: the recipe's rate only).",
        ),
    ] = None,
    data: Annotated[
        str | None, typer.Option(help="Dataset name(s), comma-separated (default: the run's).")
    ] = None,
    epochs: Annotated[int | None, typer.Option(help="Default: the run's.")] = None,
    model: Annotated[str | None, typer.Option(help="Default: the run's.")] = None,
    data_dir: Annotated[str | None, typer.Option(help="tensorflow-datasets directory.")] = None,
    imbalance: Imbalance = None,
    label_noise: LabelNoise = None,
    noise_kind: NoiseKind = None,
    train_fraction: TrainFraction = None,
    out: Annotated[
        str | None,
        typer.Option(help="Write verify.json and verify.png here (default: the run directory)."),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print machine-readable JSON.")] = False,
    quiet: Quiet = False,
) -> None:
    """Train the loss(es) and their references from scratch on seeds the search did not use;
    compare test accuracy seed by seed (mean, standard deviation, paired 95 % interval,
    Holm-corrected verdict).

    Without overrides a run directory's best loss is trained with the run's recipe and
    training split, and a loss given as text with the tiny scale's (small_cnn, 10 epochs,
    digits).
    """
    from jaxgp.search.rundir import dumps, make_directory
    from jaxgp.verify import (
        check_directory,
        plan_verification,
        run_verification,
        write_verification,
    )

    datasets = split_names(data) if data is not None else None
    if out is not None:  # made now: one that cannot be made stops us before any training
        make_directory(check_directory(out))
    given = train_split_options(imbalance, label_noise, noise_kind, train_fraction)
    plan = plan_verification(
        targets, seeds=seeds, datasets=datasets, epochs=epochs, model=model, data_dir=data_dir,
        against=split_names(against),
        learning_rates=_rates(learning_rates) if learning_rates is not None else None,
        train_split=(
            train_split(imbalance, label_noise, noise_kind, train_fraction) if given else None
        ),
    )  # fmt: skip
    with training_progress(label="verify: ", quiet=quiet) as progress:
        result = run_verification(plan, progress=progress)
    written = None
    directory = out if out is not None else result.run_dir
    if directory is not None:
        written = write_verification(result, directory)
    if as_json:
        typer.echo(dumps(result.to_dict(), indent=2))
    else:
        _print_tables(result)
    if written is not None:
        typer.echo(f"wrote {written[0]} and {written[1]}", err=as_json)


def _as_given(values: dict) -> dict:
    """What `verify --print-config` prints: the options as given (the file's included); one
    left out takes the run's recipe, or the tiny scale's for a loss given as text."""
    return values


app.command("verify")(configurable(verify, effective=_as_given, template=run_template))


def _print_tables(result) -> None:
    from rich.console import Console
    from rich.table import Table

    from jaxgp.report.verification import display_name, fmt_signed, interval, sweep_table

    console = Console()
    console.print(f"{', '.join(result.losses)}: {result.origin}", markup=False)
    console.print(
        f"{result.model}, {result.epochs} epoch(s), training split "
        f"{result.train_split.describe()}; model seeds {', '.join(map(str, result.seeds))}"
        f" (the search used {result.search_seed}); data order, split and transform: seed "
        f"{result.data_seed}",
        markup=False,
    )
    verdicts = result.verdicts()
    adjusted = result.adjusted_p_values
    for name in result.datasets:
        table = Table(title=f"{name}: test accuracy per seed")
        table.add_column("")
        for seed in result.seeds:
            table.add_column(str(seed), justify="right")
        table.add_column("mean", justify="right")
        table.add_column("sd", justify="right")
        here = [(i, c) for i, c in enumerate(result.comparisons) if c.dataset == name]
        shown = set()
        for _, c in here:
            for label, values, mean, std in (
                (c.loss, c.loss_accuracy, c.loss_mean, c.loss_std),
                (c.against, c.against_accuracy, c.against_mean, c.against_std),
            ):
                if label not in shown:
                    shown.add(label)
                    cells = [f"{v:.4f}" for v in values] + [f"{mean:.4f}", f"{std:.4f}"]
                    table.add_row(display_name(label), *cells)
        console.print(table)
        for i, c in here:
            console.print(
                f"{name}: {c.loss} - {display_name(c.against)} {fmt_signed(c.difference.mean)}, "
                f"95 % CI {interval(c)}, Holm p {adjusted[i]:.3g}: [bold]{verdicts[i]}[/]",
            )
            failed = c.loss_failed + c.against_failed
            if failed:
                console.print(
                    f"failed (non-finite loss or gradients): {c.loss_failed} and "
                    f"{c.against_failed} of {len(result.seeds)}"
                )
    sweep = sweep_table(result)
    if sweep is not None:
        console.print("learning rates (mean validation / test accuracy; each compared at "
                      "its chosen rate):")  # fmt: skip
        console.print(sweep.markdown(), markup=False)
    console.print(f"{result.seconds:.1f} s loading data and training")
