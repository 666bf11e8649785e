"""A whole run: plan it, load its data, start its directory, baselines, initial population,
searches and the confirmation of their best on more seeds.

`run_search` owns a run's order, for the CLI and every other caller alike: `plan_run` checks
every option (and, for `--resume` of a finished run, raises `RunFinished`: a summary is
final); process 0 claims the run directory, making it and taking its lock before anything is
written (`jaxgp.search.claim`: a second writer stops there, and a start that fails before
recording anything leaves nothing behind); `load_datasets` loads the data, so that a dataset
that is not available stops the run before anything is recorded; the processes of a search
over several check that they agree on the run (`run_settings.agreement`); `start_run`
creates (or reopens, for `--resume`) the run directory, written by process 0 only; and
`execute` runs it: CE baselines (trained once, stored in `baselines.json`), one initial
population (generator `default_rng([seed, 0, 0])`, evaluated once), then for each algorithm
a copy of it and the search (thesis Algorithm 2 for `compare`, one algorithm for `evolve`):
the session asks the algorithm for each generation's children, evaluates them and tells the
algorithm their scores (`jaxgp.search.ask_tell`), writes a snapshot after every generation;
with `confirm_seeds` it then trains the best few of each final population and CE on that
many more seeds (`jaxgp.search.confirm`), and writes `summary.json`.

Resuming replays the run from the start with the same generators while the evaluation
store takes every evaluation found in the ledger back instead of training it (and every
trainer call found in `trainings.jsonl`, for an evaluation cut between its datasets), so
the final population equals that of an uninterrupted run.
"""

from __future__ import annotations

import dataclasses
import json
import os
import shutil
import tempfile
from collections.abc import Callable
from contextlib import AbstractContextManager, nullcontext
from datetime import datetime
from pathlib import Path
from typing import Any

from jaxgp import distributed
from jaxgp.data.dataset import Dataset
from jaxgp.errors import ConfigError, JaxgpError, RunFinished
from jaxgp.expr.generate import random_trees
from jaxgp.fitness import Scores
from jaxgp.search.algorithms import ALGORITHMS
from jaxgp.search.claim import claim_run, finished_message
from jaxgp.search.confirm import confirm, confirmation_seeds
from jaxgp.search.evaluations import (
    DeviceTrainer,
    Evaluations,
    Scoring,
    Trainer,
    TrainerCalls,
    fitness_seeds,
    train_baselines,
)
from jaxgp.search.labels import Stage
from jaxgp.search.options import RunOptions
from jaxgp.search.phase_times import PhaseTimes, Stopwatch
from jaxgp.search.population import INITIAL_ID, generation_rng, ranked
from jaxgp.search.progress import Progress
from jaxgp.search.records import Baselines, Summary
from jaxgp.search.run_settings import (
    RunSettings,
    agreement,
    build_settings,
    differences,
    evaluation_key,
)
from jaxgp.search.rundir import BASELINES, CONFIG, LEDGER, SUMMARY, TRAININGS, RunDir
from jaxgp.search.store import EvaluationStore
from jaxgp.search.summary import Executed, build_summary, snapshot

LoadFn = Callable[..., Dataset]
"""`load_fn(name, data_dir=..., seed=...)`: a dataset by name (`jaxgp.data.load_dataset`)."""


def default_out() -> Path:
    stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
    path, n = Path("runs") / stamp, 1
    while path.exists():
        n += 1
        path = Path("runs") / f"{stamp}-{n}"
    return path


def plan_run(command: str, options: RunOptions) -> tuple[RunSettings, Path, bool]:
    """(settings, run directory path, whether it resumes), every option checked and nothing
    written yet; raises ConfigError on bad input. Resuming with several processes, the
    others read a local copy of process 0's records (`shared_resume`): its path is theirs."""
    if options.resume is None:
        settings = build_settings(command, options)
        path = Path(options.out) if options.out else default_out()
        RunDir.check_new(path)
        return settings, path, False
    resume = options.resume
    if options.out is not None and Path(options.out).resolve() != Path(resume).resolve():
        raise ConfigError("give either --out (a new run) or --resume (an existing one), not both")
    source = shared_resume(resume)  # with several processes: process 0's records
    try:
        return _plan_resume(command, options, resume, RunDir.existing(source))
    except BaseException:
        if source != resume:  # another process's copy of process 0's records
            shutil.rmtree(source, ignore_errors=True)
        raise


