"""Commands about single loss expressions."""

from __future__ import annotations

import typer

from jaxgp.cli.main import app


@app.command()
def parse(expression: str) -> None:
    """Parse EXPRESSION and print its canonical text."""
    from jaxgp import parse as parse_expression

    typer.echo(str(parse_expression(expression)))
