"""`jaxgp.verify` without training: the paired statistics, the verdicts, the seeds and recipe
it trains with, its JSON round trip, and bad input refused before anything is trained."""

import json
import math
from types import SimpleNamespace

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from jaxgp.data import TrainSplit
from jaxgp.errors import ConfigError, ExpressionError
from jaxgp.paired import BETTER, NO_EVIDENCE, WORSE, holm, paired_difference, verdict
from jaxgp.search import get_scale
from jaxgp.search.rundir import dumps
from jaxgp.verify import verification_seeds, verify
from jaxgp.verify_result import Comparison, RateSweep, VerifyResult, read_verification
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

    def train(self, losses, dataset, config, *, seeds=None, progress=None, learning_rates=None):
        self.calls.append(SimpleNamespace(losses=list(losses), config=config, seeds=list(seeds),
                                          learning_rates=learning_rates))  # fmt: skip
        labels = [getattr(loss, "label", loss) for loss in losses]
        rates = learning_rates or [config.learning_rate] * len(labels)
        results = [
            fake_result(label, dataset.name, config.epochs, seed + round(rate * 1e6))
            for label, seed, rate in zip(labels, seeds, rates, strict=True)
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
    assert list(result.datasets) == list(run.settings.datasets)
    (call,) = recorder.calls
    assert call.config.learning_rate == run.settings.train.learning_rate
    assert result.run_dir == str(run_dir)


def test_a_thesis_run_is_verified_against_prior_losses_in_the_priors_language(run_dir):
    recorder = Recorder()
    verify(str(run_dir), seeds=2, against=["ce", "cb", "la"], train_fn=recorder.train,
           load_fn=recorder.load)  # fmt: skip
    (call,) = recorder.calls
    assert call.config.language == "priors"
    recorder = Recorder()
    verify(str(run_dir), seeds=2, train_fn=recorder.train, load_fn=recorder.load)
    assert recorder.calls[0].config.language == "thesis"


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
    (dataset,) = result.comparisons
    tiny = get_scale("tiny").epochs
    expected = [
        fake_result("y_pred - y_true", "digits", tiny, s + 1000).test_accuracy for s in result.seeds
    ]  # the recorder's fake results also depend on the learning rate 1e-3 (+ 1000)
    assert list(dataset.loss_accuracy) == expected
    ce = [fake_result("ce", "digits", tiny, 0).test_accuracy] * 4
    assert list(dataset.against_accuracy) == ce and dataset.against == "ce"
    data = dataset.to_dict()
    assert data["loss_mean"] == pytest.approx(np.mean(expected))
    assert data["loss_std"] == pytest.approx(np.std(expected, ddof=1))
    mean, _, low, high = paired_t_interval(expected, dataset.against_accuracy)
    assert (data["difference"]["low"], data["difference"]["high"]) == pytest.approx((low, high))


def test_json_round_trip(tmp_path):
    result = VerifyResult(
        losses=("ngl",), origin="given on the command line", model="small_cnn", epochs=1,
        search_seed=0, seeds=(1000, 1001, 1002), data_seed=1000,
        comparisons=(
            Comparison("digits", "ngl", "ce", (0.5, 0.6, 0.55), (0.4, 0.45, 0.5), 1, 0,
                       1e-3, 3e-3, 2.0),
        ),
        run_dir=None, seconds=3.5, train_split=TrainSplit(imbalance=20),
        sweeps=(RateSweep("digits", "ngl", (1e-3, 3e-3), (0.5, 0.4), (0.55, 0.45)),),
    )  # fmt: skip
    text = dumps(result.to_dict())
    assert VerifyResult.from_dict(json.loads(text)) == result
    (tmp_path / "verify.json").write_text(text)
    assert read_verification(tmp_path / "verify.json") == result
    (tmp_path / "bad.json").write_text("{}")
    with pytest.raises(ConfigError, match="not a jaxgp verify result"):
        read_verification(tmp_path / "bad.json")
    data = result.to_dict()
    data["comparisons"][0]["against_test_accuracy"] = [0.4, 0.45]
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


def test_the_p_value_is_scipys_paired_t_test_and_below_005_exactly_when_the_interval_excludes_0():
    from scipy import stats

    rng = np.random.default_rng(7)
    for _ in range(50):
        n = int(rng.integers(2, 8))
        loss, ce = rng.uniform(0.5, 0.9, n), rng.uniform(0.5, 0.9, n)
        d = paired_difference(loss, ce)
        assert d.p_value == pytest.approx(stats.ttest_rel(loss, ce).pvalue, rel=1e-9)
        assert (d.p_value < 0.05) == (d.low > 0 or d.high < 0)


@given(st.lists(st.floats(0.0, 1.0), min_size=1, max_size=12))
def test_holm_adjusted_p_values_are_the_step_down_products_made_monotone(p_values):
    adjusted = holm(p_values)
    m = len(p_values)
    order = np.argsort(p_values, kind="stable")
    expected = np.minimum(1.0, np.maximum.accumulate((m - np.arange(m)) * np.sort(p_values)))
    np.testing.assert_allclose(np.asarray(adjusted)[order], expected, rtol=1e-12)
    assert all(a >= p for a, p in zip(adjusted, p_values, strict=True))


def test_one_comparison_is_not_corrected_and_a_nan_p_value_gives_no_verdict():
    assert holm([0.03]) == [0.03]
    assert holm([float("nan"), 0.01])[1] == pytest.approx(0.02)
    assert verdict(0.1, 0.04) == BETTER and verdict(-0.1, 0.04) == WORSE
    assert verdict(0.1, 0.05) == NO_EVIDENCE and verdict(0.1, float("nan")) == NO_EVIDENCE


def test_several_losses_against_several_references_train_ce_once_per_seed_in_one_call():
    recorder = Recorder()
    result = verify(["ngl", "focal", "mse"], against=["ce", "ngl"], seeds=3,
                    train_fn=recorder.train, load_fn=recorder.load)  # fmt: skip
    (call,) = recorder.calls
    labels = [getattr(x, "label", x) for x in call.losses]
    assert labels == ["ngl"] * 3 + ["focal"] * 3 + ["mse"] * 3 + ["ce"] * 3
    assert call.seeds == [1000, 1001, 1002] * 4
    pairs = [(c.loss, c.against) for c in result.comparisons]
    assert pairs == [("ngl", "ce"), ("focal", "ce"), ("focal", "ngl"), ("mse", "ce"),
                     ("mse", "ngl")]  # fmt: skip
    by_pair = {(c.loss, c.against): c for c in result.comparisons}
    assert by_pair["focal", "ngl"].against_accuracy == by_pair["ngl", "ce"].loss_accuracy
    assert by_pair["focal", "ce"].against_accuracy == by_pair["mse", "ce"].against_accuracy
    raw = [c.difference.p_value for c in result.comparisons]
    assert result.adjusted_p_values == holm(raw)
    assert result.verdicts() == [
        verdict(c.difference.mean, p)
        for c, p in zip(result.comparisons, result.adjusted_p_values, strict=True)
    ]


def test_every_loss_trains_at_every_rate_and_is_compared_at_its_best_validation_rate():
    recorder = Recorder()
    rates = [3e-4, 1e-3, 3e-3]
    result = verify("ngl", seeds=2, learning_rates=rates, train_fn=recorder.train,
                    load_fn=recorder.load)  # fmt: skip
    (call,) = recorder.calls
    assert call.learning_rates == [r for _ in ("ngl", "ce") for r in rates for _ in range(2)]
    tiny = get_scale("tiny").epochs
    for sweep in result.sweeps:
        vals = [
            np.mean([fake_result(sweep.loss, "digits", tiny, s + round(r * 1e6)).val_accuracy
                     for s in result.seeds])
            for r in rates
        ]  # fmt: skip
        assert sweep.val_means == pytest.approx(vals)
        assert sweep.chosen == rates[int(np.argmax(vals))]
    (c,) = result.comparisons
    chosen = {s.loss: s.chosen for s in result.sweeps}
    assert (c.loss_learning_rate, c.against_learning_rate) == (chosen["ngl"], chosen["ce"])
    expected = [fake_result("ngl", "digits", tiny, s + round(chosen["ngl"] * 1e6)).test_accuracy
                for s in result.seeds]  # fmt: skip
    assert list(c.loss_accuracy) == expected


def test_a_dataset_object_is_verified_as_given_with_the_training_split_applied():
    from jaxgp.data import load_dataset

    digits = load_dataset("digits", seed=5)
    recorder = Recorder()
    seen = []
    recorder_train = recorder.train

    def train(losses, dataset, config, **options):
        seen.append(dataset)
        return recorder_train(losses, dataset, config, **options)

    result = verify("ngl", seeds=2, datasets=[digits], train_split=TrainSplit(imbalance=10),
                    train_fn=train, load_fn=recorder.load)  # fmt: skip
    assert recorder.loads == []  # nothing loaded: the Dataset was used
    (dataset,) = seen
    expected = TrainSplit(imbalance=10).apply(digits, result.data_seed)
    assert np.array_equal(dataset.train.labels, expected.train.labels)
    assert len(dataset.val) == len(digits.val) and len(dataset.test) == len(digits.test)
    assert result.train_split == TrainSplit(imbalance=10)


def test_a_verify_json_written_before_against_existed_still_reads(tmp_path):
    old = {
        "loss": "ngl", "origin": "given", "run_dir": None, "model": "small_cnn", "epochs": 1,
        "search_seed": 0, "seeds": [1000, 1001], "data_seed": 1000, "seconds": 1.0,
        "datasets": [{"dataset": "digits", "loss_test_accuracy": [0.5, 0.6],
                      "ce_test_accuracy": [0.4, 0.45], "loss_failed": 0, "ce_failed": 1}],
    }  # fmt: skip
    (tmp_path / "verify.json").write_text(json.dumps(old))
    result = read_verification(tmp_path / "verify.json")
    (c,) = result.comparisons
    assert (result.loss, c.loss, c.against, c.against_failed) == ("ngl", "ngl", "ce", 1)
    assert c.against_accuracy == (0.4, 0.45) and result.train_split.identity


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"learning_rates": [1e-3, -1e-3]}, "learning rates must be positive"),
        ({"learning_rates": [1e-3, 1e-3]}, "listed twice"),
        ({"against": ["ngl"]}, "compares the loss with itself"),
        ({"against": ["nope"]}, "nope"),
    ],
)
def test_bad_comparison_options_are_refused_before_training(options, message):
    recorder = Recorder()
    with pytest.raises((ConfigError, ExpressionError), match=message):
        verify("ngl", train_fn=recorder.train, load_fn=recorder.load, **options)
    assert recorder.calls == [] and recorder.loads == []
