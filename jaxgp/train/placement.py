"""Where arrays live: the candidate axis sharded over every device, the data replicated.

Every array is committed to its device(s): a jitted function called once with uncommitted
and once with committed arguments compiles twice.

With one device nothing is sharded. With several, K is padded to a multiple of the device
count and every per-candidate array is split along its leading axis over a one-axis
`Mesh` named `candidates`; the dataset is replicated, so each device trains its share of
the candidates on the same batches without communication. The mesh spans every device of
every process: after `jaxgp.distributed.join`, several hosts train one list of candidates
together. Each process then builds the arrays from the same host values (its own devices'
parts, `jax.make_array_from_callback`), and `fetch` gathers a result to every process.
"""

from __future__ import annotations

from typing import Any

import jax
import numpy as np
from jax.sharding import Mesh, NamedSharding, PartitionSpec, Sharding, SingleDeviceSharding


def device_count() -> int:
    """Devices the candidate axis is sharded over: every device of every process."""
    return jax.device_count()


def round_up_to_devices(k: int) -> int:
    devices = device_count()
    return -(-k // devices) * devices


def _mesh() -> Mesh:
    return Mesh(np.array(jax.devices()), ("candidates",))


def candidate_sharding() -> Sharding:
    """Arrays with a leading K axis: split along K (on the one device when there is one)."""
    if device_count() == 1:
        return SingleDeviceSharding(jax.devices()[0])
    return NamedSharding(_mesh(), PartitionSpec("candidates"))


def replicated_sharding() -> Sharding:
    """Arrays every device holds in full."""
    if device_count() == 1:
        return SingleDeviceSharding(jax.devices()[0])
    return NamedSharding(_mesh(), PartitionSpec())


def put(tree: Any, sharding: Any) -> Any:
    """Every array of `tree` placed with `sharding`; with several processes, each process
    gives the parts of its own devices (every process must pass the same values)."""
    if jax.process_count() == 1:
        return jax.device_put(tree, sharding)

    def one(value):
        if isinstance(value, jax.Array) and not value.is_fully_addressable:
            return jax.device_put(value, sharding)
        host = np.asarray(value)
        return jax.make_array_from_callback(host.shape, sharding, lambda index: host[index])

    return jax.tree.map(one, tree)


def place_candidates(tree: Any) -> Any:
    """Put a tree of arrays with a leading K axis on the devices, split along K."""
    return put(tree, candidate_sharding())


def place_replicated(tree: Any) -> Any:
    """Put a tree of arrays on every device in full."""
    return put(tree, replicated_sharding())


def fetch(tree: Any) -> Any:
    """Every array of `tree` as NumPy on this host, gathered from the other processes'
    devices when it is split over them (every process must call it at the same point)."""

    def one(value):
        if isinstance(value, jax.Array) and not value.is_fully_addressable:
            from jax.experimental import multihost_utils

            return np.asarray(multihost_utils.process_allgather(value, tiled=True))
        return np.asarray(value)

    return jax.tree.map(one, tree)
