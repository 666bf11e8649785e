"""The interpreter: an encoded tree's element-wise value and its gradient, in two forms.

Forward, each row's [B, C] value is written into a buffer of every row. The gradient is a
custom VJP: a second pass walks the rows in reverse and writes each child's cotangent into
its row. Plain reverse mode through a loop that reads a carried register file would
transpose every read into an update of a zero buffer of the whole file, so its cost would
grow with the square of `max_nodes`; here each row costs O(B*C). A row's local derivatives
come from its primitive's own JVP, so they are exactly those of the protected function
that the closure (`jaxgp.expr.lower.lower`) differentiates.

The two forms compute the same values:

- `select` computes every primitive at every row and selects the row's with its opcode
  (`lax.select_n`). The forward pass is fully unrolled over the `max_nodes` rows; the
  backward pass computes every row's local derivatives at once, then each row's cotangent
  as the product of the factors on its path to the root, by pointer jumping (log2 of
  `max_nodes` vectorised steps). The lowered loss is straight-line code, without a loop or
  a conditional at any K: on XLA:GPU every iteration of a loop whose trip count is data,
  and every conditional, copies a value to the host and waits for it. Under `vmap` this
  is what a `switch` becomes anyway.
- `switch` runs only the row's primitive (`lax.switch`, a real conditional per row) in
  loops that start at the first real row, so its cost follows the tree's size. On a CPU,
  where a conditional costs nothing, it did the least work: value and gradient of one
  tree (batch 64, 10 classes) took 0.14 ms after a 0.4 s compile, against 1.7 ms after a
  7.3 s compile in the select form (benchmarks/RESULTS.md).
"""

from __future__ import annotations

from functools import partial

import jax
import jax.numpy as jnp

from jaxgp.expr.primitives import PRIMITIVES
from jaxgp.expr.program import CODE, LEAF_OPCODES, Program

FORMS = ("select", "switch")


def _derivatives(primitive, a, b) -> tuple[jnp.ndarray, jnp.ndarray]:
    """A primitive's derivatives with respect to its first and second operand (zero for a
    unary one), from its own JVP: exactly those of the protected function."""
    ones, zeros = jnp.ones_like(a), jnp.zeros_like(a)
    if primitive.arity == 1:
        return jax.jvp(primitive.fn, (a,), (ones,))[1], zeros
    return (
        jax.jvp(primitive.fn, (a, b), (ones, zeros))[1],
        jax.jvp(primitive.fn, (a, b), (zeros, ones))[1],
    )


# -- the select form --------------------------------------------------------------------------
def _row_values(a, b, constant, y_pred, y_true) -> list[jnp.ndarray]:
    """Every opcode's value on a row's operands, in `OPCODES` order."""
    values = [jnp.broadcast_to(constant, y_pred.shape).astype(y_pred.dtype), y_pred, y_true]
    for primitive in PRIMITIVES.values():
        values.append(primitive.fn(a, b) if primitive.arity == 2 else primitive.fn(a))
    return values


def _row_derivatives(a, b) -> tuple[list[jnp.ndarray], list[jnp.ndarray]]:
    """Every opcode's derivative with respect to its first and its second operand."""
    zeros = jnp.zeros_like(a)
    to_a, to_b = [zeros] * len(LEAF_OPCODES), [zeros] * len(LEAF_OPCODES)
    for primitive in PRIMITIVES.values():
        d_a, d_b = _derivatives(primitive, a, b)
        to_a.append(d_a)
        to_b.append(d_b)
    return to_a, to_b


def _rows(program: Program) -> tuple:
    """The rows to scan over: (index, opcode, lhs, rhs, constant), each [max_nodes]."""
    program = Program(*(jnp.asarray(field) for field in program))
    return (jnp.arange(program.opcode.shape[-1], dtype=jnp.int32), *program)


def _select_forward(program: Program, y_pred, y_true) -> jnp.ndarray:
    rows = _rows(program)
    buffer = jnp.zeros((rows[0].shape[0], *y_pred.shape), y_pred.dtype)

    def body(buffer, row):
        index, opcode, lhs, rhs, constant = row
        a = jax.lax.dynamic_index_in_dim(buffer, lhs, keepdims=False)
        b = jax.lax.dynamic_index_in_dim(buffer, rhs, keepdims=False)
        value = jax.lax.select_n(opcode, *_row_values(a, b, constant, y_pred, y_true))
        return jax.lax.dynamic_update_index_in_dim(buffer, value, index, 0), None

    buffer, _ = jax.lax.scan(body, buffer, rows, unroll=True)
    return buffer


