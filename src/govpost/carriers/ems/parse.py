"""Pure parsers of EMS open-platform answers and pushes: wire text in, typed result out.

Every answer is ``{"retCode": ..., "retMsg": ..., "retBody": "<JSON text>", "serialNo": ...}``;
``retCode`` ``00000`` means success. Anything else becomes a
:class:`~govpost.errors.CarrierError` keeping the code, the message (mobile numbers masked) and
the raw answer; a malformed answer is a carrier error too, never a Python exception::

    >>> parse_track('{"retCode":"S00001","retMsg":"系统繁忙","retBody":null}')
    Traceback (most recent call last):
    ...
    govpost.errors.CarrierError: EMS refused 040001 (track query) with S00001: 系统繁忙

Timestamps (``opTime``) are read once into aware datetimes in Asia/Shanghai. Events get a
deterministic ``event_id`` from waybill, operation code, time and office, so the same event
read from a query and from a push is one event.

.. versionadded:: 0.1.0
"""

from __future__ import annotations

import json
import warnings
from collections.abc import Mapping
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any
from urllib.parse import parse_qsl
from zoneinfo import ZoneInfo

import attrs

from govpost.carriers._model import Booking, BookingRequest, PushMessage, Quote, QuoteRequest
from govpost.carriers.ems.build import (
    API_CANCEL,
    API_CREATE_ORDER,
    API_FREIGHT_ESTIMATE,
    API_TRACK_PUSH,
    API_TRACK_QUERY,
)
from govpost.carriers.ems.codes import (
    DUPLICATE_ORDER_CODES,
    OK,
    OP_CODES,
    RETRYABLE_PREFIXES,
    UnknownOpCodeWarning,
)
from govpost.carriers.ems.envelope import decode_envelope
from govpost.errors import CarrierError, ValidationError, WebhookVerificationError
from govpost.identifiers import TrackingNumber
from govpost.money import Money
from govpost.privacy import scrub as _scrub
from govpost.shipments import REVOKE_PREVIOUS, ShipmentStatus, TrackingEvent

__all__ = [
    "EmsReply",
    "parse_cancel",
    "parse_create_order",
    "parse_freight_estimate",
    "parse_push",
    "parse_reply",
    "parse_time",
    "parse_track",
]

_SHANGHAI = ZoneInfo("Asia/Shanghai")
_API_NAMES = {
    API_CREATE_ORDER: "create order",
    API_CANCEL: "cancel order",
    API_TRACK_QUERY: "track query",
    API_TRACK_PUSH: "track push",
    API_FREIGHT_ESTIMATE: "freight estimate",
}
_DUPLICATE_WORDS = ("重复", "已存在")
_STAMP = str.maketrans("", "", "-:T")
_CANCELLED_WORDS = ("已取消", "已撤销")


def _malformed(what: str, raw: object, *, retryable: bool = True) -> CarrierError:
    return CarrierError(
        f"EMS sent a malformed answer: {what}; keep the raw answer (CarrierError.raw) for "
        f"EMS support",
        code="malformed_response",
        retryable=retryable,
        raw=raw,
    )


def parse_time(text: object) -> datetime:
    """An EMS time (``YYYY-MM-DD HH:MM:SS``, Asia/Shanghai) as an aware datetime.

    Raises:
        ValidationError: not such a time.

    >>> parse_time("2024-06-03 10:15:00").isoformat()
    '2024-06-03T10:15:00+08:00'
    """
    if not isinstance(text, str) or not 10 <= len(text) <= 32:
        raise ValidationError(f"EMS time {text!r} is not 'YYYY-MM-DD HH:MM:SS'")
    try:
        value = datetime.fromisoformat(text)
    except ValueError:
        raise ValidationError(f"EMS time {text!r} is not 'YYYY-MM-DD HH:MM:SS'") from None
    return value.replace(tzinfo=_SHANGHAI) if value.tzinfo is None else value


