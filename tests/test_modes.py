"""The cooperation modes as workflows: pickup schedules, manifests, counter close-out, agent fee."""

from __future__ import annotations

import contextlib
import inspect
import time as clock
from collections import Counter
from datetime import date, datetime, time, timedelta
from typing import Any

import attrs
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import govpost.modes
from govpost.agreements import Coverage, FeeAgreement, FlatTariff, LumpSum, PerPiece, WeightTariff
from govpost.calendar import WorkCalendar
from govpost.centers import CooperationMode
from govpost.errors import (
    CalendarCoverageError,
    CurrencyMismatchError,
    GovpostError,
    ValidationError,
)
from govpost.modes import (
    Acknowledgement,
    AgentFee,
    AgentFeeKind,
    CloseOutLine,
    CloseOutSubtotal,
    CounterSession,
    DailyCloseOut,
    HandoverManifest,
    ManifestItem,
    PickupMatch,
    PickupReconciliation,
    PickupRun,
    PickupScan,
    PickupSchedule,
    apply_agent_fee,
    reconcile_pickup,
)
from govpost.money import Money
from govpost.periods import SHANGHAI, Period
from govpost.serialization import from_json, to_json
from govpost.settlement import LineKind, settle
from govpost.shipments import Shipment, ShipmentStatus, TrackingEvent
from govpost.testing.strategies import SETTLEMENT_CENTERS, per_piece_agreements, shipment_batches
from tests.fuzzing import fuzz, junk_documents
from tests.strategies import manifests, pickup_schedules, scans_for


def at(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=SHANGHAI)


SEP_29 = date(2018, 9, 29)  # a Saturday worked before National Day 2018 (调休)

# --- door pickup: schedules ----------------------------------------------------------------------


def test_working_day_schedule_follows_the_national_day_2018_adjusted_weekend() -> None:
    """29 and 30 September 2018 (Saturday, Sunday) were worked; 1–7 October were off."""
    schedule = PickupSchedule.working_days(["10:00", "16:00"], starts=date(2018, 9, 1))
    found = schedule.occurrences(date(2018, 9, 27), date(2018, 10, 10))
    expected = [at(date(2018, 9, d), h) for d in (27, 28, 29, 30) for h in (10, 16)] + [
        at(date(2018, 10, d), h) for d in (8, 9) for h in (10, 16)
    ]
    assert expected == list(found)
    assert [str(t.tzinfo) for t in found] == ["Asia/Shanghai"] * 12


def test_weekly_rule_skips_holidays_and_never_gives_an_unlisted_weekday() -> None:
    """Mondays and Thursdays: 24 Sep (Mid-Autumn), 1 and 4 Oct (National Day) are off; the
    worked Saturday 29 Sep is not a Monday or Thursday, so it is not a pickup."""
    schedule = PickupSchedule(
        rules="RRULE:freq=weekly;byday=MO,TH;byhour=9", starts=date(2018, 9, 1)
    )
    found = schedule.occurrences(date(2018, 9, 20), date(2018, 10, 12))
    assert [
        at(date(2018, 9, 20), 9),
        at(date(2018, 9, 27), 9),
        at(date(2018, 10, 8), 9),
        at(date(2018, 10, 11), 9),
    ] == list(found)
    assert ("FREQ=WEEKLY;BYDAY=MO,TH;BYHOUR=9",) == schedule.rules


def test_until_count_and_ends_bound_a_schedule() -> None:
    until = PickupSchedule(rules="FREQ=DAILY;BYHOUR=10;UNTIL=20180929T020000Z", starts=SEP_29)
    assert [at(SEP_29, 10)] == list(until.occurrences(SEP_29, date(2018, 10, 31)))
    count = PickupSchedule(rules="FREQ=DAILY;BYHOUR=10;COUNT=3", starts=date(2018, 9, 28))
    # 28, 29 and 30 September: all three are working days
    assert 3 == len(count.occurrences(date(2018, 9, 1), date(2018, 10, 31)))
    ends = PickupSchedule.working_days(["10:00"], starts=date(2018, 9, 1), ends=SEP_29)
    assert at(date(2018, 9, 28), 10) == ends.occurrences(date(2018, 9, 1), date(2018, 10, 31))[-1]


def test_next_pickup_after_the_last_one_before_the_holiday_is_after_it() -> None:
    schedule = PickupSchedule.working_days(["10:00", "16:00"], starts=date(2018, 1, 1))
    assert at(date(2018, 9, 30), 16) == schedule.next_pickup(at(date(2018, 9, 30), 10))
    assert at(date(2018, 10, 8), 10) == schedule.next_pickup(at(date(2018, 9, 30), 16))


def test_a_rule_that_only_falls_on_holidays_is_a_clear_error_not_an_endless_search() -> None:
    national_day = PickupSchedule(
        rules="FREQ=YEARLY;BYMONTH=10;BYMONTHDAY=1,2,3;BYHOUR=10", starts=date(2018, 1, 1)
    )
    started = clock.monotonic()
    with pytest.raises(ValidationError, match=r"give no pickup on a working day in the 366 days"):
        national_day.next_pickup(at(date(2018, 1, 1), 0))
    assert clock.monotonic() - started < 2


