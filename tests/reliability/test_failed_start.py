"""A run that fails before it recorded anything leaves nothing behind: the directory it
made is removed (an `--out` that existed is left as it was found), whatever stopped it: a
full disk at config.json, a CE baseline that does not train, Ctrl-C."""

import dataclasses

import pytest

from jaxgp.search import rundir, session
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
