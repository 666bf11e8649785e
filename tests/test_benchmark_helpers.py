"""The benchmarks' pure helpers and the GPU run's orchestration, without measuring anything."""

import json
import sys
from pathlib import Path
from types import SimpleNamespace

import jax
import pytest

BENCHMARKS = Path(__file__).resolve().parent.parent / "benchmarks"
sys.path.insert(0, str(BENCHMARKS))

import gpu_results  # noqa: E402
import gpu_run  # noqa: E402
import measure  # noqa: E402
from gpu_parts import INCEPTION_ROWS  # noqa: E402


def test_a_row_that_did_not_raise_the_process_peak_reports_no_peak():
    assert measure.row_peak_mb(2**30, 2**30) is None
    assert measure.row_peak_mb(2**30, 2**29) is None
    assert measure.row_peak_mb(2**29, 2**30) == 1024.0


def test_the_bf16_peak_is_known_for_the_device_machines_gpus_and_not_for_a_cpu(monkeypatch):
    def kind(name):
        monkeypatch.setattr(jax, "devices", lambda: [SimpleNamespace(device_kind=name)])
        return measure.datasheet_peak_flops()

    assert kind("NVIDIA H100 80GB HBM3") == 989e12
    assert kind("NVIDIA H200") == 989e12
    assert kind("cpu") is None


def test_the_hlo_summary_counts_what_makes_a_gpu_wait():
    text = "\n".join([
        '  %w = (s32[]) while(%t), body=%b, backend_config={"known_trip_count":{"n":"9"}}',
        "  %v = (s32[]) while(%u), condition=%c2, body=%b2",
        "  %k = f32[] conditional(%p, %a, %b), branch_computations={%x, %y}",
        "  %c = f32[2,8,8,4] convolution(%i, %f), window={size=3x3}, feature_group_count=2",
    ])  # fmt: skip
    summary = measure.hlo_summary(text)
    assert summary["while"] == 2 and summary["while_unknown_trip_count"] == 1
    assert summary["conditional"] == 1 and summary["convolutions"] == {"groups=2": 1}


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


def test_a_failed_process_is_reported_by_its_last_line_first_then_whole_earlier_lines():
    from compare_process import first_line, readable_error

    lines = ["Traceback (most recent call last):\n", '  File "x.py", line 3\n', "\n",
             "ImportError: This requires the scipy module\n"]  # fmt: skip
    error = readable_error(1, lines)
    assert first_line(error) == "exit 1: ImportError: This requires the scipy module"
    assert error.splitlines()[1:] == ["Traceback (most recent call last):", '  File "x.py", line 3']
    short = readable_error(1, ["a" * 50 + "\n", "b" * 50 + "\n", "ImportError: x\n"], limit=80)
    assert short.splitlines() == ["exit 1: ImportError: x", "b" * 50]
    assert readable_error(-9, []) == "exit -9: no output"
