"""The XLA flags of the suite, and the environment of a subprocess with virtual devices.

The suite compiles at LLVM optimisation level 0 (`tests/conftest.py` sets it): nearly every
test is an XLA compilation on the CPU and a few steps on tiny data, and level 0 halves the
compilation (the suite's slowest tests 165 s -> 85 s on 2 cores). What a program computes
is XLA's, not LLVM's; jaxgp's commands and the benchmarks compile at XLA's default level.
"""

import os

SUITE_XLA_FLAGS = "--xla_backend_optimization_level=0"


def with_suite_flags(flags: str) -> str:
    """`flags` with the suite's added, unless they name the optimisation level already."""
    if "--xla_backend_optimization_level" in flags:
        return flags
    return f"{flags} {SUITE_XLA_FLAGS}".strip()


def devices_env(devices: int) -> dict[str, str]:
    """This process's environment for a subprocess that sees `devices` virtual CPU devices
    (the suite's flags kept)."""
    flags = f"{os.environ.get('XLA_FLAGS', '')} --xla_force_host_platform_device_count={devices}"
    return dict(os.environ, XLA_FLAGS=flags.strip())
