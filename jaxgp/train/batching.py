"""How many candidates to train at once (K): an explicit number, or `auto`, decided by measuring.

`auto` on a CPU is 1, without probing: there batching candidates does not pay (small_cnn,
CIFAR shape, batch 64, 2 cores: 977 candidate-images/s at K=1, 293 at K=2 and 220 at K=4
under `vmap`; benchmarks/RESULTS.md). A call with one candidate is K = 1 everywhere.

`auto` on an accelerator probes once per (device kind, jax version, model, dataset shape,
dtype, strategies, epoch loop, node cap): for K = 1, 2, 4, ... it compiles the training
step for K candidates ahead of time, reads XLA's memory analysis of it (arguments, outputs
and temporaries, less what is aliased), stops at the first K that does not fit in the
device's memory less `memory_margin`, and otherwise times `PROBE_STEPS` steps on the real
data after `PROBE_WARMUP`. It stops at the first K whose candidate-images per second are
not above the best so far, or at `max_auto_candidates`. Unless the configuration names a
model strategy, K > 1 is probed under both: `vmap` (one batched computation, whose
convolutions become grouped ones, `feature_group_count=K`, and cuDNN's grouped kernels can
be much slower than K plain ones) and `lax.map` (the K models one after another inside the
step, plain convolutions); K = 1 is the same program under either and is measured once.
The decision names the model strategy it chose, and the trainer trains with it. The steps
are compiled with the arguments training passes, so with the host epoch loop the chosen
K's step is compiled once, for the probe and the training alike.

For a call of n candidates the decision is the measured (strategy, K) that trains them
soonest (ceil(n/K) steps of K candidates each, padding included), and K > 1 only if that
beats K = 1 by `CLEAR_MARGIN`. Probes are kept in memory and, when JAX's persistent compilation
cache is on, in `jaxgp-candidates-per-batch.json` in its directory, so the next run on the
same machine decides without probing.
"""

from __future__ import annotations

import dataclasses
import json
import os
import time
from pathlib import Path

import jax
import numpy as np

from jaxgp.choices import AUTO
from jaxgp.losses import encode_losses, resolve_loss
from jaxgp.policy import STRATEGIES, batching_pays
from jaxgp.train.batch_plan import BatchPlan, PlanSource, Probe
from jaxgp.train.capacity import compiled_footprint_bytes, device_memory_bytes
from jaxgp.train.config import TrainConfig
from jaxgp.train.placement import (
    device_count,
    place_candidates,
    place_replicated,
    round_up_to_devices,
)
from jaxgp.train.protocols import TrainProgress
from jaxgp.train.state import EpochKeys
from jaxgp.train.step import Functions, build_functions

PROBE_STEPS = 5
PROBE_WARMUP = 2
DECISIONS_FILE = "jaxgp-candidates-per-batch.json"


def probe_strategies(config: TrainConfig) -> tuple[str, ...]:
    """The model strategies the probe tries: the configured one, else both."""
    return (config.model_strategy,) if config.model_strategy else STRATEGIES


def probe_key(data, config: TrainConfig) -> str:
    """What a probe's result depends on."""
    spec = config.program()
    device = jax.local_devices()[0]
    parts = [
        device.device_kind, f"{jax.local_device_count()} devices", f"jax {jax.__version__}",
        spec.model, f"input {spec.input_size}", f"{data.num_classes} classes",
        "x".join(map(str, data.image_shape)), f"batch {spec.batch_size}", spec.compute_dtype,
        f"models {','.join(probe_strategies(config))}", f"losses {spec.loss_strategy}",
        f"epoch {spec.epoch_loop}", f"nodes {spec.max_nodes}",
    ]  # fmt: skip
    return " | ".join(parts)


_probes: dict[str, Probe] = {}


def decisions_path() -> Path | None:
    """The file beside JAX's persistent compilation cache, or None when it is off."""
    directory = jax.config.jax_compilation_cache_dir
    return Path(directory) / DECISIONS_FILE if directory else None


