"""The booking journal: attempts recorded before the carrier is called, never lost nor changed."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import attrs
import pytest

from govpost.carriers import (
    Booking,
    BookingRequest,
    Capability,
    JournalEntry,
    JournalState,
    MemoryJournal,
    book_once,
    booking_fingerprint,
)
from govpost.carriers.ems import EmsCarrier
from govpost.carriers.ems.build import API_CREATE_ORDER
from govpost.carriers.sandbox import SandboxCarrier
from govpost.centers import BusinessLine
from govpost.errors import CarrierError, ValidationError
from govpost.identifiers import TrackingNumber
from govpost.money import Money
from govpost.serialization import from_json, to_json
from govpost.shipments import (
    Direction,
    Recipient,
    Shipment,
    ShipmentStatus,
    TrackingEvent,
)
from govpost.testing import FakeEmsServer, Fault, sample_booking_request

T0 = datetime(2024, 6, 3, 1, 0, tzinfo=UTC)


@pytest.fixture
def server() -> Iterator[FakeEmsServer]:
    with FakeEmsServer(timeout_delay=1.5) as fake:
        yield fake


@pytest.fixture
def ems(server: FakeEmsServer) -> Iterator[EmsCarrier]:
    with EmsCarrier(
        **server.carrier_config(timeout=0.5, deadline=1.0, retries=2, backoff=0.01)
    ) as carrier:
        yield carrier


def create_calls(server: FakeEmsServer) -> int:
    return sum(code == API_CREATE_ORDER for code, _ in server.calls)


# --- the fingerprint ------------------------------------------------------------------------------


def test_the_fingerprint_is_stable_and_ignores_the_tracking_state() -> None:
    request = sample_booking_request("GZ-1")
    moved_on = attrs.evolve(
        request,
        shipment=attrs.evolve(
            request.shipment,
            tracking_number=TrackingNumber.parse("EA123456785CN"),
            status=ShipmentStatus.AWAITING_PICKUP,
        ),
    )
    assert booking_fingerprint(request) == booking_fingerprint(sample_booking_request("GZ-1"))
    assert booking_fingerprint(moved_on) == booking_fingerprint(request)
    assert booking_fingerprint(request).startswith("sha256:")


@pytest.mark.parametrize(
    "change",
    [
        lambda r: attrs.evolve(r, shipment=attrs.evolve(r.shipment, weight_g=251)),
        lambda r: attrs.evolve(r, contents="材料"),
        lambda r: attrs.evolve(r, pickup_notes="下午取件"),
        lambda r: attrs.evolve(
            r,
            shipment=attrs.evolve(
                r.shipment,
                recipient=Recipient(name="张三", mobile="13900000000", address="遵义市1号"),
            ),
        ),
        lambda r: sample_booking_request("GZ-2"),
    ],
)
def test_the_fingerprint_changes_with_what_is_booked(change: Any) -> None:
    request = sample_booking_request("GZ-1")
    assert booking_fingerprint(change(request)) != booking_fingerprint(request)


#: Another value for every field of what is booked: each must change the fingerprint.
LATER = datetime(2024, 6, 3, 9, 31, tzinfo=UTC)
SHIPMENT_CHANGES: dict[str, Any] = {
    "id": "GZ-OTHER",
    "center": "GZ-520101",
    "business_line": BusinessLine.TAX,
    "direction": Direction.INBOUND_MATERIAL,
    "origin": "520103",
    "destination": "520303",
    "weight_g": 251,
    "created_at": LATER,
    "recipient": Recipient(
        name="欧阳娜娜", mobile="13800138001", address="贵州省遵义市红花岗区中华南路1号"
    ),
    "declared_value": Money("600"),
    "return_receipt": True,
    "application_ref": "BJ-2024-000001",
    "approved_at": LATER,
}
REQUEST_CHANGES: dict[str, Any] = {
    "sender": Recipient(
        name="贵阳市政务服务中心", mobile="13885000000", address="贵州省贵阳市南明区市府路2号"
    ),
    "contents": "材料",
    "pickup_notes": "下午取件",
}
#: The shipment's tracking state: what happened after booking, not what was booked.
TRACKING_STATE = {
    "tracking_number",
    "status",
    "picked_up_at",
    "returned_at",
    "events",
    "superseded",
    "_state",
}


def test_every_field_of_what_is_booked_changes_the_fingerprint() -> None:
    """Each field of the request and of its shipment, but the tracking state, is content."""
    assert set(SHIPMENT_CHANGES) | TRACKING_STATE == {f.name for f in attrs.fields(Shipment)}
    assert set(REQUEST_CHANGES) | {"shipment"} == {f.name for f in attrs.fields(BookingRequest)}
    request = sample_booking_request("GZ-1")
    original = booking_fingerprint(request)
    unchanged = []
    for name, value in SHIPMENT_CHANGES.items():
        changed = attrs.evolve(request, shipment=attrs.evolve(request.shipment, **{name: value}))
        if booking_fingerprint(changed) == original:
            unchanged.append(name)
    no_value = attrs.evolve(request, shipment=attrs.evolve(request.shipment, declared_value=None))
    if booking_fingerprint(no_value) == original:
        unchanged.append("declared_value=None")
    for name, value in REQUEST_CHANGES.items():
        if booking_fingerprint(attrs.evolve(request, **{name: value})) == original:
            unchanged.append(name)
    assert unchanged == []


def test_a_shipment_with_corrected_events_is_still_the_same_booking() -> None:
    """Regression: corrections kept in Shipment.superseded changed the fingerprint, so
    book_once refused a booked shipment that had moved on as "other content"."""
    sandbox = SandboxCarrier(seed=3, clock=lambda: T0 + timedelta(days=30))
    journal = MemoryJournal()
    request = sample_booking_request("GZ-SUP")
    booked = book_once(sandbox, request, journal)

    def scan(event_id: str, status: str, code: str, hours: int) -> TrackingEvent:
        return TrackingEvent(
            event_id=event_id,
            tracking_number=booked.tracking_number,
            status=status,
            occurred_at=request.shipment.created_at + timedelta(hours=hours),
            carrier_code=code,
        )

    picked = scan("e1", "picked_up", "203", 1)
    failed = scan("e2", "delivery_failed", "705", 6)
    corrected = attrs.evolve(failed, status=ShipmentStatus.DELIVERED, carrier_code="704")
    shipment = attrs.evolve(request.shipment, tracking_number=booked.tracking_number)
    moved_on = shipment.apply(picked, failed).apply(corrected)
    assert moved_on.superseded == (failed,)
    later = attrs.evolve(request, shipment=moved_on)
    assert booking_fingerprint(later) == booking_fingerprint(request)
    assert book_once(sandbox, later, journal) == booked


def test_the_fingerprint_takes_a_booking_request_only() -> None:
    with pytest.raises(ValidationError, match="BookingRequest"):
        booking_fingerprint("GZ-1")  # type: ignore[arg-type]


# --- entries and the memory journal ---------------------------------------------------------------


def entry(key: str = "GZ-1", **changes: Any) -> JournalEntry:
    fields: dict[str, Any] = {
        "key": key,
        "carrier": "ems",
        "fingerprint": "sha256:" + "0" * 64,
        "state": JournalState.PENDING,
        "created_at": T0,
        "updated_at": T0,
    }
    return JournalEntry(**(fields | changes))


def booking(order_id: str = "GZ-1") -> Booking:
    return Booking(
        carrier="ems",
        order_id=order_id,
        tracking_number=TrackingNumber.parse("EA123456785CN"),
        booked_at=T0,
    )


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"state": JournalState.BOOKED}, "exactly when the state is 'booked'"),
        ({"booking": booking()}, "exactly when the state is 'booked'"),
        ({"state": JournalState.BOOKED, "booking": booking("GZ-2")}, "booking of order GZ-2"),
        ({"state": JournalState.FAILED}, "without an error_code"),
        ({"created_at": datetime(2024, 6, 3)}, "naive"),
        ({"key": ""}, "order id"),
        ({"attempts": -1}, "attempts"),
    ],
)
def test_inconsistent_entries_are_refused(changes: dict[str, Any], message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        entry(**changes)


def test_an_entry_round_trips_through_the_wire_format() -> None:
    booked = entry(state=JournalState.BOOKED, booking=booking(), attempts=2)
    assert from_json(to_json(booked), JournalEntry) == booked


def test_setdefault_keeps_the_first_entry_and_put_never_replaces_a_booking() -> None:
    journal = MemoryJournal()
    first = journal.setdefault(entry())
    assert journal.setdefault(entry(attempts=5)) == first
    booked = journal.put(entry(state=JournalState.BOOKED, booking=booking()))
    failed = entry(state=JournalState.FAILED, error_code="B00001")
    assert journal.put(failed) == booked
    assert journal.get("GZ-1") == booked


def test_pending_lists_unresolved_attempts_oldest_first() -> None:
    journal = MemoryJournal()
    journal.put(entry("B", created_at=T0 + timedelta(minutes=1)))
    journal.put(entry("A", created_at=T0 + timedelta(minutes=2)))
    journal.put(entry("C", state=JournalState.FAILED, error_code="B00001"))
    journal.put(entry("D", state=JournalState.BOOKED, booking=booking("D")))
    assert [e.key for e in journal.pending()] == ["B", "A"]


def test_journals_sharing_a_mapping_see_the_same_entries() -> None:
    shared: dict[str, JournalEntry] = {}
    MemoryJournal(shared).put(entry())
    assert MemoryJournal(shared).get("GZ-1") == entry()
    assert repr(MemoryJournal(shared)) == "<MemoryJournal entries=1>"


# --- book_once --------------------------------------------------------------------------------------


def test_book_once_records_pending_before_the_call_and_booked_after(
    server: FakeEmsServer, ems: EmsCarrier
) -> None:
    journal = MemoryJournal()
    seen: list[JournalEntry | None] = []

    class Watching:
        """The EMS adapter, noting what the journal holds when the carrier is called."""

        name = ems.name
        capabilities = frozenset({Capability.BOOK})

        def book(self, request: BookingRequest) -> Booking:
            seen.append(journal.get(request.order_id))
            return ems.book(request)

    request = sample_booking_request("GZ-J1")
    first = book_once(Watching(), request, journal)
    assert [(e.state, e.attempts) for e in seen if e] == [(JournalState.PENDING, 1)]
    recorded = journal.get("GZ-J1")
    assert recorded is not None
    assert (recorded.state, recorded.booking, recorded.attempts) == (JournalState.BOOKED, first, 1)
    assert recorded.fingerprint == booking_fingerprint(request)
    assert str(first.tracking_number) == server.waybill_of("GZ-J1")


def test_a_booked_order_is_returned_without_calling_the_carrier(
    server: FakeEmsServer, ems: EmsCarrier
) -> None:
    journal = MemoryJournal()
    request = sample_booking_request("GZ-J2")
    first = book_once(ems, request, journal)
    calls = list(server.calls)
    assert book_once(ems, request, journal) == first
    assert server.calls == calls


def test_other_content_under_the_same_order_id_is_refused_before_any_call(
    server: FakeEmsServer, ems: EmsCarrier
) -> None:
    journal = MemoryJournal()
    request = sample_booking_request("GZ-J3")
    book_once(ems, request, journal)
    heavier = attrs.evolve(request, shipment=attrs.evolve(request.shipment, weight_g=900))
    calls = list(server.calls)
    with pytest.raises(ValidationError) as info:
        book_once(ems, heavier, journal)
    assert server.calls == calls
    message = str(info.value)
    assert "order GZ-J3 is already booked with other content" in message
    assert "under a new order id" in message
    assert "cancel order GZ-J3 first" in message
    assert "13800138000" not in message


def test_an_order_pending_with_another_carrier_is_refused(server: FakeEmsServer) -> None:
    journal = MemoryJournal()
    request = sample_booking_request("GZ-J4")
    journal.setdefault(
        entry(
            "GZ-J4",
            carrier="sandbox",
            fingerprint=booking_fingerprint(request),
        )
    )
    with (
        EmsCarrier(**server.carrier_config()) as ems,
        pytest.raises(ValidationError, match="with carrier 'sandbox', not 'ems'"),
    ):
        book_once(ems, request, journal)
    assert server.calls == []


def test_a_refusal_is_recorded_failed_and_a_retry_with_the_same_content_is_allowed(
    server: FakeEmsServer, ems: EmsCarrier
) -> None:
    journal = MemoryJournal()
    request = sample_booking_request("GZ-J5")
    server.inject(Fault.RET_CODE, ret_code="A00001", ret_msg="授权码无效或已过期")
    with pytest.raises(CarrierError):
        book_once(ems, request, journal)
    failed = journal.get("GZ-J5")
    assert failed is not None
    assert (failed.state, failed.error_code, failed.booking) == (
        JournalState.FAILED,
        "A00001",
        None,
    )
    booked = book_once(ems, request, journal)  # the account fixed: asked again
    recorded = journal.get("GZ-J5")
    assert recorded is not None
    assert (recorded.state, recorded.attempts, recorded.error_code) == (
        JournalState.BOOKED,
        2,
        None,
    )
    assert str(booked.tracking_number) == server.waybill_of("GZ-J5")


def test_a_failed_order_cannot_be_booked_again_with_other_content(
    server: FakeEmsServer, ems: EmsCarrier
) -> None:
    """A refusal may not mean the order is absent ("duplicate_unconfirmed", an answer too
    large): the same order id is asked again only with the same content."""
    journal = MemoryJournal()
    request = sample_booking_request("GZ-J5B")
    server.inject(Fault.RET_CODE, ret_code="B00099", ret_msg="收件地址不详")
    with pytest.raises(CarrierError):
        book_once(ems, request, journal)
    calls = list(server.calls)
    fixed = attrs.evolve(
        request,
        shipment=attrs.evolve(
            request.shipment,
            recipient=Recipient(name="欧阳娜娜", mobile="13800138000", address="遵义市2号"),
        ),
    )
    with pytest.raises(ValidationError, match="already failed with other content"):
        book_once(ems, fixed, journal)
    assert server.calls == calls
    failed = journal.get("GZ-J5B")
    assert failed is not None
    assert (failed.state, failed.attempts) == (JournalState.FAILED, 1)


def test_a_retryable_failure_stays_pending_with_its_code(
    server: FakeEmsServer, ems: EmsCarrier
) -> None:
    journal = MemoryJournal()
    server.inject(Fault.SERVER_ERROR, times=3)
    with pytest.raises(CarrierError):
        book_once(ems, sample_booking_request("GZ-J6"), journal)
    (pending,) = journal.pending()
    assert (pending.key, pending.state, pending.error_code) == (
        "GZ-J6",
        JournalState.PENDING,
        "http_500",
    )
    assert server.orders() == {}


def test_a_crash_between_request_and_answer_is_resolved_by_the_next_run(
    server: FakeEmsServer,
) -> None:
    """The carrier creates the order; every answer is lost; the process then dies. The next
    run finds the attempt pending and books it again: the carrier's order, no second one."""
    database: dict[str, JournalEntry] = {}
    request = sample_booking_request("GZ-CRASH")
    server.inject(Fault.RESET_AFTER, times=3, api_code=API_CREATE_ORDER)
    with EmsCarrier(**server.carrier_config(deadline=1.0, backoff=0.01)) as ems:
        with pytest.raises(CarrierError) as info:
            book_once(ems, request, MemoryJournal(database))
        assert (info.value.code, info.value.retryable) == ("connection", True)
    assert server.booked_order_ids == ["GZ-CRASH"]

    restarted = MemoryJournal(database)
    assert [e.key for e in restarted.pending()] == ["GZ-CRASH"]
    with EmsCarrier(**server.carrier_config()) as ems:
        booked = book_once(ems, request, restarted)
    assert booked.duplicate is True
    assert server.orders() == {"GZ-CRASH": str(booked.tracking_number)}
    assert restarted.pending() == ()
    assert create_calls(server) == 4


