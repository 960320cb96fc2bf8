"""Time limits (时限) of applications and the analysis of each stage against them."""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from datetime import date, datetime, timedelta
from fractions import Fraction

import attrs

from govpost._fields import aware, short
from govpost.applications._application import Application, ApplicationStatus, DeliveryChoice
from govpost.applications._catalogue import ServiceCatalogue
from govpost.calendar import WorkCalendar
from govpost.centers import CooperationMode, ServiceCenter
from govpost.errors import ValidationError
from govpost.periods import business_date
from govpost.regions import zone_between
from govpost.shipments import (
    DeliveryTimeLimits,
    Shipment,
    ShipmentStatus,
    working_time_between,
)


def _calendar(value: WorkCalendar) -> WorkCalendar:
    given: object = value
    if not isinstance(given, WorkCalendar):
        raise ValidationError(f"calendar {short(given)} must be a WorkCalendar")
    return given


def _delivery(value: DeliveryTimeLimits) -> DeliveryTimeLimits:
    given: object = value
    if not isinstance(given, DeliveryTimeLimits):
        raise ValidationError(f"delivery {short(given)} must be a DeliveryTimeLimits")
    return given


def _pickup_days(value: int) -> int:
    given: object = value
    if isinstance(given, bool) or not isinstance(given, int) or not 0 <= given <= 30:
        raise ValidationError(
            f"pickup_days {short(given)} must be an int of 0-30 working days (the days the "
            f"post has, after approval, to take the result)"
        )
    return given


def _approval_deadline(calendar: WorkCalendar, accepted_on: date, days: int) -> date:
    if days == 0 and not isinstance(days, bool) and not calendar.is_workday(accepted_on):
        return calendar.add_workdays(accepted_on, 1)  # the first working day after a day off
    return calendar.add_workdays(accepted_on, days)


@attrs.frozen(kw_only=True)
class Promise:
    """What the applicant is promised, as dates (Asia/Shanghai).

    Attributes:
        accepted_on: the business date of acceptance.
        approval_by: the approval deadline (the service's 承诺时限).
        pickup_by: the day by which the post takes the result (``None`` for ``COLLECT``).
        delivered_by: the day by which the result reaches the applicant (``None`` for
            ``COLLECT``: the result waits at the hall from the approval on).
        working_days: the working days from acceptance to the last of these dates.

    .. versionadded:: 0.2.0
    """

    accepted_on: date
    approval_by: date
    pickup_by: date | None
    delivered_by: date | None
    working_days: int


@attrs.frozen(kw_only=True)
class ApplicationTimeLimits:
    """The time limits of applications: approval, pickup and delivery, in working days.

    Rules (the issue left them to govpost; each is stated here and in the docs):

    - **Approval**: the service's 承诺时限 counts from the working day *after* acceptance (the
      day of acceptance does not count, as in Chinese administrative practice), on the
      :class:`~govpost.calendar.WorkCalendar` with its 调休 days: the deadline is
      ``calendar.add_workdays(accepted_on, time_limit_days)``. A service with 0 days
      (即办件) is due on the day of acceptance, or, accepted online on a day off, on the next
      working day (the hall decides nothing on a holiday).
    - **Pickup**: the post takes a mailed result within ``pickup_days`` working days of the
      approval deadline.
    - **Delivery**: then :class:`~govpost.shipments.DeliveryTimeLimits` by zone, from the
      pickup day.
    - **Total promise**: the approval deadline, then the pickup days, then the zone's
      delivery days (:meth:`promise`).

    >>> from datetime import datetime
    >>> from govpost.periods import SHANGHAI
    >>> from govpost.regions import Zone
    >>> calendar = WorkCalendar.china()
    >>> limits = ApplicationTimeLimits(calendar=calendar, delivery=DeliveryTimeLimits(
    ...     days={Zone.SAME_CITY: 1, Zone.IN_PROVINCE: 2, Zone.OUT_OF_PROVINCE: 4},
    ...     calendar=calendar))
    >>> limits.approval_deadline(datetime(2018, 9, 30, 10, 0, tzinfo=SHANGHAI), 5)
    datetime.date(2018, 10, 12)

    .. versionadded:: 0.2.0
    """

    calendar: WorkCalendar = attrs.field(converter=_calendar)
    delivery: DeliveryTimeLimits = attrs.field(converter=_delivery)
    pickup_days: int = attrs.field(default=1, converter=_pickup_days)

    def approval_deadline(self, accepted_at: datetime | date, time_limit_days: int) -> date:
        """The last day of the approval time limit of an application accepted at ``accepted_at``.

        Raises:
            ValidationError: a naive datetime, or a time limit that is not an int.
            CalendarCoverageError: the calendar does not cover the years walked.
        """
        return _approval_deadline(
            self.calendar, business_date(accepted_at, "accepted_at"), time_limit_days
        )

    def promise(
        self, application: Application, catalogue: ServiceCatalogue, center: ServiceCenter
    ) -> Promise:
        """The dates promised to the applicant of ``application`` (see the class's rules).

        ``center`` gives the origin of a mailed result, hence its zone.

        Raises:
            ValidationError: the service is not in the catalogue, or ``center`` is not the
                application's.
        """
        service = catalogue.lookup(application.service)
        accepted_on = business_date(application.accepted_at, "accepted_at")
        approval_by = _approval_deadline(self.calendar, accepted_on, service.time_limit_days)
        pickup_by = delivered_by = None
        last = approval_by
        if application.current_delivery is DeliveryChoice.MAIL:
            if not isinstance(center, ServiceCenter) or center.code != application.center:
                raise ValidationError(
                    f"center {short(center)} is not the center {application.center!r} of "
                    f"application {application.reference}"
                )
            zone = zone_between(center.division, application.destination)
            pickup_by = self.calendar.add_workdays(approval_by, self.pickup_days)
            delivered_by = self.calendar.add_workdays(pickup_by, self.delivery.days[zone])
            last = delivered_by
        return Promise(
            accepted_on=accepted_on,
            approval_by=approval_by,
            pickup_by=pickup_by,
            delivered_by=delivered_by,
            working_days=self.calendar.workdays_between(accepted_on, last),
        )


