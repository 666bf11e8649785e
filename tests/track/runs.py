"""Tracked runs for the tracking tests: `jaxgp compare` in-process with the fake trainer,
and what the run directory says each generation's statistics must be."""

from __future__ import annotations

import json
import statistics
from pathlib import Path

from jaxgp.search import session
from tests.cli.invoke import run_main
from tests.search.fake_trainer import FakeTrainer

GENERATIONS = 2
ARGS = ["--population", "4", "--generations", str(GENERATIONS), "--confirm-seeds", "2"]


class Acting(FakeTrainer):
    """Calls `act()` (raise KeyboardInterrupt, damage a store...) at its `at`-th call."""

    def __init__(self, at: int, act) -> None:
        super().__init__()
        self.at, self.act, self.count = at, act, 0

    def __call__(self, *args, **kwargs):
        self.count += 1
        if self.count == self.at:
            self.act()
        return super().__call__(*args, **kwargs)


def tracked(monkeypatch, capsys, out: Path, *track: str, trainer=None, resume=False):
    """`jaxgp compare` (or its resume) of `out` tracked by `track`: (code, stdout, stderr)."""
    monkeypatch.setattr(session, "DeviceTrainer", lambda: trainer or FakeTrainer())
    args = ["--resume", str(out)] if resume else [*ARGS, "--out", str(out)]
    return run_main(monkeypatch, capsys, "compare", *args, *(f"--track={t}" for t in track))


def expected(out: Path) -> dict[tuple[str, int], dict]:
    """(algorithm, step) -> what the run's own files say of that generation: the
    population's best (snapshot) and the statuses and fitness of its evaluations (ledger)."""
    ledger = [json.loads(line) for line in (out / "ledger.jsonl").read_text().splitlines()]
    found = {}
    for algorithm in ("ngl", "tournament"):
        for step in range(GENERATIONS + 1):
            name = "initial_0.json" if step == 0 else f"{algorithm}_{step}.json"
            best = json.loads((out / "generations" / name).read_text())["population"][0]
            label = "initial" if step == 0 else algorithm
            lines = [r for r in ledger if (r["algorithm"], r["generation"]) == (label, step)]
            statuses = [r["status"] for r in lines]
            fitness = [r["average_improvement"] for r in lines if r["status"] != "failed"]
            found[algorithm, step] = {
                "best_fitness": best["average_improvement"],
                "best_wins": best["wins"],
                "best_expression": best["expression"],
                "failed_share": statuses.count("failed") / len(statuses),
                "stopped_share": statuses.count("stopped") / len(statuses),
                "median_fitness": statistics.median(fitness) if fitness else None,
                "evaluations": len(lines),
            }
    return found


def confirmed_curve(out: Path, expression: str, dataset: str, metric: str) -> list[float]:
    """The mean per epoch over the confirmation seeds, from trainings.jsonl's raw lines."""
    curves = []
    for line in (out / "trainings.jsonl").read_text().splitlines():
        training = json.loads(line)
        if training["algorithm"] != "confirm" or training["dataset"] != dataset:
            continue
        for name, result in zip(training["expressions"], training["results"], strict=True):
            if name == expression:
                curves.append([epoch[metric] for epoch in result["history"]])
    return [sum(values) / len(values) for values in zip(*curves, strict=True)]


def confirmed_ranking(out: Path) -> list[str]:
    summary = json.loads((out / "summary.json").read_text())
    return [entry["expression"] for entry in summary["confirmation"]["ranking"]]
