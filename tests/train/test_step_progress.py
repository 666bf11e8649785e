"""The scanned epoch's progress callback is part of the program only when progress is on: off,
the program needs no host (it compiles for a GPU target without a GPU) and trains the same.
The host loop reports its steps only where they are slow enough to watch."""

import dataclasses

import jax
import numpy as np
import pytest

from jaxgp.losses import encode_losses, resolve_loss
from jaxgp.train import DeviceDataset, TrainConfig
from jaxgp.train import step as step_module
from jaxgp.train.capacity import abstract_epoch_arguments
from jaxgp.train.state import EpochKeys
from jaxgp.train.step import build_functions, report_interval


def _scanned(digits, progress: bool):
    config = TrainConfig(epochs=1, batch_size=32, candidates_per_batch=1, epoch_loop="scan")
    data = DeviceDataset.from_dataset(digits)
    spec = config.program(progress=progress)
    return data, config, spec, build_functions(data.num_classes, data.image_shape, spec)


@pytest.mark.parametrize("progress", [True, False])
def test_the_scanned_epoch_holds_a_host_callback_only_with_progress_on(digits, progress):
    data, config, _, functions = _scanned(digits, progress)
    arguments = abstract_epoch_arguments(functions, data, config, 1)
    text = functions.epoch_program.lower(*arguments).as_text()
    assert ("callback" in text) is progress


def test_an_epoch_without_progress_trains_the_same_state_and_never_calls_on_step(digits):
    states = {}
    for progress in (True, False):
        data, config, spec, functions = _scanned(digits, progress)
        keys = jax.random.split(jax.random.PRNGKey(0), 1)
        state = functions.init(keys)
        steps = data.train.size // config.batch_size
        indices = np.arange(steps * config.batch_size, dtype=np.int32).reshape(steps, -1)
        losses = encode_losses([resolve_loss("ngl")], spec.max_nodes, prior=data.class_prior)
        called = []
        state, metrics = functions.train_epoch(
            state, losses, data.train, EpochKeys(jax.random.PRNGKey(1), keys), indices,
            np.int32(0), on_step=called.append,
        )  # fmt: skip
        assert bool(called) is progress
        states[progress] = (jax.tree.leaves(state), metrics)
    for a, b in zip(*(jax.tree.leaves(states[p]) for p in (True, False)), strict=True):
        np.testing.assert_array_equal(np.asarray(a), np.asarray(b))


def test_progress_is_part_of_the_program_spec_and_on_by_default():
    config = TrainConfig()
    assert config.program().progress is True
    assert config.program(progress=False) == dataclasses.replace(config.program(), progress=False)


@pytest.mark.parametrize(("seconds", "reports"), [(0.0, "every interval"), (1e9, "the first")])
def test_the_host_loop_reports_steps_only_where_the_first_interval_was_slow(
    digits, monkeypatch, seconds, reports
):
    """Waiting for a step to report it stops host and device from overlapping: tiny-lt's
    epochs of six 3 ms steps took about 1.5x as long. Either way the epoch trains the same."""
    monkeypatch.setattr(step_module, "MIN_REPORT_SECONDS", seconds)
    config = TrainConfig(epochs=1, batch_size=32, candidates_per_batch=1, epoch_loop="host")
    data = DeviceDataset.from_dataset(digits)
    functions = build_functions(data.num_classes, data.image_shape, config)
    keys = jax.random.split(jax.random.PRNGKey(0), 1)
    steps = data.train.size // config.batch_size
    indices = np.arange(steps * config.batch_size, dtype=np.int32).reshape(steps, -1)
    losses = encode_losses([resolve_loss("ngl")], config.max_nodes, prior=data.class_prior)
    called = []
    state, metrics = functions.train_epoch(
        functions.init(keys), losses, data.train, EpochKeys(jax.random.PRNGKey(1), keys),
        indices, np.int32(0), on_step=called.append,
    )  # fmt: skip
    every = report_interval(steps)
    expected = list(range(every - 1, steps, every))
    assert called == (expected if reports == "every interval" else expected[:1])
    quiet, quiet_metrics = functions.train_epoch(
        functions.init(keys), losses, data.train, EpochKeys(jax.random.PRNGKey(1), keys),
        indices, np.int32(0),
    )  # fmt: skip
    for a, b in zip(jax.tree.leaves((state, metrics)), jax.tree.leaves((quiet, quiet_metrics)),
                    strict=True):  # fmt: skip
        np.testing.assert_array_equal(np.asarray(a), np.asarray(b))
