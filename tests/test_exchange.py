"""The online-hall exchange: versioned messages, strict parsing, and what they mean."""

from __future__ import annotations

import contextlib
import json
from datetime import datetime
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from govpost.applications import (
    Applicant,
    Application,
    ApplicationStatus,
    ApplicationStatusMessage,
    CarrierStatus,
    DeliveryOrder,
    ServiceCatalogue,
    decode,
    decode_as,
    encode,
)
from govpost.errors import DeserializationError, GovpostError
from govpost.periods import SHANGHAI
from govpost.serialization import from_json, to_json
from govpost.shipments import ShipmentStatus
from tests.fuzzing import fuzz
from tests.strategies import CENTER, applications, s10_numbers

ROOT = Path(__file__).resolve().parent.parent
CATALOGUE = ServiceCatalogue.from_toml(
    (ROOT / "examples" / "data" / "service-catalogue.toml").read_text(encoding="utf-8")
)


def at(month: int, day: int, hour: int = 0) -> datetime:
    return datetime(2018, month, day, hour, tzinfo=SHANGHAI)


def approved() -> Application:
    return Application(
        reference="520100-20180927-0001",
        center=CENTER,
        service="GZ-SCJG-001",
        channel="online",
        applicant=Applicant(
            name="欧阳娜娜", mobile="13800138000", address="贵州省凯里市北京东路1号"
        ),
        accepted_at=at(9, 27, 10),
        destination="522601",
        delivery="mail",
    ).approve(at(9, 30, 16))


def order_text() -> str:
    return encode(DeliveryOrder.of(approved(), CENTER, CATALOGUE))


def test_an_approved_application_becomes_a_delivery_order() -> None:
    order = DeliveryOrder.of(approved(), CENTER, CATALOGUE)
    assert ("520100-20180927-0001-R", "520100", "522601", 200) == (
        order.order_id,
        order.origin.code,
        order.destination.code,
        order.weight_g,
    )
    document = json.loads(order_text())
    assert ["type", "version", "order_id"] == list(document)[:3]
    assert ("delivery_order", 1) == (document["type"], document["version"])
    assert {"name": "欧阳娜娜", "mobile": "13800138000", "address": "贵州省凯里市北京东路1号"} == (
        document["applicant"]
    )
    assert order == decode(order_text())
    assert order == decode_as(order_text(), DeliveryOrder)
    assert "欧阳娜娜" not in repr(order)


def test_a_carrier_delivery_becomes_an_application_status_that_may_close() -> None:
    carrier = CarrierStatus(
        order_id="520100-20180927-0001-R",
        reference="520100-20180927-0001",
        tracking_number="EA123456785CN",
        event_id="ems-704-1",
        status="delivered",
        occurred_at=at(10, 10, 15),
    )
    carrier = decode_as(encode(carrier), CarrierStatus)
    message = ApplicationStatusMessage.of(carrier)
    assert (ApplicationStatus.RESULT_DELIVERED, True) == (message.status, message.may_close)
    assert message == decode_as(encode(message), ApplicationStatusMessage)
    pickup = ApplicationStatusMessage.of(
        CarrierStatus(
            order_id=carrier.order_id,
            reference=carrier.reference,
            tracking_number=carrier.tracking_number,
            event_id="ems-203-1",
            status=ShipmentStatus.PICKED_UP,
            occurred_at=at(10, 8, 11),
        )
    )
    app = approved()
    for update in (message, pickup):  # out of order, as pushes come
        event = update.event()
        assert event is not None
        app = app.apply(event)
    assert ApplicationStatus.RESULT_DELIVERED == app.status
    assert () == app.anomalies
    app = app.close(at(10, 10, 17))
    assert ApplicationStatus.CLOSED == app.status
    in_transit = ApplicationStatusMessage.of(
        CarrierStatus(
            order_id=carrier.order_id,
            reference=carrier.reference,
            tracking_number=carrier.tracking_number,
            event_id="ems-389-1",
            status="in_transit",
            occurred_at=at(10, 8, 15),
        )
    )
    assert (None, False, None) == (in_transit.status, in_transit.may_close, in_transit.event())


