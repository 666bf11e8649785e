"""The trainer on the paper's model, on a mocked tfds dataset, and sharded over devices."""

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest
import tensorflow_datasets as tfds

from jaxgp.data import load_dataset
from jaxgp.train import TrainConfig, train_candidates
from tests.xla_env import devices_env


def test_one_real_inception_v3_training_step_runs_on_the_cpu():
    dataset = load_dataset("synthetic:cifar10", seed=0, num_train=24, num_test=4).head(2, 2, 2)
    config = TrainConfig(
        model="inception_v3", input_size=75, epochs=1, batch_size=2, eval_batch_size=2,
        candidates_per_batch=2,
    )  # fmt: skip
    report = train_candidates(["ce", "ngl"], dataset, config)
    assert [r.status for r in report.results] == ["trained", "trained"]
    assert all(np.isfinite(r.history[0].train_loss) for r in report.results)


def test_training_reads_a_tfds_dataset_under_mock_data():
    config = TrainConfig(epochs=1, batch_size=16, candidates_per_batch=2)
    with tfds.testing.mock_data(num_examples=40):
        dataset = load_dataset("cifar10", seed=0)
    report = train_candidates(["ce", "ngl"], dataset, config)
    assert dataset.image_shape == (32, 32, 3)
    assert [r.dataset for r in report.results] == ["cifar10", "cifar10"]
    assert all(r.status == "trained" for r in report.results)


_SCRIPT = textwrap.dedent(
    """
    import json, sys
    import jax
    from jaxgp.data import load_dataset
    from jaxgp.train import TrainConfig, train_candidates
    digits = load_dataset("digits", seed=0).head(train=128, val=64, test=64)
    config = TrainConfig(epochs=1, candidates_per_batch=int(sys.argv[1]))
    report = train_candidates(["ce", "ngl", "mse"], digits, config)
    print(json.dumps({"devices": jax.local_device_count(), "k": report.candidates_per_batch,
                      "results": [[r.val_loss, r.val_accuracy, r.test_loss, r.test_accuracy]
                                  for r in report.results]}))
    """
)


def _run(devices: int, k: int) -> dict:
    env = devices_env(devices, fast=True)
    out = subprocess.run(
        [sys.executable, "-c", _SCRIPT, str(k)], env=env, capture_output=True, text=True,
        check=True, timeout=600,
    )  # fmt: skip
    return json.loads(out.stdout.strip().splitlines()[-1])


@pytest.mark.skipif(sys.platform != "linux", reason="virtual CPU devices")
def test_sharding_candidates_over_four_devices_gives_the_one_device_results():
    one = _run(1, 4)
    four = _run(4, 4)
    assert (one["devices"], four["devices"]) == (1, 4)
    assert four["k"] == 4  # 3 candidates padded to K = 4, a multiple of the device count
    np.testing.assert_allclose(four["results"], one["results"], rtol=1e-4, atol=1e-6)


_REPACK = textwrap.dedent(
    """
    import json
    import numpy as np
    from jaxgp.data import load_dataset
    from jaxgp.train import TrainConfig, train_candidates
    digits = load_dataset("digits", seed=0).head(train=128, val=64, test=64)
    losses = ["ce", "ngl", "mse", "fpl", "sin(y_pred) - y_true * y_pred", "cos(y_pred * y_true)",
              "neg(y_true * log(y_pred))", "y_true / y_pred"]
    config = TrainConfig(epochs=2, batch_size=32, candidates_per_batch=8)
    full = train_candidates(losses, digits, config).results
    # the four lowest validation losses (each its own loss: distinct) stop after epoch 1,
    # so the batch is re-packed from 8 to 4
    threshold = sorted(r.history[0].val_loss for r in full)[3]
    stopped = train_candidates(losses, digits, config,
                               stop=lambda e, r: e == 1 and r.val_loss <= threshold).results
    print(json.dumps([[r.status, [h.val_accuracy for h in r.history],
                       [h.val_accuracy for h in f.history]] for r, f in zip(stopped, full)]))
    """
)


@pytest.mark.skipif(sys.platform != "linux", reason="virtual CPU devices")
def test_over_four_devices_survivors_repacked_from_eight_train_as_before(tmp_path):
    env = devices_env(4, fast=True)
    out = subprocess.run(
        [sys.executable, "-c", _REPACK], env=env, capture_output=True, text=True, timeout=600
    )
    assert out.returncode == 0, out.stderr[-3000:]
    rows = json.loads(out.stdout.strip().splitlines()[-1])
    statuses = [status for status, _, _ in rows]
    assert statuses.count("stopped") == 4 and statuses.count("trained") == 4
    for status, history, full in rows:
        np.testing.assert_allclose(history, full[: len(history)], rtol=1e-4, atol=1e-6)
        assert len(history) == (1 if status == "stopped" else 2)


_WITHOUT_TFDS = textwrap.dedent(
    """
    import json, sys
    sys.modules["tensorflow_datasets"] = None  # `import tensorflow_datasets` now fails
    from jaxgp.data import load_dataset
    from jaxgp.train import TrainConfig, train_candidates
    digits = load_dataset("digits", seed=0).head(train=128, val=64, test=64)
    report = train_candidates(["ce", "ngl"], digits, TrainConfig(epochs=1))
    print(json.dumps([r.status for r in report.results]))
    """
)


def test_jaxgp_trains_from_a_bare_checkout_without_tensorflow_datasets(tmp_path):
    """The GPU machine has no tensorflow-datasets: jaxgp runs there with PYTHONPATH=."""
    root = Path(__file__).resolve().parents[2]
    env = dict(os.environ, PYTHONPATH=str(root))
    out = subprocess.run(
        [sys.executable, "-c", _WITHOUT_TFDS], env=env, cwd=tmp_path, capture_output=True,
        text=True, timeout=600,
    )  # fmt: skip
    assert out.returncode == 0, out.stderr[-2000:]
    assert json.loads(out.stdout.strip().splitlines()[-1]) == ["trained", "trained"]