def _plan_resume(
    command: str, options: RunOptions, resume: str, run: RunDir
) -> tuple[RunSettings, Path, bool]:
    """`plan_run` of `--resume`, reading the run in `run` (process 0's records)."""
    edited = run.edited_settings()
    if edited and not options.force:
        raise ConfigError(
            f"{resume}/{CONFIG} was edited after the run started ({', '.join(edited)} "
            "changed); undo the edit, or give the new value as an option with --force"
        )
    stored = RunSettings.from_dict(run.read_config())
    if stored.command != command:
        raise ConfigError(
            f"{resume} is a `jaxgp {stored.command}` run; "
            f"continue it with `jaxgp {stored.command} --resume {resume}`"
        )
    settings = build_settings(command, options, base=stored)
    changed = differences(stored, settings)
    if os.path.exists(run.path / SUMMARY):
        if changed:
            raise ConfigError(
                f"{resume} is finished and its settings stay as they are ({'; '.join(changed)})"
                "; start a new run with --out"
            )
        raise RunFinished(finished_message(resume), run.read_summary([]))
    if changed and not options.force:
        raise ConfigError(
            f"{resume} was started with other settings ({'; '.join(changed)}); "
            "resume without those options, or add --force to continue with the new ones"
        )
    return settings, run.path, True


RESUME_FILES = (CONFIG, LEDGER, TRAININGS, BASELINES)
RESUME_COPY_PREFIX = "jaxgp-resume-"


def shared_resume(path: str) -> str:
    """The run directory a resuming process reads: its own `path` with one process; with
    several, a local copy of what process 0 reads in its `path` (config, ledger, trainings,
    baselines), so the hosts need no shared filesystem and all replay the same records.
    `run_search` removes the copy when the run ends."""
    if distributed.process_count() == 1:
        return path
    files = {}
    if distributed.is_writer():
        for name in (*RESUME_FILES, SUMMARY):  # the summary: whether the run is finished
            file = Path(path) / name
            files[name] = file.read_text(encoding="utf-8") if file.is_file() else None
    shared = json.loads(distributed.broadcast_bytes(json.dumps(files).encode()))
    if distributed.is_writer():
        return path
    copy = Path(tempfile.mkdtemp(prefix=RESUME_COPY_PREFIX))
    for name, text in shared.items():
        if text is not None:
            (copy / name).write_text(text, encoding="utf-8")
    return str(copy)


def start_run(path: Path, settings: RunSettings, resumed: bool, writer: bool = True) -> RunDir:
    """Create the run directory of a planned run, or reopen the one it resumes (its settings
    stored again, sealed, where they changed or were not sealed yet); with `writer=False`
    (a process other than the first of several) nothing is written. The caller holds the
    directory (`jaxgp.search.claim`)."""
    if not resumed:
        return RunDir.create(path, settings.to_dict(), writer)
    run = RunDir.open(path, writer)
    if RunSettings.from_dict(run.read_config()) != settings or run.edited_settings() != []:
        run.write_config(settings.to_dict())
    return run


def load_datasets(
    settings: RunSettings, trainer: Trainer | None = None, load_fn: LoadFn | None = None
) -> list[Any]:
    """The run's datasets, loaded, their training splits transformed as the run says, and
    prepared for its trainer (on the device by default): a dataset that is not available
    raises its `JaxgpError` here."""
    trainer = trainer or DeviceTrainer()
    if load_fn is None:
        from jaxgp.data.load import load_dataset as load_fn
    split, seed = settings.train_split, settings.seed
    return [
        trainer.prepare(split.apply(load_fn(name, data_dir=settings.data_dir, seed=seed), seed))
        for name in settings.datasets
    ]


def _baselines(
    run: RunDir, calls: TrainerCalls, datasets: list[Any], settings: RunSettings
) -> dict[str, Scores]:
    stored = run.read_baselines()
    if stored is not None and stored.eval_key == calls.store.eval_key:
        return {d.name: stored.scores[d.name] for d in datasets}
    calls.progress.phase("baselines", 0)
    seeds = fitness_seeds(settings.seed, settings.fitness_seeds)
    baselines = train_baselines(calls, datasets, seeds)
    broken = [name for name, scores in baselines.items() if not scores.usable]
    if broken:
        raise JaxgpError(f"the CE baseline did not train on {', '.join(broken)}")
    run.write_baselines(Baselines(calls.store.eval_key, baselines))
    return baselines