@attrs.frozen(kw_only=True)
class EmsReply:
    """The common frame of an EMS answer, ``retBody`` already decoded from its JSON text."""

    api_code: str
    ret_code: str
    ret_msg: str = attrs.field(repr=lambda message: repr(_scrub(message)))
    body: Any = attrs.field(repr=False)
    serial_no: str | None
    raw: str = attrs.field(repr=False)

    @property
    def ok(self) -> bool:
        """Whether EMS accepted the request."""
        return self.ret_code == OK

    @property
    def is_duplicate_order(self) -> bool:
        """Whether EMS answered that the order id was already created."""
        return self.ret_code in DUPLICATE_ORDER_CODES or any(
            word in self.ret_msg for word in _DUPLICATE_WORDS
        )

    def error(self) -> CarrierError:
        """The :class:`~govpost.errors.CarrierError` for a refused request."""
        name = _API_NAMES.get(self.api_code, "call")
        return CarrierError(
            f"EMS refused {self.api_code} ({name}) with {self.ret_code}: {_scrub(self.ret_msg)}",
            code=self.ret_code,
            retryable=self.ret_code.startswith(RETRYABLE_PREFIXES),
            raw=self.raw,
        )


def parse_reply(text: str, api_code: str) -> EmsReply:
    """Read the frame of an EMS answer, whatever its ``retCode``.

    Raises:
        CarrierError: the answer is not a JSON object with a ``retCode``, or its ``retBody``
            is not JSON (code ``malformed_response``, retryable).

    .. versionadded:: 0.1.0
    """
    if not isinstance(text, str):
        raise ValidationError(
            f"parse_reply takes the answer's text (str), not {type(text).__name__}: pass "
            f"response.text"
        )
    try:
        document = json.loads(text)
    except ValueError:  # only the carrier's text can fail here, never our code
        raise _malformed("not JSON", text) from None
    if not isinstance(document, dict) or not isinstance(document.get("retCode"), str):
        raise _malformed("no 'retCode' string in a JSON object", text)
    body = document.get("retBody")
    if isinstance(body, str):
        if body.strip():
            try:
                body = json.loads(body, parse_float=Decimal)
            except ValueError:
                raise _malformed("'retBody' is not JSON text", text) from None
        else:
            body = None
    serial = document.get("serialNo")
    return EmsReply(
        api_code=api_code,
        ret_code=document["retCode"],
        ret_msg=str(document.get("retMsg") or ""),
        body=body,
        serial_no=serial if isinstance(serial, str) else None,
        raw=text,
    )


def _accepted(text: str, api_code: str) -> EmsReply:
    reply = parse_reply(text, api_code)
    if not reply.ok:
        raise reply.error()
    return reply


def _waybill(value: object, raw: object) -> TrackingNumber:
    try:
        # The constructor validates without the hand-typing warning of parse().
        return TrackingNumber(value=value)
    except ValidationError as exc:
        raise _malformed(f"waybill number {value!r} is not valid ({exc})", raw) from exc


def parse_create_order(
    text: str, request: BookingRequest, *, received_at: datetime, carrier: str = "ems"
) -> Booking:
    """Read the answer to a create-order call (020003).

    A "duplicate order" answer carrying the existing waybill is a success: the order was
    created by an earlier attempt (``Booking.duplicate`` is ``True``).

    Args:
        text: the answer.
        request: the booking that was sent.
        received_at: when the answer arrived (timezone-aware).
        carrier: the adapter's name.

    Raises:
        CarrierError: EMS refused the order, or answered without a waybill number.

    .. versionadded:: 0.1.0
    """
    reply = parse_reply(text, API_CREATE_ORDER)
    duplicate = not reply.ok and reply.is_duplicate_order
    if not reply.ok and not duplicate:
        raise reply.error()
    body = reply.body if isinstance(reply.body, dict) else {}
    number = body.get("waybillNo")
    if not number:
        if duplicate:
            raise CarrierError(
                f"EMS says order {request.order_id} already exists but did not say its "
                f"waybill: it is booked once; find its waybill with EMS support, do not book "
                f"it again under another id",
                code=reply.ret_code,
                retryable=False,
                raw=text,
            )
        raise _malformed("no 'waybillNo' in the create-order answer", text, retryable=False)
    return Booking(
        carrier=carrier,
        order_id=request.order_id,
        tracking_number=_waybill(number, text),
        booked_at=received_at,
        duplicate=duplicate,
        raw=text,
    )


