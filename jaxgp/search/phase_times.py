"""What one phase of a run cost: `Stopwatch` measures it, `PhaseTimes` records it (the
summary's phases and its totals)."""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Mapping
from dataclasses import dataclass

from jaxgp import compilation


@dataclass(frozen=True)
class PhaseTimes:
    """Wall seconds and XLA compilations (their seconds and the cache's hits) of a phase."""

    wall_seconds: float
    compilations: int
    compile_seconds: float
    compilation_cache_hits: int
    wall_seconds_excluding_compilation: float

    def to_dict(self) -> dict:
        """The fields as the summary writes them, in order."""
        return dataclasses.asdict(self)

    @staticmethod
    def from_dict(data: Mapping) -> PhaseTimes:
        """The times `to_dict` wrote (in `data` beside other keys)."""
        return PhaseTimes(
            float(data["wall_seconds"]), int(data["compilations"]),
            float(data["compile_seconds"]), int(data["compilation_cache_hits"]),
            float(data["wall_seconds_excluding_compilation"]),
        )  # fmt: skip


class Stopwatch:
    """Started when made; `times()` is what the process spent since."""

    def __init__(self) -> None:
        self.compiles, self.start = compilation.totals(), time.perf_counter()

    def times(self) -> PhaseTimes:
        now, wall = compilation.totals(), time.perf_counter() - self.start
        compile_seconds = now.seconds - self.compiles.seconds
        return PhaseTimes(
            wall_seconds=wall,
            compilations=now.count - self.compiles.count,
            compile_seconds=compile_seconds,
            compilation_cache_hits=now.cache_hits - self.compiles.cache_hits,
            wall_seconds_excluding_compilation=max(0.0, wall - compile_seconds),
        )
