"""`--track`: the trackers asked for are checked before anything is written, a resume
continues those of the run, and each generation's statistics come from the progress calls."""

import importlib.util
import json
from types import SimpleNamespace

import pytest

from jaxgp.expr import validity
from jaxgp.fitness import Fitness, Metric
from jaxgp.search.progress import Progress
from jaxgp.status import Status
from jaxgp.track.progress import TrackingProgress
from jaxgp.track.state import write_state
from jaxgp.track.stats import Generations
from tests.track.runs import tracked


@pytest.mark.parametrize(
    ("track", "message"),
    [
        ("wandb", "error: unknown tracker 'wandb'; valid: tensorboard, mlflow, mlflow=URI, none"),
        ("tensorboard=x", "error: --track tensorboard takes no =VALUE"),
        ("mlflow", "error: --track mlflow needs MLflow: pip install 'jaxgp[track]'"),
    ],
)
def test_a_tracker_that_cannot_run_is_one_line_and_exit_2_before_anything_is_written(
    monkeypatch, capsys, tmp_path, track, message
):
    find_spec = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util, "find_spec", lambda name, *a: None if name == "mlflow" else find_spec(name)
    )
    out = tmp_path / "run"
    code, _, err = tracked(monkeypatch, capsys, out, track)
    assert code == 2 and err.startswith(message) and err.count("\n") == 1
    assert not out.exists()


def test_track_none_runs_untracked_and_a_resume_keeps_what_the_run_had(
    monkeypatch, capsys, tmp_path
):
    out = tmp_path / "run"
    code, _, _ = tracked(monkeypatch, capsys, out, "none")
    assert code == 0
    assert not (out / "tracking.json").exists() and not (out / "tensorboard").exists()


def test_a_resume_whose_tracker_is_no_longer_installed_warns_and_goes_on(
    monkeypatch, capsys, tmp_path
):
    from tests.track.runs import Acting

    pytest.importorskip("tensorboard")
    out = tmp_path / "run"

    def interrupt():
        raise KeyboardInterrupt

    code, _, _ = tracked(monkeypatch, capsys, out, "tensorboard", trainer=Acting(6, interrupt))
    assert code == 130
    assert "tensorboard" in json.loads((out / "tracking.json").read_text())["trackers"]
    find_spec = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util,
        "find_spec",
        lambda name, *a: None if name == "tensorboard" else find_spec(name),
    )
    code, _, err = tracked(monkeypatch, capsys, out, resume=True)
    assert code == 0
    assert "warning: --track tensorboard needs TensorBoard: pip install 'jaxgp[track]'" in err


def individual(expression, status, improvement, wins=1):
    failed = status == Status.FAILED
    fitness = Fitness(Metric.ACCURACY, wins, None if failed else improvement, failed=failed)
    return SimpleNamespace(expression=expression, status=status, fitness=fitness)


def test_a_generations_statistics_are_those_of_its_evaluations_and_its_screened_trees():
    readings = iter([validity.Screened(100, 60), validity.Screened(140, 90)])
    clock = iter([10.0, 12.0])
    generations = Generations(clock=lambda: next(clock), count=lambda: next(readings))
    generations.generation("tournament", 3)
    evaluated = [
        individual("a", Status.TRAINED, 4.0),
        individual("b", Status.STOPPED, -10.0, wins=0),
        individual("c", Status.FAILED, None, wins=0),
        individual("d", Status.CACHED, 1.0),
    ]
    for one in evaluated:
        generations.evaluated("tournament", one)
    stats = generations.best("tournament", individual("best", Status.TRAINED, 7.5, wins=2))
    assert (stats.algorithm, stats.step, stats.best_expression) == ("tournament", 3, "best")
    assert stats.best_fitness == 7.5 and stats.best_wins == 2
    assert stats.median_fitness == 1.0  # of 4, -10 and 1: the failed one left out
    assert stats.failed_share == 0.25 and stats.stopped_share == 0.25
    assert stats.rejected_share == 30 / 40  # 40 trees judged during it, 30 rejected
    assert stats.evaluations == 4 and stats.evaluations_per_second == 2.0
    assert stats.scalars()["tournament/rejected_share"] == 0.75


class Recording:
    """A tracker that records what it is asked (and fails where told to)."""

    def __init__(self, name, entry, fail_at=None):
        self.name, self.entry, self.fail_at = name, entry, fail_at
        self.steps, self.closed = [], None

    def start(self, context):
        return dict(self.entry)

    def generation(self, stats):
        if stats.step == self.fail_at:
            raise OSError(28, "No space left on device")
        self.steps.append((stats.algorithm, stats.step))

    def finish(self, end):
        pass

    def close(self, status):
        self.closed = status


class Warnings(Progress):
    def __init__(self):
        self.lines = []

    def warning(self, text):
        self.lines.append(text)


def feed(progress, generations):
    progress.phase("tournament", generations)
    for generation in range(1, generations + 1):
        progress.generation("tournament", generation, generations)
        progress.best("tournament", individual("x", Status.TRAINED, 1.0))


def test_a_failing_tracker_is_one_warning_and_the_others_keep_logging(tmp_path):
    shown = Warnings()
    failing = Recording("mlflow", {"run_id": "a"}, fail_at=2)
    healthy = Recording("tensorboard", {"logdir": "tensorboard"})
    progress = TrackingProgress(shown, tmp_path, [failing, healthy])
    progress.start(settings=None, resumed=False)
    feed(progress, 3)
    progress.close("FINISHED")
    assert failing.steps == [("tournament", 1)] and failing.closed is None
    assert healthy.steps == [("tournament", g) for g in (1, 2, 3)] and healthy.closed == "FINISHED"
    assert shown.lines == [
        "--track mlflow: logging tournament generation 2 failed ([Errno 28] No space left on "
        "device); tracking with it stopped, the search goes on"
    ]


def test_a_resume_logs_only_new_generations_unless_its_tracking_run_is_another(tmp_path):
    write_state(tmp_path, {"mlflow": {"run_id": "a", "logged": {"tournament": 2}}})
    same = Recording("mlflow", {"run_id": "a"})
    progress = TrackingProgress(Warnings(), tmp_path, [same])
    progress.start(settings=None, resumed=True)
    feed(progress, 3)
    assert same.steps == [("tournament", 3)]  # 1 and 2 were logged before the resume
    write_state(tmp_path, {"mlflow": {"run_id": "a", "logged": {"tournament": 2}}})
    other = Recording("mlflow", {"run_id": "b"})  # --track mlflow=ANOTHER_STORE
    progress = TrackingProgress(Warnings(), tmp_path, [other])
    progress.start(settings=None, resumed=True)
    feed(progress, 3)
    assert other.steps == [("tournament", g) for g in (1, 2, 3)]
