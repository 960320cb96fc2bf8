"""Verification of pushed tracking: HMAC signatures, a replay window, duplicate suppression.

A carrier that pushes tracking to an HTTP endpoint of ours signs each request. The generic
scheme govpost implements (used by the sandbox carrier and offered to adapter authors) is an
HMAC-SHA256 over the timestamp and the raw body, sent in two headers::

    X-Govpost-Timestamp: 1717380000
    X-Govpost-Signature: v1=<hex HMAC-SHA256(secret, b"1717380000." + body)>

:class:`WebhookVerifier` accepts a request only when the signature matches (compared in
constant time) and the timestamp lies within the replay window; anything else raises
:class:`~govpost.errors.WebhookVerificationError` and reads nothing::

    >>> body = b'{"events": []}'
    >>> headers = sign_request("s3cret", body, timestamp=1717380000)
    >>> verifier = WebhookVerifier("s3cret", clock=lambda: 1717380100.0)
    >>> verifier.verify(body, headers)
    >>> verifier.verify(body + b" ", headers)
    Traceback (most recent call last):
    ...
    govpost.errors.WebhookVerificationError: refused push: the signature does not match ...

EMS seals its pushes differently (the envelope must decrypt under our signKey and carry it):
:meth:`govpost.carriers.ems.EmsCarrier.parse_push` verifies those. Either way,
:class:`PushInbox` then drops messages and events already received, so a carrier's retries
and duplicates cost nothing.

.. versionadded:: 0.1.0
"""

from __future__ import annotations

import hashlib
import hmac
import time
from collections import OrderedDict
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING

from govpost.errors import ValidationError, WebhookVerificationError

if TYPE_CHECKING:
    from govpost.carriers._model import PushCarrier
    from govpost.shipments import TrackingEvent

__all__ = [
    "SIGNATURE_HEADER",
    "TIMESTAMP_HEADER",
    "PushInbox",
    "WebhookVerifier",
    "sign_request",
    "signature",
]

SIGNATURE_HEADER = "X-Govpost-Signature"
TIMESTAMP_HEADER = "X-Govpost-Timestamp"
_SCHEME = "v1="


def _secret(value: object) -> bytes:
    if isinstance(value, str) and value:
        return value.encode("utf-8")
    if isinstance(value, bytes) and value:
        return value
    raise ValidationError("the webhook secret must be a non-empty str or bytes")


def signature(secret: str | bytes, timestamp: int, body: bytes) -> str:
    """The signature header value for ``body`` sent at ``timestamp`` (Unix seconds).

    >>> import hashlib, hmac
    >>> value = signature("s3cret", 1717380000, b"{}")
    >>> value == "v1=" + hmac.new(b"s3cret", b"1717380000.{}", hashlib.sha256).hexdigest()
    True

    .. versionadded:: 0.1.0
    """
    message = str(int(timestamp)).encode("ascii") + b"." + bytes(body)
    return _SCHEME + hmac.new(_secret(secret), message, hashlib.sha256).hexdigest()


def sign_request(secret: str | bytes, body: bytes, *, timestamp: int) -> dict[str, str]:
    """The headers that sign ``body``: for carriers, fakes and tests that push to us.

    .. versionadded:: 0.1.0
    """
    return {
        TIMESTAMP_HEADER: str(int(timestamp)),
        SIGNATURE_HEADER: signature(secret, timestamp, body),
    }


def _header(headers: Mapping[str, str], name: str) -> str | None:
    wanted = name.lower()
    return next((v for k, v in headers.items() if k.lower() == wanted), None)


