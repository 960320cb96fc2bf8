"""The HTTP transport carrier adapters share: for adapters written outside govpost too.

:class:`Transport` posts form fields through an injected ``requests.Session`` with a default
timeout on every call; it retries, with exponential backoff, only calls the adapter marks as
safe to repeat (idempotent queries, or orders keyed by their own id), and turns every failure
into a :class:`~govpost.errors.CarrierError` whose ``retryable`` is set: timeouts, dropped
connections, 5xx and 429 are retryable, other 4xx (authentication, validation) are not.

    >>> transport = Transport(timeout=2.0, retries=1)
    >>> transport
    <Transport timeout=(2.0, 2.0) retries=1>
    >>> transport.close()

Importing this module imports ``requests`` (install ``govpost[carriers]``).

.. versionadded:: 0.1.0
"""

from __future__ import annotations

from govpost.carriers._http import DEFAULT_TIMEOUT, HttpReply, Transport

__all__ = ["DEFAULT_TIMEOUT", "HttpReply", "Transport"]
