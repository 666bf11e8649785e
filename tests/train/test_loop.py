"""The training loop's small helpers, against NumPy computed another way: a split's mean
loss and accuracy from its batches, the mean train loss over an epoch's steps (a
candidate's non-finite steps left out) and a chunk's padding."""

from types import SimpleNamespace

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from jaxgp.train.loop import _finite_mean, _pad, evaluate

STEP_LOSSES = arrays(
    np.float64, st.tuples(st.integers(1, 6), st.integers(1, 4)),
    elements=st.sampled_from([0.0, 0.5, 1.5, 2.0, np.inf, -np.inf, np.nan]),
)  # fmt: skip


@pytest.mark.parametrize(("size", "batch_size"), [(10, 4), (7, 7), (5, 16)])
def test_a_splits_loss_and_accuracy_are_the_means_over_its_examples_padding_left_out(
    size, batch_size
):
    rng = np.random.default_rng(size)
    losses, correct = rng.uniform(0, 3, (size, 2)), rng.integers(0, 2, (size, 2)).astype(float)

    def evaluate_batch(state, candidates, split, indices, weights):
        weights = np.asarray(weights)[:, None]
        return (weights * losses[indices]).sum(0), (weights * correct[indices]).sum(0)

    functions = SimpleNamespace(evaluate_batch=evaluate_batch)
    loss, accuracy = evaluate(functions, None, None, SimpleNamespace(size=size), batch_size)
    np.testing.assert_allclose(loss, losses.mean(0), rtol=1e-12)
    np.testing.assert_allclose(accuracy, correct.mean(0), rtol=1e-12)


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
