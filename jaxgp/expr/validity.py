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

Trees are checked through the batched interpreter in chunks of a fixed size, so each check
compiles once per process.
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
from jaxgp.expr.lower import FORM_OF_STRATEGY, default_strategy, over_candidates
from jaxgp.expr.program import NODE_CAP, Program, encode_batch
from jaxgp.expr.tree import Tree

LOSS_RANGE = (1e-5, 1e5)
PROBE_BATCH = 64
PROBE_CLASSES = (10, 100)
CHUNK = 16
SCREENS = ("thesis", "learnable")
LEGACY_SCREEN = "legacy"


def check_screen(screen: str) -> str:
    if screen not in (*SCREENS, LEGACY_SCREEN):
        raise ConfigError(f"unknown screen {screen!r}; valid: {', '.join(SCREENS)}")
    return screen


@dataclass(frozen=True)
class Verdict:
    """Whether a tree passed the filter, and if not, why."""

    ok: bool
    reason: str = ""


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


def _loss() -> partial:
    return partial(program_loss, form=FORM_OF_STRATEGY[default_strategy()])


def _over_trees(fn):
    """`fn(program)` for each of K trees, the backend's way (`map` on a CPU: the switch
    form's conditionals then skip all but one primitive per row and the padding rows)."""
    return over_candidates(fn, (0,), default_strategy())


@jax.jit
def _probe_values(program: Program, y_pred: jnp.ndarray, y_true: jnp.ndarray):
    def one(program):
        value, grad = jax.value_and_grad(_loss(), argnums=1)(program, y_pred, y_true)
        return value, jnp.all(jnp.isfinite(grad)), jnp.max(jnp.abs(grad))

    return _over_trees(one)(program)


@jax.jit
def _screen_values(program: Program, y_pred: jnp.ndarray, y_true: jnp.ndarray):
    """[K trees, points] loss values at each of the screen's points."""
    at_points = jax.vmap(_loss(), in_axes=(None, 0, None))
    return _over_trees(lambda p: at_points(p, y_pred, y_true))(program)


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


def _judge(tree: Tree, results: list[tuple[float, bool, float]], screen: str) -> Verdict:
    if not tree.has_both_leaves():
        missing = "y_pred" if "y_pred" not in tree.nodes else "y_true"
        return Verdict(False, f"the tree does not contain {missing}")
    return _judge_values(results, screen)


def _judge_values(results: list[tuple[float, bool, float]], screen: str) -> Verdict:
    for classes, (value, grad_finite, grad_max) in zip(PROBE_CLASSES, results, strict=True):
        probe = f"on the {classes}-class probe"
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


def _chunk_verdicts(trees: list[Tree], max_nodes: int, screen: str) -> list[Verdict]:
    padded = trees + [trees[0]] * (CHUNK - len(trees))
    program = encode_batch(padded, max_nodes)
    per_probe = [
        [np.asarray(x) for x in _probe_values(program, y_pred, y_true)]
        for y_pred, y_true in probes()
    ]
    verdicts = []
    for row, tree in enumerate(trees):
        results = [(float(v[row]), bool(f[row]), float(m[row])) for v, f, m in per_probe]
        verdicts.append(_judge(tree, results, screen))
    if screen == "learnable" and any(v.ok for v in verdicts):
        values = {
            classes: np.asarray(_screen_values(program, *learnability.screen_inputs(classes)))
            for classes in learnability.CLASSES
        }
        for row, verdict in enumerate(verdicts):
            reason = learnability.judge({c: v[row] for c, v in values.items()})
            if verdict.ok and reason:
                verdicts[row] = Verdict(False, reason)
    return verdicts


def check_validity_batch(
    trees: Sequence[Tree], max_nodes: int = NODE_CAP, screen: str = "thesis"
) -> list[Verdict]:
    """The verdict of `screen` on each tree; a tree over the node cap is rejected as such."""
    check_screen(screen)
    verdicts: dict[int, Verdict] = {}
    fitting = []
    for i, tree in enumerate(trees):
        if len(tree) > max_nodes:
            verdicts[i] = Verdict(
                False, f"the tree has {len(tree)} nodes, over the cap {max_nodes}"
            )
        else:
            fitting.append(i)
    for start in range(0, len(fitting), CHUNK):
        chunk = fitting[start : start + CHUNK]
        found = _chunk_verdicts([trees[i] for i in chunk], max_nodes, screen)
        verdicts.update(zip(chunk, found, strict=True))
    return [verdicts[i] for i in range(len(trees))]


def check_validity(tree: Tree, max_nodes: int = NODE_CAP, screen: str = "thesis") -> Verdict:
    """The verdict of `screen` on one tree."""
    return check_validity_batch([tree], max_nodes, screen)[0]


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
