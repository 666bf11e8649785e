"""Imports every command module so that each registers its commands on the app."""

from jaxgp.cli import data_commands, expr_commands, model_commands  # noqa: F401
