"""The operator table of the loss language: one row per primitive, with its protected JAX form.

Every lowering (the closure of `lower`, the interpreter of `lower_batch`) and every export
uses exactly these functions, so a loss means the same thing everywhere.

| text      | arity | value                                            | gradient                  |
|-----------|-------|--------------------------------------------------|---------------------------|
| `a + b`   | 2     | a + b                                            | usual                     |
| `a - b`   | 2     | a - b                                            | usual                     |
| `a * b`   | 2     | a * b                                            | usual                     |
| `a / b`   | 2     | a / b if abs(b) > 1e-6, else 1                   | 0 where protected         |
| `neg(a)`  | 1     | -a                                               | usual                     |
| `sqrt(a)` | 1     | sqrt(abs(a)) if abs(a) > 1e-12, else 0           | 0 where protected         |
| `log(a)`  | 1     | log(max(abs(a), 1e-7))  (Keras's epsilon)        | 0 where clamped           |
| `exp(a)`  | 1     | exp(min(a, 80))                                  | 0 where clamped           |
| `sin(a)`  | 1     | sin(a)                                           | usual                     |
| `cos(a)`  | 1     | cos(a)                                           | usual                     |

Protection keeps values finite for finite inputs in normal ranges and gradients finite
everywhere. Branches use the double-`where` form: a single `where(ok, log(x), 0)` still
differentiates `log` at the rejected `x` and multiplies its inf by zero, giving NaN.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import jax.numpy as jnp

DIV_EPS = 1e-6
SQRT_EPS = 1e-12
LOG_EPS = 1e-7
EXP_MAX = 80.0


def protected_div(a: jnp.ndarray, b: jnp.ndarray) -> jnp.ndarray:
    ok = jnp.abs(b) > DIV_EPS
    safe_b = jnp.where(ok, b, 1.0)
    return jnp.where(ok, a / safe_b, 1.0)


def protected_sqrt(a: jnp.ndarray) -> jnp.ndarray:
    magnitude = jnp.abs(a)
    ok = magnitude > SQRT_EPS
    safe = jnp.where(ok, magnitude, 1.0)
    return jnp.where(ok, jnp.sqrt(safe), 0.0)


def protected_log(a: jnp.ndarray) -> jnp.ndarray:
    magnitude = jnp.abs(a)
    ok = magnitude > LOG_EPS
    safe = jnp.where(ok, magnitude, LOG_EPS)
    return jnp.where(ok, jnp.log(safe), jnp.log(LOG_EPS))


def protected_exp(a: jnp.ndarray) -> jnp.ndarray:
    ok = a < EXP_MAX
    safe = jnp.where(ok, a, EXP_MAX)
    return jnp.where(ok, jnp.exp(safe), jnp.exp(EXP_MAX))


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
    )
}

LEAVES = ("y_pred", "y_true")
"""Named leaves; the third kind of leaf is a float constant."""

BINARY = tuple(name for name, p in PRIMITIVES.items() if p.arity == 2)
UNARY = tuple(name for name, p in PRIMITIVES.items() if p.arity == 1)
FUNCTIONS = UNARY
