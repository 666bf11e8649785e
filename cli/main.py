"""Entry point of the `jaxgp` console script: assembles the sub-commands and reports errors.

Every error that is the user's input (a `JaxgpError`, or a value the command line itself
cannot parse, such as `--seed abc`) is printed as one line on stderr, `error: ...`, and the
process exits with code 2; a file the machine cannot write (a full disk, a read-only or
unwritable path: `StorageError`, or such an `OSError` from anywhere) exits with code 3.
Nothing else is caught, so bugs still show their traceback.
"""

from __future__ import annotations

import errno
import sys
from typing import Annotated, NoReturn

import typer

from jaxgp.errors import JaxgpError, StorageError

app = typer.Typer(
    name="jaxgp",
    help="Search for image-classification loss functions with genetic programming, in JAX.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)


def version_text() -> str:
    """`jaxgp X (jax Y, Python Z)`: what a bug report needs, read without importing JAX."""
    from importlib.metadata import PackageNotFoundError, version

    def installed(name: str) -> str:
        try:
            return version(name)
        except PackageNotFoundError:
            return "not installed"

    python = ".".join(map(str, sys.version_info[:3]))
    return f"jaxgp {installed('jaxgp')} (jax {installed('jax')}, Python {python})"


def _show_version(value: bool) -> None:
    if value:
        print(version_text())
        raise typer.Exit(0)


@app.callback()
def _global_options(
    version: Annotated[
        bool,
        typer.Option(
            "--version",
            callback=_show_version,
            is_eager=True,
            help="Print the versions of jaxgp, JAX and Python, and exit.",
        ),
    ] = False,
    compilation_cache: Annotated[
        str | None,
        typer.Option(
            "--compilation-cache",
            envvar="JAXGP_COMPILATION_CACHE",
            help="Directory that keeps compiled XLA programs between runs, or 'none'. "
            "Default: $XDG_CACHE_HOME/jaxgp/xla (~/.cache/jaxgp/xla).",
            show_default=False,
        ),
    ] = None,
    coordinator: Annotated[
        str | None,
        typer.Option(
            "--coordinator",
            help="HOST:PORT of process 0, to run one search over several processes/hosts "
            "(with --num-processes and --process-id)",
        ),
    ] = None,
    num_processes: Annotated[
        int | None, typer.Option("--num-processes", help="how many processes take part")
    ] = None,
    process_id: Annotated[
        int | None, typer.Option("--process-id", help="this process's id, 0 to N-1")
    ] = None,
    distributed: Annotated[
        bool,
        typer.Option(
            "--distributed",
            help="join the other processes as SLURM or Open MPI describe them",
        ),
    ] = False,
    heartbeat_timeout: Annotated[
        int,
        typer.Option(
            "--heartbeat-timeout",
            help="seconds without news from a process before the others stop with an error",
        ),
    ] = 100,
) -> None:
    """Search for image-classification loss functions with genetic programming, in JAX."""
    from jaxgp.compilation import enable_compilation_cache
    from jaxgp.distributed import join

    enable_compilation_cache(compilation_cache)
    join(coordinator, num_processes, process_id, detect=distributed,
         heartbeat_timeout=heartbeat_timeout)  # fmt: skip


def _register() -> None:
    from jaxgp.cli import commands  # noqa: F401  (registers the commands on `app`)


STORAGE_ERRNOS = frozenset(
    {errno.ENOSPC, errno.EDQUOT, errno.EROFS, errno.EACCES, errno.EPERM, errno.ENAMETOOLONG}
)
"""What an `OSError` from a file says about the machine, not about jaxgp's code."""


_CLICK_EXCEPTION = next(c for c in typer.BadParameter.__mro__ if c.__name__ == "ClickException")
"""The base of the command line's own errors (`--seed abc`, an unknown option), from the
click that this Typer uses (its own copy in recent versions)."""


def _fail(message: str, code: int) -> NoReturn:
    print(f"error: {' '.join(message.split())}", file=sys.stderr)  # one line, whatever it holds
    sys.exit(code)


def main() -> None:
    """Run the app; a `JaxgpError` becomes `error: <message>` and its exit code (2 for input,
    3 for storage), a value the command line cannot parse `error: <message>` and exit 2."""
    _register()
    from jaxgp.cli.main import app as registered  # under `python -m` this module is __main__

    try:
        code = registered(standalone_mode=False, prog_name="jaxgp")
    except _CLICK_EXCEPTION as error:
        if type(error).__name__ == "NoArgsIsHelpError":  # the help is shown: nothing to add
            sys.exit(error.exit_code)
        context = getattr(error, "ctx", None)
        where = f" (see: {context.command_path} --help)" if context is not None else ""
        _fail(error.format_message().rstrip(".") + where, error.exit_code)
    except typer.Abort:
        _fail("aborted", 1)
    except JaxgpError as error:
        _fail(str(error), error.exit_code)
    except OSError as error:
        if error.errno not in STORAGE_ERRNOS or error.filename is None:
            raise
        _fail(str(StorageError("write", error.filename, error)), StorageError.exit_code)
    sys.exit(code or 0)


if __name__ == "__main__":
    main()
