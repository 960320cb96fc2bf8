"""The carrier contract: the built-in adapters pass it, and it catches broken adapters."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from datetime import UTC, datetime
from typing import Any

import pytest

from govpost.carriers import Booking, BookingRequest, Capability, load
from govpost.carriers.ems import EmsCarrier
from govpost.carriers.sandbox import SandboxCarrier
from govpost.errors import CarrierError
from govpost.identifiers import TrackingNumber, s10_check_digit
from govpost.shipments import TrackingEvent
from govpost.testing import FakeEmsServer, carrier_contract, push_body, sample_booking_request

ALL_CHECKS = [
    "declares_capabilities",
    "quotes",
    "books_once_per_order_id",
    "tracks",
    "refuses_unknown_waybill",
    "cancels",
    "verifies_pushes",
    "masks_personal_data",
]


def test_sandbox_passes_the_contract() -> None:
    sandbox = SandboxCarrier(seed=2018)
    assert carrier_contract(sandbox, push_source=sandbox.push) == ALL_CHECKS


@pytest.fixture
def server() -> Iterator[FakeEmsServer]:
    with FakeEmsServer() as fake:
        yield fake


def test_ems_passes_the_contract(server: FakeEmsServer) -> None:
    def push_source(number: TrackingNumber) -> tuple[bytes, Mapping[str, str]]:
        trace = server.scan(str(number), "203", datetime(2024, 6, 3, 2, tzinfo=UTC))
        return push_body([trace], server.sign_key), {"Content-Type": "application/json"}

    carrier = load("ems", **server.carrier_config())
    assert isinstance(carrier, EmsCarrier)
    with carrier:
        assert carrier_contract(carrier, push_source=push_source) == ALL_CHECKS


class DoubleBooker:
    """Books a new waybill on every call, tracks with naive times, and shows a mobile number."""

    name = "double-booker"
    capabilities = frozenset({Capability.BOOK, Capability.TRACK, Capability.PUSH})

    def __init__(self) -> None:
        self.serial = 10_000_000

    def __repr__(self) -> str:
        return "<DoubleBooker last contact 13800138000>"

    def book(self, request: BookingRequest) -> Booking:
        self.serial += 1
        serial = str(self.serial)
        return Booking(
            carrier=self.name,
            order_id=request.order_id,
            tracking_number=TrackingNumber(value=f"EA{serial}{s10_check_digit(serial)}CN"),
            booked_at=datetime.now(UTC),
        )

    def track(self, tracking_number: TrackingNumber) -> tuple[TrackingEvent, ...]:
        raise KeyError(str(tracking_number))

    def parse_push(self, body: bytes, headers: Mapping[str, str]) -> object:
        return None


def test_contract_reports_every_broken_promise() -> None:
    with pytest.raises(AssertionError) as info:
        carrier_contract(DoubleBooker())
    report = str(info.value)
    assert "books_once_per_order_id: AssertionError: booking order" in report
    assert "double booking" in report
    assert "tracks: KeyError" in report
    assert "refuses_unknown_waybill: KeyError" in report
    assert "verifies_pushes: AssertionError: the carrier declares PUSH" in report
    assert "masks_personal_data: AssertionError" in report
    assert "quotes" not in report  # not declared, not checked


def test_contract_catches_a_push_without_verification() -> None:
    sandbox = SandboxCarrier(seed=1)

    class Trusting(SandboxCarrier):
        def parse_push(self, body: bytes, headers: Mapping[str, str]):  # type: ignore[no-untyped-def]
            return super().parse_push(*sandbox_resign(body))

    def sandbox_resign(body: bytes) -> tuple[bytes, dict[str, str]]:
        from govpost.carriers.webhooks import sign_request

        return body, sign_request(
            "sandbox-webhook-secret", body, timestamp=int(datetime.now(UTC).timestamp())
        )

    def same_orders_every_run(order_id: str, **kw: Any) -> BookingRequest:
        # The contract's order ids carry a random run id; the sandbox derives each simulated
        # life (hence the pushed body) from the order id, so fix the ids to fix the bodies.
        return sample_booking_request(order_id.rsplit("-", 1)[-1], **kw)

    trusting = Trusting(seed=1)
    with pytest.raises(AssertionError, match="tampered push was"):
        carrier_contract(trusting, push_source=trusting.push, request_factory=same_orders_every_run)
    assert carrier_contract(sandbox, push_source=sandbox.push) == ALL_CHECKS


@pytest.mark.parametrize("seed", range(40))
def test_contract_catches_a_push_without_verification_whatever_the_body(seed: int) -> None:
    """Whatever the simulated life (so the pushed body), re-signing tampered copies is caught."""
    from govpost.carriers.webhooks import sign_request

    class Trusting(SandboxCarrier):
        def parse_push(self, body: bytes, headers: Mapping[str, str]):  # type: ignore[no-untyped-def]
            stamp = int(datetime.now(UTC).timestamp())
            return super().parse_push(
                body, sign_request("sandbox-webhook-secret", body, timestamp=stamp)
            )

    trusting = Trusting(seed=seed)
    with pytest.raises(AssertionError, match="tampered push was"):
        carrier_contract(trusting, push_source=trusting.push)


def test_contract_catches_an_adapter_that_tracks_unknown_waybills() -> None:
    class Inventive(SandboxCarrier):
        def track(self, tracking_number: TrackingNumber) -> tuple[TrackingEvent, ...]:
            try:
                return super().track(tracking_number)
            except CarrierError:
                return ()

    inventive = Inventive(seed=1)
    with pytest.raises(AssertionError, match="refuses_unknown_waybill: AssertionError"):
        carrier_contract(inventive, push_source=inventive.push)
