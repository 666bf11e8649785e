"""Named losses (the baselines) and the encoding of a list of losses for the batched trainer.

Named losses that are trees are defined by their text and run through the interpreter like
any evolved tree: `ngl` (the NGL authors' formula) and `mse` in the thesis's language, and
in the priors language (`jaxgp.expr.language`) the long-tail losses of the literature:

- `cb`: class-balanced CE, `neg(y_true * log(y_pred)) / prior`; its mean over the B*C
  elements is the batch mean of -w_y log p_y with w_c = 1 / (C pi_c), the inverse-frequency
  weights whose mean over the training split's examples is 1;
- `la`: logit-adjusted CE at tau 1 (Menon et al. 2021; balanced softmax, Ren et al. 2020),
  `neg(y_true * log(y_pred * prior / csum(y_pred * prior)))`, i.e. -log softmax(z +
  log pi)_y, over the C elements of each example.

On a balanced split `cb` is CE and `la` is CE / C (a tree's mean over the C classes; the
weights 1 / (C pi) of `cb` bring the factor back), scales Adam does not see. The others
need a reduction the tree languages do not have and are JAX functions:

- `ce`: Keras's `categorical_crossentropy` on probabilities: each row renormalised to sum
  to 1, clipped to [1e-7, 1 - 1e-7], `-sum(y_true * log(p))` per example, mean over the batch.
- `focal`: Keras's `categorical_focal_crossentropy` (alpha 0.25, gamma 2) with the same
  renormalisation and clipping, summed over classes, mean over the batch.
- `fpl`: the False Positive Loss `a_T * -log(p_T) + a_F * -log(1 - p_F)`, with `p_F` the
  highest wrong-class probability, in its per-minibatch variant `a_i = (m - m_i) / m` (which
  needs no dataset statistics); `false_positive_loss(..., class_weights=a)` takes the
  dataset-frequency weights `a_i = (N - N_i) / N` instead.

A candidate list is encoded as a `LossBatch`: a kind per candidate (0 for a tree, else the
1-based index of a function loss), the trees' programs and the class priors they read (the
training split's). `loss_value` computes every kind
and selects one, so a list mixing trees and named losses still runs through one compiled
step; the named losses cost next to nothing beside a model.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from jaxgp.errors import ConfigError, ExpressionError
from jaxgp.expr.interpreter import Form, tree_values
from jaxgp.expr.language import DEFAULT_LANGUAGE, Language
from jaxgp.expr.parse import parse
from jaxgp.expr.primitives import LEAVES
from jaxgp.expr.program import NODE_CAP, Program, encode
from jaxgp.expr.tree import Tree

EPSILON = 1e-7
"""Keras's backend epsilon, used for clipping probabilities."""


def _normalised(y_pred: jnp.ndarray) -> jnp.ndarray:
    y_pred = y_pred / jnp.sum(y_pred, axis=-1, keepdims=True)
    return jnp.clip(y_pred, EPSILON, 1.0 - EPSILON)


def _mean(per_example: jnp.ndarray, weights: jnp.ndarray | None) -> jnp.ndarray:
    if weights is None:
        return jnp.mean(per_example)
    return jnp.sum(weights * per_example) / jnp.maximum(jnp.sum(weights), 1.0)


def categorical_crossentropy(
    y_pred: jnp.ndarray, y_true: jnp.ndarray, weights: jnp.ndarray | None = None
) -> jnp.ndarray:
    """Keras's categorical_crossentropy on probabilities: each row renormalised to sum to 1,
    clipped to [1e-7, 1 - 1e-7], -sum(y_true * log(p)) per example, mean over the batch."""
    p = _normalised(y_pred)
    return _mean(-jnp.sum(y_true * jnp.log(p), axis=-1), weights)


def focal_loss(
    y_pred: jnp.ndarray,
    y_true: jnp.ndarray,
    weights: jnp.ndarray | None = None,
    alpha: float = 0.25,
    gamma: float = 2.0,
) -> jnp.ndarray:
    """Keras's categorical_focal_crossentropy (alpha 0.25, gamma 2): sum over classes of
    -alpha * (1 - p)^gamma * y_true * log(p) on renormalised, clipped p, mean over the batch."""
    p = _normalised(y_pred)
    weight = alpha * (1.0 - p) ** gamma
    return _mean(jnp.sum(weight * -y_true * jnp.log(p), axis=-1), weights)


