"""The languages a loss is written in: which leaves and operators a tree may hold.

- `thesis`: `y_pred`, `y_true`, constants and the ten operators of the thesis (and NGL). A
  search in it is the thesis's and NGL's, bit for bit; the default of `tiny`, `small` and
  `large`.
- `priors`: the thesis's language and the leaf `prior` (the training split's class
  frequencies, [C], broadcast over the batch like `y_true`) and the class reduction `csum`
  (the sum over classes, broadcast back to [B, C]). Class-balanced CE
  (`neg(y_true * log(y_pred)) / prior`), logit adjustment and balanced softmax
  (`neg(y_true * log(y_pred * prior / csum(y_pred * prior)))`) are trees in it; the
  default of `tiny-lt`, whose training split is long-tailed.

Every tree is parsed, stored and encoded the same way whatever its language; the language
decides what a search draws (`jaxgp.expr.generate`, `jaxgp.expr.variation`), which
interpreter the trainer compiles (`jaxgp.expr.interpreter`: the thesis's is unchanged, the
priors' carries rank-one maps through `csum`), and which probes judge a tree
(`jaxgp.expr.validity`: uniform and long-tailed priors).

Drawing: a leaf is one of the named leaves or a constant, an operator one of the
language's, with the language's weights (`None`: uniformly, as the thesis). A grown branch
stops at a leaf with probability (leaf kinds) / (leaf kinds + operators), 3/13 in the
thesis's language.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from jaxgp.errors import ConfigError, ExpressionError
from jaxgp.expr.primitives import CLASS_REDUCTIONS, PRIMITIVES
from jaxgp.expr.tree import Tree

CONSTANT = "const"
"""The name of the constant leaf kind in a language's leaf list and weights."""


@dataclass(frozen=True)
class Language:
    """The leaves and operators of a loss language, and how a search draws them."""

    name: str
    leaves: tuple[str, ...]
    """Named leaves, in drawing order; a constant is drawn after them."""
    operators: tuple[str, ...]
    """Operators, in `PRIMITIVES` order."""
    leaf_weights: tuple[float, ...] | None = None
    """Drawing weights of `(*leaves, constant)`; None: uniform (one `integers` draw)."""
    operator_weights: tuple[float, ...] | None = None
    """Drawing weights of `operators`; None: uniform (one `integers` draw)."""
    clones_by_training: bool = False
    """Whether a search also counts a child that trains like a member as a clone
    (`jaxgp.expr.equivalence`), not only one with the same text."""
    summary: str = ""

    def __post_init__(self) -> None:
        for weights, items in (
            (self.leaf_weights, self.leaf_kinds),
            (self.operator_weights, self.operators),
        ):
            if weights is not None and len(weights) != len(items):
                raise ValueError(f"{self.name}: {len(weights)} weights for {len(items)} choices")

    @property
    def leaf_kinds(self) -> tuple[str, ...]:
        """The named leaves and the constant, as drawn."""
        return (*self.leaves, CONSTANT)

    @property
    def binary(self) -> tuple[str, ...]:
        return tuple(op for op in self.operators if PRIMITIVES[op].arity == 2)

    @property
    def unary(self) -> tuple[str, ...]:
        return tuple(op for op in self.operators if PRIMITIVES[op].arity == 1)

    @property
    def nodes(self) -> frozenset[str]:
        """Every named node a tree of this language may hold."""
        return frozenset((*self.leaves, *self.operators))

    @property
    def reduces_classes(self) -> bool:
        """Whether some operator's derivative is not element-wise (`csum`)."""
        return any(op in CLASS_REDUCTIONS for op in self.operators)

    @property
    def reads_priors(self) -> bool:
        return "prior" in self.leaves

    def missing(self, tree: Tree) -> list[str]:
        """The named nodes of `tree` this language does not have, in order of appearance."""
        names = (node for node in tree.nodes if isinstance(node, str))
        return list(dict.fromkeys(name for name in names if name not in self.nodes))

    def says(self, tree: Tree) -> bool:
        return not self.missing(tree)

    def check(self, tree: Tree) -> Tree:
        """`tree` if this language can say it; else `ExpressionError` naming what it lacks."""
        missing = self.missing(tree)
        if missing:
            needed = smallest_language([tree])
            raise ExpressionError(
                f"{', '.join(missing)} is not in the {self.name} language"
                f" (the {needed.name} language has it): {tree}"
            )
        return tree

    def __str__(self) -> str:
        return self.name


THESIS_OPERATORS = ("+", "-", "*", "/", "neg", "sqrt", "log", "exp", "sin", "cos")

LANGUAGES: dict[str, Language] = {
    language.name: language
    for language in (
        Language(
            "thesis",
            ("y_pred", "y_true"),
            THESIS_OPERATORS,
            summary="y_pred, y_true, constants and the ten operators of the thesis and NGL",
        ),
        Language(
            "priors",
            ("y_pred", "y_true", "prior"),
            (*THESIS_OPERATORS, "csum"),
            clones_by_training=True,
            summary="the thesis's language, the class priors `prior` and the class sum `csum`",
        ),
    )
}
DEFAULT_LANGUAGE = "thesis"


def get_language(name: str | Language) -> Language:
    """The language called `name`; `ConfigError` naming the valid ones otherwise."""
    if isinstance(name, Language):
        return name
    if name not in LANGUAGES:
        raise ConfigError(f"unknown language {name!r}; valid: {', '.join(LANGUAGES)}")
    return LANGUAGES[name]


def smallest_language(trees: Iterable[Tree], at_least: str | Language | None = None) -> Language:
    """The first language (in `LANGUAGES` order, from `at_least` on) that says every tree."""
    trees = list(trees)
    names = list(LANGUAGES)
    start = names.index(get_language(at_least).name) if at_least is not None else 0
    for name in names[start:]:
        if all(LANGUAGES[name].says(tree) for tree in trees):
            return LANGUAGES[name]
    raise ExpressionError(f"no language says all of {', '.join(map(str, trees))}")
