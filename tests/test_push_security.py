"""Pushes from outside: tampered, forged, replayed, stale, oversized, rotated and rearranged.

EMS pushes are sealed with SM4-ECB and no MAC, so whole ciphertext blocks of genuine pushes
can be dropped, repeated and spliced into pushes that decrypt correctly. The tests here build
such pushes from genuine ones and check what reaches the application's handler through
:class:`~govpost.carriers.webhooks.PushInbox`, against a real loopback EMS server whose
tracking confirms an event or not. Run with ``-s`` to see the refused/total counts.
"""

from __future__ import annotations

import base64
import contextlib
import json
import logging
import warnings
from collections.abc import Collection, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

import attrs
import pytest
from cryptography.hazmat.primitives import padding
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from hypothesis import given
from hypothesis import strategies as st

from govpost.carriers import Capability, PushMessage, load, pushes_authenticated
from govpost.carriers.ems import EmsCarrier, encode_envelope, parse_push
from govpost.carriers.ems.codes import UnknownOpCodeWarning
from govpost.carriers.sandbox import SandboxCarrier
from govpost.carriers.webhooks import (
    MAX_PUSH_BYTES,
    SIGNATURE_HEADER,
    TERMINAL_STATUSES,
    TIMESTAMP_HEADER,
    MemorySeenIds,
    PushInbox,
    WebhookVerifier,
    sign_request,
    signature,
)
from govpost.errors import CarrierError, GovpostError, ValidationError, WebhookVerificationError
from govpost.identifiers import TrackingNumber, s10_check_digit
from govpost.shipments import ShipmentStatus, TrackingEvent
from govpost.testing import (
    DEFAULT_SIGN_KEY,
    FakeEmsServer,
    Fault,
    push_body,
    sample_booking_request,
)
from tests.fuzzing import fuzz

SHANGHAI = ZoneInfo("Asia/Shanghai")
KEY = DEFAULT_SIGN_KEY
OTHER_KEY = "AAECAwQFBgcICQoLDA0ODw=="
#: The adapters' clock: a week after the scans below.
NOW = datetime(2024, 6, 10, 12, tzinfo=SHANGHAI)
PICKED_UP_AT = datetime(2024, 6, 3, 10, 12, 31, tzinfo=SHANGHAI)
DELIVERED_AT = datetime(2024, 6, 4, 14, 31, 47, tzinfo=SHANGHAI)
T0 = 1_717_380_000
JSON = {"Content-Type": "application/json"}

pytestmark = pytest.mark.filterwarnings("ignore::govpost.carriers.ems.codes.UnknownOpCodeWarning")


def waybill(serial: str) -> str:
    return f"EA{serial}{s10_check_digit(serial)}CN"


#: Only picked up (the forger wants it "delivered").
W1 = waybill("52000001")
#: Really delivered.
W2 = waybill("52000002")


@pytest.fixture
def server() -> Iterator[FakeEmsServer]:
    with FakeEmsServer() as fake:
        yield fake


@pytest.fixture
def ems(server: FakeEmsServer) -> Iterator[EmsCarrier]:
    carrier = load("ems", **server.carrier_config(clock=lambda: NOW))
    assert isinstance(carrier, EmsCarrier)
    with carrier:
        yield carrier


def scan_delivered(server: FakeEmsServer, number: str, at: datetime = DELIVERED_AT) -> Any:
    return server.scan(
        number,
        "704",
        at,
        office="52030201",
        office_name="遵义市邮政分公司红花岗揽投部",
        city="遵义市",
    )


def unrecorded(number: str, code: str = "704", at: datetime = DELIVERED_AT) -> Any:
    """A trace like a scan, but one the carrier's tracking never recorded."""
    return FakeEmsServer().scan(number, code, at, office="52030201", city="遵义市")


def genuine_pushes(server: FakeEmsServer) -> list[bytes]:
    """Two genuine pushes: W1 picked up, W2 delivered; both scans are in the server's tracking."""
    picked = server.scan(W1, "203", PICKED_UP_AT)
    delivered = scan_delivered(server, W2)
    return [
        push_body([picked], KEY, serial_no="SERIAL-W1", sent_at=PICKED_UP_AT),
        push_body([delivered], KEY, serial_no="SERIAL-W2", sent_at=DELIVERED_AT),
    ]


def blocks(body: bytes) -> tuple[dict[str, Any], list[bytes]]:
    fields = json.loads(body)
    sealed = base64.b64decode(fields["logitcsInterface"][len("|$4|") :])
    return fields, [sealed[i : i + 16] for i in range(0, len(sealed), 16)]


def reseal(fields: dict[str, Any], parts: list[bytes]) -> bytes:
    sealed = "|$4|" + base64.b64encode(b"".join(parts)).decode("ascii")
    return json.dumps({**fields, "logitcsInterface": sealed}).encode("utf-8")


def rearranged(pushes: list[bytes]) -> dict[str, list[bytes]]:
    """Every push with one block dropped, one block repeated, and every splice of two pushes."""
    variants: dict[str, list[bytes]] = {"dropped": [], "repeated": [], "spliced": []}
    for body in pushes:
        fields, parts = blocks(body)
        for i in range(len(parts)):
            variants["dropped"].append(reseal(fields, parts[:i] + parts[i + 1 :]))
            variants["repeated"].append(reseal(fields, parts[: i + 1] + parts[i:]))
    for a in pushes:
        for b in pushes:
            if a is b:
                continue
            fields, head = blocks(a)
            _, tail = blocks(b)
            for i in range(1, len(head)):
                for j in range(1, len(tail)):
                    variants["spliced"].append(reseal(fields, head[:i] + tail[j:]))
    return variants


def handled(inbox: PushInbox, body: bytes) -> tuple[TrackingEvent, ...] | None:
    """What the handler receives from one push, or ``None`` when the push is refused."""
    try:
        with inbox.receiving(body, JSON) as events:
            return events
    except WebhookVerificationError:
        return None
    except CarrierError:  # verified but malformed inside: never handed over
        return None


# --- EMS: block-rearranged pushes ----------------------------------------------------------------


