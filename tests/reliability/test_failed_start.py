"""A run that fails before it recorded anything leaves nothing behind: the directory it
made is removed (an `--out` that existed is left as it was found), whatever stopped it: a
full disk at config.json, a CE baseline that does not train, Ctrl-C."""

import dataclasses
import json

import pytest

from jaxgp.fitness import Scores
from jaxgp.search import rundir, session
from jaxgp.search.claim import recorded
from jaxgp.search.records import Trained, Training
from tests.cli.invoke import run_main
from tests.reliability.test_full_disk import SimulatedDisk
from tests.search.fake_trainer import FakeTrainer

SEARCH = ["evolve", "--population", "4", "--generations", "1", "--confirm-seeds", "0"]


class CEFails(FakeTrainer):
    """Every result failed (non-finite), CE's included."""

    def __call__(self, *args, **kwargs):
        report = super().__call__(*args, **kwargs)
        failed = [dataclasses.replace(r, status="failed", val_loss=float("nan"))
                  for r in report.results]  # fmt: skip
        return dataclasses.replace(report, results=failed)


class Interrupted(FakeTrainer):
    def __call__(self, *args, **kwargs):
        raise KeyboardInterrupt


@pytest.mark.parametrize("existing", [False, True], ids=["new --out", "existing empty --out"])
def test_a_full_disk_at_the_start_leaves_nothing(monkeypatch, capsys, tmp_path, existing):
    out = tmp_path / "runs" / "run"
    if existing:
        out.mkdir(parents=True)
    monkeypatch.setattr(session, "DeviceTrainer", lambda: FakeTrainer())
    monkeypatch.setattr(rundir, "_write_all", SimulatedDisk(free=100))
    code, stdout, err = run_main(monkeypatch, capsys, *SEARCH, "--out", str(out))
    assert (code, stdout) == (3, "")
    assert err == f"error: cannot write {out}/config.json: No space left on device (ENOSPC)\n"
    if existing:
        assert list(out.iterdir()) == []
    else:
        assert list(tmp_path.iterdir()) == []  # runs/ too: this run made it


def test_a_ce_baseline_that_does_not_train_leaves_nothing(monkeypatch, capsys, tmp_path):
    out = tmp_path / "run"
    monkeypatch.setattr(session, "DeviceTrainer", lambda: CEFails())
    code, stdout, err = run_main(monkeypatch, capsys, *SEARCH, "--out", str(out))
    assert (code, stdout) == (2, "")
    assert err.splitlines()[-1] == "error: the CE baseline did not train on digits"
    assert not out.exists()


def test_ctrl_c_before_anything_is_recorded_leaves_nothing(monkeypatch, capsys, tmp_path):
    out = tmp_path / "run"
    monkeypatch.setattr(session, "DeviceTrainer", lambda: Interrupted())
    code, stdout, err = run_main(monkeypatch, capsys, *SEARCH, "--out", str(out))
    assert (code, stdout) == (130, "")
    assert err.splitlines()[-1] == "interrupted before the run started: nothing was written"
    assert not out.exists()


def test_a_resume_stopped_before_it_recorded_anything_keeps_the_runs_settings(
    monkeypatch, capsys, tmp_path
):
    out = tmp_path / "run"
    monkeypatch.setattr(session, "DeviceTrainer", lambda: FakeTrainer())
    assert run_main(monkeypatch, capsys, *SEARCH, "--out", str(out))[0] == 0
    for path in out.rglob("*"):  # as a start killed before its first record leaves it
        if path.is_file() and path.name != "config.json":
            path.unlink()
    settings = (out / "config.json").read_bytes()
    monkeypatch.setattr(session, "DeviceTrainer", lambda: Interrupted())
    code, _, _ = run_main(monkeypatch, capsys, "evolve", "--resume", str(out))
    assert code == 130
    assert (out / "config.json").read_bytes() == settings


def test_a_snapshot_alone_is_a_record_a_resume_can_use_and_a_failed_training_is_not(tmp_path):
    nan = float("nan")
    failed = Training(
        None, "baseline", 0, "digits", ("ce",), (Trained(Scores(nan, 0.1, nan, 0.1), 1.0),)
    )
    (tmp_path / "trainings.jsonl").write_text(json.dumps(failed.to_dict()) + "\n")
    generations = tmp_path / "generations"
    generations.mkdir()
    assert not recorded(tmp_path)
    (generations / "initial_0.json").write_text("{}")
    assert recorded(tmp_path)
