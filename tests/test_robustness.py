"""Junk of every kind fed to every public parser and validator gives a govpost error or False.

In the spirit of python-stdnum's robustness test: whatever a user (or a carrier, or a
spreadsheet) hands govpost, the answer is a :class:`~govpost.GovpostError` that says what was
wrong, or ``False`` from an ``is_valid_*`` function — never a ``TypeError``, ``KeyError``,
``decimal.InvalidOperation`` or other exception from deep inside.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from govpost import GovpostError, WorkCalendar, identifiers, regions, serialization
from govpost.agreements import (
    Budget,
    Coverage,
    FeeAgreement,
    FlatTariff,
    Insurance,
    LumpSum,
    PerPiece,
    Rate,
    RateCard,
    WeightTariff,
    ZoneStep,
    business_date,
)
from govpost.centers import ServiceCenter
from govpost.money import Money, allocate
from govpost.regions import Zone
from govpost.settlement import (
    CarrierBill,
    Period,
    amount_in_words,
    prorate,
    reconcile,
    settle,
    split,
)
from govpost.shipments import Recipient, Shipment, TrackingEvent

JUNK: list[object] = [
    None,
    b"bytes",
    b"\xff\xfe",
    1.5,
    float("nan"),
    float("inf"),
    True,
    0,
    -1,
    10**100,
    "",
    " ",
    "1" * 100_000,
    "\x00",
    "\n\t\r",
    "\u202e",
    "１２３４５",
    "ＲＲ４７３１２４８２８ＧＢ",  # full-width, wrong check digit
    "😀",
    "None",
    "NaN",
    "-Infinity",
    "1e999999",
    "0x10",
    [],
    [1, 2],
    {},
    {"amount": "1"},
    object(),
    Decimal("NaN"),
    Decimal("sNaN"),
    Decimal("Infinity"),
    date(2024, 1, 1),
    datetime(2024, 1, 1),
    # aware times whose business date (Asia/Shanghai) Python cannot hold
    datetime(9999, 12, 31, 23, tzinfo=timezone(timedelta(hours=-14))),
    datetime(1, 1, 1, tzinfo=timezone(timedelta(hours=14))),
    datetime.max.replace(tzinfo=UTC),
    # numbers written the ways people write them, parted by spaces repr escapes
    "139\t8521\t23456",
    "１３９\u3000８５２１\u3000２３４５６",
    "0001",
    "9998-12",
]

VALIDATORS: dict[str, Callable[[Any], object]] = {
    "Money": Money,
    "Money.currency": lambda v: Money("1", v),
    "Money.from_fen": Money.from_fen,
    "Money * junk": lambda v: Money("1") * v,
    "allocate.total": lambda v: allocate(v, [1, 2]),
    "allocate.weights": lambda v: allocate(Money("1"), v),
    "allocate.weight": lambda v: allocate(Money("1"), [1, v]),
    "Division.parse": regions.Division.parse,
    "zone_between": lambda v: regions.zone_between("520100", v),
    "s10_check_digit": identifiers.s10_check_digit,
    "TrackingNumber.parse": identifiers.TrackingNumber.parse,
    "TrackingNumber.parse_any": identifiers.TrackingNumber.parse_any,
    "validate_id_number": identifiers.validate_id_number,
    "validate_uscc": identifiers.validate_uscc,
    "validate_mobile": identifiers.validate_mobile,
    "mask_mobile": identifiers.mask_mobile,
    "mask_id_number": identifiers.mask_id_number,
    "mask_name": identifiers.mask_name,
    "mask_address": identifiers.mask_address,
    "is_workday": lambda v: WorkCalendar.china().is_workday(v),
    "add_workdays.date": lambda v: WorkCalendar.china().add_workdays(v, 1),
    "add_workdays.n": lambda v: WorkCalendar.china().add_workdays(date(2024, 1, 2), v),
    "workdays_between": lambda v: WorkCalendar.china().workdays_between(date(2024, 1, 2), v),
    "ServiceCenter.division": lambda v: ServiceCenter(code="X", name="x", division=v),
    "ServiceCenter.mode": lambda v: ServiceCenter(code="X", name="x", division="520100", mode=v),
    "Recipient.mobile": lambda v: Recipient(name="张三", mobile=v),
    "Shipment.weight_g": lambda v: _shipment(weight_g=v),
    "Shipment.created_at": lambda v: _shipment(created_at=v),
    "Shipment.declared_value": lambda v: _shipment(declared_value=v),
    "Shipment.events": lambda v: _shipment(events=v),
    "TrackingEvent.occurred_at": lambda v: TrackingEvent(
        event_id="e", tracking_number="RR473124829GB", status="picked_up", occurred_at=v
    ),
    "from_json(Money)": lambda v: serialization.from_json(v, Money),
    "from_json(Shipment)": lambda v: serialization.from_json(v, Shipment),
    "from_primitive(Shipment)": lambda v: serialization.from_primitive(v, Shipment),
    "from_primitive(ServiceCenter)": lambda v: serialization.from_primitive(v, ServiceCenter),
    # --- agreements and settlement ---
    "FlatTariff.price": lambda v: FlatTariff(price=v),
    "ZoneStep.first_g": lambda v: ZoneStep(
        zone="same_city", first_g=v, first_fee="8", step_g=500, step_fee="1"
    ),
    "WeightTariff.zones": lambda v: WeightTariff(zones=v),
    "Insurance.rate": lambda v: Insurance(rate=v),
    "Rate.insurance": lambda v: Rate(
        valid_from=date(2018, 1, 1), reference="R", tariff=FlatTariff(price="1"), insurance=v
    ),
    "Budget.strict": lambda v: Budget(annual="1", strict=v),
    "Rate.valid_from": lambda v: Rate(valid_from=v, reference="R", tariff=FlatTariff(price="1")),
    "Rate.quote.weight_g": lambda v: _RATE.quote(zone=Zone.SAME_CITY, weight_g=v),
    "Rate.quote.discount": lambda v: _RATE.quote(zone=Zone.SAME_CITY, weight_g=1, discount=v),
    "RateCard.rates": lambda v: RateCard(name="R", rates=v),
    "RateCard.rate_on": lambda v: RateCard(name="R", rates=[_RATE]).rate_on(v),
    "RateCard.from_toml": RateCard.from_toml,
    "RateCard.from_json": RateCard.from_json,
    "RateCard.from_data": RateCard.from_data,
    "PerPiece.discount": lambda v: PerPiece(tariff=FlatTariff(price="1"), discount=v),
    "LumpSum.amount": lambda v: LumpSum(amount=v),
    "LumpSum.quota": lambda v: LumpSum(amount="1", quota=v),
    "FeeAgreement.centers": lambda v: _agreement(centers=v),
    "FeeAgreement.covers": lambda v: _agreement(covers=v),
    "FeeAgreement.valid_from": lambda v: _agreement(valid_from=v),
    "FeeAgreement.budget": lambda v: _agreement(budget=v),
    "business_date": business_date,
    "Period.parse": Period.parse,
    "Period.previous": lambda v: Period.parse(v).previous(),
    "Period.next": lambda v: Period.parse(v).next(),
    "Period.month": lambda v: Period.month(2018, v),
    "settle.agreement": lambda v: settle(v, [], Period.month(2018, 6)),
    "settle.shipments": lambda v: settle(_agreement(), v, Period.month(2018, 6)),
    "settle.shipment": lambda v: settle(_agreement(), [v], Period.month(2018, 6)),
    "settle.period": lambda v: settle(_agreement(), [], v),
    "settle.previous": lambda v: settle(_agreement(), [], Period.month(2018, 6), previous=v),
    "split.weights": lambda v: split(Money("1"), v),
    "prorate.start": lambda v: prorate(Money("1"), Period.month(2018, 6), v, date(2018, 7, 1)),
    "amount_in_words": amount_in_words,
    "CarrierBill.from_text": CarrierBill.from_text,
    "CarrierBill.from_text.row": lambda v: CarrierBill.from_text(_BILL_HEADER + str(v)),
    "CarrierBill.from_text.columns": lambda v: CarrierBill.from_text(_BILL_HEADER, columns=v),
    "reconcile.bill": lambda v: reconcile(settle(_agreement(), [], Period.month(2018, 6)), v),
    "reconcile.statement": lambda v: reconcile(v, CarrierBill(rows=())),
}

PREDICATES: dict[str, Callable[[Any], bool]] = {
    "is_valid_tracking_number": identifiers.is_valid_tracking_number,
    "is_valid_id_number": identifiers.is_valid_id_number,
    "is_valid_uscc": identifiers.is_valid_uscc,
    "is_valid_mobile": identifiers.is_valid_mobile,
}


def _shipment(**changes: object) -> Shipment:
    fields: dict[str, object] = {
        "id": "GP-1",
        "center": "GZ-1",
        "business_line": "licence_delivery",
        "direction": "outbound_result",
        "origin": "520102",
        "destination": "520103",
        "weight_g": 100,
        "created_at": datetime.fromisoformat("2024-01-02T09:00:00+08:00"),
    }
    fields.update(changes)
    return Shipment(**fields)  # type: ignore[arg-type]


# --- agreements and settlement ---

_RATE = Rate(valid_from=date(2018, 1, 1), reference="R", tariff=FlatTariff(price="10.00"))
_BILL_HEADER = "运单号,揽收日期,重量(克),寄达地,费用类型,金额\n"


def _agreement(**changes: object) -> FeeAgreement:
    fields: dict[str, object] = {
        "id": "GZ-EMS",
        "carrier": "ems",
        "reference": "R",
        "centers": {"GZ-1"},
        "covers": Coverage.all(),
        "mode": PerPiece(tariff=FlatTariff(price="10.00")),
        "valid_from": date(2018, 1, 1),
    }
    fields.update(changes)
    return FeeAgreement(**fields)  # type: ignore[arg-type]


def _call(function: Callable[[Any], object], value: object) -> None:
    message = ""
    try:
        function(value)
    except GovpostError as exc:
        message = str(exc)
    # However long the junk, the message about it is short (it shows a cut of it).
    assert len(message) < 1_000, message[:200]


@pytest.mark.parametrize("name", sorted(VALIDATORS))
def test_junk_gives_a_govpost_error(name: str) -> None:
    for value in JUNK:
        _call(VALIDATORS[name], value)


@pytest.mark.parametrize("name", sorted(PREDICATES))
def test_junk_gives_false(name: str) -> None:
    for value in JUNK:
        assert PREDICATES[name](value) is False, value


@pytest.mark.parametrize("name", sorted(VALIDATORS))
@given(
    value=st.one_of(
        st.text(),
        st.binary(max_size=20),
        st.integers(),
        st.floats(),
        st.decimals(),
        st.lists(st.integers(), max_size=3),
        st.dictionaries(st.text(max_size=5), st.text(max_size=5), max_size=3),
    )
)
def test_random_input_gives_a_govpost_error(name: str, value: object) -> None:
    """Any generated value either is accepted or raises a GovpostError."""
    _call(VALIDATORS[name], value)
