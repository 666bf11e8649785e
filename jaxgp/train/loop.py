"""`train_candidates`: train a list of candidate losses on one dataset, K at a time.

The list is cut into chunks of K (the last one padded with copies of its first candidate,
whose results are dropped), so every chunk runs the same compiled epoch. Nothing couples
the candidates of a chunk: a candidate's model is initialised from its seed (the run's
seed by default, so every candidate starts from the same weights as its CE baseline), it
sees the same batches and augmentations as every other, its dropout stream depends only
on its seed, and its learning rate follows its own reduce-on-plateau. So at the same K its
result does not depend on its companions: on some CPUs it is bit for bit the same whatever
its companions and its position in the chunk, on others (CI's) a float32 rounding or two
apart, since a batched kernel may vectorise one slot of the chunk differently from another.
Across K it is the same only up to floating-point order: XLA computes the K models of a
chunk as batched convolutions, which sum in another order than one model's (about float32's
epsilon per step, which training then amplifies; benchmarks/RESULTS.md section 10 measures
how far results move with K).

With a stop rule, candidates leave their chunk after the epoch the rule ends them at and the
survivors are re-packed into a smaller compiled K (`packed_size`); with K = 1 the next
chunk simply starts sooner. A candidate's trajectory does not depend on its companions, so
at the same K it stops at the same epoch whatever chunk it is in, unless a rounding tips a
tie in its stop rule (a re-packed survivor trains on at the smaller K, so only up to
floating-point order from there).
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import cache

import jax
import jax.numpy as jnp
import numpy as np

from jaxgp.compilation import count_compilations, totals
from jaxgp.data.batches import eval_batch_indices, seeded_train_batch_indices
from jaxgp.data.dataset import Dataset
from jaxgp.errors import ConfigError
from jaxgp.expr.language import get_language, smallest_language
from jaxgp.expr.tree import Tree
from jaxgp.losses import LossSpec, encode_losses, resolve_loss
from jaxgp.status import Status
from jaxgp.train.batching import decide
from jaxgp.train.config import TrainConfig
from jaxgp.train.device_data import DeviceDataset, DeviceSplit
from jaxgp.train.placement import (
    candidate_sharding,
    device_count,
    fetch,
    place_candidates,
    place_replicated,
)
from jaxgp.train.plateau import Plateau
from jaxgp.train.protocols import Stop, TrainProgress
from jaxgp.train.results import CandidateResult, EpochRecord, TrainReport
from jaxgp.train.state import EpochKeys, with_learning_rates
from jaxgp.train.step import Functions, build_functions


def evaluate(functions: Functions, state, losses, split: DeviceSplit, batch_size: int):
    """Mean loss and accuracy of each candidate on a whole split: two [K] NumPy arrays."""
    batches = eval_batch_indices(split.size, min(batch_size, split.size))
    loss_sum = correct = 0.0
    for indices, weights in zip(batches.indices, batches.weights, strict=True):
        batch_loss, batch_correct = functions.evaluate_batch(state, losses, split, indices, weights)
        loss_sum, correct = loss_sum + batch_loss, correct + batch_correct
    loss_sum, correct = fetch((loss_sum, correct))
    return loss_sum / split.size, correct / split.size


def _finite_mean(values: np.ndarray) -> np.ndarray:
    """Mean over axis 0 of the finite entries; NaN for a column with none."""
    finite = np.isfinite(values)
    total = np.where(finite, values, 0.0).sum(axis=0)
    count = finite.sum(axis=0)
    return np.where(count > 0, total / np.maximum(count, 1), np.nan)


@dataclass
class _Outcome:
    """What one candidate of a chunk became: its history, test metrics and end."""

    history: list[EpochRecord] = field(default_factory=list)
    test_loss: float = float("nan")
    test_accuracy: float = float("nan")
    failed_epoch: int | None = None
    stopped_epoch: int | None = None
    seconds: float = 0.0
    compile_seconds: float = 0.0

    @property
    def status(self) -> Status:
        """How its training ended, decided here once for every record after it: failed
        (at `failed_epoch`), else stopped by the stop rule (at `stopped_epoch`), else
        trained."""
        return Status.of(self.failed_epoch is not None, self.stopped_epoch is not None)


def _preparing() -> float:
    stats = totals()
    return stats.seconds + stats.trace_seconds


class _Clock:
    """Wall seconds since it started, split into preparing programs (tracing, lowering and
    XLA compiling, or loading from the cache) and the rest."""

    def __init__(self) -> None:
        self.wall, self.prepared = time.perf_counter(), _preparing()

    def split(self) -> tuple[float, float]:
        """(seconds not preparing programs, seconds preparing them) since it started."""
        preparing = _preparing() - self.prepared
        return max(0.0, time.perf_counter() - self.wall - preparing), preparing


def _pad(items: list, k: int) -> list:
    """`items` filled up to `k` with copies of its first (a chunk's padding)."""
    return items + [items[0]] * (k - len(items))


def packed_size(active: int, k: int) -> int:
    """The K that `active` surviving candidates of a K-candidate batch are re-packed into:
    the device count times the smallest power of two that holds them, never above `k`. So a
    run compiles at most about log2(K) + 1 batch sizes."""
    size = device_count()
    while size < active:
        size *= 2
    return min(size, k)


def _gather(tree, positions):
    return jax.tree.map(lambda x: x[positions], tree)


@cache
def _gather_compiled():
    """`_gather` jitted once per process, its output split along K like every candidate
    array (one compiled gather per pair of batch sizes, not one per array)."""
    return jax.jit(_gather, out_shardings=candidate_sharding())


def _take(tree, positions: np.ndarray):
    """The candidates at `positions` of every array of `tree`."""
    return _gather_compiled()(tree, place_replicated(positions))


def _train_chunk(
    functions: Functions,
    specs: Sequence[LossSpec],
    real: int,
    seeds: Sequence[int],
    rates: Sequence[float],
    data: DeviceDataset,
    config: TrainConfig,
    progress: TrainProgress | None,
    stop: Stop | None,
) -> list[_Outcome]:
    """Train the first `real` of `specs` (the rest pad the batch to its compiled K).

    Without `stop` every candidate trains every epoch. With it, after each epoch a candidate
    that `stop` ends, or whose training failed, leaves the batch: its test metrics are taken
    from the model it has then, and when the survivors fit a smaller `packed_size` the batch
    is re-packed (state, losses, keys and plateau taken at their positions).
    """
    losses = place_candidates(encode_losses(specs, config.max_nodes, prior=data.class_prior))
    candidate_keys = place_candidates(jnp.stack([jax.random.PRNGKey(s) for s in seeds]))
    data_key = place_replicated(jax.random.PRNGKey(config.seed + 1_000_003))
    steps = data.train.size // config.batch_size
    on_step = (lambda step: progress("step", step + 1, steps)) if progress else None
    rates = np.asarray(rates, np.float64)
    plateau = Plateau(
        rates,
        config.plateau_factor,
        config.plateau_patience,
        np.minimum(config.min_learning_rate, rates),  # a rate below the floor is not raised
        config.plateau_min_delta,
    )
    state = with_learning_rates(functions.init(candidate_keys), plateau.rates)
    outcomes = [_Outcome() for _ in range(real)]
    slots: list[int | None] = [i if i < real else None for i in range(len(specs))]
    """The candidate at each position of the batch; None for a padding copy."""

    def charge(positions, clock: _Clock) -> None:
        """Share the seconds since `clock` among the candidates at `positions`."""
        seconds, compiling = clock.split()
        for candidate in positions:
            outcomes[candidate].seconds += seconds / len(positions)
            outcomes[candidate].compile_seconds += compiling / len(positions)

    def test(state, losses, leaving: dict[int, int]) -> None:
        """Test metrics of the candidates at positions `leaving` (position -> candidate)."""
        clock = _Clock()
        loss, accuracy = evaluate(functions, state, losses, data.test, config.eval_batch_size)
        for position, candidate in leaving.items():
            outcome = outcomes[candidate]
            outcome.test_loss = float(loss[position])
            outcome.test_accuracy = float(accuracy[position])
        charge(list(leaving.values()), clock)

    for epoch in range(config.epochs):
        clock = _Clock()
        indices = seeded_train_batch_indices(config.seed, epoch, data.train.size, config.batch_size)
        state, (step_losses, step_accuracy) = functions.train_epoch(
            state, losses, data.train, EpochKeys(data_key, candidate_keys),
            place_replicated(indices), jnp.int32(epoch), on_step=on_step,
        )  # fmt: skip
        val_loss, val_accuracy = evaluate(
            functions, state, losses, data.val, config.eval_batch_size
        )
        alive, step_losses, step_accuracy = fetch((state.alive, step_losses, step_accuracy))
        rates = plateau.rates.copy()
        train_loss = _finite_mean(step_losses)
        train_accuracy = step_accuracy.mean(axis=0)
        state = with_learning_rates(state, plateau.update(np.asarray(val_accuracy)))
        training = {p: c for p, c in enumerate(slots) if c is not None}
        charge(list(training.values()), clock)
        leaving = {}
        for position, candidate in training.items():
            outcome = outcomes[candidate]
            record = EpochRecord(
                epoch + 1, float(train_loss[position]), float(train_accuracy[position]),
                float(val_loss[position]), float(val_accuracy[position]), float(rates[position]),
            )  # fmt: skip
            outcome.history.append(record)
            if not alive[position] and outcome.failed_epoch is None:
                outcome.failed_epoch = epoch + 1
            last = epoch + 1 == config.epochs
            if stop is not None and not last:
                if outcome.failed_epoch is not None:
                    leaving[position] = candidate
                elif stop(epoch + 1, record):
                    outcome.stopped_epoch = epoch + 1
                    leaving[position] = candidate
        if progress:
            progress("epoch", epoch + 1, config.epochs)
        if not leaving:
            continue
        test(state, losses, leaving)
        slots = [None if p in leaving else c for p, c in enumerate(slots)]
        survivors = [p for p, c in enumerate(slots) if c is not None]
        if not survivors:
            break
        size = packed_size(len(survivors), len(slots))
        if size < len(slots):
            positions = np.array(survivors + [survivors[0]] * (size - len(survivors)))
            state, losses, candidate_keys = _take((state, losses, candidate_keys), positions)
            plateau = plateau.take(positions)
            slots = [slots[p] for p in survivors] + [None] * (size - len(survivors))
    remaining = {p: c for p, c in enumerate(slots) if c is not None}
    if remaining:
        test(state, losses, remaining)
    return outcomes


def with_language(config: TrainConfig, specs: Sequence[LossSpec]) -> TrainConfig:
    """`config` with the language its step will interpret `specs` in: the configured one,
    which must say every tree (`ConfigError` otherwise), or the smallest that does."""
    trees = [spec.tree for spec in specs if spec.tree is not None]
    if config.language is None:
        return dataclasses.replace(config, language=smallest_language(trees).name)
    language = get_language(config.language)
    for spec in specs:
        if spec.tree is not None and not language.says(spec.tree):
            missing = ", ".join(language.missing(spec.tree))
            raise ConfigError(
                f"the loss {spec.label!r} uses {missing}, which the {language} language the "
                f"trainer runs does not have (the {smallest_language([spec.tree])} language has)"
            )
    return config


def train_candidates(
    losses: Sequence[str | Tree | LossSpec],
    dataset: Dataset | DeviceDataset,
    config: TrainConfig,
    *,
    seeds: Sequence[int] | None = None,
    learning_rates: Sequence[float] | None = None,
    progress: TrainProgress | None = None,
    stop: Stop | None = None,
) -> TrainReport:
    """Train every loss on `dataset` with `config`; results come back in input order.

    `seeds` and `learning_rates` give each candidate its model seed and initial learning
    rate (default: the config's); `stop`, if given, may end a candidate's training after an
    epoch (status `stopped`); a candidate whose training fails then also leaves at once. K
    and the model strategy are the batch plan's (`jaxgp.train.batching.decide`, in the
    report's `batching`).
    """
    specs = [resolve_loss(loss) for loss in losses]
    if not specs:
        return TrainReport([], 0, 0, 0.0, 0.0)
    seeds = list(seeds) if seeds is not None else [config.seed] * len(specs)
    rates = (
        [float(r) for r in learning_rates]
        if learning_rates is not None
        else [config.learning_rate] * len(specs)
    )
    if len(seeds) != len(specs) or len(rates) != len(specs):
        raise ValueError(f"one seed and one learning rate per loss expected, of {len(specs)}")
    if any(not rate > 0 for rate in rates):
        raise ConfigError(f"learning rates must be positive, got {rates}")
    config = with_language(config, specs)
    start = time.perf_counter()
    with count_compilations() as compiled:
        data = (
            dataset if isinstance(dataset, DeviceDataset) else DeviceDataset.from_dataset(dataset)
        )
        config = config.for_dataset(data)
        functions = build_functions(data.num_classes, data.image_shape, config)
        plan = decide(len(specs), data, config, functions, progress)
        if plan.model_strategy not in (None, config.program().model_strategy):
            config = dataclasses.replace(config, model_strategy=plan.model_strategy)
            functions = build_functions(data.num_classes, data.image_shape, config)
        k = plan.k
        results: list[CandidateResult] = []
        chunks = range(0, len(specs), k)
        for number, first in enumerate(chunks):
            real = specs[first : first + k]
            outcomes = _train_chunk(
                functions, _pad(real, k), len(real), _pad(seeds[first : first + k], k),
                _pad(rates[first : first + k], k), data, config, progress, stop,
            )  # fmt: skip
            for spec, outcome in zip(real, outcomes, strict=True):
                last = outcome.history[-1]
                results.append(
                    CandidateResult(
                        label=spec.label,
                        dataset=data.name,
                        status=outcome.status,
                        val_loss=last.val_loss,
                        val_accuracy=last.val_accuracy,
                        test_loss=outcome.test_loss,
                        test_accuracy=outcome.test_accuracy,
                        seconds=outcome.seconds,
                        compile_seconds=outcome.compile_seconds,
                        failed_epoch=outcome.failed_epoch,
                        history=outcome.history,
                        stopped_epoch=outcome.stopped_epoch,
                    )
                )
            if progress:
                progress("chunk", number + 1, len(chunks))
    return TrainReport(
        results, k, compiled.count, compiled.seconds, time.perf_counter() - start,
        compiled.cache_hits, plan,
    )  # fmt: skip
