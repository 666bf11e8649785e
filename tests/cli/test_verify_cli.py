"""`jaxgp verify` end to end on digits (small_cnn, 1 epoch, 2 seeds): on an expression and
on a run directory, whose report then shows the verification; bad input exits 2."""

import json

import pytest

from jaxgp.data.load import load_dataset
from jaxgp.report import write_report
from jaxgp.search.run_settings import build_settings
from jaxgp.search.rundir import RunDir
from jaxgp.train import TrainConfig, train_candidates
from tests.cli.invoke import run_main as jaxgp
from tests.search import fake_run

PNG = b"\x89PNG\r\n\x1a\n"
TINY = ("--seeds", "2", "--epochs", "1", "--model", "small_cnn", "--data", "digits")


def test_verify_an_expression_prints_json_and_writes_its_files(monkeypatch, capsys, tmp_path):
    expression = "neg(y_true * log(y_pred))"
    code, out, err = jaxgp(
        monkeypatch, capsys, "verify", expression, *TINY, "--json", "--out", str(tmp_path)
    )
    assert code in (0, None), err
    data = json.loads(out)
    assert data["seeds"] == [1000, 1001] and data["search_seed"] == 0
    (digits,) = data["comparisons"]
    assert digits["against"] == "ce"
    # CE's models are those `train_candidates` trains alone with the same seeds
    config = TrainConfig(model="small_cnn", epochs=1, seed=1000)
    alone = train_candidates(
        ["ce", "ce"], load_dataset("digits", seed=1000), config, seeds=[1000, 1001]
    )
    assert digits["against_test_accuracy"] == [r.test_accuracy for r in alone.results]
    assert all(0.0 <= a <= 1.0 for a in digits["loss_test_accuracy"])
    differences = [
        a - b
        for a, b in zip(digits["loss_test_accuracy"], digits["against_test_accuracy"], strict=True)
    ]
    assert digits["difference"]["mean"] == pytest.approx(sum(differences) / 2)
    assert json.loads((tmp_path / "verify.json").read_text()) == data
    assert (tmp_path / "verify.png").read_bytes().startswith(PNG)


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory):
    out = tmp_path_factory.mktemp("search") / "run"
    fake_run.run(out)
    return out


def test_verify_a_run_then_its_report_shows_the_verification(run_dir, monkeypatch, capsys):
    code, out, err = jaxgp(monkeypatch, capsys, "verify", str(run_dir), "--seeds", "2")
    assert code in (0, None), err
    saved = json.loads((run_dir / "verify.json").read_text())
    assert saved["run_dir"] == str(run_dir) and saved["seeds"] == [1003, 1004]
    (digits,) = saved["comparisons"]
    assert "digits: test accuracy per seed" in out and digits["verdict"] in out
    assert f"{digits['loss_test_accuracy'][0]:.4f}" in out
    assert (run_dir / "verify.png").read_bytes().startswith(PNG)

    code, _, err = jaxgp(monkeypatch, capsys, "report", str(run_dir))
    assert code in (0, None), err
    text = (run_dir / "report" / "report.md").read_text()
    assert "## Verification on new seeds" in text and "](verify.png)" in text
    section = text[text.index("## Verification on new seeds") :]
    row = next(line for line in section.splitlines() if line.startswith("| digits |"))
    assert f"{digits['loss_mean']:.4f} ± {digits['loss_std']:.4f}" in row
    assert f"{digits['difference']['low']:+.4f}" in row and digits["verdict"] in row
    assert (run_dir / "report" / "verify.png").read_bytes().startswith(PNG)


def test_a_report_without_verification_has_no_such_section(run_dir, tmp_path):
    copy = tmp_path / "run"
    RunDir.create(copy, json.loads((run_dir / "config.json").read_text())["settings"])
    (copy / "ledger.jsonl").write_text((run_dir / "ledger.jsonl").read_text())
    assert "Verification on new seeds" not in write_report(copy).read_text()


def test_an_unreadable_verification_is_noted_in_the_report(run_dir, tmp_path):
    copy = tmp_path / "run"
    RunDir.create(copy, json.loads((run_dir / "config.json").read_text())["settings"])
    (copy / "ledger.jsonl").write_text((run_dir / "ledger.jsonl").read_text())
    (copy / "verify.json").write_text('{"loss": "ngl"')
    text = write_report(copy).read_text()
    assert "## Verification on new seeds" in text and "is not a jaxgp verify result" in text


def empty_run(tmp_path):
    path = tmp_path / "empty"
    RunDir.create(path, build_settings("evolve").to_dict())
    return str(path)


BAD = {
    "no such run directory": lambda tmp: [str(tmp / "runs" / "missing")],
    "a file": lambda tmp: [str(tmp / "file.txt")],
    "an empty ledger": lambda tmp: [empty_run(tmp)],
    "an unparsable expression": lambda tmp: ["y_pred +"],
    "one seed": lambda tmp: ["ngl", "--seeds", "1"],
    "an unknown dataset": lambda tmp: ["ngl", "--data", "imagenet"],
    "an unknown model": lambda tmp: ["ngl", "--model", "resnet50"],
    "no epochs": lambda tmp: ["ngl", "--epochs", "0"],
    "--out a file": lambda tmp: ["ngl", "--out", str(tmp / "file.txt")],
    "learning rates that are not numbers": lambda tmp: ["ngl", "--learning-rates", "1e-3,fast"],
    "a negative learning rate": lambda tmp: ["ngl", "--learning-rates", "-1e-3"],
    "against an unknown loss": lambda tmp: ["ngl", "--against", "ce,nope"],
    "against itself only": lambda tmp: ["ngl", "--against", "ngl"],
    "an imbalance below 1": lambda tmp: ["ngl", "--imbalance", "0.5"],
    "label noise of 1": lambda tmp: ["ngl", "--label-noise", "1"],
    "an unknown noise kind": lambda tmp: ["ngl", "--label-noise", "0.2", "--noise-kind", "pair"],
    "a train fraction of 0": lambda tmp: ["ngl", "--train-fraction", "0"],
}


@pytest.mark.parametrize("case", list(BAD))
def test_bad_input_is_one_line_and_exit_2(case, monkeypatch, capsys, tmp_path):
    (tmp_path / "file.txt").write_text("not a run")
    code, out, err = jaxgp(monkeypatch, capsys, "verify", *BAD[case](tmp_path))
    assert code == 2
    assert err.startswith("error: ") and err.count("\n") == 1, err
