"""Run the Keras reference (`reference_keras.py`) for `compare.py`, on the files jaxgp wrote.

The reference runs in `--keras-python` (which may have TensorFlow and no jaxgp or jax), one
process per dataset, on the inputs that `compare.py`'s jaxgp worker handed over in one
directory (`ReferenceInputs`): each dataset's images as an .npz, the loss as the module
`jaxgp export --framework keras` writes, and jaxgp's values of that loss on probe inputs.
"""

from __future__ import annotations

import argparse
import os
import subprocess
from dataclasses import dataclass
from pathlib import Path

from benchmarks.vs_keras.process import run_json

HERE = Path(__file__).resolve().parent
KERAS_MODEL = {"small_cnn": "small", "inception_v3": "inception_v3"}


@dataclass(frozen=True)
class ReferenceInputs:
    """Where the jaxgp side puts what the reference needs (file formats: reference_keras.py)."""

    directory: Path

    @property
    def loss_module(self) -> Path:
        return self.directory / "loss_keras.py"

    @property
    def loss_check(self) -> Path:
        return self.directory / "loss_check.npz"

    def data(self, dataset: str) -> Path:
        return self.directory / f"data_{dataset}.npz"


def keras_available(python: str, backend: str | None) -> str | None:
    """None if the Keras reference can run, else the reason it cannot."""
    env = dict(os.environ)
    if backend:
        env["KERAS_BACKEND"] = backend
    elif "KERAS_BACKEND" not in env:
        probe = "import importlib.util as u; print(bool(u.find_spec('tensorflow')))"
        has_tf = subprocess.run([python, "-c", probe], capture_output=True, text=True)
        env["KERAS_BACKEND"] = "tensorflow" if has_tf.stdout.strip() == "True" else "jax"
    process = subprocess.run(
        [python, "-c", "import keras; print(keras.backend.backend())"],
        capture_output=True,
        text=True,
        env=env,
    )
    if process.returncode != 0:
        last = (process.stderr.strip().splitlines() or ["?"])[-1]
        return f"keras on {env['KERAS_BACKEND']} is not importable by {python}: {last}"
    return None


def run_keras(args: argparse.Namespace, inputs: ReferenceInputs) -> list[dict]:
    """The reference's result per dataset, or {'dataset', 'error'} where it did not run."""
    command = [args.keras_python, str(HERE / "reference_keras.py")]
    command += ["--model", KERAS_MODEL[args.model], "--candidates", str(args.keras_candidates)]
    command += ["--loss-module", str(inputs.loss_module), "--loss-check", str(inputs.loss_check)]
    command += ["--epochs", str(args.epochs), "--batch-size", str(args.batch_size)]
    if args.input_size is not None:
        command += ["--input-size", str(args.input_size)]
    if args.keras_backend:
        command += ["--backend", args.keras_backend]
    if args.smoke:
        command += ["--smoke"]
    results = []
    for name in args.datasets:
        missing = [p for p in (inputs.loss_module, inputs.data(name)) if not p.exists()]
        if missing:
            error = f"jaxgp's side did not write {', '.join(map(str, missing))}"
            results.append({"dataset": name, "error": error})
            continue
        result = run_json([*command, "--data-npz", str(inputs.data(name))])
        result["dataset"] = name
        results.append(result)
    return results
