"""Keras-style model summaries computed with `jax.eval_shape` only (no compilation).

One abstract trace of `model.init` gives every variable's shape and, through
`nn.intercept_methods`, every module call in call order with its output shape. Counts follow
Keras: trainable = 'params', non-trainable = 'batch_stats' (BatchNorm moving mean and
variance), total = both.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from typing import Any

import flax.linen as nn
import jax
import jax.numpy as jnp

from jaxgp.models.registry import build_model


@dataclass(frozen=True)
class LayerSummary:
    """One module call: its path ('trunk/mixed0/branch1x1/conv'), class, output shape
    (batch dimension None) and the number of variables under it (its submodules included)."""

    path: str
    kind: str
    output_shape: tuple[Any, ...]
    params: int

    @property
    def depth(self) -> int:
        return self.path.count("/")


@dataclass(frozen=True)
class ModelSummary:
    """Counts, layers and variable shapes of one model configuration."""

    name: str
    total: int
    trainable: int
    non_trainable: int
    layers: list[LayerSummary] = field(default_factory=list)
    shapes: list[list[int]] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        """{'total', 'trainable', 'non_trainable', 'shapes'}; shapes are 'params' leaves then
        'batch_stats' leaves, each in `jax.tree.leaves` order."""
        return {
            "total": self.total,
            "trainable": self.trainable,
            "non_trainable": self.non_trainable,
            "shapes": [list(s) for s in self.shapes],
        }

    def to_json(self) -> str:
        """`to_dict()` as JSON text."""
        return json.dumps(self.to_dict())


def _size(tree: Any) -> int:
    return sum(math.prod(leaf.shape) for leaf in jax.tree.leaves(tree))


def _output_shape(out: Any) -> tuple[Any, ...]:
    shape = getattr(out, "shape", None)
    if shape is None:
        return ()
    return (None, *tuple(shape)[1:]) if len(shape) else ()


def _sizes_by_prefix(variables: dict[str, Any]) -> dict[tuple[str, ...], int]:
    """Number of variables under every module path prefix (all collections together)."""
    sizes: dict[tuple[str, ...], int] = {}
    for collection in variables.values():
        for path, leaf in jax.tree_util.tree_flatten_with_path(collection)[0]:
            keys = tuple(str(p.key) for p in path[:-1])
            for i in range(1, len(keys) + 1):
                sizes[keys[:i]] = sizes.get(keys[:i], 0) + math.prod(leaf.shape)
    return sizes


def summarize(
    name: str,
    *,
    num_classes: int,
    input_shape: tuple[int, int, int],
    input_size: int | None = None,
) -> ModelSummary:
    """Summary of model `name` (raises ConfigError for a bad name or configuration)."""
    model = build_model(
        name, num_classes=num_classes, input_shape=input_shape, input_size=input_size
    )
    calls: list[tuple[tuple[str, ...], str, tuple[Any, ...]]] = []

    def record(next_fun, args, kwargs, context):
        path = tuple(context.module.path)
        if context.method_name != "__call__" or not path:
            return next_fun(*args, **kwargs)
        index = len(calls)  # reserve the slot on entry: parents are listed before children
        calls.append((path, type(context.module).__name__, ()))
        out = next_fun(*args, **kwargs)
        calls[index] = (path, calls[index][1], _output_shape(out))
        return out

    def init(key: jax.Array, x: jax.Array) -> Any:
        with nn.intercept_methods(record):
            return model.init({"params": key}, x, train=False)

    dummy = jax.ShapeDtypeStruct((1, *input_shape), jnp.float32)
    key = jax.ShapeDtypeStruct((), jax.random.key(0).dtype)
    variables = dict(jax.eval_shape(init, key, dummy))
    sizes = _sizes_by_prefix(variables)
    seen: set[tuple[str, ...]] = set()
    layers = []
    for path, kind, shape in calls:
        if path not in seen:
            seen.add(path)
            layers.append(LayerSummary("/".join(path), kind, shape, sizes.get(path, 0)))
    params = variables.get("params", {})
    stats = variables.get("batch_stats", {})
    leaves = jax.tree.leaves(params) + jax.tree.leaves(stats)
    return ModelSummary(
        name=name,
        total=_size(params) + _size(stats),
        trainable=_size(params),
        non_trainable=_size(stats),
        layers=layers,
        shapes=[list(leaf.shape) for leaf in leaves],
    )
