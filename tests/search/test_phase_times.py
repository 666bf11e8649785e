"""What a phase cost (`jaxgp.search.phase_times`): the stopwatch's differences."""

import pytest

from jaxgp import compilation
from jaxgp.compilation import CompileStats
from jaxgp.search import phase_times
from jaxgp.search.phase_times import PhaseTimes, Stopwatch


@pytest.mark.parametrize(
    ("end", "expected"),
    [
        (12.0, PhaseTimes(2.0, 2, 0.5, 1, 1.5)),
        (10.25, PhaseTimes(0.25, 2, 0.5, 1, 0.0)),  # compiling took longer than the wall
    ],
)
def test_a_stopwatch_times_what_happened_since_it_started(monkeypatch, end, expected):
    totals = iter([CompileStats(3, 1.0, 1), CompileStats(5, 1.5, 2)])
    clock = iter([10.0, end])
    monkeypatch.setattr(compilation, "totals", lambda: next(totals))
    monkeypatch.setattr(phase_times.time, "perf_counter", lambda: next(clock))
    assert Stopwatch().times() == expected


def test_phase_times_survive_their_dict_round_trip():
    times = PhaseTimes(2.0, 2, 0.5, 1, 1.5)
    assert PhaseTimes.from_dict({**times.to_dict(), "other": 1}) == times
