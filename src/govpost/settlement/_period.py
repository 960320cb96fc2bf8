"""Settlement periods (private: use govpost.settlement)."""

from __future__ import annotations

import re
from datetime import date
from typing import Any, Self

import attrs

from govpost._fields import coerce_enum, short
from govpost._limits import YEARS
from govpost.agreements import PeriodKind
from govpost.errors import ValidationError


def _kind(value: object) -> PeriodKind:
    return coerce_enum(PeriodKind, value, "period kind")


def _start(value: object) -> date:
    if not isinstance(value, date) or type(value) is not date:
        raise ValidationError(f"period start {short(value)} must be a datetime.date")
    if value.year not in YEARS:
        raise ValidationError(
            f"period start {value} is in the year {value.year}: periods lie in the years "
            f"{YEARS.start} to {YEARS.stop - 1}, the years of the wire format"
        )
    return value


def _check(instance: Period, attribute: Any, value: Any) -> None:
    start, kind = instance.start, instance.kind
    aligned = {
        PeriodKind.MONTH: start.day == 1,
        PeriodKind.QUARTER: start.day == 1 and start.month in (1, 4, 7, 10),
        PeriodKind.YEAR: start.day == 1 and start.month == 1,
    }[kind]
    if not aligned:
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

    @property
    def end(self) -> date:
        """The first date after the period (exclusive end)."""
        months = {PeriodKind.MONTH: 1, PeriodKind.QUARTER: 3, PeriodKind.YEAR: 12}[self.kind]
        index = self.start.year * 12 + self.start.month - 1 + months
        return date(index // 12, index % 12 + 1, 1)

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
        months = {PeriodKind.MONTH: 1, PeriodKind.QUARTER: 3, PeriodKind.YEAR: 12}[self.kind]
        index = self.start.year * 12 + self.start.month - 1 - months
        if index < 12 * YEARS.start:
            raise ValidationError(
                f"period {self} has no previous period: periods start in the year {YEARS.start}"
            )
        return Period(kind=self.kind, start=date(index // 12, index % 12 + 1, 1))

    def __str__(self) -> str:
        if self.kind is PeriodKind.MONTH:
            return f"{self.start.year:04d}-{self.start.month:02d}"
        if self.kind is PeriodKind.QUARTER:
            return f"{self.start.year:04d}-Q{(self.start.month + 2) // 3}"
        return f"{self.start.year:04d}"

    def __repr__(self) -> str:
        return f"Period.parse({str(self)!r})"


def _date(year: object, month: int) -> date:
    if isinstance(year, bool) or not isinstance(year, int) or year not in YEARS:
        raise ValidationError(
            f"year {short(year)} must be an int from {YEARS.start} to {YEARS.stop - 1}"
        )
    if isinstance(month, bool) or not isinstance(month, int) or not 1 <= month <= 12:
        raise ValidationError(f"month {short(month)} must be an int from 1 to 12")
    return date(year, month, 1)
