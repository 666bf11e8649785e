"""A small slice of the digits data and a quick recipe shared by the trainer tests, which
compile much and train little: with fewer optimisations (`tests/xla_env.py`)."""

import pytest

from jaxgp.data import load_dataset
from jaxgp.train import TrainConfig


@pytest.fixture(autouse=True)
def _fewer_optimisations(compiled_with_fewer_optimisations):
    """Every trainer test compiles with fewer optimisations."""


@pytest.fixture(scope="session")
def digits():
    return load_dataset("digits", seed=0).head(train=256, val=96, test=96)


@pytest.fixture(scope="session")
def quick():
    """Two epochs of 4 steps; a patience of 1 so the plateau logic runs too."""
    return TrainConfig(epochs=2, batch_size=64, plateau_patience=1, candidates_per_batch=3)
