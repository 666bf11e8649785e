"""Device memory and what a compiled training program needs of it (XLA's memory analysis).

Used by `jaxgp.train.batching` to stop `auto` at the K that no longer fits, and by the
benchmarks. On a CPU the "device memory" is half the machine's RAM.
"""

from __future__ import annotations

import os

import jax
import jax.numpy as jnp

from jaxgp.expr.program import Program
from jaxgp.losses import LossBatch
from jaxgp.train.config import TrainConfig
from jaxgp.train.device_data import DeviceSplit
from jaxgp.train.state import EpochKeys
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
    """Shapes and dtypes of the epoch program's arguments for K candidates on `data`:
    (state, losses, split, keys, indices, epoch or step number)."""
    keys = _struct((k, 2), jnp.uint32)
    program = Program(*(
        _struct((k, config.max_nodes), dtype)
        for dtype in (jnp.int32, jnp.int32, jnp.int32, jnp.float32)
    ))  # fmt: skip
    split = DeviceSplit(
        _struct(data.train.images.shape, data.train.images.dtype),
        _struct(data.train.labels.shape, data.train.labels.dtype),
    )
    steps = max(1, data.train.size // config.batch_size)
    return (
        jax.eval_shape(functions.init, keys),
        LossBatch(_struct((k,), jnp.int32), program, _struct((k, data.num_classes), jnp.float32)),
        split, EpochKeys(_struct((2,), jnp.uint32), keys),
        _struct((steps, config.batch_size), jnp.int32), _struct((), jnp.int32),
    )  # fmt: skip


def compiled_footprint_bytes(compiled) -> int | None:
    """XLA's memory analysis of a compiled program: arguments + outputs + temporaries, less
    what is aliased; None where the backend gives no analysis."""
    try:
        memory = compiled.memory_analysis()
    except Exception:  # noqa: BLE001  (a plugin backend that does not implement it)
        return None
    if memory is None:
        return None
    total = (
        memory.argument_size_in_bytes
        + memory.output_size_in_bytes
        + memory.temp_size_in_bytes
        - memory.alias_size_in_bytes
    )
    return max(int(total), 1)
