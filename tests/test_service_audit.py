"""An outside audit of the service: faults, races, domain consistency, privacy, an HTTP endpoint.

Each test here fails on a defect the audit found or on a planted bug (a mutant) the other
service tests let through: a push or a statement whose commit fails half-way, a push of several
waybills, an adapter raising something other than ``CarrierError``, a dispatch limit starved by
refused orders, two writers on one application or shipment at once, a push racing the booking
it belongs to, events arriving in any order, a delivery changed to ``MAIL`` for a service that
may not be mailed, agreements outside the period, a reversal after the finance account was
renamed, personal data in logs and messages, and the push endpoint an agency writes over
:mod:`http.server`.

The tests taking ``store_url`` run on SQLite, PostgreSQL and MariaDB. The races pause one
thread inside a transaction (``Pause``): on SQLite, whose write transactions begin
``IMMEDIATE``, the second writer waits at ``BEGIN`` and the pause times out — the outcome must
be the same there, but only PostgreSQL and MariaDB can show a missing lock.
"""

from __future__ import annotations

import http.server
import json
import logging
import re
import threading
import urllib.error
import urllib.request
import weakref
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager, suppress
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

import attrs
import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from govpost.agreements import LumpSum
from govpost.applications import Application, ApplicationStatus, DeliveryChoice
from govpost.carriers import Booking, BookingRequest, JournalState
from govpost.carriers.sandbox import SandboxCarrier
from govpost.carriers.webhooks import sign_request
from govpost.errors import (
    CarrierError,
    GovpostError,
    InvalidTransitionError,
    SettlementError,
    StoreError,
    ValidationError,
    WebhookVerificationError,
)
from govpost.identifiers import TrackingNumber
from govpost.money import Money
from govpost.periods import SHANGHAI, Period
from govpost.service import DispatchReport, IngestReport, Operations
from govpost.settlement import BillRow, CarrierBill, FeeType
from govpost.shipments import Shipment, ShipmentStatus, TrackingEvent
from govpost.store import KeyRing, LedgerLeg, Store, open_store
from govpost.store import _schema as t
from govpost.store._tracking import Applications, Events, Shipments
from tests.service_worker import (
    APPLICANT_MOBILE,
    APPLICANT_NAME,
    CENTER,
    NOW,
    PERIOD,
    SENDER,
    agreement,
    application,
    approved_at,
    prepare,
    reference,
    seed,
)

SECRET = "audit-webhook-secret"
AGREEMENT_ID = "GZ-AGREEMENT-2024"
APPLICANT_ADDRESS = "贵州省遵义市红花岗区中华南路1号"


@pytest.fixture
def store(store_url: str, store_keys: KeyRing) -> Iterator[Store]:
    with open_store(store_url, keys=store_keys) as opened:
        yield opened


def new_sandbox(
    seed: int = 11, *, failure_rate: float = 0, return_rate: float = 0, pickup_point_rate: float = 0
) -> SandboxCarrier:
    return SandboxCarrier(
        seed=seed,
        clock=lambda: NOW,
        webhook_secret=SECRET,
        failure_rate=failure_rate,
        return_rate=return_rate,
        pickup_point_rate=pickup_point_rate,
    )


@pytest.fixture
def sandbox() -> SandboxCarrier:
    return new_sandbox()


def operations(store: Store, carrier: Any, **options: Any) -> Operations:
    return Operations(store, carrier, **{"sender": SENDER, "clock": lambda: NOW, **options})


def order(number: int) -> str:
    return reference(number) + "-R"


def shipment_of(store: Store, number: int) -> Shipment:
    found = store.shipments.get(order(number))
    assert found is not None
    return found


def application_of(store: Store, number: int) -> Application:
    found = store.applications.get(reference(number))
    assert found is not None
    return found


def waybill_of(store: Store, number: int) -> TrackingNumber:
    found = shipment_of(store, number).tracking_number
    assert found is not None
    return found


def rows(store: Store, table: sa.Table) -> int:
    with store.engine.connect() as connection:
        return int(connection.execute(sa.select(sa.func.count()).select_from(table)).scalar_one())


def signed(events: list[TrackingEvent], message_id: str) -> tuple[bytes, dict[str, str]]:
    """A sandbox push of ``events``, signed as the sandbox signs: any events, in any order."""
    document = {
        "message_id": message_id,
        "events": [
            {
                "event_id": e.event_id,
                "tracking_number": str(e.tracking_number),
                "status": e.status.value,
                "occurred_at": e.occurred_at.isoformat(),
                "location": e.location,
                "carrier_code": e.carrier_code,
                "description": e.description,
                "revokes": e.revokes,
            }
            for e in events
        ],
    }
    body = json.dumps(document, ensure_ascii=False).encode("utf-8")
    headers = sign_request(SECRET, body, timestamp=int(NOW.timestamp()))
    return body, {"Content-Type": "application/json", **headers}


class Wrapped:
    """A carrier passing everything on to ``inner``, with ``book`` and ``track`` replaceable."""

    def __init__(self, inner: Any, **overrides: Any) -> None:
        self.inner = inner
        self.name = overrides.pop("name", inner.name)
        self.capabilities = inner.capabilities
        self.pushes_authenticated = overrides.pop(
            "pushes_authenticated", inner.pushes_authenticated
        )
        self.booked: list[str] = []
        self._book: Callable[[BookingRequest], Booking] | None = overrides.pop("book", None)
        self._track: Callable[[TrackingNumber], tuple[TrackingEvent, ...]] | None = overrides.pop(
            "track", None
        )
        assert not overrides

    def book(self, request: BookingRequest) -> Booking:
        self.booked.append(request.order_id)
        if self._book is not None:
            return self._book(request)
        booking: Booking = self.inner.book(request)
        return booking

    def track(self, number: TrackingNumber) -> tuple[TrackingEvent, ...]:
        if self._track is not None:
            return self._track(number)
        events: tuple[TrackingEvent, ...] = self.inner.track(number)
        return events

    def parse_push(self, body: bytes, headers: Mapping[str, str]) -> Any:
        return self.inner.parse_push(body, headers)