def test_rearranged_blocks_forge_pushes_the_envelope_cannot_tell(server: FakeEmsServer) -> None:
    """The premise: some rearranged pushes decrypt to a "delivered" for a waybill never delivered."""
    forged = []
    for body in rearranged(genuine_pushes(server))["spliced"]:
        with contextlib.suppress(GovpostError):
            message = parse_push(body, JSON, KEY)
            forged += [
                e
                for e in message.events
                if str(e.tracking_number) == W1 and e.status is ShipmentStatus.DELIVERED
            ]
    assert len(forged) > 0


def test_no_unconfirmed_terminal_status_reaches_the_handler(
    server: FakeEmsServer, ems: EmsCarrier, caplog: pytest.LogCaptureFixture
) -> None:
    """Dropped, repeated or spliced blocks: only terminal events the tracking shows come out."""
    pushes = genuine_pushes(server)
    genuine_w2 = parse_push(pushes[1], JSON, KEY).events[0]
    total = refused = withheld = 0
    terminal_out: list[TrackingEvent] = []
    for kind, variants in rearranged(pushes).items():
        kind_refused = 0
        for body in variants:
            inbox = PushInbox(ems)
            events = handled(inbox, body)
            total += 1
            if events is None:
                kind_refused += 1
                continue
            withheld += inbox.withheld
            terminal_out += [e for e in events if e.status in TERMINAL_STATUSES or e.revokes]
        refused += kind_refused
        print(f"{kind}: refused {kind_refused}/{len(variants)}")
    print(f"rearranged EMS pushes: refused {refused}/{total}, terminal events withheld {withheld}")
    assert withheld > 0  # forged terminal statuses were decrypted, and stopped here
    # Every terminal status that came out is W2's genuine delivery, as the tracking shows it.
    assert terminal_out
    assert {e.event_id for e in terminal_out} == {genuine_w2.event_id}
    assert all(e == genuine_w2 for e in terminal_out)
    suspicions = [r for r in caplog.records if "suspected forgery" in r.getMessage()]
    assert suspicions
    assert {r.name for r in suspicions} == {"govpost.carriers"}
    assert {r.levelno for r in suspicions} == {logging.WARNING}


def test_a_confirmed_delivery_comes_out_and_forgeries_still_do_not(
    server: FakeEmsServer, ems: EmsCarrier
) -> None:
    """Once W1 is really delivered, its genuine push passes; spliced times still do not."""
    pushes = genuine_pushes(server)
    real = scan_delivered(server, W1, DELIVERED_AT + timedelta(hours=2))
    genuine = push_body([real], KEY, serial_no="SERIAL-W1-DELIVERED")
    assert [e.status for e in PushInbox(ems).receive(genuine, JSON)] == [ShipmentStatus.DELIVERED]
    confirmed_at = DELIVERED_AT + timedelta(hours=2)
    for body in rearranged(pushes)["spliced"]:
        events = handled(PushInbox(ems), body) or ()
        for event in events:
            if event.status in TERMINAL_STATUSES and str(event.tracking_number) == W1:
                assert event.occurred_at == confirmed_at  # the one the tracking shows


