"""Both lowerings agree in value and gradient, and the interpreter compiles once."""

from functools import cache, partial

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from jaxgp import ExpressionError, TreeConfig, lower, lower_batch, parse, random_trees
from jaxgp.compilation import count_compilations
from jaxgp.expr.interpreter import program_loss
from jaxgp.expr.lower import over_candidates, strategy_loss
from jaxgp.expr.program import NODE_CAP, Program, encode, encode_batch
from tests.expr.control_flow import hlo_loops_and_conditionals, jaxpr_primitives


def _inputs(k, batch, classes, seed=0):
    rng = np.random.default_rng(seed)
    logits = rng.standard_normal((k, batch, classes)).astype(np.float32)
    y_pred = np.exp(logits) / np.exp(logits).sum(-1, keepdims=True)
    y_true = np.eye(classes, dtype=np.float32)[rng.integers(classes, size=(k, batch))]
    return jnp.asarray(y_pred), jnp.asarray(y_true)


def test_lower_matches_a_numpy_evaluation_of_the_ngl_formula():
    y_pred, y_true = _inputs(1, 16, 10)
    p, y = np.asarray(y_pred[0], np.float64), np.asarray(y_true[0], np.float64)
    expected = np.mean(np.exp(2.4092 - p * (1 + y)) - np.cos(np.cos(np.sin(p))))
    tree = parse("exp(2.4092 - y_pred*(1 + y_true)) - cos(cos(sin(y_pred)))")
    np.testing.assert_allclose(lower(tree)(y_pred[0], y_true[0]), expected, rtol=1e-5)
    np.testing.assert_allclose(lower_batch([tree])(y_pred[0], y_true[0])[0], expected, rtol=1e-5)


@cache
def _one_tree_at_a_time(classes):
    """12 random trees, their inputs, and each tree's value and gradient through `lower`
    (one compilation per tree: computed once for both strategies)."""
    trees = random_trees(classes, 12)
    y_pred, y_true = _inputs(len(trees), 8, classes, seed=classes)
    singles = [lower(tree) for tree in trees]
    values = [single(y_pred[i], y_true[i]) for i, single in enumerate(singles)]
    grads = [jax.grad(single)(y_pred[i], y_true[i]) for i, single in enumerate(singles)]
    return trees, y_pred, y_true, values, grads


@pytest.mark.usefixtures("compiled_with_fewer_optimisations")
@pytest.mark.parametrize("strategy", ["vmap", "map"])
@pytest.mark.parametrize("classes", [10, 100])
def test_lower_and_lower_batch_agree_in_value_and_gradient_on_random_trees(classes, strategy):
    trees, y_pred, y_true, single_values, single_grads = _one_tree_at_a_time(classes)
    batched = lower_batch(trees, strategy=strategy)

    @jax.jit
    def values_and_grads(y_pred):
        values, pullback = jax.vjp(lambda p: batched(p, y_true), y_pred)
        return values, pullback(jnp.ones_like(values))[0]

    values, grads = values_and_grads(y_pred)
    for i in range(len(trees)):
        np.testing.assert_allclose(values[i], single_values[i], rtol=1e-5, atol=1e-7)
        # Cancellations such as y_pred / y_pred leave float32 rounding noise of either
        # sign in both lowerings; the absolute tolerance is 1e-4 of a typical element.
        atol = 1e-4 / y_pred[i].size
        np.testing.assert_allclose(grads[i], single_grads[i], rtol=1e-5, atol=atol)


def test_lower_batch_accepts_a_shared_batch():
    trees = [parse("neg(y_true * log(y_pred))"), parse("(y_pred - y_true) * (y_pred - y_true)")]
    y_pred, y_true = _inputs(1, 8, 10)
    shared = lower_batch(trees)(y_pred[0], y_true[0])
    per_tree = lower_batch(trees)(jnp.stack([y_pred[0]] * 2), jnp.stack([y_true[0]] * 2))
    np.testing.assert_allclose(shared, per_tree, rtol=1e-6)


def test_lower_batch_on_new_trees_does_not_compile_again():
    first, second = random_trees(1, 8), random_trees(2, 8)
    y_pred, y_true = _inputs(8, 64, 10)
    value_and_grad = lambda f: jax.value_and_grad(lambda p: f(p, y_true).sum())(y_pred)  # noqa: E731
    jax.block_until_ready(value_and_grad(lower_batch(first)))
    with count_compilations() as stats:
        jax.block_until_ready(value_and_grad(lower_batch(second)))
        jax.block_until_ready(lower_batch(first)(y_pred, y_true))
        jax.block_until_ready(lower_batch(second)(y_pred, y_true))
    # The plain forward call compiles once for its (new) transformation; new trees never do.
    assert stats.count <= 1
    with count_compilations() as stats:
        for seed in range(3, 6):
            jax.block_until_ready(value_and_grad(lower_batch(random_trees(seed, 8))))
            jax.block_until_ready(lower_batch(random_trees(seed, 8))(y_pred, y_true))
    assert stats.count == 0


