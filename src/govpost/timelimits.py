"""Time limits (时限): delivery deadlines in working days, and the time each stage takes.

The report on the cooperation asks to "analyse the time of each stage against the
administrative approval time limits and set delivery time limits accordingly". This module
holds those rules, counted in working days of a :class:`~govpost.calendar.WorkCalendar` on
business dates (Asia/Shanghai, :func:`govpost.periods.business_date`):

- :class:`DeliveryTimeLimits`: the delivery deadline by zone, and whether a shipment is overdue;
- :class:`StageDurations`: approved → booked → picked up → delivered, in working time;
- :func:`working_time_between`: the working time between two instants.

::

    >>> from datetime import datetime
    >>> from govpost.calendar import WorkCalendar
    >>> from govpost.periods import SHANGHAI
    >>> from govpost.regions import Zone
    >>> limits = DeliveryTimeLimits(
    ...     days={Zone.SAME_CITY: 1, Zone.IN_PROVINCE: 2, Zone.OUT_OF_PROVINCE: 4},
    ...     calendar=WorkCalendar.china(),
    ... )
    >>> limits.deadline_for(Zone.IN_PROVINCE, datetime(2024, 9, 29, 16, 0, tzinfo=SHANGHAI))
    datetime.date(2024, 10, 8)

.. versionadded:: 0.2.0
   The module: its names were in :mod:`govpost.shipments`, which still exports them.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime, time, timedelta
from types import MappingProxyType

import attrs

from govpost._fields import aware, coerce_enum, short
from govpost.calendar import WorkCalendar
from govpost.errors import ValidationError
from govpost.periods import SHANGHAI, business_date
from govpost.regions import Zone
from govpost.shipments import Shipment, ShipmentStatus

__all__ = ["DeliveryTimeLimits", "StageDurations", "working_time_between"]

#: Statuses with no delivery deadline to miss: never sent, or on the way back to the sender.
_NO_DEADLINE = frozenset(
    {ShipmentStatus.CANCELLED, ShipmentStatus.RETURNING, ShipmentStatus.RETURNED}
)


def _limit_days(value: Mapping[Zone, int] | Mapping[str, int]) -> Mapping[Zone, int]:
    given: object = value  # untyped callers pass anything
    if not isinstance(given, Mapping):
        raise ValidationError(
            f"days {short(given)} must map every Zone to working days, e.g. "
            f"{{Zone.SAME_CITY: 1, Zone.IN_PROVINCE: 2, Zone.OUT_OF_PROVINCE: 4}}"
        )
    table: dict[Zone, int] = {}
    for key, days in given.items():
        zone = coerce_enum(Zone, key)
        if isinstance(days, bool) or not isinstance(days, int) or not 0 <= days <= 365:
            raise ValidationError(
                f"time limit {short(days)} for {zone.name} must be an int of working days, 0-365"
            )
        table[zone] = days
    missing = [z.name for z in Zone if z not in table]
    if missing:
        raise ValidationError(f"time limits miss the zones {', '.join(missing)}")
    return MappingProxyType(table)


def _calendar(value: WorkCalendar) -> WorkCalendar:
    given: object = value  # untyped callers pass anything
    if not isinstance(given, WorkCalendar):
        raise ValidationError(f"calendar {short(given)} must be a WorkCalendar")
    return given


@attrs.frozen(kw_only=True)
class DeliveryTimeLimits:
    """Delivery time limits (寄递时限) in working days by zone, counted from the pickup date.

    The numbers are the agreement's, not govpost's: set the ones your agreement with the
    carrier states. The deadline is the pickup date (Asia/Shanghai) plus that many working days
    of ``calendar``; an item is on time when it is signed for on or before the deadline.

    Args:
        days: working days for every :class:`~govpost.regions.Zone` (members or their values).
        calendar: the working days to count in.

    >>> from datetime import datetime
    >>> from govpost.calendar import WorkCalendar
    >>> limits = DeliveryTimeLimits(
    ...     days={Zone.SAME_CITY: 1, Zone.IN_PROVINCE: 2, Zone.OUT_OF_PROVINCE: 4},
    ...     calendar=WorkCalendar.china(),
    ... )
    >>> limits.deadline_for(Zone.IN_PROVINCE, datetime(2024, 9, 29, 16, 0, tzinfo=SHANGHAI))
    datetime.date(2024, 10, 8)

    .. versionadded:: 0.1.0

    .. versionchanged:: 0.2.0
       Lives in :mod:`govpost.timelimits` (``govpost.shipments.DeliveryTimeLimits`` is the same
       class).
    """

    days: Mapping[Zone, int] = attrs.field(converter=_limit_days, hash=False)
    calendar: WorkCalendar = attrs.field(converter=_calendar)

    def deadline_for(self, zone: Zone | str, picked_up_at: datetime) -> date:
        """The last day on which an item of ``zone`` picked up at ``picked_up_at`` is on time."""
        start = business_date(aware(picked_up_at, "picked_up_at"))
        return self.calendar.add_workdays(start, self.days[coerce_enum(Zone, zone)])

    def deadline(self, shipment: Shipment) -> date | None:
        """The shipment's delivery deadline, or ``None`` before it is picked up."""
        if shipment.picked_up_at is None:
            return None
        return self.deadline_for(shipment.zone, shipment.picked_up_at)

    def is_overdue(self, shipment: Shipment, now: datetime) -> bool:
        """Whether the shipment missed, or has already missed, its deadline at ``now``.

        Delivered items are judged by their delivery date; items not yet picked up, cancelled
        or on their way back to the sender have no delivery deadline to miss.
        """
        today = business_date(aware(now, "now"))
        deadline = self.deadline(shipment)
        if deadline is None or shipment.status in _NO_DEADLINE:
            return False
        delivered = shipment.delivered_at
        if delivered is not None:
            return business_date(delivered) > deadline
        if shipment.status is ShipmentStatus.DELIVERED:
            return False  # delivered without an event: nothing says it was late
        return today > deadline


