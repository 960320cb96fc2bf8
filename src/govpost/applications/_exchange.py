"""The online-hall exchange: versioned JSON messages between the online hall and the carrier."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from datetime import datetime
from types import MappingProxyType
from typing import Any, TypeVar

import attrs

from govpost._fields import EVENT_ID as _CARRIER_EVENT_ID
from govpost._fields import ID as _ORDER_ID
from govpost._fields import aware, coerce_enum, short
from govpost._limits import load_json
from govpost.applications._application import (
    _EVENT_ID,
    _REFERENCE,
    MAX_EVENT_ID,
    RESULT_SUFFIX,
    Application,
    ApplicationEvent,
    ApplicationEventKind,
    ApplicationStatus,
)
from govpost.applications._catalogue import ServiceCatalogue, service_code
from govpost.applications._wire import pinpointed
from govpost.centers import BusinessLine, ServiceCenter, center_code
from govpost.errors import DeserializationError, ValidationError
from govpost.identifiers import TrackingNumber
from govpost.regions import Division
from govpost.shipments import Recipient, Shipment, ShipmentStatus, TrackingEvent

# The patterns of what the messages carry are those of the models that hold them: an
# application reference and event id (Application, ApplicationEvent), a shipment id and a
# carrier's event id (govpost._fields.ID and EVENT_ID, as Shipment and TrackingEvent hold them).


def _matching(pattern: re.Pattern[str], value: object, what: str, rule: str) -> str:
    if not isinstance(value, str) or not pattern.fullmatch(value):
        raise ValidationError(f"{what} {short(value, code=True)} must be {rule}")
    return value


def _reference(value: str) -> str:
    return _matching(
        _REFERENCE,
        value,
        "application reference",
        "1-60 letters, digits, '-', '_', '.' or ':' (e.g. '520000-20180930-0001')",
    )


def _order_id(value: str) -> str:
    return _matching(
        _ORDER_ID, value, "order id", "1-64 letters, digits, '-', '_', '.' or ':' (a shipment id)"
    )


def _carrier_event_id(value: str) -> str:
    return _matching(
        _CARRIER_EVENT_ID, value, "event id", "1-128 printable characters without spaces"
    )


def _event_id(value: str) -> str:
    return _matching(
        _EVENT_ID, value, "event id", f"1-{MAX_EVENT_ID} printable characters without spaces"
    )


def _center(value: ServiceCenter | str) -> str:
    return center_code(value)


def _service(value: str) -> str:
    return service_code(value)


def _line(value: BusinessLine | str) -> BusinessLine:
    return coerce_enum(BusinessLine, value, "business line")


def _time(value: datetime) -> datetime:
    return aware(value, "time")


def _division(value: Division | str) -> Division:
    return Division.parse(value)


def _weight(value: int) -> int:
    given: object = value
    if isinstance(given, bool) or not isinstance(given, int) or not 0 < given <= 1_000_000:
        raise ValidationError(f"weight_g {short(given)} must be an int of 1-1,000,000 grams")
    return given


def _addressee(value: Recipient) -> Recipient:
    given: object = value
    if not isinstance(given, Recipient):
        raise ValidationError(f"applicant must be a Recipient, not {type(given).__name__}")
    if given.mobile is None or given.address is None:
        raise ValidationError(
            "the applicant of a delivery order needs a mobile and an address to deliver to"
        )
    return given


def _status(value: ShipmentStatus | str) -> ShipmentStatus:
    return coerce_enum(ShipmentStatus, value, "carrier status")


def _tracking(value: TrackingNumber | str) -> TrackingNumber:
    return value if isinstance(value, TrackingNumber) else TrackingNumber(value=value)


def _optional_status(value: ApplicationStatus | str | None) -> ApplicationStatus | None:
    return None if value is None else coerce_enum(ApplicationStatus, value, "application status")


@attrs.frozen(kw_only=True)
class DeliveryOrder:
    """``delivery_order`` v1 (hall → carrier): mail the result of an approved application.

    Build it with :meth:`of`; the carrier books it under ``order_id``, its idempotency key.

    .. versionadded:: 0.2.0
    """

    order_id: str = attrs.field(converter=_order_id)
    reference: str = attrs.field(converter=_reference)
    center: str = attrs.field(converter=_center)
    service: str = attrs.field(converter=_service)
    business_line: BusinessLine = attrs.field(converter=_line)
    approved_at: datetime = attrs.field(converter=_time)
    origin: Division = attrs.field(converter=_division)
    destination: Division = attrs.field(converter=_division)
    weight_g: int = attrs.field(converter=_weight)
    applicant: Recipient = attrs.field(converter=_addressee)

    def __attrs_post_init__(self) -> None:
        if self.order_id != self.reference + RESULT_SUFFIX:
            raise ValidationError(
                f"order id {self.order_id!r} must be the reference and {RESULT_SUFFIX!r} "
                f"({self.reference + RESULT_SUFFIX!r}): the result's shipment id, which the "
                f"carrier keys the order on"
            )

    @classmethod
    def of(
        cls,
        application: Application,
        center: ServiceCenter,
        catalogue: ServiceCatalogue,
        **shipment_options: Any,
    ) -> DeliveryOrder:
        """The order for ``application``'s result, from its outbound shipment.

        ``shipment_options`` (``weight_g``, ``created_at``) go to
        :meth:`Application.outbound_shipment`.

        Raises:
            InvalidTransitionError: the application was not approved or chose ``COLLECT``.
            ValidationError: as :meth:`Application.outbound_shipment`.
        """
        shipment = application.outbound_shipment(center, catalogue, **shipment_options)
        assert shipment.recipient is not None
        assert shipment.approved_at is not None
        return cls(
            order_id=shipment.id,
            reference=application.reference,
            center=shipment.center,
            service=application.service,
            business_line=shipment.business_line,
            approved_at=shipment.approved_at,
            origin=shipment.origin,
            destination=shipment.destination,
            weight_g=shipment.weight_g,
            applicant=shipment.recipient,
        )


@attrs.frozen(kw_only=True)
class CarrierStatus:
    """``carrier_status`` v1 (carrier → hall): one tracking event of a result's waybill.

    .. versionadded:: 0.2.0
    """

    order_id: str = attrs.field(converter=_order_id)
    reference: str = attrs.field(converter=_reference)
    tracking_number: TrackingNumber = attrs.field(converter=_tracking)
    event_id: str = attrs.field(converter=_carrier_event_id)
    status: ShipmentStatus = attrs.field(converter=_status)
    occurred_at: datetime = attrs.field(converter=_time)

    @classmethod
    def of(cls, shipment: Shipment, event: TrackingEvent) -> CarrierStatus:
        """The message reporting ``event`` of ``shipment`` (which must carry its reference).

        Raises:
            ValidationError: the shipment has no application reference, or the event is of
                another waybill.
        """
        if shipment.application_ref is None:
            raise ValidationError(
                f"shipment {shipment.id} has no application_ref: it is not an application's"
            )
        if event.tracking_number != shipment.tracking_number:
            raise ValidationError(
                f"event {event.event_id!r} is of waybill {event.tracking_number}, not "
                f"{shipment.tracking_number} of shipment {shipment.id}"
            )
        return cls(
            order_id=shipment.id,
            reference=shipment.application_ref,
            tracking_number=event.tracking_number,
            event_id=event.event_id,
            status=event.status,
            occurred_at=event.occurred_at,
        )


#: What a carrier status means for the application: the pickup scan is the dispatch of the
#: result, the delivery scan its delivery; every other status leaves the application as it is.
CARRIER_TO_APPLICATION: Mapping[ShipmentStatus, ApplicationStatus] = MappingProxyType(
    {
        ShipmentStatus.PICKED_UP: ApplicationStatus.RESULT_DISPATCHED,
        ShipmentStatus.DELIVERED: ApplicationStatus.RESULT_DELIVERED,
    }
)


@attrs.frozen(kw_only=True)
class ApplicationStatusMessage:
    """``application_status`` v1 (to the hall): what a carrier status means for an application.

    Attributes:
        reference: the application (办件编号).
        status: the application status the carrier's status implies, or ``None`` when it
            changes nothing (a scan in transit, say).
        carrier_status: the carrier's status, for the hall to show.
        tracking_number: the waybill.
        event_id: the application event's id: ``"carrier:"`` and the carrier's event id.
        occurred_at: when.
        may_close: whether the application may now be closed (the result was delivered).

    .. versionadded:: 0.2.0
    """

    reference: str = attrs.field(converter=_reference)
    status: ApplicationStatus | None = attrs.field(converter=_optional_status)
    carrier_status: ShipmentStatus = attrs.field(converter=_status)
    tracking_number: TrackingNumber = attrs.field(converter=_tracking)
    event_id: str = attrs.field(converter=_event_id)
    occurred_at: datetime = attrs.field(converter=_time)
    may_close: bool = attrs.field(validator=attrs.validators.instance_of(bool))

    def __attrs_post_init__(self) -> None:
        # The message only carries what the carrier's status means: a document claiming that
        # a scan in transit approved or closed the application is refused, not applied.
        implied = CARRIER_TO_APPLICATION.get(self.carrier_status)
        if self.status is not implied:
            raise ValidationError(
                f"status {self.status and self.status.value!r} does not follow from the carrier "
                f"status {self.carrier_status.value!r}: it implies "
                f"{implied and implied.value!r} (see CARRIER_TO_APPLICATION)"
            )
        if self.may_close is not (implied is ApplicationStatus.RESULT_DELIVERED):
            raise ValidationError(
                f"may_close {self.may_close} does not follow from the carrier status "
                f"{self.carrier_status.value!r}: only a delivered result may close"
            )

    @classmethod
    def of(cls, carrier: CarrierStatus) -> ApplicationStatusMessage:
        """Translate a carrier status through :data:`CARRIER_TO_APPLICATION`."""
        status = CARRIER_TO_APPLICATION.get(carrier.status)
        return cls(
            reference=carrier.reference,
            status=status,
            carrier_status=carrier.status,
            tracking_number=carrier.tracking_number,
            event_id=f"carrier:{carrier.event_id}",
            occurred_at=carrier.occurred_at,
            may_close=status is ApplicationStatus.RESULT_DELIVERED,
        )

    def event(self) -> ApplicationEvent | None:
        """The :class:`ApplicationEvent` to apply to the application, if any."""
        if self.status is None:
            return None
        return ApplicationEvent(
            event_id=self.event_id,
            kind=ApplicationEventKind(self.status.value),
            occurred_at=self.occurred_at,
            tracking_number=self.tracking_number,
        )


Message = DeliveryOrder | CarrierStatus | ApplicationStatusMessage
M = TypeVar("M", DeliveryOrder, CarrierStatus, ApplicationStatusMessage)

#: Every message type, by its ``type`` on the wire, and the versions govpost reads.
MESSAGE_TYPES: Mapping[str, tuple[type[Any], tuple[int, ...]]] = MappingProxyType(
    {
        "delivery_order": (DeliveryOrder, (1,)),
        "carrier_status": (CarrierStatus, (1,)),
        "application_status": (ApplicationStatusMessage, (1,)),
    }
)
_TYPE_OF: dict[type[Any], str] = {cls: name for name, (cls, _) in MESSAGE_TYPES.items()}

#: The version :func:`encode` writes.
CURRENT_VERSION = 1


def encode(message: Message) -> str:
    """``message`` as a JSON document: ``type`` and ``version`` first, then its fields.

    >>> from datetime import datetime
    >>> from govpost.periods import SHANGHAI
    >>> print(encode(CarrierStatus(order_id="R-1-R", reference="R-1",
    ...     tracking_number="EA123456785CN", event_id="e1", status="delivered",
    ...     occurred_at=datetime(2018, 10, 9, 10, 0, tzinfo=SHANGHAI))))
    {"type": "carrier_status", "version": 1, "order_id": "R-1-R", "reference": "R-1", "tracking_number": "EA123456785CN", "event_id": "e1", "status": "delivered", "occurred_at": "2018-10-09T10:00:00+08:00"}

    Raises:
        ValidationError: ``message`` is not an exchange message.
    """
    from govpost.serialization import to_primitive

    name = _TYPE_OF.get(type(message))
    if name is None:
        raise ValidationError(
            f"encode() writes DeliveryOrder, CarrierStatus or ApplicationStatusMessage, not "
            f"{type(message).__name__}"
        )
    body = {"type": name, "version": CURRENT_VERSION, **to_primitive(message)}
    return json.dumps(body, ensure_ascii=False, allow_nan=False)


def decode(text: str | bytes) -> Message:
    """Read an exchange message, strictly: any input gives a message or a govpost error.

    Args:
        text: the JSON document.

    Raises:
        DeserializationError: not JSON, not an object, an unknown ``type``, a ``version``
            govpost does not read (the message lists those it does), or a bad field — named by its path, e.g. ``@ $.applicant.mobile``.
    """
    message: Message = _decode(text, None)
    return message


def _decode(text: str | bytes, cls: type[Any] | None) -> Any:
    try:
        data = load_json(text, what="the exchange message")
    except ValidationError as exc:
        raise DeserializationError(f"cannot read the exchange message: {exc}") from exc
    if not isinstance(data, dict):
        raise DeserializationError(
            'cannot read the exchange message: it must be a JSON object with a "type" and a '
            '"version" @ $'
        )
    name = data.get("type")
    if not isinstance(name, str) or name not in MESSAGE_TYPES:
        raise DeserializationError(
            f"cannot read the exchange message: type {short(name, code=True)} is not one of "
            f"{', '.join(MESSAGE_TYPES)} @ $.type"
        )
    kind, versions = MESSAGE_TYPES[name]
    version = data.get("version")
    # Exactly an int: true (== 1) and 1.0 are not version 1 to a strict reader.
    if type(version) is not int or version not in versions:
        raise DeserializationError(
            f"cannot read {name}: version {short(version, code=True)} is not supported; govpost reads "
            f"version {', '.join(str(v) for v in versions)} of {name} @ $.version"
        )
    if cls is not None and kind is not cls:
        raise DeserializationError(f"cannot read {cls.__name__}: the message is a {name} @ $.type")
    body = {k: v for k, v in data.items() if k not in ("type", "version")}
    return _read(body, kind)


def decode_as(text: str | bytes, cls: type[M]) -> M:
    """:func:`decode` for one expected message class, typed as that class.

    Raises:
        DeserializationError: as :func:`decode`, or the message is of another type.

    >>> decode_as('{"type": "delivery_order", "version": 2}', DeliveryOrder)
    Traceback (most recent call last):
    ...
    govpost.errors.DeserializationError: cannot read delivery_order: version 2 is not supported; govpost reads version 1 of delivery_order @ $.version
    """
    message: M = _decode(text, cls)
    return message


def _read(data: dict[str, Any], cls: type[Any]) -> Any:
    from govpost.serialization import from_primitive

    try:
        return from_primitive(data, cls)
    except DeserializationError as exc:
        sharper = pinpointed(exc, data, cls)
        if sharper is exc:
            raise
        raise sharper from exc
