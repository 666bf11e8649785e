"""The validity filter: is a tree numerically usable as a loss, and (optionally) learnable?

Probes: softmax of standard-normal logits for a batch of 64, with random one-hot labels,
for 10 and for 100 classes (fixed seeds, so a verdict never changes). Every screen rejects
a tree whose gradient with respect to `y_pred` is not finite or is zero everywhere on a
probe, since such a loss cannot train a model. Then, by `screen`:

- `thesis`: the thesis's filter, exactly: the mean loss value itself (signed) must lie in
  [1e-5, 1e5] on both probes, so a negative loss such as `y_true * log(y_pred)` (minus
  cross-entropy) is rejected;
- `learnable`: the thesis's filter and the learnability screen (`jaxgp.expr.learnability`):
  the loss must fall when probability moves to the true class;
- `legacy`: what runs made before jaxgp kept the signed range did: the magnitude |value|
  in [1e-5, 1e5]. Only runs resumed from such a run directory use it.

A tree of the priors language (`jaxgp.expr.language`) is judged at two class priors, each
probe and each learnability case run under both: the uniform prior (a balanced split) and a
long tail of ratio 20 (pi_c proportional to 20^(-c/(C-1)), tiny-lt's), so a loss that reads
the priors must be usable and learnable on a balanced and on a long-tailed split. A tree of
the thesis's language reads no prior and is judged as it always was.

Trees are checked through the batched interpreter in chunks of a fixed size, so each check
compiles once per process and language. `screened()` counts the trees judged and rejected in
this process so far (as `jaxgp.compilation.totals` counts compilations), so that a run's
observers can say what share of a generation's trees the filter turned away.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache, partial

import jax
import jax.numpy as jnp
import numpy as np

from jaxgp.errors import ConfigError
from jaxgp.expr import learnability
from jaxgp.expr.interpreter import program_loss
from jaxgp.expr.language import DEFAULT_LANGUAGE, Language, get_language, smallest_language
from jaxgp.expr.lower import FORM_OF_STRATEGY, default_strategy, over_candidates
from jaxgp.expr.program import NODE_CAP, Program, encode_batch
from jaxgp.expr.tree import Tree

LOSS_RANGE = (1e-5, 1e5)
PROBE_BATCH = 64
PROBE_CLASSES = (10, 100)
CHUNK = 16
SCREENS = ("thesis", "learnable")
LEGACY_SCREEN = "legacy"
PROBE_IMBALANCE = 20.0
"""The long tail a priors-language tree is also probed at (tiny-lt's ratio)."""


def check_screen(screen: str) -> str:
    if screen not in (*SCREENS, LEGACY_SCREEN):
        raise ConfigError(f"unknown screen {screen!r}; valid: {', '.join(SCREENS)}")
    return screen


@dataclass(frozen=True)
class Verdict:
    """Whether a tree passed the filter, and if not, why."""

    ok: bool
    reason: str = ""


@dataclass(frozen=True)
class Screened:
    """Trees judged by `check_validity_batch` in this process, and how many it rejected."""

    judged: int = 0
    rejected: int = 0

    def __sub__(self, earlier: Screened) -> Screened:
        return Screened(self.judged - earlier.judged, self.rejected - earlier.rejected)


_screened = Screened()


def screened() -> Screened:
    """The trees judged and rejected so far in this process (a difference of two readings
    counts those in between)."""
    return _screened


@cache
def probes() -> tuple[tuple[np.ndarray, np.ndarray], ...]:
    """The probe inputs `(y_pred, y_true)` for each probe class count."""
    result = []
    for classes in PROBE_CLASSES:
        rng = np.random.default_rng(classes)
        logits = rng.standard_normal((PROBE_BATCH, classes)).astype(np.float32)
        y_pred = np.exp(logits - logits.max(-1, keepdims=True))
        y_pred /= y_pred.sum(-1, keepdims=True)
        y_true = np.eye(classes, dtype=np.float32)[rng.integers(classes, size=PROBE_BATCH)]
        result.append((y_pred, y_true))
    return tuple(result)


def long_tail_prior(classes: int, imbalance: float = PROBE_IMBALANCE) -> np.ndarray:
    """Class priors of a long tail: pi_c proportional to imbalance^(-c / (C - 1))."""
    weights = imbalance ** (-np.arange(classes) / max(1, classes - 1))
    return (weights / weights.sum()).astype(np.float32)


def probe_priors(classes: int, language: Language | str) -> tuple[np.ndarray, ...]:
    """The class priors a tree of `language` is probed at: uniform, and for a language that
    reads priors also the long tail."""
    uniform = np.full(classes, 1.0 / classes, np.float32)
    if not get_language(language).reads_priors:
        return (uniform,)
    return uniform, long_tail_prior(classes)


def _loss(language: Language) -> partial:
    return partial(program_loss, form=FORM_OF_STRATEGY[default_strategy()], language=language)


def _over_trees(fn):
    """`fn(program)` for each of K trees, the backend's way (`map` on a CPU: the switch
    form's conditionals then skip all but one primitive per row and the padding rows)."""
    return over_candidates(fn, (0,), default_strategy())


@partial(jax.jit, static_argnames="language")
def _probe_values(program: Program, y_pred, y_true, prior, language: Language):
    def one(program):
        loss = _loss(language)
        value, grad = jax.value_and_grad(loss, argnums=1)(program, y_pred, y_true, prior)
        return value, jnp.all(jnp.isfinite(grad)), jnp.max(jnp.abs(grad))

    return _over_trees(one)(program)


@partial(jax.jit, static_argnames="language")
def _screen_values(program: Program, y_pred, y_true, prior, language: Language):
    """[K trees, points] loss values at each of the screen's points."""
    at_points = jax.vmap(_loss(language), in_axes=(None, 0, None, None))
    return _over_trees(lambda p: at_points(p, y_pred, y_true, prior))(program)


def _in_range(value: float, screen: str, probe: str) -> str:
    low, high = LOSS_RANGE
    if screen == LEGACY_SCREEN:
        if not low <= abs(value) <= high:
            return f"the loss magnitude {abs(value):.3g} {probe} is outside [{low:g}, {high:g}]"
        return ""
    if not low <= value <= high:
        return (
            f"the loss value {value:.3g} {probe} is outside [{low:g}, {high:g}] "
            "(the thesis's range)"
        )
    return ""


def _judge(
    tree: Tree, results: list[tuple[float, bool, float]], screen: str, names: list[str]
) -> Verdict:
    if not tree.has_both_leaves():
        missing = "y_pred" if "y_pred" not in tree.nodes else "y_true"
        return Verdict(False, f"the tree does not contain {missing}")
    return _judge_values(results, screen, names)


def _probe_names(language: Language | str = DEFAULT_LANGUAGE) -> list[str]:
    """How each probe is named in a verdict, in `_probe_results` order."""
    names = []
    for classes in PROBE_CLASSES:
        at = ["", " with long-tailed priors"][: len(probe_priors(classes, language))]
        if len(at) > 1:
            at[0] = " with uniform priors"
        names += [f"on the {classes}-class probe{suffix}" for suffix in at]
    return names


def _judge_values(
    results: list[tuple[float, bool, float]], screen: str, probes_named: list[str] | None = None
) -> Verdict:
    for probe, (value, grad_finite, grad_max) in zip(
        probes_named or _probe_names(), results, strict=True
    ):
        if not np.isfinite(value):
            return Verdict(False, f"the loss is not finite {probe}")
        reason = _in_range(value, screen, probe)
        if reason:
            return Verdict(False, reason)
        if not grad_finite:
            return Verdict(False, f"the gradient with respect to y_pred is not finite {probe}")
        if grad_max == 0.0:
            return Verdict(
                False,
                f"the gradient with respect to y_pred is zero {probe}: it cannot train a model",
            )
    return Verdict(True)


def _chunk_verdicts(
    trees: list[Tree], max_nodes: int, screen: str, language: Language
) -> list[Verdict]:
    padded = trees + [trees[0]] * (CHUNK - len(trees))
    program = encode_batch(padded, max_nodes)
    per_probe = [
        [np.asarray(x) for x in _probe_values(program, y_pred, y_true, prior, language)]
        for (y_pred, y_true), classes in zip(probes(), PROBE_CLASSES, strict=True)
        for prior in probe_priors(classes, language)
    ]
    names = _probe_names(language)
    verdicts = []
    for row, tree in enumerate(trees):
        results = [(float(v[row]), bool(f[row]), float(m[row])) for v, f, m in per_probe]
        verdicts.append(_judge(tree, results, screen, names))
    if screen == "learnable" and any(v.ok for v in verdicts):
        for priors in zip(*(probe_priors(c, language) for c in learnability.CLASSES), strict=True):
            values = {
                classes: np.asarray(
                    _screen_values(program, *learnability.screen_inputs(classes), prior, language)
                )
                for classes, prior in zip(learnability.CLASSES, priors, strict=True)
            }
            for row, verdict in enumerate(verdicts):
                reason = learnability.judge({c: v[row] for c, v in values.items()})
                if verdict.ok and reason:
                    verdicts[row] = Verdict(False, reason + _prior_note(priors, language))
    return verdicts


def _prior_note(priors: tuple[np.ndarray, ...], language: Language) -> str:
    if not language.reads_priors:
        return ""
    uniform = np.allclose(priors[0], priors[0][0])
    return " with uniform priors" if uniform else " with long-tailed priors"


def check_validity_batch(
    trees: Sequence[Tree],
    max_nodes: int = NODE_CAP,
    screen: str = "thesis",
    language: Language | str | None = None,
) -> list[Verdict]:
    """The verdict of `screen` on each tree; a tree over the node cap is rejected as such.

    `language`: the language the trees are judged in (None: the smallest that says them
    all); a tree it cannot say is rejected as such."""
    check_screen(screen)
    if language is None:
        language = smallest_language(trees) if trees else get_language(DEFAULT_LANGUAGE)
    language = get_language(language)
    verdicts: dict[int, Verdict] = {}
    fitting = []
    for i, tree in enumerate(trees):
        if len(tree) > max_nodes:
            verdicts[i] = Verdict(
                False, f"the tree has {len(tree)} nodes, over the cap {max_nodes}"
            )
        elif not language.says(tree):
            missing = ", ".join(language.missing(tree))
            verdicts[i] = Verdict(False, f"{missing} is not in the {language} language")
        else:
            fitting.append(i)
    for start in range(0, len(fitting), CHUNK):
        chunk = fitting[start : start + CHUNK]
        found = _chunk_verdicts([trees[i] for i in chunk], max_nodes, screen, language)
        verdicts.update(zip(chunk, found, strict=True))
    result = [verdicts[i] for i in range(len(trees))]
    global _screened
    _screened = Screened(
        _screened.judged + len(result), _screened.rejected + sum(not v.ok for v in result)
    )
    return result


def check_validity(
    tree: Tree,
    max_nodes: int = NODE_CAP,
    screen: str = "thesis",
    language: Language | str | None = None,
) -> Verdict:
    """The verdict of `screen` on one tree (in `language`; None: the smallest that says it)."""
    return check_validity_batch([tree], max_nodes, screen, language)[0]


def function_probe_values(loss) -> list[tuple[float, bool, float]]:
    """(value, gradient finite, max |gradient|) of `loss(y_pred, y_true) -> scalar` on each
    probe, for losses that are not trees (the named `ce`, `fpl` and `focal`)."""
    value_and_grad = jax.value_and_grad(loss)
    results = []
    for y_pred, y_true in probes():
        value, grad = value_and_grad(jnp.asarray(y_pred), jnp.asarray(y_true))
        grad = np.asarray(grad)
        finite = bool(np.all(np.isfinite(grad)))
        results.append((float(value), finite, float(np.max(np.abs(grad))) if finite else np.nan))
    return results


def check_function(loss, screen: str = "thesis") -> Verdict:
    """The verdict of `screen` on a loss that is a JAX function: the same probes and rules
    as for a tree (which leaves it holds cannot be asked)."""
    verdict = _judge_values(function_probe_values(loss), check_screen(screen))
    if verdict.ok and screen == "learnable":
        reason = learnability.screen_function(loss)
        if reason:
            return Verdict(False, reason)
    return verdict
