"""The run directory: creation, recognition, durable ledger, truncated lines, strict JSON."""

import json
import math

import pytest

from jaxgp.errors import ConfigError
from jaxgp.runs import RunDir, dumps


def test_create_then_open(tmp_path):
    RunDir.create(tmp_path / "run", {"a": 1})
    assert RunDir.open(tmp_path / "run").read_config() == {"a": 1}
    assert (tmp_path / "run" / "generations").is_dir()


def test_create_refuses_an_existing_run(tmp_path):
    RunDir.create(tmp_path / "run", {})
    with pytest.raises(ConfigError, match="--resume"):
        RunDir.create(tmp_path / "run", {})


@pytest.mark.parametrize("content", [None, "", "not json", '{"settings": {}}', "[1, 2]"])
def test_open_refuses_what_is_not_a_run(tmp_path, content):
    if content is not None:
        (tmp_path / "config.json").write_text(content)
    with pytest.raises(ConfigError, match="not a jaxgp run directory"):
        RunDir.open(tmp_path)
    with pytest.raises(ConfigError, match="not a jaxgp run directory"):
        RunDir.open(tmp_path / "missing")


def test_ledger_lines_are_appended_and_read_back(tmp_path):
    run = RunDir.create(tmp_path / "run", {})
    for i in range(3):
        run.append({"i": i, "x": float("nan")})
    records, warnings = run.read_ledger()
    assert records == [{"i": 0, "x": None}, {"i": 1, "x": None}, {"i": 2, "x": None}]
    assert warnings == []


@pytest.mark.parametrize(
    ("name", "append", "read"),
    [
        ("ledger.jsonl", "append", "read_ledger"),
        ("trainings.jsonl", "append_training", "read_trainings"),
    ],
)
def test_a_truncated_last_line_is_skipped_with_a_warning_and_repaired(tmp_path, name, append, read):
    run = RunDir.create(tmp_path / "run", {})
    getattr(run, append)({"i": 0})
    with open(run.path / name, "a") as handle:
        handle.write('{"i": 1, "expre')
    records, warnings = getattr(run, read)()
    assert records == [{"i": 0}] and len(warnings) == 1 and "truncated" in warnings[0]
    records, warnings = getattr(run, read)(repair=True)
    getattr(run, append)({"i": 2})
    assert getattr(run, read)() == ([{"i": 0}, {"i": 2}], [])


def test_an_unreadable_middle_line_is_skipped_with_a_warning(tmp_path):
    run = RunDir.create(tmp_path / "run", {})
    run.ledger_path.write_text('{"i": 0}\ngarbage\n{"i": 2}\n')
    records, warnings = run.read_ledger()
    assert records == [{"i": 0}, {"i": 2}] and "line 2" in warnings[0]


def test_rewritten_files_are_atomic_strict_json(tmp_path):
    run = RunDir.create(tmp_path / "run", {})
    run.write_summary({"best": math.inf, "values": (1.0, math.nan)})
    run.write_snapshot("ngl", 2, {"population": []})
    assert json.loads((tmp_path / "run" / "summary.json").read_text()) == {
        "best": None,
        "values": [1.0, None],
    }
    assert run.read_snapshot("ngl", 2) == {"population": []}
    assert not list((tmp_path / "run").rglob("*.tmp"))
    assert "NaN" not in dumps({"x": math.nan})
