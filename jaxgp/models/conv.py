"""Convolutions whose gradients XLA's CPU backend runs with its fast kernels.

XLA's CPU backend has fast convolution kernels for one layout only: NHWC input, HWIO
kernel, NHWC output (`b01f_01io->b01f`). Outside loops it rewrites other layouts to that
one; inside a loop body it does not (jax-ml/jax#12868). JAX's gradient of an NHWC/HWIO
convolution is two convolutions in other layouts (the input gradient with the kernel's
features swapped, the filter gradient with batch and features swapped), so in a scanned
epoch they ran a naive loop nest: 65x slower than from Python for one 3x3 convolution
(benchmarks/micro/conv_in_loop.py), 6x for small_cnn's whole epoch.

`canonical_conv` is `lax.conv_general_dilated` with a custom VJP that writes both gradient
convolutions in that one layout itself, transposing the operands around them:

- input gradient: the output cotangent dilated by the stride, correlated with the kernel
  flipped in space and with its features swapped (HWOI -> HWIO), padded so that it covers
  the input;
- filter gradient: the input with batch and features swapped ([C_in, H, W, B]), correlated
  with the cotangent as a kernel ([H_out, W_out, B, C_out], dilated by the stride), giving
  [C_in, KH, KW, C_out], transposed to HWIO.

Its values and gradients equal JAX's to the bit on the shapes tested; it applies to NHWC
input, HWIO kernel, no dilation, one feature group (every convolution of jaxgp's models),
and is `lax.conv_general_dilated` itself otherwise. `jaxgp.policy.default_conv` uses it on
a CPU.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import partial

import jax
import jax.numpy as jnp
from jax import lax

CANONICAL = ("NHWC", "HWIO", "NHWC")
CONV_FORMS = ("xla", "canonical")


def _pads(padding, x_shape, w_shape, strides) -> tuple[tuple[int, int], ...]:
    if isinstance(padding, str):
        return tuple(lax.padtype_to_pads(x_shape[1:3], w_shape[:2], strides, padding))
    return tuple((int(low), int(high)) for low, high in padding)


@partial(jax.custom_vjp, nondiff_argnums=(2, 3))
def _conv(x, w, strides: tuple[int, int], pads: tuple[tuple[int, int], ...]):
    return lax.conv_general_dilated(x, w, strides, pads, dimension_numbers=CANONICAL)


def _conv_fwd(x, w, strides, pads):
    return _conv(x, w, strides, pads), (x, w)


def _conv_bwd(strides, pads, residuals, g):
    x, w = residuals
    out = g.shape[1:3]
    # dx[n] = sum_k g'[n + pl - k] w[k], g' the cotangent dilated by the stride.
    input_pads = [
        (k - 1 - low, n + low - (o - 1) * s - 1)
        for n, k, o, s, (low, _) in zip(x.shape[1:3], w.shape[:2], out, strides, pads, strict=True)
    ]
    with jax.named_scope("input_gradient"):  # names for profiles (benchmarks.micro.op_profile)
        flipped = jnp.flip(w, (0, 1)).transpose(0, 1, 3, 2)
        dx = lax.conv_general_dilated(g, flipped, (1, 1), input_pads, lhs_dilation=strides,
                                      dimension_numbers=CANONICAL)  # fmt: skip
    # dw[k] = sum_o x_padded[k + o * s] g[o]: batch and features swapped, g as the kernel.
    filter_pads = [
        (low, k + (o - 1) * s - n - low)
        for n, k, o, s, (low, _) in zip(x.shape[1:3], w.shape[:2], out, strides, pads, strict=True)
    ]
    with jax.named_scope("filter_gradient"):
        dw = lax.conv_general_dilated(x.transpose(3, 1, 2, 0), g.transpose(1, 2, 0, 3), (1, 1),
                                      filter_pads, rhs_dilation=strides,
                                      dimension_numbers=CANONICAL)  # fmt: skip
        dw = dw.transpose(1, 2, 0, 3)
    return dx.astype(x.dtype), dw.astype(w.dtype)


_conv.defvjp(_conv_fwd, _conv_bwd)


def canonical_conv(
    lhs,
    rhs,
    window_strides: Sequence[int],
    padding,
    lhs_dilation: Sequence[int] | None = None,
    rhs_dilation: Sequence[int] | None = None,
    dimension_numbers=None,
    feature_group_count: int = 1,
    precision=None,
    **unsupported,
):
    """`lax.conv_general_dilated`'s signature (what `flax.linen.Conv` calls); see the
    module's docstring for what it changes and when it falls back."""
    plain = (
        not unsupported
        and precision is None
        and feature_group_count == 1
        and all(d == 1 for d in (lhs_dilation or (1, 1)))
        and all(d == 1 for d in (rhs_dilation or (1, 1)))
        and lax.conv_dimension_numbers(lhs.shape, rhs.shape, dimension_numbers)
        == lax.conv_dimension_numbers(lhs.shape, rhs.shape, CANONICAL)
        and lhs.ndim == 4
    )
    if not plain:
        return lax.conv_general_dilated(
            lhs, rhs, window_strides, padding, lhs_dilation, rhs_dilation, dimension_numbers,
            feature_group_count, precision=precision, **unsupported,
        )  # fmt: skip
    strides = tuple(int(s) for s in window_strides)
    return _conv(lhs, rhs, strides, _pads(padding, lhs.shape, rhs.shape, strides))


def check_conv_form(form: str) -> None:
    """Raise ConfigError unless `form` is one of `CONV_FORMS`."""
    from jaxgp.errors import ConfigError

    if form not in CONV_FORMS:
        raise ConfigError(f"unknown convolution form {form!r}; valid: {', '.join(CONV_FORMS)}")


def conv_function(form: str):
    """The convolution `flax.linen.Conv` should call for `form` (`xla` or `canonical`)."""
    check_conv_form(form)
    return canonical_conv if form == "canonical" else lax.conv_general_dilated