@attrs.frozen(kw_only=True)
class StageTime:
    """The time one stage took: from ``start`` to ``end``, in working days and working time.

    Attributes:
        start: when the stage began.
        end: when it ended.
        working_days: the working days after the start's date up to and including the end's
            (``WorkCalendar.workdays_between``): 0 when both fall on one day.
        working_time: the part of [start, end) on working days
            (:func:`~govpost.shipments.working_time_between`).

    .. versionadded:: 0.2.0
    """

    start: datetime
    end: datetime
    working_days: int
    working_time: timedelta

    @property
    def hours(self) -> Fraction:
        """The working time in hours, exactly."""
        return Fraction(
            self.working_time.days * 86_400_000_000
            + self.working_time.seconds * 1_000_000
            + self.working_time.microseconds,
            3_600_000_000,
        )


def _span(calendar: WorkCalendar, start: datetime | None, end: datetime | None) -> StageTime | None:
    if start is None or end is None:
        return None
    return StageTime(
        start=start,
        end=end,
        working_days=calendar.workdays_between(business_date(start), business_date(end)),
        working_time=working_time_between(calendar, start, end),
    )


@attrs.frozen(kw_only=True)
class ApplicationStages:
    """The stages of one application, each ``None`` while unfinished.

    accepted → approved (``approval``; the decision, for a rejection) → dispatched
    (``dispatch``) → picked up (``pickup``) → delivered (``delivery``); ``total`` runs from
    acceptance to the result in the applicant's hands (delivered, or collected at the hall).

    Dispatch is the application's ``RESULT_DISPATCHED`` event, else the shipment's
    ``created_at`` (the order); pickup and delivery are the shipment's, else the application's
    own events.

    .. versionadded:: 0.2.0
    """

    approval: StageTime | None
    dispatch: StageTime | None
    pickup: StageTime | None
    delivery: StageTime | None
    total: StageTime | None

    @classmethod
    def of(
        cls,
        application: Application,
        calendar: WorkCalendar,
        shipment: Shipment | None = None,
    ) -> ApplicationStages:
        """The stages of ``application`` and, if mailed, its result ``shipment``.

        >>> from datetime import datetime
        >>> from govpost.periods import SHANGHAI
        >>> from govpost.applications import Applicant
        >>> app = Application(
        ...     reference="R-1", center="GZ-520000", service="S1", channel="window",
        ...     applicant=Applicant(name="张三", mobile="13800138000"),
        ...     accepted_at=datetime(2018, 9, 29, 10, 0, tzinfo=SHANGHAI),
        ...     destination="520102", delivery="collect",
        ... ).approve(datetime(2018, 10, 8, 10, 0, tzinfo=SHANGHAI))
        >>> stages = ApplicationStages.of(app, WorkCalendar.china())
        >>> stages.approval.working_days, stages.approval.hours
        (2, Fraction(48, 1))
        """
        start = application.accepted_at
        decided = application.decided_at
        dispatched = application.dispatched_at
        picked = delivered = None
        if shipment is not None:
            if dispatched is None:
                dispatched = shipment.created_at
            picked = shipment.picked_up_at
            delivered = shipment.delivered_at
        if delivered is None:
            delivered = application.delivered_at
        in_hands = delivered or application.reached_at(ApplicationStatus.RESULT_COLLECTED)
        return cls(
            approval=_span(calendar, start, decided),
            dispatch=_span(calendar, application.approved_at, dispatched),
            pickup=_span(calendar, dispatched, picked),
            delivery=_span(calendar, picked, delivered),
            total=_span(calendar, start, in_hands),
        )


