"""What carrier adapters take and give: requests, results, capabilities and their protocols.

Pure data and ``typing.Protocol`` declarations; nothing here speaks HTTP.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any, Literal, Protocol, overload

import attrs

from govpost._fields import aware, check_weight, coerce_enum, division, optional_text, text
from govpost._limits import check_utf8
from govpost.errors import CarrierError, UnknownCarrierError, ValidationError
from govpost.identifiers import TrackingNumber
from govpost.money import Money
from govpost.privacy import scrub
from govpost.regions import Division, Zone, zone_between

# TrackingEvent at run time: the wire format reads PushMessage's annotations.
from govpost.shipments import Recipient, Shipment, TrackingEvent

__all__ = [
    "Booking",
    "BookingCarrier",
    "BookingRequest",
    "CancellingCarrier",
    "Capability",
    "Carrier",
    "PushCarrier",
    "PushMessage",
    "Quote",
    "QuoteRequest",
    "QuotingCarrier",
    "TrackingCarrier",
    "pushes_authenticated",
    "require",
    "supports",
]


class Capability(enum.Enum):
    """One thing a carrier adapter can do. An adapter declares its set in ``capabilities``.

    .. versionadded:: 0.1.0
    """

    QUOTE = "quote"  #: estimate the postage of a piece (:class:`QuotingCarrier`)
    BOOK = "book"  #: create an order / book a pickup (:class:`BookingCarrier`)
    CANCEL = "cancel"  #: cancel an order before pickup (:class:`CancellingCarrier`)
    TRACK = "track"  #: query the tracking events of a waybill (:class:`TrackingCarrier`)
    PUSH = "push"  #: verify and read pushed tracking (:class:`PushCarrier`)


def utc_now() -> datetime:
    """The current instant, aware, in UTC: the default clock of the adapters, inbox and journal."""
    return datetime.now(UTC)


def _weight_g(value: int) -> int:
    return check_weight(value, "weight_g")


def _contact(what: str) -> Callable[[object, object, Any], None]:
    def check(instance: object, attribute: object, value: Any) -> None:
        if not isinstance(value, Recipient):
            raise ValidationError(f"{what} must be a govpost.shipments.Recipient")
        missing = [f for f in ("mobile", "address") if getattr(value, f) is None]
        if missing:
            # Which field is missing is the news; the person (even masked) is not needed.
            raise ValidationError(
                f"{what} has no {' and no '.join(missing)}: the carrier calls and visits them; "
                f"set Recipient.{missing[0]}"
            )

    return check


def _contents(value: str) -> str:
    return text(value, "contents", max_len=200)


def _pickup_notes(value: str | None) -> str | None:
    return optional_text(value, "pickup notes", max_len=500)


def _carrier_name(value: str) -> str:
    return text(value, "carrier name", max_len=64)


def _order_id(value: str) -> str:
    return text(value, "order id", max_len=64)


def _zone(value: Zone | str) -> Zone:
    return coerce_enum(Zone, value, "zone")


def _raw(value: str | None) -> str | None:
    given: object = value
    if given is None:
        return None
    if not isinstance(given, str):
        raise ValidationError(
            f"raw must be the carrier's answer as text (str) or None, not "
            f"{type(given).__name__}: decode the answer first"
        )
    return check_utf8(given, "the carrier's answer (raw)")


def _booked_at(value: datetime) -> datetime:
    return aware(value, "booked_at")


@attrs.frozen(kw_only=True)
class QuoteRequest:
    """A postage estimate request: from where to where, how heavy.

    Args:
        origin: division the piece leaves from.
        destination: division it goes to.
        weight_g: weight in integer grams.
        declared_value: value declared for insurance (保价), if any.

    >>> QuoteRequest(origin="520102", destination="522601", weight_g=300).zone.label
    '省内'

    .. versionadded:: 0.1.0
    """

    origin: Division = attrs.field(converter=division)
    destination: Division = attrs.field(converter=division)
    weight_g: int = attrs.field(converter=_weight_g)
    declared_value: Money | None = attrs.field(
        default=None, validator=attrs.validators.optional(attrs.validators.instance_of(Money))
    )

    @property
    def zone(self) -> Zone:
        """The postal zone from origin to destination."""
        return zone_between(self.origin, self.destination)

    @classmethod
    def for_shipment(cls, shipment: Shipment) -> QuoteRequest:
        """The quote request that describes ``shipment``."""
        return cls(
            origin=shipment.origin,
            destination=shipment.destination,
            weight_g=shipment.weight_g,
            declared_value=shipment.declared_value,
        )


@attrs.frozen(kw_only=True)
class Quote:
    """A carrier's postage estimate.

    Args:
        carrier: name of the carrier adapter that answered.
        amount: the postage.
        zone: the zone it was priced for.
        raw: the carrier's answer as received, as text (``None`` when the carrier has none,
            as the sandbox); kept for support, in the wire format too, but not compared and
            not shown in repr (it may hold personal data).

    .. versionadded:: 0.1.0
    .. versionchanged:: 0.2.0
       ``raw`` is ``str | None`` (it was ``object``), so a quote round-trips through JSON.
    """

    carrier: str = attrs.field(converter=_carrier_name)
    amount: Money = attrs.field(validator=attrs.validators.instance_of(Money))
    zone: Zone = attrs.field(converter=_zone)
    raw: str | None = attrs.field(default=None, converter=_raw, eq=False, repr=False)


def _has_recipient(instance: object, attribute: object, value: Shipment) -> None:
    if not isinstance(value, Shipment):
        raise ValidationError("shipment must be a govpost.shipments.Shipment")
    if value.recipient is None:
        raise ValidationError(
            f"shipment {value.id} has no recipient: set Shipment.recipient before booking"
        )
    _contact(f"recipient of shipment {value.id}")(instance, attribute, value.recipient)


@attrs.frozen(kw_only=True)
class BookingRequest:
    """Everything a carrier needs to create an order (下单) and pick the piece up.

    The shipment's ``id`` is the order id sent to the carrier; it is also the idempotency key:
    booking the same id twice gives the same waybill, never two.

    Args:
        shipment: the piece; its recipient needs a mobile number and an address.
        sender: who hands the piece over (the service center's postal window, or the applicant
            for materials sent to the center); needs a mobile number and an address.
        contents: what is inside, as printed on the waybill (default 证照, certificates); at
            most 200 characters.
        pickup_notes: a note for the courier, if any; at most 500 characters.

    Both texts may hold personal data ("张三的驾驶证", "call 139…"): the repr shows the
    contents scrubbed (:func:`govpost.privacy.scrub`, with the names and addresses of both
    contacts) and only the length of the notes::

        >>> from govpost.testing import sample_booking_request
        >>> request = attrs.evolve(
        ...     sample_booking_request("GZ-7"),
        ...     contents="欧阳娜娜的营业执照",
        ...     pickup_notes="先打 139 8521 2345",
        ... )
        >>> repr(request).partition("contents=")[2]
        "'欧阳**的营业执照', pickup_notes=<16 characters>)"

    Raises:
        ValidationError: a missing recipient, a contact without mobile or address, blank or
            too long contents or notes.

    .. versionadded:: 0.1.0
    .. versionchanged:: 0.2.0
       The repr no longer shows the pickup notes; contents and notes are checked.
    """

    shipment: Shipment = attrs.field(validator=_has_recipient)
    sender: Recipient = attrs.field(validator=_contact("sender"))
    contents: str = attrs.field(default="证照", converter=_contents)
    pickup_notes: str | None = attrs.field(default=None, converter=_pickup_notes)

    def __repr__(self) -> str:
        contacts = (self.recipient, self.sender)
        known = [v for c in contacts for v in (c.name, c.address) if v is not None]
        contents = scrub(self.contents, known=known)
        notes = None if self.pickup_notes is None else f"<{len(self.pickup_notes)} characters>"
        return (
            f"BookingRequest(shipment={self.shipment!r}, sender={self.sender!r}, "
            f"contents={contents!r}, pickup_notes={notes})"
        )

    @property
    def order_id(self) -> str:
        """The order id sent to the carrier, which is the shipment's id."""
        return self.shipment.id

    @property
    def recipient(self) -> Recipient:
        """The shipment's recipient, whose presence the request checked when it was built."""
        recipient = self.shipment.recipient
        assert recipient is not None  # guaranteed by the validator
        return recipient


