"""`tracking.json` in a run directory: which trackers follow the run, and how far they got.

A tracker's entry holds what it needs to continue the same tracking run when the search is
resumed (MLflow's store and run id) and `logged`, the last generation it logged of each
algorithm, so that the generations a resume replays from the ledger are not logged twice.
The file is written atomically after each logged generation; a failure to write it is the
tracker's failure (a warning), never the search's.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from jaxgp.search.rundir import read_json, write_json_atomic

STATE = "tracking.json"


def read_state(run_dir: Path) -> dict[str, dict[str, Any]]:
    """Tracker name -> its entry; empty for a run never tracked (or an unreadable file)."""
    try:
        state = read_json(Path(run_dir) / STATE)
    except (OSError, ValueError):
        return {}
    trackers = state.get("trackers") if isinstance(state, dict) else None
    return {k: v for k, v in (trackers or {}).items() if isinstance(v, dict)}


def write_state(run_dir: Path, trackers: dict[str, dict[str, Any]]) -> None:
    write_json_atomic(Path(run_dir) / STATE, {"trackers": trackers})
