"""The validity filter: is a tree numerically usable as a loss?

Probes: softmax of standard-normal logits for a batch of 64, with random one-hot labels,
for 10 and for 100 classes (fixed seeds, so a verdict never changes). A tree is rejected when
on either probe its mean loss is not finite or its magnitude lies outside [1e-5, 1e5] (the
thesis's range), or when its gradient with respect to `y_pred` is not finite or is zero
everywhere, since such a loss cannot train a model. Trees are checked through the batched
interpreter in chunks of a fixed size, so the filter compiles once per process.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache, partial

import jax
import jax.numpy as jnp
import numpy as np

from jaxgp.expr.interpreter import program_loss
from jaxgp.expr.lower import FORM_OF_STRATEGY, default_strategy
from jaxgp.expr.program import NODE_CAP, Program, encode_batch
from jaxgp.expr.tree import Tree

LOSS_RANGE = (1e-5, 1e5)
PROBE_BATCH = 64
PROBE_CLASSES = (10, 100)
CHUNK = 16


@dataclass(frozen=True)
class Verdict:
    """Whether a tree passed the filter, and if not, why."""

    ok: bool
    reason: str = ""


@cache
def probes() -> tuple[tuple[np.ndarray, np.ndarray], ...]:
    """The probe inputs `(y_pred, y_true)` for each probe class count."""
    result = []
    for classes in PROBE_CLASSES:
        rng = np.random.default_rng(classes)
        logits = rng.standard_normal((PROBE_BATCH, classes)).astype(np.float32)
        y_pred = np.exp(logits - logits.max(-1, keepdims=True))
        y_pred /= y_pred.sum(-1, keepdims=True)
        y_true = np.eye(classes, dtype=np.float32)[rng.integers(classes, size=PROBE_BATCH)]
        result.append((y_pred, y_true))
    return tuple(result)


@jax.jit
def _probe_values(program: Program, y_pred: jnp.ndarray, y_true: jnp.ndarray):
    form = FORM_OF_STRATEGY[default_strategy()]

    def one(program):
        loss = partial(program_loss, form=form)
        value, grad = jax.value_and_grad(loss, argnums=1)(program, y_pred, y_true)
        return value, jnp.all(jnp.isfinite(grad)), jnp.max(jnp.abs(grad))

    return jax.vmap(one)(program)


def _judge(tree: Tree, results: list[tuple[float, bool, float]]) -> Verdict:
    if not tree.has_both_leaves():
        missing = "y_pred" if "y_pred" not in tree.nodes else "y_true"
        return Verdict(False, f"the tree does not contain {missing}")
    low, high = LOSS_RANGE
    for classes, (value, grad_finite, grad_max) in zip(PROBE_CLASSES, results, strict=True):
        probe = f"on the {classes}-class probe"
        if not np.isfinite(value):
            return Verdict(False, f"the loss is not finite {probe}")
        if not low <= abs(value) <= high:
            return Verdict(
                False, f"the loss magnitude {abs(value):.3g} {probe} is outside [{low:g}, {high:g}]"
            )
        if not grad_finite:
            return Verdict(False, f"the gradient with respect to y_pred is not finite {probe}")
        if grad_max == 0.0:
            return Verdict(
                False,
                f"the gradient with respect to y_pred is zero {probe}: it cannot train a model",
            )
    return Verdict(True)


def check_validity_batch(trees: Sequence[Tree], max_nodes: int = NODE_CAP) -> list[Verdict]:
    """The filter's verdict on each tree; a tree over the node cap is rejected as such."""
    verdicts: dict[int, Verdict] = {}
    fitting = []
    for i, tree in enumerate(trees):
        if len(tree) > max_nodes:
            verdicts[i] = Verdict(
                False, f"the tree has {len(tree)} nodes, over the cap {max_nodes}"
            )
        else:
            fitting.append(i)
    for start in range(0, len(fitting), CHUNK):
        chunk = fitting[start : start + CHUNK]
        padded = [trees[i] for i in chunk] + [trees[chunk[0]]] * (CHUNK - len(chunk))
        program = encode_batch(padded, max_nodes)
        per_probe = [
            [np.asarray(x) for x in _probe_values(program, y_pred, y_true)]
            for y_pred, y_true in probes()
        ]
        for row, i in enumerate(chunk):
            results = [(float(v[row]), bool(f[row]), float(m[row])) for v, f, m in per_probe]
            verdicts[i] = _judge(trees[i], results)
    return [verdicts[i] for i in range(len(trees))]


def check_validity(tree: Tree, max_nodes: int = NODE_CAP) -> Verdict:
    """The filter's verdict on one tree."""
    return check_validity_batch([tree], max_nodes)[0]
