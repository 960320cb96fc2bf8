"""Applications (办件): the applicant, the lifecycle, the delivery choice and the shipments."""

from __future__ import annotations

import enum
import re
from collections import Counter
from collections.abc import Iterable, Mapping
from datetime import datetime
from types import MappingProxyType

import attrs

from govpost._fields import aware, coerce_enum, division, short, text
from govpost.applications._catalogue import Service, ServiceCatalogue, service_code
from govpost.centers import Channel, ServiceCenter, center_code
from govpost.errors import InvalidTransitionError, ValidationError
from govpost.identifiers import (
    TrackingNumber,
    mask_address,
    mask_id_number,
    mask_mobile,
    mask_name,
    validate_id_number,
    validate_mobile,
)
from govpost.privacy import scrub
from govpost.regions import Division
from govpost.shipments import Direction, Recipient, Shipment

#: The weight of a result shipment when none is given: a certificate or licence in an EMS
#: document envelope. Weigh the piece and pass the real weight when you book.
DEFAULT_RESULT_WEIGHT_G = 200

#: The weight of an inbound materials shipment when none is given: a few sheets of A4 in an
#: EMS document envelope.
DEFAULT_MATERIALS_WEIGHT_G = 300

#: Suffixes that make a shipment id from an application reference (办件编号).
RESULT_SUFFIX = "-R"
MATERIALS_SUFFIX = "-M"


class DeliveryChoice(enum.Enum):
    """How the applicant receives the result: by post (邮寄送达) or at the hall (窗口自取).

    >>> DeliveryChoice.MAIL.label, DeliveryChoice.COLLECT.label
    ('邮寄送达', '窗口自取')

    .. versionadded:: 0.2.0
    """

    MAIL = "mail"
    COLLECT = "collect"

    @property
    def label(self) -> str:
        """The Chinese name of the choice."""
        return "邮寄送达" if self is DeliveryChoice.MAIL else "窗口自取"


class ApplicationStatus(enum.Enum):
    """Where an application stands; the legal moves are :data:`APPLICATION_TRANSITIONS`.

    >>> ApplicationStatus.APPROVED.label, ApplicationStatus.RESULT_DELIVERED.label
    ('已办结', '结果已送达')

    .. versionadded:: 0.2.0
    """

    ACCEPTED = "accepted"  #: 已受理: accepted, being examined
    APPROVED = "approved"  #: 已办结: approved, the result is ready
    REJECTED = "rejected"  #: 不予许可: refused
    WITHDRAWN = "withdrawn"  #: 已撤回: withdrawn by the applicant
    RESULT_DISPATCHED = "result_dispatched"  #: 结果已寄出: handed to the post
    RESULT_DELIVERED = "result_delivered"  #: 结果已送达: signed for by the applicant
    RESULT_COLLECTED = "result_collected"  #: 结果已领取: collected at the hall or a post office
    CLOSED = "closed"  #: 已归档: the case is closed

    @property
    def label(self) -> str:
        """The Chinese name of the status, as the online hall shows it."""
        return _LABELS[self]

    @property
    def is_final(self) -> bool:
        """Whether no event can move the application any further."""
        return not APPLICATION_TRANSITIONS[self]


_LABELS = {
    ApplicationStatus.ACCEPTED: "已受理",
    ApplicationStatus.APPROVED: "已办结",
    ApplicationStatus.REJECTED: "不予许可",
    ApplicationStatus.WITHDRAWN: "已撤回",
    ApplicationStatus.RESULT_DISPATCHED: "结果已寄出",
    ApplicationStatus.RESULT_DELIVERED: "结果已送达",
    ApplicationStatus.RESULT_COLLECTED: "结果已领取",
    ApplicationStatus.CLOSED: "已归档",
}

A = ApplicationStatus

#: Legal status changes of an application: ``APPLICATION_TRANSITIONS[current]`` is the set of
#: statuses an event may move it to. An application that chose ``COLLECT`` goes from APPROVED
#: straight to RESULT_COLLECTED; one that chose ``MAIL`` is dispatched first (and a dispatched
#: result that comes back to the hall may still be collected there). A dispatch reported again
#: (by the hall and by the carrier's pickup scan) changes nothing. Rejected and withdrawn
#: applications can only be closed.
#:
#: .. versionadded:: 0.2.0
APPLICATION_TRANSITIONS: Mapping[ApplicationStatus, frozenset[ApplicationStatus]] = (
    MappingProxyType(
        {
            A.ACCEPTED: frozenset({A.APPROVED, A.REJECTED, A.WITHDRAWN}),
            A.APPROVED: frozenset({A.RESULT_DISPATCHED, A.RESULT_COLLECTED}),
            A.REJECTED: frozenset({A.CLOSED}),
            A.WITHDRAWN: frozenset({A.CLOSED}),
            A.RESULT_DISPATCHED: frozenset(
                {A.RESULT_DISPATCHED, A.RESULT_DELIVERED, A.RESULT_COLLECTED}
            ),
            A.RESULT_DELIVERED: frozenset({A.CLOSED}),
            A.RESULT_COLLECTED: frozenset({A.CLOSED}),
            A.CLOSED: frozenset(),
        }
    )
)


