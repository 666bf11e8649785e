"""`jaxgp report` on a finished run, on one cut off mid-generation, and on bad input."""

import json
import shutil
from collections import Counter

import pytest

from jaxgp.errors import ConfigError
from jaxgp.report import load_run, tables, timing, write_report
from jaxgp.report.document import MISSING_HISTORY
from jaxgp.report.run_data import best_of
from jaxgp.search.records import Evaluation
from jaxgp.search.run_settings import build_settings
from jaxgp.search.rundir import RunDir
from tests.cli.invoke import run_main as jaxgp
from tests.report.runs import COMPARE, cut_off, fake_compare, ledger_lines, synthetic_run

PNG = b"\x89PNG\r\n\x1a\n"
#: initial (8) + NGL generation 1 (8) + 3 children of NGL generation 2, then half a line
KEEP = 8 + 8 + 3


@pytest.fixture(scope="module")
def finished(tmp_path_factory):
    return fake_compare(tmp_path_factory.mktemp("compare") / "run")


@pytest.fixture(scope="module")
def stopped(finished, tmp_path_factory):
    return cut_off(finished, tmp_path_factory.mktemp("stopped") / "run", KEEP)


def ledger(path, limit=None):
    lines = ledger_lines(path)[:limit]
    return [json.loads(line) for line in lines]


def row(table, first):
    (found,) = [r for r in table.rows if r[0] == first]
    return dict(zip(table.headers, found, strict=True))


def test_finished_run_writes_report_and_figures(finished, tmp_path):
    path = write_report(finished, tmp_path / "out")
    assert path == tmp_path / "out" / "report.md"
    for name in ("fitness.png", "best.png"):
        data = (tmp_path / "out" / name).read_bytes()
        assert data.startswith(PNG) and 5_000 < len(data) < 200_000
    text = path.read_text()
    assert "](fitness.png)" in text and "](best.png)" in text
    assert "finished" in text and "in progress" not in text
    assert MISSING_HISTORY not in text  # the fake trainer records per-epoch history


def _without_history(value):
    if isinstance(value, dict):
        return {k: _without_history(v) for k, v in value.items() if k != "history"}
    if isinstance(value, list):
        return [_without_history(v) for v in value]
    return value


def test_a_run_without_per_epoch_history_says_its_curves_are_not_available(finished, tmp_path):
    bare = tmp_path / "bare"
    shutil.copytree(finished, bare)
    for path in bare.rglob("*.json*"):
        lines = path.read_text().splitlines() if path.suffix == ".jsonl" else None
        if lines is None:
            path.write_text(json.dumps(_without_history(json.loads(path.read_text()))))
        else:
            records = [json.dumps(_without_history(json.loads(line))) for line in lines]
            path.write_text("".join(record + "\n" for record in records))
    assert MISSING_HISTORY in write_report(bare, tmp_path / "out").read_text()


def test_default_output_directory(finished):
    assert write_report(finished) == finished / "report" / "report.md"


def test_evaluation_counts_match_the_ledger(finished):
    records = ledger(finished)
    summary = json.loads((finished / "summary.json").read_text())
    table = tables.evaluations(load_run(finished))
    for label in ("initial", "ngl", "tournament"):
        counts = Counter(r["status"] for r in records if r["algorithm"] == label)
        cells = row(table, label)
        assert int(cells["evaluations"]) == sum(counts.values())
        assert int(cells["trained"]) == counts["trained"]
        assert int(cells["cache hits"]) == counts["cached"]
        assert int(cells["failed"]) == counts["failed"]
        assert int(cells["stopped early"]) == counts["stopped"]
        phase = summary["initial"] if label == "initial" else summary["algorithms"][label]
        for name in ("candidate-epochs trained", "candidate-epochs saved"):
            assert int(cells[name]) == phase[name.replace("-", "_").replace(" ", "_")]
        ran = counts["trained"] + counts["failed"] + counts["stopped"]
        epochs = int(cells["candidate-epochs trained"]) + int(cells["candidate-epochs saved"])
        assert epochs == ran * len(COMPARE["datasets"]) * load_run(finished).settings.train.epochs
    total = row(table, "total")
    assert int(total["stopped early"]) == summary["stopped"] > 0  # the fake run stops some
    assert int(total["evaluations"]) == len(records) == summary["evaluations"]
    assert int(total["cache hits"]) == summary["cache_hits"]
    assert int(total["failed"]) == summary["failed"]
    p, t, n = COMPARE["population"], COMPARE["generations"], 3
    assert [int(row(table, x)["expected"]) for x in ("initial", "ngl", "tournament")] == [
        p,
        t * p,
        t * n,
    ]


