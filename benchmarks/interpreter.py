"""Benchmark: the batched tree interpreter against one jitted closure per tree.

Measures, for K trees near the node cap on a batch of 64 with 10 and 100 classes:
- milliseconds per call of value and gradient with respect to y_pred, after compilation,
  for the interpreter (`lower_batch`, K trees in one call, under `vmap` and under
  `lax.map`) and for K closures (`lower`, one call each);
- compile seconds to evaluate 100 distinct trees each way (the interpreter compiles once).

    python benchmarks/interpreter.py [--k 8] [--trees 100] [--repeats 20] [--json out.json]
"""

from __future__ import annotations

import argparse
import json
import platform
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # run as a script from anywhere, jaxgp installed or not
    sys.path.insert(0, str(ROOT))

import jax
import jax.numpy as jnp
import numpy as np

from jaxgp.compilation import count_compilations
from jaxgp.expr import NODE_CAP, TreeConfig, lower, lower_batch, random_tree
from jaxgp.expr.lower import STRATEGIES, default_strategy


def trees_near_cap(count: int, seed: int, low: int = NODE_CAP - 12) -> list:
    """`count` distinct trees of `low` to NODE_CAP nodes (no validity filter: timing only)."""
    config = TreeConfig(min_height=5, max_height=8)
    rng = np.random.default_rng(seed)
    found: dict = {}
    while len(found) < count:
        tree = random_tree(rng, method="full", config=config, require_valid=False)
        if len(tree) >= low:
            found[tree] = None
    return list(found)


def inputs(k: int, batch: int, classes: int):
    rng = np.random.default_rng(0)
    logits = rng.standard_normal((k, batch, classes)).astype(np.float32)
    y_pred = jax.nn.softmax(jnp.asarray(logits), -1)
    y_true = jax.nn.one_hot(rng.integers(classes, size=(k, batch)), classes)
    return y_pred, y_true


def time_calls(fn, repeats: int) -> float:
    jax.block_until_ready(fn())
    start = time.perf_counter()
    for _ in range(repeats):
        jax.block_until_ready(fn())
    return (time.perf_counter() - start) / repeats * 1e3


def per_call(trees, classes: int, batch: int, repeats: int) -> dict:
    k = len(trees)
    y_pred, y_true = inputs(k, batch, classes)
    closures = [jax.jit(jax.value_and_grad(lower(tree))) for tree in trees]

    def all_closures():
        return [f(y_pred[i], y_true[i]) for i, f in enumerate(closures)]

    row = {"classes": classes, "closures_ms": time_calls(all_closures, repeats)}
    for strategy in STRATEGIES:
        batched = lower_batch(trees, strategy=strategy)
        step = jax.jit(jax.value_and_grad(lambda p, y, f=batched: f(p, y).sum()))
        row[f"interpreter_{strategy}_ms"] = time_calls(lambda f=step: f(y_pred, y_true), repeats)
    return row


def compile_cost(trees, k: int, classes: int, batch: int) -> dict:
    y_pred, y_true = inputs(k, batch, classes)
    result = {}
    with count_compilations() as stats:
        for start in range(0, len(trees), k):
            chunk = trees[start : start + k]
            chunk = chunk + chunk[:1] * (k - len(chunk))
            f = lower_batch(chunk)
            g = jax.grad(lambda p, f=f: f(p, y_true).sum())(y_pred)
            jax.block_until_ready(g)
    result["interpreter"] = {"compilations": stats.count, "compile_s": stats.seconds}
    with count_compilations() as stats:
        for tree in trees:
            jax.block_until_ready(jax.grad(lower(tree))(y_pred[0], y_true[0]))
    result["closures"] = {"compilations": stats.count, "compile_s": stats.seconds}
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--k", type=int, default=8)
    parser.add_argument("--trees", type=int, default=100)
    parser.add_argument("--batch", type=int, default=64)
    parser.add_argument("--repeats", type=int, default=20)
    parser.add_argument("--json", dest="json_path")
    args = parser.parse_args()

    trees = trees_near_cap(args.trees, seed=0)
    sizes = [len(t) for t in trees[: args.k]]
    report = {
        "device": str(jax.devices()[0]),
        "platform": platform.processor() or platform.machine(),
        "k": args.k,
        "batch": args.batch,
        "node_cap": NODE_CAP,
        "default_strategy": default_strategy(),
        "tree_sizes": sizes,
        "per_call": [
            per_call(trees[: args.k], classes, args.batch, args.repeats) for classes in (10, 100)
        ],
        "compile_100_trees": compile_cost(trees, args.k, 10, args.batch),
    }
    print(json.dumps(report, indent=2))
    if args.json_path:
        with open(args.json_path, "w") as out:
            json.dump(report, out, indent=2)


if __name__ == "__main__":
    main()
