"""Tests of govpost.calendar: the State Council's notices, coverage, properties, junk."""

from __future__ import annotations

import subprocess
import sys
import tomllib
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta, timezone
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from govpost.calendar import MAX_OFFSET, WorkCalendar
from govpost.errors import CalendarCoverageError, GovpostError, ValidationError

CHINA = WorkCalendar.china()
#: The last year the installed chinesecalendar covers: 2026 in 1.11, later in later releases.
LAST = max(CHINA.covered_years)
#: The package's data for 2004-2026, as chinesecalendar 1.11 ships it. The tests of coverage
#: edges and of adding a year use it, so that they mean the same once a release adds 2027.
CHINA_2026 = WorkCalendar(
    holidays=[d for d in CHINA.holidays if d.year <= 2026],
    workdays=[d for d in CHINA.workdays if d.year <= 2026],
    covered_years=range(2004, 2027),
)


def days(first: str, last: str) -> list[date]:
    """Every date from ``first`` to ``last``, both included."""
    start, end = date.fromisoformat(first), date.fromisoformat(last)
    return [start + timedelta(days=k) for k in range((end - start).days + 1)]


def brute_between(cal: WorkCalendar, a: date, b: date) -> int:
    """workdays_between by walking day by day: the definition, without the index."""
    low, high = min(a, b), max(a, b)
    count = sum(cal.is_workday(d) for d in days(str(low + timedelta(days=1)), str(high)))
    return count if a <= b else -count


# --- strategies --------------------------------------------------------------------------------

#: Dates far enough inside 2004-2026 that 240 working days either way stay covered.
china_dates = st.dates(min_value=date(2005, 1, 1), max_value=date(2025, 12, 31))
offsets = st.integers(min_value=-240, max_value=240)
small_offsets = st.integers(min_value=-120, max_value=120)

_SMALL_YEARS = range(2000, 2004)
_small_days = st.dates(min_value=date(2000, 1, 1), max_value=date(2003, 12, 31))


@st.composite
def calendars(draw: st.DrawFn) -> WorkCalendar:
    """Weekday calendars for 2000-2003 with arbitrary holidays and working days."""
    holidays = draw(st.frozensets(_small_days, max_size=60))
    workdays = draw(st.frozensets(_small_days, max_size=60)) - holidays
    base = WorkCalendar.weekdays_only(years=_SMALL_YEARS)
    return base.with_overrides(holidays=holidays, workdays=workdays)


# --- the State Council's notices ---------------------------------------------------------------

# 国务院办公厅关于2024年部分节假日安排的通知（国办发明电〔2023〕7号）
NOTICE_2024_HOLIDAYS = [
    *days("2024-01-01", "2024-01-01"),  # 元旦
    *days("2024-02-10", "2024-02-17"),  # 春节
    *days("2024-04-04", "2024-04-06"),  # 清明节
    *days("2024-05-01", "2024-05-05"),  # 劳动节
    *days("2024-06-10", "2024-06-10"),  # 端午节
    *days("2024-09-15", "2024-09-17"),  # 中秋节
    *days("2024-10-01", "2024-10-07"),  # 国庆节
]
NOTICE_2024_WORKDAYS = [
    date(2024, 2, 4),  # Sunday
    date(2024, 2, 18),  # Sunday
    date(2024, 4, 7),  # Sunday
    date(2024, 4, 28),  # Sunday
    date(2024, 5, 11),  # Saturday
    date(2024, 9, 14),  # Saturday
    date(2024, 9, 29),  # Sunday
    date(2024, 10, 12),  # Saturday
]

# 国务院办公厅关于2025年部分节假日安排的通知（国办发明电〔2024〕12号）
NOTICE_2025_HOLIDAYS = [
    *days("2025-01-01", "2025-01-01"),  # 元旦
    *days("2025-01-28", "2025-02-04"),  # 春节
    *days("2025-04-04", "2025-04-06"),  # 清明节
    *days("2025-05-01", "2025-05-05"),  # 劳动节
    *days("2025-05-31", "2025-06-02"),  # 端午节
    *days("2025-10-01", "2025-10-08"),  # 国庆节、中秋节
]
NOTICE_2025_WORKDAYS = [
    date(2025, 1, 26),  # Sunday
    date(2025, 2, 8),  # Saturday
    date(2025, 4, 27),  # Sunday
    date(2025, 9, 28),  # Sunday
    date(2025, 10, 11),  # Saturday
]