def test_a_tree_over_the_node_cap_is_refused_with_its_size():
    tree = parse(" + ".join(["y_pred"] * 40))
    with pytest.raises(
        ExpressionError, match=f"79 nodes but the interpreter's node cap is {NODE_CAP}"
    ):
        encode(tree)


def _gradient_temp_bytes(max_nodes, form, language):
    tree = parse("neg(y_true * log(y_pred))")
    y_pred, y_true = _inputs(1, 64, 10)
    program = Program(*(jnp.asarray(f) for f in encode(tree, max_nodes)))
    loss = partial(program_loss, form=form, language=language)
    grad = jax.jit(jax.grad(lambda p, q: loss(q, p, y_true[0])))
    return grad.lower(y_pred[0], program).compile().memory_analysis().temp_size_in_bytes


@pytest.mark.parametrize("language", ["thesis", "priors"])
@pytest.mark.parametrize(
    ("form", "small_cap", "large_cap"), [("switch", 64, 256), ("select", 16, 64)]
)
def test_interpreter_gradient_memory_grows_linearly_with_the_node_cap(
    form, small_cap, large_cap, language
):
    """A register file carried through reverse mode would store it at every step: N**2; the
    priors language's rank-one maps keep it linear too."""
    small = _gradient_temp_bytes(small_cap, form, language)
    large = _gradient_temp_bytes(large_cap, form, language)
    assert large / small < 6  # linear: about 4; quadratic: about 16


@pytest.mark.parametrize("strategy", ["vmap", "map"])
def test_over_candidates_runs_a_single_candidate_without_a_loop_and_many_alike(strategy):
    def fn(a, shared, b):
        return {"sum": a @ shared + b, "scale": jnp.sum(a) * b}

    run = over_candidates(fn, (0, None, 0), strategy)
    rng = np.random.default_rng(0)
    a = jnp.asarray(rng.standard_normal((3, 4, 5)), jnp.float32)
    shared = jnp.asarray(rng.standard_normal((5, 2)), jnp.float32)
    b = jnp.asarray(rng.standard_normal((3,)), jnp.float32)
    many = run(a, shared, b)
    for i in range(3):
        np.testing.assert_allclose(many["sum"][i], np.asarray(a[i]) @ shared + b[i], rtol=1e-5)
    one = run(a[:1], shared, b[:1])
    np.testing.assert_allclose(one["sum"], many["sum"][:1], rtol=1e-6)
    assert one["scale"].shape == (1,)
    primitives = {eqn.primitive.name for eqn in jax.make_jaxpr(run)(a[:1], shared, b[:1]).eqns}
    assert not primitives & {"scan", "while"}


def _value_and_grad(strategy, k, language="thesis"):
    config = TreeConfig(language=language)
    program = Program(*(jnp.asarray(f) for f in encode_batch(random_trees(5, k, config=config))))
    y_pred, y_true = _inputs(k, 16, 10)
    loss = strategy_loss(program_loss, strategy, language)

    def total(y_pred, program):
        return over_candidates(loss, (0, 0, 0), strategy)(program, y_pred, y_true).sum()

    return jax.jit(jax.value_and_grad(total)), (y_pred, program)


@pytest.mark.parametrize("language", ["thesis", "priors"])
@pytest.mark.parametrize("k", [1, 4])
def test_the_vmap_strategy_lowers_a_loss_without_loops_or_conditionals(k, language):
    """On XLA:GPU a data-dependent loop or a conditional makes the host wait at each row."""
    fn, arguments = _value_and_grad("vmap", k, language)
    assert not jaxpr_primitives(jax.make_jaxpr(fn)(*arguments)) & {"while", "cond"}
    flow = hlo_loops_and_conditionals(fn.lower(*arguments).compile().as_text())
    assert flow == {"while": 0, "while_unknown_trip_count": 0, "conditional": 0}


def test_the_map_strategy_keeps_a_conditional_per_row_and_a_data_dependent_loop():
    fn, arguments = _value_and_grad("map", 1)
    assert {"while", "cond"} <= jaxpr_primitives(jax.make_jaxpr(fn)(*arguments))
    flow = hlo_loops_and_conditionals(fn.lower(*arguments).compile().as_text())
    assert flow["while_unknown_trip_count"] >= 1 and flow["conditional"] >= 1
