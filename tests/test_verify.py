"""`jaxgp.verify` without training: the paired statistics, the verdicts, the seeds and recipe
it trains with, its JSON round trip, and bad input refused before anything is trained."""

import json
import math
from types import SimpleNamespace

import numpy as np
import pytest

from jaxgp.errors import ConfigError, ExpressionError
from jaxgp.paired import BETTER, NO_EVIDENCE, WORSE, paired_difference
from jaxgp.search import get_scale
from jaxgp.search.rundir import dumps
from jaxgp.verify import verification_seeds, verify
from jaxgp.verify_result import DatasetVerification, VerifyResult, read_verification
from tests.search import fake_run
from tests.search.fake_trainer import fake_result

#: t quantiles (0.975) from a printed table (to 8 digits), by degrees of freedom
T_975 = {1: 12.706205, 3: 3.1824463, 4: 2.7764451, 9: 2.2621572}


def paired_t_interval(a, b):
    """The 95 % paired-t interval written out with NumPy and the table above."""
    d = np.asarray(a, float) - np.asarray(b, float)
    n = len(d)
    mean = d.sum() / n
    sd = math.sqrt(((d - mean) ** 2).sum() / (n - 1))
    half = T_975[n - 1] * sd / math.sqrt(n)
    return mean, sd, mean - half, mean + half


@pytest.mark.parametrize("n", [2, 5, 10])
def test_paired_interval_equals_the_t_table_computation(n):
    rng = np.random.default_rng(n)
    loss, ce = rng.uniform(0.4, 0.9, n), rng.uniform(0.4, 0.9, n)
    d = paired_difference(loss, ce)
    mean, sd, low, high = paired_t_interval(loss, ce)
    assert (d.mean, d.std) == pytest.approx((mean, sd), rel=1e-12)
    assert (d.low, d.high) == pytest.approx((low, high), rel=1e-7)
    assert d.n == n and d.confidence == 0.95


@pytest.mark.parametrize(
    ("loss", "ce", "verdict"),
    [
        ([0.81, 0.82, 0.80, 0.83, 0.81], [0.70, 0.72, 0.69, 0.71, 0.70], BETTER),
        ([0.60, 0.62, 0.61, 0.59, 0.60], [0.70, 0.72, 0.69, 0.71, 0.70], WORSE),
        ([0.75, 0.65, 0.72, 0.68, 0.70], [0.70, 0.72, 0.69, 0.71, 0.70], NO_EVIDENCE),
        ([0.70, 0.70], [0.70, 0.70], NO_EVIDENCE),  # identical: the interval is [0, 0]
        ([0.80, float("nan")], [0.70, 0.70], NO_EVIDENCE),
    ],
)
def test_verdict_reads_the_interval(loss, ce, verdict):
    d = paired_difference(loss, ce)
    assert d.verdict == verdict
    if verdict == BETTER:
        assert d.low > 0
    elif verdict == WORSE:
        assert d.high < 0


def test_a_larger_difference_on_every_seed_is_better_only_with_enough_seeds():
    # +0.1 and +0.3: the t quantile of one degree of freedom (12.7) makes [-1.07, 1.47]
    assert paired_difference([0.8, 1.0], [0.7, 0.7]).verdict == NO_EVIDENCE
    assert paired_difference([0.8, 1.0, 0.8, 1.0], [0.7, 0.7, 0.7, 0.7]).verdict == BETTER


def test_one_seed_has_no_interval():
    with pytest.raises(ConfigError, match="at least 2 seeds"):
        paired_difference([0.5], [0.4])


class Recorder:
    """A `train_candidates` stand-in that records what it is asked to train."""

    def __init__(self):
        self.calls = []
        self.loads = []

    def load(self, name, **options):
        self.loads.append((name, options))
        return SimpleNamespace(name=name)

    def train(self, losses, dataset, config, *, seeds=None, progress=None):
        self.calls.append(SimpleNamespace(losses=list(losses), config=config, seeds=list(seeds)))
        labels = [getattr(loss, "label", loss) for loss in losses]
        results = [
            fake_result(label, dataset.name, config.epochs, seed)
            for label, seed in zip(labels, seeds, strict=True)
        ]
        return SimpleNamespace(results=results, seconds=0.5)


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory):
    """A finished fake search (seed 3, digits, the tiny scale's small_cnn for 1 epoch)."""
    out = tmp_path_factory.mktemp("search") / "run"
    fake_run.run(out)
    return out


def test_seeds_differ_from_the_search_seed_and_pair_the_loss_with_ce(run_dir):
    recorder = Recorder()
    result = verify(str(run_dir), seeds=3, train_fn=recorder.train, load_fn=recorder.load)
    search_seed = fake_run.OPTIONS["seed"]
    assert result.search_seed == search_seed
    assert list(result.seeds) == [1003, 1004, 1005] == verification_seeds(search_seed, 3)
    (call,) = recorder.calls
    assert call.seeds == [1003, 1004, 1005] * 2  # pair i: loss seed i and CE seed i
    assert [getattr(x, "label", x) for x in call.losses] == [result.loss] * 3 + ["ce"] * 3
    assert call.config.seed == result.data_seed == 1003  # data order and augmentation
    assert recorder.loads == [("digits", {"data_dir": None, "seed": 1003})]  # the split
    assert search_seed not in [*call.seeds, call.config.seed]


