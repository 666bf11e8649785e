"""Model names -> builders, input validation, and variable initialisation.

Every model takes a float batch [B, H, W, C] in [-1, 1] and returns float32 softmax
probabilities [B, num_classes]; it is called as
`model.apply(variables, x, train=..., rngs={'dropout': key}, mutable=['batch_stats'])`
(mutable only in training), and `variables` has 'params' and 'batch_stats'.
"""

from __future__ import annotations

import functools
import math
import operator
from collections.abc import Callable
from typing import Any

import flax.linen as nn
import jax
import jax.numpy as jnp

from jaxgp.errors import ConfigError
from jaxgp.models.conv import check_conv_form
from jaxgp.models.inception_v3 import InceptionV3Classifier
from jaxgp.models.layers import check_input, check_max_pool_form
from jaxgp.models.small_cnn import SmallCNN

Builder = Callable[..., nn.Module]


def _inception_v3(
    *,
    num_classes: int,
    input_shape: tuple[int, int, int],
    input_size: int | None,
    dtype: Any,
    max_pool: str,
    conv: str,
) -> nn.Module:
    check_input(input_shape, input_size)
    return InceptionV3Classifier(
        num_classes=num_classes, input_size=input_size, dtype=dtype, max_pool=max_pool,
        conv_form=conv,
    )  # fmt: skip


def _small_cnn(
    *,
    num_classes: int,
    input_shape: tuple[int, int, int],
    input_size: int | None,
    dtype: Any,
    max_pool: str,
    conv: str,
) -> nn.Module:
    if input_size is not None:
        raise ConfigError("input_size applies to inception_v3 only, not small_cnn")
    return SmallCNN(num_classes=num_classes, dtype=dtype, max_pool=max_pool, conv=conv)


MODELS: dict[str, Builder] = {"inception_v3": _inception_v3, "small_cnn": _small_cnn}


def _check_shape(input_shape: tuple[int, ...]) -> tuple[int, int, int]:
    try:
        shape = tuple(operator.index(d) for d in input_shape)
    except TypeError:
        shape = ()
    if len(shape) != 3 or min(shape) < 1:
        raise ConfigError(f"input shape must be (H, W, C) with positive sides, got {input_shape}")
    return shape  # type: ignore[return-value]


def build_model(
    name: str,
    *,
    num_classes: int,
    input_shape: tuple[int, int, int],
    input_size: int | None = None,
    dtype: Any = jnp.float32,
    max_pool: str = "window",
    conv: str = "xla",
) -> nn.Module:
    """The model `name` for `num_classes` classes and [H, W, C] inputs (raises ConfigError);
    `max_pool` and `conv`: how its max pools and convolutions are computed
    (`jaxgp.models.layers.max_pool`, `jaxgp.models.conv`)."""
    if name not in MODELS:
        raise ConfigError(f"unknown model {name!r}; valid models: {', '.join(sorted(MODELS))}")
    if num_classes < 2:
        raise ConfigError(f"number of classes must be >= 2, got {num_classes}")
    if jnp.dtype(dtype) not in (jnp.dtype(jnp.float32), jnp.dtype(jnp.bfloat16)):
        raise ConfigError(f"dtype must be float32 or bfloat16, got {jnp.dtype(dtype).name}")
    shape = _check_shape(input_shape)
    check_max_pool_form(max_pool)
    check_conv_form(conv)
    return MODELS[name](
        num_classes=num_classes, input_shape=shape, input_size=input_size, dtype=dtype,
        max_pool=max_pool, conv=conv,
    )  # fmt: skip


@functools.lru_cache(maxsize=32)
def _variable_shapes(model: nn.Module, input_shape: tuple[int, ...]) -> dict[str, Any]:
    dummy = jax.ShapeDtypeStruct((1, *input_shape), jnp.float32)
    key = jax.ShapeDtypeStruct((), jax.random.key(0).dtype)
    return dict(jax.eval_shape(lambda k, x: model.init({"params": k}, x, train=False), key, dummy))


def variable_shapes(model: nn.Module, input_shape: tuple[int, int, int]) -> dict[str, Any]:
    """The variables of `model` as `jax.ShapeDtypeStruct`s (jax.eval_shape: no compilation).

    Cached per (model, input_shape); the result is a fresh top-level dict each time.
    """
    return dict(_variable_shapes(model, tuple(int(d) for d in input_shape)))


#: Constant initial values by leaf name: biases and BN shifts/means 0, BN scales/variances 1.
_CONSTANT_LEAVES = {"bias": 0.0, "mean": 0.0, "scale": 1.0, "var": 1.0}


def _glorot_limit(shape: tuple[int, ...]) -> float:
    receptive = math.prod(shape[:-2])
    return math.sqrt(6.0 / (receptive * (shape[-2] + shape[-1])))


@functools.partial(jax.jit, static_argnums=(0, 2))
def _init(model: nn.Module, key: jax.Array, input_shape: tuple[int, int, int]) -> Any:
    shapes = variable_shapes(model, input_shape)
    leaves, treedef = jax.tree_util.tree_flatten_with_path(shapes)
    names = [path[-1].key for path, _ in leaves]
    unknown = sorted(set(names) - set(_CONSTANT_LEAVES) - {"kernel"})
    if unknown:  # a module with other initialisers: fall back to its own init
        return model.init({"params": key}, jnp.zeros((1, *input_shape)), train=False)
    total = sum(
        math.prod(s.shape) for (_, s), n in zip(leaves, names, strict=True) if n == "kernel"
    )
    uniform = jax.random.uniform(key, (total,), jnp.float32, -1.0, 1.0)
    values, offset = [], 0
    for (_, struct), name in zip(leaves, names, strict=True):
        if name == "kernel":
            size = math.prod(struct.shape)
            chunk = uniform[offset : offset + size].reshape(struct.shape)
            values.append(chunk * _glorot_limit(struct.shape))
            offset += size
        else:
            values.append(jnp.full(struct.shape, _CONSTANT_LEAVES[name], struct.dtype))
    return jax.tree_util.tree_unflatten(treedef, values)


def init_variables(
    model: nn.Module, key: jax.Array, input_shape: tuple[int, int, int]
) -> dict[str, Any]:
    """Fresh {'params', 'batch_stats'} for `model` and [H, W, C] inputs.

    Same structure, shapes and distributions as `model.init` for the models here (Keras
    defaults: Glorot-uniform kernels, zero biases, BN scale 1 / shift 0, moving mean 0 /
    variance 1), but every kernel is cut from ONE uniform draw: `model.init` runs a separate
    threefry per kernel, which takes ~30 s to compile for InceptionV3 on a CPU, this ~5 s.
    A model with any other kind of leaf falls back to `model.init`. Jitted and cached per
    (model, input_shape); works under `jax.vmap` over keys.
    """
    return dict(_init(model, key, tuple(int(d) for d in input_shape)))
