"""Time in the cooperation: the Asia/Shanghai zone, business dates and settlement periods.

Every date govpost decides by — the day a piece was picked up, the period it is billed in, the
working day a deadline falls on — is a *business date*: the calendar date in Asia/Shanghai
(:data:`SHANGHAI`) of an aware instant. :func:`business_date` is the one place that takes it::

    >>> from datetime import datetime, timezone
    >>> business_date(datetime(2018, 6, 30, 17, 0, tzinfo=timezone.utc))   # 01:00 in Shanghai
    datetime.date(2018, 7, 1)

A :class:`Period` is a calendar month, quarter or year of business dates, of a
:class:`PeriodKind`::

    >>> Period.parse("2018-06").contains(business_date(datetime(2018, 6, 30, 17, 0, tzinfo=timezone.utc)))
    False

.. versionadded:: 0.2.0
   The module; :class:`PeriodKind` and :func:`business_date` were in :mod:`govpost.agreements`
   and :class:`Period` in :mod:`govpost.settlement`, which still export them.
"""

from __future__ import annotations

import enum
import re
from datetime import date, datetime
from typing import Any, Self
from zoneinfo import ZoneInfo

import attrs

from govpost._fields import aware, coerce_enum, short
from govpost._limits import YEARS, check_year
from govpost.errors import ValidationError

__all__ = ["SHANGHAI", "Period", "PeriodKind", "business_date"]

#: The zone of every business date: China Standard Time, UTC+8 all year.
#:
#: .. versionadded:: 0.2.0
SHANGHAI = ZoneInfo("Asia/Shanghai")


def business_date(value: date | datetime, what: str = "instant") -> date:
    """The business date of an instant: its calendar date in Asia/Shanghai.

    A :class:`~datetime.date` is already a business date and is returned unchanged.

    Args:
        value: an aware datetime, or a date.
        what: how an error message names the value (``"picked_up_at"``, ``"d"``, …).

    Raises:
        ValidationError: a naive datetime, a year outside 1900–9998, or not a date at all.

    >>> from datetime import datetime, timezone
    >>> business_date(datetime(2018, 6, 30, 15, 59, tzinfo=timezone.utc))
    datetime.date(2018, 6, 30)

    .. versionadded:: 0.1.0

    .. versionchanged:: 0.2.0
       Lives here (``govpost.agreements.business_date`` is the same function); ``what``.
    """
    given: object = value  # untyped callers pass anything
    if isinstance(given, datetime):
        return aware(given, what).astimezone(SHANGHAI).date()
    if isinstance(given, date):
        return given
    hint = " (parse it first with datetime.date.fromisoformat)" if isinstance(given, str) else ""
    raise ValidationError(
        f"{what} {short(given)} of type {type(given).__name__} is not a date: "
        f"pass a datetime.date or an aware datetime{hint}"
    )


class PeriodKind(enum.Enum):
    """How often an agreement is settled.

    .. versionadded:: 0.1.0
    """

    MONTH = "month"  #: 月结
    QUARTER = "quarter"  #: 季结
    YEAR = "year"  #: 年结

    @property
    def months(self) -> int:
        """How many calendar months a period of this kind spans.

        .. versionadded:: 0.2.0
        """
        return _MONTHS[self]


_MONTHS = {PeriodKind.MONTH: 1, PeriodKind.QUARTER: 3, PeriodKind.YEAR: 12}


def _kind(value: PeriodKind | str) -> PeriodKind:
    return coerce_enum(PeriodKind, value, "period kind")


def _start(value: date) -> date:
    if not isinstance(value, date) or type(value) is not date:
        raise ValidationError(f"period start {short(value)} must be a datetime.date")
    check_year(
        value,
        f"period start {value}",
        scope="periods lie in the years",
        hint=", the years of the wire format",
    )
    return value


def _check(instance: Period, attribute: Any, value: Any) -> None:
    start, kind = instance.start, instance.kind
    if start.day != 1 or (start.month - 1) % kind.months:
        raise ValidationError(
            f"a {kind.value} period cannot start on {start}: use Period.month(), "
            f"Period.quarter() or Period.year()"
        )


_PATTERN = re.compile(r"(?P<year>[0-9]{4})(?:-(?:(?P<month>[0-9]{1,2})|[Qq](?P<quarter>[1-4])))?")