class ApplicationEventKind(enum.Enum):
    """What an :class:`ApplicationEvent` reports; all but ``DELIVERY_CHANGED`` move the status.

    .. versionadded:: 0.2.0
    """

    DELIVERY_CHANGED = "delivery_changed"  #: the applicant changed the delivery choice
    APPROVED = "approved"
    REJECTED = "rejected"
    WITHDRAWN = "withdrawn"
    RESULT_DISPATCHED = "result_dispatched"
    RESULT_DELIVERED = "result_delivered"
    RESULT_COLLECTED = "result_collected"
    CLOSED = "closed"

    @property
    def status(self) -> ApplicationStatus | None:
        """The status the event moves the application to (``None`` for a choice change)."""
        if self is ApplicationEventKind.DELIVERY_CHANGED:
            return None
        return ApplicationStatus(self.value)


K = ApplicationEventKind

#: Order of events that carry the same timestamp: a choice change first (a change at the
#: instant of dispatch still counts as before it), then the lifecycle order.
EVENT_PRECEDENCE: tuple[ApplicationEventKind, ...] = tuple(K)
_RANK = {kind: rank for rank, kind in enumerate(EVENT_PRECEDENCE)}

#: Statuses in which the delivery choice may still change: before the result leaves the hall.
_CHOICE_OPEN = frozenset({A.ACCEPTED, A.APPROVED})

#: The longest application event id: a carrier's event id (at most 128 characters, as
#: :class:`~govpost.shipments.TrackingEvent` holds them) behind the ``carrier:`` prefix that
#: :class:`~govpost.applications.ApplicationStatusMessage` gives it.
MAX_EVENT_ID = 136
_EVENT_ID = re.compile(rf"[^\s\x00-\x1f\x7f\ud800-\udfff]{{1,{MAX_EVENT_ID}}}")
_REFERENCE = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.:\-]{0,59}")


def _event_id(instance: object, attribute: object, value: str) -> None:
    given: object = value
    if not isinstance(given, str) or not _EVENT_ID.fullmatch(given):
        raise ValidationError(
            f"event id {short(given, code=True)} must be 1-{MAX_EVENT_ID} printable characters "
            f"without spaces"
        )


def _kind(value: ApplicationEventKind | str) -> ApplicationEventKind:
    return coerce_enum(ApplicationEventKind, value, "event kind")


def _occurred_at(value: datetime) -> datetime:
    return aware(value, "occurred_at")


def _choice(value: DeliveryChoice | str) -> DeliveryChoice:
    return coerce_enum(DeliveryChoice, value, "delivery choice")


def _optional_choice(value: DeliveryChoice | str | None) -> DeliveryChoice | None:
    return None if value is None else _choice(value)


def _optional_tracking(value: TrackingNumber | str | None) -> TrackingNumber | None:
    if value is None or isinstance(value, TrackingNumber):
        return value
    return TrackingNumber(value=value)


_RESULT_KINDS = frozenset({K.RESULT_DISPATCHED, K.RESULT_DELIVERED, K.RESULT_COLLECTED})


