"""Building blocks shared by the models: Keras-compatible conv+BN, pooling and input scaling.

Keras defaults are set explicitly where Flax differs: BatchNorm epsilon 1e-3 (Flax: 1e-5),
Glorot-uniform kernels (Flax: LeCun-normal), and average pooling that does not count the
padding. Parameters are always float32; `dtype` only sets the compute dtype.
"""

from __future__ import annotations

from typing import Any

import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np

from jaxgp.errors import ConfigError
from jaxgp.models.conv import conv_function

#: Keras `BatchNormalization` defaults.
BN_EPSILON = 1e-3
BN_MOMENTUM = 0.99
#: Keras' default kernel initializer (`glorot_uniform`).
KERNEL_INIT = nn.initializers.xavier_uniform()

Dtype = Any


def batch_norm(
    train: bool,
    dtype: Dtype,
    *,
    scale: bool = True,
    momentum: float = BN_MOMENTUM,
    name: str | None = None,
) -> nn.BatchNorm:
    """A Keras-default BatchNorm (epsilon 1e-3, momentum 0.99), float32 parameters."""
    return nn.BatchNorm(
        use_running_average=not train,
        momentum=momentum,
        epsilon=BN_EPSILON,
        use_scale=scale,
        use_bias=True,
        dtype=dtype,
        param_dtype=jnp.float32,
        name=name,
    )


class ConvBN(nn.Module):
    """Keras' `conv2d_bn`: Conv2D without bias, BatchNorm without scale, relu."""

    features: int
    kernel: tuple[int, int]
    strides: tuple[int, int] = (1, 1)
    padding: str = "SAME"
    dtype: Dtype = jnp.float32
    conv: str = "xla"
    """How the convolution is computed (`jaxgp.models.conv`)."""

    @nn.compact
    def __call__(self, x: jax.Array, train: bool = False) -> jax.Array:
        x = nn.Conv(
            self.features,
            self.kernel,
            strides=self.strides,
            padding=self.padding,
            use_bias=False,
            kernel_init=KERNEL_INIT,
            dtype=self.dtype,
            param_dtype=jnp.float32,
            conv_general_dilated=conv_function(self.conv),
            name="conv",
        )(x)
        x = batch_norm(train, self.dtype, scale=False, name="bn")(x)
        return nn.relu(x)


MAX_POOL_FORMS = ("window", "slices")


def check_max_pool_form(form: str) -> None:
    """Raise ConfigError unless `form` is one of `MAX_POOL_FORMS`."""
    if form not in MAX_POOL_FORMS:
        raise ConfigError(f"unknown max-pool form {form!r}; valid: {', '.join(MAX_POOL_FORMS)}")


def max_pool(x: jax.Array, window: int, stride: int, form: str = "window") -> jax.Array:
    """A 'valid' max pool of [B, H, W, C] over `window` x `window` at `stride`.

    `window`: XLA's reduce_window, whose gradient is select_and_scatter. `slices`: the
    element-wise max of the window's window**2 strided slices, whose gradient is a chain of
    selects. The same values; the same gradient except where a window holds a tie (the
    slices split it evenly, select_and_scatter gives it to one element; after relu the tied
    zeros get no gradient either way). On XLA's CPU backend the slices' gradient is 10-15x
    faster (`jaxgp.policy.default_max_pool`, benchmarks/RESULTS.md section 1).
    """
    check_max_pool_form(form)
    with jax.named_scope("max_pool"):  # a name for profiles (benchmarks.micro.op_profile)
        if form == "window":
            return nn.max_pool(x, (window, window), strides=(stride, stride), padding="VALID")
        rows = (x.shape[1] - window) // stride + 1
        cols = (x.shape[2] - window) // stride + 1
        pooled = None
        for i in range(window):
            for j in range(window):
                part = x[:, i : i + stride * (rows - 1) + 1 : stride,
                         j : j + stride * (cols - 1) + 1 : stride]  # fmt: skip
                pooled = part if pooled is None else jnp.maximum(pooled, part)
        return pooled


def max_pool_3x3_s2(x: jax.Array, form: str = "window") -> jax.Array:
    """Keras `MaxPooling2D((3, 3), strides=(2, 2))` ('valid' padding), in `form`."""
    return max_pool(x, 3, 2, form)


def _same_counts(n: int) -> np.ndarray:
    """How many of the 3 taps of a 'same' 3-wide, stride-1 window fall inside [0, n)."""
    counts = np.full(n, 3.0)
    counts[0] -= 1
    counts[-1] -= 1
    return np.maximum(counts, 1.0)


def avg_pool_3x3_same(x: jax.Array) -> jax.Array:
    """Keras `AveragePooling2D((3, 3), strides=(1, 1), padding='same')`.

    Like Keras (and unlike Flax's default), padded positions are not counted: a corner is
    the mean of 4 values, an edge of 6. The divisor is a static NumPy array in `x.dtype`,
    so bfloat16 stays bfloat16.
    """
    with jax.named_scope("avg_pool"):
        summed = nn.pool(x, 0.0, jax.lax.add, (3, 3), (1, 1), "SAME")
        h, w = x.shape[1], x.shape[2]
        counts = _same_counts(h)[:, None] * _same_counts(w)[None, :]
        inverse = jnp.asarray((1.0 / counts)[None, :, :, None], dtype=x.dtype)
        return summed * inverse


MIN_INCEPTION_SIZE = 75
RESIZE_METHODS = ("nearest", "bilinear")


def check_input(input_shape: tuple[int, int, int], input_size: int | None) -> int:
    """Validate an InceptionV3 input; return the side the trunk sees (raises ConfigError).

    Without `input_size` the image is upsampled 8x (three nearest-neighbour 2x steps), so the
    smaller side times 8 must reach 75 (Keras' minimum). With `input_size` the image is
    resized to input_size x input_size, which must be at least 75.
    """
    if len(input_shape) != 3 or any(int(d) < 1 for d in input_shape):
        raise ConfigError(f"input shape must be HxWxC with positive sides, got {input_shape}")
    h, w, c = (int(d) for d in input_shape)
    if c not in (1, 3):
        raise ConfigError(f"inception_v3 needs 1 or 3 input channels, got {c}")
    if input_size is not None:
        if input_size < MIN_INCEPTION_SIZE:
            raise ConfigError(
                f"input_size must be >= {MIN_INCEPTION_SIZE} for inception_v3, got {input_size}"
            )
        return int(input_size)
    side = 8 * min(h, w)
    if side < MIN_INCEPTION_SIZE:
        raise ConfigError(
            f"inception_v3 needs >= {MIN_INCEPTION_SIZE}x{MIN_INCEPTION_SIZE} input; "
            f"{h}x{w} upsampled 8x is only {8 * h}x{8 * w}: pass input_size"
        )
    return side


def upsample_or_resize(x: jax.Array, input_size: int | None, method: str) -> jax.Array:
    """Three nearest-neighbour 2x upsamplings (Keras `UpSampling2D`), or a resize.

    With `input_size`, `jax.image.resize` with `method` ('nearest' or 'bilinear'; bilinear
    uses antialiasing when shrinking) makes the image input_size x input_size.
    """
    if input_size is None:
        for _ in range(3):
            x = jnp.repeat(jnp.repeat(x, 2, axis=1), 2, axis=2)
        return x
    if method not in RESIZE_METHODS:
        raise ConfigError(f"unknown resize method {method!r}; valid: {', '.join(RESIZE_METHODS)}")
    shape = (x.shape[0], input_size, input_size, x.shape[3])
    return jax.image.resize(x, shape, method=method).astype(x.dtype)
