"""`jaxgp export`: each framework's module matches `jaxgp.lower` in value and gradient."""

import importlib.util
import json
import os
import re
import subprocess
import sys
import textwrap

import jax
import numpy as np
import pytest

import jaxgp
from jaxgp.export import (
    FRAMEWORK_SPECS,
    FRAMEWORKS,
    export,
    export_source,
    helper_source,
    used_helpers,
)
from jaxgp.expr import primitives
from jaxgp.expr.primitives import GUARDS, PRIMITIVES
from jaxgp.search.run_settings import build_settings
from jaxgp.search.rundir import RunDir
from tests.cli.invoke import run_main as jaxgp_cli
from tests.report.runs import synthetic_run

EXPRESSIONS = [
    "neg(y_true * log(y_pred))",
    "exp(2.4092 - y_pred * (1 + y_true)) - cos(cos(sin(y_pred)))",  # NGL
    # every guard taken somewhere: log(0), division by 0, sqrt(0), exp over 80
    "log(y_pred - y_pred) * y_true + y_true / (y_pred - y_pred) + sqrt(y_true * y_pred)"
    " + exp(100 * y_pred + y_true) * 1e-30",
    "sin(-1.3489 * 1.2911) + exp(cos(neg(4.4894 / y_pred) - neg(neg(y_true)))) * log(2.0)"
    " - -3.0 * sqrt(y_pred) / y_true + cos(sin(log(neg(y_true)))) * y_pred / log(2.8119)",
    "neg(neg(y_pred)) - (y_true - -0.5) * neg(y_pred * y_true)",
]
PRIOR_EXPRESSIONS = [  # the priors language: `prior` and `csum`
    "neg(y_true * log(y_pred)) / prior",  # cb
    "neg(y_true * log(y_pred * prior / csum(y_pred * prior)))",  # la
    "log(csum(exp(y_pred * 3.0))) - y_true * y_pred * 3.0",  # csum without prior
    "csum(2.0) * y_pred * y_true + csum(prior * y_true) * sqrt(y_pred) - csum(csum(y_pred))",
]
PRIOR = np.array([0.3, 0.2, 0.15, 0.1, 0.08, 0.06, 0.05, 0.03, 0.02, 0.01], np.float32)


def prior_for(expression):
    """The class priors an exported loss takes (None: it takes none)."""
    return PRIOR if "prior" in expression else None


def inputs(seed=0, batch=16, classes=10):
    rng = np.random.default_rng(seed)
    logits = (rng.standard_normal((batch, classes)) * 3).astype(np.float32)
    y_pred = np.exp(logits - logits.max(-1, keepdims=True))
    y_pred /= y_pred.sum(-1, keepdims=True)
    y_true = np.eye(classes, dtype=np.float32)[rng.integers(classes, size=batch)]
    return y_pred, y_true


def reference(expression, y_pred, y_true):
    loss = jaxgp.lower(jaxgp.parse(expression))
    value, grad = jax.value_and_grad(loss)(y_pred, y_true, prior_for(expression))
    return float(value), np.asarray(grad)


def assert_matches(expression, value, grad, y_pred, y_true):
    want_value, want_grad = reference(expression, y_pred, y_true)
    assert np.isfinite(value) and np.all(np.isfinite(grad))
    assert value == pytest.approx(want_value, rel=1e-5, abs=1e-6)
    scale = max(1.0, float(np.abs(want_grad).max()))
    np.testing.assert_allclose(grad, want_grad, rtol=1e-4, atol=1e-6 * scale)


def module(expression, framework):
    namespace = {}
    exec(export_source(jaxgp.parse(expression), framework), namespace)
    return namespace["loss"]


def call(loss, first, second, expression):
    """`loss(first, second)`, and the class priors where the loss takes them."""
    prior = prior_for(expression)
    return loss(first, second) if prior is None else loss(first, second, prior)


@pytest.mark.parametrize("expression", EXPRESSIONS + PRIOR_EXPRESSIONS)
def test_jax_export_matches_lower(expression):
    y_pred, y_true = inputs()
    loss = module(expression, "jax")
    value, grad = jax.value_and_grad(lambda p: call(loss, p, y_true, expression))(y_pred)
    assert_matches(expression, float(value), np.asarray(grad), y_pred, y_true)


