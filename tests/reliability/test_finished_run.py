"""`--resume` of a finished run says so, prints its summary and exits 0 without running or
writing anything: its summary.json, with the run's own timings, is final."""

import json

import pytest

from jaxgp.errors import RunFinished
from jaxgp.search import session
from jaxgp.search.claim import Claim, finished_message
from tests.cli.invoke import run_main
from tests.reliability.runs import copy_of, files_of, finished_run
from tests.search.fake_trainer import FakeTrainer


@pytest.fixture(scope="module")
def finished(tmp_path_factory):
    return finished_run(tmp_path_factory.mktemp("finished"))


def test_resuming_a_finished_run_writes_nothing_and_exits_0(monkeypatch, capsys, finished):
    before = files_of(finished)
    trainer = FakeTrainer()
    monkeypatch.setattr(session, "DeviceTrainer", lambda: trainer)
    code, stdout, err = run_main(monkeypatch, capsys, "evolve", "--resume", str(finished))
    assert code == 0 and trainer.calls == []
    assert err == (
        f"{finished} is finished: its summary.json is final, so nothing was run or written "
        f"(`jaxgp report {finished}` reads it; start a new run with --out to search again)\n"
    )
    summary = json.loads((finished / "summary.json").read_text())
    assert f"best overall (tournament): {summary['best']['expression']}" in stdout
    assert files_of(finished) == before


def test_a_finished_run_keeps_its_settings(monkeypatch, capsys, finished, tmp_path):
    run = copy_of(finished, tmp_path)
    before = files_of(run)
    args = ["evolve", "--resume", str(run), "--generations", "5", "--force"]
    code, stdout, err = run_main(monkeypatch, capsys, *args)
    assert (code, stdout) == (2, "")
    assert err == (
        f"error: {run} is finished and its settings stay as they are (search.generations: 3 -> "
        "5); start a new run with --out\n"
    )
    assert files_of(run) == before


def test_a_run_that_finished_while_its_resume_waited_for_the_lock_is_reported_finished(
    finished, tmp_path
):
    run = copy_of(finished, tmp_path)  # its summary.json written after the resume's planning
    claim = Claim(run, resumed=True)
    with pytest.raises(RunFinished) as raised:
        claim.acquire()
    assert str(raised.value) == finished_message(run)
    assert str(run) in str(raised.value)
    claim.release(failed=True)
    assert files_of(run) == files_of(finished)
