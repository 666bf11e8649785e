"""Entry point of the `jaxgp` console script: assembles the sub-commands and reports errors.

Every error that is the user's input (a `JaxgpError`) is printed as one line on stderr and
the process exits with code 2; nothing else is caught, so bugs still show their traceback.
"""

from __future__ import annotations

import sys
from typing import Annotated

import typer

from jaxgp.errors import JaxgpError

app = typer.Typer(
    name="jaxgp",
    help="Search for image-classification loss functions with genetic programming, in JAX.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)


@app.callback()
def _global_options(
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


def main() -> None:
    """Run the app; a `JaxgpError` becomes `error: <message>` and exit code 2."""
    _register()
    from jaxgp.cli.main import app as registered  # under `python -m` this module is __main__

    try:
        registered(standalone_mode=True)
    except JaxgpError as error:
        print(f"error: {error}", file=sys.stderr)
        sys.exit(2)


if __name__ == "__main__":
    main()
