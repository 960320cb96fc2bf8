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

import re
import warnings
from collections.abc import Mapping
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any
from urllib.parse import parse_qsl

import attrs

from govpost._fields import short
from govpost._limits import load_json
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
    DUPLICATE_WORDS,
    OK,
    OP_CODES,
    RETRYABLE_PREFIXES,
    UNCONFIRMED_DUPLICATE,
    UnknownOpCodeWarning,
)
from govpost.carriers.ems.envelope import open_envelope
from govpost.carriers.webhooks import MAX_PUSH_BYTES, _check_size, _header
from govpost.errors import CarrierError, ValidationError, WebhookVerificationError
from govpost.errors import _short_code as _shown_waybill
from govpost.identifiers import TrackingNumber
from govpost.money import Money
from govpost.periods import SHANGHAI
from govpost.privacy import scrub as _scrub
from govpost.shipments import REVOKE_PREVIOUS, ShipmentStatus, TrackingEvent

__all__ = [
    "MAX_ANSWER_CHARS",
    "EmsReply",
    "parse_cancel",
    "parse_create_order",
    "parse_freight_estimate",
    "parse_push",
    "parse_reply",
    "parse_time",
    "parse_track",
]

_API_NAMES = {
    API_CREATE_ORDER: "create order",
    API_CANCEL: "cancel order",
    API_TRACK_QUERY: "track query",
    API_TRACK_PUSH: "track push",
    API_FREIGHT_ESTIMATE: "freight estimate",
}
#: The longest answer the parsers read, in characters: the transport's default cap, 10 MiB,
#: holds at most this many. A genuine answer is a few kilobytes.
MAX_ANSWER_CHARS = 10 * 1024 * 1024
_MAX_CODE = 32  # characters of a retCode; EMS's are 5 or 6
_MAX_MESSAGE = 1000  # characters of a retMsg kept; the raw answer keeps it whole
_MAX_SERIAL = 128
_MAX_WAYBILL = 64
_AMOUNT = re.compile(r"[0-9]{1,15}(?:\.[0-9]{1,6})?")  # yuan, ASCII digits only
_STAMP = str.maketrans("", "", "-:T")
_CANCELLED_WORDS = ("已取消", "已撤销")
# What a carrier's text cut short may end in: part of a number, which the scrubber could no
# longer recognise (a mobile cut to "1398521" would show the digits its mask hides).
_CUT_NUMBER = re.compile(r"[\d\s\-.+]+\Z")


def _malformed(what: str, raw: object, *, retryable: bool = True) -> CarrierError:
    return CarrierError(
        f"EMS sent a malformed answer: {_scrub(what)}; keep the raw answer (CarrierError.raw) for "
        f"EMS support",
        code="malformed_response",
        retryable=retryable,
        raw=raw,
    )


def parse_time(text: str) -> datetime:
    """An EMS time (``YYYY-MM-DD HH:MM:SS``, Asia/Shanghai) as an aware datetime.

    Raises:
        ValidationError: not such a time.

    >>> parse_time("2024-06-03 10:15:00").isoformat()
    '2024-06-03T10:15:00+08:00'
    """
    given: object = text
    if not isinstance(given, str) or not 10 <= len(given) <= 32:
        raise ValidationError(f"EMS time {short(given)} is not 'YYYY-MM-DD HH:MM:SS'")
    try:
        value = datetime.fromisoformat(text)
    except ValueError:
        raise ValidationError(f"EMS time {short(text)} is not 'YYYY-MM-DD HH:MM:SS'") from None
    return value.replace(tzinfo=SHANGHAI) if value.tzinfo is None else value


