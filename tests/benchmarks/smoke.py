"""The benchmarks' smoke runs as background processes, started once per test session.

`start` launches them when the suite is collected (tests/conftest.py) at the lowest CPU
priority, so they use what the other tests leave idle on a 2-core machine (most tests wait
on one single-threaded XLA compilation) instead of holding the suite for their own five
minutes; tests/benchmarks/test_smoke.py runs last and reads them with `results`.
"""

from __future__ import annotations

import atexit
import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from tests.xla_env import FAST_COMPILE_ENV

ROOT = Path(__file__).resolve().parents[2]
GPU_RUN = ROOT / "benchmarks" / "gpu_run.py"
"""Run by its path, as the standing order runs it; the others run as modules in the checkout."""
SIMULATED_PLUGIN = ROOT / "tests" / "simulated_plugin"
TIMEOUT = 2400
"""Seconds the last smoke run may take after the suite reaches the smoke tests."""

BUDGET = 3600
"""The GPU run's own time budget for its smoke: at the lowest priority beside the suite it
takes several times its quiet two minutes."""

_started: dict | None = None


def env() -> dict[str, str]:
    """The environment of a benchmark process: Keras on jax unless told otherwise, and XLA
    compiling with fewer optimisations (`tests/xla_env.py`): a smoke run proves the script
    works, its figures mean nothing, and its compilations cost the suite's CPU (the smoke
    runs took 370 CPU-seconds, 263 with fewer optimisations, on 2 cores)."""
    environment = {**os.environ, **FAST_COMPILE_ENV}
    environment.setdefault("KERAS_BACKEND", "jax")
    environment.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    return environment


def _commands(out: Path) -> dict[str, list[str]]:
    return {
        "gpu_run": [
            sys.executable, str(GPU_RUN), "--smoke", "--out", str(out / "gpu"),
            "--budget", str(BUDGET),
        ],
        "interpreter": [
            sys.executable, "-m", "benchmarks.micro.interpreter", "--smoke",
            "--json", str(out / "interpreter.json"),
        ],
        "screen": [
            sys.executable, "-m", "benchmarks.studies.screen", "--smoke",
            "--json", str(out / "screen.json"),
        ],
        "early_stop": [
            sys.executable, "-m", "benchmarks.studies.early_stop", "--smoke",
            "--json", str(out / "early_stop.json"),
        ],
        "compare": [
            sys.executable, "-m", "benchmarks.vs_keras.compare", "--smoke",
            "--json", str(out / "compare.json"), "--markdown", str(out / "compare.md"),
        ],
        "prior_language": [
            sys.executable, "-m", "benchmarks.studies.prior_language", "noise", "--smoke",
            "--json", str(out / "prior_language.json"),
        ],
        "step_profile": [
            sys.executable, "-m", "benchmarks.micro.step_profile", "--smoke",
            "--json", str(out / "step_profile.json"),
        ],
        "gpu_run_plugin": [
            sys.executable, str(GPU_RUN), "--smoke", "--out",
            str(out / "gpu_plugin"), "--parts", "environment,inception",
            "--inception-rows", "k1_host_bf16,k4_vmap_bf16", "--budget", str(BUDGET),
        ],
    }  # fmt: skip


def start() -> None:
    """Start every smoke run (once); their files go to a temporary directory."""
    global _started
    if _started is not None:
        return
    out = Path(tempfile.mkdtemp(prefix="jaxgp-bench-smoke-"))
    atexit.register(shutil.rmtree, out, ignore_errors=True)
    plugin = dict(env(), PYTHONPATH=os.pathsep.join([str(SIMULATED_PLUGIN), str(ROOT)]))
    processes = {}
    for name, command in _commands(out).items():
        processes[name] = subprocess.Popen(
            command,
            cwd=ROOT,
            env=plugin if name == "gpu_run_plugin" else env(),
            stdout=open(out / f"{name}.stdout", "w"),  # noqa: SIM115  (closed at exit)
            stderr=open(out / f"{name}.stderr", "w"),  # noqa: SIM115
            preexec_fn=lambda: os.nice(19),
        )
    _started = {"out": out, "processes": processes}
    atexit.register(_kill, processes)


def _kill(processes: dict) -> None:
    for process in processes.values():
        if process.poll() is None:
            process.kill()


def results() -> dict:
    """Wait for the smoke runs; name -> (returncode, stdout, stderr, json report), with the
    compare run's Markdown under "markdown" and the output directory under "out"."""
    start()
    out, processes = _started["out"], _started["processes"]
    found = {}
    for name, process in processes.items():
        try:
            process.wait(timeout=TIMEOUT)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        path = out / f"{name}.json"
        report = json.loads(path.read_text()) if path.exists() else None
        stdout = (out / f"{name}.stdout").read_text()
        stderr = (out / f"{name}.stderr").read_text()
        found[name] = (process.returncode, stdout, stderr, report)
    found["markdown"] = (out / "compare.md").read_text() if (out / "compare.md").exists() else ""
    found["out"] = out
    return found
