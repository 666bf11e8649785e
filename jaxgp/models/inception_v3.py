"""InceptionV3 in Flax linen, layer for layer as `keras.applications.InceptionV3`.

`InceptionV3Trunk` equals `InceptionV3(include_top=False, weights=None, pooling='max')`:
94 bias-free convolutions, each followed by a scale-free BatchNorm (epsilon 1e-3, momentum
0.99) and relu; blocks `mixed0`..`mixed10` with Keras' filter counts, paddings and strides;
global max pooling. 21,802,784 numbers: 21,768,352 params + 34,432 batch_stats.

`InceptionV3Classifier` is the NGL authors' full model: grayscale repeated to RGB, 8x
nearest upsampling (or a resize to `input_size`), the trunk, and the NGL head.
"""

from __future__ import annotations

import flax.linen as nn
import jax
import jax.numpy as jnp

from jaxgp.models.head import NGLHead
from jaxgp.models.layers import (
    ConvBN,
    Dtype,
    avg_pool_3x3_same,
    check_input,
    max_pool_3x3_s2,
    upsample_or_resize,
)


class _Block(nn.Module):
    """Base of the mixed blocks: `conv` makes a named ConvBN in this block's scope."""

    dtype: Dtype = jnp.float32
    max_pool: str = "window"
    """How its max pools are computed (`jaxgp.models.layers.max_pool`)."""
    conv_form: str = "xla"
    """How its convolutions are computed (`jaxgp.models.conv`)."""

    def conv(self, x, train, name, features, kernel, strides=(1, 1), padding="SAME"):
        layer = ConvBN(features, kernel, strides, padding, dtype=self.dtype,
                       conv=self.conv_form, name=name)  # fmt: skip
        return layer(x, train)


class BlockA(_Block):
    """mixed0..mixed2 (35x35 grid): 1x1, 5x5, double 3x3 and avg-pool branches."""

    pool_features: int = 32

    @nn.compact
    def __call__(self, x: jax.Array, train: bool = False) -> jax.Array:
        b1 = self.conv(x, train, "branch1x1", 64, (1, 1))
        b5 = self.conv(x, train, "branch5x5_1", 48, (1, 1))
        b5 = self.conv(b5, train, "branch5x5_2", 64, (5, 5))
        b3 = self.conv(x, train, "branch3x3dbl_1", 64, (1, 1))
        b3 = self.conv(b3, train, "branch3x3dbl_2", 96, (3, 3))
        b3 = self.conv(b3, train, "branch3x3dbl_3", 96, (3, 3))
        bp = self.conv(avg_pool_3x3_same(x), train, "branch_pool", self.pool_features, (1, 1))
        return jnp.concatenate([b1, b5, b3, bp], axis=-1)


class BlockB(_Block):
    """mixed3 (35x35 -> 17x17): strided 3x3, strided double 3x3, max-pool."""

    @nn.compact
    def __call__(self, x: jax.Array, train: bool = False) -> jax.Array:
        b3 = self.conv(x, train, "branch3x3", 384, (3, 3), (2, 2), "VALID")
        bd = self.conv(x, train, "branch3x3dbl_1", 64, (1, 1))
        bd = self.conv(bd, train, "branch3x3dbl_2", 96, (3, 3))
        bd = self.conv(bd, train, "branch3x3dbl_3", 96, (3, 3), (2, 2), "VALID")
        return jnp.concatenate([b3, bd, max_pool_3x3_s2(x, self.max_pool)], axis=-1)


class BlockC(_Block):
    """mixed4..mixed7 (17x17): factorised 7x7 branches with `channels_7x7` filters."""

    channels_7x7: int = 128

    @nn.compact
    def __call__(self, x: jax.Array, train: bool = False) -> jax.Array:
        c = self.channels_7x7
        b1 = self.conv(x, train, "branch1x1", 192, (1, 1))
        b7 = self.conv(x, train, "branch7x7_1", c, (1, 1))
        b7 = self.conv(b7, train, "branch7x7_2", c, (1, 7))
        b7 = self.conv(b7, train, "branch7x7_3", 192, (7, 1))
        bd = self.conv(x, train, "branch7x7dbl_1", c, (1, 1))
        bd = self.conv(bd, train, "branch7x7dbl_2", c, (7, 1))
        bd = self.conv(bd, train, "branch7x7dbl_3", c, (1, 7))
        bd = self.conv(bd, train, "branch7x7dbl_4", c, (7, 1))
        bd = self.conv(bd, train, "branch7x7dbl_5", 192, (1, 7))
        bp = self.conv(avg_pool_3x3_same(x), train, "branch_pool", 192, (1, 1))
        return jnp.concatenate([b1, b7, bd, bp], axis=-1)


