"""InceptionV3: Keras parameter-count parity, shapes, Keras layer details, a real step."""

import math

import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np
import pytest

from jaxgp.errors import ConfigError
from jaxgp.models import InceptionV3Trunk, build_model, init_variables, variable_shapes
from jaxgp.models.layers import avg_pool_3x3_same


def _count(tree) -> int:
    return sum(math.prod(leaf.shape) for leaf in jax.tree.leaves(tree))


@pytest.mark.parametrize(
    ("classes", "total", "trainable"),
    [(10, 22_082_922, 22_044_010), (100, 22_088_772, 22_049_860)],
)
def test_parameter_counts_match_keras_with_the_ngl_head(classes, total, trainable):
    model = build_model("inception_v3", num_classes=classes, input_shape=(32, 32, 3))
    variables = variable_shapes(model, (32, 32, 3))
    assert set(variables) == {"params", "batch_stats"}
    assert _count(variables) == total
    assert _count(variables["params"]) == trainable


def test_trunk_alone_matches_keras_include_top_false():
    variables = jax.eval_shape(
        lambda: InceptionV3Trunk().init(jax.random.key(0), jnp.zeros((1, 75, 75, 3)))
    )
    assert _count(variables) == 21_802_784
    assert _count(variables["params"]) == 21_768_352
    assert _count(variables["batch_stats"]) == 34_432


def test_trunk_has_94_bias_free_convs_and_scale_free_batchnorms():
    params = variable_shapes(InceptionV3Trunk(), (75, 75, 3))["params"]
    paths = [
        tuple(str(p.key) for p in path)
        for path, _ in jax.tree_util.tree_flatten_with_path(params)[0]
    ]
    assert sum(path[-2:] == ("conv", "kernel") for path in paths) == 94
    assert sum(path[-2:] == ("bn", "bias") for path in paths) == 94
    assert not any(path[-1] == "scale" or path[-2:] == ("conv", "bias") for path in paths)


def test_keras_batchnorm_and_pooling_settings():
    model = InceptionV3Trunk()
    variables = variable_shapes(model, (75, 75, 3))
    bns = []

    def find(next_fun, args, kwargs, context):
        if isinstance(context.module, nn.BatchNorm):
            bns.append(context.module)
        return next_fun(*args, **kwargs)

    def forward(v):
        with nn.intercept_methods(find):
            return model.apply(v, jnp.zeros((1, 75, 75, 3)))

    jax.eval_shape(forward, variables)
    assert len(bns) == 94
    assert all(bn.epsilon == 1e-3 and bn.momentum == 0.99 and not bn.use_scale for bn in bns)
    x = jax.random.normal(jax.random.key(0), (1, 4, 5, 2))
    expected = nn.avg_pool(x, (3, 3), (1, 1), "SAME", count_include_pad=False)
    np.testing.assert_allclose(avg_pool_3x3_same(x), expected, rtol=1e-6)
    corner = float(jnp.mean(x[0, :2, :2, 0]))
    assert float(avg_pool_3x3_same(x)[0, 0, 0, 0]) == pytest.approx(corner, rel=1e-6)


@pytest.mark.parametrize(
    ("input_shape", "input_size", "first", "grid"),
    [
        ((32, 32, 3), None, 127, 6),  # 256 -> (256 - 3) // 2 + 1
        ((28, 28, 1), None, 111, 5),  # 224
        ((8, 8, 1), 75, 37, 1),
    ],
)
def test_output_shapes_through_eval_shape(input_shape, input_size, first, grid):
    model = build_model(
        "inception_v3", num_classes=10, input_shape=input_shape, input_size=input_size
    )
    variables = variable_shapes(model, input_shape)
    x = jax.ShapeDtypeStruct((4, *input_shape), jnp.float32)
    out, state = jax.eval_shape(
        lambda v, x: model.apply(v, x, train=False, capture_intermediates=True, mutable=True),
        variables,
        x,
    )
    assert out.shape == (4, 10) and out.dtype == jnp.float32
    trunk = state["intermediates"]["trunk"]
    assert trunk["conv2d_1a"]["conv"]["__call__"][0].shape == (4, first, first, 32)
    assert trunk["mixed10"]["__call__"][0].shape == (4, grid, grid, 2048)


def test_bfloat16_keeps_float32_params_and_output():
    model = build_model("inception_v3", num_classes=10, input_shape=(32, 32, 3), dtype=jnp.bfloat16)
    variables = variable_shapes(model, (32, 32, 3))
    assert {leaf.dtype for leaf in jax.tree.leaves(variables)} == {jnp.dtype(jnp.float32)}
    x = jax.ShapeDtypeStruct((2, 32, 32, 3), jnp.float32)
    out, state = jax.eval_shape(
        lambda v, x: model.apply(
            v, x, train=True, rngs={"dropout": jax.random.key(0)}, mutable=["batch_stats"]
        ),
        variables,
        x,
    )
    assert out.dtype == jnp.float32
    assert {leaf.dtype for leaf in jax.tree.leaves(state)} == {jnp.dtype(jnp.float32)}


@pytest.mark.parametrize(
    ("input_shape", "input_size", "message"),
    [
        ((8, 8, 1), None, "8x8 upsampled"),
        ((32, 32, 3), 74, ">= 75"),
        ((32, 32, 2), None, "channels"),
    ],
)
def test_too_small_or_bad_inputs_raise_config_error(input_shape, input_size, message):
    with pytest.raises(ConfigError, match=message):
        build_model("inception_v3", num_classes=10, input_shape=input_shape, input_size=input_size)


def test_init_variables_matches_model_init_structure():
    model = build_model("inception_v3", num_classes=10, input_shape=(32, 32, 3))
    ours = jax.eval_shape(lambda k: init_variables(model, k, (32, 32, 3)), jax.random.key(0))
    assert jax.tree.structure(ours) == jax.tree.structure(variable_shapes(model, (32, 32, 3)))
    assert jax.tree.leaves(ours) == jax.tree.leaves(variable_shapes(model, (32, 32, 3)))


@pytest.mark.usefixtures("compiled_with_fewer_optimisations")
def test_real_forward_and_backward_at_75():
    model = build_model("inception_v3", num_classes=10, input_shape=(32, 32, 3), input_size=75)
    variables = init_variables(model, jax.random.key(0), (32, 32, 3))
    x = jax.random.uniform(jax.random.key(1), (2, 32, 32, 3), minval=-1.0, maxval=1.0)
    labels = jnp.array([1, 7])

    def loss(params, stats, key):
        probs, updates = model.apply(
            {"params": params, "batch_stats": stats},
            x,
            train=True,
            rngs={"dropout": key},
            mutable=["batch_stats"],
        )
        return -jnp.mean(jnp.log(probs[jnp.arange(2), labels] + 1e-7)), (probs, updates)

    args = (variables["params"], variables["batch_stats"], jax.random.key(2))
    (value, (probs, updates)), grads = jax.jit(jax.value_and_grad(loss, has_aux=True))(*args)
    assert probs.shape == (2, 10) and probs.dtype == jnp.float32
    np.testing.assert_allclose(probs.sum(-1), 1.0, rtol=1e-5)
    assert np.isfinite(float(value))
    assert all(bool(jnp.all(jnp.isfinite(g))) for g in jax.tree.leaves(grads))
    assert float(jnp.abs(grads["trunk"]["conv2d_1a"]["conv"]["kernel"]).sum()) > 0
    new_mean = updates["batch_stats"]["trunk"]["conv2d_1a"]["bn"]["mean"]
    assert not np.allclose(new_mean, 0.0)  # moving statistics were updated
