"""The benchmarks run end to end at smoke sizes and report well-formed, positive numbers.

`benchmarks/gpu_run.py --smoke` (every part of the GPU measurement at toy sizes, and with
them `micro.throughput --smoke` and `vs_keras/reference_keras.py --smoke`), and the modules
`vs_keras.compare`, `micro.step_profile`, `micro.interpreter`, `studies.screen`,
`studies.early_stop` and `studies.prior_language noise`, each with `--smoke`, run as
subprocesses in the background from the start of the suite (tests/benchmarks/smoke.py),
and these tests, which read them, run last. compare runs jaxgp and the Keras reference; the
Keras part is skipped, with the reason, when Keras or its backend cannot be imported. The
Keras reference runs on the jax backend unless KERAS_BACKEND says otherwise, so it needs no
TensorFlow.
"""

from __future__ import annotations

import json
import math
import subprocess
import sys

import pytest

from benchmarks.gpu.parts import INCEPTION_ROWS
from benchmarks.gpu.run import ORDER
from tests.benchmarks import smoke as benchmark_smoke


def _keras_missing() -> str | None:
    probe = subprocess.run(
        [sys.executable, "-c", "import keras; keras.ops.zeros(1)"],
        capture_output=True,
        text=True,
        env=benchmark_smoke.env(),
        timeout=120,
    )
    if probe.returncode != 0:
        lines = probe.stderr.strip().splitlines() or ["unknown error"]
        return f"keras on {benchmark_smoke.env()['KERAS_BACKEND']} is not importable: {lines[-1]}"
    return None


def _positive(value) -> bool:
    return isinstance(value, int | float) and math.isfinite(value) and value > 0


@pytest.fixture(scope="module")
def smoke_runs():
    """The smoke runs' (returncode, stdout, stderr, json), started when the suite was
    collected (tests/conftest.py) so that they run beside the other tests."""
    return benchmark_smoke.results()


def test_the_gpu_run_smoke_measures_every_part_into_at_most_eight_files(smoke_runs):
    code, stdout, stderr, _ = smoke_runs["gpu_run"]
    out = smoke_runs["out"] / "gpu"
    assert code == 0, (stdout + stderr)[-3000:]
    rows = json.loads((out / "results.json").read_text())["rows"]
    assert [part for part in ORDER if any(r["part"] == part for r in rows)] == list(ORDER)
    failed = [
        r for r in rows if "error" in r and (r["part"] != "keras" or _keras_missing() is None)
    ]
    assert failed == []
    inception = {r["name"]: r for r in rows if r["part"] == "inception"}
    assert list(inception) == list(INCEPTION_ROWS)
    for row in inception.values():
        for key in ("candidate_images_per_s", "step_ms", "compile_s", "achieved_tflop_per_s"):
            assert _positive(row[key]), (row["name"], key)
        assert row["memory_source"] == "memory analysis"
        one_step = row["k"] == 1 and row["epoch_loop"] == "host"  # compiled anyway: its count
        assert row["flops_source"] == ("compiled" if one_step else "lowered (CPU client)")
        assert row["hlo"]["fusions"] > 0
    assert inception["k4_vmap_bf16"]["against"] == "k1_bf16" and _positive(
        inception["k4_vmap_bf16"]["vs"]
    )
    small = [r for r in rows if r["part"] == "small_cnn"]
    assert [r["k"] for r in small] == [1, 2]
    assert all(_positive(r["candidate_images_per_s"]) for r in small)
    (diverging,) = [r for r in rows if r["part"] == "diverging"]
    assert diverging["returncode"] == 0 and "1 passed" in diverging["outcome"]
    (compare,) = [r for r in rows if r["part"] == "compare"]
    assert compare["evaluations"] == 2 + 2 + 1 and _positive(compare["wall_s"])
    trace = json.loads((out / "trace.json").read_text())
    assert {"xla_op_ms_per_step_by_part", "host_waits_per_step", "steps"} <= set(trace)
    files = sorted(path.name for path in out.iterdir())
    assert {"env.txt", "results.json", "results.md", "log.txt", "compare_report.md"} <= set(files)
    assert len(files) <= 8 and all(path.is_file() for path in out.iterdir())
    assert stdout.rstrip().endswith("|") and "## compare" in stdout[-2000:]


