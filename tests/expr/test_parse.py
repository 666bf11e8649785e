"""Parsing: canonical text round trips, the grammar, and hostile input."""

import numpy as np
import pytest
from hypothesis import given

from jaxgp import ExpressionError, Tree, parse
from jaxgp.expr.generate import random_subtree

from .strategies import any_trees


def test_parse_reads_the_ngl_formula_into_the_expected_prefix_nodes():
    tree = parse("exp(2.4092 - y_pred*(1 + y_true)) - cos(cos(sin(y_pred)))")
    assert tree.nodes == (
        "-", "exp", "-", 2.4092, "*", "y_pred", "+", 1.0, "y_true",
        "cos", "cos", "sin", "y_pred",
    )  # fmt: skip
    assert str(tree) == "exp(2.4092 - y_pred * (1.0 + y_true)) - cos(cos(sin(y_pred)))"


@pytest.mark.parametrize(
    ("text", "nodes"),
    [
        ("-2.5 * y_pred", ("*", -2.5, "y_pred")),
        ("-y_pred * y_true", ("*", "neg", "y_pred", "y_true")),
        ("y_pred - -2.5", ("-", "y_pred", -2.5)),
        ("y_pred - y_true - 1", ("-", "-", "y_pred", "y_true", 1.0)),
        ("y_pred - (y_true - 1)", ("-", "y_pred", "-", "y_true", 1.0)),
        ("y_pred + y_true * 2", ("+", "y_pred", "*", "y_true", 2.0)),
        ("(y_pred + y_true) * 2", ("*", "+", "y_pred", "y_true", 2.0)),
        ("y_pred / y_true / 3", ("/", "/", "y_pred", "y_true", 3.0)),
        ("--y_pred", ("neg", "neg", "y_pred")),
        ("neg(-1e-05)", ("neg", -1e-05)),
        (".5e1*y_true", ("*", 5.0, "y_true")),
    ],
)
def test_parse_follows_precedence_associativity_and_unary_minus(text, nodes):
    assert parse(text).nodes == nodes
    assert parse(str(parse(text))) == parse(text)


@given(any_trees())
def test_str_parses_back_to_an_equal_tree(tree):
    assert parse(str(tree)) == tree
    assert hash(parse(str(tree))) == hash(tree)


def test_round_trip_holds_on_thousands_of_random_trees():
    rng = np.random.default_rng(0)
    for _ in range(3000):
        tree = random_subtree(rng, height=int(rng.integers(0, 8)), full=bool(rng.integers(2)))
        assert parse(str(tree)) == tree


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("__import__('os').system('echo hacked')", "unknown name '__import__' at column 1"),
        ("y_pred.__class__", "unexpected character '.' at column 7"),
        ("lambda x: x", "unknown name 'lambda' at column 1"),
        ("y_pred ** 2", "at column 8 is not allowed; valid operators: + - * / and neg sqrt log"),
        ("open('/etc/passwd')", "unknown name 'open' at column 1"),
        ("y_pred + foo", "unknown name 'foo' at column 10"),
        ("exp(y_pred, y_true)", "takes 1 argument; found ',' at column 11"),
        ("sqrt", "function 'sqrt' at column 1 must be called"),
        ("y_pred(1)", "'y_pred' at column 1 is a leaf"),
        ("1e999 * y_pred", "constant '1e999' at column 1 is not finite"),
        ("inf * y_pred", "unknown name 'inf' at column 1"),
        ("nan", "unknown name 'nan' at column 1"),
        ("y_pred +", "unexpected end of input at column 9"),
        ("(y_pred", "expected ')' but found end of input"),
        ("y_pred y_true", "unexpected 'y_true' at column 8"),
        ("y_pred @ y_true", "unexpected character '@' at column 8"),
        ("y_pred if y_true else 1", "unexpected 'if' at column 8"),
        ("", "empty expression"),
        ("   ", "empty expression"),
        pytest.param("(" * 3000 + "y_pred" + ")" * 3000, "nested too deeply", id="deep"),
    ],
)
def test_hostile_or_malformed_text_raises_expression_error_naming_the_token(text, fragment):
    with pytest.raises(ExpressionError, match=None) as info:
        parse(text)
    assert fragment in str(info.value)


def test_parsing_hostile_text_runs_nothing(monkeypatch):
    import builtins

    def forbidden(*args, **kwargs):
        raise AssertionError("the parser called eval/exec/__import__")

    monkeypatch.setattr(builtins, "eval", forbidden)
    monkeypatch.setattr(builtins, "exec", forbidden)
    with pytest.raises(ExpressionError):
        parse("__import__('os').system('touch /tmp/jaxgp_pwned')")
    with pytest.raises(ExpressionError):
        parse("exec('1')")


def test_non_string_input_is_an_expression_error():
    with pytest.raises(ExpressionError, match="must be a string"):
        parse(3.0)  # type: ignore[arg-type]


def test_tree_constructor_rejects_incomplete_or_unknown_nodes():
    with pytest.raises(ExpressionError, match="incomplete"):
        Tree(("+", "y_pred"))
    with pytest.raises(ExpressionError, match="after the end"):
        Tree(("y_pred", "y_true"))
    with pytest.raises(ExpressionError, match="unknown node"):
        Tree(("pow", "y_pred", "y_true"))
    with pytest.raises(ExpressionError, match="not finite"):
        Tree((float("nan"),))
