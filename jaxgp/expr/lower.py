"""Lowering trees to JAX: a closure per tree (`lower`) and one interpreter for all (`lower_batch`).

The loss of a tree is the mean of its element-wise value over every batch and class element
(the NGL authors' reduction).

The interpreter runs a `Program`: a tree encoded as fixed-size arrays of `max_nodes` rows,
children before parents (the reversed prefix order), padded at the front with unused zero
constants so that the root is always the last row. Because the program is data, evaluating
any other list of trees of the same count and shapes reuses the compiled code.

Forward, a loop from the first real row writes each node's [B, C] value into a buffer,
choosing the primitive with `lax.switch`. The gradient is a custom VJP: a second loop walks
the rows in reverse and writes each child's cotangent into its row. Plain reverse mode
through a loop that reads a carried register file would transpose every read into an
update of a zero buffer of the whole file, so its cost would grow with the square of
`max_nodes`; here each row costs O(B*C), and both loops skip the padding rows.

K trees run either under `vmap` (the switch becomes a select that computes every primitive
at every row, in one fused kernel for all K trees) or under `lax.map` (a real conditional
per row that runs one primitive); see `default_strategy`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from functools import partial
from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from jaxgp.errors import ExpressionError
from jaxgp.expr.primitives import PRIMITIVES
from jaxgp.expr.tree import Tree

NODE_CAP = 64
"""Default number of rows of a program: the largest tree the interpreter runs."""

OPCODES: tuple[str, ...] = ("const", "y_pred", "y_true", *PRIMITIVES)
_CODE = {name: code for code, name in enumerate(OPCODES)}
_FIRST_OP = 3


class Program(NamedTuple):
    """Trees as arrays; every field has shape [..., max_nodes] (a leading K axis for K trees)."""

    opcode: jnp.ndarray  # int32
    lhs: jnp.ndarray  # int32: row of the first operand
    rhs: jnp.ndarray  # int32: row of the second operand
    constant: jnp.ndarray  # float32


# -- the closure ----------------------------------------------------------------------------
def _closure(tree: Tree, index: int) -> Callable[[jnp.ndarray, jnp.ndarray], jnp.ndarray]:
    node = tree.nodes[index]
    if not isinstance(node, str):
        value = jnp.float32(node)
        return lambda y_pred, y_true: value
    if node == "y_pred":
        return lambda y_pred, y_true: y_pred
    if node == "y_true":
        return lambda y_pred, y_true: y_true
    fn = PRIMITIVES[node].fn
    kids = [_closure(tree, k) for k in tree.children(index)]
    return lambda y_pred, y_true: fn(*(kid(y_pred, y_true) for kid in kids))


def lower(tree: Tree) -> Callable[[jnp.ndarray, jnp.ndarray], jnp.ndarray]:
    """A jitted `f(y_pred[B, C], y_true[B, C]) -> scalar` for one tree (one compile per tree)."""
    elementwise = _closure(tree, 0)

    @jax.jit
    def loss(y_pred: jnp.ndarray, y_true: jnp.ndarray) -> jnp.ndarray:
        y_pred = jnp.asarray(y_pred, jnp.float32)
        y_true = jnp.asarray(y_true, jnp.float32)
        values = jnp.broadcast_to(elementwise(y_pred, y_true), y_pred.shape)
        return jnp.mean(values)

    return loss


# -- the encoding ---------------------------------------------------------------------------
def encode(tree: Tree, max_nodes: int = NODE_CAP) -> Program:
    """One tree as a `Program` of `max_nodes` rows (NumPy arrays)."""
    n = len(tree)
    if n > max_nodes:
        raise ExpressionError(
            f"tree has {n} nodes but the interpreter's node cap is {max_nodes}: {tree}"
        )
    opcode = np.zeros(max_nodes, np.int32)
    lhs = np.arange(max_nodes, dtype=np.int32)  # a missing operand points at its own row
    rhs = np.arange(max_nodes, dtype=np.int32)
    constant = np.zeros(max_nodes, np.float32)
    offset = max_nodes - n
    row = [offset + n - 1 - i for i in range(n)]  # prefix index -> row (children first)
    for i, node in enumerate(tree.nodes):
        r = row[i]
        if isinstance(node, str):
            opcode[r] = _CODE[node]
            kids = tree.children(i)
            if kids:
                lhs[r] = row[kids[0]]
            if len(kids) == 2:
                rhs[r] = row[kids[1]]
        else:
            constant[r] = node
    return Program(opcode, lhs, rhs, constant)


def encode_batch(trees: Sequence[Tree], max_nodes: int = NODE_CAP) -> Program:
    """K trees as one `Program` with a leading K axis (NumPy arrays)."""
    programs = [encode(tree, max_nodes) for tree in trees]
    return Program(*(np.stack(field) for field in zip(*programs, strict=True)))


# -- the interpreter ------------------------------------------------------------------------
def _leaf_branches() -> list:
    return [
        lambda a, b, constant, y_pred, y_true: jnp.full_like(y_pred, constant),
        lambda a, b, constant, y_pred, y_true: y_pred,
        lambda a, b, constant, y_pred, y_true: y_true,
    ]


def _value_branch(primitive):
    if primitive.arity == 2:
        return lambda a, b, constant, y_pred, y_true: primitive.fn(a, b)
    return lambda a, b, constant, y_pred, y_true: primitive.fn(a)


def _cotangent_branch(primitive):
    """Row cotangent g -> (to operand a, to operand b, to y_pred, to y_true).

    The local derivatives come from the primitive's own JVP, so they are exactly those of
    the protected function that the closure differentiates.
    """

    def cotangents(g, a, b):
        ones, zeros = jnp.ones_like(a), jnp.zeros_like(a)
        if primitive.arity == 1:
            return g * jax.jvp(primitive.fn, (a,), (ones,))[1], zeros, zeros, zeros
        d_a = jax.jvp(primitive.fn, (a, b), (ones, zeros))[1]
        d_b = jax.jvp(primitive.fn, (a, b), (zeros, ones))[1]
        return g * d_a, g * d_b, zeros, zeros

    return cotangents


def _leaf_cotangents() -> list:
    def zeros(g):
        return jnp.zeros_like(g)

    return [
        lambda g, a, b: (zeros(g), zeros(g), zeros(g), zeros(g)),
        lambda g, a, b: (zeros(g), zeros(g), g, zeros(g)),
        lambda g, a, b: (zeros(g), zeros(g), zeros(g), g),
    ]


_VALUE_BRANCHES = _leaf_branches() + [_value_branch(p) for p in PRIMITIVES.values()]
_COTANGENT_BRANCHES = _leaf_cotangents() + [_cotangent_branch(p) for p in PRIMITIVES.values()]


def _first_row(program: Program) -> jnp.ndarray:
    """Rows before this one are padding: the loops start here, so cost follows tree size."""
    return jnp.argmax((program.opcode != 0) | (program.constant != 0)).astype(jnp.int32)


def _forward(program: Program, y_pred: jnp.ndarray, y_true: jnp.ndarray) -> jnp.ndarray:
    """Every row's value: [max_nodes, B, C] (padding rows stay zero)."""
    program = Program(*(jnp.asarray(field) for field in program))
    max_nodes = program.opcode.shape[-1]
    buffer = jnp.zeros((max_nodes, *y_pred.shape), y_pred.dtype)

    def body(row, buffer):
        a, b = buffer[program.lhs[row]], buffer[program.rhs[row]]
        operands = (a, b, program.constant[row], y_pred, y_true)
        value = jax.lax.switch(program.opcode[row], _VALUE_BRANCHES, *operands)
        return jax.lax.dynamic_update_index_in_dim(buffer, value, row, 0)

    return jax.lax.fori_loop(_first_row(program), max_nodes, body, buffer)


