"""Max pools as reduce_window or as the max of strided slices: the same values, the same
gradients but for ties, and a candidate trained either way within float32 rounding."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from jaxgp.errors import ConfigError
from jaxgp.models.layers import max_pool
from jaxgp.policy import default_max_pool

SHAPES = [
    ((2, 8, 8, 3), 2, 2),
    ((2, 9, 7, 2), 2, 2),
    ((2, 17, 17, 4), 3, 2),
    ((1, 35, 36, 3), 3, 2),
]


def _numpy_max_pool(x, window, stride):
    rows = (x.shape[1] - window) // stride + 1
    cols = (x.shape[2] - window) // stride + 1
    out = np.empty((x.shape[0], rows, cols, x.shape[3]), x.dtype)
    for r in range(rows):
        for c in range(cols):
            patch = x[:, r * stride : r * stride + window, c * stride : c * stride + window]
            out[:, r, c] = patch.max(axis=(1, 2))
    return out


@pytest.mark.parametrize(("shape", "window", "stride"), SHAPES)
def test_both_forms_give_numpys_max_pool_and_the_same_gradient_without_ties(shape, window, stride):
    x = np.random.default_rng(0).standard_normal(shape).astype(np.float32)  # no ties
    expected = _numpy_max_pool(x, window, stride)
    grads = {}
    for form in ("window", "slices"):
        np.testing.assert_array_equal(max_pool(jnp.asarray(x), window, stride, form), expected)
        loss = lambda v, form=form: jnp.sum(max_pool(v, window, stride, form) ** 2)  # noqa: E731
        grads[form] = np.asarray(jax.grad(loss)(jnp.asarray(x)))
    np.testing.assert_array_equal(grads["window"], grads["slices"])


def test_with_a_tie_the_slices_split_the_gradient_and_each_window_passes_it_on_whole():
    x = jnp.zeros((1, 2, 2, 1)).at[0, 0, 0, 0].set(1.0).at[0, 1, 1, 0].set(1.0)  # two maxima
    for form in ("window", "slices"):
        grad = jax.grad(lambda v, form=form: jnp.sum(max_pool(v, 2, 2, form)))(x)
        assert float(jnp.sum(grad)) == pytest.approx(1.0)
    split = jax.grad(lambda v: jnp.sum(max_pool(v, 2, 2, "slices")))(x)
    assert float(split[0, 0, 0, 0]) == float(split[0, 1, 1, 0]) == pytest.approx(0.5)


def test_an_unknown_form_is_refused_and_the_cpu_pools_by_slices():
    with pytest.raises(ConfigError, match="unknown max-pool form 'avg'; valid: window, slices"):
        max_pool(jnp.zeros((1, 4, 4, 1)), 2, 2, "avg")
    assert default_max_pool("cpu") == "slices" and default_max_pool("cuda") == "window"


@pytest.mark.usefixtures("compiled_with_fewer_optimisations")
def test_a_candidate_trained_with_either_form_agrees_within_float32_rounding():
    """Tied maxima after relu are zeros, which get no gradient either way; what differs is
    XLA's order of float32 sums around the pools: after one epoch (20 steps) the validation
    losses differ by about 1e-7 (relative); three epochs amplified that to 2e-3."""
    from jaxgp.data import load_dataset
    from jaxgp.train import TrainConfig, train_candidates

    dataset = load_dataset("digits", seed=0)
    results = {
        form: train_candidates(["ce", "ngl"], dataset, TrainConfig(epochs=1, max_pool=form))
        for form in ("window", "slices")
    }
    for a, b in zip(results["window"].results, results["slices"].results, strict=True):
        assert a.val_loss == pytest.approx(b.val_loss, rel=1e-5)
        assert abs(a.val_accuracy - b.val_accuracy) <= 2 / 144  # two validation images
        assert abs(a.test_accuracy - b.test_accuracy) <= 2 / 360
