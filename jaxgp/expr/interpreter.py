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

The interpreter is built for a language (`jaxgp.expr.language`): its opcodes are the
branches. The thesis's language is element-wise throughout, so a path's map to the root is
a diagonal, a [B, C] factor. The priors language adds the leaf `prior` (a [C] input,
broadcast over the batch) and the class sum `csum`, whose Jacobian is the all-ones matrix
per example. A path through it is then rank one: diag(d1) 11^T diag(d2) = d1 d2^T, and
(u1 v1^T)(u2 v2^T) = (v1 . u2) u1 v2^T. So in the select form a path map is carried as a
pair (u, v) with a flag per row (a diagonal keeps u = d), composed by these rules in the
same pointer-jumping steps, and a cotangent through a rank-one map is v (u . g): still no
loop, no conditional and cost linear in the rows per step. The switch form walks the rows
in reverse and simply sums a `csum` row's cotangent over classes. The thesis's language
runs exactly the code it ran before the priors language existed.
"""

from __future__ import annotations

from enum import StrEnum
from functools import partial

import jax
import jax.numpy as jnp

from jaxgp.expr.language import DEFAULT_LANGUAGE, Language, get_language
from jaxgp.expr.primitives import PRIMITIVES, class_sum
from jaxgp.expr.program import CODE, Program, language_opcodes


class Form(StrEnum):
    """How the interpreter walks a tree's rows: `select` (every row every step, no loop or
    conditional) or `switch` (a conditional per row, the least arithmetic)."""

    SELECT = "select"
    SWITCH = "switch"


FORMS = tuple(Form)
_LEAVES = ("const", "y_pred", "y_true", "prior")


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


def _leaf_value(name: str, constant, y_pred, y_true, prior) -> jnp.ndarray:
    if name == "const":
        return jnp.broadcast_to(constant, y_pred.shape).astype(y_pred.dtype)
    if name == "prior":
        return jnp.broadcast_to(prior, y_pred.shape).astype(y_pred.dtype)
    return y_pred if name == "y_pred" else y_true


# -- the select form --------------------------------------------------------------------------
def _row_values(language, a, b, constant, y_pred, y_true, prior) -> list[jnp.ndarray]:
    """Every opcode's value on a row's operands, in opcode order."""
    values = []
    for name in language_opcodes(language):
        if name in _LEAVES:
            values.append(_leaf_value(name, constant, y_pred, y_true, prior))
        else:
            primitive = PRIMITIVES[name]
            values.append(primitive.fn(a, b) if primitive.arity == 2 else primitive.fn(a))
    return values


def _row_derivatives(language, a, b) -> tuple[list[jnp.ndarray], list[jnp.ndarray]]:
    """Every opcode's derivative with respect to its first and its second operand; a class
    sum's is the first factor of its all-ones rank-one map (ones)."""
    zeros = jnp.zeros_like(a)
    to_a, to_b = [], []
    for name in language_opcodes(language):
        if name in _LEAVES:
            d_a, d_b = zeros, zeros
        elif name == "csum":
            d_a, d_b = jnp.ones_like(a), zeros
        else:
            d_a, d_b = _derivatives(PRIMITIVES[name], a, b)
        to_a.append(d_a)
        to_b.append(d_b)
    return to_a, to_b


def _rows(program: Program) -> tuple:
    """The rows to scan over: (index, opcode, lhs, rhs, constant), each [max_nodes]."""
    program = Program(*(jnp.asarray(field) for field in program))
    return (jnp.arange(program.opcode.shape[-1], dtype=jnp.int32), *program)


def _select_forward(program: Program, y_pred, y_true, prior, language) -> jnp.ndarray:
    rows = _rows(program)
    buffer = jnp.zeros((rows[0].shape[0], *y_pred.shape), y_pred.dtype)

    def body(buffer, row):
        index, opcode, lhs, rhs, constant = row
        a = jax.lax.dynamic_index_in_dim(buffer, lhs, keepdims=False)
        b = jax.lax.dynamic_index_in_dim(buffer, rhs, keepdims=False)
        values = _row_values(language, a, b, constant, y_pred, y_true, prior)
        value = jax.lax.select_n(opcode, *values)
        return jax.lax.dynamic_update_index_in_dim(buffer, value, index, 0), None

    buffer, _ = jax.lax.scan(body, buffer, rows, unroll=True)
    return buffer