def _select_backward(program: Program, buffer, cotangent):
    program = Program(*(jnp.asarray(field) for field in program))
    n = program.opcode.shape[-1]
    rows = jnp.arange(n, dtype=jnp.int32)
    # Every row's derivatives with respect to its operands, all rows at once.
    a, b = buffer[program.lhs], buffer[program.rhs]
    which = jnp.broadcast_to(program.opcode[:, None, None], a.shape)
    to_a, to_b = (jax.lax.select_n(which, *d) for d in _row_derivatives(a, b))
    # Each row's parent, and the parent's derivative with respect to it (`factor`): a
    # missing operand points at its own row and is dropped. The root (the last row) is
    # its own parent with factor 1; padding rows hang from it with factor 0.
    lhs = jnp.where(program.lhs != rows, program.lhs, n)
    rhs = jnp.where(program.rhs != rows, program.rhs, n)
    parent = jnp.full(n, n - 1, jnp.int32)
    parent = parent.at[lhs].set(rows, mode="drop").at[rhs].set(rows, mode="drop")
    factor = jnp.zeros_like(buffer).at[lhs].set(to_a, mode="drop").at[rhs].set(to_b, mode="drop")
    factor = factor.at[n - 1].set(1.0)
    # A row's cotangent is the product of the factors on its path to the root: pointer
    # jumping doubles the length of every product at each of log2(n) steps.
    for _ in range(max(1, (n - 1).bit_length())):
        factor, parent = factor * factor[parent], parent[parent]
    grads = cotangent * factor

    def leaf_sum(name):
        mask = (program.opcode == CODE[name])[:, None, None]
        return jnp.sum(jnp.where(mask, grads, 0.0), axis=0)

    return leaf_sum("y_pred"), leaf_sum("y_true")


# -- the switch form --------------------------------------------------------------------------
def _leaf_values() -> list:
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
    """Row cotangent g -> (to operand a, to operand b, to y_pred, to y_true)."""

    def cotangents(g, a, b):
        d_a, d_b = _derivatives(primitive, a, b)
        zeros = jnp.zeros_like(a)
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


_VALUE_BRANCHES = _leaf_values() + [_value_branch(p) for p in PRIMITIVES.values()]
_COTANGENT_BRANCHES = _leaf_cotangents() + [_cotangent_branch(p) for p in PRIMITIVES.values()]


def _first_row(program: Program) -> jnp.ndarray:
    """Rows before this one are padding: the loops start here, so cost follows tree size."""
    return jnp.argmax((program.opcode != 0) | (program.constant != 0)).astype(jnp.int32)


def _switch_forward(program: Program, y_pred, y_true) -> jnp.ndarray:
    program = Program(*(jnp.asarray(field) for field in program))
    max_nodes = program.opcode.shape[-1]
    buffer = jnp.zeros((max_nodes, *y_pred.shape), y_pred.dtype)

    def body(row, buffer):
        a, b = buffer[program.lhs[row]], buffer[program.rhs[row]]
        operands = (a, b, program.constant[row], y_pred, y_true)
        value = jax.lax.switch(program.opcode[row], _VALUE_BRANCHES, *operands)
        return jax.lax.dynamic_update_index_in_dim(buffer, value, row, 0)

    return jax.lax.fori_loop(_first_row(program), max_nodes, body, buffer)


def _switch_backward(program: Program, buffer, cotangent):
    program = Program(*(jnp.asarray(field) for field in program))
    max_nodes = program.opcode.shape[-1]
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
        # As in the select form: each cotangent is written once, by the row's one parent.
        grads = jax.lax.dynamic_update_index_in_dim(grads, g_b, rhs, 0)
        grads = jax.lax.dynamic_update_index_in_dim(grads, g_a, lhs, 0)
        return grads, d_pred + g_pred, d_true + g_true

    carry = (grads, zero, zero)
    _, d_pred, d_true = jax.lax.fori_loop(0, max_nodes - _first_row(program), body, carry)
    return d_pred, d_true


# -- both ------------------------------------------------------------------------------------
_FORWARD = {"select": _select_forward, "switch": _switch_forward}
_BACKWARD = {"select": _select_backward, "switch": _switch_backward}


@partial(jax.custom_vjp, nondiff_argnums=(3,))
def tree_values(program: Program, y_pred, y_true, form: str) -> jnp.ndarray:
    """The element-wise value [B, C] of one encoded tree, computed in `form`."""
    return _FORWARD[form](program, y_pred, y_true)[-1]


def _tree_values_fwd(program, y_pred, y_true, form):
    buffer = _FORWARD[form](program, y_pred, y_true)
    return buffer[-1], (program, buffer)


def _tree_values_bwd(form, residuals, cotangent):
    program, buffer = residuals
    return (None, *_BACKWARD[form](program, buffer, cotangent))


tree_values.defvjp(_tree_values_fwd, _tree_values_bwd)


def program_loss(program: Program, y_pred, y_true, form: str = "select") -> jnp.ndarray:
    """Mean loss of one encoded tree on a batch; vmap it over a leading K axis of `program`."""
    y_pred = jnp.asarray(y_pred, jnp.float32)
    y_true = jnp.asarray(y_true, jnp.float32)
    return jnp.mean(tree_values(program, y_pred, y_true, form))