def test_a_run_is_verified_with_its_own_recipe_and_best_loss(run_dir):
    from jaxgp.report import load_run

    run = load_run(run_dir)
    recorder = Recorder()
    result = verify(str(run_dir), seeds=2, train_fn=recorder.train, load_fn=recorder.load)
    assert result.loss == run.best_overall()[1].expression
    assert (result.model, result.epochs) == (run.settings.train.model, run.settings.train.epochs)
    assert [d.dataset for d in result.datasets] == list(run.settings.datasets)
    (call,) = recorder.calls
    assert call.config.learning_rate == run.settings.train.learning_rate
    assert result.run_dir == str(run_dir)


def test_overrides_and_the_tiny_recipe_for_an_expression():
    recorder = Recorder()
    result = verify(
        "ngl", seeds=2, datasets=["digits", "synthetic"], epochs=3,
        train_fn=recorder.train, load_fn=recorder.load,
    )  # fmt: skip
    assert (result.model, result.epochs, result.search_seed) == ("small_cnn", 3, 0)
    assert list(result.seeds) == [1000, 1001]
    assert [name for name, _ in recorder.loads] == ["digits", "synthetic"]
    assert all(call.config.epochs == 3 for call in recorder.calls)
    recorder = Recorder()
    verify("y_pred - y_true", seeds=2, train_fn=recorder.train, load_fn=recorder.load)
    tiny = get_scale("tiny").epochs
    assert recorder.calls[0].config.epochs == tiny and recorder.loads[0][0] == "digits"


def test_results_hold_each_seed_and_the_statistics_of_those():
    recorder = Recorder()
    result = verify("y_pred - y_true", seeds=4, train_fn=recorder.train, load_fn=recorder.load)
    (dataset,) = result.datasets
    tiny = get_scale("tiny").epochs
    expected = [
        fake_result("y_pred - y_true", "digits", tiny, s).test_accuracy for s in result.seeds
    ]
    assert list(dataset.loss_accuracy) == expected
    assert list(dataset.ce_accuracy) == [fake_result("ce", "digits", tiny, 0).test_accuracy] * 4
    data = dataset.to_dict()
    assert data["loss_mean"] == pytest.approx(np.mean(expected))
    assert data["loss_std"] == pytest.approx(np.std(expected, ddof=1))
    mean, _, low, high = paired_t_interval(expected, dataset.ce_accuracy)
    assert (data["difference"]["low"], data["difference"]["high"]) == pytest.approx((low, high))


def test_json_round_trip(tmp_path):
    result = VerifyResult(
        loss="ngl", origin="given on the command line", model="small_cnn", epochs=1,
        search_seed=0, seeds=(1000, 1001, 1002), data_seed=1000,
        datasets=(DatasetVerification("digits", (0.5, 0.6, 0.55), (0.4, 0.45, 0.5), 1, 0, 2.0),),
        run_dir=None, seconds=3.5,
    )  # fmt: skip
    text = dumps(result.to_dict())
    assert VerifyResult.from_dict(json.loads(text)) == result
    (tmp_path / "verify.json").write_text(text)
    assert read_verification(tmp_path / "verify.json") == result
    (tmp_path / "bad.json").write_text("{}")
    with pytest.raises(ConfigError, match="not a jaxgp verify result"):
        read_verification(tmp_path / "bad.json")
    data = result.to_dict()
    data["datasets"][0]["ce_test_accuracy"] = [0.4, 0.45]
    (tmp_path / "short.json").write_text(dumps(data))
    with pytest.raises(ConfigError, match="one accuracy of each per seed expected"):
        read_verification(tmp_path / "short.json")


@pytest.mark.parametrize(
    ("target", "options", "error", "message"),
    [
        ("ngl", {"seeds": 1}, ConfigError, "seeds must be at least 2"),
        ("ngl", {"datasets": ["imagenet"]}, ConfigError, "imagenet"),
        ("ngl", {"datasets": ["digits", "digits"]}, ConfigError, "listed twice"),
        ("ngl", {"model": "resnet50"}, ConfigError, "unknown model"),
        ("ngl", {"epochs": 0}, ConfigError, "epochs must be at least 1"),
        ("y_pred +", {}, ExpressionError, "unexpected end of input"),
        ("runs/missing", {}, ConfigError, "neither a run directory nor a loss"),
    ],
)
def test_bad_input_is_refused_before_training(target, options, error, message):
    recorder = Recorder()
    with pytest.raises(error, match=message):
        verify(target, train_fn=recorder.train, load_fn=recorder.load, **options)
    assert recorder.calls == [] and recorder.loads == []
