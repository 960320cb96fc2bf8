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


# --- the store's databases (see tests/databases.py) -------------------------------------------

import pytest  # noqa: E402


@pytest.fixture(params=["sqlite", "postgresql", "mysql"])
def store_url(request: pytest.FixtureRequest, tmp_path: object) -> object:
    """The URL of a new, empty database on each backend in turn (one test, three runs)."""
    pytest.importorskip("sqlalchemy", reason="the store's tests need govpost[store]")
    from pathlib import Path

    from tests.databases import fresh_database

    assert isinstance(tmp_path, Path)
    with fresh_database(request.param, tmp_path) as url:
        yield url


@pytest.fixture
def store_keys() -> object:
    """A fixed key ring for tests (never a real key)."""
    from govpost.store import Key, KeyRing

    return KeyRing(Key.from_hex("k1", "00112233445566778899aabbccddeeff"))
