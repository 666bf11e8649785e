"""A whole run: open or resume the run directory, baselines, initial population, searches.

`open_run` validates the options and creates (or reopens, for `--resume`) the run directory;
`execute` runs it: CE baselines (trained once, stored in `baselines.json`), one initial
population (generator `default_rng([seed, 0, 0])`, evaluated once), then for each algorithm
a copy of it and the search (thesis Algorithm 2 for `compare`, one algorithm for `evolve`),
snapshots after every generation and `summary.json` at the end.

Resuming replays the run from the start with the same generators while the evaluator takes
every evaluation found in the ledger back instead of training it (and every trainer call
found in `trainings.jsonl`, for an evaluation cut between its datasets), so the final
population equals that of an uninterrupted run.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

from jaxgp import compilation
from jaxgp.errors import ConfigError, JaxgpError
from jaxgp.expr.generate import random_trees
from jaxgp.fitness import Scores
from jaxgp.runs import RunDir
from jaxgp.search.algorithms import ALGORITHMS
from jaxgp.search.evaluate import Evaluator, default_train_fn, train_baselines
from jaxgp.search.population import INITIAL_ID, Individual, generation_rng, ranked
from jaxgp.search.records import scores_from_dict, scores_to_dict
from jaxgp.search.reporting import Reporter
from jaxgp.search.result import GenerationHooks
from jaxgp.search.settings import (
    RunSettings,
    build_settings,
    differences,
    evaluation_key,
    settings_from_dict,
    settings_to_dict,
)
from jaxgp.search.summary import build_summary, snapshot
from jaxgp.search.trainings import TrainFn, TrainingLog

LoadFn = Callable[..., Any]


def default_out() -> Path:
    stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
    path, n = Path("runs") / stamp, 1
    while path.exists():
        n += 1
        path = Path("runs") / f"{stamp}-{n}"
    return path


def open_run(
    command: str,
    *,
    out: str | None = None,
    resume: str | None = None,
    force: bool = False,
    **options: Any,
) -> tuple[RunDir, RunSettings, bool]:
    """(run directory, settings, whether it resumes); raises ConfigError on bad input."""
    if resume is None:
        settings = build_settings(command, **options)
        run = RunDir.create(out or default_out(), settings_to_dict(settings))
        return run, settings, False
    if out is not None and Path(out).resolve() != Path(resume).resolve():
        raise ConfigError("give either --out (a new run) or --resume (an existing one), not both")
    run = RunDir.open(resume)
    stored = settings_from_dict(run.read_config())
    if stored.command != command:
        raise ConfigError(
            f"{resume} is a `jaxgp {stored.command}` run; "
            f"continue it with `jaxgp {stored.command} --resume {resume}`"
        )
    settings = build_settings(command, base=stored, **options)
    changed = differences(stored, settings)
    if changed and not force:
        raise ConfigError(
            f"{resume} was started with other settings ({'; '.join(changed)}); "
            "resume without those options, or add --force to continue with the new ones"
        )
    if settings != stored:
        run.write_config(settings_to_dict(settings))
    return run, settings, True


def _baselines(
    run: RunDir,
    datasets: list[Any],
    settings: RunSettings,
    key: str,
    train_fn: TrainFn,
    reporter: Reporter,
    trainings: TrainingLog,
) -> dict[str, Scores]:
    stored = run.read_baselines()
    if stored and stored.get("eval_key") == key:
        return {d.name: scores_from_dict(stored["datasets"][d.name]) for d in datasets}
    reporter.phase("baselines", 0)
    baselines = train_baselines(datasets, settings.train, train_fn, reporter, trainings)
    broken = [name for name, scores in baselines.items() if not scores.usable]
    if broken:
        raise JaxgpError(f"the CE baseline did not train on {', '.join(broken)}")
    run.write_baselines(
        {"eval_key": key, "datasets": {k: scores_to_dict(v) for k, v in baselines.items()}}
    )
    return baselines


def _phase(compiles: compilation.CompileStats, start: float) -> dict:
    """Wall seconds and XLA compilations since (`compiles`, `start`)."""
    now, wall = compilation.totals(), time.perf_counter() - start
    compile_seconds = now.seconds - compiles.seconds
    return {
        "wall_seconds": wall,
        "compilations": now.count - compiles.count,
        "compile_seconds": compile_seconds,
        "compilation_cache_hits": now.cache_hits - compiles.cache_hits,
        "wall_seconds_excluding_compilation": max(0.0, wall - compile_seconds),
    }


def execute(
    run: RunDir,
    settings: RunSettings,
    *,
    resumed: bool = False,
    reporter: Reporter | None = None,
    train_fn: TrainFn | None = None,
    load_fn: LoadFn | None = None,
) -> dict:
    """Run (or finish) the run in `run`; returns the summary also written to summary.json."""
    reporter = reporter or Reporter()
    on_device = train_fn is None  # the real trainer: put each dataset on the device once
    train_fn = train_fn or default_train_fn()
    if load_fn is None:
        from jaxgp.data.load import load_dataset as load_fn
    compile_start, started = compilation.totals(), time.perf_counter()
    records, warnings = run.read_ledger(repair=True) if resumed else ([], [])
    trained, more = run.read_trainings(repair=True) if resumed else ([], [])
    for text in warnings + more:
        reporter.warning(text)
    datasets = [
        load_fn(name, data_dir=settings.data_dir, seed=settings.seed) for name in settings.datasets
    ]
    if on_device:
        from jaxgp.train.loop import DeviceDataset

        datasets = [DeviceDataset.from_dataset(dataset) for dataset in datasets]
    key = evaluation_key(settings)
    trainings = TrainingLog(key, record=run.append_training, lines=trained)
    baselines = _baselines(run, datasets, settings, key, train_fn, reporter, trainings)
    evaluator = Evaluator(
        datasets,
        settings.train,
        baselines,
        settings.fitness,
        key,
        train_fn=train_fn,
        record=run.append,
        replay=records,
        reporter=reporter,
        trainings=trainings,
    )
    search = settings.search
    reporter.phase("initial", 0)
    phase_start = (compilation.totals(), time.perf_counter())
    rng = generation_rng(settings.seed, INITIAL_ID, 0)
    initial = evaluator(random_trees(rng, search.population, config=search.tree), "initial", 0)
    run.write_snapshot("initial", 0, snapshot("initial", 0, ranked(initial), []))
    phases: dict[str, dict] = {"initial": _phase(*phase_start)}
    finals: dict[str, list[Individual]] = {}

    def end(algorithm: str, generation: int, population, archive) -> None:
        run.write_snapshot(
            algorithm, generation, snapshot(algorithm, generation, population, archive)
        )
        reporter.best(algorithm, population[0])

    hooks = GenerationHooks(start=reporter.generation, end=end)
    for name in settings.algorithms:
        forked = evaluator.fork()  # own cache: neither algorithm reuses the other's training
        population = list(initial)  # the copy; the timer starts right after it
        reporter.phase(name, search.generations)
        phase_start = (compilation.totals(), time.perf_counter())
        result = ALGORITHMS[name].run(population, forked, search, settings.seed, hooks)
        phases[name] = _phase(*phase_start)
        finals[name] = result.population
    total = _phase(compile_start, started)
    ledger, _ = run.read_ledger()
    summary = build_summary(
        settings,
        run_dir=str(run.path),
        key=key,
        baselines=baselines,
        finals=finals,
        phases=phases,
        ledger=ledger,
        replayed=Counter({a: n for (a, s), n in evaluator.counts.items() if s == "replayed"}),
        total=total,
        resumed=resumed,
    )
    summary["candidates_per_batch"] = trainings.batching
    run.write_summary(summary)
    return summary
