"""Lump-sum rules: proration, the quota, overage and underuse (private: use govpost.settlement).

A lump sum (包干) covers a quota of pieces per period: a partial period is prorated by days
(:func:`prorate`), the pieces beyond the quota are those picked up latest — by instant, then
by waybill — and are charged by the overage tariff (:func:`latest`), and the unused quota is
kept, refunded pro rata or carried forward (:func:`lump_position`).
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Callable, Sequence
from datetime import UTC, date, datetime

from govpost.agreements import LumpSum, Underuse
from govpost.errors import ValidationError
from govpost.money import Money, allocate
from govpost.periods import SHANGHAI, Period
from govpost.settlement._billable import FIXED_SINCE
from govpost.settlement._statement import LumpSumPosition


def prorate(amount: Money, period: Period, start: date, end: date) -> Money:
    """The share of ``amount`` for the days ``[start, end)`` of ``period``.

    The share is ``C(end) - C(start)``, where ``C(d)`` is the share of the days before ``d``
    in the two-way split ``allocate(amount, [days before d, days from d])``. The shares of any
    partition of a period therefore telescope to ``amount`` exactly, and each is within a fen
    of its exact share of days.

    Raises:
        ValidationError: ``[start, end)`` is empty or not inside the period.

    >>> from datetime import date
    >>> from govpost.money import Money
    >>> prorate(Money("3000.00"), Period.month(2018, 7), date(2018, 7, 10), date(2018, 8, 1))
    Money('2129.03', 'CNY')

    .. versionadded:: 0.1.0
    """
    given: tuple[object, ...] = (amount, period, start, end)  # untyped callers pass anything
    if (
        not isinstance(given[0], Money)
        or not isinstance(given[1], Period)
        or not all(isinstance(d, date) and not isinstance(d, datetime) for d in given[2:])
    ):
        raise ValidationError(
            "prorate() takes a Money, a Period and two datetime.date values: "
            "prorate(amount, Period.month(2018, 7), date(2018, 7, 10), date(2018, 8, 1))"
        )
    if not period.start <= start < end <= period.end:
        raise ValidationError(
            f"days {start} to {end} are not a non-empty part of period {period} "
            f"({period.start} to {period.end})"
        )
    return _before(amount, period, end) - _before(amount, period, start)


def _before(amount: Money, period: Period, day: date) -> Money:
    """The share of ``amount`` of the days of ``period`` before ``day``."""
    if day <= period.start:
        return Money.zero(amount.currency)
    if day >= period.end:
        return amount
    return allocate(amount, [(day - period.start).days, (period.end - day).days])[0]


def lump_position(
    mode: LumpSum,
    period: Period,
    start: date,
    end: date,
    pieces: int,
    carried_in: int,
    overage: Callable[[int], tuple[bytearray, int]] | None,
    currency: str,
) -> tuple[LumpSumPosition, bytearray | None]:
    """The lump sum's position for the days ``[start, end)`` in force, and the overage flags.

    Args:
        mode: the agreement's lump sum.
        period: the period settled.
        start: the first day in force.
        end: the day after the last in force.
        pieces: the pieces picked up.
        carried_in: the quota carried out of the period before.
        overage: given the number of pieces beyond the quota, their flags (by position, 1 =
            overage) and their amount in fen; ``None`` when nothing prices the overage.
        currency: the currency of the statement.
    """
    amount = prorate(mode.amount, period, start, end)
    quota: int | None = None
    flags: bytearray | None = None
    overage_pieces = overage_fen = 0
    carrying = mode.underuse is Underuse.CARRY_FORWARD
    if mode.quota is not None:
        quota = prorate(Money.from_fen(mode.quota), period, start, end).fen
        quota += carried_in if carrying else 0
        if pieces > quota and overage is not None:
            overage_pieces = pieces - quota
            flags, overage_fen = overage(overage_pieces)
    payable = amount
    if mode.underuse is Underuse.PRO_RATA and quota is not None and pieces < quota:
        payable = allocate(amount, [pieces, quota - pieces])[0]
    lump = LumpSumPosition(
        amount=amount,
        days_in_force=(end - start).days,
        quota=quota,
        carried_in=carried_in if carrying else 0,
        pieces=pieces,
        overage_pieces=overage_pieces,
        overage_amount=Money.from_fen(overage_fen, currency),
        payable=payable,
        refund=amount - payable,
        carried_out=max(0, quota - pieces) if quota is not None and carrying else 0,
        underuse=mode.underuse,
    )
    return lump, flags


def utc(instant: datetime) -> datetime:
    """The instant in UTC: comparisons within one tzinfo are exact and fast."""
    return instant if instant.tzinfo is UTC else instant.astimezone(UTC)


def latest(
    order: list[int],
    k: int,
    days: Sequence[int],
    instants: Sequence[datetime],
    waybills: Sequence[str],
) -> bytearray:
    """Flags (1 = overage) of the ``k`` pieces picked up latest, by instant, then by waybill,
    by position in ``order`` (which is by day): the days after the day the quota runs out are
    a tail of ``order``; only the pieces of that day are sorted, by instant."""
    day_of = days.__getitem__
    end = len(order)
    later = 0
    while True:
        begin = bisect_left(order, day_of(order[end - 1]), 0, end, key=day_of)
        if later + end - begin >= k:
            break
        later += end - begin
        end = begin
    flags = bytearray(len(order))
    flags[end:] = b"\x01" * (len(order) - end)

    def instant(index: int) -> datetime:
        # Times in Asia/Shanghai compare without conversion (no fold since 1991); the rest
        # are compared in UTC, which is exact.
        at = instants[index]
        return at if at.tzinfo is SHANGHAI and at.year >= FIXED_SINCE else utc(at)

    day = order[begin:end]
    ranked = sorted(range(len(day)), key=lambda j: waybills[day[j]])
    ranked.sort(key=lambda j: instant(day[j]))  # stable: by instant, then by waybill
    for j in ranked[len(day) - (k - later) :]:
        flags[begin + j] = 1
    return flags
