"""Working days in mainland China: :class:`WorkCalendar`.

Delivery time limits (时限) and the analysis of each stage against administrative time limits are
counted in working days (工作日). In China those are not simply Monday to Friday: every year the
General Office of the State Council publishes the year's public holidays (国务院办公厅关于某年部分
节假日安排的通知), and some weekends become working days in exchange (调休上班)::

    >>> from datetime import date
    >>> cal = WorkCalendar.china()
    >>> cal.is_workday(date(2024, 2, 4))  # a Sunday, worked for the Spring Festival week
    True
    >>> cal.is_workday(date(2024, 2, 12))  # a Monday inside the Spring Festival holiday
    False

Offsets and counts agree with each other: :meth:`~WorkCalendar.add_workdays` moves ``n`` working
days, and :meth:`~WorkCalendar.workdays_between` counts the working days after its first date up
to and including its second, so ``cal.workdays_between(d, cal.add_workdays(d, n)) == n``::

    >>> cal.add_workdays(date(2024, 9, 30), 1)  # National Day week skipped
    datetime.date(2024, 10, 8)
    >>> cal.workdays_between(date(2024, 9, 30), date(2024, 10, 8))
    1

The official schedule exists only for the years the State Council has published, so a year the
data does not cover — before 2004, or a year whose notice the installed ``chinesecalendar``
release does not have yet — raises :class:`~govpost.errors.CalendarCoverageError` instead of
guessing::

    >>> cal.is_workday(date(2003, 12, 31))
    Traceback (most recent call last):
    ...
    govpost.errors.CalendarCoverageError: 2003-12-31 is in 2003, which this calendar has no ...

When a new notice appears, add its dates with :meth:`~WorkCalendar.with_overrides` (or
:meth:`~WorkCalendar.with_schedule` for a JSON or TOML file); the how-to
:doc:`/howto/calendar` walks through it.

Dates are ``datetime.date``; an aware ``datetime.datetime`` is taken as its date in
Asia/Shanghai, where business dates live; a naive datetime is refused.

.. versionadded:: 0.1.0
"""

from __future__ import annotations

import functools
from bisect import bisect_right
from collections.abc import Iterable, Mapping
from datetime import date, datetime, timedelta
from typing import Self

import attrs

from govpost.errors import CalendarCoverageError, ValidationError, _short

__all__ = ["WorkCalendar"]

_HOWTO = "https://govpost.readthedocs.io/en/latest/howto/calendar.html"

#: Offsets beyond this many working days (about 40 years) are refused as certain mistakes.
MAX_OFFSET = 10_000

_SCHEDULE_KEYS = ("holidays", "workdays", "reference")


def _as_date(value: object, name: str) -> date:
    """The business date of a date or an aware datetime (taken in Asia/Shanghai)."""
    from govpost.periods import business_date  # loads the zone on first use

    return business_date(value, name)  # type: ignore[arg-type]


def _offset(n: object) -> int:
    if isinstance(n, bool) or not isinstance(n, int):
        raise ValidationError(
            f"n {_short(n)} of type {type(n).__name__} is not a whole number of working days: "
            f"pass an int"
        )
    if abs(n) > MAX_OFFSET:
        raise ValidationError(
            f"n={n} working days is beyond ±{MAX_OFFSET} (about 40 years), which is surely a "
            f"mistake: check the units of the offset"
        )
    return n


def _date_set(values: object, name: str) -> frozenset[date]:
    if isinstance(values, str | bytes) or not isinstance(values, Iterable):
        raise ValidationError(
            f"{name} {_short(values)} must be an iterable of datetime.date, "
            f"such as [date(2027, 1, 1)]"
        )
    days = set()
    for value in values:
        if isinstance(value, datetime) or not isinstance(value, date):
            raise ValidationError(
                f"{name} entry {_short(value)} is not a datetime.date: a holiday or working day "
                f"is a whole day, pass date(...) (or load ISO strings with with_schedule())"
            )
        days.add(value)
    return frozenset(days)


