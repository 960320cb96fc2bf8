"""Carrier adapters: small capability protocols, discovery by entry point, and the built-ins.

A carrier adapter is any object with a ``name`` and a declared set of
:class:`Capability` values, implementing the protocol of each capability it declares:

- ``QUOTE``: :class:`QuotingCarrier`, ``quote(QuoteRequest) -> Quote``;
- ``BOOK``: :class:`BookingCarrier`, ``book(BookingRequest) -> Booking``;
- ``CANCEL``: :class:`CancellingCarrier`, ``cancel(order_id, *, tracking_number=None)``;
- ``TRACK``: :class:`TrackingCarrier`, ``track(TrackingNumber) -> tuple[TrackingEvent, ...]``;
- ``PUSH``: :class:`PushCarrier`, ``parse_push(body, headers) -> PushMessage``.

Capabilities are declared, never guessed from method names; :func:`require` checks one and
returns the adapter typed as its protocol. Adapters are found by name through the entry-point
group ``govpost.carriers`` with :func:`load`::

    >>> from govpost import carriers
    >>> sandbox = carriers.load("sandbox", seed=2018)
    >>> sorted(c.value for c in sandbox.capabilities)
    ['book', 'cancel', 'push', 'quote', 'track']

Two adapters are built in: ``sandbox`` (:mod:`govpost.carriers.sandbox`, deterministic and
in-process, for tests and the demo) and ``ems`` (:mod:`govpost.carriers.ems`, the EMS open
platform). Every operation of the EMS adapter is a pure ``build_*`` / ``parse_*`` pair around
an injected ``requests.Session``. Errors of the carrier are
:class:`~govpost.errors.CarrierError` with the carrier's ``code``, ``retryable`` and ``raw``
response; pushed tracking is verified first (:mod:`govpost.carriers.webhooks`).

``import govpost.carriers`` imports neither ``requests`` nor ``cryptography``: only the modules
that speak HTTP or decrypt do.

.. versionadded:: 0.1.0
"""

from __future__ import annotations

from govpost.carriers._model import (
    Booking,
    BookingCarrier,
    BookingRequest,
    CancellingCarrier,
    Capability,
    Carrier,
    PushCarrier,
    PushMessage,
    Quote,
    QuoteRequest,
    QuotingCarrier,
    TrackingCarrier,
    require,
    supports,
)
from govpost.carriers._registry import GROUP, available, load

__all__ = [
    "GROUP",
    "Booking",
    "BookingCarrier",
    "BookingRequest",
    "CancellingCarrier",
    "Capability",
    "Carrier",
    "PushCarrier",
    "PushMessage",
    "Quote",
    "QuoteRequest",
    "QuotingCarrier",
    "TrackingCarrier",
    "available",
    "load",
    "require",
    "supports",
]
