"""Training-split transforms: exact long-tail counts, exact noise rates, per-class fractions,
validation and test untouched, seeded, on digits, synthetic and (mocked) tfds datasets."""

import math

import numpy as np
import pytest
import tensorflow_datasets as tfds
from hypothesis import given, settings
from hypothesis import strategies as st

from jaxgp.data import Dataset, Split, TrainSplit, class_counts, load_dataset
from jaxgp.errors import ConfigError


@pytest.fixture(scope="module")
def digits():
    return load_dataset("digits", seed=0)


def _long_tail(counts, ratio):
    n_max, classes = min(counts), len(counts)
    return [max(1, math.floor(n_max * ratio ** (-c / (classes - 1)))) for c in range(classes)]


def test_the_long_tail_keeps_n_max_times_r_to_the_minus_c_over_c_minus_1_per_class(digits):
    changed = TrainSplit(imbalance=20).apply(digits, seed=0)
    before = class_counts(digits.train, 10)
    assert class_counts(changed.train, 10) == _long_tail(before, 20)
    assert class_counts(changed.train, 10)[0] == min(before) == 121
    assert class_counts(changed.train, 10)[-1] == 6  # 121 / 20


def test_validation_and_test_are_never_changed(digits):
    changed = TrainSplit(imbalance=20, label_noise=0.4, train_fraction=0.5).apply(digits, 0)
    for name in ("val", "test"):
        assert getattr(changed, name) is getattr(digits, name)


def test_kept_images_keep_their_true_labels_and_order_without_noise(digits):
    keep, labels = TrainSplit(imbalance=5).select(digits, seed=1)
    assert np.all(np.diff(keep) > 0)
    assert np.array_equal(labels, digits.train.labels[keep])
    changed = TrainSplit(imbalance=5).apply(digits, seed=1)
    assert np.array_equal(changed.train.images, digits.train.images[keep])


@pytest.mark.parametrize("rate", [0.1, 0.4, 0.85])
def test_symmetric_noise_changes_exactly_round_p_n_labels_each_to_another_class(digits, rate):
    keep, labels = TrainSplit(label_noise=rate).select(digits, seed=2)
    true = digits.train.labels[keep]
    assert np.sum(labels != true) == round(rate * len(keep))
    assert labels.min() >= 0 and labels.max() < 10


def test_asymmetric_noise_moves_a_label_to_the_next_class(digits):
    keep, labels = TrainSplit(label_noise=0.3, noise_kind="asymmetric").select(digits, seed=2)
    true = digits.train.labels[keep]
    wrong = labels != true
    assert np.sum(wrong) == round(0.3 * len(keep))
    assert np.array_equal(labels[wrong], (true[wrong] + 1) % 10)


def test_a_train_fraction_keeps_round_f_n_of_each_class(digits):
    changed = TrainSplit(train_fraction=0.1).apply(digits, seed=0)
    before = class_counts(digits.train, 10)
    assert class_counts(changed.train, 10) == [max(1, round(0.1 * n)) for n in before]


def test_the_same_seed_gives_the_same_split_and_another_seed_another(digits):
    split = TrainSplit(imbalance=20, label_noise=0.2)
    a, b, c = (split.select(digits, seed)[0] for seed in (3, 3, 4))
    assert np.array_equal(a, b) and not np.array_equal(a, c)


def test_the_clean_split_returns_the_dataset_itself(digits):
    assert TrainSplit().apply(digits, 0) is digits and TrainSplit().identity
    assert TrainSplit().describe() == "clean"
    text = TrainSplit(imbalance=20, label_noise=0.4, train_fraction=0.5).describe()
    assert text == "0.5 of the images, long-tailed, ratio 20, 40% symmetric label noise"


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"imbalance": 0.5}, "imbalance must be a ratio of at least 1"),
        ({"imbalance": float("inf")}, "imbalance must be a ratio of at least 1"),
        ({"label_noise": 1.0}, r"label noise must be in \[0, 1\)"),
        ({"label_noise": -0.1}, r"label noise must be in \[0, 1\)"),
        ({"noise_kind": "pair"}, "unknown noise kind 'pair'; valid: symmetric, asymmetric"),
        ({"train_fraction": 0.0}, r"train fraction must be in \(0, 1\]"),
        ({"train_fraction": 1.5}, r"train fraction must be in \(0, 1\]"),
    ],
)
def test_bad_values_are_refused_with_what_is_valid(options, message):
    with pytest.raises(ConfigError, match=message):
        TrainSplit(**options)


def test_a_class_without_training_images_has_no_long_tail():
    images = np.zeros((6, 2, 2, 1), np.uint8)
    split = Split(images, np.array([0, 0, 1, 1, 0, 1], np.int32))
    data = Dataset("toy", 3, (2, 2, 1), split, split, split)
    with pytest.raises(ConfigError, match="class 2 has no training image"):
        TrainSplit(imbalance=10).apply(data, 0)


def test_synthetic_datasets_take_the_transform_through_load_dataset():
    split = TrainSplit(imbalance=10, label_noise=0.2)
    plain = load_dataset("synthetic:8x8x1:5", seed=1, num_train=500, num_test=50)
    data = load_dataset("synthetic:8x8x1:5", seed=1, num_train=500, num_test=50, train_split=split)
    keep, labels = split.select(plain, 1)
    assert np.array_equal(data.train.labels, labels)
    assert len(data.train) == sum(_long_tail(class_counts(plain.train, 5), 10))


def test_a_tfds_dataset_takes_the_transform_too(tmp_path):
    with tfds.testing.mock_data(num_examples=600):
        plain = load_dataset("cifar10", data_dir=str(tmp_path), seed=0)
        data = load_dataset(
            "cifar10", data_dir=str(tmp_path), seed=0, train_split=TrainSplit(imbalance=10)
        )
    assert class_counts(data.train, 10) == _long_tail(class_counts(plain.train, 10), 10)
    assert np.array_equal(data.test.labels, plain.test.labels)


@settings(max_examples=40, deadline=None)
@given(
    labels=st.lists(st.integers(0, 4), min_size=20, max_size=200),
    ratio=st.floats(1.0, 50.0),
    noise=st.floats(0.0, 0.95),
    fraction=st.floats(0.05, 1.0),
    seed=st.integers(0, 10),
)
def test_any_transform_keeps_a_subset_with_valid_labels(labels, ratio, noise, fraction, seed):
    labels = np.array(labels, np.int32)
    if len(set(labels.tolist())) < 5:
        labels[:5] = np.arange(5)  # every class present
    images = np.arange(len(labels), dtype=np.uint8).reshape(-1, 1, 1, 1)
    split = Split(images, labels)
    data = Dataset("toy", 5, (1, 1, 1), split, split, split)
    keep, new = TrainSplit(ratio, noise, "symmetric", fraction).select(data, seed)
    assert len(set(keep.tolist())) == len(keep) and np.all(np.diff(keep) > 0)
    assert 0 < len(keep) <= len(labels) and set(new.tolist()) <= set(range(5))
    assert np.sum(new != labels[keep]) == round(noise * len(keep))
