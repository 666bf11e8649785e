"""`jaxgp train` on the command line: JSON output and one-line errors with exit code 2."""

import json
import re
import subprocess

import pytest

from tests.cli.invoke import run_main


def _jaxgp(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(["jaxgp", *args], capture_output=True, text=True, timeout=600)


def test_train_prints_json_per_loss_with_a_failed_candidate_reported():
    done = _jaxgp(
        "train", "--loss", "ce", "--loss", "exp(y_pred * 1000) * exp(y_pred * 1000) * y_true",
        "--epochs", "1", "--candidates-per-batch", "2", "--json",
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    rows = json.loads(done.stdout)
    assert [r["label"] for r in rows] == [
        "ce",
        "exp(y_pred * 1000.0) * exp(y_pred * 1000.0) * y_true",
    ]
    assert rows[0]["status"] == "trained" and 0.0 <= rows[0]["test_accuracy"] <= 1.0
    assert rows[1]["status"] == "failed" and rows[1]["failed_epoch"] == 1
    assert {"val_loss", "val_accuracy", "test_loss", "history", "seconds"} <= set(rows[0])


def test_the_table_says_how_much_of_each_dataset_s_time_was_compilation(monkeypatch, capsys):
    code, out, err = run_main(
        monkeypatch, capsys, "train", "--loss", "ce", "--epochs", "1",
        "--candidates-per-batch", "1",
    )  # fmt: skip
    assert code == 0, err
    assert "compile s: its share of the tracing, lowering and compiling" in out
    assert re.search(
        r"^digits: K=1 \(explicit\), [\d.]+ s, of which [\d.]+ s compiling \(\d+ XLA", out, re.M
    )


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--loss", "hinge"], "unknown loss 'hinge'; valid named losses: ce, ngl, fpl, mse, focal"),
        (["--loss", "y_pred ** 2"], "operator '**' at column 8 is not allowed"),
        (["--loss", "ce", "--data", "imagenet"], "unknown dataset 'imagenet'; valid names:"),
        (["--loss", "ce", "--model", "resnet"], "unknown model 'resnet'; valid models:"),
        (["--loss", "ce", "--dtype", "float16"], "unknown compute dtype 'float16'"),
        (["--loss", "ce", "--candidates-per-batch", "0"], "must be 'auto' or a positive integer"),
    ],
)
def test_bad_input_is_one_line_and_exit_code_2(args, message):
    done = _jaxgp("train", *args)
    assert done.returncode == 2
    assert message in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1
    assert "Traceback" not in done.stderr


def test_train_on_a_long_tailed_split_says_so():
    done = _jaxgp("train", "--loss", "ce", "--epochs", "1", "--imbalance", "20")
    assert done.returncode == 0, done.stderr
    assert "training split: long-tailed, ratio 20; validation and test: as loaded" in done.stdout