@attrs.frozen(kw_only=True)
class ApplicationEvent:
    """One thing that happened to an application after its acceptance.

    Args:
        event_id: unique per event; applying the same event twice changes nothing.
        kind: what happened.
        occurred_at: when (timezone-aware).
        delivery: the new delivery choice; required for ``DELIVERY_CHANGED``, refused on any
            other kind.
        tracking_number: the result's waybill, on the ``RESULT_*`` kinds when known.

    Raises:
        ValidationError: a malformed id, a naive time, a payload the kind does not take.

    >>> from datetime import datetime
    >>> from govpost.periods import SHANGHAI
    >>> ApplicationEvent(event_id="e1", kind="delivery_changed", delivery="collect",
    ...                  occurred_at=datetime(2018, 9, 30, 9, 0, tzinfo=SHANGHAI)).delivery
    <DeliveryChoice.COLLECT: 'collect'>

    .. versionadded:: 0.2.0
    """

    event_id: str = attrs.field(validator=_event_id)
    kind: ApplicationEventKind = attrs.field(converter=_kind)
    occurred_at: datetime = attrs.field(converter=_occurred_at)
    delivery: DeliveryChoice | None = attrs.field(default=None, converter=_optional_choice)
    tracking_number: TrackingNumber | None = attrs.field(default=None, converter=_optional_tracking)

    def __attrs_post_init__(self) -> None:
        changing = self.kind is K.DELIVERY_CHANGED
        if changing != (self.delivery is not None):
            raise ValidationError(
                f"event {self.event_id!r}: a {self.kind.value} event "
                + (
                    "needs the new delivery choice (delivery='mail' or 'collect')"
                    if changing
                    else "takes no delivery choice: send a separate delivery_changed event"
                )
            )
        if self.tracking_number is not None and self.kind not in _RESULT_KINDS:
            raise ValidationError(
                f"event {self.event_id!r}: a {self.kind.value} event takes no tracking number "
                f"(only result_dispatched, result_delivered and result_collected do)"
            )


def _event_key(event: ApplicationEvent) -> tuple[datetime, int, str, str, str]:
    return (
        event.occurred_at,
        _RANK[event.kind],
        event.event_id,
        event.delivery.value if event.delivery else "",
        str(event.tracking_number or ""),
    )


# --- the applicant --------------------------------------------------------------------------


def _applicant_name(value: str) -> str:
    return text(value, "applicant name", max_len=100)


def _mobile(value: str) -> str:
    return validate_mobile(value)


def _id_number(value: str | None) -> str | None:
    return None if value is None else validate_id_number(value)


def _address(value: str | None) -> str | None:
    return None if value is None else text(value, "applicant address", max_len=500)


@attrs.frozen(kw_only=True, repr=False)
class Applicant:
    """The person who applies. Every field is personal data, masked in ``repr`` and ``str``.

    Args:
        name: the applicant's name (or the contact person of a company applying).
        mobile: a mainland mobile number; normalised to its 11 digits.
        id_number: the resident ID number (GB 11643), checked and normalised; optional, as
            the delivery never needs it.
        address: the address the result is mailed to; required to choose ``MAIL``.

    Raises:
        ValidationError: a blank name, an invalid mobile or ID number (the message shows them
            masked).

    >>> Applicant(name="欧阳娜娜", mobile="13800138000", id_number="520102199003071236",
    ...           address="贵州省贵阳市南明区中华南路1号")
    Applicant(name='欧阳**', mobile='138****8000', id_number='520102********1236', address='贵州省贵阳市*********')

    .. versionadded:: 0.2.0
    """

    name: str = attrs.field(converter=_applicant_name)
    mobile: str = attrs.field(converter=_mobile)
    id_number: str | None = attrs.field(default=None, converter=_id_number)
    address: str | None = attrs.field(default=None, converter=_address)

    def __repr__(self) -> str:
        id_number = None if self.id_number is None else mask_id_number(self.id_number)
        address = None if self.address is None else mask_address(self.address)
        return (
            f"Applicant(name={mask_name(self.name)!r}, mobile={mask_mobile(self.mobile)!r}, "
            f"id_number={id_number!r}, address={address!r})"
        )

    __str__ = __repr__

    def scrub(self, message: str) -> str:
        """``message`` with this applicant's personal data masked, wherever it appears.

        >>> a = Applicant(name="欧阳娜娜", mobile="13800138000")
        >>> a.scrub("欧阳娜娜 13800138000 已签收")
        '欧阳** 138****8000 已签收'
        """
        known = [self.name, *(v for v in (self.address, self.id_number) if v is not None)]
        return scrub(message, known=known)

    @property
    def recipient(self) -> Recipient:
        """The applicant as the addressee of a shipment (name, mobile, address)."""
        return Recipient(name=self.name, mobile=self.mobile, address=self.address)


# --- the application ------------------------------------------------------------------------


def _reference(instance: object, attribute: object, value: str) -> None:
    given: object = value
    if not isinstance(given, str) or not _REFERENCE.fullmatch(given):
        raise ValidationError(
            f"application reference {short(given, code=True)} must be 1-60 letters, digits, '-', '_', '.' "
            f"or ':' (e.g. '520000-20180930-0001'): it also names the application's shipments"
        )


def _center(value: ServiceCenter | str) -> str:
    return center_code(value)


def _service(value: Service | str) -> str:
    return service_code(value)


