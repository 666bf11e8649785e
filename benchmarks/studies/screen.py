"""Benchmark: does the learnability screen keep the losses that learn, and what does it cost?

Draws `--trees` random trees that pass the thesis's filter and as many that also pass the
learnability screen (`--screen learnable`), trains each with the tiny recipe on digits
(small_cnn, the tiny scale's epochs, seed 0), and counts the trees that learn: test accuracy
at least twice chance (0.2 for digits' 10 classes). Also: how many of the thesis's trees the
screen rejects and whether those learn, and the screen's cost per tree (the filter with and
without the screen on the same trees, after compilation).

    python -m benchmarks.studies.screen [--trees 64] [--json out.json]
    python -m benchmarks.studies.screen --smoke          # seconds, on a CPU (CI)
"""

from __future__ import annotations

import json
import time

import numpy as np

from benchmarks.lib.args import script_parser
from benchmarks.lib.provenance import device_description, git_commit, write_json
from jaxgp.data import load_dataset
from jaxgp.expr.generate import TreeConfig, random_trees
from jaxgp.expr.validity import check_validity_batch
from jaxgp.search import get_scale
from jaxgp.train import TrainConfig, train_candidates


def screen_cost(trees, repeats: int = 3) -> dict:
    """Seconds per tree of the filter alone and with the screen (compiled beforehand)."""
    out = {}
    for screen in ("thesis", "learnable"):
        check_validity_batch(trees[:1], screen=screen)
        start = time.perf_counter()
        for _ in range(repeats):
            check_validity_batch(trees, screen=screen)
        out[screen] = (time.perf_counter() - start) / repeats / len(trees)
    return out


def learns(trees, data, config: TrainConfig, chance: float) -> list[float]:
    report = train_candidates(trees, data, config)
    return [r.test_accuracy for r in report.results]


def main() -> None:
    parser = script_parser(__doc__)
    parser.add_argument("--trees", type=int, default=64)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--epochs", type=int, default=get_scale("tiny").epochs)
    args = parser.parse_args()
    if args.smoke:
        args.trees, args.epochs = 4, 1
    data = load_dataset("digits", seed=0)
    chance = 1.0 / data.num_classes
    config = TrainConfig(epochs=args.epochs, seed=0)
    pools = {
        screen: random_trees(np.random.default_rng(args.seed), args.trees,
                             config=TreeConfig(screen=screen))
        for screen in ("thesis", "learnable")
    }  # fmt: skip
    (ce,) = learns(["ce"], data, config, chance)
    accuracy = {screen: learns(trees, data, config, chance) for screen, trees in pools.items()}
    thesis = pools["thesis"]
    passes = [v.ok for v in check_validity_batch(thesis, screen="learnable")]
    rejected = [a for a, ok in zip(accuracy["thesis"], passes, strict=True) if not ok]
    kept = [a for a, ok in zip(accuracy["thesis"], passes, strict=True) if ok]

    def fraction(values):
        return float(np.mean([v >= 2 * chance for v in values])) if values else None

    report = {
        "device": device_description(),
        "commit": git_commit(),
        "trees": args.trees,
        "epochs": args.epochs,
        "ce_test_accuracy": ce,
        "learn_fraction": {screen: fraction(acc) for screen, acc in accuracy.items()},
        "median_test_accuracy": {s: float(np.median(a)) for s, a in accuracy.items()},
        "thesis_trees_rejected_by_the_screen": len(rejected),
        "learn_fraction_of_rejected": fraction(rejected),
        "learn_fraction_of_kept": fraction(kept),
        "seconds_per_tree": screen_cost(thesis),
        "accuracies": accuracy,
        "expressions": {s: [str(t) for t in trees] for s, trees in pools.items()},
    }
    write_json(args.json_path, report)
    summary = {k: v for k, v in report.items() if k not in ("accuracies", "expressions")}
    print(json.dumps(summary, indent=2))


if __name__ == "__main__":
    main()
