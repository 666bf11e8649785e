"""Study: the priors language on tiny-lt's long-tailed split (benchmarks/RESULTS.md section 11).

Two measurements with the search's own recipe (`jaxgp evolve --scale tiny-lt`: digits,
imbalance 20, small_cnn, 33 epochs, Adam at 1e-2, every candidate from the run seed's
initial weights), no early stopping:

- `noise`: named losses and expressions trained on several run seeds (each seed its own
  split, initial weights and batches, as a search with that seed): validation accuracy per
  seed, which is what the search's fitness compares, and its paired difference with CE.
  How far a loss's single-seed fitness scatters says how often the search ranks a lucky
  loss above a better one.
- `draws`: random trees of a language (the learnability screen on, as tiny-lt) trained on
  one seed: how many read `prior` or use `csum`, how many beat CE's validation accuracy
  (and by more than the noise), and the best of them. `--weights` redraws with other leaf
  and operator weights (`prior=2,csum=2`: twice as likely as each other choice).

    python -m benchmarks.studies.prior_language noise --seeds 0,1,2,3,4 --losses ce,cb,la,ngl
    python -m benchmarks.studies.prior_language draws --trees 96 [--weights prior=2,csum=2]
    python -m benchmarks.studies.prior_language noise --smoke     # seconds, on a CPU (CI)
"""

from __future__ import annotations

import dataclasses
import statistics
import time

from benchmarks.lib.args import script_parser
from benchmarks.lib.provenance import git_commit, write_json
from jaxgp.data import load_dataset
from jaxgp.expr.generate import TreeConfig, random_trees
from jaxgp.expr.language import LANGUAGES, Language, get_language
from jaxgp.losses import resolve_loss
from jaxgp.search.options import RunOptions
from jaxgp.search.run_settings import build_settings
from jaxgp.train.loop import train_candidates


def recipe(seed: int, epochs: int | None = None):
    """tiny-lt's training config and its long-tailed digits split for run seed `seed`."""
    settings = build_settings("evolve", RunOptions(scale="tiny-lt", seed=seed, epochs=epochs))
    dataset = settings.train_split.apply(load_dataset("digits", seed=seed), seed)
    return dataclasses.replace(settings.train, language="priors"), dataset


def noise(losses: list[str], seeds: list[int], epochs: int | None) -> dict:
    """Validation and test accuracy of every loss on every seed."""
    rows = {loss: {"val": [], "test": []} for loss in losses}
    for seed in seeds:
        config, dataset = recipe(seed, epochs)
        report = train_candidates([resolve_loss(loss) for loss in losses], dataset, config)
        for loss, result in zip(losses, report.results, strict=True):
            rows[loss]["val"].append(result.val_accuracy)
            rows[loss]["test"].append(result.test_accuracy)
        print(f"seed {seed}: " + ", ".join(
            f"{loss} {rows[loss]['val'][-1]:.3f}" for loss in losses
        ), flush=True)  # fmt: skip
    reference = rows[losses[0]]
    summary = []
    for loss, row in rows.items():
        differences = [a - b for a, b in zip(row["val"], reference["val"], strict=True)]
        summary.append({
            "loss": loss,
            "val_mean": statistics.mean(row["val"]),
            "test_mean": statistics.mean(row["test"]),
            "val_sd": statistics.stdev(row["val"]) if len(seeds) > 1 else 0.0,
            "val_minus_ce_mean": statistics.mean(differences),
            "val_minus_ce_sd": statistics.stdev(differences) if len(seeds) > 1 else 0.0,
        })  # fmt: skip
    return {"seeds": seeds, "rows": rows, "summary": summary}


def weighted(spec: str) -> Language:
    """The priors language with `prior` and `csum` drawn `w` times as often as any other
    leaf kind or operator (`prior=2,csum=2`)."""
    base = get_language("priors")
    weights = {name: float(w) for name, w in (part.split("=") for part in spec.split(","))}
    leaf = tuple(weights.get(kind, 1.0) for kind in base.leaf_kinds)
    operator = tuple(weights.get(op, 1.0) for op in base.operators)
    name = f"priors[{spec}]"
    language = dataclasses.replace(base, name=name, leaf_weights=leaf, operator_weights=operator)
    LANGUAGES[name] = language  # a study's variant, registered for this process only
    return language


def draws(count: int, seed: int, language: Language, epochs: int | None) -> dict:
    """`count` random trees of `language` trained on run seed `seed`, beside CE."""
    config, dataset = recipe(seed, epochs)
    tree_config = TreeConfig(screen="learnable", language=language.name)
    start = time.perf_counter()
    trees = random_trees(seed + 17, count, config=tree_config)
    drawn_seconds = time.perf_counter() - start
    losses = [resolve_loss("ce")] + [resolve_loss(tree) for tree in trees]
    report = train_candidates(losses, dataset, dataclasses.replace(config, language="priors"))
    ce, *results = report.results
    noise_margin = 0.03  # about the paired validation sd between seeds (section 11)
    rows = [
        {"expression": str(tree), "val": r.val_accuracy, "test": r.test_accuracy,
         "prior": "prior" in tree.nodes, "csum": "csum" in tree.nodes}
        for tree, r in zip(trees, results, strict=True)
    ]  # fmt: skip
    return {
        "language": language.name,
        "trees": count,
        "drawn_seconds": drawn_seconds,
        "ce_val": ce.val_accuracy,
        "ce_test": ce.test_accuracy,
        "with_prior": sum(r["prior"] for r in rows),
        "with_csum": sum(r["csum"] for r in rows),
        "learned": sum(r["val"] > 0.2 for r in rows),
        "at_least_ce": sum(r["val"] >= ce.val_accuracy for r in rows),
        "beyond_noise": sum(r["val"] >= ce.val_accuracy + noise_margin for r in rows),
        "best": sorted(rows, key=lambda r: -r["val"])[:5],
    }


def main() -> None:
    parser = script_parser(__doc__)
    parser.add_argument("part", choices=("noise", "draws"))
    parser.add_argument("--seeds", default="0,1,2,3,4")
    parser.add_argument("--losses", default="ce,cb,la,ngl")
    parser.add_argument("--trees", type=int, default=96)
    parser.add_argument("--weights", default=None, help="e.g. prior=2,csum=2")
    parser.add_argument("--epochs", type=int, default=None, help="default: tiny-lt's 33")
    args = parser.parse_args()
    if args.smoke:
        args.seeds, args.losses, args.trees, args.epochs = "0,1", "ce,la", 4, 1
    report = {"commit": git_commit(), "part": args.part}
    if args.part == "noise":
        seeds = [int(s) for s in args.seeds.split(",")]
        report.update(noise([s.strip() for s in args.losses.split(",")], seeds, args.epochs))
        for row in report["summary"]:
            print(
                f"{row['loss']}: val {row['val_mean']:.4f} (sd {row['val_sd']:.4f}), test "
                f"{row['test_mean']:.4f}; val - CE {row['val_minus_ce_mean']:+.4f} "
                f"(paired sd {row['val_minus_ce_sd']:.4f})"
            )
    else:
        language = weighted(args.weights) if args.weights else get_language("priors")
        seed = int(args.seeds.split(",")[0])
        report.update(draws(args.trees, seed, language, args.epochs))
        print({k: v for k, v in report.items() if k != "best"})
        for row in report["best"]:
            print(f"  val {row['val']:.4f} test {row['test']:.4f}  {row['expression']}")
    write_json(args.json_path, report)


if __name__ == "__main__":
    main()