def _channel(value: Channel | str) -> Channel:
    return coerce_enum(Channel, value, "channel")


def _applicant(value: Applicant) -> Applicant:
    given: object = value
    if not isinstance(given, Applicant):
        raise ValidationError(f"applicant must be an Applicant, not {type(given).__name__}")
    return given


def _accepted_at(value: datetime) -> datetime:
    return aware(value, "accepted_at")


def _destination(value: Division | str) -> Division:
    return division(value)


def _events(value: Iterable[ApplicationEvent]) -> tuple[ApplicationEvent, ...]:
    given: object = value
    if isinstance(given, str | bytes) or not isinstance(given, Iterable):
        raise ValidationError(
            f"events {short(given, code=True)} must be a collection of ApplicationEvent"
        )
    events = tuple(given)
    for event in events:
        if not isinstance(event, ApplicationEvent):
            raise ValidationError(
                f"events must be ApplicationEvent values, not {short(event, code=True)}"
            )
    return tuple(sorted(set(events), key=_event_key))


@attrs.frozen
class ApplicationAnomaly:
    """An application event that was received and kept but not applied, and why.

    .. versionadded:: 0.2.0
    """

    event_id: str
    reason: str


@attrs.frozen
class _State:
    status: ApplicationStatus
    delivery: DeliveryChoice
    times: Mapping[ApplicationStatus, datetime]
    history: tuple[tuple[datetime, ApplicationStatus], ...]
    anomalies: tuple[ApplicationAnomaly, ...]


def _derive(application: Application, events: tuple[ApplicationEvent, ...]) -> _State:
    """Fold ``events`` (sorted by :func:`_event_key`) into the application's state."""
    anomalies: list[ApplicationAnomaly] = []
    by_id: dict[str, ApplicationEvent] = {}
    status = A.ACCEPTED
    delivery = application.delivery
    times: dict[ApplicationStatus, datetime] = {A.ACCEPTED: application.accepted_at}
    history: list[tuple[datetime, ApplicationStatus]] = []

    def refuse(event: ApplicationEvent, reason: str) -> None:
        anomalies.append(ApplicationAnomaly(event.event_id, reason))

    for event in events:
        if by_id.setdefault(event.event_id, event) is not event:
            refuse(event, "conflicts with another event of the same id")
            continue
        if event.occurred_at < application.accepted_at:
            refuse(event, "dated before the application was accepted (clock skew?)")
            continue
        if event.kind is K.DELIVERY_CHANGED:
            assert event.delivery is not None  # checked when the event was built
            reason = _choice_problem(status, event.delivery, application)
            if reason:
                refuse(event, reason)
            else:
                delivery = event.delivery
            continue
        new = event.kind.status
        assert new is not None
        if new not in APPLICATION_TRANSITIONS[status]:
            final = " (a final status)" if status.is_final else ""
            refuse(event, f"{status.name} → {new.name} is not allowed{final}")
            continue
        if status is A.APPROVED and new is A.RESULT_DISPATCHED and delivery is not _MAIL:
            refuse(event, "the applicant chose COLLECT: the result is not mailed")
            continue
        if status is A.APPROVED and new is A.RESULT_COLLECTED and delivery is _MAIL:
            refuse(event, "the applicant chose MAIL: change the choice to COLLECT first")
            continue
        if new is not status:
            history.append((event.occurred_at, new))
        status = new
        times.setdefault(new, event.occurred_at)
    anomalies.sort(key=lambda a: (a.event_id, a.reason))
    return _State(status, delivery, MappingProxyType(times), tuple(history), tuple(anomalies))


_MAIL = DeliveryChoice.MAIL
_ORDER = tuple(ApplicationStatus)


def _new_anomalies(before: Application, after: Application) -> list[ApplicationAnomaly]:
    """The anomalies of ``after`` that ``before`` did not have, counted as a multiset (one id
    may conflict twice with the same reason)."""
    remaining = Counter(after.anomalies) - Counter(before.anomalies)
    added = []
    for anomaly in after.anomalies:
        if remaining[anomaly] > 0:
            remaining[anomaly] -= 1
            added.append(anomaly)
    return added


def _choice_problem(
    status: ApplicationStatus, choice: DeliveryChoice, application: Application
) -> str | None:
    if status not in _CHOICE_OPEN:
        return (
            f"delivery choice changed to {choice.name} when the application was already "
            f"{status.name}: the choice can change only until the result is dispatched"
        )
    if choice is _MAIL and application.applicant.address is None:
        return "delivery choice changed to MAIL but the applicant gave no address"
    return None


