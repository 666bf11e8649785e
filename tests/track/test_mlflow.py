"""`--track mlflow`: the run as an MLflow run in a real SQLite store, read back with MLflow's
client."""

import json

import pytest

from jaxgp.search.run_settings import flatten
from tests.track.runs import GENERATIONS, Acting, confirmed_ranking, expected, tracked

pytest.importorskip("mlflow", reason="MLflow is not installed (pip install mlflow)")

from mlflow.tracking import MlflowClient  # noqa: E402


def the_run(store):
    """The one MLflow run in the store, and its client."""
    client = MlflowClient(tracking_uri=f"sqlite:///{store}")
    (experiment,) = [e for e in client.search_experiments() if e.name == "jaxgp"]
    (run,) = client.search_runs([experiment.experiment_id])
    return client, run


def history(client, run, key):
    return [(m.step, m.value) for m in sorted(client.get_metric_history(run.info.run_id, key),
                                               key=lambda m: m.step)]  # fmt: skip


def test_a_run_is_an_mlflow_run_with_its_settings_generations_and_files(
    monkeypatch, capsys, tmp_path
):
    out = tmp_path / "run"
    code, _, err = tracked(monkeypatch, capsys, out, "mlflow")
    assert code == 0, err
    assert "warning" not in err and "INFO" not in err
    client, run = the_run(tmp_path / "mlflow.db")  # the default store: beside the runs
    assert run.info.status == "FINISHED" and run.info.run_name == "run"
    assert run.data.tags["jaxgp.run_dir"] == str(out.resolve())
    settings = json.loads((out / "config.json").read_text())["settings"]
    assert run.data.params == {key: str(value) for key, value in flatten(settings).items()}
    for (algorithm, step), want in expected(out).items():
        best = dict(history(client, run, f"{algorithm}/best_fitness"))
        assert best[step] == pytest.approx(want["best_fitness"], rel=1e-6)
        failed = dict(history(client, run, f"{algorithm}/failed_share"))
        assert failed[step] == pytest.approx(want["failed_share"])
    assert (
        run.data.tags["best_expression.ngl"] == expected(out)["ngl", GENERATIONS]["best_expression"]
    )
    best = confirmed_ranking(out)[0]
    assert run.data.tags["confirmed/1/expression"] == best
    curve = history(client, run, "confirmed/1/digits/val_accuracy")
    assert [step for step, _ in curve] == list(range(1, 11))
    artifacts = {a.path for a in client.list_artifacts(run.info.run_id)}
    assert {"config.json", "summary.json", "report"} <= artifacts
    report = {a.path for a in client.list_artifacts(run.info.run_id, "report")}
    assert "report/report.md" in report
    assert json.loads((out / "tracking.json").read_text())["trackers"]["mlflow"]["run_id"] == (
        run.info.run_id
    )


def test_a_resumed_run_continues_the_same_mlflow_run(monkeypatch, capsys, tmp_path):
    out, store = tmp_path / "run", tmp_path / "store.db"

    def interrupt():
        raise KeyboardInterrupt

    trainer = Acting(6, interrupt)
    code, _, _ = tracked(monkeypatch, capsys, out, f"mlflow=sqlite:///{store}", trainer=trainer)
    assert code == 130
    client, run = the_run(store)
    assert run.info.status == "KILLED"
    logged = [step for step, _ in history(client, run, "ngl/best_fitness")]
    assert 0 < len(logged) < GENERATIONS + 1
    code, _, err = tracked(monkeypatch, capsys, out, resume=True)
    assert code == 0, err
    client, resumed = the_run(store)  # still one run
    assert resumed.info.run_id == run.info.run_id and resumed.info.status == "FINISHED"
    for algorithm in ("ngl", "tournament"):
        steps = [step for step, _ in history(client, resumed, f"{algorithm}/best_fitness")]
        assert steps == list(range(GENERATIONS + 1))


def test_a_damaged_store_is_a_warning_and_the_search_finishes(monkeypatch, capsys, tmp_path):
    out, store = tmp_path / "run", tmp_path / "mlflow.db"

    def damage():  # another program wrote over the database in the middle of the run
        store.write_bytes(b"this is not a database" * 1000)

    code, stdout, err = tracked(monkeypatch, capsys, out, "mlflow", trainer=Acting(4, damage))
    assert code == 0 and "best overall" in stdout
    warnings = [line for line in err.splitlines() if line.startswith("warning: ")]
    assert len(warnings) == 1 and warnings[0].startswith("warning: --track mlflow: logging ")
    assert "the search goes on" in warnings[0]
    assert (out / "summary.json").exists()
