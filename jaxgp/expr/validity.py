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

from jaxgp.expr import learnability
from jaxgp.expr.interpreter import program_loss
from jaxgp.expr.language import DEFAULT_LANGUAGE, Language, get_language, smallest_language
from jaxgp.expr.lower import FORM_OF_STRATEGY, default_strategy, over_candidates
from jaxgp.expr.program import NODE_CAP, Program, encode_batch
from jaxgp.expr.screen import CHOSEN_SCREENS, Screen
from jaxgp.expr.tree import Tree

LOSS_RANGE = (1e-5, 1e5)
PROBE_BATCH = 64
PROBE_CLASSES = (10, 100)
CHUNK = 16
SCREENS = CHOSEN_SCREENS
LEGACY_SCREEN = Screen.LEGACY
PROBE_IMBALANCE = 20.0
"""The long tail a priors-language tree is also probed at (tiny-lt's ratio)."""


def check_screen(screen: str) -> Screen:
    """`screen` parsed (`Screen.parse`)."""
    return Screen.parse(screen)


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


def _leaves_reason(tree: Tree) -> str:
    if not tree.has_both_leaves():
        missing = "y_pred" if "y_pred" not in tree.nodes else "y_true"
        return f"the tree does not contain {missing}"
    return ""


def _probe_names(language: Language | str = DEFAULT_LANGUAGE) -> list[str]:
    """How each probe is named in a verdict, in the order they are judged."""
    names = []
    for classes in PROBE_CLASSES:
        at = ["", " with long-tailed priors"][: len(probe_priors(classes, language))]
        if len(at) > 1:
            at[0] = " with uniform priors"
        names += [f"on the {classes}-class probe{suffix}" for suffix in at]
    return names


def _probe_reason(result: tuple[float, bool, float], screen: str, probe: str) -> str:
    """Why one probe's (value, gradient finite, max |gradient|) rejects a loss, or ''."""
    value, grad_finite, grad_max = result
    if not np.isfinite(value):
        return f"the loss is not finite {probe}"
    reason = _in_range(value, screen, probe)
    if reason:
        return reason
    if not grad_finite:
        return f"the gradient with respect to y_pred is not finite {probe}"
    if grad_max == 0.0:
        return f"the gradient with respect to y_pred is zero {probe}: it cannot train a model"
    return ""


def _judge_values(
    results: list[tuple[float, bool, float]], screen: str, probes_named: list[str] | None = None
) -> Verdict:
    for probe, result in zip(probes_named or _probe_names(), results, strict=True):
        reason = _probe_reason(result, screen, probe)
        if reason:
            return Verdict(False, reason)
    return Verdict(True)


def _in_chunks(fn, trees: list[Tree], max_nodes: int, *arguments) -> list[tuple]:
    """`fn(program, *arguments)` over `trees` in padded chunks of `CHUNK`: per tree, the
    tuple of its rows of every output."""
    rows: list[tuple] = []
    for start in range(0, len(trees), CHUNK):
        chunk = trees[start : start + CHUNK]
        program = encode_batch(chunk + [chunk[0]] * (CHUNK - len(chunk)), max_nodes)
        found = fn(program, *arguments)
        outputs = [np.asarray(x) for x in (found if isinstance(found, tuple) else (found,))]
        rows += [tuple(output[row] for output in outputs) for row in range(len(chunk))]
    return rows


def _staged_verdicts(
    trees: list[Tree], max_nodes: int, screen: str, language: Language
) -> list[Verdict]:
    """Each check runs only on the trees every earlier check passed, in the order a verdict
    names the first failure: the probes (10 classes before 100, uniform priors before
    long-tailed ones, those only for trees that read `prior`), then the learnability
    screen's cases the same way. Most rejected trees fail the small first probe, so the
    large ones run on fewer trees; each tree's verdict is the one every check on every
    tree gives."""
    reasons = [_leaves_reason(tree) for tree in trees]
    names = iter(_probe_names(language))

    def pending(first_prior: bool) -> list[int]:
        return [i for i, reason in enumerate(reasons)
                if not reason and (first_prior or "prior" in trees[i].nodes)]  # fmt: skip

    for (y_pred, y_true), classes in zip(probes(), PROBE_CLASSES, strict=True):
        for number, prior in enumerate(probe_priors(classes, language)):
            probe = next(names)
            todo = pending(number == 0)
            found = _in_chunks(_probe_values, [trees[i] for i in todo], max_nodes,
                               y_pred, y_true, prior, language)  # fmt: skip
            for i, (value, finite, largest) in zip(todo, found, strict=True):
                reasons[i] = _probe_reason((float(value), bool(finite), float(largest)),
                                           screen, probe)  # fmt: skip
    if screen == Screen.LEARNABLE:
        for number, priors in enumerate(
            zip(*(probe_priors(c, language) for c in learnability.CLASSES), strict=True)
        ):
            for classes, prior in zip(learnability.CLASSES, priors, strict=True):
                todo = pending(number == 0)
                inputs = learnability.screen_inputs(classes)
                found = _in_chunks(_screen_values, [trees[i] for i in todo], max_nodes,
                                   *inputs, prior, language)  # fmt: skip
                for i, (values,) in zip(todo, found, strict=True):
                    reason = learnability.judge({classes: values})
                    if reason:
                        reasons[i] = reason + _prior_note(priors, language)
    return [Verdict(not reason, reason) for reason in reasons]


def _prior_note(priors: tuple[np.ndarray, ...], language: Language) -> str:
    if not language.reads_priors:
        return ""
    uniform = np.allclose(priors[0], priors[0][0])
    return " with uniform priors" if uniform else " with long-tailed priors"


def check_validity_batch(
    trees: Sequence[Tree],
    max_nodes: int = NODE_CAP,
    screen: Screen | str = Screen.THESIS,
    language: Language | str | None = None,
) -> list[Verdict]:
    """The verdict of `screen` on each tree; a tree over the node cap is rejected as such.

    `language`: the language the trees are judged in (None: the smallest that says them
    all); a tree it cannot say is rejected as such."""
    screen = check_screen(screen)
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
    found = _staged_verdicts([trees[i] for i in fitting], max_nodes, screen, language)
    verdicts.update(zip(fitting, found, strict=True))
    result = [verdicts[i] for i in range(len(trees))]
    global _screened
    _screened = Screened(
        _screened.judged + len(result), _screened.rejected + sum(not v.ok for v in result)
    )
    return result


def check_validity(
    tree: Tree,
    max_nodes: int = NODE_CAP,
    screen: Screen | str = Screen.THESIS,
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


def check_function(loss, screen: Screen | str = Screen.THESIS) -> Verdict:
    """The verdict of `screen` on a loss that is a JAX function: the same probes and rules
    as for a tree (which leaves it holds cannot be asked)."""
    verdict = _judge_values(function_probe_values(loss), check_screen(screen))
    if verdict.ok and screen == Screen.LEARNABLE:
        reason = learnability.screen_function(loss)
        if reason:
            return Verdict(False, reason)
    return verdict
