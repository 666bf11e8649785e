"""`jaxgp report`, `jaxgp export` and `jaxgp show`: results people can read and use."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated

import typer

from jaxgp.cli.main import app


@app.command("report")
def report(
    run_dir: Annotated[str, typer.Argument(help="a run directory (finished or in progress)")],
    out: Annotated[
        str | None, typer.Option("--out", help="output directory (default RUN_DIR/report)")
    ] = None,
) -> None:
    """Write report.md with tables and PNG figures for the run in RUN_DIR."""
    from jaxgp.report import write_report

    path = write_report(run_dir, out)
    figures = sorted(p.name for p in path.parent.glob("*.png"))
    typer.echo(f"wrote {path} ({', '.join(figures)})")


@app.command("export")
def export(
    target: Annotated[
        str, typer.Argument(help="a run directory (its best loss) or a loss expression")
    ],
    framework: Annotated[
        str,
        typer.Option(
            "--framework",
            "-f",
            help="jax | torch | keras (a module defining `loss`) | sympy (the formula as a SymPy "
            "module) | latex (the formula for a paper)",
        ),
    ] = "jax",
    output: Annotated[
        str | None, typer.Option("--output", "-o", help="write the module here (default stdout)")
    ] = None,
) -> None:
    """Write a standalone Python module defining the loss for JAX, PyTorch or Keras, or its
    formula as a SymPy module or LaTeX."""
    from jaxgp.errors import ConfigError
    from jaxgp.export import FORMULAS
    from jaxgp.export import export as export_loss

    source, text = export_loss(target, framework)
    if output is None:
        typer.echo(text, nl=False)
        return
    path = Path(output)
    if os.path.isdir(path):
        raise ConfigError(f"-o {path} is a directory; give a file name such as loss.py")
    try:
        path.write_text(text, encoding="utf-8")
    except OSError as error:
        raise ConfigError(f"cannot write {path}: {error.strerror}") from None
    what = "formula of" if framework in FORMULAS else "loss"
    typer.echo(f"wrote {path}: {framework} {what} {source.tree}", err=True)


@app.command("show")
def show(
    expression: Annotated[
        str,
        typer.Argument(help="a named loss (ce, ngl, fpl, mse, focal, cb, la) or an expression"),
    ],
    latex: Annotated[
        bool, typer.Option("--latex", help="Print the loss's formula in LaTeX instead.")
    ] = False,
) -> None:
    """Print a loss as a tree (when it is one), its size and height, validity and probe
    values; with --latex, its formula in LaTeX (`jaxgp export --framework latex`)."""
    if latex:
        from jaxgp.export import export as export_loss

        typer.echo(export_loss(expression, "latex")[1], nl=False)
        return
    from jaxgp.show import describe, render

    typer.echo(render(describe(expression)))
