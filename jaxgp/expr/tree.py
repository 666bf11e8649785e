"""Immutable expression trees of the loss language and their one canonical infix text.

A tree is stored as its nodes in prefix order: each node is an operator name from
`PRIMITIVES`, a leaf name (`y_pred`, `y_true`) or a finite float constant. A subtree is a
contiguous slice of that tuple, which makes variation a matter of splicing tuples, and
equality and hashing are those of the tuple.

Canonical text: binary operators infix with the usual precedence (`* /` over `+ -`, left
associative) and only the parentheses the structure needs; every other operator as a call,
negation included (`neg(x)`); constants as Python's shortest round-trip `repr`. The height
of a tree counts edges: a single leaf has height 0.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cached_property

from jaxgp.errors import ExpressionError
from jaxgp.expr.primitives import LEAVES, PRIMITIVES

Node = str | float


def arity(node: Node) -> int:
    """Number of children of a node (0 for leaves and constants)."""
    if isinstance(node, str) and node in PRIMITIVES:
        return PRIMITIVES[node].arity
    return 0


def _check_node(node: object) -> None:
    if isinstance(node, str):
        if node not in PRIMITIVES and node not in LEAVES:
            raise ExpressionError(f"unknown node {node!r}")
    elif isinstance(node, float | int) and not isinstance(node, bool):
        if not math.isfinite(node):
            raise ExpressionError(f"constant {node!r} is not finite")
    else:
        raise ExpressionError(f"a tree node must be an operator, a leaf or a float, not {node!r}")


@dataclass(frozen=True)
class Tree:
    """An expression tree, as the tuple of its nodes in prefix order."""

    nodes: tuple[Node, ...]

    def __post_init__(self) -> None:
        nodes = tuple(float(n) if isinstance(n, int) else n for n in self.nodes)
        object.__setattr__(self, "nodes", nodes)
        for node in nodes:
            _check_node(node)
        need = 1
        for position, node in enumerate(nodes):
            if need == 0:
                raise ExpressionError(f"nodes after the end of the tree at position {position}")
            need += arity(node) - 1
        if need != 0:
            raise ExpressionError("incomplete tree: an operator is missing operands")

    # -- construction -----------------------------------------------------------------
    @staticmethod
    def leaf(node: Node) -> Tree:
        return Tree((node,))

    @staticmethod
    def call(op: str, *children: Tree) -> Tree:
        if op not in PRIMITIVES or PRIMITIVES[op].arity != len(children):
            raise ExpressionError(f"{op!r} does not take {len(children)} operand(s)")
        return Tree((op, *(n for child in children for n in child.nodes)))

    # -- structure --------------------------------------------------------------------
    def __len__(self) -> int:
        return len(self.nodes)

    @property
    def size(self) -> int:
        return len(self.nodes)

    @cached_property
    def _ends(self) -> tuple[int, ...]:
        """`_ends[i]` is the index one past the last node of the subtree rooted at i."""
        ends = [0] * len(self.nodes)
        stack: list[tuple[int, int]] = []  # (node index, children still missing)
        for i, node in enumerate(self.nodes):
            stack.append((i, arity(node)))
            while stack and stack[-1][1] == 0:
                done, _ = stack.pop()
                ends[done] = i + 1
                if stack:
                    parent, missing = stack[-1]
                    stack[-1] = (parent, missing - 1)
        return tuple(ends)

    @cached_property
    def depths(self) -> tuple[int, ...]:
        """Depth of every node (the root has depth 0)."""
        depths = [0] * len(self.nodes)
        for i, node in enumerate(self.nodes):
            child = i + 1
            for _ in range(arity(node)):
                depths[child] = depths[i] + 1
                child = self._ends[child]
        return tuple(depths)

    @property
    def height(self) -> int:
        return max(self.depths)

    def subtree_end(self, index: int) -> int:
        return self._ends[index]

    def subtree(self, index: int) -> Tree:
        return Tree(self.nodes[index : self._ends[index]])

    def children(self, index: int = 0) -> list[int]:
        """Indices of the children of node `index`."""
        result, child = [], index + 1
        for _ in range(arity(self.nodes[index])):
            result.append(child)
            child = self._ends[child]
        return result

    def replace(self, index: int, subtree: Tree) -> Tree:
        """The tree with the subtree rooted at `index` replaced by `subtree`."""
        return Tree(self.nodes[:index] + subtree.nodes + self.nodes[self._ends[index] :])

    def has_both_leaves(self) -> bool:
        return "y_pred" in self.nodes and "y_true" in self.nodes

    def __iter__(self) -> Iterator[Node]:
        return iter(self.nodes)

    # -- text -------------------------------------------------------------------------
    def __str__(self) -> str:
        return _render(self, 0)

    def __repr__(self) -> str:
        return f"Tree({str(self)!r})"


def _render(tree: Tree, index: int) -> str:
    node = tree.nodes[index]
    if not isinstance(node, str):
        return repr(node)
    if node in LEAVES:
        return node
    primitive = PRIMITIVES[node]
    kids = tree.children(index)
    if not primitive.infix:
        return f"{node}({_render(tree, kids[0])})"
    left, right = (_render(tree, k) for k in kids)
    if _precedence(tree, kids[0]) < primitive.precedence:
        left = f"({left})"
    if _precedence(tree, kids[1]) <= primitive.precedence:
        right = f"({right})"
    return f"{left} {node} {right}"


def _precedence(tree: Tree, index: int) -> int:
    node = tree.nodes[index]
    if isinstance(node, str) and node in PRIMITIVES:
        return PRIMITIVES[node].precedence
    return 3