@attrs.frozen(kw_only=True)
class EmsReply:
    """The common frame of an EMS answer, ``retBody`` already decoded from its JSON text.

    Attributes:
        api_code: the operation answered.
        ret_code: EMS's answer code (``00000`` = OK); masked in ``repr``.
        ret_msg: EMS's message as received (its first 1,000 characters, without a number the
            cut would leave in part); masked in ``repr``.
        body: ``retBody`` decoded (amounts as ``Decimal``), or ``None``.
        serial_no: EMS's id of the answer, if any; masked in ``repr``.
        raw: the answer's text.

    .. versionadded:: 0.1.0
    """

    # Every text of the carrier's is scrubbed in the repr: a hostile or careless answer may
    # put a mobile number in any of them.
    api_code: str
    ret_code: str = attrs.field(repr=lambda code: repr(_scrub(code)))
    ret_msg: str = attrs.field(repr=lambda message: repr(_scrub(message)))
    body: Any = attrs.field(repr=False)
    serial_no: str | None = attrs.field(repr=lambda serial: repr(serial and _scrub(serial)))
    raw: str = attrs.field(repr=False)

    @property
    def ok(self) -> bool:
        """Whether EMS accepted the request."""
        return self.ret_code == OK

    @property
    def is_duplicate_order(self) -> bool:
        """Whether EMS answered, by its code, that the order id was already created.

        .. versionchanged:: 0.2.0
           The code alone decides (:data:`~govpost.carriers.ems.codes.DUPLICATE_ORDER_CODES`);
           wording is :attr:`mentions_duplicate`.
        """
        return self.ret_code in DUPLICATE_ORDER_CODES

    @property
    def mentions_duplicate(self) -> bool:
        """Whether a refusal without a duplicate-order code speaks of a duplicate (重复, 已存在).

        Such wording does not prove the order exists: "请勿重复提交" (do not resubmit) is also
        said of an order never created.

        .. versionadded:: 0.2.0
        """
        return (
            not self.ok
            and not self.is_duplicate_order
            and any(word in self.ret_msg for word in DUPLICATE_WORDS)
        )

    @property
    def waybill(self) -> str | None:
        """The ``waybillNo`` of ``retBody`` as text, if it holds one (not yet validated).

        .. versionadded:: 0.2.0
        """
        number = self.body.get("waybillNo") if isinstance(self.body, dict) else None
        if isinstance(number, int) and not isinstance(number, bool):
            number = str(number) if number >= 0 else None
        if not isinstance(number, str) or not number.strip():
            return None
        return number.strip()

    def error(self) -> CarrierError:
        """The :class:`~govpost.errors.CarrierError` for a refused request."""
        name = _API_NAMES.get(self.api_code, "call")
        return CarrierError(
            f"EMS refused {self.api_code} ({name}) with {_scrub(self.ret_code)}: "
            f"{_scrub(self.ret_msg)}",
            code=self.ret_code,
            retryable=self.ret_code.startswith(RETRYABLE_PREFIXES),
            raw=self.raw,
        )


def parse_reply(text: str, api_code: str) -> EmsReply:
    """Read the frame of an EMS answer, whatever its ``retCode``.

    Total: any text gives an :class:`EmsReply` or a :class:`~govpost.errors.CarrierError`, in
    time bounded by its length. Answers longer than :data:`MAX_ANSWER_CHARS`, nested deeper
    than 64 levels, holding ``NaN``, numbers of more than 4,300 digits or lone surrogates are
    refused as malformed.

    Raises:
        CarrierError: the answer is not a JSON object with a ``retCode`` string, or its
            ``retBody`` is not JSON (code ``malformed_response``, retryable).
        ValidationError: ``text`` is not a ``str`` (a bug of the caller).

    .. versionadded:: 0.1.0
    .. versionchanged:: 0.2.0
       Bounded: size, depth and numbers of the answer are capped.
    """
    if not isinstance(text, str):
        raise ValidationError(
            f"parse_reply takes the answer's text (str), not {type(text).__name__}: pass "
            f"response.text"
        )
    if len(text) > MAX_ANSWER_CHARS:
        raise _malformed(
            f"{len(text)} characters, more than the {MAX_ANSWER_CHARS} any answer may have", text
        )
    try:
        document = load_json(text, what="the answer", parse_float=Decimal)
    except ValidationError as exc:  # only the carrier's text can fail here, never our code
        raise _malformed(str(exc), text) from None
    code = document.get("retCode") if isinstance(document, dict) else None
    if not isinstance(code, str) or not 0 < len(code) <= _MAX_CODE or not code.isprintable():
        raise _malformed("no 'retCode' string in a JSON object", text)
    body = document.get("retBody")
    if isinstance(body, str):
        if body.strip():
            try:
                body = load_json(body, what="its 'retBody'", parse_float=Decimal)
            except ValidationError as exc:
                raise _malformed(f"'retBody' is not JSON text ({exc})", text) from None
        else:
            body = None
    message = document.get("retMsg")
    serial = document.get("serialNo")
    return EmsReply(
        api_code=api_code,
        ret_code=code,
        ret_msg=_cut(message) if isinstance(message, str) else "",
        body=body,
        serial_no=serial if isinstance(serial, str) and len(serial) <= _MAX_SERIAL else None,
        raw=text,
    )


