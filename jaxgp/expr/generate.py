"""Random trees: the grow, full and ramped methods, under a height range and a node cap.

Defaults (`TreeConfig`): heights 2 to 6 and at most 64 nodes (the interpreter's `NODE_CAP`).
The thesis generates heights 2 to 100; with a node cap of 64 such heights can only be
reached by chains of unary operators, which nearly always fail the validity filter, so the
default stops at 6. Every bound is configurable (a height above `max_nodes - 1` is
unreachable).

`screen` is the validity filter every generated tree (and every child) must pass
(`jaxgp.expr.validity`: `thesis` or `learnable`).

`language` is the loss language trees are drawn from (`jaxgp.expr.language`): in the
thesis's, leaves are `y_pred`, `y_true` or a constant with probability 1/3 each and
operators are drawn uniformly from the ten primitives; the priors language draws `prior`
and `csum` too, with its own weights. Constants are drawn uniformly from [-5, 5] and
rounded to 4 decimal places (as in NGL's 2.4092), so that the text of a tree stays
readable.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from jaxgp.errors import ConfigError
from jaxgp.expr.language import CONSTANT, DEFAULT_LANGUAGE, Language, get_language
from jaxgp.expr.primitives import PRIMITIVES
from jaxgp.expr.program import NODE_CAP
from jaxgp.expr.screen import Screen
from jaxgp.expr.tree import Node, Tree

METHODS = ("grow", "full", "ramped")


@dataclass(frozen=True)
class TreeConfig:
    """Bounds and distributions of generated trees."""

    min_height: int = 2
    max_height: int = 6
    max_nodes: int = NODE_CAP
    constant_low: float = -5.0
    constant_high: float = 5.0
    constant_decimals: int = 4
    screen: Screen = Screen.THESIS
    """Parsed here from its text (`Screen.parse`)."""
    language: str = DEFAULT_LANGUAGE

    def __post_init__(self) -> None:
        object.__setattr__(self, "screen", Screen.parse(self.screen))
        get_language(self.language)
        if not 0 <= self.min_height <= self.max_height:
            raise ConfigError(
                f"tree heights must satisfy 0 <= min_height <= max_height, "
                f"got {self.min_height} and {self.max_height}"
            )
        if self.max_nodes < 3:
            raise ConfigError(f"max_nodes must be at least 3, got {self.max_nodes}")
        if self.min_height > self.max_nodes - 1:
            raise ConfigError(
                f"min_height {self.min_height} cannot be reached within {self.max_nodes} nodes"
            )

    @property
    def lang(self) -> Language:
        """The `Language` object of `language`."""
        return get_language(self.language)


DEFAULT_TREE_CONFIG = TreeConfig()


def as_generator(rng: int | np.random.Generator) -> np.random.Generator:
    """A NumPy Generator from a seed, or the Generator itself."""
    if isinstance(rng, np.random.Generator):
        return rng
    return np.random.default_rng(rng)


def draw(rng: np.random.Generator, choices: tuple[str, ...], weights) -> str:
    """One of `choices`: uniformly by one `integers` draw (the thesis's stream) when
    `weights` is None, else with the given relative weights."""
    if weights is None:
        return choices[rng.integers(len(choices))]
    p = np.asarray(weights, np.float64)
    return choices[rng.choice(len(choices), p=p / p.sum())]


def random_leaf(rng: np.random.Generator, config: TreeConfig = DEFAULT_TREE_CONFIG) -> Node:
    language = config.lang
    kind = draw(rng, language.leaf_kinds, language.leaf_weights)
    if kind != CONSTANT:
        return kind
    value = rng.uniform(config.constant_low, config.constant_high)
    return round(float(value), config.constant_decimals) + 0.0  # + 0.0 turns -0.0 into 0.0


def _grow_nodes(
    rng: np.random.Generator,
    height: int,
    min_height: int,
    full: bool,
    config: TreeConfig,
    depth: int = 0,
) -> list[Node]:
    if depth >= height:
        return [random_leaf(rng, config)]
    must_branch = full or depth < min_height
    language = config.lang
    kinds = len(language.leaf_kinds)
    if not must_branch and rng.random() < kinds / (kinds + len(language.operators)):
        return [random_leaf(rng, config)]
    op = draw(rng, language.operators, language.operator_weights)
    nodes: list[Node] = [op]
    for _ in range(PRIMITIVES[op].arity):
        nodes += _grow_nodes(rng, height, min_height, full, config, depth + 1)
    return nodes


def random_subtree(
    rng: np.random.Generator,
    *,
    height: int,
    min_height: int = 0,
    full: bool = False,
    config: TreeConfig = DEFAULT_TREE_CONFIG,
) -> Tree:
    """One tree of height between `min_height` and `height` with no further constraint."""
    return Tree(tuple(_grow_nodes(rng, height, min_height, full, config)))


def random_tree(
    rng: int | np.random.Generator,
    *,
    method: str = "ramped",
    config: TreeConfig = DEFAULT_TREE_CONFIG,
    require_valid: bool = True,
    max_tries: int = 10_000,
) -> Tree:
    """A random tree with both leaves, within the caps, and by default passing the filter.

    `method`: `grow` (operators or leaves below the minimum height), `full` (operators down
    to the drawn height) or `ramped` (either, with equal probability). The target height is
    drawn uniformly from [min_height, max_height].
    """
    if method not in METHODS:
        raise ConfigError(f"unknown method {method!r}; valid methods: {', '.join(METHODS)}")
    generator = as_generator(rng)
    if not require_valid:
        for _ in range(max_tries):
            tree = _candidate(generator, method, config)
            if tree is not None:
                return tree
        raise ConfigError(f"no acceptable random tree in {max_tries} tries with {config}")
    from jaxgp.expr.validity import CHUNK, check_validity_batch

    tries = 0
    while tries < max_tries:
        # Draw ahead a chunk of candidates, noting the generator's state after each, check
        # them in one batch, and rewind to just after the first valid one: the same tree and
        # the same stream as checking one candidate at a time, for one batched check.
        drawn: list[tuple[Tree, dict]] = []
        while len(drawn) < CHUNK and tries < max_tries:
            tries += 1
            tree = _candidate(generator, method, config)
            if tree is not None:
                drawn.append((tree, generator.bit_generator.state))
        if not drawn:
            break
        trees = [tree for tree, _ in drawn]
        verdicts = check_validity_batch(trees, screen=config.screen, language=config.language)
        for (tree, state), verdict in zip(drawn, verdicts, strict=True):
            if verdict.ok:
                generator.bit_generator.state = state
                return tree
    raise ConfigError(f"no acceptable random tree in {max_tries} tries with {config}")


def random_trees(
    rng: int | np.random.Generator,
    count: int,
    *,
    method: str = "ramped",
    config: TreeConfig = DEFAULT_TREE_CONFIG,
    max_tries: int = 10_000,
) -> list[Tree]:
    """`count` random trees that pass the validity filter, checked in batches."""
    from jaxgp.expr.validity import check_validity_batch

    if method not in METHODS:
        raise ConfigError(f"unknown method {method!r}; valid methods: {', '.join(METHODS)}")
    generator = as_generator(rng)
    accepted: list[Tree] = []
    tries = 0
    while len(accepted) < count:
        batch = []
        while len(batch) < 16 and tries < max_tries:
            tries += 1
            tree = _candidate(generator, method, config)
            if tree is not None:
                batch.append(tree)
        if not batch:
            raise ConfigError(f"no acceptable random tree in {max_tries} tries with {config}")
        verdicts = check_validity_batch(batch, screen=config.screen, language=config.language)
        accepted += [tree for tree, verdict in zip(batch, verdicts, strict=True) if verdict.ok]
    return accepted[:count]


def _candidate(generator: np.random.Generator, method: str, config: TreeConfig) -> Tree | None:
    height = int(generator.integers(config.min_height, config.max_height + 1))
    full = method == "full" or (method == "ramped" and generator.random() < 0.5)
    tree = random_subtree(
        generator, height=height, min_height=config.min_height, full=full, config=config
    )
    if len(tree) > config.max_nodes or not tree.has_both_leaves():
        return None
    return tree
