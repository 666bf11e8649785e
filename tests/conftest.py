"""Shared test settings: hypothesis profiles sized for a 2-core CI machine, the benchmark
smoke runs started in the background and their tests run last, and the
persistent compilation cache: none in the test process (tests count its compilations; the
cache's own tests set one), one for the whole session in the `jaxgp` and benchmark
subprocesses, which compile the same programs again and again (`tests.cli.invoke.run_main`, the
command run in-process, turns it off again)."""

import atexit
import os
import shutil
import tempfile
from pathlib import Path

import jax
import pytest
from hypothesis import HealthCheck, settings

SMOKE_TESTS = Path(__file__).resolve().parent / "benchmarks" / "test_smoke.py"

SUBPROCESS_CACHE = tempfile.mkdtemp(prefix="jaxgp-test-xla-")
os.environ["JAXGP_COMPILATION_CACHE"] = SUBPROCESS_CACHE  # inherited by the subprocesses
atexit.register(shutil.rmtree, SUBPROCESS_CACHE, ignore_errors=True)

settings.register_profile(
    "ci", max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
settings.register_profile("dev", max_examples=30, deadline=None)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))


@pytest.fixture
def compiled_with_fewer_optimisations():
    """For a test that compiles much and runs little (`tests/xla_env.py`)."""
    before = jax.config.values["jax_disable_most_optimizations"]
    jax.config.update("jax_disable_most_optimizations", True)
    yield
    jax.config.update("jax_disable_most_optimizations", before)


def pytest_collection_modifyitems(config, items):
    """The benchmark smoke tests run last, and their benchmark processes start now, in the
    background, when any of them is selected (tests/benchmarks/smoke.py)."""
    smoke = [item for item in items if item.path == SMOKE_TESTS]
    if not smoke:
        return
    items[:] = [item for item in items if item not in smoke] + smoke
    if not config.option.collectonly:
        from tests.benchmarks import smoke as benchmark_smoke

        benchmark_smoke.start()
