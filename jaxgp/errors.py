"""Exceptions that jaxgp raises for bad input; the CLI turns each into one line and exit 2."""

from __future__ import annotations

from enum import StrEnum


class JaxgpError(Exception):
    """Base class of every error that is the user's input, not a bug."""


class ExpressionError(JaxgpError, ValueError):
    """A loss expression that cannot be parsed or does not fit the loss language."""


class ConfigError(JaxgpError, ValueError):
    """An unknown name or an out-of-range setting (model, dataset, loss, scale, ...)."""


class DatasetNotReadyError(JaxgpError):
    """A tensorflow-datasets dataset that is not prepared locally and cannot be downloaded."""


def parse_choice(choices: type[StrEnum], text: str, what: str) -> StrEnum:
    """The member of `choices` named `text`; else `ConfigError("unknown <what> 'x'; valid:
    ...")`."""
    try:
        return choices(text)
    except ValueError:
        valid = ", ".join(choices)
        raise ConfigError(f"unknown {what} {text!r}; valid: {valid}") from None
