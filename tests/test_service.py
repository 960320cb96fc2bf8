"""The service: the operations an agency runs, each exactly once, on every backend.

Every test that takes ``store_url`` runs on a new SQLite file, PostgreSQL schema and MariaDB
database (``tests/databases.py``). The carrier is the in-process sandbox where nothing has to
be counted across processes, and the EMS adapter against a real loopback
:class:`~govpost.testing.FakeEmsServer` where the carrier's own count of orders is the proof.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator, Mapping
from datetime import datetime, timedelta
from typing import Any

import attrs
import pytest
import sqlalchemy as sa

from govpost.applications import Application, ApplicationStatus, DeliveryChoice
from govpost.carriers import Booking, BookingRequest, JournalEntry, JournalState
from govpost.carriers.ems import EmsCarrier
from govpost.carriers.ems.build import API_CREATE_ORDER
from govpost.carriers.sandbox import SandboxCarrier
from govpost.errors import (
    CarrierError,
    GovpostError,
    InvalidTransitionError,
    StoreError,
    ValidationError,
)
from govpost.identifiers import TrackingNumber
from govpost.money import Money
from govpost.periods import Period
from govpost.service import DispatchReport, IngestReport, Operations
from govpost.settlement import BillRow, CarrierBill, FeeType, SettlementStatement
from govpost.shipments import Shipment, ShipmentStatus, TrackingEvent
from govpost.store import KeyRing, LedgerLeg, Store, open_store
from govpost.store import _schema as t
from govpost.testing import FakeEmsServer, Fault, push_body
from tests.service_worker import (
    APPLICANT_MOBILE,
    APPLICANT_NAME,
    CENTER,
    NOW,
    PERIOD,
    SCANS,
    SENDER,
    application,
    approved_at,
    prepare,
    reference,
    seed,
)

AGREEMENT_ID = "GZ-AGREEMENT-2024"
PRICE = Money("12.50")


class Crash(BaseException):
    """The process dying: nothing handles it."""


@pytest.fixture
def store(store_url: str, store_keys: KeyRing) -> Iterator[Store]:
    with open_store(store_url, keys=store_keys) as opened:
        yield opened


@pytest.fixture
def sandbox() -> SandboxCarrier:
    return SandboxCarrier(
        seed=7, clock=lambda: NOW, failure_rate=0, return_rate=0, pickup_point_rate=0
    )


@pytest.fixture
def server() -> Iterator[FakeEmsServer]:
    with FakeEmsServer(timeout_delay=1.5) as fake:
        yield fake


@pytest.fixture
def ems(server: FakeEmsServer) -> Iterator[EmsCarrier]:
    config = server.carrier_config(timeout=0.5, deadline=1.0, retries=0, backoff=0.01)
    with EmsCarrier(**config, clock=lambda: NOW) as carrier:
        yield carrier


def operations(store: Store, carrier: Any, **options: Any) -> Operations:
    return Operations(store, carrier, sender=SENDER, clock=lambda: NOW, **options)


class Counting:
    """A carrier that counts the bookings and tracking queries it passes on."""

    def __init__(
        self, inner: Any, *, refuse: Callable[[str], CarrierError | None] = lambda _: None
    ):
        self.inner = inner
        self.name = inner.name
        self.capabilities = inner.capabilities
        self.pushes_authenticated = inner.pushes_authenticated
        self.booked: list[str] = []
        self.tracked: list[TrackingNumber] = []
        self.refuse = refuse

    def book(self, request: BookingRequest) -> Booking:
        self.booked.append(request.order_id)
        refusal = self.refuse(request.order_id)
        if refusal is not None:
            raise refusal
        booking: Booking = self.inner.book(request)
        return booking

    def track(self, number: TrackingNumber) -> tuple[TrackingEvent, ...]:
        self.tracked.append(number)
        events: tuple[TrackingEvent, ...] = self.inner.track(number)
        return events

    def parse_push(self, body: bytes, headers: Mapping[str, str]) -> Any:
        return self.inner.parse_push(body, headers)


def counts(store: Store) -> dict[str, int]:
    """Rows per table: what "nothing changed" is checked against."""
    with store.engine.connect() as connection:
        return {
            table.name: connection.execute(
                sa.select(sa.func.count()).select_from(table)
            ).scalar_one()
            for table in t.METADATA.sorted_tables
        }


def seen_rows(store: Store) -> int:
    with store.engine.connect() as connection:
        return int(
            connection.execute(sa.select(sa.func.count()).select_from(t.seen_ids)).scalar_one()
        )


def bill_of(statement: SettlementStatement) -> CarrierBill:
    """The carrier's bill agreeing with ``statement`` line for line."""
    return CarrierBill(
        rows=tuple(
            BillRow(
                line_no=position + 2,
                waybill=line.waybill,
                pickup_date=line.day,
                weight_g=line.weight_g,
                destination=line.destination,
                zone=None,
                fee_type=FeeType.POSTAGE,
                amount=line.amount,
            )
            for position, line in enumerate(statement.lines)
        )
    )