@pytest.mark.parametrize("day", NOTICE_2024_HOLIDAYS + NOTICE_2025_HOLIDAYS, ids=str)
def test_notice_holidays_are_not_working_days(day: date) -> None:
    assert CHINA.is_workday(day) is False


@pytest.mark.parametrize("day", NOTICE_2024_WORKDAYS + NOTICE_2025_WORKDAYS, ids=str)
def test_notice_adjusted_weekends_are_working_days(day: date) -> None:
    assert day.weekday() >= 5
    assert CHINA.is_workday(day) is True


@pytest.mark.parametrize("year", [2024, 2025])
def test_whole_year_matches_the_notice(year: int) -> None:
    """Every day of the year: off iff a notice holiday or an ordinary weekend, not 调休."""
    holidays = set(NOTICE_2024_HOLIDAYS + NOTICE_2025_HOLIDAYS)
    workdays = set(NOTICE_2024_WORKDAYS + NOTICE_2025_WORKDAYS)
    expected = {
        d: d in workdays or (d.weekday() < 5 and d not in holidays)
        for d in days(f"{year}-01-01", f"{year}-12-31")
    }
    assert expected == {d: CHINA.is_workday(d) for d in expected}


@pytest.mark.parametrize(
    ("day", "expected"),
    [
        (date(2024, 2, 9), True),  # 除夕: only "encouraged" off, officially a working Friday
        (date(2024, 3, 13), True),  # an ordinary Wednesday
        (date(2024, 3, 16), False),  # an ordinary Saturday
        (date(2024, 3, 17), False),  # an ordinary Sunday
        (date(2024, 12, 31), True),  # Tuesday before New Year's Day
        (date(2025, 1, 2), True),  # 2025's New Year's Day is one day, not bridged
        (date(2025, 1, 27), True),  # Monday before the Spring Festival
        (date(2025, 2, 5), True),  # first day back
        (date(2025, 10, 9), True),  # first day back after 1-8 October
        (date(2025, 10, 12), False),  # Sunday after the working Saturday
    ],
)
def test_ordinary_days(day: date, expected: bool) -> None:
    assert expected == CHINA.is_workday(day)


@pytest.mark.parametrize(
    ("start", "n", "expected"),
    [
        (date(2024, 9, 30), 1, date(2024, 10, 8)),  # National Day week skipped
        (date(2024, 9, 27), 1, date(2024, 9, 29)),  # Friday -> the working Sunday
        (date(2024, 10, 8), -1, date(2024, 9, 30)),
        (date(2024, 2, 9), 1, date(2024, 2, 18)),  # Spring Festival eve -> working Sunday
        (date(2024, 2, 9), 2, date(2024, 2, 19)),
        (date(2024, 2, 18), -1, date(2024, 2, 9)),
        (date(2025, 1, 27), 1, date(2025, 2, 5)),
        (date(2025, 1, 24), 1, date(2025, 1, 26)),
        (date(2025, 9, 30), 1, date(2025, 10, 9)),
        (date(2025, 9, 30), 3, date(2025, 10, 11)),
        (date(2025, 10, 11), -1, date(2025, 10, 10)),
        (date(2024, 3, 13), 0, date(2024, 3, 13)),
        (date(2024, 3, 16), 0, date(2024, 3, 16)),  # n=0 keeps a day off as it is
        (date(2024, 3, 16), 1, date(2024, 3, 18)),  # Saturday -> Monday
        (date(2024, 3, 16), -1, date(2024, 3, 14)),  # Saturday -> Thursday: only Friday between
        (date(2024, 3, 15), -1, date(2024, 3, 14)),  # Friday -> Thursday
        (date(2024, 12, 31), 1, date(2025, 1, 2)),  # across the year and New Year's Day
        (date(2025, 1, 2), -1, date(2024, 12, 31)),
    ],
)
def test_add_workdays_examples(start: date, n: int, expected: date) -> None:
    assert expected == CHINA.add_workdays(start, n)


