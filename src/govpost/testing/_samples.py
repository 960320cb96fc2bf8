"""Realistic inputs for carrier tests: a booking request and the body of an EMS track push."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from govpost.carriers._model import BookingRequest, utc_now
from govpost.carriers.ems.build import API_TRACK_PUSH, timestamp
from govpost.carriers.ems.envelope import encode_envelope
from govpost.centers import BusinessLine
from govpost.money import Money
from govpost.periods import SHANGHAI
from govpost.shipments import Direction, Recipient, Shipment

__all__ = ["DEFAULT_SIGN_KEY", "push_body", "sample_booking_request"]

#: The signKey of the published test vector; :class:`FakeEmsServer` uses it by default.
DEFAULT_SIGN_KEY = "TvaBgrhE46sft3nZlfe7xw=="


def sample_booking_request(
    order_id: str = "GZ-520100-2024-000123",
    *,
    origin: str = "520102",
    destination: str = "520302",
    weight_g: int = 250,
    created_at: datetime | None = None,
) -> BookingRequest:
    """A realistic booking: a licence sent from 贵阳 (南明区) to an applicant in 遵义 (红花岗区).

    >>> sample_booking_request("GZ-7")
    BookingRequest(shipment=Shipment(id='GZ-7', ... recipient=Recipient(name='欧阳**', mobile='138****8000', ...

    .. versionadded:: 0.1.0
    """
    shipment = Shipment(
        id=order_id,
        center="GZ-520100",
        business_line=BusinessLine.LICENCE_DELIVERY,
        direction=Direction.OUTBOUND_RESULT,
        origin=origin,
        destination=destination,
        weight_g=weight_g,
        created_at=created_at or datetime(2024, 6, 3, 9, 30, tzinfo=SHANGHAI),
        recipient=Recipient(
            name="欧阳娜娜", mobile="13800138000", address="贵州省遵义市红花岗区中华南路1号"
        ),
        declared_value=Money("500"),
    )
    sender = Recipient(
        name="贵阳市政务服务中心", mobile="13885000000", address="贵州省贵阳市南明区市府路1号"
    )
    return BookingRequest(shipment=shipment, sender=sender)


def push_body(
    traces: Mapping[str, Any] | Sequence[Mapping[str, Any]],
    sign_key: str,
    *,
    serial_no: str = "C3E7E1A2E6F44EB9B09EB9116C89FC86",
    sent_at: datetime | None = None,
) -> bytes:
    """The JSON body of a track push (040002) as EMS posts it, sealed under ``sign_key``.

    Args:
        traces: one trace (EMS track fields) or a list of them.
        sign_key: the receiving account's signKey.
        serial_no: the message id.
        sent_at: the push time (default: now).

    .. versionadded:: 0.1.0
    """
    fields = {
        "logitcsInterface": encode_envelope(traces, sign_key),
        "method": API_TRACK_PUSH,
        "msgType": "0",
        "senderNo": "",
        "serialNo": serial_no,
        "timeStamp": timestamp(sent_at or utc_now()),
        "version": "v1.0.0",
    }
    return json.dumps(fields).encode("utf-8")
