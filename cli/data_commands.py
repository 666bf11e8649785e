"""The `jaxgp data` commands: list the known datasets and prepare tfds ones."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from jaxgp.cli.main import app

data_app = typer.Typer(help="List and prepare datasets.", no_args_is_help=True)
app.add_typer(data_app, name="data")

DataDirOption = Annotated[
    str | None,
    typer.Option(
        "--data-dir",
        help="tensorflow-datasets directory (default: $TFDS_DATA_DIR, else ~/tensorflow_datasets).",
        show_default=False,
    ),
]


@data_app.command("list")
def list_command(data_dir: DataDirOption = None) -> None:
    """Show every known dataset, its shape and classes, and whether it is ready here."""
    from jaxgp.data import dataset_statuses, resolve_data_dir

    table = Table(title=f"datasets (data dir: {resolve_data_dir(data_dir)})")
    for column in ("name", "shape", "classes", "source", "ready"):
        table.add_column(column)
    for row in dataset_statuses(data_dir):
        shape = "x".join(str(size) for size in row.image_shape)
        ready = "yes" if row.ready else f"no ({row.detail})"
        table.add_row(row.name, shape, str(row.num_classes), row.source, ready)
    console = Console()
    console.print(table)
    console.print(
        "synthetic variants: synthetic:<dataset> (e.g. synthetic:cifar100) or synthetic:HxWxC:K"
    )


@data_app.command("prepare")
def prepare_command(
    name: Annotated[str, typer.Argument(help="dataset name, e.g. cifar10")],
    data_dir: DataDirOption = None,
) -> None:
    """Download and prepare a tfds dataset (needs TensorFlow: pip install 'jaxgp[tf]')."""
    from jaxgp.data import prepare_dataset

    typer.echo(prepare_dataset(name, data_dir))
