"""Shipments: what is sent, from where to whom, and where it stands.

A :class:`Shipment` is the record settlement reads: which center sent it under which business
line and direction, from where to where, how heavy (integer grams), whether insured, and the
times that make it billable — picked up (揽收), returned (退回), cancelled. Personal data of the
recipient is masked in every ``repr``::

    >>> from datetime import datetime
    >>> from zoneinfo import ZoneInfo
    >>> r = Recipient(name="欧阳娜娜", mobile="13800138000", address="贵州省贵阳市南明区中华南路1号")
    >>> r
    Recipient(name='欧阳**', mobile='138****8000', address='贵州省贵阳市*********')

Tracking: :meth:`Shipment.apply` folds the carrier's :class:`TrackingEvent` s into the status
through the declared :data:`TRANSITIONS` (idempotent, independent of arrival order; events it
cannot apply are kept in :attr:`Shipment.anomalies` with the reason). A carrier that re-sends an
event under the same id with corrected content issues a *correction*: the version applied later
replaces the earlier one, which is kept in :attr:`Shipment.superseded`. Reading a shipment costs
O(N log N) in its N events, revocations and corrections included.

Time limits (时限) — :class:`~govpost.timelimits.DeliveryTimeLimits`,
:class:`~govpost.timelimits.StageDurations`, :func:`~govpost.timelimits.working_time_between`
— live in :mod:`govpost.timelimits`; this module still exports them.

.. versionadded:: 0.1.0

.. versionchanged:: 0.2.0
   The time limits moved to :mod:`govpost.timelimits`.
"""

from __future__ import annotations

import bisect
import enum
import itertools
from collections.abc import Iterable, Mapping
from contextvars import ContextVar
from datetime import datetime
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

import attrs

from govpost._fields import EVENT_ID as _EVENT_ID
from govpost._fields import ID as _ID
from govpost._fields import MAX_WEIGHT_G as _MAX_WEIGHT_G
from govpost._fields import aware, check_weight, coerce_enum, division, short, text
from govpost.centers import BusinessLine, ServiceCenter, center_code
from govpost.errors import InvalidTransitionError, ValidationError
from govpost.identifiers import (
    TrackingNumber,
    mask_address,
    mask_mobile,
    mask_name,
    validate_mobile,
)
from govpost.money import Money
from govpost.regions import Division, Zone, zone_between

if TYPE_CHECKING:
    from govpost.timelimits import DeliveryTimeLimits, StageDurations, working_time_between

#: The heaviest piece govpost records or prices, in grams; also
#: :data:`govpost.agreements.MAX_WEIGHT_G`.
#:
#: .. versionadded:: 0.2.0
#:
#: .. versionchanged:: 0.2.0
#:    Defined in ``govpost._fields``, the one home of the weight rule.
MAX_WEIGHT_G = _MAX_WEIGHT_G

__all__ = [
    "MAX_WEIGHT_G",
    "RETURN_LEG",
    "REVOKE_PREVIOUS",
    "STATUS_PRECEDENCE",
    "TRANSITIONS",
    "Anomaly",
    "DeliveryTimeLimits",
    "Direction",
    "Recipient",
    "Shipment",
    "ShipmentStatus",
    "StageDurations",
    "TrackingEvent",
    "working_time_between",
]


class Direction(enum.Enum):
    """Which way a shipment goes between applicant and center."""

    OUTBOUND_RESULT = "outbound_result"  #: 办结结果寄递给申请人: the result to the applicant
    INBOUND_MATERIAL = "inbound_material"  #: 申请材料寄往中心: materials to the center


class ShipmentStatus(enum.Enum):
    """Where a shipment stands; the transition table lives with tracking."""

    CREATED = "created"
    AWAITING_PICKUP = "awaiting_pickup"
    PICKED_UP = "picked_up"
    IN_TRANSIT = "in_transit"
    OUT_FOR_DELIVERY = "out_for_delivery"
    AT_PICKUP_POINT = "at_pickup_point"
    DELIVERED = "delivered"
    DELIVERY_FAILED = "delivery_failed"
    REFUSED = "refused"
    RETURNING = "returning"
    RETURNED = "returned"
    EXCEPTION = "exception"
    CANCELLED = "cancelled"

    # Members are singletons compared by identity, so identity is a hash consistent with ==;
    # Enum's own hashes the name in Python, and deriving a shipment's state looks statuses up
    # in the transition table a dozen times per event.
    __hash__ = object.__hash__

    @property
    def label(self) -> str:
        """The Chinese name of the status, as carriers and halls show it (已揽收, 已妥投, ...).

        >>> ShipmentStatus.DELIVERED.label, ShipmentStatus.RETURNED.label
        ('已妥投', '已退回')

        .. versionadded:: 0.2.0
        """
        return _STATUS_LABELS[self]


