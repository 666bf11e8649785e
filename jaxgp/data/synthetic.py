"""Generated image datasets: class-conditioned random uint8 images, drawn from a seed.

Each class gets a random template image; an example is the average of its class template
and fresh uniform noise, so a classifier can learn the task (useful for smoke runs and
benchmarks) while the images still look like noise. Labels are uniform over the classes.
Everything is a pure function of the seed, the shape, the class count and the sizes.
"""

from __future__ import annotations

import numpy as np

from jaxgp.data.dataset import Split

DEFAULT_NUM_TRAIN = 1024
DEFAULT_NUM_TEST = 256


def _draw(rng: np.random.Generator, templates: np.ndarray, n: int) -> tuple[np.ndarray, np.ndarray]:
    labels = rng.integers(0, templates.shape[0], size=n, dtype=np.int32)
    noise = rng.integers(0, 256, size=(n, *templates.shape[1:]), dtype=np.uint16)
    images = ((templates[labels].astype(np.uint16) + noise) // 2).astype(np.uint8)
    return images, labels


def make_synthetic_splits(
    image_shape: tuple[int, int, int],
    num_classes: int,
    *,
    seed: int,
    num_train: int = DEFAULT_NUM_TRAIN,
    num_test: int = DEFAULT_NUM_TEST,
) -> tuple[Split, Split]:
    """(train, test) splits of generated images with the given shape and class count."""
    rng = np.random.default_rng([seed, 0x5EED])
    templates = rng.integers(0, 256, size=(num_classes, *image_shape), dtype=np.uint8)
    train = Split(*_draw(rng, templates, num_train))
    test = Split(*_draw(rng, templates, num_test))
    return train, test