# --- commits that fail -----------------------------------------------------------------------

_WRITE = re.compile(r"\s*(?:INSERT|UPDATE)\s+(?:IGNORE\s+)?(?:INTO\s+)?[`\"]?(\w+)", re.I)


@contextmanager
def commit_fails(store: Store, table: str) -> Iterator[list[str]]:
    """The next commit of a transaction that wrote ``table`` fails, as a server going away at
    ``COMMIT`` fails it; yields the list the failure is recorded in."""
    wrote: weakref.WeakSet[sa.Connection] = weakref.WeakSet()
    failed: list[str] = []

    def executed(connection: sa.Connection, cursor: Any, statement: str, *args: Any) -> None:
        match = _WRITE.match(statement)
        if match is not None and match.group(1).lower() == table:
            wrote.add(connection)

    def commit(connection: sa.Connection) -> None:
        if connection in wrote and not failed:
            failed.append(table)
            raise sa.exc.OperationalError("COMMIT", {}, Exception("server closed the connection"))

    sa.event.listen(store.engine, "before_cursor_execute", executed)
    sa.event.listen(store.engine, "commit", commit)
    try:
        yield failed
    finally:
        sa.event.remove(store.engine, "before_cursor_execute", executed)
        sa.event.remove(store.engine, "commit", commit)


def test_a_push_whose_commit_fails_leaves_nothing_and_comes_again(
    store: Store, sandbox: SandboxCarrier
) -> None:
    """The inbox's memory and the events commit with the shipments, or none of them does."""
    prepare(store, "sandbox", 1)
    ops = operations(store, sandbox)
    ops.dispatch()
    push = sandbox.push(waybill_of(store, 0))
    before = (shipment_of(store, 0), application_of(store, 0))

    with commit_fails(store, "shipments") as failed, pytest.raises(StoreError):
        ops.ingest_push(*push)
    assert ["shipments"] == failed
    assert (0, 0) == (rows(store, t.tracking_events), rows(store, t.seen_ids))
    assert before == (shipment_of(store, 0), application_of(store, 0))

    again = ops.ingest_push(*push)  # the carrier's redelivery: everything comes again
    events = len(sandbox.track(waybill_of(store, 0)))
    assert (events, events, (order(0),)) == (again.received, again.stored, again.shipments)
    assert ApplicationStatus.RESULT_DELIVERED == application_of(store, 0).status


def test_a_statement_whose_commit_fails_leaves_neither_it_nor_its_ledger(
    store: Store, sandbox: SandboxCarrier
) -> None:
    prepare(store, "sandbox", 2)
    ops = operations(store, sandbox)
    ops.dispatch()
    ops.ingest_push(*sandbox.push(waybill_of(store, 0)))

    for table in ("ledger_entries", "statements"):
        with commit_fails(store, table) as failed, pytest.raises(StoreError):
            ops.close_month(PERIOD)
        assert [table] == failed
        assert store.statements.current(AGREEMENT_ID, PERIOD) is None
        assert () == store.ledger.entries(AGREEMENT_ID)

    (first,) = ops.close_month(PERIOD)
    assert 2 == len(store.ledger.entries(AGREEMENT_ID))

    ops.ingest_push(*sandbox.push(waybill_of(store, 1)))  # a late pickup: the month changes
    for table in ("ledger_entries", "statements"):
        with commit_fails(store, table), pytest.raises(StoreError):
            ops.close_month(PERIOD, supersede=True)
        assert (first,) == store.statements.history(AGREEMENT_ID, PERIOD)
        assert 2 == len(store.ledger.entries(AGREEMENT_ID))
    # Superseded by an agency whose finance account is named otherwise now: the reversal
    # cancels what was posted (paid by "finance"), not what would be posted today.
    treasury = operations(store, sandbox, finance="treasury")
    (second,) = treasury.close_month(PERIOD, supersede=True)
    assert (1, 2) == (first.pieces, second.pieces)
    assert 6 == len(store.ledger.entries(AGREEMENT_ID))
    for leg in LedgerLeg:
        assert second.total == store.ledger.balance(AGREEMENT_ID, 2024, leg)
    paid: dict[str, Money] = {}
    for entry in store.ledger.entries(AGREEMENT_ID):
        if entry.leg is LedgerLeg.FINANCE_TO_CENTER:
            paid[entry.payer] = paid.get(entry.payer, Money("0.00")) + entry.amount
    assert {"finance": Money("0.00"), "treasury": second.total} == paid


# --- pushes ------------------------------------------------------------------------------------


def test_a_push_of_several_waybills_moves_each_shipment_with_its_own_events(
    store: Store, sandbox: SandboxCarrier
) -> None:
    prepare(store, "sandbox", 3)
    ops = operations(store, sandbox)
    ops.dispatch()
    first, second = (list(sandbox.track(waybill_of(store, n))) for n in (0, 1))
    stranger = TrackingEvent(
        event_id="sandbox:EA000000005CN:203",
        tracking_number="EA000000005CN",
        status="picked_up",
        occurred_at=first[0].occurred_at,
    )
    mixed = [event for pair in zip(second, first, strict=False) for event in pair]
    mixed += first[len(second) :] + second[len(first) :] + [stranger]

    report = ops.ingest_push(*signed(mixed, "several"))
    assert (len(mixed), len(mixed)) == (report.received, report.stored)
    assert {order(0), order(1)} == set(report.shipments)
    assert {reference(0), reference(1)} == set(report.applications)
    assert ("EA000000005CN",) == report.unmatched
    for n, events in ((0, first), (1, second)):
        shipment = shipment_of(store, n)
        assert set(events) == set(shipment.events)
        assert ShipmentStatus.DELIVERED == shipment.status
        assert ApplicationStatus.RESULT_DELIVERED == application_of(store, n).status
    assert ShipmentStatus.AWAITING_PICKUP == shipment_of(store, 2).status