def test_tampered_ems_blocks_are_refused(server: FakeEmsServer) -> None:
    """Flipping one bit in any ciphertext block garbles it: the envelope check refuses it."""
    body = genuine_pushes(server)[1]
    fields, parts = blocks(body)
    variants = []
    for i, part in enumerate(parts):
        for bit in (0, 77, 127):
            flipped = bytearray(part)
            flipped[bit // 8] ^= 1 << (bit % 8)
            variants.append(reseal(fields, [*parts[:i], bytes(flipped), *parts[i + 1 :]]))
    refused = 0
    for variant in variants:
        with contextlib.suppress(WebhookVerificationError):
            parse_push(variant, JSON, KEY)
            continue
        refused += 1
    print(f"bit-flipped EMS pushes: refused {refused}/{len(variants)}")
    assert refused == len(variants)


def test_wrong_key_is_refused(server: FakeEmsServer, ems: EmsCarrier) -> None:
    trace = scan_delivered(server, W2)
    inbox = PushInbox(ems)
    with pytest.raises(WebhookVerificationError, match="does not decrypt under this signKey"):
        inbox.receive(push_body([trace], OTHER_KEY), JSON)
    assert inbox.receive(push_body([trace], KEY), JSON)[0].status is ShipmentStatus.DELIVERED


def test_confirmation_needs_the_same_event(server: FakeEmsServer, ems: EmsCarrier) -> None:
    """A terminal status at another time than the tracking shows is withheld, and kept aside."""
    scan_delivered(server, W2)
    moved = unrecorded(W2, at=DELIVERED_AT + timedelta(minutes=1))
    inbox = PushInbox(ems)
    assert inbox.receive(push_body([moved], KEY), JSON) == ()
    assert inbox.withheld == 1
    (kept,) = inbox.withheld_events
    assert kept.reason == "unconfirmed"
    assert kept.event.occurred_at == DELIVERED_AT + timedelta(minutes=1)
    assert "not among the 1 event(s)" in kept.detail


def test_a_confirmed_event_comes_out_once_as_the_carriers_copy(
    server: FakeEmsServer, ems: EmsCarrier
) -> None:
    """Pushed copies differing outside status and time give the tracked event, once."""
    genuine = scan_delivered(server, W2)
    tracked = ems.track(TrackingNumber.parse(W2))[0]
    variant = {**genuine, "opOrgCode": "52039999", "opOrgName": "伪造的局"}  # another event id
    inbox = PushInbox(ems)
    assert inbox.receive(push_body([variant, genuine], KEY), JSON) == (tracked,)
    another = {**genuine, "opOrgCode": "52038888"}
    assert inbox.receive(push_body([another], KEY), JSON) == ()  # its tracked copy was handled
    assert inbox.withheld == 0


def test_terminal_status_of_a_waybill_unknown_to_the_carrier_is_withheld(
    ems: EmsCarrier,
) -> None:
    trace = unrecorded(waybill("52000009"))  # a waybill the carrier does not know
    inbox = PushInbox(ems)
    assert inbox.receive(push_body([trace], KEY), JSON) == ()
    assert inbox.withheld_events[0].detail == "the carrier's tracking refused the query (B00404)"


def test_revocations_need_confirmation_too(server: FakeEmsServer, ems: EmsCarrier) -> None:
    """A forged "撤销投递" would undo a genuine delivery: it waits for the tracking as well."""
    scan_delivered(server, W2)
    revoke = server.scan(W2, "743", DELIVERED_AT + timedelta(hours=1))
    forged_revoke = unrecorded(W2, "743", DELIVERED_AT + timedelta(minutes=90))
    inbox = PushInbox(ems)
    assert inbox.receive(push_body([forged_revoke], KEY), JSON) == ()
    (event,) = inbox.receive(push_body([revoke], KEY), JSON)
    assert event.revokes is not None
    assert event.occurred_at == DELIVERED_AT + timedelta(hours=1)


def test_non_terminal_events_pass_without_a_query(server: FakeEmsServer, ems: EmsCarrier) -> None:
    picked = server.scan(W1, "203", PICKED_UP_AT)
    server.inject(Fault.SERVER_ERROR, times=10, api_code="040001")  # a query would fail
    (event,) = PushInbox(ems).receive(push_body([picked], KEY), JSON)
    assert event.status is ShipmentStatus.PICKED_UP
    assert [code for code, _ in server.calls] == []


def test_failed_confirmation_query_is_not_acknowledged(
    server: FakeEmsServer, ems: EmsCarrier
) -> None:
    """Tracking unreachable: the push is not acknowledged (503); the redelivery gets through."""
    body = genuine_pushes(server)[1]
    inbox = PushInbox(ems)
    server.inject(Fault.SERVER_ERROR, times=3, api_code="040001")  # the first try and 2 retries
    with pytest.raises(CarrierError) as info:
        inbox.receive(body, JSON)
    assert info.value.retryable
    assert inbox.withheld == 0
    (event,) = inbox.receive(body, JSON)
    assert (str(event.tracking_number), event.status) == (W2, ShipmentStatus.DELIVERED)


def test_unauthenticated_serial_no_never_hides_events(
    server: FakeEmsServer, ems: EmsCarrier
) -> None:
    """A replayed serialNo with other blocks must not make new events look already seen."""
    picked = server.scan(W1, "203", PICKED_UP_AT)
    transit = server.scan(W1, "389", PICKED_UP_AT + timedelta(hours=6))
    inbox = PushInbox(ems)
    assert len(inbox.receive(push_body([picked], KEY, serial_no="SAME"), JSON)) == 1
    (event,) = inbox.receive(push_body([transit], KEY, serial_no="SAME"), JSON)
    assert event.carrier_code == "389"
    # A replay with a fresh serialNo brings nothing new either: events are deduplicated by id.
    assert inbox.receive(push_body([picked, transit], KEY, serial_no="NEW"), JSON) == ()


def test_a_terminal_status_at_the_time_of_another_tracked_event_is_withheld(
    server: FakeEmsServer, ems: EmsCarrier
) -> None:
    """Same waybill and time, another status: not the same event, whatever was handled."""
    picked = server.scan(W1, "203", PICKED_UP_AT)
    inbox = PushInbox(ems)
    assert len(inbox.receive(push_body([picked], KEY), JSON)) == 1
    forged = unrecorded(W1, "704", PICKED_UP_AT)
    assert inbox.receive(push_body([forged], KEY), JSON) == ()
    assert [(w.reason, w.event.status) for w in inbox.withheld_events] == [
        ("unconfirmed", ShipmentStatus.DELIVERED)
    ]


def test_a_forged_return_cannot_turn_a_genuine_delivery_into_a_return(
    server: FakeEmsServer, ems: EmsCarrier
) -> None:
    """Regression: RETURNING passed unconfirmed, and a shipment on its way back reads the next
    delivery scan as RETURNED: a forged 退回登记 before a genuine 已妥投 made it "returned"."""
    picked = server.scan(W1, "203", PICKED_UP_AT)
    delivered = scan_delivered(server, W1)
    forged = unrecorded(W1, "708", DELIVERED_AT - timedelta(hours=3))
    inbox = PushInbox(ems)
    received = [
        event
        for trace in (picked, forged, delivered)
        for event in inbox.receive(push_body([trace], KEY), JSON)
    ]
    assert [e.carrier_code for e in received] == ["203", "704"]
    assert [(w.reason, w.event.carrier_code) for w in inbox.withheld_events] == [
        ("unconfirmed", "708")
    ]
    shipment = booked(W1).apply(*received)
    assert shipment.status is ShipmentStatus.DELIVERED
    # A genuine return, which the tracking shows, still comes out.
    returning = server.scan(W2, "708", DELIVERED_AT)
    (event,) = inbox.receive(push_body([returning], KEY), JSON)
    assert event.status is ShipmentStatus.RETURNING


def booked(number: str) -> Any:
    shipment = sample_booking_request("GZ-PUSH").shipment
    return attrs.evolve(
        shipment,
        tracking_number=TrackingNumber.parse(number),
        created_at=PICKED_UP_AT - timedelta(days=1),
    )


class Claims:
    """Any adapter that pushes and tracks: its pushes carry ``pushed``, its tracking answers
    ``tracked`` as the carrier sent it (ids are the carrier's own, opaque)."""

    name = "claims"
    capabilities = frozenset({Capability.PUSH, Capability.TRACK})
    clock = staticmethod(lambda: NOW)

    def __init__(self, *, authenticated: bool = False) -> None:
        self.pushes_authenticated = authenticated
        self.pushed = PushMessage(message_id=None, events=())
        self.tracked: list[TrackingEvent] = []
        self.queries = 0

    def push(self, *events: TrackingEvent, message_id: str | None = None) -> None:
        self.pushed = PushMessage(message_id=message_id, events=events)

    def parse_push(self, body: bytes, headers: Any) -> PushMessage:
        return self.pushed

    def track(self, tracking_number: TrackingNumber) -> tuple[TrackingEvent, ...]:
        self.queries += 1
        return tuple(self.tracked)


def claim(event_id: str, status: str, at: datetime, number: str = W1, **more: Any) -> TrackingEvent:
    return TrackingEvent(
        event_id=event_id, tracking_number=number, status=status, occurred_at=at, **more
    )


def test_a_tracked_event_of_another_waybill_confirms_nothing() -> None:
    """The carrier's tracking answer listing another waybill's delivery at the same moment."""
    carrier = Claims()
    carrier.tracked = [claim("d2", "delivered", DELIVERED_AT, number=W2)]
    carrier.push(claim("d1", "delivered", DELIVERED_AT))
    inbox = PushInbox(carrier)  # type: ignore[arg-type]
    assert inbox.receive(b"", {}) == ()
    assert inbox.withheld == 1


def test_a_carriers_correction_of_a_handled_event_comes_out_again() -> None:
    """Regression: the inbox remembered ids only, so a signed correction re-sent under the
    same id was dropped as already handled instead of reaching Shipment.apply."""
    carrier = Claims(authenticated=True)
    failed = claim("e2", "delivery_failed", DELIVERED_AT, carrier_code="705")
    corrected = attrs.evolve(failed, status=ShipmentStatus.DELIVERED, carrier_code="704")
    inbox = PushInbox(carrier)  # type: ignore[arg-type]
    picked = claim("e1", "picked_up", PICKED_UP_AT)
    carrier.push(picked, failed, message_id="m1")
    assert inbox.receive(b"", {}) == (picked, failed)
    carrier.push(picked, failed, corrected, message_id="m2")  # the history, then its correction
    assert inbox.receive(b"", {}) == (corrected,)
    carrier.push(picked, corrected, message_id="m3")
    assert inbox.receive(b"", {}) == ()
    shipment = booked(W1).apply(picked, failed).apply(corrected)
    assert (shipment.status, shipment.superseded) == (ShipmentStatus.DELIVERED, (failed,))
    assert carrier.queries == 0


def test_a_forged_correction_of_a_confirmed_delivery_is_withheld() -> None:
    """A delivery confirmed and handled, then "corrected" to a scan on the way: the tracking
    still shows the delivery, so nothing comes out, and a redelivery is checked again."""
    carrier = Claims()
    delivered = claim("e9", "delivered", DELIVERED_AT)
    carrier.tracked = [delivered]
    inbox = PushInbox(carrier)  # type: ignore[arg-type]
    carrier.push(delivered)
    assert inbox.receive(b"", {}) == (delivered,)
    carrier.push(attrs.evolve(delivered, status=ShipmentStatus.IN_TRANSIT))
    assert inbox.receive(b"", {}) == ()
    assert inbox.receive(b"", {}) == ()
    assert [w.reason for w in inbox.withheld_events] == ["unconfirmed", "unconfirmed"]
    assert carrier.queries == 3
    # A genuine correction, once the tracking shows it, comes out.
    carrier.tracked = [attrs.evolve(delivered, location="遵义市红花岗区")]
    carrier.push(carrier.tracked[0])
    assert inbox.receive(b"", {}) == (carrier.tracked[0],)


def test_a_forged_event_under_a_future_id_cannot_hide_the_genuine_one() -> None:
    """Regression: a forged scan on the way, under the id the carrier later gives its
    delivery, was remembered by id; the genuine delivery then came out as already handled."""
    carrier = Claims()
    inbox = PushInbox(carrier)  # type: ignore[arg-type]
    forged = claim("e7", "in_transit", DELIVERED_AT - timedelta(hours=2))
    carrier.push(forged)
    assert inbox.receive(b"", {}) == (forged,)
    delivered = claim("e7", "delivered", DELIVERED_AT)
    carrier.tracked = [delivered]
    carrier.push(delivered)
    assert inbox.receive(b"", {}) == (delivered,)
    picked = claim("e1", "picked_up", PICKED_UP_AT)
    shipment = booked(W1).apply(picked, forged).apply(delivered)
    assert (shipment.status, shipment.superseded) == (ShipmentStatus.DELIVERED, (forged,))


@pytest.mark.parametrize("forged_first", [True, False])
def test_a_pushed_event_cannot_shadow_the_tracked_copy_of_its_id(forged_first: bool) -> None:
    """One push: a forged scan under the id of the carrier's delivery, and a delivery claim
    the tracking confirms as that event. Regression: listed after the claim, the forged scan
    came out instead of the carrier's delivery, and the delivery was remembered as handled."""
    carrier = Claims()
    delivered = claim("e5", "delivered", DELIVERED_AT)
    carrier.tracked = [delivered]
    forged = claim("e5", "in_transit", DELIVERED_AT - timedelta(hours=1))
    other_id = claim("f5", "delivered", DELIVERED_AT)
    carrier.push(*((forged, other_id) if forged_first else (other_id, forged)))
    inbox = PushInbox(carrier)  # type: ignore[arg-type]
    assert inbox.receive(b"", {}) == (delivered,)
    carrier.push(delivered)
    assert inbox.receive(b"", {}) == ()


def test_an_authenticated_message_with_a_withheld_event_is_delivered_again() -> None:
    """With confirmation forced, a message whose event was withheld is not remembered as a
    whole: its redelivery, once the tracking caught up, brings the event."""
    carrier = Claims(authenticated=True)
    delivered = claim("e3", "delivered", DELIVERED_AT)
    carrier.push(delivered, message_id="m1")
    inbox = PushInbox(carrier, confirm_terminal=True)  # type: ignore[arg-type]
    assert inbox.receive(b"", {}) == ()
    carrier.tracked = [delivered]
    assert inbox.receive(b"", {}) == (delivered,)
    assert inbox.receive(b"", {}) == ()


# --- replayed, stale, future ---------------------------------------------------------------------


def test_stale_and_future_events_are_withheld(
    server: FakeEmsServer, ems: EmsCarrier, caplog: pytest.LogCaptureFixture
) -> None:
    old = server.scan(W1, "203", NOW - timedelta(days=31))
    recent = server.scan(W1, "389", NOW - timedelta(days=29))
    ahead = server.scan(W1, "954", NOW + timedelta(hours=2))
    inbox = PushInbox(ems)
    events = inbox.receive(push_body([old, recent, ahead], KEY), JSON)
    assert [e.carrier_code for e in events] == ["389"]
    assert [(w.reason, w.event.carrier_code) for w in inbox.withheld_events] == [
        ("stale", "203"),
        ("ahead", "954"),
    ]
    assert "older than max_age=30 days" in caplog.text
    wide = PushInbox(ems, max_age=timedelta(days=60), max_ahead=timedelta(hours=3))
    assert [e.carrier_code for e in wide.receive(push_body([old, ahead], KEY), JSON)] == [
        "203",
        "954",
    ]
    assert len(PushInbox(ems, max_age=None).receive(push_body([old], KEY), JSON)) == 1


def test_the_window_uses_the_carriers_clock_unless_given_one(ems: EmsCarrier) -> None:
    trace = unrecorded(W2)
    late = PushInbox(ems, confirm_terminal=False, clock=lambda: NOW + timedelta(days=40))
    assert late.receive(push_body([trace], KEY), JSON) == ()
    assert late.withheld_events[0].reason == "stale"
    assert len(PushInbox(ems, confirm_terminal=False).receive(push_body([trace], KEY), JSON)) == 1
    with pytest.raises(ValidationError, match="timezone-aware"):
        PushInbox(ems, clock=lambda: datetime(2024, 6, 10)).receive(push_body([trace], KEY), JSON)


def test_replayed_sandbox_push_is_refused_outside_the_window_and_empty_inside() -> None:
    now = [datetime(2024, 6, 30, tzinfo=UTC)]
    sandbox = SandboxCarrier(seed=4, clock=lambda: now[0])
    booking = sandbox.book(sample_booking_request("GZ-REPLAY"))
    body, headers = sandbox.push(booking.tracking_number)
    inbox = PushInbox(sandbox)
    assert len(inbox.receive(body, headers)) > 0
    assert inbox.receive(body, headers) == ()  # replayed within 5 minutes: nothing new
    now[0] += timedelta(minutes=6)
    with pytest.raises(WebhookVerificationError, match="outside the replay window"):
        inbox.receive(body, headers)


# --- HMAC: tampered, wrong secret, rotation ------------------------------------------------------


def sandbox_push(**kwargs: Any) -> tuple[SandboxCarrier, bytes, dict[str, str]]:
    sandbox = SandboxCarrier(seed=8, clock=lambda: datetime(2024, 6, 30, tzinfo=UTC), **kwargs)
    booking = sandbox.book(sample_booking_request("GZ-HMAC"))
    body, headers = sandbox.push(booking.tracking_number)
    return sandbox, body, headers


def test_every_tampered_byte_of_a_signed_push_is_refused() -> None:
    sandbox, body, headers = sandbox_push()
    refused = 0
    for i in range(len(body)):
        tampered = bytearray(body)
        tampered[i] ^= 0x01
        with contextlib.suppress(WebhookVerificationError):
            sandbox.parse_push(bytes(tampered), headers)
            continue
        refused += 1
    print(f"tampered sandbox pushes: refused {refused}/{len(body)}")
    assert refused == len(body)


def test_wrong_secret_is_refused() -> None:
    sandbox, body, _ = sandbox_push()
    forged = sign_request("guessed", body, timestamp=int(sandbox.clock().timestamp()))
    with pytest.raises(WebhookVerificationError, match="under any of the 1 secret"):
        sandbox.parse_push(body, forged)


def test_rotated_secrets_are_accepted_during_the_rotation_only() -> None:
    body = b'{"events": []}'
    old, new = sign_request("old", body, timestamp=T0), sign_request("new", body, timestamp=T0)
    rotating = WebhookVerifier(["new", "old"], clock=lambda: T0)
    rotating.verify(body, old)
    rotating.verify(body, new)
    rotating.verify(body, sign_request(["new", "old"], body, timestamp=T0))
    done = WebhookVerifier("new", clock=lambda: T0)
    done.verify(body, sign_request(["new", "old"], body, timestamp=T0))
    with pytest.raises(WebhookVerificationError, match="does not match"):
        done.verify(body, old)
    with pytest.raises(WebhookVerificationError):
        WebhookVerifier([b"other", "third"], clock=lambda: T0).verify(body, new)


@pytest.mark.parametrize("separator", [",", ", ", " ", "\t", " , "])
def test_several_signatures_in_one_header(separator: str) -> None:
    body = b"{}"
    good = signature("s3cret", T0, body)
    bad = signature("other", T0, body)
    verifier = WebhookVerifier("s3cret", clock=lambda: T0)
    for value in (bad + separator + good, good + separator + bad, f"v0=abc{separator}{good}"):
        verifier.verify(body, {TIMESTAMP_HEADER: str(T0), SIGNATURE_HEADER: value})
    with pytest.raises(WebhookVerificationError, match="does not match"):
        verifier.verify(body, {TIMESTAMP_HEADER: str(T0), SIGNATURE_HEADER: bad + separator + bad})


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("v0=abc", "holds no 'v1=' signature"),
        ("", "holds no 'v1=' signature"),
        ("v1=" + "0" * 5000, "characters long"),
    ],
)
def test_malformed_signature_headers_are_refused(value: str, message: str) -> None:
    with pytest.raises(WebhookVerificationError, match=message):
        WebhookVerifier("s3cret", clock=lambda: T0).verify(
            b"{}", {TIMESTAMP_HEADER: str(T0), SIGNATURE_HEADER: value}
        )