def test_without_cost_or_memory_analyses_the_gpu_run_still_reports_flops_mfu_and_memory(
    smoke_runs,
):
    """Through the CUDA plugin `cost_analysis()` and `memory_analysis()` give nothing; the
    simulated plugin (tests/simulated_plugin) does the same on this CPU."""
    code, stdout, stderr, _ = smoke_runs["gpu_run_plugin"]
    assert code == 0, (stdout + stderr)[-3000:]
    rows = json.loads((smoke_runs["out"] / "gpu_plugin" / "results.json").read_text())["rows"]
    inception = {r["name"]: r for r in rows if r["part"] == "inception"}
    assert list(inception) == ["k1_host_bf16", "k4_vmap_bf16"]
    # the MFU is there where the environment part measured the peak it divides by: on a busy
    # machine that part can run out of its time box (its values belong to the benchmarks)
    peaks = [r.get("bf16_tflop_per_s") for r in rows if r["part"] == "environment"]
    measured = bool(peaks) and _positive(peaks[0])
    for row in inception.values():
        assert "error" not in row, row.get("error")
        assert row["flops_source"] == "lowered (CPU client)"
        assert row["memory_source"] == "allocator peak"
        for key in ("candidate_step_gflop", "achieved_tflop_per_s", "memory_per_candidate_mb"):
            assert _positive(row[key]), (row["name"], key)
        assert _positive(row["mfu_measured_peak"]) if measured else "mfu_measured_peak" in row
    assert inception["k4_vmap_bf16"]["hlo_grouped_convolutions"] > 0
    assert inception["k1_host_bf16"]["hlo_grouped_convolutions"] == 0


def test_interpreter_smoke(smoke_runs):
    code, stdout, stderr, report = smoke_runs["interpreter"]
    assert code == 0, stderr[-3000:]
    assert {row["form"] for row in report["losses"]} == {"select", "switch"}
    assert {row["language"] for row in report["losses"]} == {"thesis", "priors"}
    assert all(_positive(row["ms"]) and _positive(row["compile_s"]) for row in report["losses"])
    assert all(_positive(row["step_ms"]) for row in report["steps"])


def test_prior_language_smoke(smoke_runs):
    code, stdout, stderr, report = smoke_runs["prior_language"]
    assert code == 0, stderr[-3000:]
    assert [row["loss"] for row in report["summary"]] == ["ce", "la"]
    assert report["rows"]["la"]["val"] and len(report["rows"]["ce"]["val"]) == 2
    assert report["summary"][0]["val_minus_ce_mean"] == 0.0


def test_step_profile_smoke(smoke_runs):
    code, stdout, stderr, report = smoke_runs["step_profile"]
    assert code == 0, stderr[-3000:]
    assert set(report["parts_ms"]) == {
        "batch + augmentation",
        "model forward",
        "model forward + backward",
        "loss (interpreter)",
        "Adam update",
    }
    assert all(_positive(ms) for ms in report["parts_ms"].values())
    assert set(report["step_ms"]) == {"host loop", "scanned epoch"}
    assert all(_positive(ms) for ms in report["step_ms"].values())
    assert math.isfinite(report["rest_ms"])
    assert "| step, host loop |" in stdout


