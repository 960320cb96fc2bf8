"""Pure builders of EMS open-platform requests: typed request in, form fields out.

Each ``build_*`` takes a govpost request, the account (:class:`EmsConfig`) and the time of the
call, and returns a :class:`WireRequest`: the endpoint, the form fields to POST (the business
payload sealed in ``logitcsInterface``) and whether the call is safe to repeat. Nothing is
sent; the same arguments give the same request::

    >>> from datetime import datetime, timezone
    >>> from govpost.identifiers import TrackingNumber
    >>> config = EmsConfig(sender_no="1100012345678", authorization="auth-code",
    ...                    sign_key="TvaBgrhE46sft3nZlfe7xw==")
    >>> wire = build_track_query(TrackingNumber.parse("EA123456785CN"), config,
    ...                          now=datetime(2024, 6, 3, 2, 0, tzinfo=timezone.utc))
    >>> wire.api_code, wire.form["timeStamp"], wire.payload, wire.retry
    ('040001', '2024-06-03 10:00:00', {'waybillNo': 'EA123456785CN'}, True)

.. versionadded:: 0.1.0
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import attrs

from govpost._fields import aware
from govpost.carriers._model import BookingRequest, QuoteRequest
from govpost.carriers.ems.envelope import _key, encode_envelope
from govpost.errors import ValidationError
from govpost.identifiers import TrackingNumber
from govpost.periods import SHANGHAI
from govpost.regions import AdminLevel, Division
from govpost.shipments import Recipient

__all__ = [
    "API_CANCEL",
    "API_CREATE_ORDER",
    "API_FREIGHT_ESTIMATE",
    "API_TRACK_PUSH",
    "API_TRACK_QUERY",
    "EmsConfig",
    "WireRequest",
    "build_cancel",
    "build_create_order",
    "build_freight_estimate",
    "build_track_query",
]

API_CREATE_ORDER = "020003"  #: create an order (下单取号)
API_CANCEL = "020006"  #: cancel an order (取消订单)
API_TRACK_QUERY = "040001"  #: query the events of a waybill (轨迹查询)
API_TRACK_PUSH = "040002"  #: events pushed by EMS (轨迹推送)
API_FREIGHT_ESTIMATE = "050005"  #: estimate the postage (预估邮费)

PRODUCTION_URL = "https://api.ems.com.cn"
_OPEN_PATH = "/amp-prod-api/f/amp/api/open"
_TEST_PATH = "/amp-prod-api/f/amp/api/test"


def _required(what: str) -> Any:
    def check(instance: object, attribute: object, value: object) -> None:
        if not isinstance(value, str) or not value.strip():
            raise ValidationError(f"EMS {what} must be a non-empty string, as EMS issued it")

    return check


def _sign_key(instance: object, attribute: object, value: Any) -> None:
    _key(value)


def _base_url(value: str) -> str:
    given: object = value
    if not isinstance(given, str) or not given.startswith(("http://", "https://")):
        raise ValidationError(
            f"EMS base_url {given!r} must be an http(s) URL such as {PRODUCTION_URL!r}"
        )
    return given.rstrip("/")


@attrs.frozen(kw_only=True, repr=False)
class EmsConfig:
    """An EMS open-platform account. The secrets never appear in ``repr``.

    Args:
        sender_no: the agreement customer number (协议客户号, ``senderNo``).
        authorization: the authorization code (授权码), which differs for test and production.
        sign_key: the signKey (base64 of 16 bytes) that seals every message.
        base_url: scheme and host of the platform.
        test: use the platform's test endpoint (``.../api/test``) instead of production.
        product_code: the product (产品代码) used for freight estimates.
        biz_product_no: the business product number (业务产品) of created orders.

    Raises:
        ValidationError: an empty field, a signKey that is not base64 of 16 bytes, a base URL
            that is not http(s).

    .. versionadded:: 0.1.0
    """

    sender_no: str = attrs.field(validator=_required("sender_no"))
    authorization: str = attrs.field(validator=_required("authorization"))
    sign_key: str = attrs.field(validator=_sign_key)
    base_url: str = attrs.field(default=PRODUCTION_URL, converter=_base_url)
    test: bool = False
    product_code: str = "11210"
    biz_product_no: str = "10"

    @property
    def endpoint(self) -> str:
        """The URL every call is posted to."""
        return self.base_url + (_TEST_PATH if self.test else _OPEN_PATH)

    def __repr__(self) -> str:
        return (
            f"EmsConfig(sender_no={self.sender_no!r}, authorization='***', sign_key='***', "
            f"base_url={self.base_url!r}, test={self.test})"
        )


@attrs.frozen(kw_only=True)
class WireRequest:
    """A request ready to POST: endpoint, form fields, and whether it may be repeated.

    ``payload`` (the clear business message) and ``form`` hold personal data and are left out
    of ``repr``.
    """

    api_code: str
    url: str
    form: dict[str, str] = attrs.field(repr=False)
    payload: dict[str, Any] = attrs.field(repr=False)
    retry: bool


def timestamp(now: datetime) -> str:
    """The platform's time format, in Asia/Shanghai: ``YYYY-MM-DD HH:MM:SS``."""
    return aware(now, "now").astimezone(SHANGHAI).strftime("%Y-%m-%d %H:%M:%S")