def no_personal_data(*texts: object) -> None:
    for text in texts:
        shown = repr(text) + str(text)
        assert APPLICANT_NAME not in shown
        assert APPLICANT_MOBILE not in shown


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


def entry_of(store: Store, number: int) -> JournalEntry:
    found = store.journal.get(order(number))
    assert found is not None
    return found


def waybill_of(store: Store, number: int) -> TrackingNumber:
    found = shipment_of(store, number).tracking_number
    assert found is not None
    return found


def ems_scans(server: FakeEmsServer, waybill: str, codes: tuple[str, ...]) -> list[dict[str, Any]]:
    when = dict(SCANS)
    when.setdefault("708", datetime(2024, 6, 8, 9, 0, tzinfo=NOW.tzinfo))
    later = {"704": when["704"] + timedelta(days=3)} if "708" in codes else {}
    return [server.scan(waybill, code, later.get(code, when[code])) for code in codes]


# --- the whole path -------------------------------------------------------------------------------


def test_the_full_path_from_acceptance_to_reconciliation(
    store: Store, sandbox: SandboxCarrier
) -> None:
    """accept → approve → dispatch → push → delivered → close the month → reconcile."""
    mailed = prepare(store, "sandbox", 5)
    assert [reference(n) for n in (0, 1, 2, 3)] == mailed
    ops = operations(store, sandbox)

    dispatched = ops.dispatch()
    assert DispatchReport(booked=[order(n) for n in range(4)]) == dispatched
    for n in range(4):
        assert ShipmentStatus.AWAITING_PICKUP == shipment_of(store, n).status
        assert waybill_of(store, n) is not None
        assert ApplicationStatus.RESULT_DISPATCHED == application_of(store, n).status
        entry = entry_of(store, n)
        assert (JournalState.BOOKED, 1) == (entry.state, entry.attempts)
    assert ApplicationStatus.APPROVED == application_of(store, 4).status
    assert store.shipments.get(order(4)) is None

    total_events = 0
    for n in range(4):
        expected = sandbox.track(waybill_of(store, n))
        report = ops.ingest_push(*sandbox.push(waybill_of(store, n)))
        assert (len(expected), len(expected), (order(n),), (reference(n),)) == (
            report.received,
            report.stored,
            report.shipments,
            report.applications,
        )
        total_events += len(expected)
        moved, app = shipment_of(store, n), application_of(store, n)
        assert (ShipmentStatus.DELIVERED, ApplicationStatus.RESULT_DELIVERED) == (
            moved.status,
            app.status,
        )
        assert moved.delivered_at == app.delivered_at
        no_personal_data(report)
    assert total_events == store.events.count("sandbox")

    (statement,) = ops.close_month(PERIOD)
    assert (4, PRICE * 4) == (statement.pieces, statement.total)
    assert statement == store.statements.current(AGREEMENT_ID, PERIOD)
    for leg in LedgerLeg:
        assert PRICE * 4 == store.ledger.balance(AGREEMENT_ID, 2024, leg)

    report = ops.reconcile(bill_of(statement), agreement_id=AGREEMENT_ID, period=PERIOD)
    assert report.is_clean
    assert (report,) == store.reconciliations.for_statement(statement.statement_id)
    ops.reconcile(bill_of(statement), agreement_id=AGREEMENT_ID, period=PERIOD)
    assert (report,) == store.reconciliations.for_statement(statement.statement_id)
    no_personal_data(dispatched, ops, statement.statement_id)


def test_dispatching_twice_books_each_order_once(store: Store, sandbox: SandboxCarrier) -> None:
    mailed = prepare(store, "sandbox", 4)
    carrier = Counting(sandbox)
    ops = operations(store, carrier)
    assert (order(0), order(1)) == ops.dispatch(limit=2).booked
    assert (order(2), order(3)) == ops.dispatch().booked
    assert DispatchReport() == ops.dispatch()
    assert [r + "-R" for r in mailed] == carrier.booked

    ops.accept(application(9))
    ops.approve(reference(9), approved_at(9))
    assert (order(9),) == ops.dispatch().booked
    assert [*(r + "-R" for r in mailed), order(9)] == carrier.booked
    assert DispatchReport() == ops.dispatch()


