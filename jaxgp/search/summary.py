"""The records a run writes at the end of each generation (`snapshot`) and of the run
(`build_summary`)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from jaxgp.expr.tree import Tree
from jaxgp.fitness import Scores
from jaxgp.search.algorithms import ALGORITHMS
from jaxgp.search.confirmation import Confirmation
from jaxgp.search.evaluated import Evaluated
from jaxgp.search.labels import Stage
from jaxgp.search.phase_times import PhaseTimes
from jaxgp.search.population import ranked
from jaxgp.search.records import Evaluation, Phase, Snapshot, Summary
from jaxgp.search.run_settings import RunSettings
from jaxgp.search.store import EvaluationStore
from jaxgp.status import Status
from jaxgp.train.batch_plan import BatchPlan

TIMING = (
    "Each algorithm is timed by a wall clock from the moment right after its copy of the "
    "evaluated initial population is made until its last generation ends (thesis Algorithm "
    "2). The CE baselines and the initial population, whose training also compiles the "
    "trainer, are excluded from every algorithm's time, so each starts with the same warm "
    "compiled trainer; the algorithms run one after another in this process (NGL first), "
    "each with its own fitness cache seeded only with the initial population, so neither "
    "reuses the other's training. The trainer compiles once per number of candidates "
    "trained at once, so an algorithm whose generations train another number of candidates "
    "than the initial population (the tournament's N children) compiles inside its own "
    "phase: 'compilations' and 'compile_seconds' count that, and "
    "'wall_seconds_excluding_compilation' is the time without it. Evaluations replayed from "
    "the ledger of an earlier session ('replayed') cost no time, so the times of a resumed "
    "run cover this session only."
)
STATUSES = tuple(str(s) for s in (Status.TRAINED, Status.CACHED, Status.FAILED, Status.STOPPED))
EPOCH_FIELDS = ("candidate_epochs_trained", "candidate_epochs_saved")
COUNTS = ("evaluations", *STATUSES, *EPOCH_FIELDS)
"""What `ledger_counts` counts per label (a `Phase`'s count fields)."""


def snapshot(
    algorithm: str, generation: int, population: Sequence[Evaluated], archive: Sequence[Tree]
) -> Snapshot:
    """The population after a generation, best first."""
    members = tuple(individual.member() for individual in population)
    return Snapshot(algorithm, generation, members, tuple(str(tree) for tree in archive))


def ledger_counts(
    ledger: Sequence[Evaluation],
    epochs: int,
    datasets: Sequence[str],
    key: str | None = None,
    runs: int = 1,
) -> dict[str, dict[str, int]]:
    """Per algorithm label (only the lines of evaluation key `key`, unless None): evaluations
    (ledger lines), how many per status, and the candidate-epochs (one model, one dataset,
    one epoch) its trained evaluations ran and those early stopping saved, against every
    tree training `epochs` on every one of `datasets` with each of `runs` model seeds."""
    counts: dict[str, dict[str, int]] = {}
    for evaluation in ledger:
        if key is not None and evaluation.eval_key != key:
            continue
        row = counts.setdefault(evaluation.algorithm, dict.fromkeys(COUNTS, 0))
        row["evaluations"] += 1
        if evaluation.status in STATUSES:
            row[evaluation.status] += 1
        if evaluation.status.trained_here:
            ran = sum(
                scores.epochs_trained or len(scores.history) or epochs
                for name, scores in evaluation.scores.items()
                if name in datasets
            )
            row["candidate_epochs_trained"] += ran
            row["candidate_epochs_saved"] += epochs * len(datasets) * runs - ran
    return counts


def batching_record(plans: Sequence[tuple[str, int, BatchPlan]]) -> dict[str, dict]:
    """The summary's `candidates_per_batch`: per dataset, K per number of candidates of a
    call, and the source, strategy and probe of its latest plan for several candidates
    (of its first plan where every call had one)."""
    record: dict[str, dict] = {}
    for dataset, candidates, plan in plans:
        entry = record.setdefault(dataset, {"k_by_candidates": {}})
        entry["k_by_candidates"][str(candidates)] = plan.k
        if candidates > 1 or "source" not in entry:  # this plan's fields replace the last's
            described = {k: v for k, v in plan.to_dict().items() if k != "k"}
            record[dataset] = {"k_by_candidates": entry["k_by_candidates"], **described}
    return record


@dataclass(frozen=True)
class Executed:
    """What executing a run produced, for its summary: CE's scores, each algorithm's final
    population (best first), what each phase (`initial` and each algorithm) and the whole
    session cost, the confirmation (its record with its phase's times) and each dataset's
    augmentation."""

    baselines: Mapping[str, Scores]
    finals: Mapping[str, list[Evaluated]]
    phases: Mapping[str, PhaseTimes]
    total: PhaseTimes
    confirmation: Confirmation | None = None
    augmentation: Mapping = field(default_factory=dict)


def _phase_record(times: PhaseTimes, counts: dict | None, replayed: int, **more: object) -> Phase:
    return Phase(
        **times.to_dict(), **(counts or dict.fromkeys(COUNTS, 0)), replayed=replayed, **more
    )


def build_summary(
    settings: RunSettings,
    executed: Executed,
    *,
    store: EvaluationStore,
    ledger: Sequence[Evaluation],
    run_dir: str,
    resumed: bool,
) -> Summary:
    """The summary of a run whose session `executed` it with `store` (its evaluation key,
    what it replayed and its trainer calls' plans), `ledger` the run's whole ledger."""
    key, replayed, finals = store.eval_key, store.replays, executed.finals
    counts = ledger_counts(
        ledger, settings.train.epochs, settings.datasets, key, settings.fitness_seeds
    )
    metric = settings.metric
    algorithms = {
        name: _phase_record(
            executed.phases[name],
            counts.get(name),
            replayed.get(name, 0),
            best=population[0].candidate,
            expected_evaluations=ALGORITHMS[name].expected(settings.search),
            final_population=tuple(individual.member() for individual in population),
        )  # fmt: skip
        for name, population in finals.items()
    }
    leaders = [population[0] for population in finals.values()]
    best = ranked(leaders)[0]
    totals = {name: sum(c[name] for c in counts.values()) for name in COUNTS}
    total = executed.total
    initial = Stage.INITIAL
    return Summary(
        command=settings.command,
        metric=metric,
        language=settings.language,
        best=best.candidate,
        best_algorithm=list(finals)[leaders.index(best)],
        baselines=dict(executed.baselines),
        initial=_phase_record(
            executed.phases[initial], counts.get(initial), replayed.get(initial, 0)
        ),
        algorithms=algorithms,
        eval_key=key,
        run_dir=run_dir,
        resumed=resumed,
        evaluations=sum(c["evaluations"] for c in counts.values()),
        cache_hits=totals["cached"],
        trained=totals["trained"],
        failed=totals["failed"],
        stopped=totals["stopped"],
        candidate_epochs_trained=totals["candidate_epochs_trained"],
        candidate_epochs_saved=totals["candidate_epochs_saved"],
        wall_seconds=total.wall_seconds,
        compilations=total.compilations,
        compile_seconds=total.compile_seconds,
        compilation_cache_hits=total.compilation_cache_hits,
        timing=TIMING,
        candidates_per_batch=batching_record(store.plans),
        confirmation=executed.confirmation,
        augmentation=dict(executed.augmentation),
    )
