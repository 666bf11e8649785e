"""How many candidates to train at once: an explicit K, or the largest that fits in memory.

`auto` compiles the training epoch (with the host loop: its step) for one candidate, ahead
of time without running it, reads XLA's memory analysis of it (arguments + outputs +
temporaries, less what is aliased), and takes the largest K whose K-fold footprint fits in
the device's memory less `memory_margin`. That over-counts what the candidates share (the
dataset, the batch), so it errs towards a smaller K. K is capped at `max_auto_candidates`
and at the number of candidates. On a CPU the "device memory" is half the machine's RAM.
The probe is remembered per compiled function and dataset shape.

On a CPU `auto` is 1: there batching candidates does not pay. One candidate per step keeps
the cores busy, and K models in one step ran slower per candidate than K steps of one
(small_cnn, CIFAR shape, batch 64, 2 cores: 977 candidate-images/s at K=1, 293 at K=2 and
220 at K=4 under `vmap`; 1123, 115 and 100 under `lax.map`; benchmarks/RESULTS.md).
"""

from __future__ import annotations

import os
from functools import lru_cache

import jax
import jax.numpy as jnp

from jaxgp.expr.program import Program
from jaxgp.train.config import TrainConfig
from jaxgp.train.step import Functions


def device_memory_bytes() -> int:
    """Memory available to one device: its allocator limit, or half the RAM on a CPU."""
    stats = jax.local_devices()[0].memory_stats() or {}
    if "bytes_limit" in stats:
        return int(stats["bytes_limit"])
    return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") // 2


def _struct(shape, dtype) -> jax.ShapeDtypeStruct:
    return jax.ShapeDtypeStruct(tuple(shape), jnp.dtype(dtype))


def abstract_epoch_arguments(functions: Functions, data, config: TrainConfig, k: int) -> tuple:
    """Shapes and dtypes of `train_epoch`'s arguments for K candidates on `data`."""
    keys = _struct((k, 2), jnp.uint32)
    program = Program(*(
        _struct((k, config.max_nodes), dtype)
        for dtype in (jnp.int32, jnp.int32, jnp.int32, jnp.float32)
    ))  # fmt: skip
    steps = max(1, data.train.size // config.batch_size)
    return (
        jax.eval_shape(functions.init, keys), _struct((k,), jnp.int32), program,
        _struct(data.train.images.shape, data.train.images.dtype),
        _struct(data.train.labels.shape, data.train.labels.dtype),
        _struct((2,), jnp.uint32), keys,
        _struct((steps, config.batch_size), jnp.int32), _struct((), jnp.int32),
    )  # fmt: skip


def epoch_footprint_bytes(functions: Functions, data, config: TrainConfig, k: int) -> int:
    """XLA's memory analysis of the compiled training epoch for K candidates."""
    arguments = abstract_epoch_arguments(functions, data, config, k)
    compiled = functions.epoch_program.lower(*arguments).compile()
    memory = compiled.memory_analysis()
    total = (
        memory.argument_size_in_bytes
        + memory.output_size_in_bytes
        + memory.temp_size_in_bytes
        - memory.alias_size_in_bytes
    )
    return max(int(total), 1)


@lru_cache(maxsize=16)
def _auto_k(functions: Functions, config: TrainConfig, data) -> int:
    per_candidate = epoch_footprint_bytes(functions, data, config, 1)
    budget = device_memory_bytes() * (1.0 - config.memory_margin)
    return max(1, int(budget // per_candidate))


def batching_pays() -> bool:
    """Whether training several candidates in one step beats one at a time here."""
    return jax.default_backend() != "cpu"


def choose_candidates_per_batch(n: int, data, config: TrainConfig, functions: Functions) -> int:
    """K for training `n` candidates: the configured number, or the `auto` choice."""
    if config.candidates_per_batch != "auto":
        return int(config.candidates_per_batch)
    if not batching_pays():
        return 1
    fits = _auto_k(functions, config, data)
    return max(1, min(fits, config.max_auto_candidates, n))
