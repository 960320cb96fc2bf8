"""Pushed tracking: HMAC verification, replay window, duplicates, and shipments left untouched."""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from govpost.carriers import Capability, PushMessage
from govpost.carriers.ems import EmsCarrier, parse_track
from govpost.carriers.sandbox import SandboxCarrier
from govpost.carriers.webhooks import (
    SIGNATURE_HEADER,
    TIMESTAMP_HEADER,
    MemorySeenIds,
    PushInbox,
    WebhookVerifier,
    sign_request,
)
from govpost.errors import ValidationError, WebhookVerificationError
from govpost.identifiers import TrackingNumber
from govpost.shipments import Shipment, ShipmentStatus
from govpost.testing import DEFAULT_SIGN_KEY, push_body, sample_booking_request

DATA = Path(__file__).parent / "data" / "ems"
T0 = 1_717_380_000
#: A week after the recorded EMS traces (3–4 June 2024): inside the inbox's age window.
NOW = datetime(2024, 6, 10, tzinfo=UTC)
BODY = b'{"events": []}'


def verifier(now: float = T0 + 10, **kwargs: Any) -> WebhookVerifier:
    return WebhookVerifier("s3cret", clock=lambda: now, **kwargs)


# --- HMAC ----------------------------------------------------------------------------------------


def test_signed_request_is_accepted() -> None:
    verifier().verify(BODY, sign_request("s3cret", BODY, timestamp=T0))


def test_headers_are_case_insensitive() -> None:
    headers = {k.lower(): v for k, v in sign_request("s3cret", BODY, timestamp=T0).items()}
    verifier().verify(BODY, headers)


@pytest.mark.parametrize(
    ("body", "headers", "message"),
    [
        (BODY + b" ", sign_request("s3cret", BODY, timestamp=T0), "does not match"),
        (BODY, sign_request("other", BODY, timestamp=T0), "does not match"),
        (
            BODY,
            {**sign_request("s3cret", BODY, timestamp=T0), TIMESTAMP_HEADER: str(T0 + 1)},
            "does not match",
        ),
        (BODY, {TIMESTAMP_HEADER: str(T0)}, "headers are required"),
        (BODY, {SIGNATURE_HEADER: "v1=00"}, "headers are required"),
        (BODY, {TIMESTAMP_HEADER: "yesterday", SIGNATURE_HEADER: "v1=00"}, "not Unix seconds"),
        (BODY, sign_request("s3cret", BODY, timestamp=T0 - 400), "outside the replay window"),
        (BODY, sign_request("s3cret", BODY, timestamp=T0 + 400), "ahead"),
        (
            BODY,
            {**sign_request("s3cret", BODY, timestamp=T0), SIGNATURE_HEADER: "v1=签名"},
            "does not match",
        ),
    ],
)
def test_refusals(body: bytes, headers: dict[str, str], message: str) -> None:
    with pytest.raises(WebhookVerificationError, match=message):
        verifier().verify(body, headers)


def test_body_must_be_bytes() -> None:
    with pytest.raises(WebhookVerificationError, match="raw request bytes"):
        verifier().verify("{}", sign_request("s3cret", b"{}", timestamp=T0))  # type: ignore[arg-type]


def test_replay_window_is_configurable() -> None:
    headers = sign_request("s3cret", BODY, timestamp=T0 - 400)
    verifier(tolerance=600).verify(BODY, headers)


@pytest.mark.parametrize("secret", ["", b"", None])
def test_secret_is_required(secret: Any) -> None:
    with pytest.raises(ValidationError):
        WebhookVerifier(secret)


def test_repr_hides_the_secret() -> None:
    assert "s3cret" not in repr(verifier())


@given(st.binary(max_size=200), st.binary(min_size=1, max_size=200))
def test_any_other_body_is_refused(body: bytes, other: bytes) -> None:
    """A signature is valid for its body only."""
    headers = sign_request("s3cret", body, timestamp=T0)
    if other != body:
        with pytest.raises(WebhookVerificationError):
            verifier().verify(other, headers)


