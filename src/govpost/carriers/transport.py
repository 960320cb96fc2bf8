"""The HTTP transport carrier adapters share: for adapters written outside govpost too.

:class:`Transport` posts form fields through an injected ``requests.Session``. Every call has
one overall deadline (``deadline``, 30 s by default) covering connect, every read and every
retry: a server that stalls or trickles its answer cannot hold a call past it, and the call
then raises a retryable :class:`~govpost.errors.CarrierError` with code ``"deadline"`` (the
request may or may not have been processed). Answers larger than ``max_response_bytes``
(10 MiB) are refused unread (code ``"response_too_large"``).

It retries, with exponential backoff, only calls the adapter marks as safe to repeat
(idempotent queries, or orders keyed by their own id), and only while the deadline leaves time
for the wait; ``Retry-After`` (delta-seconds or an HTTP date, see :func:`parse_retry_after`) is
honoured up to ``max_backoff``. Every failure becomes a :class:`~govpost.errors.CarrierError`
whose ``retryable`` is set: timeouts, the deadline, dropped connections, 5xx and 429 are
retryable, other 4xx (authentication, validation) are not.

    >>> transport = Transport(timeout=2.0, retries=1, deadline=10)
    >>> transport
    <Transport timeout=(2.0, 2.0) retries=1 deadline=10>
    >>> transport.close()

Importing this module imports ``requests`` (install ``govpost[carriers]``).

.. versionadded:: 0.1.0
.. versionchanged:: 0.2.0
   An overall ``deadline`` per call, ``max_response_bytes``, :func:`parse_retry_after`.
"""

from __future__ import annotations

from govpost.carriers._http import (
    DEFAULT_DEADLINE,
    DEFAULT_MAX_RESPONSE_BYTES,
    DEFAULT_TIMEOUT,
    HttpReply,
    Transport,
    parse_retry_after,
)

__all__ = [
    "DEFAULT_DEADLINE",
    "DEFAULT_MAX_RESPONSE_BYTES",
    "DEFAULT_TIMEOUT",
    "HttpReply",
    "Transport",
    "parse_retry_after",
]
