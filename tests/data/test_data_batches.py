"""Epoch permutations, training batches and exact evaluation batches."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from jaxgp.data import (
    epoch_permutation,
    eval_batch_indices,
    masked_mean,
    steps_per_epoch,
    train_batch_indices,
)
from jaxgp.errors import ConfigError


def test_epoch_permutation_is_a_deterministic_permutation_that_changes_per_epoch():
    p0 = np.asarray(epoch_permutation(0, 0, 1000))
    assert p0.dtype == np.int32
    assert sorted(p0.tolist()) == list(range(1000))
    np.testing.assert_array_equal(p0, np.asarray(epoch_permutation(0, 0, 1000)))
    np.testing.assert_array_equal(p0, np.asarray(epoch_permutation(jax.random.PRNGKey(0), 0, 1000)))
    assert not np.array_equal(p0, np.asarray(epoch_permutation(0, 1, 1000)))
    assert not np.array_equal(p0, np.asarray(epoch_permutation(1, 0, 1000)))


def test_epoch_permutation_under_jit_with_a_traced_epoch():
    fn = jax.jit(lambda key, epoch: epoch_permutation(key, epoch, 50))
    key = jax.random.PRNGKey(3)
    np.testing.assert_array_equal(
        np.asarray(fn(key, jnp.int32(2))), np.asarray(epoch_permutation(key, 2, 50))
    )


def test_train_batches_drop_the_last_incomplete_batch():
    indices = np.asarray(train_batch_indices(5, 0, 103, 10))
    assert indices.shape == (10, 10) and indices.dtype == np.int32
    assert len(set(indices.ravel().tolist())) == 100
    assert indices.min() >= 0 and indices.max() < 103
    assert steps_per_epoch(103, 10) == 10
    with pytest.raises(ConfigError):
        steps_per_epoch(5, 10)


@pytest.mark.parametrize(("n", "batch"), [(103, 10), (100, 10), (7, 64), (1, 1)])
def test_eval_batches_cover_every_example_exactly_once(n, batch):
    indices, weights = eval_batch_indices(n, batch)
    assert indices.shape == weights.shape == (-(-n // batch), batch)
    real = indices[weights > 0]
    np.testing.assert_array_equal(np.sort(real), np.arange(n))
    assert weights.sum() == n
    assert indices.min() >= 0 and indices.max() < n


def test_masked_mean_is_the_exact_mean_over_real_examples():
    n, batch = 103, 16
    values = np.random.default_rng(0).normal(size=n).astype(np.float32)
    indices, weights = eval_batch_indices(n, batch)
    gathered = values[indices]
    gathered[weights == 0] = np.nan  # padding cannot leak in
    np.testing.assert_allclose(float(masked_mean(gathered, weights)), values.mean(), rtol=1e-6)


@pytest.mark.parametrize("seed", [0, 7, 2**40 + 3])
def test_the_compiled_epoch_indices_equal_the_op_by_op_ones(seed):
    from jaxgp.data.batches import seeded_train_batch_indices

    for epoch in (0, 1, 32):
        compiled = seeded_train_batch_indices(seed, epoch, 407, 64)
        eager = train_batch_indices(seed, epoch, 407, 64)
        np.testing.assert_array_equal(np.asarray(compiled), np.asarray(eager))
    with pytest.raises(ConfigError, match="larger than the 10 training examples"):
        seeded_train_batch_indices(seed, 0, 10, 64)
