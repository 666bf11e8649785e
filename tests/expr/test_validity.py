"""The validity filter and the learnability screen accept usable losses and say why they
reject the others; every named loss passes both."""

import numpy as np
import pytest

from jaxgp import check_validity, lower, parse
from jaxgp.expr import learnability
from jaxgp.expr.validity import check_validity_batch
from jaxgp.losses import FUNCTION_LOSSES, TREE_LOSSES

NEGATIVE_CE = "y_true * log(y_pred)"


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("y_pred * 1e-9 * y_true", "loss value 1.06e-11 on the 10-class probe is outside"),
        ("exp(y_pred + 80) * exp(y_pred + 80) * y_true", "not finite"),
        ("y_pred * 1e6 + y_true", "outside [1e-05, 100000]"),
        (NEGATIVE_CE, "loss value -0.269 on the 10-class probe is outside"),
        ("y_pred - y_pred + y_true", "gradient with respect to y_pred is zero"),
        ("y_pred * 3.0", "does not contain y_true"),
    ],
)
def test_the_thesis_filter_rejects_unusable_trees_and_says_why(text, reason):
    verdict = check_validity(parse(text))
    assert not verdict.ok
    assert reason in verdict.reason


def test_the_thesis_filter_keeps_the_signed_value_in_range_where_legacy_runs_kept_its_size():
    """Minus cross-entropy is negative: the thesis's [1e-5, 1e5] rejects it; the filter of
    runs made before took |value| and let it through."""
    assert not check_validity(parse(NEGATIVE_CE), screen="thesis").ok
    assert check_validity(parse(NEGATIVE_CE), screen="legacy").ok


def test_the_learnability_screen_rejects_a_loss_that_rewards_the_wrong_class():
    verdict = check_validity(parse("y_pred * y_true"), screen="learnable")
    assert not verdict.ok
    assert "does not fall when probability moves to the true class" in verdict.reason
    assert check_validity(parse("y_pred * y_true"), screen="thesis").ok


@pytest.mark.parametrize("screen", ["thesis", "learnable"])
@pytest.mark.parametrize("name", list(TREE_LOSSES))
def test_every_named_tree_loss_passes_the_filter_and_the_screen(name, screen):
    assert check_validity(parse(TREE_LOSSES[name]), screen=screen).ok


@pytest.mark.parametrize("name", list(FUNCTION_LOSSES))
def test_every_named_function_loss_passes_the_screen(name):
    assert learnability.screen_function(FUNCTION_LOSSES[name]) == ""


def test_the_screen_judges_a_tree_as_its_closure_does():
    texts = ["y_pred * y_true", "neg(y_true * log(y_pred))", "sqrt(y_pred) - y_true"]
    verdicts = check_validity_batch([parse(t) for t in texts], screen="learnable")
    by_closure = [learnability.screen_function(lower(parse(t))) for t in texts]
    assert [v.ok for v in verdicts] == [reason == "" for reason in by_closure]


def test_the_screens_points_move_probability_to_the_true_class():
    for classes in learnability.CLASSES:
        y_pred, y_true = learnability.screen_inputs(classes)
        np.testing.assert_allclose(y_pred.sum(-1), 1.0, rtol=1e-6)
        true = (y_pred * y_true).sum(-1).reshape(len(learnability.CASES), 2, -1)
        assert np.all(true[:, 1] > true[:, 0])


@pytest.mark.parametrize(
    "text",
    [
        "neg(y_true * log(y_pred))",
        "exp(2.4092 - y_pred * (1.0 + y_true)) - cos(cos(sin(y_pred)))",
        "(y_pred - y_true) * (y_pred - y_true)",
    ],
)
def test_filter_accepts_known_good_losses(text):
    assert check_validity(parse(text)).ok


def test_batch_verdicts_match_single_verdicts_and_handle_oversized_trees():
    texts = ["neg(y_true * log(y_pred))", "y_pred * 1e-9 * y_true", " + ".join(["y_pred"] * 40)]
    trees = [parse(t) for t in texts]
    verdicts = check_validity_batch(trees)
    assert [v.ok for v in verdicts] == [True, False, False]
    assert "over the cap 64" in verdicts[2].reason
    assert verdicts[:2] == [check_validity(t) for t in trees[:2]]


def test_an_unknown_screen_is_refused_with_the_valid_names():
    from jaxgp.errors import ConfigError

    with pytest.raises(ConfigError, match="unknown screen 'strict'; valid: thesis, learnable"):
        check_validity(parse("y_pred * y_true"), screen="strict")
