"""Run directories for the report and export tests.

`fake_compare` runs a real `compare` with the fake trainer (the search, ledger, snapshots and
summary are the real ones); `cut_off` turns a copy of a finished run into one stopped in the
middle of a generation, with a half-written last ledger line; `synthetic_run` writes a small
run directory by hand, as JSON dicts in the layout earlier versions wrote (so readers are
checked against that layout, not only against their own writers), with per-epoch history.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from jaxgp.fitness import METRICS, Metric, Scores, compute_fitness
from jaxgp.search.options import RunOptions
from jaxgp.search.run_settings import build_settings, evaluation_key
from jaxgp.search.rundir import RunDir, dumps, write_json_atomic
from jaxgp.search.session import run_search
from jaxgp.status import Status
from tests.search.fake_trainer import FakeTrainer, fake_load

COMPARE = dict(
    population=8, generations=3, datasets=["digits", "synthetic"], candidates_per_batch=1, seed=3
)


def fake_compare(out: Path) -> Path:
    options = RunOptions(out=str(out), **COMPARE)
    run_search("compare", options, trainer=FakeTrainer(), load_fn=fake_load)
    return out


def ledger_lines(run: Path) -> list[str]:
    return (run / "ledger.jsonl").read_text().splitlines(keepends=True)


def cut_off(finished: Path, out: Path, keep: int) -> Path:
    """A copy of `finished` stopped after `keep` ledger lines (plus half of the next), with
    no summary and only the snapshots of generations whose lines are all kept."""
    shutil.copytree(finished, out)
    lines = ledger_lines(finished)
    (out / "ledger.jsonl").write_text("".join(lines[:keep]) + lines[keep][: len(lines[keep]) // 2])
    (out / "summary.json").unlink()
    kept = [json.loads(line) for line in lines[:keep]]
    settings = json.loads((finished / "config.json").read_text())["settings"]
    population = settings["search"]["population"]
    top_n = settings["search"]["top_n"]
    for snapshot in (out / "generations").iterdir():
        algorithm, generation = snapshot.stem.rsplit("_", 1)
        size = population if algorithm in ("initial", "ngl") else top_n
        done = [
            r for r in kept if (r["algorithm"], r["generation"]) == (algorithm, int(generation))
        ]
        if len(done) < size:
            snapshot.unlink()
    return out


def _record(algorithm, generation, expression, accuracies, baselines, key, status="trained"):
    scores = {
        name: Scores(
            val_loss=float("nan") if status == "failed" else 1.0 - acc,
            val_accuracy=acc,
            test_loss=float("nan") if status == "failed" else 1.1 - acc,
            test_accuracy=acc - 0.01,
            status=Status.FAILED if status == "failed" else Status.TRAINED,
        )
        for name, acc in accuracies.items()
    }
    fitness = compute_fitness(scores, baselines, Metric.ACCURACY)
    datasets = {name: s.to_dict() for name, s in scores.items()}
    for name, acc in accuracies.items():
        datasets[name]["history"] = [
            {"epoch": 1, "val_accuracy": acc / 2, "val_loss": 2.0},
            {"epoch": 2, "val_accuracy": acc, "val_loss": 1.0},
        ]
    return {
        "algorithm": algorithm,
        "generation": generation,
        "expression": expression,
        "status": status,
        "wins": fitness.wins,
        "average_improvement": fitness.average_improvement,
        "fitness_metric": "accuracy",
        "datasets": datasets,
        "fitness": {m: compute_fitness(scores, baselines, m).to_dict() for m in METRICS},
        "seconds": 2.0,
        "eval_key": key,
        "time": 0.0,
    }


#: The synthetic run's evaluations: (algorithm, generation, expression, digits val accuracy).
SYNTHETIC = [
    ("initial", 0, "neg(y_true * log(y_pred))", 0.60),
    ("initial", 0, "y_pred - y_true", 0.40),
    ("initial", 0, "sqrt(y_pred) * y_true", 0.45),
    ("initial", 0, "exp(y_pred) + y_true", None),  # failed
    ("evolve", 1, "neg(y_true * log(y_pred + 0.5))", 0.70),
    ("evolve", 2, "y_true * cos(y_pred)", 0.30),
]
CE_ACCURACY = 0.5


def synthetic_run(out: Path, *, finished: bool = True) -> Path:
    """A one-dataset tournament run written by hand, with per-epoch history everywhere."""
    settings = build_settings(
        "evolve",
        RunOptions(population=4, generations=2, datasets=["digits"], algorithm="tournament"),
    )
    key = evaluation_key(settings)
    run = RunDir.create(out, settings.to_dict())
    ce = Scores(0.9, CE_ACCURACY, 0.95, CE_ACCURACY - 0.02)
    baselines = {"digits": ce}
    ce_dict = ce.to_dict()
    ce_dict["history"] = [
        {"epoch": 1, "val_accuracy": 0.3, "val_loss": 1.5},
        {"epoch": 2, "val_accuracy": CE_ACCURACY, "val_loss": 0.9},
    ]
    write_json_atomic(out / "baselines.json", {"eval_key": key, "datasets": {"digits": ce_dict}})
    records = []
    for label, generation, expression, accuracy in SYNTHETIC:
        algorithm = "tournament" if label == "evolve" else label
        status = "failed" if accuracy is None else "trained"
        rec = _record(
            algorithm, generation, expression, {"digits": accuracy or 0.1}, baselines, key, status
        )
        with open(out / "ledger.jsonl", "a") as ledger:
            ledger.write(dumps(rec) + "\n")
        records.append(rec)

    def ranked(items):
        def key(r):
            failed = r["status"] == "failed" or r["average_improvement"] is None
            return (0, 0, 0.0) if failed else (1, r["wins"], r["average_improvement"])

        return sorted(items, key=key, reverse=True)

    def keep(items):
        return [
            {k: r[k] for k in ("expression", "status", "wins", "average_improvement")}
            | {"failed": r["status"] == "failed"}
            for r in ranked(items)[:4]
        ]

    population = records[:4]
    generations = run.path / "generations"
    write_json_atomic(
        generations / "initial_0.json", {"population": keep(population), "archive": []}
    )
    for generation in (1, 2):
        children = [r for r in records[4:] if r["generation"] == generation]
        population = ranked(population + children)[:4]
        write_json_atomic(generations / f"tournament_{generation}.json",
                          {"population": keep(population)})  # fmt: skip
    if finished:
        best = ranked(records)[0]
        write_json_atomic(
            out / "summary.json",
            {
                "command": "evolve",
                "status": "finished",
                "fitness_metric": "accuracy",
                "best": {"algorithm": "tournament", **best},
                "baselines": {"digits": ce_dict},
                "initial": {"wall_seconds": 10.0, "compilations": 3, "compile_seconds": 4.0,
                            "wall_seconds_excluding_compilation": 6.0},
                "algorithms": {
                    "tournament": {
                        "best": best, "wall_seconds": 5.0, "compilations": 1,
                        "compile_seconds": 1.0, "wall_seconds_excluding_compilation": 4.0,
                    }
                },
                "wall_seconds": 16.0,
                "compilations": 4,
                "compile_seconds": 5.0,
                "eval_key": key,
            }
        )  # fmt: skip
    return out