class Crash(BaseException):
    """The process dying: not an error anyone handles."""


def test_a_process_dying_after_the_carrier_answered_leaves_a_pending_attempt(
    server: FakeEmsServer,
) -> None:
    database: dict[str, JournalEntry] = {}
    request = sample_booking_request("GZ-DIE")

    class DiesAfterTheCall:
        name = "ems"
        capabilities = frozenset({Capability.BOOK})

        def __init__(self, carrier: EmsCarrier) -> None:
            self.carrier = carrier

        def book(self, request: BookingRequest) -> Booking:
            self.carrier.book(request)
            raise Crash

    with EmsCarrier(**server.carrier_config()) as ems:
        with pytest.raises(Crash):
            book_once(DiesAfterTheCall(ems), request, MemoryJournal(database))
        assert database["GZ-DIE"].state is JournalState.PENDING
        booked = book_once(ems, request, MemoryJournal(database))
    assert booked.duplicate is True
    assert server.orders() == {"GZ-DIE": str(booked.tracking_number)}


def test_concurrent_bookings_of_one_order_book_it_once(
    server: FakeEmsServer, ems: EmsCarrier
) -> None:
    journal = MemoryJournal()
    request = sample_booking_request("GZ-RACE")
    results: list[Booking] = []
    start = threading.Barrier(8)

    def run() -> None:
        start.wait()
        results.append(book_once(ems, request, journal))

    threads = [threading.Thread(target=run) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(results) == 8
    assert {str(b.tracking_number) for b in results} == {server.waybill_of("GZ-RACE")}
    assert server.booked_order_ids == ["GZ-RACE"]


def test_book_once_works_with_any_booking_carrier() -> None:
    journal = MemoryJournal()
    sandbox = SandboxCarrier(seed=5)
    first = book_once(sandbox, sample_booking_request("SB-1"), journal)
    assert book_once(sandbox, sample_booking_request("SB-1"), journal) == first


def test_a_naive_clock_is_refused_before_the_call(server: FakeEmsServer, ems: EmsCarrier) -> None:
    with pytest.raises(ValidationError, match="naive"):
        book_once(
            ems, sample_booking_request("GZ-N"), MemoryJournal(), clock=lambda: datetime(2024, 1, 1)
        )
    assert server.calls == []