@pytest.mark.parametrize(
    ("a", "b", "expected"),
    [
        (date(2024, 9, 30), date(2024, 10, 8), 1),
        (date(2024, 9, 28), date(2024, 10, 12), 7),  # 29, 30 Sep, 8-12 Oct
        (date(2024, 10, 8), date(2024, 9, 30), -1),
        (date(2025, 1, 24), date(2025, 2, 8), 6),  # 26, 27 Jan, 5, 6, 7, 8 Feb
        (date(2025, 3, 3), date(2025, 3, 3), 0),
        (date(2024, 3, 15), date(2024, 3, 17), 0),  # the weekend only
        (date(2024, 12, 31), date(2025, 1, 2), 1),
        (date(2024, 1, 1), date(2024, 12, 31), 251),  # 262 weekdays - 19 + 8
        (date(2024, 12, 31), date(2025, 12, 31), 248),  # 261 weekdays - 18 + 5
    ],
)
def test_workdays_between_examples(a: date, b: date, expected: int) -> None:
    assert expected == CHINA.workdays_between(a, b)
    assert expected == brute_between(CHINA, a, b)


# --- coverage ----------------------------------------------------------------------------------


def test_china_covers_every_year_from_2004_to_at_least_2026() -> None:
    assert LAST >= 2026
    assert frozenset(range(2004, LAST + 1)) == CHINA.covered_years


@pytest.mark.parametrize("day", [date(2003, 12, 31), date(LAST + 1, 1, 1)], ids=str)
def test_china_refuses_the_years_it_does_not_cover(day: date) -> None:
    with pytest.raises(CalendarCoverageError, match=rf"\b{day.year}\b.*covers 2004–{LAST}"):
        CHINA.is_workday(day)


@pytest.mark.parametrize("day", [date(2027, 1, 4), date(2003, 12, 31), date(2027, 1, 1)], ids=str)
def test_uncovered_year_raises(day: date) -> None:
    with pytest.raises(CalendarCoverageError, match=rf"\b{day.year}\b") as info:
        CHINA_2026.is_workday(day)
    assert isinstance(info.value, LookupError)
    assert isinstance(info.value, GovpostError)
    message = str(info.value)
    assert "with_overrides" in message
    assert "howto/calendar" in message
    assert "2004–2026" in message


@pytest.mark.parametrize(
    ("start", "n", "year"),
    [
        (date(2026, 12, 30), 5, 2027),
        (date(2026, 12, 31), 1, 2027),  # the last day of 2026 is a working Thursday
        (date(2004, 1, 5), -10, 2003),
        (date(2027, 3, 1), 0, 2027),  # even n=0 refuses a date it cannot vouch for
        (date(2003, 6, 2), 300, 2003),
    ],
)
def test_add_workdays_into_uncovered_year_raises(start: date, n: int, year: int) -> None:
    with pytest.raises(CalendarCoverageError, match=rf"\b{year}\b"):
        CHINA_2026.add_workdays(start, n)


def test_add_workdays_stays_inside_coverage_at_the_edges() -> None:
    assert date(2026, 12, 31) == CHINA.add_workdays(date(2026, 12, 30), 1)
    assert date(2004, 1, 2) == CHINA.add_workdays(date(2004, 1, 5), -1)


@pytest.mark.parametrize(
    ("a", "b", "year"),
    [
        (date(2026, 12, 1), date(2027, 1, 10), 2027),
        (date(2027, 1, 10), date(2026, 12, 1), 2027),
        (date(2003, 12, 1), date(2004, 1, 10), 2003),
        (date(2027, 1, 1), date(2027, 1, 1), 2027),
    ],
)
def test_workdays_between_uncovered_year_raises(a: date, b: date, year: int) -> None:
    with pytest.raises(CalendarCoverageError, match=rf"\b{year}\b"):
        CHINA_2026.workdays_between(a, b)