_STATUS_LABELS = {
    ShipmentStatus.CREATED: "已下单",
    ShipmentStatus.AWAITING_PICKUP: "待揽收",
    ShipmentStatus.PICKED_UP: "已揽收",
    ShipmentStatus.IN_TRANSIT: "运输中",
    ShipmentStatus.OUT_FOR_DELIVERY: "派送中",
    ShipmentStatus.AT_PICKUP_POINT: "待自提",
    ShipmentStatus.DELIVERED: "已妥投",
    ShipmentStatus.DELIVERY_FAILED: "投递未成功",
    ShipmentStatus.REFUSED: "拒收",
    ShipmentStatus.RETURNING: "退回中",
    ShipmentStatus.RETURNED: "已退回",
    ShipmentStatus.EXCEPTION: "异常",
    ShipmentStatus.CANCELLED: "已取消",
}


def _name(value: str) -> str:
    return text(value, "recipient name", max_len=100)


def _mobile(value: str | None) -> str | None:
    return None if value is None else validate_mobile(value)


def _address(value: str | None) -> str | None:
    return None if value is None else text(value, "recipient address", max_len=500)


@attrs.frozen(kw_only=True, repr=False)
class Recipient:
    """The person a shipment is addressed to. Every field is personal data, masked in repr.

    Args:
        name: the recipient's name.
        mobile: a mainland mobile number; normalised to its 11 digits.
        address: the delivery address.
    """

    # read from the wire by the direct path of govpost._convert (bulk reads stay cheap)
    _wire_direct = True

    name: str = attrs.field(converter=_name)
    mobile: str | None = attrs.field(default=None, converter=_mobile)
    address: str | None = attrs.field(default=None, converter=_address)

    def __repr__(self) -> str:
        mobile = None if self.mobile is None else mask_mobile(self.mobile)
        address = None if self.address is None else mask_address(self.address)
        return f"Recipient(name={mask_name(self.name)!r}, mobile={mobile!r}, address={address!r})"


def _shipment_id(instance: object, attribute: object, value: str) -> None:
    if not isinstance(value, str) or not _ID.fullmatch(value):
        raise ValidationError(
            f"shipment id {short(value)} must be 1-64 letters, digits, '-', '_', '.' or ':' "
            f"(it is also the idempotency key sent to the carrier)"
        )


def _weight(value: int) -> int:
    return check_weight(value, "weight")


def _declared(value: Money | None) -> Money | None:
    given: object = value  # untyped callers pass anything
    if given is None:
        return None
    if not isinstance(given, Money):
        raise ValidationError(f"declared value {short(given)} must be a Money or None")
    if given.amount <= 0:
        raise ValidationError(f"declared value {given} must be positive (or None)")
    return given


def _recipient(value: Recipient | None) -> Recipient | None:
    given: object = value  # untyped callers pass anything
    if given is not None and not isinstance(given, Recipient):
        raise ValidationError(
            f"recipient {short(given)} must be a Recipient(name=..., mobile=..., address=...) "
            f"or None"
        )
    return given


def _business_line(value: BusinessLine | str) -> BusinessLine:
    return coerce_enum(BusinessLine, value)


def _direction(value: Direction | str) -> Direction:
    return coerce_enum(Direction, value)


def _status(value: ShipmentStatus | str) -> ShipmentStatus:
    return coerce_enum(ShipmentStatus, value)


def _created_at(value: datetime) -> datetime:
    return aware(value, "created_at")


def _picked_up_at(value: datetime | None) -> datetime | None:
    return None if value is None else aware(value, "picked_up_at")


def _returned_at(value: datetime | None) -> datetime | None:
    return None if value is None else aware(value, "returned_at")


def _application_ref(value: str | None) -> str | None:
    return None if value is None else text(value, "application reference", max_len=64)


def _center(value: ServiceCenter | str) -> str:
    # The rule of ServiceCenter codes; a ServiceCenter itself stands for its code.
    return center_code(value)


def _approved_at(value: datetime | None) -> datetime | None:
    return None if value is None else aware(value, "approved_at")


