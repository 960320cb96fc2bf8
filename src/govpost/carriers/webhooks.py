"""Pushed tracking: HMAC signatures with secret rotation, and an inbox that hands events over safely.

**Signatures.** A carrier that pushes tracking to an HTTP endpoint of ours signs each request.
The generic scheme govpost implements (used by the sandbox carrier and offered to adapter
authors) is an HMAC-SHA256 over the timestamp and the raw body, sent in two headers::

    X-Govpost-Timestamp: 1717380000
    X-Govpost-Signature: v1=<hex HMAC-SHA256(secret, b"1717380000." + body)>

The signature header may carry several signatures, separated by commas or spaces
(``v1=...,v1=...``): one per secret the sender holds while a secret is being rotated.
:class:`WebhookVerifier` accepts a request when any one signature matches under any of its
secrets (compared in constant time), the timestamp lies within the replay window and the body
within :data:`MAX_PUSH_BYTES`; anything else raises
:class:`~govpost.errors.WebhookVerificationError` and reads nothing::

    >>> body = b'{"events": []}'
    >>> headers = sign_request("s3cret", body, timestamp=1717380000)
    >>> verifier = WebhookVerifier("s3cret", clock=lambda: 1717380100.0)
    >>> verifier.verify(body, headers)
    >>> verifier.verify(body + b" ", headers)
    Traceback (most recent call last):
    ...
    govpost.errors.WebhookVerificationError: refused push: the signature does not match the body ...

**Rotating a secret** loses no push: (1) give the verifier both secrets, the new one first,
``WebhookVerifier(["new", "old"])``; (2) switch the sender to the new secret (or let it sign
with both, ``sign_request(["new", "old"], ...)``); (3) once no push signed with the old secret
only can still arrive — a carrier re-signs each redelivery when it sends it, so after the
replay window (``tolerance``) has passed since the switch — remove the old secret::

    >>> both = WebhookVerifier(["n3w", "s3cret"], clock=lambda: 1717380100.0)
    >>> both.verify(body, headers)  # still signed with the old secret: accepted
    >>> both.verify(body, sign_request("n3w", body, timestamp=1717380000))

EMS seals its pushes differently (an SM4-ECB envelope under our signKey,
:meth:`govpost.carriers.ems.EmsCarrier.parse_push`) and that envelope has **no integrity**:
whole blocks of genuine pushes can be rearranged into a push that decrypts correctly. Adapters
therefore declare whether their pushes are authenticated (``pushes_authenticated``, see
:class:`~govpost.carriers.PushCarrier`), and :class:`PushInbox` treats the pushes of an adapter
that does not declare it as claims to be confirmed.

**The inbox.** :class:`PushInbox` receives pushes through the carrier's verification and hands
over each event at least once and, once handled, never again:

- only events not handled before come out; they are remembered when the application's
  ``with inbox.receiving(...)`` block finishes without an exception, never on receipt, so a
  push whose handling failed yields the same events when the carrier delivers it again;
- from a carrier whose pushes are not authenticated, a terminal status (:data:`TERMINAL_STATUSES`),
  the start of a return (``RETURNING``, which turns a later delivery scan into the return's
  end), a revocation, or a new version of an event already handled (a correction) comes out
  only once the carrier's own tracking query shows the same event; otherwise it is withheld,
  logged (logger ``govpost.carriers``) and counted as a suspected forgery. Ids of
  unauthenticated messages (EMS ``serialNo``) are never trusted to skip events;
- an event is handled once per version: the carrier re-sending an event under the same id with
  corrected content comes out again, as the correction it is
  (:meth:`~govpost.shipments.Shipment.apply` keeps it, the latest winning);
- an event older than ``max_age`` (default 30 days) or more than ``max_ahead`` in the future is
  withheld and logged: a genuine push repeats old events only as history already received,
  while a replayed or rearranged one brings them to rewrite that history.

**What the endpoint answers**, so that the carrier redelivers exactly when it should:

- verified and handled — including a push with nothing new, or with events withheld: **200**;
- verification failed (:class:`~govpost.errors.WebhookVerificationError`: bad or missing
  signature, outside the replay window, too large, not sealed under our key): **401**;
- the tracking query confirming a terminal status failed with a retryable
  :class:`~govpost.errors.CarrierError`: **503**, so the carrier delivers the push again;
- the handler or the storage failed, or anything else went wrong: **500**; nothing was
  remembered, so the redelivery yields the same events.

A refused push is answered 401 rather than 200: a forger learns nothing from the status, while
a genuine carrier refused because of a configuration error (an unrotated secret, a clock far
off) sees the failures and — carriers retry every non-2xx answer on their own schedule —
delivers the pushes again once the configuration is fixed; a 200 would drop them silently. A
withheld event is answered 200: the carrier's own tracking was consulted and did not show it;
if it is genuine and the tracking lagged, the next push of the waybill, a redelivery or the
scheduled tracking poll brings it (withheld events are not remembered, so they are checked
again each time).

Two deliveries of the same push at the same moment may both yield the same events (neither is
remembered before its handler finishes): handle events idempotently
(:meth:`~govpost.shipments.Shipment.apply` is, and so is a store keyed by event id, which
remembers the ids in the same transaction as the events).

.. versionadded:: 0.1.0
.. versionchanged:: 0.2.0
   Several secrets and several signatures per request; a body limit; ASCII-only timestamps;
   :meth:`PushInbox.receiving` (ids remembered after handling); confirmation of terminal
   statuses, returns and corrections from unauthenticated pushes; the event age window;
   pluggable :class:`SeenIds`; events remembered by version, so that corrections come out.
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import json
import re
import threading
import time
from collections import OrderedDict, deque
from collections.abc import Callable, Collection, Iterator, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Literal, Protocol, TypeAlias

import attrs

from govpost._fields import short
from govpost._limits import ascii_digits
from govpost.carriers._model import (
    Capability,
    PushCarrier,
    TrackingCarrier,
    pushes_authenticated,
    utc_now,
)
from govpost.errors import CarrierError, ValidationError, WebhookVerificationError
from govpost.privacy import _logger
from govpost.shipments import ShipmentStatus, TrackingEvent  # run time: WithheldEvent's wire

if TYPE_CHECKING:
    from govpost.identifiers import TrackingNumber

__all__ = [
    "MAX_PUSH_BYTES",
    "SIGNATURE_HEADER",
    "TERMINAL_STATUSES",
    "TIMESTAMP_HEADER",
    "MemorySeenIds",
    "PushInbox",
    "SeenIds",
    "WebhookVerifier",
    "WithheldEvent",
    "sign_request",
    "signature",
]

SIGNATURE_HEADER = "X-Govpost-Signature"
TIMESTAMP_HEADER = "X-Govpost-Timestamp"

#: The largest push body accepted by default (1 MiB): far above any genuine push (an EMS push
#: of one trace is under 2 KiB), and refused before it is verified, decrypted or parsed.
#:
#: .. versionadded:: 0.2.0
MAX_PUSH_BYTES = 1 << 20

#: Statuses after which a shipment's life is over. From a carrier whose pushes are not
#: authenticated, :class:`PushInbox` hands them over only once the carrier's tracking confirms.
#:
#: .. versionadded:: 0.2.0
TERMINAL_STATUSES: frozenset[ShipmentStatus] = frozenset(
    {
        ShipmentStatus.DELIVERED,
        ShipmentStatus.RETURNED,
        ShipmentStatus.REFUSED,
        ShipmentStatus.CANCELLED,
    }
)

#: Statuses that, pushed without authentication, wait for the carrier's tracking: the terminal
#: ones, and RETURNING, because a shipment on its way back reads the next delivery scan as
#: RETURNED — a forged return scan would turn a genuine delivery into a return.
_CONFIRMED_STATUSES: frozenset[ShipmentStatus] = TERMINAL_STATUSES | {ShipmentStatus.RETURNING}

#: A secret, or several (the current one first, while rotating).
Secrets: TypeAlias = str | bytes | Sequence[str | bytes]

_SCHEME = "v1="
_MAX_SIGNATURE_HEADER = 4096
_SEPARATORS = re.compile(r"[\s,]+")
_HEX64 = re.compile(r"[0-9a-f]{64}")
_LOG = _logger("govpost.carriers")  # scrubbed: privacy.ScrubbingFilter


def _secrets(value: object) -> tuple[bytes, ...]:
    items = [value] if isinstance(value, str | bytes) else value
    if not isinstance(items, Sequence) or not items:
        raise ValidationError(
            "the webhook secret must be a non-empty str or bytes, or a non-empty list of them "
            "(the current secret first)"
        )
    secrets: list[bytes] = []
    for item in items:
        if isinstance(item, str) and item:
            secrets.append(item.encode("utf-8"))
        elif isinstance(item, bytes) and item:
            secrets.append(item)
        else:
            raise ValidationError(
                f"a webhook secret of type {type(item).__name__} is not a non-empty str or bytes"
            )
    return tuple(secrets)


def _positive_int(value: object, what: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValidationError(f"{what} {value!r} must be a positive int")
    return value


def _digest(secret: bytes, timestamp: int, body: bytes) -> str:
    message = str(timestamp).encode("ascii") + b"." + body
    return hmac.new(secret, message, hashlib.sha256).hexdigest()


def signature(secret: Secrets, timestamp: int, body: bytes) -> str:
    """The signature header value for ``body`` sent at ``timestamp`` (Unix seconds).

    With several secrets the value holds one signature per secret, comma-separated.

    >>> import hashlib, hmac
    >>> value = signature("s3cret", 1717380000, b"{}")
    >>> value == "v1=" + hmac.new(b"s3cret", b"1717380000.{}", hashlib.sha256).hexdigest()
    True
    >>> signature(["new", "old"], 1717380000, b"{}").count("v1=")
    2

    .. versionadded:: 0.1.0
    .. versionchanged:: 0.2.0
       ``secret`` may be a list of secrets.
    """
    stamp = int(timestamp)
    return ",".join(_SCHEME + _digest(s, stamp, bytes(body)) for s in _secrets(secret))


def sign_request(secret: Secrets, body: bytes, *, timestamp: int) -> dict[str, str]:
    """The headers that sign ``body``: for carriers, fakes and tests that push to us.

    >>> sorted(sign_request("s3cret", b"{}", timestamp=1717380000))
    ['X-Govpost-Signature', 'X-Govpost-Timestamp']

    .. versionadded:: 0.1.0
    .. versionchanged:: 0.2.0
       ``secret`` may be a list of secrets: the request then carries one signature per secret.
    """
    return {
        TIMESTAMP_HEADER: str(int(timestamp)),
        SIGNATURE_HEADER: signature(secret, timestamp, body),
    }


def _header(headers: Mapping[str, str], name: str) -> str | None:
    wanted = name.lower()
    for key, value in headers.items():
        if isinstance(key, str) and key.lower() == wanted:
            if not isinstance(value, str):
                raise WebhookVerificationError(
                    f"refused push: header {name} is a {type(value).__name__}, not text"
                )
            return value
    return None


def _check_size(body: object, limit: int) -> bytes:
    if not isinstance(body, bytes | bytearray):
        raise WebhookVerificationError(
            f"refused push: the body must be the raw request bytes, not {type(body).__name__}"
        )
    if len(body) > limit:
        raise WebhookVerificationError(
            f"refused push: its body is {len(body):,} bytes, above the limit of {limit:,}; "
            f"raise the limit (max_body) only if the carrier really sends pushes that large"
        )
    return bytes(body)


class WebhookVerifier:
    """Checks the HMAC signatures, the timestamp and the size of pushed requests.

    Args:
        secret: the shared secret, or several (the current one first) while one is rotated;
            never shown in ``repr`` or messages.
        tolerance: the replay window: the most seconds a timestamp may differ from now.
        clock: gives the current Unix time (tests pass a fixed clock).
        max_body: the largest body accepted, in bytes; a larger one is refused unread.

    Raises:
        ValidationError: no secret, an empty one, or a bad tolerance or limit.

    .. versionadded:: 0.1.0
    .. versionchanged:: 0.2.0
       Several secrets, several signatures per request, and ``max_body``.
    """

    def __init__(
        self,
        secret: Secrets,
        *,
        tolerance: float = 300.0,
        clock: Callable[[], float] = time.time,
        max_body: int = MAX_PUSH_BYTES,
    ) -> None:
        self._secrets = _secrets(secret)
        if isinstance(tolerance, bool) or not isinstance(tolerance, int | float) or tolerance <= 0:
            raise ValidationError(f"tolerance {tolerance!r} must be a positive number of seconds")
        self.tolerance = float(tolerance)
        self.max_body = _positive_int(max_body, "max_body")
        self._clock = clock

    def __repr__(self) -> str:
        return (
            f"<WebhookVerifier secrets={len(self._secrets)} (hidden) "
            f"tolerance={self.tolerance:g}s max_body={self.max_body}>"
        )

    def verify(self, body: bytes, headers: Mapping[str, str]) -> None:
        """Accept the request, or raise.

        Args:
            body: the raw request body, exactly as received.
            headers: the request headers (names in any case).

        Raises:
            WebhookVerificationError: a body that is not bytes or is too large, a missing or
                malformed header, a timestamp outside the replay window, or no signature that
                matches the body under any secret.
        """
        raw = _check_size(body, self.max_body)
        stamp = _header(headers, TIMESTAMP_HEADER)
        given = _header(headers, SIGNATURE_HEADER)
        if stamp is None or given is None:
            raise WebhookVerificationError(
                f"refused push: the {TIMESTAMP_HEADER} and {SIGNATURE_HEADER} headers are required"
            )
        if not ascii_digits(stamp) or len(stamp) > 12:
            raise WebhookVerificationError(
                f"refused push: {TIMESTAMP_HEADER} {short(stamp, 24)} is not Unix seconds "
                f"(ASCII digits only)"
            )
        if len(given) > _MAX_SIGNATURE_HEADER:
            raise WebhookVerificationError(
                f"refused push: {SIGNATURE_HEADER} is {len(given):,} characters long, more than "
                f"the {_MAX_SIGNATURE_HEADER:,} any set of signatures needs"
            )
        candidates = [
            part[len(_SCHEME) :].encode("utf-8", "replace")
            for part in _SEPARATORS.split(given)
            if part.startswith(_SCHEME)
        ]
        if not candidates:
            raise WebhookVerificationError(
                f"refused push: {SIGNATURE_HEADER} {short(given, 24)} holds no '{_SCHEME}' "
                f"signature; sign with govpost.carriers.webhooks.sign_request"
            )
        age = self._clock() - int(stamp)
        if abs(age) > self.tolerance:
            raise WebhookVerificationError(
                f"refused push: its timestamp is {abs(age):.0f} s {'old' if age > 0 else 'ahead'}, "
                f"outside the replay window of {self.tolerance:g} s; check the sender's clock"
            )
        matched = False
        for secret in self._secrets:
            expected = _digest(secret, int(stamp), raw).encode("ascii")
            for candidate in candidates:
                # Every comparison runs: the time taken does not depend on which one matched.
                matched |= hmac.compare_digest(expected, candidate)
        if not matched:
            raise WebhookVerificationError(
                f"refused push: the signature does not match the body under any of the "
                f"{len(self._secrets)} secret(s) configured (altered, or signed with another "
                f"secret; when rotating a secret, give the verifier both)"
            )


# --- remembering what was handled ----------------------------------------------------------------


class SeenIds(Protocol):
    """Where :class:`PushInbox` remembers the ids of messages and events already handled.

    Keys are opaque strings: one per version of an event handled
    (``"event:<carrier>:<event id>#<digest of its content>"``), one per event id too where
    pushes are confirmed (``"event-id:<carrier>:<event id>"``), and one per message of a carrier
    whose pushes are authenticated (``"message:<carrier>:<id>"``). :class:`MemorySeenIds` keeps
    them in memory; a store keeps them in the database, written in the same transaction as the
    events, so that what is remembered was also stored.

    .. versionadded:: 0.2.0
    """

    def seen(self, keys: Collection[str]) -> Collection[str]:
        """The keys among ``keys`` already remembered (one lookup for a whole push)."""
        ...

    def remember(self, keys: Collection[str]) -> None:
        """Remember ``keys``: called only after the events were handled."""
        ...


class MemorySeenIds:
    """The ids of the last ``capacity`` handled messages and events, in memory; thread-safe.

    Beyond ``capacity`` the oldest are forgotten: an event forgotten and pushed again comes
    out again, which is harmless because applying an event twice changes nothing.

    >>> memory = MemorySeenIds(capacity=2)
    >>> memory.remember(["a", "b", "c"])
    >>> sorted(memory.seen(["a", "b", "c"])), len(memory)
    (['b', 'c'], 2)

    .. versionadded:: 0.2.0
    """

    def __init__(self, capacity: int = 100_000) -> None:
        self.capacity = _positive_int(capacity, "capacity")
        self._keys: OrderedDict[str, None] = OrderedDict()
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        return f"<MemorySeenIds {len(self)}/{self.capacity}>"

    def __len__(self) -> int:
        return len(self._keys)

    def seen(self, keys: Collection[str]) -> frozenset[str]:
        """The keys among ``keys`` remembered."""
        with self._lock:
            return frozenset(key for key in keys if key in self._keys)

    def remember(self, keys: Collection[str]) -> None:
        """Remember ``keys`` as the newest, forgetting the oldest beyond ``capacity``."""
        with self._lock:
            for key in keys:
                self._keys[key] = None
                self._keys.move_to_end(key)
            while len(self._keys) > self.capacity:
                self._keys.popitem(last=False)


# --- the inbox -----------------------------------------------------------------------------------

WithheldReason: TypeAlias = Literal["unconfirmed", "stale", "ahead"]


@attrs.frozen(kw_only=True)
class WithheldEvent:
    """A pushed event :class:`PushInbox` did not hand over, and why.

    Args:
        event: the event as pushed (a claim, not a fact).
        reason: ``"unconfirmed"``: a terminal status, return, revocation or correction from
            unauthenticated pushes that the carrier's tracking did not show (a suspected
            forgery); ``"stale"``: older than the inbox's ``max_age``; ``"ahead"``: further in
            the future than ``max_ahead``.
        detail: what was checked, for the log.

    .. versionadded:: 0.2.0
    """

    event: TrackingEvent
    reason: WithheldReason
    detail: str


@attrs.frozen
class _Delivery:
    events: tuple[TrackingEvent, ...]
    keys: tuple[str, ...]


def _id_key(carrier: str, event: TrackingEvent) -> str:
    # Not "event:": no id key may equal a version key, whatever an event id holds ("#").
    return f"event-id:{carrier}:{event.event_id}"


def _version_key(carrier: str, event: TrackingEvent) -> str:
    """The key of one version of an event: its id, and a digest of all its content."""
    parts = []
    for field in attrs.fields(TrackingEvent):
        value = getattr(event, field.name)
        if isinstance(value, datetime):  # the instant: equal times in other offsets are equal
            value = value.astimezone(UTC).isoformat()
        elif isinstance(value, ShipmentStatus):
            value = value.value
        parts.append(None if value is None else str(value))
    digest = hashlib.sha256(json.dumps(parts).encode("ascii"))
    return f"event:{carrier}:{event.event_id}#{digest.hexdigest()[:32]}"


def _same_event(pushed: TrackingEvent, tracked: TrackingEvent) -> bool:
    if pushed.tracking_number != tracked.tracking_number:
        return False
    if pushed.event_id == tracked.event_id:
        return True
    return (
        pushed.status is tracked.status
        and pushed.occurred_at == tracked.occurred_at
        and (pushed.revokes is None) == (tracked.revokes is None)
    )


def _span(value: timedelta) -> str:
    seconds = int(value.total_seconds())
    for unit, size in (("days", 86_400), ("h", 3_600), ("min", 60)):
        if seconds and seconds % size == 0:
            return f"{seconds // size} {unit}"
    return f"{seconds} s"


def _window(value: object, what: str) -> timedelta:
    if not isinstance(value, timedelta) or value < timedelta(0):
        raise ValidationError(f"{what} {value!r} must be a timedelta of zero or more")
    return value


class PushInbox:
    """Receives pushes: verified, bounded, deduplicated, acknowledged after handling.

    Use :meth:`receiving` in the endpoint, so that ids are remembered only once the events are
    handled; :meth:`receive` is the short form for handlers that cannot fail. See the module
    documentation for the HTTP status to answer in each case.

    Args:
        carrier: an adapter declaring the ``PUSH`` capability.
        seen: where handled ids are remembered (default: :class:`MemorySeenIds`).
        capacity: the capacity of the default :class:`MemorySeenIds`; not with ``seen``.
        confirm_terminal: whether a terminal status, a return (``RETURNING``), a revocation
            or a correction of an event already handled needs the carrier's tracking to
            confirm it before it comes out. ``None`` (default): exactly when the
            carrier does not declare ``pushes_authenticated = True``. ``True`` forces it (the
            carrier must declare ``TRACK``); ``False`` turns it off, for tests without a
            carrier server.
        max_age: pushed events older than this are withheld (default 30 days); ``None``: no
            limit.
        max_ahead: pushed events further in the future than this are withheld (default 1 h).
        clock: gives the current aware time for the age window; default: the carrier's
            ``clock`` if it has one, else the system clock.
        max_body: the largest push body accepted, in bytes; a larger one is refused unread.

    Attributes:
        seen: the memory of handled ids.
        authenticated: whether the carrier declares its pushes authenticated.
        confirms_terminal: whether terminal statuses, returns, revocations and corrections
            wait for the tracking.

    Raises:
        ValidationError: a bad limit, or confirmation needed from a carrier that cannot track.

    >>> from datetime import datetime, timezone
    >>> from govpost.carriers.sandbox import SandboxCarrier
    >>> from govpost.testing import sample_booking_request
    >>> sandbox = SandboxCarrier(seed=1, clock=lambda: datetime(2024, 6, 30, tzinfo=timezone.utc))
    >>> booking = sandbox.book(sample_booking_request("GZ-1"))
    >>> body, headers = sandbox.push(booking.tracking_number)
    >>> inbox = PushInbox(sandbox)
    >>> with inbox.receiving(body, headers) as events:
    ...     print(len(events), "new events;", events[-1].status.name)
    6 new events; DELIVERED
    >>> inbox.receive(body, headers)
    ()

    .. versionadded:: 0.1.0
    .. versionchanged:: 0.2.0
       :meth:`receiving`, ``seen``, ``confirm_terminal``, ``max_age``, ``max_ahead``,
       ``clock`` and ``max_body``; ids are remembered after handling, not on receipt.
    """

    #: How many recent withheld events :attr:`withheld_events` keeps.
    KEEP_WITHHELD = 1000

    def __init__(
        self,
        carrier: PushCarrier,
        *,
        seen: SeenIds | None = None,
        capacity: int | None = None,
        confirm_terminal: bool | None = None,
        max_age: timedelta | None = timedelta(days=30),
        max_ahead: timedelta = timedelta(hours=1),
        clock: Callable[[], datetime] | None = None,
        max_body: int = MAX_PUSH_BYTES,
    ) -> None:
        if seen is not None and capacity is not None:
            raise ValidationError(
                "pass either seen= or capacity=, not both: give the capacity to the SeenIds "
                "you pass"
            )
        self.seen: SeenIds = (
            seen if seen is not None else MemorySeenIds(100_000 if capacity is None else capacity)
        )
        if not callable(getattr(carrier, "parse_push", None)) or not isinstance(
            getattr(carrier, "capabilities", None), frozenset
        ):
            raise ValidationError(
                f"PushInbox needs a carrier adapter with pushes (parse_push), not "
                f"{type(carrier).__name__}: pass one such as govpost.carriers.load('ems', ...)"
            )
        self.carrier = carrier
        self.authenticated = pushes_authenticated(carrier)
        if confirm_terminal is not None and not isinstance(confirm_terminal, bool):
            raise ValidationError(f"confirm_terminal {confirm_terminal!r} must be None or a bool")
        self.confirms_terminal = (
            not self.authenticated if confirm_terminal is None else confirm_terminal
        )
        self._tracker: TrackingCarrier | None = None
        if self.confirms_terminal:
            if Capability.TRACK not in carrier.capabilities:
                why = (
                    "its pushes are not authenticated (it does not declare "
                    "pushes_authenticated = True)"
                    if confirm_terminal is None
                    else "confirm_terminal=True"
                )
                raise ValidationError(
                    f"carrier {carrier.name!r} cannot confirm pushed terminal statuses: {why}, "
                    f"but it does not declare the TRACK capability. Use a carrier that tracks, "
                    f"or pass confirm_terminal=False to accept them unconfirmed (tests only)"
                )
            self._tracker = carrier  # type: ignore[assignment]  # TRACK is declared
        self.max_age = None if max_age is None else _window(max_age, "max_age")
        self.max_ahead = _window(max_ahead, "max_ahead")
        own_clock = getattr(carrier, "clock", None)
        self._clock: Callable[[], datetime] = (
            clock if clock is not None else own_clock if callable(own_clock) else utc_now
        )
        self.max_body = _positive_int(max_body, "max_body")
        self._withheld = 0
        self._recent: deque[WithheldEvent] = deque(maxlen=self.KEEP_WITHHELD)
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        return (
            f"<PushInbox carrier={self.carrier.name!r} confirms_terminal={self.confirms_terminal} "
            f"withheld={self.withheld}>"
        )

    @property
    def withheld(self) -> int:
        """How many pushed events were withheld so far (each delivery counted)."""
        return self._withheld

    @property
    def withheld_events(self) -> tuple[WithheldEvent, ...]:
        """The most recent withheld events (up to :attr:`KEEP_WITHHELD`), oldest first."""
        with self._lock:
            return tuple(self._recent)

    @contextlib.contextmanager
    def receiving(
        self, body: bytes, headers: Mapping[str, str]
    ) -> Iterator[tuple[TrackingEvent, ...]]:
        """Verify one pushed request and yield the events not handled before.

        Their ids are remembered when the ``with`` block finishes without an exception; if it
        raises, nothing is remembered and the carrier's redelivery yields the same events::

            with inbox.receiving(body, headers) as events:
                store.apply(events)  # raises? answer 500: the carrier delivers it again

        Raises:
            WebhookVerificationError: the push is too large or fails verification (answer
                401); nothing is remembered.
            CarrierError: the push is verified but malformed, or the tracking query that
                confirms a terminal status failed (``retryable``: answer 503, the carrier
                redelivers); nothing is remembered.
        """
        delivery = self._open(body, headers)
        yield delivery.events
        if delivery.keys:
            self.seen.remember(delivery.keys)

    def receive(self, body: bytes, headers: Mapping[str, str]) -> tuple[TrackingEvent, ...]:
        """Verify one pushed request, return the events not received before, remember them.

        The short form of :meth:`receiving` for a caller that has handled the events once it
        has them (an event lost by a crash after this returns is not delivered again).

        Raises:
            WebhookVerificationError: verification failed; nothing is remembered.
            CarrierError: as for :meth:`receiving`; nothing is remembered.
        """
        with self.receiving(body, headers) as events:
            return events

    # --- the steps -------------------------------------------------------------------------------

    def _open(self, body: bytes, headers: Mapping[str, str]) -> _Delivery:
        _check_size(body, self.max_body)
        message = self.carrier.parse_push(body, headers)
        name = self.carrier.name
        # An unauthenticated message id (EMS serialNo sits outside the sealed envelope) could
        # be replayed with other blocks: it must never make events look already handled.
        message_key = (
            f"message:{name}:{message.message_id}"
            if self.authenticated and message.message_id is not None
            else None
        )
        # Events are remembered by version (id and content): a carrier's correction, re-sent
        # under the same id, is not dropped as already handled. Where pushes are confirmed,
        # ids are remembered too: a new version of a handled id is a claim to correct it,
        # confirmed like a terminal status (else a forged correction could undo a delivery).
        versions: dict[str, TrackingEvent] = {}
        for event in message.events:
            versions.setdefault(_version_key(name, event), event)
        ids = dict.fromkeys(_id_key(name, event) for event in versions.values())
        lookup = [*versions, *(ids if self.confirms_terminal else ())]
        lookup += [message_key] if message_key else []
        known = set(self.seen.seen(lookup)) if lookup else set()
        if message_key is not None and message_key in known:
            return _Delivery((), ())
        fresh: dict[str, TrackingEvent] = {}
        chosen: set[str] = set()
        for key, event in versions.items():
            id_key = _id_key(name, event)
            if key not in known and id_key not in chosen:  # one version per id and push
                chosen.add(id_key)
                fresh[key] = event
        corrections = {key for key, event in fresh.items() if _id_key(name, event) in known}
        withheld: list[WithheldEvent] = []
        candidates = self._in_window(fresh, withheld)
        confirmed, unconfirmed = self._confirmed(candidates, withheld, corrections)
        # A confirmed event comes out as the carrier's tracked copy, whose id may differ from
        # the pushed one (matched by status and time): that copy may have been handled already,
        # or be confirmed twice by one push. Each version comes out once, and one version per
        # id: the carrier's copy over a pushed event of the same id.
        copies = [(key, event, _version_key(name, event)) for key, event in confirmed]
        unlooked = [copy for _, _, copy in copies if copy not in versions]
        handled = known | (set(self.seen.seen(unlooked)) if unlooked else set())
        passed: list[tuple[str, TrackingEvent, str]] = []
        for key, event, copy in copies:
            if key in corrections and copy in handled:
                # The tracking shows the version already handled, not the pushed correction:
                # withheld and not remembered, so that a redelivery is checked again.
                unconfirmed = True
                withheld.append(
                    WithheldEvent(
                        event=fresh[key],
                        reason="unconfirmed",
                        detail="a new version of an event already handled, which the "
                        "carrier's tracking does not show",
                    )
                )
            else:
                passed.append((key, event, copy))
        self._record(withheld)
        events: dict[str, TrackingEvent] = {}
        for key, event, copy in passed:
            if copy in handled:
                continue
            if event is fresh[key]:
                events.setdefault(event.event_id, event)
            else:
                events[event.event_id] = event
        keys = [key for key, _, _ in passed]
        keys += [copy for _, _, copy in passed]
        if self.confirms_terminal:
            keys += [_id_key(name, event) for _, event, _ in passed]
            keys += [_id_key(name, fresh[key]) for key, _, _ in passed]
        if message_key is not None and not unconfirmed:
            keys.append(message_key)
        return _Delivery(tuple(events.values()), tuple(dict.fromkeys(keys)))

    def _in_window(
        self, fresh: Mapping[str, TrackingEvent], withheld: list[WithheldEvent]
    ) -> list[tuple[str, TrackingEvent]]:
        now = self._clock()
        if not isinstance(now, datetime) or now.utcoffset() is None:
            raise ValidationError(
                f"the inbox's clock gave {now!r}: it must give a timezone-aware datetime"
            )
        oldest = None if self.max_age is None else now - self.max_age
        latest = now + self.max_ahead
        kept: list[tuple[str, TrackingEvent]] = []
        for key, event in fresh.items():
            if oldest is not None and event.occurred_at < oldest:
                span = _span(now - oldest)
                withheld.append(
                    WithheldEvent(
                        event=event,
                        reason="stale",
                        detail=f"older than max_age={span} at {now.isoformat()}",
                    )
                )
            elif event.occurred_at > latest:
                span = _span(self.max_ahead)
                withheld.append(
                    WithheldEvent(
                        event=event,
                        reason="ahead",
                        detail=f"later than max_ahead={span} after {now.isoformat()}",
                    )
                )
            else:
                kept.append((key, event))
        return kept

    def _confirmed(
        self,
        candidates: list[tuple[str, TrackingEvent]],
        withheld: list[WithheldEvent],
        corrections: Collection[str],
    ) -> tuple[list[tuple[str, TrackingEvent]], bool]:
        """The events to hand over, and whether any was withheld as unconfirmed."""
        tracker = self._tracker
        if tracker is None:
            return candidates, False
        tracked: dict[TrackingNumber, tuple[TrackingEvent, ...] | CarrierError] = {}
        passed: list[tuple[str, TrackingEvent]] = []
        unconfirmed = False
        for key, event in candidates:
            if (
                event.status not in _CONFIRMED_STATUSES
                and event.revokes is None
                and key not in corrections
            ):
                passed.append((key, event))
                continue
            number = event.tracking_number
            if number not in tracked:
                try:
                    tracked[number] = tracker.track(number)
                except CarrierError as exc:
                    if exc.retryable:
                        raise  # not acknowledged: the carrier delivers the push again
                    tracked[number] = exc
            found = tracked[number]
            if isinstance(found, CarrierError):
                detail = f"the carrier's tracking refused the query ({found.code})"
                match = None
            else:
                match = next((t for t in found if _same_event(event, t)), None)
                detail = f"not among the {len(found)} event(s) the carrier's tracking shows"
            if match is None:
                unconfirmed = True
                withheld.append(WithheldEvent(event=event, reason="unconfirmed", detail=detail))
            else:
                # The carrier's own record is handed over: for a genuine push it is the pushed
                # event itself; details outside what was matched cannot be trusted otherwise.
                passed.append((key, match))
        return passed, unconfirmed

    def _record(self, withheld: list[WithheldEvent]) -> None:
        if not withheld:
            return
        with self._lock:
            self._withheld += len(withheld)
            self._recent.extend(withheld)
        for item in withheld:
            event = item.event
            what = "revocation" if event.revokes is not None else event.status.name
            suspicion = (
                "a suspected forgery: the carrier's pushes are not authenticated"
                if item.reason == "unconfirmed"
                else "outside the inbox's time window"
            )
            # _LOG carries privacy.ScrubbingFilter: the rendered message is scrubbed there.
            _LOG.warning(
                "withheld pushed event %s (%s of waybill %s at %s) from carrier %r: %s; %s",
                short(event.event_id, 80),
                what,
                event.tracking_number,
                event.occurred_at.isoformat(),
                self.carrier.name,
                item.detail,
                suspicion,
            )
