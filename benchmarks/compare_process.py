"""Run one side of `compare.py` (the jaxgp worker, the Keras reference) and read its JSON."""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


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
            return {"error": f"exit {process.returncode}: {''.join(tail)[-3000:]}"}
        return json.loads(out.read_text())
