"""The booking journal: every booking attempt is recorded before the carrier is called.

A booking crosses a network: the carrier may create the order and the answer be lost (a
timeout, a reset, a crash of our process between request and answer). Carriers key orders by
our order id — the shipment's id — so asking again with the same request is safe: the carrier
answers "duplicate order" with the waybill it already gave. What is *not* safe is asking again
with different content under the same id (the carrier keeps the first order and says
"duplicate": the change is silently lost), or forgetting that an attempt was made.

:func:`book_once` closes both gaps through a :class:`BookingJournal`, keyed by order id:

1. before the carrier is called, the attempt is recorded ``pending`` with a fingerprint of
   the request's content (:func:`booking_fingerprint`) and the carrier's name;
2. the answer is recorded: ``booked`` with the :class:`~govpost.carriers.Booking`, ``failed``
   with the code of a refusal that is not retryable, or left ``pending`` with the code of a
   retryable failure;
3. called again for the same order: a ``booked`` order returns its recorded booking without
   calling the carrier; a ``pending`` one (a crash, a retryable failure) or a ``failed`` one is
   asked again with the same request; the same order id with other content, or for another
   carrier, is refused with :class:`~govpost.errors.ValidationError` before any call.

::

    >>> from govpost.carriers.sandbox import SandboxCarrier
    >>> from govpost.testing import sample_booking_request
    >>> journal, sandbox = MemoryJournal(), SandboxCarrier(seed=7)
    >>> request = sample_booking_request("GZ-7")
    >>> booking = book_once(sandbox, request, journal)
    >>> book_once(sandbox, request, journal) == booking    # recorded: the carrier is not called
    True
    >>> journal.get("GZ-7").state, journal.get("GZ-7").attempts
    (<JournalState.BOOKED: 'booked'>, 1)

:class:`MemoryJournal` keeps entries in a mapping (inject one to share it); the store keeps
them in a table, in the same transactions as the shipments they book.

.. versionadded:: 0.2.0
"""

from __future__ import annotations

import enum
import hashlib
import json
import threading
from collections.abc import Callable, MutableMapping
from datetime import datetime
from typing import Any, Protocol

import attrs

from govpost._fields import aware
from govpost.carriers._model import Booking, BookingCarrier, BookingRequest, utc_now
from govpost.errors import CarrierError, ValidationError

__all__ = [
    "BookingJournal",
    "JournalEntry",
    "JournalState",
    "MemoryJournal",
    "book_once",
    "booking_fingerprint",
]

#: Fields of a shipment that record what happened after booking (its tracking), not what
#: the carrier was asked to book: left out of the fingerprint, so that a shipment that moved
#: on is still the same booking.
_TRACKING_STATE = (
    "tracking_number",
    "status",
    "events",
    "superseded",
    "picked_up_at",
    "returned_at",
)


class JournalState(enum.Enum):
    """Where a booking attempt stands.

    .. versionadded:: 0.2.0
    """

    #: Recorded before the carrier was called; the answer is not known (yet): the order may or
    #: may not exist at the carrier. Resolved by booking again with the same request.
    PENDING = "pending"
    #: The carrier confirmed the order; the entry holds the booking.
    BOOKED = "booked"
    #: The carrier refused the order with an error that is not retryable (``error_code``).
    FAILED = "failed"


def _key(value: str) -> str:
    given: object = value
    if not isinstance(given, str) or not given:
        raise ValidationError(f"journal key {given!r} must be the order id (a non-empty str)")
    return given


def _attempts(value: int) -> int:
    given: object = value
    if isinstance(given, bool) or not isinstance(given, int) or given < 0:
        raise ValidationError(f"attempts {given!r} must be an int, zero or more")
    return given


def _created_at(value: datetime) -> datetime:
    return aware(value, "created_at")


def _updated_at(value: datetime) -> datetime:
    return aware(value, "updated_at")


def _consistent(entry: JournalEntry, attribute: object, value: str | None) -> None:
    if (entry.state is JournalState.BOOKED) != (entry.booking is not None):
        raise ValidationError(
            f"journal entry {entry.key}: a booking is recorded exactly when the state is "
            f"'booked' (state {entry.state.value!r}, booking {entry.booking!r})"
        )
    if entry.booking is not None and entry.booking.order_id != entry.key:
        raise ValidationError(
            f"journal entry {entry.key} holds the booking of order {entry.booking.order_id}"
        )
    if entry.state is JournalState.FAILED and not entry.error_code:
        raise ValidationError(f"journal entry {entry.key} is 'failed' without an error_code")


