"""The pure functions that train and evaluate K candidates at once, and where they are jitted.

Every function takes the K candidates' state and losses as data with a leading K axis; the
model, the recipe and the shapes are fixed when `build_functions` builds them. So one
compiled epoch serves every list of K candidates on a dataset shape: new trees are data.

A training step gathers the batch from the device-resident uint8 split, augments it once
(every candidate sees the same images), runs the K models (`vmap` or `lax.map`, the
`model_strategy`), evaluates each candidate's own loss (the `loss_strategy`), and applies
Adam to each. The models share nothing, so the gradient of the sum of the K losses is each
model's own gradient. The backward pass is split at the probabilities: a candidate whose
loss, or its gradient, is not finite sends zeros back through its model (under `vmap`,
XLA's CPU backend computes the batched weight gradients as one dense convolution, where
one candidate's infinity became the others' NaN). A candidate whose loss or gradients are
not finite keeps its previous state and is marked dead for good.

An epoch (`epoch_loop`) is either a `lax.scan` over the steps, one compiled program (in at
most 20 chunks, each ending with one host callback for progress bars unless the
`ProgramSpec` turns progress off), or a host loop
dispatching the compiled step (progress reported at most 20 times, each after waiting for
its step). Either way the state passed in is consumed: its buffers are donated.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from contextlib import contextmanager
from dataclasses import dataclass
from functools import lru_cache, partial
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
import optax

from jaxgp.choices import EpochLoop
from jaxgp.data.augment import preprocess
from jaxgp.expr.lower import over_candidates, strategy_loss
from jaxgp.losses import loss_value
from jaxgp.models.registry import build_model, init_variables
from jaxgp.train.config import ProgramSpec, TrainConfig
from jaxgp.train.placement import fetch
from jaxgp.train.state import CandidateState, EpochKeys, all_finite, optimizer


class _StepListener:
    """Where a compiled epoch's progress callback goes: the `on_step` of the call in progress
    (the program is compiled once, so its callback cannot close over each call's own)."""

    def __init__(self) -> None:
        self.current: Callable[[int], None] | None = None

    @contextmanager
    def calling(self, on_step: Callable[[int], None] | None):
        self.current = on_step
        try:
            yield
        finally:
            self.current = None

    def __call__(self, step: Any) -> None:
        if self.current is not None:
            self.current(int(step))


MIN_REPORT_SECONDS = 0.1
"""The host loop reports steps only where its first report interval took this long. Each
report waits for its step, so host and device stop overlapping: on tiny-lt's six 3 ms
steps an epoch that reported every step took about 1.5x as long (benchmarks/RESULTS.md
section 1)."""


def report_interval(steps: int, reports: int = 20) -> int:
    """Steps between progress reports: the smallest divisor of `steps` giving <= `reports`.

    A host callback at every step cost about 40% of a small model's step on a CPU.
    """
    target = max(1, -(-steps // reports))
    return next(d for d in range(target, steps + 1) if steps % d == 0)


def _keep_where(ok: jnp.ndarray, new: Any, old: Any) -> Any:
    def select(n, o):
        mask = ok.reshape(ok.shape + (1,) * (n.ndim - ok.ndim))
        return jnp.where(mask, n, o)

    return jax.tree.map(select, new, old)


@dataclass(frozen=True)
class Functions:
    """The jitted functions for one (model, classes, image shape, recipe)."""

    init: Callable
    """[K] keys -> the K candidates' initial `CandidateState`."""
    train_epoch: Callable
    """(state, losses: LossBatch, split: DeviceSplit, keys: EpochKeys, [S, B] indices,
    epoch, *, on_step=None) -> (state, ([S, K] losses, [S, K] accuracies)); `on_step(i)` is
    told, at most 20 times an epoch, that step i has finished (never with progress off)."""
    evaluate_batch: Callable
    """(state, losses, split, [B] indices, [B] weights) -> ([K] weighted loss sums, [K]
    correct counts)."""
    epoch_program: Callable
    """The jitted program behind `train_epoch`: the scanned epoch, or the host loop's step
    (whose last argument, the step number, has the shape of the epoch number's)."""
    step_program: Callable
    """The jitted host-loop step, whichever loop trains (`jaxgp.train.batching` times it)."""


@dataclass(frozen=True)
class StepParts:
    """The model, the optimiser, and the K-candidate forward passes and losses of a step."""

    model: Any
    tx: optax.GradientTransformation
    train_models: Callable
    """(params, batch_stats, x, dropout_keys) -> ([K, B, classes] probs, new batch_stats)"""
    eval_models: Callable
    """(params, batch_stats, x) -> [K, B, classes] probs"""
    train_losses: Callable
    """(kinds, programs, priors, probs, y) -> [K] losses (a `LossBatch` unpacked)"""
    eval_losses: Callable
    """(kinds, programs, priors, probs, y, weights) -> [K] losses"""


def _spec(config: TrainConfig | ProgramSpec) -> ProgramSpec:
    return config.program() if isinstance(config, TrainConfig) else config


def step_parts(
    num_classes: int, image_shape: tuple[int, int, int], config: TrainConfig | ProgramSpec
) -> StepParts:
    """The pieces `build_functions` composes (also timed apart by benchmarks.micro.step_profile)."""
    config = _spec(config)
    dtype = jnp.bfloat16 if config.compute_dtype == "bfloat16" else jnp.float32
    model = build_model(
        config.model,
        num_classes=num_classes,
        input_shape=image_shape,
        input_size=config.input_size,
        dtype=dtype,
        max_pool=config.max_pool,
        conv=config.conv,
    )
    model_strategy, loss_strategy = config.model_strategy, config.loss_strategy
    loss = strategy_loss(loss_value, loss_strategy, config.language)

    def forward_train(params, batch_stats, x, key):
        variables = {"params": params, "batch_stats": batch_stats}
        probs, updates = model.apply(
            variables, x, train=True, rngs={"dropout": key}, mutable=["batch_stats"]
        )
        return probs, updates["batch_stats"]

    def forward_eval(params, batch_stats, x):
        return model.apply({"params": params, "batch_stats": batch_stats}, x, train=False)

    return StepParts(
        model,
        optimizer(),
        over_candidates(forward_train, (0, 0, None, 0), model_strategy),
        over_candidates(forward_eval, (0, 0, None), model_strategy),
        over_candidates(loss, (0, 0, 0, 0, None), loss_strategy),
        over_candidates(loss, (0, 0, 0, 0, None, None), loss_strategy),
    )


def build_functions(
    num_classes: int, image_shape: tuple[int, int, int], config: TrainConfig | ProgramSpec
) -> Functions:
    """The init, epoch and evaluation functions (jitted, not yet compiled).

    Cached on what changes the programs (`ProgramSpec`): another seed, epoch count or
    learning rate reuses the same functions and their compilations. `init` gives each
    candidate the optimiser's placeholder learning rate: set the real one
    (`jaxgp.train.state.with_learning_rates`) before training.
    """
    return _build_functions(num_classes, tuple(image_shape), _spec(config))


@lru_cache(maxsize=16)
def _build_functions(num_classes: int, image_shape: tuple[int, int, int], config: ProgramSpec):
    parts = step_parts(num_classes, image_shape, config)
    model, tx = parts.model, parts.tx
    train_models, eval_models = parts.train_models, parts.eval_models
    train_losses, eval_losses = parts.train_losses, parts.eval_losses

    def init_one(key):
        variables = init_variables(model, key, image_shape)
        params = variables["params"]
        return CandidateState(
            params, variables.get("batch_stats", {}), tx.init(params), jnp.array(True)
        )

    def train_step(state, losses, split, keys, batch, step):
        """One step on the batch `batch` (indices into `split`) with the epoch's `keys`."""
        x = config.augment.apply(jax.random.fold_in(keys.data, step), split.images[batch])
        labels = split.labels[batch]
        y = jax.nn.one_hot(labels, num_classes)
        dropout_keys = jax.vmap(lambda k: jax.random.fold_in(k, step))(keys.candidates)

        def forward(params):
            return train_models(params, state.batch_stats, x, dropout_keys)

        probs, model_vjp, batch_stats = jax.vjp(forward, state.params, has_aux=True)
        values, loss_vjp = jax.vjp(lambda p: train_losses(*losses, p, y), probs)
        (dprobs,) = loss_vjp(jnp.ones_like(values))
        finite = jnp.isfinite(values) & jax.vmap(all_finite)(dprobs)
        dprobs = jnp.where(finite.reshape(-1, 1, 1), dprobs, 0.0)
        (grads,) = model_vjp(dprobs)
        finite &= jax.vmap(all_finite)(grads)
        updates, opt_state = jax.vmap(tx.update)(grads, state.opt_state, state.params)
        params = jax.vmap(optax.apply_updates)(state.params, updates)
        alive = state.alive & finite
        kept = _keep_where(
            alive,
            (params, batch_stats, opt_state),
            (state.params, state.batch_stats, state.opt_state),
        )
        accuracy = jnp.mean(jnp.argmax(probs, -1) == labels[None], axis=-1)
        return CandidateState(*kept, alive), (values, accuracy)

    def epoch_keys(keys, epoch):
        candidates = jax.vmap(lambda k: jax.random.fold_in(k, epoch))(keys.candidates)
        return EpochKeys(jax.random.fold_in(keys.data, epoch), candidates)

    host_epoch_keys = jax.jit(epoch_keys)
    listener = _StepListener()

    @partial(jax.jit, donate_argnums=0)
    def scan_epoch(state, losses, split, keys, indices, epoch):
        """One epoch as one program: the new state and per-step [S, K] losses and accuracies."""
        keys = epoch_keys(keys, epoch)

        def body(state, xs):
            step, batch = xs
            return train_step(state, losses, split, keys, batch, step)

        def chunk(state, xs):
            state, metrics = jax.lax.scan(body, state, xs)
            if config.progress:
                jax.debug.callback(listener, xs[0][-1])
            return state, metrics

        total = indices.shape[0]
        every = report_interval(total)
        steps = jnp.arange(total).reshape(-1, every)
        batches = indices.reshape(-1, every, indices.shape[-1])
        state, metrics = jax.lax.scan(chunk, state, (steps, batches))
        return state, jax.tree.map(lambda m: m.reshape(total, *m.shape[2:]), metrics)

    @partial(jax.jit, donate_argnums=0)
    def host_step(state, losses, split, keys, indices, step):
        """One step of an epoch, with the epoch's keys: state, ([K] losses, [K] accuracies)."""
        batch = jax.lax.dynamic_index_in_dim(indices, step, keepdims=False)
        return train_step(state, losses, split, keys, batch, step)

    def scanned_epoch(state, losses, split, keys, indices, epoch, *, on_step=None):
        with listener.calling(on_step):
            state, metrics = scan_epoch(state, losses, split, keys, indices, epoch)
            return state, jax.block_until_ready(metrics)

    def host_epoch(state, losses, split, keys, indices, epoch, *, on_step=None):
        """One epoch as a host loop over the compiled step; metrics come back as NumPy.
        `on_step` hears every `report_interval` steps, or only the first time where that
        interval took under `MIN_REPORT_SECONDS` (waiting for a step costs the overlap)."""
        keys = host_epoch_keys(keys, epoch)
        total = indices.shape[0]
        every = report_interval(total)
        reporting = on_step is not None and config.progress
        start = time.perf_counter()
        metrics = []
        for step in range(total):
            state, step_metrics = host_step(state, losses, split, keys, indices, np.int32(step))
            metrics.append(step_metrics)
            if reporting and (step + 1) % every == 0:
                jax.block_until_ready(step_metrics)
                on_step(step)
                reporting = time.perf_counter() - start >= MIN_REPORT_SECONDS
        values, accuracies = zip(*fetch(metrics), strict=True)
        return state, (np.stack(values), np.stack(accuracies))

    if config.epoch_loop is EpochLoop.SCAN:
        train_epoch, epoch_program = scanned_epoch, scan_epoch
    else:
        train_epoch, epoch_program = host_epoch, host_step

    @jax.jit
    def evaluate_batch(state, losses, split, indices, weights):
        """Weighted loss sum and correct count per candidate on one padded batch: [K], [K]."""
        x = preprocess(split.images[indices])
        y = jax.nn.one_hot(split.labels[indices], num_classes)
        probs = eval_models(state.params, state.batch_stats, x)
        values = eval_losses(*losses, probs, y, weights)
        correct = jnp.sum(weights * (jnp.argmax(probs, -1) == split.labels[indices]), axis=-1)
        return values * jnp.sum(weights), correct

    init = jax.jit(jax.vmap(init_one))
    return Functions(init, train_epoch, evaluate_batch, epoch_program, host_step)
