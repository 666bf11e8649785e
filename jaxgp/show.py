"""`jaxgp show`: a loss (an expression or a named loss) as an indented tree, with its size,
height, the language it needs, the validity filter's verdict and its value and gradient on
the filter's probe inputs (at uniform and long-tailed class priors for a tree that needs the
priors language). A named loss that is a tree (`ngl`, `mse`, `cb`, `la`) shows its tree; one
that is a JAX function (`ce`, `fpl`, `focal`) shows what it is, its verdicts and its
values."""

from __future__ import annotations

import inspect
import math
from dataclasses import dataclass

from jaxgp.expr.language import Language, smallest_language
from jaxgp.expr.tree import Tree
from jaxgp.expr.validity import (
    PROBE_BATCH,
    PROBE_CLASSES,
    PROBE_IMBALANCE,
    Verdict,
    check_function,
    check_validity,
    function_probe_values,
    probe_priors,
    probes,
)
from jaxgp.losses import NAMED_LOSSES


def _label(node: object) -> str:
    return repr(node) if isinstance(node, float) else str(node)


def diagram(tree: Tree) -> str:
    """The tree drawn one node per line, children below their parent."""
    lines = [_label(tree.nodes[0])]

    def walk(index: int, prefix: str) -> None:
        kids = tree.children(index)
        for number, kid in enumerate(kids):
            last = number == len(kids) - 1
            lines.append(prefix + ("└── " if last else "├── ") + _label(tree.nodes[kid]))
            walk(kid, prefix + ("    " if last else "│   "))

    walk(0, "")
    return "\n".join(lines)


@dataclass(frozen=True)
class ProbeValue:
    """The mean loss and its gradient with respect to `y_pred` on one probe."""

    classes: int
    loss: float
    gradient_finite: bool
    gradient_max: float  # max |d loss / d y_pred|
    priors: str | None = None
    """`uniform` or `long-tailed` for a tree that reads the class priors; else None."""


def probe_values(tree: Tree, language: Language | None = None) -> list[ProbeValue]:
    """The tree's loss on each of the validity filter's probes (10 and 100 classes, at each
    class prior the filter probes `language`, default the tree's own, with)."""
    import jax
    import numpy as np

    from jaxgp.expr.lower import lower

    language = language or smallest_language([tree])
    value_and_grad = jax.value_and_grad(lower(tree))
    results = []
    for classes, (y_pred, y_true) in zip(PROBE_CLASSES, probes(), strict=True):
        priors = probe_priors(classes, language)
        for number, prior in enumerate(priors):
            value, grad = value_and_grad(y_pred, y_true, prior)
            grad = np.asarray(grad)
            finite = bool(np.all(np.isfinite(grad)))
            largest = float(np.max(np.abs(grad))) if finite else float("nan")
            named = None if len(priors) == 1 else ("uniform", "long-tailed")[number]
            results.append(ProbeValue(classes, float(value), finite, largest, named))
    return results


@dataclass(frozen=True)
class Description:
    tree: Tree | None
    verdict: Verdict
    probes: list[ProbeValue]
    learnable: Verdict = Verdict(True)
    name: str | None = None
    """The named loss shown, if one was asked for."""
    language: str | None = None
    """The smallest language that says the tree (None for a function loss)."""

    def to_dict(self) -> dict:
        return {
            "name": self.name,
            "language": self.language,
            "expression": str(self.tree) if self.tree is not None else None,
            "size": self.tree.size if self.tree is not None else None,
            "height": self.tree.height if self.tree is not None else None,
            "valid": self.verdict.ok,
            "reason": self.verdict.reason,
            "learnable": self.learnable.ok,
            "learnable_reason": self.learnable.reason,
            "probes": [vars(p) for p in self.probes],
        }


def describe(loss: Tree | str) -> Description:
    """Resolve (a named loss, or text parsed), judge (the thesis's filter, and the
    learnability screen) and probe a loss; raises `ExpressionError` on bad text and
    `ConfigError` on an unknown name."""
    from jaxgp.losses import FUNCTION_LOSSES, resolve_loss

    spec = resolve_loss(loss) if isinstance(loss, str) else None
    name = spec.label if spec is not None and spec.label in NAMED_LOSSES else None
    if spec is not None and spec.tree is None:
        function = FUNCTION_LOSSES[spec.label]
        verdict = check_function(function, screen="thesis")
        learnable = check_function(function, screen="learnable") if verdict.ok else verdict
        values = [ProbeValue(c, *r) for c, r in
                  zip(PROBE_CLASSES, function_probe_values(function), strict=True)]  # fmt: skip
        return Description(None, verdict, values, learnable, name)
    tree = spec.tree if spec is not None else loss
    language = smallest_language([tree])
    verdict = check_validity(tree, screen="thesis", language=language)
    learnable = (
        check_validity(tree, screen="learnable", language=language) if verdict.ok else verdict
    )
    probed = probe_values(tree, language)
    return Description(tree, verdict, probed, learnable, name, language.name)


def _number(value: float) -> str:
    return f"{value:.6g}" if math.isfinite(value) else str(value)


def render(description: Description) -> str:
    """The text `jaxgp show` prints."""
    from jaxgp.losses import FUNCTION_LOSSES

    tree, verdict = description.tree, description.verdict
    if tree is None:
        doc = inspect.cleandoc(FUNCTION_LOSSES[description.name].__doc__ or "")
        lines = [f"{description.name}: a named loss written as a JAX function, not a tree "
                 "(it needs a reduction over classes that trees do not have)"]  # fmt: skip
        lines += [doc, ""] if doc else [""]
    else:
        named = f"{description.name} = " if description.name else ""
        lines = [named + str(tree), "", diagram(tree), ""]
        lines.append(f"size {tree.size} nodes, height {tree.height}")
        lines.append(f"language: {description.language} ({_language_note(description)})")
    if verdict.ok:
        lines.append("validity (the thesis's filter, --screen thesis): valid")
        screen = description.learnable
        if screen.ok:
            lines.append("learnability (--screen learnable): passes")
        else:
            lines.append(f"learnability (--screen learnable): rejected: {screen.reason}")
    else:
        lines.append(f"validity (the thesis's filter): invalid: {verdict.reason}")
    lines += [
        "",
        f"on the validity probes (softmax of standard-normal logits, batch {PROBE_BATCH}, "
        "random one-hot labels):",
    ]
    for probe in description.probes:
        gradient = (
            f"max |d loss / d y_pred| {_number(probe.gradient_max)}"
            if probe.gradient_finite
            else "gradient not finite"
        )
        at = f", {probe.priors} priors" if probe.priors else ""
        lines.append(f"  {probe.classes:>3} classes{at}: loss {_number(probe.loss)}, {gradient}")
    if any(probe.priors for probe in description.probes):
        lines.append(f"  (long-tailed priors: pi_c proportional to {PROBE_IMBALANCE:g}^(-c/(C-1)))")
    return "\n".join(lines)


def _language_note(description: Description) -> str:
    from jaxgp.expr.language import get_language

    language = get_language(description.language or "thesis")
    if not language.reads_priors:
        return "y_pred, y_true and constants: any run can search it"
    return (
        "reads the training split's class priors `prior` or sums over classes with `csum`: "
        "searched with --language priors"
    )
