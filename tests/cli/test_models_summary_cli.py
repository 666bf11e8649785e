"""`summarize` and `jaxgp model summary`."""

import json
import subprocess
import sys
import time

import pytest
from typer.testing import CliRunner

from jaxgp.cli import main as cli_main
from jaxgp.errors import ConfigError
from jaxgp.models import summarize


@pytest.fixture(scope="module")
def runner():
    cli_main._register()
    return CliRunner()


def test_summary_counts_layers_and_shapes_quickly():
    start = time.perf_counter()
    summary = summarize("inception_v3", num_classes=10, input_shape=(32, 32, 3))
    assert time.perf_counter() - start < 10
    assert (summary.total, summary.trainable, summary.non_trainable) == (
        22_082_922,
        22_044_010,
        38_912,
    )
    assert sum(sum_prod(s) for s in summary.shapes) == summary.total
    layers = {layer.path: layer for layer in summary.layers}
    assert layers["trunk"].output_shape == (None, 2048)
    assert layers["trunk"].params == 21_802_784
    assert layers["trunk/mixed0"].output_shape == (None, 29, 29, 256)
    assert layers["trunk/mixed7"].output_shape == (None, 14, 14, 768)
    assert layers["trunk/mixed10"].output_shape == (None, 6, 6, 2048)
    assert layers["head/logits"].output_shape == (None, 10)
    assert summary.layers[0].path == "trunk"  # parents before their children
    assert set(json.loads(summary.to_json())) == {"total", "trainable", "non_trainable", "shapes"}


def sum_prod(shape):
    out = 1
    for d in shape:
        out *= d
    return out


def test_cli_summary_json(runner):
    args = ["model", "summary", "--model", "inception_v3", "--classes", "10", "--input", "32x32x3"]
    result = runner.invoke(cli_main.app, [*args, "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert data["total"] == 22_082_922 and data["trainable"] == 22_044_010
    assert data["non_trainable"] == 38_912
    assert all(isinstance(s, list) for s in data["shapes"])


def test_cli_summary_table(runner):
    result = runner.invoke(
        cli_main.app, ["model", "summary", "--model", "small_cnn", "--input", "8x8x1"]
    )
    assert result.exit_code == 0, result.output
    assert "conv_0" in result.output and "(None, 8, 8, 16)" in result.output
    assert "Total params: 14,618" in result.output
    assert "Trainable params" in result.output and "Non-trainable params" in result.output


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--model", "foo"], "unknown model 'foo'; valid models: inception_v3, small_cnn"),
        (["--input", "32x32"], "--input must be HxWxC"),
        (["--classes", "1"], "--classes must be >= 2"),
        (["--input-size", "60"], "input_size must be >= 75"),
        (["--input", "8x8x1"], "pass input_size"),
    ],
)
def test_cli_bad_input_raises_config_error(runner, args, message):
    result = runner.invoke(cli_main.app, ["model", "summary", *args])
    assert result.exit_code != 0
    assert isinstance(result.exception, ConfigError)
    assert message in str(result.exception)


def test_cli_bad_input_exits_2_with_one_line_error():
    code = "import sys; from jaxgp.cli.main import main; sys.argv = sys.argv[1:]; main()"
    args = ["jaxgp", "model", "summary", "--model", "foo"]
    proc = subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True)
    assert proc.returncode == 2
    assert proc.stderr.strip() == (
        "error: unknown model 'foo'; valid models: inception_v3, small_cnn"
    )
