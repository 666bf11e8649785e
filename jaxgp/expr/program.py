"""A tree as data: the fixed-size `Program` encoding that the interpreter runs.

A program has `max_nodes` rows, children before parents (the reversed prefix order),
padded at the front with unused zero constants so that the root is always the last row.
Because the program is data, any list of trees of the same count and `max_nodes` runs
through the same compiled code.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple

import jax.numpy as jnp
import numpy as np

from jaxgp.errors import ExpressionError
from jaxgp.expr.language import Language
from jaxgp.expr.primitives import CLASS_REDUCTIONS, PRIMITIVES
from jaxgp.expr.tree import Tree

NODE_CAP = 64
"""Default number of rows of a program: the largest tree the interpreter runs."""

LEAF_OPCODES = ("const", "y_pred", "y_true")
OPCODES: tuple[str, ...] = (
    *LEAF_OPCODES,
    *(name for name in PRIMITIVES if name not in CLASS_REDUCTIONS),
    "prior",
    *CLASS_REDUCTIONS,
)
"""Every node's opcode: the thesis's thirteen first (their codes predate the priors
language), then the priors language's leaf and operator."""
CODE = {name: code for code, name in enumerate(OPCODES)}


def language_opcodes(language: Language) -> tuple[str, ...]:
    """The opcodes an interpreter for `language` dispatches on: every opcode up to the
    language's highest, so that a branch's position is its code."""
    highest = max(CODE[name] for name in (*LEAF_OPCODES, *language.nodes))
    return OPCODES[: highest + 1]


class Program(NamedTuple):
    """Trees as arrays; every field has shape [..., max_nodes] (a leading K axis for K trees)."""

    opcode: jnp.ndarray  # int32
    lhs: jnp.ndarray  # int32: row of the first operand
    rhs: jnp.ndarray  # int32: row of the second operand
    constant: jnp.ndarray  # float32


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
            opcode[r] = CODE[node]
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
