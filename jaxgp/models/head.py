"""The NGL authors' classification head on top of a pooled feature vector.

BatchNorm, Dense 128 relu, Dropout 0.5, BatchNorm, Dense 64 relu, Dropout 0.5, BatchNorm,
Dense C softmax. The BatchNorms are Keras defaults (scale and center, epsilon 1e-3, momentum
0.99); Dense layers use Keras' Glorot-uniform kernels and zero biases. The softmax is
computed in float32 whatever the compute dtype. Dropout needs the 'dropout' rng in training.
"""

from __future__ import annotations

import flax.linen as nn
import jax
import jax.numpy as jnp

from jaxgp.models.layers import KERNEL_INIT, Dtype, batch_norm


class NGLHead(nn.Module):
    """[B, F] features -> [B, num_classes] float32 probabilities."""

    num_classes: int
    dropout_rate: float = 0.5
    dtype: Dtype = jnp.float32

    def _dense(self, features: int, name: str) -> nn.Dense:
        return nn.Dense(
            features, kernel_init=KERNEL_INIT, dtype=self.dtype, param_dtype=jnp.float32, name=name
        )

    @nn.compact
    def __call__(self, x: jax.Array, train: bool = False) -> jax.Array:
        x = x.reshape((x.shape[0], -1))  # Flatten
        x = batch_norm(train, self.dtype, name="bn_0")(x)
        x = nn.relu(self._dense(128, "dense_0")(x))
        x = nn.Dropout(self.dropout_rate, deterministic=not train, name="dropout_0")(x)
        x = batch_norm(train, self.dtype, name="bn_1")(x)
        x = nn.relu(self._dense(64, "dense_1")(x))
        x = nn.Dropout(self.dropout_rate, deterministic=not train, name="dropout_1")(x)
        x = batch_norm(train, self.dtype, name="bn_2")(x)
        logits = self._dense(self.num_classes, "logits")(x)
        return nn.softmax(logits.astype(jnp.float32), axis=-1)
