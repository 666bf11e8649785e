"""Benchmark: where a training step's time goes, part by part, on this device.

Times, for K candidates, each part of jaxgp's training step compiled on its own, and the
whole step as the trainer runs it:

- `batch + augmentation`: gather the batch from the device-resident uint8 split, the
  ImageDataGenerator augmentation and preprocessing, one-hot labels;
- `model forward`: the K models on the batch (training mode), probabilities out;
- `model forward + backward`: the same with the gradient of the K models' parameters;
- `loss (interpreter)`: each candidate's tree on the probabilities, value and d/d probs;
- `Adam update`: the K optimiser updates applied to the parameters;
- `step, host loop`: the trainer's step dispatched from Python, as the epoch runs it on a
  CPU (one step after another, waiting only at the end);
- `step, scanned epoch`: one compiled epoch (`lax.scan`), per step, as on accelerators.

Each part is timed as the median of `--repeats` calls after three warm-up calls. The parts
overlap the step differently from how they run inside it (XLA fuses across them), so the
shares are a guide to what dominates, not an exact partition; `rest` is what the step
takes beyond the four parts it is made of (the finite-checks, `alive` masking, host
dispatch).

    python -m benchmarks.micro.step_profile --model small_cnn --data synthetic:cifar10
    python -m benchmarks.micro.step_profile --model inception_v3 --data synthetic:cifar10 --k 8 \\
        --dtype bfloat16                                   # on a GPU
    python -m benchmarks.micro.step_profile --smoke              # seconds, on a CPU (CI)
"""

from __future__ import annotations

import dataclasses
import time
from datetime import UTC, datetime

import jax
import jax.numpy as jnp
import optax

from benchmarks.lib.args import add_training_shape, script_parser
from benchmarks.lib.measure import benchmark_candidates
from benchmarks.lib.measure import median_seconds as timed
from benchmarks.lib.provenance import device_description, git_commit, write_json
from jaxgp.data import load_dataset, train_batch_indices
from jaxgp.policy import default_model_strategy
from jaxgp.train import DeviceDataset, TrainConfig
from jaxgp.train.step import build_functions, step_parts


def part_timings(data: DeviceDataset, config: TrainConfig, k: int, repeats: int) -> dict:
    """Milliseconds of each part of the step, compiled on its own."""
    parts = step_parts(data.num_classes, data.image_shape, config)
    functions = build_functions(data.num_classes, data.image_shape, config)
    loss_batch, epoch_keys, state = benchmark_candidates(functions, config, k, data.num_classes)
    keys = epoch_keys.candidates
    indices = jnp.asarray(train_batch_indices(0, 0, data.train.size, config.batch_size)[0])
    models, losses, tx = parts.train_models, parts.train_losses, parts.tx

    @jax.jit
    def data_part(images, labels, key):
        x = config.augment.apply(key, images[indices])
        return x, jax.nn.one_hot(labels[indices], data.num_classes)

    @jax.jit
    def forward_part(params, batch_stats, x):
        return models(params, batch_stats, x, keys)[0]

    @jax.jit
    def backward_part(params, batch_stats, x):
        probs, vjp, _ = jax.vjp(lambda p: models(p, batch_stats, x, keys), params, has_aux=True)
        return vjp(jnp.ones_like(probs) / probs.size)[0]

    @jax.jit
    def loss_part(probs, y):
        values, vjp = jax.vjp(lambda p: losses(*loss_batch, p, y), probs)
        return values, vjp(jnp.ones_like(values))[0]

    @jax.jit
    def adam_part(grads, opt_state, params):
        updates, opt_state = jax.vmap(tx.update)(grads, opt_state, params)
        return jax.vmap(optax.apply_updates)(params, updates), opt_state

    x, y = data_part(data.train.images, data.train.labels, jax.random.PRNGKey(1))
    probs = forward_part(state.params, state.batch_stats, x)
    grads = backward_part(state.params, state.batch_stats, x)
    ms = {
        "batch + augmentation": timed(
            data_part, data.train.images, data.train.labels, jax.random.PRNGKey(1),
            repeats=repeats,
        ),
        "model forward": timed(forward_part, state.params, state.batch_stats, x, repeats=repeats),
        "model forward + backward": timed(
            backward_part, state.params, state.batch_stats, x, repeats=repeats
        ),
        "loss (interpreter)": timed(loss_part, probs.astype(jnp.float32), y, repeats=repeats),
        "Adam update": timed(adam_part, grads, state.opt_state, state.params, repeats=repeats),
    }  # fmt: skip
    return {name: seconds * 1e3 for name, seconds in ms.items()}


