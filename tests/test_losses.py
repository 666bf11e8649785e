"""Named losses against hand-written NumPy, and the mixed encoding used by the trainer."""

from functools import partial

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

pytestmark = pytest.mark.usefixtures("compiled_with_fewer_optimisations")


def _logits(batch=32, classes=10, seed=0):
    rng = np.random.default_rng(seed)
    logits = rng.standard_normal((batch, classes)) * 3
    y = np.eye(classes)[rng.integers(classes, size=batch)]
    return logits, y


def _inputs(batch=32, classes=10, seed=0):
    logits, y = _logits(batch, classes, seed)
    p = np.exp(logits) / np.exp(logits).sum(-1, keepdims=True)
    return p.astype(np.float32), y.astype(np.float32)


def _long_tail(classes=10, ratio=20.0):
    counts = np.floor(122 * ratio ** (-np.arange(classes) / (classes - 1)))
    return (counts / counts.sum()).astype(np.float32)


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


def test_class_balanced_ce_is_inverse_frequency_weighted_ce_over_the_classes():
    p, y = _inputs(seed=7)
    prior = _long_tail()
    p64, labels = p.astype(np.float64), y.argmax(-1)
    weights = 1.0 / (10 * prior.astype(np.float64))  # mean 1 over the split's examples
    assert np.isclose(np.sum(prior * weights), 1.0)
    expected = np.mean(-weights[labels] * np.log(p64[np.arange(len(labels)), labels]))
    np.testing.assert_allclose(lower(resolve_loss("cb").tree)(p, y, prior), expected, rtol=1e-5)


def test_logit_adjusted_ce_is_ce_of_the_logits_shifted_by_the_log_priors_over_the_classes():
    logits, y = _logits(seed=8)
    prior = _long_tail()
    p = (np.exp(logits) / np.exp(logits).sum(-1, keepdims=True)).astype(np.float32)
    shifted = logits + np.log(prior.astype(np.float64))
    log_softmax = shifted - np.log(np.exp(shifted).sum(-1, keepdims=True))
    expected = np.mean(-np.sum(y * log_softmax, -1)) / 10  # a tree's mean over classes
    np.testing.assert_allclose(lower(resolve_loss("la").tree)(p, y, prior), expected, rtol=1e-5)


def test_on_a_balanced_split_cb_is_ce_and_la_is_ce_over_the_classes():
    p, y = _inputs(seed=9)
    uniform = np.full(10, 0.1, np.float32)
    ce = np.mean(-np.sum(y * np.log(p.astype(np.float64)), -1))
    for name, scale in (("cb", 1.0), ("la", 0.1)):
        loss = lower(resolve_loss(name).tree)
        np.testing.assert_allclose(loss(p, y, uniform), ce * scale, rtol=1e-5)
        np.testing.assert_allclose(loss(p, y), ce * scale, rtol=1e-5)  # uniform by default


NAMED = ("ce", "ngl", "fpl", "mse", "focal", "cb", "la")
_mixed_values = jax.jit(jax.vmap(partial(loss_value, language="priors"), (0, 0, 0, None, None)))
_mixed_gradient = jax.jit(jax.grad(lambda *batch: _mixed_values(*batch).sum(), 3))
# jitted once for every case: the interpreter run op by op took seconds per call


@pytest.mark.parametrize("name", NAMED)
def test_mixed_encoding_selects_each_named_loss(name):
    p, y = _inputs(seed=5)
    prior = _long_tail()
    specs = [resolve_loss(n) for n in NAMED]
    batch = encode_losses(specs, prior=prior)
    values = _mixed_values(*batch, p, y)
    i = [s.label for s in specs].index(name)
    spec = specs[i]
    expected = (
        lower(spec.tree)(p, y, prior)
        if spec.tree is not None
        else {"ce": categorical_crossentropy, "fpl": false_positive_loss, "focal": focal_loss}[
            name
        ](p, y)
    )
    np.testing.assert_allclose(values[i], expected, rtol=1e-5)
    assert np.all(np.isfinite(_mixed_gradient(*batch, p, y)))


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


_loss_value = jax.jit(partial(loss_value, language="priors"))


@pytest.mark.parametrize("name", NAMED)
def test_zero_weight_examples_do_not_change_the_loss(name):
    p, y = _inputs(batch=12, seed=6)
    batch = encode_losses([resolve_loss(name)], prior=_long_tail())
    kind, program, prior = jax.tree.map(lambda x: x[0], tuple(batch))
    plain = _loss_value(kind, program, prior, p[:8], y[:8])
    padded = np.concatenate([p[:8], np.full((4, 10), 0.1, np.float32)])
    weights = jnp.asarray([1.0] * 8 + [0.0] * 4)
    padded_value = _loss_value(kind, program, prior, padded, y, weights)
    np.testing.assert_allclose(padded_value, plain, rtol=1e-5)