def test_compare_smoke_jaxgp(smoke_runs):
    code, stdout, stderr, report = smoke_runs["compare"]
    assert report is not None, stderr[-3000:]
    assert report["complete"]
    jaxgp = report["jaxgp"]
    assert "error" not in jaxgp, jaxgp.get("error")
    assert jaxgp["backend"].startswith("jax ")
    (row,) = jaxgp["rows"]
    assert row["k"] == 1 and row["dataset"] == "cifar10"
    for key in ("candidate_images_per_s", "val_candidate_images_per_s", "evaluation_s"):
        assert _positive(row[key]), key
    # the timed call reuses the first call's compilation
    assert row["evaluation_compilations"] == 0
    for field in ("date", "commit", "command", "device"):
        assert report[field]
    projection = {(r["scale"], r["experiment"]): r for r in report["projection"]}
    assert projection["small", "sample_tournament"]["evaluations"] == 8 + 4 * 3
    assert projection["small", "ngl"]["evaluations"] == 8 + 4 * 8
    assert projection["large", "sample_tournament"]["evaluations"] == 8 + 12 * 3
    assert projection["large", "ngl"]["evaluations"] == 8 + 12 * 8
    assert projection["small", "compare"]["evaluations"] == 8 + 4 * 3 + 4 * 8
    for row in report["projection"]:
        assert _positive(row["jaxgp_s"]) and _positive(row["thesis_s"])
    assert "| small | sample_tournament | 20 |" in smoke_runs["markdown"]
    assert code == 0 or any("error" in r for r in report["keras"]), stderr[-3000:]


def test_compare_smoke_keras(smoke_runs):
    code, stdout, stderr, report = smoke_runs["compare"]
    assert report is not None, stderr[-3000:]
    skipped = [r["skipped"] for r in report["keras"] if "skipped" in r]
    if skipped:
        reason = _keras_missing()
        if reason is None:
            pytest.fail(f"keras is importable but compare skipped it: {skipped}")
        pytest.skip(reason)
    assert code == 0, stderr[-3000:]
    (keras,) = report["keras"]
    assert "error" not in keras, keras.get("error")
    assert keras["tool"] == "reference_keras"
    assert keras["backend"].split()[0] in {"tensorflow", "jax", "torch"}
    assert keras["command"].endswith("--smoke") or "--smoke" in keras["command"]
    for key in ("images_per_s", "val_images_per_s", "evaluation_s", "build_s", "fit_s"):
        assert _positive(keras[key]), key
    assert keras["train_images"] == 128 and keras["val_images"] == 16
    # jaxgp's side handed over its own images and the loss as `jaxgp export` writes it
    assert keras["data"].startswith("synthetic:cifar10, jaxgp's images")
    assert keras["loss"] == report["settings"]["loss"]
    # that Keras loss agrees with jaxgp's own lowering on the probes jaxgp wrote
    assert keras["loss_check_rel_diff"] < 1e-5
    ratios = {row["implementation"]: row for row in report["comparison"]}
    assert _positive(ratios["jaxgp K=1"]["vs_keras"])
    for row in report["projection"]:
        assert _positive(row["keras_s"]) and _positive(row["speedup"])


def test_screen_smoke(smoke_runs):
    code, stdout, stderr, report = smoke_runs["screen"]
    assert code == 0, stderr[-3000:]
    assert set(report["learn_fraction"]) == {"thesis", "learnable"}
    assert all(0.0 <= f <= 1.0 for f in report["learn_fraction"].values())
    assert len(report["accuracies"]["learnable"]) == report["trees"] == 4
    assert all(_positive(s) for s in report["seconds_per_tree"].values())


def test_early_stop_smoke(smoke_runs):
    code, stdout, stderr, report = smoke_runs["early_stop"]
    assert code == 0, stderr[-3000:]
    (baseline,) = report["policies"].values()
    assert -1.0 <= baseline["spearman"] <= 1.0 or math.isnan(baseline["spearman"])
    assert baseline["stops_match_the_full_curves"] is True
    assert baseline["steps_full"] % (report["trees"] * report["epochs"]) == 0
    assert 0 < baseline["steps"] <= baseline["steps_full"]
    assert _positive(baseline["seconds"]) and _positive(baseline["seconds_full"])
    assert 0.0 <= report["asha_simulated"]["best_kept_fraction"] <= 1.0
    assert len(report["val_curves"]) == report["trees"] == 4
