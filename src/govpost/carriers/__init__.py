"""Carrier adapters: small capability protocols, discovery by entry point, and the built-ins.

A carrier adapter is any object with a ``name`` and a declared set of
:class:`Capability` values, implementing the protocol of each capability it declares:

- ``QUOTE``: :class:`QuotingCarrier`, ``quote(QuoteRequest) -> Quote``;
- ``BOOK``: :class:`BookingCarrier`, ``book(BookingRequest) -> Booking``;
- ``CANCEL``: :class:`CancellingCarrier`, ``cancel(order_id, *, tracking_number=None)``;
- ``TRACK``: :class:`TrackingCarrier`, ``track(TrackingNumber) -> tuple[TrackingEvent, ...]``;
- ``PUSH``: :class:`PushCarrier`, ``parse_push(body, headers) -> PushMessage``, and
  ``pushes_authenticated``: whether a verified push is proven unaltered
  (:func:`pushes_authenticated`).

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
response; pushed tracking is verified first (:mod:`govpost.carriers.webhooks`). Bookings go
through :func:`book_once`, which records each attempt in a :class:`BookingJournal` before the
carrier is called (:mod:`govpost.carriers.journal`): never lost, never repeated with other
content.

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
    pushes_authenticated,
    require,
    supports,
)
from govpost.carriers._registry import GROUP, available, load
from govpost.carriers.journal import (
    BookingJournal,
    JournalEntry,
    JournalState,
    MemoryJournal,
    book_once,
    booking_fingerprint,
)

__all__ = [
    "GROUP",
    "Booking",
    "BookingCarrier",
    "BookingJournal",
    "BookingRequest",
    "CancellingCarrier",
    "Capability",
    "Carrier",
    "JournalEntry",
    "JournalState",
    "MemoryJournal",
    "PushCarrier",
    "PushMessage",
    "Quote",
    "QuoteRequest",
    "QuotingCarrier",
    "TrackingCarrier",
    "available",
    "book_once",
    "booking_fingerprint",
    "load",
    "pushes_authenticated",
    "require",
    "supports",
]
