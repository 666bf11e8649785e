"""Epoch batching: index arrays shaped [steps, batch], every step of the same shape.

Training (`train_batch_indices`): a fresh permutation per epoch,
``jax.random.permutation(fold_in(key, epoch), n)``, cut into ``n // batch_size`` full
batches; the last incomplete batch is dropped (its examples come back in other epochs, as
the order changes). Every step thus has the same shape, so the training step (or the
scanned epoch) compiles once. The functions are jittable: ``epoch`` may be traced, ``n`` and
``batch_size`` must be static.

Evaluation (`eval_batch_indices`): every example exactly once, in order, in
``ceil(n / batch_size)`` batches, each evaluated by one call of the compiled evaluation
(`jaxgp.train.loop.evaluate`); the last batch is padded with index 0 and a weight of 0.
Sum ``weights * per_example_value`` over all batches and divide by ``n`` (or use
`masked_mean`) for exact means over the real examples. Padding only costs a partial batch
of wasted compute, and keeps one shape for every batch.

Indices gather from device-resident uint8 arrays inside the step:
``images[indices[step]]``.
"""

from __future__ import annotations

from functools import lru_cache
from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from jaxgp.errors import ConfigError


def _as_key(key_or_seed: jax.Array | int) -> jax.Array:
    if isinstance(key_or_seed, int | np.integer):
        return jax.random.PRNGKey(int(key_or_seed))
    return key_or_seed


def epoch_permutation(key_or_seed: jax.Array | int, epoch: int | jax.Array, n: int) -> jax.Array:
    """A permutation of ``range(n)`` (int32) fixed by the key or seed and the epoch number."""
    key = jax.random.fold_in(_as_key(key_or_seed), epoch)
    return jax.random.permutation(key, n).astype(jnp.int32)


def steps_per_epoch(n: int, batch_size: int) -> int:
    """Full training batches per epoch (the last incomplete batch is dropped)."""
    if batch_size < 1:
        raise ConfigError(f"batch size must be positive, got {batch_size}")
    steps = n // batch_size
    if steps < 1:
        raise ConfigError(f"batch size {batch_size} is larger than the {n} training examples")
    return steps


def train_batch_indices(
    key_or_seed: jax.Array | int, epoch: int | jax.Array, n: int, batch_size: int
) -> jax.Array:
    """This epoch's shuffled training indices, int32 [n // batch_size, batch_size]."""
    steps = steps_per_epoch(n, batch_size)
    permutation = epoch_permutation(key_or_seed, epoch, n)
    return permutation[: steps * batch_size].reshape(steps, batch_size)


@lru_cache(maxsize=64)
def _seed_key(seed: int) -> jax.Array:
    return jax.random.PRNGKey(seed)


_compiled_train_batch_indices = jax.jit(train_batch_indices, static_argnums=(2, 3))


def seeded_train_batch_indices(seed: int, epoch: int, n: int, batch_size: int) -> jax.Array:
    """`train_batch_indices` for an integer seed as one compiled program: the same indices,
    where running the permutation op by op took about 0.7 ms of every epoch on a CPU."""
    steps_per_epoch(n, batch_size)  # its error, before anything is traced
    return _compiled_train_batch_indices(_seed_key(int(seed)), epoch, n, batch_size)


class EvalBatches(NamedTuple):
    """Evaluation batches: ``indices`` int32 and ``weights`` float32 (1 real, 0 padding)."""

    indices: np.ndarray
    weights: np.ndarray


def eval_batch_indices(n: int, batch_size: int) -> EvalBatches:
    """All ``n`` examples in order, [ceil(n / batch_size), batch_size], padded and weighted."""
    if batch_size < 1:
        raise ConfigError(f"batch size must be positive, got {batch_size}")
    if n < 1:
        raise ConfigError("cannot evaluate an empty split")
    steps = -(-n // batch_size)
    flat = np.arange(steps * batch_size, dtype=np.int32)
    weights = (flat < n).astype(np.float32)
    flat[flat >= n] = 0
    return EvalBatches(flat.reshape(steps, batch_size), weights.reshape(steps, batch_size))


def masked_mean(values: jax.Array, weights: jax.Array) -> jax.Array:
    """The weighted mean ``sum(values * weights) / sum(weights)`` over all axes.

    Entries with weight 0 are excluded with a `where`, so a NaN or inf there cannot leak in.
    """
    weights = jnp.asarray(weights, dtype=jnp.float32)
    values = jnp.where(weights > 0, jnp.asarray(values, dtype=jnp.float32), 0.0)
    return jnp.sum(values * weights) / jnp.sum(weights)
