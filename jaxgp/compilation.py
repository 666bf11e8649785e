"""Counts XLA compilations, through `jax.monitoring`, for tests, logs and run summaries."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import jax

COMPILE_EVENT = "/jax/core/compile/backend_compile_duration"


@dataclass
class CompileStats:
    """Number of backend compilations and the seconds they took."""

    count: int = 0
    seconds: float = 0.0


_totals = CompileStats()
_lock = threading.Lock()
_installed = False


def _listener(event: str, duration: float, **_: object) -> None:
    if event == COMPILE_EVENT:
        with _lock:
            _totals.count += 1
            _totals.seconds += duration


def install() -> None:
    """Start counting (idempotent); counting only sees compilations after this call."""
    global _installed
    with _lock:
        if not _installed:
            jax.monitoring.register_event_duration_secs_listener(_listener)
            _installed = True


def totals() -> CompileStats:
    """Compilations counted since `install`."""
    install()
    with _lock:
        return CompileStats(_totals.count, _totals.seconds)


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
