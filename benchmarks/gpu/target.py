"""A GPU as a compile target on a machine without one (deviceless ahead-of-time compilation).

XLA compiles for a CUDA GPU on a CPU through the CUDA PJRT plugin's compile-only client,
given a target config: the device description a GPU would report, kept as files in
`targets/` (`h200`, `a100`; any other `.txtpb` path works too). Nothing runs on the
target; the process's own JAX runs on the CPU.

Where the plugin comes from: `python benchmarks/gpu_compile.py --install` installs the
`gpu-compile` extra of pyproject.toml (the CUDA PJRT plugin, pinned here to the installed
jaxlib's version, and ptxas from NVIDIA's nvcc wheel) into `.gpu-compile/` at the
checkout's root, off the import path. `load_plugin` then loads the plugin's library by file,
in the compiling process only. Installed into the environment itself, the plugin would be
found by every JAX process and, on a machine without CUDA, each would log a traceback
while starting its backends (and the nvcc wheel would not be needed by anything else). An
environment with the plugin installed in it (a venv of its own) works too: JAX's own
discovery registers it there.
"""

from __future__ import annotations

import importlib.metadata
import importlib.util
import os
import subprocess
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
TARGETS = Path(__file__).resolve().parent / "targets"
INSTALL_DIR = ROOT / ".gpu-compile"
EXTRA = "gpu-compile"
PLUGIN_PACKAGE = "jax-cuda12-pjrt"
LIBRARY = Path("jax_plugins", "xla_cuda12", "xla_cuda_plugin.so")
NVCC = Path("nvidia", "cuda_nvcc")


class TargetError(Exception):
    """A target or plugin that cannot be used (one line: what is missing and what to do)."""


def target_names() -> list[str]:
    return sorted(path.stem for path in TARGETS.glob("*.txtpb"))


def target_config(name: str) -> str:
    """The target config text of a target in `targets/` by name, or of a file path."""
    path = TARGETS / f"{name}.txtpb"
    if not path.exists():
        path = Path(name)
    if not path.is_file():
        raise TargetError(f"unknown GPU target {name!r}; known: {', '.join(target_names())}")
    return path.read_text()


def target_memory_bytes(config: str) -> int:
    """The target's `device_memory_size`."""
    for line in config.splitlines():
        key, _, value = line.strip().partition(":")
        if key == "device_memory_size":
            return int(value)
    raise TargetError("the target config has no device_memory_size")


def requirements(jaxlib_version: str | None = None) -> list[str]:
    """The `gpu-compile` extra of pyproject.toml, its plugin pinned to jaxlib's version (a
    PJRT plugin must come from the same release as the jaxlib that loads it)."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    version = jaxlib_version or importlib.metadata.version("jaxlib")
    pinned = []
    for requirement in project["optional-dependencies"][EXTRA]:
        if requirement == PLUGIN_PACKAGE:
            requirement = f"{PLUGIN_PACKAGE}=={version}.*"
        pinned.append(requirement)
    return pinned


def install(directory: Path = INSTALL_DIR) -> int:
    """pip-install the extra into `directory` (off the import path); pip's exit code."""
    command = [sys.executable, "-m", "pip", "install", "--quiet", "--upgrade", "--target",
               str(directory), *requirements()]  # fmt: skip
    print(" ".join(command), flush=True)
    return subprocess.call(command)


def plugin_library(directory: Path | None = None) -> Path | None:
    """The plugin's library in `directory` (else $JAXGP_GPU_COMPILE_DIR, else `.gpu-compile/`),
    or None."""
    path = Path(directory or os.environ.get("JAXGP_GPU_COMPILE_DIR") or INSTALL_DIR) / LIBRARY
    return path if path.is_file() else None


def plugin_installed_here() -> bool:
    """Whether this environment has the plugin on its import path (JAX discovers it)."""
    try:
        return importlib.util.find_spec("jax_plugins.xla_cuda12") is not None
    except ModuleNotFoundError:  # no jax_plugins package at all
        return False


def plugin_available(directory: Path | None = None) -> bool:
    return plugin_library(directory) is not None or plugin_installed_here()


def load_plugin(directory: Path | None = None) -> None:
    """Make `cuda` a compile target of this process, whose JAX runs on the CPU.

    Call before anything starts JAX's backends in this process.
    """
    import jax
    from jax._src import xla_bridge  # register_plugin: JAX's documented plugin hook
    from jax._src.lib import xla_client

    jax.config.update("jax_platforms", "cpu")  # the plugin compiles; it never runs
    library = plugin_library(directory)
    if library is None and not plugin_installed_here():
        raise TargetError(
            f"the CUDA compile plugin is not installed: run `python benchmarks/gpu_compile.py "
            f"--install` (into {INSTALL_DIR.relative_to(ROOT)}/)"
        )
    xla_bridge._discover_and_register_pjrt_plugins()  # a plugin installed here registers
    if "cuda" in xla_bridge._backend_factories:
        return
    nvcc = library.parents[2] / NVCC
    if nvcc.is_dir():  # ptxas from the nvcc wheel beside the plugin, not whatever is on PATH
        flags = os.environ.get("XLA_FLAGS", "")
        os.environ["XLA_FLAGS"] = f"{flags} --xla_gpu_cuda_data_dir={nvcc}".strip()
    xla_bridge.register_plugin(
        "cuda", priority=500, library_path=str(library),
        options=xla_client.generate_pjrt_gpu_plugin_options(),
    )  # fmt: skip


def target_sharding(config: str):
    """A sharding on the target's one compile-only device: put it on abstract arguments."""
    from jax.experimental import topologies
    from jax.sharding import NamedSharding, PartitionSpec

    topology = topologies.get_topology_desc(platform="cuda", target_config=config, topology="1x1x1")
    return NamedSharding(topologies.make_mesh(topology, (1,), ("x",)), PartitionSpec())