def test_one_push_delivered_by_four_threads_at_once_is_stored_once(
    store: Store, sandbox: SandboxCarrier
) -> None:
    """Each delivery is answered 200 (a report) or 500 (a StoreError: MariaDB detects a
    deadlock between the identical inserts, and rolls one back); either way each event is
    stored once, the application moves once, and a redelivery changes nothing."""
    prepare(store, "sandbox", 1)
    ops = operations(store, sandbox)
    ops.dispatch()
    push = sandbox.push(waybill_of(store, 0))
    events = len(sandbox.track(waybill_of(store, 0)))
    start = threading.Barrier(4)
    results: list[object] = []

    def deliver() -> None:
        start.wait()
        try:
            results.append(ops.ingest_push(*push))
        except Exception as error:  # checked below
            results.append(error)

    threads = [threading.Thread(target=deliver) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert 4 == len(results)
    assert all(isinstance(r, IngestReport | StoreError) for r in results), results
    reports = [r for r in results if isinstance(r, IngestReport)]
    assert reports
    assert events == rows(store, t.tracking_events)
    app = application_of(store, 0)
    assert (ApplicationStatus.RESULT_DELIVERED, ()) == (app.status, app.anomalies)
    assert len(app.events) == len(set(app.events))
    again = ops.ingest_push(*push)
    assert (0, ()) == (again.stored, again.applications)


def test_old_events_are_withheld_and_corrections_and_revocations_applied(
    store: Store, sandbox: SandboxCarrier
) -> None:
    prepare(store, "sandbox", 2)
    ops = operations(store, sandbox)  # withholds events older than 30 days
    ops.dispatch()
    scan = sandbox.track(waybill_of(store, 1))[0]
    old = attrs.evolve(scan, event_id="old-scan", occurred_at=NOW - timedelta(days=31))
    report = ops.ingest_push(*signed([old, scan], "window"))
    assert (1, 1, 1) == (report.received, report.stored, report.withheld)
    assert store.events.get("sandbox", "old-scan") is None
    without = operations(store, sandbox, max_push_age=None)
    assert 1 == without.ingest_push(*signed([old], "window-2")).stored

    events = list(sandbox.track(waybill_of(store, 0)))
    ops.ingest_push(*signed(events, "all"))
    delivered = events[-1]
    assert ShipmentStatus.DELIVERED is delivered.status

    failed = attrs.evolve(delivered, status="delivery_failed", carrier_code="705")
    report = ops.ingest_push(*signed([failed], "correction"))
    assert (1, 1, (order(0),)) == (report.received, report.stored, report.shipments)
    shipment = shipment_of(store, 0)
    assert (ShipmentStatus.DELIVERY_FAILED, None) == (shipment.status, shipment.delivered_at)
    assert (delivered,) == shipment.superseded
    assert failed == store.events.get("sandbox", delivered.event_id)
    assert 0 == ops.ingest_push(*signed([delivered], "replay-of-the-old-version")).stored
    assert ShipmentStatus.DELIVERY_FAILED == shipment_of(store, 0).status

    revocation = TrackingEvent(
        event_id="revoke-705",
        tracking_number=delivered.tracking_number,
        status="delivery_failed",
        occurred_at=delivered.occurred_at + timedelta(minutes=5),
        revokes=delivered.event_id,
    )
    ops.ingest_push(*signed([revocation], "revocation"))
    shipment = shipment_of(store, 0)
    assert ShipmentStatus.OUT_FOR_DELIVERY == shipment.status
    assert () == shipment.anomalies


# --- dispatch under faults ---------------------------------------------------------------------


def test_a_bug_in_the_adapter_is_raised_and_a_conflict_reported(
    store: Store, sandbox: SandboxCarrier
) -> None:
    """Not reported as a carrier's answer, nor as a journal conflict: raised, the order left
    pending. A journal conflict (the sender changed) is reported, and nothing is sent."""
    prepare(store, "sandbox", 1)

    def broken(request: BookingRequest) -> Booking:
        raise KeyError("waybillNo")  # the adapter misread the carrier's answer

    def refuses(request: BookingRequest) -> Booking:
        raise ValidationError("the adapter cannot express this request")

    for bug, kind in ((broken, KeyError), (refuses, ValidationError)):
        carrier = Wrapped(sandbox, book=bug)
        with pytest.raises(kind):
            operations(store, carrier).dispatch()
        entry = store.journal.get(order(0))
        assert entry is not None
        assert (JournalState.PENDING, None) == (entry.state, entry.error_code)

    # A conflict is book_once's refusal: the order asked for with other content.
    moved = attrs.evolve(SENDER, address="贵州省贵阳市观山湖区长岭北路2号")  # a new window
    carrier = Wrapped(sandbox)
    ops = Operations(store, carrier, sender=moved, clock=lambda: NOW)
    report = ops.dispatch()
    assert DispatchReport(failed=[order(0)], errors=[(order(0), "journal_conflict")]) == report
    assert [] == carrier.booked
    assert (order(0),) == operations(store, carrier).dispatch().booked


def test_a_retryable_failure_then_a_store_failure_in_step_three_books_once(
    store: Store, sandbox: SandboxCarrier
) -> None:
    """And a carrier whose clock is behind ours: the dispatch is not dated before approval."""
    prepare(store, "sandbox", 1)
    answers = [CarrierError("超时", code="timeout", retryable=True)]

    def flaky(request: BookingRequest) -> Booking:
        if answers:
            raise answers.pop()
        booking: Booking = sandbox.book(request)
        return attrs.evolve(booking, booked_at=booking.booked_at - timedelta(hours=2))

    carrier = Wrapped(sandbox, book=flaky)
    ops = operations(store, carrier)
    assert DispatchReport(pending=[order(0)], errors=[(order(0), "timeout")]) == ops.dispatch()
    with commit_fails(store, "shipments"), pytest.raises(StoreError):
        ops.dispatch()  # booked; the waybill's record fails
    entry = store.journal.get(order(0))
    assert entry is not None
    assert (JournalState.BOOKED, 2) == (entry.state, entry.attempts)
    assert shipment_of(store, 0).tracking_number is None
    assert DispatchReport(recovered=[order(0)]) == ops.dispatch()
    assert [order(0), order(0)] == carrier.booked
    app = application_of(store, 0)
    assert (ApplicationStatus.RESULT_DISPATCHED, ()) == (app.status, app.anomalies)
    assert approved_at(0) == app.dispatched_at


def test_a_limited_dispatch_is_not_starved_by_refused_orders(
    store: Store, sandbox: SandboxCarrier, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Orders refused before stay APPROVED: a run limited to one must still reach the next;
    so must a run whose first application another process dispatched meanwhile."""
    prepare(store, "sandbox", 4)  # 0-3 mail

    def refuse_first(request: BookingRequest) -> Booking:
        if request.order_id in (order(0), order(1)):
            raise CarrierError("收件地址不详", code="B00099", retryable=False)
        booking: Booking = sandbox.book(request)
        return booking

    carrier = Wrapped(sandbox, book=refuse_first)
    ops = operations(store, carrier)
    runs = [ops.dispatch(limit=1) for _ in range(5)]
    assert [(), (), (order(2),), (order(3),), ()] == [run.booked for run in runs]
    refused = (order(0), order(1))
    assert [refused[:1], refused, refused, refused, refused] == [run.failed for run in runs]
    assert [order(n) for n in range(4)] == carrier.booked  # each asked for once
    retried = ops.dispatch(limit=1, retry_failed=True)  # asked again: that one counts
    assert ((), (order(0),)) == (retried.booked, retried.failed)
    assert [*(order(n) for n in range(4)), order(0)] == carrier.booked

    for n in (5, 6):
        ops.accept(application(n))
        ops.approve(reference(n), approved_at(n))
    real_find = Applications.find
    other: list[DispatchReport] = []

    def stale(repository: Applications, *args: Any, **kwargs: Any) -> Any:
        found = real_find(repository, *args, **kwargs)
        if not other:  # another process dispatches meanwhile: 5 is no longer due
            other.append(DispatchReport())
            other[0] = operations(store, sandbox).dispatch(limit=1)
        return found

    monkeypatch.setattr(Applications, "find", stale)
    assert (order(6),) == ops.dispatch(limit=1).booked
    assert [(order(5),)] == [report.booked for report in other]


# --- two writers at once -------------------------------------------------------------------------


class Pause:
    """Holds the first read of each of two threads inside its transaction until both have read
    (or ``wait`` seconds passed: the other thread is waiting for a lock this one holds)."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch, kind: type, name: str, wait: float = 0.5):
        self.barrier = threading.Barrier(2, timeout=wait)
        self.paused: set[int] = set()
        real = getattr(kind, name)
        pause = self

        def read(repository: Any, *args: Any, **kwargs: Any) -> Any:
            found = real(repository, *args, **kwargs)
            me = threading.get_ident()
            in_transaction = repository._source.connection is not None
            if in_transaction and me in pause.threads and me not in pause.paused:
                pause.paused.add(me)
                with suppress(threading.BrokenBarrierError):
                    pause.barrier.wait()
            return found

        self.threads: set[int] = set()
        monkeypatch.setattr(kind, name, read)

    def run(self, *calls: Callable[[], object]) -> list[object]:
        """Run ``calls`` in threads at once; what each returned or raised."""
        results: list[object] = [None] * len(calls)

        def work(index: int) -> None:
            self.threads.add(threading.get_ident())
            try:
                results[index] = calls[index]()
            except Exception as error:  # returned for the test to check
                results[index] = error

        threads = [threading.Thread(target=work, args=(i,)) for i in range(len(calls))]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)
        return results


def test_a_delivery_change_racing_a_move_or_the_dispatch_loses_nothing(
    store: Store, sandbox: SandboxCarrier, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two moves of one application at once both stay; a change racing the dispatch is
    refused (the order was recorded first) or wins (and nothing is booked)."""
    prepare(store, "sandbox", 1)
    carrier = Wrapped(sandbox)
    ops = operations(store, carrier)
    ops.accept(application(1))
    approved, changed = Pause(monkeypatch, Applications, "get").run(
        lambda: ops.approve(reference(1), approved_at(1)),
        lambda: ops.change_delivery(reference(1), "collect", approved_at(1) + timedelta(hours=1)),
    )
    assert isinstance(approved, Application)
    assert isinstance(changed, Application)
    stored = application_of(store, 1)
    assert (ApplicationStatus.APPROVED, DeliveryChoice.COLLECT) == (
        stored.status,
        stored.current_delivery,
    )

    dispatched, changed = Pause(monkeypatch, Applications, "get").run(
        ops.dispatch, lambda: ops.change_delivery(reference(0), "collect", NOW)
    )
    stored = application_of(store, 0)
    if isinstance(changed, InvalidTransitionError):
        assert isinstance(dispatched, DispatchReport)
        assert (order(0),) == dispatched.booked
        assert ApplicationStatus.RESULT_DISPATCHED == stored.status
    else:
        assert isinstance(changed, Application)
        assert [] == carrier.booked
        assert (DeliveryChoice.COLLECT, ()) == (stored.current_delivery, stored.anomalies)


def test_two_pushes_of_one_materials_shipment_at_once_both_stay(
    store: Store, sandbox: SandboxCarrier, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A shipment without an application: only its own row lock keeps the two pushes apart."""
    seed(store, "sandbox")
    at = datetime(2024, 6, 5, 9, 0, tzinfo=SHANGHAI)
    inbound = Shipment(
        id="GZ-IN-1",
        center=CENTER.code,
        business_line="licence_delivery",
        direction="inbound_material",
        origin="520302",
        destination="520100",
        weight_g=300,
        created_at=at,
        tracking_number="EA000000014CN",
    )
    store.shipments.record(inbound)

    def scan(code: str, status: str, hours: int) -> TrackingEvent:
        return TrackingEvent(
            event_id=f"in-{code}",
            tracking_number="EA000000014CN",
            status=status,
            occurred_at=at + timedelta(hours=hours),
            carrier_code=code,
        )

    picked, moving = scan("203", "picked_up", 1), scan("389", "in_transit", 2)
    ops = operations(store, sandbox)
    pause = Pause(monkeypatch, Shipments, "get")
    results = pause.run(
        lambda: ops.ingest_push(*signed([picked], "in-a")),
        lambda: ops.ingest_push(*signed([moving], "in-b")),
    )
    assert all(isinstance(result, IngestReport) for result in results), results
    found = store.shipments.get("GZ-IN-1")
    assert found is not None
    assert ({picked, moving}, ShipmentStatus.IN_TRANSIT) == (set(found.events), found.status)


def booked_waybill(store: Store, number: int) -> TrackingNumber:
    """The waybill the journal holds for order ``number`` (before step 3 records it)."""
    entry = store.journal.get(order(number))
    assert entry is not None
    assert entry.booking is not None
    return entry.booking.tracking_number


def delivered_whole(store: Store, sandbox: SandboxCarrier, number: TrackingNumber) -> None:
    shipment = shipment_of(store, 0)
    assert (ShipmentStatus.DELIVERED, set(sandbox.track(number))) == (
        shipment.status,
        set(shipment.events),
    )
    assert ApplicationStatus.RESULT_DELIVERED == application_of(store, 0).status


def test_two_pushes_of_two_waybills_in_opposite_orders_do_not_deadlock(
    store: Store, sandbox: SandboxCarrier, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Both write the waybills in one order, whatever order their events came in: the second
    waits for the first instead of each holding what the other waits for."""
    prepare(store, "sandbox", 2)
    ops = operations(store, sandbox)
    ops.dispatch()
    lives = sorted(
        (sandbox.track(waybill_of(store, n)) for n in (0, 1)),
        key=lambda life: str(life[0].tracking_number),
    )
    first = [event for life in lives for event in life[:2]]
    second = [event for life in reversed(lives) for event in life[2:]]
    pause = Pause(monkeypatch, Applications, "get")
    results = pause.run(
        lambda: ops.ingest_push(*signed(first, "ascending")),
        lambda: ops.ingest_push(*signed(second, "descending")),
    )
    assert all(isinstance(result, IngestReport) for result in results), results
    for n in (0, 1):
        assert ApplicationStatus.RESULT_DELIVERED == application_of(store, n).status


def test_a_push_committed_while_the_booking_is_recorded_is_applied(
    store: Store, sandbox: SandboxCarrier, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The carrier pushes the order's scans while step 3 of the dispatch runs, after it read
    the events stored for the waybill, and the push commits first: step 3 catches up."""
    prepare(store, "sandbox", 1)
    ops = operations(store, sandbox)
    step_three = threading.Event()
    pushed = threading.Event()
    real = Events.for_waybill

    def waiting(repository: Events, number: str, carrier: str | None = None) -> Any:
        found = real(repository, number, carrier)
        if repository._source.connection is not None and not step_three.is_set():
            step_three.set()
            pushed.wait(timeout=0.5)  # SQLite: the push waits for this transaction instead
        return found

    monkeypatch.setattr(Events, "for_waybill", waiting)
    dispatching = threading.Thread(target=ops.dispatch)
    dispatching.start()
    assert step_three.wait(timeout=30)
    number = booked_waybill(store, 0)
    report = ops.ingest_push(*sandbox.push(number))
    pushed.set()
    dispatching.join(timeout=30)
    assert report.received == len(sandbox.track(number))
    delivered_whole(store, sandbox, number)


def test_a_booking_recorded_while_a_push_of_its_waybill_is_stored_is_applied(
    store: Store, sandbox: SandboxCarrier, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The push found no shipment for its waybill; step 3 then records the booking and
    commits before the push does: the push catches up after its commit."""
    from govpost.service import _operations

    prepare(store, "sandbox", 1)
    ops = operations(store, sandbox)
    at_step_three, stored, recorded = threading.Event(), threading.Event(), threading.Event()
    real_record = Operations._record_booking
    real_tracking = _operations.record_tracking  # type: ignore[attr-defined]

    def record_booking(self: Operations, *args: Any) -> bool:
        at_step_three.set()
        stored.wait(timeout=30)
        try:
            return real_record(self, *args)
        finally:
            recorded.set()

    def record_tracking(*args: Any) -> IngestReport:
        report = real_tracking(*args)
        stored.set()
        recorded.wait(timeout=0.5)  # SQLite: step 3 waits for this transaction instead
        return report

    monkeypatch.setattr(Operations, "_record_booking", record_booking)
    monkeypatch.setattr(_operations, "record_tracking", record_tracking)
    dispatching = threading.Thread(target=ops.dispatch)
    dispatching.start()
    assert at_step_three.wait(timeout=30)
    number = booked_waybill(store, 0)
    report = ops.ingest_push(*sandbox.push(number))
    dispatching.join(timeout=30)
    if store.dialect != "sqlite":  # there the push committed first: step 3 saw its events
        assert () == report.unmatched
    delivered_whole(store, sandbox, number)


# --- the domain, through the store ---------------------------------------------------------------


def test_only_approved_mail_applications_are_ever_booked(
    store: Store, sandbox: SandboxCarrier
) -> None:
    seed(store, "sandbox")
    carrier = Wrapped(sandbox)
    ops = operations(store, carrier)
    for n in range(6):
        ops.accept(application(n, delivery="collect" if n == 2 else "mail"))
    later = approved_at(0) + timedelta(hours=2)
    ops.reject(reference(0), later)
    ops.withdraw(reference(1), later)
    ops.approve(reference(2), later)  # collects at the hall
    ops.approve(reference(3), later)
    ops.change_delivery(reference(3), DeliveryChoice.COLLECT, later + timedelta(hours=1))
    ops.change_delivery(reference(4), "collect", later)  # changes its mind twice
    ops.change_delivery(reference(4), "mail", later + timedelta(hours=1))
    ops.approve(reference(4), later + timedelta(hours=2))
    # 5 is never approved, and accepting it again with an approval is no approval
    with pytest.raises(ValidationError, match="differs in: events"):
        ops.accept(application(5).approve(later))
    # a service whose result may not be mailed: neither accepted nor changed to MAIL
    marriage = attrs.evolve(application(6, delivery="collect"), service="GZ-MZ-001")
    ops.accept(marriage)
    ops.approve(reference(6), later)
    with pytest.raises(ValidationError, match="GZ-MZ-001"):
        ops.accept(attrs.evolve(application(7), service="GZ-MZ-001"))
    with pytest.raises(ValidationError, match="cannot change to MAIL: service 'GZ-MZ-001'"):
        ops.change_delivery(reference(6), "mail", later + timedelta(hours=1))
    assert DeliveryChoice.COLLECT == application_of(store, 6).current_delivery
    assert DispatchReport(booked=[order(4)]) == ops.dispatch()
    assert [order(4)] == carrier.booked
    assert [order(4)] == [s.id for s in store.shipments.find()]
    assert DispatchReport() == ops.dispatch(retry_failed=True)
    statuses = [application_of(store, n).status for n in range(6)]
    assert [
        ApplicationStatus.REJECTED,
        ApplicationStatus.WITHDRAWN,
        ApplicationStatus.APPROVED,
        ApplicationStatus.APPROVED,
        ApplicationStatus.RESULT_DISPATCHED,
        ApplicationStatus.ACCEPTED,
    ] == statuses


def test_closing_periods_without_shipments_and_agreements_out_of_force(
    store: Store, sandbox: SandboxCarrier
) -> None:
    seed(store, "sandbox")
    base = agreement("sandbox")
    store.agreements.upsert(
        attrs.evolve(base, id="JULY-ON", valid_from=date(2024, 7, 1)),
        attrs.evolve(
            base, id="UNTIL-JUNE", valid_from=date(2024, 1, 1), valid_until=date(2024, 6, 1)
        ),
        attrs.evolve(base, id="LAST-DAY", valid_from=date(2024, 6, 30)),
        attrs.evolve(base, id="QUARTERLY", period="quarter"),
        attrs.evolve(base, id="LUMP", mode=LumpSum(amount="3000.00")),
    )
    ops = operations(store, sandbox)
    closed = ops.close_month(PERIOD)
    assert ["GZ-AGREEMENT-2024", "LAST-DAY", "LUMP"] == [s.agreement_id for s in closed]
    assert [0, 0, 0] == [s.pieces for s in closed]
    assert [Money("0.00"), Money("0.00"), Money("3000.00")] == [s.total for s in closed]
    assert () == store.ledger.entries(AGREEMENT_ID)  # nothing to pay: nothing posted
    lump = store.ledger.entries("LUMP")
    assert {CENTER.code} == {e.payee for e in lump if e.leg is LedgerLeg.FINANCE_TO_CENTER}
    assert all(isinstance(e.amount.amount, Decimal) for e in lump)
    assert Money("3000.00") == store.ledger.balance("LUMP", 2024, LedgerLeg.CENTER_TO_CARRIER)

    with pytest.raises(SettlementError) as refused:
        ops.close_month(PERIOD, agreements=["JULY-ON"])
    assert "JULY-ON" in str(refused.value)
    assert store.statements.current("JULY-ON", PERIOD) is None
    (quarter,) = ops.close_month(Period.quarter(2024, 2))
    assert "QUARTERLY" == quarter.agreement_id

    # A lump sum of two centers, in a month without pieces: which center takes it is named.
    store.centers.upsert(attrs.evolve(CENTER, code="GZ-520300", division="520300"))
    two = attrs.evolve(base, id="LUMP-2", centers={CENTER.code, "GZ-520300"})
    store.agreements.upsert(attrs.evolve(two, mode=LumpSum(amount="100.00")))
    with pytest.raises(ValidationError, match="unattributed="):
        ops.close_month(PERIOD)
    assert store.statements.current("LUMP-2", PERIOD) is None
    with pytest.raises(ValidationError, match="'GZ-999999' is not a center of agreement LUMP-2"):
        ops.close_month(PERIOD, agreements=["LUMP-2"], unattributed="GZ-999999")
    assert store.statements.current("LUMP-2", PERIOD) is None
    ops.close_month(PERIOD, agreements=["LUMP-2"], unattributed="GZ-520300")
    assert Money("100.00") == store.ledger.balance("LUMP-2", 2024, LedgerLeg.FINANCE_TO_CENTER)
    assert {"GZ-520300"} == {
        e.payee for e in store.ledger.entries("LUMP-2") if e.payer == "finance"
    }


def test_a_bill_of_another_period_does_not_reconcile_and_amounts_stay_exact(
    store: Store, sandbox: SandboxCarrier
) -> None:
    prepare(store, "sandbox", 3)
    store.agreements.upsert(agreement("sandbox", price="0.10"))
    ops = operations(store, sandbox)
    ops.dispatch()
    for n in range(3):
        ops.ingest_push(*sandbox.push(waybill_of(store, n)))
    (statement,) = ops.close_month(PERIOD)
    assert Money("0.30") == statement.total  # 0.1 + 0.1 + 0.1, not 0.30000000000000004
    assert Decimal("0.30") == statement.total.amount
    for leg in LedgerLeg:
        assert Money("0.30") == store.ledger.balance(AGREEMENT_ID, 2024, leg)

    shifted = [  # the lines of May, and one more piece
        (line.waybill, line.day - timedelta(days=31), line.destination) for line in statement.lines
    ]
    shifted.append(("EA000000014CN", date(2024, 5, 3), "520302"))
    may = CarrierBill(
        rows=tuple(
            BillRow(
                line_no=position + 2,
                waybill=waybill,
                pickup_date=day,
                weight_g=200,
                destination=destination,
                zone=None,
                fee_type=FeeType.POSTAGE,
                amount=Money("0.10"),
            )
            for position, (waybill, day, destination) in enumerate(shifted)
        )
    )
    report = ops.reconcile(may, agreement_id=AGREEMENT_ID, period=PERIOD)
    assert not report.is_clean
    assert Money("0.10") == report.difference
    assert (report,) == store.reconciliations.for_statement(statement.statement_id)


@settings(
    max_examples=8,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    keys=st.lists(st.integers(0, 99), min_size=16, max_size=16),
    cuts=st.lists(st.floats(0, 1), max_size=3),
)
def test_the_state_does_not_depend_on_the_order_events_arrive_in(
    store: Store, keys: list[int], cuts: list[float]
) -> None:
    """However a waybill's events are split into pushes and ordered, the shipment and the
    application end where one push of every event in order leaves them."""
    if store.centers.get(CENTER.code) is None:
        seed(store, "sandbox")
    numbers = [len(store.applications.find()) + k for k in (0, 1)]
    # A new carrier for each example, whose waybills differ from the examples' before.
    sandbox = new_sandbox(numbers[0], failure_rate=0.4, return_rate=0.3, pickup_point_rate=0.3)
    ops = operations(store, sandbox)
    for n in numbers:
        ops.accept(application(n))
        ops.approve(reference(n), approved_at(n))
    ops.dispatch()
    in_order, shuffled = numbers
    events = list(sandbox.track(waybill_of(store, shuffled)))
    copy = waybill_of(store, in_order)  # the same life, on the other waybill, in one push
    same = [attrs.evolve(e, event_id=f"{e.event_id}-b", tracking_number=copy) for e in events]
    ops.ingest_push(*signed(same, f"{in_order}-all"))
    # The shape of the draw does not depend on the number of events (the store's state).
    order_of = sorted(range(len(events)), key=lambda i: (keys[i % len(keys)], i))
    permuted = [events[i] for i in order_of]
    bounds = sorted(int(cut * len(events)) for cut in cuts)
    for k, (start, end) in enumerate(zip([0, *bounds], [*bounds, len(events)], strict=True)):
        if permuted[start:end]:
            ops.ingest_push(*signed(permuted[start:end], f"{shuffled}-{k}"))
    one, other = shipment_of(store, in_order), shipment_of(store, shuffled)
    assert (one.status, one.picked_up_at, one.delivered_at, one.returned_at) == (
        other.status,
        other.picked_up_at,
        other.delivered_at,
        other.returned_at,
    )
    first, second = application_of(store, in_order), application_of(store, shuffled)
    assert (first.status, first.delivered_at, len(first.anomalies)) == (
        second.status,
        second.delivered_at,
        len(second.anomalies),
    )


# --- privacy -------------------------------------------------------------------------------------

ID_NUMBER = "11010519491231002X"
PERSONAL = (APPLICANT_NAME, APPLICANT_MOBILE, APPLICANT_ADDRESS, "中华南路", ID_NUMBER, "19491231")


def personal(number: int) -> Application:
    """Application ``number`` with every kind of personal data: name, mobile, address, ID."""
    given = application(number)
    applicant = attrs.evolve(given.applicant, id_number=ID_NUMBER, address=APPLICANT_ADDRESS)
    return attrs.evolve(given, applicant=applicant)


def test_a_day_and_its_errors_show_no_personal_data(
    store: Store, sandbox: SandboxCarrier, caplog: pytest.LogCaptureFixture
) -> None:
    """Everything logged at DEBUG (govpost, SQLAlchemy's statements and rows, the drivers),
    every report and every error of a day shows no applicant's name, mobile, address or ID."""
    caplog.set_level(logging.DEBUG)
    caplog.set_level(logging.DEBUG, logger="sqlalchemy")
    seed(store, "sandbox")
    ops = operations(store, sandbox)
    shown: list[object] = [ops]
    for n in range(3):
        shown.append(ops.accept(personal(n)).reference)
        ops.approve(reference(n), approved_at(n))
    shown.append(ops.dispatch())
    old = attrs.evolve(
        sandbox.track(waybill_of(store, 0))[0],
        event_id="stale",
        occurred_at=NOW - timedelta(days=40),
    )
    shown.append(ops.ingest_push(*signed([old], "stale")))  # withheld, and logged
    for n in range(3):
        shown.append(ops.ingest_push(*sandbox.push(waybill_of(store, n))))
    shown.append(ops.poll_tracking(quiet_for=timedelta(0)))
    (statement,) = ops.close_month(PERIOD)
    shown += [
        statement.statement_id,
        ops.reconcile(CarrierBill(rows=()), agreement_id=AGREEMENT_ID, period=PERIOD),
    ]

    def window(center: Any) -> Any:
        return APPLICANT_NAME  # a sender function giving a name instead of a Recipient

    ops.accept(personal(7))
    ops.approve(reference(7), approved_at(7))
    shown.append(Operations(store, sandbox, sender=window, clock=lambda: NOW).dispatch())
    tampered = sandbox.push(waybill_of(store, 0))
    calls: list[Callable[[], object]] = [
        lambda: ops.approve(APPLICANT_NAME, NOW),
        lambda: ops.approve(APPLICANT_MOBILE, NOW),
        lambda: ops.withdraw(ID_NUMBER, NOW),
        lambda: ops.reconcile(CarrierBill(rows=()), agreement_id=APPLICANT_NAME, period=PERIOD),
        lambda: ops.reconcile(CarrierBill(rows=()), agreement_id=APPLICANT_MOBILE, period=PERIOD),
        lambda: ops.accept(
            attrs.evolve(personal(0), applicant=attrs.evolve(personal(0).applicant, name="欧阳娜"))
        ),
        lambda: ops.accept(attrs.evolve(personal(8), center="GZ-999999")),
        lambda: ops.change_delivery(reference(0), APPLICANT_NAME, NOW),
        lambda: ops.change_delivery(reference(1), "collect", NOW),
        lambda: ops.withdraw(reference(1), NOW),
        lambda: ops.dispatch(limit=APPLICANT_MOBILE),  # type: ignore[arg-type]
        lambda: ops.dispatch(limit=APPLICANT_NAME),  # type: ignore[arg-type]
        lambda: ops.poll_tracking(quiet_for=APPLICANT_NAME),  # type: ignore[arg-type]
        lambda: operations(store, sandbox, max_push_age=APPLICANT_NAME),
        lambda: operations(store, sandbox, confirm_terminal=APPLICANT_NAME),
        lambda: operations(store, sandbox, finance=[APPLICANT_NAME]),
        lambda: ops.reconcile(
            CarrierBill(rows=()),
            agreement_id=AGREEMENT_ID,
            period=APPLICANT_NAME,  # type: ignore[arg-type]
        ),
        lambda: ops.poll_tracking(quiet_for=ID_NUMBER),  # type: ignore[arg-type]
        lambda: ops.close_month(APPLICANT_NAME),  # type: ignore[arg-type]
        lambda: ops.close_month(PERIOD, agreements=APPLICANT_NAME),
        lambda: ops.ingest_push(tampered[0] + APPLICANT_MOBILE.encode(), tampered[1]),
        lambda: ops.ingest_push(APPLICANT_NAME.encode(), {}),
        lambda: Operations(store, sandbox, sender=APPLICANT_NAME),  # type: ignore[arg-type]
        lambda: Operations(store, sandbox, sender=SENDER, finance=APPLICANT_MOBILE * 0),
        lambda: operations(store, sandbox, clock=APPLICANT_NAME),
    ]
    for call in calls:
        with pytest.raises(GovpostError) as raised:
            call()
        shown.append(raised.value)

    text = caplog.text + "\n".join(f"{value!r} {value}" for value in shown)
    assert "SELECT" in caplog.text  # SQLAlchemy's log was captured, rows included
    assert "withheld pushed event 'stale'" in caplog.text
    found = [value for value in PERSONAL if value in text]
    assert [] == found


# --- the push endpoint an agency writes ----------------------------------------------------------


class PushEndpoint(http.server.BaseHTTPRequestHandler):
    """What an agency's developer writes from the docs: ``ingest_push``, then the status
    :mod:`govpost.carriers.webhooks` maps each outcome to."""

    operations: Operations

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        try:
            self.operations.ingest_push(body, dict(self.headers))
        except WebhookVerificationError:
            status = 401  # refused: the carrier redelivers once its configuration is fixed
        except CarrierError as error:
            status = 503 if error.retryable else 500
        except Exception:  # the store or a bug: nothing was stored; the carrier redelivers
            status = 500
        else:
            status = 200
        self.send_response(status)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet: the test reads the statuses."""


@contextmanager
def endpoint(ops: Operations) -> Iterator[Callable[[bytes, Mapping[str, str]], int]]:
    """A push endpoint on 127.0.0.1 over ``ops``; yields ``post(body, headers) -> status``."""
    handler = type("Handler", (PushEndpoint,), {"operations": ops})
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    serving = threading.Thread(target=server.serve_forever, args=(0.02,), daemon=True)
    serving.start()
    url = f"http://127.0.0.1:{server.server_address[1]}/push"

    def post(body: bytes, headers: Mapping[str, str]) -> int:
        request = urllib.request.Request(url, data=body, headers=dict(headers), method="POST")
        try:
            with urllib.request.urlopen(request, timeout=30) as answer:
                return int(answer.status)
        except urllib.error.HTTPError as refused:
            return int(refused.code)

    try:
        yield post
    finally:
        server.shutdown()
        server.server_close()
        serving.join(timeout=5)


@pytest.fixture
def sqlite_store(tmp_path: Any, store_keys: KeyRing) -> Iterator[Store]:
    """A store on SQLite only: what an HTTP endpoint answers does not depend on the backend."""
    with open_store(f"sqlite:///{tmp_path / 'endpoint.db'}", keys=store_keys) as opened:
        yield opened


def test_a_push_endpoint_over_http_answers_as_the_docs_say(
    sqlite_store: Store, sandbox: SandboxCarrier
) -> None:
    store = sqlite_store
    prepare(store, "sandbox", 2)
    ops = operations(store, sandbox)
    ops.dispatch()
    first, second = (sandbox.push(waybill_of(store, n)) for n in (0, 1))
    with endpoint(ops) as post:
        assert 401 == post(first[0] + b" ", first[1])  # the body changed after signing
        assert 401 == post(first[0], {"Content-Type": "application/json"})  # unsigned
        assert 0 == rows(store, t.tracking_events)
        with commit_fails(store, "shipments"):
            assert 500 == post(*first)  # the store failed: nothing kept
        assert 0 == rows(store, t.tracking_events)
        lower = {name.lower(): value for name, value in first[1].items()}  # HTTP/2 proxies
        assert 200 == post(first[0], lower)
        assert ApplicationStatus.RESULT_DELIVERED == application_of(store, 0).status
        assert 200 == post(*first)  # a redelivery: nothing new, still 200
        events = rows(store, t.tracking_events)

    def unreachable(number: TrackingNumber) -> tuple[TrackingEvent, ...]:
        raise CarrierError("查询超时", code="timeout", retryable=True)

    def confused(body: bytes, headers: Mapping[str, str]) -> Any:
        raise KeyError("events")  # a bug of the adapter

    unauthenticated = Wrapped(sandbox, pushes_authenticated=False, track=unreachable)
    with endpoint(operations(store, unauthenticated)) as post:
        assert 503 == post(*second)  # the delivery could not be confirmed: come again
        assert events == rows(store, t.tracking_events)
    broken = Wrapped(sandbox)
    broken.parse_push = confused  # type: ignore[method-assign]
    with endpoint(operations(store, broken)) as post:
        assert 500 == post(*second)
    with endpoint(operations(store, Wrapped(sandbox, pushes_authenticated=False))) as post:
        assert 200 == post(*second)  # confirmed by the carrier's tracking this time
    assert ApplicationStatus.RESULT_DELIVERED == application_of(store, 1).status
