"""The GPU program checked without a GPU: jaxgp's training step compiled for an H200 target
on this CPU (benchmarks/gpu/compile.py), and the sweep's helpers.

The compile test needs the CUDA compile plugin (`python -m benchmarks.gpu.compile
--install`, which the README's test command runs) and is skipped, saying so, without it.
It compiles small_cnn's host-loop step at K = 1 and K = 2 (`vmap`) with the loss
interpreter's node cap at 8: XLA's GPU fusion pass takes most of the compile time and grows
with the interpreter's size, whose structure (the select form: no loop, no conditional)
does not depend on the cap.
"""

import json
import os
import subprocess
import sys

import pytest

import benchmarks.gpu.compile as gpu_compile
import benchmarks.gpu.target as gpu_target
from tests.xla_env import FAST_COMPILE_ENV

COMMAND = [sys.executable, "-m", "benchmarks.gpu.compile"]
"""Run in the checkout (`cwd=gpu_target.ROOT`), where `-m` finds the package."""


@pytest.mark.skipif(
    not gpu_target.plugin_available(),
    reason="the CUDA compile plugin is not installed: python -m benchmarks.gpu.compile --install",
)
def test_the_step_compiled_for_an_h200_has_no_unknown_loop_no_conditional_and_groups_only_batched(
    tmp_path,
):
    out = tmp_path / "h200.json"
    command = [*COMMAND, "--target", "h200", "--model", "small_cnn", "--ks", "1,2",
               "--dtypes", "float32", "--strategies", "vmap", "--loops", "host",
               "--max-nodes", "8", "--json", str(out)]  # fmt: skip
    env = dict(os.environ, **FAST_COMPILE_ENV)  # what it checks is XLA's, not LLVM's
    done = subprocess.run(
        command, capture_output=True, text=True, timeout=900, cwd=gpu_target.ROOT, env=env
    )
    assert done.returncode == 0, done.stderr[-2000:]
    rows = {row["k"]: row for row in json.loads(out.read_text())["rows"]}
    assert sorted(rows) == [1, 2]
    for row in rows.values():
        assert "error" not in row, row["error"]
        assert row["hlo"]["while_unknown_trip_count"] == 0
        assert row["hlo"]["conditional"] == 0
        assert row["hlo"]["host_callbacks"] == 0
        assert row["cudnn_calls"] > 0  # the convolutions went to cuDNN: a GPU program
        assert row["footprint_mib"] > 0
    assert set(rows[1]["hlo"]["convolutions"]) == {"groups=1"}
    assert "groups=2" in rows[2]["hlo"]["convolutions"]  # what vmap makes of K = 2


def test_the_plugin_is_pinned_to_the_jaxlib_that_loads_it():
    assert gpu_target.requirements("0.11.2")[0] == "jax-cuda12-pjrt==0.11.2.*"
    assert any(r.startswith("nvidia-cuda-nvcc-cu12") for r in gpu_target.requirements("0.11.2"))


def test_the_target_files_describe_an_h200_and_an_a100():
    assert gpu_target.target_names() == ["a100", "h200"]
    h200, a100 = (gpu_target.target_config(name) for name in ("h200", "a100"))
    assert gpu_target.target_memory_bytes(h200) == 151397597184
    assert gpu_target.target_memory_bytes(a100) == 85100068864
    assert "major: 9" in h200 and "major: 8" in a100


def test_k_one_is_compiled_once_whatever_the_strategies():
    args = gpu_compile.build_parser().parse_args(
        ["--model", "small_cnn", "--ks", "1,2", "--dtypes", "float32", "--loops", "host"]
    )
    found = [(c["k"], c["model_strategy"]) for c in gpu_compile.cases(args)]
    assert found == [(1, "-"), (2, "vmap"), (2, "map")]


def test_the_largest_k_is_the_footprint_line_through_the_smallest_and_largest_k_in_budget():
    def row(k, strategy, footprint=None, **extra):
        return {"k": k, "dtype": "bfloat16", "model_strategy": strategy, "epoch_loop": "host",
                "footprint_mib": footprint, **extra}  # fmt: skip

    rows = [
        row(1, "-", 1100.0),
        row(4, "vmap", 4100.0),
        row(2, "vmap", error="exit 1: boom"),
        row(2, "map", 5000.0),
        row(4, "map", 9000.0),  # K = 1 is not on map's line
    ]
    memory = 100 * 2**30
    fits = {fit["model_strategy"]: fit for fit in gpu_compile.largest_k(rows, memory, 0.2)}
    budget_mib = 100 * 1024 * 0.75 * 0.8
    vmap, as_map = fits["vmap"], fits["map"]
    assert vmap["from_k"] == [1, 4] and vmap["mib_per_extra_candidate"] == pytest.approx(1000.0)
    assert vmap["largest_k"] == int((budget_mib - 100.0) // 1000.0) == 61
    assert vmap["largest_power_of_two"] == 32
    assert as_map["from_k"] == [2, 4] and as_map["fixed_mib"] == pytest.approx(1000.0)
    assert as_map["largest_k"] == int((budget_mib - 1000.0) // 2000.0) == 30


def test_a_case_that_fails_is_a_row_with_its_one_line_error(tmp_path):
    case = {"target": "h200", "model": "no_such_model", "data": "32x32x3:10",
            "train_images": 128, "batch_size": 64, "input_size": None, "max_nodes": 8, "k": 1,
            "dtype": "float32", "model_strategy": "-", "loss_strategy": "vmap",
            "epoch_loop": "host"}  # fmt: skip
    row = gpu_compile.run_case(case, timeout=300, plugin_dir=tmp_path)  # no plugin there
    assert row["model"] == "no_such_model" and row["error"].startswith("exit ")
    assert "\n" not in row["error"] and len(row["error"]) > len("exit 2: ")


def test_an_unknown_target_is_a_one_line_error_and_a_nonzero_exit():
    done = subprocess.run([*COMMAND, "--target", "h300"], capture_output=True, text=True,
                          timeout=120, cwd=gpu_target.ROOT)  # fmt: skip
    assert done.returncode == 2
    assert done.stderr.strip().splitlines() == [
        "error: unknown GPU target 'h300'; known: a100, h200"
    ]


def test_a_gpu_target_is_compiled_with_the_policy_of_a_gpu_not_of_this_cpu():
    from jaxgp import policy

    assert policy.default_loss_strategy("cpu") == "map"
    assert policy.default_loss_strategy("cuda") == "vmap"
    assert policy.default_epoch_loop("cuda") == "scan"
    assert gpu_compile.build_parser().parse_args([]).loss_strategy == "vmap"


def test_without_a_jax_plugins_package_the_plugin_is_not_available_and_nothing_raises(
    monkeypatch, tmp_path
):
    def no_package(name):
        raise ModuleNotFoundError(f"No module named {name.split('.')[0]!r}")

    monkeypatch.setattr(gpu_target.importlib.util, "find_spec", no_package)
    assert gpu_target.plugin_installed_here() is False
    assert gpu_target.plugin_available(tmp_path) is False  # an empty install directory
