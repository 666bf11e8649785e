"""The validity filter accepts usable losses and says why it rejects the others."""

import pytest

from jaxgp import check_validity, parse
from jaxgp.expr.validity import check_validity_batch


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("y_pred * 1e-9 * y_true", "loss magnitude 1.06e-11 on the 10-class probe is outside"),
        ("exp(y_pred + 80) * exp(y_pred + 80) * y_true", "not finite"),
        ("y_pred * 1e6 + y_true", "outside [1e-05, 100000]"),
        ("y_pred - y_pred + y_true", "gradient with respect to y_pred is zero"),
        ("y_pred * 3.0", "does not contain y_true"),
    ],
)
def test_filter_rejects_unusable_trees_and_says_why(text, reason):
    verdict = check_validity(parse(text))
    assert not verdict.ok
    assert reason in verdict.reason


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
