"""The EMS adapter and the booking journal under injected faults, against the loopback fake.

Each fault of :class:`~govpost.testing.Fault` once, with what the adapter must make of it; then
200 bookings through :func:`~govpost.carriers.book_once` with faults injected at random into a
share of the calls: no order is booked twice, none is lost, and every call ends within its
deadline.
"""

from __future__ import annotations

import json
import random
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from govpost.carriers import Booking, JournalState, MemoryJournal, QuoteRequest, book_once
from govpost.carriers.ems import EmsCarrier
from govpost.carriers.ems.build import API_CREATE_ORDER, API_TRACK_QUERY
from govpost.errors import CarrierError, ValidationError
from govpost.testing import FakeEmsServer, Fault, sample_booking_request
from tests.test_carriers_http import Scripted

#: Seconds each operation may take; short, so that faults that run into it cost little.
DEADLINE = 1.0
#: Seconds per attempt: far above a normal loopback answer even on a loaded machine.
ATTEMPT = 0.5
#: Seconds a TIMEOUT or STALL fault holds its answer: beyond the deadline.
HELD = 1.5
#: Slack of the deadline bound: far above scheduling delays, far below the overruns the
#: deadline prevents (a trickled answer here would take seconds more).
SLACK = 2.0


@pytest.fixture
def server() -> Iterator[FakeEmsServer]:
    with FakeEmsServer(timeout_delay=HELD, trickle_interval=0.02) as fake:
        yield fake


def carrier_for(server: FakeEmsServer, **overrides: Any) -> EmsCarrier:
    config = server.carrier_config(
        timeout=ATTEMPT, deadline=DEADLINE, retries=2, backoff=0.01, max_backoff=0.2
    )
    config.update(overrides)
    return EmsCarrier(**config)


def timed(call: Callable[[], Any]) -> tuple[float, Any]:
    start = time.monotonic()
    try:
        result = call()
    except CarrierError as exc:
        result = exc
    return time.monotonic() - start, result


def creates(server: FakeEmsServer) -> int:
    return sum(code == API_CREATE_ORDER for code, _ in server.calls)


# --- one fault at a time -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("fault", "creates_called", "duplicate"),
    [
        (Fault.RESET, 1, False),  # not processed: the retry creates the order
        (Fault.RESET_AFTER, 2, True),  # created, answer lost: the retry is the duplicate
        (Fault.SERVER_ERROR_AFTER, 2, True),
        (Fault.TIMEOUT, 2, True),
        (Fault.STALL, 2, False),  # the retry creates it; the stalled call, later, is a duplicate
        (Fault.RATE_LIMITED_DATE, 1, False),
    ],
)
def test_a_lost_answer_is_retried_into_one_booking(
    server: FakeEmsServer, fault: Fault, creates_called: int, duplicate: bool
) -> None:
    server.inject(fault, api_code=API_CREATE_ORDER, retry_after=1)
    with carrier_for(server) as ems:
        elapsed, booking = timed(lambda: ems.book(sample_booking_request("GZ-F1")))
    assert not isinstance(booking, CarrierError), booking
    assert booking.duplicate is duplicate
    assert str(booking.tracking_number) == server.waybill_of("GZ-F1")
    assert elapsed <= DEADLINE + SLACK
    server.close()  # waits for calls held back or stalled: all processed now
    assert creates(server) == creates_called
    assert server.orders() == {"GZ-F1": str(booking.tracking_number)}


@pytest.mark.parametrize("fault", [Fault.TRICKLE, Fault.DEEP_JSON])
def test_an_answer_lost_after_processing_is_retryable_and_books_once(
    server: FakeEmsServer, fault: Fault
) -> None:
    server.inject(fault, api_code=API_CREATE_ORDER)
    request = sample_booking_request("GZ-F2")
    with carrier_for(server) as ems:
        elapsed, error = timed(lambda: ems.book(request))
        again = ems.book(request)
    assert isinstance(error, CarrierError)
    assert error.retryable is True
    assert error.code == ("deadline" if fault is Fault.TRICKLE else "malformed_response")
    assert elapsed <= DEADLINE + SLACK
    assert again.duplicate is True
    assert server.orders() == {"GZ-F2": str(again.tracking_number)}


@pytest.mark.parametrize("fault", [Fault.NOT_JSON, Fault.MALFORMED_JSON])
def test_a_malformed_answer_is_retryable_and_creates_nothing(
    server: FakeEmsServer, fault: Fault
) -> None:
    server.inject(fault, api_code=API_CREATE_ORDER)
    with carrier_for(server) as ems, pytest.raises(CarrierError) as info:
        ems.book(sample_booking_request("GZ-F3"))
    assert (info.value.code, info.value.retryable) == ("malformed_response", True)
    assert server.orders() == {}


def test_an_oversized_answer_is_refused_at_the_cap(server: FakeEmsServer) -> None:
    server.inject(Fault.OVERSIZED)
    with carrier_for(server, max_response_bytes=65536) as ems:
        elapsed, error = timed(lambda: ems.quote(_quote()))
    assert isinstance(error, CarrierError)
    assert (error.code, error.retryable) == ("response_too_large", False)
    assert elapsed <= DEADLINE + SLACK


