"""The `jaxgp data` commands."""

import typer

from jaxgp.cli.main import app

data_app = typer.Typer(help="data commands", no_args_is_help=True)
app.add_typer(data_app, name="data")