def test_walk_across_a_gap_in_coverage_names_the_gap() -> None:
    cal = WorkCalendar.weekdays_only(years={2020, 2022})
    with pytest.raises(CalendarCoverageError, match=r"walks into 2021.*covers 2020, 2022"):
        cal.add_workdays(date(2020, 12, 31), 1)
    with pytest.raises(CalendarCoverageError, match=r"walks into 2021"):
        cal.add_workdays(date(2022, 1, 3), -1)
    with pytest.raises(CalendarCoverageError, match=r"spans 2021"):
        cal.workdays_between(date(2020, 6, 1), date(2022, 6, 1))


# --- overrides ---------------------------------------------------------------------------------

# Made-up dates standing in for a 2027 notice: the mechanism is under test, not the schedule.
FAKE_2027_HOLIDAYS = [date(2027, 1, 1), *days("2027-02-05", "2027-02-11")]  # Fri; Fri to Thu
FAKE_2027_WORKDAYS = [date(2027, 2, 13)]  # Saturday


def test_with_overrides_covers_the_new_year() -> None:
    cal = CHINA_2026.with_overrides(holidays=FAKE_2027_HOLIDAYS, workdays=FAKE_2027_WORKDAYS)
    assert frozenset(range(2004, 2028)) == cal.covered_years
    assert not any(cal.is_workday(d) for d in FAKE_2027_HOLIDAYS)
    assert cal.is_workday(date(2027, 2, 13)) is True
    assert cal.is_workday(date(2027, 2, 4)) is True  # an ordinary Thursday
    assert cal.is_workday(date(2027, 2, 14)) is False  # an ordinary Sunday
    assert date(2027, 2, 12) == cal.add_workdays(date(2027, 2, 4), 1)
    assert date(2027, 2, 13) == cal.add_workdays(date(2027, 2, 4), 2)
    assert date(2027, 1, 4) == cal.add_workdays(date(2026, 12, 31), 1)
    expected_counts = [2, 0, 1]
    assert expected_counts == [
        cal.workdays_between(date(2027, 2, 4), date(2027, 2, 14)),
        cal.workdays_between(date(2026, 12, 31), date(2027, 1, 3)),
        cal.workdays_between(date(2026, 12, 31), date(2027, 1, 4)),
    ]
    with pytest.raises(CalendarCoverageError, match=r"2028"):
        cal.is_workday(date(2028, 1, 3))


def test_with_overrides_leaves_the_original_alone() -> None:
    CHINA.with_overrides(holidays=[date(2025, 10, 9)], workdays=[date(LAST + 1, 1, 2)])
    assert CHINA.is_workday(date(2025, 10, 9)) is True
    assert frozenset(range(2004, LAST + 1)) == CHINA.covered_years


def test_with_overrides_wins_over_the_package_data() -> None:
    cal = CHINA.with_overrides(holidays=[date(2025, 9, 28)], workdays=[date(2025, 10, 8)])
    assert cal.is_workday(date(2025, 9, 28)) is False
    assert cal.is_workday(date(2025, 10, 8)) is True
    assert date(2025, 10, 8) not in cal.holidays
    assert date(2025, 9, 28) not in cal.workdays
    assert date(2025, 10, 8) == cal.add_workdays(date(2025, 9, 30), 1)


def test_with_overrides_refuses_a_date_in_both_sets() -> None:
    with pytest.raises(ValidationError, match=r"2027-02-05 is given both as a holiday and as a"):
        CHINA.with_overrides(holidays=[date(2027, 2, 5)], workdays=[date(2027, 2, 5)])


@pytest.mark.parametrize(
    "bad",
    ["2027-01-01", ["2027-01-01"], [datetime(2027, 1, 1, tzinfo=UTC)], [None], 2027, None],
    ids=repr,
)
def test_with_overrides_refuses_non_dates(bad: object) -> None:
    with pytest.raises(ValidationError, match=r"datetime\.date"):
        CHINA.with_overrides(holidays=bad)  # type: ignore[arg-type]
    with pytest.raises(ValidationError, match=r"datetime\.date"):
        CHINA.with_overrides(workdays=bad)  # type: ignore[arg-type]


def test_with_schedule_reads_json_like_mappings() -> None:
    schedule = {
        "reference": "made-up notice for the test",
        "holidays": [d.isoformat() for d in FAKE_2027_HOLIDAYS],
        "workdays": ["2027-02-13"],
    }
    expected = CHINA_2026.with_overrides(holidays=FAKE_2027_HOLIDAYS, workdays=FAKE_2027_WORKDAYS)
    assert expected == CHINA_2026.with_schedule(schedule)


