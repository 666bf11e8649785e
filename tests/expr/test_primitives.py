"""Protected primitives: finite values and gradients at edge inputs, one definition over any
array namespace."""

import ast
import inspect
import itertools
import textwrap

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from jaxgp.expr import primitives
from jaxgp.expr.primitives import GUARDS, PRIMITIVES, THRESHOLDS

EDGES = [0.0, -0.0, 1e-30, -1e-30, 1e-7, -3.5, 1.0, 1e30, -1e30, 80.0, 100.0]
PROTECTED = ["/", "sqrt", "log", "exp", "neg", "sin", "cos"]


@pytest.mark.parametrize("name", PROTECTED)
def test_protected_primitive_is_finite_with_finite_gradients_at_edge_inputs(name):
    primitive = PRIMITIVES[name]
    args = [(x,) for x in EDGES] if primitive.arity == 1 else list(itertools.product(EDGES, EDGES))
    for arg in args:
        arg = tuple(jnp.float32(a) for a in arg)
        value = primitive.fn(*arg)
        grads = jax.grad(primitive.fn, argnums=tuple(range(len(arg))))(*arg)
        assert np.isfinite(value), (name, arg, value)
        assert all(np.isfinite(g) for g in grads), (name, arg, grads)


@pytest.mark.parametrize("name", ["+", "-", "*"])
def test_plain_arithmetic_is_finite_where_the_result_is_representable(name):
    values = [0.0, -0.0, 1e-30, -3.5, 1e15, -1e15]
    for a, b in itertools.product(values, values):
        fn = PRIMITIVES[name].fn
        assert np.isfinite(fn(jnp.float32(a), jnp.float32(b)))
        assert all(np.isfinite(g) for g in jax.grad(fn, (0, 1))(jnp.float32(a), jnp.float32(b)))


def test_protected_values_match_the_documented_semantics():
    div, sqrt, log, exp = (PRIMITIVES[n].fn for n in ("/", "sqrt", "log", "exp"))
    assert div(3.0, 0.0) == 1.0 and div(3.0, 1e-7) == 1.0 and div(3.0, 2.0) == 1.5
    assert sqrt(-4.0) == 2.0 and sqrt(0.0) == 0.0
    np.testing.assert_allclose(log(-np.e), 1.0, rtol=1e-6)
    np.testing.assert_allclose(log(0.0), np.log(np.float32(1e-7)), rtol=1e-6)
    np.testing.assert_allclose(exp(1000.0), np.exp(np.float32(80.0)), rtol=1e-6)


def test_at_each_threshold_itself_the_guard_holds_and_just_past_it_the_plain_operator_runs():
    div, sqrt = GUARDS["/"].fn, GUARDS["sqrt"].fn
    eps, above = primitives.DIV_EPS, np.nextafter(primitives.DIV_EPS, 1.0)
    assert div(np, 3.0, eps) == 1.0 and div(np, 3.0, -eps) == 1.0
    assert div(np, 3.0, above) == 3.0 / above
    eps, above = primitives.SQRT_EPS, np.nextafter(primitives.SQRT_EPS, 1.0)
    assert sqrt(np, eps) == 0.0 and sqrt(np, -above) == np.sqrt(above)
    assert jax.grad(PRIMITIVES["log"].fn)(jnp.float32(primitives.LOG_EPS)) == 0.0
    assert jax.grad(PRIMITIVES["exp"].fn)(jnp.float32(primitives.EXP_MAX)) == 0.0
    below = np.nextafter(np.float32(primitives.EXP_MAX), np.float32(0.0))
    np.testing.assert_allclose(jax.grad(PRIMITIVES["exp"].fn)(below), np.exp(below), rtol=1e-6)


def test_single_where_would_give_nan_gradient_but_protected_log_does_not():
    naive = lambda x: jnp.where(x > 0, jnp.log(x), 0.0)  # noqa: E731
    assert np.isnan(jax.grad(naive)(0.0))
    assert jax.grad(PRIMITIVES["log"].fn)(0.0) == 0.0


def _namespace_use(fn):
    """(attributes read from `xp`, other names its body reads that are not its own)."""
    (function,) = ast.parse(textwrap.dedent(inspect.getsource(fn))).body
    body = [node for statement in function.body for node in ast.walk(statement)]
    names = [node for node in body if isinstance(node, ast.Name)]
    local = {arg.arg for arg in function.args.args}
    local |= {name.id for name in names if isinstance(name.ctx, ast.Store)}
    attributes = {
        node.attr
        for node in body
        if isinstance(node, ast.Attribute) and getattr(node.value, "id", None) == "xp"
    }
    return attributes, {name.id for name in names} - local


@pytest.mark.parametrize("symbol", list(GUARDS))
def test_a_guard_uses_only_what_every_array_namespace_has_and_the_thresholds(symbol):
    attributes, free = _namespace_use(GUARDS[symbol].fn)
    assert attributes <= {"where", "abs", "sqrt", "log", "exp"}
    assert free <= set(THRESHOLDS) and free == set(GUARDS[symbol].thresholds)


@pytest.mark.parametrize("symbol", list(GUARDS))
def test_a_guard_over_numpy_gives_the_values_of_jaxgps_operator(symbol):
    edges = np.asarray(EDGES, np.float32)
    operands = (edges[:, None], edges[None, :]) if PRIMITIVES[symbol].arity == 2 else (edges,)
    with np.errstate(over="ignore"):
        want = GUARDS[symbol].fn(np, *operands)
    np.testing.assert_allclose(PRIMITIVES[symbol].fn(*operands), want, rtol=1e-6)


def test_the_jax_operators_read_the_threshold_constants(monkeypatch):
    monkeypatch.setattr(primitives, "DIV_EPS", 0.5)
    monkeypatch.setattr(primitives, "EXP_MAX", 1.0)
    assert PRIMITIVES["/"].fn(3.0, 0.4) == 1.0 and PRIMITIVES["/"].fn(3.0, 0.6) == 5.0
    np.testing.assert_allclose(PRIMITIVES["exp"].fn(5.0), np.e, rtol=1e-6)
