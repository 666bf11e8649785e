"""Imports every command module so that each registers its commands on the app."""

from jaxgp.cli import (  # noqa: F401
    data_commands,
    evolve_commands,
    expr_commands,
    model_commands,
    report_commands,
    train_commands,
    verify_commands,
)