def test_sandbox_takes_several_secrets_and_signs_with_the_first() -> None:
    sandbox, body, headers = sandbox_push(webhook_secret=["new", "old"])
    assert headers[SIGNATURE_HEADER] == signature("new", int(headers[TIMESTAMP_HEADER]), body)
    stamp = int(headers[TIMESTAMP_HEADER])
    assert sandbox.parse_push(body, sign_request("old", body, timestamp=stamp)).events
    with pytest.raises(ValidationError):
        SandboxCarrier(webhook_secret=[])


@pytest.mark.parametrize("secret", [[], [""], ["ok", b""], [None], ("ok", 3)])
def test_every_secret_must_be_non_empty_text_or_bytes(secret: Any) -> None:
    with pytest.raises(ValidationError):
        WebhookVerifier(secret)


# --- oversized -----------------------------------------------------------------------------------


def test_oversized_pushes_are_refused_before_reading(server: FakeEmsServer) -> None:
    """Above the limit, the message is about the size: nothing was parsed or decrypted."""
    huge = b"{" + b" " * MAX_PUSH_BYTES + b"}"
    with pytest.raises(WebhookVerificationError, match="above the limit of 1,048,576"):
        parse_push(huge, JSON, KEY)
    body = genuine_pushes(server)[1]
    with pytest.raises(WebhookVerificationError, match="above the limit of 100"):
        parse_push(body, JSON, KEY, max_body=100)
    assert len(parse_push(body, JSON, KEY, max_body=len(body)).events) == 1
    ems = EmsCarrier(sender_no="1", authorization="a", sign_key=KEY)
    ems.max_push_bytes = 100
    with pytest.raises(WebhookVerificationError, match="above the limit of 100"):
        ems.parse_push(body, JSON)
    sandbox, signed, headers = sandbox_push(max_push_bytes=100)
    with pytest.raises(WebhookVerificationError, match="above the limit of 100"):
        sandbox.parse_push(signed, headers)
    with pytest.raises(WebhookVerificationError, match="above the limit"):
        WebhookVerifier("s3cret").verify(huge, {})
    inbox = PushInbox(sandbox_push()[0], max_body=100)
    with pytest.raises(WebhookVerificationError, match="above the limit of 100"):
        inbox.receive(signed, headers)


