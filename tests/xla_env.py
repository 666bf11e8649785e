"""Where the suite compiles with fewer optimisations, and the environment of a subprocess
with virtual devices.

Most of the suite's time is XLA compiling on the CPU. With JAX's
`jax_disable_most_optimizations` (LLVM level 0, no expensive LLVM passes) the compilation
takes about half as long and the program runs several times slower: a win where a test
compiles much and runs little (InceptionV3's training step 52 -> 34 s, the H200 compile
60 -> 47 s on 2 cores), a loss where it trains a search (the whole suite at LLVM level 0
took 1,062 s against 1,004 s). So it is on for the trainer's tests (`tests/train/conftest.py`),
the loss tests, the subprocesses that compile big programs once and the benchmark smoke
runs (the fixture `compiled_with_fewer_optimisations` of `tests/conftest.py`,
`FAST_COMPILE_ENV`), and off elsewhere. What a program computes is
XLA's, not LLVM's; jaxgp's commands and the benchmarks' measuring runs compile with every
optimisation.
"""

import os

FAST_COMPILE_ENV = {"JAX_DISABLE_MOST_OPTIMIZATIONS": "1"}
"""What a subprocess's environment adds to compile with fewer optimisations."""


def devices_env(devices: int, *, fast: bool = False) -> dict[str, str]:
    """This process's environment for a subprocess that sees `devices` virtual CPU devices
    (and compiles with fewer optimisations if `fast`)."""
    flags = f"{os.environ.get('XLA_FLAGS', '')} --xla_force_host_platform_device_count={devices}"
    return dict(os.environ, XLA_FLAGS=flags.strip(), **(FAST_COMPILE_ENV if fast else {}))
