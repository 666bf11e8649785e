"""The training loop's small helpers, against NumPy computed another way: the mean train
loss over an epoch's steps (a candidate's non-finite steps left out) and a chunk's padding."""

import numpy as np
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from jaxgp.train.loop import _finite_mean, _pad

STEP_LOSSES = arrays(
    np.float64, st.tuples(st.integers(1, 6), st.integers(1, 4)),
    elements=st.sampled_from([0.0, 0.5, 1.5, 2.0, np.inf, -np.inf, np.nan]),
)  # fmt: skip


@given(STEP_LOSSES)
def test_the_epoch_loss_is_the_mean_of_each_candidate_s_finite_steps_nan_when_none(losses):
    expected = []
    for column in losses.T:
        finite = [value for value in column if np.isfinite(value)]
        expected.append(sum(finite) / len(finite) if finite else np.nan)
    np.testing.assert_allclose(_finite_mean(losses), expected, rtol=1e-12)


def test_one_finite_step_among_non_finite_ones_is_the_epoch_loss():
    losses = np.array([[np.nan, 3.0], [2.0, np.inf], [np.nan, 5.0]])
    np.testing.assert_allclose(_finite_mean(losses), [2.0, 4.0])


def test_a_chunk_is_padded_with_copies_of_its_first_candidate_up_to_k():
    assert _pad(["a", "b"], 4) == ["a", "b", "a", "a"]
    assert _pad(["a"], 3) == ["a", "a", "a"]
    assert _pad(["a", "b"], 2) == ["a", "b"]
