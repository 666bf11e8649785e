"""`jaxgp export --framework sympy|latex` and `jaxgp show --latex`: the formula of a loss,
checked in value against `jaxgp.lower` on probes (those of the other exports, and inputs
where the guards apply)."""

import subprocess
import sys

import numpy as np
import pytest

import jaxgp
from jaxgp.export import export_source
from jaxgp.expr.primitives import GUARDS, PRIMITIVES
from tests.cli.invoke import run_main as jaxgp_cli
from tests.test_export import EXPRESSIONS, PRIOR, PRIOR_EXPRESSIONS

sympy = pytest.importorskip("sympy", reason="SymPy is not installed (pip install sympy)")

from jaxgp.symbolic import namespace, to_sympy  # noqa: E402  (needs SymPy)


def probes(seed, classes, batch=16):
    """Softmax of standard-normal logits, as the validity probes: no probability so small
    that float32 (jaxgp) and float64 (the formula) part ways on `cos(4.4894 / y_pred)`."""
    rng = np.random.default_rng(seed)
    logits = rng.standard_normal((batch, classes))
    y_pred = np.exp(logits) / np.exp(logits).sum(-1, keepdims=True)
    y_true = np.eye(classes)[rng.integers(classes, size=batch)]
    return y_pred.astype(np.float32), y_true.astype(np.float32)


def edge_probes(classes=10):
    """Predictions with exact 0s and 1s (a confident model in float32): log(0), division by
    0 and sqrt(0) are where the guards apply."""
    y_pred, y_true = probes(2, classes, batch=8)
    y_pred[:3] = np.eye(classes, dtype=np.float32)[[0, 4, 9]]
    y_true[1] = np.eye(classes, dtype=np.float32)[3]
    return y_pred, y_true


def module_of(tree):
    namespace = {"__name__": "exported"}
    exec(export_source(tree, "sympy"), namespace)
    return namespace


def float64_loss(tree, y_pred, y_true, prior):
    """jaxgp's loss in float64: the tree read node by node with jaxgp's own guards
    (`GUARDS`, over NumPy) and NumPy's + - * neg sin cos and class sum, independent of
    SymPy. jaxgp computes in float32, which a tree like `sin(exp(y_true / y_pred))` turns
    into a different number; this is the value such a formula has."""
    y_pred, y_true, prior = (np.asarray(a, np.float64) for a in (y_pred, y_true, prior))
    plain = {"+": np.add, "-": np.subtract, "*": np.multiply, "neg": np.negative,
             "sin": np.sin, "cos": np.cos}  # fmt: skip

    def value(index):
        node = tree.nodes[index]
        if not isinstance(node, str):
            return np.float64(node)
        if node in ("y_pred", "y_true", "prior"):
            return {"y_pred": y_pred, "y_true": y_true, "prior": prior}[node]
        args = [value(kid) for kid in tree.children(index)]
        if node == "csum":
            return np.broadcast_to(args[0], y_pred.shape).sum(-1, keepdims=True)
        return GUARDS[node].fn(np, *args) if node in GUARDS else plain[node](*args)

    with np.errstate(all="ignore"):
        return float(np.mean(np.broadcast_to(value(0), y_pred.shape)))


def cases():
    for y_pred, y_true in (probes(0, 10), probes(5, 100), edge_probes()):
        yield y_pred, y_true, PRIOR if y_pred.shape[1] == 10 else np.full(100, 0.01, np.float32)


@pytest.mark.parametrize("expression", EXPRESSIONS + PRIOR_EXPRESSIONS)
def test_the_sympy_module_computes_jaxgps_loss(expression):
    tree = jaxgp.parse(expression)
    module = module_of(tree)
    for y_pred, y_true, prior in cases():
        want = float(jaxgp.lower(tree)(y_pred, y_true, prior))
        assert module["evaluate"](y_pred, y_true, prior) == pytest.approx(want, rel=1e-4, abs=1e-5)
        exact = float64_loss(tree, y_pred, y_true, prior)
        assert exact == pytest.approx(want, rel=1e-4, abs=1e-5)  # the reference is jaxgp's


@pytest.mark.parametrize("language", ["thesis", "priors"])
def test_the_sympy_module_of_random_trees_computes_jaxgps_loss_in_float64(language):
    for tree in jaxgp.random_trees(11, 12, config=jaxgp.TreeConfig(language=language)):
        module = module_of(tree)
        for y_pred, y_true, prior in cases():
            want = float64_loss(tree, y_pred, y_true, prior)
            got = module["evaluate"](y_pred, y_true, prior)
            assert got == pytest.approx(want, rel=1e-7, abs=1e-9), str(tree)


