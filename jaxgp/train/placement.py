"""Where arrays live: the candidate axis sharded over all local devices, the data replicated.

Every array is committed to its device(s): a jitted function called once with uncommitted
and once with committed arguments compiles twice.

With one device nothing is sharded. With several, K is padded to a multiple of the device
count and every per-candidate array is split along its leading axis over a one-axis
`Mesh` named `candidates`; the dataset is replicated, so each device trains its share of
the candidates on the same batches without communication. For several hosts, start each
process with `jax.distributed.initialize()`: the mesh then spans only this process's
local devices, so each host trains its own candidate lists (see the README).
"""

from __future__ import annotations

from typing import Any

import jax
import numpy as np
from jax.sharding import Mesh, NamedSharding, PartitionSpec


def local_device_count() -> int:
    return jax.local_device_count()


def round_up_to_devices(k: int) -> int:
    devices = local_device_count()
    return -(-k // devices) * devices


def _mesh() -> Mesh:
    return Mesh(np.array(jax.local_devices()), ("candidates",))


def place_candidates(tree: Any) -> Any:
    """Put a tree of arrays with a leading K axis on the devices, split along K."""
    if local_device_count() == 1:
        return jax.device_put(tree, jax.local_devices()[0])
    sharding = NamedSharding(_mesh(), PartitionSpec("candidates"))
    return jax.device_put(tree, sharding)


def place_replicated(tree: Any) -> Any:
    """Put a tree of arrays on every local device in full."""
    if local_device_count() == 1:
        return jax.device_put(tree, jax.local_devices()[0])
    return jax.device_put(tree, NamedSharding(_mesh(), PartitionSpec()))
