"""`--track mlflow[=URI]`: the run as an MLflow run.

The store is URI, or by default a local SQLite database beside the runs
(`sqlite:///<the run directory's parent>/mlflow.db`, its artifacts in `mlartifacts/` there:
`mlflow ui --backend-store-uri sqlite:///runs/mlflow.db`). The experiment is
`$MLFLOW_EXPERIMENT_NAME`, else `jaxgp`; the run is named after the run directory and
tagged with its path and command. Params: every setting of `config.json`, flattened
(`search.population`, `train.epochs`, ...); metrics: each generation's statistics at step
= generation, the confirmed candidates' curves at step = epoch and the final numbers
(`jaxgp.track.ending`); tags: the best expression of each algorithm so far; artifacts at the
end: `config.json`, `summary.json` and the report (`report/report.md` with its figures).
A resumed run reopens the same MLflow run (its id is kept in `tracking.json`).
"""

from __future__ import annotations

import logging
import os
import time
from pathlib import Path
from typing import Any

from jaxgp.search.run_settings import flatten
from jaxgp.search.rundir import CONFIG, SUMMARY
from jaxgp.track.ending import RunEnd
from jaxgp.track.stats import GenerationStats
from jaxgp.track.trackers import Context

EXPERIMENT = "jaxgp"
DATABASE = "mlflow.db"
ARTIFACTS = "mlartifacts"
MAX_BATCH = 100
"""MLflow takes at most 100 params (and 1000 metrics) per `log_batch`."""


def default_uri(run_dir: Path) -> str:
    return f"sqlite:///{Path(run_dir).resolve().parent / DATABASE}"


class MlflowTracker:
    name = "mlflow"

    def __init__(self, uri: str | None = None) -> None:
        self.uri = uri
        self.client: Any = None
        self.run_id: str | None = None
        self.run_dir: Path | None = None

    def start(self, context: Context) -> dict[str, Any]:
        from mlflow.tracking import MlflowClient

        for name in ("mlflow", "alembic"):  # a new store's migrations log at INFO on stderr
            logging.getLogger(name).setLevel(logging.WARNING)

        previous = context.previous
        self.run_dir = Path(context.run_dir)
        self.uri = self.uri or previous.get("uri") or default_uri(self.run_dir)
        self.client = MlflowClient(tracking_uri=self.uri)
        if previous.get("run_id") and previous.get("uri") == self.uri:
            self.run_id = previous["run_id"]
            self.client.update_run(self.run_id, status="RUNNING")
        else:
            self.run_id = self._create(context)
        return {"uri": self.uri, "run_id": self.run_id}

    def _create(self, context: Context) -> str:
        from mlflow.entities import Param

        name = os.environ.get("MLFLOW_EXPERIMENT_NAME") or EXPERIMENT
        experiment = self.client.get_experiment_by_name(name)
        if experiment is not None:
            experiment_id = experiment.experiment_id
        else:
            location = None
            if self.uri.startswith("sqlite:///"):
                location = (Path(self.uri.removeprefix("sqlite:///")).parent / ARTIFACTS).as_uri()
            experiment_id = self.client.create_experiment(name, artifact_location=location)
        tags = {
            "jaxgp.run_dir": str(self.run_dir.resolve()),
            "jaxgp.command": context.settings.command,
        }
        run = self.client.create_run(experiment_id, run_name=self.run_dir.name, tags=tags)
        settings = flatten(context.settings.to_dict())
        params = [Param(key, str(value)[:6000]) for key, value in settings.items()]
        for start in range(0, len(params), MAX_BATCH):
            self.client.log_batch(run.info.run_id, params=params[start : start + MAX_BATCH])
        return run.info.run_id

    def _metrics(self, values: dict[str, float], step: int) -> None:
        from mlflow.entities import Metric

        stamp = int(time.time() * 1000)
        metrics = [Metric(tag, value, stamp, step) for tag, value in values.items()]
        for start in range(0, len(metrics), MAX_BATCH):
            self.client.log_batch(self.run_id, metrics=metrics[start : start + MAX_BATCH])

    def generation(self, stats: GenerationStats) -> None:
        self._metrics(stats.scalars(), stats.step)
        self.client.set_tag(
            self.run_id, f"best_expression.{stats.algorithm}", stats.best_expression
        )

    def finish(self, end: RunEnd) -> None:
        from jaxgp.report import write_report

        epochs = max((len(values) for values in end.curves.values()), default=0)
        for epoch in range(1, epochs + 1):
            at = {tag: v[epoch - 1] for tag, v in end.curves.items() if len(v) >= epoch}
            self._metrics(at, epoch)
        self._metrics(end.scalars, 0)
        for tag, text in end.texts.items():
            self.client.set_tag(self.run_id, tag, text)
        for name in (CONFIG, SUMMARY):
            self.client.log_artifact(self.run_id, str(end.path / name))
        report = write_report(end.path)
        self.client.log_artifacts(self.run_id, str(report.parent), artifact_path="report")

    def close(self, status: str) -> None:
        if self.client is not None and self.run_id is not None:
            self.client.set_terminated(self.run_id, status=status)