def parse_cancel(text: str) -> None:
    """Read the answer to a cancel call (020006); an order already cancelled is a success.

    Raises:
        CarrierError: EMS refused (for example, the piece was already picked up).

    .. versionadded:: 0.1.0
    """
    reply = parse_reply(text, API_CANCEL)
    if not reply.ok and not any(word in reply.ret_msg for word in _CANCELLED_WORDS):
        raise reply.error()


def _money(value: object) -> Money | None:
    if isinstance(value, bool) or not isinstance(value, str | int | Decimal):
        return None
    try:
        amount = Decimal(value)
    except InvalidOperation:
        return None
    return Money(amount) if amount.is_finite() and amount >= 0 else None


def parse_freight_estimate(text: str, request: QuoteRequest, *, carrier: str = "ems") -> Quote:
    """Read the answer to a freight estimate (050005): ``realFee`` (or ``totalFee``) in yuan.

    Raises:
        CarrierError: EMS refused, or sent no readable fee.

    .. versionadded:: 0.1.0
    """
    reply = _accepted(text, API_FREIGHT_ESTIMATE)
    body = reply.body if isinstance(reply.body, dict) else {}
    fee = _money(body.get("realFee"))
    if fee is None:
        fee = _money(body.get("totalFee"))
    if fee is None:
        raise _malformed("no readable 'realFee' or 'totalFee' amount", text, retryable=False)
    return Quote(carrier=carrier, amount=fee, zone=request.zone, raw=text)


def _text(item: Mapping[str, Any], key: str) -> str | None:
    value = item.get(key)
    if not isinstance(value, str):
        return None
    value = value.strip()
    return value[:500] if value else None


class _Reader:
    """Turns EMS trace items into events; caches waybills and warns once per unknown code."""

    def __init__(self, raw: object) -> None:
        self.raw = raw
        self.waybills: dict[str, TrackingNumber] = {}
        self.unknown: set[str] = set()

    def event(self, item: object, index: int) -> TrackingEvent:
        if not isinstance(item, dict):
            raise _malformed(f"trace item {index} is not an object", self.raw)
        number, code, when = item.get("waybillNo"), item.get("opCode"), item.get("opTime")
        if not isinstance(number, str) or not isinstance(code, str) or not isinstance(when, str):
            raise _malformed(
                f"trace item {index} lacks one of 'waybillNo', 'opCode', 'opTime'", self.raw
            )
        if not 0 < len(code) <= 16 or not code.isprintable() or " " in code:
            raise _malformed(f"trace item {index} has opCode {code[:20]!r}", self.raw)
        waybill = self.waybills.get(number)
        if waybill is None:
            waybill = self.waybills[number] = _waybill(number, self.raw)
        try:
            occurred = parse_time(when)
        except ValidationError as exc:
            raise _malformed(f"trace item {index}: {exc}", self.raw) from exc
        meaning = OP_CODES.get(code)
        if meaning is None:
            status, revokes = ShipmentStatus.EXCEPTION, None
            if code not in self.unknown:
                self.unknown.add(code)
                warnings.warn(
                    f"EMS operation code {code!r} ({item.get('opName')!r}) is not in "
                    f"govpost.carriers.ems.codes.OP_CODES: kept as EXCEPTION; add it to the table",
                    UnknownOpCodeWarning,
                    stacklevel=4,
                )
        else:
            status = meaning.status
            revokes = REVOKE_PREVIOUS if meaning.revokes else None
        office = "".join((_text(item, "opOrgCode") or "").split())
        stamp = "".join(when.translate(_STAMP).split())
        description = _text(item, "opDesc") or _text(item, "opName")
        return TrackingEvent(
            event_id=f"ems:{waybill.value}:{code}:{stamp}:{office}"[:128],
            tracking_number=waybill,
            status=status,
            occurred_at=occurred,
            location=_text(item, "opOrgName") or _text(item, "opOrgCity"),
            carrier_code=code,
            description=None if description is None else _scrub(description),
            revokes=revokes,
        )

    def events(self, items: object) -> tuple[TrackingEvent, ...]:
        if isinstance(items, dict):
            nested = items.get("responseItems", items.get("traces"))
            items = nested if isinstance(nested, list) else [items]
        if not isinstance(items, list):
            raise _malformed("the trace list is not a list", self.raw)
        return tuple(self.event(item, i) for i, item in enumerate(items))


