"""Several processes, one search: joining JAX's multi-controller runtime (`jax.distributed`).

Every process runs the same command; `join` connects it to the others (a coordinator at
HOST:PORT, N processes, this one's id; or, with `detect`, what SLURM or Open MPI say), so
that `jax.devices()` lists every device of every process. The training programs then shard
the candidate axis over all of them (`jaxgp.train.placement`); each process draws the same
trees from the same seed, and only process 0 (`is_writer`) writes the run directory and
prints. On a CPU the processes talk through gloo collectives.

A process that dies stops sending heartbeats: after `heartbeat_timeout` seconds the
coordination service ends the others with an error, and `--resume` on the full set of
processes continues the run from its ledger.
"""

from __future__ import annotations

import re

from jaxgp.errors import ConfigError, JaxgpError

DEFAULT_HEARTBEAT_TIMEOUT = 100
_ADDRESS = re.compile(r"^\[?[A-Za-z0-9_.:-]+\]?:\d{1,5}$")


def check_options(
    coordinator: str | None, num_processes: int | None, process_id: int | None, detect: bool
) -> bool:
    """Whether the options ask for several processes; `ConfigError` when they are
    incomplete or out of range."""
    given = [coordinator is not None, num_processes is not None, process_id is not None]
    if not any(given):
        return detect
    if not all(given):
        raise ConfigError(
            "--coordinator, --num-processes and --process-id go together (or use "
            "--distributed alone on SLURM / Open MPI)"
        )
    if not _ADDRESS.match(str(coordinator)):
        raise ConfigError(f"--coordinator must be HOST:PORT, got {coordinator!r}")
    if num_processes < 1:
        raise ConfigError(f"--num-processes must be at least 1, got {num_processes}")
    if not 0 <= process_id < num_processes:
        raise ConfigError(
            f"--process-id must be in [0, {num_processes - 1}] for {num_processes} processes, "
            f"got {process_id}"
        )
    return True


def join(
    coordinator: str | None = None,
    num_processes: int | None = None,
    process_id: int | None = None,
    *,
    detect: bool = False,
    heartbeat_timeout: int = DEFAULT_HEARTBEAT_TIMEOUT,
) -> bool:
    """Join the other processes, before anything else touches JAX's devices; False (and
    nothing done) when no option asks for it."""
    if not check_options(coordinator, num_processes, process_id, detect):
        return False
    if heartbeat_timeout < 1:
        raise ConfigError(f"--heartbeat-timeout must be at least 1 second, got {heartbeat_timeout}")
    import jax

    jax.config.update("jax_cpu_collectives_implementation", "gloo")
    try:
        jax.distributed.initialize(
            coordinator, num_processes, process_id, heartbeat_timeout_seconds=heartbeat_timeout
        )
    except (RuntimeError, ValueError) as error:
        where = f" at {coordinator} as process {process_id} of {num_processes}"
        where = where if coordinator else ""
        raise JaxgpError(f"could not join the other processes{where}: {error}") from error
    return True


def process_index() -> int:
    import jax

    return jax.process_index()


def process_count() -> int:
    import jax

    return jax.process_count()


def is_writer() -> bool:
    """Whether this process writes the run directory and prints (process 0, or the only one)."""
    return process_index() == 0


def check_same(text: str, what: str) -> None:
    """`ConfigError` in every process when `text` (what must agree, e.g. the settings) is
    not the same in all of them: processes started with other options would train other
    candidates and wait for each other forever."""
    if process_count() == 1:
        return
    import hashlib

    import numpy as np
    from jax.experimental import multihost_utils

    digest = np.frombuffer(hashlib.sha256(text.encode()).digest(), np.uint8)
    digests = np.asarray(multihost_utils.process_allgather(digest)).reshape(process_count(), -1)
    differ = [i for i in range(len(digests)) if not np.array_equal(digests[i], digests[0])]
    if differ:
        raise ConfigError(
            f"process(es) {', '.join(map(str, differ))} were started with other {what} than "
            "process 0; start every process with the same command"
        )


def broadcast_bytes(data: bytes | None) -> bytes:
    """Process 0's `data` on every process (the others pass None)."""
    import numpy as np
    from jax.experimental import multihost_utils

    mine = np.frombuffer(data or b"", np.uint8)
    size = int(multihost_utils.broadcast_one_to_all(np.array(mine.size, np.int64)))
    padded = np.zeros(max(size, 1), np.uint8)
    if is_writer():
        padded[:size] = mine
    return bytes(np.asarray(multihost_utils.broadcast_one_to_all(padded))[:size])


def raise_together(error: JaxgpError | None) -> None:
    """Raise process 0's `error` (None: nothing went wrong there) in every process, so that
    a failure only process 0 can meet (its run directory is locked or cannot be written)
    stops the others at once with the same line, not after the heartbeat timeout."""
    if process_count() == 1:
        if error is not None:
            raise error
        return
    import json

    mine = json.dumps([error.exit_code, str(error)]).encode() if error is not None else b""
    shared = broadcast_bytes(mine if is_writer() else None)
    if is_writer() and error is not None:
        raise error
    if shared:
        from jaxgp.errors import RunFinished

        code, message = json.loads(shared)
        raised = RunFinished(message) if code == 0 else JaxgpError(message)
        raised.exit_code = code
        raise raised