def false_positive_loss(
    y_pred: jnp.ndarray,
    y_true: jnp.ndarray,
    weights: jnp.ndarray | None = None,
    class_weights: jnp.ndarray | None = None,
) -> jnp.ndarray:
    """The False Positive Loss a_T * -log(p_T) + a_F * -log(1 - p_F), p_F the highest
    wrong-class probability, a_i = (m - m_i) / m per minibatch (or `class_weights`)."""
    p = _normalised(y_pred)
    if class_weights is None:
        counted = y_true if weights is None else y_true * weights[:, None]
        m = jnp.sum(counted)
        class_weights = (m - jnp.sum(counted, axis=0)) / m
    wrong = jnp.where(y_true > 0.5, 0.0, p)
    false_class = jnp.argmax(wrong, axis=-1)
    p_true = jnp.sum(y_true * p, axis=-1)
    p_false = jnp.take_along_axis(p, false_class[:, None], axis=-1)[:, 0]
    a_true = jnp.sum(y_true * class_weights, axis=-1)
    a_false = class_weights[false_class]
    return _mean(a_true * -jnp.log(p_true) + a_false * -jnp.log(1.0 - p_false), weights)


TREE_LOSSES: dict[str, str] = {
    "ngl": "exp(2.4092 - y_pred * (1.0 + y_true)) - cos(cos(sin(y_pred)))",
    "mse": "(y_pred - y_true) * (y_pred - y_true)",
    "cb": "neg(y_true * log(y_pred)) / prior",
    "la": "neg(y_true * log(y_pred * prior / csum(y_pred * prior)))",
}
FUNCTION_LOSSES: dict[str, Callable[..., jnp.ndarray]] = {
    "ce": categorical_crossentropy,
    "fpl": false_positive_loss,
    "focal": focal_loss,
}
NAMED_LOSSES = ("ce", "ngl", "fpl", "mse", "focal", "cb", "la")
_IDENTIFIER = re.compile(r"^\s*[A-Za-z_][A-Za-z_0-9]*\s*$")


@dataclass(frozen=True)
class LossSpec:
    """A loss the trainer can use: a named function loss, or a tree (named or evolved)."""

    label: str
    tree: Tree | None = None

    @property
    def kind(self) -> int:
        return 0 if self.tree is not None else 1 + list(FUNCTION_LOSSES).index(self.label)


def resolve_loss(loss: str | Tree | LossSpec) -> LossSpec:
    """A named loss or an expression (text or tree) as a `LossSpec`."""
    if isinstance(loss, LossSpec):
        return loss
    if isinstance(loss, Tree):
        return LossSpec(str(loss), loss)
    name = loss.strip()
    if name in FUNCTION_LOSSES:
        return LossSpec(name)
    if name in TREE_LOSSES:
        return LossSpec(name, parse(TREE_LOSSES[name]))
    if _IDENTIFIER.match(name) and name not in LEAVES:
        raise ConfigError(
            f"unknown loss {name!r}; valid named losses: {', '.join(NAMED_LOSSES)}, "
            "or an expression over y_pred and y_true such as 'neg(y_true * log(y_pred))'"
        )
    try:
        tree = parse(loss)
    except ExpressionError as error:
        if "," not in name:
            raise
        raise ExpressionError(
            f"{error} ({name!r} is read as one expression: give each loss on its own, "
            f"e.g. one per --loss; named losses: {', '.join(NAMED_LOSSES)})"
        ) from error
    return LossSpec(str(tree), tree)


class LossBatch(NamedTuple):
    """K losses as data: `kind` [K], the trees' `program` (zeros for function losses) and
    the class `prior` [K, C] their `prior` leaves read."""

    kind: np.ndarray
    program: Program
    prior: np.ndarray


def encode_losses(
    losses: Sequence[LossSpec], max_nodes: int = NODE_CAP, *, prior: np.ndarray
) -> LossBatch:
    """`losses` as data, each reading the class priors `prior` [C] (the training split's)."""
    empty = Tree.leaf(0.0)
    programs = [encode(spec.tree or empty, max_nodes) for spec in losses]
    program = Program(*(np.stack(field) for field in zip(*programs, strict=True)))
    priors = np.tile(np.asarray(prior, np.float32), (len(losses), 1))
    return LossBatch(np.array([spec.kind for spec in losses], np.int32), program, priors)


def loss_value(
    kind: jnp.ndarray,
    program: Program,
    prior: jnp.ndarray,
    y_pred: jnp.ndarray,
    y_true: jnp.ndarray,
    weights: jnp.ndarray | None = None,
    *,
    form: Form = Form.SELECT,
    language: Language | str = DEFAULT_LANGUAGE,
) -> jnp.ndarray:
    """The loss of one candidate (kind, program and prior without a K axis) on a batch.

    `weights` [B] (0 for padding examples) makes it the weighted mean over examples; a
    tree's mean over all elements is the mean over examples of its mean over classes.
    `form` and `language` are the interpreter's (`jaxgp.expr.interpreter`).
    """
    y_pred = jnp.asarray(y_pred, jnp.float32)
    y_true = jnp.asarray(y_true, jnp.float32)
    values = tree_values(program, y_pred, y_true, prior, form, language)
    per_example = jnp.mean(values, axis=-1)
    values = [_mean(per_example, weights)]
    values += [fn(y_pred, y_true, weights) for fn in FUNCTION_LOSSES.values()]
    return jax.lax.select_n(kind, *values)