# --- analysis ---------------------------------------------------------------------------------


@attrs.frozen(kw_only=True)
class Tally:
    """How many items of a group met a time limit.

    Attributes:
        judged: items whose outcome is known: finished, or past their deadline unfinished.
        on_time: of those, finished on or before the deadline.

    .. versionadded:: 0.2.0
    """

    judged: int = 0
    on_time: int = 0

    @property
    def late(self) -> int:
        """Judged items that missed the deadline."""
        return self.judged - self.on_time

    @property
    def rate(self) -> Fraction | None:
        """The on-time rate, exactly; ``None`` when nothing was judged.

        >>> Tally(judged=3, on_time=2).rate
        Fraction(2, 3)
        """
        return Fraction(self.on_time, self.judged) if self.judged else None

    def add(self, on_time: bool | None) -> Tally:
        """This tally with one more item: ``None`` when the item cannot be judged yet."""
        if on_time is None:
            return self
        return Tally(judged=self.judged + 1, on_time=self.on_time + int(on_time))


@attrs.frozen(kw_only=True)
class Distribution:
    """A histogram of whole working days: ``counts`` holds ``(days, items)`` by days.

    >>> d = Distribution.of([1, 2, 2, 3, 9])
    >>> d.counts, d.size, d.percentile(50), d.percentile(90)
    (((1, 1), (2, 2), (3, 1), (9, 1)), 5, 2, 9)

    .. versionadded:: 0.2.0
    """

    counts: tuple[tuple[int, int], ...] = ()

    @classmethod
    def of(cls, days: Iterable[int]) -> Distribution:
        """The histogram of ``days``."""
        return cls(counts=tuple(sorted(Counter(days).items())))

    @property
    def size(self) -> int:
        """The number of items."""
        return sum(n for _, n in self.counts)

    def percentile(self, q: int) -> int | None:
        """The nearest-rank ``q``-th percentile (0 < q ≤ 100): a value that occurred.

        ``None`` for an empty distribution.
        """
        if isinstance(q, bool) or not isinstance(q, int) or not 0 < q <= 100:
            raise ValidationError(f"percentile {short(q)} must be an int from 1 to 100")
        if not self.counts:
            return None
        rank = math.ceil(Fraction(q, 100) * self.size)
        seen = 0
        for days, n in self.counts:
            seen += n
            if seen >= rank:
                return days
        raise AssertionError("unreachable: the ranks cover the size")  # pragma: no cover


@attrs.frozen(kw_only=True)
class GroupStats:
    """The time-limit figures of one group of applications (a center, line, zone or mode).

    Attributes:
        dimension: ``"all"``, ``"center"``, ``"line"``, ``"zone"`` or ``"mode"``.
        key: the group's code or wire value (``"GZ-520000"``, ``"police"``, ``"same_city"``).
        label: its name for a report (the Chinese label of a line, zone or mode).
        applications: the applications in the group.
        approval: approval decided within the service's time limit.
        delivery: result delivered within the delivery time limit of its zone.
        promise: result in the applicant's hands within the total promise.
        approval_days: working days from acceptance to the decision.
        delivery_days: working days from pickup to delivery.
        total_days: working days from acceptance to the result in the applicant's hands.

    .. versionadded:: 0.2.0
    """

    dimension: str
    key: str
    label: str
    applications: int
    approval: Tally
    delivery: Tally
    promise: Tally
    approval_days: Distribution
    delivery_days: Distribution
    total_days: Distribution


@attrs.frozen(kw_only=True)
class StageAnalysis:
    """The analysis of each stage against its time limit, overall and by group.

    .. versionadded:: 0.2.0
    """

    overall: GroupStats
    by_center: tuple[GroupStats, ...]
    by_line: tuple[GroupStats, ...]
    by_zone: tuple[GroupStats, ...]
    by_mode: tuple[GroupStats, ...]


@attrs.frozen
class _Row:
    keys: Mapping[str, tuple[str, str]]
    approval: bool | None
    delivery: bool | None
    promise: bool | None
    approval_days: int | None
    delivery_days: int | None
    total_days: int | None


def _judge(end: datetime | None, deadline: date | None, today: date) -> bool | None:
    if deadline is None:
        return None
    if end is not None:
        return business_date(end) <= deadline
    return False if today > deadline else None