def step_ms(data: DeviceDataset, config: TrainConfig, k: int, epoch_loop: str) -> float:
    """Milliseconds per step of the trainer's own epoch, after a warm-up epoch."""
    config = dataclasses.replace(config, epoch_loop=epoch_loop)
    functions = build_functions(data.num_classes, data.image_shape, config)
    losses, keys, state = benchmark_candidates(functions, config, k, data.num_classes)
    seconds = []
    for epoch in range(3):
        indices = train_batch_indices(0, epoch, data.train.size, config.batch_size)
        start = time.perf_counter()
        state, metrics = functions.train_epoch(
            state, losses, data.train, keys, indices, jnp.int32(epoch)
        )
        jax.block_until_ready(metrics)
        seconds.append((time.perf_counter() - start) / len(indices))
    return min(seconds[1:]) * 1e3


def markdown(report: dict) -> str:
    whole = report["step_ms"]["host loop"]
    lines = [
        f"{report['model']} on {report['data']} {report['image_shape']}, batch "
        f"{report['batch_size']}, K={report['k']}, {report['dtype']}, models "
        f"{report['model_strategy']}, {report['device']}, {report['date']}, "
        f"commit {report['commit']}",
        "",
        "| part | ms | share of the host-loop step |",
        "|---|---|---|",
    ]
    for name, ms in report["parts_ms"].items():
        lines.append(f"| {name} | {ms:.2f} | {ms / whole:.0%} |")
    lines.append(f"| rest (step - data - fwd+bwd - loss - Adam) | {report['rest_ms']:.2f} | "
                 f"{report['rest_ms'] / whole:.0%} |")  # fmt: skip
    for loop, ms in report["step_ms"].items():
        lines.append(f"| step, {loop} | {ms:.2f} | {ms / whole:.0%} |")
    return "\n".join(lines)


def main() -> None:
    parser = script_parser(__doc__)
    add_training_shape(parser, train_images=1024)
    parser.add_argument("--k", type=int, default=1)
    parser.add_argument("--dtype", default="float32", choices=["float32", "bfloat16"])
    parser.add_argument("--model-strategy", choices=["vmap", "map"], help="default: vmap")
    parser.add_argument("--repeats", type=int, default=10)
    parser.add_argument(
        "--loops", default="host,scan", help="epoch loops to time the whole step in: host[,scan]"
    )
    args = parser.parse_args()
    if args.smoke:
        args.train_images, args.batch_size, args.repeats = 128, 32, 2
        args.data = "synthetic:16x16x3:10"
    if args.k < 1:
        parser.error(f"--k must be at least 1, got {args.k}")

    dataset = load_dataset(args.data, seed=0, num_train=args.train_images, num_test=64)
    data = DeviceDataset.from_dataset(dataset)
    config = TrainConfig(
        model=args.model, batch_size=args.batch_size, input_size=args.input_size,
        compute_dtype=args.dtype, model_strategy=args.model_strategy,
        candidates_per_batch=args.k,
    )  # fmt: skip
    parts = part_timings(data, config, args.k, args.repeats)
    names = {"host": "host loop", "scan": "scanned epoch"}
    loops = args.loops.split(",")
    if "host" not in loops or not set(loops) <= set(names):
        parser.error(f"--loops takes host and optionally scan, got {args.loops!r}")
    steps = {names[loop]: step_ms(data, config, args.k, loop) for loop in loops}
    made_of = ("batch + augmentation", "model forward + backward", "loss (interpreter)")
    rest = steps["host loop"] - sum(parts[name] for name in made_of) - parts["Adam update"]
    report = {
        "model": args.model,
        "data": args.data,
        "image_shape": list(data.image_shape),
        "batch_size": args.batch_size,
        "k": args.k,
        "dtype": args.dtype,
        "model_strategy": args.model_strategy or default_model_strategy(),
        "device": device_description(),
        "date": datetime.now(UTC).strftime("%Y-%m-%d"),
        "commit": git_commit(),
        "parts_ms": parts,
        "step_ms": steps,
        "rest_ms": rest,
    }
    text = markdown(report)
    write_json(args.json_path, report)
    print(text)


if __name__ == "__main__":
    main()
