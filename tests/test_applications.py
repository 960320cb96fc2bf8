"""govpost.applications: the catalogue, the lifecycle, shipments, time limits and trips saved."""

from __future__ import annotations

import contextlib
import itertools
import json
import tomllib
from datetime import UTC, date, datetime, timedelta
from fractions import Fraction
from pathlib import Path

import attrs
import pytest
import tomli_w
from hypothesis import given
from hypothesis import strategies as st

from govpost.applications import (
    APPLICATION_TRANSITIONS,
    Applicant,
    Application,
    ApplicationEvent,
    ApplicationStages,
    ApplicationStatus,
    ApplicationTimeLimits,
    DeliveryChoice,
    Distribution,
    SampleHall,
    Service,
    ServiceCatalogue,
    TripRule,
    analyse,
    trips_saved,
)
from govpost.calendar import WorkCalendar
from govpost.centers import BusinessLine, Channel, CooperationMode, ServiceCenter
from govpost.errors import (
    DeserializationError,
    GovpostError,
    InvalidTransitionError,
    ValidationError,
)
from govpost.money import Money
from govpost.periods import SHANGHAI
from govpost.regions import Zone
from govpost.serialization import from_json, to_json
from govpost.shipments import (
    DeliveryTimeLimits,
    Direction,
    ShipmentStatus,
    TrackingEvent,
)
from govpost.testing.strategies import _lifecycle_events
from tests.fuzzing import fuzz
from tests.strategies import (
    CENTER,
    applicants,
    application_events,
    applications,
    catalogues,
    services,
)

ROOT = Path(__file__).resolve().parent.parent
CATALOGUE = ServiceCatalogue.from_toml(
    (ROOT / "examples" / "data" / "service-catalogue.toml").read_text(encoding="utf-8")
)
CALENDAR = WorkCalendar.china()
DELIVERY = DeliveryTimeLimits(
    days={Zone.SAME_CITY: 1, Zone.IN_PROVINCE: 2, Zone.OUT_OF_PROVINCE: 4}, calendar=CALENDAR
)
LIMITS = ApplicationTimeLimits(calendar=CALENDAR, delivery=DELIVERY)
GUIYANG = ServiceCenter(
    code="GZ-520100",
    name="贵阳市政务服务中心",
    division="520100",
    mode=CooperationMode.STATIONED_STAFF,
    channels={Channel.ONLINE, Channel.WINDOW},
    business_lines=set(BusinessLine),
)
SAFE_CATALOGUE = st.builds(
    ServiceCatalogue,
    services=st.lists(
        services(result_by_post=True), min_size=1, max_size=4, unique_by=lambda s: s.code
    ),
)