@jax.custom_vjp
def tree_values(program: Program, y_pred: jnp.ndarray, y_true: jnp.ndarray) -> jnp.ndarray:
    """The element-wise value [B, C] of one encoded tree."""
    return _forward(program, y_pred, y_true)[-1]


def _tree_values_fwd(program, y_pred, y_true):
    buffer = _forward(program, y_pred, y_true)
    return buffer[-1], (program, buffer)


def _tree_values_bwd(residuals, cotangent):
    program, buffer = residuals
    program = Program(*(jnp.asarray(field) for field in program))
    max_nodes = program.opcode.shape[-1]
    first = _first_row(program)
    grads = jnp.zeros_like(buffer).at[-1].set(cotangent)
    zero = jnp.zeros_like(cotangent)

    def body(step, carry):
        grads, d_pred, d_true = carry
        row = max_nodes - 1 - step
        lhs, rhs = program.lhs[row], program.rhs[row]
        # This row's cotangent enters the conditional as an operand, which materialises it
        # before `grads` is written: read inside the writes, XLA would copy the whole
        # buffer at every row to keep the old value alive.
        operands = (grads[row], buffer[lhs], buffer[rhs])
        g_a, g_b, g_pred, g_true = jax.lax.switch(
            program.opcode[row], _COTANGENT_BRANCHES, *operands
        )
        # Every row has one parent, so its cotangent is written once, never accumulated
        # (no read-modify-write). A missing operand points at the row itself, whose
        # cotangent has just been read.
        grads = jax.lax.dynamic_update_index_in_dim(grads, g_b, rhs, 0)
        grads = jax.lax.dynamic_update_index_in_dim(grads, g_a, lhs, 0)
        return grads, d_pred + g_pred, d_true + g_true

    carry = (grads, zero, zero)
    _, d_pred, d_true = jax.lax.fori_loop(0, max_nodes - first, body, carry)
    return None, d_pred, d_true


