"""Trackers behind the run's progress observer: the search loop does not know they exist.

`track_run` wraps the `Progress` a run reports to in a `TrackingProgress`, which passes
every call on unchanged and, as generations end, hands their statistics to the trackers
(`jaxgp.track.stats`); when the run finishes it hands them its end (`jaxgp.track.ending`)
and closes them with the run's status. A tracker that fails (a locked database, a full
disk, a server that went away) is one warning and is dropped; the search goes on and loses
nothing. Generations a resume replays are not logged again (`jaxgp.track.state`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from jaxgp.search.progress import Progress
from jaxgp.search.run_settings import RunSettings
from jaxgp.track.ending import run_end
from jaxgp.track.state import read_state, write_state
from jaxgp.track.stats import Generations, GenerationStats
from jaxgp.track.trackers import Context, Tracker, TrackSpec, installed, make, missing_package
from jaxgp.train.batch_plan import BatchPlan


class TrackingProgress(Progress):
    """`inner`'s progress, and the trackers fed from it."""

    def __init__(self, inner: Progress, run_dir: Path, trackers: list[Tracker]) -> None:
        self.inner = inner
        self.run_dir = Path(run_dir)
        self.trackers = list(trackers)
        self.generations = Generations()
        self.state = read_state(self.run_dir)

    # what each tracker is asked, each failure a warning ---------------------------------
    def _each(self, what: str, call: Callable[[Tracker], None]) -> None:
        for tracker in list(self.trackers):
            try:
                call(tracker)
            except Exception as error:  # noqa: BLE001  (any failure of a tracker is its own)
                self.trackers.remove(tracker)
                text = " ".join(str(error).split()) or type(error).__name__
                self.inner.warning(
                    f"--track {tracker.name}: {what} failed ({text}); tracking with it "
                    "stopped, the search goes on"
                )

    def start(self, settings: RunSettings, resumed: bool) -> None:
        def start(tracker: Tracker) -> None:
            previous = self.state.get(tracker.name, {})
            context = Context(self.run_dir, settings, resumed, previous)
            entry = tracker.start(context)
            if any(previous.get(key) != value for key, value in entry.items()):
                previous = {}  # another tracking run (another MLflow store): log it all there
            self.state[tracker.name] = {**previous, **entry}
            write_state(self.run_dir, self.state)

        self._each("starting", start)

    def _log(self, stats: GenerationStats) -> None:
        def log(tracker: Tracker) -> None:
            entry = self.state.setdefault(tracker.name, {})
            logged = entry.setdefault("logged", {})
            if stats.step <= logged.get(stats.algorithm, -1):  # replayed by a resume
                return
            tracker.generation(stats)
            logged[stats.algorithm] = stats.step
            write_state(self.run_dir, self.state)

        self._each(f"logging {stats.algorithm} generation {stats.step}", log)

    def finish(self) -> None:
        end = run_end(self.run_dir)
        if end is not None:
            self._each("logging the run's end", lambda tracker: tracker.finish(end))

    def close(self, status: str) -> None:
        self._each("closing", lambda tracker: tracker.close(status))

    # the progress calls, passed on ------------------------------------------------------
    def phase(self, name: str, generations: int) -> None:
        self.inner.phase(name, generations)
        for stats in self.generations.phase(name, generations):
            self._log(stats)

    def generation(self, algorithm: str, generation: int, total: int) -> None:
        self.generations.generation(algorithm, generation)
        self.inner.generation(algorithm, generation, total)

    def training_started(self, algorithm: str, generation: int, dataset: str, count: int) -> None:
        self.inner.training_started(algorithm, generation, dataset, count)

    def training(self, what: str, done: int, total: int) -> None:
        self.inner.training(what, done, total)

    def batching(self, dataset: str, plan: BatchPlan) -> None:
        self.inner.batching(dataset, plan)

    def evaluated(self, algorithm: str, generation: int, individual: Any) -> None:
        self.generations.evaluated(algorithm, individual)
        self.inner.evaluated(algorithm, generation, individual)

    def best(self, algorithm: str, individual: Any) -> None:
        self.inner.best(algorithm, individual)
        stats = self.generations.best(algorithm, individual)
        if stats is not None:
            self._log(stats)

    def warning(self, text: str) -> None:
        self.inner.warning(text)


def requested_trackers(
    given: tuple[TrackSpec, ...] | None, run_dir: Path, progress: Progress
) -> list[Tracker]:
    """The trackers of a run: those `--track` gave, or (None) those that followed it before
    (a resume continues them; one whose package is gone is a warning)."""
    if given is None:
        given = []
        for name, entry in read_state(run_dir).items():
            if not installed(name):
                progress.warning(missing_package(name) + "; this session is not tracked there")
                continue
            given.append(TrackSpec(name, entry.get("uri") if name == "mlflow" else None))
    return [make(spec) for spec in given]


@contextmanager
def track_run(
    run_dir: Path,
    settings: RunSettings,
    resumed: bool,
    given: tuple[TrackSpec, ...] | None,
    progress: Progress,
) -> Iterator[Progress]:
    """`progress` with the run's trackers behind it (itself when there are none)."""
    trackers = requested_trackers(given, run_dir, progress)
    if not trackers:
        yield progress
        return
    tracking = TrackingProgress(progress, run_dir, trackers)
    tracking.start(settings, resumed)
    try:
        yield tracking
    except KeyboardInterrupt:
        tracking.close("KILLED")
        raise
    except BaseException:
        tracking.close("FAILED")
        raise
    tracking.finish()
    tracking.close("FINISHED")
