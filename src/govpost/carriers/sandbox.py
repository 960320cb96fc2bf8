"""The sandbox carrier: deterministic, in-process, seeded. For tests, the demo and the docs.

It behaves like a postal carrier without the network: it quotes from a simple tariff, books
orders under valid UPU S10 numbers (one per order id, however often booked), and simulates
each piece's life — pickup, transit, delivery, failed attempts, pickup points, refusals and
returns — with working-day timings by zone (:class:`~govpost.calendar.WorkCalendar`) and
configurable failure and return rates. The same seed and the same orders give the same
numbers and the same events, in any process::

    >>> from datetime import datetime, timezone
    >>> from govpost.testing import sample_booking_request
    >>> sandbox = SandboxCarrier(seed=2018)
    >>> booking = sandbox.book(sample_booking_request("GZ-520100-000001"))
    >>> booking.tracking_number
    TrackingNumber(value='EA...CN')
    >>> [e.status.name for e in sandbox.timeline(booking.tracking_number)][:2]
    ['PICKED_UP', 'IN_TRANSIT']

``track`` shows the events that have happened by the sandbox's clock (real time unless a
``clock`` is given); :meth:`SandboxCarrier.timeline` shows the whole planned life.

Timings, in working days after the pickup day, by zone: 同城 1, 省内 2, 省外 3–5. Pickup is
the same working day for orders placed before 15:00, else the next working day. For a year
the calendar does not cover, the sandbox (a simulator, not a time-limit judge) falls back to
Monday–Friday working days instead of failing.

.. versionadded:: 0.1.0
"""

from __future__ import annotations

import json
import random
from collections.abc import Callable, Mapping, Sequence
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

import attrs

from govpost._fields import short
from govpost._limits import load_json
from govpost.calendar import WorkCalendar
from govpost.carriers._model import (
    Booking,
    BookingRequest,
    Capability,
    PushMessage,
    Quote,
    QuoteRequest,
    utc_now,
)
from govpost.carriers.webhooks import MAX_PUSH_BYTES, WebhookVerifier, sign_request
from govpost.errors import (
    CalendarCoverageError,
    CarrierError,
    ValidationError,
    WebhookVerificationError,
)
from govpost.identifiers import TrackingNumber, s10_check_digit
from govpost.money import Money
from govpost.periods import SHANGHAI
from govpost.regions import Zone
from govpost.shipments import ShipmentStatus, TrackingEvent

__all__ = ["SandboxCarrier"]

#: The shortest run from a collection office to the sorting centre.
_SORTING = timedelta(minutes=30)
_S = ShipmentStatus

#: (first weight in grams, first-weight fee, step in grams, step fee) by zone.
_TARIFF: Mapping[Zone, tuple[int, Decimal, int, Decimal]] = {
    Zone.SAME_CITY: (500, Decimal("8.00"), 500, Decimal("2.00")),
    Zone.IN_PROVINCE: (500, Decimal("10.00"), 500, Decimal("3.00")),
    Zone.OUT_OF_PROVINCE: (500, Decimal("15.00"), 500, Decimal("5.00")),
}
#: Working days from pickup to the delivery day: (least, most) by zone.
_TRANSIT: Mapping[Zone, tuple[int, int]] = {
    Zone.SAME_CITY: (1, 1),
    Zone.IN_PROVINCE: (2, 2),
    Zone.OUT_OF_PROVINCE: (3, 5),
}


def _rate(what: str) -> Callable[[object], float]:
    def convert(value: object) -> float:
        if isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value <= 1:
            raise ValidationError(f"{what} {value!r} must be a number from 0 to 1")
        return float(value)

    return convert


@attrs.define
class _Order:
    request: BookingRequest
    tracking_number: TrackingNumber
    events: list[TrackingEvent]