def execute(
    run: RunDir,
    settings: RunSettings,
    *,
    resumed: bool = False,
    progress: Progress | None = None,
    trainer: Trainer | None = None,
    load_fn: LoadFn | None = None,
    datasets: list[Any] | None = None,
) -> Summary:
    """Run (or finish) the run in `run`; returns the `Summary` also written to summary.json.

    `datasets` are the run's datasets as `load_datasets` gives them (loaded here if None).
    """
    progress = progress or Progress()
    trainer = trainer or DeviceTrainer()
    session = Stopwatch()
    evaluations, warnings = run.read_evaluations(repair=True) if resumed else ([], [])
    trainings, more = run.read_trainings(repair=True) if resumed else ([], [])
    for text in warnings + more:
        progress.warning(text)
    if datasets is None:
        datasets = load_datasets(settings, trainer, load_fn)
    store = EvaluationStore(evaluation_key(settings), run, evaluations, trainings)
    calls = TrainerCalls(store, trainer, settings.train, progress)
    baselines = _baselines(run, calls, datasets, settings)
    scoring = Scoring(
        tuple(datasets), baselines, settings.metric, settings.early_stop,
        fitness_seeds(settings.seed, settings.fitness_seeds),
    )  # fmt: skip
    evaluate = Evaluations(calls, scoring)
    config = settings.search
    progress.phase(Stage.INITIAL, 0)
    watch = Stopwatch()
    rng = generation_rng(settings.seed, INITIAL_ID, 0)
    initial = evaluate(random_trees(rng, config.population, config=config.tree), Stage.INITIAL, 0)
    run.write_snapshot(snapshot(Stage.INITIAL, 0, ranked(initial), []))
    phases: dict[str, PhaseTimes] = {Stage.INITIAL: watch.times()}
    finals = {}
    for name in settings.algorithms:
        # Each algorithm has its own cache: neither reuses the other's training. The
        # population copy is made by `init`; the timer starts right after it.
        own = evaluate.with_own_cache()
        search = ALGORITHMS[name].search(config, settings.seed)
        state = search.init(initial)
        progress.phase(name, config.generations)
        watch = Stopwatch()
        for generation in range(1, config.generations + 1):
            progress.generation(name, generation, config.generations)
            children = search.ask(state)
            state = search.tell(state, children, own(children, name, generation))
            run.write_snapshot(snapshot(name, generation, state.population, state.archive))
            progress.best(name, state.population[0])
        phases[name] = watch.times()
        finals[name] = list(state.population)
    confirmation = None
    if settings.confirm_seeds:
        watch = Stopwatch()
        confirmed = confirm(
            calls, datasets, finals, metric=settings.metric,
            seeds=confirmation_seeds(settings.seed, settings.confirm_seeds),
        )  # fmt: skip
        confirmation = dataclasses.replace(confirmed, times=watch.times())
    augmentation = {
        d.name: dataclasses.asdict(settings.train.for_dataset(d).augment) for d in datasets
    }
    executed = Executed(baselines, finals, phases, session.times(), confirmation, augmentation)
    ledger, _ = run.read_evaluations()
    summary = build_summary(
        settings, executed, store=store, ledger=ledger, run_dir=str(run.path), resumed=resumed
    )
    run.write_summary(summary)
    return summary


Watch = Callable[[RunDir, RunSettings, bool], AbstractContextManager[Progress]]
"""`watch(run, settings, resumed)`: process 0's view of a run whose directory is ready, a
context that gives the `Progress` the run reports to while it executes."""


def run_search(
    command: str,
    options: RunOptions,
    *,
    watch: Watch | None = None,
    trainer: Trainer | None = None,
    load_fn: LoadFn | None = None,
) -> Summary:
    """Plan, load, agree across processes, start and execute the run `options` describe
    (`command` is `evolve` or `compare`); returns its `Summary`.

    Process 0 writes the run directory, reports to the progress `watch` gives (none:
    nothing is reported) and to the trackers `options.track` names (`jaxgp.track`); the
    other processes of a search over several train their share, report nothing and write
    nothing.
    """
    from jaxgp.track import parse_tracks, track_run

    settings, path, resumed = plan_run(command, options)
    writer = distributed.is_writer()
    tracks = parse_tracks(options.track, check_installed=writer)  # before anything is written
    try:
        with claim_run(path, resumed, writer):  # a second writer stops here, at once
            trainer = trainer or DeviceTrainer()
            datasets = load_datasets(settings, trainer, load_fn)  # one not available stops us
            distributed.check_same(agreement(settings, resumed), "options")  # before 0 writes
            run = start_run(path, settings, resumed, writer=writer)
            watching = (
                watch(run, settings, resumed) if writer and watch else nullcontext(Progress())
            )
            with (
                watching as shown,
                (
                    track_run(run.path, settings, resumed, tracks, shown)
                    if writer
                    else nullcontext(shown)
                ) as progress,
            ):
                return execute(run, settings, resumed=resumed, progress=progress,
                               trainer=trainer, datasets=datasets)  # fmt: skip
    finally:
        if resumed and path.name.startswith(RESUME_COPY_PREFIX) and str(path) != options.resume:
            shutil.rmtree(path, ignore_errors=True)  # another process's copy of process 0's