def test_accuracy_and_time_tables_match_the_summary(finished):
    run = load_run(finished)
    summary = json.loads((finished / "summary.json").read_text())
    accuracy = tables.accuracy(run)
    for dataset in COMPARE["datasets"]:
        cells = row(accuracy, dataset)
        assert cells["CE val"] == f"{summary['baselines'][dataset]['val_accuracy']:.4f}"
        for name in ("ngl", "tournament"):
            best = summary["algorithms"][name]["best"]["datasets"][dataset]
            assert cells[f"{name} val"] == f"{best['val_accuracy']:.4f}"
            assert cells[f"{name} test"] == f"{best['test_accuracy']:.4f}"
    times = timing.execution_time(run)
    for name in ("ngl", "tournament"):
        phase = summary["algorithms"][name]
        cells = row(times, name)
        assert cells["wall s"] == f"{phase['wall_seconds']:.1f}"
        assert cells["compilations"] == str(phase["compilations"])
    assert row(times, "whole run")["compilations"] == str(summary["compilations"])
    ngl, tournament = (summary["algorithms"][n]["wall_seconds"] for n in ("ngl", "tournament"))
    change = timing.time_reduction(run)
    assert change["wall"] == pytest.approx((tournament - ngl) / ngl * 100)
    assert change["expected_evaluations"] == pytest.approx((9 - 24) / 24 * 100)
    initial = summary["initial"]["wall_seconds"]
    assert change["thesis_wall"] == pytest.approx(
        ((tournament + initial) - (ngl + initial)) / (ngl + initial) * 100
    )
    text = write_report(finished).read_text()
    assert f"thesis-accounting change: {change['thesis_wall']:+.1f} % here" in text
    assert f"| {change['wall']:+.1f} % |" in timing.accountings(run).markdown() in text


def with_times(run_dir, initial, ngl, tournament, compile_seconds):
    """`run_dir`'s summary with these wall times, each phase compiling `compile_seconds`."""
    path = run_dir / "summary.json"
    summary = json.loads(path.read_text())
    for phase, wall in (
        (summary["initial"], initial),
        *(
            (summary["algorithms"][name], wall)
            for name, wall in (("ngl", ngl), ("tournament", tournament))
        ),
    ):
        phase["wall_seconds"] = wall
        phase["compile_seconds"] = compile_seconds
        phase["wall_seconds_excluding_compilation"] = wall - compile_seconds
    path.write_text(json.dumps(summary))
    return run_dir


def test_time_change_in_jaxgp_and_thesis_accounting(finished, tmp_path):
    run_dir = shutil.copytree(finished, tmp_path / "run")
    # initial 100 s, NGL 300 s, tournament 100 s; each phase compiled for 20 s
    run = load_run(with_times(run_dir, 100.0, 300.0, 100.0, 20.0))
    change = timing.time_reduction(run)
    assert change["wall"] == pytest.approx((100 - 300) / 300 * 100)  # -66.7 %
    assert change["wall_excluding_compilation"] == pytest.approx((80 - 280) / 280 * 100)
    assert change["thesis_wall"] == pytest.approx((200 - 400) / 400 * 100)  # -50.0 %
    assert change["thesis_wall_excluding_compilation"] == pytest.approx((160 - 360) / 360 * 100)
    table = timing.accountings(run)
    assert table.rows == (
        (timing.JAXGP, "300.0", "100.0", "-66.7 %"),
        (timing.THESIS, "400.0", "200.0", "-50.0 %"),
        (timing.JAXGP + timing.EXCLUDING, "280.0", "80.0", "-71.4 %"),
        (timing.THESIS + timing.EXCLUDING, "360.0", "160.0", "-55.6 %"),
    )
    text = write_report(run_dir).read_text()
    assert table.markdown() in text
    assert "thesis-accounting change: -50.0 % here (-55.6 % excluding compilation)" in text


def test_best_losses_and_best_per_generation(finished):
    run = load_run(finished)
    summary = json.loads((finished / "summary.json").read_text())
    best = tables.best_losses(run)
    for name in ("ngl", "tournament"):
        assert (
            row(best, name)["best loss"] == f"`{summary['algorithms'][name]['best']['expression']}`"
        )
    per_generation = tables.best_per_generation(run)
    assert [r[0] for r in per_generation.rows] == ["0", "1", "2", "3"]
    for generation in (1, 2, 3):
        for name in ("ngl", "tournament"):
            snapshot = json.loads(
                (finished / "generations" / f"{name}_{generation}.json").read_text()
            )
            cells = row(per_generation, str(generation))
            assert cells[f"{name} best"] == f"`{snapshot['population'][0]['expression']}`"
    final = row(per_generation, "3")
    assert final["ngl best"] == f"`{summary['algorithms']['ngl']['best']['expression']}`"


