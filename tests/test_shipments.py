"""Shipments, tracking events, the status machine and time limits."""

from __future__ import annotations

import itertools
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from govpost import Money, ValidationError, WorkCalendar, Zone
from govpost.centers import ServiceCenter
from govpost.errors import InvalidTransitionError
from govpost.shipments import (
    REVOKE_PREVIOUS,
    TRANSITIONS,
    Anomaly,
    DeliveryTimeLimits,
    Recipient,
    Shipment,
    ShipmentStatus,
    StageDurations,
    TrackingEvent,
    working_time_between,
)
from tests.strategies import shipments

SH = ZoneInfo("Asia/Shanghai")
S = ShipmentStatus
WAYBILL = "RR473124829GB"


def at(day: int, hour: int = 9, minute: int = 0) -> datetime:
    return datetime(2024, 6, day, hour, minute, tzinfo=SH)


def booked(**changes: object) -> Shipment:
    fields: dict[str, object] = {
        "id": "GP-20240603-00001",
        "center": "GZ-520102",
        "business_line": "licence_delivery",
        "direction": "outbound_result",
        "origin": "520102",
        "destination": "522601",
        "weight_g": 180,
        "created_at": at(3, 8),
        "tracking_number": WAYBILL,
        "approved_at": at(1, 16),
    }
    fields.update(changes)
    return Shipment(**fields)  # type: ignore[arg-type]


def ev(event_id: str, status: ShipmentStatus, when: datetime, **kw: object) -> TrackingEvent:
    return TrackingEvent(
        event_id=event_id,
        tracking_number=WAYBILL,
        status=status,
        occurred_at=when,
        **kw,  # type: ignore[arg-type]
    )


CLEAN = (
    ev("e1", S.PICKED_UP, at(3, 10), carrier_code="203"),
    ev("e2", S.IN_TRANSIT, at(3, 18), carrier_code="305"),
    ev("e3", S.OUT_FOR_DELIVERY, at(4, 8), carrier_code="702"),
    ev("e4", S.DELIVERED, at(4, 15), carrier_code="704"),
)


# --- the record ----------------------------------------------------------------------------------


