"""Call sites of govpost.applications, checked by mypy (never run)."""

from __future__ import annotations

from datetime import date, datetime
from fractions import Fraction
from typing import assert_type

from govpost.applications import (
    Applicant,
    Application,
    ApplicationStatus,
    CarrierStatus,
    DeliveryChoice,
    DeliveryOrder,
    Message,
    Promise,
    SampleHall,
    Service,
    ServiceCatalogue,
    TripRule,
    TripsSaved,
    decode,
    decode_as,
    trips_saved,
)
from govpost.centers import BusinessLine, Channel, ServiceCenter
from govpost.money import Money
from govpost.regions import Division, Zone
from govpost.shipments import Shipment


def catalogue(text: str) -> None:
    service = Service(
        code="S1", name="营业执照核发", business_line="licence_delivery", time_limit_days=3
    )
    assert_type(service.business_line, BusinessLine)
    Service(code="S1", name="x", business_line=BusinessLine.TAX, time_limit_days="3")  # type: ignore[arg-type]
    cat = ServiceCatalogue.from_toml(text)
    assert_type(cat, ServiceCatalogue)
    assert_type(cat.lookup("S1"), Service)
    assert_type(cat.to_toml(), str)
    ServiceCatalogue.from_toml(1)  # type: ignore[arg-type]


def application(at: datetime, center: ServiceCenter, cat: ServiceCatalogue) -> None:
    app = Application(
        reference="R-1",
        center=center,
        service="S1",
        channel=Channel.ONLINE,
        applicant=Applicant(name="张三", mobile="13800138000"),
        accepted_at=at,
        destination=Division.parse("520102"),
        delivery=DeliveryChoice.COLLECT,
    )
    Application(
        reference="R-1",
        center="GZ-1",
        service="S1",
        channel="online",
        applicant=Applicant(name="张三", mobile="13800138000"),
        accepted_at=date(2018, 9, 30),  # type: ignore[arg-type]
        destination="520102",
        delivery="collect",
    )
    assert_type(app.approve(at).status, ApplicationStatus)
    assert_type(app.current_delivery, DeliveryChoice)
    assert_type(app.approved_at, datetime | None)
    assert_type(app.outbound_shipment(center, cat), Shipment)
    app.outbound_shipment(center, cat, weight_g=0.2)  # type: ignore[arg-type]
    app.change_delivery("mail", at)
    app.change_delivery(1, at)  # type: ignore[arg-type]


def trips(apps: list[Application], center: ServiceCenter, cat: ServiceCatalogue) -> None:
    rule = TripRule(cost_per_trip={z: Money("10") for z in Zone})
    TripRule(cost_per_trip=dict.fromkeys(Zone, 10.0))  # type: ignore[arg-type]
    saved = trips_saved(apps, rule, catalogue=cat, centers=[center])
    assert_type(saved, TripsSaved)
    assert_type(saved.cost, Money)
    assert_type(saved.trips, int)


def exchange(text: str, promise: Promise) -> None:
    assert_type(decode(text), Message)
    assert_type(decode_as(text, DeliveryOrder), DeliveryOrder)
    assert_type(decode_as(text, CarrierStatus), CarrierStatus)
    decode_as(text, Service)  # type: ignore[type-var]
    assert_type(promise.delivered_by, date | None)


def hall(cat: ServiceCatalogue, center: ServiceCenter) -> None:
    h = SampleHall(
        catalogue=cat, centers=[center], start=date(2018, 9, 25), mail_share=Fraction(4, 5)
    )
    assert_type(h.applications(), tuple[Application, ...])
    SampleHall(catalogue=cat, centers=[center], start=date(2018, 9, 25), mail_share=0.8)  # type: ignore[arg-type]
