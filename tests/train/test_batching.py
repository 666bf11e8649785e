"""`auto` K: 1 on a CPU and for one candidate, else measured (K > 1 under `vmap` and under
`lax.map`), remembered and reported; the trainer trains with the strategy decided."""

import dataclasses
import json

import jax
import pytest

from jaxgp.compilation import count_compilations
from jaxgp.train import TrainConfig, batching, train_candidates
from jaxgp.train import loop as train_loop
from jaxgp.train.batch_plan import CLEAR_MARGIN, BatchPlan, PlanSource, Probe
from jaxgp.train.batching import decide
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
    assert report.batching == BatchPlan(1, "cpu", None, "vmap")


@pytest.mark.parametrize(
    ("setting", "n", "expected"),
    [
        (3, 5, BatchPlan(3, "explicit", None, "vmap")),
        ("auto", 1, BatchPlan(1, "one candidate", None, "vmap")),
    ],
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
    assert Probe({"vmap": rates}, {"vmap": "slower"}, 1.0, 32).best(n) == (expected, "vmap")


def test_a_k_must_beat_one_by_the_clear_margin():
    def best(rates):
        return Probe({"vmap": rates}, {"vmap": "cap"}, 1.0, 2).best(2)

    assert best({1: 100.0, 2: 100.0 * CLEAR_MARGIN * 0.99}) == (1, "vmap")
    assert best({1: 100.0, 2: 100.0 * CLEAR_MARGIN * 1.01}) == (2, "vmap")


def test_the_best_strategy_is_the_one_whose_k_trains_soonest():
    grouped_slow = {"vmap": {1: 100.0, 2: 90.0}, "map": {1: 100.0, 2: 150.0, 4: 170.0}}
    probe = Probe(grouped_slow, {"vmap": "slower", "map": "cap"}, 1.0, 4)
    assert probe.best(8) == (4, "map")
    both_slow = {"vmap": {1: 100.0, 2: 90.0}, "map": {1: 100.0, 2: 80.0}}
    assert Probe(both_slow, {"vmap": "slower", "map": "slower"}, 1.0, 4).best(8) == (1, "vmap")


def test_a_probe_stored_before_strategies_were_probed_is_read_as_its_keys_strategy():
    old = {"rates": {"1": 100.0, "2": 180.0}, "stopped": "slower", "seconds": 3.0, "cap": 32}
    probe = Probe.from_dict(old, "map")
    assert probe.rates == {"map": {1: 100.0, 2: 180.0}} and probe.stopped == {"map": "slower"}
    assert probe.best(4) == (2, "map")
    assert Probe.from_dict(probe.to_dict()) == probe


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
    config = TrainConfig(max_auto_candidates=8, memory_margin=0.0, model_strategy="vmap")
    asked = []

    def fake_rate(functions, data, config, k, budget):
        asked.append(k)
        return rates[k], 1

    monkeypatch.setattr(batching, "_rate", fake_rate)
    monkeypatch.setattr(batching, "device_memory_bytes", lambda: budget_in_ones)
    result = batching.probe(_functions(data, config), data, config, None)
    assert result.stopped == {"vmap": stopped}
    assert asked == measured
    assert sorted(result.rates["vmap"]) == measured


def test_without_a_strategy_k_above_one_is_probed_under_both_and_one_is_measured_once(
    digits, monkeypatch
):
    data = DeviceDataset.from_dataset(digits)
    config = TrainConfig(max_auto_candidates=8)
    rates = {("vmap", 1): 10.0, ("vmap", 2): 8.0, ("map", 2): 15.0, ("map", 4): 25.0,
             ("map", 8): 24.0}  # fmt: skip
    asked = []

    def fake_rate(functions, data, config, k, budget):
        strategy = config.model_strategy or "vmap"
        asked.append((strategy, k))
        return rates[(strategy, k)], 1

    monkeypatch.setattr(batching, "_rate", fake_rate)
    seen = []
    result = batching.probe(_functions(data, config), data, config, lambda *a: seen.append(a))
    assert asked == [("vmap", 1), ("vmap", 2), ("map", 2), ("map", 4), ("map", 8)]
    assert result.stopped == {"vmap": "slower", "map": "slower"}
    assert result.rates["map"] == {1: 10.0, 2: 15.0, 4: 25.0, 8: 24.0}
    assert result.best(8) == (4, "map")
    assert seen[-1] == ("probe", 7, 7)


def test_an_accelerator_whose_grouped_convolutions_are_slow_trains_under_map(digits, monkeypatch):
    monkeypatch.setattr(batching, "batching_pays", lambda: True)
    monkeypatch.setattr(batching, "decisions_path", lambda: None)  # nothing remembered
    rates = {("vmap", 1): 10.0, ("vmap", 2): 9.0, ("map", 2): 30.0}
    monkeypatch.setattr(
        batching, "_rate",
        lambda functions, data, config, k, budget: (rates[(config.model_strategy or "vmap", k)], 1),
    )  # fmt: skip
    trained_with = []
    real_chunk = train_loop._train_chunk

    def chunk(functions, specs, real, seeds, rates, data, config, *rest):
        trained_with.append((functions, config.model_strategy, len(specs)))
        return real_chunk(functions, specs, real, seeds, rates, data, config, *rest)

    monkeypatch.setattr(train_loop, "_train_chunk", chunk)
    config = TrainConfig(epochs=1, max_auto_candidates=2)
    report = train_candidates(LOSSES, digits, config)
    assert report.batching.source == "probed" and report.batching.k == 2
    assert report.batching.model_strategy == "map"
    assert report.batching.to_dict()["model_strategy"] == "map"
    assert "under map" in report.batching.describe()
    data = DeviceDataset.from_dataset(digits)
    as_map = dataclasses.replace(config.for_dataset(data), model_strategy="map")
    map_functions = build_functions(data.num_classes, data.image_shape, as_map)
    assert trained_with == [(map_functions, "map", 2), (map_functions, "map", 2)]


def test_an_accelerator_probes_once_then_remembers_on_disk(digits, monkeypatch, tmp_path):
    monkeypatch.setattr(batching, "batching_pays", lambda: True)
    before = jax.config.jax_compilation_cache_dir
    jax.config.update("jax_compilation_cache_dir", str(tmp_path))
    try:
        data = DeviceDataset.from_dataset(digits)
        config = TrainConfig(epochs=1, max_auto_candidates=2)
        functions = _functions(data, config)
        seen = []
        first = decide(3, data, config, functions, lambda *a: seen.append(a))
        assert first.source == "probed" and first.k in (1, 2)
        assert first.model_strategy in ("vmap", "map")
        assert set(first.probe.rates) == {"vmap", "map"} and 1 in first.probe.rates["vmap"]
        assert set(first.probe.rates["map"]) <= {1, 2}
        assert all(rate > 0 for by_k in first.probe.rates.values() for rate in by_k.values())
        assert first.probe.seconds > 0 and ("probe", 3, 3) in seen
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
        jax.config.update("jax_compilation_cache_dir", before)


def test_a_trainer_call_reports_its_decision(digits, monkeypatch):
    monkeypatch.setattr(batching, "batching_pays", lambda: True)
    monkeypatch.setattr(batching, "decisions_path", lambda: None)  # nothing remembered
    config = TrainConfig(epochs=1, max_auto_candidates=2)
    report = train_candidates(LOSSES, digits, config)
    assert report.batching.source == "probed"
    assert report.candidates_per_batch == report.batching.k
    assert "candidate-images/s vmap: K=1" in report.batching.describe()
    assert report.batching.to_dict()["probe"]["rates"]["vmap"]["1"] > 0


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
    rates = iter([10.0, 30.0, 20.0])  # vmap K = 1, 2, then map K = 2
    monkeypatch.setattr(batching, "_timed", lambda *a: next(rates))
    result = batching.probe(_functions(data, config), data, config, None)
    assert result.stopped == {"vmap": "memory", "map": "memory"}
    assert sorted(result.rates["vmap"]) == sorted(result.rates["map"]) == [1, 2]


@pytest.mark.parametrize("per_device", [False, True])
def test_a_plans_source_reads_back_from_the_text_the_records_hold(per_device):
    plan = BatchPlan(4, PlanSource.CPU, None, "vmap", per_device)
    text = "cpu; one per device or more" if per_device else "cpu"
    assert plan.to_dict() == {"k": 4, "source": text, "model_strategy": "vmap"}
    assert BatchPlan.from_dict(plan.to_dict()) == plan
