"""docs/python-api.md: its code runs as written (with the fake trainer), and `load_run`'s
DataFrames hold the ledger's evaluations."""

import math
import re
from pathlib import Path

import pytest

import jaxgp
from jaxgp.search import session
from tests.report.runs import fake_compare, synthetic_run
from tests.search.fake_trainer import FakeTrainer

pd = pytest.importorskip("pandas", reason="pandas is not installed (pip install pandas)")

PAGE = Path(__file__).resolve().parents[1] / "docs" / "python-api.md"


def page_code(block: int) -> str:
    return re.findall(r"```python\n(.*?)```", PAGE.read_text(), re.S)[block]


def test_the_python_api_page_runs_a_search_tables_and_plots_it(monkeypatch, tmp_path, capsys):
    monkeypatch.setattr(session, "DeviceTrainer", lambda: FakeTrainer())
    monkeypatch.chdir(tmp_path)
    code = page_code(0)
    assert len(code.strip().splitlines()) <= 14  # the dozen lines the page promises
    exec(compile(code, str(PAGE), "exec"), {})
    assert (tmp_path / "runs/notebook/best.png").stat().st_size > 1000
    out, err = capsys.readouterr()
    assert "trained" in out and "initial population" in err  # the table, and the progress
    namespace = {"jaxgp": jaxgp}
    exec(compile(page_code(1), str(PAGE), "exec"), namespace)
    assert r"\ell_{b,c}" in capsys.readouterr().out


def test_candidates_is_one_row_per_ledger_line_with_its_scores(tmp_path):
    run = jaxgp.load_run(fake_compare(tmp_path / "run"))
    table = run.candidates()
    assert len(table) == len(run.records) and table.index.name == "evaluation"
    assert set(table["algorithm"]) == {"initial", "ngl", "tournament"}
    for (_, row), record in zip(table.iterrows(), run.records, strict=True):
        assert row["expression"] == record.expression and row["status"] == record.status
        assert row["generation"] == record.generation and row["wins"] == record.wins
        assert row["nodes"] == jaxgp.parse(record.expression).size
        for dataset in ("digits", "synthetic"):
            scores = record.scores.get(dataset)
            value = row[f"{dataset}/val_accuracy"]
            assert math.isnan(value) if scores is None else value == scores.val_accuracy
        if record.failed:
            assert math.isnan(row["fitness"])
        else:
            assert row["fitness"] == pytest.approx(record.average_improvement)
    assert (table["time"].notna()).all() and (table["seconds"] >= 0).all()


def test_curves_hold_every_stored_epoch_and_ces_baseline(tmp_path):
    run = jaxgp.load_run(synthetic_run(tmp_path / "run"))
    curves = run.curves()
    histories = sum(len(s.history) for r in run.records for s in r.scores.values())
    baseline = sum(len(s.history) for s in run.baselines.values())
    assert len(curves) == histories + baseline
    ce = curves[curves["evaluation"] == -1]
    assert len(ce) == baseline and set(ce["expression"]) == {"ce"}
    assert list(curves.columns[:5]) == ["evaluation", "algorithm", "expression", "dataset", "epoch"]


def test_without_pandas_the_tables_say_how_to_install_it(monkeypatch, tmp_path):
    import builtins

    real_import = builtins.__import__

    def no_pandas(name, *args, **kwargs):
        if name == "pandas":
            raise ImportError("No module named 'pandas'")
        return real_import(name, *args, **kwargs)

    run = jaxgp.load_run(synthetic_run(tmp_path / "run"))
    monkeypatch.setattr(builtins, "__import__", no_pandas)
    with pytest.raises(jaxgp.ConfigError, match=r"pip install 'jaxgp\[notebook\]'"):
        run.candidates()