class SandboxCarrier:
    """A deterministic simulated carrier (registered as ``sandbox``).

    Args:
        seed: fixes the waybill numbers and every simulated life.
        failure_rate: share of pieces whose first delivery attempt fails (未妥投).
        return_rate: share of pieces refused and returned to the sender (退回).
        pickup_point_rate: share of pieces left at a pickup point or locker (待取).
        calendar: working days for the timings (default :meth:`govpost.calendar.WorkCalendar.china`).
        clock: gives the current aware time; ``track`` shows events up to it.
        webhook_secret: the secret its pushes are signed with, or several while one is
            rotated: pushes are signed with the first, and verified under any of them.
        max_push_bytes: the largest push body ``parse_push`` accepts.

    Raises:
        ValidationError: a rate outside 0–1, or rates summing above 1; no webhook secret.

    .. versionadded:: 0.1.0
    .. versionchanged:: 0.2.0
       ``webhook_secret`` may be a list; ``max_push_bytes``; ``clock`` is public.
    """

    name = "sandbox"
    capabilities = frozenset(
        {Capability.QUOTE, Capability.BOOK, Capability.CANCEL, Capability.TRACK, Capability.PUSH}
    )
    #: Pushes carry an HMAC over the whole body (:mod:`govpost.carriers.webhooks`).
    pushes_authenticated = True

    def __init__(
        self,
        *,
        seed: int = 0,
        failure_rate: float = 0.05,
        return_rate: float = 0.02,
        pickup_point_rate: float = 0.1,
        calendar: WorkCalendar | None = None,
        clock: Callable[[], datetime] = utc_now,
        webhook_secret: str | Sequence[str] = "sandbox-webhook-secret",
        max_push_bytes: int = MAX_PUSH_BYTES,
    ) -> None:
        if isinstance(seed, bool) or not isinstance(seed, int):
            raise ValidationError(f"seed {seed!r} must be an int")
        self.seed = seed
        self.failure_rate = _rate("failure_rate")(failure_rate)
        self.return_rate = _rate("return_rate")(return_rate)
        self.pickup_point_rate = _rate("pickup_point_rate")(pickup_point_rate)
        if self.failure_rate + self.return_rate > 1:
            raise ValidationError(
                f"failure_rate {failure_rate} and return_rate {return_rate} sum above 1"
            )
        self.calendar = calendar if calendar is not None else WorkCalendar.china()
        self._clock = clock
        self._verifier = WebhookVerifier(
            webhook_secret,
            clock=lambda: self._clock().timestamp(),
            max_body=max_push_bytes,
        )
        # Pushes are signed with the current secret, the first one.
        self._secret = (
            webhook_secret if isinstance(webhook_secret, str | bytes) else webhook_secret[0]
        )
        self._orders: dict[str, _Order] = {}
        self._by_number: dict[TrackingNumber, _Order] = {}
        self._next_serial = random.Random(seed).randrange(10_000_000, 90_000_000)

    def __repr__(self) -> str:
        return (
            f"<SandboxCarrier seed={self.seed} orders={len(self._orders)} "
            f"failure_rate={self.failure_rate:g} return_rate={self.return_rate:g}>"
        )

    @property
    def clock(self) -> Callable[[], datetime]:
        """The sandbox's clock (gives the current aware time); the push inbox reads it too."""
        return self._clock

    # --- quote -----------------------------------------------------------------------------------

    def quote(self, request: QuoteRequest) -> Quote:
        """The postage by the sandbox tariff: first 500 g, then each started 500 g.

        >>> SandboxCarrier().quote(QuoteRequest(origin="520102", destination="520302",
        ...                                     weight_g=1200)).amount
        Money('16.00', 'CNY')
        """
        zone = request.zone
        first_g, first_fee, step_g, step_fee = _TARIFF[zone]
        steps = -(-max(0, request.weight_g - first_g) // step_g)
        amount = Money(first_fee) + Money(step_fee) * steps
        if request.declared_value is not None:
            insurance = max(request.declared_value * Decimal("0.005"), Money("1.00"))
            amount = amount + insurance.rounded()
        return Quote(carrier=self.name, amount=amount, zone=zone)

    # --- book and cancel -------------------------------------------------------------------------

    def book(self, request: BookingRequest) -> Booking:
        """Book the order; booking the same order id again returns its waybill.

        The simulated life starts when the shipment was created (``created_at``).
        """
        if not isinstance(request, BookingRequest):
            raise ValidationError(f"book() takes a BookingRequest, not {type(request).__name__}")
        existing = self._orders.get(request.order_id)
        if existing is not None:
            return self._booking(existing, duplicate=True)
        serial = f"{self._next_serial:08d}"
        self._next_serial += 1
        number = TrackingNumber(value=f"EA{serial}{s10_check_digit(serial)}CN")
        order = _Order(request, number, [])
        order.events = self._simulate(order)
        self._orders[request.order_id] = order
        self._by_number[number] = order
        return self._booking(order, duplicate=False)

    def _booking(self, order: _Order, *, duplicate: bool) -> Booking:
        return Booking(
            carrier=self.name,
            order_id=order.request.order_id,
            tracking_number=order.tracking_number,
            booked_at=order.request.shipment.created_at,
            duplicate=duplicate,
        )

    def cancel(self, order_id: str, *, tracking_number: TrackingNumber | None = None) -> None:
        """Cancel an order not yet picked up (by the sandbox clock); again is not an error.

        Raises:
            CarrierError: unknown order (``unknown_order``) or already picked up
                (``already_picked_up``); neither is retryable.
        """
        order = self._orders.get(order_id)
        if order is None:
            raise CarrierError(
                f"the sandbox has no order {short(order_id)}: book it first", code="unknown_order"
            )
        if order.events and order.events[-1].status is _S.CANCELLED:
            return
        now = self._clock()
        if order.events and order.events[0].occurred_at <= now:
            raise CarrierError(
                f"order {order_id} was picked up at {order.events[0].occurred_at.isoformat()}: "
                f"it can no longer be cancelled; ask for a return instead",
                code="already_picked_up",
            )
        when = max(now, order.request.shipment.created_at)
        order.events = [self._event(order, _S.CANCELLED, when, "801", "订单取消", "寄件人取消订单")]

    # --- tracking --------------------------------------------------------------------------------

    def _order(self, tracking_number: TrackingNumber) -> _Order:
        order = self._by_number.get(tracking_number)
        if order is None:
            raise CarrierError(
                f"the sandbox has no waybill {tracking_number}: only numbers it assigned are "
                f"tracked",
                code="unknown_waybill",
            )
        return order

    def timeline(self, tracking_number: TrackingNumber) -> tuple[TrackingEvent, ...]:
        """The whole simulated life of a waybill, future events included.

        Raises:
            CarrierError: the sandbox did not assign this number.
        """
        return tuple(self._order(tracking_number).events)

    def track(self, tracking_number: TrackingNumber) -> tuple[TrackingEvent, ...]:
        """The events that have happened by the sandbox's clock, oldest first.

        Raises:
            CarrierError: the sandbox did not assign this number (``unknown_waybill``).
        """
        now = self._clock()
        return tuple(e for e in self._order(tracking_number).events if e.occurred_at <= now)

    # --- push ------------------------------------------------------------------------------------

    def push(
        self, tracking_number: TrackingNumber, *, message_id: str | None = None
    ) -> tuple[bytes, dict[str, str]]:
        """The signed HTTP request (body, headers) the sandbox would push for a waybill.

        It carries the events that have happened by the sandbox clock.
        """
        events = self.track(tracking_number)
        document = {
            "message_id": message_id or f"{tracking_number}:{len(events)}",
            "events": [_event_document(e) for e in events],
        }
        body = json.dumps(document, ensure_ascii=False, sort_keys=True).encode("utf-8")
        headers = sign_request(self._secret, body, timestamp=int(self._clock().timestamp()))
        return body, {"Content-Type": "application/json", **headers}

    def parse_push(self, body: bytes, headers: Mapping[str, str]) -> PushMessage:
        """Verify (size, HMAC under any configured secret, replay window) and read a push.

        Raises:
            WebhookVerificationError: verification failed, or the signed body is not a
                sandbox push (not JSON, nested deeper than 64 levels, the wrong shape);
                nothing was read.
            CarrierError: a signed sandbox push holding an event govpost cannot accept.
        """
        self._verifier.verify(body, headers)
        try:
            document = load_json(bytes(body), what="the sandbox push")
        except ValidationError as exc:
            raise WebhookVerificationError(f"refused push: signed, but {exc}") from exc
        # The shape is checked, not caught as KeyError/TypeError: a bug of ours must surface
        # as itself, never as a refused push.
        items = document.get("events") if isinstance(document, dict) else None
        message_id = document.get("message_id") if isinstance(document, dict) else None
        if (
            not isinstance(items, list)
            or not isinstance(message_id, str)
            or not all(isinstance(i, dict) and i.keys() >= _EVENT_FIELDS for i in items)
        ):
            raise WebhookVerificationError(
                "refused push: signed, but not a sandbox push (it needs 'message_id' and "
                f"'events', each event with {', '.join(sorted(_EVENT_FIELDS))})"
            )
        try:
            events = tuple(_event_from(item) for item in items)
        except ValidationError as exc:
            raise CarrierError(
                f"the sandbox pushed an event govpost cannot accept: {exc}",
                code="malformed_push",
                raw=bytes(body),
            ) from exc
        return PushMessage(message_id=message_id, events=events)

    # --- simulation ------------------------------------------------------------------------------

    def _add_workdays(self, day: date, n: int) -> date:
        try:
            return self.calendar.add_workdays(day, n)
        except CalendarCoverageError:
            while n > 0:
                day += timedelta(days=1)
                n -= day.weekday() < 5
            return day

    def _is_workday(self, day: date) -> bool:
        try:
            return self.calendar.is_workday(day)
        except CalendarCoverageError:
            return day.weekday() < 5

    def _event(
        self,
        order: _Order,
        status: ShipmentStatus,
        when: datetime,
        code: str,
        location: str,
        description: str,
    ) -> TrackingEvent:
        stamp = when.astimezone(SHANGHAI).strftime("%Y%m%d%H%M%S")
        return TrackingEvent(
            event_id=f"sandbox:{order.tracking_number}:{code}:{stamp}",
            tracking_number=order.tracking_number,
            status=status,
            occurred_at=when,
            location=location,
            carrier_code=code,
            description=description,
        )

    def _simulate(self, order: _Order) -> list[TrackingEvent]:
        shipment = order.request.shipment
        rng = random.Random(f"{self.seed}:{shipment.id}")
        origin, destination = shipment.origin, shipment.destination
        here = (origin.city or origin.province).name
        there = (destination.city or destination.province).name
        zone = shipment.zone

        def at(day: date, hour: float) -> datetime:
            moment = datetime.combine(day, time(0), tzinfo=SHANGHAI)
            return moment + timedelta(minutes=round(hour * 60))

        created = shipment.created_at.astimezone(SHANGHAI)
        day = created.date()
        if self._is_workday(day) and created.hour < 15:
            pickup = max(created + timedelta(minutes=30), at(day, 9 + rng.uniform(0, 1)))
            pickup += timedelta(minutes=rng.randint(30, 180))
        else:
            day = self._add_workdays(day, 1)
            pickup = at(day, 9 + rng.uniform(0, 3))
        dispatched = pickup + timedelta(minutes=round(rng.uniform(2, 5) * 60))
        events: list[tuple[ShipmentStatus, datetime, str, str, str]] = [
            (_S.PICKED_UP, pickup, "203", f"{here}邮政揽投部", "已收寄"),
            (_S.IN_TRANSIT, dispatched, "389", f"{here}邮政揽投部", "已发运"),
        ]
        least, most = _TRANSIT[zone]
        delivery_day = self._add_workdays(pickup.date(), rng.randint(least, most))
        if zone is not Zone.SAME_CITY:
            events.append(
                (
                    _S.IN_TRANSIT,
                    # A late pickup is dispatched late: it reaches the sorting centre after.
                    max(at(pickup.date(), 21 + rng.uniform(0, 2)), dispatched + _SORTING),
                    "954",
                    f"{here}邮区中心",
                    "到达处理中心",
                )
            )
        events.append(
            (
                _S.IN_TRANSIT,
                at(delivery_day, 7 + rng.uniform(0, 1)),
                "713",
                f"{there}邮政投递部",
                "到达投递局",
            )
        )
        out = at(delivery_day, 8.5 + rng.uniform(0, 1.5))
        events.append((_S.OUT_FOR_DELIVERY, out, "702", f"{there}邮政投递部", "安排投递"))
        fate = rng.random()
        attempt = out + timedelta(minutes=round(rng.uniform(1, 6) * 60))
        if fate < self.return_rate:
            events.append((_S.REFUSED, attempt, "705", f"{there}邮政投递部", "收件人拒收"))
            back_day = self._add_workdays(attempt.date(), 1)
            events.append(
                (
                    _S.RETURNING,
                    at(back_day, 9 + rng.uniform(0, 2)),
                    "708",
                    f"{there}邮政投递部",
                    "退回登记",
                )
            )
            home = self._add_workdays(back_day, rng.randint(least, most))
            events.append(
                (
                    _S.RETURNED,
                    at(home, 10 + rng.uniform(0, 6)),
                    "711",
                    f"{here}邮政揽投部",
                    "退件已妥投",
                )
            )
        else:
            if fate < self.return_rate + self.failure_rate:
                events.append(
                    (_S.DELIVERY_FAILED, attempt, "705", f"{there}邮政投递部", "未妥投：无人签收")
                )
                retry_day = self._add_workdays(attempt.date(), 1)
                out = at(retry_day, 8.5 + rng.uniform(0, 1.5))
                events.append((_S.OUT_FOR_DELIVERY, out, "702", f"{there}邮政投递部", "再次投递"))
                attempt = out + timedelta(minutes=round(rng.uniform(1, 6) * 60))
            if rng.random() < self.pickup_point_rate:
                events.append((_S.AT_PICKUP_POINT, attempt, "747", f"{there}智能包裹柜", "已入柜"))
                attempt += timedelta(minutes=round(rng.uniform(2, 30) * 60))
                events.append((_S.DELIVERED, attempt, "748", f"{there}智能包裹柜", "已取件"))
            else:
                events.append((_S.DELIVERED, attempt, "704", f"{there}邮政投递部", "已签收"))
        return [self._event(order, *row) for row in events]


def _event_document(event: TrackingEvent) -> dict[str, Any]:
    return {
        "event_id": event.event_id,
        "tracking_number": str(event.tracking_number),
        "status": event.status.value,
        "occurred_at": event.occurred_at.isoformat(),
        "location": event.location,
        "carrier_code": event.carrier_code,
        "description": event.description,
        "revokes": event.revokes,
    }


_EVENT_FIELDS = frozenset(
    {
        "event_id",
        "tracking_number",
        "status",
        "occurred_at",
        "location",
        "carrier_code",
        "description",
        "revokes",
    }
)


def _event_from(item: Mapping[str, Any]) -> TrackingEvent:
    """An event from its pushed fields (all present); a bad value is a ``ValidationError``."""
    when = item["occurred_at"]
    try:
        occurred_at = datetime.fromisoformat(when) if isinstance(when, str) else when
    except ValueError:
        raise ValidationError(f"occurred_at {short(when)} is not an ISO 8601 time") from None
    return TrackingEvent(
        event_id=item["event_id"],
        tracking_number=item["tracking_number"],
        status=item["status"],
        occurred_at=occurred_at,
        location=item["location"],
        carrier_code=item["carrier_code"],
        description=item["description"],
        revokes=item["revokes"],
    )
