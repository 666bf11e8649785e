"""Run one side of `compare.py` (the jaxgp worker, the Keras reference) and read its JSON."""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
"""The checkout, where a side runs: `-m benchmarks...` finds this package there."""


def readable_error(returncode: int | None, lines: list[str], limit: int = 3000) -> str:
    """A failed process's error: the exit code and its last line (where Python names the
    exception) first, then the whole lines before it that fit in `limit` characters."""
    lines = [line.rstrip() for line in lines if line.strip()]
    head = f"exit {returncode}: {lines[-1] if lines else 'no output'}"
    earlier: list[str] = []
    for line in reversed(lines[:-1]):
        if len(head) + sum(len(x) + 1 for x in earlier) + len(line) + 1 > limit:
            break
        earlier.insert(0, line)
    return "\n".join([head, *earlier])


def first_line(error: str) -> str:
    return error.splitlines()[0] if error else error


def run_json(command: list[str], env: dict[str, str] | None = None) -> dict:
    """Run `command` with `--json FILE` appended; its JSON, or {'error': stderr tail}.

    The child's stderr (progress lines) is passed on to ours as it comes.
    """
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "result.json"
        process = subprocess.Popen(
            [*command, "--json", str(out)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
            cwd=ROOT,
            env=env,
        )
        tail: list[str] = []
        for line in process.stderr:
            sys.stderr.write(line)
            tail = (tail + [line])[-40:]
        process.wait()
        if process.returncode != 0 or not out.exists():
            return {"error": readable_error(process.returncode, tail)}
        return json.loads(out.read_text())
