"""Settings of the fuzz suites: 500 examples per parser in ``make test``, 10,000 in ``deep``.

``HYPOTHESIS_PROFILE=deep make pytest`` (or ``make fuzz``) runs every fuzz test with 10,000
examples. Each example must finish within :data:`EXAMPLE_BOUND`: far above what any input of
the sizes generated here costs (milliseconds), so only a super-linear blow-up — the kind of
bug these tests hunt — can reach it on a loaded machine.
"""

from __future__ import annotations

import os
from datetime import timedelta

from hypothesis import HealthCheck, settings

DEEP = os.environ.get("HYPOTHESIS_PROFILE") == "deep"

#: How long one fuzz example may take before it counts as unbounded.
EXAMPLE_BOUND = timedelta(seconds=5)

#: Decorate a fuzz test with ``@fuzz``.
fuzz = settings(
    max_examples=10_000 if DEEP else 500,
    deadline=EXAMPLE_BOUND,
    suppress_health_check=[
        HealthCheck.too_slow,
        HealthCheck.filter_too_much,
        HealthCheck.data_too_large,
    ],
)

#: Decorate a fuzz test repeated for each of the ~90 wire models with ``@fuzz_each``: 100
#: examples per model in ``make test`` (about 9,000 per test, more than any single parser gets),
#: 10,000 per model in ``deep``.
fuzz_each = settings(fuzz, max_examples=10_000 if DEEP else 100)
