"""The canonical-layout convolution: JAX's values and gradients, one layout inside loops."""

import re

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from jax import lax

from jaxgp.errors import ConfigError
from jaxgp.models.conv import CANONICAL, canonical_conv, conv_function
from jaxgp.policy import default_conv

CASES = [  # input [B, H, W, C], kernel [KH, KW, I, O], strides, padding
    ((2, 8, 8, 3), (3, 3, 3, 4), (1, 1), "SAME"),
    ((2, 9, 7, 2), (3, 3, 2, 3), (2, 2), "VALID"),
    ((2, 9, 9, 2), (3, 3, 2, 3), (2, 2), "SAME"),
    ((1, 10, 11, 3), (1, 1, 3, 2), (1, 1), "VALID"),
    ((1, 12, 12, 2), (5, 5, 2, 3), (1, 1), "SAME"),
    ((1, 9, 9, 2), (1, 7, 2, 2), (1, 1), "SAME"),
    ((1, 9, 9, 2), (7, 1, 2, 2), (1, 1), "SAME"),
    ((2, 15, 15, 3), (3, 3, 3, 2), (2, 2), ((1, 0), (0, 2))),
]


@pytest.mark.parametrize(("x_shape", "w_shape", "strides", "padding"), CASES)
def test_values_and_both_gradients_equal_jaxs(x_shape, w_shape, strides, padding):
    rng = np.random.default_rng(len(x_shape) + sum(w_shape))
    x = jnp.asarray(rng.standard_normal(x_shape), jnp.float32)
    w = jnp.asarray(rng.standard_normal(w_shape), jnp.float32)

    def loss(conv, x, w):
        return jnp.sum(jnp.sin(conv(x, w, strides, padding, dimension_numbers=CANONICAL)))

    want = jax.value_and_grad(partial_loss(loss, lax.conv_general_dilated), (0, 1))(x, w)
    got = jax.value_and_grad(partial_loss(loss, canonical_conv), (0, 1))(x, w)
    np.testing.assert_allclose(got[0], want[0], rtol=1e-5)
    for g, e in zip(got[1], want[1], strict=True):
        np.testing.assert_allclose(g, e, rtol=1e-4, atol=1e-5 * float(jnp.abs(e).max()))


def partial_loss(loss, conv):
    return lambda x, w: loss(conv, x, w)


def test_inside_a_loop_every_convolution_of_the_gradient_keeps_the_fast_layout():
    x = jnp.ones((4, 8, 8, 3))
    w = jnp.full((3, 3, 3, 4), 0.1)

    def step(conv, w):
        grad = jax.grad(lambda w: jnp.sum(conv(x, w, (1, 1), "SAME", dimension_numbers=CANONICAL)))
        return w - 1e-3 * grad(w)

    def layouts(conv):
        loop = jax.jit(lambda w: lax.fori_loop(0, 2, lambda _, w: step(conv, w), w))
        text = loop.lower(w).compile().as_text()
        return set(re.findall(r"convolution\(.*?dim_labels=([^,\s]+)", text))

    assert layouts(canonical_conv) == {"b01f_01io->b01f"}
    assert layouts(lax.conv_general_dilated) != {"b01f_01io->b01f"}  # jax-ml/jax#12868


def test_what_it_does_not_cover_falls_back_to_lax_and_forms_are_checked():
    x, w = jnp.ones((1, 6, 6, 2)), jnp.ones((3, 3, 2, 2))
    dilated = canonical_conv(x, w, (1, 1), "SAME", rhs_dilation=(2, 2),
                             dimension_numbers=CANONICAL)  # fmt: skip
    want = lax.conv_general_dilated(x, w, (1, 1), "SAME", rhs_dilation=(2, 2),
                                    dimension_numbers=CANONICAL)  # fmt: skip
    np.testing.assert_array_equal(dilated, want)
    assert conv_function("xla") is lax.conv_general_dilated
    assert conv_function("canonical") is canonical_conv
    with pytest.raises(ConfigError, match="unknown convolution form 'fft'; valid: xla, canonical"):
        conv_function("fft")
    assert default_conv("cpu") == "canonical" and default_conv("cuda") == "xla"
