"""Lowering trees to JAX: a closure per tree (`lower`) and one interpreter for all (`lower_batch`).

The loss of a tree is the mean of its element-wise value over every batch and class element
(the NGL authors' reduction).

`lower` turns one tree into a Python closure that `jit` compiles (one compilation per tree).
`lower_batch` encodes K trees as one `Program` (`jaxgp.expr.program`) and runs them through
the interpreter (`jaxgp.expr.interpreter`), compiled once for any K trees. A strategy says
how the K trees run: `vmap` (one batched computation, the interpreter's select form: no
loop and no conditional) or `map` (one tree after another inside the program, the switch
form: the least arithmetic, with a conditional per row); see `default_strategy`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from functools import partial

import jax
import jax.numpy as jnp

from jaxgp.choices import Strategy
from jaxgp.expr.interpreter import Form, program_loss, uniform_prior
from jaxgp.expr.language import Language, get_language, smallest_language
from jaxgp.expr.primitives import CLASS_REDUCTIONS, PRIMITIVES
from jaxgp.expr.program import NODE_CAP, Program, encode_batch
from jaxgp.expr.tree import Tree
from jaxgp.policy import STRATEGIES, default_loss_strategy

# -- the closure ----------------------------------------------------------------------------
Elementwise = Callable[[jnp.ndarray, jnp.ndarray, jnp.ndarray], jnp.ndarray]


def _closure(tree: Tree, index: int) -> Elementwise:
    node = tree.nodes[index]
    if not isinstance(node, str):
        value = jnp.float32(node)
        return lambda y_pred, y_true, prior: value
    if node == "y_pred":
        return lambda y_pred, y_true, prior: y_pred
    if node == "y_true":
        return lambda y_pred, y_true, prior: y_true
    if node == "prior":
        return lambda y_pred, y_true, prior: prior
    fn = PRIMITIVES[node].fn
    kids = [_closure(tree, k) for k in tree.children(index)]
    if node in CLASS_REDUCTIONS:  # a sum over classes needs its operand at full shape
        (kid,) = kids
        return lambda y_pred, y_true, prior: fn(
            jnp.broadcast_to(kid(y_pred, y_true, prior), y_pred.shape)
        )
    return lambda y_pred, y_true, prior: fn(*(kid(y_pred, y_true, prior) for kid in kids))


def lower(tree: Tree) -> Callable[..., jnp.ndarray]:
    """A jitted `f(y_pred[B, C], y_true[B, C], prior[C] = None) -> scalar` for one tree (one
    compile per tree); `prior` is what the tree's `prior` leaves read (None: uniform, 1/C)."""
    elementwise = _closure(tree, 0)

    @jax.jit
    def loss(y_pred: jnp.ndarray, y_true: jnp.ndarray, prior=None) -> jnp.ndarray:
        y_pred = jnp.asarray(y_pred, jnp.float32)
        y_true = jnp.asarray(y_true, jnp.float32)
        prior = _prior_or_uniform(prior, y_pred.shape[-1])
        values = jnp.broadcast_to(elementwise(y_pred, y_true, prior), y_pred.shape)
        return jnp.mean(values)

    return loss


def _prior_or_uniform(prior, num_classes: int) -> jnp.ndarray:
    if prior is None:
        return uniform_prior(num_classes)
    return jnp.asarray(prior, jnp.float32)


FORM_OF_STRATEGY = {Strategy.VMAP: Form.SELECT, Strategy.MAP: Form.SWITCH}
"""The interpreter form each strategy runs a tree in (see `jaxgp.expr.interpreter`)."""


def default_strategy() -> str:
    """How to run K loss trees by default on this backend (`jaxgp.policy`)."""
    return default_loss_strategy()


def strategy_loss(fn: Callable, strategy: str, language: Language | str) -> Callable:
    """`fn(..., form=..., language=...)` with the form that `strategy` runs a tree in and
    the interpreter of `language`."""
    return partial(fn, form=FORM_OF_STRATEGY[strategy], language=get_language(language))


def over_candidates(fn: Callable, in_axes: Sequence[int | None], strategy: str) -> Callable:
    """`fn` mapped over a leading K axis of the arguments whose axis is 0 (None: shared).

    With K = 1 `fn` is applied to the one candidate directly, under either strategy: no
    batching rules, no loop (XLA's CPU backend runs convolution gradients inside a loop
    naively; see `jaxgp.policy`).
    """
    if strategy not in STRATEGIES:
        raise ValueError(f"unknown strategy {strategy!r}; valid: {', '.join(STRATEGIES)}")
    axes = tuple(in_axes)

    def looped(*args):
        per_candidate = [arg for arg, axis in zip(args, axes, strict=True) if axis is not None]

        def one(sliced):
            rows = iter(sliced)
            pairs = zip(args, axes, strict=True)
            return fn(*(next(rows) if axis is not None else arg for arg, axis in pairs))

        return jax.lax.map(one, per_candidate)

    batched = jax.vmap(fn, in_axes=axes) if strategy == Strategy.VMAP else looped

    def mapped(*args):
        sizes = {
            leaf.shape[0]
            for arg, axis in zip(args, axes, strict=True)
            if axis is not None
            for leaf in jax.tree.leaves(arg)
        }
        if sizes != {1}:
            return batched(*args)
        alone = [
            jax.tree.map(lambda leaf: leaf[0], arg) if axis is not None else arg
            for arg, axis in zip(args, axes, strict=True)
        ]
        return jax.tree.map(lambda leaf: leaf[None], fn(*alone))

    return mapped


@partial(jax.jit, static_argnames=("shared", "strategy", "language"))
def _batched_loss(
    program: Program, y_pred, y_true, prior, shared: bool, strategy: str, language: Language
) -> jnp.ndarray:
    in_axes = (0, None, None, None) if shared else (0, 0, 0, None)
    loss = strategy_loss(program_loss, strategy, language)
    return over_candidates(loss, in_axes, strategy)(program, y_pred, y_true, prior)


def lower_batch(
    trees: Sequence[Tree], max_nodes: int = NODE_CAP, strategy: str | None = None
) -> Callable[..., jnp.ndarray]:
    """`f(y_pred, y_true, prior=None) -> [K]`: the K trees' losses through one compiled
    interpreter, that of the smallest language that says them all.

    `y_pred` and `y_true` are either shared, of shape [B, C], or one per tree, [K, B, C];
    `prior` [C] is what `prior` leaves read (None: uniform). `strategy` is how the K trees
    are run (`default_strategy()` when None).
    """
    program = Program(*(jnp.asarray(field) for field in encode_batch(trees, max_nodes)))
    k = len(trees)
    strategy = strategy or default_strategy()
    language = smallest_language(trees)

    def loss(y_pred: jnp.ndarray, y_true: jnp.ndarray, prior=None) -> jnp.ndarray:
        y_pred, y_true = jnp.asarray(y_pred), jnp.asarray(y_true)
        shared = y_pred.ndim == 2
        if not shared and y_pred.shape[0] != k:
            raise ValueError(f"y_pred has {y_pred.shape[0]} rows for {k} trees")
        if y_true.ndim != y_pred.ndim:
            y_true = jnp.broadcast_to(y_true, y_pred.shape)
        prior = _prior_or_uniform(prior, y_pred.shape[-1])
        return _batched_loss(program, y_pred, y_true, prior, shared, strategy, language)

    return loss
