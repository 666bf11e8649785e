"""Trees that train alike: a fingerprint of what a loss does to a model.

A model trained with Adam sees only the direction of the loss's gradient with respect to
the predicted probabilities, so two trees whose gradients agree up to a positive factor
train the same model. `prior * y_pred + sin(prior) + exp(y_true - y_pred)` and
`prior * y_pred + 0.618 + exp(y_true - y_pred)` differ only by a term that does not depend
on `y_pred`: one loss under two texts. In the priors language, whose `prior` leaf is such a
constant, the search's final populations filled up with them (7 of 32 members of one
tiny-lt run were one loss; benchmarks/RESULTS.md section 11).

`fingerprints` is, per tree, the gradient of its mean loss with respect to `y_pred` on the
validity filter's 10-class probe (at long-tailed priors for a language that reads them),
divided by its largest magnitude and rounded to `DIGITS` significant digits: equal for
trees that train alike, different otherwise (up to the rounding, and barring two losses
that agree on 640 random points).
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import partial

import jax
import jax.numpy as jnp
import numpy as np

from jaxgp.expr.interpreter import program_loss
from jaxgp.expr.language import Language, get_language
from jaxgp.expr.lower import FORM_OF_STRATEGY, default_strategy, over_candidates
from jaxgp.expr.program import NODE_CAP, Program, encode_batch
from jaxgp.expr.tree import Tree

DIGITS = 5
CHUNK = 16


@partial(jax.jit, static_argnames="language")
def _gradients(program: Program, y_pred, y_true, prior, language: Language):
    loss = partial(program_loss, form=FORM_OF_STRATEGY[default_strategy()], language=language)

    def one(program):
        return jax.grad(loss, argnums=1)(program, y_pred, y_true, prior)

    return over_candidates(one, (0,), default_strategy())(program)


def _probe(language: Language) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    from jaxgp.expr.validity import PROBE_CLASSES, probe_priors, probes

    (y_pred, y_true), classes = probes()[0], PROBE_CLASSES[0]
    return y_pred, y_true, probe_priors(classes, language)[-1]


def fingerprint(gradient: np.ndarray) -> bytes:
    """A gradient's direction, rounded: what `fingerprints` compares."""
    gradient = np.asarray(gradient, np.float64)
    scale = np.max(np.abs(gradient))
    if not np.isfinite(scale) or scale == 0:
        return b"degenerate:" + gradient.tobytes()
    direction = gradient / scale
    exponent = np.floor(np.log10(np.maximum(np.abs(direction), 1e-300)))
    step = 10.0 ** (exponent - DIGITS + 1)
    rounded = np.where(np.abs(direction) < 1e-12, 0.0, np.round(direction / step) * step)
    return np.asarray(rounded, np.float64).tobytes()


def fingerprints(
    trees: Sequence[Tree], language: Language | str, max_nodes: int = NODE_CAP
) -> list[bytes]:
    """Each tree's training fingerprint (see the module's docstring)."""
    language = get_language(language)
    y_pred, y_true, prior = _probe(language)
    result: list[bytes] = []
    for start in range(0, len(trees), CHUNK):
        chunk = list(trees[start : start + CHUNK])
        padded = chunk + [chunk[0]] * (CHUNK - len(chunk))
        program = Program(*(jnp.asarray(f) for f in encode_batch(padded, max_nodes)))
        gradients = np.asarray(_gradients(program, y_pred, y_true, prior, language))
        result += [fingerprint(g) for g in gradients[: len(chunk)]]
    return result
