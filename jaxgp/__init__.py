"""jaxgp: genetic-programming search for image-classification losses, batched and jitted in JAX.

A search from Python: `jaxgp.run_search("evolve", jaxgp.RunOptions(scale="tiny"),
watch=jaxgp.display.watch())`; a run read back: `jaxgp.load_run(DIR)` (`.summary`,
`.candidates()` as a pandas DataFrame). These load the search on first use, so
`import jaxgp` stays as quick as it was (docs/python-api.md).
"""

from typing import Any

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

_LAZY = {
    "run_search": ("jaxgp.search.session", "run_search"),
    "RunOptions": ("jaxgp.search.options", "RunOptions"),
    "load_run": ("jaxgp.report.run_data", "load_run"),
    "display": ("jaxgp.display", None),
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        import importlib

        module, attribute = _LAZY[name]
        value = importlib.import_module(module)
        value = value if attribute is None else getattr(value, attribute)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'jaxgp' has no attribute {name!r}")


__all__ = [
    "NAMED_LOSSES",
    "NODE_CAP",
    "ConfigError",
    "DatasetNotReadyError",
    "ExpressionError",
    "JaxgpError",
    "Tree",
    "TreeConfig",
    "RunOptions",
    "Verdict",
    "check_validity",
    "crossover",
    "enable_compilation_cache",
    "lower",
    "load_run",
    "lower_batch",
    "parse",
    "point_mutation",
    "random_tree",
    "random_trees",
    "resolve_loss",
    "run_search",
    "subtree_mutation",
]
