"""`jaxgp verify`: train a found loss and CE again on new seeds and compare them."""

from __future__ import annotations

from typing import Annotated

import typer

from jaxgp.cli.main import app
from jaxgp.cli.options import split_names
from jaxgp.cli.progress import training_progress


@app.command("verify")
def verify(
    target: Annotated[
        str, typer.Argument(help="a run directory (its best loss), a named loss or an expression")
    ],
    seeds: Annotated[int, typer.Option(help="New seeds per dataset (at least 2).")] = 5,
    data: Annotated[
        str | None, typer.Option(help="Dataset name(s), comma-separated (default: the run's).")
    ] = None,
    epochs: Annotated[int | None, typer.Option(help="Default: the run's.")] = None,
    model: Annotated[str | None, typer.Option(help="Default: the run's.")] = None,
    data_dir: Annotated[str | None, typer.Option(help="tensorflow-datasets directory.")] = None,
    out: Annotated[
        str | None,
        typer.Option(help="Write verify.json and verify.png here (default: the run directory)."),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print machine-readable JSON.")] = False,
) -> None:
    """Train the loss and CE from scratch on seeds the search did not use; compare test
    accuracy seed by seed (mean, standard deviation, paired 95 % interval, verdict).

    Without overrides a run directory's best loss is trained with the run's recipe, and a
    loss given as text with the tiny scale's (small_cnn, 1 epoch, digits).
    """
    from jaxgp.search.rundir import dumps
    from jaxgp.verify import (
        check_directory,
        plan_verification,
        run_verification,
        write_verification,
    )

    datasets = split_names(data) if data is not None else None
    if out is not None:
        check_directory(out)
    plan = plan_verification(
        target, seeds=seeds, datasets=datasets, epochs=epochs, model=model, data_dir=data_dir
    )
    with training_progress(label="verify: ") as progress:
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


def _print_tables(result) -> None:
    from rich.console import Console
    from rich.table import Table

    from jaxgp.report.verification import fmt_signed, interval

    console = Console()
    console.print(f"{result.loss}: {result.origin}", markup=False)
    console.print(
        f"{result.model}, {result.epochs} epoch(s); model seeds {', '.join(map(str, result.seeds))}"
        f" (the search used {result.search_seed}); data order and split: seed {result.data_seed}"
    )
    for dataset in result.datasets:
        d = dataset.difference
        table = Table(title=f"{dataset.dataset}: test accuracy per seed")
        table.add_column("")
        for seed in result.seeds:
            table.add_column(str(seed), justify="right")
        table.add_column("mean", justify="right")
        table.add_column("sd", justify="right")
        pairs = zip(dataset.loss_accuracy, dataset.ce_accuracy, strict=True)
        rows = [
            ("loss", dataset.loss_accuracy, dataset.loss_mean, dataset.loss_std),
            ("CE", dataset.ce_accuracy, dataset.ce_mean, dataset.ce_std),
            ("loss-CE", [loss - ce for loss, ce in pairs], d.mean, d.std),
        ]
        for name, values, mean, std in rows:
            table.add_row(name, *(f"{v:.4f}" for v in values), f"{mean:.4f}", f"{std:.4f}")
        console.print(table)
        console.print(
            f"{dataset.dataset}: loss - CE {fmt_signed(d.mean)}, 95 % CI {interval(dataset)}: "
            f"[bold]{d.verdict}[/]"
        )
        failed = dataset.loss_failed + dataset.ce_failed
        if failed:
            console.print(
                f"failed (non-finite loss or gradients): loss {dataset.loss_failed}, "
                f"CE {dataset.ce_failed} of {len(result.seeds)}"
            )
    console.print(f"{result.seconds:.1f} s loading data and training")
