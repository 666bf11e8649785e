"""The loss language: trees, parsing, random generation, validity, variation and lowering."""

from jaxgp.expr.generate import DEFAULT_TREE_CONFIG, TreeConfig, random_tree, random_trees
from jaxgp.expr.lower import lower, lower_batch
from jaxgp.expr.parse import parse
from jaxgp.expr.primitives import PRIMITIVES
from jaxgp.expr.program import NODE_CAP, Program, encode, encode_batch
from jaxgp.expr.tree import Tree
from jaxgp.expr.validity import Verdict, check_validity, check_validity_batch
from jaxgp.expr.variation import crossover, point_mutation, subtree_mutation

__all__ = [
    "DEFAULT_TREE_CONFIG",
    "NODE_CAP",
    "PRIMITIVES",
    "Program",
    "Tree",
    "TreeConfig",
    "Verdict",
    "check_validity",
    "check_validity_batch",
    "crossover",
    "encode",
    "encode_batch",
    "lower",
    "lower_batch",
    "parse",
    "point_mutation",
    "random_tree",
    "random_trees",
    "subtree_mutation",
]
