"""The carrier contract: the checks every carrier adapter must pass."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping, Sequence
from datetime import timedelta

from govpost.carriers._model import (
    Booking,
    BookingCarrier,
    BookingRequest,
    CancellingCarrier,
    Capability,
    Carrier,
    PushCarrier,
    PushMessage,
    Quote,
    QuoteRequest,
    QuotingCarrier,
    TrackingCarrier,
    check_declared,
    pushes_authenticated,
    utc_now,
)
from govpost.carriers.webhooks import MAX_PUSH_BYTES
from govpost.errors import CarrierError, GovpostError, WebhookVerificationError
from govpost.identifiers import TrackingNumber, s10_check_digit
from govpost.money import Money
from govpost.shipments import TrackingEvent
from govpost.testing._samples import sample_booking_request

__all__ = ["PushSource", "carrier_contract"]

#: A push source gives the HTTP request (body, headers) the carrier would push for a waybill.
PushSource = Callable[[TrackingNumber], tuple[bytes, Mapping[str, str]]]


class _Contract:
    def __init__(
        self,
        carrier: Carrier,
        request_factory: Callable[..., BookingRequest],
        push_source: PushSource | None,
        known_waybill: TrackingNumber | None,
    ) -> None:
        self.known_waybill = known_waybill
        self.carrier = carrier
        self.request_factory = request_factory
        self.push_source = push_source
        self.run_id = uuid.uuid4().hex[:8]
        self.booked: Booking | None = None

    def order_id(self, label: str) -> str:
        return f"CONTRACT-{self.run_id}-{label}"

    def declares_capabilities(self) -> None:
        check_declared(self.carrier, f"carrier {self.carrier!r}")

    def quotes(self) -> None:
        quoting: QuotingCarrier = self.carrier  # type: ignore[assignment]
        light = QuoteRequest(origin="520102", destination="520302", weight_g=200)
        heavy = QuoteRequest(origin="520102", destination="520302", weight_g=5000)
        q1, q2 = quoting.quote(light), quoting.quote(heavy)
        assert isinstance(q1, Quote), f"quote() returned {type(q1).__name__}, not Quote"
        assert q1.amount.currency == "CNY", f"postage in {q1.amount.currency}, not CNY"
        assert q1.amount > Money.zero(), f"postage {q1.amount} is not positive"
        assert q1.zone == light.zone, f"quoted for {q1.zone}, asked for {light.zone}"
        assert q2.amount >= q1.amount, f"5000 g costs {q2.amount}, less than 200 g {q1.amount}"

    def books_once_per_order_id(self) -> None:
        booking: BookingCarrier = self.carrier  # type: ignore[assignment]
        request = self.request_factory(self.order_id("BOOK"))
        first = booking.book(request)
        assert isinstance(first, Booking), f"book() returned {type(first).__name__}"
        assert first.order_id == request.order_id, f"booked {first.order_id!r}"
        assert isinstance(first.tracking_number, TrackingNumber)
        assert first.booked_at.utcoffset() is not None, "booked_at is naive"
        self.booked = first
        again = booking.book(request)
        assert again.tracking_number == first.tracking_number, (
            f"booking order {request.order_id} twice gave two waybills "
            f"({first.tracking_number}, {again.tracking_number}): double booking"
        )
        other = booking.book(self.request_factory(self.order_id("BOOK2")))
        assert other.tracking_number != first.tracking_number, "two orders share a waybill"

    def _number(self) -> TrackingNumber:
        if self.known_waybill is not None:
            return self.known_waybill
        if self.booked is None:
            self.books_once_per_order_id()
        assert self.booked is not None
        return self.booked.tracking_number

    def tracks(self) -> None:
        tracking: TrackingCarrier = self.carrier  # type: ignore[assignment]
        number = self._number()
        events = tracking.track(number)
        assert isinstance(events, tuple), f"track() returned {type(events).__name__}, not tuple"
        _check_events(events, number)
        assert tracking.track(number) == events, "tracking the same waybill twice differs"

    def refuses_unknown_waybill(self) -> None:
        tracking: TrackingCarrier = self.carrier  # type: ignore[assignment]
        unknown = TrackingNumber(value=f"EZ00000001{s10_check_digit('00000001')}CN")
        try:
            events = tracking.track(unknown)
        except CarrierError:
            return
        except GovpostError as exc:
            raise AssertionError(
                f"tracking an unknown waybill raised {type(exc).__name__}, not CarrierError"
            ) from exc
        raise AssertionError(
            f"tracking the unknown waybill {unknown} gave {len(events)} event(s) instead of "
            f"raising CarrierError"
        )

    def cancels(self) -> None:
        cancelling: CancellingCarrier = self.carrier  # type: ignore[assignment]
        booking: BookingCarrier = self.carrier  # type: ignore[assignment]
        soon = utc_now() + timedelta(days=3)
        request = self.request_factory(self.order_id("CANCEL"), created_at=soon)
        booked = booking.book(request)
        cancelling.cancel(request.order_id, tracking_number=booked.tracking_number)
        cancelling.cancel(request.order_id, tracking_number=booked.tracking_number)
        try:
            cancelling.cancel(self.order_id("NEVER-BOOKED"))
        except CarrierError:
            pass
        else:
            raise AssertionError("cancelling an order never booked did not raise CarrierError")

    def verifies_pushes(self) -> None:
        pushing: PushCarrier = self.carrier  # type: ignore[assignment]
        if self.push_source is None:
            raise AssertionError(
                "the carrier declares PUSH: pass push_source= to carrier_contract so the "
                "contract can check its verification"
            )
        if not pushes_authenticated(self.carrier):
            assert Capability.TRACK in self.carrier.capabilities, (
                "the carrier's pushes are not authenticated (it does not declare "
                "pushes_authenticated = True) and it does not declare TRACK: PushInbox cannot "
                "confirm a pushed terminal status; implement track(), or declare "
                "pushes_authenticated = True if a verified push is proven unaltered (an HMAC)"
            )
        number = self._number()
        body, headers = self.push_source(number)
        message = pushing.parse_push(body, headers)
        assert isinstance(message, PushMessage), f"parse_push returned {type(message).__name__}"
        _check_events(message.events, number)
        assert pushing.parse_push(body, headers) == message, "reading a push twice differs"
        oversized = body + b" " * (MAX_PUSH_BYTES + 1 - len(body))
        try:
            pushing.parse_push(oversized, headers)
        except WebhookVerificationError:
            pass
        else:
            raise AssertionError(
                f"a push of {len(oversized):,} bytes was read: refuse bodies above "
                f"MAX_PUSH_BYTES ({MAX_PUSH_BYTES:,}) with WebhookVerificationError before "
                f"reading them (WebhookVerifier does)"
            )
        for tampered in _tamperings(body):
            try:
                pushing.parse_push(tampered, headers)
            except WebhookVerificationError:
                continue
            except Exception as exc:
                raise AssertionError(
                    f"a tampered push was not refused with WebhookVerificationError but raised "
                    f"{type(exc).__name__}: verification must come before reading"
                ) from exc
            raise AssertionError("a tampered push was accepted: verification is missing")

    def masks_personal_data(self) -> None:
        request = self.request_factory(self.order_id("MASK"))
        shown = repr(self.carrier) + repr(request)
        if Capability.BOOK in self.carrier.capabilities:
            booking: BookingCarrier = self.carrier  # type: ignore[assignment]
            shown += repr(booking.book(request))
        recipient = request.recipient
        for secret in (recipient.name, recipient.mobile, recipient.address):
            assert secret is None or secret not in shown, "a repr shows personal data unmasked"


def _tamperings(body: bytes) -> list[bytes]:
    """Copies of ``body`` with one character changed, from 30 % to 60 % of it.

    A digit becomes another digit (digits sit in values: times, ids, amounts, so a carrier
    that does not verify reads the altered copy without noticing); a letter, another letter.
    Each copy must be refused by verification, whatever it changed.
    """
    copies = []
    for share in (0.3, 0.4, 0.5, 0.6):
        start = int(len(body) * share)
        # bytes.isdigit and bytes.isalpha are ASCII-only: multi-byte characters stay whole.
        index = next((i for i in range(start, len(body)) if body[i : i + 1].isdigit()), None)
        if index is None:
            index = next((i for i in range(start, len(body)) if body[i : i + 1].isalpha()), None)
        if index is None:
            continue
        old = body[index]
        if body[index : index + 1].isdigit():
            new = ord("0") + (old - ord("0") + 1) % 10
        else:
            new = ord("B") if old == ord("A") else ord("A")
        copy = bytearray(body)
        copy[index] = new
        copies.append(bytes(copy))
    return copies


def _check_events(events: Sequence[TrackingEvent], number: TrackingNumber) -> None:
    assert all(isinstance(e, TrackingEvent) for e in events), "not TrackingEvent values"
    assert all(e.tracking_number == number for e in events), "an event of another waybill"
    assert all(e.occurred_at.utcoffset() is not None for e in events), "a naive occurred_at"
    ids = [e.event_id for e in events]
    assert len(ids) == len(set(ids)), "two events share an event_id"


def carrier_contract(
    carrier: Carrier,
    *,
    push_source: PushSource | None = None,
    request_factory: Callable[..., BookingRequest] = sample_booking_request,
    known_waybill: TrackingNumber | None = None,
) -> list[str]:
    """Check that ``carrier`` keeps the contract of every capability it declares.

    The checks: capabilities declared and implemented; quotes are positive CNY amounts for
    the right zone, non-decreasing in weight; booking an order id twice gives one waybill and
    two orders two waybills; tracking gives aware events of the right waybill with unique ids,
    the same twice, and an unknown waybill is a :class:`~govpost.errors.CarrierError`;
    cancelling before pickup works twice and an unknown order is refused; pushes verify, read
    the same twice, and a tampered push or one above
    :data:`~govpost.carriers.webhooks.MAX_PUSH_BYTES` raises
    :class:`~govpost.errors.WebhookVerificationError`; an adapter whose pushes are not
    authenticated (no ``pushes_authenticated = True``) declares ``TRACK``, so that
    :class:`~govpost.carriers.webhooks.PushInbox` can confirm terminal statuses; no ``repr``
    shows personal data.

    Args:
        carrier: the adapter, ready to talk to its (fake or sandbox) backend.
        push_source: for adapters declaring ``PUSH``: gives the request the carrier would push
            for a booked waybill.
        request_factory: builds a :class:`~govpost.carriers.BookingRequest` from an order id
            (and an optional ``created_at`` keyword); defaults to
            :func:`sample_booking_request`.
        known_waybill: a waybill the carrier knows, for checking tracking and pushes of an
            adapter that does not book (otherwise the contract books one).

    Returns:
        The names of the checks that ran, all passed.

    Raises:
        AssertionError: listing every failed check and why.

    >>> from govpost.carriers.sandbox import SandboxCarrier
    >>> sandbox = SandboxCarrier(seed=3)
    >>> carrier_contract(sandbox, push_source=sandbox.push)
    ['declares_capabilities', 'quotes', 'books_once_per_order_id', 'tracks', ...]

    .. versionadded:: 0.1.0
    """
    contract = _Contract(carrier, request_factory, push_source, known_waybill)
    declared: frozenset[Capability] = getattr(carrier, "capabilities", frozenset())
    plan: list[tuple[str, Callable[[], None]]] = [
        ("declares_capabilities", contract.declares_capabilities)
    ]
    wanted = [
        (Capability.QUOTE, "quotes", contract.quotes),
        (Capability.BOOK, "books_once_per_order_id", contract.books_once_per_order_id),
        (Capability.TRACK, "tracks", contract.tracks),
        (Capability.TRACK, "refuses_unknown_waybill", contract.refuses_unknown_waybill),
        (Capability.CANCEL, "cancels", contract.cancels),
        (Capability.PUSH, "verifies_pushes", contract.verifies_pushes),
    ]
    needs_booking = {"tracks", "cancels", "verifies_pushes"}
    for capability, name, check in wanted:
        has_waybill = Capability.BOOK in declared or (
            known_waybill is not None and name != "cancels"
        )
        if capability in declared and (name not in needs_booking or has_waybill):
            plan.append((name, check))
    plan.append(("masks_personal_data", contract.masks_personal_data))
    failures: list[str] = []
    first: BaseException | None = None
    for name, check in plan:
        try:
            check()
        except Exception as exc:  # a contract run reports every failure, whatever it is
            failures.append(f"{name}: {type(exc).__name__}: {exc}")
            first = first or exc
    if failures:
        raise AssertionError(
            f"carrier {getattr(carrier, 'name', carrier)!r} breaks the carrier contract:\n  "
            + "\n  ".join(failures)
        ) from first
    return [name for name, _ in plan]
