"""A complete small govpost carrier adapter, packaged outside govpost: ACME Express (fictional).

ACME's API takes form posts at ``{base_url}/v1/{operation}`` with an ``api_key`` field and
answers JSON ``{"ok": true, "data": ...}`` or ``{"ok": false, "error": {"code", "message"}}``.
It pushes tracking to us signed with govpost's generic HMAC scheme
(:mod:`govpost.carriers.webhooks`). The adapter declares three capabilities — quote, track,
push — and registers itself in ``pyproject.toml``::

    [project.entry-points."govpost.carriers"]
    acme = "acme_carrier:AcmeCarrier"

after which ``govpost.carriers.load("acme", base_url=..., api_key=..., webhook_secret=...)``
finds it. Each operation is a pure ``build_*`` / ``parse_*`` pair; only :class:`AcmeCarrier`
talks HTTP, through govpost's :class:`~govpost.carriers.transport.Transport`.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any

import requests

from govpost.carriers import Capability, PushMessage, Quote, QuoteRequest
from govpost.carriers.transport import Transport
from govpost.carriers.webhooks import WebhookVerifier
from govpost.errors import CarrierError, ValidationError, WebhookVerificationError
from govpost.identifiers import TrackingNumber
from govpost.money import Money
from govpost.privacy import scrub
from govpost.shipments import ShipmentStatus, TrackingEvent

__all__ = ["STATUSES", "AcmeCarrier", "build_quote", "build_track", "parse_quote", "parse_track"]


#: ACME's event codes and what they mean, as data.
STATUSES: Mapping[str, ShipmentStatus] = {
    "PICKUP": ShipmentStatus.PICKED_UP,
    "TRANSIT": ShipmentStatus.IN_TRANSIT,
    "OUT": ShipmentStatus.OUT_FOR_DELIVERY,
    "FAILED": ShipmentStatus.DELIVERY_FAILED,
    "DELIVERED": ShipmentStatus.DELIVERED,
    "RETURNED": ShipmentStatus.RETURNED,
}


# --- pure builders and parsers -------------------------------------------------------------------


def build_quote(request: QuoteRequest) -> tuple[str, dict[str, str]]:
    """The operation and form fields of a quote.

    >>> build_quote(QuoteRequest(origin="520102", destination="520302", weight_g=300))
    ('quote', {'from': '520102', 'to': '520302', 'grams': '300'})
    """
    return "quote", {
        "from": request.origin.code,
        "to": request.destination.code,
        "grams": str(request.weight_g),
    }


def build_track(tracking_number: TrackingNumber) -> tuple[str, dict[str, str]]:
    """The operation and form fields of a tracking query."""
    return "track", {"waybill": str(tracking_number)}


def _data(text: str) -> Any:
    try:
        document = json.loads(text, parse_float=Decimal)
    except ValueError:
        raise CarrierError(
            "ACME sent an answer that is not JSON",
            code="malformed_response",
            retryable=True,
            raw=text,
        ) from None
    if not isinstance(document, dict) or not isinstance(document.get("ok"), bool):
        raise CarrierError("ACME sent no 'ok' flag", code="malformed_response", raw=text)
    if not document["ok"]:
        error = document.get("error")
        if not isinstance(error, dict):
            error = {}
        code = str(error.get("code", "unknown"))
        # The carrier's message may quote what we sent: scrub it before showing it.
        message = scrub(str(error.get("message", "")))
        raise CarrierError(
            f"ACME refused the request: {code}: {message}",
            code=code,
            retryable=code == "busy",
            raw=text,
        )
    return document.get("data")


def parse_quote(text: str, request: QuoteRequest) -> Quote:
    """The quote in an ACME answer ``{"ok": true, "data": {"price": "12.80"}}``."""
    data = _data(text)
    # Check the shape instead of catching KeyError/TypeError: those would be bugs of ours.
    price = data.get("price") if isinstance(data, dict) else None
    try:
        amount = Decimal(price) if isinstance(price, str) else None
    except InvalidOperation:
        amount = None
    if amount is None or not amount.is_finite() or amount < 0:
        raise CarrierError("ACME sent no readable price", code="malformed_response", raw=text)
    return Quote(carrier="acme", amount=Money(amount), zone=request.zone, raw=text)


def _event(item: Any, raw: str) -> TrackingEvent:
    # Check the shape of what ACME sent; never catch KeyError or TypeError, which would turn a
    # bug of ours into a carrier message. The event itself is not shown: it may name people.
    if (
        not isinstance(item, dict)
        or not all(isinstance(item.get(key), str) for key in ("id", "waybill", "code", "at"))
        or item["code"] not in STATUSES
    ):
        raise CarrierError(
            "ACME sent an event without the strings 'id', 'waybill', 'at' and a known 'code'",
            code="malformed_response",
            raw=raw,
        )
    try:
        occurred_at = datetime.fromisoformat(item["at"])
    except ValueError:
        raise CarrierError(
            f"ACME sent the event time {item['at'][:40]!r}, not ISO 8601",
            code="malformed_response",
            raw=raw,
        ) from None
    place = item.get("place")
    try:
        return TrackingEvent(
            event_id=f"acme:{item['id']}",
            tracking_number=TrackingNumber(value=item["waybill"]),
            status=STATUSES[item["code"]],
            occurred_at=occurred_at,
            location=place if isinstance(place, str) else None,
            carrier_code=item["code"],
        )
    except ValidationError as exc:  # govpost refused one of the carrier's values
        raise CarrierError(
            f"ACME sent an unreadable event: {exc}", code="malformed_response", raw=raw
        ) from exc


def parse_track(text: str) -> tuple[TrackingEvent, ...]:
    """The events in an ACME answer ``{"ok": true, "data": [event, ...]}``."""
    data = _data(text)
    if not isinstance(data, list):
        raise CarrierError("ACME sent no event list", code="malformed_response", raw=text)
    return tuple(_event(item, text) for item in data)


# --- the adapter ---------------------------------------------------------------------------------


class AcmeCarrier:
    """ACME Express (registered as ``acme``): quote, track and verified pushes.

    Args:
        base_url: ACME's API root.
        api_key: the account key (never shown in ``repr``).
        webhook_secret: the secret ACME signs pushes with.
        session: an optional ``requests.Session``.
        timeout: seconds for every call.
    """

    name = "acme"
    capabilities = frozenset({Capability.QUOTE, Capability.TRACK, Capability.PUSH})
    #: ACME signs every push with an HMAC over its body: a verified push is unaltered.
    pushes_authenticated = True

    def __init__(
        self,
        *,
        base_url: str,
        api_key: str,
        webhook_secret: str,
        session: requests.Session | None = None,
        timeout: float = 10.0,
    ) -> None:
        if not base_url.startswith(("http://", "https://")) or not api_key:
            raise ValidationError("ACME needs an http(s) base_url and an api_key")
        self.base_url = base_url.rstrip("/")
        self._api_key = api_key
        self._verifier = WebhookVerifier(webhook_secret)
        self.transport = Transport(session, timeout=timeout, retries=2, backoff=0.05)

    def __repr__(self) -> str:
        return f"<AcmeCarrier {self.base_url} api_key='***'>"

    def close(self) -> None:
        """Release the HTTP connections."""
        self.transport.close()

    def _call(self, operation: str, form: dict[str, str]) -> str:
        # Quotes and tracking queries are idempotent: safe to retry.
        url = f"{self.base_url}/v1/{operation}"
        return self.transport.post_form(url, {**form, "api_key": self._api_key}, retry=True).text

    def quote(self, request: QuoteRequest) -> Quote:
        """The postage ACME asks for ``request``."""
        return parse_quote(self._call(*build_quote(request)), request)

    def track(self, tracking_number: TrackingNumber) -> tuple[TrackingEvent, ...]:
        """ACME's events for a waybill."""
        return parse_track(self._call(*build_track(tracking_number)))

    def parse_push(self, body: bytes, headers: Mapping[str, str]) -> PushMessage:
        """Verify (HMAC and replay window) and read a push ``{"id": ..., "events": [...]}``."""
        self._verifier.verify(body, headers)
        try:
            document = json.loads(body)
        except ValueError:
            raise WebhookVerificationError("refused push: signed, but not JSON") from None
        message_id = document.get("id") if isinstance(document, dict) else None
        events = document.get("events") if isinstance(document, dict) else None
        if not isinstance(message_id, str | int) or not isinstance(events, list):
            raise WebhookVerificationError("refused push: signed, but without 'id' and 'events'")
        raw = bytes(body).decode("utf-8", "replace")
        return PushMessage(
            message_id=str(message_id), events=tuple(_event(item, raw) for item in events)
        )
