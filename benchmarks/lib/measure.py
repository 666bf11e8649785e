"""Shared measuring for the benchmarks: one training row compiled once, and what to read off it.

`train_row` builds the trainer's own compiled epoch (the scanned epoch, or the host loop's
step) for K candidates with the arguments training passes, compiles it ONCE ahead of time,
reads XLA's cost and memory analysis and the optimized HLO from that compiled object, then
trains a warm-up epoch and the timed epochs through the trainer's `train_epoch` (which finds
that compilation in JAX's cache: `extra_compilations` says if it did not).

FLOPs per step are one candidate's host-loop step (`flops.candidate_step_flops`: XLA's
compiled or lowered count, else an analytic one; the row names its source) times K: the
candidates are independent, and XLA counts a loop body (a scanned epoch, a `lax.map` over
candidates) once. MFU is achieved FLOP/s over a dense bfloat16 peak: the measured one when
given (`matmul_ceilings`), else the data sheet's. Memory per candidate is XLA's memory
analysis of the row's compiled program, else (a backend without the analysis) the
allocator's peak while the row trained, less what was in use before, over K; the row names
which. The programs are built without the progress callback (`ProgramSpec.progress`).
"""

from __future__ import annotations

import collections
import re
import statistics
import time

import jax
import jax.numpy as jnp
import numpy as np

from benchmarks.lib.flops import candidate_step_flops
from jaxgp.compilation import count_compilations
from jaxgp.data import train_batch_indices
from jaxgp.losses import TREE_LOSSES, encode_losses, resolve_loss
from jaxgp.train import DeviceDataset, TrainConfig
from jaxgp.train.capacity import compiled_footprint_bytes
from jaxgp.train.placement import place_candidates, place_replicated
from jaxgp.train.state import EpochKeys, with_learning_rates
from jaxgp.train.step import build_functions

LOSS = TREE_LOSSES["ngl"]

#: Dense bfloat16 tensor-core peaks in FLOP/s (NVIDIA data sheets, SXM parts; no sparsity).
PEAK_BF16 = {
    "NVIDIA H100 80GB HBM3": 989e12,
    "NVIDIA H100 PCIe": 756e12,
    "NVIDIA H200": 989e12,
    "NVIDIA A100-SXM4-80GB": 312e12,
    "NVIDIA A100-SXM4-40GB": 312e12,
}


def datasheet_peak_flops() -> float | None:
    """The first device's data-sheet dense bfloat16 peak, if its kind is known here."""
    kind = jax.devices()[0].device_kind
    return next((peak for name, peak in PEAK_BF16.items() if kind.startswith(name)), None)


def benchmark_candidates(functions, config: TrainConfig, k: int, num_classes: int) -> tuple:
    """K candidates with the benchmark's loss, placed as the trainer places them:
    (`LossBatch`, `EpochKeys`, the initial state at the configured learning rate)."""
    prior = np.full(num_classes, 1.0 / num_classes, np.float32)
    specs = [resolve_loss(LOSS)] * k
    losses = place_candidates(encode_losses(specs, config.max_nodes, prior=prior))
    candidates = place_candidates(jnp.stack([jax.random.PRNGKey(i) for i in range(k)]))
    state = with_learning_rates(functions.init(candidates), np.full(k, config.learning_rate))
    keys = EpochKeys(place_replicated(jax.random.PRNGKey(1)), candidates)
    return losses, keys, state


def allocator_peak_bytes() -> int:
    """The first device's allocator peak so far in this process (0 where none is kept)."""
    return int((jax.local_devices()[0].memory_stats() or {}).get("peak_bytes_in_use", 0))


def row_peak_mb(before: int, after: int) -> float | None:
    """A row's allocator peak in MiB: known only when the row raised the process's peak."""
    return after / 2**20 if after > before else None


def allocator_bytes_in_use() -> int:
    return int((jax.local_devices()[0].memory_stats() or {}).get("bytes_in_use", 0))


def memory_per_candidate(
    compiled_bytes: int | None, in_use_before: int, peak_before: int, peak_after: int, k: int
) -> tuple[float | None, str | None]:
    """(MiB per candidate, source): XLA's memory analysis, else the allocator peak the row
    reached over what was in use before it (known only when the row raised the peak)."""
    if compiled_bytes:
        return compiled_bytes / k / 2**20, "memory analysis"
    if peak_after > peak_before:
        return (peak_after - in_use_before) / k / 2**20, "allocator peak"
    return None, None


def hlo_summary(text: str) -> dict:
    """What the compiler made of a program: loops, conditionals, convolutions (by feature
    group count, and batch group count where there is one: either makes it grouped), calls."""
    loops = [line for line in text.splitlines() if re.search(r"\swhile\(", line)]
    groups = collections.Counter()
    for line in text.splitlines():
        if "convolution(" in line or "__cudnn$conv" in line:
            group = re.search(r"feature_group_count=(\d+)", line)
            batch = re.search(r"batch_group_count=(\d+)", line)
            key = f"groups={group.group(1) if group else 1}"
            groups[key + (f" batch_groups={batch.group(1)}" if batch else "")] += 1
    targets = collections.Counter(re.findall(r'custom_call_target="([^"]+)"', text))
    return {
        "while": len(loops),
        "while_unknown_trip_count": sum("known_trip_count" not in line for line in loops),
        "conditional": len(re.findall(r"\sconditional\(", text)),
        "convolutions": dict(groups),
        "fusions": len(re.findall(r"\sfusion\(", text)),
        "custom_calls": dict(targets.most_common(8)),
        "host_callbacks": sum(n for name, n in targets.items() if "callback" in name.lower()),
    }


