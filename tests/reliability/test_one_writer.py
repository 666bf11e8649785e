"""One writer per run directory: a second process on a directory that a run is writing
stops at once with one line naming the writer's pid and host, and writes nothing; once
the writer is killed (`kill -9`), the next process takes its stale lock over and the
resumed run equals an uninterrupted one, without an evaluation twice in its ledger."""

import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from jaxgp.search import session
from jaxgp.search.run_lock import HOLDER, RunBusyError, RunLock, holder
from tests.cli.invoke import run_main
from tests.search import fake_run
from tests.search.fake_trainer import FakeTrainer

ROOT = Path(__file__).resolve().parents[2]


def test_a_second_process_stops_at_once_and_a_killed_writers_lock_is_taken_over(
    monkeypatch, capsys, tmp_path
):
    out = tmp_path / "run"
    env = {**os.environ, "PYTHONPATH": str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", "")}
    writer = subprocess.Popen([sys.executable, "-m", "tests.search.fake_run", str(out),
                               "--sleep", "0.3"], cwd=ROOT, env=env,
                              stderr=subprocess.PIPE)  # fmt: skip
    try:
        deadline = time.monotonic() + 120
        while not ((out / HOLDER).exists() and (out / "config.json").exists()):
            assert writer.poll() is None, writer.stderr.read().decode()
            assert time.monotonic() < deadline, "the writer did not start"
            time.sleep(0.05)
        before = {p.name: p.read_bytes() for p in out.iterdir() if p.is_file()}
        monkeypatch.setattr(session, "DeviceTrainer", lambda: FakeTrainer())
        started = time.monotonic()
        code, stdout, err = run_main(monkeypatch, capsys, "evolve", "--resume", str(out))
        assert time.monotonic() - started < 30
        assert (code, stdout) == (2, "")
        assert err.startswith(
            f"error: {out} is being written by another jaxgp process (pid {writer.pid} on host "
            f"{socket.gethostname()}, since "
        ) and err.endswith("); wait for it to end, or stop it, before resuming\n")
        assert writer.poll() is None  # the writer goes on, its files untouched
        assert all((out / name).read_bytes().startswith(data) for name, data in before.items())
    finally:
        writer.send_signal(signal.SIGKILL)
        writer.wait()
        writer.stderr.close()
    assert (out / HOLDER).exists() and not (out / "summary.json").exists()  # stale

    fake_run.run(out, resume=True, trainer=FakeTrainer())
    reference = tmp_path / "uninterrupted"
    fake_run.run(reference)
    assert _final(out) == _final(reference)
    assert _evaluations(out) == _evaluations(reference)  # nothing evaluated twice
    assert not (out / HOLDER).exists()


def test_two_locks_on_one_directory_in_one_process_exclude_each_other(tmp_path):
    first, second = RunLock(tmp_path), RunLock(tmp_path)
    first.acquire()
    with pytest.raises(RunBusyError, match=f"pid {os.getpid()} on host"):
        second.acquire()
    first.release()
    second.acquire()
    second.release()


@pytest.mark.parametrize("recorded", [None, "{}", "not json", '{"pid": "x"}'])
def test_a_holder_that_has_not_recorded_its_pid_is_named_so(tmp_path, recorded):
    if recorded is not None:
        (tmp_path / HOLDER).write_text(recorded)
    assert holder(tmp_path) == "its pid is not recorded yet"


def _final(out: Path) -> tuple:
    summary = json.loads((out / "summary.json").read_text())
    return summary["best"], summary["algorithms"]["tournament"]["final_population"]


def _evaluations(out: Path) -> list[tuple]:
    lines = (out / "ledger.jsonl").read_text().splitlines()
    return sorted((r["algorithm"], r["generation"], r["expression"], r["status"])
                  for r in map(json.loads, lines))  # fmt: skip
