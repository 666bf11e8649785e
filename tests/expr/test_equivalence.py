"""Training fingerprints: equal for losses that train alike, different for others."""

import numpy as np

from jaxgp import parse
from jaxgp.expr.equivalence import fingerprint, fingerprints


def _same(a: str, b: str, language: str = "priors") -> bool:
    first, second = fingerprints([parse(a), parse(b)], language)
    return first == second


def test_terms_without_y_pred_and_positive_factors_do_not_change_how_a_loss_trains():
    base = "prior * y_pred + exp(y_true - y_pred)"
    assert _same(base, f"{base} + sin(prior)")
    assert _same(base, f"{base} + 0.618 - y_true")
    assert _same(base, f"2.5 * ({base})")
    assert _same("neg(y_true * log(y_pred))", "neg(y_true * log(y_pred)) + y_true * 3.0", "thesis")


def test_other_losses_a_negative_factor_or_a_prior_weight_train_differently():
    base = "neg(y_true * log(y_pred))"
    assert not _same(base, f"neg({base})")
    assert not _same(base, f"{base} / prior")  # class-balanced: the priors matter
    assert not _same(base, "(y_pred - y_true) * (y_pred - y_true)")
    assert not _same("prior * y_pred + exp(y_true - y_pred)", "y_pred + exp(y_true - y_pred)")


def test_a_fingerprint_rounds_away_float32_noise_but_not_a_real_difference():
    gradient = np.random.default_rng(0).standard_normal((4, 10))
    assert fingerprint(gradient) == fingerprint(gradient * (1 + 1e-7))
    assert fingerprint(gradient) != fingerprint(gradient * np.r_[1.01, np.ones(9)])
    assert fingerprint(np.zeros((2, 3))) != fingerprint(np.full((2, 3), np.nan))