def analyse(
    applications: Iterable[Application],
    *,
    catalogue: ServiceCatalogue,
    limits: ApplicationTimeLimits,
    centers: Iterable[ServiceCenter],
    modes: Mapping[str, CooperationMode] | None = None,
    shipments: Iterable[Shipment] = (),
    now: datetime,
) -> StageAnalysis:
    """Each stage of ``applications`` against its time limit, overall and by group.

    An item is *judged* once its outcome is known — finished, or unfinished past its
    deadline at ``now`` (then late) —; items still within their time are counted in
    ``applications`` but not judged. Withdrawn applications are not judged for approval;
    results not mailed are not judged for delivery; a shipment returned or cancelled is not
    judged for delivery. Groups: by center code, by business line, by zone (mailed results
    only: the zone from the center to the applicant), and by cooperation mode (from ``modes``,
    center code → mode; by default each center's own ``mode``; a center without one is
    ``"none"``).

    Args:
        applications: the applications.
        catalogue: their services (time limits and lines).
        limits: the time limits.
        centers: the centers that accepted them (origins of the results).
        modes: the cooperation mode of each center, when it is not the center's own.
        shipments: the result shipments, matched to applications by
            :attr:`Application.result_shipment_id`.
        now: the moment of the analysis (aware).

    Raises:
        ValidationError: an application of an unknown center or service.
    """
    moment = aware(now, "now")
    today = business_date(moment)
    by_code = {c.code: c for c in centers}
    mode_of: dict[str, CooperationMode | None] = {c: s.mode for c, s in by_code.items()}
    if modes is not None:
        mode_of.update(modes)
    by_id = {s.id: s for s in shipments}
    rows = []
    for app in applications:
        center = by_code.get(app.center)
        if center is None:
            raise ValidationError(
                f"application {app.reference} names center {app.center!r}, which is not "
                f"among the centers given: pass every center of the applications"
            )
        service = catalogue.lookup(app.service)
        promise = limits.promise(app, catalogue, center)
        shipment = by_id.get(app.result_shipment_id)
        stages = ApplicationStages.of(app, limits.calendar, shipment)
        approval = None
        if app.status is not ApplicationStatus.WITHDRAWN:
            approval = _judge(app.decided_at, promise.approval_by, today)
        delivery = None
        if shipment is not None and shipment.status not in _UNJUDGED:
            deadline = limits.delivery.deadline(shipment)
            finished = shipment.status is ShipmentStatus.DELIVERED
            if deadline is not None and (finished or today > deadline):
                delivery = not limits.delivery.is_overdue(shipment, moment)
        in_hands = stages.total.end if stages.total else None
        mailed = app.current_delivery is DeliveryChoice.MAIL and app.is_approved
        promise_met = _judge(in_hands, promise.delivered_by if mailed else None, today)
        mode = mode_of.get(app.center)
        keys = {
            "all": ("all", "全部"),
            "center": (center.code, center.name),
            "line": (service.business_line.value, service.business_line.label),
            "mode": ("none", "未合作") if mode is None else (mode.value, mode.label),
        }
        if mailed:
            zone = zone_between(center.division, app.destination)
            keys["zone"] = (zone.value, zone.label)
        rows.append(
            _Row(
                keys=keys,
                approval=approval,
                delivery=delivery,
                promise=promise_met,
                approval_days=stages.approval.working_days if stages.approval else None,
                delivery_days=stages.delivery.working_days if stages.delivery else None,
                total_days=stages.total.working_days if stages.total else None,
            )
        )

    def groups(dimension: str) -> tuple[GroupStats, ...]:
        found: dict[tuple[str, str], list[_Row]] = {}
        for row in rows:
            if dimension in row.keys:
                found.setdefault(row.keys[dimension], []).append(row)
        return tuple(_stats(dimension, k, found[k]) for k in sorted(found))

    overall = groups("all")
    return StageAnalysis(
        overall=overall[0] if overall else _stats("all", ("all", "全部"), []),
        by_center=groups("center"),
        by_line=groups("line"),
        by_zone=groups("zone"),
        by_mode=groups("mode"),
    )


_UNJUDGED = frozenset({ShipmentStatus.CANCELLED, ShipmentStatus.RETURNING, ShipmentStatus.RETURNED})


def _stats(dimension: str, key: tuple[str, str], rows: list[_Row]) -> GroupStats:
    def tally(pick: Callable[[_Row], bool | None]) -> Tally:
        result = Tally()
        for row in rows:
            result = result.add(pick(row))
        return result

    def days(pick: Callable[[_Row], int | None]) -> Distribution:
        return Distribution.of(d for d in map(pick, rows) if d is not None)

    return GroupStats(
        dimension=dimension,
        key=key[0],
        label=key[1],
        applications=len(rows),
        approval=tally(lambda r: r.approval),
        delivery=tally(lambda r: r.delivery),
        promise=tally(lambda r: r.promise),
        approval_days=days(lambda r: r.approval_days),
        delivery_days=days(lambda r: r.delivery_days),
        total_days=days(lambda r: r.total_days),
    )
