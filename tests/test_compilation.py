"""Compilation counting and the persistent compilation cache between runs."""

import os
import re
import subprocess
from pathlib import Path

import pytest

from jaxgp.compilation import cache_directory


@pytest.fixture
def clean_env(monkeypatch):
    for name in ("JAXGP_COMPILATION_CACHE", "JAX_COMPILATION_CACHE_DIR", "XDG_CACHE_HOME"):
        monkeypatch.delenv(name, raising=False)
    return monkeypatch


def test_the_cache_defaults_to_the_user_cache_directory(clean_env):
    assert cache_directory() == Path.home() / ".cache" / "jaxgp" / "xla"
    clean_env.setenv("XDG_CACHE_HOME", "/somewhere")
    assert cache_directory() == Path("/somewhere/jaxgp/xla")


def test_a_setting_beats_the_environment_and_none_turns_the_cache_off(clean_env):
    clean_env.setenv("JAXGP_COMPILATION_CACHE", "/from/env")
    assert cache_directory() == Path("/from/env")
    assert cache_directory("~/mine") == Path.home() / "mine"
    for off in ("none", "OFF", " "):
        assert cache_directory(off) is None
    clean_env.setenv("JAXGP_COMPILATION_CACHE", "none")
    assert cache_directory() is None


def test_jax_s_own_cache_variable_is_left_to_jax(clean_env):
    clean_env.setenv("JAX_COMPILATION_CACHE_DIR", "/jax/own")
    assert cache_directory() is None


def test_a_second_run_loads_its_programs_from_the_cache(tmp_path):
    env = {**os.environ, "JAXGP_COMPILATION_CACHE": str(tmp_path / "xla")}
    command = ["jaxgp", "train", "--loss", "ce", "--data", "synthetic:8x8x1:10", "--epochs", "1"]
    runs = [subprocess.run(command, capture_output=True, text=True, env=env, timeout=300)]
    runs.append(subprocess.run(command, capture_output=True, text=True, env=env, timeout=300))
    for run in runs:
        assert run.returncode == 0, run.stderr[-2000:]
    assert "loaded from the compilation cache" not in runs[0].stdout
    loaded = re.search(r"(\d+) XLA compilations, (\d+) of them loaded", runs[1].stdout)
    assert loaded and int(loaded.group(2)) > 0, runs[1].stdout[-800:]
    assert any((tmp_path / "xla").iterdir())


def test_a_library_script_turns_on_the_clis_cache_with_one_call(clean_env, tmp_path):
    """The same rules and settings as the command (whose cache the test above checks)."""
    import jax

    import jaxgp

    before = jax.config.jax_compilation_cache_dir
    try:
        clean_env.setenv("JAXGP_COMPILATION_CACHE", str(tmp_path / "env"))
        assert jaxgp.enable_compilation_cache() == tmp_path / "env"
        assert jax.config.jax_compilation_cache_dir == str(tmp_path / "env")
        assert jax.config.jax_persistent_cache_min_compile_time_secs == 0.0
        assert jaxgp.enable_compilation_cache(str(tmp_path / "mine")) == tmp_path / "mine"
        assert jax.config.jax_compilation_cache_dir == str(tmp_path / "mine")
        assert jaxgp.enable_compilation_cache("none") is None
        assert jax.config.jax_compilation_cache_dir == str(tmp_path / "mine")  # left alone
    finally:
        jax.config.update("jax_compilation_cache_dir", before)