# --- crashes and faults at the carrier ------------------------------------------------------------


def create_calls(server: FakeEmsServer) -> int:
    return sum(code == API_CREATE_ORDER for code, _ in server.calls)


def test_an_order_created_whose_answer_timed_out_is_completed_by_the_next_dispatch(
    store: Store, server: FakeEmsServer, ems: EmsCarrier
) -> None:
    prepare(store, "ems", 1)
    ops = operations(store, ems)
    server.inject(Fault.TIMEOUT, api_code=API_CREATE_ORDER)

    first = ops.dispatch()
    assert ((), (order(0),)) == (first.booked, first.pending)
    assert [order(0)] == server.booked_order_ids  # created, the answer lost
    entry = entry_of(store, 0)
    assert JournalState.PENDING == entry.state
    shipment = shipment_of(store, 0)
    assert shipment.tracking_number is None
    app = application_of(store, 0)
    assert ApplicationStatus.APPROVED == app.status

    second = ops.dispatch()
    assert ((order(0),), ()) == (second.booked, second.pending)
    assert [order(0)] == server.booked_order_ids
    assert server.waybill_of(order(0)) == str(waybill_of(store, 0))
    entry = entry_of(store, 0)
    assert (JournalState.BOOKED, 2) == (entry.state, entry.attempts)
    assert DispatchReport() == ops.dispatch()
    assert 2 == create_calls(server)


