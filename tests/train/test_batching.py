"""`auto` K: 1 on a CPU and for one candidate, else measured, remembered and reported."""

import dataclasses
import json

import jax
import pytest

from jaxgp.compilation import count_compilations
from jaxgp.train import TrainConfig, batching, train_candidates
from jaxgp.train.batching import CLEAR_MARGIN, BatchDecision, Probe, decide
from jaxgp.train.loop import DeviceDataset
from jaxgp.train.step import build_functions

LOSSES = ["ce", "ngl", "mse"]


@pytest.fixture(autouse=True)
def forget_probes(monkeypatch):
    monkeypatch.setattr(batching, "_probes", {})


def _functions(data, config):
    return build_functions(data.num_classes, data.image_shape, config)


def test_auto_is_one_on_a_cpu_and_nothing_is_probed(digits):
    if jax.default_backend() != "cpu":
        pytest.skip("the CPU rule")
    report = train_candidates(LOSSES[:2], digits, TrainConfig(epochs=1))
    assert report.candidates_per_batch == 1
    assert report.batching == BatchDecision(1, "cpu")


@pytest.mark.parametrize(
    ("setting", "n", "expected"),
    [(3, 5, BatchDecision(3, "explicit")), ("auto", 1, BatchDecision(1, "one candidate"))],
)
def test_an_explicit_k_or_a_single_candidate_needs_no_probe(
    digits, monkeypatch, setting, n, expected
):
    monkeypatch.setattr(batching, "batching_pays", lambda: True)
    data = DeviceDataset.from_dataset(digits)
    config = TrainConfig(candidates_per_batch=setting)
    with count_compilations() as compiled:
        assert decide(n, data, config, _functions(data, config)) == expected
    assert compiled.count == 0


@pytest.mark.parametrize(
    ("rates", "n", "expected"),
    [
        ({1: 100.0, 2: 150.0, 4: 160.0}, 8, 4),  # 2 steps of 4 beat 8 of 1 and 4 of 2
        ({1: 100.0, 2: 105.0}, 8, 1),  # not clearly faster
        ({1: 100.0, 4: 350.0}, 3, 4),  # one padded step of 4 beats three of 1
        ({1: 100.0, 4: 120.0}, 5, 1),  # two padded steps of 4 lose to five of 1
        ({}, 4, 1),  # nothing fitted
    ],
)
def test_the_best_k_trains_n_candidates_soonest_padding_included(rates, n, expected):
    assert Probe(rates, "slower", 1.0, 32).best(n) == expected


def test_a_k_must_beat_one_by_the_clear_margin():
    just_below = {1: 100.0, 2: 100.0 * CLEAR_MARGIN * 0.99}
    just_above = {1: 100.0, 2: 100.0 * CLEAR_MARGIN * 1.01}
    assert Probe(just_below, "cap", 1.0, 2).best(2) == 1
    assert Probe(just_above, "cap", 1.0, 2).best(2) == 2


@pytest.mark.parametrize(
    ("rates", "budget_in_ones", "stopped", "measured"),
    [
        ({1: 10.0, 2: 30.0, 4: 20.0}, 100, "slower", [1, 2, 4]),
        ({1: 10.0, 2: 30.0, 4: 50.0, 8: 60.0}, 5, "memory", [1, 2, 4]),
        ({1: 10.0, 2: 30.0, 4: 50.0, 8: 60.0}, 100, "cap", [1, 2, 4, 8]),
    ],
)
def test_the_probe_stops_at_the_first_k_that_is_slower_does_not_fit_or_reaches_the_cap(
    digits, monkeypatch, rates, budget_in_ones, stopped, measured
):
    data = DeviceDataset.from_dataset(digits)
    config = TrainConfig(max_auto_candidates=8, memory_margin=0.0)
    asked = []

    def fake_rate(functions, data, config, k, budget):
        asked.append(k)
        return rates[k], 1

    monkeypatch.setattr(batching, "_rate", fake_rate)
    monkeypatch.setattr(batching, "device_memory_bytes", lambda: budget_in_ones)
    result = batching.probe(_functions(data, config), data, config, None)
    assert result.stopped == stopped
    assert asked == measured
    assert sorted(result.rates) == (measured if stopped != "slower" else measured)


def test_an_accelerator_probes_once_then_remembers_on_disk(digits, monkeypatch, tmp_path):
    monkeypatch.setattr(batching, "batching_pays", lambda: True)
    jax.config.update("jax_compilation_cache_dir", str(tmp_path))
    try:
        data = DeviceDataset.from_dataset(digits)
        config = TrainConfig(epochs=1, max_auto_candidates=2)
        functions = _functions(data, config)
        seen = []
        first = decide(3, data, config, functions, lambda *a: seen.append(a))
        assert first.source == "probed" and first.k in (1, 2)
        assert set(first.probe.rates) <= {1, 2} and 1 in first.probe.rates
        assert all(rate > 0 for rate in first.probe.rates.values())
        assert first.probe.seconds > 0 and ("probe", 2, 2) in seen
        stored = json.loads((tmp_path / batching.DECISIONS_FILE).read_text())
        assert list(stored) == [batching.probe_key(data, config)]
        monkeypatch.setattr(batching, "_probes", {})  # a new process: only the file is left
        with count_compilations() as compiled:
            again = decide(3, data, config, functions)
        assert compiled.count == 0
        assert again == dataclasses.replace(first, source="remembered")
        other = dataclasses.replace(config, compute_dtype="bfloat16")
        assert batching.probe_key(data, other) != batching.probe_key(data, config)
    finally:
        jax.config.update("jax_compilation_cache_dir", None)


def test_a_trainer_call_reports_its_decision(digits, monkeypatch):
    monkeypatch.setattr(batching, "batching_pays", lambda: True)
    config = TrainConfig(epochs=1, max_auto_candidates=2)
    report = train_candidates(LOSSES, digits, config)
    assert report.batching.source == "probed"
    assert report.candidates_per_batch == report.batching.k
    assert "candidate-images/s K=1" in report.batching.describe()
    assert report.batching.to_dict()["probe"]["rates"]["1"] > 0


def test_without_a_memory_analysis_the_probe_times_every_k_up_to_the_cap(digits, monkeypatch):
    monkeypatch.setattr(jax.stages.Compiled, "memory_analysis", lambda self: None)
    data = DeviceDataset.from_dataset(digits)
    config = TrainConfig(max_auto_candidates=2)
    rate, footprint = batching._rate(_functions(data, config), data, config, 2, budget=1.0)
    assert rate > 0 and footprint == 0  # a budget of one byte, and still measured


def test_a_k_that_runs_out_of_device_memory_stops_the_probe_as_memory(digits, monkeypatch):
    data = DeviceDataset.from_dataset(digits)
    config = TrainConfig(max_auto_candidates=8)
    real = batching._probe_arguments

    def arguments(functions, data, config, k):
        if k == 4:
            raise RuntimeError("RESOURCE_EXHAUSTED: Out of memory allocating 12 GiB")
        return real(functions, data, config, k)

    monkeypatch.setattr(batching, "_probe_arguments", arguments)
    monkeypatch.setattr(batching, "compiled_footprint_bytes", lambda compiled: None)
    rates = iter([10.0, 30.0])
    monkeypatch.setattr(batching, "_timed", lambda *a: next(rates))
    result = batching.probe(_functions(data, config), data, config, None)
    assert result.stopped == "memory" and sorted(result.rates) == [1, 2]