def test_with_schedule_reads_toml_dates() -> None:
    text = """
    reference = "made-up notice for the test"
    holidays = [
        2027-01-01,
        2027-02-05, 2027-02-06, 2027-02-07, 2027-02-08, 2027-02-09, 2027-02-10, 2027-02-11,
    ]
    workdays = [2027-02-13]
    """
    expected = CHINA_2026.with_overrides(holidays=FAKE_2027_HOLIDAYS, workdays=FAKE_2027_WORKDAYS)
    assert expected == CHINA_2026.with_schedule(tomllib.loads(text))


@pytest.mark.parametrize(
    ("schedule", "message"),
    [
        ({"holidays": ["2027-01-01", "2027-02-30"]}, r"@ \$\.holidays\[1\]: '2027-02-30'"),
        ({"workdays": [20270101]}, r"@ \$\.workdays\[0\]: 20270101"),
        ({"workdays": "2027-01-01"}, r"@ \$\.workdays: '2027-01-01' must be a list"),
        ({"holidays": [None]}, r"@ \$\.holidays\[0\]: None"),
        ({"holidays": [datetime(2027, 1, 1, tzinfo=UTC)]}, r"@ \$\.holidays\[0\]"),
        ({"holiday": ["2027-01-01"]}, r"unknown key\(s\) 'holiday'"),
        ({"reference": 7}, r"@ \$\.reference"),
        (["2027-01-01"], r"must be a mapping"),
        ({"holidays": ["2027-01-01"], "workdays": ["2027-01-01"]}, r"both"),
    ],
)
def test_with_schedule_names_the_bad_entry(schedule: object, message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        CHINA.with_schedule(schedule)  # type: ignore[arg-type]


def test_constructor_checks_consistency() -> None:
    with pytest.raises(ValidationError, match=r"2030-01-01 is both a holiday and a working day"):
        WorkCalendar(covered_years=[2030], holidays=[date(2030, 1, 1)], workdays=[date(2030, 1, 1)])
    with pytest.raises(ValidationError, match=r"holiday 2031-01-01 is outside .* \(2030\)"):
        WorkCalendar(covered_years=[2030], holidays=[date(2031, 1, 1)])
    with pytest.raises(ValidationError, match=r"covered year '2030' is not a year"):
        WorkCalendar(covered_years=["2030"])  # type: ignore[list-item]
    with pytest.raises(ValidationError, match=r"covered_years '2030' must be an iterable"):
        WorkCalendar(covered_years="2030")  # type: ignore[arg-type]
    with pytest.raises(ValidationError, match=r"covered year 0 is not a year"):
        WorkCalendar(covered_years=[0])


def test_equal_calendars_are_equal_and_hashable() -> None:
    a = WorkCalendar.weekdays_only(years=range(2030, 2032))
    b = WorkCalendar(covered_years=[2031, 2030])
    a.is_workday(date(2030, 1, 1))  # fills a's per-year cache, which must not count
    assert a == b
    assert hash(a) == hash(b)
    assert a != a.with_overrides(holidays=[date(2030, 1, 2)])


def test_repr_is_short() -> None:
    expected = "<WorkCalendar covering 2004–2026: 621 holidays, 150 adjusted working days>"
    assert expected == repr(CHINA)


def test_china_is_built_once() -> None:
    assert WorkCalendar.china() is WorkCalendar.china()


def test_import_govpost_does_not_import_chinese_calendar() -> None:
    code = (
        "import sys, govpost, govpost.calendar\n"
        "assert 'chinese_calendar' not in sys.modules, 'imported too early'\n"
        "govpost.calendar.WorkCalendar.china()\n"
        "assert 'chinese_calendar' in sys.modules\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


# --- datetimes ---------------------------------------------------------------------------------


def test_aware_datetime_is_taken_in_shanghai() -> None:
    late_utc = datetime(2024, 2, 9, 17, 30, tzinfo=UTC)  # 2024-02-10 01:30 in Shanghai
    assert CHINA.is_workday(date(2024, 2, 9)) is True
    assert CHINA.is_workday(late_utc) is False
    assert CHINA.is_workday(date(2024, 2, 10)) == CHINA.is_workday(late_utc)
    assert date(2024, 2, 18) == CHINA.add_workdays(late_utc, 1)
    assert date(2024, 2, 18) == CHINA.add_workdays(datetime(2024, 2, 9, 15, tzinfo=UTC), 1)
    expected = 1  # (10 Feb, 18 Feb] holds one working day, the adjusted Sunday
    assert expected == CHINA.workdays_between(late_utc, datetime(2024, 2, 18, 9, tzinfo=UTC))
    early_utc = datetime(2024, 2, 9, 15, 59, tzinfo=UTC)  # 23:59 in Shanghai, still the 9th
    assert CHINA.is_workday(early_utc) is True


def test_aware_datetime_in_other_zones() -> None:
    shanghai = datetime(2024, 10, 8, 0, 30, tzinfo=ZoneInfo("Asia/Shanghai"))
    new_york = datetime(2024, 10, 7, 20, 0, tzinfo=ZoneInfo("America/New_York"))  # 8th, 08:00
    minus_one = datetime(2024, 10, 7, 23, 0, tzinfo=timezone(timedelta(hours=-1)))  # 8th
    assert all(CHINA.is_workday(t) for t in (shanghai, new_york, minus_one))
    assert CHINA.is_workday(shanghai - timedelta(hours=1)) is False  # 7 October, a holiday


@pytest.mark.parametrize(
    "call",
    [
        lambda t: CHINA.is_workday(t),
        lambda t: CHINA.add_workdays(t, 1),
        lambda t: CHINA.workdays_between(t, date(2024, 3, 1)),
        lambda t: CHINA.workdays_between(date(2024, 3, 1), t),
    ],
)
def test_naive_datetime_is_refused(call: Callable[[datetime], object]) -> None:
    naive = datetime(2024, 2, 9, 12, 0)
    with pytest.raises(ValidationError, match=r"is naive: attach a timezone, e\.g\. "):
        call(naive)


# --- properties --------------------------------------------------------------------------------


@given(china_dates, offsets)
def test_workdays_between_inverts_add_workdays(d: date, n: int) -> None:
    """Counting the working days in (d, add_workdays(d, n)] gives back n, for every d and n."""
    assert n == CHINA.workdays_between(d, CHINA.add_workdays(d, n))


@given(china_dates, offsets.filter(lambda n: n != 0))
def test_add_workdays_lands_on_a_working_day(d: date, n: int) -> None:
    """For n != 0 the result is a working day, on the side of d that the sign of n says."""
    result = CHINA.add_workdays(d, n)
    assert CHINA.is_workday(result) is True
    assert (result > d) == (n > 0)


@given(china_dates, offsets, offsets)
def test_add_workdays_is_strictly_increasing_in_n(d: date, m: int, n: int) -> None:
    """m < n implies add_workdays(d, m) < add_workdays(d, n): more working days, later date."""
    if m != n:
        m, n = sorted((m, n))
        assert CHINA.add_workdays(d, m) < CHINA.add_workdays(d, n)


@given(china_dates, small_offsets, small_offsets)
def test_add_workdays_composes(d: date, a: int, b: int) -> None:
    """add_workdays(add_workdays(d, a), b) == add_workdays(d, a + b), except one case.

    The exception: a != 0, a + b == 0 and d is a day off. Then the round trip lands on the last
    working day before d, because add_workdays(d, 0) is d itself while every non-zero move ends
    on a working day.
    """
    composed = CHINA.add_workdays(CHINA.add_workdays(d, a), b)
    if a != 0 and a + b == 0 and not CHINA.is_workday(d):
        last_before = max(
            x for x in days(str(d - timedelta(days=40)), str(d)) if CHINA.is_workday(x)
        )
        assert last_before == composed
    else:
        assert CHINA.add_workdays(d, a + b) == composed


@given(china_dates, china_dates, china_dates)
def test_workdays_between_is_additive_and_antisymmetric(a: date, b: date, c: date) -> None:
    """Counts add up along any path (Chasles) and change sign when the dates swap."""
    assert CHINA.workdays_between(a, c) == CHINA.workdays_between(a, b) + CHINA.workdays_between(
        b, c
    )
    assert -CHINA.workdays_between(a, b) == CHINA.workdays_between(b, a)


@given(calendars(), st.dates(min_value=date(2001, 1, 1), max_value=date(2002, 12, 31)))
def test_is_workday_follows_the_sets(cal: WorkCalendar, d: date) -> None:
    """A listed working day works, a listed holiday does not, otherwise Monday to Friday work."""
    expected = d in cal.workdays or (d not in cal.holidays and d.weekday() < 5)
    assert expected == cal.is_workday(d)


@given(calendars(), _small_days, _small_days)
def test_workdays_between_counts_day_by_day(cal: WorkCalendar, a: date, b: date) -> None:
    """The indexed count equals walking (a, b] one day at a time, on arbitrary calendars."""
    assert brute_between(cal, a, b) == cal.workdays_between(a, b)


@given(
    calendars(),
    st.dates(min_value=date(2001, 1, 1), max_value=date(2002, 12, 31)),
    st.integers(min_value=-40, max_value=40),
)
def test_add_workdays_on_arbitrary_calendars(cal: WorkCalendar, d: date, n: int) -> None:
    """On any calendar: the count inverts the offset, and a non-zero offset ends on a workday."""
    result = cal.add_workdays(d, n)
    assert n == cal.workdays_between(d, result)
    assert (n == 0 and result == d) or cal.is_workday(result)


# --- junk --------------------------------------------------------------------------------------

JUNK_DATES = [None, "2024-01-01", b"x", 1.5, 20240101, [2024, 1, 1], datetime(2024, 1, 1)]
JUNK_OFFSETS = [None, 1.5, 1.0, True, "1", b"1", MAX_OFFSET + 1, -MAX_OFFSET - 1, 10**100]


DATE_ENTRY_POINTS: dict[str, Callable[[Any], object]] = {
    "is_workday": lambda x: CHINA.is_workday(x),
    "add_workdays": lambda x: CHINA.add_workdays(x, 1),
    "add_workdays n=0": lambda x: CHINA.add_workdays(x, 0),
    "workdays_between a": lambda x: CHINA.workdays_between(x, date(2024, 1, 1)),
    "workdays_between b": lambda x: CHINA.workdays_between(date(2024, 1, 1), x),
}


@pytest.mark.parametrize("junk", JUNK_DATES, ids=repr)
@pytest.mark.parametrize("call", DATE_ENTRY_POINTS.values(), ids=DATE_ENTRY_POINTS.keys())
def test_junk_dates_raise_validation_error(call: Callable[[Any], object], junk: object) -> None:
    """Every entry point refuses junk with a ValidationError that shows the junk, nothing else."""
    with pytest.raises(ValidationError) as info:
        call(junk)
    assert isinstance(info.value, GovpostError)
    shown = junk.isoformat() if isinstance(junk, datetime) else repr(junk)[:20]
    assert shown in str(info.value)


def test_a_string_date_gets_a_parsing_hint() -> None:
    with pytest.raises(ValidationError, match=r"'2024-01-01' of type str is not a date.*fromiso"):
        CHINA.is_workday("2024-01-01")  # type: ignore[arg-type]


@pytest.mark.parametrize("junk", JUNK_OFFSETS, ids=repr)
def test_junk_offsets_raise_validation_error(junk: object) -> None:
    with pytest.raises(ValidationError, match=r"^n[ =]"):
        CHINA.add_workdays(date(2024, 1, 2), junk)  # type: ignore[arg-type]


def test_the_largest_offsets_are_allowed() -> None:
    """10000 weekdays are exactly 2000 weeks: from a Monday, to the Monday 2000 weeks away."""
    cal = WorkCalendar.weekdays_only(years=range(1980, 2070))
    monday = date(2024, 1, 1)
    assert monday + timedelta(weeks=2000) == cal.add_workdays(monday, MAX_OFFSET)
    assert monday - timedelta(weeks=2000) == cal.add_workdays(monday, -MAX_OFFSET)
    expected = MAX_OFFSET
    assert expected == cal.workdays_between(monday, monday + timedelta(weeks=2000))
