"""The sandbox carrier: deterministic, valid S10 numbers, realistic working-day timings."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import attrs
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from govpost.calendar import WorkCalendar
from govpost.carriers import QuoteRequest
from govpost.carriers.sandbox import SandboxCarrier
from govpost.errors import CarrierError, ValidationError
from govpost.identifiers import TrackingNumber
from govpost.money import Money
from govpost.regions import Division, Zone
from govpost.shipments import TRANSITIONS, ShipmentStatus
from govpost.testing import sample_booking_request
from tests.strategies import booking_requests

S = ShipmentStatus
SHANGHAI = ZoneInfo("Asia/Shanghai")
CAL = WorkCalendar.china()


def life(seed: int, order_id: str, **kwargs: object) -> tuple[ShipmentStatus, ...]:
    sandbox = SandboxCarrier(seed=seed, **kwargs)  # type: ignore[arg-type]
    booking = sandbox.book(sample_booking_request(order_id))
    return tuple(e.status for e in sandbox.timeline(booking.tracking_number))


def test_same_seed_same_numbers_and_events() -> None:
    a, b = SandboxCarrier(seed=7), SandboxCarrier(seed=7)
    for i in range(5):
        request = sample_booking_request(f"GZ-{i}")
        ta, tb = a.book(request).tracking_number, b.book(request).tracking_number
        assert ta == tb
        assert a.timeline(ta) == b.timeline(tb)
    assert SandboxCarrier(seed=8).book(sample_booking_request("GZ-0")).tracking_number != ta


def test_numbers_are_valid_s10_and_distinct() -> None:
    sandbox = SandboxCarrier(seed=1)
    numbers = [sandbox.book(sample_booking_request(f"GZ-{i}")).tracking_number for i in range(50)]
    assert len(set(numbers)) == 50
    for number in numbers:
        assert TrackingNumber.parse(str(number)) == number
        assert number.country == "CN"
        assert number.service == "EA"


def test_booking_is_idempotent_per_order_id() -> None:
    sandbox = SandboxCarrier()
    first = sandbox.book(sample_booking_request("GZ-1"))
    again = sandbox.book(sample_booking_request("GZ-1"))
    assert again.tracking_number == first.tracking_number
    assert (first.duplicate, again.duplicate) == (False, True)


@given(booking_requests(), st.integers(min_value=0, max_value=2**32))
@settings(max_examples=60)
def test_every_simulated_life_obeys_the_transition_table(request: object, seed: int) -> None:
    """Whatever the order and seed, each event is a legal step from the one before, and scans
    fall on whole minutes, as a carrier's records do."""
    sandbox = SandboxCarrier(seed=seed, failure_rate=0.3, return_rate=0.2, pickup_point_rate=0.3)
    booking = sandbox.book(request)  # type: ignore[arg-type]
    events = sandbox.timeline(booking.tracking_number)
    assert events[0].status is S.PICKED_UP
    assert events[-1].status in (S.DELIVERED, S.RETURNED)
    times = [e.occurred_at for e in events]
    assert times == sorted(times)
    assert all(t.second == 0 and t.microsecond == 0 for t in times)
    assert events[0].occurred_at > request.shipment.created_at  # type: ignore[attr-defined]
    status = S.AWAITING_PICKUP
    for event in events:
        assert event.status in TRANSITIONS[status], f"{status.name} -> {event.status.name}"
        status = event.status


@pytest.mark.parametrize(
    ("destination", "zone", "days"),
    [
        ("520103", Zone.SAME_CITY, {1}),
        ("520302", Zone.IN_PROVINCE, {2}),
        ("110105", Zone.OUT_OF_PROVINCE, {3, 4, 5}),
    ],
)
def test_delivery_takes_the_working_days_of_its_zone(
    destination: str, zone: Zone, days: set[int]
) -> None:
    sandbox = SandboxCarrier(seed=3, failure_rate=0, return_rate=0, pickup_point_rate=0)
    seen = set()
    for i in range(30):
        request = sample_booking_request(f"Z-{i}", destination=destination)
        assert request.shipment.zone is zone
        events = sandbox.timeline(sandbox.book(request).tracking_number)
        picked = events[0].occurred_at.astimezone(SHANGHAI).date()
        delivered = events[-1].occurred_at.astimezone(SHANGHAI).date()
        seen.add(CAL.workdays_between(picked, delivered))
    assert seen <= days
    assert len(seen) == len(days) or zone is Zone.OUT_OF_PROVINCE


def test_pickup_skips_holidays() -> None:
    # Placed on the eve of the 2024 National Day holiday, after 15:00: picked up on 8 October.
    created = datetime(2024, 9, 30, 16, 0, tzinfo=SHANGHAI)
    sandbox = SandboxCarrier(seed=5)
    request = sample_booking_request("GZ-HOLIDAY", created_at=created)
    events = sandbox.timeline(sandbox.book(request).tracking_number)
    assert events[0].occurred_at.astimezone(SHANGHAI).date() == date(2024, 10, 8)
    assert all(CAL.is_workday(e.occurred_at.astimezone(SHANGHAI).date()) for e in events[:2])


def test_rates_shape_the_outcomes() -> None:
    outcomes = Counter(
        life(11, f"R-{i}", failure_rate=0.2, return_rate=0.1, pickup_point_rate=0)[-1]
        for i in range(400)
    )
    failures = Counter(
        S.DELIVERY_FAILED in life(11, f"R-{i}", failure_rate=0.2, return_rate=0.1)
        for i in range(400)
    )
    assert 20 <= outcomes[S.RETURNED] <= 60
    assert 50 <= failures[True] <= 110
    assert life(1, "X", failure_rate=0, return_rate=0, pickup_point_rate=0)[-1] is S.DELIVERED
    assert life(1, "X", failure_rate=0, return_rate=1)[-2:] == (S.RETURNING, S.RETURNED)


