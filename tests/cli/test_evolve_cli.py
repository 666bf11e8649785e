"""`jaxgp evolve` / `jaxgp compare`: bad input exits 2 with one line; runs, Ctrl-C, resume."""

import json
import subprocess

import pytest
import typer.main

from jaxgp.cli.main import _register, app
from jaxgp.search import session
from tests.cli.invoke import run_main as jaxgp
from tests.search.fake_trainer import FakeTrainer

BAD = [
    ["evolve", "--population", "1"],
    ["evolve", "--generations", "-1"],
    ["evolve", "--sample-size", "3", "--top-n", "4"],
    ["evolve", "--sample-size", "9"],
    ["evolve", "--top-n", "0"],
    ["evolve", "--data", "imagenet"],
    ["evolve", "--data", ","],
    ["evolve", "--model", "resnet50"],
    ["evolve", "--fitness", "f1"],
    ["evolve", "--algorithm", "random"],
    ["evolve", "--scale", "huge"],
    ["evolve", "--candidates-per-batch", "0"],
    ["evolve", "--epochs", "0"],
    ["compare", "--population", "1"],
    ["evolve", "--imbalance", "0.5"],
    ["evolve", "--label-noise", "1"],
    ["evolve", "--label-noise", "0.2", "--noise-kind", "pair"],
    ["compare", "--train-fraction", "0"],
    ["evolve", "--confirm-seeds", "1"],
    ["evolve", "--language", "greek"],
    ["compare", "--language", ""],
]


@pytest.mark.parametrize("args", BAD, ids=[" ".join(a[1:]) for a in BAD])
def test_bad_input_is_one_line_and_exit_2(monkeypatch, capsys, tmp_path, args):
    code, _, err = jaxgp(monkeypatch, capsys, *args, "--out", str(tmp_path / "run"))
    assert code == 2
    assert err.startswith("error: ") and err.count("\n") == 1
    assert not (tmp_path / "run").exists()


def test_resume_of_a_directory_that_is_not_a_run(monkeypatch, capsys, tmp_path):
    code, _, err = jaxgp(monkeypatch, capsys, "evolve", "--resume", str(tmp_path))
    assert code == 2 and "not a jaxgp run directory" in err


def test_bad_input_through_the_console_script(tmp_path):
    process = subprocess.run(
        ["jaxgp", "evolve", "--population", "1", "--out", str(tmp_path / "run")],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert process.returncode == 2
    assert process.stderr.startswith("error: population must be at least 2")


class Interrupting(FakeTrainer):
    """Raises KeyboardInterrupt (as Ctrl-C would) at its `stop`-th call."""

    def __init__(self, stop):
        super().__init__()
        self.stop = stop

    def __call__(self, *args, **kwargs):
        if len(self.calls) + 1 == self.stop:
            raise KeyboardInterrupt
        self.calls.append("*")
        return super().__call__(*args, **kwargs)


def test_ctrl_c_stops_cleanly_and_resume_finishes(monkeypatch, capsys, tmp_path):
    out = tmp_path / "run"
    options = ["--population", "4", "--generations", "1", "--out", str(out)]
    monkeypatch.setattr(session, "DeviceTrainer", lambda: Interrupting(stop=3))
    code, _, err = jaxgp(monkeypatch, capsys, "evolve", *options)
    assert code == 130
    assert f"jaxgp evolve --resume {out}" in err and "Traceback" not in err

    code, _, _ = jaxgp(monkeypatch, capsys, "evolve", "--resume", str(out), "--population", "6")
    assert code == 2  # other settings: refused

    monkeypatch.setattr(session, "DeviceTrainer", lambda: FakeTrainer())
    code, stdout, _ = jaxgp(monkeypatch, capsys, "evolve", "--resume", str(out))
    assert code == 0 and "best overall" in stdout
    summary = json.loads((out / "summary.json").read_text())
    assert summary["resumed"] and summary["evaluations"] == 4 + 1


def test_compare_prints_both_algorithms_and_the_timing(monkeypatch, capsys, tmp_path):
    monkeypatch.setattr(session, "DeviceTrainer", lambda: FakeTrainer())
    args = ["compare", "--population", "4", "--generations", "1", "--out", str(tmp_path / "r")]
    code, stdout, _ = jaxgp(monkeypatch, capsys, *args)
    assert code == 0
    assert "ngl" in stdout and "tournament" in stdout and "timing:" in stdout


def test_a_dataset_that_is_not_prepared_stops_the_run_before_anything_is_written(
    monkeypatch, capsys, tmp_path
):
    monkeypatch.setenv("TFDS_DATA_DIR", str(tmp_path / "no-datasets-here"))
    out = tmp_path / "run"
    code, stdout, err = jaxgp(monkeypatch, capsys, "evolve", "--data", "cifar10", "--out", str(out))
    assert code == 2
    assert err.startswith("error: dataset 'cifar10' is not prepared") and err.count("\n") == 1
    assert not out.exists() and "best:" not in stdout + err


def test_compare_takes_every_option_of_evolve_but_the_algorithm():
    _register()
    commands = {c.name: c for c in typer.main.get_command(app).commands.values()}
    options = {name: {p.name for p in commands[name].params} for name in ("evolve", "compare")}
    assert options["evolve"] - options["compare"] == {"algorithm"}
    assert options["compare"] <= options["evolve"] and len(options["compare"]) == 29


@pytest.mark.parametrize(("scale", "language"), [("tiny", "thesis"), ("tiny-lt", "priors")])
def test_the_language_is_the_scales_unless_given_and_recorded_where_the_run_says_what_it_did(
    monkeypatch, capsys, tmp_path, scale, language
):
    monkeypatch.setattr(session, "DeviceTrainer", lambda: FakeTrainer())
    out = tmp_path / "run"
    args = ["evolve", "--scale", scale, "-P", "4", "-T", "1", "--confirm-seeds", "0"]
    code, _, err = jaxgp(monkeypatch, capsys, *args, "--out", str(out))
    assert code == 0 and f"language={language}" in err
    config = json.loads((out / "config.json").read_text())
    settings = config.get("settings", config)
    assert settings["search"]["tree"]["language"] == settings["train"]["language"] == language
    assert json.loads((out / "summary.json").read_text())["language"] == language
    other = "thesis" if language == "priors" else "priors"
    code, _, err = jaxgp(monkeypatch, capsys, *args, "--language", other, "--out", str(out) + "2")
    assert code == 0 and f"language={other}" in err