class WebhookVerifier:
    """Checks the HMAC signature and the timestamp of pushed requests.

    Args:
        secret: the shared secret; never shown in ``repr`` or messages.
        tolerance: the replay window: the most seconds a timestamp may differ from now.
        clock: gives the current Unix time (tests pass a fixed clock).

    .. versionadded:: 0.1.0
    """

    def __init__(
        self,
        secret: str | bytes,
        *,
        tolerance: float = 300.0,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._secret = _secret(secret)
        if isinstance(tolerance, bool) or not isinstance(tolerance, int | float) or tolerance <= 0:
            raise ValidationError(f"tolerance {tolerance!r} must be a positive number of seconds")
        self.tolerance = float(tolerance)
        self._clock = clock

    def __repr__(self) -> str:
        return f"<WebhookVerifier secret='***' tolerance={self.tolerance:g}s>"

    def verify(self, body: bytes, headers: Mapping[str, str]) -> None:
        """Accept the request, or raise.

        Raises:
            WebhookVerificationError: a missing or malformed header, a timestamp outside the
                replay window, or a signature that does not match the body.
        """
        if not isinstance(body, bytes | bytearray):
            raise WebhookVerificationError(
                f"refused push: the body must be the raw request bytes, not {type(body).__name__}"
            )
        stamp = _header(headers, TIMESTAMP_HEADER)
        given = _header(headers, SIGNATURE_HEADER)
        if stamp is None or given is None:
            raise WebhookVerificationError(
                f"refused push: the {TIMESTAMP_HEADER} and {SIGNATURE_HEADER} headers are required"
            )
        if not stamp.isdigit() or len(stamp) > 12:
            raise WebhookVerificationError(
                f"refused push: {TIMESTAMP_HEADER} {stamp[:20]!r} is not Unix seconds"
            )
        age = self._clock() - int(stamp)
        if abs(age) > self.tolerance:
            raise WebhookVerificationError(
                f"refused push: its timestamp is {abs(age):.0f} s {'old' if age > 0 else 'ahead'}, "
                f"outside the replay window of {self.tolerance:g} s; check the sender's clock"
            )
        expected = signature(self._secret, int(stamp), bytes(body))
        if not hmac.compare_digest(expected.encode("ascii"), given.encode("utf-8", "replace")):
            raise WebhookVerificationError(
                "refused push: the signature does not match the body (altered, or signed with "
                "another secret)"
            )


class PushInbox:
    """Receives pushes through a carrier's verification, dropping what was already received.

    A message whose id was seen is ignored whole; otherwise only events whose ``event_id``
    was not seen are returned. Ids are remembered after verification succeeds, so a refused
    push changes nothing. Memory is bounded: the oldest ids are forgotten beyond ``capacity``
    (applying an event twice is harmless anyway: :meth:`~govpost.shipments.Shipment.apply` is
    idempotent).

    Args:
        carrier: an adapter declaring the ``PUSH`` capability.
        capacity: how many message ids and event ids to remember.

    >>> from govpost.carriers.sandbox import SandboxCarrier
    >>> from govpost.testing import sample_booking_request
    >>> sandbox = SandboxCarrier(seed=1)
    >>> booking = sandbox.book(sample_booking_request("GZ-1"))
    >>> body, headers = sandbox.push(booking.tracking_number)
    >>> inbox = PushInbox(sandbox)
    >>> len(inbox.receive(body, headers)) > 0, inbox.receive(body, headers)
    (True, ())

    .. versionadded:: 0.1.0
    """

    def __init__(self, carrier: PushCarrier, *, capacity: int = 100_000) -> None:
        if isinstance(capacity, bool) or not isinstance(capacity, int) or capacity < 1:
            raise ValidationError(f"capacity {capacity!r} must be a positive int")
        self.carrier = carrier
        self.capacity = capacity
        self._messages: OrderedDict[str, None] = OrderedDict()
        self._events: OrderedDict[str, None] = OrderedDict()

    def _remember(self, seen: OrderedDict[str, None], key: str) -> None:
        seen[key] = None
        if len(seen) > self.capacity:
            seen.popitem(last=False)

    def receive(self, body: bytes, headers: Mapping[str, str]) -> tuple[TrackingEvent, ...]:
        """Verify one pushed request and return the events not received before.

        Raises:
            WebhookVerificationError: verification failed; nothing is remembered.
            CarrierError: verified but malformed; nothing is remembered.
        """
        message = self.carrier.parse_push(body, headers)
        if message.message_id is not None and message.message_id in self._messages:
            return ()
        fresh: list[TrackingEvent] = []
        for event in message.events:
            if event.event_id not in self._events:
                fresh.append(event)
                self._remember(self._events, event.event_id)
        if message.message_id is not None:
            self._remember(self._messages, message.message_id)
        return tuple(fresh)