# --- at least once -------------------------------------------------------------------------------


class Failed(Exception):
    """The application's handler failed (its database was down, say)."""


def failing_handler(inbox: PushInbox, body: bytes, headers: dict[str, str]) -> Any:
    """Handle a push inside ``receiving`` and fail; return the events it was given."""
    given: list[tuple[TrackingEvent, ...]] = []

    def handle() -> None:
        with inbox.receiving(body, headers) as events:
            given.append(events)
            raise Failed

    with pytest.raises(Failed):
        handle()
    return given[0]


def test_failed_handler_gets_the_same_events_again() -> None:
    sandbox, body, headers = sandbox_push()
    inbox = PushInbox(sandbox)
    first = failing_handler(inbox, body, headers)
    with inbox.receiving(body, headers) as again:
        assert again == first
        assert len(again) > 0
    with inbox.receiving(body, headers) as third:
        assert third == ()


def test_failed_handler_of_a_confirmed_ems_push_gets_it_again(
    server: FakeEmsServer, ems: EmsCarrier
) -> None:
    body = genuine_pushes(server)[1]
    inbox = PushInbox(ems)
    events = failing_handler(inbox, body, JSON)
    assert [e.status for e in events] == [ShipmentStatus.DELIVERED]
    assert [e.status for e in inbox.receive(body, JSON)] == [ShipmentStatus.DELIVERED]
    assert inbox.receive(body, JSON) == ()


