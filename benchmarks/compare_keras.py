"""Run the Keras reference (`reference_keras.py`) for `compare.py`, one process per dataset.

The reference runs in `--keras-python`, on `--keras-backend`, with the same sizes as jaxgp.
"""

from __future__ import annotations

import argparse
import os
import subprocess
from pathlib import Path

from compare_process import run_json

HERE = Path(__file__).resolve().parent
KERAS_MODEL = {"small_cnn": "small", "inception_v3": "inception_v3"}


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


def run_keras(args: argparse.Namespace, loss: str) -> list[dict]:
    """The reference's result per dataset, or {'dataset', 'error'} where it did not run."""
    command = [args.keras_python, str(HERE / "reference_keras.py")]
    command += ["--model", KERAS_MODEL[args.model], "--loss", loss]
    command += ["--candidates", str(args.keras_candidates)]
    command += ["--train-images", str(args.train_images), "--epochs", str(args.epochs)]
    command += ["--batch-size", str(args.batch_size)]
    if args.input_size is not None:
        command += ["--input-size", str(args.input_size)]
    if args.keras_backend:
        command += ["--backend", args.keras_backend]
    if args.smoke:
        command += ["--smoke"]
    results = []
    for name in args.datasets:
        result = run_json([*command, "--data", name])
        result["dataset"] = name
        results.append(result)
    return results
