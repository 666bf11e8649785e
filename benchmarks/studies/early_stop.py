"""Benchmark: how faithful and how much cheaper are evaluations with early stopping?

Draws `--trees` random trees that pass the run's validity filter (the learnability screen,
as every scale), trains CE and every tree on digits with the tiny recipe (small_cnn, the
tiny scale's epochs, seed 0), once fully and once under each early-stop policy, and reports
for each policy:

- the Spearman rank correlation between the fitness rankings (`Fitness.sort_key`, CE as
  the baseline) of the full and the early-stopped evaluations;
- whether the fully trained best (and every tree within 0.01 of CE) survived;
- the fraction of training steps saved and the wall time of both trainings (the full one
  first, after compilation, so both run compiled programs);
- that the policy's stops are those its rule gives on the full learning curves (a candidate's
  trajectory does not depend on when it stops).

For comparison it also simulates, on the full curves, asynchronous successive halving (ASHA:
at epochs 2, 4, 8 a candidate continues if it is in the top half of all the candidates that
reached that epoch before it, CE's curve among them) over `--orders` random evaluation
orders: that policy depends on the order, so it is reported as a distribution.

    python -m benchmarks.studies.early_stop [--trees 48] [--seed 0] [--json out.json]
    python -m benchmarks.studies.early_stop --smoke       # seconds, on a CPU (CI)
"""

from __future__ import annotations

import json
import time

import numpy as np
from scipy.stats import spearmanr

from benchmarks.lib.args import script_parser
from benchmarks.lib.provenance import device_description, git_commit, write_json
from jaxgp.data import load_dataset
from jaxgp.expr.generate import TreeConfig, random_trees
from jaxgp.fitness import Metric, Scores, compute_fitness
from jaxgp.search import get_scale
from jaxgp.search.early_stop import POLICIES, rungs
from jaxgp.train import TrainConfig, train_candidates

DATASET = "digits"
METRIC = Metric.ACCURACY
NEAR_CE = 0.01


def ranks(keys: list[tuple]) -> np.ndarray:
    """Each sort key's position among the distinct keys (equal keys share one)."""
    order = {key: i for i, key in enumerate(sorted(set(keys)))}
    return np.array([order[key] for key in keys], dtype=float)


def fitness_keys(results, ce: Scores) -> list[tuple]:
    baselines = {DATASET: ce}
    return [
        compute_fitness({DATASET: Scores.from_result(r)}, baselines, METRIC).sort_key
        for r in results
    ]


def simulated_stops(results, rule) -> list[int | None]:
    """The epoch each fully trained candidate leaves at under `rule` (None: it runs them
    all), as the trainer decides: a failed candidate at once, another when `rule` says so."""
    stops = []
    for result in results:
        failed = result.failed_epoch
        stops.append(
            next(
                (
                    r.epoch
                    for r in result.history[:-1]
                    if (failed is not None and r.epoch >= failed) or rule(r.epoch, r)
                ),
                None,
            )
        )
    return stops


def left_at(result, epochs: int) -> int | None:
    """The epoch a candidate trained under a stop rule left its batch at (None: the last)."""
    return len(result.history) if len(result.history) < epochs else None