@attrs.frozen(kw_only=True)
class JournalEntry:
    """One order's booking attempts, as the journal records them.

    Args:
        key: the idempotency key: our order id (the shipment's id).
        carrier: the name of the carrier adapter the order is booked with.
        fingerprint: :func:`booking_fingerprint` of the request.
        state: pending, booked or failed.
        created_at: when the first attempt was recorded (timezone-aware).
        updated_at: when the entry last changed (timezone-aware).
        attempts: how many times the carrier was called for it.
        booking: the carrier's booking, when ``booked``.
        error_code: the ``CarrierError.code`` of the last failure: not retryable when
            ``failed``, retryable when ``pending``.

    Raises:
        ValidationError: a booking without the ``booked`` state (or the reverse), a booking of
            another order, ``failed`` without an error code, a naive timestamp.

    .. versionadded:: 0.2.0
    """

    key: str = attrs.field(converter=_key)
    carrier: str
    fingerprint: str
    state: JournalState = attrs.field(validator=attrs.validators.instance_of(JournalState))
    created_at: datetime = attrs.field(converter=_created_at)
    updated_at: datetime = attrs.field(converter=_updated_at)
    attempts: int = attrs.field(default=0, converter=_attempts)
    booking: Booking | None = attrs.field(
        default=None, validator=attrs.validators.optional(attrs.validators.instance_of(Booking))
    )
    error_code: str | None = attrs.field(default=None, validator=_consistent)


class BookingJournal(Protocol):
    """Where booking attempts are recorded, keyed by order id: the store implements it.

    Each method is atomic. :meth:`setdefault` is an insert-if-absent (two processes booking
    the same order see one entry); :meth:`put` never replaces a ``booked`` entry (a late
    failure of a concurrent attempt cannot erase a booking).

    .. versionadded:: 0.2.0
    """

    def get(self, key: str) -> JournalEntry | None:
        """The entry of order ``key``, or ``None``."""
        ...

    def setdefault(self, entry: JournalEntry) -> JournalEntry:
        """Record ``entry`` unless its key has one; return the entry recorded under the key."""
        ...

    def put(self, entry: JournalEntry) -> JournalEntry:
        """Record ``entry`` over its key's, unless that one is booked; return the recorded one."""
        ...

    def pending(self) -> tuple[JournalEntry, ...]:
        """The ``pending`` entries, oldest first: attempts whose outcome is not known."""
        ...


class MemoryJournal:
    """A :class:`BookingJournal` in memory, safe across threads.

    Args:
        entries: the mapping to keep entries in (order id -> entry); a new dict when
            ``None``. Two journals given the same mapping see the same entries, as two runs of
            a program see the same database: tests simulate a crash that way.

    .. versionadded:: 0.2.0
    """

    def __init__(self, entries: MutableMapping[str, JournalEntry] | None = None) -> None:
        self._entries: MutableMapping[str, JournalEntry] = {} if entries is None else entries
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        return f"<MemoryJournal entries={len(self._entries)}>"

    def get(self, key: str) -> JournalEntry | None:
        """The entry of order ``key``, or ``None``."""
        with self._lock:
            return self._entries.get(key)

    def setdefault(self, entry: JournalEntry) -> JournalEntry:
        """Record ``entry`` unless its key has one; return the entry recorded under the key."""
        with self._lock:
            return self._entries.setdefault(entry.key, entry)

    def put(self, entry: JournalEntry) -> JournalEntry:
        """Record ``entry`` over its key's, unless that one is booked; return the recorded one."""
        with self._lock:
            current = self._entries.get(entry.key)
            if current is not None and current.state is JournalState.BOOKED:
                return current
            self._entries[entry.key] = entry
            return entry

    def pending(self) -> tuple[JournalEntry, ...]:
        """The ``pending`` entries, oldest first."""
        with self._lock:
            waiting = [e for e in self._entries.values() if e.state is JournalState.PENDING]
        return tuple(sorted(waiting, key=lambda e: (e.created_at, e.key)))


