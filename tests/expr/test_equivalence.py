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


def _five_significant_digits(direction: np.ndarray) -> np.ndarray:
    """The rounding the module's docstring promises, computed through Python's formatting."""
    return np.array([0.0 if abs(x) < 1e-12 else float(f"{x:.4e}") for x in direction.ravel()])


def test_a_fingerprint_is_the_direction_to_five_significant_digits_whatever_its_magnitude():
    rng = np.random.default_rng(1)
    gradient = rng.standard_normal(40) * 10.0 ** rng.integers(-9, 3, 40)
    decoded = np.frombuffer(fingerprint(gradient), np.float64)
    direction = gradient / np.max(np.abs(gradient))
    np.testing.assert_allclose(decoded, _five_significant_digits(direction), rtol=1e-12, atol=0)


def test_the_fifth_significant_digit_counts_the_sixth_does_not_also_for_small_entries():
    assert fingerprint(np.r_[1.0, 0.123451]) == fingerprint(np.r_[1.0, 0.123449])
    assert fingerprint(np.r_[1.0, 0.12342]) != fingerprint(np.r_[1.0, 0.12344])
    assert fingerprint(np.r_[1.0, 1.2342e-6]) != fingerprint(np.r_[1.0, 1.2344e-6])


def test_entries_below_a_trillionth_of_the_largest_are_zero_from_there_on_they_count():
    zero = fingerprint(np.r_[1.0, 0.0])
    assert fingerprint(np.r_[1.0, 1e-13]) == zero
    assert fingerprint(np.r_[1.0, -5e-13]) == zero
    assert fingerprint(np.r_[1.0, 1e-12]) != zero
    assert np.frombuffer(zero, np.float64).tolist() == [1.0, 0.0]


def test_a_gradient_whose_largest_entry_is_one_is_scaled_like_any_other():
    assert fingerprint(np.r_[1.0, -0.5]) == fingerprint(np.r_[2.0, -1.0])
    assert fingerprint(np.r_[1.0, -0.5]) != fingerprint(np.r_[-1.0, 0.5])


def test_gradients_without_a_direction_keep_their_own_bytes():
    assert fingerprint(np.r_[np.inf, 1.0]) != fingerprint(np.r_[np.inf, 2.0])
    assert fingerprint(np.r_[np.nan, 1.0]) != fingerprint(np.r_[np.nan, 2.0])
    assert fingerprint(np.zeros(3)) == fingerprint(np.zeros(3))
    assert fingerprint(np.zeros(3)) != fingerprint(np.zeros(4))


def test_one_tree_alone_gets_the_fingerprint_it_gets_beside_others():
    trees = [parse("neg(y_true * log(y_pred))"), parse("(y_pred - y_true) * (y_pred - y_true)")]
    assert fingerprints(trees[:1], "thesis") == fingerprints(trees, "thesis")[:1]
