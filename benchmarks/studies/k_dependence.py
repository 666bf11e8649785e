"""Benchmark: does a candidate's result depend on the K it trains with, and how much?

A candidate shares nothing with the others of its batch, but XLA computes the K models of a
batch as batched (under `vmap`, grouped) convolutions, which sum in another order than one
model's. This measures, on `--trees` random learnable trees (the early-stop benchmark's:
generator seed 0, the learnability screen) trained on digits with the tiny recipe:

- one step from the same weights: the largest relative difference of any updated parameter
  between K = 1 and each K (floating-point order: about float32's epsilon, not more);
- the same trees in another order at the same K (other companions, other positions): how
  many results are bit-identical (all of them, if nothing couples candidates);
- after the full training at each K against K = 1: the Spearman correlation of the
  validation-accuracy rankings, and the largest and mean absolute change of validation and
  test accuracy (training amplifies the rounding differences).

    python -m benchmarks.studies.k_dependence [--trees 48] [--ks 1,4,8] [--json out.json]
    python -m benchmarks.studies.k_dependence --smoke     # seconds, on a CPU (CI)
"""

from __future__ import annotations

import dataclasses
import json
import time

import jax
import numpy as np
from scipy.stats import spearmanr

from benchmarks.lib.args import script_parser
from benchmarks.lib.provenance import device_description, git_commit, write_json
from jaxgp.data import load_dataset
from jaxgp.expr.generate import TreeConfig, random_trees
from jaxgp.losses import encode_losses, resolve_loss
from jaxgp.search import get_scale
from jaxgp.train import DeviceDataset, TrainConfig, train_candidates
from jaxgp.train.placement import place_candidates, place_replicated
from jaxgp.train.state import EpochKeys, with_learning_rates
from jaxgp.train.step import build_functions


def one_step_difference(data: DeviceDataset, config: TrainConfig, trees, k: int) -> float:
    """Largest relative difference of the parameters after one step, K = k against K = 1,
    for the first k trees, every candidate starting from the same weights."""

    def step(losses_k):
        cfg = dataclasses.replace(config, candidates_per_batch=len(losses_k))
        functions = build_functions(data.num_classes, data.image_shape, cfg)
        keys = place_candidates(np.stack([np.asarray(jax.random.PRNGKey(0))] * len(losses_k)))
        state = with_learning_rates(functions.init(keys), np.full(len(losses_k), 1e-3))
        specs = [resolve_loss(t) for t in losses_k]
        losses = place_candidates(encode_losses(specs, 64, prior=data.class_prior))
        indices = place_replicated(np.arange(config.batch_size, dtype=np.int32)[None])
        epoch_keys = EpochKeys(place_replicated(jax.random.PRNGKey(1)), keys)
        state, _ = functions.step_program(state, losses, data.train, epoch_keys, indices,
                                          np.int32(0))  # fmt: skip
        return jax.tree.map(np.asarray, state.params)

    together = step(trees[:k])
    worst = 0.0
    for i, tree in enumerate(trees[:k]):
        alone = step([tree])
        for a, b in zip(jax.tree.leaves(alone), jax.tree.leaves(together), strict=True):
            a, b = a[0].astype(np.float64), b[i].astype(np.float64)
            scale = np.maximum(np.abs(a).max(), 1e-12)
            worst = max(worst, float(np.abs(a - b).max() / scale))
    return worst


def main(argv: list[str] | None = None) -> None:
    parser = script_parser(__doc__)
    parser.add_argument("--trees", type=int, default=48)
    parser.add_argument("--ks", default="1,4,8")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    ks = [int(k) for k in args.ks.split(",")]
    if ks[0] != 1:
        parser.error("--ks must start with 1 (the reference)")
    trees_n, epochs = (4, 1) if args.smoke else (args.trees, get_scale("tiny").epochs)
    ks = [1, 2] if args.smoke else ks
    rng = np.random.default_rng(args.seed)
    trees = [str(t) for t in random_trees(rng, trees_n, config=TreeConfig(screen="learnable"))]
    dataset = load_dataset("digits", seed=0)
    if args.smoke:
        dataset = dataset.head(train=256, val=64, test=64)
    data = DeviceDataset.from_dataset(dataset)
    config = TrainConfig(model="small_cnn", epochs=epochs, seed=0)

    report = {"device": device_description(), "commit": git_commit(), "jax": jax.__version__,
              "trees": trees_n, "epochs": epochs, "ks": ks, "rows": []}  # fmt: skip
    results, seconds = {}, {}
    for k in ks:
        start = time.perf_counter()
        cfg = dataclasses.replace(config, candidates_per_batch=k)
        results[k] = train_candidates(trees, data, cfg).results
        seconds[k] = time.perf_counter() - start
    shuffled_k = ks[-1]
    order = np.random.default_rng(1).permutation(trees_n)
    cfg = dataclasses.replace(config, candidates_per_batch=shuffled_k)
    again = train_candidates([trees[i] for i in order], data, cfg).results
    same = results[shuffled_k]

    def final(result) -> tuple:
        return (*dataclasses.astuple(result.history[-1]), result.test_accuracy)

    identical = sum(final(again[j]) == final(same[i]) for j, i in enumerate(order))
    report["same_k_other_companions"] = {"k": shuffled_k, "bit_identical": identical,
                                         "of": trees_n}  # fmt: skip
    base_val = np.array([r.val_accuracy for r in results[1]])
    base_test = np.array([r.test_accuracy for r in results[1]])
    for k in ks:
        val = np.array([r.val_accuracy for r in results[k]])
        test = np.array([r.test_accuracy for r in results[k]])
        row = {"k": k, "seconds": seconds[k]}
        if k != 1:
            rho = spearmanr(base_val, val).statistic
            row.update(
                spearman_val=float(rho),
                max_abs_val_change=float(np.nanmax(np.abs(val - base_val))),
                mean_abs_val_change=float(np.nanmean(np.abs(val - base_val))),
                max_abs_test_change=float(np.nanmax(np.abs(test - base_test))),
                mean_abs_test_change=float(np.nanmean(np.abs(test - base_test))),
                identical_to_k1=int(np.sum((val == base_val) & (test == base_test))),
                one_step_max_rel_param_diff=one_step_difference(data, config, trees, k),
            )
        report["rows"].append(row)
    print(json.dumps(report, indent=1))
    if args.json_path != "-":
        write_json(args.json_path, report)


if __name__ == "__main__":
    main()
