"""Benchmark: the loss interpreter's two forms, and what they cost next to a training step.

For K trees on a batch of 64 with 10 and 100 classes it measures, per form (`select`: every
primitive at every row, no loop or conditional, what `vmap` runs; `switch`: a conditional
per row in a loop over the tree's own rows, what `map` runs):

- milliseconds per call of value and gradient with respect to y_pred (the programs are
  arguments, as in the trainer, so XLA cannot fold the trees into the code), after
  compilation, and the compile seconds;
- for reference, one training step of `--model` (K candidates, the trainer's own compiled
  host-loop step with the NGL tree as every loss) on CIFAR-10-shaped data, in each form.

Trees are random valid trees (typical sizes) and trees near the node cap (the switch
form's cost follows tree size; the select form's does not), each run by the interpreter of
their language (`language` column): the thesis's, and the priors language's (random trees
of that language, with `prior` and `csum`, whose select form carries rank-one path maps;
and the thesis's random trees again under it, to show what that machinery costs).

    python -m benchmarks.micro.interpreter [--ks 1,8] [--repeats 20] [--json out.json]
    python -m benchmarks.micro.interpreter --smoke        # seconds, on a CPU (CI)
"""

from __future__ import annotations

import json
import statistics
import time

import jax
import jax.numpy as jnp
import numpy as np

from benchmarks.lib.args import script_parser
from benchmarks.lib.measure import LOSS, benchmark_candidates, median_seconds
from benchmarks.lib.provenance import device_description, git_commit, write_json
from jaxgp.compilation import count_compilations
from jaxgp.data import load_dataset, train_batch_indices
from jaxgp.expr import NODE_CAP, TreeConfig, random_tree, random_trees
from jaxgp.expr.interpreter import program_loss
from jaxgp.expr.lower import FORM_OF_STRATEGY, STRATEGIES, over_candidates, strategy_loss
from jaxgp.expr.program import Program, encode_batch
from jaxgp.train import DeviceDataset, TrainConfig
from jaxgp.train.step import build_functions


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


def median_ms(fn, *args, repeats: int) -> float:
    return median_seconds(fn, *args, repeats=repeats, warmup=1) * 1e3


def loss_row(
    trees, strategy: str, classes: int, batch: int, repeats: int, language: str = "thesis"
) -> dict:
    """Value and gradient of K trees' losses under `strategy` in `language`'s interpreter:
    ms per call, compile s."""
    k = len(trees)
    program = Program(*(jnp.asarray(field) for field in encode_batch(trees)))
    y_pred, y_true = inputs(k, batch, classes)
    loss = over_candidates(strategy_loss(program_loss, strategy, language), (0, 0, 0), strategy)
    step = jax.jit(jax.value_and_grad(lambda p, q: loss(q, p, y_true).sum()))
    with count_compilations() as compiled:
        jax.block_until_ready(step(y_pred, program))
    return {
        "form": FORM_OF_STRATEGY[strategy],
        "language": language,
        "k": k,
        "classes": classes,
        "ms": median_ms(step, y_pred, program, repeats=repeats),
        "compile_s": compiled.seconds,
    }


def step_row(model: str, strategy: str, k: int, train_images: int, repeats: int) -> dict:
    """The trainer's compiled host-loop step, K candidates, losses under `strategy`."""
    dataset = load_dataset("synthetic:cifar10", seed=0, num_train=train_images, num_test=64)
    data = DeviceDataset.from_dataset(dataset)
    config = TrainConfig(
        model=model, candidates_per_batch=k, loss_strategy=strategy, epoch_loop="host"
    )
    functions = build_functions(data.num_classes, data.image_shape, config)
    losses, keys, state = benchmark_candidates(functions, config, k, data.num_classes)
    indices = jnp.asarray(train_batch_indices(0, 0, data.train.size, config.batch_size))

    def one_step(state, step):
        return functions.epoch_program(state, losses, data.train, keys, indices, step)

    with count_compilations() as compiled:
        state, _ = jax.block_until_ready(one_step(state, np.int32(0)))
    seconds = []
    for i in range(repeats):
        start = time.perf_counter()
        state, metrics = one_step(state, np.int32(1 + i % (len(indices) - 1)))
        jax.block_until_ready(metrics)
        seconds.append(time.perf_counter() - start)
    return {
        "form": FORM_OF_STRATEGY[strategy],
        "k": k,
        "model": model,
        "step_ms": statistics.median(seconds) * 1e3,
        "compile_s": compiled.seconds,
    }


def markdown(report: dict) -> str:
    lines = [
        f"{report['device']}, commit {report['commit']}, batch {report['batch']}, node cap "
        f"{report['node_cap']}",
        "",
        "| trees | language | form | K | classes | value+grad ms | compile s |",
        "|---|---|---|---|---|---|---|",
    ]
    for row in report["losses"]:
        lines.append(
            f"| {row['trees']} | {row.get('language', 'thesis')} | {row['form']} | {row['k']} "
            f"| {row['classes']} | {row['ms']:.3f} | {row['compile_s']:.2f} |"
        )
    lines += ["", "| training step | form | K | step ms | compile s |", "|---|---|---|---|---|"]
    for row in report["steps"]:
        lines.append(
            f"| {row['model']}, {LOSS[:12]}... | {row['form']} | {row['k']} | "
            f"{row['step_ms']:.2f} | {row['compile_s']:.2f} |"
        )
    return "\n".join(lines)


def main() -> None:
    parser = script_parser(__doc__)
    parser.add_argument("--ks", default="1,8")
    parser.add_argument("--batch", type=int, default=64)
    parser.add_argument("--classes", default="10,100")
    parser.add_argument("--repeats", type=int, default=20)
    parser.add_argument("--model", default="small_cnn")
    parser.add_argument("--train-images", type=int, default=1024)
    args = parser.parse_args()
    if args.smoke:
        args.ks, args.classes, args.repeats, args.train_images = "2", "10", 3, 160
    ks = [int(k) for k in args.ks.split(",")]
    priors = TreeConfig(language="priors")
    tree_sets = {
        ("random", "thesis"): random_trees(0, max(ks)),
        ("random", "priors"): random_trees(0, max(ks), config=priors),
        ("random thesis trees", "priors"): random_trees(0, max(ks)),
        ("near cap", "thesis"): trees_near_cap(max(ks), 0),
    }
    if args.smoke:
        tree_sets.pop(("near cap", "thesis"))
        tree_sets.pop(("random thesis trees", "priors"))
    report = {
        "device": device_description(),
        "commit": git_commit(),
        "batch": args.batch,
        "node_cap": NODE_CAP,
        "losses": [],
        "steps": [],
    }
    for (name, language), trees in tree_sets.items():
        for k in ks:
            for classes in (int(c) for c in args.classes.split(",")):
                for strategy in STRATEGIES:
                    row = loss_row(trees[:k], strategy, classes, args.batch, args.repeats, language)
                    report["losses"].append({"trees": name, **row})
                    print(json.dumps(report["losses"][-1]), flush=True)
    for k in ks[:1] if args.smoke else ks:
        for strategy in STRATEGIES:
            report["steps"].append(
                step_row(args.model, strategy, k, args.train_images, args.repeats)
            )
            print(json.dumps(report["steps"][-1]), flush=True)
    text = markdown(report)
    write_json(args.json_path, report)
    print(text)


if __name__ == "__main__":
    main()