class BlockD(_Block):
    """mixed8 (17x17 -> 8x8): strided 3x3, strided 7x7x3, max-pool."""

    @nn.compact
    def __call__(self, x: jax.Array, train: bool = False) -> jax.Array:
        b3 = self.conv(x, train, "branch3x3_1", 192, (1, 1))
        b3 = self.conv(b3, train, "branch3x3_2", 320, (3, 3), (2, 2), "VALID")
        b7 = self.conv(x, train, "branch7x7x3_1", 192, (1, 1))
        b7 = self.conv(b7, train, "branch7x7x3_2", 192, (1, 7))
        b7 = self.conv(b7, train, "branch7x7x3_3", 192, (7, 1))
        b7 = self.conv(b7, train, "branch7x7x3_4", 192, (3, 3), (2, 2), "VALID")
        return jnp.concatenate([b3, b7, max_pool_3x3_s2(x, self.max_pool)], axis=-1)


class BlockE(_Block):
    """mixed9, mixed10 (8x8): expanded 1x3 / 3x1 branches."""

    @nn.compact
    def __call__(self, x: jax.Array, train: bool = False) -> jax.Array:
        b1 = self.conv(x, train, "branch1x1", 320, (1, 1))
        b3 = self.conv(x, train, "branch3x3_1", 384, (1, 1))
        b3 = jnp.concatenate(
            [
                self.conv(b3, train, "branch3x3_2a", 384, (1, 3)),
                self.conv(b3, train, "branch3x3_2b", 384, (3, 1)),
            ],
            axis=-1,
        )
        bd = self.conv(x, train, "branch3x3dbl_1", 448, (1, 1))
        bd = self.conv(bd, train, "branch3x3dbl_2", 384, (3, 3))
        bd = jnp.concatenate(
            [
                self.conv(bd, train, "branch3x3dbl_3a", 384, (1, 3)),
                self.conv(bd, train, "branch3x3dbl_3b", 384, (3, 1)),
            ],
            axis=-1,
        )
        bp = self.conv(avg_pool_3x3_same(x), train, "branch_pool", 192, (1, 1))
        return jnp.concatenate([b1, b3, bd, bp], axis=-1)


class InceptionV3Trunk(_Block):
    """`InceptionV3(include_top=False, weights=None, pooling='max')`: [B,H,W,3] -> [B,2048].

    H and W must be at least 75 (Keras' minimum).
    """

    @nn.compact
    def __call__(self, x: jax.Array, train: bool = False) -> jax.Array:
        x = x.astype(self.dtype)
        x = self.conv(x, train, "conv2d_1a", 32, (3, 3), (2, 2), "VALID")
        x = self.conv(x, train, "conv2d_2a", 32, (3, 3), padding="VALID")
        x = self.conv(x, train, "conv2d_2b", 64, (3, 3))
        x = max_pool_3x3_s2(x, self.max_pool)
        x = self.conv(x, train, "conv2d_3b", 80, (1, 1), padding="VALID")
        x = self.conv(x, train, "conv2d_4a", 192, (3, 3), padding="VALID")
        x = max_pool_3x3_s2(x, self.max_pool)
        pools = {"dtype": self.dtype, "max_pool": self.max_pool, "conv_form": self.conv_form}
        for i, pool_features in enumerate((32, 64, 64)):
            x = BlockA(**pools, pool_features=pool_features, name=f"mixed{i}")(x, train)
        x = BlockB(**pools, name="mixed3")(x, train)
        for i, channels in enumerate((128, 160, 160, 192), start=4):
            x = BlockC(**pools, channels_7x7=channels, name=f"mixed{i}")(x, train)
        x = BlockD(**pools, name="mixed8")(x, train)
        x = BlockE(**pools, name="mixed9")(x, train)
        x = BlockE(**pools, name="mixed10")(x, train)
        return jnp.max(x, axis=(1, 2))  # GlobalMaxPooling2D


class InceptionV3Classifier(nn.Module):
    """The NGL authors' classifier: upsampling, InceptionV3 trunk, NGL head.

    Input: float [B, H, W, Cin] in [-1, 1], Cin 1 (repeated to RGB) or 3. By default the
    image is upsampled by three nearest-neighbour 2x steps (32 -> 256, 28 -> 224), like the
    authors' three `UpSampling2D` layers; `input_size` instead resizes it to
    input_size x input_size with `jax.image.resize` (`resize_method` 'bilinear', the default,
    or 'nearest'). The side the trunk sees must be >= 75, else `ConfigError`.
    Output: float32 softmax probabilities [B, num_classes]. `dtype` is the compute dtype
    (float32 or bfloat16); parameters are float32 and the softmax is computed in float32.
    """

    num_classes: int
    input_size: int | None = None
    resize_method: str = "bilinear"
    dtype: Dtype = jnp.float32
    max_pool: str = "window"
    """How its max pools are computed (`jaxgp.models.layers.max_pool`)."""
    conv_form: str = "xla"
    """How its convolutions are computed (`jaxgp.models.conv`)."""

    @nn.compact
    def __call__(self, x: jax.Array, train: bool = False) -> jax.Array:
        check_input(tuple(x.shape[1:]), self.input_size)
        x = x.astype(self.dtype)
        if x.shape[-1] == 1:
            x = jnp.repeat(x, 3, axis=-1)
        x = upsample_or_resize(x, self.input_size, self.resize_method)
        x = InceptionV3Trunk(self.dtype, self.max_pool, self.conv_form, name="trunk")(x, train)
        return NGLHead(self.num_classes, dtype=self.dtype, name="head")(x, train)
