"""Call sites of the foundation and the shipment models, checked by mypy (never run)."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import assert_type
from zoneinfo import ZoneInfo

from govpost._limits import check_year
from govpost.calendar import WorkCalendar
from govpost.centers import BusinessLine, CooperationMode, ServiceCenter, center_code
from govpost.identifiers import (
    TrackingNumber,
    mask_mobile,
    s10_check_digit,
    validate_id_number,
    validate_mobile,
    validate_uscc,
)
from govpost.money import Money, allocate
from govpost.periods import Period, business_date
from govpost.privacy import scrub
from govpost.regions import Division, Zone, zone_between
from govpost.shipments import Recipient, Shipment, ShipmentStatus, TrackingEvent
from govpost.timelimits import DeliveryTimeLimits, StageDurations, working_time_between

AT = datetime(2024, 6, 3, 9, 0, tzinfo=ZoneInfo("Asia/Shanghai"))


def periods() -> None:
    assert_type(Period.month(2018, 6), Period)
    Period.month("2018", 6)  # type: ignore[arg-type]
    assert_type(business_date(AT), date)
    business_date("2018-06-01")  # type: ignore[arg-type]
    check_year(date(2018, 1, 1), "d")
    check_year("2018", "d")  # type: ignore[arg-type]


def money() -> None:
    assert_type(Money("12.50"), Money)
    assert_type(Money(Decimal("12.50"), "CNY"), Money)
    assert_type(Money(12), Money)
    Money(12.5)  # type: ignore[arg-type]
    Money("12.50", currency=156)  # type: ignore[arg-type]
    assert_type(Money("1") + Money("2"), Money)
    Money("1") + 1  # type: ignore[operator]
    assert_type(Money("1") * 3, Money)
    Money("1") * 1.5  # type: ignore[operator]
    assert_type(Money.from_fen(1250), Money)
    Money.from_fen("1250")  # type: ignore[arg-type]
    assert_type(allocate(Money("10"), [1, 2]), list[Money])
    allocate(Money("10"), [1.5, 2.5])  # type: ignore[list-item]
    allocate("10", [1, 2])  # type: ignore[arg-type]


def identifiers() -> None:
    assert_type(TrackingNumber.parse("RR473124829GB"), TrackingNumber)
    TrackingNumber.parse(473124829)  # type: ignore[arg-type]
    assert_type(TrackingNumber(value="RR473124829GB"), TrackingNumber)
    TrackingNumber(value=None)  # type: ignore[arg-type]
    assert_type(s10_check_digit("47312482"), int)
    s10_check_digit(47312482)  # type: ignore[arg-type]
    assert_type(validate_mobile("13800138000"), str)
    validate_mobile(13800138000)  # type: ignore[arg-type]
    assert_type(validate_id_number("11010519491231002X"), str)
    validate_id_number(110105)  # type: ignore[arg-type]
    assert_type(validate_uscc("91110000600037341L"), str)
    validate_uscc(None)  # type: ignore[arg-type]
    assert_type(mask_mobile("13800138000"), str)
    mask_mobile(13800138000)  # type: ignore[arg-type]
    assert_type(scrub(object()), str)  # anything: scrub is for whatever text may hold


def regions() -> None:
    assert_type(Division.parse("520100"), Division)
    Division.parse(520100)  # type: ignore[arg-type]
    assert_type(zone_between("520102", Division.parse("520103")), Zone)
    zone_between(520102, "520103")  # type: ignore[arg-type]


def calendar() -> None:
    cal = WorkCalendar.china()
    assert_type(cal.add_workdays(date(2024, 6, 3), 2), date)
    cal.add_workdays(date(2024, 6, 3), 2.0)  # type: ignore[arg-type]
    assert_type(cal.is_workday(AT), bool)
    cal.is_workday("2024-06-03")  # type: ignore[arg-type]
    assert_type(WorkCalendar(covered_years=[2030]), WorkCalendar)
    WorkCalendar(covered_years="2030")  # type: ignore[arg-type]


def centers() -> None:
    center = ServiceCenter(
        code="GZ-520000", name="贵州省政务服务中心", division="520000",
        mode=CooperationMode.STATIONED_STAFF, business_lines={BusinessLine.LICENCE_DELIVERY},
    )  # fmt: skip
    assert_type(center, ServiceCenter)
    ServiceCenter(code="GZ-1", name="x", division=520000)  # type: ignore[arg-type]
    ServiceCenter(code="GZ-1", name="x", division="520000", mode=3)  # type: ignore[arg-type]
    assert_type(center_code(center), str)
    center_code(42)  # type: ignore[arg-type]


def shipments() -> None:
    shipment = Shipment(
        id="GP-1", center="GZ-520102", business_line="licence_delivery",
        direction="outbound_result", origin="520102", destination=Division.parse("522601"),
        weight_g=180, created_at=AT, tracking_number="RR473124829GB",
        status=ShipmentStatus.CREATED,
    )  # fmt: skip
    assert_type(shipment, Shipment)
    # The example: three mistakes, each refused where it is written.
    Shipment(
        id="GP-1", business_line="tax", direction="outbound_result", origin="520102",
        destination="522601",
        center=42,  # type: ignore[arg-type]
        weight_g="heavy",  # type: ignore[arg-type]
        created_at="yesterday",  # type: ignore[arg-type]
    )  # fmt: skip
    Shipment(
        id="GP-1", center="GZ-1", business_line="tax", direction="outbound_result",
        origin="520102", destination="522601", created_at=AT,
        weight_g=0.18,  # type: ignore[arg-type]
        tracking_number=473124829,  # type: ignore[arg-type]
        events=["e1"],  # type: ignore[list-item]
    )  # fmt: skip
    assert_type(Recipient(name="张三", mobile="13800138000"), Recipient)
    Recipient(name="张三", mobile=13800138000)  # type: ignore[arg-type]
    event = TrackingEvent(
        event_id="e1", tracking_number="RR473124829GB", status="picked_up", occurred_at=AT
    )
    assert_type(event, TrackingEvent)
    TrackingEvent(event_id="e1", tracking_number="RR473124829GB", status="picked_up",
                  occurred_at="2024-06-03")  # type: ignore[arg-type]  # fmt: skip
    assert_type(shipment.apply(event), Shipment)
    shipment.apply("e1")  # type: ignore[arg-type]


def timelimits() -> None:
    cal = WorkCalendar.china()
    limits = DeliveryTimeLimits(
        days={Zone.SAME_CITY: 1, Zone.IN_PROVINCE: 2, Zone.OUT_OF_PROVINCE: 4}, calendar=cal
    )
    assert_type(limits, DeliveryTimeLimits)
    DeliveryTimeLimits(days={Zone.SAME_CITY: 1}, calendar="china")  # type: ignore[arg-type]
    assert_type(limits.deadline_for("in_province", AT), date)
    limits.deadline_for(Zone.IN_PROVINCE, date(2024, 6, 3))  # type: ignore[arg-type]
    assert_type(working_time_between(cal, AT, AT), timedelta)
    working_time_between(cal, AT, "tomorrow")  # type: ignore[arg-type]
    assert_type(StageDurations.of(Shipment(
        id="GP-1", center="GZ-1", business_line="tax", direction="outbound_result",
        origin="520102", destination="522601", weight_g=180, created_at=AT,
    ), cal), StageDurations)  # fmt: skip
    StageDurations.of("GP-1", cal)  # type: ignore[arg-type]
