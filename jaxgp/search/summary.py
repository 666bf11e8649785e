"""The JSON written per generation (`snapshot`) and at the end of a run (`build_summary`)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence

from jaxgp.expr.tree import Tree
from jaxgp.fitness import METRICS, Scores, compute_fitness
from jaxgp.search.algorithms import ALGORITHMS
from jaxgp.search.population import Individual, ranked
from jaxgp.search.records import scores_to_dict
from jaxgp.search.settings import RunSettings

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


def snapshot(
    algorithm: str, generation: int, population: Sequence[Individual], archive: Sequence[Tree]
) -> dict:
    """The population after a generation, best first."""
    return {
        "algorithm": algorithm,
        "generation": generation,
        "population": [individual.to_dict() for individual in population],
        "archive": [str(tree) for tree in archive],
    }


def describe(individual: Individual, baselines: Mapping[str, Scores]) -> dict:
    """An individual with its fitness under both metrics and its per-dataset metrics."""
    data = individual.to_dict()
    data["fitness"] = {
        metric: compute_fitness(individual.scores, baselines, metric).to_dict()
        for metric in METRICS
    }
    data["datasets"] = {name: scores_to_dict(s) for name, s in individual.scores.items()}
    return data


def ledger_counts(ledger: Sequence[dict], key: str) -> dict[str, dict[str, int]]:
    """Per algorithm label: evaluations (ledger lines) and how many per status."""
    counts: dict[str, Counter] = {}
    for record in ledger:
        if record.get("eval_key") != key:
            continue
        counter = counts.setdefault(record.get("algorithm", "?"), Counter())
        counter["evaluations"] += 1
        counter[record.get("status", "?")] += 1
    return {
        name: {k: counter.get(k, 0) for k in ("evaluations", "trained", "cached", "failed")}
        for name, counter in counts.items()
    }


def build_summary(
    settings: RunSettings,
    *,
    run_dir: str,
    key: str,
    baselines: Mapping[str, Scores],
    finals: Mapping[str, list[Individual]],
    phases: Mapping[str, dict],
    ledger: Sequence[dict],
    replayed: Mapping[str, int],
    total: dict,
    resumed: bool,
) -> dict:
    counts = ledger_counts(ledger, key)
    algorithms = {}
    for name, population in finals.items():
        expected = ALGORITHMS[name].evaluations(settings.search) - settings.search.population
        algorithms[name] = {
            "best": describe(population[0], baselines),
            **phases[name],
            **counts.get(name, {"evaluations": 0, "trained": 0, "cached": 0, "failed": 0}),
            "expected_evaluations": expected,
            "replayed": replayed.get(name, 0),
            "final_population": [individual.to_dict() for individual in population],
        }
    best_name, best = _best(finals)
    return {
        "command": settings.command,
        "run_dir": run_dir,
        "status": "finished",
        "resumed": resumed,
        "fitness_metric": settings.fitness,
        "best": {"algorithm": best_name, **describe(best, baselines)},
        "baselines": {name: scores_to_dict(s) for name, s in baselines.items()},
        "initial": {
            **phases["initial"],
            **counts.get("initial", {}),
            "replayed": replayed.get("initial", 0),
        },
        "algorithms": algorithms,
        "evaluations": sum(c["evaluations"] for c in counts.values()),
        "cache_hits": sum(c["cached"] for c in counts.values()),
        "trained": sum(c["trained"] for c in counts.values()),
        "failed": sum(c["failed"] for c in counts.values()),
        "wall_seconds": total["wall_seconds"],
        "compilations": total["compilations"],
        "compile_seconds": total["compile_seconds"],
        "compilation_cache_hits": total["compilation_cache_hits"],
        "timing": TIMING,
        "eval_key": key,
    }


def _best(finals: Mapping[str, list[Individual]]) -> tuple[str, Individual]:
    leaders = [population[0] for population in finals.values()]
    best = ranked(leaders)[0]
    return list(finals)[leaders.index(best)], best