@pytest.mark.parametrize("framework", FRAMEWORKS)
def test_a_loss_that_reads_the_priors_takes_them_and_says_how_to_compute_them(framework):
    text = export_source(jaxgp.parse(PRIOR_EXPRESSIONS[1]), framework)
    order = "y_true, y_pred" if framework == "keras" else "y_pred, y_true"
    assert f"def loss({order}, prior):" in text
    assert "def class_priors(labels, num_classes):" in text and "def _csum(a, like):" in text
    assert "prior = class_priors(train_labels, num_classes)" in text
    assert ("def loss_for(prior):" in text) == (framework == "keras")
    plain = export_source(jaxgp.parse(PRIOR_EXPRESSIONS[2]), framework)  # csum, no prior
    assert f"def loss({order}):" in plain and "class_priors" not in plain


def test_the_jax_modules_class_priors_are_the_training_splits_frequencies():
    from jaxgp.data.train_split import class_priors

    namespace = {}
    exec(export_source(jaxgp.parse(PRIOR_EXPRESSIONS[0]), "jax"), namespace)
    labels = np.random.default_rng(3).integers(10, size=200)
    np.testing.assert_allclose(
        namespace["class_priors"](labels, 10), class_priors(labels, 10), rtol=1e-6
    )


@pytest.mark.parametrize("language", ["thesis", "priors"])
def test_jax_export_of_random_trees_matches_the_interpreter(language):
    """Random trees against `lower_batch` (one compilation for all; `lower` is checked above)."""
    trees = jaxgp.random_trees(5, 8, config=jaxgp.TreeConfig(language=language))
    y_pred, y_true = inputs(seed=1, classes=10)
    stacked = np.broadcast_to(y_pred, (len(trees), *y_pred.shape))
    batched = jaxgp.lower_batch(trees)
    values = np.asarray(batched(stacked, y_true, PRIOR))
    grads = np.asarray(jax.grad(lambda p: batched(p, y_true, PRIOR).sum())(stacked))
    for tree, want_value, want_grad in zip(trees, values, grads, strict=True):
        loss = module(str(tree), "jax")
        value, grad = jax.value_and_grad(
            lambda p, loss=loss, text=str(tree): call(loss, p, y_true, text)
        )(y_pred)
        assert float(value) == pytest.approx(float(want_value), rel=1e-5, abs=1e-6), str(tree)
        scale = max(1.0, float(np.abs(want_grad).max()))
        np.testing.assert_allclose(grad, want_grad, rtol=1e-4, atol=1e-6 * scale, err_msg=str(tree))


@pytest.mark.parametrize("expression", EXPRESSIONS + PRIOR_EXPRESSIONS)
def test_torch_export_matches_lower(expression):
    torch = pytest.importorskip("torch", reason="PyTorch is not installed")
    y_pred, y_true = inputs()
    loss = module(expression, "torch")
    p = torch.tensor(y_pred, requires_grad=True)
    value = call(loss, p, torch.tensor(y_true), expression)
    value.backward()
    assert value.shape == ()
    assert_matches(expression, float(value.detach()), p.grad.numpy(), y_pred, y_true)


def test_torch_export_takes_class_indices():
    torch = pytest.importorskip("torch", reason="PyTorch is not installed")
    y_pred, y_true = inputs()
    loss = module(EXPRESSIONS[1], "torch")
    one_hot = loss(torch.tensor(y_pred), torch.tensor(y_true))
    indices = loss(torch.tensor(y_pred), torch.tensor(y_true.argmax(-1)))
    assert float(one_hot) == float(indices)


KERAS_SCRIPT = textwrap.dedent(
    """
    import json, sys
    import jax, keras, numpy as np
    assert keras.backend.backend() == "jax"
    cases = json.load(open(sys.argv[1]))
    data = np.load(sys.argv[2])
    y_pred, y_true, prior = data["y_pred"], data["y_true"], data["prior"]
    out = {}
    for index, source in enumerate(cases):
        namespace = {}
        exec(source, namespace)
        loss = namespace["loss"]
        if "loss_for" in namespace:  # a loss that reads the class priors
            loss = namespace["loss_for"](prior)

        class Compiled(keras.losses.Loss):  # what model.compile(loss=loss) does with it
            def call(self, y_true, y_pred):
                return loss(y_true, y_pred)

        per_sample = loss(y_true, y_pred)
        value, grad = jax.value_and_grad(lambda p: Compiled()(y_true, p))(y_pred)
        out[f"value{index}"] = np.asarray(value)
        out[f"grad{index}"] = np.asarray(grad)
        out[f"shape{index}"] = np.asarray(per_sample.shape)
    np.savez(sys.argv[3], **out)
    """
)


