"""Benchmark: training throughput of K candidates at once, against K = 1.

For each K it builds the trainer's compiled epoch, runs one warm-up epoch (compilation
included, timed separately), then times `--epochs` epochs and reports candidate-images per
second (K * images per epoch / seconds), the speed-up over K = 1, compile seconds, the
compiled epoch's memory per candidate (XLA's memory analysis), on a GPU the allocator's
peak (shown only for a row that raised it: the allocator keeps one peak for the whole
process, so a row below an earlier, larger one cannot be told apart), and the achieved
FLOP/s: XLA's cost analysis of one compiled training step (K times that of one candidate)
times the steps per second. MFU is that over the device's dense bfloat16 peak (from
`PEAK_BF16`, by device kind; none for a CPU). Data are synthetic images of the chosen
dataset's shape, on the device.

    python benchmarks/throughput.py                        # small_cnn on cifar10-shaped data
    python benchmarks/throughput.py --model inception_v3 --data synthetic:cifar10 \\
        --ks 1,2,4,8,auto --dtypes float32,bfloat16       # the paper setting, on a GPU
    python benchmarks/throughput.py --smoke                # seconds, on a CPU (CI)
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import platform
import subprocess
import sys
import time
from datetime import UTC, datetime
from functools import cache
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # run as a script from anywhere, jaxgp installed or not
    sys.path.insert(0, str(ROOT))

import jax
import jax.numpy as jnp

from jaxgp.compilation import count_compilations
from jaxgp.data import load_dataset, train_batch_indices
from jaxgp.expr.lower import default_strategy
from jaxgp.losses import encode_losses, resolve_loss
from jaxgp.train import DeviceDataset, TrainConfig
from jaxgp.train.capacity import (
    abstract_epoch_arguments,
    choose_candidates_per_batch,
    epoch_footprint_bytes,
)
from jaxgp.train.config import DEFAULT_MODEL_STRATEGY, default_epoch_loop
from jaxgp.train.step import build_functions

LOSS = "exp(2.4092 - y_pred * (1.0 + y_true)) - cos(cos(sin(y_pred)))"

#: Dense bfloat16 tensor-core peaks in FLOP/s (NVIDIA data sheets, SXM parts; no sparsity).
PEAK_BF16 = {
    "NVIDIA H100 80GB HBM3": 989e12,
    "NVIDIA H100 PCIe": 756e12,
    "NVIDIA H200": 989e12,
    "NVIDIA A100-SXM4-80GB": 312e12,
    "NVIDIA A100-SXM4-40GB": 312e12,
}


def device_peak_flops() -> float | None:
    """The first device's dense bfloat16 peak, if this script knows its kind."""
    kind = jax.devices()[0].device_kind
    return next((peak for name, peak in PEAK_BF16.items() if kind.startswith(name)), None)


def step_flops(data: DeviceDataset, config: TrainConfig, k: int) -> float | None:
    """FLOPs of one training step for K candidates: K times XLA's count for one.

    XLA's cost analysis counts a loop body once, so a `lax.map` over candidates (or a
    scanned epoch) would be undercounted; one candidate's step has no such loop, and the
    K models are independent.
    """
    one = _one_candidate_step_flops(data, dataclasses.replace(config, candidates_per_batch=1))
    return k * one if one else None


@cache
def _one_candidate_step_flops(data: DeviceDataset, config: TrainConfig) -> float | None:
    step_config = dataclasses.replace(config, epoch_loop="host")
    functions = build_functions(data.num_classes, data.image_shape, step_config)
    arguments = abstract_epoch_arguments(functions, data, step_config, 1)
    analysis = functions.epoch_program.lower(*arguments).compile().cost_analysis()
    if isinstance(analysis, list):  # older jax: one dict per program
        analysis = analysis[0] if analysis else {}
    flops = (analysis or {}).get("flops")
    return float(flops) if flops and flops > 0 else None


def allocator_peak_bytes() -> int:
    """The first device's allocator peak so far in this process (0 where none is kept)."""
    return int((jax.local_devices()[0].memory_stats() or {}).get("peak_bytes_in_use", 0))


def row_peak_mb(before: int, after: int) -> float | None:
    """A row's allocator peak in MiB: known only when the row raised the process's peak."""
    return after / 2**20 if after > before else None


def device_description() -> str:
    """The first device's kind, the backend and the host's architecture."""
    return f"{jax.devices()[0].device_kind} ({jax.default_backend()}, {platform.machine()})"


def benchmark_candidates(functions, config: TrainConfig, k: int) -> tuple:
    """K candidates with the benchmark's loss: ((kinds, programs), [K] keys, initial state)."""
    batch = encode_losses([resolve_loss(LOSS)] * k, config.max_nodes)
    losses = (jnp.asarray(batch.kind), jax.tree.map(jnp.asarray, batch.program))
    keys = jnp.stack([jax.random.PRNGKey(i) for i in range(k)])
    return losses, keys, functions.init(keys)


