"""`jaxgp --version`, shell completion, `--quiet`, and output that reads cleanly in a log."""

import re

import pytest
import typer.main

from jaxgp.cli.main import _register, app
from jaxgp.search import session
from tests.cli.invoke import run_main as jaxgp
from tests.search.fake_trainer import FakeTrainer

RUN = ["--population", "4", "--generations", "2", "--confirm-seeds", "0"]


@pytest.fixture
def fake_training(monkeypatch):
    monkeypatch.setattr(session, "DeviceTrainer", lambda: FakeTrainer())


def test_version_names_jaxgp_jax_and_python(monkeypatch, capsys):
    from importlib.metadata import version

    code, out, err = jaxgp(monkeypatch, capsys, "--version")
    assert code == 0 and err == ""
    assert out.startswith(f"jaxgp {version('jaxgp')} (jax {version('jax')}, Python 3.")


def test_the_completion_script_is_shown_and_completes_the_commands(monkeypatch, capsys):
    code, out, _ = jaxgp(monkeypatch, capsys, "--show-completion", "bash")
    assert code == 0 and "_JAXGP_COMPLETE=complete_bash" in out
    monkeypatch.setenv("_JAXGP_COMPLETE", "complete_bash")
    monkeypatch.setenv("COMP_WORDS", "jaxgp evolve --pop")
    monkeypatch.setenv("COMP_CWORD", "2")
    code, out, _ = jaxgp(monkeypatch, capsys)
    assert code == 0 and out.split() == ["--population"]


def test_install_completion_is_offered():
    _register()
    names = {p.name for p in typer.main.get_command(app).params}
    assert {"install_completion", "show_completion", "version"} <= names


def test_quiet_prints_only_the_final_summary(monkeypatch, capsys, tmp_path, fake_training):
    code, out, err = jaxgp(monkeypatch, capsys, "evolve", *RUN, "-q", "--out", str(tmp_path / "r"))
    assert code == 0
    assert err == ""
    assert out.startswith("tournament: best ") and "best overall (tournament): " in out


def test_progress_written_to_a_file_is_one_whole_line_per_generation(
    monkeypatch, capsys, tmp_path, fake_training
):
    """Not a terminal (a log file, a pipe): no live line to cut short ("…") or to glue to
    the next line, and every generation's best written in full."""
    code, out, err = jaxgp(monkeypatch, capsys, "evolve", *RUN, "--out", str(tmp_path / "r"))
    assert code == 0
    lines = err.splitlines()
    assert lines[0].startswith(f"starting evolve in {tmp_path / 'r'}: scale tiny, P=4 T=2")
    assert lines[1:4] == ["CE baselines", "initial population", "tournament: 2 generations"]
    best = re.compile(
        r"^  tournament generation (\d)/2: best (.+) \(wins \d+, average improvement "
        r"[+-][\d.]+ %; [\d.]+ s\)$"
    )
    generations = [best.match(line) for line in lines[4:]]
    assert [m[1] for m in generations] == ["1", "2"]
    assert generations[-1][2] in out.splitlines()[0]  # the summary's best, not cut
    assert "…" not in err and err.endswith("\n")
