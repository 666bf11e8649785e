"""`jaxgp data list` and `jaxgp data prepare`."""

import subprocess
import sys

import pytest
from typer.testing import CliRunner

from jaxgp.cli import main as cli_main
from jaxgp.data.tfds_source import tensorflow_available
from jaxgp.errors import ConfigError


@pytest.fixture(scope="module")
def runner():
    cli_main._register()
    return CliRunner()


def test_data_list_shows_every_dataset_and_readiness(runner, tmp_path):
    result = runner.invoke(cli_main.app, ["data", "list", "--data-dir", str(tmp_path)])
    assert result.exit_code == 0, result.output
    for name in ("cifar10", "cifar100", "fashion_mnist", "digits", "synthetic"):
        assert name in result.output
    assert "32x32x3" in result.output and "28x28x1" in result.output and "8x8x1" in result.output
    assert "not prepared" in result.output
    assert "bundled" in result.output and "generated" in result.output and "tfds" in result.output


def test_data_prepare_offline_dataset(runner):
    result = runner.invoke(cli_main.app, ["data", "prepare", "digits"])
    assert result.exit_code == 0 and "needs no preparation" in result.output


def test_data_prepare_unknown_name_raises_config_error(runner):
    result = runner.invoke(cli_main.app, ["data", "prepare", "imagenet"])
    assert isinstance(result.exception, ConfigError)


@pytest.mark.skipif(tensorflow_available(), reason="would try to download with TensorFlow")
def test_console_script_reports_missing_tensorflow_in_one_line(tmp_path):
    code = "import sys; from jaxgp.cli.main import main; sys.argv = sys.argv[1:]; main()"
    command = [sys.executable, "-c", code, "jaxgp", "data", "prepare", "cifar10"]
    result = subprocess.run(
        [*command, "--data-dir", str(tmp_path)], capture_output=True, text=True, check=False
    )
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: preparing cifar10 needs TensorFlow")


def test_data_show_counts_each_class_before_and_after_a_transform(runner):
    result = runner.invoke(
        cli_main.app, ["data", "show", "digits", "--imbalance", "20", "--label-noise", "0.4"],
        env={"COLUMNS": "200"},
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    rows = {line.split("│")[1].strip(): line for line in result.output.splitlines() if "│" in line}
    cells = lambda row: [c.strip() for c in rows[row].split("│")[2:-1]]  # noqa: E731
    assert cells("train, changed") == ["121", "86", "62", "44", "31", "22", "16", "11", "8", "6",
                                       "407"]  # fmt: skip
    assert cells("validation")[-1] == "144" and cells("test")[-1] == "360"
    assert "163 of 407 labels made wrong" in result.output


def test_data_show_refuses_a_bad_transform(runner):
    result = runner.invoke(cli_main.app, ["data", "show", "digits", "--imbalance", "0.5"])
    assert isinstance(result.exception, ConfigError)
