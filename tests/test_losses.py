"""Named losses against hand-written NumPy, and the mixed encoding used by the trainer."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from jaxgp import ConfigError, ExpressionError, lower, resolve_loss
from jaxgp.losses import (
    categorical_crossentropy,
    encode_losses,
    false_positive_loss,
    focal_loss,
    loss_value,
)


def _inputs(batch=32, classes=10, seed=0):
    rng = np.random.default_rng(seed)
    logits = rng.standard_normal((batch, classes)) * 3
    p = np.exp(logits) / np.exp(logits).sum(-1, keepdims=True)
    y = np.eye(classes)[rng.integers(classes, size=batch)]
    return p.astype(np.float32), y.astype(np.float32)


def _np_clip(p):
    p = p / p.sum(-1, keepdims=True)
    return np.clip(p, 1e-7, 1 - 1e-7)


def test_ce_matches_numpy_keras_semantics():
    p, y = _inputs()
    expected = np.mean(-np.sum(y * np.log(_np_clip(p.astype(np.float64))), -1))
    np.testing.assert_allclose(categorical_crossentropy(p, y), expected, rtol=1e-5)


def test_ngl_matches_the_authors_formula():
    p, y = _inputs()
    p64, y64 = p.astype(np.float64), y.astype(np.float64)
    expected = np.mean(np.exp(2.4092 - p64 - p64 * y64) - np.cos(np.cos(np.sin(p64))))
    np.testing.assert_allclose(lower(resolve_loss("ngl").tree)(p, y), expected, rtol=1e-5)


def test_fpl_matches_a_per_example_numpy_loop():
    p, y = _inputs(batch=16, classes=5, seed=3)
    q = _np_clip(p.astype(np.float64))
    labels = y.argmax(-1)
    m = len(labels)
    alpha = np.array([(m - np.sum(labels == c)) / m for c in range(5)])
    total = 0.0
    for i, t in enumerate(labels):
        wrong = [c for c in range(5) if c != t]
        f = max(wrong, key=lambda c: q[i, c])
        total += alpha[t] * -np.log(q[i, t]) + alpha[f] * -np.log(1 - q[i, f])
    np.testing.assert_allclose(false_positive_loss(p, y), total / m, rtol=1e-5)
    weights = np.linspace(0.1, 0.9, 5)
    expected = np.mean(
        [
            weights[t] * -np.log(q[i, t])
            + weights[max((c for c in range(5) if c != t), key=lambda c: q[i, c])]
            * -np.log(1 - max(q[i, c] for c in range(5) if c != t))
            for i, t in enumerate(labels)
        ]
    )
    np.testing.assert_allclose(
        false_positive_loss(p, y, class_weights=jnp.asarray(weights)), expected, rtol=1e-5
    )


def test_focal_matches_numpy():
    p, y = _inputs(seed=4)
    q = _np_clip(p.astype(np.float64))
    expected = np.mean(np.sum(0.25 * (1 - q) ** 2 * -y * np.log(q), -1))
    np.testing.assert_allclose(focal_loss(p, y), expected, rtol=1e-5)


NAMED = ("ce", "ngl", "fpl", "mse", "focal")
_mixed_values = jax.jit(jax.vmap(loss_value, (0, 0, None, None)))
_mixed_gradient = jax.jit(
    jax.grad(lambda kind, program, p, y: _mixed_values(kind, program, p, y).sum(), 2)
)
# jitted once for every case: the interpreter run op by op took seconds per call


@pytest.mark.parametrize("name", NAMED)
def test_mixed_encoding_selects_each_named_loss(name):
    p, y = _inputs(seed=5)
    specs = [resolve_loss(n) for n in NAMED]
    batch = encode_losses(specs)
    values = _mixed_values(batch.kind, batch.program, p, y)
    i = [s.label for s in specs].index(name)
    spec = specs[i]
    expected = (
        lower(spec.tree)(p, y)
        if spec.tree is not None
        else {"ce": categorical_crossentropy, "fpl": false_positive_loss, "focal": focal_loss}[
            name
        ](p, y)
    )
    np.testing.assert_allclose(values[i], expected, rtol=1e-5)
    assert np.all(np.isfinite(_mixed_gradient(batch.kind, batch.program, p, y)))


def test_resolve_loss_names_the_valid_choices_for_an_unknown_name():
    with pytest.raises(ConfigError, match="unknown loss 'hinge'; valid named losses: ce, ngl"):
        resolve_loss("hinge")
    with pytest.raises(ExpressionError):
        resolve_loss("y_pred ** 2")
    assert resolve_loss("y_pred*y_true").label == "y_pred * y_true"


def test_a_comma_separated_list_of_losses_is_told_to_give_one_loss_at_a_time():
    message = r"'ngl,ce' is read as one expression.*one per --loss"
    with pytest.raises(ExpressionError, match=message):
        resolve_loss("ngl,ce")


_loss_value = jax.jit(loss_value)


@pytest.mark.parametrize("name", NAMED)
def test_zero_weight_examples_do_not_change_the_loss(name):
    p, y = _inputs(batch=12, seed=6)
    batch = encode_losses([resolve_loss(name)])
    kind, program = batch.kind[0], jax.tree.map(lambda x: x[0], batch.program)
    plain = _loss_value(kind, program, p[:8], y[:8])
    padded = np.concatenate([p[:8], np.full((4, 10), 0.1, np.float32)])
    weights = jnp.asarray([1.0] * 8 + [0.0] * 4)
    np.testing.assert_allclose(_loss_value(kind, program, padded, y, weights), plain, rtol=1e-5)
