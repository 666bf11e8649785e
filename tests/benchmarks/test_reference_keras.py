"""`benchmarks/vs_keras/reference_keras.py` needs neither jaxgp, jax nor the benchmarks package:
its loss and data come as files.

The handed-over files are written by compare's own writers (`vs_keras.jaxgp_side`), so these
tests also check that the writer and the reader agree on the formats. The reference runs on
the jax backend here (the only Keras backend installed), in a process where `import jaxgp`
and `import benchmarks` fail.
"""

from __future__ import annotations

import ast
import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

import jaxgp
from benchmarks.vs_keras.jaxgp_side import load_synthetic, write_data, write_loss
from benchmarks.vs_keras.keras_side import ReferenceInputs
from benchmarks.vs_keras.process import first_line, readable_error
from jaxgp.export import export

KERAS_SIDE = Path(__file__).resolve().parents[2] / "benchmarks" / "vs_keras"
SCRIPT = KERAS_SIDE / "reference_keras.py"

WITHOUT_JAXGP = """
import runpy, sys
sys.modules["jaxgp"] = sys.modules["benchmarks"] = None
try:
    import jaxgp
except ImportError:
    pass
else:
    raise SystemExit("jaxgp is still importable")
sys.argv = sys.argv[1:]
runpy.run_path(sys.argv[0], run_name="__main__")
"""


def _top_level_imports(path: Path) -> set[str]:
    """The top-level package of every import statement in the file, nested ones included."""
    names = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module.split(".")[0])
    return names


def _reference_module():
    spec = importlib.util.spec_from_file_location("reference_keras", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize("script", ["reference_keras.py", "op_profile_keras.py"])
def test_the_keras_only_scripts_import_neither_jax_jaxgp_nor_the_benchmarks_package(script):
    imported = _top_level_imports(KERAS_SIDE / script)
    assert "keras" in imported  # what it does import is seen
    assert not imported & {"jax", "jaxlib", "jaxgp", "benchmarks"}


def test_the_bundled_ngl_loss_module_is_what_jaxgp_export_writes_today():
    _, text = export("ngl", "keras")
    assert (KERAS_SIDE / "ngl_keras.py").read_text() == text, (
        "regenerate it: jaxgp export ngl --framework keras -o benchmarks/vs_keras/ngl_keras.py"
    )


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--data-npz", "x.npz", "--data", "cifar10"], "give one"),
        (["--data", "imagenet"], "--data must be one of cifar10, fashion_mnist"),
    ],
)
def test_the_reference_refuses_unusable_data_options(args, message, capsys):
    with pytest.raises(SystemExit):
        _reference_module().parse_args(args)
    assert message in capsys.readouterr().err


def test_the_reference_trains_on_handed_over_files_where_jaxgp_cannot_be_imported(tmp_path):
    if importlib.util.find_spec("keras") is None:
        pytest.skip("Keras 3 is not installed (pip install keras)")
    inputs = ReferenceInputs(tmp_path)
    expression = "neg(y_true * log(y_pred)) + sqrt(y_pred) / (y_true + 0.5)"
    write_loss(inputs, expression)
    images = load_synthetic("cifar10", 160)
    write_data(inputs.data("cifar10"), images, "jaxgp's images, for the test")
    out = tmp_path / "result.json"
    command = [
        sys.executable, "-c", WITHOUT_JAXGP, str(SCRIPT), "--smoke",
        "--data-npz", str(inputs.data("cifar10")), "--loss-module", str(inputs.loss_module),
        "--loss-check", str(inputs.loss_check), "--json", str(out),
    ]  # fmt: skip
    env = {**os.environ, "KERAS_BACKEND": "jax", "TF_CPP_MIN_LOG_LEVEL": "2"}
    done = subprocess.run(command, capture_output=True, text=True, env=env, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    result = json.loads(out.read_text())
    assert result["data"] == "jaxgp's images, for the test"
    assert result["image_shape"] == [32, 32, 3] and result["num_classes"] == 10
    # 160 images: 16 held out for validation, 144 left, 4 full batches of 32 trained
    assert result["train_images"] == 128 and result["val_images"] == 16
    assert result["loss"] == str(jaxgp.parse(expression))
    assert result["loss_check_rel_diff"] < 1e-5
    assert result["images_per_s"] > 0 and result["evaluation_s"] > 0


def test_without_scipy_the_authors_generator_stops_at_once_with_a_one_line_error(tmp_path):
    if importlib.util.find_spec("keras") is None:
        pytest.skip("Keras 3 is not installed (pip install keras)")
    without_scipy = WITHOUT_JAXGP.replace(
        '["benchmarks"] = None', '["benchmarks"] = sys.modules["scipy"] = None'
    )
    command = [sys.executable, "-c", without_scipy, str(SCRIPT), "--smoke", "--json", "-"]
    env = {**os.environ, "KERAS_BACKEND": "jax", "TF_CPP_MIN_LOG_LEVEL": "2"}
    done = subprocess.run(command, capture_output=True, text=True, env=env, timeout=300)
    assert done.returncode == 1 and done.stdout == ""
    last = done.stderr.strip().splitlines()[-1]
    assert last.startswith("error: the authors' ImageDataGenerator needs SciPy")
    assert "--augment layers" in last and "Traceback" not in done.stderr


def test_a_failed_process_is_reported_by_its_last_line_first_then_whole_earlier_lines():
    lines = ["Traceback (most recent call last):\n", '  File "x.py", line 3\n', "\n",
             "ImportError: This requires the scipy module\n"]  # fmt: skip
    error = readable_error(1, lines)
    assert first_line(error) == "exit 1: ImportError: This requires the scipy module"
    assert error.splitlines()[1:] == ["Traceback (most recent call last):", '  File "x.py", line 3']
    short = readable_error(1, ["a" * 50 + "\n", "b" * 50 + "\n", "ImportError: x\n"], limit=80)
    assert short.splitlines() == ["exit 1: ImportError: x", "b" * 50]
    assert readable_error(-9, []) == "exit -9: no output"


def test_the_files_run_by_path_in_another_python_are_where_their_callers_look():
    from benchmarks.micro import op_profile
    from benchmarks.vs_keras import keras_side

    assert _reference_module().DEFAULT_LOSS_MODULE.is_file()
    assert (keras_side.HERE / "reference_keras.py").is_file()
    assert (op_profile.KERAS_SIDE / "op_profile_keras.py").is_file()
