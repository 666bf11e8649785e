"""load_dataset for the offline datasets (digits, synthetic) and the 90/10 split."""

import numpy as np
import pytest

from jaxgp.data import Dataset, Split, load_dataset, split_train_val
from jaxgp.errors import ConfigError


def _check_split(split: Split, shape: tuple[int, int, int], num_classes: int) -> None:
    assert split.images.dtype == np.uint8
    assert split.images.shape[1:] == shape
    assert split.labels.dtype == np.int32
    assert split.labels.shape == split.images.shape[:1]
    assert split.labels.min() >= 0 and split.labels.max() < num_classes


def test_digits_shapes_dtypes_and_sizes():
    data = load_dataset("digits")
    assert isinstance(data, Dataset)
    assert (data.name, data.num_classes, data.image_shape) == ("digits", 10, (8, 8, 1))
    for split in (data.train, data.val, data.test):
        _check_split(split, (8, 8, 1), 10)
    # 1,797 images: stratified 80/20 -> 1,437 / 360, then 90/10 -> 1,293 / 144.
    assert (len(data.train), len(data.val), len(data.test)) == (1293, 144, 360)
    assert data.train.images.max() == 255 and data.train.images.min() == 0
    assert set(np.unique(data.test.labels)) == set(range(10))


def test_digits_split_is_deterministic_per_seed_and_differs_between_seeds():
    a, b, c = (
        load_dataset("digits", seed=1),
        load_dataset("digits", seed=1),
        load_dataset("digits", seed=2),
    )
    np.testing.assert_array_equal(a.train.images, b.train.images)
    np.testing.assert_array_equal(a.val.labels, b.val.labels)
    assert not np.array_equal(a.val.images, c.val.images)
    # The test split is fixed: only the train/validation split follows the seed.
    np.testing.assert_array_equal(a.test.images, c.test.images)
    # Train and validation partition the same pool for every seed.
    pool_a = np.concatenate([a.train.images, a.val.images]).reshape(len(a.train) + len(a.val), -1)
    pool_c = np.concatenate([c.train.images, c.val.images]).reshape(len(c.train) + len(c.val), -1)
    assert sorted(map(bytes, pool_a)) == sorted(map(bytes, pool_c))


@pytest.mark.parametrize(("n", "expected"), [(50_000, (45_000, 5_000)), (60_000, (54_000, 6_000))])
def test_ninety_ten_split_sizes(n, expected):
    pool = Split(np.zeros((n, 1, 1, 1), np.uint8), np.arange(n, dtype=np.int32) % 10)
    train, val = split_train_val(pool, val_fraction=0.1, seed=0)
    assert (len(train), len(val)) == expected
    ids = np.concatenate([train.images.ravel(), val.images.ravel()])
    assert ids.size == n


def test_split_is_a_partition():
    pool = Split(np.zeros((100, 1, 1, 1), np.uint8), np.arange(100, dtype=np.int32))
    train, val = split_train_val(pool, val_fraction=0.1, seed=3)
    assert sorted(np.concatenate([train.labels, val.labels]).tolist()) == list(range(100))


@pytest.mark.parametrize("fraction", [0.0, 1.0, -0.1, 1.5])
def test_bad_val_fraction_is_a_config_error(fraction):
    with pytest.raises(ConfigError):
        load_dataset("digits", val_fraction=fraction)


def test_synthetic_defaults_variants_and_determinism():
    data = load_dataset("synthetic")
    assert (data.image_shape, data.num_classes) == ((32, 32, 3), 10)
    assert (len(data.train), len(data.val), len(data.test)) == (922, 102, 256)
    for split in (data.train, data.val, data.test):
        _check_split(split, (32, 32, 3), 10)
    again = load_dataset("synthetic")
    np.testing.assert_array_equal(data.train.images, again.train.images)
    other = load_dataset("synthetic", seed=1)
    assert not np.array_equal(data.test.images, other.test.images)

    small = load_dataset("synthetic:cifar100", num_train=200, num_test=30, seed=5)
    assert (small.name, small.image_shape, small.num_classes) == (
        "synthetic:cifar100",
        (32, 32, 3),
        100,
    )
    assert (len(small.train), len(small.val), len(small.test)) == (180, 20, 30)
    custom = load_dataset("synthetic:10x6x2:3", num_train=20, num_test=5)
    _check_split(custom.train, (10, 6, 2), 3)


def test_synthetic_sizes_only_for_synthetic():
    with pytest.raises(ConfigError):
        load_dataset("digits", num_train=10)


def test_arrays_are_read_only():
    data = load_dataset("synthetic", num_train=20, num_test=4)
    with pytest.raises(ValueError):
        data.train.images[0, 0, 0, 0] = 1
    with pytest.raises(ValueError):
        data.test.labels[0] = 1