def _wire(
    api_code: str, payload: dict[str, Any], config: EmsConfig, now: datetime, *, retry: bool
) -> WireRequest:
    form = {
        "apiCode": api_code,
        "senderNo": config.sender_no,
        "authorization": config.authorization,
        "msgType": "0",
        "timeStamp": timestamp(now),
        "version": "V1.0.0",
        "logitcsInterface": encode_envelope(payload, config.sign_key),
    }
    return WireRequest(
        api_code=api_code, url=config.endpoint, form=form, payload=payload, retry=retry
    )


def _place(division: Division) -> dict[str, str]:
    """Province, city and county names of a division, as EMS addresses want them."""
    province = division.province
    city = division.city
    return {
        "prov": province.name,
        "city": city.name if city is not None else province.name,
        "county": division.name if division.level is AdminLevel.COUNTY else "",
    }


def _party(contact: Recipient, division: Division) -> dict[str, str]:
    return {
        "name": contact.name,
        "mobile": contact.mobile or "",
        **_place(division),
        "address": contact.address or "",
    }


def build_create_order(request: BookingRequest, config: EmsConfig, *, now: datetime) -> WireRequest:
    """Create an order (020003). Safe to repeat: keyed by ``logisticsOrderNo``, our order id.

    Args:
        request: the booking.
        config: the account.
        now: the time of the call (timezone-aware).

    .. versionadded:: 0.1.0
    """
    shipment = request.shipment
    payload: dict[str, Any] = {
        "createdTime": timestamp(now),
        "ecommerceUserId": config.sender_no,
        "senderNo": config.sender_no,
        "logisticsOrderNo": request.order_id,
        "bizProductNo": config.biz_product_no,
        "weight": str(shipment.weight_g),
        "insuranceFlag": "1",
        "receiptFlag": "2" if shipment.return_receipt else "1",
        "sender": _party(request.sender, shipment.origin),
        "receiver": _party(request.recipient, shipment.destination),
        "cargos": [{"cargoName": request.contents, "cargoQuantity": "1"}],
    }
    if shipment.declared_value is not None:
        payload["insuranceFlag"] = "2"
        payload["insuranceAmount"] = shipment.declared_value.rounded().to_str()
    if request.pickup_notes:
        payload["pickupNotes"] = request.pickup_notes
    return _wire(API_CREATE_ORDER, payload, config, now, retry=True)


def build_track_query(
    tracking_number: TrackingNumber, config: EmsConfig, *, now: datetime
) -> WireRequest:
    """Query the events of a waybill (040001). Idempotent.

    .. versionadded:: 0.1.0
    """
    if not isinstance(tracking_number, TrackingNumber):
        raise ValidationError(
            f"tracking_number {tracking_number!r} must be a TrackingNumber: use "
            f"TrackingNumber.parse_any(text)"
        )
    return _wire(API_TRACK_QUERY, {"waybillNo": str(tracking_number)}, config, now, retry=True)


def build_freight_estimate(
    request: QuoteRequest, config: EmsConfig, *, now: datetime
) -> WireRequest:
    """Estimate the postage (050005). Idempotent.

    .. versionadded:: 0.1.0
    """
    payload: dict[str, Any] = {
        "productCode": config.product_code,
        "weight": str(request.weight_g),
        "senderInfo": _place(request.origin),
        "receiveInfo": _place(request.destination),
    }
    if request.declared_value is not None:
        payload["insuranceAmount"] = request.declared_value.rounded().to_str()
    return _wire(API_FREIGHT_ESTIMATE, payload, config, now, retry=True)


def build_cancel(
    order_id: str,
    config: EmsConfig,
    *,
    now: datetime,
    tracking_number: TrackingNumber | None = None,
    reason: str = "寄件人取消",
) -> WireRequest:
    """Cancel an order before pickup (020006). Safe to repeat: cancelling twice cancels once.

    .. versionadded:: 0.1.0
    """
    if not isinstance(order_id, str) or not order_id:
        raise ValidationError(f"order id {order_id!r} must be a non-empty string")
    payload: dict[str, Any] = {"logisticsOrderNo": order_id, "cancelReason": reason}
    if tracking_number is not None:
        payload["waybillNo"] = str(tracking_number)
    return _wire(API_CANCEL, payload, config, now, retry=True)