def test_withheld_events_are_checked_again_on_redelivery(
    server: FakeEmsServer, ems: EmsCarrier
) -> None:
    """The tracking lagged behind the push: the redelivery after it caught up gets through."""
    body = push_body([unrecorded(W2)], KEY)
    inbox = PushInbox(ems)
    assert inbox.receive(body, JSON) == ()
    scan_delivered(server, W2)
    assert [e.status for e in inbox.receive(body, JSON)] == [ShipmentStatus.DELIVERED]
    assert inbox.withheld == 1


def test_interleaved_deliveries_lose_nothing() -> None:
    """Another push handled while this one's handler runs, which then fails: what the other
    handled is remembered, and this one's redelivery brings exactly the rest."""
    carrier = Claims(authenticated=True)
    picked, transit, out = (
        claim(f"i{n}", status, PICKED_UP_AT + timedelta(hours=n))
        for n, status in enumerate(("picked_up", "in_transit", "out_for_delivery"), 1)
    )
    inbox = PushInbox(carrier)  # type: ignore[arg-type]
    carrier.push(picked, transit, message_id="a")

    def handle() -> None:
        with inbox.receiving(b"", {}) as first:
            assert first == (picked, transit)
            carrier.push(transit, out, message_id="b")
            assert inbox.receive(b"", {}) == (transit, out)
            raise Failed

    with pytest.raises(Failed):
        handle()
    carrier.push(picked, transit, message_id="a")
    assert inbox.receive(b"", {}) == (picked,)
    assert inbox.receive(b"", {}) == ()


class RecordingSeenIds:
    """A SeenIds that records what it is asked: stands in for the store."""

    def __init__(self) -> None:
        self.keys: set[str] = set()
        self.remembered: list[list[str]] = []

    def seen(self, keys: Collection[str]) -> Collection[str]:
        return [key for key in keys if key in self.keys]

    def remember(self, keys: Collection[str]) -> None:
        self.remembered.append(sorted(keys))
        self.keys.update(keys)


def test_seen_ids_are_pluggable_and_written_only_after_handling() -> None:
    sandbox, body, headers = sandbox_push()
    seen = RecordingSeenIds()
    inbox = PushInbox(sandbox, seen=seen)
    assert len(failing_handler(inbox, body, headers)) > 0
    assert seen.remembered == []
    events = inbox.receive(body, headers)
    message_id = json.loads(body)["message_id"]
    (remembered,) = seen.remembered
    # One key per message, and one per version of each event (its id and a content digest).
    assert f"message:sandbox:{message_id}" in remembered
    versions = [key for key in remembered if not key.startswith("message:")]
    assert sorted(key.rsplit("#", 1)[0] for key in versions) == sorted(
        f"event:sandbox:{e.event_id}" for e in events
    )


def test_memory_seen_ids_are_bounded() -> None:
    memory = MemorySeenIds(capacity=3)
    memory.remember(["a", "b"])
    memory.remember(["c", "d"])
    assert sorted(memory.seen(["a", "b", "c", "d"])) == ["b", "c", "d"]
    memory.remember(["b"])  # remembered again: the newest now
    memory.remember(["e"])
    assert sorted(memory.seen(["b", "c", "d", "e"])) == ["b", "d", "e"]
    with pytest.raises(ValidationError):
        MemorySeenIds(capacity=0)


# --- declarations ----------------------------------------------------------------------------------


class PushOnly:
    """A third-party adapter that pushes but cannot track and declares nothing about it."""

    name = "push-only"
    capabilities = frozenset({Capability.PUSH})

    def parse_push(self, body: bytes, headers: Any) -> PushMessage:
        return PushMessage(message_id=None, events=())