def train_row(data: DeviceDataset, config: TrainConfig, k: int, epochs: int = 1) -> dict:
    """One K-candidate training row: compile once, warm up one epoch, time `epochs`."""
    in_use_before, peak_before = allocator_bytes_in_use(), allocator_peak_bytes()
    spec = config.program(progress=False)
    functions = build_functions(data.num_classes, data.image_shape, spec)
    losses, keys, state = benchmark_candidates(functions, config, k, data.num_classes)

    def indices(number):
        return place_replicated(train_batch_indices(0, number, data.train.size, config.batch_size))

    last = np.int32(0) if spec.epoch_loop == "host" else jnp.int32(0)
    arguments = (state, losses, data.train, keys)
    with count_compilations() as compiled_stats:
        start = time.perf_counter()
        compiled = functions.epoch_program.lower(*arguments, indices(0), last).compile()
        compile_s = time.perf_counter() - start
    memory_bytes = compiled_footprint_bytes(compiled)
    hlo = hlo_summary(compiled.as_text())
    one_step = k == 1 and spec.epoch_loop == "host"
    flops, flops_source = candidate_step_flops(data, config, compiled if one_step else None)
    del compiled

    def epoch(state, number):
        state, metrics = functions.train_epoch(
            state, losses, data.train, keys, indices(number), jnp.int32(number)
        )
        jax.block_until_ready(metrics)
        return state

    with count_compilations() as extra:
        start = time.perf_counter()
        state = epoch(state, 0)
        first_epoch = time.perf_counter() - start
    seconds = []
    for number in range(1, epochs + 1):
        start = time.perf_counter()
        state = epoch(state, number)
        seconds.append(time.perf_counter() - start)
    steps = data.train.size // config.batch_size
    step_s = statistics.median(seconds) / steps
    peak_after = allocator_peak_bytes()
    memory_mb, memory_source = memory_per_candidate(
        memory_bytes, in_use_before, peak_before, peak_after, k
    )
    return {
        "k": k,
        "dtype": config.compute_dtype,
        "model": config.model,
        "image_shape": list(data.image_shape),
        "classes": data.num_classes,
        "batch_size": config.batch_size,
        "model_strategy": spec.model_strategy,
        "loss_strategy": spec.loss_strategy,
        "epoch_loop": spec.epoch_loop,
        "steps_per_epoch": steps,
        "compile_s": compile_s,
        "compilations": compiled_stats.count,
        "extra_compilations": extra.count,
        "first_epoch_s": first_epoch,
        "step_ms": step_s * 1e3,
        "candidate_images_per_s": k * config.batch_size / step_s,
        "memory_per_candidate_mb": memory_mb,
        "memory_source": memory_source,
        "peak_device_memory_mb": row_peak_mb(peak_before, peak_after),
        "candidate_step_gflop": flops / 1e9 if flops else None,
        "flops_source": flops_source,
        "achieved_tflop_per_s": k * flops / step_s / 1e12 if flops else None,
        "hlo": hlo,
    }


def add_mfu(row: dict, measured_peak: float | None) -> dict:
    """MFU of a row against the measured and the data-sheet bfloat16 peaks."""
    achieved = (row.get("achieved_tflop_per_s") or 0) * 1e12
    sheet = datasheet_peak_flops()
    row["mfu_measured_peak"] = achieved / measured_peak if achieved and measured_peak else None
    row["mfu_datasheet_peak"] = achieved / sheet if achieved and sheet else None
    return row


def median_seconds(fn, *args, repeats: int = 10, warmup: int = 3) -> float:
    """Median seconds of `fn(*args)` after `warmup` calls."""
    for _ in range(warmup):
        jax.block_until_ready(fn(*args))
    seconds = []
    for _ in range(repeats):
        start = time.perf_counter()
        jax.block_until_ready(fn(*args))
        seconds.append(time.perf_counter() - start)
    return statistics.median(seconds)


def matmul_ceilings(n: int) -> dict:
    """Measured dense matmul rates (bfloat16; float32 at default and highest precision) and
    device copy bandwidth: the ceilings the training rows are read against."""
    a = jax.random.normal(jax.random.key(0), (n, n), jnp.float32)
    b = jax.random.normal(jax.random.key(1), (n, n), jnp.float32)
    matmul = jax.jit(lambda x, y: x @ y)
    highest = jax.jit(lambda x, y: jnp.matmul(x, y, precision="highest"))
    flop = 2 * n**3
    bf16 = flop / median_seconds(matmul, a.astype(jnp.bfloat16), b.astype(jnp.bfloat16))
    x = jax.random.normal(jax.random.key(2), (n * n * 8,), jnp.float32)
    copy = 2 * x.nbytes / median_seconds(jax.jit(lambda v: v * 1.0001), x)
    return {
        "n": n,
        "bf16_tflop_per_s": bf16 / 1e12,
        "f32_default_precision_tflop_per_s": flop / median_seconds(matmul, a, b) / 1e12,
        "f32_highest_precision_tflop_per_s": flop
        / median_seconds(highest, a, b, repeats=3, warmup=1)
        / 1e12,
        "copy_tb_per_s": copy / 1e12,
    }