tree_values.defvjp(_tree_values_fwd, _tree_values_bwd)


def program_loss(program: Program, y_pred: jnp.ndarray, y_true: jnp.ndarray) -> jnp.ndarray:
    """Mean loss of one encoded tree on a batch; vmap it over a leading K axis of `program`."""
    y_pred = jnp.asarray(y_pred, jnp.float32)
    y_true = jnp.asarray(y_true, jnp.float32)
    return jnp.mean(tree_values(program, y_pred, y_true))


STRATEGIES = ("vmap", "map")


def default_strategy() -> str:
    """How to run K loss trees: `map` on a CPU, `vmap` on accelerators.

    Under `vmap` the opcode is batched, so `switch` becomes a select that computes every
    primitive at every row: wasted arithmetic, but one fused kernel per row for all K
    trees. On a CPU that arithmetic dominates (benchmarks/interpreter.py); on a GPU a
    conditional per row and tree would cost a kernel launch and a host round trip each.
    (Models always default to `vmap`: see `jaxgp.train.config.TrainConfig`.)
    """
    return "map" if jax.default_backend() == "cpu" else "vmap"


def over_candidates(fn: Callable, in_axes: Sequence[int | None], strategy: str) -> Callable:
    """`fn` mapped over a leading K axis of the arguments whose axis is 0 (None: shared).

    With K = 1 `fn` is applied to the one candidate directly, under either strategy: no
    batching rules, no loop (XLA's CPU backend runs convolution gradients inside a loop
    naively; see `jaxgp.train.step.default_epoch_loop`).
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

    batched = jax.vmap(fn, in_axes=axes) if strategy == "vmap" else looped

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


@partial(jax.jit, static_argnames=("shared", "strategy"))
def _batched_loss(program: Program, y_pred, y_true, shared: bool, strategy: str) -> jnp.ndarray:
    in_axes = (0, None, None) if shared else (0, 0, 0)
    return over_candidates(program_loss, in_axes, strategy)(program, y_pred, y_true)


def lower_batch(
    trees: Sequence[Tree], max_nodes: int = NODE_CAP, strategy: str | None = None
) -> Callable[[jnp.ndarray, jnp.ndarray], jnp.ndarray]:
    """`f(y_pred, y_true) -> [K]`: the K trees' losses through one compiled interpreter.

    `y_pred` and `y_true` are either shared, of shape [B, C], or one per tree, [K, B, C].
    `strategy` is how the K trees are run (`default_strategy()` when None).
    """
    program = Program(*(jnp.asarray(field) for field in encode_batch(trees, max_nodes)))
    k = len(trees)
    strategy = strategy or default_strategy()

    def loss(y_pred: jnp.ndarray, y_true: jnp.ndarray) -> jnp.ndarray:
        y_pred, y_true = jnp.asarray(y_pred), jnp.asarray(y_true)
        shared = y_pred.ndim == 2
        if not shared and y_pred.shape[0] != k:
            raise ValueError(f"y_pred has {y_pred.shape[0]} rows for {k} trees")
        if y_true.ndim != y_pred.ndim:
            y_true = jnp.broadcast_to(y_true, y_pred.shape)
        return _batched_loss(program, y_pred, y_true, shared, strategy)

    return loss