def asha(curves: np.ndarray, ce: np.ndarray, epochs: int, rng, orders: int) -> dict:
    """Successive halving among earlier candidates, simulated on full validation curves."""
    points = rungs(epochs)
    finals = curves[:, -1]
    best = int(np.nanargmax(finals))
    rhos, saved, best_kept = [], [], []
    for _ in range(orders):
        seen = {rung: [ce[rung - 1]] for rung in points}
        stop_at = np.full(len(curves), epochs)
        for i in rng.permutation(len(curves)):
            for rung in points:
                value = curves[i, rung - 1]
                seen[rung].append(value)
                ordered = sorted(seen[rung], reverse=True)
                if value < ordered[max(1, -(-len(ordered) // 2)) - 1]:
                    stop_at[i] = rung
                    break
        early = [
            (2, finals[i]) if stop_at[i] == epochs else (1, curves[i, stop_at[i] - 1])
            for i in range(len(curves))
        ]
        full = [(2, finals[i]) for i in range(len(curves))]
        rhos.append(float(spearmanr(ranks(full), ranks(early)).statistic))
        saved.append(1 - stop_at.sum() / (epochs * len(curves)))
        best_kept.append(bool(stop_at[best] == epochs))
    return {
        "spearman_mean": float(np.mean(rhos)),
        "spearman_min": float(np.min(rhos)),
        "steps_saved_mean": float(np.mean(saved)),
        "best_kept_fraction": float(np.mean(best_kept)),
        "orders": orders,
    }


def main() -> None:
    parser = script_parser(__doc__)
    parser.add_argument("--trees", type=int, default=48)
    parser.add_argument("--seed", type=int, default=0, help="generator of the random trees")
    parser.add_argument("--epochs", type=int, default=get_scale("tiny").epochs)
    parser.add_argument("--candidates-per-batch", default="auto")
    parser.add_argument("--orders", type=int, default=50, help="ASHA orders simulated")
    args = parser.parse_args()
    if args.smoke:
        args.trees, args.epochs, args.orders = 4, 4, 3
    k = args.candidates_per_batch
    config = TrainConfig(
        epochs=args.epochs, seed=0, candidates_per_batch=k if k == "auto" else int(k)
    )
    data = load_dataset(DATASET, seed=0)
    trees = random_trees(
        np.random.default_rng(args.seed), args.trees, config=TreeConfig(screen="learnable")
    )
    (ce_result,) = train_candidates(["ce"], data, config).results
    ce = Scores.from_result(ce_result)
    steps_per_epoch = len(data.train) // config.batch_size

    start = time.perf_counter()
    full = train_candidates(trees, data, config)
    full_seconds = time.perf_counter() - start
    full_keys = fitness_keys(full.results, ce)
    finals = np.array([r.val_accuracy for r in full.results])
    best = max(range(len(trees)), key=lambda i: full_keys[i])
    near_ce = [i for i, r in enumerate(full.results) if r.val_accuracy >= ce.val_accuracy - NEAR_CE]
    full_epochs = sum(len(r.history) for r in full.results)

    policies = {}
    for policy in POLICIES:
        rule = policy.rule(ce, METRIC, config.epochs)
        if rule is None:
            continue
        start = time.perf_counter()
        report = train_candidates(trees, data, config, stop=rule)
        seconds = time.perf_counter() - start
        keys = fitness_keys(report.results, ce)
        stops = [left_at(r, config.epochs) for r in report.results]
        trained_epochs = sum(len(r.history) for r in report.results)
        stopped = [i for i, r in enumerate(report.results) if r.status == "stopped"]
        policies[policy] = {
            "spearman": float(spearmanr(ranks(full_keys), ranks(keys)).statistic),
            "best_kept": report.results[best].status != "stopped",
            "near_ce_stopped": [str(trees[i]) for i in near_ce if i in stopped],
            "stopped": len(stopped),
            "stopped_at": {str(e): stops.count(e) for e in sorted({s for s in stops if s})},
            "steps_full": full_epochs * steps_per_epoch,
            "steps": trained_epochs * steps_per_epoch,
            "steps_saved": 1 - trained_epochs / full_epochs,
            "fewer_steps_factor": full_epochs / trained_epochs,
            "seconds_full": full_seconds,
            "seconds": seconds,
            "wall_saved": 1 - seconds / full_seconds,
            "stops_match_the_full_curves": stops == simulated_stops(full.results, rule),
            "compilations": report.compilations,
        }

    curves = np.array([[h.val_accuracy for h in r.history] for r in full.results])
    ce_curve = np.array([h.val_accuracy for h in ce.history])
    report = {
        "device": device_description(),
        "commit": git_commit(),
        "trees": args.trees,
        "tree_seed": args.seed,
        "epochs": config.epochs,
        "candidates_per_batch": full.candidates_per_batch,
        "rungs": list(rungs(config.epochs)),
        "ce_val_accuracy": ce.val_accuracy,
        "best": {"expression": str(trees[best]), "val_accuracy": float(finals[best])},
        "near_ce": len(near_ce),
        "policies": policies,
        "asha_simulated": asha(
            curves, ce_curve, config.epochs, np.random.default_rng(0), args.orders
        ),  # fmt: skip
        "final_val_accuracies": [float(v) for v in finals],
        "val_curves": curves.tolist(),
        "ce_val_curve": ce_curve.tolist(),
        "expressions": [str(t) for t in trees],
    }
    write_json(args.json_path, report)
    bulky = ("final_val_accuracies", "val_curves", "ce_val_curve", "expressions")
    summary = {k: v for k, v in report.items() if k not in bulky}
    print(json.dumps(summary, indent=2))


if __name__ == "__main__":
    main()
