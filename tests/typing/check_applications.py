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


def lifecycle(app: Application, at: datetime) -> None:
    from govpost.applications import ApplicationAnomaly, ApplicationEvent, ApplicationEventKind

    event = ApplicationEvent(event_id="e1", kind="approved", occurred_at=at)
    assert_type(event.kind, ApplicationEventKind)
    ApplicationEvent(event_id=1, kind="approved", occurred_at=at)  # type: ignore[arg-type]
    assert_type(app.apply(event, strict=True), Application)
    app.apply("approved")  # type: ignore[arg-type]
    assert_type(app.anomalies, tuple[ApplicationAnomaly, ...])
    assert_type(app.reject(at).status, ApplicationStatus)
    assert_type(app.withdraw(at, event_id="w"), Application)
    assert_type(app.dispatch(at, tracking_number="EA123456785CN"), Application)
    app.dispatch(at, tracking_number=123)  # type: ignore[arg-type]
    assert_type(app.deliver(at).delivered_at, datetime | None)
    assert_type(app.collect(at).close(at), Application)
    app.close(date(2018, 10, 1))  # type: ignore[arg-type]
    Applicant(name="张三", mobile=13800138000)  # type: ignore[arg-type]


def time_limits(app: Application, cat: ServiceCatalogue, center: ServiceCenter) -> None:
    from govpost.applications import (
        ApplicationStages,
        ApplicationTimeLimits,
        Distribution,
        StageAnalysis,
        Tally,
        analyse,
    )
    from govpost.calendar import WorkCalendar
    from govpost.shipments import DeliveryTimeLimits

    calendar = WorkCalendar.china()
    limits = ApplicationTimeLimits(
        calendar=calendar,
        delivery=DeliveryTimeLimits(days=dict.fromkeys(Zone, 2), calendar=calendar),
    )
    ApplicationTimeLimits(calendar=calendar, delivery={Zone.SAME_CITY: 1})  # type: ignore[arg-type]
    assert_type(limits.approval_deadline(date(2018, 9, 30), 5), date)
    limits.approval_deadline(date(2018, 9, 30), "5")  # type: ignore[arg-type]
    assert_type(limits.promise(app, cat, center), Promise)
    limits.promise(app, cat, "GZ-520100")  # type: ignore[arg-type]
    stages = ApplicationStages.of(app, calendar)
    assert_type(stages.total.hours if stages.total else None, Fraction | None)
    ApplicationStages.of(app, limits)  # type: ignore[arg-type]
    now = datetime(2018, 10, 31, tzinfo=None)
    result = analyse([app], catalogue=cat, limits=limits, centers=[center], now=now)
    assert_type(result, StageAnalysis)
    analyse([app], catalogue=cat, limits=limits, centers=[center], now=date(2018, 10, 31))  # type: ignore[arg-type]
    assert_type(Distribution.of([1, 2]).percentile(50), int | None)
    Distribution.of(["1"])  # type: ignore[list-item]
    assert_type(Tally(judged=2, on_time=1).rate, Fraction | None)
    Tally(judged="2")  # type: ignore[arg-type]


def messages(app: Application, center: ServiceCenter, cat: ServiceCatalogue) -> None:
    from govpost.applications import ApplicationEvent, ApplicationStatusMessage, encode
    from govpost.shipments import TrackingEvent

    order = DeliveryOrder.of(app, center, cat, weight_g=250)
    assert_type(order, DeliveryOrder)
    DeliveryOrder.of(app, "GZ-520100", cat)  # type: ignore[arg-type]
    assert_type(encode(order), str)
    encode(app)  # type: ignore[arg-type]
    shipment = app.outbound_shipment(center, cat)
    event = TrackingEvent(
        event_id="s1",
        tracking_number="EA123456785CN",
        status="delivered",
        occurred_at=datetime(2018, 10, 10, tzinfo=None),
    )
    carrier = CarrierStatus.of(shipment, event)
    assert_type(carrier, CarrierStatus)
    CarrierStatus.of(app, event)  # type: ignore[arg-type]
    status = ApplicationStatusMessage.of(carrier)
    assert_type(status.event(), ApplicationEvent | None)
    ApplicationStatusMessage.of(order)  # type: ignore[arg-type]