def test_a_malformed_message_is_a_deserialization_error_naming_the_field() -> None:
    document = json.loads(order_text())
    document["applicant"]["mobile"] = "1234"
    with pytest.raises(
        DeserializationError, match=r"not a mainland China mobile number.* @ \$\.applicant\.mobile"
    ) as caught:
        decode(json.dumps(document))
    assert "1234" not in str(caught.value)
    document = json.loads(order_text())
    document["weight_g"] = "200"
    with pytest.raises(DeserializationError, match=r"@ \$\.weight_g"):
        decode(json.dumps(document))
    document = json.loads(order_text())
    del document["applicant"]["address"]
    with pytest.raises(
        DeserializationError, match=r"needs a mobile and an address to deliver to @ \$\.applicant$"
    ):
        decode(json.dumps(document))
    with pytest.raises(DeserializationError, match="is not JSON"):
        decode("{")
    with pytest.raises(DeserializationError, match=r"must be a JSON object .* @ \$"):
        decode("[]")
    with pytest.raises(DeserializationError, match=r"type 'order' is not one of .* @ \$\.type"):
        decode('{"type": "order", "version": 1}')
    with pytest.raises(DeserializationError, match=r"unexpected fields 'extra'"):
        decode(order_text()[:-1] + ', "extra": 1}')


def test_an_unknown_version_is_refused_naming_the_versions_supported() -> None:
    document = json.loads(order_text())
    document["version"] = 2
    with pytest.raises(
        DeserializationError,
        match=r"version 2 is not supported; govpost reads version 1 of delivery_order @ \$\.version",
    ):
        decode(json.dumps(document))
    with pytest.raises(DeserializationError, match=r"is a delivery_order @ \$\.type"):
        decode_as(order_text(), CarrierStatus)


@given(applications(events=False), s10_numbers(), st.sampled_from(ShipmentStatus))
def test_messages_round_trip(app: Application, waybill: object, status: ShipmentStatus) -> None:
    """Every message reads back equal, through encode/decode and through to_json/from_json."""
    carrier = CarrierStatus(
        order_id=app.result_shipment_id,
        reference=app.reference,
        tracking_number=waybill,  # type: ignore[arg-type]
        event_id="e1",
        status=status,
        occurred_at=app.accepted_at,
    )
    for message in (carrier, ApplicationStatusMessage.of(carrier)):
        assert message == decode(encode(message))
        assert message == from_json(to_json(message), type(message))


JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=20),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner, max_size=4)
    ),
    max_leaves=20,
)


@fuzz
@given(st.text(max_size=200) | st.binary(max_size=200))
def test_junk_text_gives_only_govpost_errors(junk: str | bytes) -> None:
    """Whatever the text, decode gives a message or a govpost error, nothing else."""
    with contextlib.suppress(GovpostError):
        decode(junk)


@fuzz
@given(st.sampled_from(["delivery_order", "carrier_status", "application_status"]), st.data())
def test_junk_fields_give_only_govpost_errors(kind: str, data: st.DataObject) -> None:
    """A message of a real type and version with junk in its fields gives a govpost error."""
    document = json.loads(order_text()) if kind == "delivery_order" else {}
    fields = sorted(document) or ["reference", "status", "tracking_number", "event_id"]
    document.update(data.draw(st.dictionaries(st.sampled_from(fields), JSON_VALUES, max_size=3)))
    document.update({"type": kind, "version": data.draw(st.sampled_from([1, 1, 2, "1", True]))})
    with contextlib.suppress(GovpostError):
        decode(json.dumps(document))


def test_an_order_for_a_collect_application_is_refused() -> None:
    app = Application(
        reference="R-9",
        center=CENTER,
        service="GZ-SCJG-001",
        channel="window",
        applicant=Applicant(name="张三", mobile="13800138000"),
        accepted_at=at(9, 27, 10),
        destination="520102",
        delivery="collect",
    ).approve(at(9, 28))
    with pytest.raises(GovpostError, match="chose COLLECT"):
        DeliveryOrder.of(app, CENTER, CATALOGUE)