@attrs.frozen(kw_only=True)
class StageDurations:
    """Working time spent in each stage of a shipment; ``None`` where a stage is unfinished.

    Working time counts only the parts of the interval that fall on working days of the
    calendar, in Asia/Shanghai: an item approved on Friday evening and booked on Monday morning
    spent a few hours, not three days, in "approved → booked".

    .. versionadded:: 0.1.0

    .. versionchanged:: 0.2.0
       Lives in :mod:`govpost.timelimits` (``govpost.shipments.StageDurations`` is the same
       class).
    """

    approved_to_booked: timedelta | None
    booked_to_picked_up: timedelta | None
    picked_up_to_delivered: timedelta | None
    approved_to_delivered: timedelta | None

    @classmethod
    def of(cls, shipment: Shipment, calendar: WorkCalendar) -> StageDurations:
        """The stage durations of ``shipment`` (approved → booked → picked up → delivered)."""
        approved, booked = shipment.approved_at, shipment.created_at
        picked, delivered = shipment.picked_up_at, shipment.delivered_at

        def span(start: datetime | None, end: datetime | None) -> timedelta | None:
            if start is None or end is None:
                return None
            return working_time_between(calendar, start, end)

        return cls(
            approved_to_booked=span(approved, booked),
            booked_to_picked_up=span(booked, picked),
            picked_up_to_delivered=span(picked, delivered),
            approved_to_delivered=span(approved, delivered),
        )


def working_time_between(calendar: WorkCalendar, start: datetime, end: datetime) -> timedelta:
    """The part of [start, end) that falls on working days (Asia/Shanghai); negative if reversed.

    >>> from govpost.calendar import WorkCalendar
    >>> friday = datetime(2024, 3, 8, 18, 0, tzinfo=SHANGHAI)
    >>> working_time_between(WorkCalendar.china(), friday, friday + timedelta(days=3))
    datetime.timedelta(days=1)

    Six hours of Friday and eighteen of Monday: the weekend does not count.

    .. versionadded:: 0.1.0

    .. versionchanged:: 0.2.0
       Lives in :mod:`govpost.timelimits` (``govpost.shipments.working_time_between`` is the
       same function).
    """
    # The wall-clock times in Shanghai, not only the dates: a day's working part is cut at
    # its midnights there.
    a = aware(start, "start").astimezone(SHANGHAI)
    b = aware(end, "end").astimezone(SHANGHAI)
    if b < a:
        return -working_time_between(calendar, b, a)
    total = timedelta(0)
    day = a.date()
    while day <= b.date():
        if calendar.is_workday(day):
            day_start = datetime.combine(day, time(0), SHANGHAI)
            lo = max(a, day_start)
            hi = min(b, day_start + timedelta(days=1))
            if hi > lo:
                total += hi - lo
        day += timedelta(days=1)
    return total
