"""Test-wide settings: Hypothesis profiles (``HYPOTHESIS_PROFILE=ci`` in CI, ``deep`` for fuzzing).

``deep`` raises every property test to 2,000 examples and the fuzz suites (see
``tests/fuzzing.py``) to 10,000; it is for long runs (``make fuzz``), not for ``make test``.
"""

from __future__ import annotations

import os

from hypothesis import HealthCheck, settings

settings.register_profile("default", deadline=None)
settings.register_profile(
    "ci", deadline=None, max_examples=200, suppress_health_check=[HealthCheck.too_slow]
)
settings.register_profile(
    "deep", deadline=None, max_examples=2_000, suppress_health_check=list(HealthCheck)
)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "default"))