def _event_tuple(value: Iterable[TrackingEvent], what: str) -> tuple[TrackingEvent, ...]:
    """The distinct events of ``value`` sorted by :func:`_event_key`.

    A tuple already in that order, without repeats — what :meth:`Shipment.apply` and the wire
    format hand over — is returned as it is: its keys are made once, and no set is built.
    """
    given: object = value  # untyped callers pass anything
    if isinstance(given, str | bytes) or not isinstance(given, Iterable):
        raise ValidationError(f"{what} {short(given)} must be a collection of TrackingEvent")
    events = given if type(given) is tuple else tuple(given)
    keys = []
    for event in events:
        if type(event) is not TrackingEvent and not isinstance(event, TrackingEvent):
            raise ValidationError(f"{what} must be TrackingEvent values, not {short(event)}")
        keys.append(event._key)
    # Equal events have equal keys, so strictly increasing keys mean sorted and distinct.
    if all(a < b for a, b in itertools.pairwise(keys)):
        return events
    return tuple(sorted(set(events), key=_event_key))


def _events(value: Iterable[TrackingEvent]) -> tuple[TrackingEvent, ...]:
    return _event_tuple(value, "events")


def _superseded(value: Iterable[TrackingEvent]) -> tuple[TrackingEvent, ...]:
    return _event_tuple(value, "superseded events")


def _tracking(value: TrackingNumber | str | None) -> TrackingNumber | None:
    if value is None or isinstance(value, TrackingNumber):
        return value
    return TrackingNumber(value=value)


S = ShipmentStatus

# Where an item may go next once the carrier holds it.
_UNDERWAY = frozenset(
    {
        S.IN_TRANSIT,
        S.OUT_FOR_DELIVERY,
        S.AT_PICKUP_POINT,
        S.DELIVERED,
        S.DELIVERY_FAILED,
        S.REFUSED,
        S.RETURNING,
        S.EXCEPTION,
    }
)
#: Legal status changes: ``TRANSITIONS[current]`` is the set of statuses an event may move a
#: shipment to. A carrier's first scan may be any in-network status (the pickup scan is then
#: implied); a final status (delivered, returned, cancelled) has no way out.
TRANSITIONS: Mapping[ShipmentStatus, frozenset[ShipmentStatus]] = MappingProxyType(
    {
        S.CREATED: frozenset(
            {S.AWAITING_PICKUP, S.PICKED_UP, S.IN_TRANSIT, S.CANCELLED, S.EXCEPTION}
        ),
        S.AWAITING_PICKUP: frozenset({S.PICKED_UP, S.IN_TRANSIT, S.CANCELLED, S.EXCEPTION}),
        S.PICKED_UP: _UNDERWAY,
        S.IN_TRANSIT: _UNDERWAY,
        S.OUT_FOR_DELIVERY: _UNDERWAY,
        S.DELIVERY_FAILED: _UNDERWAY,
        S.AT_PICKUP_POINT: frozenset(
            {S.OUT_FOR_DELIVERY, S.DELIVERED, S.REFUSED, S.RETURNING, S.EXCEPTION}
        ),
        S.REFUSED: frozenset({S.RETURNING, S.RETURNED, S.EXCEPTION}),
        S.RETURNING: frozenset({S.RETURNING, S.RETURNED, S.EXCEPTION}),
        S.EXCEPTION: _UNDERWAY | {S.PICKED_UP, S.RETURNED, S.CANCELLED},
        S.DELIVERED: frozenset(),
        S.RETURNED: frozenset(),
        S.CANCELLED: frozenset(),
    }
)

#: On the return leg, the carrier's ordinary scans mean the item travels back to the sender:
#: they keep (or, for a delivery, end) the return.
RETURN_LEG: Mapping[ShipmentStatus, ShipmentStatus] = MappingProxyType(
    {
        S.IN_TRANSIT: S.RETURNING,
        S.OUT_FOR_DELIVERY: S.RETURNING,
        S.AT_PICKUP_POINT: S.RETURNING,
        S.DELIVERY_FAILED: S.RETURNING,
        S.DELIVERED: S.RETURNED,
    }
)

#: Order of events that carry the same timestamp: the lifecycle order, so that a pickup scan
#: and a dispatch scan of the same second apply as pickup, then dispatch.
STATUS_PRECEDENCE: tuple[ShipmentStatus, ...] = (
    S.CREATED,
    S.AWAITING_PICKUP,
    S.EXCEPTION,
    S.PICKED_UP,
    S.IN_TRANSIT,
    S.OUT_FOR_DELIVERY,
    S.AT_PICKUP_POINT,
    S.DELIVERY_FAILED,
    S.DELIVERED,
    S.REFUSED,
    S.RETURNING,
    S.RETURNED,
    S.CANCELLED,
)
_RANK = {status: rank for rank, status in enumerate(STATUS_PRECEDENCE)}