@attrs.frozen(kw_only=True)
class Booking:
    """A carrier's confirmation of an order.

    Args:
        carrier: name of the carrier adapter.
        order_id: our order id (the shipment id).
        tracking_number: the waybill number the carrier assigned.
        booked_at: when the carrier confirmed it (timezone-aware).
        duplicate: ``True`` when the carrier already had this order (a retried booking) and
            answered with the existing waybill: the piece is booked once, not twice.
        raw: the carrier's answer as received, as text (``None`` when the carrier has none,
            as the sandbox); kept for support, in the wire format too, but not compared and
            not shown in repr (it may hold personal data).

    .. versionadded:: 0.1.0
    .. versionchanged:: 0.2.0
       ``raw`` is ``str | None`` (it was ``object``), so a booking round-trips through JSON.
    """

    carrier: str = attrs.field(converter=_carrier_name)
    order_id: str = attrs.field(converter=_order_id)
    tracking_number: TrackingNumber = attrs.field(
        validator=attrs.validators.instance_of(TrackingNumber)
    )
    booked_at: datetime = attrs.field(converter=_booked_at)
    duplicate: bool = attrs.field(default=False, validator=attrs.validators.instance_of(bool))
    raw: str | None = attrs.field(default=None, converter=_raw, eq=False, repr=False)


