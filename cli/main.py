"""Entry point of the `jaxgp` console script: assembles the sub-commands and reports errors.

Every error that is the user's input (a `JaxgpError`) is printed as one line on stderr and
the process exits with code 2; nothing else is caught, so bugs still show their traceback.
"""

from __future__ import annotations

import sys

import typer

from jaxgp.errors import JaxgpError

app = typer.Typer(
    name="jaxgp",
    help="Search for image-classification loss functions with genetic programming, in JAX.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)


def _register() -> None:
    from jaxgp.cli import commands  # noqa: F401  (registers the commands on `app`)


def main() -> None:
    """Run the app; a `JaxgpError` becomes `error: <message>` and exit code 2."""
    _register()
    try:
        app(standalone_mode=True)
    except JaxgpError as error:
        print(f"error: {error}", file=sys.stderr)
        sys.exit(2)


if __name__ == "__main__":
    main()
