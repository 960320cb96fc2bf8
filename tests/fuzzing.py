"""Settings of the fuzz suites: 500 examples per parser in ``make test``, 10,000 in ``deep``.

``HYPOTHESIS_PROFILE=deep make pytest`` (or ``make fuzz``) runs every fuzz test with 10,000
examples. Each example must finish within :data:`EXAMPLE_BOUND`: far above what any input of
the sizes generated here costs (milliseconds), so only a super-linear blow-up — the kind of
bug these tests hunt — can reach it on a loaded machine.
"""

from __future__ import annotations

import json
import os
from datetime import timedelta

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st

from govpost.serialization import to_json

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


def junk_documents(
    samples: dict[type[object], object],
) -> st.SearchStrategy[tuple[type[object], str]]:
    """A model class of ``samples`` and the JSON text of its sample document with one to three
    of its values (or the whole document) replaced by junk: wrong types, huge and tiny numbers,
    odd strings, nesting."""
    junk = st.recursive(
        st.none()
        | st.booleans()
        | st.integers(-(2**70), 2**70)
        | st.floats()
        | st.sampled_from(["", " ", "NaN", "-0", "1e999", "9" * 40, "\ud800", "=1+1", "2018-13-45"])
        | st.text(max_size=20),
        lambda inner: (
            st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3)
        ),
        max_leaves=8,
    )

    def paths(doc: object, here: tuple[object, ...] = ()) -> list[tuple[object, ...]]:
        found = [here]
        if isinstance(doc, dict):
            for key, value in doc.items():
                found += paths(value, (*here, key))
        elif isinstance(doc, list):
            for index, value in enumerate(doc):
                found += paths(value, (*here, index))
        return found

    @st.composite
    def build(draw: st.DrawFn) -> tuple[type[object], str]:
        cls = draw(st.sampled_from(sorted(samples, key=lambda c: c.__name__)))
        doc = json.loads(to_json(samples[cls]))
        for _ in range(draw(st.integers(1, 3))):
            path = draw(st.sampled_from(paths(doc)))
            value = draw(junk)
            if not path:
                doc = value
                continue
            node = doc
            try:
                for step in path[:-1]:
                    node = node[step]
                node[path[-1]] = value
            except (KeyError, IndexError, TypeError):
                pass
        return cls, json.dumps(doc)

    return build()