@attrs.frozen(kw_only=True)
class PushMessage:
    """A verified push: the carrier's message id and the tracking events it carried.

    Args:
        message_id: the carrier's id of the message (EMS ``serialNo``), used to ignore
            duplicates; ``None`` when the carrier sends none.
        events: the tracking events, in the order received.

    .. versionadded:: 0.1.0
    """

    message_id: str | None
    events: tuple[TrackingEvent, ...]


class Carrier(Protocol):
    """What every carrier adapter has: a name and the capabilities it declares.

    .. versionadded:: 0.1.0
    """

    @property
    def name(self) -> str:
        """The adapter's name, as registered in the ``govpost.carriers`` entry-point group."""
        ...

    @property
    def capabilities(self) -> frozenset[Capability]:
        """What this adapter supports; each capability's protocol is implemented."""
        ...


class QuotingCarrier(Carrier, Protocol):
    """A carrier that estimates postage (:attr:`Capability.QUOTE`).

    .. versionadded:: 0.1.0
    """

    def quote(self, request: QuoteRequest) -> Quote:
        """The postage for ``request``; raises :class:`~govpost.errors.CarrierError`."""
        ...


class BookingCarrier(Carrier, Protocol):
    """A carrier that creates orders (:attr:`Capability.BOOK`).

    ``book`` is idempotent on ``request.order_id``: booking again returns the same waybill.

    .. versionadded:: 0.1.0
    """

    def book(self, request: BookingRequest) -> Booking:
        """Create the order; raises :class:`~govpost.errors.CarrierError`."""
        ...


class CancellingCarrier(Carrier, Protocol):
    """A carrier that cancels orders before pickup (:attr:`Capability.CANCEL`).

    .. versionadded:: 0.1.0
    """

    def cancel(self, order_id: str, *, tracking_number: TrackingNumber | None = None) -> None:
        """Cancel the order; raises :class:`~govpost.errors.CarrierError` when refused."""
        ...


class TrackingCarrier(Carrier, Protocol):
    """A carrier that answers tracking queries (:attr:`Capability.TRACK`).

    .. versionadded:: 0.1.0
    """

    def track(self, tracking_number: TrackingNumber) -> tuple[TrackingEvent, ...]:
        """Every event the carrier has for the waybill, oldest first."""
        ...


class PushCarrier(Carrier, Protocol):
    """A carrier that pushes tracking to us (:attr:`Capability.PUSH`).

    ``parse_push`` verifies before it reads: a message that fails verification raises
    :class:`~govpost.errors.WebhookVerificationError` and yields nothing.

    ``pushes_authenticated`` declares whether that verification proves a push is the carrier's,
    unaltered (an HMAC over the whole body: ``True``), or only that it was sealed with our key
    (EMS's SM4-ECB envelope, whose blocks can be rearranged: ``False``). An adapter that does
    not have the attribute is treated as ``False``
    (:class:`~govpost.carriers.webhooks.PushInbox` then confirms terminal statuses through the
    adapter's tracking).

    .. versionadded:: 0.1.0
    .. versionchanged:: 0.2.0
       ``pushes_authenticated``.
    """

    @property
    def pushes_authenticated(self) -> bool:
        """Whether a verified push is proven to be the carrier's, unaltered."""
        ...

    def parse_push(self, body: bytes, headers: Mapping[str, str]) -> PushMessage:
        """Verify and read one pushed HTTP request.

        Args:
            body: the raw request body, exactly as received.
            headers: the request headers.
        """
        ...