def test_which_carriers_need_confirmation(ems: EmsCarrier) -> None:
    assert (pushes_authenticated(ems), PushInbox(ems).confirms_terminal) == (False, True)
    sandbox = SandboxCarrier()
    assert (pushes_authenticated(sandbox), PushInbox(sandbox).confirms_terminal) == (True, False)
    assert PushInbox(sandbox, confirm_terminal=True).confirms_terminal
    assert not PushInbox(ems, confirm_terminal=False).confirms_terminal
    with pytest.raises(ValidationError, match=r"not authenticated .* does not declare the TRACK"):
        PushInbox(PushOnly())  # type: ignore[arg-type]
    assert not PushInbox(PushOnly(), confirm_terminal=False).confirms_terminal  # type: ignore[arg-type]
    authenticated = PushOnly()
    authenticated.pushes_authenticated = True  # type: ignore[attr-defined]
    with pytest.raises(ValidationError, match="confirm_terminal=True"):
        PushInbox(authenticated, confirm_terminal=True)  # type: ignore[arg-type]


@pytest.mark.parametrize("value", [1, "yes", None])
def test_only_true_declares_authenticated_pushes(value: Any) -> None:
    carrier = PushOnly()
    carrier.pushes_authenticated = value  # type: ignore[attr-defined]
    assert not pushes_authenticated(carrier)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"max_age": timedelta(days=-1)}, "max_age"),
        ({"max_age": 30}, "max_age"),
        ({"max_ahead": None}, "max_ahead"),
        ({"max_body": 0}, "max_body"),
        ({"confirm_terminal": "yes"}, "confirm_terminal"),
    ],
)
def test_inbox_settings_are_checked(kwargs: dict[str, Any], message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        PushInbox(SandboxCarrier(), **kwargs)


# --- regressions found by fuzzing ----------------------------------------------------------------

DEEP = "[" * 5000 + "]" * 5000


def test_deeply_nested_json_in_an_ems_push_is_refused() -> None:
    for body in (
        json.dumps({"logitcsInterface": encode_envelope(DEEP, KEY)}).encode(),
        ('{"a":' * 5000 + "1" + "}" * 5000).encode(),
        DEEP.encode(),
    ):
        with pytest.raises(WebhookVerificationError, match="deep"):
            parse_push(body, JSON, KEY)


def test_deeply_nested_json_in_a_sandbox_push_is_refused() -> None:
    sandbox, _, _ = sandbox_push()
    body = DEEP.encode()
    headers = sign_request(
        "sandbox-webhook-secret", body, timestamp=int(sandbox.clock().timestamp())
    )
    with pytest.raises(WebhookVerificationError, match="5000 deep"):
        sandbox.parse_push(body, headers)


@pytest.mark.parametrize(
    "stamp", ["²", "1717380000²", "١٧١٧٣٨٠٠٠٠", "１７１７３８００００", "-1", " 1"]
)
def test_timestamps_of_non_ascii_digits_are_refused(stamp: str) -> None:
    headers = {TIMESTAMP_HEADER: stamp, SIGNATURE_HEADER: signature("s3cret", T0, b"{}")}
    with pytest.raises(WebhookVerificationError, match="is not Unix seconds"):
        WebhookVerifier("s3cret", clock=lambda: T0).verify(b"{}", headers)


# --- fuzzing: only GovpostError escapes ----------------------------------------------------------


def sealed(plain: bytes) -> str:
    """``plain`` encrypted under KEY as EMS does, whatever it holds (not only JSON + key)."""
    padder = padding.PKCS7(algorithms.SM4.block_size).padder()
    data = padder.update(plain) + padder.finalize()
    encryptor = Cipher(algorithms.SM4(base64.b64decode(KEY)), modes.ECB()).encryptor()
    return "|$4|" + base64.b64encode(encryptor.update(data) + encryptor.finalize()).decode()


json_leaves = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False)
    | st.text(max_size=30)
    | st.sampled_from(["2024-06-04 14:31:47", "٢٠٢٤-٠٦-٠٤ 14:31:47", "²", W1, "704", "743"])
)
json_values = st.recursive(
    json_leaves,
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner, max_size=4)
    ),
    max_leaves=12,
)
GENUINE_TRACE: dict[str, Any] = {
    "waybillNo": W2,
    "opTime": "2024-06-04 14:31:47",
    "opCode": "704",
    "opName": "已妥投",
    "opDesc": "已签收，本人签收 13800138000",
    "opOrgProvName": "贵州省",
    "opOrgCity": "遵义市",
    "opOrgCode": "52030201",
    "opOrgName": "遵义市邮政分公司红花岗揽投部",
}
junk = json_leaves | st.sampled_from(
    [
        "EA52000001²CN",
        "ea520000025cn",
        " EA520000025CN ",
        "٧٠٤",
        "2024-02-30 00:00:00",
        "2024-06-04T14:31:47+99:00",
        "２０２４-06-04 14:31:47",
        "\x00",
        "\u202e704",
        "x" * 700,
        "1" * 5000,
    ]
)
#: Genuine traces with up to three fields replaced by junk or removed: deep into the reader.
traces = st.builds(
    lambda changes, removed: {
        k: v for k, v in {**GENUINE_TRACE, **changes}.items() if k not in removed
    },
    st.dictionaries(st.sampled_from([*GENUINE_TRACE, "traces", "responseItems"]), junk, max_size=3),
    st.sets(st.sampled_from(list(GENUINE_TRACE)), max_size=2),
)
deep_texts = st.builds(
    lambda n, kind: ("[" * n + "]" * n) if kind else ('{"a":' * n + "1" + "}" * n),
    st.integers(min_value=1, max_value=3000),
    st.booleans(),
)
plaintexts = st.one_of(
    st.binary(max_size=300),
    st.builds(lambda t: (t + KEY).encode("utf-8", "surrogatepass"), st.text(max_size=200)),
    st.builds(lambda v: (json.dumps(v) + KEY).encode(), json_values),
    st.builds(
        lambda v: (json.dumps(v, ensure_ascii=False) + KEY).encode(), st.lists(traces, max_size=3)
    ),
    st.builds(lambda v: (json.dumps(v) + KEY).encode(), traces),
    st.builds(lambda v: (json.dumps({"traces": v}) + KEY).encode(), st.lists(traces, max_size=3)),
    st.builds(lambda d: (d + KEY).encode(), deep_texts),
)
envelope_fields = st.fixed_dictionaries(
    {"logitcsInterface": plaintexts.map(sealed)},
    optional={
        "serialNo": json_leaves,
        "method": st.sampled_from(["040002", "040002", "040002", "040001"]) | json_leaves,
        "timeStamp": json_leaves,
    },
)
headers_strategy = st.dictionaries(
    st.sampled_from(["Content-Type", "content-type", TIMESTAMP_HEADER, SIGNATURE_HEADER, "X"])
    | st.text(max_size=20),
    st.sampled_from(["application/json", "application/x-www-form-urlencoded", "v1=", "²"])
    | st.text(max_size=80),
    max_size=4,
)


