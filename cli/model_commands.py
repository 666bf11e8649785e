"""The `jaxgp model` commands."""

import typer

from jaxgp.cli.main import app

model_app = typer.Typer(help="model commands", no_args_is_help=True)
app.add_typer(model_app, name="model")