def test_keras_export_matches_lower(tmp_path):
    if importlib.util.find_spec("keras") is None:
        pytest.skip("Keras 3 is not installed (pip install keras)")
    y_pred, y_true = inputs()
    expressions = EXPRESSIONS + PRIOR_EXPRESSIONS
    sources = [export_source(jaxgp.parse(e), "keras") for e in expressions]
    (tmp_path / "cases.json").write_text(json.dumps(sources))
    np.savez(tmp_path / "data.npz", y_pred=y_pred, y_true=y_true, prior=PRIOR)
    (tmp_path / "check.py").write_text(KERAS_SCRIPT)
    env = {**os.environ, "KERAS_BACKEND": "jax"}
    process = subprocess.run(
        [sys.executable, str(tmp_path / "check.py"), str(tmp_path / "cases.json"),
         str(tmp_path / "data.npz"), str(tmp_path / "out.npz")],
        capture_output=True, text=True, env=env, timeout=300,
    )  # fmt: skip
    assert process.returncode == 0, process.stderr[-3000:]
    results = np.load(tmp_path / "out.npz")
    for index, expression in enumerate(expressions):
        assert tuple(results[f"shape{index}"]) == (y_pred.shape[0],)  # one value per sample
        value, grad = float(results[f"value{index}"]), results[f"grad{index}"]
        assert_matches(expression, value, grad, y_pred, y_true)


@pytest.mark.parametrize("framework", FRAMEWORKS)
def test_module_text(framework):
    tree = jaxgp.parse("log(y_pred) / y_true")
    text = export_source(tree, framework)
    assert text.startswith('"""A loss function found by jaxgp')
    assert "    loss = log(y_pred) / y_true" in text
    assert "Source: given on the command line." in text
    assert "jaxgp" not in text.split('"""')[2].replace("jaxgp's", "")  # standalone code
    order = "loss(y_true, y_pred)" if framework == "keras" else "loss(y_pred, y_true)"
    assert f"def {order}:" in text
    assert "def _log(" in text and "def _div(" in text and "def _exp(" not in text
    assert used_helpers(tree) == ["div", "log"]


def test_the_jax_modules_helpers_equal_jaxgps_operators_in_value_and_gradient_at_the_edges():
    namespace = {}
    exec(export_source(jaxgp.parse(EXPRESSIONS[2]), "jax"), namespace)  # every guard
    edges = np.asarray([0.0, 1e-13, -1e-12, 1e-7, -1e-6, 2e-6, 0.3, -2.0, 79.9, 80.0, 1e3], "f4")
    for symbol, guard in GUARDS.items():
        helper, reference = namespace[f"_{guard.helper}"], PRIMITIVES[symbol].fn
        operands = np.meshgrid(edges, edges) if PRIMITIVES[symbol].arity == 2 else [edges]
        argnums = tuple(range(len(operands)))
        np.testing.assert_array_equal(helper(*operands), reference(*operands), err_msg=symbol)
        for got, want in zip(
            jax.grad(lambda *x, fn=helper: fn(*x).sum(), argnums)(*operands),
            jax.grad(lambda *x, fn=reference: fn(*x).sum(), argnums)(*operands),
            strict=True,
        ):
            np.testing.assert_array_equal(got, want, err_msg=symbol)


@pytest.mark.parametrize("framework", FRAMEWORKS)
def test_a_generated_helper_is_the_guards_own_source_in_the_frameworks_namespace(framework):
    text = export_source(jaxgp.parse(EXPRESSIONS[2]), framework)
    namespace = FRAMEWORK_SPECS[framework].ns
    for symbol, guard in GUARDS.items():
        helper = helper_source(symbol, namespace)
        assert helper in text
        assert helper.startswith(f"def _{guard.helper}(")
        assert not re.search(r"\bxp\b", helper) and f"{namespace}.where(" in helper


