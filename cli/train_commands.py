"""`jaxgp train`: train one or more losses (batched) on one or more datasets."""

from __future__ import annotations

import json
from typing import Annotated

import typer

from jaxgp.cli.main import app
from jaxgp.cli.options import (
    Imbalance,
    LabelNoise,
    NoiseKind,
    Quiet,
    TrainFraction,
    loaded_from_cache,
    split_names,
    train_split,
)
from jaxgp.cli.progress import training_progress


@app.command()
def train(
    loss: Annotated[
        list[str],
        typer.Option(
            "--loss",
            help="A named loss (ce, ngl, fpl, mse, focal, cb, la) or an expression; repeat for "
            "several.",
        ),
    ],
    data: Annotated[str, typer.Option(help="Dataset name(s), comma-separated.")] = "digits",
    model: Annotated[str, typer.Option(help="inception_v3 or small_cnn.")] = "small_cnn",
    epochs: Annotated[int, typer.Option(min=1)] = 1,
    seed: Annotated[int, typer.Option()] = 0,
    batch_size: Annotated[int, typer.Option(min=1)] = 64,
    input_size: Annotated[
        int | None,
        typer.Option(
            help="inception_v3: resize inputs to this side (>= 75) instead of 8x upsampling."
        ),
    ] = None,
    dtype: Annotated[str, typer.Option(help="Compute dtype: float32 or bfloat16.")] = "float32",
    candidates: Annotated[
        str, typer.Option("--candidates-per-batch", help="K: 'auto' or a number.")
    ] = "auto",
    data_dir: Annotated[str | None, typer.Option(help="tensorflow-datasets directory.")] = None,
    imbalance: Imbalance = None,
    label_noise: LabelNoise = None,
    noise_kind: NoiseKind = None,
    train_fraction: TrainFraction = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print machine-readable JSON.")] = False,
    quiet: Quiet = False,
) -> None:
    """Train each LOSS from scratch on each dataset and print validation and test metrics."""
    from jaxgp.data import get_spec, load_dataset
    from jaxgp.data.train_split import class_priors
    from jaxgp.limits import check_epochs, check_seed
    from jaxgp.losses import resolve_loss
    from jaxgp.models.registry import build_model
    from jaxgp.train import TrainConfig, train_candidates

    check_seed(seed, "--seed")
    check_epochs(epochs)
    specs = [resolve_loss(text) for text in loss]
    split = train_split(imbalance, label_noise, noise_kind, train_fraction)
    names = split_names(data)
    for name in names:
        spec = get_spec(name)
        build_model(model, num_classes=spec.num_classes, input_shape=spec.image_shape,
                    input_size=input_size)  # fmt: skip
    config = TrainConfig(
        model=model, epochs=epochs, seed=seed, batch_size=batch_size, input_size=input_size,
        compute_dtype=dtype, candidates_per_batch=candidates,
    )  # fmt: skip
    reports, class_priors_of = {}, {}
    for name in names:
        dataset = load_dataset(name, data_dir=data_dir, seed=seed, train_split=split)
        class_priors_of[name] = class_priors(dataset.train.labels, dataset.num_classes)
        with training_progress(label=f"{name} ", quiet=quiet) as progress:
            reports[name] = train_candidates(specs, dataset, config, progress=progress)
    results = [result for report in reports.values() for result in report.results]
    if as_json:
        typer.echo(json.dumps([r.to_dict() for r in results], indent=2))
        return
    _print_table(results)
    typer.echo(f"training split: {split.describe()}; validation and test: as loaded")
    if any(spec.tree is not None and "prior" in spec.tree.nodes for spec in specs):
        for name, prior in class_priors_of.items():
            values = " ".join(f"{p:.3f}" for p in prior)
            typer.echo(f"{name}: the losses read the class priors of its training split: {values}")
    typer.echo(
        "s: each candidate's share of its chunk's wall time, preparing programs excluded; "
        "compile s: its share of the tracing, lowering and compiling (or loading from the "
        "cache) meanwhile"
    )
    for name, report in reports.items():
        typer.echo(
            f"{name}: {report.batching.describe()}, {report.seconds:.1f} s, of which "
            f"{report.compile_seconds:.1f} s compiling ({report.compilations} XLA compilations"
            f"{loaded_from_cache(report.compilation_cache_hits)})"
        )


def _print_table(results) -> None:
    from rich.console import Console
    from rich.table import Table

    table = Table(title="jaxgp train")
    for column in (
        "loss",
        "dataset",
        "status",
        "val acc",
        "val loss",
        "test acc",
        "test loss",
        "s",
        "compile s",
    ):
        table.add_column(column, overflow="fold")
    for r in results:
        status = r.status if not r.failed else f"failed (epoch {r.failed_epoch})"
        table.add_row(
            r.label, r.dataset, status, f"{r.val_accuracy:.4f}", f"{r.val_loss:.4g}",
            f"{r.test_accuracy:.4f}", f"{r.test_loss:.4g}", f"{r.seconds:.1f}",
            f"{r.compile_seconds:.1f}",
        )  # fmt: skip
    Console().print(table)