def _cut(message: str, limit: int = _MAX_MESSAGE) -> str:
    """The first ``limit`` characters of ``message``, without a number the cut would leave
    in part."""
    if len(message) <= limit:
        return message
    return _CUT_NUMBER.sub("", message[:limit])


def _accepted(text: str, api_code: str) -> EmsReply:
    reply = parse_reply(text, api_code)
    if not reply.ok:
        raise reply.error()
    return reply


def _waybill(value: object, raw: object) -> TrackingNumber:
    if not isinstance(value, str) or len(value) > _MAX_WAYBILL:
        shown = _shown_waybill(value)  # what was sent instead may be a name: not shown
        raise _malformed(f"waybill number {shown} is not a string of a waybill number", raw)
    try:
        # The constructor validates without the hand-typing warning of parse().
        return TrackingNumber(value=value)
    except ValidationError as exc:  # its message shows the value, masked
        raise _malformed(f"the waybill number is not valid ({exc})", raw) from exc


def parse_create_order(
    text: str, request: BookingRequest, *, received_at: datetime, carrier: str = "ems"
) -> Booking:
    """Read the answer to a create-order call (020003).

    A "duplicate order" answer — a code of
    :data:`~govpost.carriers.ems.codes.DUPLICATE_ORDER_CODES` — carrying the existing waybill
    is a success: the order was created by an earlier attempt (``Booking.duplicate`` is
    ``True``). A refusal that only *speaks* of a duplicate (重复, 已存在) proves nothing —
    "请勿重复提交" (do not resubmit) is also said of an order never created — and raises a
    :class:`~govpost.errors.CarrierError` with code ``"duplicate_unconfirmed"``, never a
    :class:`~govpost.carriers.Booking`: :meth:`EmsCarrier.book
    <govpost.carriers.ems.EmsCarrier.book>` then confirms it by a track query.

    Args:
        text: the answer.
        request: the booking that was sent.
        received_at: when the answer arrived (timezone-aware).
        carrier: the adapter's name.

    Raises:
        CarrierError: EMS refused the order, answered without a waybill number, or spoke of
            a duplicate without a duplicate-order code (code ``"duplicate_unconfirmed"``, not
            retryable: the answer's waybill, if any, is in ``EmsReply.waybill`` of
            ``parse_reply(error.raw, "020003")``).

    .. versionadded:: 0.1.0
    .. versionchanged:: 0.2.0
       Wording alone is no longer read as a duplicate order.
    """
    reply = parse_reply(text, API_CREATE_ORDER)
    duplicate = reply.is_duplicate_order
    if not reply.ok and not duplicate:
        if reply.mentions_duplicate:
            named = f" and named waybill {_shown_waybill(reply.waybill)}" if reply.waybill else ""
            raise CarrierError(
                f"EMS refused order {request.order_id} with {_scrub(reply.ret_code)}: "
                f"{_scrub(reply.ret_msg)} — words of a duplicate{named}, but not a "
                f"duplicate-order code, and such words are also said of orders never created "
                f"(请勿重复提交, do not resubmit). The order is not booked until confirmed: "
                f"EmsCarrier.book confirms it by tracking the waybill EMS named; otherwise ask "
                f"EMS whether order {request.order_id} exists before booking it again",
                code=UNCONFIRMED_DUPLICATE,
                retryable=False,
                raw=text,
            )
        raise reply.error()
    number = reply.waybill
    if number is None:
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
    if isinstance(value, str) and not _AMOUNT.fullmatch(value):
        return None  # Decimal() would read "١٢.٨٠" (Arabic-Indic digits), "1e9", " 12 "
    try:
        amount = Decimal(value)
    except InvalidOperation:
        return None
    if not amount.is_finite() or amount < 0:
        return None
    try:
        return Money(amount)
    except ValidationError:  # too many digits for money: not a fee
        return None


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
    value = _cut(value.strip(), 500)
    return value or None


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
            raise _malformed(f"trace item {index} has opCode {short(code, 20)}", self.raw)
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
                    f"EMS operation code {short(code)} ({short(item.get('opName'), 60)}) is not in "
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
        try:
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
        except ValidationError as exc:  # a field the event refuses: the carrier's data
            raise _malformed(f"trace item {index}: {exc}", self.raw) from exc

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
    .. versionchanged:: 0.2.0
       Total and bounded like :func:`parse_reply`.
    """
    reply = _accepted(text, API_TRACK_QUERY)
    if reply.body is None:
        return ()
    return _Reader(text).events(reply.body)


def _push_fields(body: bytes, headers: Mapping[str, str], max_body: int) -> Mapping[str, Any]:
    raw = _check_size(body, max_body)
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise WebhookVerificationError("refused push: the body is not UTF-8") from None
    is_json = "json" in (_header(headers, "Content-Type") or "").lower()
    if is_json or text.lstrip().startswith("{"):
        try:
            fields = load_json(text, what="the EMS push")
        except ValidationError as exc:
            raise WebhookVerificationError(f"refused push: {exc}") from None
        if not isinstance(fields, dict):
            raise WebhookVerificationError("refused push: the body is not a JSON object")
        return fields
    return dict(parse_qsl(text, keep_blank_values=True))


def _shown(value: object) -> str:
    return short(value, 20) if isinstance(value, str) else repr(type(value).__name__)


def parse_push(
    body: bytes, headers: Mapping[str, str], sign_key: str, *, max_body: int = MAX_PUSH_BYTES
) -> PushMessage:
    """Verify and read a track push (040002) that EMS posted to us.

    The push (JSON or form-encoded) carries ``logitcsInterface``, sealed with our signKey, and
    ``serialNo``, the message id. It is accepted only when the envelope decrypts under our key
    and ends with it; the sealed JSON holds one trace, a list of traces, or ``{"traces": [...]}``.

    **A push that passes is still only a claim.** The SM4-ECB envelope has no integrity check:
    whole 16-byte blocks of genuine pushes can be dropped, repeated or spliced from several
    pushes into one that decrypts under our key to JSON ending in it — for example a
    "delivered" for a waybill that was only picked up. Nothing in the push can tell; receive
    pushes through :class:`~govpost.carriers.webhooks.PushInbox`, which confirms terminal
    statuses through the track query. ``serialNo``, ``timeStamp`` and ``senderNo`` lie outside
    the envelope and are not verified at all: the message id is a hint, never a reason to
    skip events.

    Every input is refused or read in time bounded by its size: the body is capped
    (``max_body``), JSON is at most 64 levels deep.

    Args:
        body: the raw request body.
        headers: the request headers.
        sign_key: our signKey.
        max_body: the largest body accepted, in bytes (default
            :data:`~govpost.carriers.webhooks.MAX_PUSH_BYTES`, 1 MiB); a larger one is refused
            before it is parsed or decrypted.

    Raises:
        WebhookVerificationError: the push is too large, unreadable, not a track push, or fails
            verification (a sealed text that is not JSON counts as altered). Nothing was
            read from it.
        CarrierError: verified, but a trace inside is malformed.

    .. versionadded:: 0.1.0
    .. versionchanged:: 0.2.0
       ``max_body``; JSON depth bounded.
    """
    fields = _push_fields(body, headers, max_body)
    method = fields.get("method", fields.get("apiCode", API_TRACK_PUSH))
    if method != API_TRACK_PUSH:
        raise WebhookVerificationError(
            f"refused push: method {_shown(method)} is not the track push {API_TRACK_PUSH}"
        )
    sealed = fields.get("logitcsInterface")
    if not isinstance(sealed, str):
        raise WebhookVerificationError("refused push: it has no 'logitcsInterface' field")
    try:
        clear, traces = open_envelope(sealed, sign_key)
    except ValidationError as exc:
        raise WebhookVerificationError(f"refused push: {exc}") from exc
    serial = fields.get("serialNo")
    return PushMessage(
        message_id=serial[:128] if isinstance(serial, str) and serial else None,
        events=_Reader(clear).events(traces),
    )