def _select_factors(program: Program, buffer, language):
    """Each row's parent and the parent's derivative with respect to it (`factor`), and
    each row's index: a missing operand points at its own row and is dropped. The root (the
    last row) is its own parent with factor 1; padding rows hang from it with factor 0."""
    n = program.opcode.shape[-1]
    rows = jnp.arange(n, dtype=jnp.int32)
    # Every row's derivatives with respect to its operands, all rows at once.
    a, b = buffer[program.lhs], buffer[program.rhs]
    which = jnp.broadcast_to(program.opcode[:, None, None], a.shape)
    to_a, to_b = (jax.lax.select_n(which, *d) for d in _row_derivatives(language, a, b))
    lhs = jnp.where(program.lhs != rows, program.lhs, n)
    rhs = jnp.where(program.rhs != rows, program.rhs, n)
    parent = jnp.full(n, n - 1, jnp.int32)
    parent = parent.at[lhs].set(rows, mode="drop").at[rhs].set(rows, mode="drop")
    factor = jnp.zeros_like(buffer).at[lhs].set(to_a, mode="drop").at[rhs].set(to_b, mode="drop")
    factor = factor.at[n - 1].set(1.0)
    return parent, factor, lhs


def _leaf_sums(program: Program, grads) -> tuple[jnp.ndarray, jnp.ndarray]:
    def leaf_sum(name):
        mask = (program.opcode == CODE[name])[:, None, None]
        return jnp.sum(jnp.where(mask, grads, 0.0), axis=0)

    return leaf_sum("y_pred"), leaf_sum("y_true")


def _select_backward(program: Program, buffer, cotangent, language):
    program = Program(*(jnp.asarray(field) for field in program))
    if get_language(language).reduces_classes:
        return _select_backward_rank_one(program, buffer, cotangent, language)
    n = program.opcode.shape[-1]
    parent, factor, _ = _select_factors(program, buffer, language)
    # A row's cotangent is the product of the factors on its path to the root: pointer
    # jumping doubles the length of every product at each of log2(n) steps.
    for _ in range(max(1, (n - 1).bit_length())):
        factor, parent = factor * factor[parent], parent[parent]
    return _leaf_sums(program, cotangent * factor)


def _select_backward_rank_one(program: Program, buffer, cotangent, language):
    """Pointer jumping over path maps that are diagonal (u) or rank one (u v^T)."""
    n = program.opcode.shape[-1]
    parent, u, lhs = _select_factors(program, buffer, language)
    # A child of a class sum maps to it by the all-ones matrix: u = v = 1, rank one.
    rank_one = jnp.zeros(n, bool).at[lhs].set(program.opcode == CODE["csum"], mode="drop")
    v = jnp.ones_like(u)
    for _ in range(max(1, (n - 1).bit_length())):
        u_up, v_up, rank_up = u[parent], v[parent], rank_one[parent]
        up, here = rank_up[:, None, None], rank_one[:, None, None]
        inner = jnp.sum(v_up * u, axis=-1, keepdims=True)  # (v_up . u) per example
        u, v = (
            jnp.where(up, jnp.where(here, u_up * inner, u_up), u_up * u),
            jnp.where(here, v, jnp.where(up, v_up * u, v)),
        )
        rank_one, parent = rank_up | rank_one, parent[parent]
    through = rank_one[:, None, None]
    grads = jnp.where(through, v * jnp.sum(u * cotangent, axis=-1, keepdims=True), u * cotangent)
    return _leaf_sums(program, grads)


# -- the switch form --------------------------------------------------------------------------
def _value_branch(name: str):
    if name in _LEAVES:
        return lambda a, b, constant, y_pred, y_true, prior: (
            jnp.full_like(y_pred, constant)
            if name == "const"
            else _leaf_value(name, constant, y_pred, y_true, prior)
        )
    primitive = PRIMITIVES[name]
    if primitive.arity == 2:
        return lambda a, b, constant, y_pred, y_true, prior: primitive.fn(a, b)
    return lambda a, b, constant, y_pred, y_true, prior: primitive.fn(a)


def _cotangent_branch(name: str):
    """Row cotangent g -> (to operand a, to operand b, to y_pred, to y_true)."""

    def leaf(g, a, b):
        zeros = jnp.zeros_like(g)
        if name == "y_pred":
            return zeros, zeros, g, zeros
        if name == "y_true":
            return zeros, zeros, zeros, g
        return zeros, zeros, zeros, zeros

    def class_sum_cotangent(g, a, b):
        zeros = jnp.zeros_like(a)
        return class_sum(g), zeros, zeros, zeros

    def operator(g, a, b):
        d_a, d_b = _derivatives(PRIMITIVES[name], a, b)
        zeros = jnp.zeros_like(a)
        return g * d_a, g * d_b, zeros, zeros

    if name in _LEAVES:
        return leaf
    return class_sum_cotangent if name == "csum" else operator