@attrs.frozen(kw_only=True, repr=False)
class Application:
    """An application (办件) from its acceptance (受理) to its close.

    The fields are what was known at acceptance; everything after it — approval (办结),
    rejection, withdrawal, a changed delivery choice, dispatch, delivery or collection, close —
    is an :class:`ApplicationEvent`, and the current :attr:`status` and
    :attr:`current_delivery` derive from the events as :meth:`apply` describes.

    Args:
        reference: the case number (办件编号); names the application's shipments too.
        center: the code of the service center that accepted it (or the center itself).
        service: the code of the service (事项) in the catalogue (or the service itself).
        channel: online hall (网上办事大厅) or window.
        applicant: the applicant; masked in every repr and message.
        accepted_at: when it was accepted (timezone-aware).
        destination: the division the result is delivered to (the applicant's).
        delivery: the delivery choice made at acceptance.
        materials_by_post: whether the applicant mails the materials in.
        events: the events applied so far (see :meth:`apply`).

    Raises:
        ValidationError: a malformed field, or ``MAIL`` chosen without an address.

    >>> from datetime import datetime
    >>> from govpost.periods import SHANGHAI
    >>> app = Application(
    ...     reference="520000-20180930-0001", center="GZ-520000", service="SCJG-001",
    ...     channel="online", applicant=Applicant(name="张三", mobile="13800138000",
    ...     address="贵州省贵阳市南明区中华南路1号"),
    ...     accepted_at=datetime(2018, 9, 30, 10, 0, tzinfo=SHANGHAI),
    ...     destination="520102", delivery="mail")
    >>> app.status.label, app.current_delivery.label
    ('已受理', '邮寄送达')

    .. versionadded:: 0.2.0
    """

    reference: str = attrs.field(validator=_reference)
    center: str = attrs.field(converter=_center)
    service: str = attrs.field(converter=_service)
    channel: Channel = attrs.field(converter=_channel)
    applicant: Applicant = attrs.field(converter=_applicant)
    accepted_at: datetime = attrs.field(converter=_accepted_at)
    destination: Division = attrs.field(converter=_destination)
    delivery: DeliveryChoice = attrs.field(converter=_choice)
    materials_by_post: bool = attrs.field(
        default=False, validator=attrs.validators.instance_of(bool)
    )
    events: tuple[ApplicationEvent, ...] = attrs.field(default=(), converter=_events)
    _state: _State = attrs.field(init=False, eq=False, hash=False, repr=False)

    def __attrs_post_init__(self) -> None:
        if self.delivery is _MAIL and self.applicant.address is None:
            raise ValidationError(
                f"application {self.reference} chose MAIL but the applicant gave no address: "
                f"give Applicant(address=...) or choose COLLECT"
            )
        object.__setattr__(self, "_state", _derive(self, self.events))

    # -- the lifecycle ---------------------------------------------------------------------------

    def apply(self, *events: ApplicationEvent, strict: bool = False) -> Application:
        """A copy of this application with ``events`` added and its state derived from all.

        Idempotent (an event already held changes nothing) and order-independent (the state
        depends on the set of events, not on the order they arrived in): the status is the fold
        of the events sorted by time, then by :data:`EVENT_PRECEDENCE`, then by id, through
        :data:`APPLICATION_TRANSITIONS`. Events that cannot apply — a move the table forbids, a
        delivery change after dispatch, a dispatch of a ``COLLECT`` application, an event dated
        before acceptance, a second version of an id — are **kept and recorded** in
        :attr:`anomalies` with the reason, never silently dropped: the online hall and the
        carrier send events late and out of order, and an event that cannot apply now may be
        explained by one that arrives later. ``strict=True`` refuses them instead, and so do
        the verbs (:meth:`approve`, :meth:`change_delivery`, ...): an event that applies only by
        undoing events already applied — a withdrawal or a delivery change dated before a
        dispatch already recorded — adds anomalies too, and is refused.

        Args:
            *events: the events to add.
            strict: raise instead of recording events that would add an anomaly.

        Raises:
            ValidationError: something other than an :class:`ApplicationEvent`.
            InvalidTransitionError: ``strict`` is set and an event cannot apply; nothing is
                applied then.

        >>> from datetime import datetime
        >>> from govpost.periods import SHANGHAI
        >>> app = Application(
        ...     reference="R-1", center="GZ-520000", service="S1", channel="window",
        ...     applicant=Applicant(name="张三", mobile="13800138000"),
        ...     accepted_at=datetime(2018, 9, 28, 10, 0, tzinfo=SHANGHAI),
        ...     destination="520102", delivery="collect")
        >>> at = datetime(2018, 9, 30, 10, 0, tzinfo=SHANGHAI)
        >>> done = app.apply(ApplicationEvent(event_id="e1", kind="approved", occurred_at=at))
        >>> done.status.name, done.apply(*done.events) == done
        ('APPROVED', True)
        """
        for event in events:
            if not isinstance(event, ApplicationEvent):
                raise ValidationError(
                    f"apply() takes ApplicationEvent values, not {short(event, code=True)}"
                )
        fresh = set(events) - set(self.events)
        if not fresh:
            return self
        updated = attrs.evolve(self, events=(*self.events, *fresh))
        if strict:
            refused = _new_anomalies(self, updated)
            if refused:
                raise InvalidTransitionError(
                    f"application {self.reference} ({self.status.name}) cannot apply "
                    f"{len(refused)} event(s): "
                    + "; ".join(f"{a.event_id}: {a.reason}" for a in refused[:3])
                    + "; nothing was applied (without strict=True they are kept as anomalies)"
                )
        return updated

    def _step(
        self,
        kind: ApplicationEventKind,
        at: datetime,
        event_id: str | None,
        *,
        delivery: DeliveryChoice | None = None,
        tracking_number: TrackingNumber | str | None = None,
    ) -> Application:
        when = aware(at, "at")
        event = ApplicationEvent(
            event_id=event_id or f"{self.reference}:{kind.value}:{when.isoformat()}",
            kind=kind,
            occurred_at=when,
            delivery=delivery,
            tracking_number=tracking_number,
        )
        updated = self.apply(event)
        # Refused if the event cannot apply, and also if it applies only by undoing events
        # already applied: a back-dated withdrawal of a dispatched application, a delivery
        # change dated before a dispatch already recorded.
        added = _new_anomalies(self, updated)
        if added:
            own = [a.reason for a in added if a.event_id == event.event_id]
            reason = (
                own[-1]
                if own
                else "dated before events already applied, it would undo "
                + ", ".join(f"{a.event_id} ({a.reason})" for a in added[:3])
            )
            allowed = ", ".join(s.name for s in _ORDER if s in APPLICATION_TRANSITIONS[self.status])
            raise InvalidTransitionError(
                f"application {self.reference} is {self.status.name} ({self.status.label}): "
                f"cannot record {kind.value} at {when.isoformat()}: {reason}; "
                f"from {self.status.name} it may go to {allowed or 'nothing (final)'}"
            )
        return updated

    def approve(self, at: datetime, *, event_id: str | None = None) -> Application:
        """Approved (办结) at ``at``; strict (see :meth:`apply`).

        Raises:
            InvalidTransitionError: the application is not ACCEPTED.
        """
        return self._step(K.APPROVED, at, event_id)

    def reject(self, at: datetime, *, event_id: str | None = None) -> Application:
        """Rejected (不予许可) at ``at``; strict (see :meth:`apply`).

        Raises:
            InvalidTransitionError: the application is not ACCEPTED.
        """
        return self._step(K.REJECTED, at, event_id)

    def withdraw(self, at: datetime, *, event_id: str | None = None) -> Application:
        """Withdrawn by the applicant at ``at``; strict (see :meth:`apply`).

        Raises:
            InvalidTransitionError: the application is not ACCEPTED.
        """
        return self._step(K.WITHDRAWN, at, event_id)

    def change_delivery(
        self, choice: DeliveryChoice | str, at: datetime, *, event_id: str | None = None
    ) -> Application:
        """The delivery choice changed to ``choice`` at ``at``: possible until dispatch.

        Raises:
            InvalidTransitionError: the result was already dispatched or collected, or the
                application was rejected, withdrawn or closed; or ``MAIL`` without an address.

        >>> from datetime import datetime
        >>> from govpost.periods import SHANGHAI
        >>> app = Application(
        ...     reference="R-2", center="GZ-520000", service="S1", channel="online",
        ...     applicant=Applicant(name="张三", mobile="13800138000", address="贵阳市1号"),
        ...     accepted_at=datetime(2018, 9, 28, 10, 0, tzinfo=SHANGHAI),
        ...     destination="520102", delivery="mail")
        >>> app.change_delivery("collect", datetime(2018, 9, 29, tzinfo=SHANGHAI)).current_delivery
        <DeliveryChoice.COLLECT: 'collect'>
        """
        return self._step(K.DELIVERY_CHANGED, at, event_id, delivery=_choice(choice))

    def dispatch(
        self,
        at: datetime,
        *,
        tracking_number: TrackingNumber | str | None = None,
        event_id: str | None = None,
    ) -> Application:
        """The result handed to the post (结果已寄出) at ``at``; strict (see :meth:`apply`).

        Raises:
            InvalidTransitionError: not APPROVED, or the applicant chose COLLECT.
        """
        return self._step(K.RESULT_DISPATCHED, at, event_id, tracking_number=tracking_number)

    def deliver(self, at: datetime, *, event_id: str | None = None) -> Application:
        """The result signed for by the applicant (结果已送达) at ``at``; strict.

        Raises:
            InvalidTransitionError: the result was not dispatched.
        """
        return self._step(K.RESULT_DELIVERED, at, event_id)

    def collect(self, at: datetime, *, event_id: str | None = None) -> Application:
        """The result collected (结果已领取) at ``at``; strict.

        Raises:
            InvalidTransitionError: not approved with ``COLLECT``, nor dispatched.
        """
        return self._step(K.RESULT_COLLECTED, at, event_id)

    def close(self, at: datetime, *, event_id: str | None = None) -> Application:
        """The case closed (已归档) at ``at``; strict.

        Raises:
            InvalidTransitionError: the result has not reached the applicant, and the
                application was neither rejected nor withdrawn.
        """
        return self._step(K.CLOSED, at, event_id)

    # -- the derived state -------------------------------------------------------------------

    @property
    def status(self) -> ApplicationStatus:
        """Where the application stands, derived from its events."""
        return self._state.status

    @property
    def current_delivery(self) -> DeliveryChoice:
        """The delivery choice after the applied ``DELIVERY_CHANGED`` events."""
        return self._state.delivery

    @property
    def anomalies(self) -> tuple[ApplicationAnomaly, ...]:
        """Events received but not applied, each with the reason."""
        return self._state.anomalies

    @property
    def history(self) -> tuple[tuple[datetime, ApplicationStatus], ...]:
        """The status changes the applied events made, in order: ``(when, new status)``."""
        return self._state.history

    def reached_at(self, status: ApplicationStatus | str) -> datetime | None:
        """When the application first reached ``status``, or ``None`` if it never did."""
        return self._state.times.get(coerce_enum(ApplicationStatus, status, "status"))

    @property
    def approved_at(self) -> datetime | None:
        """When it was approved (办结)."""
        return self._state.times.get(A.APPROVED)

    @property
    def decided_at(self) -> datetime | None:
        """When the center decided: approved or rejected (the end of the approval stage)."""
        return self._state.times.get(A.APPROVED) or self._state.times.get(A.REJECTED)

    @property
    def dispatched_at(self) -> datetime | None:
        """When the result was handed to the post."""
        return self._state.times.get(A.RESULT_DISPATCHED)

    @property
    def delivered_at(self) -> datetime | None:
        """When the result was signed for, by the application's own events."""
        return self._state.times.get(A.RESULT_DELIVERED)

    @property
    def is_approved(self) -> bool:
        """Whether the application was approved (whatever happened after)."""
        return A.APPROVED in self._state.times

    # -- shipments ---------------------------------------------------------------------------

    @property
    def result_shipment_id(self) -> str:
        """The id of the result's shipment: the reference and ``-R``."""
        return self.reference + RESULT_SUFFIX

    @property
    def materials_shipment_id(self) -> str:
        """The id of the materials' shipment: the reference and ``-M``."""
        return self.reference + MATERIALS_SUFFIX

    def _service_of(self, catalogue: ServiceCatalogue) -> Service:
        if not isinstance(catalogue, ServiceCatalogue):
            raise ValidationError(f"catalogue must be a ServiceCatalogue, not {short(catalogue)}")
        return catalogue.lookup(self.service)

    def _check_center(self, center: ServiceCenter) -> ServiceCenter:
        if not isinstance(center, ServiceCenter):
            raise ValidationError(f"center must be a ServiceCenter, not {short(center)}")
        if center.code != self.center:
            raise ValidationError(
                f"application {self.reference} was accepted by center {self.center!r}, not "
                f"{center.code!r}: pass the center that accepted it"
            )
        return center

    def check(self, catalogue: ServiceCatalogue) -> Service:
        """The application's service, checked against the catalogue.

        Raises:
            ValidationError: the service is not in the catalogue, or the application mails
                what the service does not allow to be mailed.
        """
        service = self._service_of(catalogue)
        if self.current_delivery is _MAIL and not service.result_by_post:
            raise ValidationError(
                f"application {self.reference} chose MAIL but service {service.code!r} "
                f"({service.name}) does not allow its result to be mailed: choose COLLECT"
            )
        if self.materials_by_post and not service.materials_by_post:
            raise ValidationError(
                f"application {self.reference} mails its materials in but service "
                f"{service.code!r} ({service.name}) does not allow it"
            )
        return service

    def outbound_shipment(
        self,
        center: ServiceCenter,
        catalogue: ServiceCatalogue,
        *,
        weight_g: int = DEFAULT_RESULT_WEIGHT_G,
        created_at: datetime | None = None,
    ) -> Shipment:
        """The shipment that mails the result to the applicant; the same every time.

        Derived from the application: id ``<reference>-R``, direction ``OUTBOUND_RESULT``,
        the center, the service's business line, from the center's division to
        :attr:`destination`, addressed to the applicant, with the reference and the approval
        time. ``created_at`` (the order's time) defaults to the approval time; ``weight_g`` to
        :data:`DEFAULT_RESULT_WEIGHT_G`.

        Raises:
            InvalidTransitionError: the application was not approved (it is accepted,
                rejected or withdrawn), or the applicant chose ``COLLECT``.
            ValidationError: ``center`` is not the application's center, the service is not in
                the catalogue or does not allow mailing the result.
        """
        approved = self.approved_at
        if approved is None:
            raise InvalidTransitionError(
                f"application {self.reference} is {self.status.name}: only an approved "
                f"application has a result to mail, so it yields no shipment"
            )
        if self.current_delivery is not _MAIL:
            raise InvalidTransitionError(
                f"application {self.reference} chose COLLECT: the applicant collects the "
                f"result at the hall, so it yields no shipment (change the choice to MAIL "
                f"before dispatch to mail it)"
            )
        hall = self._check_center(center)
        service = self.check(catalogue)
        return Shipment(
            id=self.result_shipment_id,
            center=self.center,
            business_line=service.business_line,
            direction=Direction.OUTBOUND_RESULT,
            origin=hall.division,
            destination=self.destination,
            weight_g=weight_g,
            created_at=approved if created_at is None else created_at,
            recipient=self.applicant.recipient,
            application_ref=self.reference,
            approved_at=approved,
        )

    def inbound_shipment(
        self,
        center: ServiceCenter,
        catalogue: ServiceCatalogue,
        *,
        weight_g: int = DEFAULT_MATERIALS_WEIGHT_G,
        created_at: datetime | None = None,
    ) -> Shipment:
        """The shipment that brings the materials from the applicant to the center.

        Id ``<reference>-M``, direction ``INBOUND_MATERIAL``, from :attr:`destination` (the
        applicant's division) to the center's, addressed to the center; ``created_at``
        defaults to the acceptance time, ``weight_g`` to :data:`DEFAULT_MATERIALS_WEIGHT_G`.
        The materials travel before the decision, so a later rejection or withdrawal does not
        undo this shipment.

        Raises:
            ValidationError: the application does not mail its materials in, ``center`` is not
                its center, or the service is unknown or does not allow it.
        """
        if not self.materials_by_post:
            raise ValidationError(
                f"application {self.reference} does not mail its materials in "
                f"(materials_by_post=False), so it yields no inbound shipment"
            )
        hall = self._check_center(center)
        service = self.check(catalogue)
        return Shipment(
            id=self.materials_shipment_id,
            center=self.center,
            business_line=service.business_line,
            direction=Direction.INBOUND_MATERIAL,
            origin=self.destination,
            destination=hall.division,
            weight_g=weight_g,
            created_at=self.accepted_at if created_at is None else created_at,
            recipient=Recipient(name=hall.name),
            application_ref=self.reference,
        )

    def shipments(self, center: ServiceCenter, catalogue: ServiceCatalogue) -> tuple[Shipment, ...]:
        """Every shipment the application yields, with the default weights and times.

        The materials' inbound shipment if they are mailed in, then the result's outbound one
        if the application was approved and chose ``MAIL``; nothing else. A rejected or
        withdrawn application yields no result shipment.
        """
        found = []
        if self.materials_by_post:
            found.append(self.inbound_shipment(center, catalogue))
        if self.is_approved and self.current_delivery is _MAIL:
            found.append(self.outbound_shipment(center, catalogue))
        return tuple(found)

    def __repr__(self) -> str:
        return (
            f"Application(reference={self.reference!r}, center={self.center!r}, "
            f"service={self.service!r}, channel={self.channel.name}, "
            f"status={self.status.name}, delivery={self.current_delivery.name}, "
            f"destination={self.destination.code!r}, applicant={self.applicant!r})"
        )

    __str__ = __repr__
