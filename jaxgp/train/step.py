"""The pure functions that train and evaluate K candidates at once, and where they are jitted.

Every function takes the K candidates' state and losses as data with a leading K axis; the
model, the recipe and the shapes are fixed when `build_functions` builds them. So one
compiled epoch serves every list of K candidates on a dataset shape: new trees are data.

A training step gathers the batch from the device-resident uint8 split, augments it once
(every candidate sees the same images), runs the K models (`vmap` or `lax.map`, the
`model_strategy`), evaluates each candidate's own loss (the `loss_strategy`), and applies
Adam to each. The gradient of the sum of the K losses is each model's own gradient, since
the models share nothing. A candidate whose loss or gradients are not finite keeps its
previous state and is marked dead for good. An epoch is a `lax.scan` over the steps (in
at most 20 chunks, each ending with one host callback for progress bars).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import jax
import jax.numpy as jnp
import optax

from jaxgp.data.augment import preprocess
from jaxgp.expr.lower import default_strategy, over_candidates
from jaxgp.losses import loss_value
from jaxgp.models.registry import build_model, init_variables
from jaxgp.train.config import TrainConfig
from jaxgp.train.state import CandidateState, all_finite, optimizer

_step_listener: Callable[[int], None] | None = None


def set_step_listener(listener: Callable[[int], None] | None) -> None:
    """The host function told the index of each finished training step (progress bars)."""
    global _step_listener
    _step_listener = listener


def _report_step(step: Any) -> None:
    if _step_listener is not None:
        _step_listener(int(step))


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
    train_epoch: Callable
    evaluate_batch: Callable


@lru_cache(maxsize=16)
def build_functions(num_classes: int, image_shape: tuple[int, int, int], config: TrainConfig):
    """The init, epoch and evaluation functions (jitted, not yet compiled)."""
    dtype = jnp.bfloat16 if config.compute_dtype == "bfloat16" else jnp.float32
    model = build_model(
        config.model,
        num_classes=num_classes,
        input_shape=image_shape,
        input_size=config.input_size,
        dtype=dtype,
    )
    tx = optimizer(config.learning_rate)
    model_strategy = config.model_strategy or default_strategy()
    loss_strategy = config.loss_strategy or default_strategy()

    def init_one(key):
        variables = init_variables(model, key, image_shape)
        params = variables["params"]
        return CandidateState(
            params, variables.get("batch_stats", {}), tx.init(params), jnp.array(True)
        )

    def forward_train(params, batch_stats, x, key):
        variables = {"params": params, "batch_stats": batch_stats}
        probs, updates = model.apply(
            variables, x, train=True, rngs={"dropout": key}, mutable=["batch_stats"]
        )
        return probs, updates["batch_stats"]

    def forward_eval(params, batch_stats, x):
        return model.apply({"params": params, "batch_stats": batch_stats}, x, train=False)

    train_models = over_candidates(forward_train, (0, 0, None, 0), model_strategy)
    eval_models = over_candidates(forward_eval, (0, 0, None), model_strategy)
    train_losses = over_candidates(loss_value, (0, 0, 0, None), loss_strategy)
    eval_losses = over_candidates(loss_value, (0, 0, 0, None, None), loss_strategy)

    def train_step(state, kinds, programs, images, labels, keys, indices, step):
        data_key, candidate_keys = keys
        x = config.augment.apply(jax.random.fold_in(data_key, step), images[indices])
        y = jax.nn.one_hot(labels[indices], num_classes)
        dropout_keys = jax.vmap(lambda k: jax.random.fold_in(k, step))(candidate_keys)

        def total_loss(params):
            probs, batch_stats = train_models(params, state.batch_stats, x, dropout_keys)
            losses = train_losses(kinds, programs, probs, y)
            return jnp.sum(losses), (losses, probs, batch_stats)

        grad_fn = jax.value_and_grad(total_loss, has_aux=True)
        (_, (losses, probs, batch_stats)), grads = grad_fn(state.params)
        updates, opt_state = jax.vmap(tx.update)(grads, state.opt_state, state.params)
        params = jax.vmap(optax.apply_updates)(state.params, updates)
        finite = jnp.isfinite(losses) & jax.vmap(all_finite)(grads)
        alive = state.alive & finite
        kept = _keep_where(
            alive,
            (params, batch_stats, opt_state),
            (state.params, state.batch_stats, state.opt_state),
        )
        accuracy = jnp.mean(jnp.argmax(probs, -1) == labels[indices][None], axis=-1)
        return CandidateState(*kept, alive), (losses, accuracy)

    @jax.jit
    def train_epoch(
        state, kinds, programs, images, labels, data_key, candidate_keys, indices, epoch
    ):
        """One epoch: returns the new state and per-step [S, K] losses and accuracies."""
        data_key = jax.random.fold_in(data_key, epoch)
        candidate_keys = jax.vmap(lambda k: jax.random.fold_in(k, epoch))(candidate_keys)

        def body(state, xs):
            step, batch = xs
            return train_step(
                state, kinds, programs, images, labels, (data_key, candidate_keys), batch, step
            )

        def chunk(state, xs):
            state, metrics = jax.lax.scan(body, state, xs)
            jax.debug.callback(_report_step, xs[0][-1])
            return state, metrics

        total = indices.shape[0]
        every = report_interval(total)
        steps = jnp.arange(total).reshape(-1, every)
        batches = indices.reshape(-1, every, indices.shape[-1])
        state, metrics = jax.lax.scan(chunk, state, (steps, batches))
        return state, jax.tree.map(lambda m: m.reshape(total, *m.shape[2:]), metrics)

    @jax.jit
    def evaluate_batch(state, kinds, programs, images, labels, indices, weights):
        """Weighted loss sum and correct count per candidate on one padded batch: [K], [K]."""
        x = preprocess(images[indices])
        y = jax.nn.one_hot(labels[indices], num_classes)
        probs = eval_models(state.params, state.batch_stats, x)
        losses = eval_losses(kinds, programs, probs, y, weights)
        correct = jnp.sum(weights * (jnp.argmax(probs, -1) == labels[indices]), axis=-1)
        return losses * jnp.sum(weights), correct

    return Functions(jax.jit(jax.vmap(init_one)), train_epoch, evaluate_batch)