def test_a_crash_after_booking_is_completed_from_the_journal_without_the_carrier(
    store: Store, server: FakeEmsServer, ems: EmsCarrier, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The carrier's answer is in the journal, the process dies before the shipment and the
    application record it; meanwhile the carrier pushes the waybill's scans. The next run
    records the booking from the journal and applies the scans already stored."""
    prepare(store, "ems", 1)
    ops = operations(store, ems)

    def dies(*args: object) -> bool:
        raise Crash

    with monkeypatch.context() as patched:
        patched.setattr(Operations, "_record_booking", dies)
        with pytest.raises(Crash):
            ops.dispatch()
    entry = entry_of(store, 0)
    assert JournalState.BOOKED == entry.state
    waybill = server.waybill_of(order(0))
    shipment = shipment_of(store, 0)
    assert shipment.tracking_number is None

    body = push_body(ems_scans(server, waybill, ("203", "389", "704")), server.sign_key)
    early = ops.ingest_push(body, {"Content-Type": "application/json"})
    assert (3, 3, (waybill,), ()) == (
        early.received,
        early.stored,
        early.unmatched,
        early.shipments,
    )

    calls = create_calls(server)
    assert DispatchReport(recovered=[order(0)]) == ops.dispatch()
    assert calls == create_calls(server)
    shipment = shipment_of(store, 0)
    assert (waybill, ShipmentStatus.DELIVERED) == (str(shipment.tracking_number), shipment.status)
    assert ApplicationStatus.RESULT_DELIVERED == application_of(store, 0).status
    assert [order(0)] == server.booked_order_ids


def test_a_crash_while_the_carrier_books_is_booked_again_under_the_same_id(
    store: Store, server: FakeEmsServer, ems: EmsCarrier
) -> None:
    prepare(store, "ems", 1)

    class DiesAfterTheCarrierAnswered(Counting):
        def book(self, request: BookingRequest) -> Booking:
            super().book(request)
            raise Crash

    with pytest.raises(Crash):
        operations(store, DiesAfterTheCarrierAnswered(ems)).dispatch()
    entry = entry_of(store, 0)
    assert (JournalState.PENDING, 1) == (entry.state, entry.attempts)

    report = operations(store, ems).dispatch()
    assert (order(0),) == report.booked
    assert [order(0)] == server.booked_order_ids
    assert server.waybill_of(order(0)) == str(waybill_of(store, 0))


def test_refusals_are_reported_and_fix_the_delivery_choice(
    store: Store, sandbox: SandboxCarrier
) -> None:
    prepare(store, "sandbox", 3)
    refusal = CarrierError("收件地址不详", code="B00099", retryable=False)
    busy = CarrierError("系统繁忙", code="S00001", retryable=True)
    answers: dict[str, CarrierError | None] = {order(0): refusal, order(1): busy}
    carrier = Counting(sandbox, refuse=lambda key: answers.get(key))
    ops = operations(store, carrier)
    ops.change_delivery(reference(2), DeliveryChoice.COLLECT, approved_at(2) + timedelta(hours=1))

    report = ops.dispatch()
    assert (
        DispatchReport(
            pending=[order(1)],
            failed=[order(0)],
            errors=[(order(0), "B00099"), (order(1), "S00001")],
        )
        == report
    )
    entries = [store.journal.get(order(n)) for n in (0, 1)]
    assert [JournalState.FAILED, JournalState.PENDING] == [e.state for e in entries if e]
    assert store.shipments.get(order(2)) is None  # chose to collect: nothing to book
    with pytest.raises(InvalidTransitionError, match="can no longer change"):
        ops.change_delivery(reference(0), "collect", NOW)

    answers.clear()
    again = ops.dispatch()  # the refused order is not sent again unless asked
    assert ((order(1),), (order(0),)) == (again.booked, again.failed)
    assert [order(0), order(1), order(1)] == carrier.booked
    assert (order(0),) == ops.dispatch(retry_failed=True).booked
    assert DispatchReport() == ops.dispatch(retry_failed=True)


def test_an_application_the_store_cannot_mail_is_refused_before_anything_is_sent(
    store: Store, sandbox: SandboxCarrier
) -> None:
    prepare(store, "sandbox", 1)
    carrier = Counting(sandbox)
    ops = operations(store, carrier, result_weight_g=400)
    with store.engine.begin() as connection:  # the center record lost, say by a bad import
        connection.execute(sa.delete(t.centers).where(t.centers.c.code == CENTER.code))
    before = counts(store)
    assert DispatchReport(failed=[order(0)], errors=[(order(0), "invalid")]) == ops.dispatch()
    assert before == counts(store)
    assert [] == carrier.booked
    store.centers.upsert(CENTER)
    assert (order(0),) == ops.dispatch().booked
    shipment = shipment_of(store, 0)
    assert 400 == shipment.weight_g


# --- tracking -------------------------------------------------------------------------------------


def test_a_push_whose_handling_fails_leaves_nothing_and_comes_again(
    store: Store, sandbox: SandboxCarrier, monkeypatch: pytest.MonkeyPatch
) -> None:
    prepare(store, "sandbox", 1)
    ops = operations(store, sandbox)
    ops.dispatch()
    shipment, app = shipment_of(store, 0), application_of(store, 0)
    push = sandbox.push(waybill_of(store, 0))
    events = sandbox.track(waybill_of(store, 0))
    before = counts(store)

    from govpost.service import _operations

    real = _operations.record_tracking

    def fails_after_writing(*args: Any) -> IngestReport:
        real(*args)
        raise OSError("disk full")

    with monkeypatch.context() as patched:
        patched.setattr(_operations, "record_tracking", fails_after_writing)
        with pytest.raises(OSError, match="disk full"):
            ops.ingest_push(*push)
    assert before == counts(store)
    assert (0, 0) == (store.events.count(), seen_rows(store))
    assert (shipment, app) == (store.shipments.get(order(0)), store.applications.get(reference(0)))

    redelivered = ops.ingest_push(*push)
    assert (len(events), len(events)) == (redelivered.received, redelivered.stored)
    assert 0 < seen_rows(store)
    assert 0 == ops.ingest_push(*push).received


def test_an_unconfirmed_ems_delivery_is_withheld_and_a_return_is_no_delivery(
    store: Store, server: FakeEmsServer, ems: EmsCarrier
) -> None:
    """EMS pushes are not authenticated: a delivery the carrier's tracking does not show is
    withheld. A delivery scan on the way back ends the return: the result was not delivered."""
    prepare(store, "ems", 2)
    ops = operations(store, ems)
    ops.dispatch()
    first, second = server.waybill_of(order(0)), server.waybill_of(order(1))
    picked = ems_scans(server, first, ("203",))
    forged = dict(picked[0], opCode="704", opName="已妥投", opDesc="已妥投")
    report = ops.ingest_push(
        push_body([*picked, forged], server.sign_key), {"Content-Type": "application/json"}
    )
    assert (1, 1) == (report.received, report.withheld)
    shipment, app = shipment_of(store, 0), application_of(store, 0)
    assert (ShipmentStatus.PICKED_UP, ApplicationStatus.RESULT_DISPATCHED) == (
        shipment.status,
        app.status,
    )

    returned = ems_scans(server, second, ("203", "708", "704"))
    report = ops.ingest_push(
        push_body(returned, server.sign_key, serial_no="S2"), {"Content-Type": "application/json"}
    )
    assert (3, 0) == (report.received, report.withheld)
    shipment, app = shipment_of(store, 1), application_of(store, 1)
    assert (ShipmentStatus.RETURNED, ApplicationStatus.RESULT_DISPATCHED) == (
        shipment.status,
        app.status,
    )


def test_polling_brings_the_tracking_that_pushes_lost(
    store: Store, sandbox: SandboxCarrier
) -> None:
    prepare(store, "sandbox", 3)
    lost = CarrierError("查询超时", code="timeout", retryable=True)

    class Flaky(Counting):
        def track(self, number: TrackingNumber) -> tuple[TrackingEvent, ...]:
            if number == unreachable:
                self.tracked.append(number)
                raise lost
            return super().track(number)

    carrier = Flaky(sandbox)
    ops = operations(store, carrier)
    ops.dispatch()
    waybills = [waybill_of(store, n) for n in range(3)]
    unreachable: TrackingNumber | None = waybills[2]
    assert IngestReport() == ops.poll_tracking(quiet_for=timedelta(days=30))

    report = ops.poll_tracking()
    assert ((order(2),), ((order(2), "timeout"),)) == (report.failed, report.errors)
    assert (order(0), order(1)) == report.shipments == tuple(r + "-R" for r in report.applications)
    expected = sum(len(sandbox.track(w)) for w in waybills[:2])
    assert (expected, expected) == (report.received, report.stored)
    assert waybills == carrier.tracked
    for n in (0, 1):
        assert ApplicationStatus.RESULT_DELIVERED == application_of(store, n).status

    unreachable = None  # the carrier answers again
    again = ops.poll_tracking(limit=5)
    assert ((order(2),), ()) == (again.shipments, again.failed)
    assert [*waybills, waybills[2]] == carrier.tracked  # delivered ones are not asked again
    assert IngestReport() == ops.poll_tracking()


# --- closing the month ----------------------------------------------------------------------------


def deliver(ops: Operations, store: Store, sandbox: SandboxCarrier, *numbers: int) -> None:
    for n in numbers:
        ops.ingest_push(*sandbox.push(waybill_of(store, n)))


def test_closing_a_month_twice_saves_once_and_posts_once(
    store: Store, sandbox: SandboxCarrier
) -> None:
    prepare(store, "sandbox", 3)
    ops = operations(store, sandbox)
    ops.dispatch()
    deliver(ops, store, sandbox, 0, 1)

    (first,) = ops.close_month(PERIOD)
    entries = store.ledger.entries(AGREEMENT_ID)
    assert 2 == len(entries)
    assert (first,) == ops.close_month(PERIOD, agreements=[AGREEMENT_ID])
    assert (first,) == store.statements.history(AGREEMENT_ID, PERIOD)
    assert entries == store.ledger.entries(AGREEMENT_ID)
    assert () == ops.close_month(Period.month(2023, 12))  # before the agreement: none in force

    deliver(ops, store, sandbox, 2)  # a piece picked up in June, recorded late
    before = counts(store)
    with pytest.raises(StoreError, match="supersede=True"):
        ops.close_month(PERIOD)
    assert before == counts(store)

    (second,) = ops.close_month(PERIOD, supersede=True)
    assert (2, 3) == (first.pieces, second.pieces)
    assert (first, second) == store.statements.history(AGREEMENT_ID, PERIOD)
    assert 6 == len(store.ledger.entries(AGREEMENT_ID))  # the reversal of the first, the second
    for leg in LedgerLeg:
        assert PRICE * 3 == store.ledger.balance(AGREEMENT_ID, 2024, leg)
    assert () == store.ledger.verify()
    assert (second,) == ops.close_month(PERIOD, supersede=True)
    assert 6 == len(store.ledger.entries(AGREEMENT_ID))


# --- bad input ------------------------------------------------------------------------------------


def refused(kind: type[GovpostError], call: Callable[[], object], match: str) -> None:
    with pytest.raises(kind, match=match) as info:
        call()
    no_personal_data(info.value)


def test_bad_input_is_a_clear_error_that_changes_nothing(
    store: Store, sandbox: SandboxCarrier
) -> None:
    prepare(store, "sandbox", 2)
    ops = operations(store, sandbox)
    stored = store.applications.get(reference(0))
    before = counts(store)

    refused(StoreError, lambda: ops.approve("520100-NONE", NOW), "no application '520100-NONE'")
    refused(ValidationError, lambda: ops.approve(None, NOW), "reference")  # type: ignore[arg-type]
    refused(
        InvalidTransitionError,
        lambda: ops.approve(reference(0), approved_at(0) + timedelta(hours=1)),
        "APPROVED",
    )
    refused(InvalidTransitionError, lambda: ops.reject(reference(0), NOW), "APPROVED")
    refused(InvalidTransitionError, lambda: ops.withdraw(reference(0), NOW), "APPROVED")
    assert stored == ops.approve(reference(0), approved_at(0))  # the same approval: a no-op
    assert stored == ops.accept(application(0))  # accepted again: the stored one, approved
    moved = attrs.evolve(application(0), destination="522601")
    refused(ValidationError, lambda: ops.accept(moved), "differs in: destination")
    elsewhere = attrs.evolve(application(7), center="GZ-999999")
    refused(ValidationError, lambda: ops.accept(elsewhere), "center 'GZ-999999'")
    unknown = attrs.evolve(application(7), service="GZ-NONE-001")
    refused(ValidationError, lambda: ops.accept(unknown), "service 'GZ-NONE-001'")
    refused(ValidationError, lambda: ops.accept("R-1"), "Application")  # type: ignore[arg-type]
    bill = CarrierBill(rows=())
    refused(
        StoreError,
        lambda: ops.reconcile(bill, agreement_id=AGREEMENT_ID, period=Period.month(2024, 5)),
        "no statement of agreement 'GZ-AGREEMENT-2024' for 2024-05",
    )
    refused(ValidationError, lambda: ops.close_month("2024-06"), "Period")  # type: ignore[arg-type]
    refused(StoreError, lambda: ops.close_month(PERIOD, agreements=["NONE"]), "no agreement")
    refused(ValidationError, lambda: ops.dispatch(limit=0), "limit")
    naive = Operations(store, sandbox, sender=SENDER, clock=lambda: NOW.replace(tzinfo=None))
    refused(ValidationError, naive.dispatch, "clock")
    refused(ValidationError, lambda: ops.poll_tracking(quiet_for=timedelta(-1)), "quiet_for")
    refused(ValidationError, lambda: Operations(object(), sandbox, sender=SENDER), "Store")  # type: ignore[arg-type]
    refused(ValidationError, lambda: Operations(store, object(), sender=SENDER), "carrier")  # type: ignore[arg-type]
    refused(ValidationError, lambda: Operations(store, sandbox, sender="张三"), "sender")  # type: ignore[arg-type]
    assert before == counts(store)
    assert stored == store.applications.get(reference(0))


def test_a_sender_per_center_is_asked_for_each_booking(
    store: Store, sandbox: SandboxCarrier
) -> None:
    prepare(store, "sandbox", 1)
    asked: list[str] = []

    def window(center: Any) -> Any:
        asked.append(center.code)
        return SENDER

    ops = Operations(store, sandbox, sender=window, clock=lambda: NOW)
    assert (order(0),) == ops.dispatch().booked
    assert [CENTER.code] == asked

    def broken(center: Any) -> Any:
        return "贵阳市政务服务中心"

    ops = Operations(store, sandbox, sender=broken, clock=lambda: NOW)
    ops.accept(application(5))
    ops.approve(reference(5), approved_at(5))
    before = counts(store)
    assert DispatchReport(failed=[order(5)], errors=[(order(5), "invalid")]) == ops.dispatch()
    assert before == counts(store)


def test_threads_accepting_one_application_at_once_record_it_once(store: Store) -> None:
    seed(store, "sandbox")
    ops = operations(store, SandboxCarrier())
    start = threading.Barrier(4)
    results: list[Application] = []
    failures: list[BaseException] = []

    def accept() -> None:
        start.wait()
        try:
            results.append(ops.accept(application(0)))
        except BaseException as exc:  # reported below, with its type
            failures.append(exc)

    threads = [threading.Thread(target=accept) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert [] == failures
    assert [application(0)] * 4 == results
    assert (application(0),) == store.applications.find()


def test_polling_asks_only_the_carrier_that_booked(store: Store, sandbox: SandboxCarrier) -> None:
    prepare(store, "sandbox", 1)
    operations(store, sandbox).dispatch()

    other = Counting(sandbox)
    other.name = "other"
    assert IngestReport() == operations(store, other).poll_tracking()
    assert [] == other.tracked
    assert (order(0),) == operations(store, sandbox).poll_tracking().shipments
