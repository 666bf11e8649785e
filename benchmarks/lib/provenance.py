"""Where a benchmark's numbers come from, written with them: the device, the commit, the file.

The Keras reference (vs_keras/reference_keras.py) keeps its own `git_commit`: it runs in
another Python, which may have neither jax nor this package.
"""

from __future__ import annotations

import json
import platform
import subprocess
from pathlib import Path

import jax

ROOT = Path(__file__).resolve().parents[2]
"""The checkout: benchmarks/lib/ is two folders below it."""


def device_description() -> str:
    """The first device's kind, the backend and the host's architecture."""
    return f"{jax.devices()[0].device_kind} ({jax.default_backend()}, {platform.machine()})"


def write_json(path: str | None, report: dict) -> None:
    """A benchmark's full report written to `path` (its `--json`), when given; `-`: stdout."""
    if path == "-":
        print(json.dumps(report, indent=2))
    elif path:
        Path(path).write_text(json.dumps(report, indent=2))


def git_commit() -> str:
    try:
        return subprocess.check_output(
            ["git", "rev-parse", "--short", "HEAD"], text=True, cwd=ROOT, stderr=subprocess.DEVNULL
        ).strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
