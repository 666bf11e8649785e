"""The operator table of the loss language: one row per primitive, with its protected JAX form.

Every lowering (the closure of `lower`, the interpreter of `lower_batch`) and every export
uses exactly these definitions, so a loss means the same thing everywhere.

| text      | arity | value                                              | gradient          |
|-----------|-------|----------------------------------------------------|-------------------|
| `a + b`   | 2     | a + b                                              | usual             |
| `a - b`   | 2     | a - b                                              | usual             |
| `a * b`   | 2     | a * b                                              | usual             |
| `a / b`   | 2     | a / b if abs(b) > DIV_EPS (1e-6), else 1           | 0 where protected |
| `neg(a)`  | 1     | -a                                                 | usual             |
| `sqrt(a)` | 1     | sqrt(abs(a)) if abs(a) > SQRT_EPS (1e-12), else 0  | 0 where protected |
| `log(a)`  | 1     | log(max(abs(a), LOG_EPS))  (1e-7, Keras's epsilon) | 0 where clamped   |
| `exp(a)`  | 1     | exp(min(a, EXP_MAX))  (80)                         | 0 where clamped   |
| `sin(a)`  | 1     | sin(a)                                             | usual             |
| `cos(a)`  | 1     | cos(a)                                             | usual             |
| `csum(a)` | 1     | sum over classes of a, broadcast back to [B, C]    | usual (not diagonal) |

Leaves: `y_pred` (predicted probabilities, [B, C]), `y_true` (one-hot labels, [B, C]), a
float constant, and `prior` (the training split's class frequencies, [C], broadcast over the
batch like `y_true`). `prior` and `csum` belong to the `priors` language only
(`jaxgp.expr.language`); the thesis's language is the first ten rows and the first three
leaves.

The four protected operators are written once, as functions over an array namespace `xp`
(`GUARDS`: `guarded_div`, `guarded_sqrt`, `guarded_log`, `guarded_exp`). With `jax.numpy`
they are the `protected_*` functions of the table; `jaxgp.export` renders their own source
into the helpers of the JAX, PyTorch and Keras modules it writes. So their bodies use only
what every namespace has: `xp.where`, `xp.abs`, `xp.sqrt`, `xp.log`, `xp.exp`, arithmetic,
float literals and the threshold constants.

Protection keeps values finite for finite inputs in normal ranges and gradients finite
everywhere. A guard never evaluates a function at an input it rejects: a single
`where(ok, log(x), 0)` still differentiates `log` at the rejected `x` and multiplies its inf
by zero, giving NaN. Division and square root therefore replace a rejected operand with a
harmless one before the call and select the protected value after it (the double `where`);
log and exp clamp their argument before the call, which gives the clamped value a zero
gradient.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from types import ModuleType
from typing import Any

import jax.numpy as jnp

DIV_EPS = 1e-6
SQRT_EPS = 1e-12
LOG_EPS = 1e-7
EXP_MAX = 80.0
THRESHOLDS = ("DIV_EPS", "SQRT_EPS", "LOG_EPS", "EXP_MAX")
"""The names of the guards' thresholds; exported modules define them under the same names."""

Array = Any  # an array of the namespace `xp`: jax.numpy, torch or keras.ops


def guarded_div(xp: ModuleType, a: Array, b: Array) -> Array:
    """a / b if |b| > DIV_EPS, else 1."""
    ok = xp.abs(b) > DIV_EPS
    safe_b = xp.where(ok, b, 1.0)
    return xp.where(ok, a / safe_b, 1.0)


def guarded_sqrt(xp: ModuleType, a: Array) -> Array:
    """sqrt(|a|) if |a| > SQRT_EPS, else 0."""
    magnitude = xp.abs(a)
    ok = magnitude > SQRT_EPS
    safe = xp.where(ok, magnitude, 1.0)
    return xp.where(ok, xp.sqrt(safe), 0.0)


def guarded_log(xp: ModuleType, a: Array) -> Array:
    """log(max(|a|, LOG_EPS))."""
    magnitude = xp.abs(a)
    return xp.log(xp.where(magnitude > LOG_EPS, magnitude, LOG_EPS))


def guarded_exp(xp: ModuleType, a: Array) -> Array:
    """exp(min(a, EXP_MAX))."""
    return xp.exp(xp.where(a < EXP_MAX, a, EXP_MAX))


@dataclass(frozen=True)
class Guard:
    """A protected operator: `fn(xp, *operands)`, and `helper`, its name in exported modules."""

    helper: str
    fn: Callable[..., Array]

    @property
    def thresholds(self) -> tuple[str, ...]:
        """The threshold constants its body reads, in `THRESHOLDS` order."""
        return tuple(name for name in THRESHOLDS if name in self.fn.__code__.co_names)


GUARDS: dict[str, Guard] = {
    "/": Guard("div", guarded_div),
    "sqrt": Guard("sqrt", guarded_sqrt),
    "log": Guard("log", guarded_log),
    "exp": Guard("exp", guarded_exp),
}


def protected_div(a: jnp.ndarray, b: jnp.ndarray) -> jnp.ndarray:
    return guarded_div(jnp, a, b)


def protected_sqrt(a: jnp.ndarray) -> jnp.ndarray:
    return guarded_sqrt(jnp, a)


def protected_log(a: jnp.ndarray) -> jnp.ndarray:
    return guarded_log(jnp, a)


def protected_exp(a: jnp.ndarray) -> jnp.ndarray:
    return guarded_exp(jnp, a)


def class_sum(a: jnp.ndarray) -> jnp.ndarray:
    """The sum of `a` over classes (its last axis), broadcast back to the shape of `a`."""
    return jnp.broadcast_to(jnp.sum(a, axis=-1, keepdims=True), a.shape)


@dataclass(frozen=True)
class Primitive:
    """An operator of the loss language.

    `infix` is True for the four binary operators written between their operands; every
    other operator is written as a call `name(a)`.
    """

    name: str
    arity: int
    fn: Callable[..., jnp.ndarray]
    infix: bool = False
    precedence: int = 3


PRIMITIVES: dict[str, Primitive] = {
    p.name: p
    for p in (
        Primitive("+", 2, jnp.add, infix=True, precedence=1),
        Primitive("-", 2, jnp.subtract, infix=True, precedence=1),
        Primitive("*", 2, jnp.multiply, infix=True, precedence=2),
        Primitive("/", 2, protected_div, infix=True, precedence=2),
        Primitive("neg", 1, jnp.negative),
        Primitive("sqrt", 1, protected_sqrt),
        Primitive("log", 1, protected_log),
        Primitive("exp", 1, protected_exp),
        Primitive("sin", 1, jnp.sin),
        Primitive("cos", 1, jnp.cos),
        Primitive("csum", 1, class_sum),
    )
}

CLASS_REDUCTIONS = ("csum",)
"""Operators whose value at a class depends on the other classes: their derivative is not
element-wise (`jaxgp.expr.interpreter` carries it as a rank-one map)."""

LEAVES = ("y_pred", "y_true", "prior")
"""Named leaves; the other kind of leaf is a float constant."""

BINARY = tuple(name for name, p in PRIMITIVES.items() if p.arity == 2)
UNARY = tuple(name for name, p in PRIMITIVES.items() if p.arity == 1)
FUNCTIONS = UNARY
"""Every operator written as a call, in any language (the parser accepts them all)."""
