"""Shared test settings: hypothesis profiles sized for a 2-core CI machine, and no
persistent compilation cache (tests count compilations; the cache's own test sets one)."""

import os

os.environ["JAXGP_COMPILATION_CACHE"] = "none"  # inherited by the CLI subprocesses too

from hypothesis import HealthCheck, settings

settings.register_profile(
    "ci", max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
settings.register_profile("dev", max_examples=30, deadline=None)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))
