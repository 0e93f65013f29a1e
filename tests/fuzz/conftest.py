"""Hypothesis profiles of the fuzzed loaders.

"ci" (the default) keeps `make test` fast and reproducible: 25 examples per
test, derandomized (the same examples every run), no deadline (the first
example pays for imports). "long" (500 examples, random) is what
benchmarks/fuzz_loaders.py runs. Choose one with HYPOTHESIS_PROFILE=long or
pytest's --hypothesis-profile=long. Neither writes a .hypothesis database.
"""

from __future__ import annotations

import os

from hypothesis import HealthCheck, settings

QUIET_CHECKS = [HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.filter_too_much]

settings.register_profile("ci", max_examples=25, deadline=None, derandomize=True, database=None,
                          suppress_health_check=QUIET_CHECKS, print_blob=True)
settings.register_profile("long", max_examples=500, deadline=None, database=None,
                          suppress_health_check=QUIET_CHECKS, print_blob=True)


def pytest_configure(config):
    # --hypothesis-profile (read by Hypothesis' own plugin) wins over the environment variable.
    if not config.getoption("--hypothesis-profile", default=None):
        settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))