#: Statuses that mean the carrier holds the item, so the first of them is the pickup (揽收).
_IN_CARRIER_HANDS = frozenset(STATUS_PRECEDENCE[3:12])
#: Statuses of a piece the carrier has not taken (or never will): no pickup time goes with them.
_BEFORE_PICKUP = frozenset({S.CREATED, S.AWAITING_PICKUP, S.CANCELLED})

#: ``TrackingEvent.revokes`` value that cancels the latest earlier event of the waybill.
REVOKE_PREVIOUS = "previous"

# No lone surrogate either: such an id could never be sent nor stored.


def _event_id(instance: object, attribute: object, value: str) -> None:
    given: object = value  # untyped callers pass anything
    if not isinstance(given, str) or not _EVENT_ID.fullmatch(given):
        raise ValidationError(
            f"event id {short(given)} must be 1-128 printable characters without spaces"
        )


def _event_tracking(value: TrackingNumber | str) -> TrackingNumber:
    return value if isinstance(value, TrackingNumber) else TrackingNumber(value=value)


def _occurred_at(value: datetime) -> datetime:
    return aware(value, "occurred_at")


def _optional_text(value: str | None) -> str | None:
    return None if value is None else text(value, "event text", max_len=500)


def _revokes(value: str | None) -> str | None:
    if value is not None:
        _event_id(None, None, value)
    return value


@attrs.frozen(kw_only=True, repr=False)
class TrackingEvent:
    """One scan or status report of the carrier about one waybill.

    Args:
        event_id: unique per carrier event; applying the same id twice changes nothing.
        tracking_number: the waybill the event is about.
        status: what the event means for the shipment.
        occurred_at: when it happened (timezone-aware).
        location: where (the carrier's office or city), if known.
        carrier_code: the carrier's own operation code, e.g. EMS ``"704"``.
        description: the carrier's text; may hold a signer's name, so it is not in the repr.
        revokes: the ``event_id`` of an earlier event this one cancels (撤销/删除), or
            :data:`REVOKE_PREVIOUS` for the latest earlier event of the waybill.

    .. versionadded:: 0.1.0
    """

    # read from the wire by the direct path of govpost._convert (bulk reads stay cheap)
    _wire_direct = True

    event_id: str = attrs.field(validator=_event_id)
    tracking_number: TrackingNumber = attrs.field(converter=_event_tracking)
    status: ShipmentStatus = attrs.field(converter=_status)
    occurred_at: datetime = attrs.field(converter=_occurred_at)
    location: str | None = attrs.field(default=None, converter=_optional_text)
    carrier_code: str | None = attrs.field(default=None, converter=_optional_text)
    description: str | None = attrs.field(default=None, converter=_optional_text)
    revokes: str | None = attrs.field(default=None, converter=_revokes)
    # The sort key (see _event_key), made once: shipments sort and compare their events by it.
    _key: tuple[datetime, int, str, str, str, str, str] = attrs.field(
        init=False, eq=False, hash=False, repr=False
    )

    def __attrs_post_init__(self) -> None:
        object.__setattr__(
            self,
            "_key",
            (
                self.occurred_at,
                _RANK[self.status],
                self.event_id,
                self.revokes or "",
                self.carrier_code or "",
                self.location or "",
                self.description or "",
            ),
        )

    @property
    def is_revocation(self) -> bool:
        """Whether this event cancels another instead of reporting a status."""
        return self.revokes is not None

    def __repr__(self) -> str:
        what = f"revokes={self.revokes!r}" if self.revokes else f"status={self.status.name}"
        return (
            f"TrackingEvent(event_id={self.event_id!r}, "
            f"tracking_number='{self.tracking_number}', {what}, "
            f"occurred_at='{self.occurred_at.isoformat()}', carrier_code={self.carrier_code!r})"
        )


def _event_key(event: TrackingEvent) -> tuple[datetime, int, str, str, str, str, str]:
    """The order of events: by time, then :data:`STATUS_PRECEDENCE`, then id and content."""
    return event._key


@attrs.frozen
class Anomaly:
    """An event that was received and kept but not applied, and why."""

    event_id: str
    reason: str


