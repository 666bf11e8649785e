"""End to end with the real trainer: digits, small_cnn, P=4, one generation, one epoch."""

import json

import jax
import numpy as np
import pytest

from jaxgp.data.dataset import Dataset
from jaxgp.search import RunOptions, run_search
from jaxgp.search.rundir import RunDir

pytest.importorskip("jaxgp.train.loop")


def small_digits(name, **kwargs):
    from jaxgp.data.load import load_dataset

    full = load_dataset(name, **kwargs)
    keep = lambda split, n: split.take(np.arange(min(n, len(split))))  # noqa: E731
    return Dataset(
        full.name, full.num_classes, full.image_shape,
        keep(full.train, 256), keep(full.val, 64), keep(full.test, 64),
    )  # fmt: skip


def test_tiny_evolve_with_the_real_trainer(tmp_path):
    out = tmp_path / "run"
    options = RunOptions(out=str(out), population=4, generations=1, epochs=1,
                         datasets=("digits",), model="small_cnn")  # fmt: skip
    summary = run_search("evolve", options, load_fn=small_digits)
    ledger, warnings = RunDir.open(out).read_evaluations()
    assert warnings == [] and len(ledger) == 4 + 1  # P + T*N with N = 1 at P = 4
    assert summary.evaluations == 5
    baselines = json.loads((out / "baselines.json").read_text())["datasets"]["digits"]
    assert 0.0 <= baselines["val_accuracy"] <= 1.0
    for record in ledger:
        assert record.status in ("trained", "cached", "failed")
        if record.status != "failed":
            assert 0.0 <= record.scores["digits"].val_accuracy <= 1.0
    assert len(summary.algorithms["tournament"].final_population) == 4
    assert summary.compilations >= summary.algorithms["tournament"].compilations  # a part of it
    batching = summary.candidates_per_batch["digits"]
    if jax.default_backend() == "cpu":  # one candidate per trainer call, each ledgered at once
        # and one confirmation call: the best (at most 3) and CE on the scale's 3 seeds
        confirmed = len(summary.confirmation.candidates) + 1
        assert batching == {
            "k_by_candidates": {"1": 1, str(3 * confirmed): 1},
            "source": "cpu",
            "model_strategy": "vmap",
        }
    else:
        assert batching["source"] in ("probed", "remembered") and "4" in batching["k_by_candidates"]
        assert batching["model_strategy"] in ("vmap", "map")
