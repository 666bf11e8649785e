"""The small CNN: probabilities, dtypes, and learning sklearn digits on a CPU."""

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest
from sklearn.datasets import load_digits

from jaxgp.models import build_model, init_variables


@pytest.mark.parametrize(
    ("input_shape", "dtype"), [((8, 8, 1), jnp.float32), ((32, 32, 3), jnp.bfloat16)]
)
def test_forward_gives_float32_probabilities(input_shape, dtype):
    model = build_model("small_cnn", num_classes=10, input_shape=input_shape, dtype=dtype)
    variables = init_variables(model, jax.random.key(0), input_shape)
    assert set(variables) == {"params", "batch_stats"}
    assert {leaf.dtype for leaf in jax.tree.leaves(variables)} == {jnp.dtype(jnp.float32)}
    x = jax.random.uniform(jax.random.key(1), (3, *input_shape), minval=-1.0, maxval=1.0)

    @jax.jit
    def both(variables, x, key):
        train = model.apply(
            variables, x, train=True, rngs={"dropout": key}, mutable=["batch_stats"]
        )
        return train, model.apply(variables, x, train=False)

    (probs, updates), eval_probs = both(variables, x, jax.random.key(2))
    assert set(updates) == {"batch_stats"}
    assert jax.tree.structure(updates["batch_stats"]) == jax.tree.structure(
        variables["batch_stats"]
    )
    for p in (probs, eval_probs):
        assert p.shape == (3, 10) and p.dtype == jnp.float32
        np.testing.assert_allclose(p.sum(-1), 1.0, rtol=1e-5)


def test_init_variables_matches_model_init_structure():
    model = build_model("small_cnn", num_classes=10, input_shape=(8, 8, 1))
    ours = init_variables(model, jax.random.key(0), (8, 8, 1))
    theirs = jax.eval_shape(
        lambda k: dict(model.init(k, jnp.zeros((1, 8, 8, 1)), train=False)), jax.random.key(0)
    )
    assert jax.tree.structure(ours) == jax.tree.structure(theirs)
    for a, b in zip(jax.tree.leaves(ours), jax.tree.leaves(theirs), strict=True):
        assert a.shape == b.shape and a.dtype == b.dtype
    kernel = ours["params"]["conv_1"]["kernel"]
    limit = np.sqrt(6.0 / (9 * (16 + 32)))
    assert 0.9 * limit < float(jnp.abs(kernel).max()) <= limit
    other = init_variables(model, jax.random.key(1), (8, 8, 1))
    assert not np.allclose(other["params"]["conv_1"]["kernel"], kernel)


def test_learns_digits_above_80_percent():
    digits = load_digits()
    x = (digits.images / 8.0 - 1.0)[..., None].astype(np.float32)
    y = digits.target
    order = np.random.default_rng(0).permutation(len(x))
    train, val = order[:1500], order[1500:]
    model = build_model("small_cnn", num_classes=10, input_shape=(8, 8, 1))
    variables = init_variables(model, jax.random.key(0), (8, 8, 1))
    optimizer = optax.adam(1e-3)

    @jax.jit
    def step(params, stats, opt_state, xb, yb, key):
        def loss(p):
            probs, updates = model.apply(
                {"params": p, "batch_stats": stats},
                xb,
                train=True,
                rngs={"dropout": key},
                mutable=["batch_stats"],
            )
            nll = -jnp.mean(jnp.log(probs[jnp.arange(yb.shape[0]), yb] + 1e-7))
            return nll, updates["batch_stats"]

        (_, stats), grads = jax.value_and_grad(loss, has_aux=True)(params)
        updates, opt_state = optimizer.update(grads, opt_state, params)
        return optax.apply_updates(params, updates), stats, opt_state

    params, stats = variables["params"], variables["batch_stats"]
    opt_state = optimizer.init(params)
    key = jax.random.key(1)
    rng = np.random.default_rng(1)
    for _ in range(4):
        perm = rng.permutation(train)
        for i in range(0, len(perm) - 31, 32):
            key, sub = jax.random.split(key)
            batch = perm[i : i + 32]
            params, stats, opt_state = step(params, stats, opt_state, x[batch], y[batch], sub)
    predict = jax.jit(lambda v, xb: model.apply(v, xb, train=False))
    probs = predict({"params": params, "batch_stats": stats}, x[val])
    accuracy = float(np.mean(np.asarray(probs).argmax(-1) == y[val]))
    assert accuracy > 0.8
