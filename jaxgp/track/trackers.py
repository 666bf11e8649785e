"""The trackers `--track` names, and what each is asked to do.

`--track tensorboard` and `--track mlflow[=URI]` (repeatable; `--track none` for none). A
tracker is started once the run directory is ready, told each generation's statistics,
told the end of a finished run, and closed with the run's status (`FINISHED`, `KILLED` for
Ctrl-C, `FAILED`). Each lives in an optional extra (`pip install 'jaxgp[track]'`); asking
for one whose package is missing is a one-line error before anything is written.
"""

from __future__ import annotations

import importlib.util
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from jaxgp.errors import ConfigError
from jaxgp.search.run_settings import RunSettings
from jaxgp.track.ending import RunEnd
from jaxgp.track.stats import GenerationStats

PACKAGES = {"tensorboard": ("tensorboard", "TensorBoard"), "mlflow": ("mlflow", "MLflow")}
"""Tracker name -> (the module it needs, its name)."""
NONE = "none"


@dataclass(frozen=True)
class TrackSpec:
    """One `--track` value: a tracker and its target (MLflow's tracking URI), if given."""

    name: str
    target: str | None = None

    def __str__(self) -> str:
        return self.name if self.target is None else f"{self.name}={self.target}"


@dataclass(frozen=True)
class Context:
    """What a tracker starts from."""

    run_dir: Path
    settings: RunSettings
    resumed: bool
    previous: dict[str, Any]
    """Its entry in `tracking.json` from an earlier session of the run ({} if none)."""


class Tracker(Protocol):
    name: str

    def start(self, context: Context) -> dict[str, Any]:
        """Open (or reopen) the tracking run; returns the entry to keep in `tracking.json`."""

    def generation(self, stats: GenerationStats) -> None: ...

    def finish(self, end: RunEnd) -> None: ...

    def close(self, status: str) -> None: ...


def installed(name: str) -> bool:
    return importlib.util.find_spec(PACKAGES[name][0]) is not None


def missing_package(name: str) -> str:
    module, title = PACKAGES[name]
    return f"--track {name} needs {title}: pip install 'jaxgp[track]' (or pip install {module})"


def parse_tracks(
    values: Sequence[str] | None, *, check_installed: bool = True
) -> tuple[TrackSpec, ...] | None:
    """The trackers `--track` asks for (None: not given; (): `none`); `ConfigError` for an
    unknown one or (`check_installed`: on the process that tracks) one whose package is not
    installed."""
    if values is None:
        return None
    specs = []
    for value in values:
        name, _, target = value.partition("=")
        name = name.strip()
        if name == NONE and not target:
            continue
        if name not in PACKAGES:
            raise ConfigError(
                f"unknown tracker {value!r}; valid: tensorboard, mlflow, mlflow=URI, none"
            )
        if target and name != "mlflow":
            raise ConfigError(f"--track {name} takes no =VALUE (its files go to RUN/{name}/)")
        if check_installed and not installed(name):
            raise ConfigError(missing_package(name))
        specs.append(TrackSpec(name, target or None))
    return tuple(dict.fromkeys(specs))


def make(spec: TrackSpec) -> Tracker:
    if spec.name == "tensorboard":
        from jaxgp.track.tensorboard_tracker import TensorBoardTracker

        return TensorBoardTracker()
    from jaxgp.track.mlflow_tracker import MlflowTracker

    return MlflowTracker(spec.target)