def _quote() -> QuoteRequest:
    return QuoteRequest(origin="520102", destination="520302", weight_g=300)


def test_a_rate_limit_longer_than_the_deadline_is_not_waited_for(server: FakeEmsServer) -> None:
    server.inject(Fault.RATE_LIMITED, retry_after=30)
    with carrier_for(server, max_backoff=30) as ems:
        elapsed, error = timed(lambda: ems.quote(_quote()))
    assert isinstance(error, CarrierError)
    assert (error.code, error.retryable) == ("http_429", True)
    assert "no retry" in str(error)
    assert elapsed <= DEADLINE + SLACK
    assert server.calls == []


# --- duplicates by wording only ------------------------------------------------------------------


def test_a_duplicate_by_wording_of_an_existing_order_is_confirmed_by_tracking(
    server: FakeEmsServer,
) -> None:
    request = sample_booking_request("GZ-W1")
    with carrier_for(server) as ems:
        first = ems.book(request)
        server.inject(Fault.DUPLICATE_WORDING, api_code=API_CREATE_ORDER)
        again = ems.book(request)
    assert again.tracking_number == first.tracking_number
    assert again.duplicate is True
    assert [code for code, _ in server.calls] == [API_CREATE_ORDER, API_TRACK_QUERY]
    assert server.orders() == {"GZ-W1": str(first.tracking_number)}


def test_do_not_resubmit_for_an_order_never_created_is_never_reported_booked(
    server: FakeEmsServer,
) -> None:
    """Regression: "请勿重复提交" was taken for "duplicate order" of an order never created."""
    server.inject(Fault.DUPLICATE_WORDING, api_code=API_CREATE_ORDER)
    with carrier_for(server) as ems, pytest.raises(CarrierError) as info:
        ems.book(sample_booking_request("GZ-W2"))
    assert (info.value.code, info.value.retryable) == ("duplicate_unconfirmed", False)
    assert "not reported booked" in str(info.value)
    assert "Ask EMS whether it was created" in str(info.value)
    assert server.orders() == {}
    assert server.calls == []


UNKNOWN_WAYBILL = json.dumps(
    {"retCode": "B00099", "retMsg": "订单已存在", "retBody": '{"waybillNo":"EA123456785CN"}'}
)


def scripted_ems(server: Scripted) -> EmsCarrier:
    return EmsCarrier(
        sender_no="1100012345678",
        authorization="auth",
        sign_key="TvaBgrhE46sft3nZlfe7xw==",
        base_url=server.url.rstrip("/"),
        timeout=ATTEMPT,
        deadline=DEADLINE,
        backoff=0.01,
    )


def test_a_duplicate_by_wording_whose_waybill_tracking_does_not_know_is_not_booked() -> None:
    not_found = '{"retCode":"B00404","retMsg":"未查询到该运单轨迹","retBody":null}'
    with Scripted((200, UNKNOWN_WAYBILL, {}), (200, not_found, {})) as fake:
        with scripted_ems(fake) as ems, pytest.raises(CarrierError) as info:
            ems.book(sample_booking_request("GZ-W3"))
        assert fake.calls == 2  # the create-order call, and the track query confirming it
    assert (info.value.code, info.value.retryable) == ("duplicate_unconfirmed", False)
    assert "does not know the waybill it named, EA123456785CN" in str(info.value)


def test_a_failed_confirmation_is_retryable() -> None:
    busy = '{"retCode":"S00001","retMsg":"系统繁忙","retBody":null}'
    with (
        Scripted((200, UNKNOWN_WAYBILL, {}), (200, busy, {})) as fake,
        scripted_ems(fake) as ems,
        pytest.raises(CarrierError) as info,
    ):
        ems.book(sample_booking_request("GZ-W4"))
    assert (info.value.code, info.value.retryable) == ("S00001", True)


def test_the_query_confirming_a_duplicate_by_wording_shares_the_bookings_deadline() -> None:
    """The create-order answer takes most of the deadline; the track query confirming it gets
    the time left, not a deadline of its own: the booking ends at its deadline."""
    known = '{"retCode":"00000","retMsg":"","retBody":null}'
    with Scripted((200, UNKNOWN_WAYBILL, {}), (200, known, {})) as fake:
        fake.delays = {1: 1.3, 2: 60.0}  # the track query is never answered in time
        ems = EmsCarrier(
            sender_no="1100012345678",
            authorization="auth",
            sign_key="TvaBgrhE46sft3nZlfe7xw==",
            base_url=fake.url.rstrip("/"),
            timeout=5.0,
            deadline=1.5,
            retries=0,
        )
        with ems:
            elapsed, error = timed(lambda: ems.book(sample_booking_request("GZ-W5")))
        assert fake.calls == 2
    assert isinstance(error, CarrierError)
    assert (error.code, error.retryable) == ("deadline", True)
    # A deadline of its own would end the booking near 1.3 + 1.5 s.
    assert elapsed <= 1.5 + 0.9