# --- the inbox -----------------------------------------------------------------------------------


class Recorder:
    """A push carrier whose messages are given in advance (verification: a flag)."""

    name = "recorder"
    capabilities: frozenset[Capability] = frozenset()
    pushes_authenticated = True
    clock = staticmethod(lambda: NOW)

    def __init__(self, message: PushMessage) -> None:
        self.message = message

    def parse_push(self, body: bytes, headers: Mapping[str, str]) -> PushMessage:
        if body != b"ok":
            raise WebhookVerificationError("refused push: test")
        return self.message


def delivered_events() -> tuple[Any, ...]:
    return parse_track((DATA / "track_delivered.json").read_text(encoding="utf-8"))


def test_inbox_ignores_seen_messages_and_events() -> None:
    events = delivered_events()
    carrier = Recorder(PushMessage(message_id="M1", events=events[:3]))
    inbox = PushInbox(carrier)
    assert inbox.receive(b"ok", {}) == events[:3]
    assert inbox.receive(b"ok", {}) == ()
    carrier.message = PushMessage(message_id="M2", events=events[2:5])
    assert inbox.receive(b"ok", {}) == events[3:5]


def test_inbox_remembers_nothing_from_a_refused_push() -> None:
    events = delivered_events()
    inbox = PushInbox(Recorder(PushMessage(message_id="M1", events=events)))
    with pytest.raises(WebhookVerificationError):
        inbox.receive(b"tampered", {})
    assert inbox.receive(b"ok", {}) == events


def test_inbox_memory_is_bounded() -> None:
    """Beyond its capacity the inbox forgets the oldest ids; a forgotten event comes out again."""
    events = delivered_events()
    carrier = Recorder(PushMessage(message_id=None, events=events[:3]))
    inbox = PushInbox(carrier, capacity=2)
    assert inbox.receive(b"ok", {}) == events[:3]
    assert isinstance(inbox.seen, MemorySeenIds)
    assert len(inbox.seen) == 2
    assert inbox.receive(b"ok", {}) == events[:1]  # only the oldest was forgotten
    assert inbox.receive(b"ok", {}) == events[1:2]  # remembering it again evicted the next


def test_inbox_capacity_must_be_positive() -> None:
    with pytest.raises(ValidationError):
        PushInbox(SandboxCarrier(), capacity=0)
    with pytest.raises(ValidationError, match="not both"):
        PushInbox(SandboxCarrier(), capacity=10, seen=MemorySeenIds())


# --- pushes applied to shipments (with Shipment.apply) -------------------------------------------


def booked_shipment(number: str) -> Shipment:
    import attrs

    shipment = sample_booking_request("GZ-520100-2024-000123").shipment
    return attrs.evolve(shipment, tracking_number=TrackingNumber.parse_any(number))


def ems_pushes(traces: list[dict[str, Any]], order: list[int]) -> list[bytes]:
    """One push per index in ``order``; a repeated index repeats its message (same serialNo)."""
    return [push_body(traces[i], DEFAULT_SIGN_KEY, serial_no=f"SERIAL-{i:03d}") for i in order]


def clean_state() -> tuple[Shipment, list[dict[str, Any]]]:
    document = json.loads((DATA / "track_delivered.json").read_text(encoding="utf-8"))
    traces = json.loads(document["retBody"])["responseItems"]
    shipment = booked_shipment(traces[0]["waybillNo"])
    clean = shipment
    for event in parse_track(json.dumps(document)):
        clean = clean.apply(event)
    return clean, traces