def at(month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(2018, month, day, hour, minute, tzinfo=SHANGHAI)


def licence(**changes: object) -> Application:
    fields: dict[str, object] = {
        "reference": "520100-20180927-0001",
        "center": "GZ-520100",
        "service": "GZ-SCJG-001",  # 营业执照核发, 3 working days in the sample catalogue
        "channel": "online",
        "applicant": Applicant(
            name="欧阳娜娜",
            mobile="13800138000",
            id_number="520102199003071236",
            address="贵州省凯里市北京东路1号",
        ),
        "accepted_at": at(9, 27, 10),
        "destination": "522601",  # 凯里市: in province from 贵阳市
        "delivery": "mail",
    }
    fields.update(changes)
    return Application(**fields)  # type: ignore[arg-type]


# --- the catalogue -----------------------------------------------------------------------------


def test_the_sample_catalogue_is_marked_sample_data_and_covers_every_line_it_names() -> None:
    text = (ROOT / "examples" / "data" / "service-catalogue.toml").read_text(encoding="utf-8")
    assert text.startswith("# SAMPLE DATA — NOT AN OFFICIAL LIST.")
    assert CATALOGUE.reference is not None
    assert "SAMPLE DATA" in CATALOGUE.reference
    lines = {s.business_line for s in CATALOGUE}
    assert {BusinessLine.LICENCE_DELIVERY, BusinessLine.POLICE, BusinessLine.TAX} == lines
    names = {s.name for s in CATALOGUE}
    assert {"营业执照核发", "补领机动车号牌"} <= names
    assert 10 == CATALOGUE.lookup("GZ-SCJG-002").time_limit_days


def test_an_unknown_service_is_a_validation_error_naming_the_code_and_the_fix() -> None:
    with pytest.raises(ValidationError, match=r"unknown service code 'GZ-XX-999'.*add the service"):
        CATALOGUE.lookup("GZ-XX-999")
    with pytest.raises(ValidationError, match="unknown service code 'NOPE'"):
        licence(service="NOPE").approve(at(9, 28)).outbound_shipment(GUIYANG, CATALOGUE)


def test_one_code_with_two_services_is_refused() -> None:
    a = Service(code="S1", name="甲", business_line="tax", time_limit_days=1)
    b = attrs.evolve(a, name="乙")
    with pytest.raises(ValidationError, match="'S1' is listed twice"):
        ServiceCatalogue(services=[a, b])
    assert (a,) == ServiceCatalogue(services=[a, a]).services


def test_a_bad_catalogue_file_names_the_field() -> None:
    bad = '[[services]]\ncode = "S1"\nname = "x"\nbusiness_line = "tax"\ntime_limit_days = "3"\n'
    with pytest.raises(DeserializationError, match=r"@ \$\.services\[0\]\.time_limit_days"):
        ServiceCatalogue.from_toml(bad)
    with pytest.raises(DeserializationError, match="not valid TOML"):
        ServiceCatalogue.from_toml("[[services]\n")


@given(catalogues())
def test_catalogues_round_trip_through_json_and_toml(catalogue: ServiceCatalogue) -> None:
    """A catalogue written as JSON or TOML reads back equal."""
    assert catalogue == ServiceCatalogue.from_json(catalogue.to_json())
    assert catalogue == ServiceCatalogue.from_toml(catalogue.to_toml())
    assert catalogue == from_json(to_json(catalogue), ServiceCatalogue)


# --- the applicant and the application ---------------------------------------------------------


def test_personal_data_is_masked_in_repr_str_and_errors() -> None:
    app = licence()
    for shown in (repr(app), str(app), repr(app.applicant), str(app.applicant)):
        assert "欧阳娜娜" not in shown
        assert "13800138000" not in shown
        assert "520102199003071236" not in shown
        assert "北京东路" not in shown
    assert "Applicant(name='欧阳**', mobile='138****8000', id_number='520102********1236'" in repr(
        app
    )
    with pytest.raises(ValidationError) as caught:
        Applicant(name="张三", mobile="13800138000", id_number="520102199003071235")
    assert "199003071235" not in str(caught.value)


def test_mail_needs_an_address() -> None:
    nobody = Applicant(name="张三", mobile="13800138000")
    with pytest.raises(ValidationError, match="chose MAIL but the applicant gave no address"):
        licence(applicant=nobody)


def test_the_lifecycle_of_a_mailed_certificate() -> None:
    app = licence().approve(at(9, 30, 16))
    assert ApplicationStatus.APPROVED == app.status
    app = app.dispatch(at(10, 8, 10), tracking_number="EA123456785CN")
    app = app.deliver(at(10, 10, 15)).close(at(10, 10, 17))
    assert ApplicationStatus.CLOSED == app.status
    assert [
        ApplicationStatus.APPROVED,
        ApplicationStatus.RESULT_DISPATCHED,
        ApplicationStatus.RESULT_DELIVERED,
        ApplicationStatus.CLOSED,
    ] == [status for _, status in app.history]
    assert at(10, 10, 15) == app.delivered_at
    assert "已归档" == app.status.label


def test_a_collect_application_goes_from_approved_to_collected() -> None:
    app = licence(delivery="collect").approve(at(9, 30, 16)).collect(at(10, 8, 9))
    assert ApplicationStatus.RESULT_COLLECTED == app.status
    with pytest.raises(InvalidTransitionError, match="chose COLLECT: the result is not mailed"):
        licence(delivery="collect").approve(at(9, 30, 16)).dispatch(at(10, 8, 10))


def test_an_illegal_transition_is_an_invalid_transition_error_saying_what_is_allowed() -> None:
    with pytest.raises(
        InvalidTransitionError,
        match=r"is ACCEPTED \(已受理\): cannot record result_delivered .*ACCEPTED → "
        r"RESULT_DELIVERED is not allowed; from ACCEPTED it may go to APPROVED, REJECTED, "
        r"WITHDRAWN",
    ):
        licence().deliver(at(9, 28, 9))
    rejected = licence().reject(at(9, 28, 9))
    with pytest.raises(InvalidTransitionError, match="REJECTED → APPROVED is not allowed"):
        rejected.approve(at(9, 29, 9))


def test_a_delivery_choice_changed_after_dispatch_is_refused() -> None:
    dispatched = licence().approve(at(9, 30, 16)).dispatch(at(10, 8, 10))
    with pytest.raises(
        InvalidTransitionError,
        match="the choice can change only until the result is dispatched",
    ):
        dispatched.change_delivery("collect", at(10, 8, 11))
    # Before dispatch it may change, both ways.
    approved = licence().approve(at(9, 30, 16))
    back = approved.change_delivery("collect", at(10, 8, 8)).change_delivery("mail", at(10, 8, 9))
    assert DeliveryChoice.MAIL == back.current_delivery


def test_events_that_cannot_apply_are_recorded_not_dropped() -> None:
    change = ApplicationEvent(
        event_id="late-change", kind="delivery_changed", delivery="collect", occurred_at=at(10, 9)
    )
    app = licence().approve(at(9, 30, 16)).dispatch(at(10, 8, 10)).apply(change)
    assert ApplicationStatus.RESULT_DISPATCHED == app.status
    assert DeliveryChoice.MAIL == app.current_delivery
    assert change in app.events
    assert ["late-change"] == [a.event_id for a in app.anomalies]
    # The same change, arriving in time order before the dispatch, applies instead.
    early = attrs.evolve(change, occurred_at=at(10, 8, 9))
    assert DeliveryChoice.COLLECT == licence().approve(at(9, 30, 16)).apply(early).current_delivery


def test_the_transition_table_is_the_one_the_issue_declares() -> None:
    s = ApplicationStatus
    assert {s.APPROVED, s.REJECTED, s.WITHDRAWN} == APPLICATION_TRANSITIONS[s.ACCEPTED]
    assert {s.RESULT_DISPATCHED, s.RESULT_COLLECTED} == APPLICATION_TRANSITIONS[s.APPROVED]
    assert frozenset() == APPLICATION_TRANSITIONS[s.CLOSED]
    assert all(status in APPLICATION_TRANSITIONS for status in s)


# --- shipments ---------------------------------------------------------------------------------


def test_an_approved_mail_application_yields_its_outbound_shipment() -> None:
    app = licence().approve(at(9, 30, 16))
    shipment = app.outbound_shipment(GUIYANG, CATALOGUE)
    assert "520100-20180927-0001-R" == shipment.id
    assert Direction.OUTBOUND_RESULT == shipment.direction
    assert BusinessLine.LICENCE_DELIVERY == shipment.business_line
    assert ("520100", "522601") == (shipment.origin.code, shipment.destination.code)
    assert (200, at(9, 30, 16), at(9, 30, 16)) == (
        shipment.weight_g,
        shipment.created_at,
        shipment.approved_at,
    )
    assert "520100-20180927-0001" == shipment.application_ref
    assert shipment.recipient is not None
    assert "13800138000" == shipment.recipient.mobile
    assert shipment == app.outbound_shipment(GUIYANG, CATALOGUE)
    assert Zone.IN_PROVINCE == shipment.zone


def test_no_result_shipment_for_rejected_withdrawn_or_collect_applications() -> None:
    with pytest.raises(InvalidTransitionError, match="is REJECTED: only an approved application"):
        licence().reject(at(9, 28, 9)).outbound_shipment(GUIYANG, CATALOGUE)
    with pytest.raises(InvalidTransitionError, match="is WITHDRAWN"):
        licence().withdraw(at(9, 28, 9)).outbound_shipment(GUIYANG, CATALOGUE)
    with pytest.raises(InvalidTransitionError, match="chose COLLECT: the applicant collects"):
        licence(delivery="collect").approve(at(9, 28, 9)).outbound_shipment(GUIYANG, CATALOGUE)
    other = attrs.evolve(GUIYANG, code="GZ-1")
    with pytest.raises(ValidationError, match="was accepted by center 'GZ-520100', not 'GZ-1'"):
        licence().approve(at(9, 28, 9)).outbound_shipment(other, CATALOGUE)


def test_materials_by_post_yield_an_inbound_shipment() -> None:
    app = licence(materials_by_post=True)
    inbound = app.inbound_shipment(GUIYANG, CATALOGUE)
    assert ("520100-20180927-0001-M", Direction.INBOUND_MATERIAL) == (
        inbound.id,
        inbound.direction,
    )
    assert ("522601", "520100") == (inbound.origin.code, inbound.destination.code)
    assert (inbound,) == app.shipments(GUIYANG, CATALOGUE)
    with pytest.raises(ValidationError, match="does not mail its materials in"):
        licence().inbound_shipment(GUIYANG, CATALOGUE)


# --- time limits -------------------------------------------------------------------------------


def test_approved_on_the_last_working_day_before_national_day() -> None:
    """Accepted Thu 2018-09-27; 3 working days from the 28th: 28, Sat 29 and Sun 30 (调休)."""
    app = licence().approve(at(9, 30, 16))
    promise = LIMITS.promise(app, CATALOGUE, GUIYANG)
    assert date(2018, 9, 30) == promise.approval_by
    # The post takes it the next working day, after the holiday (1-7 October) ...
    assert date(2018, 10, 8) == promise.pickup_by
    # ... and delivers in the province within 2 working days: 9 and 10 October.
    assert date(2018, 10, 10) == promise.delivered_by
    # 28, 29, 30 September and 8, 9, 10 October.
    assert 6 == promise.working_days
    assert date(2018, 10, 19) == LIMITS.approval_deadline(at(9, 30, 10), 10)
    assert date(2018, 9, 30) == LIMITS.approval_deadline(at(9, 30, 10), 0)


def test_a_collect_promise_ends_with_the_approval() -> None:
    promise = LIMITS.promise(licence(delivery="collect"), CATALOGUE, GUIYANG)
    assert (date(2018, 9, 30), None, None, 3) == (
        promise.approval_by,
        promise.pickup_by,
        promise.delivered_by,
        promise.working_days,
    )


def tracked_certificate() -> tuple[Application, object]:
    app = licence().approve(at(9, 30, 16)).dispatch(at(10, 8, 10))
    shipment = attrs.evolve(
        app.outbound_shipment(GUIYANG, CATALOGUE, created_at=at(10, 8, 10)),
        tracking_number="EA123456785CN",
    )

    def scan(event_id: str, status: str, when: datetime) -> TrackingEvent:
        return TrackingEvent(
            event_id=event_id, tracking_number="EA123456785CN", status=status, occurred_at=when
        )

    shipment = shipment.apply(
        scan("s1", "picked_up", at(10, 8, 11)), scan("s2", "delivered", at(10, 10, 15))
    )
    return app.deliver(at(10, 10, 15)), shipment


def test_stage_durations_in_working_days_and_hours() -> None:
    app, shipment = tracked_certificate()
    stages = ApplicationStages.of(app, CALENDAR, shipment)  # type: ignore[arg-type]
    assert stages.approval is not None
    assert stages.dispatch is not None
    assert stages.pickup is not None
    assert stages.delivery is not None
    assert stages.total is not None
    # 27th 10:00-24:00, 28th, 29th, 30th 00:00-16:00: 14 + 24 + 24 + 16 hours.
    assert (3, Fraction(78)) == (stages.approval.working_days, stages.approval.hours)
    # 30th 16:00-24:00, the holiday, 8 October 00:00-10:00.
    assert (1, Fraction(18)) == (stages.dispatch.working_days, stages.dispatch.hours)
    assert (0, Fraction(1)) == (stages.pickup.working_days, stages.pickup.hours)
    assert (2, Fraction(52)) == (stages.delivery.working_days, stages.delivery.hours)
    assert 6 == stages.total.working_days


def test_on_time_rates_and_distributions_by_group() -> None:
    mailed, shipment = tracked_certificate()
    police = Application(
        reference="520100-20180928-0002",
        center="GZ-520100",
        service="GZ-JJ-001",  # 1 working day: due Sat 29 September
        channel="window",
        applicant=Applicant(name="张三", mobile="13900001111"),
        accepted_at=at(9, 28, 9),
        destination="520102",
        delivery="collect",
    )
    police = police.approve(at(10, 8, 9)).collect(at(10, 9, 10))
    result = analyse(
        [mailed, police],
        catalogue=CATALOGUE,
        limits=LIMITS,
        centers=[GUIYANG],
        shipments=[shipment],  # type: ignore[list-item]
        now=at(10, 31),
    )
    overall = result.overall
    assert 2 == overall.applications
    assert (2, 1, 1, Fraction(1, 2)) == (
        overall.approval.judged,
        overall.approval.on_time,
        overall.approval.late,
        overall.approval.rate,
    )
    assert (1, 1) == (overall.delivery.judged, overall.delivery.on_time)
    assert (1, 1) == (overall.promise.judged, overall.promise.on_time)
    # approval: 28, 29, 30 Sept for both; total: 4 (police, to the 9th) and 6 working days.
    assert ((3, 2),) == overall.approval_days.counts
    assert ((4, 1), (6, 1)) == overall.total_days.counts
    assert [("licence_delivery", 1), ("police", 0)] == [
        (g.key, g.approval.on_time) for g in result.by_line
    ]
    assert [("in_province", "省内", 1)] == [
        (g.key, g.label, g.applications) for g in result.by_zone
    ]
    modes = {"GZ-520100": CooperationMode.DOOR_PICKUP}
    by_mode = analyse(
        [mailed, police],
        catalogue=CATALOGUE,
        limits=LIMITS,
        centers=[GUIYANG],
        modes=modes,
        now=at(10, 31),
    ).by_mode
    assert [("door_pickup", "上门揽收", 2)] == [(g.key, g.label, g.applications) for g in by_mode]


def test_distribution_percentiles_are_nearest_rank() -> None:
    d = Distribution.of([5, 1, 3, 3, 2, 8, 3, 1, 2, 4])
    assert ((1, 2), (2, 2), (3, 3), (4, 1), (5, 1), (8, 1)) == d.counts
    assert (1, 3, 5, 8) == (d.percentile(10), d.percentile(50), d.percentile(90), d.percentile(100))
    assert Distribution.of([]).percentile(50) is None


# --- trips saved -------------------------------------------------------------------------------

RULE = TripRule(
    cost_per_trip={
        Zone.SAME_CITY: Money("10"),
        Zone.IN_PROVINCE: Money("60"),
        Zone.OUT_OF_PROVINCE: Money("300"),
    },
    reference="sample survey",
)


def test_trips_and_yuan_saved_for_a_hand_countable_set() -> None:
    def app(
        ref: str, service: str, destination: str, delivery: str, materials: bool
    ) -> Application:
        return licence(
            reference=ref,
            service=service,
            destination=destination,
            delivery=delivery,
            materials_by_post=materials,
        )

    a = app("A", "GZ-SCJG-001", "520102", "mail", True)  # same city: 2 trips, 20.00
    a = a.approve(at(9, 28)).dispatch(at(9, 29)).deliver(at(9, 30))
    b = app("B", "GZ-SCJG-001", "522601", "mail", False)  # in province: 1 trip, 60.00
    b = b.approve(at(9, 28)).dispatch(at(9, 29)).deliver(at(9, 30)).close(at(9, 30, 1))
    c = app("C", "GZ-JJ-001", "520102", "collect", False).approve(at(9, 28)).collect(at(9, 29))
    d = app("D", "GZ-SW-001", "110105", "mail", False).approve(at(9, 28)).dispatch(at(9, 29))
    e = app("E", "GZ-SCJG-001", "522601", "mail", True).reject(at(9, 28))  # materials: 60.00
    saved = trips_saved([a, b, c, d, e], RULE, catalogue=CATALOGUE, centers=[GUIYANG])
    assert (5, 2, 2, 4, Money("140.00")) == (
        saved.applications,
        saved.result_trips,
        saved.material_trips,
        saved.trips,
        saved.cost,
    )
    assert [
        (BusinessLine.LICENCE_DELIVERY, 3, 4, Money("140")),
        (BusinessLine.POLICE, 1, 0, Money("0")),
        (BusinessLine.TAX, 1, 0, Money("0")),
    ] == [(t.line, t.applications, t.trips, t.cost) for t in saved.by_line]
    assert RULE is saved.rule


def test_the_trip_rule_shows_its_assumptions() -> None:
    assumptions = RULE.assumptions()
    assert 1 == assumptions["trips_per_result"]
    assert {
        "same_city": "10.00 CNY",
        "in_province": "60.00 CNY",
        "out_of_province": "300.00 CNY",
    } == (assumptions["cost_per_trip"])
    assert "IN_PROVINCE: 60.00 CNY" in repr(RULE)
    assert "reference='sample survey'" in repr(RULE)
    with pytest.raises(ValidationError, match="misses the zones OUT_OF_PROVINCE"):
        TripRule(cost_per_trip={Zone.SAME_CITY: Money("1"), Zone.IN_PROVINCE: Money("2")})
    with pytest.raises(ValidationError, match=r"1\.005"):
        TripRule(cost_per_trip={z: Money("1.005") for z in Zone})


# --- the sample hall ---------------------------------------------------------------------------


def test_the_sample_hall_is_deterministic_and_follows_its_parameters() -> None:
    hall = SampleHall(
        catalogue=CATALOGUE,
        centers=[GUIYANG],
        start=date(2018, 9, 24),
        days=14,
        per_day=30,
        seed=7,
        online_share="1",
        mail_share="1",
        lines=[BusinessLine.LICENCE_DELIVERY],
    )
    apps = hall.applications()
    # 24 September 2018 is the Mid-Autumn holiday, 29 and 30 are 调休 working days, 1-7
    # October the National Day holiday: 25-30 September, 6 working days.
    assert 6 * 30 == len(apps)
    assert apps == attrs.evolve(hall).applications()
    assert apps != attrs.evolve(hall, seed=8).applications()
    assert {Channel.ONLINE} == {a.channel for a in apps}
    assert {BusinessLine.LICENCE_DELIVERY} == {
        CATALOGUE.lookup(a.service).business_line for a in apps
    }
    assert all(not a.anomalies for a in apps)
    by_post = [a for a in apps if CATALOGUE.lookup(a.service).result_by_post]
    assert all(
        a.delivery is DeliveryChoice.MAIL for a in by_post
    )  # the initial choice; a few change it later
    for a in apps:
        a.check(CATALOGUE)
        a.shipments(GUIYANG, CATALOGUE)


def test_the_sample_hall_leaves_out_what_happens_after_now() -> None:
    now = at(9, 28, 12)
    hall = SampleHall(catalogue=CATALOGUE, centers=[GUIYANG], start=date(2018, 9, 27), now=now)
    apps = hall.applications()
    assert apps
    assert all(e.occurred_at <= now for a in apps for e in a.events)
    assert any(a.status is ApplicationStatus.ACCEPTED for a in apps)


# --- properties --------------------------------------------------------------------------------


@given(SAFE_CATALOGUE.flatmap(lambda c: st.tuples(st.just(c), applications(catalogue=c))))
def test_result_shipments_only_for_approved_mail_applications(
    case: tuple[ServiceCatalogue, Application],
) -> None:
    """No result shipment for a rejected or withdrawn application (nor any not approved);
    exactly one outbound shipment, always the same, for an approved application that chose
    MAIL; the materials' inbound one exactly when they are mailed in."""
    catalogue, app = case
    found = app.shipments(CENTER, catalogue)
    outbound = [s for s in found if s.direction is Direction.OUTBOUND_RESULT]
    inbound = [s for s in found if s.direction is Direction.INBOUND_MATERIAL]
    mailed = app.is_approved and app.current_delivery is DeliveryChoice.MAIL
    assert (1 if mailed else 0) == len(outbound)
    assert (1 if app.materials_by_post else 0) == len(inbound)
    if app.status in (ApplicationStatus.REJECTED, ApplicationStatus.WITHDRAWN) or not mailed:
        with pytest.raises(InvalidTransitionError):
            app.outbound_shipment(CENTER, catalogue)
    else:
        assert outbound == [app.outbound_shipment(CENTER, catalogue)]
        assert app.reference + "-R" == outbound[0].id


@given(applications(), st.data())
def test_the_state_is_the_same_for_any_order_of_the_same_events(
    app: Application, data: st.DataObject
) -> None:
    """The status, delivery choice, times, history and anomalies derived from any permutation
    of the same events, with some of them repeated — applied at once, one by one, or in two
    batches — are the same. The events are a legal walk through the table (so that late
    statuses are reached) and noise, with ids that may collide."""
    events = list(app.events)
    repeated = data.draw(st.lists(st.sampled_from(events), max_size=4)) if events else []
    shuffled = data.draw(st.permutations(events + repeated))
    bare = attrs.evolve(app, events=())
    once = bare.apply(*shuffled)
    one_by_one = bare
    for event in shuffled:
        one_by_one = one_by_one.apply(event)
    cut = data.draw(st.integers(0, len(shuffled)))
    in_two = bare.apply(*shuffled[cut:]).apply(*shuffled[:cut])
    for other in (one_by_one, in_two):
        assert once == other == app
        assert (once.status, once.current_delivery, once.anomalies, once.history) == (
            other.status,
            other.current_delivery,
            other.anomalies,
            other.history,
        )
        assert [once.reached_at(s) for s in ApplicationStatus] == [
            other.reached_at(s) for s in ApplicationStatus
        ]
        assert (once.status, once.anomalies) == (app.status, app.anomalies)


@given(applications(events=False), st.data())
def test_a_legal_walk_through_the_table_leaves_no_anomaly(
    app: Application, data: st.DataObject
) -> None:
    """Events that follow the table — including events of one instant, which the precedence
    rule orders — apply without anomaly, and the history is the walk's statuses."""
    walk = data.draw(_lifecycle_events(app, mail_allowed=True))
    done = app.apply(*walk)
    assert () == done.anomalies
    statuses = [ApplicationStatus(e.kind.value) for e in walk if e.delivery is None]
    assert [s for i, s in enumerate(statuses) if i == 0 or s is not statuses[i - 1]] == [
        s for _, s in done.history
    ]
    assert done == app.apply(*reversed(walk))


@given(applications())
def test_applying_events_twice_is_applying_them_once(app: Application) -> None:
    """Applying events the application already holds changes nothing."""
    assert app is app.apply(*app.events)
    assert app == app.apply(*app.events, *app.events)


@given(applications())
def test_every_status_reached_is_allowed_by_the_table(app: Application) -> None:
    """Each status change of the history is a move of the transition table."""
    status = ApplicationStatus.ACCEPTED
    for _, new in app.history:
        assert new in APPLICATION_TRANSITIONS[status]
        status = new
    assert status == app.status
    assert len(app.events) >= len(app.history) + 0
    assert not set(itertools.chain(app.anomalies)) - set(app.anomalies)


@given(
    st.one_of(
        services(),
        catalogues(),
        applicants(),
        applications(),
        application_events(),
    )
)
def test_every_model_round_trips_through_json(value: object) -> None:
    """to_json then from_json gives back an equal value."""
    assert value == from_json(to_json(value), type(value))


@given(applications(), st.integers(1, 3))
def test_a_strict_apply_refuses_what_a_lenient_one_records(app: Application, days: int) -> None:
    """``strict=True`` refuses exactly the events a plain apply would record as anomalies."""
    late = ApplicationEvent(
        event_id="strict-check",
        kind="delivery_changed",
        delivery="collect",
        occurred_at=app.accepted_at + timedelta(days=400 + days),
    )
    lenient = app.apply(late)
    if len(lenient.anomalies) > len(app.anomalies):
        with pytest.raises(InvalidTransitionError):
            app.apply(late, strict=True)
    else:
        assert lenient == app.apply(late, strict=True)


def test_a_shipment_status_reaches_the_application_only_through_events() -> None:
    app = licence().approve(at(9, 30, 16))
    assert ShipmentStatus.DELIVERED.value != app.status.value


# --- the review's findings: the table, strict verbs, ties, deadlines, paths, masking ------------

S = ApplicationStatus
#: The issue's table, written out: accepted → approved / rejected / withdrawn → result
#: dispatched → delivered or collected → closed (a repeated dispatch report changes nothing).
DECLARED = {
    S.ACCEPTED: {S.APPROVED, S.REJECTED, S.WITHDRAWN},
    S.APPROVED: {S.RESULT_DISPATCHED, S.RESULT_COLLECTED},
    S.REJECTED: {S.CLOSED},
    S.WITHDRAWN: {S.CLOSED},
    S.RESULT_DISPATCHED: {S.RESULT_DISPATCHED, S.RESULT_DELIVERED, S.RESULT_COLLECTED},
    S.RESULT_DELIVERED: {S.CLOSED},
    S.RESULT_COLLECTED: {S.CLOSED},
    S.CLOSED: set(),
}
#: A way to reach each status, by the verbs, one day apart from 28 September.
PATHS: dict[tuple[ApplicationStatus, str], tuple[str, ...]] = {
    (S.ACCEPTED, "mail"): (),
    (S.APPROVED, "mail"): ("approve",),
    (S.APPROVED, "collect"): ("approve",),
    (S.REJECTED, "mail"): ("reject",),
    (S.WITHDRAWN, "mail"): ("withdraw",),
    (S.RESULT_DISPATCHED, "mail"): ("approve", "dispatch"),
    (S.RESULT_DELIVERED, "mail"): ("approve", "dispatch", "deliver"),
    (S.RESULT_COLLECTED, "mail"): ("approve", "dispatch", "collect"),
    (S.RESULT_COLLECTED, "collect"): ("approve", "collect"),
    (S.CLOSED, "mail"): ("approve", "dispatch", "deliver", "close"),
}
VERBS = {
    S.APPROVED: "approve",
    S.REJECTED: "reject",
    S.WITHDRAWN: "withdraw",
    S.RESULT_DISPATCHED: "dispatch",
    S.RESULT_DELIVERED: "deliver",
    S.RESULT_COLLECTED: "collect",
    S.CLOSED: "close",
}


def reach(status: ApplicationStatus, delivery: str) -> Application:
    app = licence(delivery=delivery)
    for day, verb in enumerate(PATHS[status, delivery], start=28):
        app = getattr(app, verb)(at(9, 28) + timedelta(days=day - 28, hours=10))
    assert status is app.status
    return app


def test_the_transition_table_is_exactly_the_declared_one() -> None:
    assert DECLARED == {k: set(v) for k, v in APPLICATION_TRANSITIONS.items()}
    assert {S.CLOSED} == {s for s in S if s.is_final}


@pytest.mark.parametrize(("status", "delivery"), sorted(PATHS, key=lambda k: (k[0].value, k[1])))
@pytest.mark.parametrize("target", list(VERBS), ids=lambda s: s.value)
def test_every_move_the_table_allows_applies_and_every_other_is_refused(
    status: ApplicationStatus, delivery: str, target: ApplicationStatus
) -> None:
    """Each (status, event) pair: the verb succeeds exactly when the table allows the move (and
    the delivery choice agrees: APPROVED dispatches only MAIL, collects only COLLECT); a refused
    event applied leniently is an anomaly that changes nothing."""
    app = reach(status, delivery)
    when = at(10, 20, 10)
    allowed = target in DECLARED[status]
    if status is S.APPROVED and target is S.RESULT_DISPATCHED:
        allowed = delivery == "mail"
    if status is S.APPROVED and target is S.RESULT_COLLECTED:
        allowed = delivery == "collect"
    verb = getattr(app, VERBS[target])
    if allowed:
        moved = verb(when, event_id="x")
        assert target is moved.status
        assert () == moved.anomalies
    else:
        with pytest.raises(InvalidTransitionError):
            verb(when, event_id="x")
        event = ApplicationEvent(event_id="x", kind=target.value, occurred_at=when)
        kept = app.apply(event)
        assert (status, ["x"]) == (kept.status, [a.event_id for a in kept.anomalies])


def test_a_verb_cannot_undo_events_already_applied() -> None:
    """Found in review: a back-dated withdrawal turned a dispatched certificate into a
    withdrawn application, and a back-dated change to COLLECT un-dispatched it; the strict
    verbs now refuse an event that applies only by making applied events anomalies."""
    dispatched = licence().approve(at(9, 30, 16)).dispatch(at(10, 8, 10))
    with pytest.raises(InvalidTransitionError, match=r"would undo .*:approved:.*WITHDRAWN"):
        dispatched.withdraw(at(9, 29, 9))
    with pytest.raises(InvalidTransitionError, match="REJECTED → RESULT_DISPATCHED"):
        dispatched.reject(at(9, 28, 9))
    with pytest.raises(
        InvalidTransitionError, match=r"would undo .*:result_dispatched:.*chose COLLECT"
    ):
        dispatched.change_delivery("collect", at(10, 8, 9))
    with pytest.raises(InvalidTransitionError, match="nothing was applied"):
        dispatched.apply(
            ApplicationEvent(event_id="w", kind="withdrawn", occurred_at=at(9, 29)), strict=True
        )
    # Applied leniently (a late message), the events are kept and the anomalies say which.
    late = dispatched.apply(
        ApplicationEvent(
            event_id="c", kind="delivery_changed", delivery="collect", occurred_at=at(10, 8, 9)
        )
    )
    assert (S.APPROVED, DeliveryChoice.COLLECT) == (late.status, late.current_delivery)
    assert ["the applicant chose COLLECT: the result is not mailed"] == [
        a.reason for a in late.anomalies
    ]


def test_a_strict_apply_counts_a_repeated_conflict() -> None:
    """Two versions of one id that conflict the same way are two anomalies: the second is
    still refused by strict=True."""
    e1 = ApplicationEvent(event_id="x", kind="approved", occurred_at=at(9, 28))
    app = licence().apply(e1, attrs.evolve(e1, occurred_at=at(9, 29)))
    assert ["conflicts with another event of the same id"] == [a.reason for a in app.anomalies]
    with pytest.raises(InvalidTransitionError, match="conflicts with another event"):
        app.apply(attrs.evolve(e1, occurred_at=at(9, 30)), strict=True)


def test_events_of_one_instant_follow_the_precedence() -> None:
    """A change at the instant of dispatch counts as before it; lifecycle events of one
    instant apply in lifecycle order whatever their ids."""
    approved = licence().approve(at(9, 30, 16))
    t = at(10, 8, 10)
    change = ApplicationEvent(
        event_id="a", kind="delivery_changed", delivery="collect", occurred_at=t
    )
    dispatch = ApplicationEvent(event_id="b", kind="result_dispatched", occurred_at=t)
    app = approved.apply(dispatch, change)
    assert (S.APPROVED, DeliveryChoice.COLLECT, ["b"]) == (
        app.status,
        app.current_delivery,
        [a.event_id for a in app.anomalies],
    )
    ids = ["z-approve", "y-dispatch", "x-deliver", "w-close"]
    kinds = ["approved", "result_dispatched", "result_delivered", "closed"]
    same = [
        ApplicationEvent(event_id=i, kind=k, occurred_at=t) for i, k in zip(ids, kinds, strict=True)
    ]
    assert (S.CLOSED, ()) == (licence().apply(*same).status, licence().apply(*same).anomalies)


def test_a_repeated_dispatch_keeps_the_first_time_and_is_no_anomaly() -> None:
    app = licence().approve(at(9, 30, 16)).dispatch(at(10, 8, 10))
    again = app.dispatch(at(10, 8, 11), event_id="carrier:pickup")
    assert (S.RESULT_DISPATCHED, at(10, 8, 10), ()) == (
        again.status,
        again.dispatched_at,
        again.anomalies,
    )
    assert [S.APPROVED, S.RESULT_DISPATCHED] == [s for _, s in again.history]


def test_an_event_at_the_instant_of_acceptance_applies_one_before_is_an_anomaly() -> None:
    app = licence()
    assert S.APPROVED == app.approve(app.accepted_at).status
    early = app.apply(
        ApplicationEvent(
            event_id="e", kind="approved", occurred_at=app.accepted_at - timedelta(seconds=1)
        )
    )
    assert (S.ACCEPTED, ["dated before the application was accepted (clock skew?)"]) == (
        early.status,
        [a.reason for a in early.anomalies],
    )


def test_a_change_to_mail_needs_an_address() -> None:
    app = licence(applicant=Applicant(name="张三", mobile="13800138000"), delivery="collect")
    with pytest.raises(InvalidTransitionError, match="changed to MAIL but the applicant gave no"):
        app.change_delivery("mail", at(9, 28))


def test_a_mailed_result_keeps_its_one_shipment_after_dispatch_delivery_and_close() -> None:
    app = licence().approve(at(9, 30, 16))
    expected = app.outbound_shipment(GUIYANG, CATALOGUE)
    for later in (
        app.dispatch(at(10, 8, 10)),
        app.dispatch(at(10, 8, 10)).deliver(at(10, 9)),
        app.dispatch(at(10, 8, 10)).deliver(at(10, 9)).close(at(10, 10)),
        app.dispatch(at(10, 8, 10)).collect(at(10, 12)),
    ):
        assert (expected,) == later.shipments(GUIYANG, CATALOGUE)


def test_an_on_the_spot_service_accepted_on_a_holiday_is_due_the_next_working_day() -> None:
    """Found in review: a 即办件 (0 days) applied for online on 3 October 2018 was due on the
    holiday itself, so that a decision on the first working day counted as late."""
    assert date(2018, 10, 8) == LIMITS.approval_deadline(at(10, 3, 20), 0)
    assert date(2018, 9, 29) == LIMITS.approval_deadline(at(9, 29, 20), 0)  # 调休 Saturday
    assert date(2018, 9, 28) == LIMITS.approval_deadline(at(9, 28, 20), 0)
    # One day from a holiday: the first working day after it, as before.
    assert date(2018, 10, 8) == LIMITS.approval_deadline(at(10, 3, 20), 1)
    # Accepted on the 调休 Saturday 29 September: 30 September, 8 and 9 October.
    assert date(2018, 10, 9) == LIMITS.approval_deadline(at(9, 29, 9), 3)
    # From the Friday 28th, as Asia/Shanghai sees an acceptance at 23:30 UTC on the 27th.
    assert date(2018, 9, 30) == LIMITS.approval_deadline(
        datetime(2018, 9, 27, 23, 30, tzinfo=UTC), 2
    )
    with pytest.raises(ValidationError):
        LIMITS.approval_deadline(at(10, 3), False)  # type: ignore[arg-type]


def test_stage_hours_keep_the_minutes() -> None:
    app = licence().approve(at(9, 30, 16)).dispatch(at(10, 8, 10, 30))
    stages = ApplicationStages.of(app, CALENDAR)
    assert stages.dispatch is not None
    assert Fraction(37, 2) == stages.dispatch.hours  # 8 h on the 30th, 10 h 30 on the 8th


def test_what_analyse_judges_and_when() -> None:
    """Withdrawn applications are not judged for approval; an unfinished one is judged late
    only after its deadline day; a returned shipment is not judged for delivery."""
    police = {"service": "GZ-JJ-001", "delivery": "collect", "accepted_at": at(9, 28, 9)}
    pending = licence(reference="P", **police)  # type: ignore[arg-type]
    withdrawn = licence(reference="W", **police).withdraw(at(10, 9))  # type: ignore[arg-type]

    def approval(now: datetime) -> tuple[int, int]:
        result = analyse(
            [pending, withdrawn], catalogue=CATALOGUE, limits=LIMITS, centers=[GUIYANG], now=now
        )
        return (result.overall.approval.judged, result.overall.approval.on_time)

    assert (0, 0) == approval(at(9, 29, 23))  # due today: not judged yet
    assert (1, 0) == approval(at(9, 30, 0))  # the day after: late
    app, shipment = tracked_certificate()
    returned = attrs.evolve(shipment, events=())  # type: ignore[misc]
    returned = returned.apply(
        TrackingEvent(
            event_id="s1",
            tracking_number="EA123456785CN",
            status="picked_up",
            occurred_at=at(10, 8, 11),
        ),
        TrackingEvent(
            event_id="s3",
            tracking_number="EA123456785CN",
            status="returning",
            occurred_at=at(10, 20, 11),
        ),
    )
    assert ShipmentStatus.RETURNING is returned.status
    result = analyse(
        [app],
        catalogue=CATALOGUE,
        limits=LIMITS,
        centers=[GUIYANG],
        shipments=[returned],
        now=at(10, 31),
    )
    assert 0 == result.overall.delivery.judged


def test_messages_about_catalogues_and_events_mask_personal_data() -> None:
    """Found in review: a name typed into a service code or an event id, or a mobile typed
    into a time limit, came back in clear in the error message."""
    with pytest.raises(ValidationError) as caught:
        Service(code="欧阳娜娜13985212345", name="x", business_line="tax", time_limit_days=1)
    assert not any(w in str(caught.value) for w in ("欧阳", "13985212345"))
    with pytest.raises(ValidationError) as caught:
        Service(code="S1", name="x", business_line="tax", time_limit_days=13985212345)
    assert "13985212345" not in str(caught.value)
    with pytest.raises(ValidationError) as caught:
        ApplicationEvent(event_id="欧阳娜娜 13985212345", kind="approved", occurred_at=at(9, 28))
    assert "欧阳" not in str(caught.value)
    assert "13985212345" not in str(caught.value)
    with pytest.raises(ValidationError) as caught:
        licence(
            applicant=Applicant(name="欧阳娜娜", mobile="139 8521 2345", address="贵阳市1号"),
            reference="520102199003071236 欧阳娜娜",
        )
    assert not any(w in str(caught.value) for w in ("欧阳", "199003071236", "13985212345"))


@pytest.mark.parametrize(
    ("field", "value", "path"),
    [
        ("time_limit_days", "-1", r"time limit -1 .* @ \$\.services\[1\]\.time_limit_days$"),
        ("time_limit_days", "366", r"@ \$\.services\[1\]\.time_limit_days$"),
        ("code", '"Ｓ２"', r"service code 'Ｓ２' .* @ \$\.services\[1\]\.code$"),
        ("name", '"  "', r"service name must be .* @ \$\.services\[1\]\.name$"),
    ],
)
def test_a_catalogue_field_its_own_check_refuses_is_named_by_its_path(
    field: str, value: str, path: str
) -> None:
    """Found in review: a value the model's own check refuses (a negative time limit, a
    full-width code) was reported at ``$.services[1]``, not at the field, in TOML and JSON."""
    good = 'code = "S1"\nname = "甲"\nbusiness_line = "tax"\ntime_limit_days = 1\n'
    bad = {"code": '"S2"', "name": '"乙"', "business_line": '"tax"', "time_limit_days": "2"}
    bad[field] = value
    toml = (
        "[[services]]\n" + good + "[[services]]\n" + "".join(f"{k} = {v}\n" for k, v in bad.items())
    )
    with pytest.raises(DeserializationError, match=path):
        ServiceCatalogue.from_toml(toml)
    document = json.loads(ServiceCatalogue.from_toml("[[services]]\n" + good).to_json())
    document["services"].append({k: tomllib.loads(f"v = {v}")["v"] for k, v in bad.items()})
    with pytest.raises(DeserializationError, match=path):
        ServiceCatalogue.from_json(json.dumps(document))
    with pytest.raises(DeserializationError, match=path):
        ServiceCatalogue.from_json(json.dumps(document).encode())


JUNK_VALUES = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.sampled_from([2**53, -(2**63), 10**30, 0, -1, 366])
    | st.floats()
    | st.text(max_size=12)
    | st.sampled_from(["١٢", "１２", "²", "\u3000", "\x00", "欧阳娜娜 13985212345", "1e400"]),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner, max_size=3)
    ),
    max_leaves=8,
)