def test_recipient_is_masked_everywhere_it_is_shown() -> None:
    recipient = Recipient(name="诸葛亮", mobile="+86 138 0013 8000", address="贵州省贵阳市南明区")
    assert recipient.mobile == "13800138000"
    shipment = booked(recipient=recipient)
    for text in (repr(recipient), repr(shipment)):
        assert "诸葛*" in text
        assert "13800138000" not in text
        assert "亮" not in text


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"weight_g": 0}, "between 1 g"),
        ({"weight_g": -5}, "between 1 g"),
        ({"weight_g": 250.0}, "int number of grams"),
        ({"weight_g": "250"}, "int number of grams"),
        ({"created_at": datetime(2024, 6, 3, 8)}, "naive"),
        ({"picked_up_at": at(2)}, "before created_at"),
        ({"returned_at": at(5)}, "needs a picked_up_at"),
        ({"status": "cancelled", "picked_up_at": at(4)}, "CANCELLED but was picked up"),
        ({"declared_value": Money("-1")}, "must be positive"),
        ({"business_line": "parcel"}, "licence_delivery"),
        ({"destination": "999999"}, "GB/T 2260"),
        ({"id": "has space"}, "shipment id"),
        ({"tracking_number": "RR473124828GB"}, "check digit"),
    ],
)
def test_bad_shipments_are_refused(changes: dict[str, object], message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        booked(**changes)


def test_zone_and_billability() -> None:
    shipment = booked()
    assert shipment.zone is Zone.IN_PROVINCE
    assert not shipment.is_billable
    assert shipment.apply(*CLEAN).is_billable


# --- applying events -----------------------------------------------------------------------------


def test_clean_sequence() -> None:
    shipment = booked().apply(*CLEAN)
    assert shipment.status is S.DELIVERED
    assert shipment.picked_up_at == at(3, 10)
    assert shipment.delivered_at == at(4, 15)
    assert shipment.returned_at is None
    assert shipment.anomalies == ()
    assert [s for _, s in shipment.history] == [
        S.PICKED_UP,
        S.IN_TRANSIT,
        S.OUT_FOR_DELIVERY,
        S.DELIVERED,
    ]


def test_applying_twice_or_out_of_order_changes_nothing() -> None:
    once = booked().apply(*CLEAN)
    assert once.apply(*CLEAN) == once
    assert once.apply(CLEAN[2]) is once
    for order in itertools.permutations(CLEAN):
        assert booked().apply(*order) == once
    stepwise = booked()
    for event in reversed(CLEAN):
        stepwise = stepwise.apply(event)
    assert stepwise == once


def test_revocation_removes_the_event_it_names() -> None:
    wrong = ev("e9", S.DELIVERED, at(4, 9), carrier_code="704")
    undo = ev("e10", S.DELIVERED, at(4, 10), carrier_code="743", revokes="e9")
    shipment = booked().apply(*CLEAN[:3], wrong, undo)
    assert shipment.status is S.OUT_FOR_DELIVERY
    assert shipment.delivered_at is None
    # the revocation arriving before the event it revokes gives the same result
    assert booked().apply(undo).apply(*CLEAN[:3], wrong) == shipment


def test_revoke_previous_removes_the_latest_earlier_event() -> None:
    undo = ev("e5", S.IN_TRANSIT, at(4, 16), revokes=REVOKE_PREVIOUS)
    shipment = booked().apply(*CLEAN, undo)
    assert shipment.status is S.OUT_FOR_DELIVERY


def test_revocation_of_an_unknown_event_is_recorded() -> None:
    undo = ev("e5", S.IN_TRANSIT, at(4, 16), revokes="nope")
    shipment = booked().apply(*CLEAN, undo)
    assert shipment.status is S.DELIVERED
    assert shipment.anomalies == (Anomaly("e5", "revokes unknown event 'nope'"),)


def test_late_event_after_delivery_is_recorded_not_applied() -> None:
    late = ev("e5", S.IN_TRANSIT, at(5, 9))
    shipment = booked().apply(*CLEAN, late)
    assert shipment.status is S.DELIVERED
    assert late in shipment.events
    assert shipment.anomalies == (
        Anomaly("e5", "DELIVERED → IN_TRANSIT is not allowed (a final status)"),
    )


def test_strict_application_refuses_an_illegal_event_and_applies_nothing() -> None:
    delivered = booked().apply(ev("e1", S.PICKED_UP, at(4)), ev("e2", S.DELIVERED, at(5)))
    late = ev("e3", S.IN_TRANSIT, at(6))
    with pytest.raises(InvalidTransitionError, match=r"e3: DELIVERED → IN_TRANSIT"):
        delivered.apply(late, strict=True)
    assert delivered.apply(ev("e2", S.DELIVERED, at(5)), strict=True) == delivered
    recorded = delivered.apply(late)
    assert [a.event_id for a in recorded.anomalies] == ["e3"]
    assert recorded.apply(late, strict=True) == recorded  # already recorded: nothing new


def test_event_dated_before_creation_is_recorded_not_applied() -> None:
    """A skewed carrier clock must not make the shipment unable to take its events."""
    early = ev("e0", S.PICKED_UP, at(3, 7))  # created at(3, 8)
    shipment = booked().apply(early, ev("e1", S.IN_TRANSIT, at(3, 12)))
    assert shipment.status is S.IN_TRANSIT
    assert shipment.picked_up_at == at(3, 12)
    assert early in shipment.events
    assert [a.event_id for a in shipment.anomalies] == ["e0"]


def test_conflicting_duplicate_id_is_recorded() -> None:
    other = ev("e2", S.EXCEPTION, at(3, 19))
    shipment = booked().apply(*CLEAN, other)
    assert shipment.status is S.DELIVERED
    assert shipment.anomalies == (Anomaly("e2", "conflicts with another event of the same id"),)
    assert booked().apply(other, *CLEAN) == shipment


def test_equal_times_apply_in_lifecycle_order() -> None:
    same = at(3, 10)
    shipment = booked().apply(ev("b", S.IN_TRANSIT, same), ev("a", S.PICKED_UP, same))
    assert [s for _, s in shipment.history] == [S.PICKED_UP, S.IN_TRANSIT]
    assert shipment.anomalies == ()


def test_return_leg() -> None:
    events = (
        *CLEAN[:3],
        ev("f1", S.DELIVERY_FAILED, at(4, 11), carrier_code="705"),
        ev("r1", S.RETURNING, at(5, 9), carrier_code="708"),
        ev("r2", S.IN_TRANSIT, at(5, 18), carrier_code="305"),
        ev("r3", S.DELIVERED, at(7, 10), carrier_code="704"),
    )
    shipment = booked().apply(*events)
    assert shipment.status is S.RETURNED
    assert shipment.returned_at == at(5, 9)
    assert shipment.delivered_at is None
    assert shipment.anomalies == ()


def test_first_scan_in_transit_implies_pickup() -> None:
    shipment = booked().apply(ev("x", S.IN_TRANSIT, at(3, 12)))
    assert shipment.picked_up_at == at(3, 12)


def test_cancelled_before_pickup() -> None:
    shipment = booked().apply(ev("c", S.CANCELLED, at(3, 9), carrier_code="801"))
    assert shipment.status is S.CANCELLED
    assert not shipment.is_billable


def test_cancel_after_pickup_is_recorded_not_applied() -> None:
    events = (CLEAN[0], ev("x", S.EXCEPTION, at(3, 11)), ev("c", S.CANCELLED, at(3, 12)))
    shipment = booked().apply(*events)
    assert shipment.status is S.EXCEPTION
    assert shipment.anomalies == (
        Anomaly("c", "CANCELLED after pickup: the item must be returned"),
    )


def test_events_of_another_waybill_are_refused_and_nothing_changes() -> None:
    shipment = booked().apply(*CLEAN[:2])
    stranger = TrackingEvent(
        event_id="z", tracking_number="EE000000005CN", status=S.DELIVERED, occurred_at=at(4)
    )
    with pytest.raises(ValidationError, match="nothing was applied"):
        shipment.apply(CLEAN[2], stranger)
    assert shipment.status is S.IN_TRANSIT


def test_unbooked_shipment_cannot_take_events() -> None:
    with pytest.raises(ValidationError, match="no tracking number"):
        booked(tracking_number=None).apply(CLEAN[0])


def test_status_must_agree_with_events() -> None:
    with pytest.raises(ValidationError, match="disagree with its 4 events"):
        booked(events=CLEAN)


@pytest.mark.parametrize(
    ("kw", "message"),
    [
        ({"occurred_at": datetime(2024, 6, 3, 10)}, "naive"),
        ({"event_id": ""}, "event id"),
        ({"event_id": "a b"}, "event id"),
        ({"status": "lost"}, "ShipmentStatus"),
        ({"tracking_number": "XX"}, "XX"),
    ],
)
def test_bad_events_are_refused(kw: dict[str, object], message: str) -> None:
    fields: dict[str, object] = {
        "event_id": "e1",
        "tracking_number": WAYBILL,
        "status": S.PICKED_UP,
        "occurred_at": at(3),
    }
    with pytest.raises(ValidationError, match=message):
        TrackingEvent(**{**fields, **kw})  # type: ignore[arg-type]


def test_event_repr_hides_the_description() -> None:
    event = ev("e4", S.DELIVERED, at(4), description="已签收，签收人：张三丰")
    assert "张三丰" not in repr(event)


# --- properties ----------------------------------------------------------------------------------

statuses = st.sampled_from(ShipmentStatus)


@st.composite
def event_sets(draw: st.DrawFn) -> list[TrackingEvent]:
    """Events of one waybill: random statuses and times, some duplicated, some revoking."""
    n = draw(st.integers(1, 12))
    events = []
    for i in range(n):
        when = at(3) + timedelta(minutes=draw(st.integers(0, 60 * 24 * 4)) // 30 * 30)
        revokes = draw(st.none() | st.sampled_from([REVOKE_PREVIOUS, "e0", "e1", "e2"]))
        events.append(ev(f"e{i}", draw(statuses), when, revokes=revokes if i > 2 else None))
    duplicates = draw(st.lists(st.sampled_from(events), max_size=4))
    return events + duplicates


@given(event_sets(), st.randoms(use_true_random=False))
def test_application_is_idempotent_and_permutation_invariant(
    events: list[TrackingEvent], rnd: object
) -> None:
    """Applying a set of events gives the same shipment in any order, in any batches, and
    applying them again changes nothing."""
    reference = booked().apply(*events)
    shuffled = list(events)
    rnd.shuffle(shuffled)  # type: ignore[attr-defined]
    stepwise = booked()
    for event in shuffled:
        stepwise = stepwise.apply(event)
    assert stepwise == reference
    assert reference.apply(*shuffled) == reference


@given(event_sets())
def test_every_reached_status_sequence_obeys_the_table(events: list[TrackingEvent]) -> None:
    """Each status change in a shipment's history is allowed by TRANSITIONS, starting from the
    booked state, and ends at the shipment's status; every anomaly names an event it holds;
    no event is dropped."""
    shipment = booked().apply(*events)
    current = S.AWAITING_PICKUP
    for _, new in shipment.history:
        assert new in TRANSITIONS[current]
        current = new
    assert current is shipment.status
    assert {a.event_id for a in shipment.anomalies} <= {e.event_id for e in events}
    assert set(shipment.events) == set(events)


@given(shipments())
def test_shipment_repr_never_shows_personal_data(shipment: Shipment) -> None:
    """No recipient's full name, mobile or address appears in a shipment's repr."""
    text = repr(shipment)
    r = shipment.recipient
    if r is not None:
        if r.mobile:
            assert r.mobile not in text
        if r.address:
            assert r.address not in text
        if len(r.name) > 1:
            assert r.name not in text


# --- time limits ---------------------------------------------------------------------------------

LIMITS = DeliveryTimeLimits(
    days={Zone.SAME_CITY: 1, Zone.IN_PROVINCE: 2, Zone.OUT_OF_PROVINCE: 4},
    calendar=WorkCalendar.china(),
)


def test_deadline_counts_working_days_from_the_pickup_date() -> None:
    # picked up Sunday 29 Sept 2024 (a 调休 working day); 1-7 Oct are holidays
    shipment = booked(created_at=datetime(2024, 9, 29, 9, tzinfo=SH), approved_at=None).apply(
        ev("p", S.PICKED_UP, datetime(2024, 9, 29, 16, tzinfo=SH))
    )
    assert LIMITS.deadline(shipment) == date(2024, 10, 8)
    assert not LIMITS.is_overdue(shipment, datetime(2024, 10, 8, 23, tzinfo=SH))
    assert LIMITS.is_overdue(shipment, datetime(2024, 10, 9, 0, 1, tzinfo=SH))


def test_delivered_items_are_judged_by_their_delivery_date() -> None:
    on_time = booked().apply(*CLEAN)
    assert LIMITS.deadline(on_time) == date(2024, 6, 5)
    assert not LIMITS.is_overdue(on_time, at(30))
    late = booked().apply(*CLEAN[:3], ev("e4", S.DELIVERED, at(6, 9)))
    assert LIMITS.is_overdue(late, at(6, 10))


def test_no_deadline_before_pickup() -> None:
    assert LIMITS.deadline(booked()) is None
    assert not LIMITS.is_overdue(booked(), at(30))


def test_bad_limits_are_refused() -> None:
    with pytest.raises(ValidationError, match="miss the zones"):
        DeliveryTimeLimits(days={Zone.SAME_CITY: 1}, calendar=WorkCalendar.china())
    with pytest.raises(ValidationError, match="working days"):
        DeliveryTimeLimits(
            days={Zone.SAME_CITY: 1.5, Zone.IN_PROVINCE: 2, Zone.OUT_OF_PROVINCE: 3},
            calendar=WorkCalendar.china(),
        )


def test_stage_durations_count_working_time_only() -> None:
    # approved Saturday 1 June 16:00, booked Monday 3 June 08:00: only Monday's 8 hours count
    stages = StageDurations.of(booked().apply(*CLEAN), WorkCalendar.china())
    assert stages.approved_to_booked == timedelta(hours=8)
    assert stages.booked_to_picked_up == timedelta(hours=2)
    assert stages.picked_up_to_delivered == timedelta(hours=29)
    assert stages.approved_to_delivered == timedelta(hours=39)
    unfinished = StageDurations.of(booked(), WorkCalendar.china())
    assert unfinished.booked_to_picked_up is None


def test_working_time_is_antisymmetric() -> None:
    cal = WorkCalendar.china()
    assert working_time_between(cal, at(4), at(1)) == -working_time_between(cal, at(1), at(4))


@pytest.mark.parametrize(
    ("status", "picked_up_at", "says"),
    [
        (S.CREATED, at(3, 10), "is CREATED but has picked_up_at"),
        (S.AWAITING_PICKUP, at(3, 10), "is AWAITING_PICKUP but has picked_up_at"),
        (S.DELIVERED, None, "is DELIVERED but has no picked_up_at"),
        (S.IN_TRANSIT, None, "is IN_TRANSIT but has no picked_up_at"),
    ],
)
def test_a_status_that_contradicts_the_times_is_refused(
    status: ShipmentStatus, picked_up_at: datetime | None, says: str
) -> None:
    """A CREATED piece with a pickup time would be billed while its status says it was never
    taken; a DELIVERED one without would never be billed: both are refused."""
    with pytest.raises(ValidationError, match=says):
        booked(status=status, picked_up_at=picked_up_at)


def test_statuses_agreeing_with_the_times_are_accepted() -> None:
    assert booked(status=S.PICKED_UP, picked_up_at=at(3, 10)).is_billable
    assert not booked(status=S.AWAITING_PICKUP).is_billable


def test_every_status_has_a_chinese_label() -> None:
    labels = {status: status.label for status in ShipmentStatus}
    assert len(set(labels.values())) == len(ShipmentStatus)
    assert (S.PICKED_UP.label, S.DELIVERED.label, S.RETURNED.label) == (
        "已揽收",
        "已妥投",
        "已退回",
    )


def test_a_center_code_follows_the_rule_of_service_centers() -> None:
    """The same code rule as ServiceCenter; the center itself stands for its code."""
    center = ServiceCenter(
        code="GZ-520100", name="贵阳市政务服务中心", division="520100", mode=None
    )
    assert booked(center=center).center == "GZ-520100"
    with pytest.raises(ValidationError, match="center code ' GZ' must be 1-64 letters"):
        booked(center=" GZ")
    with pytest.raises(ValidationError, match=r"pass center\.code"):
        ServiceCenter(code=center, name="x", division="520100", mode=None)  # type: ignore[arg-type]


def test_an_event_given_twice_is_held_once_in_any_order() -> None:
    """Events are a set: the same event twice (adjacent, as a sorted tuple would hold it, or
    apart) is held once, and the state is that of the distinct events."""
    once = booked().apply(*CLEAN)
    first = CLEAN[0]
    for events in ((first, first, *CLEAN[1:]), (*CLEAN, first), tuple(reversed(CLEAN))):
        again = booked(
            events=events,
            status=once.status,
            picked_up_at=once.picked_up_at,
            returned_at=once.returned_at,
        )
        assert once.events == again.events
        assert once == again


def test_the_wire_reads_a_shipment_as_its_constructor_does() -> None:
    """The wire's direct path and cattrs' generated one give the same shipment; a value only
    the wire refuses (a full-width division code, which the model would normalise) is still
    refused with its path."""
    from govpost.errors import DeserializationError
    from govpost.serialization import from_json, to_json

    shipment = booked().apply(*CLEAN)
    assert shipment == from_json(to_json(shipment), Shipment)
    text = to_json(shipment).replace('"origin": "520102"', '"origin": "５２０１０２"')
    with pytest.raises(DeserializationError, match=r"six ASCII digits.* @ \$\.origin"):
        from_json(text, Shipment)
