"""`jaxgp show`: the tree diagram, size and height, the verdict and the probe values."""

import jax
import numpy as np
import pytest

import jaxgp
from jaxgp.expr.validity import probes
from jaxgp.show import describe, diagram, render
from tests.cli.invoke import run_main as jaxgp_cli


def test_diagram():
    tree = jaxgp.parse("neg(y_true * log(y_pred)) + -0.5")
    assert diagram(tree).splitlines() == [
        "+",
        "├── neg",
        "│   └── *",
        "│       ├── y_true",
        "│       └── log",
        "│           └── y_pred",
        "└── -0.5",
    ]


def test_valid_tree():
    description = describe("neg(y_true * log(y_pred))")
    assert description.verdict.ok
    data = description.to_dict()
    assert (data["size"], data["height"], data["valid"]) == (5, 3, True)
    loss = jax.value_and_grad(jaxgp.lower(description.tree))
    for probe, (y_pred, y_true) in zip(description.probes, probes(), strict=True):
        value, grad = loss(y_pred, y_true)
        assert probe.loss == pytest.approx(float(value))
        assert probe.gradient_finite
        assert probe.gradient_max == pytest.approx(float(np.abs(grad).max()))
    text = render(description)
    assert "size 5 nodes, height 3" in text
    assert "validity (the thesis's filter, --screen thesis): valid" in text
    assert "learnability (--screen learnable): passes" in text
    assert data["learnable"] and data["learnable_reason"] == ""
    assert " 10 classes: loss " in text and "100 classes: loss " in text


@pytest.mark.parametrize(
    "expression, reason",
    [
        ("y_pred * 1e-9 * y_true", "outside [1e-05, 100000]"),
        ("y_pred - y_pred + y_true", "gradient with respect to y_pred is zero"),
        ("y_pred * 2", "does not contain y_true"),
    ],
)
def test_invalid_trees(expression, reason):
    text = render(describe(expression))
    assert "validity (the thesis's filter): invalid: " in text and reason in text


def test_a_valid_tree_that_does_not_learn_says_which_rule_rejects_it():
    description = describe("y_pred * y_true")
    text = render(description)
    assert description.verdict.ok and not description.learnable.ok
    assert "learnability (--screen learnable): rejected: the loss does not fall" in text


def test_cli(monkeypatch, capsys):
    code, out, _ = jaxgp_cli(monkeypatch, capsys, "show", "exp(2.4092 - y_pred*(1 + y_true))")
    assert code in (0, None)
    assert out.splitlines()[0] == "exp(2.4092 - y_pred * (1.0 + y_true))"
    assert "└── " in out and "validity (the thesis's filter, --screen thesis): valid" in out


@pytest.mark.parametrize(
    "expression",
    ["y_pred +", "y_pred ** 2", "import os", "", "csum(y_pred, y_true)", "prior(y_pred)", "csum"],
)
def test_cli_malformed_expression_exit_2(expression, monkeypatch, capsys):
    code, _, err = jaxgp_cli(monkeypatch, capsys, "show", expression)
    assert code == 2
    assert err.startswith("error: ") and err.count("\n") == 1


@pytest.mark.parametrize("name", ["ngl", "mse", "cb", "la"])
def test_a_named_tree_loss_shows_its_name_and_tree(name, monkeypatch, capsys):
    from jaxgp.losses import TREE_LOSSES

    code, out, _ = jaxgp_cli(monkeypatch, capsys, "show", name)
    tree = jaxgp.parse(TREE_LOSSES[name])
    assert code in (0, None)
    assert out.splitlines()[0] == f"{name} = {tree}"
    assert diagram(tree) in out and "learnability (--screen learnable): passes" in out


@pytest.mark.parametrize("name", ["ce", "focal", "fpl"])
def test_a_named_function_loss_shows_its_rules_and_values(name):
    from jaxgp.losses import FUNCTION_LOSSES

    description = describe(name)
    assert description.tree is None and description.name == name
    assert description.verdict.ok and description.learnable.ok
    for probe, (y_pred, y_true) in zip(description.probes, probes(), strict=True):
        value, grad = jax.value_and_grad(FUNCTION_LOSSES[name])(y_pred, y_true)
        assert probe.loss == pytest.approx(float(value))
        assert probe.gradient_max == pytest.approx(float(np.abs(grad).max()))
    text = render(description)
    assert text.startswith(f"{name}: a named loss written as a JAX function, not a tree")
    assert "validity (the thesis's filter, --screen thesis): valid" in text
    assert description.to_dict()["expression"] is None


def test_cross_entropy_values_on_the_probes_are_minus_the_mean_log_of_the_true_class():
    for probe, (y_pred, y_true) in zip(describe("ce").probes, probes(), strict=True):
        p = y_pred / y_pred.sum(-1, keepdims=True)
        expected = -np.mean(np.log(np.clip((p * y_true).sum(-1), 1e-7, 1 - 1e-7)))
        assert probe.loss == pytest.approx(expected, rel=1e-5)


def test_an_unknown_name_is_one_line_listing_the_named_losses(monkeypatch, capsys):
    code, _, err = jaxgp_cli(monkeypatch, capsys, "show", "ngll")
    assert code == 2 and err.count("\n") == 1
    assert "unknown loss 'ngll'; valid named losses: ce, ngl, fpl, mse, focal" in err


def test_a_priors_tree_names_its_language_and_is_probed_at_both_priors(monkeypatch, capsys):
    code, out, _ = jaxgp_cli(monkeypatch, capsys, "show", "la")
    assert code in (0, None)
    assert "language: priors" in out
    assert "10 classes, uniform priors: loss" in out and "100 classes, long-tailed priors" in out
    code, out, _ = jaxgp_cli(monkeypatch, capsys, "show", "ngl")
    assert "language: thesis" in out and "priors: loss" not in out