@attrs.frozen
class _State:
    status: ShipmentStatus
    picked_up_at: datetime | None
    returned_at: datetime | None
    delivered_at: datetime | None
    history: tuple[tuple[datetime, ShipmentStatus], ...]
    anomalies: tuple[Anomaly, ...]


def _derive(
    base: ShipmentStatus, events: tuple[TrackingEvent, ...], created_at: datetime
) -> _State:
    """Fold ``events`` (already sorted by :func:`_event_key`) into the shipment's state.

    An event dated before the shipment was created (a skewed clock) is kept as an anomaly: it
    cannot be the pickup of an order that did not exist yet. O(N log N) in the number of events
    (the anomalies are sorted); everything else is one pass.
    """
    anomalies: list[Anomaly] = []
    by_id: dict[str, TrackingEvent] = {}
    for event in events:
        kept = by_id.setdefault(event.event_id, event)
        if kept is not event:
            anomalies.append(Anomaly(event.event_id, "conflicts with another event of the same id"))
    unique = [e for e in events if by_id[e.event_id] is e]
    revoked = _revoked(unique, anomalies)

    status = base
    picked = returned = delivered = None
    history: list[tuple[datetime, ShipmentStatus]] = []
    for event in unique:
        if event.is_revocation or event.event_id in revoked:
            continue
        if event.occurred_at < created_at:
            anomalies.append(
                Anomaly(event.event_id, "dated before the shipment was created (clock skew?)")
            )
            continue
        new = RETURN_LEG.get(event.status, event.status) if status is S.RETURNING else event.status
        if new not in TRANSITIONS[status]:
            final = " (a final status)" if not TRANSITIONS[status] else ""
            anomalies.append(
                Anomaly(event.event_id, f"{status.name} → {new.name} is not allowed{final}")
            )
            continue
        if new is S.CANCELLED and picked is not None:
            anomalies.append(
                Anomaly(event.event_id, "CANCELLED after pickup: the item must be returned")
            )
            continue
        if new is not status:
            history.append((event.occurred_at, new))
        status = new
        if picked is None and new in _IN_CARRIER_HANDS:
            picked = event.occurred_at
        if returned is None and new in (S.RETURNING, S.RETURNED):
            returned = event.occurred_at
        if delivered is None and new is S.DELIVERED:
            delivered = event.occurred_at
    anomalies.sort(key=lambda a: (a.event_id, a.reason))
    return _State(status, picked, returned, delivered, tuple(history), tuple(anomalies))


def _revoked(unique: list[TrackingEvent], anomalies: list[Anomaly]) -> set[str]:
    """The ids the revocations among ``unique`` (sorted, one event per id) cancel.

    Revocations apply in event order, each to an event not yet revoked: the one it names, or
    for :data:`REVOKE_PREVIOUS` the latest (in event order) dated at or before it. A revocation
    that finds no such event is recorded in ``anomalies``. The latest live event before a bound
    is found through a "nearest live index to the left" forest with path compression, so the
    whole pass is O(N log N), not a scan of every earlier event per revocation.
    """
    targets = [e for e in unique if not e.is_revocation]
    index = {e.event_id: i for i, e in enumerate(targets)}
    times = [e.occurred_at for e in targets]  # sorted: events are sorted by time first
    # left[i] == i while targets[i] is live; a revoked i points left, towards a live one.
    left = list(range(len(targets)))

    def live_at_or_before(i: int) -> int:
        root = i
        while root >= 0 and left[root] != root:
            root = left[root]
        while i >= 0 and left[i] != i:
            left[i], i = root, left[i]
        return root

    revoked: set[str] = set()
    for event in unique:
        if event.revokes is None:
            continue
        if event.revokes == REVOKE_PREVIOUS:
            found = live_at_or_before(bisect.bisect_right(times, event.occurred_at) - 1)
        else:
            found = index.get(event.revokes, -1)
            if found >= 0 and left[found] != found:
                found = -1
        if found < 0:
            anomalies.append(Anomaly(event.event_id, f"revokes unknown event {event.revokes!r}"))
            continue
        revoked.add(targets[found].event_id)
        left[found] = found - 1
    return revoked


# apply() derives the state of the events it merges, then builds the new shipment, whose own
# check derives the state of the events it holds: the same events, the same created_at. The
# state is handed over here (per thread and task) so that it is derived once; the check uses
# it only for the very tuple apply() merged (the events converter keeps a sorted tuple as is).
_PENDING: ContextVar[tuple[tuple[TrackingEvent, ...], ShipmentStatus, _State] | None] = ContextVar(
    "govpost.shipments._PENDING", default=None
)