@given(st.data())
@settings(max_examples=40)
def test_burst_of_duplicated_out_of_order_pushes_gives_the_clean_final_state(
    data: st.DataObject,
) -> None:
    """Whatever the order and duplication of pushes, the shipment ends as after the clean run."""
    clean, traces = clean_state()
    order = data.draw(st.permutations(range(len(traces))))
    extra = data.draw(st.lists(st.sampled_from(range(len(traces))), max_size=12))
    burst = data.draw(st.permutations([*order, *extra]))
    ems = EmsCarrier(sender_no="1", authorization="a", sign_key=DEFAULT_SIGN_KEY, clock=lambda: NOW)
    # No EMS server here: these tests are about order and duplicates, not confirmation (for
    # that, see tests/test_push_security.py).
    inbox = PushInbox(ems, confirm_terminal=False)
    shipment = booked_shipment(traces[0]["waybillNo"])
    for body in ems_pushes(traces, burst):
        fresh = inbox.receive(body, {"Content-Type": "application/json"})
        shipment = shipment.apply(*fresh)
    ems.close()
    assert shipment == clean
    assert shipment.status is ShipmentStatus.DELIVERED
    assert shipment.anomalies == clean.anomalies == ()


def test_same_event_under_a_new_serial_no_is_still_applied_once() -> None:
    clean, traces = clean_state()
    ems = EmsCarrier(sender_no="1", authorization="a", sign_key=DEFAULT_SIGN_KEY)
    shipment = booked_shipment(traces[0]["waybillNo"])
    for serial in ("A", "B"):  # the carrier re-sends with another message id
        for trace in traces:
            message = ems.parse_push(push_body(trace, DEFAULT_SIGN_KEY, serial_no=serial), {})
            shipment = shipment.apply(*message.events)
    ems.close()
    assert shipment == clean


def test_tampered_push_is_refused_and_leaves_state_untouched() -> None:
    _, traces = clean_state()
    ems = EmsCarrier(sender_no="1", authorization="a", sign_key=DEFAULT_SIGN_KEY, clock=lambda: NOW)
    # No EMS server here: these tests are about order and duplicates, not confirmation (for
    # that, see tests/test_push_security.py).
    inbox = PushInbox(ems, confirm_terminal=False)
    shipment = booked_shipment(traces[0]["waybillNo"])
    shipment = shipment.apply(*inbox.receive(ems_pushes(traces, [0])[0], {}))
    before = shipment

    genuine = ems_pushes(traces, [8])[0]  # the delivery scan
    fields = json.loads(genuine)
    sealed = fields["logitcsInterface"]
    fields["logitcsInterface"] = sealed[:-8] + ("A" if sealed[-8] != "A" else "B") + sealed[-7:]
    forged_key = push_body(traces[8], "AAECAwQFBgcICQoLDA0ODw==", serial_no="SERIAL-008")
    for bad in (json.dumps(fields).encode(), forged_key):
        with pytest.raises(WebhookVerificationError):
            shipment = shipment.apply(*inbox.receive(bad, {}))
    assert shipment == before
    assert shipment.status is ShipmentStatus.PICKED_UP
    # Nothing was remembered: the genuine message with the same serialNo still gets through.
    shipment = shipment.apply(*inbox.receive(genuine, {}))
    assert shipment.status is ShipmentStatus.DELIVERED


def test_sandbox_pushes_through_the_inbox() -> None:
    now = datetime(2024, 7, 1, tzinfo=UTC)
    sandbox = SandboxCarrier(seed=12, clock=lambda: now)
    booking = sandbox.book(sample_booking_request("GZ-PUSH"))
    body, headers = sandbox.push(booking.tracking_number)
    inbox = PushInbox(sandbox)
    shipment = booked_shipment(str(booking.tracking_number))
    shipment = shipment.apply(*inbox.receive(body, headers))
    assert shipment.status in (ShipmentStatus.DELIVERED, ShipmentStatus.RETURNED)
    assert inbox.receive(body, headers) == ()
    tampered = body.replace(b"delivered", b"returned_")
    with pytest.raises(WebhookVerificationError):
        inbox.receive(tampered, headers)


def test_recorded_revocation_and_return_apply_cleanly() -> None:
    for name, final in [
        ("track_locker_with_revocation", ShipmentStatus.DELIVERED),
        ("track_returned", ShipmentStatus.RETURNED),
    ]:
        events = parse_track((DATA / f"{name}.json").read_text(encoding="utf-8"))
        shipment = booked_shipment(str(events[0].tracking_number)).apply(*reversed(events))
        assert shipment.status is final
        assert shipment.anomalies == ()