def booking_fingerprint(request: BookingRequest) -> str:
    """A stable digest of what the carrier is asked to book: ``"sha256:"`` and 64 hex digits.

    The digest is taken over the request in govpost's wire format (keys sorted), without the
    shipment's tracking state (tracking number, status, events and the corrected events they
    replaced, pickup and return times): the same shipment, read back later from the store or
    moved on by tracking, is the same booking; a changed recipient, weight, address or
    declared value is another.

    >>> from govpost.testing import sample_booking_request
    >>> one = booking_fingerprint(sample_booking_request("GZ-1"))
    >>> one == booking_fingerprint(sample_booking_request("GZ-1")), one[:7], len(one)
    (True, 'sha256:', 71)
    >>> one == booking_fingerprint(sample_booking_request("GZ-1", weight_g=260))
    False

    Raises:
        ValidationError: ``request`` is not a :class:`~govpost.carriers.BookingRequest`.

    .. versionadded:: 0.2.0
    """
    if not isinstance(request, BookingRequest):
        raise ValidationError(
            f"booking_fingerprint takes a BookingRequest, not {type(request).__name__}"
        )
    from govpost.serialization import to_primitive  # cattrs: only when a booking is made

    document: dict[str, Any] = to_primitive(request)
    shipment = dict(document["shipment"])
    for name in _TRACKING_STATE:
        shipment.pop(name, None)
    document["shipment"] = shipment
    text = json.dumps(document, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return "sha256:" + hashlib.sha256(text.encode("utf-8")).hexdigest()


def _refuse_other(entry: JournalEntry, carrier: str, fingerprint: str) -> None:
    if entry.carrier != carrier:
        raise ValidationError(
            f"order {entry.key} is already {entry.state.value} with carrier {entry.carrier!r}, "
            f"not {carrier!r}: finish it with {entry.carrier!r}, or cancel it there first and "
            f"book the shipment under a new order id"
        )
    if entry.fingerprint != fingerprint:
        raise ValidationError(
            f"order {entry.key} is already {entry.state.value} with other content "
            f"(fingerprint {entry.fingerprint[:19]}…, this request {fingerprint[:19]}…): the "
            f"carrier keys orders by id and would keep the first one. Book the changed "
            f"shipment under a new order id, or cancel order {entry.key} first (then book "
            f"under a new order id)"
        )


def book_once(
    carrier: BookingCarrier,
    request: BookingRequest,
    journal: BookingJournal,
    *,
    clock: Callable[[], datetime] = utc_now,
) -> Booking:
    """Book ``request`` with ``carrier`` exactly once, however often it is called.

    The attempt is recorded ``pending`` in ``journal`` (under the order id) before the carrier
    is called, and its outcome after. A ``booked`` order returns the recorded booking without
    calling the carrier. A ``pending`` order (a crash between request and answer, or a
    retryable failure) or a ``failed`` one is asked again with the same request, which the
    carrier answers with the order it has, if it has one ("duplicate order"): one order id, one
    waybill. Safe to call from several threads or processes sharing a journal.

    Args:
        carrier: the adapter; it must key orders by ``request.order_id`` (the carrier
            contract checks that booking an id twice gives one waybill).
        request: the booking; its order id is the idempotency key.
        journal: where attempts are recorded.
        clock: gives the current aware time, for the entry's timestamps.

    Returns:
        The booking: recorded, or just made.

    Raises:
        ValidationError: the order id is already recorded with other content or another
            carrier; nothing was sent. Book the changed shipment under a new order id, or
            cancel the order first.
        CarrierError: the carrier failed. ``retryable``: the entry stays ``pending``; call
            ``book_once`` again later. Otherwise the entry is ``failed`` with the error's code.

    .. versionadded:: 0.2.0
    """
    fingerprint = booking_fingerprint(request)
    key = request.order_id
    now = aware(clock(), "the journal clock's time")
    recorded = journal.setdefault(
        JournalEntry(
            key=key,
            carrier=carrier.name,
            fingerprint=fingerprint,
            state=JournalState.PENDING,
            created_at=now,
            updated_at=now,
        )
    )
    _refuse_other(recorded, carrier.name, fingerprint)
    if recorded.booking is not None:
        return recorded.booking
    entry = journal.put(
        attrs.evolve(
            recorded,
            state=JournalState.PENDING,
            attempts=recorded.attempts + 1,
            updated_at=now,
            error_code=None,
        )
    )
    if entry.booking is not None:  # booked meanwhile, by a concurrent attempt
        return entry.booking
    try:
        booking = carrier.book(request)
    except CarrierError as exc:
        code = exc.code or "carrier_error"
        state = JournalState.PENDING if exc.retryable else JournalState.FAILED
        journal.put(attrs.evolve(entry, state=state, error_code=code, updated_at=clock()))
        raise
    if not isinstance(booking, Booking) or booking.order_id != key:
        raise CarrierError(
            f"carrier {carrier.name!r} answered the booking of order {key} with "
            f"{booking!r}: a bug of the adapter; order {key} stays pending",
            code="invalid_booking",
        )
    stored = journal.put(
        attrs.evolve(
            entry, state=JournalState.BOOKED, booking=booking, error_code=None, updated_at=clock()
        )
    )
    assert stored.booking is not None  # put keeps or records a booked entry
    return stored.booking
