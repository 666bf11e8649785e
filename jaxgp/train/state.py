"""Per-candidate training state and the optimizer, as pure data with a leading K axis."""

from __future__ import annotations

from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
import optax

from jaxgp.train.placement import put


class CandidateState(NamedTuple):
    """One model's parameters, BatchNorm statistics and Adam state (K of them when batched).

    `alive` turns False, and stays so, at the first step whose loss or gradients are not
    finite; from then on the candidate's state is frozen.
    """

    params: Any
    batch_stats: Any
    opt_state: Any
    alive: jnp.ndarray


PLACEHOLDER_LEARNING_RATE = 1e-3


class EpochKeys(NamedTuple):
    """The random keys of training: the data's (augmentation) and each candidate's (dropout)."""

    data: jax.Array
    candidates: jax.Array  # [K] keys


def optimizer(learning_rate: float = PLACEHOLDER_LEARNING_RATE) -> optax.GradientTransformation:
    """Adam whose learning rate lives in its state, so the rate (initial, or reduced on a
    plateau) is data to the compiled step, never a constant in it."""
    return optax.inject_hyperparams(optax.adam)(learning_rate=learning_rate)


def learning_rates(state: CandidateState) -> jnp.ndarray:
    return state.opt_state.hyperparams["learning_rate"]


def with_learning_rates(state: CandidateState, rates: jnp.ndarray) -> CandidateState:
    """`state` with each candidate's learning rate replaced (same dtype and sharding)."""
    old = learning_rates(state)
    rates = put(np.asarray(rates, old.dtype), old.sharding)
    hyperparams = {**state.opt_state.hyperparams, "learning_rate": rates}
    return state._replace(opt_state=state.opt_state._replace(hyperparams=hyperparams))


def all_finite(tree: Any) -> jnp.ndarray:
    """True when every element of every leaf is finite."""
    leaves = jax.tree.leaves(tree)
    return jnp.all(jnp.stack([jnp.all(jnp.isfinite(leaf)) for leaf in leaves]))