def _read_decisions(path: Path | None) -> dict:
    if path is None or not path.exists():
        return {}
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError):
        return {}  # a broken file only costs a new probe
    return data if isinstance(data, dict) else {}


def _remember(key: str, probe: Probe) -> None:
    _probes[key] = probe
    path = decisions_path()
    if path is None:
        return
    data = _read_decisions(path)
    data[key] = probe.to_dict()
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(f".tmp{os.getpid()}")
        tmp.write_text(json.dumps(data, indent=1, sort_keys=True))
        os.replace(tmp, path)
    except OSError:
        pass  # an unwritable cache directory only costs a probe next time


def _recall(key: str, strategy: str) -> Probe | None:
    if key in _probes:
        return _probes[key]
    stored = _read_decisions(decisions_path()).get(key)
    if stored is None:
        return None
    try:
        probe = Probe.from_dict(stored, strategy)
    except (KeyError, TypeError, ValueError):
        return None
    _probes[key] = probe
    return probe


def _zeros_like(shapes):
    return jax.tree.map(lambda s: np.zeros(s.shape, s.dtype), shapes)


def _probe_arguments(functions: Functions, data, config: TrainConfig, k: int) -> tuple:
    """The host step's arguments for K candidates, placed as training places them."""
    ngl = [resolve_loss("ngl")] * k
    losses = place_candidates(encode_losses(ngl, config.max_nodes, prior=data.class_prior))
    candidates = place_candidates(np.stack([np.asarray(jax.random.PRNGKey(i)) for i in range(k)]))
    state = place_candidates(_zeros_like(jax.eval_shape(functions.init, candidates)))
    keys = EpochKeys(place_replicated(np.asarray(jax.random.PRNGKey(0))), candidates)
    steps = max(1, data.train.size // config.batch_size)
    rng = np.random.default_rng(0)
    indices = rng.integers(0, data.train.size, (steps, config.batch_size), dtype=np.int32)
    return state, losses, data.train, keys, place_replicated(indices)


def _out_of_memory(error: Exception) -> bool:
    return "RESOURCE_EXHAUSTED" in str(error) or "out of memory" in str(error).lower()


def _timed(compiled, arguments: tuple, config: TrainConfig, k: int) -> float:
    """Candidate-images per second of K candidates' compiled step, after a warm-up."""
    state, rest = arguments[0], arguments[1:]
    steps = arguments[-1].shape[0]
    for step in range(PROBE_WARMUP + PROBE_STEPS):
        if step == PROBE_WARMUP:
            jax.block_until_ready(state)
            start = time.perf_counter()
        state, metrics = compiled(state, *rest, np.int32(step % steps))
    jax.block_until_ready(metrics)
    return k * config.batch_size * PROBE_STEPS / (time.perf_counter() - start)


def _rate(functions: Functions, data, config: TrainConfig, k: int, budget: float):
    """(candidate-images per second, bytes) of K candidates' step; (None, bytes) if it does
    not fit in `budget`. Where the backend gives no memory analysis the bytes are 0, and a
    K that runs out of device memory (placing, compiling or stepping) is one that does not
    fit."""
    footprint = None
    try:
        arguments = _probe_arguments(functions, data, config, k)
        compiled = functions.step_program.lower(*arguments, np.int32(0)).compile()
        footprint = compiled_footprint_bytes(compiled)
        if footprint is not None and footprint > budget:
            return None, footprint
        return _timed(compiled, arguments, config, k), footprint or 0
    except Exception as error:  # noqa: BLE001
        if _out_of_memory(error):
            return None, footprint or 0
        raise


def probe(functions: Functions, data, config: TrainConfig, progress: TrainProgress | None) -> Probe:
    """Measure K = 1, 2, 4, ... on this device, K > 1 under each strategy of
    `probe_strategies` (see the module docstring); `functions` are K = 1's."""
    start = time.perf_counter()
    budget = device_memory_bytes() * (1.0 - config.memory_margin)
    cap = config.max_auto_candidates
    ks = [2**i for i in range(cap.bit_length()) if 2**i <= cap]
    strategies = probe_strategies(config)
    total = 1 + (len(ks) - 1) * len(strategies)
    done = 0

    def tick() -> None:
        if progress:
            progress("probe", done, total)

    tick()
    one_rate, one = _rate(functions, data, config, 1, budget)
    done += 1
    rates = {s: ({1: one_rate} if one_rate is not None else {}) for s in strategies}
    stopped = {s: ("memory" if one_rate is None else "cap") for s in strategies}
    for strategy in strategies if one_rate is not None else ():
        strategy_config = dataclasses.replace(config, model_strategy=strategy)
        strategy_functions = build_functions(data.num_classes, data.image_shape, strategy_config)
        for k in ks[1:]:
            tick()
            if k * one > budget:  # K copies of one candidate's footprint: no need to compile
                stopped[strategy] = "memory"
                break
            rate, _ = _rate(strategy_functions, data, strategy_config, k, budget)
            done += 1
            if rate is None:
                stopped[strategy] = "memory"
                break
            best_so_far = max(rates[strategy].values(), default=0.0)
            rates[strategy][k] = rate
            if rate <= best_so_far:
                stopped[strategy] = "slower"
                break
    done = total
    tick()
    return Probe(rates, stopped, time.perf_counter() - start, cap)


def chunk_size(candidates_per_batch: int | str, pending: int) -> int:
    """How many of `pending` new candidates a search trains in one trainer call, so that
    each finished call reaches its ledger: an explicit K, or `auto` where batching cannot
    pay (a CPU), where it means one per device (the candidate axis is split over the
    devices); `auto` elsewhere depends on the dataset (`decide`), so all are trained in
    one call there."""
    if isinstance(candidates_per_batch, int):
        return candidates_per_batch
    if batching_pays():
        return max(1, pending)
    return device_count()


def decide(
    n: int, data, config: TrainConfig, functions: Functions, progress: TrainProgress | None = None
) -> BatchPlan:
    """K for training n candidates on `data` (a multiple of the device count), and the
    model strategy to train them with."""
    plan = _decide(n, data, config, functions, progress)
    k = round_up_to_devices(plan.k)
    if k == plan.k:
        return plan
    return dataclasses.replace(plan, k=k, per_device=True)


def _decide(n: int, data, config: TrainConfig, functions: Functions, progress) -> BatchPlan:
    config = config.for_dataset(data)
    strategy = config.program().model_strategy
    if config.candidates_per_batch != AUTO:
        return BatchPlan(int(config.candidates_per_batch), PlanSource.EXPLICIT, None, strategy)
    if not batching_pays():
        return BatchPlan(1, PlanSource.CPU, None, strategy)
    if jax.process_count() > 1:  # a probe's timings differ between processes: K must not
        return BatchPlan(1, PlanSource.SEVERAL_PROCESSES, None, strategy)
    if n <= 1:
        return BatchPlan(1, PlanSource.ONE_CANDIDATE, None, strategy)
    key = probe_key(data, config)
    known = _recall(key, strategy)
    if known is not None and (not known.reached_cap or known.cap >= config.max_auto_candidates):
        return _decision(known, n, config, PlanSource.REMEMBERED)
    measured = probe(functions, data, config, progress)
    _remember(key, measured)
    return _decision(measured, n, config, PlanSource.PROBED)


def _decision(probe: Probe, n: int, config: TrainConfig, source: PlanSource) -> BatchPlan:
    k, strategy = probe.best(n)
    if k == 1:
        strategy = config.program().model_strategy
    return BatchPlan(min(k, config.max_auto_candidates), source, probe, strategy)
