"""jaxgp: genetic-programming search for image-classification losses, batched and jitted in JAX."""

from jaxgp.compilation import enable_compilation_cache
from jaxgp.errors import ConfigError, DatasetNotReadyError, ExpressionError, JaxgpError
from jaxgp.expr import (
    NODE_CAP,
    Tree,
    TreeConfig,
    Verdict,
    check_validity,
    crossover,
    lower,
    lower_batch,
    parse,
    point_mutation,
    random_tree,
    random_trees,
    subtree_mutation,
)
from jaxgp.losses import NAMED_LOSSES, resolve_loss

__all__ = [
    "NAMED_LOSSES",
    "NODE_CAP",
    "ConfigError",
    "DatasetNotReadyError",
    "ExpressionError",
    "JaxgpError",
    "Tree",
    "TreeConfig",
    "Verdict",
    "check_validity",
    "crossover",
    "enable_compilation_cache",
    "lower",
    "lower_batch",
    "parse",
    "point_mutation",
    "random_tree",
    "random_trees",
    "resolve_loss",
    "subtree_mutation",
]
