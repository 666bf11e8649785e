"""The `jaxgp data` commands: list the known datasets and prepare tfds ones."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from jaxgp.cli.main import app
from jaxgp.cli.options import Imbalance, LabelNoise, NoiseKind, TrainFraction, train_split

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


@data_app.command("show")
def show_command(
    name: Annotated[str, typer.Argument(help="dataset name, e.g. digits or cifar10")],
    seed: Annotated[int, typer.Option(help="the run seed (split and transform)")] = 0,
    imbalance: Imbalance = None,
    label_noise: LabelNoise = None,
    noise_kind: NoiseKind = None,
    train_fraction: TrainFraction = None,
    data_dir: DataDirOption = None,
) -> None:
    """Images per class of each split, and of the training split after a transform."""
    import numpy as np

    from jaxgp.data import class_counts, load_dataset
    from jaxgp.data.train_split import label_counts
    from jaxgp.limits import check_seed

    check_seed(seed, "--seed")
    split = train_split(imbalance, label_noise, noise_kind, train_fraction)
    dataset = load_dataset(name, data_dir=data_dir, seed=seed)
    classes = dataset.num_classes
    table = Table(title=f"{dataset.name}: images per class (seed {seed})")
    table.add_column("split")
    shown = classes <= 20
    for c in range(classes) if shown else ():
        table.add_column(str(c), justify="right")
    table.add_column("total", justify="right")

    def row(label: str, counts: list[int]) -> None:
        table.add_row(label, *([str(n) for n in counts] if shown else []), str(sum(counts)))

    row("train", class_counts(dataset.train, classes))
    changed = 0
    if not split.identity:
        keep, labels = split.select(dataset, seed)
        true = np.asarray(dataset.train.labels)[keep]
        row("train, changed", label_counts(true, classes))
        if split.label_noise:
            row("  by label", label_counts(labels, classes))
        changed = int(np.sum(labels != true))
    row("validation", class_counts(dataset.val, classes))
    row("test", class_counts(dataset.test, classes))
    console = Console()
    console.print(table)
    if not split.identity:
        console.print(
            f"training split changed: {split.describe()}"
            + (f"; {changed} of {len(keep)} labels made wrong" if split.label_noise else "")
            + ". Validation and test are never changed; a run's CE baseline and its candidates "
            "all train on the changed split.",
            markup=False,
        )


@data_app.command("prepare")
def prepare_command(
    name: Annotated[str, typer.Argument(help="dataset name, e.g. cifar10")],
    data_dir: DataDirOption = None,
) -> None:
    """Download and prepare a tfds dataset (needs TensorFlow: pip install 'jaxgp[tf]')."""
    from jaxgp.data import prepare_dataset

    typer.echo(prepare_dataset(name, data_dir))