def ems_bodies() -> st.SearchStrategy[bytes]:
    as_json = envelope_fields.map(lambda f: json.dumps(f).encode())
    as_form = envelope_fields.map(
        lambda f: urlencode({k: v if isinstance(v, str) else json.dumps(v) for k, v in f.items()})
    ).map(str.encode)
    return st.one_of(
        st.binary(max_size=400),
        st.builds(lambda v: json.dumps(v).encode(), json_values),
        st.text(max_size=300).map(lambda t: t.encode("utf-8", "surrogatepass")),
        as_json,
        as_form,
        deep_texts.map(str.encode),
    )


def only_govpost_errors(call: Any, *args: Any) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UnknownOpCodeWarning)
        with contextlib.suppress(GovpostError):
            call(*args)


FUZZ_EMS = EmsCarrier(sender_no="1", authorization="a", sign_key=KEY, clock=lambda: NOW)


@fuzz
@given(ems_bodies(), headers_strategy)
def test_fuzz_ems_parse_push(body: bytes, headers: dict[str, str]) -> None:
    """Random bytes, form and JSON bodies, envelopes under our key holding anything: only
    GovpostError escapes, from the functional parser and the adapter alike."""
    only_govpost_errors(parse_push, body, headers, KEY)
    only_govpost_errors(FUZZ_EMS.parse_push, body, headers)


@fuzz
@given(ems_bodies(), headers_strategy)
def test_fuzz_inbox_over_ems_pushes(body: bytes, headers: dict[str, str]) -> None:
    """Whatever a push decrypts to, the inbox's checks raise only GovpostError."""
    inbox = PushInbox(FUZZ_EMS, confirm_terminal=False, max_age=timedelta(days=400))
    only_govpost_errors(inbox.receive, body, headers)


FUZZ_SANDBOX = SandboxCarrier(seed=1, clock=lambda: datetime.fromtimestamp(T0, UTC))
GENUINE_EVENT: dict[str, Any] = {
    "event_id": f"sandbox:{W1}:704:20240604143147",
    "tracking_number": W1,
    "status": "delivered",
    "occurred_at": "2024-06-04T14:31:47+08:00",
    "location": "遵义市邮政投递部",
    "carrier_code": "704",
    "description": "已签收",
    "revokes": None,
}
#: Genuine sandbox events with up to three fields replaced by junk.
sandbox_events = st.builds(
    lambda changes: {**GENUINE_EVENT, **changes},
    st.dictionaries(
        st.sampled_from(list(GENUINE_EVENT)),
        junk | st.sampled_from(["2024-06-04T14:31:47", "2024-06-04", "previous"]),
        max_size=3,
    ),
)
sandbox_pushes = st.fixed_dictionaries(
    {
        "message_id": st.text(max_size=20),
        "events": st.lists(sandbox_events, max_size=3) | json_values,
    }
)
sandbox_documents = st.one_of(json_values, sandbox_pushes, sandbox_pushes, sandbox_pushes)
sandbox_bodies = st.one_of(
    sandbox_documents.map(lambda d: json.dumps(d).encode()),
    st.binary(max_size=300),
    deep_texts.map(str.encode),
)


@fuzz
@given(sandbox_bodies, headers_strategy, st.booleans())
def test_fuzz_sandbox_parse_push(body: bytes, extra: dict[str, str], signed: bool) -> None:
    """Random bodies, correctly signed or not, with random headers: only GovpostError escapes."""
    headers = dict(extra)
    if signed:
        headers.update(sign_request("sandbox-webhook-secret", body, timestamp=T0))
    only_govpost_errors(FUZZ_SANDBOX.parse_push, body, headers)
    only_govpost_errors(PushInbox(FUZZ_SANDBOX).receive, body, headers)


@fuzz
@given(
    st.binary(max_size=100),
    headers_strategy,
    st.text(max_size=14) | st.integers(min_value=-(10**13), max_value=10**13).map(str),
    st.lists(st.sampled_from(["s3cret", "v1=", "v1=" + "0" * 64, ",", " ", "v1=签"]), max_size=4),
)
def test_fuzz_webhook_verifier(
    body: bytes, headers: dict[str, str], stamp: str, parts: list[str]
) -> None:
    """Random headers and timestamps: the verifier answers with WebhookVerificationError only."""
    verifier = WebhookVerifier(["s3cret", b"old"], clock=lambda: T0)
    for candidate in (
        headers,
        {**headers, TIMESTAMP_HEADER: stamp, SIGNATURE_HEADER: "".join(parts)},
        {TIMESTAMP_HEADER: stamp, SIGNATURE_HEADER: signature("s3cret", T0, body)},
    ):
        with contextlib.suppress(WebhookVerificationError):
            verifier.verify(body, candidate)


def test_fuzz_strategies_reach_the_deep_and_the_valid() -> None:
    """The fuzz inputs include genuine pushes: a sealed trace reads as events."""
    trace = unrecorded(W2)
    body = json.dumps({"logitcsInterface": sealed((json.dumps(trace) + KEY).encode())}).encode()
    assert parse_push(body, JSON, KEY).events[0].tracking_number == TrackingNumber.parse(W2)


@pytest.mark.parametrize("carrier", [None, "ems", object()])
def test_an_inbox_needs_a_carrier_that_declares_pushes(carrier: object) -> None:
    with pytest.raises(
        ValidationError, match=r"needs a carrier adapter with pushes \(parse_push\)"
    ):
        PushInbox(carrier)  # type: ignore[arg-type]