def _branches(language) -> tuple[list, list]:
    names = language_opcodes(language)
    return [_value_branch(n) for n in names], [_cotangent_branch(n) for n in names]


def _first_row(program: Program) -> jnp.ndarray:
    """Rows before this one are padding: the loops start here, so cost follows tree size."""
    return jnp.argmax((program.opcode != 0) | (program.constant != 0)).astype(jnp.int32)


def _switch_forward(program: Program, y_pred, y_true, prior, language) -> jnp.ndarray:
    program = Program(*(jnp.asarray(field) for field in program))
    max_nodes = program.opcode.shape[-1]
    buffer = jnp.zeros((max_nodes, *y_pred.shape), y_pred.dtype)
    value_branches, _ = _branches(language)

    def body(row, buffer):
        a, b = buffer[program.lhs[row]], buffer[program.rhs[row]]
        operands = (a, b, program.constant[row], y_pred, y_true, prior)
        value = jax.lax.switch(program.opcode[row], value_branches, *operands)
        return jax.lax.dynamic_update_index_in_dim(buffer, value, row, 0)

    return jax.lax.fori_loop(_first_row(program), max_nodes, body, buffer)


def _switch_backward(program: Program, buffer, cotangent, language):
    program = Program(*(jnp.asarray(field) for field in program))
    max_nodes = program.opcode.shape[-1]
    grads = jnp.zeros_like(buffer).at[-1].set(cotangent)
    zero = jnp.zeros_like(cotangent)
    _, cotangent_branches = _branches(language)

    def body(step, carry):
        grads, d_pred, d_true = carry
        row = max_nodes - 1 - step
        lhs, rhs = program.lhs[row], program.rhs[row]
        # This row's cotangent enters the conditional as an operand, which materialises it
        # before `grads` is written: read inside the writes, XLA would copy the whole
        # buffer at every row to keep the old value alive.
        operands = (grads[row], buffer[lhs], buffer[rhs])
        g_a, g_b, g_pred, g_true = jax.lax.switch(
            program.opcode[row], cotangent_branches, *operands
        )
        # As in the select form: each cotangent is written once, by the row's one parent.
        grads = jax.lax.dynamic_update_index_in_dim(grads, g_b, rhs, 0)
        grads = jax.lax.dynamic_update_index_in_dim(grads, g_a, lhs, 0)
        return grads, d_pred + g_pred, d_true + g_true

    carry = (grads, zero, zero)
    _, d_pred, d_true = jax.lax.fori_loop(0, max_nodes - _first_row(program), body, carry)
    return d_pred, d_true


# -- both ------------------------------------------------------------------------------------
_FORWARD = {Form.SELECT: _select_forward, Form.SWITCH: _switch_forward}
_BACKWARD = {Form.SELECT: _select_backward, Form.SWITCH: _switch_backward}


@partial(jax.custom_vjp, nondiff_argnums=(4, 5))
def tree_values(
    program: Program, y_pred, y_true, prior, form: str, language: Language | str
) -> jnp.ndarray:
    """The element-wise value [B, C] of one encoded tree of `language`, computed in `form`;
    `prior` [C] is what its `prior` leaves read."""
    return _FORWARD[form](program, y_pred, y_true, prior, get_language(language))[-1]


def _tree_values_fwd(program, y_pred, y_true, prior, form, language):
    buffer = _FORWARD[form](program, y_pred, y_true, prior, get_language(language))
    return buffer[-1], (program, buffer, prior)


def _tree_values_bwd(form, language, residuals, cotangent):
    program, buffer, prior = residuals
    d_pred, d_true = _BACKWARD[form](program, buffer, cotangent, get_language(language))
    return None, d_pred, d_true, jnp.zeros_like(prior)


tree_values.defvjp(_tree_values_fwd, _tree_values_bwd)


def uniform_prior(num_classes: int) -> jnp.ndarray:
    """The class priors of a balanced split: 1/C for every class."""
    return jnp.full((num_classes,), 1.0 / num_classes, jnp.float32)


def program_loss(
    program: Program,
    y_pred,
    y_true,
    prior=None,
    *,
    form: Form = Form.SELECT,
    language: Language | str = DEFAULT_LANGUAGE,
) -> jnp.ndarray:
    """Mean loss of one encoded tree on a batch; vmap it over a leading K axis of `program`.

    `prior` [C]: the class priors its `prior` leaves read (None: uniform)."""
    y_pred = jnp.asarray(y_pred, jnp.float32)
    y_true = jnp.asarray(y_true, jnp.float32)
    prior = uniform_prior(y_pred.shape[-1]) if prior is None else jnp.asarray(prior, jnp.float32)
    return jnp.mean(tree_values(program, y_pred, y_true, prior, form, language))