def _holidays(values: Iterable[date]) -> frozenset[date]:
    return _date_set(values, "holidays")


def _workdays(values: Iterable[date]) -> frozenset[date]:
    return _date_set(values, "workdays")


def _years(values: Iterable[int]) -> frozenset[int]:
    return _year_set(values)


def _year_set(values: object) -> frozenset[int]:
    if isinstance(values, str | bytes) or not isinstance(values, Iterable):
        raise ValidationError(
            f"covered_years {_short(values)} must be an iterable of int years, "
            f"such as range(2024, 2027)"
        )
    years = set()
    for year in values:
        if isinstance(year, bool) or not isinstance(year, int) or not 1 <= year <= 9999:
            raise ValidationError(
                f"covered year {_short(year)} is not a year: pass ints from 1 to 9999"
            )
        years.add(year)
    return frozenset(years)


def _spans(years: frozenset[int]) -> str:
    """``2004–2026, 2028``: the years as runs of consecutive years."""
    if not years:
        return "no years"
    ordered = sorted(years)
    runs: list[list[int]] = [[ordered[0], ordered[0]]]
    for year in ordered[1:]:
        if year == runs[-1][1] + 1:
            runs[-1][1] = year
        else:
            runs.append([year, year])
    return ", ".join(str(a) if a == b else f"{a}–{b}" for a, b in runs)


def _schedule_dates(schedule: Mapping[str, object], key: str) -> list[date]:
    entries = schedule.get(key, [])
    if isinstance(entries, str | bytes) or not isinstance(entries, list | tuple):
        raise ValidationError(
            f"schedule @ $.{key}: {_short(entries)} must be a list of dates like '2027-01-01'"
        )
    days = []
    for i, entry in enumerate(entries):
        if isinstance(entry, str):
            try:
                days.append(date.fromisoformat(entry))
            except ValueError:
                raise ValidationError(
                    f"schedule @ $.{key}[{i}]: {_short(entry)} is not a date: write it as "
                    f"YYYY-MM-DD"
                ) from None
        elif isinstance(entry, date) and not isinstance(entry, datetime):
            days.append(entry)
        else:
            raise ValidationError(
                f"schedule @ $.{key}[{i}]: {_short(entry)} is not a date: write it as YYYY-MM-DD"
            )
    return days