@attrs.frozen(kw_only=True)
class Period:
    """A settlement period: a calendar month, quarter or year of business dates.

    Its dates run from :attr:`start` (inclusive) to :attr:`end` (exclusive), in Asia/Shanghai.

    >>> Period.month(2018, 6)
    Period.parse('2018-06')
    >>> Period.parse("2018-Q2").end, Period.year(2018).days
    (datetime.date(2018, 7, 1), 365)
    >>> Period.month(2018, 12).next()
    Period.parse('2019-01')

    .. versionadded:: 0.1.0

    .. versionchanged:: 0.2.0
       Lives in :mod:`govpost.periods` (``govpost.settlement.Period`` is the same class).
    """

    kind: PeriodKind = attrs.field(converter=_kind)
    start: date = attrs.field(converter=_start, validator=_check)

    @classmethod
    def month(cls, year: int, month: int) -> Self:
        """The calendar month ``year-month``."""
        return cls(kind=PeriodKind.MONTH, start=_date(year, month))

    @classmethod
    def quarter(cls, year: int, quarter: int) -> Self:
        """Quarter 1–4 of ``year``."""
        if isinstance(quarter, bool) or not isinstance(quarter, int) or not 1 <= quarter <= 4:
            raise ValidationError(f"quarter {short(quarter)} must be 1, 2, 3 or 4")
        return cls(kind=PeriodKind.QUARTER, start=_date(year, 3 * quarter - 2))

    @classmethod
    def year(cls, year: int) -> Self:
        """The calendar year (the fiscal year in China)."""
        return cls(kind=PeriodKind.YEAR, start=_date(year, 1))

    @classmethod
    def parse(cls, text: str) -> Self:
        """``"2018-06"`` (month), ``"2018-Q2"`` (quarter) or ``"2018"`` (year).

        Raises:
            ValidationError: any other text.
        """
        match = _PATTERN.fullmatch(text.strip()) if isinstance(text, str) else None
        if match is None:
            raise ValidationError(
                f"period {short(text)} is not like '2018-06' (month), '2018-Q2' (quarter) or '2018'"
            )
        year = int(match["year"])
        if match["month"]:
            return cls.month(year, int(match["month"]))
        if match["quarter"]:
            return cls.quarter(year, int(match["quarter"]))
        return cls.year(year)

    @classmethod
    def of(cls, kind: PeriodKind | str, value: date | datetime) -> Self:
        """The period of ``kind`` that holds the business date of ``value``.

        >>> from datetime import datetime, timezone
        >>> Period.of("quarter", datetime(2018, 6, 30, 17, 0, tzinfo=timezone.utc))
        Period.parse('2018-Q3')

        .. versionadded:: 0.2.0
        """
        kind = _kind(kind)
        day = business_date(value, "value")
        return cls(kind=kind, start=_date(day.year, day.month - (day.month - 1) % kind.months))

    @property
    def end(self) -> date:
        """The first date after the period (exclusive end)."""
        return _shift(self.start, self.kind.months)

    @property
    def days(self) -> int:
        """The number of days in the period."""
        return (self.end - self.start).days

    def contains(self, day: date) -> bool:
        """Whether business date ``day`` lies in the period."""
        return self.start <= day < self.end

    def next(self) -> Period:
        """The period of the same kind that follows."""
        return Period(kind=self.kind, start=self.end)

    def previous(self) -> Period:
        """The period of the same kind that precedes."""
        if self.start.year * 12 + self.start.month - 1 - self.kind.months < 12 * YEARS.start:
            raise ValidationError(
                f"period {self} has no previous period: periods start in the year {YEARS.start}"
            )
        return Period(kind=self.kind, start=_shift(self.start, -self.kind.months))

    def __str__(self) -> str:
        if self.kind is PeriodKind.MONTH:
            return f"{self.start.year:04d}-{self.start.month:02d}"
        if self.kind is PeriodKind.QUARTER:
            return f"{self.start.year:04d}-Q{(self.start.month + 2) // 3}"
        return f"{self.start.year:04d}"

    def __repr__(self) -> str:
        return f"Period.parse({str(self)!r})"


def _shift(start: date, months: int) -> date:
    index = start.year * 12 + start.month - 1 + months
    return date(index // 12, index % 12 + 1, 1)


def _date(year: object, month: int) -> date:
    if isinstance(year, bool) or not isinstance(year, int) or year not in YEARS:
        raise ValidationError(
            f"year {short(year)} must be an int from {YEARS.start} to {YEARS.stop - 1}"
        )
    if isinstance(month, bool) or not isinstance(month, int) or not 1 <= month <= 12:
        raise ValidationError(f"month {short(month)} must be an int from 1 to 12")
    return date(year, month, 1)
