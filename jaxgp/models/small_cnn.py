"""A small convnet for CPU runs and tests, with the same code paths as InceptionV3.

Three 3x3 convolutions (16, 32, 32 channels) each with BatchNorm and relu, a 2x2 max-pool
after the first two when the image is large enough, global average pooling, Dropout, and a
dense softmax. BatchNorm momentum is 0.9 (Keras' 0.99 needs hundreds of steps before the
moving statistics are usable, more than a short CPU run has). It has batch_stats and needs
the 'dropout' rng in training, like the big model. Works for any HxWxC input (8x8x1 digits,
28x28x1, 32x32x3).
"""

from __future__ import annotations

import flax.linen as nn
import jax
import jax.numpy as jnp

from jaxgp.models.conv import conv_function
from jaxgp.models.layers import KERNEL_INIT, Dtype, batch_norm, max_pool


class SmallCNN(nn.Module):
    """[B, H, W, C] in [-1, 1] -> [B, num_classes] float32 probabilities."""

    num_classes: int
    widths: tuple[int, ...] = (16, 32, 32)
    dropout_rate: float = 0.2
    bn_momentum: float = 0.9
    dtype: Dtype = jnp.float32
    max_pool: str = "window"
    """How its max pools are computed (`jaxgp.models.layers.max_pool`)."""
    conv: str = "xla"
    """How its convolutions are computed (`jaxgp.models.conv`)."""

    @nn.compact
    def __call__(self, x: jax.Array, train: bool = False) -> jax.Array:
        x = x.astype(self.dtype)
        for i, width in enumerate(self.widths):
            x = nn.Conv(
                width,
                (3, 3),
                padding="SAME",
                use_bias=False,
                kernel_init=KERNEL_INIT,
                dtype=self.dtype,
                param_dtype=jnp.float32,
                conv_general_dilated=conv_function(self.conv),
                name=f"conv_{i}",
            )(x)
            x = nn.relu(batch_norm(train, self.dtype, momentum=self.bn_momentum, name=f"bn_{i}")(x))
            if i < len(self.widths) - 1 and min(x.shape[1], x.shape[2]) >= 8:
                x = max_pool(x, 2, 2, self.max_pool)
        x = jnp.mean(x, axis=(1, 2))
        x = nn.Dropout(self.dropout_rate, deterministic=not train, name="dropout")(x)
        logits = nn.Dense(
            self.num_classes,
            kernel_init=KERNEL_INIT,
            dtype=self.dtype,
            param_dtype=jnp.float32,
            name="logits",
        )(x)
        return nn.softmax(logits.astype(jnp.float32), axis=-1)