def test_track_shows_only_what_has_happened_by_the_clock() -> None:
    now = [datetime(2024, 6, 3, 0, 0, tzinfo=UTC)]
    sandbox = SandboxCarrier(seed=2, clock=lambda: now[0])
    booking = sandbox.book(sample_booking_request("GZ-CLOCK"))
    assert sandbox.track(booking.tracking_number) == ()
    full = sandbox.timeline(booking.tracking_number)
    now[0] = full[2].occurred_at
    assert sandbox.track(booking.tracking_number) == full[:3]
    now[0] += timedelta(days=30)
    assert sandbox.track(booking.tracking_number) == full


def test_cancel_before_pickup_only() -> None:
    now = [datetime(2024, 6, 3, 0, 0, tzinfo=UTC)]
    sandbox = SandboxCarrier(seed=2, clock=lambda: now[0])
    early = sandbox.book(sample_booking_request("GZ-EARLY"))
    sandbox.cancel("GZ-EARLY")
    sandbox.cancel("GZ-EARLY")
    late = sandbox.book(sample_booking_request("GZ-LATE"))
    now[0] += timedelta(days=10)
    assert [e.status for e in sandbox.track(early.tracking_number)] == [S.CANCELLED]
    with pytest.raises(CarrierError, match="can no longer be cancelled") as info:
        sandbox.cancel("GZ-LATE", tracking_number=late.tracking_number)
    assert info.value.code == "already_picked_up"
    with pytest.raises(CarrierError) as unknown:
        sandbox.cancel("GZ-NEVER")
    assert unknown.value.code == "unknown_order"


def test_unknown_waybill() -> None:
    with pytest.raises(CarrierError) as info:
        SandboxCarrier().track(TrackingNumber.parse("EA520001879CN"))
    assert info.value.code == "unknown_waybill"


def test_quote_by_zone_and_weight() -> None:
    sandbox = SandboxCarrier()
    assert sandbox.quote(
        QuoteRequest(origin="520102", destination="520103", weight_g=500)
    ).amount == Money("8.00")
    assert sandbox.quote(
        QuoteRequest(origin="520102", destination="520302", weight_g=501)
    ).amount == Money("13.00")
    insured = QuoteRequest(
        origin="520102", destination="110105", weight_g=300, declared_value=Money("1000")
    )
    assert sandbox.quote(insured).amount == Money("20.00")


def test_years_without_official_calendar_fall_back_to_weekdays() -> None:
    sandbox = SandboxCarrier(seed=4, calendar=WorkCalendar.weekdays_only(years=[2024]))
    request = sample_booking_request(
        "GZ-2031", created_at=datetime(2031, 1, 3, 10, tzinfo=SHANGHAI)
    )
    events = sandbox.timeline(sandbox.book(request).tracking_number)
    assert all(e.occurred_at.astimezone(SHANGHAI).weekday() < 5 for e in events)


@pytest.mark.parametrize(
    "kwargs",
    [
        {"failure_rate": -0.1},
        {"return_rate": 1.5},
        {"seed": "x"},
        {"failure_rate": 0.6, "return_rate": 0.6},
    ],
)
def test_bad_settings(kwargs: dict[str, object]) -> None:
    with pytest.raises(ValidationError):
        SandboxCarrier(**kwargs)  # type: ignore[arg-type]


def test_repr_is_short_and_free_of_personal_data() -> None:
    sandbox = SandboxCarrier(seed=9)
    sandbox.book(sample_booking_request("GZ-1"))
    assert repr(sandbox) == "<SandboxCarrier seed=9 orders=1 failure_rate=0.05 return_rate=0.02>"


def test_a_bug_in_push_parsing_stays_a_bug(monkeypatch: pytest.MonkeyPatch) -> None:
    """A KeyError of govpost's own code is not turned into a refused push."""
    import govpost.carriers.sandbox as sandbox_module

    def broken(item: object) -> object:
        raise KeyError("bug")

    sandbox = SandboxCarrier(seed=5, clock=lambda: datetime(2024, 7, 1, tzinfo=UTC))
    booking = sandbox.book(sample_booking_request("GZ-BUG"))
    body, headers = sandbox.push(booking.tracking_number)
    monkeypatch.setattr(sandbox_module, "_event_from", broken)
    with pytest.raises(KeyError, match="bug"):
        sandbox.parse_push(body, headers)


def test_a_late_pickup_reaches_the_sorting_centre_after_its_dispatch() -> None:
    """Regression: picked up at 16:50 and dispatched at 21:31, the piece reached the sorting
    centre at 21:30 — before it left — because the arrival was drawn in 21:00-23:00 alone."""
    request = sample_booking_request("BK-000000103")
    request = attrs.evolve(
        request,
        shipment=attrs.evolve(
            request.shipment,
            destination=Division.parse("520302"),
            weight_g=1,
            created_at=datetime(2024, 1, 4, 13, 39, tzinfo=SHANGHAI),
        ),
    )
    sandbox = SandboxCarrier(seed=5147, failure_rate=0.3, return_rate=0.2, pickup_point_rate=0.3)
    events = sandbox.timeline(sandbox.book(request).tracking_number)
    times = [e.occurred_at for e in events]
    assert [e.carrier_code for e in events[:3]] == ["203", "389", "954"]
    assert times == sorted(times)
