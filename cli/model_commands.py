"""The `jaxgp model` commands: `jaxgp model summary`."""

from __future__ import annotations

import re

import typer

from jaxgp.cli.main import app
from jaxgp.errors import ConfigError

model_app = typer.Typer(help="model commands", no_args_is_help=True)
app.add_typer(model_app, name="model")

_SHAPE = re.compile(r"^\s*(\d+)\s*[xX]\s*(\d+)\s*[xX]\s*(\d+)\s*$")


def parse_input_shape(text: str) -> tuple[int, int, int]:
    """'32x32x3' -> (32, 32, 3); anything else raises ConfigError."""
    match = _SHAPE.match(text)
    if not match or any(int(g) < 1 for g in match.groups()):
        raise ConfigError(
            f"--input must be HxWxC with positive integers, e.g. 32x32x3; got {text!r}"
        )
    h, w, c = (int(g) for g in match.groups())
    return h, w, c


def _shape_text(shape: tuple) -> str:
    return "(" + ", ".join("None" if d is None else str(d) for d in shape) + ")"


@model_app.command("summary")
def summary(
    model: str = typer.Option("inception_v3", "--model", help="model name"),
    classes: int = typer.Option(10, "--classes", help="number of classes (>= 2)"),
    input_text: str = typer.Option("32x32x3", "--input", help="input image shape HxWxC"),
    input_size: int | None = typer.Option(
        None, "--input-size", help="resize to NxN (>= 75) instead of 8x upsampling"
    ),
    as_json: bool = typer.Option(False, "--json", help="print total/trainable/shapes as JSON"),
) -> None:
    """Print a model's layers, output shapes and parameter counts (no compilation)."""
    from jaxgp.models.summary import summarize

    shape = parse_input_shape(input_text)
    if classes < 2:
        raise ConfigError(f"--classes must be >= 2, got {classes}")
    result = summarize(model, num_classes=classes, input_shape=shape, input_size=input_size)
    if as_json:
        typer.echo(result.to_json())
        return

    from rich.console import Console
    from rich.table import Table

    table = Table(title=f"{model} ({classes} classes, input {input_text})")
    table.add_column("Layer")
    table.add_column("Type")
    table.add_column("Output shape")
    table.add_column("Params", justify="right")
    for layer in result.layers:
        indent = "  " * layer.depth
        name = layer.path.rsplit("/", 1)[-1]
        table.add_row(
            indent + name, layer.kind, _shape_text(layer.output_shape), f"{layer.params:,}"
        )
    console = Console()
    console.print(table)
    console.print(f"Total params: {result.total:,}")
    console.print(f"Trainable params: {result.trainable:,}")
    console.print(f"Non-trainable params: {result.non_trainable:,}")