def parse_track(text: str) -> tuple[TrackingEvent, ...]:
    """Read the answer to a track query (040001): the waybill's events, as EMS lists them.

    ``retBody`` holds ``{"waybillNo": ..., "responseItems": [trace, ...]}`` (a bare list of
    traces is accepted too). Each trace's ``opCode`` is mapped by
    :data:`~govpost.carriers.ems.codes.OP_CODES`; an unknown code gives an ``EXCEPTION`` event
    and an :class:`~govpost.carriers.ems.codes.UnknownOpCodeWarning`.

    Raises:
        CarrierError: EMS refused the query, or a trace is malformed.

    .. versionadded:: 0.1.0
    """
    reply = _accepted(text, API_TRACK_QUERY)
    if reply.body is None:
        return ()
    return _Reader(text).events(reply.body)


def _push_fields(body: bytes, headers: Mapping[str, str]) -> dict[str, Any]:
    if not isinstance(body, bytes | bytearray):
        raise WebhookVerificationError(
            f"the push body must be the raw bytes of the request, not {type(body).__name__}"
        )
    try:
        text = bytes(body).decode("utf-8")
    except UnicodeDecodeError:
        raise WebhookVerificationError("refused push: the body is not UTF-8") from None
    content_type = next((v for k, v in headers.items() if k.lower() == "content-type"), "")
    if "json" in content_type.lower() or text.lstrip().startswith("{"):
        try:
            fields = json.loads(text)
        except ValueError:
            raise WebhookVerificationError("refused push: the body is not JSON") from None
        if not isinstance(fields, dict):
            raise WebhookVerificationError("refused push: the body is not a JSON object")
        return fields
    return dict(parse_qsl(text, keep_blank_values=True))


def parse_push(body: bytes, headers: Mapping[str, str], sign_key: str) -> PushMessage:
    """Verify and read a track push (040002) that EMS posted to us.

    The push (JSON or form-encoded) carries ``logitcsInterface``, sealed with our signKey, and
    ``serialNo``, the message id. It is accepted only when the envelope decrypts under our key
    and ends with it; the sealed JSON holds one trace, a list of traces, or ``{"traces": [...]}``.

    Args:
        body: the raw request body.
        headers: the request headers.
        sign_key: our signKey.

    Raises:
        WebhookVerificationError: the push is unreadable, not a track push, or fails
            verification (a sealed text that is not JSON counts as altered). Nothing was
            read from it.
        CarrierError: verified, but a trace inside is malformed.

    .. versionadded:: 0.1.0
    """
    fields = _push_fields(body, headers)
    method = fields.get("method", fields.get("apiCode", API_TRACK_PUSH))
    if method != API_TRACK_PUSH:
        raise WebhookVerificationError(
            f"refused push: method {str(method)[:20]!r} is not the track push {API_TRACK_PUSH}"
        )
    sealed = fields.get("logitcsInterface")
    if not isinstance(sealed, str):
        raise WebhookVerificationError("refused push: it has no 'logitcsInterface' field")
    try:
        clear = decode_envelope(sealed, sign_key)
    except ValidationError as exc:
        raise WebhookVerificationError(f"refused push: {exc}") from exc
    traces = json.loads(clear)  # decode_envelope refused anything that is not JSON
    serial = fields.get("serialNo")
    return PushMessage(
        message_id=serial if isinstance(serial, str) and serial else None,
        events=_Reader(clear).events(traces),
    )
