"""Exceptions that jaxgp raises for bad input or a machine that cannot hold a run; the CLI
turns each into one line and its `exit_code`: 2 for input, 3 for storage."""

from __future__ import annotations

import errno
import os
from enum import StrEnum


class JaxgpError(Exception):
    """Base class of every error that is the user's input (or the machine's state), not a
    bug."""

    exit_code = 2


class ExpressionError(JaxgpError, ValueError):
    """A loss expression that cannot be parsed or does not fit the loss language."""


class ConfigError(JaxgpError, ValueError):
    """An unknown name or an out-of-range setting (model, dataset, loss, scale, ...)."""


class DatasetNotReadyError(JaxgpError):
    """A tensorflow-datasets dataset that is not prepared locally and cannot be downloaded."""


class StorageError(JaxgpError):
    """A file or directory the machine could not create, write or lock: a full disk, a
    read-only or unwritable path, a name the filesystem refuses. Nothing already written is
    lost (`jaxgp.search.rundir`); once the cause is fixed, `--resume` continues a run."""

    exit_code = 3

    def __init__(self, action: str, path: str | os.PathLike, error: OSError, hint: str = ""):
        self.path, self.cause = str(path), error
        code = errno.errorcode.get(error.errno or 0, "")
        reason = error.strerror or str(error)
        message = f"cannot {action} {path}: {reason}" + (f" ({code})" if code else "")
        super().__init__(message + (f"; {hint}" if hint else ""))


class RunFinished(JaxgpError):
    """Not a failure: `--resume` of a run that has its summary, which is final. Nothing is
    run or written; `summary` is the run's `Summary` (None where it cannot be read)."""

    exit_code = 0

    def __init__(self, message: str, summary: object = None) -> None:
        super().__init__(message)
        self.summary = summary


def parse_choice(choices: type[StrEnum], text: str, what: str) -> StrEnum:
    """The member of `choices` named `text`; else `ConfigError("unknown <what> 'x'; valid:
    ...")`."""
    try:
        return choices(text)
    except ValueError:
        valid = ", ".join(choices)
        raise ConfigError(f"unknown {what} {text!r}; valid: {valid}") from None
