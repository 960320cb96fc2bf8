"""Call sites of the carriers and of the test kit, checked by mypy (never run).

For each public constructor and function: a right call, its result pinned with ``assert_type``,
and a mistake an integrator might make, which must stay rejected.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any, assert_type

from hypothesis import strategies as st

from govpost.carriers import (
    Booking,
    BookingCarrier,
    BookingRequest,
    Capability,
    Carrier,
    JournalEntry,
    JournalState,
    MemoryJournal,
    PushMessage,
    Quote,
    QuoteRequest,
    available,
    book_once,
    booking_fingerprint,
    load,
    pushes_authenticated,
    require,
    supports,
)
from govpost.carriers.ems import (
    EmsCarrier,
    EmsConfig,
    EmsReply,
    WireRequest,
    build_cancel,
    build_create_order,
    build_freight_estimate,
    build_track_query,
    decode_envelope,
    encode_envelope,
    parse_cancel,
    parse_create_order,
    parse_freight_estimate,
    parse_push,
    parse_reply,
    parse_track,
)
from govpost.carriers.ems.envelope import compact_json
from govpost.carriers.ems.parse import parse_time
from govpost.carriers.sandbox import SandboxCarrier
from govpost.carriers.transport import HttpReply, Transport, parse_retry_after
from govpost.carriers.webhooks import (
    MemorySeenIds,
    PushInbox,
    WebhookVerifier,
    WithheldEvent,
    sign_request,
    signature,
)
from govpost.identifiers import TrackingNumber
from govpost.money import Money
from govpost.regions import Zone
from govpost.shipments import Recipient, Shipment, TrackingEvent
from govpost.testing import (
    FakeEmsServer,
    Fault,
    PushSource,
    carrier_contract,
    push_body,
    sample_booking_request,
)
from govpost.testing import strategies as gps

NOW = datetime(2024, 6, 3, 9, 30, tzinfo=UTC)
WAYBILL = TrackingNumber.parse("EA123456785CN")
REQUEST = sample_booking_request("GZ-1")
SANDBOX = SandboxCarrier(seed=3)
CONFIG = EmsConfig(sender_no="1100012345678", authorization="auth", sign_key="k")


def models() -> None:
    assert_type(QuoteRequest(origin="520102", destination="520302", weight_g=250), QuoteRequest)
    QuoteRequest(origin=520102, destination="520302", weight_g=250)  # type: ignore[arg-type]
    QuoteRequest(origin="520102", destination="520302", weight_g=0.25)  # type: ignore[arg-type]
    QuoteRequest(origin="520102", destination="520302", weight_g=250, declared_value=Decimal(5))  # type: ignore[arg-type]

    assert_type(Quote(carrier="ems", amount=Money("12.50"), zone="in_province"), Quote)
    assert_type(Quote(carrier="ems", amount=Money("12.50"), zone=Zone.SAME_CITY, raw=None), Quote)
    Quote(carrier="ems", amount="12.50", zone=Zone.SAME_CITY)  # type: ignore[arg-type]
    Quote(carrier="ems", amount=Money("12.50"), zone=1)  # type: ignore[arg-type]
    Quote(carrier="ems", amount=Money("1"), zone=Zone.SAME_CITY, raw=b"{}")  # type: ignore[arg-type]

    sender = Recipient(name="贵阳市政务服务中心", mobile="13885000000", address="市府路1号")
    assert_type(BookingRequest(shipment=REQUEST.shipment, sender=sender), BookingRequest)
    BookingRequest(shipment=REQUEST.shipment, sender="贵阳市政务服务中心")  # type: ignore[arg-type]
    BookingRequest(shipment=REQUEST.shipment, sender=sender, contents=None)  # type: ignore[arg-type]

    booking = Booking(carrier="ems", order_id="GZ-1", tracking_number=WAYBILL, booked_at=NOW)
    assert_type(booking, Booking)
    Booking(carrier="ems", order_id="GZ-1", tracking_number="EA123456785CN", booked_at=NOW)  # type: ignore[arg-type]
    Booking(carrier="ems", order_id="GZ-1", tracking_number=WAYBILL, booked_at="2024-06-03")  # type: ignore[arg-type]
    Booking(carrier="ems", order_id=1, tracking_number=WAYBILL, booked_at=NOW)  # type: ignore[arg-type]

    assert_type(PushMessage(message_id=None, events=()), PushMessage)
    PushMessage(message_id=None, events=[])  # type: ignore[arg-type]


def registry() -> None:
    assert_type(available(), list[str])
    carrier = load("sandbox", seed=2018)
    assert_type(carrier, Carrier)
    load(name=b"sandbox")  # type: ignore[arg-type]
    assert_type(supports(carrier, Capability.BOOK), bool)
    supports(carrier, "book")  # type: ignore[arg-type]
    assert_type(require(carrier, Capability.BOOK), BookingCarrier)
    require(carrier, "book")  # type: ignore[call-overload]
    # Any object may be asked (the answer is False for anything that does not declare it).
    assert_type(pushes_authenticated(object()), bool)
    pushes_authenticated()  # type: ignore[call-arg]


def journal() -> None:
    entry = JournalEntry(
        key="GZ-1",
        carrier="ems",
        fingerprint="0" * 64,
        state=JournalState.PENDING,
        created_at=NOW,
        updated_at=NOW,
    )
    assert_type(entry, JournalEntry)
    JournalEntry(
        key="GZ-1",
        carrier="ems",
        fingerprint="0" * 64,
        state="pending",  # type: ignore[arg-type]
        created_at=NOW,
        updated_at=NOW,
    )
    JournalEntry(
        key="GZ-1",
        carrier="ems",
        fingerprint="0" * 64,
        state=JournalState.PENDING,
        created_at="2024-06-03T09:30:00+00:00",  # type: ignore[arg-type]
        updated_at=NOW,
        attempts="1",  # type: ignore[arg-type]
    )
    memory = MemoryJournal()
    assert_type(memory, MemoryJournal)
    MemoryJournal(entries=[entry])  # type: ignore[arg-type]
    assert_type(booking_fingerprint(REQUEST), str)
    booking_fingerprint(REQUEST.shipment)  # type: ignore[arg-type]
    assert_type(book_once(SANDBOX, REQUEST, memory), Booking)
    book_once(SANDBOX, REQUEST.shipment, memory)  # type: ignore[arg-type]


def sandbox() -> None:
    assert_type(SandboxCarrier(seed=3, failure_rate=0.0), SandboxCarrier)
    SandboxCarrier(seed="3")  # type: ignore[arg-type]
    assert_type(SANDBOX.track(WAYBILL), tuple[TrackingEvent, ...])
    SANDBOX.track("EA123456785CN")  # type: ignore[arg-type]


def ems() -> None:
    assert_type(CONFIG, EmsConfig)
    EmsConfig(sender_no="1", authorization="a", sign_key="k", base_url=None)  # type: ignore[arg-type]
    carrier = EmsCarrier(sender_no="1", authorization="a", sign_key="k", timeout=(3, 10))
    assert_type(carrier, EmsCarrier)
    EmsCarrier(sender_no="1", authorization="a", sign_key="k", timeout="10s")  # type: ignore[arg-type]

    assert_type(build_create_order(REQUEST, CONFIG, now=NOW), WireRequest)
    build_create_order(REQUEST, CONFIG, now="2024-06-03 09:30:00")  # type: ignore[arg-type]
    quote = QuoteRequest.for_shipment(REQUEST.shipment)
    assert_type(build_freight_estimate(quote, CONFIG, now=NOW), WireRequest)
    build_freight_estimate(REQUEST, CONFIG, now=NOW)  # type: ignore[arg-type]
    assert_type(build_track_query(WAYBILL, CONFIG, now=NOW), WireRequest)
    build_track_query("EA123456785CN", CONFIG, now=NOW)  # type: ignore[arg-type]
    assert_type(build_cancel("GZ-1", CONFIG, now=NOW, tracking_number=WAYBILL), WireRequest)
    build_cancel("GZ-1", CONFIG, now=NOW, tracking_number="EA123456785CN")  # type: ignore[arg-type]

    sealed = encode_envelope({"orderId": "GZ-1"}, "k")
    assert_type(sealed, str)
    encode_envelope({"orderId": "GZ-1"}, b"k")  # type: ignore[arg-type]
    assert_type(decode_envelope(sealed, "k"), str)
    decode_envelope(sealed.encode(), "k")  # type: ignore[arg-type]
    assert_type(compact_json({"a": 1}), str)
    compact_json()  # type: ignore[call-arg]

    assert_type(parse_reply("{}", "020003"), EmsReply)
    parse_reply(b"{}", "020003")  # type: ignore[arg-type]
    assert_type(parse_create_order("{}", REQUEST, received_at=NOW), Booking)
    parse_create_order("{}", REQUEST, received_at=None)  # type: ignore[arg-type]
    assert_type(parse_freight_estimate("{}", quote), Quote)
    parse_freight_estimate("{}", REQUEST)  # type: ignore[arg-type]
    assert_type(parse_track("{}"), tuple[TrackingEvent, ...])
    parse_track(b"{}")  # type: ignore[arg-type]
    assert_type(parse_cancel("{}"), None)
    parse_cancel(None)  # type: ignore[arg-type]
    assert_type(parse_push(b"{}", {}, "k"), PushMessage)
    parse_push("{}", {}, "k")  # type: ignore[arg-type]
    assert_type(parse_time("2024-06-03 10:15:00"), datetime)
    parse_time(NOW)  # type: ignore[arg-type]


def webhooks() -> None:
    assert_type(signature("s3cret", 1717380000, b"{}"), str)
    signature("s3cret", "1717380000", b"{}")  # type: ignore[arg-type]
    assert_type(sign_request(["new", "old"], b"{}", timestamp=1717380000), dict[str, str])
    sign_request("s3cret", "{}", timestamp=1717380000)  # type: ignore[arg-type]
    assert_type(WebhookVerifier("s3cret", tolerance=60), WebhookVerifier)
    WebhookVerifier(42)  # type: ignore[arg-type]
    assert_type(MemorySeenIds(capacity=10), MemorySeenIds)
    MemorySeenIds(capacity="10")  # type: ignore[arg-type]
    inbox = PushInbox(SANDBOX, max_age=timedelta(days=7))
    assert_type(inbox, PushInbox)
    PushInbox(SANDBOX, max_age=7)  # type: ignore[arg-type]
    event = SANDBOX.track(WAYBILL)[0]
    assert_type(WithheldEvent(event=event, reason="stale", detail="old"), WithheldEvent)
    WithheldEvent(event=event, reason="late", detail="old")  # type: ignore[arg-type]


def transport() -> None:
    assert_type(Transport(timeout=(3.0, 10.0), retries=1), Transport)
    Transport(retries="1")  # type: ignore[arg-type]
    assert_type(HttpReply(status=200, text="{}"), HttpReply)
    HttpReply(status="200", text="{}")  # type: ignore[arg-type]
    assert_type(parse_retry_after("120", now=NOW), float | None)
    parse_retry_after(120, now=NOW)  # type: ignore[arg-type]


def testing_kit() -> None:
    with FakeEmsServer(timeout_delay=30.0) as server:
        assert_type(server, FakeEmsServer)
        server.inject(Fault.TIMEOUT, times=2)
        server.inject("timeout")  # type: ignore[arg-type]
        assert_type(server.carrier_config(retries=0), dict[str, Any])
    FakeEmsServer(sign_key=b"k")  # type: ignore[arg-type]
    assert_type(sample_booking_request("GZ-1", weight_g=300), BookingRequest)
    sample_booking_request("GZ-1", weight_g="300 g")  # type: ignore[arg-type]
    assert_type(push_body({"waybillNo": str(WAYBILL)}, "k", sent_at=NOW), bytes)
    push_body({"waybillNo": str(WAYBILL)}, "k", sent_at="now")  # type: ignore[arg-type]
    source: PushSource = SANDBOX.push
    assert_type(carrier_contract(SANDBOX, push_source=source), list[str])
    carrier_contract(SANDBOX, known_waybill="EA123456785CN")  # type: ignore[arg-type]


def strategies() -> None:
    assert_type(gps.shipments(picked_up=True), st.SearchStrategy[Shipment])
    gps.shipments(picked_up="yes")  # type: ignore[arg-type]
    assert_type(gps.money("CNY", whole_fen=True), st.SearchStrategy[Money])
    gps.money(12)  # type: ignore[arg-type]
    assert_type(gps.tracking_events(WAYBILL), st.SearchStrategy[TrackingEvent])
    gps.tracking_events("EA123456785CN")  # type: ignore[arg-type]
