"""The GPU run's orchestration (benchmarks/gpu/run.py), its parts faked: nothing is measured."""

import json
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import pytest

import benchmarks.gpu.results as gpu_results
import benchmarks.gpu.run as gpu_run
from benchmarks.gpu.parts import INCEPTION_ROWS


def _args(tmp_path, parts="inception,diverging", budget=1000.0):
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    out = tmp_path / "out"
    out.mkdir()
    return SimpleNamespace(
        out=out, scratch=scratch, smoke=True, budget=budget, parts=parts, inception_rows=None
    )


def _names(out, part):
    return [
        (r["name"], r.get("error", "")) for r in gpu_results.load(out)["rows"] if r["part"] == part
    ]


def test_a_part_that_crashes_goes_on_with_its_remaining_rows(tmp_path, monkeypatch):
    args = _args(tmp_path)
    calls = []

    def fake(args, name, rows, seconds):
        calls.append((name, rows))
        for row in rows:
            (args.scratch / "started").write_text(row)
            if row == "k4_vmap_bf16" and len(calls) == 1:
                return 1, 1.0  # dies in this row
            gpu_results.append(args.out, {"part": name, "name": row, "candidate_images_per_s": 1.0})
        if name == "diverging":
            gpu_results.append(args.out, {"part": name, "name": "test", "returncode": 0})
        return 0, 1.0

    monkeypatch.setattr(gpu_run, "_run_part", fake)
    gpu_run.run_all(args)
    rows = tuple(INCEPTION_ROWS)
    assert calls[0] == ("inception", rows)
    assert calls[1] == ("inception", rows[3:])  # after the crashed row, which is not retried
    names = _names(args.out, "inception")
    assert ("k4_vmap_bf16", "the process died (code 1): see log.txt") in names
    assert [n for n, _ in names] == list(rows[:2]) + ["k4_vmap_bf16"] + list(rows[3:])
    assert calls[2][0] == "diverging" and _names(args.out, "diverging") == [("test", "")]


def test_a_part_cut_by_its_time_box_names_the_rows_it_did_not_reach(tmp_path, monkeypatch):
    args = _args(tmp_path, parts="inception")

    def fake(args, name, rows, seconds):
        gpu_results.append(args.out, {"part": name, "name": rows[0]})
        return None, seconds

    monkeypatch.setattr(gpu_run, "_run_part", fake)
    gpu_run.run_all(args)
    names = _names(args.out, "inception")
    assert len(names) == len(INCEPTION_ROWS)
    assert all(error.startswith("cut by the") for _, error in names[1:])


def test_parts_that_find_no_time_left_are_skipped_and_say_so(tmp_path, monkeypatch):
    args = _args(tmp_path, parts="environment,diverging", budget=30.0)
    ran = []

    def fake(args, name, rows, seconds):
        ran.append(name)
        return 0, seconds

    monkeypatch.setattr(gpu_run, "_run_part", fake)
    monkeypatch.setattr(gpu_run, "MIN_SECONDS", 25)
    gpu_run.run_all(args)
    assert ran == []
    rows = gpu_results.load(args.out)["rows"]
    assert [(r["part"], r["name"]) for r in rows] == [
        ("environment", "(skipped)"),
        ("diverging", "(skipped)"),
    ]


def test_the_run_refuses_a_directory_that_holds_results(tmp_path):
    (tmp_path / "results.json").write_text(json.dumps({"rows": []}))
    with pytest.raises(SystemExit) as exit_info:
        gpu_run.main(["--smoke", "--out", str(tmp_path)])
    assert exit_info.value.code == 2


@pytest.mark.parametrize("launcher", ["gpu_run.py", "gpu_compile.py"])
def test_a_launchers_help_names_the_file_the_user_ran(launcher, tmp_path):
    script = Path(__file__).resolve().parents[2] / "benchmarks" / launcher
    done = subprocess.run([sys.executable, str(script), "--help"], cwd=tmp_path,
                          capture_output=True, text=True, check=True)  # fmt: skip
    assert done.stdout.startswith(f"usage: {launcher} ")
