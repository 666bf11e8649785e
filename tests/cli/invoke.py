"""Run the `jaxgp` command in-process, as a user would, for the CLI tests."""

import sys

import pytest

from jaxgp.cli.main import main


def run_main(monkeypatch, capsys, *args: str) -> tuple[int, str, str]:
    """`jaxgp *args` through the real entry point: (exit code, stdout, stderr)."""
    monkeypatch.setattr(sys, "argv", ["jaxgp", *args])
    monkeypatch.setenv("JAXGP_COMPILATION_CACHE", "none")  # this process counts compilations
    with pytest.raises(SystemExit) as exit_info:
        main()
    captured = capsys.readouterr()
    return exit_info.value.code, captured.out, captured.err
