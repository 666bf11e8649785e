"""What the command line itself cannot parse, and a compilation cache that cannot be kept,
are one `error:` line with exit code 2, like every other bad input."""

import sys

import pytest

from jaxgp.cli.main import main
from tests.cli.invoke import run_main


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["evolve", "--seed", "abc"], "error: Invalid value for '--seed': "),
        (["evolve", "--nope"], "error: No such option: --nope"),
        (["train", "--epochs", "1.5", "--loss", "ce"], "error: Invalid value for '--epochs': "),
        (["show"], "error: Missing argument 'expression' (see: jaxgp show --help)"),
        (["nocommand"], "error: No such command 'nocommand' (see: jaxgp --help)"),
    ],
)
def test_a_value_the_command_line_cannot_parse_is_one_line_and_exit_2(
    monkeypatch, capsys, args, message
):
    code, stdout, err = run_main(monkeypatch, capsys, *args)
    assert (code, stdout) == (2, "")
    assert err.startswith(message) and err.count("\n") == 1


def test_a_compilation_cache_that_cannot_be_made_is_one_line_and_exit_2(
    monkeypatch, capsys, tmp_path
):
    blocked = tmp_path / "a-file"
    blocked.write_text("")
    code, stdout, err = _jaxgp(monkeypatch, capsys, "--compilation-cache", str(blocked / "xla"),
                               "show", "ngl")  # fmt: skip
    assert (code, stdout) == (2, "")
    assert err == (
        f"error: compilation cache {blocked / 'xla'}: cannot make or write it (Not a directory); "
        "give a writable directory or 'none' (--compilation-cache, $JAXGP_COMPILATION_CACHE)\n"
    )


def test_a_default_compilation_cache_that_cannot_be_made_is_one_warning(
    monkeypatch, capsys, tmp_path
):
    monkeypatch.delenv("JAXGP_COMPILATION_CACHE")
    monkeypatch.delenv("JAX_COMPILATION_CACHE_DIR", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "a-file"))
    (tmp_path / "a-file").write_text("")
    code, stdout, err = _jaxgp(monkeypatch, capsys, "export", "ngl")
    assert code == 0 and "def " in stdout
    assert err == f"warning: no compilation cache: {tmp_path}/a-file/jaxgp/xla: Not a directory\n"


def _jaxgp(monkeypatch, capsys, *args: str) -> tuple[int, str, str]:
    """`jaxgp *args` in this process with the environment's compilation cache setting (where
    it cannot be used: nothing is set in this process)."""
    monkeypatch.setattr(sys, "argv", ["jaxgp", *args])
    with pytest.raises(SystemExit) as exit_info:
        main()
    captured = capsys.readouterr()
    return exit_info.value.code, captured.out, captured.err