@attrs.frozen(kw_only=True, repr=False)
class Shipment:
    """One item sent through the post under the cooperation.

    Args:
        id: our own order id, unique; also the idempotency key for the carrier.
        center: the code of the :class:`~govpost.centers.ServiceCenter` that sends or receives.
        business_line: the line of cooperation (证照寄递, 税邮, ...).
        direction: result to the applicant, or materials to the center.
        origin: division the item is sent from.
        destination: division it is sent to.
        weight_g: weight in integer grams, > 0.
        created_at: when the order was created (timezone-aware).
        recipient: the addressee, masked in repr.
        declared_value: value declared for insurance (保价), if any.
        return_receipt: whether a return receipt (回执) was ordered.
        tracking_number: the carrier's waybill number, once booked.
        application_ref: the administrative case number (办件编号).
        status: where the shipment stands.
        picked_up_at: when the carrier took it (揽收); the moment it becomes billable.
        returned_at: when the return leg (退回) began, if it did.
        approved_at: when the application was approved (办结), for the time-limit analysis.
        events: the carrier's tracking events received so far (see :meth:`apply`).
        superseded: earlier versions of events the carrier corrected (re-sent under the same
            ``event_id`` with other content); kept for the record, never applied. Each one's id
            is held in ``events`` by the version that replaced it.

    Once events have been applied they are the source of truth: ``status``, ``picked_up_at``
    and ``returned_at`` must agree with them, and :meth:`apply` keeps them so. The state they
    give is derived once, when the shipment is built, and kept: :attr:`anomalies`,
    :attr:`history` and :attr:`delivered_at` cost nothing to read.

    Raises:
        ValidationError: any field out of range: a float or non-positive weight, a naive
            datetime, a pickup before creation, a cancelled shipment with a pickup time, a
            superseded event whose id no event holds.

    .. versionadded:: 0.1.0

    .. versionchanged:: 0.2.0
       ``superseded``: corrected events are kept, not reported as conflicting duplicates.
    """

    # read from the wire by the direct path of govpost._convert (bulk reads stay cheap)
    _wire_direct = True

    id: str = attrs.field(validator=_shipment_id)
    center: str = attrs.field(converter=_center)
    business_line: BusinessLine = attrs.field(converter=_business_line)
    direction: Direction = attrs.field(converter=_direction)
    origin: Division = attrs.field(converter=division)
    destination: Division = attrs.field(converter=division)
    weight_g: int = attrs.field(converter=_weight)
    created_at: datetime = attrs.field(converter=_created_at)
    recipient: Recipient | None = attrs.field(default=None, converter=_recipient)
    declared_value: Money | None = attrs.field(default=None, converter=_declared)
    return_receipt: bool = attrs.field(default=False, validator=attrs.validators.instance_of(bool))
    tracking_number: TrackingNumber | None = attrs.field(default=None, converter=_tracking)
    application_ref: str | None = attrs.field(default=None, converter=_application_ref)
    status: ShipmentStatus = attrs.field(default=ShipmentStatus.CREATED, converter=_status)
    picked_up_at: datetime | None = attrs.field(default=None, converter=_picked_up_at)
    returned_at: datetime | None = attrs.field(default=None, converter=_returned_at)
    approved_at: datetime | None = attrs.field(default=None, converter=_approved_at)
    events: tuple[TrackingEvent, ...] = attrs.field(default=(), converter=_events)
    superseded: tuple[TrackingEvent, ...] = attrs.field(default=(), converter=_superseded)
    # The state the events give, derived once in __attrs_post_init__ (not part of the value).
    _state: _State | None = attrs.field(init=False, default=None, eq=False, hash=False)

    def __attrs_post_init__(self) -> None:
        if self.picked_up_at is not None and self.picked_up_at < self.created_at:
            raise ValidationError(
                f"shipment {self.id}: picked_up_at {self.picked_up_at.isoformat()} is before "
                f"created_at {self.created_at.isoformat()}"
            )
        if self.returned_at is not None and (
            self.picked_up_at is None or self.returned_at < self.picked_up_at
        ):
            raise ValidationError(
                f"shipment {self.id}: returned_at needs a picked_up_at at or before it"
            )
        if self.status is ShipmentStatus.CANCELLED and self.picked_up_at is not None:
            raise ValidationError(
                f"shipment {self.id} is CANCELLED but was picked up: an item cancelled after "
                f"pickup is returned (RETURNING/RETURNED), not cancelled"
            )
        if self.status in _BEFORE_PICKUP and self.picked_up_at is not None:
            raise ValidationError(
                f"shipment {self.id} is {self.status.name} but has picked_up_at "
                f"{self.picked_up_at.isoformat()}: a piece the carrier has taken is at least "
                f"PICKED_UP; correct the status, or drop picked_up_at"
            )
        if self.status in _IN_CARRIER_HANDS and self.picked_up_at is None:
            raise ValidationError(
                f"shipment {self.id} is {self.status.name} but has no picked_up_at: the carrier "
                f"has it, so it was picked up (and its postage is payable); set picked_up_at"
            )
        if self.events or self.superseded:
            self._check_events()

    def _check_events(self) -> None:
        waybill = self.tracking_number
        for event in (*self.events, *self.superseded):
            if event.tracking_number is not waybill and event.tracking_number != waybill:
                raise ValidationError(
                    f"shipment {self.id} (waybill {self.tracking_number}) holds event "
                    f"{event.event_id!r} of waybill {event.tracking_number}"
                )
        if self.superseded:
            held = {e.event_id for e in self.events}
            current = set(self.events)
            for event in self.superseded:
                if event.event_id not in held or event in current:
                    raise ValidationError(
                        f"shipment {self.id}: superseded event {event.event_id!r} must be an "
                        f"earlier version of an event it holds, replaced by a different version "
                        f"with the same id; let Shipment.apply() record corrections"
                    )
        pending = _PENDING.get()
        if pending is not None and pending[0] is self.events and pending[1] == self._base_status:
            state = pending[2]  # apply() derived it from these very events a moment ago
        else:
            state = _derive(self._base_status, self.events, self.created_at)
        given = (self.status, self.picked_up_at, self.returned_at)
        if given != (state.status, state.picked_up_at, state.returned_at):
            raise ValidationError(
                f"shipment {self.id}: status {self.status.name}, picked_up_at and returned_at "
                f"disagree with its {len(self.events)} events (they give "
                f"{state.status.name}); build it with Shipment.apply(), which derives them"
            )
        object.__setattr__(self, "_state", state)

    @property
    def _base_status(self) -> ShipmentStatus:
        return (
            ShipmentStatus.CREATED
            if self.tracking_number is None
            else ShipmentStatus.AWAITING_PICKUP
        )

    def apply(self, *events: TrackingEvent, strict: bool = False) -> Shipment:
        """A copy of this shipment with ``events`` added and its state derived from all events.

        Idempotent (an event already held changes nothing) and order-independent (for events
        of distinct ids the result depends on the set of events, not on the order they
        arrived in): the status is the fold of the events sorted by time, then by
        :data:`STATUS_PRECEDENCE`, then by id, through :data:`TRANSITIONS`. A revocation (撤销)
        removes the event it names. Events the table does not allow, events after a final
        status and revocations of unknown events are kept, not applied, and listed in
        :attr:`anomalies` with the reason. The cost is O(N log N) in the number of events.

        Corrections: an event whose ``event_id`` the shipment already holds, with different
        content (text, location, code, time or status), is the carrier's correction of it. The
        latest wins — "latest" meaning applied in a later call —: the new version replaces the
        held one in :attr:`events`, the held one moves to :attr:`superseded`, and the state is
        derived again (a 705 corrected to 704 turns DELIVERY_FAILED into DELIVERED). A version
        already received, held or superseded, changes nothing when it comes again, so a replay
        of an old version never undoes its correction. Two different versions of one id in the
        *same* call have no arrival order to tell which is the correction: both are held, the
        first in event order is applied and the other listed in :attr:`anomalies` as a
        conflicting duplicate, until a later call brings a new version, which replaces both.

        >>> from zoneinfo import ZoneInfo
        >>> at = datetime(2024, 6, 4, 15, 0, tzinfo=ZoneInfo("Asia/Shanghai"))
        >>> shipment = Shipment(
        ...     id="GP-1", center="GZ-520102", business_line="licence_delivery",
        ...     direction="outbound_result", origin="520102", destination="522601",
        ...     weight_g=180, created_at=at.replace(hour=8), tracking_number="RR473124829GB",
        ... )
        >>> def scan(event_id, status, code, hour):
        ...     return TrackingEvent(event_id=event_id, tracking_number="RR473124829GB",
        ...                          status=status, occurred_at=at.replace(hour=hour),
        ...                          carrier_code=code)
        >>> failed = shipment.apply(scan("e1", "picked_up", "203", 9),
        ...                         scan("e2", "delivery_failed", "705", 15))
        >>> failed.status.name
        'DELIVERY_FAILED'
        >>> corrected = failed.apply(scan("e2", "delivered", "704", 15))
        >>> corrected.status.name, [e.carrier_code for e in corrected.superseded]
        ('DELIVERED', ['705'])
        >>> corrected.apply(scan("e2", "delivery_failed", "705", 15)) == corrected  # a replay
        True

        Args:
            *events: the events to add.
            strict: refuse, instead of recording, events that would add an anomaly.

        Raises:
            ValidationError: the shipment has no tracking number yet, or an event belongs to
                another waybill; nothing is applied then.
            InvalidTransitionError: ``strict`` is set and an event breaks the transition table
                (or is otherwise not applicable); nothing is applied then.
        """
        if self.tracking_number is None:
            raise ValidationError(
                f"shipment {self.id} has no tracking number yet: set it when the carrier "
                f"books the order, then apply its events"
            )
        for event in events:
            if not isinstance(event, TrackingEvent):
                raise ValidationError(f"apply() takes TrackingEvent values, not {short(event)}")
            if event.tracking_number != self.tracking_number:
                raise ValidationError(
                    f"event {event.event_id!r} is for waybill {event.tracking_number}, not "
                    f"{self.tracking_number} of shipment {self.id}; nothing was applied"
                )
        known = set(self.events)
        known.update(self.superseded)
        fresh = {event for event in events if event not in known}
        if not fresh:
            return self
        fresh_ids = {event.event_id for event in fresh}
        replaced = [event for event in self.events if event.event_id in fresh_ids]
        kept = [event for event in self.events if event.event_id not in fresh_ids]
        merged = tuple(sorted([*kept, *fresh], key=_event_key))
        state = _derive(self._base_status, merged, self.created_at)
        if strict:
            recorded = set(self.anomalies)
            refused = [a for a in state.anomalies if a not in recorded]
            if refused:
                raise InvalidTransitionError(
                    f"shipment {self.id} ({self.status.name}) cannot apply "
                    f"{len(refused)} event(s): "
                    + "; ".join(f"{a.event_id}: {a.reason}" for a in refused[:3])
                    + "; nothing was applied (without strict=True they are kept as anomalies)"
                )
        token = _PENDING.set((merged, self._base_status, state))
        try:
            return attrs.evolve(
                self,
                events=merged,
                superseded=(*self.superseded, *replaced),
                status=state.status,
                picked_up_at=state.picked_up_at,
                returned_at=state.returned_at,
            )
        finally:
            _PENDING.reset(token)

    @property
    def anomalies(self) -> tuple[Anomaly, ...]:
        """Events received but not applied, each with the reason (empty when all applied)."""
        return () if self._state is None else self._state.anomalies

    @property
    def history(self) -> tuple[tuple[datetime, ShipmentStatus], ...]:
        """The status changes the applied events made, in order: ``(when, new status)``."""
        return () if self._state is None else self._state.history

    @property
    def delivered_at(self) -> datetime | None:
        """When the item was signed for (妥投), from the applied events."""
        return None if self._state is None else self._state.delivered_at

    @property
    def zone(self) -> Zone:
        """The postal zone from origin to destination."""
        return zone_between(self.origin, self.destination)

    @property
    def is_billable(self) -> bool:
        """Whether the carrier has taken the item, which makes its postage payable."""
        return self.picked_up_at is not None

    def __repr__(self) -> str:
        tn = str(self.tracking_number) if self.tracking_number else None
        return (
            f"Shipment(id={self.id!r}, center={self.center!r}, "
            f"business_line={self.business_line.name}, direction={self.direction.name}, "
            f"origin={self.origin.code!r}, destination={self.destination.code!r}, "
            f"weight_g={self.weight_g}, tracking_number={tn!r}, status={self.status.name}, "
            f"recipient={self.recipient!r})"
        )


# The time limits live in govpost.timelimits, which builds on this module: re-exported on first
# use, so that neither module imports the other while it loads.
_MOVED = frozenset({"DeliveryTimeLimits", "StageDurations", "working_time_between"})


def __getattr__(name: str) -> Any:
    if name in _MOVED:
        from govpost import timelimits

        return getattr(timelimits, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