def test_changing_a_threshold_changes_jaxgps_operators_and_every_generated_module(monkeypatch):
    tree = jaxgp.parse(EXPRESSIONS[2])
    before = {framework: export_source(tree, framework) for framework in FRAMEWORKS}
    changed = {"DIV_EPS": 0.5, "SQRT_EPS": 0.25, "LOG_EPS": 0.125, "EXP_MAX": 2.0}
    for name, value in changed.items():
        monkeypatch.setattr(primitives, name, value)
    for framework in FRAMEWORKS:
        text = export_source(tree, framework)
        assert text != before[framework]
        for name, value in changed.items():
            assert f"\n{name} = {value!r}\n" in text
        assert "a / b    = a / b if |b| > 0.5, else 1" in text
        assert "exp(a)   = exp(min(a, 2))" in text
    namespace = {}
    exec(export_source(tree, "jax"), namespace)
    x = np.asarray([0.1, 0.2, 0.4, 3.0], np.float32)
    for symbol, guard in GUARDS.items():
        operands = (np.float32(1.0), x) if PRIMITIVES[symbol].arity == 2 else (x,)
        np.testing.assert_array_equal(
            namespace[f"_{guard.helper}"](*operands), PRIMITIVES[symbol].fn(*operands)
        )
    np.testing.assert_array_equal(PRIMITIVES["/"].fn(1.0, x), np.float32([1, 1, 1, 1 / 3]))
    np.testing.assert_allclose(PRIMITIVES["exp"].fn(x), np.exp([0.1, 0.2, 0.4, 2.0]), rtol=1e-6)


def test_long_expressions_are_wrapped():
    text = export_source(jaxgp.parse(EXPRESSIONS[3]), "torch")
    assert max(len(line) for line in text.splitlines()) <= 100


def test_run_directory_exports_its_best_loss(tmp_path):
    run_dir = synthetic_run(tmp_path / "run")
    source, text = export(str(run_dir), "jax")
    assert str(source.tree) == "neg(y_true * log(y_pred + 0.5))"
    assert str(run_dir.resolve()) in " ".join(text.split())
    assert "finished run" in " ".join(text.split()) and "+40.00 %" in text
    (run_dir / "summary.json").unlink()  # in progress: the best in the ledger so far
    source, text = export(str(run_dir), "torch")
    assert str(source.tree) == "neg(y_true * log(y_pred + 0.5))"
    assert "run in progress" in " ".join(text.split())


def test_named_tree_loss():
    source, text = export("ngl", "jax")
    assert str(source.tree) == str(jaxgp.parse(jaxgp.losses.TREE_LOSSES["ngl"]))
    assert "named loss 'ngl'" in text


def test_cli_writes_a_file(monkeypatch, capsys, tmp_path):
    target = tmp_path / "my_loss.py"
    args = ("export", "neg(y_true * log(y_pred))", "--framework", "jax", "-o", str(target))
    code, out, err = jaxgp_cli(monkeypatch, capsys, *args)
    assert code in (0, None) and out == "" and "wrote" in err
    namespace = {}
    exec(target.read_text(), namespace)
    y_pred, y_true = inputs()
    assert float(namespace["loss"](y_pred, y_true)) == pytest.approx(
        reference("neg(y_true * log(y_pred))", y_pred, y_true)[0], rel=1e-6
    )


def test_cli_prints_to_stdout(monkeypatch, capsys):
    code, out, _ = jaxgp_cli(monkeypatch, capsys, "export", "y_pred * y_true", "-f", "torch")
    assert code in (0, None) and out.startswith('"""') and "import torch" in out


@pytest.mark.parametrize(
    "args",
    [
        ["y_pred * y_true", "--framework", "tensorflow"],
        ["y_pred * (y_true"],
        ["y_pred ** 2"],
        ["nonexistent/run_dir"],
        ["NOT_A_RUN"],
        ["EMPTY_RUN"],
    ],
)
def test_cli_bad_input_is_one_line_and_exit_2(args, monkeypatch, capsys, tmp_path):
    if args[0] == "NOT_A_RUN":
        args = [str(tmp_path)]
    if args[0] == "EMPTY_RUN":
        RunDir.create(tmp_path / "run", build_settings("evolve").to_dict())
        args = [str(tmp_path / "run")]
    code, _, err = jaxgp_cli(monkeypatch, capsys, "export", *args)
    assert code == 2
    assert err.startswith("error: ") and err.count("\n") == 1