def test_run_cut_off_in_the_middle(stopped, tmp_path):
    records = ledger(stopped, KEEP)
    run = load_run(stopped)
    assert not run.finished and len(run.records) == KEEP
    assert any("truncated last line" in w for w in run.warnings)
    table = tables.evaluations(run)
    assert row(table, "total")["evaluations"] == str(KEEP)
    assert row(table, "ngl")["evaluations"] == str(KEEP - 8)
    assert row(table, "tournament")["evaluations"] == "0"
    failed = sum(r["status"] == "failed" for r in records)
    assert row(table, "total")["failed"] == str(failed)
    kept = [Evaluation.from_dict(r) for r in records if r["algorithm"] in ("initial", "ngl")]
    expected = best_of(kept)
    assert row(tables.best_losses(run), "ngl")["best loss"] == f"`{expected.expression}`"
    assert row(timing.execution_time(run), "ngl")["wall s"] == tables.DASH
    assert [r[0] for r in tables.best_per_generation(run).rows] == ["0", "1"]
    text = write_report(stopped, tmp_path / "out").read_text()
    assert "in progress" in text and "generations ended: ngl 1/3, tournament 0/3" in text
    assert "available when the run has finished" in text
    assert all(cell == tables.DASH for r in timing.accountings(run).rows for cell in r[1:])
    assert "truncated last line" in text  # listed under Notes
    assert (tmp_path / "out" / "fitness.png").read_bytes().startswith(PNG)


def test_synthetic_run_with_history(tmp_path):
    run_dir = synthetic_run(tmp_path / "run")
    path = write_report(run_dir)
    text = path.read_text()
    assert (path.parent / "history_digits.png").read_bytes().startswith(PNG)
    assert "](history_digits.png)" in text and MISSING_HISTORY not in text
    run = load_run(run_dir)
    assert row(tables.best_losses(run), "tournament")["best loss"] == (
        "`neg(y_true * log(y_pred + 0.5))`"
    )
    assert row(tables.best_losses(run), "tournament")["average improvement"] == "+40.00 %"
    assert row(tables.accuracy(run), "digits")["tournament val"] == "0.7000"
    counts = row(tables.evaluations(run), "initial")
    assert (counts["evaluations"], counts["trained"], counts["failed"]) == ("4", "3", "1")
    assert row(tables.evaluations(run), "tournament")["expected"] == "2"
    top = tables.top_losses(run)
    assert top.column("average improvement")[:3] == ["+40.00 %", "+20.00 %", "-10.00 %"]
    assert top.column("average improvement")[-1] == "failed"


def test_synthetic_run_in_progress(tmp_path):
    run_dir = synthetic_run(tmp_path / "run", finished=False)
    text = write_report(run_dir).read_text()
    assert "in progress" in text and "`neg(y_true * log(y_pred + 0.5))`" in text


def test_not_a_run_and_empty_ledger_are_errors(tmp_path):
    with pytest.raises(ConfigError, match="not a jaxgp run directory"):
        load_run(tmp_path)
    with pytest.raises(ConfigError, match="not a directory"):
        load_run(tmp_path / "missing")
    RunDir.create(tmp_path / "empty", build_settings("evolve").to_dict())
    with pytest.raises(ConfigError, match="no evaluations"):
        write_report(tmp_path / "empty")


def test_cli_report(finished, monkeypatch, capsys, tmp_path):
    code, out, err = jaxgp(monkeypatch, capsys, "report", str(finished), "--out", str(tmp_path))
    assert code in (0, None), err
    assert "report.md" in out and (tmp_path / "report.md").exists()


@pytest.mark.parametrize("case", ["not-a-run", "missing", "empty", "file"])
def test_cli_bad_input_is_one_line_and_exit_2(case, monkeypatch, capsys, tmp_path):
    target = tmp_path / "x"
    if case == "not-a-run":
        target.mkdir()
    elif case == "empty":
        RunDir.create(target, build_settings("evolve").to_dict())
    elif case == "file":
        target.write_text("{}")
    code, _, err = jaxgp(monkeypatch, capsys, "report", str(target))
    assert code == 2
    assert err.startswith("error: ") and err.count("\n") == 1