def test_a_rule_that_can_never_happen_is_refused_in_bounded_time() -> None:
    started = clock.monotonic()
    with pytest.raises(ValidationError, match=r"gives no pickup at all in the 366 days"):
        PickupSchedule(rules="FREQ=DAILY;BYMONTH=2;BYMONTHDAY=30;BYHOUR=10", starts=SEP_29)
    assert clock.monotonic() - started < 5


@pytest.mark.parametrize(
    ("rule", "message"),
    [
        ("every day at ten", "is not an RFC 5545 RRULE"),
        ("FREQ=SOMETIMES;BYHOUR=10", "FREQ=SOMETIMES is not one of"),
        ("FREQ=MINUTELY;BYHOUR=10", "FREQ=MINUTELY is not one of"),
        ("FREQ=DAILY;BYHOUR=25", r"is not a valid RFC 5545 RRULE \('hour must be in 0..23'\)"),
        ("FREQ=DAILY;BYDAY=XX;BYHOUR=10", "is not a valid RFC 5545 RRULE"),
        ("FREQ=DAILY", "has no BYHOUR"),
        ("FREQ=DAILY;BYHOUR=10;BYHOUR=11", "names a part twice"),
        ("DTSTART=20180101T000000;FREQ=DAILY;BYHOUR=10", "has DTSTART"),
        ("FREQ=DAILY;BYHOUR=10;COUNT=2;UNTIL=20181231", "both COUNT and UNTIL"),
        ("FREQ=DAILY;BYHOUR=10;UNTIL=2018", "UNTIL='2018' is not a date"),
        (
            "FREQ=DAILY;BYHOUR=9,10;BYMINUTE=" + ",".join(map(str, range(60))),
            "gives 120 pickups a day",
        ),
    ],
)
def test_malformed_rules_are_refused_with_a_message(rule: str, message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        PickupSchedule(rules=rule, starts=SEP_29)


def test_bad_windows_times_and_years_are_refused() -> None:
    schedule = PickupSchedule.working_days(["10:00"], starts=date(2018, 1, 1))
    with pytest.raises(ValidationError, match="at most 366 days long"):
        schedule.occurrences(date(2018, 1, 1), date(2019, 1, 3))
    with pytest.raises(ValidationError, match="is naive"):
        schedule.occurrences(datetime(2018, 1, 1), date(2018, 2, 1))
    with pytest.raises(ValidationError, match="'25:00' is not a time of day"):
        PickupSchedule.working_days(["25:00"], starts=SEP_29)
    with pytest.raises(ValidationError, match="must be after it starts"):
        PickupSchedule.working_days([time(10)], starts=SEP_29, ends=SEP_29)
    with pytest.raises(CalendarCoverageError, match="no official schedule"):
        schedule.occurrences(date(2040, 1, 1), date(2040, 2, 1))
    custom = WorkCalendar.weekdays_only(years=[2040])
    # January 2040 begins on a Sunday: 5 + 5 + 5 + 5 + 2 weekdays
    assert 22 == len(schedule.occurrences(date(2040, 1, 1), date(2040, 2, 1), calendar=custom))


def test_runs_of_a_schedule_give_the_manifest_of_each_run() -> None:
    schedule = PickupSchedule.working_days(["16:00"], starts=date(2018, 1, 1))
    runs = schedule.runs("GZ-520100", SEP_29, date(2018, 10, 9))
    assert [SEP_29, date(2018, 9, 30), date(2018, 10, 8)] == [r.scheduled_at.date() for r in runs]
    manifest = runs[0].manifest([booked("A-1", "EA000000014CN", 180)])
    assert "GZ-520100-20180929T1600" == manifest.manifest_id
    assert (1, 180) == (manifest.pieces, manifest.total_weight_g)


@settings(max_examples=40)
@given(pickup_schedules(), st.dates(date(2018, 1, 1), date(2025, 6, 30)), st.integers(1, 120))
def test_schedule_occurrences_are_sorted_working_days_within_the_window(
    schedule: PickupSchedule, start: date, days: int
) -> None:
    """Every occurrence lies in [start, end), on a working day, at or after the schedule's start;
    occurrences are strictly increasing; a window split in two gives the same occurrences."""
    end = start + timedelta(days=days)
    calendar = WorkCalendar.china()
    found = schedule.occurrences(start, end)
    assert list(found) == sorted(set(found))
    for moment in found:
        local = moment.astimezone(SHANGHAI)
        assert start <= local.date() < end
        assert local.date() >= schedule.starts
        assert calendar.is_workday(local.date())
    middle = start + timedelta(days=days // 2 + 1) if days > 1 else end
    if middle < end:
        split = schedule.occurrences(start, middle) + schedule.occurrences(middle, end)
        assert found == split


@given(pickup_schedules())
def test_schedules_round_trip_through_json(schedule: PickupSchedule) -> None:
    """A schedule read back from its JSON is the same schedule."""
    assert schedule == from_json(to_json(schedule), PickupSchedule)


# --- door pickup: manifests ----------------------------------------------------------------------

NOON = at(SEP_29, 10)


def booked(shipment_id: str, waybill: str | None, weight_g: int, **changes: Any) -> Shipment:
    shipment = Shipment(
        id=shipment_id,
        center="GZ-520100",
        business_line="licence_delivery",
        direction="outbound_result",
        origin="520102",
        destination="522601",
        weight_g=weight_g,
        created_at=at(SEP_29, 8),
        tracking_number=waybill,
        status=ShipmentStatus.AWAITING_PICKUP if waybill else ShipmentStatus.CREATED,
    )
    return attrs.evolve(shipment, **changes)


def test_manifest_with_one_missing_one_extra_and_one_weight_difference() -> None:
    """Four pieces handed over, three scanned; a fifth scanned that was not on the manifest.

    EA000000014CN 180 g, scanned 185 g: within the 10 g tolerance → matched.
    EA000000028CN 320 g, scanned 350 g: +30 g → weight difference.
    EA000000031CN 250 g, a PICKED_UP tracking event (no weight) → matched.
    GP-4 (no waybill yet) 90 g: never scanned → missing.
    EA000000045CN: scanned, on no manifest → extra.
    """
    run = PickupRun(center="GZ-520100", scheduled_at=NOON)
    manifest = run.manifest(
        [
            booked("GP-1", "EA000000014CN", 180),
            booked("GP-2", "EA000000028CN", 320),
            booked("GP-3", "EA000000031CN", 250),
            booked("GP-4", None, 90),
        ]
    )
    assert (4, 840) == (manifest.pieces, manifest.total_weight_g)
    assert ("EA000000014CN", "EA000000028CN", "EA000000031CN", "GP-4") == manifest.waybills
    signed = manifest.acknowledge("center", name="欧阳娜娜", at=at(SEP_29, 10, 5)).acknowledge(
        "carrier", name="张三", at=at(SEP_29, 10, 6)
    )
    assert signed.is_acknowledged
    scans: list[PickupScan | TrackingEvent] = [
        PickupScan(waybill="EA000000028CN", weight_g=350, scanned_at=at(SEP_29, 10, 20)),
        PickupScan(waybill="ea 000000014 cn", weight_g=185, scanned_at=at(SEP_29, 10, 21)),
        TrackingEvent(
            event_id="e-203",
            tracking_number="EA000000031CN",
            status="picked_up",
            occurred_at=at(SEP_29, 10, 22),
            carrier_code="203",
        ),
        PickupScan(waybill="EA000000045CN", weight_g=400, scanned_at=at(SEP_29, 10, 23)),
    ]
    result = reconcile_pickup(signed, scans, tolerance_g=10)
    assert ["EA000000014CN", "EA000000031CN"] == [m.item.waybill for m in result.matched]
    assert [5, None] == [m.difference_g for m in result.matched]
    assert [("EA000000028CN", 30)] == [
        (m.item.waybill, m.difference_g) for m in result.weight_differences
    ]
    assert ["GP-4"] == [item.waybill for item in result.missing]
    assert ["EA000000045CN"] == [scan.waybill for scan in result.extra]
    assert () == result.duplicates
    assert not result.is_clean


def test_a_waybill_scanned_twice_counts_once_and_keeps_the_other_as_a_duplicate() -> None:
    manifest = HandoverManifest(
        manifest_id="M-1",
        center="GZ-520100",
        scheduled_at=NOON,
        items=[ManifestItem(waybill="EA000000014CN", weight_g=180)],
    )
    first = PickupScan(waybill="EA000000014CN", weight_g=180, scanned_at=at(SEP_29, 10, 1))
    again = PickupScan(waybill="EA000000014CN", weight_g=999, scanned_at=at(SEP_29, 11, 0))
    result = reconcile_pickup(manifest, [again, first])
    assert [first] == [m.scan for m in result.matched]
    assert (again,) == result.duplicates


def test_acknowledging_twice_or_by_a_blank_name_is_refused() -> None:
    manifest = HandoverManifest(manifest_id="M-1", center="GZ-520100", scheduled_at=NOON, items=[])
    signed = manifest.acknowledge("carrier", name="张三", at=NOON)
    with pytest.raises(
        ValidationError,
        match=r"manifest M-1 was already acknowledged by the carrier \(接收方\): 张\* at",
    ):
        signed.acknowledge("carrier", name="李四", at=NOON)
    with pytest.raises(ValidationError, match="acknowledgement name must be a non-empty string"):
        manifest.acknowledge("center", name="   ", at=NOON)
    with pytest.raises(ValidationError, match="is naive"):
        manifest.acknowledge("center", name="李四", at=datetime(2018, 9, 29, 10))
    with pytest.raises(ValidationError, match="is not a Side"):
        manifest.acknowledge("post", name="李四", at=NOON)


def test_names_are_masked_in_every_repr_and_str() -> None:
    ack = Acknowledgement(name="欧阳娜娜", at=NOON)
    manifest = HandoverManifest(
        manifest_id="M-1", center="GZ-520100", scheduled_at=NOON, items=[], handed_over=ack
    )
    for shown in (repr(ack), str(ack), repr(manifest), str(manifest)):
        assert "欧阳**" in shown
        assert "娜娜" not in shown


def test_a_manifest_lists_only_the_centers_waiting_pieces_each_once() -> None:
    run = PickupRun(center="GZ-520100", scheduled_at=NOON)
    with pytest.raises(ValidationError, match="belongs to center GZ-520200, not GZ-520100"):
        run.manifest([booked("GP-1", "EA000000014CN", 180, center="GZ-520200")])
    with pytest.raises(ValidationError, match="GP-1 is PICKED_UP: only pieces waiting"):
        run.manifest([booked("GP-1", "EA000000014CN", 180, status="picked_up", picked_up_at=NOON)])
    with pytest.raises(ValidationError, match=r"after the handover at .*: put it on the next one"):
        run.manifest([booked("GP-1", "EA000000014CN", 180, created_at=at(SEP_29, 11))])
    with pytest.raises(ValidationError, match="waybill EA000000014CN is on the manifest twice"):
        run.manifest([booked("GP-1", "EA000000014CN", 180), booked("GP-2", "EA000000014CN", 9)])


def test_reconciliation_refuses_what_is_not_a_pickup_scan() -> None:
    manifest = HandoverManifest(manifest_id="M-1", center="GZ-520100", scheduled_at=NOON, items=[])
    delivered = TrackingEvent(
        event_id="e-704", tracking_number="EA000000014CN", status="delivered", occurred_at=NOON
    )
    with pytest.raises(ValidationError, match="is DELIVERED, not a pickup scan"):
        reconcile_pickup(manifest, [delivered])
    with pytest.raises(ValidationError, match="tolerance_g -1 must be an int of grams >= 0"):
        reconcile_pickup(manifest, [], tolerance_g=-1)


@given(manifests().flatmap(lambda m: st.tuples(st.just(m), scans_for(m))), st.integers(0, 40))
def test_reconciling_a_manifest_with_scans_partitions_both_sides(
    case: tuple[HandoverManifest, list[PickupScan]], tolerance_g: int
) -> None:
    """Every manifest item is in exactly one of matched, weight differences and missing; every
    scan in exactly one of matched, weight differences, extra and duplicates; a weight
    difference is beyond the tolerance and a match within it."""
    manifest, scans = case
    result = reconcile_pickup(manifest, scans, tolerance_g=tolerance_g)
    pairs = [*result.matched, *result.weight_differences]
    items = [p.item for p in pairs] + list(result.missing)
    assert Counter(manifest.items) == Counter(items)
    scanned = [p.scan for p in pairs] + list(result.extra) + list(result.duplicates)
    assert Counter(scans) == Counter(scanned)
    assert all(p.item.waybill == p.scan.waybill for p in pairs)
    assert all(abs(p.difference_g or 0) > tolerance_g for p in result.weight_differences)
    assert all(p.difference_g is None or abs(p.difference_g) <= tolerance_g for p in result.matched)
    assert not {s.waybill for s in result.extra} & set(manifest.waybills)


@given(manifests())
def test_a_manifest_reconciled_with_its_own_scans_is_clean(manifest: HandoverManifest) -> None:
    """Scanning every piece once at its own weight matches everything."""
    scans = [
        PickupScan(waybill=i.waybill, weight_g=i.weight_g, scanned_at=NOON) for i in manifest.items
    ]
    result = reconcile_pickup(manifest, scans)
    assert result.is_clean
    assert manifest.pieces == len(result.matched)


@given(manifests().flatmap(lambda m: st.tuples(st.just(m), scans_for(m))))
def test_manifests_and_reconciliations_round_trip_through_json(
    case: tuple[HandoverManifest, list[PickupScan]],
) -> None:
    """Manifests and reconciliation results read back from JSON are unchanged."""
    manifest, scans = case
    assert manifest == from_json(to_json(manifest), HandoverManifest)
    result = reconcile_pickup(manifest, scans, tolerance_g=5)
    assert result == from_json(to_json(result), PickupReconciliation)


# --- stationed staff: counter session and daily close-out ---------------------------------------

JUNE_4 = date(2018, 6, 4)
TARIFF = WeightTariff.uniform(
    first_g=500,
    step_g=500,
    first_fee={"same_city": "8.00", "in_province": "10.00", "out_of_province": "15.00"},
    step_fee={"same_city": "1.00", "in_province": "2.00", "out_of_province": "5.00"},
)
AGREEMENT = FeeAgreement(
    id="GZ-EMS-2018",
    carrier="ems",
    reference="黔政办〔2018〕1号",
    centers={"GZ-520100"},
    covers=[Coverage(business_line="licence_delivery", direction="outbound_result")],
    valid_from=date(2018, 1, 1),
    mode=PerPiece(tariff=TARIFF, discount="0.15"),
)


def counter_piece(
    shipment_id: str, destination: str, weight_g: int, *, picked: bool = True, **changes: Any
) -> Shipment:
    created = at(JUNE_4, 9)
    piece = Shipment(
        id=shipment_id,
        center="GZ-520100",
        business_line="licence_delivery",
        direction="outbound_result",
        origin="520102",
        destination=destination,
        weight_g=weight_g,
        created_at=created,
        picked_up_at=created if picked else None,
        status="picked_up" if picked else "created",
    )
    return attrs.evolve(piece, **changes)


def test_daily_close_out_prices_each_piece_as_settlement_will() -> None:
    """Three government-paid pieces, 15% off (八五折), one applicant-paid, one not picked up:

    GP-1 同城 300 g: 8.00 × 0.85 = 6.80
    GP-2 省内 1,200 g: (10.00 + 2 × 2.00) × 0.85 = 11.90
    GP-3 省外 600 g: (15.00 + 1 × 5.00) × 0.85 = 17.00
    total 35.70 (叁拾伍元柒角)
    """
    session = CounterSession(center="GZ-520100", day=JUNE_4).book(
        counter_piece("GP-1", "520103", 300),
        counter_piece("GP-2", "522601", 1_200),
        counter_piece("GP-3", "110105", 600),
        counter_piece("GP-4", "520103", 300, direction="inbound_material"),
        counter_piece("GP-5", "520103", 300, picked=False),
    )
    close_out = session.close_out(AGREEMENT)
    assert [("GP-1", Money("6.80")), ("GP-2", Money("11.90")), ("GP-3", Money("17.00"))] == [
        (line.shipment_id, line.postage) for line in close_out.lines
    ]
    assert (3, Money("35.70"), 1, 1) == (
        close_out.pieces,
        close_out.postage,
        close_out.applicant_paid,
        close_out.not_billed,
    )
    assert [(s.business_line.value, s.pieces, s.postage) for s in close_out.by_business_line] == [
        ("licence_delivery", 3, Money("35.70"))
    ]
    statement = settle(AGREEMENT, session.bookings, Period.month(2018, 6))
    assert statement.total == close_out.postage


def test_a_session_takes_only_the_centers_bookings_of_its_day_once() -> None:
    session = CounterSession(center="GZ-520100", day=JUNE_4)
    with pytest.raises(ValidationError, match="was booked on 2018-06-05, not on 2018-06-04"):
        session.book(
            counter_piece("GP-1", "520103", 300, picked=False, created_at=at(date(2018, 6, 5), 9))
        )
    with pytest.raises(ValidationError, match="belongs to center GZ-520200"):
        session.book(counter_piece("GP-1", "520103", 300, center="GZ-520200"))
    with pytest.raises(ValidationError, match="GP-1 is booked twice"):
        session.book(counter_piece("GP-1", "520103", 300), counter_piece("GP-1", "520103", 300))


def test_a_lump_sum_agreement_has_no_daily_postage() -> None:
    lump = attrs.evolve(AGREEMENT, mode=LumpSum(amount=Money("3000.00")))
    with pytest.raises(ValidationError, match="settles as a lump sum"):
        CounterSession(center="GZ-520100", day=JUNE_4).close_out(lump)


@settings(max_examples=30)
@given(
    per_piece_agreements(),
    shipment_batches(start=date(2018, 6, 1), days=30, max_size=30),
)
def test_the_days_close_outs_add_up_to_the_months_statement(
    agreement: FeeAgreement, batch: list[Shipment]
) -> None:
    """Per-piece additivity: closing out every (center, day) of June gives, line by line, the
    per-piece charges of June's statement of the same pieces."""
    sessions: dict[tuple[str, date], list[Shipment]] = {}
    for shipment in batch:
        if shipment.center in SETTLEMENT_CENTERS:
            day = shipment.created_at.astimezone(SHANGHAI).date()
            sessions.setdefault((shipment.center, day), []).append(shipment)
    closed = {}
    for (center, day), bookings in sessions.items():
        close_out = CounterSession(center=center, day=day, bookings=bookings).close_out(agreement)
        assert close_out.postage == sum((line.postage for line in close_out.lines), Money(0))
        closed.update({line.waybill: line.postage for line in close_out.lines})
    month = settle(agreement, batch, Period.month(2018, 6))
    charged = {line.waybill: line.amount for line in month.lines if line.kind is LineKind.CHARGE}
    assert charged == closed


# --- government agent: agent fee ----------------------------------------------------------------


def agent_pieces(count: int) -> list[Shipment]:
    return [
        counter_piece(f"GP-{i}", "520103", 300, center="GZ-522700", origin="522701")
        for i in range(count)
    ]


AGENT_AGREEMENT = attrs.evolve(
    AGREEMENT, id="GZ-AGENT", centers={"GZ-522700"}, mode=PerPiece(tariff=FlatTariff(price="12.00"))
)


def test_agent_fee_deducts_per_piece_from_what_settlement_bills() -> None:
    """Four pieces at 12.00, a packaging fee of 1.50 per piece deducted: 48.00 − 6.00 = 42.00."""
    statement = settle(AGENT_AGREEMENT, agent_pieces(4), Period.month(2018, 6))
    fee = AgentFee(per_piece=Money("1.50"), reference="黔邮协〔2018〕6号 第五条")
    adjustment = apply_agent_fee(statement, fee)
    assert [Money("-1.50")] * 4 == [line.amount for line in adjustment.lines]
    assert (4, Money("48.00"), Money("-6.00"), Money("42.00")) == (
        adjustment.pieces,
        adjustment.statement_total,
        adjustment.total,
        adjustment.payable,
    )
    assert statement.statement_id == adjustment.statement_id


def test_agent_fee_applies_to_pieces_covered_by_a_lump_sum_and_may_be_a_charge() -> None:
    """Three pieces inside a 100.00 lump sum, 0.80 charged per piece: 100.00 + 2.40."""
    lump = attrs.evolve(AGENT_AGREEMENT, mode=LumpSum(amount=Money("100.00")))
    statement = settle(lump, agent_pieces(3), Period.month(2018, 6))
    fee = AgentFee(per_piece=Money("0.80"), reference="第五条", kind=AgentFeeKind.CHARGE)
    adjustment = apply_agent_fee(statement, fee)
    assert (3, Money("2.40"), Money("102.40")) == (
        adjustment.pieces,
        adjustment.total,
        adjustment.payable,
    )


def test_agent_fee_reads_the_lines_settle_put_on_the_statement() -> None:
    """Settled under an agreement carrying the fee, the statement holds the lines (48.00 −
    6.00 = 42.00): apply_agent_fee reads them, and gives what it computes for the statement
    settled without the fee."""
    fee = AgentFee(per_piece=Money("1.50"), reference="黔邮协〔2018〕6号 第五条")
    with_fee = settle(
        attrs.evolve(AGENT_AGREEMENT, agent_fee=fee), agent_pieces(4), Period.month(2018, 6)
    )
    without = settle(AGENT_AGREEMENT, agent_pieces(4), Period.month(2018, 6))
    read, computed = apply_agent_fee(with_fee, fee), apply_agent_fee(without, fee)
    assert with_fee.total == Money("42.00") == read.payable == computed.payable
    assert (read.statement_total, read.total) == (Money("48.00"), Money("-6.00"))
    assert read.lines == computed.lines
    assert [line.refers_to for line in read.lines] == [f"GP-{i}/charge" for i in range(4)]
    assert read.statement_id == with_fee.statement_id != computed.statement_id
    other = AgentFee(per_piece=Money("1.50"), reference="第五条", kind=AgentFeeKind.CHARGE)
    with pytest.raises(
        ValidationError, match=r"carries the agent fee line GP-0/agent_fee of -1.50"
    ):
        apply_agent_fee(with_fee, other)


def test_a_negative_zero_or_foreign_agent_fee_is_refused() -> None:
    with pytest.raises(ValidationError, match=r"agent fee per piece -1.50 CNY is negative"):
        AgentFee(per_piece=Money("-1.50"), reference="第五条")
    with pytest.raises(ValidationError, match=r"agent fee per piece 0.00 CNY is zero"):
        AgentFee(per_piece=Money("0.00"), reference="第五条")
    with pytest.raises(ValidationError, match="is not a whole number of fen"):
        AgentFee(per_piece=Money("1.505"), reference="第五条")
    statement = settle(AGENT_AGREEMENT, agent_pieces(1), Period.month(2018, 6))
    with pytest.raises(CurrencyMismatchError, match="is not in the statement's currency CNY"):
        apply_agent_fee(statement, AgentFee(per_piece=Money("1.00", "USD"), reference="x"))


def test_the_agents_handover_reuses_the_schedule_and_the_manifest() -> None:
    """A government agent hands over twice a week; its manifest says so."""
    schedule = PickupSchedule(rules="FREQ=WEEKLY;BYDAY=TU,FR;BYHOUR=15", starts=date(2018, 1, 1))
    runs = schedule.runs(
        "GZ-520100", SEP_29, date(2018, 10, 13), mode=CooperationMode.GOVERNMENT_AGENT
    )
    assert [date(2018, 10, 9), date(2018, 10, 12)] == [r.scheduled_at.date() for r in runs]
    manifest = runs[0].manifest([booked("GP-1", "EA000000014CN", 180)])
    assert CooperationMode.GOVERNMENT_AGENT is manifest.mode


def test_every_public_object_says_when_it_was_added() -> None:
    """Every class and function govpost.modes exports is documented with versionadded."""
    undocumented = [
        name
        for name in govpost.modes.__all__
        if (inspect.isclass(obj := getattr(govpost.modes, name)) or inspect.isfunction(obj))
        and ".. versionadded:: 0.2.0" not in (inspect.getdoc(obj) or "")
    ]
    assert [] == undocumented


# --- review: hostile rules, COUNT semantics, close-out carry-over --------------------------------


@pytest.mark.parametrize(
    ("rule", "message"),
    [
        ("FREQ=DAILY;BYHOUR=10;INTERVAL=0", r"INTERVAL='0' must be a whole number from 1"),
        ("FREQ=DAILY;BYHOUR=10;INTERVAL=-1", "is not an RFC 5545 RRULE|INTERVAL='-1' must be"),
        ("FREQ=DAILY;BYHOUR=10;COUNT=0", r"COUNT='0' must be a whole number from 1"),
        ("FREQ=DAILY;BYHOUR=10;COUNT=" + "9" * 30, "COUNT=.* must be a whole number"),
        ("FREQ=DAILY;BYHOUR=10;BYEASTER=1000000", "BYEASTER.* is not a part of an RFC 5545"),
        ("FREQ=SECONDLY;BYHOUR=10", "FREQ=SECONDLY is not one of"),
        ("FREQ=DAILY;BYHOUR=10;BYSETPOS=2", "gives no pickup at all"),
        ("FREQ=YEARLY;BYWEEKNO=53;BYHOUR=10", "gives no pickup at all"),
        ("RRULE:FREQ=DAILY;BYHOUR=10\nRRULE:FREQ=DAILY;BYHOUR=11", "is not an RFC 5545 RRULE"),
        ("DTSTART:20180101T000000\nRRULE:FREQ=DAILY;BYHOUR=10", "is not an RFC 5545 RRULE"),
    ],
)
def test_hostile_rules_are_govpost_errors_in_bounded_time(rule: str, message: str) -> None:
    """INTERVAL=0 used to make dateutil loop for ever; BYEASTER, a negative INTERVAL and UNTIL
    at the end of year 9999 (UTC) escaped as IndexError, ValueError and OverflowError."""
    started = clock.monotonic()
    with pytest.raises(ValidationError, match=message):
        PickupSchedule(rules=rule, starts=date(2018, 9, 1))
    assert clock.monotonic() - started < 2


def test_extreme_but_valid_rules_work_quickly() -> None:
    started = clock.monotonic()
    far = PickupSchedule(rules="freq=daily; byhour=10;UNTIL=99991231T235959Z", starts=SEP_29)
    assert at(SEP_29, 10) == far.occurrences(SEP_29, date(2018, 9, 30))[0]
    sparse = PickupSchedule(rules="FREQ=DAILY;INTERVAL=10000;BYHOUR=10", starts=SEP_29)
    assert (at(SEP_29, 10),) == sparse.occurrences(SEP_29, date(2019, 9, 29))
    with pytest.raises(ValidationError, match="give no pickup on a working day"):
        sparse.next_pickup(at(SEP_29, 11))
    repeated = "FREQ=DAILY;BYHOUR=10;BYMINUTE=" + ",".join(["5"] * 97)
    assert 1 == len(
        PickupSchedule(rules=repeated, starts=SEP_29).occurrences(SEP_29, date(2018, 9, 30))
    )
    assert clock.monotonic() - started < 5


def test_one_rule_that_never_happens_is_refused_beside_a_good_one() -> None:
    with pytest.raises(
        ValidationError, match=r"rule 'FREQ=DAILY;BYHOUR=10;BYMONTH=2;BYMONTHDAY=30'"
    ):
        PickupSchedule(
            rules=["FREQ=DAILY;BYHOUR=9", "FREQ=DAILY;BYHOUR=10;BYMONTH=2;BYMONTHDAY=30"],
            starts=SEP_29,
        )


def test_count_counts_the_rules_instants_days_off_included() -> None:
    """COUNT=3 from Friday 5 October 2018: the 5th (holiday), 6th (off), 7th (holiday) → none;
    from 28 September: the 28th, 29th (调休) and 30th (调休) → three pickups."""
    holiday = PickupSchedule(rules="FREQ=DAILY;BYHOUR=10;COUNT=3", starts=date(2018, 10, 5))
    assert () == holiday.occurrences(date(2018, 10, 1), date(2018, 10, 31))
    worked = PickupSchedule(rules="FREQ=DAILY;BYHOUR=10;COUNT=3", starts=date(2018, 9, 28))
    assert [at(date(2018, 9, d), 10) for d in (28, 29, 30)] == list(
        worked.occurrences(date(2018, 9, 1), date(2018, 10, 31))
    )


def test_a_window_is_half_open_and_until_is_inclusive() -> None:
    schedule = PickupSchedule.working_days(["10:00"], starts=date(2018, 9, 1))
    assert () == schedule.occurrences(at(SEP_29, 9), at(SEP_29, 10))
    assert (at(SEP_29, 10),) == schedule.occurrences(at(SEP_29, 10), at(SEP_29, 10, 1))
    until = PickupSchedule(rules="FREQ=DAILY;BYHOUR=10;UNTIL=20180930T100000", starts=SEP_29)
    assert [at(SEP_29, 10), at(date(2018, 9, 30), 10)] == list(
        until.occurrences(SEP_29, date(2018, 10, 31))
    )


def test_a_piece_picked_up_the_next_day_is_not_billed_by_its_booking_days_close_out() -> None:
    """Booked 4 June 17:30, picked up 5 June 09:00: June's statement bills it (6.80, on the
    5th); the 4th's close-out counts it as not billed."""
    late = counter_piece(
        "GP-9", "520103", 300, created_at=at(JUNE_4, 17, 30), picked_up_at=at(date(2018, 6, 5), 9)
    )
    close_out = CounterSession(center="GZ-520100", day=JUNE_4, bookings=[late]).close_out(AGREEMENT)
    assert (0, 1, Money("0.00")) == (close_out.pieces, close_out.not_billed, close_out.postage)
    month = settle(AGREEMENT, [late], Period.month(2018, 6))
    assert [(date(2018, 6, 5), Money("6.80"))] == [(line.day, line.amount) for line in month.lines]


def _sample_modes_documents() -> dict[type[object], object]:
    run = PickupRun(center="GZ-520100", scheduled_at=NOON)
    manifest = run.manifest(
        [booked("GP-1", "EA000000014CN", 180), booked("GP-2", None, 90)]
    ).acknowledge("center", name="欧阳娜娜", at=NOON)
    scan = PickupScan(waybill="EA000000014CN", weight_g=185, scanned_at=NOON, event_id="e-1")
    result = reconcile_pickup(manifest, [scan, scan], tolerance_g=3)
    session = CounterSession(
        center="GZ-520100", day=JUNE_4, bookings=[counter_piece("GP-1", "520103", 300)]
    )
    close_out = session.close_out(AGREEMENT)
    return {
        PickupSchedule: PickupSchedule(
            rules=["FREQ=WEEKLY;BYDAY=MO;BYHOUR=9;COUNT=5", "FREQ=DAILY;BYHOUR=16"],
            starts=SEP_29,
            ends=date(2019, 1, 1),
        ),
        PickupRun: run,
        HandoverManifest: manifest,
        ManifestItem: manifest.items[0],
        Acknowledgement: manifest.handed_over,
        PickupScan: scan,
        PickupMatch: result.weight_differences[0],
        PickupReconciliation: result,
        CounterSession: session,
        DailyCloseOut: close_out,
        CloseOutLine: close_out.lines[0],
        CloseOutSubtotal: close_out.by_business_line[0],
    }


@fuzz
@given(junk_documents(_sample_modes_documents()))
def test_junk_documents_of_the_modes_models_are_govpost_errors(case: tuple[type[Any], str]) -> None:
    """from_json of a genuine document with junk in it: the model, or a govpost error."""
    cls, text = case
    with contextlib.suppress(GovpostError):
        from_json(text, cls)


_RULE_VALUES = st.sampled_from(
    [
        "0",
        "-1",
        "+1",
        "1",
        "2",
        "53",
        "-53",
        "366",
        "-366",
        "367",
        "25",
        "59",
        "60",
        "10000",
        "9" * 25,
        "",
        "MO",
        "+5FR",
        "-1SU",
        "XX",
        "1,2",
        "DAILY",
        "SECONDLY",
        "20181231",
        "20180929T020000Z",
        "99991231T235959Z",
        "00010101",
    ]
)
_RULE_PARTS = st.sampled_from(
    [
        "FREQ",
        "INTERVAL",
        "COUNT",
        "UNTIL",
        "BYMONTH",
        "BYWEEKNO",
        "BYYEARDAY",
        "BYMONTHDAY",
        "BYDAY",
        "BYMINUTE",
        "BYSECOND",
        "BYSETPOS",
        "WKST",
        "BYEASTER",
        "DTSTART",
        "X-NAME",
    ]
)


def _bounded(seconds: int) -> Any:
    """Fail an example that runs longer than ``seconds`` (a hang never reaches a deadline)."""
    import signal

    def expired(signum: int, frame: object) -> None:
        raise AssertionError(f"no answer within {seconds} s")

    class Guard:
        def __enter__(self) -> None:
            signal.signal(signal.SIGALRM, expired)
            signal.alarm(seconds)

        def __exit__(self, *exc: object) -> None:
            signal.alarm(0)

    return Guard()


@fuzz
@given(
    st.sampled_from(["DAILY", "WEEKLY", "MONTHLY", "YEARLY", "HOURLY"]),
    st.lists(st.tuples(_RULE_PARTS, _RULE_VALUES), max_size=4, unique_by=lambda p: p[0]),
    st.sampled_from(["10", "9,16", "0", "23"]),
)
def test_any_rrule_is_a_schedule_or_a_govpost_error_quickly(
    freq: str, parts: list[tuple[str, str]], hours: str
) -> None:
    rule = ";".join([f"FREQ={freq}", f"BYHOUR={hours}", *(f"{k}={v}" for k, v in parts)])
    with _bounded(5):
        try:
            schedule = PickupSchedule(rules=rule, starts=SEP_29)
        except GovpostError:
            return
        try:
            found = schedule.occurrences(SEP_29, date(2019, 9, 29))
            schedule.next_pickup(at(SEP_29, 17))
        except GovpostError:
            return
    calendar = WorkCalendar.china()
    assert list(found) == sorted(set(found))
    assert all(calendar.is_workday(t.date()) and str(t.tzinfo) == "Asia/Shanghai" for t in found)
