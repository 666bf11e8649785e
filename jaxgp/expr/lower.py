"""Lowering trees to JAX: a closure per tree (`lower`) and one interpreter for all (`lower_batch`).

The loss of a tree is the mean of its element-wise value over every batch and class element
(the NGL authors' reduction).

The interpreter runs a `Program`: a tree encoded as fixed-size arrays of `max_nodes` rows,
children before parents (the reversed prefix order), padded at the front with unused zero
constants so that the root is always the last row. Because the program is data, evaluating
any other list of trees of the same count and shapes reuses the compiled code.

Forward, a `lax.scan` over the rows writes each node's [B, C] value into a buffer. The
gradient is a custom VJP that walks the rows in reverse and accumulates cotangents into the
children's rows. Plain reverse-mode through a scan that reads a carried register file
would, at every step, transpose each read into an update of a zero buffer of the whole
file, so its cost would grow with the square of `max_nodes`; here each step costs O(B*C).
The local partial derivatives come from `jax.jvp` of the primitives' own functions, so both
lowerings differentiate exactly the same protected semantics.
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
    lhs = np.zeros(max_nodes, np.int32)
    rhs = np.zeros(max_nodes, np.int32)
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
                rhs[r] = row[kids[-1]]
        else:
            constant[r] = node
    return Program(opcode, lhs, rhs, constant)


def encode_batch(trees: Sequence[Tree], max_nodes: int = NODE_CAP) -> Program:
    """K trees as one `Program` with a leading K axis (NumPy arrays)."""
    programs = [encode(tree, max_nodes) for tree in trees]
    return Program(*(np.stack(field) for field in zip(*programs, strict=True)))


# -- the interpreter ------------------------------------------------------------------------
def _operator_values(a: jnp.ndarray, b: jnp.ndarray) -> list[jnp.ndarray]:
    return [p.fn(a, b) if p.arity == 2 else p.fn(a) for p in PRIMITIVES.values()]


def _operator_partials(a: jnp.ndarray, b: jnp.ndarray) -> tuple[list, list]:
    """d op / d a and d op / d b of every primitive, element-wise, at (a, b)."""
    ones, zeros = jnp.ones_like(a), jnp.zeros_like(a)
    d_lhs, d_rhs = [], []
    for p in PRIMITIVES.values():
        if p.arity == 2:
            d_lhs.append(jax.jvp(p.fn, (a, b), (ones, zeros))[1])
            d_rhs.append(jax.jvp(p.fn, (a, b), (zeros, ones))[1])
        else:
            d_lhs.append(jax.jvp(p.fn, (a,), (ones,))[1])
            d_rhs.append(zeros)
    return d_lhs, d_rhs


def _forward(program: Program, y_pred: jnp.ndarray, y_true: jnp.ndarray) -> jnp.ndarray:
    """Every row's value: [max_nodes, B, C]."""
    max_nodes = program.opcode.shape[-1]
    buffer = jnp.zeros((max_nodes, *y_pred.shape), y_pred.dtype)

    def step(buffer, row):
        index, opcode, lhs, rhs, constant = row
        a, b = buffer[lhs], buffer[rhs]
        leaves = [jnp.full_like(y_pred, constant), y_pred, y_true]
        value = jax.lax.select_n(opcode, *leaves, *_operator_values(a, b))
        return jax.lax.dynamic_update_index_in_dim(buffer, value, index, 0), None

    rows = (jnp.arange(max_nodes), *program)
    buffer, _ = jax.lax.scan(step, buffer, rows)
    return buffer


@jax.custom_vjp
def tree_values(program: Program, y_pred: jnp.ndarray, y_true: jnp.ndarray) -> jnp.ndarray:
    """The element-wise value [B, C] of one encoded tree."""
    return _forward(program, y_pred, y_true)[-1]


def _tree_values_fwd(program, y_pred, y_true):
    buffer = _forward(program, y_pred, y_true)
    return buffer[-1], (program, buffer)


def _tree_values_bwd(residuals, cotangent):
    program, buffer = residuals
    max_nodes = program.opcode.shape[-1]
    grads = jnp.zeros_like(buffer).at[-1].set(cotangent)
    zero = jnp.zeros_like(cotangent)

    def step(carry, row):
        grads, d_pred, d_true = carry
        index, opcode, lhs, rhs = row
        g = grads[index]
        d_lhs, d_rhs = _operator_partials(buffer[lhs], buffer[rhs])
        leaves = [zero, zero, zero]
        grads = grads.at[lhs].add(g * jax.lax.select_n(opcode, *leaves, *d_lhs))
        grads = grads.at[rhs].add(g * jax.lax.select_n(opcode, *leaves, *d_rhs))
        d_pred = d_pred + jnp.where(opcode == _CODE["y_pred"], g, 0.0)
        d_true = d_true + jnp.where(opcode == _CODE["y_true"], g, 0.0)
        return (grads, d_pred, d_true), None

    rows = (jnp.arange(max_nodes), program.opcode, program.lhs, program.rhs)
    (_, d_pred, d_true), _ = jax.lax.scan(step, (grads, zero, zero), rows, reverse=True)
    return None, d_pred, d_true


tree_values.defvjp(_tree_values_fwd, _tree_values_bwd)


def program_loss(program: Program, y_pred: jnp.ndarray, y_true: jnp.ndarray) -> jnp.ndarray:
    """Mean loss of one encoded tree on a batch; vmap it over a leading K axis of `program`."""
    y_pred = jnp.asarray(y_pred, jnp.float32)
    y_true = jnp.asarray(y_true, jnp.float32)
    return jnp.mean(tree_values(program, y_pred, y_true))


@partial(jax.jit, static_argnames="shared")
def _batched_loss(program: Program, y_pred, y_true, shared: bool) -> jnp.ndarray:
    in_axes = (0, None, None) if shared else (0, 0, 0)
    return jax.vmap(program_loss, in_axes=in_axes)(program, y_pred, y_true)


def lower_batch(
    trees: Sequence[Tree], max_nodes: int = NODE_CAP
) -> Callable[[jnp.ndarray, jnp.ndarray], jnp.ndarray]:
    """`f(y_pred, y_true) -> [K]`: the K trees' losses through one compiled interpreter.

    `y_pred` and `y_true` are either shared, of shape [B, C], or one per tree, [K, B, C].
    """
    program = Program(*(jnp.asarray(field) for field in encode_batch(trees, max_nodes)))
    k = len(trees)

    def loss(y_pred: jnp.ndarray, y_true: jnp.ndarray) -> jnp.ndarray:
        y_pred, y_true = jnp.asarray(y_pred), jnp.asarray(y_true)
        shared = y_pred.ndim == 2
        if not shared and y_pred.shape[0] != k:
            raise ValueError(f"y_pred has {y_pred.shape[0]} rows for {k} trees")
        if y_true.ndim != y_pred.ndim:
            y_true = jnp.broadcast_to(y_true, y_pred.shape)
        return _batched_loss(program, y_pred, y_true, shared)

    return loss