@fuzz
@given(
    st.sampled_from(
        [
            "code",
            "name",
            "business_line",
            "time_limit_days",
            "result_by_post",
            "materials_by_post",
            "extra",
            "reference",
        ]
    ),
    JUNK_VALUES,
    st.booleans(),
)
def test_junk_in_a_catalogue_gives_a_govpost_error_naming_a_path(
    field: str, junk: object, as_toml: bool
) -> None:
    """Whatever a catalogue file holds, reading it gives a catalogue or a govpost error; a
    junk field's error names a path."""
    service: dict[str, object] = {
        "code": "S1",
        "name": "甲",
        "business_line": "tax",
        "time_limit_days": 1,
    }
    document: dict[str, object] = {"services": [service]}
    if field == "reference":
        document["reference"] = junk
    else:
        service[field] = junk
    text = json.dumps(document, allow_nan=True)
    try:
        if as_toml:
            ServiceCatalogue.from_toml(_to_toml_or_json(document))
        else:
            ServiceCatalogue.from_json(text)
    except GovpostError as error:
        message = str(error)
    else:
        return
    assert " @ $" in message or "TOML" in message or "JSON" in message, message


def _to_toml_or_json(document: dict[str, object]) -> str:
    """A TOML rendering of ``document`` where TOML can write it; JSON text (not TOML) else."""
    try:
        return str(tomli_w.dumps(document))
    except (TypeError, ValueError):
        return json.dumps(document, allow_nan=True)


@fuzz
@given(
    st.text(st.characters(codec=None, exclude_categories=()), max_size=300)
    | st.binary(max_size=300)
)
def test_junk_text_as_a_catalogue_gives_only_govpost_errors(junk: str | bytes) -> None:
    """Raw junk — lone surrogates, control characters, any bytes — read as TOML or JSON."""
    for read in (ServiceCatalogue.from_toml, ServiceCatalogue.from_json):
        with contextlib.suppress(GovpostError):
            read(junk)
