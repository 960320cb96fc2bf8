"""Junk of every kind fed to every public parser and validator gives a govpost error or False.

In the spirit of python-stdnum's robustness test: whatever a user (or a carrier, or a
spreadsheet) hands govpost, the answer is a :class:`~govpost.GovpostError` that says what was
wrong, or ``False`` from an ``is_valid_*`` function — never a ``TypeError``, ``KeyError``,
``decimal.InvalidOperation`` or other exception from deep inside.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from datetime import date, datetime
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from govpost import GovpostError, WorkCalendar, identifiers, regions, serialization
from govpost.centers import ServiceCenter
from govpost.money import Money, allocate
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


def _call(function: Callable[[Any], object], value: object) -> None:
    with contextlib.suppress(GovpostError):
        function(value)


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
