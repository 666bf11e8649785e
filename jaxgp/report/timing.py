"""The report's execution-time tables (thesis Table 4.4), in jaxgp's and the thesis's accounting.

jaxgp's `compare` evaluates the shared initial population once, before either algorithm,
and times each algorithm from the moment after it (`jaxgp.search.summary.TIMING`), so no
algorithm's time includes it. The thesis's Algorithm 2 times each algorithm including its
own evaluation of the initial population. `time_reduction` and `accountings` give the
tournament's change against NGL in both: jaxgp's, and the thesis's, where the initial
population's time is added to each algorithm's, which is the number to set beside the
thesis's -64.0 % (small scale) and -57.9 % (large). The CE baselines are in neither.

- `execution_time`: each phase's wall time, compilations and summed training time;
- `time_reduction`: the tournament's change against NGL in percent, by every measure;
- `accountings`: NGL's and the tournament's time and the change, in both accountings.
"""

from __future__ import annotations

from typing import Any

from jaxgp.report.run_data import RunData
from jaxgp.report.tables import DASH, Table, finite, fmt_percent, fmt_seconds
from jaxgp.search.labels import Stage
from jaxgp.search.records import Phase

JAXGP = "jaxgp: initial population in neither"
THESIS = "thesis (Algorithm 2): initial population in both"
EXCLUDING = ", excl. compilation"


def execution_time(run: RunData) -> Table:
    """Wall time, compilations and summed training time per phase (Table 4.4)."""
    headers = (
        "phase",
        "wall s",
        "wall s excl. compilation",
        "compilations",
        "compile s",
        "training s (ledger)",
    )
    rows = []
    for label in run.labels:
        phase = run.phase(label) or Phase()
        if run.phase(label) is None and not run.records_of(label):
            continue
        rows.append(
            (
                label,
                fmt_seconds(phase.wall_seconds),
                fmt_seconds(phase.wall_seconds_excluding_compilation),
                _count(phase.compilations),
                fmt_seconds(phase.compile_seconds),
                fmt_seconds(run.training_seconds(label)),
            )
        )
    if run.summary is not None:
        s = run.summary
        rows.append(
            (
                "whole run",
                fmt_seconds(s.wall_seconds),
                fmt_seconds(_excluding(s.wall_seconds, s.compile_seconds)),
                _count(s.compilations),
                fmt_seconds(s.compile_seconds),
                fmt_seconds(sum(r.seconds for r in run.records)),
            )
        )
    return Table(headers, tuple(rows))


def _count(value: int | None) -> str:
    return DASH if value is None else str(value)


def _excluding(wall: Any, compile_seconds: Any) -> float | None:
    wall, compile_seconds = finite(wall), finite(compile_seconds)
    if wall is None or compile_seconds is None:
        return None
    return max(0.0, wall - compile_seconds)


def change_percent(ngl: Any, tournament: Any) -> float | None:
    """Change of the tournament against NGL in percent (negative: the tournament is faster)."""
    ngl, tournament = finite(ngl), finite(tournament)
    if ngl is None or tournament is None or ngl == 0:
        return None
    return (tournament - ngl) / ngl * 100.0


def _seconds(run: RunData) -> dict[str, tuple[float | None, float | None]]:
    """(NGL, tournament) seconds in each accounting; None where the run has no time yet."""
    initial, ngl, tournament = (
        run.phase(x) or Phase() for x in (Stage.INITIAL, "ngl", "tournament")
    )
    seconds = {}
    for suffix, name in (("", "wall_seconds"), (EXCLUDING, "wall_seconds_excluding_compilation")):
        alone = [finite(getattr(phase, name)) for phase in (ngl, tournament)]
        shared = finite(getattr(initial, name))
        with_initial = [None if s is None or shared is None else s + shared for s in alone]
        seconds[JAXGP + suffix] = (alone[0], alone[1])
        seconds[THESIS + suffix] = (with_initial[0], with_initial[1])
    return seconds


def time_reduction(run: RunData) -> dict[str, float | None]:
    """The tournament's change against NGL, in percent: by wall time with and without
    compilation in jaxgp's accounting (`wall`, `wall_excluding_compilation`) and in the
    thesis's (`thesis_wall`, `thesis_wall_excluding_compilation`), by summed training time
    in the ledger and by evaluation count."""
    seconds = _seconds(run)
    return {
        "wall": change_percent(*seconds[JAXGP]),
        "wall_excluding_compilation": change_percent(*seconds[JAXGP + EXCLUDING]),
        "thesis_wall": change_percent(*seconds[THESIS]),
        "thesis_wall_excluding_compilation": change_percent(*seconds[THESIS + EXCLUDING]),
        "training": change_percent(run.training_seconds("ngl"), run.training_seconds("tournament")),
        "expected_evaluations": change_percent(
            run.expected_evaluations("ngl"), run.expected_evaluations("tournament")
        ),
    }


def accountings(run: RunData) -> Table:
    """NGL's and the tournament's seconds and the tournament's change, per accounting."""
    rows = tuple(
        (
            name,
            fmt_seconds(ngl),
            fmt_seconds(tournament),
            fmt_percent(change_percent(ngl, tournament)),
        )
        for name, (ngl, tournament) in _seconds(run).items()
    )
    return Table(("accounting", "ngl s", "tournament s", "tournament vs NGL"), rows)