def test_prior_is_a_per_class_symbol_and_csum_an_explicit_sum_over_classes():
    module = module_of(jaxgp.parse(PRIOR_EXPRESSIONS[1]))  # la
    element, prior, y_pred = module["element"], module["prior"], module["y_pred"]
    b, c, j, big_c = (module[name] for name in ("b", "c", "j", "C"))
    (total,) = element.atoms(sympy.Sum)
    assert total.limits == ((j, 1, big_c),)
    assert total.function == prior[j] * y_pred[b, j]
    assert prior[c] in element.atoms(sympy.Indexed)  # indexed by the class only
    assert "prior[c] the class prior of the training split" in module["__doc__"].replace("\n", " ")


def names_in(expression):
    return [type(node).__name__ for node in sympy.preorder_traversal(expression)]


def test_guards_that_cannot_apply_on_probabilities_are_dropped_and_the_others_kept():
    ngl = to_sympy(jaxgp.parse(EXPRESSIONS[1])).element  # exp(2.4092 - ...) stays under 80
    assert ngl.has(sympy.exp) and not any(
        type(f).__name__ == "pexp" for f in sympy.preorder_traversal(ngl)
    )
    ce = to_sympy(jaxgp.parse(EXPRESSIONS[0])).element  # log(y_pred) meets y_pred = 0
    assert "plog" in names_in(ce)
    division = to_sympy(jaxgp.parse("y_true / (y_pred + 2.0) + y_pred / y_true")).element
    assert names_in(division).count("pdiv") == 1  # y_true may be 0; y_pred + 2 may not


def test_each_guard_function_applies_jaxgps_guard_at_numbers_and_in_its_piecewise_form():
    names = namespace()
    functions = {"/": "pdiv", "sqrt": "psqrt", "log": "plog", "exp": "pexp"}
    edges = [0.0, 1e-13, -1e-12, 1e-7, -1e-6, 2e-6, 0.3, -2.0, 79.9, 80.0, 1e3]
    x = sympy.Symbol("x", real=True)
    for symbol, name in functions.items():
        function = names[name]
        for value in edges:
            operands = (0.7, value) if PRIMITIVES[symbol].arity == 2 else (value,)
            want = float(GUARDS[symbol].fn(np, *map(np.float64, operands)))
            got = float(function(*map(sympy.Float, operands)))
            assert got == pytest.approx(want, rel=1e-6), (name, value)
            piecewise = function(*(operands[:-1] + (x,))).rewrite(sympy.Piecewise)
            assert float(piecewise.subs(x, operands[-1])) == pytest.approx(want, rel=1e-6)


def test_the_sympy_module_runs_on_its_own(tmp_path):
    path = tmp_path / "la_loss.py"
    path.write_text(export_source(jaxgp.parse(PRIOR_EXPRESSIONS[1]), "sympy"))
    done = subprocess.run([sys.executable, str(path)], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert r"\ell_{b,c} = " in done.stdout and r"\sum_{j=1}^{C}" in done.stdout


def test_the_latex_is_the_value_checked_formula_with_its_guards_defined():
    tree = jaxgp.parse(PRIOR_EXPRESSIONS[1])
    text = export_source(tree, "latex")
    module = module_of(tree)
    names = {module[leaf].label: tex for leaf, tex in
             (("y_pred", r"\hat{y}"), ("y_true", "y"), ("prior", r"\pi"))}  # fmt: skip
    assert r"\ell_{b,c} &= " + sympy.latex(module["element"], symbol_names=names) in text
    assert r"\mathcal{L} &= \frac{1}{BC} \sum_{b=1}^{B} \sum_{c=1}^{C} \ell_{b,c}" in text
    assert r"{\pi}_{c}" in text and r"\sum_{j=1}^{C} {\pi}_{j} {\hat{y}}_{b,j}" in text
    assert r"\operatorname{plog}(a) &= \log \max(|a|, 10^{-7})" in text
    assert r"\operatorname{pdiv}(a, b) &= \begin{cases} a / b & |b| > 10^{-6}" in text
    assert "psqrt" not in text and "pexp" not in text


def test_cli_writes_the_formula_and_show_prints_its_latex(monkeypatch, capsys, tmp_path):
    target = tmp_path / "ngl.tex"
    code, out, err = jaxgp_cli(
        monkeypatch, capsys, "export", "ngl", "-f", "latex", "-o", str(target)
    )
    assert code == 0 and out == "" and f"wrote {target}: latex formula of " in err
    code, shown, _ = jaxgp_cli(monkeypatch, capsys, "show", "ngl", "--latex")
    assert code == 0 and shown == target.read_text()
    code, out, _ = jaxgp_cli(monkeypatch, capsys, "export", "ngl", "-f", "sympy")
    assert code == 0 and out.startswith('"""A loss function found by jaxgp, as a SymPy expression.')


def test_a_loss_written_as_a_function_has_no_formula(monkeypatch, capsys):
    code, _, err = jaxgp_cli(monkeypatch, capsys, "show", "focal", "--latex")
    assert code == 2 and err.startswith("error: ") and err.count("\n") == 1
