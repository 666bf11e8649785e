"""`jaxgp compare --scale small` end to end on the CPU: the three paper datasets (mocked tfds
records), cut down to a population of 2, one generation, one epoch and small_cnn, through
the real path: baselines, auto K, the trainer, ledger, summary and report."""

import json

import pytest

from tests.cli.invoke import run_main as jaxgp

tfds = pytest.importorskip("tensorflow_datasets")
SUITE = ("cifar10", "fashion_mnist", "cifar100")


def test_compare_at_the_small_scale_runs_the_paper_suite_end_to_end(monkeypatch, capsys, tmp_path):
    out = tmp_path / "run"
    with tfds.testing.mock_data(num_examples=160):  # 144 trained: two steps of 64 an epoch
        code, stdout, err = jaxgp(
            monkeypatch, capsys, "compare", "--scale", "small", "--population", "2",
            "--generations", "1", "--epochs", "1", "--model", "small_cnn", "--out", str(out),
        )  # fmt: skip
    assert code == 0, err[-3000:]
    summary = json.loads((out / "summary.json").read_text())
    assert tuple(summary["baselines"]) == SUITE
    assert summary["evaluations"] == 2 + 2 + 1  # initial P, NGL's P children, N = 1 at P = 2
    assert set(summary["candidates_per_batch"]) == set(SUITE)
    ledger = [json.loads(line) for line in (out / "ledger.jsonl").read_text().splitlines()]
    assert all(set(record["datasets"]) == set(SUITE) for record in ledger)
    assert "candidates trained at once" in err
    code, stdout, err = jaxgp(monkeypatch, capsys, "report", str(out))
    assert code == 0, err
    report = (out / "report" / "report.md").read_text()
    assert all(name in report for name in SUITE)