def measure(data: DeviceDataset, config: TrainConfig, k: int, epochs: int) -> dict:
    peak_before = allocator_peak_bytes()
    functions = build_functions(data.num_classes, data.image_shape, config)
    losses, keys, state = benchmark_candidates(functions, config, k)
    data_key = jax.random.PRNGKey(1)

    def epoch(state, number):
        indices = train_batch_indices(0, number, data.train.size, config.batch_size)
        state, metrics = functions.train_epoch(
            state, *losses, data.train.images, data.train.labels, data_key, keys, indices,
            jnp.int32(number),
        )  # fmt: skip
        jax.block_until_ready(metrics)
        return state, int(indices.size)

    with count_compilations() as compiled:
        start = time.perf_counter()
        state, _ = epoch(state, 0)
        warmup = time.perf_counter() - start
    start = time.perf_counter()
    images = 0
    for number in range(1, epochs + 1):
        state, seen = epoch(state, number)
        images += seen
    seconds = time.perf_counter() - start
    footprint = epoch_footprint_bytes(functions, data, config, k)
    peak_after = allocator_peak_bytes()
    flops = step_flops(data, config, k)
    steps_per_s = images / config.batch_size / seconds
    achieved = flops * steps_per_s if flops else None
    peak = device_peak_flops()
    return {
        "k": k,
        "dtype": config.compute_dtype,
        "candidate_images_per_s": k * images / seconds,
        "step_ms": seconds / (images / config.batch_size) * 1e3,
        "compile_s": compiled.seconds,
        "compilations": compiled.count,
        "first_epoch_s": warmup,
        "memory_per_candidate_mb": footprint / k / 2**20,
        "peak_device_memory_mb": row_peak_mb(peak_before, peak_after),
        "step_gflop": flops / 1e9 if flops else None,
        "achieved_tflop_per_s": achieved / 1e12 if achieved else None,
        "mfu_bf16": achieved / peak if achieved and peak else None,
    }


def git_commit() -> str:
    try:
        return subprocess.check_output(["git", "rev-parse", "--short", "HEAD"], text=True).strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


def markdown(report: dict) -> str:
    lines = [
        f"{report['model']} on {report['data']} {report['image_shape']}, batch "
        f"{report['batch_size']}, {report['device']}, {report['date']}, commit {report['commit']}",
        f"models {report['model_strategy']}, losses {report['loss_strategy']}, epoch loop "
        f"{report['epoch_loop']}",
        "",
        "| dtype | K | cand-img/s | vs K=1 | step ms | compile s | MB/cand (XLA) | peak MB "
        "| GFLOP/step | TFLOP/s | MFU (bf16 peak) |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]

    def number(value, spec: str) -> str:
        return "-" if value is None else format(value, spec)

    for row in report["rows"]:
        lines.append(
            f"| {row['dtype']} | {row['k']} | {row['candidate_images_per_s']:.1f} | "
            f"{number(row['speedup_vs_k1'], '.2f')}x | {row['step_ms']:.1f} | "
            f"{row['compile_s']:.1f} | "
            f"{row['memory_per_candidate_mb']:.1f} | "
            f"{number(row['peak_device_memory_mb'], '.0f')} | "
            f"{number(row['step_gflop'], '.2f')} | {number(row['achieved_tflop_per_s'], '.3f')} | "
            f"{number(row['mfu_bf16'], '.1%')} |"
        )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="small_cnn")
    parser.add_argument("--data", default="synthetic:cifar10")
    parser.add_argument("--train-images", type=int, default=2048)
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--input-size", type=int)
    parser.add_argument("--ks", default="1,2,4,8,auto")
    parser.add_argument("--dtypes", default="float32")
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--model-strategy", choices=["vmap", "map"], help="default: vmap")
    parser.add_argument(
        "--epoch-loop", choices=["scan", "host"], help="default: host on a CPU, else scan"
    )
    parser.add_argument("--smoke", action="store_true", help="tiny sizes, for CI on a CPU")
    parser.add_argument("--json", dest="json_path")
    parser.add_argument("--markdown", dest="markdown_path")
    args = parser.parse_args()
    if args.smoke:
        args.train_images, args.ks, args.epochs, args.batch_size = 128, "1,2", 1, 32

    dataset = load_dataset(args.data, seed=0, num_train=args.train_images, num_test=64)
    data = DeviceDataset.from_dataset(dataset)
    report = {
        "model": args.model,
        "data": args.data,
        "image_shape": list(data.image_shape),
        "batch_size": args.batch_size,
        "model_strategy": args.model_strategy or DEFAULT_MODEL_STRATEGY,
        "loss_strategy": default_strategy(),
        "epoch_loop": args.epoch_loop or default_epoch_loop(),
        "device": device_description(),
        "date": datetime.now(UTC).strftime("%Y-%m-%d"),
        "commit": git_commit(),
        "complete": False,
        "rows": [],
    }
    for dtype in args.dtypes.split(","):
        base = TrainConfig(
            model=args.model, batch_size=args.batch_size, input_size=args.input_size,
            compute_dtype=dtype, model_strategy=args.model_strategy, epoch_loop=args.epoch_loop,
        )  # fmt: skip
        for text in args.ks.split(","):
            config = dataclasses.replace(
                base, candidates_per_batch=text if text == "auto" else int(text)
            )
            functions = build_functions(data.num_classes, data.image_shape, config)
            k = choose_candidates_per_batch(64, data, config, functions)
            row = measure(data, config, k, args.epochs)
            row["requested"] = text
            report["rows"].append(row)
            print(json.dumps(row), flush=True)
            write(report, args)  # a run cut short keeps the rows it measured
    report["complete"] = True
    print(write(report, args))


def write(report: dict, args: argparse.Namespace) -> str:
    """Fill in the speed-ups over K = 1, write the JSON and Markdown files; the Markdown."""
    for row in report["rows"]:
        k1 = next((r for r in report["rows"] if r["k"] == 1 and r["dtype"] == row["dtype"]), None)
        row["speedup_vs_k1"] = (
            row["candidate_images_per_s"] / k1["candidate_images_per_s"] if k1 else None
        )
    text = markdown(report)
    if args.json_path:
        with open(args.json_path, "w") as out:
            json.dump(report, out, indent=2)
    if args.markdown_path:
        with open(args.markdown_path, "w") as out:
            out.write(text + "\n")
    return text


if __name__ == "__main__":
    main()
