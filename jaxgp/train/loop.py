"""`train_candidates`: train a list of candidate losses on one dataset, K at a time.

The list is cut into chunks of K (the last one padded with copies of its first candidate,
whose results are dropped), so every chunk runs the same compiled epoch. Each candidate is
independent of the chunk it lands in: its model is initialised from its seed (the run's
seed by default, so every candidate starts from the same weights as its CE baseline), it
sees the same batches and augmentations as every other, and its dropout stream depends only
on its seed. The learning rate of each candidate follows its own reduce-on-plateau.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence

import jax
import jax.numpy as jnp
import numpy as np

from jaxgp.compilation import count_compilations
from jaxgp.data.batches import eval_batch_indices, train_batch_indices
from jaxgp.data.dataset import Dataset
from jaxgp.expr.tree import Tree
from jaxgp.losses import LossSpec, encode_losses, resolve_loss
from jaxgp.train.batching import decide
from jaxgp.train.config import TrainConfig
from jaxgp.train.device_data import DeviceDataset, DeviceSplit
from jaxgp.train.placement import place_candidates, place_replicated, round_up_to_devices
from jaxgp.train.plateau import Plateau
from jaxgp.train.results import CandidateResult, EpochRecord, TrainReport
from jaxgp.train.state import EpochKeys, with_learning_rates
from jaxgp.train.step import Functions, build_functions

Progress = Callable[[str, int, int], None]
"""`progress(what, done, total)` with `what` in {"probe", "chunk", "epoch", "step"}."""


def evaluate(functions: Functions, state, losses, split: DeviceSplit, batch_size: int):
    """Mean loss and accuracy of each candidate on a whole split: two [K] NumPy arrays."""
    batches = eval_batch_indices(split.size, min(batch_size, split.size))
    loss_sum = correct = 0.0
    for indices, weights in zip(batches.indices, batches.weights, strict=True):
        batch_loss, batch_correct = functions.evaluate_batch(state, losses, split, indices, weights)
        loss_sum, correct = loss_sum + batch_loss, correct + batch_correct
    return np.asarray(loss_sum) / split.size, np.asarray(correct) / split.size


def _finite_mean(values: np.ndarray) -> np.ndarray:
    """Mean over axis 0 of the finite entries; NaN for a column with none."""
    finite = np.isfinite(values)
    total = np.where(finite, values, 0.0).sum(axis=0)
    count = finite.sum(axis=0)
    return np.where(count > 0, total / np.maximum(count, 1), np.nan)


def _train_chunk(
    functions: Functions,
    specs: Sequence[LossSpec],
    seeds: Sequence[int],
    data: DeviceDataset,
    config: TrainConfig,
    progress: Progress | None,
) -> tuple[list[list[EpochRecord]], dict[str, np.ndarray], list[int | None]]:
    losses = place_candidates(encode_losses(specs, config.max_nodes))
    candidate_keys = place_candidates(jnp.stack([jax.random.PRNGKey(s) for s in seeds]))
    keys = EpochKeys(place_replicated(jax.random.PRNGKey(config.seed + 1_000_003)), candidate_keys)
    steps = data.train.size // config.batch_size
    on_step = (lambda step: progress("step", step + 1, steps)) if progress else None
    plateau = Plateau(
        np.full(len(specs), config.learning_rate),
        config.plateau_factor,
        config.plateau_patience,
        config.min_learning_rate,
        config.plateau_min_delta,
    )
    state = with_learning_rates(functions.init(candidate_keys), plateau.rates)
    histories: list[list[EpochRecord]] = [[] for _ in specs]
    failed_epoch: list[int | None] = [None] * len(specs)
    for epoch in range(config.epochs):
        indices = train_batch_indices(config.seed, epoch, data.train.size, config.batch_size)
        state, (step_losses, step_accuracy) = functions.train_epoch(
            state, losses, data.train, keys, place_replicated(indices), jnp.int32(epoch),
            on_step=on_step,
        )  # fmt: skip
        val_loss, val_accuracy = evaluate(
            functions, state, losses, data.val, config.eval_batch_size
        )
        alive = np.asarray(state.alive)
        rates = plateau.rates.copy()
        train_loss = _finite_mean(np.asarray(step_losses))
        train_accuracy = np.asarray(step_accuracy).mean(axis=0)
        for i in range(len(specs)):
            if not alive[i] and failed_epoch[i] is None:
                failed_epoch[i] = epoch + 1
            histories[i].append(
                EpochRecord(
                    epoch + 1, float(train_loss[i]), float(train_accuracy[i]),
                    float(val_loss[i]), float(val_accuracy[i]), float(rates[i]),
                )
            )  # fmt: skip
        state = with_learning_rates(state, plateau.update(np.asarray(val_accuracy)))
        if progress:
            progress("epoch", epoch + 1, config.epochs)
    test_loss, test_accuracy = evaluate(functions, state, losses, data.test, config.eval_batch_size)
    finals = {"test_loss": test_loss, "test_accuracy": test_accuracy}
    return histories, finals, failed_epoch


def train_candidates(
    losses: Sequence[str | Tree | LossSpec],
    dataset: Dataset | DeviceDataset,
    config: TrainConfig,
    *,
    seeds: Sequence[int] | None = None,
    progress: Progress | None = None,
) -> TrainReport:
    """Train every loss on `dataset` with `config`; results come back in input order."""
    specs = [resolve_loss(loss) for loss in losses]
    if not specs:
        return TrainReport([], 0, 0, 0.0, 0.0)
    seeds = list(seeds) if seeds is not None else [config.seed] * len(specs)
    start = time.perf_counter()
    with count_compilations() as compiled:
        data = (
            dataset if isinstance(dataset, DeviceDataset) else DeviceDataset.from_dataset(dataset)
        )
        config = config.for_dataset(data.name)
        functions = build_functions(data.num_classes, data.image_shape, config)
        decision = decide(len(specs), data, config, functions, progress)
        k = round_up_to_devices(decision.k)
        results: list[CandidateResult] = []
        chunks = range(0, len(specs), k)
        for number, first in enumerate(chunks):
            real = specs[first : first + k]
            padded = real + [real[0]] * (k - len(real))
            chunk_seeds = seeds[first : first + k]
            chunk_seeds += [chunk_seeds[0]] * (k - len(chunk_seeds))
            chunk_start = time.perf_counter()
            histories, finals, failed = _train_chunk(
                functions, padded, chunk_seeds, data, config, progress
            )
            share = (time.perf_counter() - chunk_start) / len(real)
            for i, spec in enumerate(real):
                last = histories[i][-1]
                results.append(
                    CandidateResult(
                        label=spec.label,
                        dataset=data.name,
                        status="failed" if failed[i] is not None else "trained",
                        val_loss=last.val_loss,
                        val_accuracy=last.val_accuracy,
                        test_loss=float(finals["test_loss"][i]),
                        test_accuracy=float(finals["test_accuracy"][i]),
                        seconds=share,
                        failed_epoch=failed[i],
                        history=histories[i],
                    )
                )
            if progress:
                progress("chunk", number + 1, len(chunks))
    return TrainReport(
        results, k, compiled.count, compiled.seconds, time.perf_counter() - start,
        compiled.cache_hits, decision,
    )  # fmt: skip