@pytest.mark.parametrize(
    "setting", [{"deadline": 0}, {"deadline": "30"}, {"max_response_bytes": 10}]
)
def test_adapter_limits_are_checked(server: FakeEmsServer, setting: dict[str, Any]) -> None:
    with pytest.raises(ValidationError):
        carrier_for(server, **setting)


# --- 200 bookings under random faults ------------------------------------------------------------

#: Faults drawn for create-order calls, and the share of calls that get one.
RANDOM_FAULTS = [
    Fault.TIMEOUT,
    Fault.STALL,
    Fault.SLOW,
    Fault.SERVER_ERROR,
    Fault.SERVER_ERROR_AFTER,
    Fault.RATE_LIMITED,
    Fault.RATE_LIMITED_DATE,
    Fault.MALFORMED_JSON,
    Fault.NOT_JSON,
    Fault.DEEP_JSON,
    Fault.TRICKLE,
    Fault.DROP,
    Fault.RESET,
    Fault.RESET_AFTER,
    Fault.DUPLICATE_ORDER,
    Fault.DUPLICATE_WORDING,
]
FAULT_SHARE = 0.3
ORDERS = 200
ROUNDS = 8


def test_200_bookings_under_random_faults_are_each_booked_exactly_once() -> None:
    """Invariants: no order id is created twice, none is lost (each ends booked in the journal
    with the waybill the carrier holds), and every call ends within its deadline.

    A seeded share of the calls gets a fault, cycling through a seeded shuffle of every kind;
    a fault may last 1 to 3 requests and hit the create-order call or whatever comes next (the
    track query confirming a duplicate by wording). Like a service, the test books again the
    orders whose attempt failed retryably, for a bounded number of rounds; orders that end
    ``duplicate_unconfirmed`` are booked again once more, as an operator would after asking
    EMS.
    """
    rng = random.Random(20180607)
    schedule = RANDOM_FAULTS * 20
    rng.shuffle(schedule)
    journal = MemoryJournal()
    requests = {f"GZ-{i:04d}": sample_booking_request(f"GZ-{i:04d}") for i in range(ORDERS)}
    elapsed: list[float] = []
    injected: dict[Fault, int] = {}

    def attempt(server: FakeEmsServer, ems: EmsCarrier, order_id: str, faults: bool) -> Any:
        server.clear_faults()
        if faults and rng.random() < FAULT_SHARE:
            fault = schedule[sum(injected.values())]
            injected[fault] = injected.get(fault, 0) + 1
            if fault is Fault.DUPLICATE_ORDER and order_id not in server.orders():
                # Created, its answer lost; the retry is answered "duplicate" by code.
                server.inject(Fault.RESET_AFTER, api_code=API_CREATE_ORDER)
                server.inject(fault, api_code=API_CREATE_ORDER)
            else:
                server.inject(
                    fault,
                    times=rng.choice([1, 1, 2, 3]),
                    api_code=rng.choice([API_CREATE_ORDER, None]),
                    retry_after=1,
                )
        took, result = timed(lambda: book_once(ems, requests[order_id], journal))
        elapsed.append(took)
        return result

    with (
        FakeEmsServer(timeout_delay=HELD, trickle_interval=0.02) as server,
        carrier_for(server) as ems,
    ):
        todo = list(requests)
        failures: dict[str, CarrierError] = {}
        for round_ in range(ROUNDS):
            results = {o: attempt(server, ems, o, faults=round_ < 2) for o in todo}
            failures |= {o: r for o, r in results.items() if isinstance(r, CarrierError)}
            todo = [o for o, r in results.items() if isinstance(r, CarrierError) and r.retryable]
            if not todo:
                break
        final = {o: journal.get(o) for o in requests}
        stuck = [o for o, entry in final.items() if entry and entry.state is JournalState.FAILED]
        assert {failures[o].code for o in stuck} <= {"duplicate_unconfirmed"}
        # What an operator does with "duplicate_unconfirmed": ask EMS whether the order
        # exists, then book it again, which is safe either way (EMS keys orders by id).
        for order_id in stuck:
            assert isinstance(attempt(server, ems, order_id, faults=False), Booking)
    # The server is closed: calls held back or stalled have all been processed.
    orders = server.orders()

    assert set(injected) == set(RANDOM_FAULTS)
    assert stuck, "no order met a duplicate by wording only"
    # No double booking: one creation per order id, one waybill per order.
    assert len(server.booked_order_ids) == len(set(server.booked_order_ids)) == ORDERS
    assert len(set(orders.values())) == ORDERS
    # No lost order: every order booked in the journal, with the carrier's waybill.
    assert journal.pending() == ()
    for order_id in requests:
        entry = journal.get(order_id)
        assert entry is not None
        assert entry.state is JournalState.BOOKED, (order_id, entry)
        assert entry.booking is not None
        assert str(entry.booking.tracking_number) == orders[order_id]
    # Every call within its deadline.
    assert max(elapsed) <= DEADLINE + SLACK
