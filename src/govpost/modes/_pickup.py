"""Pickup schedules: when the post comes to the center (private: use govpost.modes).

A schedule is a set of RFC 5545 recurrence rules evaluated by python-dateutil in Asia/Shanghai
wall-clock time, filtered by the working days of a :class:`~govpost.calendar.WorkCalendar`.

dateutil walks a rule that can never match (``BYMONTH=2;BYMONTHDAY=30``) up to the year 9999
before it gives up, which costs seconds for a daily rule. The Gregorian calendar repeats every
400 years exactly (146,097 days, a whole number of weeks), so rules are evaluated on a *shadow*
window shifted by a multiple of 400 years close to that end: the occurrences are the same, and
the walk past the window is bounded by a few hundred years whatever the rule.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from datetime import UTC, date, datetime, time, timedelta

import attrs
from dateutil.rrule import rrule, rrulestr

from govpost._fields import aware, short
from govpost._limits import YEARS
from govpost.calendar import WorkCalendar
from govpost.centers import CooperationMode
from govpost.errors import ValidationError
from govpost.modes._manifest import PickupRun
from govpost.periods import SHANGHAI

#: The longest window :meth:`PickupSchedule.occurrences` evaluates at once, and how far
#: :meth:`PickupSchedule.next_pickup` looks ahead: a year, leap day included.
HORIZON_DAYS = 366

#: The most pickups a rule may give in one day (every quarter of an hour).
MAX_PER_DAY = 96

_FREQS = ("DAILY", "WEEKLY", "MONTHLY", "YEARLY")
_REFUSED = ("DTSTART", "RDATE", "EXDATE", "EXRULE", "TZID")
#: The parts of an RFC 5545 RRULE (dateutil's own extension BYEASTER is not one of them).
_KNOWN = frozenset(
    {
        "FREQ",
        "UNTIL",
        "COUNT",
        "INTERVAL",
        "BYSECOND",
        "BYMINUTE",
        "BYHOUR",
        "BYDAY",
        "BYMONTHDAY",
        "BYYEARDAY",
        "BYWEEKNO",
        "BYMONTH",
        "BYSETPOS",
        "WKST",
    }
)
_POSITIVE = re.compile(r"\+?[0-9]{1,9}")
_PART = re.compile(r"[A-Z]+=[A-Z0-9,+\-]+")
_UNTIL = re.compile(r"([0-9]{8})(?:T([0-9]{6})(Z?))?")
_CYCLE_YEARS = 400  # the Gregorian calendar repeats every 400 years


def _start_of(day: date) -> datetime:
    return datetime.combine(day, time(0))


def _until(text: str, rule: str) -> datetime:
    """An RRULE ``UNTIL`` value as a naive Asia/Shanghai wall-clock time (inclusive bound)."""
    match = _UNTIL.fullmatch(text)
    try:
        if match is None:
            raise ValueError(text)
        day = datetime.strptime(match[1], "%Y%m%d")
        if match[2] is None:
            return day.replace(hour=23, minute=59, second=59)
        moment = datetime.strptime(match[1] + match[2], "%Y%m%d%H%M%S")
    except ValueError:
        raise ValidationError(
            f"pickup rule {short(rule)}: UNTIL={short(text)} is not a date (20181231) or a time "
            f"(20181231T160000, or in UTC 20181231T080000Z)"
        ) from None
    if match[3]:
        try:
            return moment.replace(tzinfo=UTC).astimezone(SHANGHAI).replace(tzinfo=None)
        except OverflowError:  # 9999-12-31 in UTC is past the last day datetime holds
            return datetime.max
    return moment


@attrs.frozen
class _Rule:
    """One parsed rule: its text without ``UNTIL`` (given to dateutil) and the ``UNTIL`` bound."""

    text: str
    until: datetime | None


def _parse(rule: str) -> _Rule:
    """Check one RRULE text; what dateutil reads of it is evaluated later, per window."""
    parts = [p for p in rule.split(";") if p]
    if not parts or not all(_PART.fullmatch(p) for p in parts):
        raise ValidationError(
            f"pickup rule {short(rule)} is not an RFC 5545 RRULE: write NAME=VALUE parts joined "
            f"by ';', e.g. 'FREQ=DAILY;BYHOUR=10,16;BYMINUTE=0'"
        )
    names = [p.split("=", 1)[0] for p in parts]
    values = dict(p.split("=", 1) for p in parts)
    if len(set(names)) != len(names):
        raise ValidationError(f"pickup rule {short(rule)} names a part twice: give each once")
    refused = [n for n in names if n in _REFUSED]
    if refused:
        raise ValidationError(
            f"pickup rule {short(rule)} has {refused[0]}: a schedule's rule is one RRULE line; "
            f"its start is the schedule's starts= (midnight, Asia/Shanghai)"
        )
    unknown = [n for n in names if n not in _KNOWN]
    if unknown:
        raise ValidationError(
            f"pickup rule {short(rule)} has {short(unknown[0], 20)}, which is not a part of an "
            f"RFC 5545 RRULE: use FREQ, INTERVAL, COUNT, UNTIL, BYMONTH, BYWEEKNO, BYYEARDAY, "
            f"BYMONTHDAY, BYDAY, BYHOUR, BYMINUTE, BYSECOND, BYSETPOS and WKST"
        )
    for name in ("COUNT", "INTERVAL"):
        if name in values and (not _POSITIVE.fullmatch(values[name]) or int(values[name]) < 1):
            raise ValidationError(
                f"pickup rule {short(rule)}: {name}={short(values[name], 20)} must be a whole "
                f"number from 1 to 999,999,999"
            )
    freq = values.get("FREQ")
    if freq not in _FREQS:
        raise ValidationError(
            f"pickup rule {short(rule)}: FREQ={freq} is not one of {', '.join(_FREQS)}: "
            f"pickups several times a day are BYHOUR/BYMINUTE of a DAILY rule, e.g. "
            f"'FREQ=DAILY;BYHOUR=10,16;BYMINUTE=0'"
        )
    if "BYHOUR" not in values:
        raise ValidationError(
            f"pickup rule {short(rule)} has no BYHOUR: say when the post comes, e.g. "
            f"'{rule};BYHOUR=10;BYMINUTE=0'"
        )
    if "COUNT" in values and "UNTIL" in values:
        raise ValidationError(
            f"pickup rule {short(rule)} has both COUNT and UNTIL, which RFC 5545 forbids: keep one"
        )
    per_day = 1
    for name in ("BYHOUR", "BYMINUTE", "BYSECOND"):
        per_day *= len(set(values.get(name, "0").split(",")))
    if per_day > MAX_PER_DAY:
        raise ValidationError(
            f"pickup rule {short(rule)} gives {per_day} pickups a day; a schedule gives at "
            f"most {MAX_PER_DAY}: list the times of day the post really comes"
        )
    until = _until(values["UNTIL"], rule) if "UNTIL" in values else None
    text = ";".join(p for p in parts if not p.startswith("UNTIL="))
    try:
        rrulestr(text, dtstart=_start_of(date(2000, 1, 1)))
    except (ValueError, TypeError, KeyError, IndexError, OverflowError) as exc:
        raise ValidationError(
            f"pickup rule {short(rule)} is not a valid RFC 5545 RRULE ({short(str(exc), 60)}): "
            f"e.g. 'FREQ=DAILY;BYHOUR=10,16;BYMINUTE=0'"
        ) from None
    return _Rule(text, until)


def _normalise(rule: object) -> str:
    if not isinstance(rule, str):
        raise ValidationError(
            f"pickup rule {short(rule)} must be an RRULE string such as "
            f"'FREQ=DAILY;BYHOUR=10,16;BYMINUTE=0'"
        )
    text = "".join(rule.split()).upper()
    return text.removeprefix("RRULE:")


def _rules(value: str | Iterable[str]) -> tuple[str, ...]:
    given: object = value
    if isinstance(given, str):
        given = [given]
    if isinstance(given, bytes) or not isinstance(given, Iterable):
        raise ValidationError(
            f"rules {short(given)} must be an RRULE string or a list of them, e.g. "
            f"['FREQ=DAILY;BYHOUR=10;BYMINUTE=0']"
        )
    texts = sorted({_normalise(r) for r in given})
    if not texts:
        raise ValidationError("a pickup schedule needs at least one rule")
    for text in texts:
        _parse(text)
    return tuple(texts)


def _starts(value: date) -> date:
    given: object = value
    if isinstance(given, datetime) or not isinstance(given, date):
        raise ValidationError(
            f"starts {short(given)} must be a datetime.date: the first day the schedule is in force"
        )
    if given.year not in YEARS:
        raise ValidationError(
            f"starts {given} must lie in the years {YEARS.start}–{YEARS.stop - 1}"
        )
    return given


def _ends(value: date | None) -> date | None:
    return None if value is None else _starts(value)


def _calendar(calendar: WorkCalendar | None) -> WorkCalendar:
    given: object = calendar
    if given is None:
        return WorkCalendar.china()
    if not isinstance(given, WorkCalendar):
        raise ValidationError(f"calendar {short(given)} must be a WorkCalendar or None")
    return given


def _local(value: datetime | date, what: str) -> datetime:
    """A naive Asia/Shanghai wall-clock time from an aware datetime or a date (its midnight)."""
    given: object = value
    if isinstance(given, datetime):
        return aware(given, what).astimezone(SHANGHAI).replace(tzinfo=None)
    if isinstance(given, date):
        return _start_of(given)
    raise ValidationError(f"{what} {short(given)} must be an aware datetime or a date")


def _check_span(instance: PickupSchedule, attribute: object, value: date | None) -> None:
    if value is not None and value <= instance.starts:
        raise ValidationError(
            f"pickup schedule ends {value} must be after it starts {instance.starts}"
        )
    start = _start_of(instance.starts)
    end = start + timedelta(days=HORIZON_DAYS)
    if value is not None:
        end = min(end, _start_of(value))
    for rule in instance.rules:
        # Each rule on its own: a rule that never happens would cost every later query a
        # walk of centuries, whatever the other rules give.
        if not any(True for _ in instance._window(_parse(rule), start, end)):
            raise ValidationError(
                f"pickup rule {rule!r} gives no pickup at all in the {HORIZON_DAYS} days from "
                f"{instance.starts}{'' if value is None else f' (the schedule ends {value})'}: "
                f"check BYMONTH, BYMONTHDAY, BYDAY, BYSETPOS, INTERVAL, COUNT and UNTIL (a rule "
                f"such as BYMONTH=2;BYMONTHDAY=30 can never happen)"
            )


@attrs.frozen(kw_only=True)
class PickupSchedule:
    """When the post collects at a center (上门揽收), as recurrence rules on working days.

    Each rule is an RFC 5545 ``RRULE`` (without ``DTSTART``: its start is midnight of
    ``starts`` in Asia/Shanghai, and its times of day are Asia/Shanghai wall-clock times). A
    pickup is an instant some rule gives that falls on a working day of the
    :class:`~govpost.calendar.WorkCalendar`: days off are skipped and adjusted working weekends
    (调休) are kept — for a ``FREQ=DAILY`` rule; a ``BYDAY=MO,TU,WE,TH,FR`` rule never gives a
    Saturday, worked or not. Build the usual one with :meth:`working_days`.

    Args:
        rules: one RRULE string or several (their union); an ``RRULE:`` prefix, case and spaces
            are normalised. ``FREQ`` is DAILY, WEEKLY, MONTHLY or YEARLY and ``BYHOUR`` is
            required; ``COUNT`` or ``UNTIL`` (a date, a local time, or a UTC time ending in
            ``Z``) may end a rule. As in RFC 5545, ``COUNT`` counts the rule's instants from
            ``starts``, days off included (they are skipped afterwards).
        starts: the first day the schedule is in force.
        ends: the day it ends (exclusive), or ``None``.

    Raises:
        ValidationError: a rule that is not an RRULE, names ``DTSTART``, ``RDATE``,
            ``EXDATE`` or a part RFC 5545 does not define (``BYEASTER``), has a finer ``FREQ``
            than DAILY, more than 96 times a day, an ``INTERVAL`` or ``COUNT`` below 1, or
            gives no pickup at all within 366 days of ``starts`` (each rule on its own).

    >>> from datetime import date
    >>> schedule = PickupSchedule.working_days(["10:00", "16:00"], starts=date(2018, 9, 1))
    >>> schedule.rules
    ('FREQ=DAILY;BYHOUR=10;BYMINUTE=0;BYSECOND=0', 'FREQ=DAILY;BYHOUR=16;BYMINUTE=0;BYSECOND=0')
    >>> [t.strftime("%a %d %H:%M") for t in schedule.occurrences(date(2018, 9, 29), date(2018, 10, 9))]
    ['Sat 29 10:00', 'Sat 29 16:00', 'Sun 30 10:00', 'Sun 30 16:00', 'Mon 08 10:00', 'Mon 08 16:00']

    .. versionadded:: 0.2.0
    """

    rules: tuple[str, ...] = attrs.field(converter=_rules)
    starts: date = attrs.field(converter=_starts)
    ends: date | None = attrs.field(default=None, converter=_ends, validator=_check_span)

    @classmethod
    def working_days(
        cls, times: Iterable[time | str], *, starts: date, ends: date | None = None
    ) -> PickupSchedule:
        """Pickups at ``times`` (Asia/Shanghai) on every working day, 调休 weekends included.

        Args:
            times: times of day, as ``datetime.time`` or ``"HH:MM"`` text.
            starts: the first day in force.
            ends: the day it ends (exclusive), or ``None``.

        Raises:
            ValidationError: no times, or a time that is not ``HH:MM``.

        >>> from datetime import date, time
        >>> PickupSchedule.working_days([time(10, 30)], starts=date(2018, 1, 1)).rules
        ('FREQ=DAILY;BYHOUR=10;BYMINUTE=30;BYSECOND=0',)

        .. versionadded:: 0.2.0
        """
        given: object = times
        if isinstance(given, str | bytes) or not isinstance(given, Iterable):
            raise ValidationError(
                f"times {short(given)} must be a list of times of day, e.g. ['10:00', '16:00']"
            )
        clock = sorted({_clock(t) for t in given})
        if not clock:
            raise ValidationError("a pickup schedule needs at least one time of day")
        rules = [f"FREQ=DAILY;BYHOUR={t.hour};BYMINUTE={t.minute};BYSECOND=0" for t in clock]
        return cls(rules=rules, starts=starts, ends=ends)

    def occurrences(
        self,
        start: datetime | date,
        end: datetime | date,
        *,
        calendar: WorkCalendar | None = None,
    ) -> tuple[datetime, ...]:
        """The pickups in ``[start, end)``, sorted, each an aware Asia/Shanghai time.

        Args:
            start: the window's start (an aware datetime, or a date: its midnight in
                Asia/Shanghai), inclusive.
            end: its end, exclusive; at most 366 days after ``start``.
            calendar: the working days; :meth:`WorkCalendar.china` by default.

        Raises:
            ValidationError: a naive datetime, an empty or reversed window, a window longer
                than 366 days.
            CalendarCoverageError: the calendar does not cover a day a rule gives.

        .. versionadded:: 0.2.0
        """
        cal = _calendar(calendar)
        a, b = _local(start, "start"), _local(end, "end")
        if not a < b or b - a > timedelta(days=HORIZON_DAYS):
            raise ValidationError(
                f"window {a} – {b} must be non-empty and at most {HORIZON_DAYS} days long: ask "
                f"for occurrences a year at a time"
            )
        found = [
            moment.replace(tzinfo=SHANGHAI)
            for moment in self._walk(a, (b - a).days + 1)
            if moment < b and cal.is_workday(moment.date())
        ]
        return tuple(found)

    def runs(
        self,
        center: str,
        start: datetime | date,
        end: datetime | date,
        *,
        mode: CooperationMode | str = CooperationMode.DOOR_PICKUP,
        calendar: WorkCalendar | None = None,
    ) -> tuple[PickupRun, ...]:
        """The :class:`PickupRun` s of ``center`` at the :meth:`occurrences` of a window.

        >>> from datetime import date
        >>> schedule = PickupSchedule.working_days(["16:00"], starts=date(2018, 1, 1))
        >>> [r.scheduled_at.isoformat() for r in schedule.runs("GZ-520100", date(2018, 9, 30), date(2018, 10, 9))]
        ['2018-09-30T16:00:00+08:00', '2018-10-08T16:00:00+08:00']

        .. versionadded:: 0.2.0
        """
        return tuple(
            PickupRun(center=center, scheduled_at=moment, mode=mode)
            for moment in self.occurrences(start, end, calendar=calendar)
        )

    def next_pickup(self, after: datetime, *, calendar: WorkCalendar | None = None) -> datetime:
        """The first pickup strictly after ``after`` (an aware datetime).

        Raises:
            ValidationError: no rule gives a working day in the 366 days after ``after`` — a
                rule that only falls on holidays, or a schedule that has ended —; never an
                endless search.
            CalendarCoverageError: the calendar does not cover a day a rule gives.

        >>> from datetime import date, datetime
        >>> from govpost.periods import SHANGHAI
        >>> schedule = PickupSchedule.working_days(["10:00"], starts=date(2018, 1, 1))
        >>> schedule.next_pickup(datetime(2018, 9, 30, 11, 0, tzinfo=SHANGHAI)).isoformat()
        '2018-10-08T10:00:00+08:00'

        .. versionadded:: 0.2.0
        """
        cal = _calendar(calendar)
        a = _local(after, "after")
        for moment in self._walk(a, HORIZON_DAYS):
            if moment > a and cal.is_workday(moment.date()):
                return moment.replace(tzinfo=SHANGHAI)
        raise ValidationError(
            f"pickup rules {', '.join(repr(r) for r in self.rules)} give no pickup on a working "
            f"day in the {HORIZON_DAYS} days after {a:%Y-%m-%d %H:%M} (Asia/Shanghai): the rules "
            f"fall only on days off, or the schedule has ended; use a FREQ=DAILY rule "
            f"(PickupSchedule.working_days) to follow the working days"
        )

    def _walk(self, a: datetime, days: int) -> Iterator[datetime]:
        """Every instant the rules give in ``[a, a + days)`` (naive local times), sorted."""
        b = a + timedelta(days=days)
        if self.ends is not None:
            b = min(b, _start_of(self.ends))
        a = max(a, _start_of(self.starts))
        if a >= b:
            return iter(())
        found: set[datetime] = set()
        for rule in map(_parse, self.rules):
            found.update(self._window(rule, a, b))
        return iter(sorted(found))

    def _window(self, rule: _Rule, a: datetime, b: datetime) -> Iterator[datetime]:
        # The shadow window: whole 400-year cycles later, ending within 400 years of 9999.
        shift = _CYCLE_YEARS * ((9997 - b.year) // _CYCLE_YEARS)
        dtstart = _start_of(self.starts.replace(year=self.starts.year + shift))
        parsed = rrulestr(rule.text, dtstart=dtstart)
        assert isinstance(parsed, rrule)  # one RRULE line, checked by _parse
        low, high = a.replace(year=a.year + shift), b.replace(year=b.year + shift)
        moments = parsed.xafter(low, inc=True)
        while True:
            try:
                moment = next(moments, None)
            except (ValueError, TypeError, KeyError, IndexError, OverflowError) as exc:
                raise ValidationError(
                    f"pickup rule {rule.text!r} cannot be evaluated ({short(str(exc), 60)}): "
                    f"e.g. 'FREQ=DAILY;BYHOUR=10,16;BYMINUTE=0'"
                ) from None
            if moment is None or moment >= high:
                break
            real = moment.replace(year=moment.year - shift)
            if rule.until is not None and real > rule.until:
                break
            yield real


def _clock(value: time | str) -> time:
    given: object = value
    if isinstance(given, str):
        try:
            given = time.fromisoformat(given.strip())
        except ValueError:
            raise ValidationError(
                f"time {short(given)} is not a time of day like '10:00'"
            ) from None
    if not isinstance(given, time) or given.tzinfo is not None:
        raise ValidationError(
            f"time {short(given)} must be a naive datetime.time (Asia/Shanghai wall clock), "
            f"e.g. time(10, 0) or '10:00'"
        )
    if given.second or given.microsecond:
        raise ValidationError(f"time {given} must be a whole minute, e.g. '10:00'")
    return given
