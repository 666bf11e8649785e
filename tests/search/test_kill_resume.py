"""A run killed with SIGKILL in the middle resumes to the result of an uninterrupted run."""

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from tests.search import fake_run
from tests.search.fake_trainer import FakeTrainer

ROOT = Path(__file__).resolve().parents[2]


def ledger_lines(path: Path) -> list[str]:
    if not path.exists():
        return []
    return path.read_text().split("\n")[:-1]


def final_state(out: Path):
    summary = json.loads((out / "summary.json").read_text())
    return summary["best"], summary["algorithms"]["tournament"]["final_population"]


def test_sigkill_then_resume_equals_an_uninterrupted_run(tmp_path):
    out = tmp_path / "killed"
    env = {**os.environ, "PYTHONPATH": str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", "")}
    command = [sys.executable, "-m", "tests.search.fake_run", str(out), "--sleep", "0.15"]
    process = subprocess.Popen(command, cwd=ROOT, env=env, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 120
    try:
        # the initial population is 8 lines; kill inside generation 1 or 2
        while len(ledger_lines(out / "ledger.jsonl")) < 10:
            assert process.poll() is None, process.stderr.read().decode()
            assert time.monotonic() < deadline, "the fake run did not write its ledger"
            time.sleep(0.05)
    finally:
        process.send_signal(signal.SIGKILL)
        process.wait()
        process.stderr.close()
    assert process.returncode == -signal.SIGKILL
    assert not (out / "summary.json").exists()
    before = [json.loads(line) for line in ledger_lines(out / "ledger.jsonl")]
    finished = {record["expression"] for record in before}

    trainer = FakeTrainer()
    fake_run.run(out, resume=True, trainer=trainer)
    assert not finished & set(trainer.trained()), "a ledgered evaluation was trained again"

    reference = tmp_path / "uninterrupted"
    fake_run.run(reference)
    assert final_state(out) == final_state(reference)
    resumed = [json.loads(line) for line in ledger_lines(out / "ledger.jsonl")]
    expected = [json.loads(line) for line in ledger_lines(reference / "ledger.jsonl")]
    assert sorted(map(_key, resumed)) == sorted(map(_key, expected))
    stopped = [r for r in expected if r["status"] == "stopped"]  # at the same rungs (`_key`)
    assert stopped and all(r["datasets"]["digits"]["stopped_epoch"] in (2, 4, 8) for r in stopped)


def _key(record: dict) -> tuple:
    stopped = [scores.get("stopped_epoch") for scores in record["datasets"].values()]
    return (record["algorithm"], record["generation"], record["expression"], record["status"],
            tuple(map(str, stopped)))  # fmt: skip
