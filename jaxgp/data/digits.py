"""scikit-learn's bundled 8x8 digits (1,797 real images, offline) as uint8 train/test splits.

Pixels 0..16 are scaled to 0..255 (``round(x * 255 / 16)``) and shaped 8x8x1. The
train/test split is a stratified 80/20 split with a FIXED seed, so the test set is the same
for every run (as CIFAR's and Fashion-MNIST's test splits are); the run seed only moves the
later 90/10 train/validation split. Sizes: 1,437 train and 360 test.
"""

from __future__ import annotations

import numpy as np

from jaxgp.data.dataset import Split

TEST_FRACTION = 0.2
TEST_SPLIT_SEED = 0


def load_digits_splits() -> tuple[Split, Split]:
    """The digits as (train, test) splits of uint8 [N, 8, 8, 1] images and int32 labels."""
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split

    bunch = load_digits()
    images = np.rint(bunch.images * (255.0 / 16.0)).clip(0, 255).astype(np.uint8)[..., None]
    labels = bunch.target.astype(np.int32)
    train_idx, test_idx = train_test_split(
        np.arange(labels.shape[0]),
        test_size=TEST_FRACTION,
        random_state=TEST_SPLIT_SEED,
        stratify=labels,
    )
    train_idx, test_idx = np.sort(train_idx), np.sort(test_idx)
    return Split(images[train_idx], labels[train_idx]), Split(images[test_idx], labels[test_idx])
