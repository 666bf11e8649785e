"""XLA compilations: counted (through `jax.monitoring`) and kept on disk between runs.

Counting serves tests, logs and run summaries. A compilation that JAX's persistent cache
answers still counts (with the seconds it took to load) and is also counted as a
`cache_hits`.

`use_persistent_cache` keeps every compiled program on disk (`cache_directory`: by default
`$XDG_CACHE_HOME/jaxgp/xla`, else `~/.cache/jaxgp/xla`), so a repeated or resumed run
loads its programs instead of compiling them: `jaxgp evolve --scale tiny` took 16.0 s with
9.9 s compiling the first time and 6.7 s with 0.4 s loading the second (2-core CPU). The
`jaxgp` command turns it on; a library script calls `jaxgp.enable_compilation_cache()`.
"""

from __future__ import annotations

import importlib.util
import os
import sys
import tempfile
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import jax

from jaxgp.errors import ConfigError

COMPILE_EVENT = "/jax/core/compile/backend_compile_duration"
TRACE_EVENTS = (
    "/jax/core/compile/jaxpr_trace_duration",
    "/jax/core/compile/jaxpr_to_mlir_module_duration",
)
"""Tracing a function and lowering it to MLIR: the Python side of preparing a program."""
CACHE_HIT_EVENT = "/jax/compilation_cache/cache_hits"
CACHE_ENV = "JAXGP_COMPILATION_CACHE"
CACHE_OFF = ("none", "off")
CACHE_MAX_BYTES = 4 * 2**30


@dataclass
class CompileStats:
    """Number of backend compilations, the seconds they took, and how many were loaded."""

    count: int = 0
    seconds: float = 0.0
    cache_hits: int = 0
    trace_seconds: float = 0.0
    """Seconds tracing and lowering programs (before XLA compiles or loads them)."""


_totals = CompileStats()
_lock = threading.Lock()
_installed = False


def _listener(event: str, duration: float, **_: object) -> None:
    if event == COMPILE_EVENT:
        with _lock:
            _totals.count += 1
            _totals.seconds += duration
    elif event in TRACE_EVENTS:
        with _lock:
            _totals.trace_seconds += duration


def _hit_listener(event: str, **_: object) -> None:
    if event == CACHE_HIT_EVENT:
        with _lock:
            _totals.cache_hits += 1


def install() -> None:
    """Start counting (idempotent); counting only sees compilations after this call."""
    global _installed
    with _lock:
        if not _installed:
            jax.monitoring.register_event_duration_secs_listener(_listener)
            jax.monitoring.register_event_listener(_hit_listener)
            _installed = True


def totals() -> CompileStats:
    """Compilations counted since `install`."""
    install()
    with _lock:
        return CompileStats(
            _totals.count, _totals.seconds, _totals.cache_hits, _totals.trace_seconds
        )


@contextmanager
def count_compilations() -> Iterator[CompileStats]:
    """`with count_compilations() as stats:` fills `stats` with the compilations inside."""
    start = totals()
    stats = CompileStats()
    try:
        yield stats
    finally:
        end = totals()
        stats.count = end.count - start.count
        stats.seconds = end.seconds - start.seconds
        stats.cache_hits = end.cache_hits - start.cache_hits
        stats.trace_seconds = end.trace_seconds - start.trace_seconds


def cache_directory(setting: str | None = None) -> Path | None:
    """Where compiled programs are kept; None for no persistent cache.

    `setting` (else `$JAXGP_COMPILATION_CACHE`) is a directory, or `none`/`off`. Without
    either: JAX's own `$JAX_COMPILATION_CACHE_DIR` if set (None here: JAX applies it),
    else `$XDG_CACHE_HOME/jaxgp/xla`, else `~/.cache/jaxgp/xla`.
    """
    if setting is None:
        setting = os.environ.get(CACHE_ENV)
    if setting is not None:
        setting = setting.strip()
        return None if setting.lower() in CACHE_OFF or not setting else Path(setting).expanduser()
    if os.environ.get("JAX_COMPILATION_CACHE_DIR"):
        return None
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "jaxgp" / "xla"


def use_persistent_cache(directory: Path | None) -> None:
    """Keep every compiled program in `directory` (at most `CACHE_MAX_BYTES`, least
    recently used dropped first); None leaves JAX's settings alone. Call before compiling.
    A directory that cannot be written only costs the caching (JAX logs a warning)."""
    if directory is None:
        return
    jax.config.update("jax_compilation_cache_dir", str(directory))
    jax.config.update("jax_persistent_cache_min_compile_time_secs", 0.0)
    if importlib.util.find_spec("filelock") is not None:  # JAX's eviction needs it
        jax.config.update("jax_compilation_cache_max_size", CACHE_MAX_BYTES)


def cache_problem(directory: Path) -> str | None:
    """None when compiled programs can be kept in `directory` (made if missing), else why
    not (the system's words, e.g. `Read-only file system`)."""
    try:
        directory.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryFile(dir=directory):
            pass
    except OSError as error:
        return error.strerror or str(error)
    return None


def enable_compilation_cache(setting: str | None = None) -> Path | None:
    """Keep compiled programs on disk between runs, as the `jaxgp` command does: `setting`
    (else `$JAXGP_COMPILATION_CACHE`, else the default directory, `cache_directory`) is a
    directory or `none`/`off`. For library scripts; call it before anything compiles.
    Returns the directory used (None: no persistent cache).

    A directory that cannot be made or written is a `ConfigError` when it was given (JAX
    would only warn at every compilation and keep nothing); the default directory is
    skipped with a one-line warning on stderr."""
    directory = cache_directory(setting)
    problem = cache_problem(directory) if directory is not None else None
    if problem is not None:
        if setting is not None or os.environ.get(CACHE_ENV):
            raise ConfigError(
                f"compilation cache {directory}: cannot make or write it ({problem}); give a "
                f"writable directory or 'none' (--compilation-cache, ${CACHE_ENV})"
            )
        print(f"warning: no compilation cache: {directory}: {problem}", file=sys.stderr)
        directory = None
    use_persistent_cache(directory)
    return directory
