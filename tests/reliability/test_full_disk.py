"""A full disk in the middle of a run: one line naming the file and the system's reason,
exit 3, no temporary file and no torn journal line left, every record already written
kept; once space is freed, `--resume` finishes the run as if nothing had happened. A real
64 KiB tmpfs where this runs as root and may mount one, and the same through a simulated
disk (the run directory's one write function) everywhere."""

import errno
import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from jaxgp.search import rundir, session
from tests.cli.invoke import run_main
from tests.search.fake_trainer import FakeTrainer

SEARCH = ["evolve", "--population", "6", "--generations", "2", "--candidates-per-batch", "1",
          "--confirm-seeds", "0"]  # fmt: skip


def jaxgp(monkeypatch, capsys, *args: str) -> tuple[int, str, str]:
    """`jaxgp *args` in this process, training with the fake trainer."""
    monkeypatch.setattr(session, "DeviceTrainer", lambda: FakeTrainer())
    return run_main(monkeypatch, capsys, *args)


@pytest.fixture(scope="module")
def uninterrupted(tmp_path_factory):
    out = tmp_path_factory.mktemp("uninterrupted") / "run"
    with pytest.MonkeyPatch.context() as monkeypatch:
        monkeypatch.setattr(session, "DeviceTrainer", lambda: FakeTrainer())
        monkeypatch.setenv("JAXGP_COMPILATION_CACHE", "none")
        monkeypatch.setattr("sys.argv", ["jaxgp", *SEARCH, "--out", str(out)])
        with pytest.raises(SystemExit) as done:
            from jaxgp.cli.main import main

            main()
    assert done.value.code == 0
    return result(out)


def result(out: Path) -> tuple:
    summary = json.loads((out / "summary.json").read_text())
    ledger = [json.loads(line) for line in (out / "ledger.jsonl").read_text().splitlines()]
    records = sorted((r["algorithm"], r["generation"], r["expression"], r["status"])
                     for r in ledger)  # fmt: skip
    population = summary["algorithms"]["tournament"]["final_population"]
    return summary["best"]["expression"], population, records


def assert_cut_cleanly(code: int, err: str, out: Path) -> None:
    """Exit 3 with one line naming a file of `out` and ENOSPC; nothing torn or temporary."""
    assert code == 3, err
    line = err.splitlines()[-1]  # after the progress, on a line of its own
    assert line.startswith(f"error: cannot write {out}/") and "error" not in err[: -len(line)]
    assert "No space left on device (ENOSPC)" in err
    assert err.rstrip().endswith(f"fix that, then continue with --resume {out}")
    assert not list(out.rglob("*.tmp"))
    assert not (out / "summary.json").exists() and (out / "ledger.jsonl").exists()  # mid-run
    for journal in ("ledger.jsonl", "trainings.jsonl"):
        text = (out / journal).read_text() if (out / journal).exists() else ""
        assert text == "" or text.endswith("\n")
        assert all(json.loads(line) for line in text.splitlines())


class SimulatedDisk:
    """`rundir._write_all` on a disk with `free` bytes: a write that does not fit writes what
    fits, then fails with ENOSPC, as a real one does."""

    def __init__(self, free: int) -> None:
        self.free = free
        self.write = rundir._write_all

    def __call__(self, fd: int, data: bytes) -> None:
        fits = max(0, min(self.free, len(data)))
        self.write(fd, data[:fits])
        self.free -= fits
        if fits < len(data):
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))


def test_a_full_disk_mid_run_is_one_line_and_the_resume_finishes_it(
    monkeypatch, capsys, tmp_path, uninterrupted
):
    out = tmp_path / "run"
    with monkeypatch.context() as full:
        full.setattr(rundir, "_write_all", SimulatedDisk(free=30_000))
        code, _, err = jaxgp(monkeypatch, capsys, *SEARCH, "--out", str(out))
    assert_cut_cleanly(code, err, out)

    code, _, err = jaxgp(monkeypatch, capsys, "evolve", "--resume", str(out))
    assert code == 0, err
    assert result(out) == uninterrupted


def _can_mount() -> bool:
    return os.geteuid() == 0 and shutil.which("mount") is not None


@pytest.mark.skipif(not _can_mount(), reason="mounting a tmpfs needs root")
def test_a_real_full_tmpfs_mid_run_is_one_line_and_the_resume_finishes_it(
    monkeypatch, capsys, tmp_path, uninterrupted
):
    disk = tmp_path / "disk"
    disk.mkdir()
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs", str(disk)],
                             capture_output=True, text=True)  # fmt: skip
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {mounted.stderr.strip()}")
    try:
        out = disk / "run"
        code, _, err = jaxgp(monkeypatch, capsys, *SEARCH, "--out", str(out))
        assert_cut_cleanly(code, err, out)
        subprocess.run(["mount", "-o", "remount,size=4m", str(disk)], check=True)
        code, _, err = jaxgp(monkeypatch, capsys, "evolve", "--resume", str(out))
        assert code == 0, err
        assert result(out) == uninterrupted
    finally:
        subprocess.run(["umount", str(disk)], check=True)