@attrs.frozen(kw_only=True, repr=False)
class WorkCalendar:
    """Working days of mainland China, adjusted working weekends (调休) included.

    A day of a covered year is a working day when it is listed in ``workdays``, or when it is a
    Monday to Friday not listed in ``holidays``. A day of any other year raises
    :class:`~govpost.errors.CalendarCoverageError`.

    Most code wants :meth:`china`; build one directly, or with :meth:`weekdays_only`, for tests.

    Attributes:
        holidays: days off (放假) that would otherwise be working days; days of the official
            holiday periods that fall on a weekend may be listed too.
        workdays: weekend days that are working days (调休上班).
        covered_years: the years whose official schedule the calendar holds.

    Raises:
        ValidationError: a date is in both sets, lies outside ``covered_years``, or is not a
            ``datetime.date``; a covered year is not an int from 1 to 9999.

    >>> from datetime import date
    >>> cal = WorkCalendar(covered_years=[2025], holidays=[date(2025, 1, 1)])
    >>> cal
    <WorkCalendar covering 2025: 1 holidays, 0 adjusted working days>
    >>> cal.add_workdays(date(2024, 12, 31), 1)
    Traceback (most recent call last):
    ...
    govpost.errors.CalendarCoverageError: 2024-12-31 is in 2024, which this calendar has no ...

    .. versionadded:: 0.1.0
    """

    holidays: frozenset[date] = attrs.field(default=frozenset(), converter=_holidays)
    workdays: frozenset[date] = attrs.field(default=frozenset(), converter=_workdays)
    covered_years: frozenset[int] = attrs.field(converter=_years)
    # year -> that year's working days in order, built on first use of the year.
    _by_year: dict[int, tuple[date, ...]] = attrs.field(
        init=False, factory=dict, eq=False, hash=False, repr=False
    )

    @covered_years.validator
    def _check(self, _attribute: attrs.Attribute[frozenset[int]], years: frozenset[int]) -> None:
        both = sorted(self.holidays & self.workdays)
        if both:
            listed = ", ".join(d.isoformat() for d in both[:3])
            raise ValidationError(
                f"{listed} {'is' if len(both) == 1 else 'are'} both a holiday and a working "
                f"day: keep each date in one of holidays and workdays"
            )
        for name, days in (("holiday", self.holidays), ("working day", self.workdays)):
            outside = sorted(d for d in days if d.year not in years)
            if outside:
                raise ValidationError(
                    f"{name} {outside[0].isoformat()} is outside the covered years "
                    f"({_spans(years)}): add {outside[0].year} to covered_years, or use "
                    f"with_overrides(), which covers the years of the dates it is given"
                )

    @classmethod
    def china(cls) -> WorkCalendar:
        """The official calendar of mainland China, from the ``chinesecalendar`` package.

        The package transcribes each year's State Council notice; version 1.11 covers 2004 to
        2026, and each later release adds the year of the newest notice. Until the release that
        covers a year is installed, add the year with :meth:`with_overrides` or
        :meth:`with_schedule`. The calendar is built once per process and shared (it is
        immutable).

        >>> WorkCalendar.china().covered_years >= set(range(2004, 2027))
        True

        .. versionadded:: 0.1.0
        """
        return _china()

    @classmethod
    def weekdays_only(cls, *, years: Iterable[int]) -> Self:
        """A calendar for ``years`` where Monday to Friday work and nothing else is special.

        For tests and demonstrations, or as the base of a calendar built entirely from
        :meth:`with_overrides`.

        >>> from datetime import date
        >>> WorkCalendar.weekdays_only(years=range(2030, 2032)).add_workdays(date(2030, 1, 4), 1)
        datetime.date(2030, 1, 7)

        .. versionadded:: 0.1.0
        """
        return cls(covered_years=years)

    def __repr__(self) -> str:
        return (
            f"<WorkCalendar covering {_spans(self.covered_years)}: {len(self.holidays)} "
            f"holidays, {len(self.workdays)} adjusted working days>"
        )

    def with_overrides(
        self, *, holidays: Iterable[date] = (), workdays: Iterable[date] = ()
    ) -> Self:
        """A new calendar in which ``holidays`` are days off and ``workdays`` are working days.

        The given dates win over this calendar's data, and the years they fall in become
        covered. So when you add a year, give that year's whole official schedule from the State
        Council's notice (国务院办公厅关于某年部分节假日安排的通知): every day of each holiday
        period, and every weekend day declared a working day (…上班). This calendar is unchanged.

        Args:
            holidays: dates that are not working days.
            workdays: dates that are working days.

        Raises:
            ValidationError: a date is in both ``holidays`` and ``workdays``, or an entry is not
                a ``datetime.date``.

        >>> from datetime import date
        >>> cal = WorkCalendar.china().with_overrides(
        ...     holidays=[date(2027, 1, 1)], workdays=[date(2027, 1, 9)]
        ... )  # made-up dates, for the example only
        >>> cal.is_workday(date(2027, 1, 1)), cal.is_workday(date(2027, 1, 9))
        (False, True)

        .. versionadded:: 0.1.0
        """
        off = _holidays(holidays)
        on = _workdays(workdays)
        both = sorted(off & on)
        if both:
            raise ValidationError(
                f"{both[0].isoformat()} is given both as a holiday and as a working day: "
                f"keep it in one of holidays and workdays"
            )
        return attrs.evolve(
            self,
            holidays=(self.holidays - on) | off,
            workdays=(self.workdays - off) | on,
            covered_years=self.covered_years | {d.year for d in off | on},
        )

    def with_schedule(self, schedule: Mapping[str, object]) -> Self:
        """:meth:`with_overrides` from a mapping, as read from a JSON or TOML file.

        ``schedule`` has the keys ``"holidays"`` and ``"workdays"``, lists of ISO dates
        (``"2027-01-01"``) or ``datetime.date`` values (TOML dates), and optionally
        ``"reference"``, the notice the dates come from, for the people who read the file.

        Raises:
            ValidationError: a key is unknown, or an entry is not a date; the message names the
                entry, as in ``@ $.holidays[3]``.

        >>> cal = WorkCalendar.weekdays_only(years=[2030]).with_schedule(
        ...     {"holidays": ["2030-01-01"], "workdays": ["2030-01-05"]}
        ... )
        >>> cal
        <WorkCalendar covering 2030: 1 holidays, 1 adjusted working days>
        >>> cal.with_schedule({"holidays": ["2030-02-30"]})
        Traceback (most recent call last):
        ...
        govpost.errors.ValidationError: schedule @ $.holidays[0]: '2030-02-30' is not a date: ...

        .. versionadded:: 0.1.0
        """
        if not isinstance(schedule, Mapping):
            raise ValidationError(
                f"schedule {_short(schedule)} must be a mapping with 'holidays' and 'workdays'"
            )
        unknown = sorted(repr(k) for k in schedule if k not in _SCHEDULE_KEYS)
        if unknown:
            raise ValidationError(
                f"schedule has unknown key(s) {', '.join(unknown)}: use 'holidays', 'workdays' "
                f"and optionally 'reference'"
            )
        reference = schedule.get("reference", "")
        if not isinstance(reference, str):
            raise ValidationError(
                f"schedule @ $.reference: {_short(reference)} must be a string naming the notice"
            )
        return self.with_overrides(
            holidays=_schedule_dates(schedule, "holidays"),
            workdays=_schedule_dates(schedule, "workdays"),
        )

    def is_workday(self, d: date) -> bool:
        """Whether ``d`` is a working day.

        Args:
            d: a date, or an aware datetime (its date in Asia/Shanghai is used).

        Raises:
            CalendarCoverageError: the calendar does not cover ``d``'s year.
            ValidationError: ``d`` is a naive datetime or not a date.

        >>> from datetime import date
        >>> WorkCalendar.china().is_workday(date(2025, 10, 11))  # Saturday, 调休上班
        True

        .. versionadded:: 0.1.0
        """
        day = _as_date(d, "d")
        self._cover(day.year, f"{day.isoformat()} is in {day.year}")
        return self._works(day)

    def add_workdays(self, d: date, n: int) -> date:
        """The date ``n`` working days after ``d`` (before it when ``n`` is negative).

        For ``n > 0`` it is the ``n``-th working day strictly after ``d``; ``n == 0`` gives
        ``d`` itself, working day or not. For every ``n != 0`` the result is the one working day
        ``r`` with ``workdays_between(d, r) == n``: read a date as the end of that day. Going
        back from a working day is the mirror of going forward, but going back from a day off
        starts from the last working day before it, since no working day separates the two: one
        working day before a Saturday is the Thursday, as only Friday lies in (Thursday,
        Saturday].

        Args:
            d: a date, or an aware datetime (its date in Asia/Shanghai is used).
            n: the number of working days, an int from -10000 to 10000.

        Raises:
            CalendarCoverageError: ``d``'s year is not covered, or the walk reaches a year that
                is not.
            ValidationError: ``d`` is a naive datetime or not a date; ``n`` is not an int or is
                too large.

        >>> from datetime import date
        >>> cal = WorkCalendar.china()
        >>> cal.add_workdays(date(2024, 2, 9), 1)  # next working day: Sunday 18 February
        datetime.date(2024, 2, 18)
        >>> cal.add_workdays(date(2024, 3, 8), -1), cal.add_workdays(date(2024, 3, 9), -1)
        (datetime.date(2024, 3, 7), datetime.date(2024, 3, 7))

        .. versionadded:: 0.1.0
        """
        day = _as_date(d, "d")
        steps = _offset(n)
        self._cover(day.year, f"{day.isoformat()} is in {day.year}")
        if steps == 0:
            return day
        year = day.year
        days = self._year(year)
        # Index, in `days`, of the working day r with F(r) = F(day) + n, where F(x) counts the
        # working days up to and including x; it leaves the year's list when the walk does.
        i = bisect_right(days, day) + steps - 1
        while i >= len(days):
            i -= len(days)
            year += 1
            self._cover(year, f"add_workdays({day.isoformat()}, {steps}) walks into {year}")
            days = self._year(year)
        while i < 0:
            year -= 1
            self._cover(year, f"add_workdays({day.isoformat()}, {steps}) walks into {year}")
            days = self._year(year)
            i += len(days)
        return days[i]

    def workdays_between(self, a: date, b: date) -> int:
        """The number of working days in (a, b]: after ``a``, up to and including ``b``.

        Negative when ``b`` is before ``a``: ``workdays_between(a, b) == -workdays_between(b,
        a)``, and counts add up, ``workdays_between(a, b) + workdays_between(b, c) ==
        workdays_between(a, c)``. It inverts :meth:`add_workdays`:
        ``workdays_between(d, add_workdays(d, n)) == n``.

        Args:
            a: a date, or an aware datetime (its date in Asia/Shanghai is used).
            b: likewise.

        Raises:
            CalendarCoverageError: a year from ``a``'s to ``b``'s is not covered.
            ValidationError: ``a`` or ``b`` is a naive datetime or not a date.

        >>> from datetime import date
        >>> cal = WorkCalendar.china()
        >>> cal.workdays_between(date(2025, 1, 24), date(2025, 2, 8))  # 26 Jan, 27 Jan, 5-8 Feb
        6
        >>> cal.workdays_between(date(2025, 2, 8), date(2025, 1, 24))
        -6

        .. versionadded:: 0.1.0
        """
        start = _as_date(a, "a")
        end = _as_date(b, "b")
        low, high = min(start, end), max(start, end)
        for year in range(low.year, high.year + 1):
            self._cover(
                year, f"workdays_between({start.isoformat()}, {end.isoformat()}) spans {year}"
            )
        first, last = self._year(low.year), self._year(high.year)
        if low.year == high.year:
            count = bisect_right(first, high) - bisect_right(first, low)
        else:
            count = (
                len(first)
                - bisect_right(first, low)
                + sum(len(self._year(y)) for y in range(low.year + 1, high.year))
                + bisect_right(last, high)
            )
        return count if start <= end else -count

    def _works(self, day: date) -> bool:
        return day in self.workdays or (day.weekday() < 5 and day not in self.holidays)

    def _cover(self, year: int, context: str) -> None:
        if year not in self.covered_years:
            raise CalendarCoverageError(
                f"{context}, which this calendar has no official schedule for (it covers "
                f"{_spans(self.covered_years)}): add {year}'s schedule from the State Council's "
                f"notice (国务院办公厅关于{year}年部分节假日安排的通知) with "
                f".with_overrides(holidays=..., workdays=...), or upgrade chinesecalendar once a "
                f"release covers {year}; see {_HOWTO}"
            )

    def _year(self, year: int) -> tuple[date, ...]:
        days = self._by_year.get(year)
        if days is None:
            first = date(year, 1, 1)
            length = date(year, 12, 31).toordinal() - first.toordinal() + 1
            days = tuple(
                day
                for day in (first + timedelta(days=k) for k in range(length))
                if self._works(day)
            )
            self._by_year[year] = days
        return days


@functools.cache
def _china() -> WorkCalendar:
    # Imported here, not at module level: `import govpost` must stay light.
    from chinese_calendar import constants

    holidays: dict[date, object] = constants.holidays
    workdays: dict[date, object] = constants.workdays
    # The package's own rule: it answers for the years from its first to its last holiday.
    first, last = min(holidays).year, max(holidays).year
    return WorkCalendar(
        holidays=holidays.keys(),
        workdays=workdays.keys(),
        covered_years=range(first, last + 1),
    )
