"""One search over several processes (`jaxgp.distributed`): two local processes with two
virtual CPU devices each find what one process with four finds; only process 0 writes; a
process that dies stops the other within the heartbeat timeout and `--resume` finishes the
run, also where the other process cannot see the run directory. Every run is a `jaxgp`
subprocess (a process joins a cluster once in its life)."""

import json
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from jaxgp.distributed import check_options
from jaxgp.errors import ConfigError
from tests.cli.invoke import run_main as jaxgp
from tests.xla_env import devices_env

ROOT = Path(__file__).resolve().parent.parent
SEARCH = ["evolve", "--scale", "tiny", "--population", "4", "--generations", "2",
          "--epochs", "1", "--seed", "1", "--confirm-seeds", "2"]  # fmt: skip
TIMEOUT = 300


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("localhost", 0))
        return sock.getsockname()[1]


def _command(devices: int, *args: str) -> tuple[list[str], dict]:
    env = devices_env(devices)
    return [sys.executable, "-m", "jaxgp.cli.main", *args], env


def _start(devices: int, *args: str, log: Path) -> subprocess.Popen:
    command, env = _command(devices, *args)
    handle = open(log, "w")  # noqa: SIM115  (closed with the process, by the caller's wait)
    return subprocess.Popen(command, cwd=ROOT, env=env, stdout=handle, stderr=subprocess.STDOUT)


def _pair(first: list[str], second: list[str], tmp: Path, heartbeat: int = 100):
    """Processes 0 and 1 of a two-process search with their arguments (1 started first)."""
    cluster = ["--heartbeat-timeout", str(heartbeat), "--coordinator",
               f"localhost:{_free_port()}", "--num-processes", "2"]  # fmt: skip
    one = _start(2, *cluster, "--process-id", "1", *second, log=tmp / "p1.log")
    zero = _start(2, *cluster, "--process-id", "0", *first, log=tmp / "p0.log")
    return zero, one


def _finish(*processes: subprocess.Popen) -> list[int]:
    return [process.wait(timeout=TIMEOUT) for process in processes]


def _result(run: Path) -> tuple:
    summary = json.loads((run / "summary.json").read_text())
    best = summary["best"]
    ledger = [json.loads(line) for line in (run / "ledger.jsonl").read_text().splitlines()]
    lines = sorted(
        (r["algorithm"], r["generation"], r["expression"], r["status"],
         round(r["datasets"]["digits"]["val_accuracy"], 4))
        for r in ledger
    )  # fmt: skip
    population = summary["algorithms"]["tournament"]["final_population"]
    return best["expression"], round(best["average_improvement"], 4), lines, population


@pytest.fixture(scope="module")
def one_process(tmp_path_factory):
    """The search in one process with four devices."""
    out = tmp_path_factory.mktemp("one") / "run"
    command, env = _command(4, *SEARCH, "--out", str(out))
    subprocess.run(command, cwd=ROOT, env=env, check=True, capture_output=True, timeout=TIMEOUT)
    return _result(out)


def test_two_processes_find_what_one_process_finds_even_when_one_dies_and_they_resume(
    tmp_path, one_process
):
    """Only process 0 writes and prints; a process that dies stops the other within the
    heartbeat timeout; `--resume` by two processes finishes the run as one process would
    have. (One two-process run, cut and resumed: an uninterrupted one as well cost the
    suite 100 s for nothing these do not check.)"""
    run, elsewhere = tmp_path / "run", tmp_path / "process1"
    first, second = _pair([*SEARCH, "--out", str(run)], [*SEARCH, "--out", str(elsewhere)],
                          tmp_path, heartbeat=5)  # fmt: skip
    ledger = run / "ledger.jsonl"
    deadline = time.monotonic() + TIMEOUT
    while not (ledger.exists() and len(ledger.read_text().splitlines()) >= 4):
        assert first.poll() is None and time.monotonic() < deadline, "no ledger lines came"
        time.sleep(0.05)
    second.send_signal(signal.SIGKILL)
    killed = time.monotonic()
    code = first.wait(timeout=60)
    assert code != 0 and time.monotonic() - killed < 30
    assert "heartbeat timeout" in (tmp_path / "p0.log").read_text()
    assert not (run / "summary.json").exists()
    second.wait()
    assert not elsewhere.exists()  # only process 0 writes
    assert "starting evolve" not in (tmp_path / "p1.log").read_text()  # nor prints

    # process 1 cannot see the run directory (another host, no shared filesystem): it
    # replays process 0's records
    hidden = tmp_path / "not-on-this-host"
    first, second = _pair(["evolve", "--resume", str(run)], ["evolve", "--resume", str(hidden)],
                          tmp_path)  # fmt: skip
    assert _finish(first, second) == [0, 0], (tmp_path / "p0.log").read_text()[-3000:]
    assert _result(run) == one_process
    assert not hidden.exists()


def test_processes_started_with_other_options_stop_with_a_one_line_error(tmp_path):
    run = tmp_path / "run"
    search = [*SEARCH, "--out", str(run)]
    first, second = _pair(search, [*search, "--population", "6"], tmp_path)
    assert _finish(first, second) == [2, 2]
    expected = ("error: process(es) 1 were started with other options than process 0; "
                "start every process with the same command")  # fmt: skip
    for log in ("p0.log", "p1.log"):
        assert expected in (tmp_path / log).read_text().splitlines()
    assert not run.exists()


@pytest.mark.parametrize(
    ("options", "message"),
    [
        (("localhost:1234", None, None, False), "go together"),
        (("localhost", 2, 0, False), "HOST:PORT"),
        (("localhost:1234", 0, 0, False), "at least 1"),
        (("localhost:1234", 2, 2, False), r"--process-id must be in \[0, 1\]"),
    ],
)
def test_cluster_options_that_do_not_fit_are_config_errors(options, message):
    with pytest.raises(ConfigError, match=message):
        check_options(*options)


def test_no_cluster_option_means_one_process():
    assert check_options(None, None, None, False) is False
    assert check_options(None, None, None, True) is True
    assert check_options("host-1:8476", 2, 1, False) is True


def test_an_incomplete_cluster_is_a_one_line_error(monkeypatch, capsys):
    code, _, err = jaxgp(monkeypatch, capsys, "--coordinator", "localhost:1234", "evolve")
    assert code == 2
    assert err.strip().splitlines() == [
        "error: --coordinator, --num-processes and --process-id go together (or use "
        "--distributed alone on SLURM / Open MPI)"
    ]