_METHODS: dict[Capability, str] = {
    Capability.QUOTE: "quote",
    Capability.BOOK: "book",
    Capability.CANCEL: "cancel",
    Capability.TRACK: "track",
    Capability.PUSH: "parse_push",
}


def pushes_authenticated(carrier: object) -> bool:
    """Whether ``carrier`` declares its pushes authenticated (``pushes_authenticated is True``).

    Anything else — ``False``, a missing attribute, a value that is not a bool — means not
    authenticated: a claim of authenticity is never guessed.

    >>> from govpost.carriers.sandbox import SandboxCarrier
    >>> pushes_authenticated(SandboxCarrier()), pushes_authenticated(object())
    (True, False)

    .. versionadded:: 0.2.0
    """
    return getattr(carrier, "pushes_authenticated", False) is True


def supports(carrier: Carrier, capability: Capability) -> bool:
    """Whether ``carrier`` declares ``capability``.

    >>> from govpost.carriers.sandbox import SandboxCarrier
    >>> supports(SandboxCarrier(), Capability.TRACK)
    True

    .. versionadded:: 0.1.0
    """
    return capability in carrier.capabilities


@overload
def require(carrier: Carrier, capability: Literal[Capability.QUOTE]) -> QuotingCarrier: ...
@overload
def require(carrier: Carrier, capability: Literal[Capability.BOOK]) -> BookingCarrier: ...
@overload
def require(carrier: Carrier, capability: Literal[Capability.CANCEL]) -> CancellingCarrier: ...
@overload
def require(carrier: Carrier, capability: Literal[Capability.TRACK]) -> TrackingCarrier: ...
@overload
def require(carrier: Carrier, capability: Literal[Capability.PUSH]) -> PushCarrier: ...
def require(carrier: Carrier, capability: Capability) -> Carrier:
    """``carrier``, typed as the protocol of ``capability``, if it declares that capability.

    Raises:
        CarrierError: the adapter does not declare the capability (code ``"unsupported"``).

    >>> from govpost.carriers.sandbox import SandboxCarrier
    >>> booking = require(SandboxCarrier(), Capability.BOOK)  # typed as BookingCarrier

    .. versionadded:: 0.1.0
    """
    if capability not in carrier.capabilities:
        declared = ", ".join(sorted(c.value for c in carrier.capabilities)) or "nothing"
        raise CarrierError(
            f"carrier {carrier.name!r} does not support {capability.value!r} (it declares "
            f"{declared}): choose a carrier that does, or check supports() first",
            code="unsupported",
        )
    return carrier


def check_declared(carrier: object, origin: str) -> None:
    """Check that a loaded object is a carrier whose declared capabilities are implemented."""
    capabilities = getattr(carrier, "capabilities", None)
    name = getattr(carrier, "name", None)
    problem = None
    if not isinstance(name, str) or not name:
        problem = "it has no 'name' string"
    elif not isinstance(capabilities, frozenset) or not all(
        isinstance(c, Capability) for c in capabilities
    ):
        problem = "its 'capabilities' is not a frozenset of govpost.carriers.Capability"
    else:
        missing = [
            _METHODS[c] for c in capabilities if not callable(getattr(carrier, _METHODS[c], None))
        ]
        if missing:
            problem = f"it declares capabilities whose methods are missing: {', '.join(missing)}"
        elif not isinstance(getattr(carrier, "pushes_authenticated", False), bool):
            problem = "its 'pushes_authenticated' is not True or False"
    if problem is not None:
        raise UnknownCarrierError(
            f"{origin} did not give a govpost carrier: {problem}; fix the plug-in",
            code="invalid_plugin",
        )
