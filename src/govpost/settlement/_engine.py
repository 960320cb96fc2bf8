"""The settlement engine: shipments or rows → statement (private: use govpost.settlement).

One pass reads the input into columns: the waybill and order id of each line, and small ints —
its (center, business line, zone) group, destination, weight, day in the period and the key of
its fee breakdown. Pricing is a dictionary lookup per piece: a breakdown is computed once per
rate, zone, number of steps and surcharges, and the weights already seen of each rate and zone
map straight to it. Sorting, duplicates, the lump sum's overage, subtotals and the statement id
then work on whole columns at C speed; no :class:`StatementLine` is built.
"""

from __future__ import annotations

import enum
import functools
import hashlib
import operator
import sys
import weakref
from array import array
from bisect import bisect_left
from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from datetime import UTC, date, datetime, timedelta, timezone, tzinfo
from itertools import compress, count, islice, repeat
from typing import Any, NamedTuple

import attrs

from govpost._fields import short
from govpost._limits import YEARS
from govpost.agreements import (
    MAX_WEIGHT_G,
    FeeAgreement,
    FeeBreakdown,
    LumpSum,
    PerPiece,
    Rate,
    RateCard,
    ReturnPolicy,
    Underuse,
    WeightTariff,
    ZoneStep,
)
from govpost.centers import BusinessLine
from govpost.errors import (
    BudgetExceededError,
    GovpostError,
    SettlementError,
    ValidationError,
)
from govpost.money import Money, allocate
from govpost.periods import SHANGHAI, Period
from govpost.regions import Division, Zone, zone_between
from govpost.settlement._statement import (
    _KIND_KEYS,
    BudgetPosition,
    Exclusions,
    Group,
    LineKind,
    LumpSumPosition,
    SettlementStatement,
    StatementLines,
    Subtotal,
    Text,
    int_column,
    take,
    typecode,
)
from govpost.shipments import Direction, Shipment, ShipmentStatus


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
    if not isinstance(period, Period) or not all(
        isinstance(d, date) and not isinstance(d, datetime) for d in (start, end)
    ):
        raise ValidationError(
            "prorate() takes a Period and two datetime.date values: "
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


def _prorate_quota(quota: int, period: Period, start: date, end: date) -> int:
    return prorate(Money.from_fen(quota), period, start, end).fen


def waybill_key(shipment: Shipment) -> str:
    """The key a shipment is billed and reconciled under.

    Its tracking number when it has one (that is what the carrier's bill lists), otherwise its
    order id.

    .. versionadded:: 0.1.0
    """
    number = shipment.tracking_number
    return shipment.id if number is None else number.value


class SettlementRow(NamedTuple):
    """One shipment as settlement reads it, in plain values: a database row, no ``Shipment``.

    :func:`settle` takes these wherever it takes a :class:`~govpost.shipments.Shipment`, and
    bills a row exactly as it bills the shipment the row describes
    (:meth:`from_shipment`): the same lines, the same statement, the same ``statement_id``.
    Building a row checks nothing; :func:`settle` checks each field as it reads it and raises
    :class:`~govpost.errors.ValidationError` naming the waybill and the field.

    Args:
        waybill: the key the piece is billed under: its tracking number, or our order id when
            it has none (see :func:`waybill_key`).
        center: the center's code (``center.code`` of a
            :class:`~govpost.centers.ServiceCenter`).
        business_line: a :class:`~govpost.centers.BusinessLine` or its value.
        direction: a :class:`~govpost.shipments.Direction` or its value.
        origin: the GB/T 2260 code (or :class:`~govpost.regions.Division`) sent from.
        destination: the code (or division) sent to.
        weight_g: the weight in integer grams, 1 to
            :data:`~govpost.agreements.MAX_WEIGHT_G`.
        picked_up_at: when the carrier took it (timezone-aware), or ``None``.
        returned_at: when its return leg (退回) began, if it did; not before the pickup.
        status: its :class:`~govpost.shipments.ShipmentStatus` (or value) if known; a
            cancelled row was never picked up.
        shipment_id: our order id when it differs from ``waybill`` (``None``: the same).
        declared_value: the value declared for insurance (保价), if any; positive.
        return_receipt: whether a return receipt (回执) was ordered.

    >>> from zoneinfo import ZoneInfo
    >>> row = SettlementRow(
    ...     "EA000000014CN", "GZ-520100", "licence_delivery", "outbound_result", "520102",
    ...     "520103", 300, datetime(2018, 6, 3, 10, tzinfo=ZoneInfo("Asia/Shanghai")),
    ...     shipment_id="GP-1",
    ... )
    >>> row.weight_g, row.returned_at
    (300, None)

    .. versionadded:: 0.2.0
    """

    waybill: str
    center: str
    business_line: BusinessLine | str
    direction: Direction | str
    origin: Division | str
    destination: Division | str
    weight_g: int
    picked_up_at: datetime | None
    returned_at: datetime | None = None
    status: ShipmentStatus | str | None = None
    shipment_id: str | None = None
    declared_value: Money | None = None
    return_receipt: bool = False

    @classmethod
    def from_shipment(cls, shipment: Shipment) -> SettlementRow:
        """The row of a shipment: what settlement reads of it."""
        number = shipment.tracking_number
        return cls(
            waybill=waybill_key(shipment),
            center=shipment.center,
            business_line=shipment.business_line,
            direction=shipment.direction,
            origin=shipment.origin.code,
            destination=shipment.destination.code,
            weight_g=shipment.weight_g,
            picked_up_at=shipment.picked_up_at,
            returned_at=shipment.returned_at,
            status=shipment.status,
            shipment_id=None if number is None else shipment.id,
            declared_value=shipment.declared_value,
            return_receipt=shipment.return_receipt,
        )


# What the engine reads of a shipment or a row: waybill, order id, center, business line and
# direction (their values), origin and destination codes, weight, picked up, returned,
# declared value, return receipt.
_Fields = tuple[
    str, str, str, str, str, str, str, int, datetime | None, datetime | None, Money | None, bool
]

_ZONES: tuple[Zone, ...] = tuple(Zone)
_ZONE_KEYS = {zone: key for key, zone in enumerate(_ZONES)}
_BUSINESS_LINES: tuple[BusinessLine, ...] = tuple(BusinessLine)
_VALUES: dict[type[enum.Enum], dict[str, str]] = {
    kind: {member.value: member.value for member in kind} for kind in (BusinessLine, Direction)
}
# Shanghai has kept UTC+8 without daylight saving since 1992: from then on, the business date
# of a fixed-offset time (UTC, +08:00 from JSON) is a shift away, without the tz database.
_FIXED_SINCE = 1992
_SHANGHAI_OFFSET = timedelta(hours=8)
_TZ = SHANGHAI
_STATUSES = {status.value: status for status in ShipmentStatus}


def _who(waybill: str, shipment_id: str, day: date | None = None) -> str:
    on = "" if day is None else f" on {day}"
    if waybill == shipment_id:
        return f"waybill {waybill}{on}"
    return f"waybill {waybill} (shipment {shipment_id}){on}"


def _bad(waybill: object, field: str, value: object, rule: str) -> ValidationError:
    return ValidationError(
        f"settlement row of waybill {short(waybill)}: {field} {short(value)} {rule}"
    )


def _enum_value(kind: type[enum.Enum], value: object, waybill: str, field: str) -> str:
    if type(value) is kind:
        return value._value_  # type: ignore[no-any-return]
    found = _VALUES[kind].get(value) if isinstance(value, str) else None
    if found is None:
        choices = ", ".join(repr(member.value) for member in kind)
        raise _bad(waybill, field, value, f"is not a {kind.__name__}; choose from {choices}")
    return found


def _code(value: object, waybill: str, field: str) -> str:
    if isinstance(value, Division):
        return value.code
    if not isinstance(value, str):
        raise _bad(waybill, field, value, "must be a GB/T 2260 code such as '520102'")
    return value


def _instant(value: object, waybill: str, field: str) -> datetime | None:
    if value is None or (type(value) is datetime and value.tzinfo is _TZ and value.year in YEARS):
        return value
    if not isinstance(value, datetime) or value.tzinfo is None or value.utcoffset() is None:
        raise _bad(
            waybill,
            field,
            value,
            "must be a timezone-aware datetime, e.g. datetime(..., tzinfo=ZoneInfo('Asia/Shanghai'))",
        )
    if value.year not in YEARS:  # as Shipment's times (govpost._fields.aware)
        raise _bad(
            waybill,
            field,
            value,
            f"must lie in the years {YEARS.start} to {YEARS.stop - 1}; check the source's clock",
        )
    return value


def _check_row(row: SettlementRow) -> _Fields:
    """The fields of a row, checked as ``Shipment`` checks them, enums as their values."""
    (
        waybill,
        center,
        business_line,
        direction,
        origin,
        destination,
        weight,
        picked,
        returned,
        status,
        shipment_id,
        declared,
        receipt,
    ) = row
    if not isinstance(waybill, str) or not waybill:
        raise _bad(waybill, "waybill", waybill, "must be a non-empty str: the tracking number")
    if shipment_id is None:
        shipment_id = waybill
    elif not isinstance(shipment_id, str) or not shipment_id:
        raise _bad(waybill, "shipment_id", shipment_id, "must be a non-empty str or None")
    if not isinstance(center, str):
        raise _bad(
            waybill,
            "center",
            center,
            "must be the center's code, a str such as 'GZ-520100' (pass center.code)",
        )
    if type(weight) is not int or not 0 < weight <= MAX_WEIGHT_G:
        raise _bad(
            waybill, "weight_g", weight, f"must be an int number of grams, 1 to {MAX_WEIGHT_G:,}"
        )
    picked = _instant(picked, waybill, "picked_up_at")
    if returned is not None:
        returned = _instant(returned, waybill, "returned_at")
        if picked is None or returned < picked:  # type: ignore[operator]
            raise _bad(waybill, "returned_at", returned, "needs a picked_up_at at or before it")
    if status is not None and type(status) is not ShipmentStatus:
        found = _STATUSES.get(status) if isinstance(status, str) else None
        if found is None:
            raise _bad(waybill, "status", status, "is not a ShipmentStatus value")
        status = found
    if status is ShipmentStatus.CANCELLED and picked is not None:
        raise _bad(
            waybill,
            "status",
            status.value,
            "contradicts picked_up_at: an item cancelled after pickup is returned, not cancelled",
        )
    if declared is not None and (not isinstance(declared, Money) or declared.amount <= 0):
        raise _bad(waybill, "declared_value", declared, "must be a positive Money or None")
    if type(receipt) is not bool:
        raise _bad(waybill, "return_receipt", receipt, "must be True or False")
    return (
        waybill,
        shipment_id,
        center,
        business_line._value_
        if type(business_line) is BusinessLine
        else _enum_value(BusinessLine, business_line, waybill, "business_line"),
        direction._value_
        if type(direction) is Direction
        else _enum_value(Direction, direction, waybill, "direction"),
        origin if type(origin) is str else _code(origin, waybill, "origin"),
        destination if type(destination) is str else _code(destination, waybill, "destination"),
        weight,
        picked,
        returned,
        declared,
        receipt,
    )


def _read(item: object) -> _Fields:
    """What the engine reads of anything but an exact ``Shipment`` (its fast path)."""
    if isinstance(item, Shipment):
        return (
            waybill_key(item),
            item.id,
            item.center,
            item.business_line.value,
            item.direction.value,
            item.origin.code,
            item.destination.code,
            item.weight_g,
            item.picked_up_at,
            item.returned_at,
            item.declared_value,
            item.return_receipt,
        )
    if isinstance(item, SettlementRow):
        return _check_row(item)
    raise SettlementError(
        f"settle() reads Shipment values or SettlementRow rows, got {type(item).__name__}: "
        f"convert your records to govpost.Shipment, or to SettlementRow for plain rows"
    )


class _Breakdowns:
    """The fee breakdowns of a statement and their amounts in fen; key 0 is "none"."""

    def __init__(self) -> None:
        self.items: list[FeeBreakdown | None] = [None]
        self.fen: list[int] = [0]

    def add(self, quote: FeeBreakdown) -> int:
        self.items.append(quote)
        self.fen.append(quote.amount.fen)
        return len(self.items) - 1


class _Slot:
    """The prices of one rate and zone: a breakdown per number of steps (and surcharges), and
    the weights seen so far (without surcharges) mapped to theirs.

    The waybill, order id and day passed in name the piece in an error message.
    """

    __slots__ = ("by_key", "by_steps", "by_weight", "discount", "rate", "step", "table", "zone")

    def __init__(
        self,
        rate: Rate,
        zone: Zone,
        discount: Any,
        table: _Breakdowns,
        piece: tuple[str, str, date],
    ) -> None:
        self.rate, self.zone, self.discount, self.table = rate, zone, discount, table
        self.step: ZoneStep | None = None
        if isinstance(rate.tariff, WeightTariff):
            try:
                self.step = rate.tariff.for_zone(zone)
            except ValidationError as exc:
                raise SettlementError(f"cannot price {_who(*piece)}: {exc}") from exc
        self.by_weight: dict[int, int] = {}
        self.by_steps: dict[int, int] = {}
        self.by_key: dict[tuple[int, Money | None, bool], int] = {}

    def key(
        self,
        weight: int,
        declared: Money | None,
        receipt: bool,
        waybill: str,
        shipment_id: str,
        day: date,
    ) -> int:
        """The key of the breakdown of a piece of this weight and surcharges."""
        # The tariff counts the steps: a flat tariff has none.
        steps = 0 if self.step is None else self.step.steps(weight)
        if declared is None and not receipt:
            found = self.by_steps.get(steps)
            if found is None:
                found = self.by_steps[steps] = self.price(
                    weight, None, False, waybill, shipment_id, day
                )
            return found
        key = (steps, declared, receipt)
        found = self.by_key.get(key)
        if found is None:
            found = self.by_key[key] = self.price(
                weight, declared, receipt, waybill, shipment_id, day
            )
        return found

    def price(
        self,
        weight: int,
        declared: Money | None,
        receipt: bool,
        waybill: str,
        shipment_id: str,
        day: date,
    ) -> int:
        try:
            quote = self.rate.quote(
                zone=self.zone,
                weight_g=weight,
                declared_value=declared,
                return_receipt=receipt,
                discount=self.discount,
            )
        except GovpostError as exc:
            raise type(exc)(f"cannot price {_who(waybill, shipment_id, day)}: {exc}") from exc
        return self.table.add(quote)


class _Pricer:
    """Quotes pieces under one rate card and discount."""

    def __init__(self, card: RateCard, discount: Any, table: _Breakdowns) -> None:
        self.card, self.discount, self.table = card, discount, table
        self.rates: dict[date, Rate] = {}
        self.slots: dict[tuple[int, int], _Slot] = {}

    def slot(self, day: date, zone: int, waybill: str, shipment_id: str) -> _Slot:
        """The slot of the rate in force on ``day`` and of ``zone``."""
        rate = self.rates.get(day)
        if rate is None:
            try:
                rate = self.card.rate_on(day)
            except ValidationError as exc:
                raise SettlementError(
                    f"cannot price {_who(waybill, shipment_id, day)}: {exc}"
                ) from exc
            self.rates[day] = rate
        # The card holds its rates while we settle: their ids are stable keys.
        slot = self.slots.get((id(rate), zone))
        if slot is None:
            piece = (waybill, shipment_id, day)
            slot = _Slot(rate, _ZONES[zone], self.discount, self.table, piece)
            self.slots[(id(rate), zone)] = slot
        return slot


_EMPTY: array[int] = array("B")


def _utc(instant: datetime) -> datetime:
    """The instant in UTC: comparisons within one tzinfo are exact and fast."""
    return instant if instant.tzinfo is UTC else instant.astimezone(UTC)


class _Reorder:
    """Columns reordered: ``column(values)`` is ``[values[i] for i in order]``, at C speed."""

    def __init__(self, order: list[int]) -> None:
        self.get = operator.itemgetter(*order) if len(order) > 1 else None
        self.order = order

    def __call__(self, values: Any) -> tuple[int, ...]:
        if self.get is None:
            return tuple(values[i] for i in self.order)
        return self.get(values)  # type: ignore[no-any-return]


class _Billed(NamedTuple):
    """The waybills earlier statements billed, by what they billed."""

    pieces: frozenset[str] = frozenset()
    return_legs: frozenset[str] = frozenset()
    credits: frozenset[str] = frozenset()


class _Engine:
    def __init__(
        self, agreement: FeeAgreement, period: Period, start: date, end: date, billed: _Billed
    ) -> None:
        self.agreement = agreement
        self.period = period
        self.start = start  # first day in force within the period
        self.end = end
        self.billed = billed  # what earlier statements billed: never billed again
        self.currency = agreement.currency
        self.tz = _TZ
        self.offsets = {start + timedelta(days=k): k for k in range((end - start).days)}
        # A line's group is its (center, business line, zone): 1 + (center × lines + line) × 3
        # + zone, centers in code order; 0 is the lump-sum line's (none of the three).
        self.centers = sorted(agreement.centers)
        width = len(_BUSINESS_LINES) * 3
        self.center_bases = {code: 1 + k * width for k, code in enumerate(self.centers)}
        self.ngroups = 1 + len(self.centers) * width
        self.covered: dict[str, dict[str, int]] = {}
        for cover in agreement.covers:
            line = _BUSINESS_LINES.index(cover.business_line) * 3
            self.covered.setdefault(cover.business_line.value, {})[cover.direction.value] = line
        mode = agreement.mode
        self.table = _Breakdowns()
        self.lump = isinstance(mode, LumpSum)
        self.pricer: _Pricer | None
        if isinstance(mode, PerPiece):
            self.pricer = _Pricer(mode.tariff, mode.discount, self.table)
        else:  # a lump sum covers the whole service: beyond the quota only postage is charged
            overage = mode.overage
            self.pricer = (
                None if overage is None else _Pricer(overage, mode.overage_discount, self.table)
            )
        self.surcharges = not self.lump
        self.policy = agreement.return_policy
        self.bills_returns = not self.lump and self.policy is not ReturnPolicy.NO_CHARGE
        # The columns, one entry per line, in the order read.
        self.waybills: list[str] = []
        self.ids: list[str] = []
        self.groups = array(typecode(self.ngroups))
        self.destinations = array("I")
        self.weights = array("I")
        self.days = array(typecode(len(self.offsets)))
        self.breakdowns = array("I")
        self.instants: list[datetime] = []  # lump sums: to find the latest pieces
        self.returns: dict[int, LineKind] = {}  # the lines that are return legs or credits
        # Memos: (origin, destination) → (zone, destination key); a slot's weights by day and
        # zone (offset × 3 + zone); a time zone's shift to Shanghai (None: not fixed).
        self.routes: dict[str, dict[str, tuple[int, int]]] = {}
        self.destination_codes: list[str] = []
        self.destination_keys: dict[str, int] = {}
        self.slots: list[dict[int, int] | None] = [None] * (3 * len(self.offsets))
        self.slot_objects: list[_Slot | None] = [None] * (3 * len(self.offsets))
        self.heaviest = 0  # the largest weight priced: with a pricer, every line's was
        self.shifts: dict[tzinfo, timedelta | None] = {}
        self.counts = dict.fromkeys((field.name for field in attrs.fields(Exclusions)), 0)

    # -- reading -----------------------------------------------------------------------------------

    def read(self, items: Iterable[object]) -> None:
        """Read every shipment or row once: the hot loop of settlement."""
        shipment_type = Shipment
        center_bases = self.center_bases
        covered = self.covered
        tz = self.tz
        offsets = self.offsets
        routes = self.routes
        slots = self.slots
        local = self.local
        priced = self.pricer is not None
        surcharges = self.surcharges
        bills_returns = self.bills_returns
        lump = self.lump
        billed_pieces = self.billed.pieces
        add_waybill = self.waybills.append
        add_id = self.ids.append
        add_group = self.groups.append
        add_destination = self.destinations.append
        add_weight = self.weights.append
        add_day = self.days.append
        add_breakdown = self.breakdowns.append
        add_instant = self.instants.append
        other_center = not_covered = not_picked_up = billed_before = 0
        for item in items:
            if type(item) is shipment_type:
                center = item.center
                line = item.business_line._value_
                direction = item.direction._value_
                picked = item.picked_up_at
                number = item.tracking_number
                shipment_id = item.id
                waybill = shipment_id if number is None else number.value
                origin = item.origin.code
                destination = item.destination.code
                weight = item.weight_g
                returned = item.returned_at
                declared = item.declared_value
                receipt = item.return_receipt
            else:
                (
                    waybill,
                    shipment_id,
                    center,
                    line,
                    direction,
                    origin,
                    destination,
                    weight,
                    picked,
                    returned,
                    declared,
                    receipt,
                ) = _read(item)
            base = center_bases.get(center)
            if base is None:
                other_center += 1
                continue
            directions = covered.get(line)
            line_base = None if directions is None else directions.get(direction)
            if line_base is None:
                not_covered += 1
                continue
            if picked is None:
                not_picked_up += 1
                continue
            day = picked.date() if picked.tzinfo is tz else local(picked)
            offset = offsets.get(day)
            if offset is None:
                self.elsewhere(day, returned, waybill, shipment_id, base + line_base,
                               origin, destination, weight, declared, receipt)  # fmt: skip
                continue
            if billed_pieces and waybill in billed_pieces:
                billed_before += 1
            else:
                by_origin = routes.get(origin)
                route = None if by_origin is None else by_origin.get(destination)
                if route is None:
                    route = self.route(origin, destination, waybill, shipment_id)
                zone, destination_key = route
                if priced:
                    key: int | None
                    if surcharges and (declared is not None or receipt):
                        key = self.quote(day, zone, weight, declared, receipt, waybill, shipment_id)
                    else:
                        by_weight = slots[offset * 3 + zone]
                        key = None if by_weight is None else by_weight.get(weight)
                        if key is None:
                            key = self.first_weight(offset, day, zone, weight, waybill, shipment_id)
                    add_breakdown(key)
                add_waybill(waybill)
                add_id(shipment_id)
                add_group(base + line_base + zone)
                add_destination(destination_key)
                add_weight(weight)
                add_day(offset)
                if lump:
                    add_instant(picked)
            if returned is not None and bills_returns:
                self.returned(day, returned, waybill, shipment_id, base + line_base,
                              origin, destination, weight, declared, receipt)  # fmt: skip
        counts = self.counts
        counts["other_center"] += other_center
        counts["not_covered"] += not_covered
        counts["not_picked_up"] += not_picked_up
        counts["billed_before"] += billed_before

    def local(self, instant: datetime) -> date:
        """The business date (Asia/Shanghai) of an instant in another time zone."""
        zone = instant.tzinfo
        assert zone is not None  # shipments and checked rows are aware
        if zone in self.shifts:
            shift = self.shifts[zone]
        else:
            offset = zone.utcoffset(None) if type(zone) is timezone else None
            shift = self.shifts[zone] = None if offset is None else _SHANGHAI_OFFSET - offset
        if shift is not None and _FIXED_SINCE <= instant.year < 9999:
            return (instant + shift).date()
        return instant.astimezone(self.tz).date()

    def route(
        self, origin: str, destination: str, waybill: str, shipment_id: str
    ) -> tuple[int, int]:
        """The zone and destination key of a pair of codes, first seen."""
        try:
            zone = zone_between(origin, destination)
            code = Division.parse(destination).code
        except ValidationError as exc:
            raise ValidationError(f"cannot settle {_who(waybill, shipment_id)}: {exc}") from exc
        key = self.destination_keys.get(code)
        if key is None:
            key = self.destination_keys[code] = len(self.destination_codes)
            self.destination_codes.append(code)
        route = self.routes.setdefault(origin, {})[destination] = (_ZONE_KEYS[zone], key)
        return route

    def first_weight(
        self, offset: int, day: date, zone: int, weight: int, waybill: str, shipment_id: str
    ) -> int:
        """The breakdown of a weight not seen yet on this day and zone (no surcharges)."""
        assert self.pricer is not None
        index = offset * 3 + zone
        slot = self.slot_objects[index]
        if slot is None:
            slot = self.slot_objects[index] = self.pricer.slot(day, zone, waybill, shipment_id)
            self.slots[index] = slot.by_weight
        key = slot.by_weight.get(weight)
        if key is None:
            key = slot.key(weight, None, False, waybill, shipment_id, day)
            slot.by_weight[weight] = key
            self.heaviest = max(self.heaviest, weight)
        return key

    def quote(
        self,
        day: date,
        zone: int,
        weight: int,
        declared: Money | None,
        receipt: bool,
        waybill: str,
        shipment_id: str,
    ) -> int:
        """The breakdown of any piece on any day (surcharges, credits of earlier pickups)."""
        assert self.pricer is not None
        self.heaviest = max(self.heaviest, weight)
        slot = self.pricer.slot(day, zone, waybill, shipment_id)
        return slot.key(weight, declared, receipt, waybill, shipment_id, day)

    def elsewhere(
        self,
        day: date,
        returned: datetime | None,
        waybill: str,
        shipment_id: str,
        group: int,
        origin: str,
        destination: str,
        weight: int,
        declared: Money | None,
        receipt: bool,
    ) -> None:
        """A shipment picked up outside the days in force: maybe its return is billed."""
        billed = False
        if self.period.contains(day):
            self.counts["outside_validity"] += 1
            billed = True
        if returned is not None and self.bills_returns and self.agreement.in_force(day):
            billed = self.returned(day, returned, waybill, shipment_id, group,
                                   origin, destination, weight, declared, receipt) or billed  # fmt: skip
        if not billed:
            self.counts["other_period"] += 1

    def returned(
        self,
        pickup_day: date,
        returned: datetime,
        waybill: str,
        shipment_id: str,
        group: int,
        origin: str,
        destination: str,
        weight: int,
        declared: Money | None,
        receipt: bool,
    ) -> bool:
        """Bill the return of a piece if it falls in the days in force: a return leg (postage
        only) or a credit of the original charge. Whether anything was billed (or counted)."""
        day = returned.date() if returned.tzinfo is self.tz else self.local(returned)
        offset = self.offsets.get(day)
        if offset is None:
            return False
        credit = self.policy is ReturnPolicy.REFUND_ORIGINAL
        if waybill in (self.billed.credits if credit else self.billed.return_legs):
            self.counts["billed_before"] += 1
            return True
        by_origin = self.routes.get(origin)
        route = None if by_origin is None else by_origin.get(destination)
        zone, destination_key = route or self.route(origin, destination, waybill, shipment_id)
        if credit:  # negates the charge as billed at pickup, surcharges included
            key = self.quote(pickup_day, zone, weight, declared, receipt, waybill, shipment_id)
        else:  # the return leg is postage only: insurance and receipts were bought once
            key = self.quote(day, zone, weight, None, False, waybill, shipment_id)
        self.returns[len(self.waybills)] = LineKind.CREDIT if credit else LineKind.RETURN_LEG
        self.breakdowns.append(key)
        self.waybills.append(waybill)
        self.ids.append(shipment_id)
        self.groups.append(group + zone)
        self.destinations.append(destination_key)
        self.weights.append(weight)
        self.days.append(offset)
        return True

    # -- after reading -------------------------------------------------------------------------

    def finish(self, carried_in: int, before: Money) -> SettlementStatement:
        waybills = self.waybills
        n = len(waybills)
        # Stable sorts compose: by waybill, then by day, gives (day, waybill) order with no key
        # tuple per line. Lines of one waybill are neighbours after the first sort.
        order = sorted(range(n), key=waybills.__getitem__)
        get = waybills.__getitem__
        runs = list(
            compress(
                range(1, n), map(operator.eq, map(get, order), map(get, islice(order, 1, None)))
            )
        )
        if runs:
            order = self.merge(order, runs)
        order.sort(key=self.days.__getitem__)
        lump: LumpSumPosition | None = None
        overage: bytearray | None = None
        if self.lump:
            lump, overage = self.settle_lump(order, carried_in)
        return self.statement(order, lump, overage, before)

    def merge(self, order: list[int], runs: list[int]) -> list[int]:
        """``order`` with the lines of each waybill met more than once merged: a line given
        again with the same data is a duplicate (counted, dropped); with other data, an error.
        The piece of a waybill comes before its return leg or credit."""
        merged: list[int] = []
        done = 0
        position = 0
        while position < len(runs):
            first = last = runs[position]
            while position + 1 < len(runs) and runs[position + 1] == last + 1:
                position += 1
                last += 1
            position += 1
            merged.extend(order[done : first - 1])
            merged.extend(self.merge_run(order[first - 1 : last + 1]))
            done = last + 1
        merged.extend(order[done:])
        return merged

    def merge_run(self, run: list[int]) -> list[int]:
        kept: dict[LineKind | None, int] = {}  # None: the piece
        for index in run:
            kind = self.returns.get(index)
            other = kept.get(kind)
            if other is None:
                kept[kind] = index
            elif self.line_data(index) == self.line_data(other):
                self.counts["duplicates"] += 1
                if self.lump and _utc(self.instants[index]) < _utc(self.instants[other]):
                    self.instants[other] = self.instants[index]  # whatever the input order
            else:
                raise SettlementError(
                    f"waybill {self.waybills[index]} appears twice with different data "
                    f"(shipments {self.ids[other]} and {self.ids[index]}): a waybill is billed "
                    f"once; fix the duplicate record"
                )
        return [kept[kind] for kind in sorted(kept, key=lambda k: "" if k is None else k.value)]

    def line_data(self, index: int) -> tuple[Any, ...]:
        key = self.breakdowns[index] if self.pricer is not None else 0
        return (
            self.ids[index],
            self.groups[index],
            self.destinations[index],
            self.weights[index],
            self.days[index],
            key,
        )

    def settle_lump(
        self, order: list[int], carried_in: int
    ) -> tuple[LumpSumPosition, bytearray | None]:
        """The lump sum's position, and which lines (by position in ``order``) are overage."""
        mode = self.agreement.mode
        assert isinstance(mode, LumpSum)
        period, start, end = self.period, self.start, self.end
        amount = prorate(mode.amount, period, start, end)
        pieces = len(order)
        quota: int | None = None
        overage: bytearray | None = None
        overage_pieces = overage_fen = 0
        carrying = mode.underuse is Underuse.CARRY_FORWARD
        if mode.quota is not None:
            quota = _prorate_quota(mode.quota, period, start, end) + (carried_in if carrying else 0)
            if pieces > quota and self.pricer is not None:
                overage_pieces = pieces - quota
                overage = self.latest(order, overage_pieces)
                fen_of, keys = self.table.fen, self.breakdowns
                overage_fen = sum(
                    map(fen_of.__getitem__, map(keys.__getitem__, compress(order, overage)))
                )
        payable = amount
        if mode.underuse is Underuse.PRO_RATA and quota is not None and pieces < quota:
            payable = allocate(amount, [pieces, quota - pieces])[0]
        position = LumpSumPosition(
            amount=amount,
            days_in_force=(end - start).days,
            quota=quota,
            carried_in=carried_in if carrying else 0,
            pieces=pieces,
            overage_pieces=overage_pieces,
            overage_amount=Money.from_fen(overage_fen, self.currency),
            payable=payable,
            refund=amount - payable,
            carried_out=max(0, quota - pieces) if quota is not None and carrying else 0,
            underuse=mode.underuse,
        )
        return position, overage

    def latest(self, order: list[int], k: int) -> bytearray:
        """Flags (1 = overage) of the ``k`` pieces picked up latest, by instant, then by
        waybill, by position in ``order`` (which is by day): the days after the day the quota
        runs out are a tail of ``order``; only the pieces of that day are sorted, by instant."""
        day_of = self.days.__getitem__
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
        instants, waybills, tz = self.instants, self.waybills, self.tz

        def instant(index: int) -> datetime:
            # Times in Asia/Shanghai compare without conversion (no fold since 1991); the rest
            # are compared in UTC, which is exact.
            at = instants[index]
            return at if at.tzinfo is tz and at.year >= _FIXED_SINCE else _utc(at)

        day = order[begin:end]
        ranked = sorted(range(len(day)), key=lambda j: waybills[day[j]])
        ranked.sort(key=lambda j: instant(day[j]))  # stable: by instant, then by waybill
        for j in ranked[len(day) - (k - later) :]:
            flags[begin + j] = 1
        return flags

    def statement(
        self,
        order: list[int],
        lump: LumpSumPosition | None,
        overage: bytearray | None,
        before: Money,
    ) -> SettlementStatement:
        """The statement of the lines kept, in ``order``: its columns, subtotals and id."""
        agreement, period, currency = self.agreement, self.period, self.currency
        n = len(order)
        refers: dict[int, str] = {}
        returned: list[int] = []  # positions of return legs and credits
        credits: list[int] = []
        if self.returns:
            returned = list(compress(count(), map(self.returns.__contains__, order)))
            for position in returned:
                if self.returns[order[position]] is LineKind.CREDIT:
                    credits.append(position)
                    waybill = self.waybills[order[position]]
                    refers[position] = f"{waybill}/{LineKind.CHARGE.value}"
        # Waybills and order ids first: as text they leave no large container for the cyclic
        # garbage collector to walk while the rest is built.
        tail, nones = (("",), frozenset({n})) if lump is not None else ((), frozenset())
        waybills = Text(take(order, self.waybills) + tail, nones)
        same_ids = self.ids == self.waybills  # no tracking numbers: ids are the waybills
        ids = None if same_ids else Text(take(order, self.ids) + tail, nones)
        self.waybills = self.ids = []
        column = _Reorder(order)
        fen_of = self.table.fen
        keys: Iterable[int]
        if self.lump:
            flags = bytearray(n) if overage is None else overage
            kind_of = bytearray(256)
            kind_of[0], kind_of[1] = _KIND_KEYS[LineKind.COVERED], _KIND_KEYS[LineKind.OVERAGE]
            kinds = flags.translate(kind_of)
            keys = (
                map(operator.mul, column(self.breakdowns), flags)
                if self.pricer is not None
                else repeat(0, n)
            )
        else:
            kinds = bytearray([_KIND_KEYS[LineKind.CHARGE]]) * n
            keys = column(self.breakdowns)
            for position in returned:
                kinds[position] = _KIND_KEYS[self.returns[order[position]]]
        breakdown_keys = int_column(keys, 0, len(fen_of))
        self.breakdowns = _EMPTY
        payable = 0 if lump is None else lump.payable.fen
        top = max(max(fen_of), payable)
        fen = int_column(
            map(fen_of.__getitem__, breakdown_keys), min(-top if credits else 0, payable), top
        )
        for position in credits:
            fen[position] = -fen[position]
        groups = int_column(column(self.groups), 0, self.ngroups)
        self.groups = _EMPTY
        codes = sorted(self.destination_codes)
        rank = {code: key for key, code in enumerate(codes, start=1)}  # 0: no destination
        remap = [rank[code] for code in self.destination_codes]
        destinations = int_column(map(remap.__getitem__, column(self.destinations)), 0, len(codes))
        self.destinations = _EMPTY
        heaviest = self.heaviest if self.pricer is not None else max(self.weights, default=0)
        weights = int_column(column(self.weights), 0, heaviest)
        self.weights = _EMPTY
        days = int_column(column(self.days), 0, len(self.offsets))
        self.days = _EMPTY
        del column, order

        # Subtotals, from the few (group, breakdown) pairs of the period.
        by_group: dict[int, list[int]] = {}
        width = len(fen_of)
        cells = Counter(map(operator.add, map(operator.mul, groups, repeat(width)), breakdown_keys))
        for cell, times in cells.items():
            group, key = divmod(cell, width)
            entry = by_group.setdefault(group, [0, 0])
            entry[0] += times
            entry[1] += fen_of[key] * times
        for position in returned:  # return legs and credits are not pieces
            by_group[groups[position]][0] -= 1
        for position in credits:  # their amounts are negative
            by_group[groups[position]][1] -= 2 * fen_of[breakdown_keys[position]]
        pieces = sum(entry[0] for entry in by_group.values())
        total = sum(entry[1] for entry in by_group.values()) + payable
        table = _group_table(self.agreement.centers)
        subtotals = _subtotals(by_group, table, None if lump is None else payable, currency)

        if lump is not None:  # the lump-sum line, last
            kinds.append(_KIND_KEYS[LineKind.LUMP_SUM])
            for keyed in (groups, destinations, weights, days, breakdown_keys):
                keyed.append(0)
            fen.append(payable)
        lines = StatementLines._of(
            waybills=waybills,
            ids=ids,
            kinds=bytes(kinds),
            groups=table,
            group_keys=groups,
            destinations=(None, *codes),
            destination_keys=destinations,
            weights=weights,
            day0=self.start.toordinal(),
            days=days,
            currency=currency,
            fen=fen,
            breakdowns=self.table.items,
            breakdown_keys=breakdown_keys,
            refers=refers,
        )
        total_money = Money.from_fen(total, currency)
        budget = _budget(agreement, period, before, total_money)
        return SettlementStatement(
            statement_id=_statement_id(agreement, period, lines, codes, lump, budget),
            agreement_id=agreement.id,
            agreement_reference=agreement.reference,
            carrier=agreement.carrier,
            period=period,
            mode="per_piece" if lump is None else "lump_sum",
            currency=currency,
            lines=lines,
            pieces=pieces,
            total=total_money,
            by_center=subtotals[0],
            by_business_line=subtotals[1],
            by_zone=subtotals[2],
            lump_sum=lump,
            budget=budget,
            excluded=Exclusions(**self.counts),
        )


@functools.lru_cache(maxsize=64)
def _group_table(centers: frozenset[str]) -> tuple[Group, ...]:
    """Every (center, business line, zone) group of an agreement's centers, by group key; the
    lump-sum line's group (none of the three) first. Shared by the statements of an agreement."""
    return (
        (None, None, None),
        *(
            (center, business_line, zone)
            for center in sorted(centers)
            for business_line in _BUSINESS_LINES
            for zone in _ZONES
        ),
    )


def _subtotals(
    by_group: Mapping[int, list[int]],
    table: tuple[Group, ...],
    lump_fen: int | None,
    currency: str,
) -> list[tuple[Subtotal, ...]]:
    """Subtotals by center, business line and zone, the lump sum attributed by pieces."""
    dims: tuple[dict[str, list[int]], ...] = ({}, {}, {})
    for group, (pieces, amount) in by_group.items():
        center, business_line, zone = table[group]
        assert center is not None  # pieces have all three
        assert business_line is not None
        assert zone is not None
        for dim, name in zip(dims, (center, business_line.value, zone.value), strict=True):
            entry = dim.setdefault(name, [0, 0])
            entry[0] += pieces
            entry[1] += amount
    orders = (_by_code, _by_member(BusinessLine), _by_member(Zone))
    if lump_fen is not None:
        for dim, order in zip(dims, orders, strict=True):
            _attribute_lump(dim, lump_fen, currency, order)
    return [
        tuple(
            Subtotal(key=key, pieces=dim[key][0], amount=Money.from_fen(dim[key][1], currency))
            for key in order(dim)
        )
        for dim, order in zip(dims, orders, strict=True)
    ]


def _feed(digest: Any, column: array[int]) -> None:
    """Add a column to a digest, little-endian whatever the machine."""
    if sys.byteorder == "big":
        column = array(column.typecode, column)
        column.byteswap()
    digest.update(f"|{column.typecode}{len(column)}|".encode())
    digest.update(column)


def _statement_id(
    agreement: FeeAgreement,
    period: Period,
    lines: StatementLines,
    codes: list[str],
    lump: LumpSumPosition | None,
    budget: BudgetPosition | None,
) -> str:
    """``"<agreement>-<period>-<digest>"``: a digest of the agreement, the period and every
    column of the lines, so that two statements that differ in anything a line says (even only
    its center or destination) never share an id."""
    digest = hashlib.sha256(_agreement_fingerprint(agreement))
    digest.update(f"|{period}|".encode())
    for text in (lines._waybills, lines._ids):
        if text is None:
            digest.update(b"|ids=waybills|")
            continue
        digest.update(text.text.encode())
        if text.ends is None:
            digest.update(f"|width {text.width}|".encode())
        else:
            _feed(digest, text.ends)
    digest.update(lines._kinds)
    digest.update("|".join(codes).encode())
    for column in (
        lines._group_keys,
        lines._destination_keys,
        lines._weights,
        lines._days,
        lines._fen,
    ):
        _feed(digest, column)
    digest.update(repr(sorted(lines._refers.items())).encode())
    if lump is not None:
        digest.update(repr(lump).encode())
    if budget is not None:
        digest.update(f"budget|{budget.settled_before}".encode())
    return f"{agreement.id}-{period}-{digest.hexdigest()[:16]}"


def settle(
    agreement: FeeAgreement,
    shipments: Iterable[Shipment | SettlementRow],
    period: Period,
    *,
    previous: Iterable[SettlementStatement] = (),
) -> SettlementStatement:
    """Settle ``period`` under ``agreement``: every billable, covered piece priced exactly.

    A piece is billable when picked up and belongs to the period of its pickup date in
    Asia/Shanghai; shipments never picked up (cancelled before pickup) are never billed;
    items the agreement does not cover are the applicant's and are only counted in
    :attr:`SettlementStatement.excluded`. ``shipments`` may be any iterable, read once, of
    :class:`~govpost.shipments.Shipment` values or :class:`SettlementRow` rows (a database's
    rows, without building a ``Shipment`` each; a row bills exactly as its shipment): memory
    grows with the number of lines, not with the input. The order of the input never matters,
    and the same inputs always give the same statement.

    Per piece (计件), each piece is one line priced at the rate in force on its pickup date,
    less the discount, rounded half-up once. A returned item follows the agreement's
    :class:`~govpost.agreements.ReturnPolicy`, in the period of its return: a return-leg line
    (postage only), nothing, or a credit that negates its charge exactly.

    Lump sum (包干), the lump sum — prorated by days when the agreement is in force for only
    part of the period — covers the quota; the pieces beyond it (those picked up latest, by
    instant, then by waybill) are charged by the overage tariff, postage only (surcharges are
    inside the lump sum); unused quota is kept by the carrier, refunded pro rata, or carried
    forward, as the agreement says. Returns are inside the lump sum.

    Args:
        agreement: the fee agreement.
        shipments: the shipments (or rows) to consider, in any order; any iterable.
        period: the period to settle; its kind must be the agreement's settlement period.
        previous: statements already settled under this agreement. Those of the same year
            count against the budget; the one of the period just before carries unused quota
            forward; a piece, return leg or credit any of them billed is never billed again
            (say a corrected pickup date moved it into this period): it is counted in
            :attr:`Exclusions.billed_before` instead.

    Raises:
        SettlementError: a period of the wrong kind or outside the agreement, a ``previous``
            statement of another agreement or not before ``period``, a piece no rate covers,
            a waybill twice with different data, an item neither a ``Shipment`` nor a row.
        ValidationError: a row with a bad field (naming its waybill and the field).
        BudgetExceededError: a strict budget would be exceeded (nothing is returned).
        CurrencyMismatchError: a declared value in another currency than the tariff.

    .. versionadded:: 0.1.0

    .. versionchanged:: 0.2.0
       Reads :class:`SettlementRow` rows; the pieces beyond a lump sum's quota are the latest
       by instant (they were the latest by date); statement ids are digests of the columns.
    """
    if not isinstance(agreement, FeeAgreement):
        raise SettlementError(f"agreement must be a FeeAgreement, got {type(agreement).__name__}")
    if not isinstance(period, Period):
        raise SettlementError(
            f"period must be a Period such as Period.month(2018, 6), got {short(period)}"
        )
    if period.kind is not agreement.period:
        raise SettlementError(
            f"period {period} is a {period.kind.value} but agreement {agreement.id} settles "
            f"by {agreement.period.value}: pass a {agreement.period.value} period"
        )
    start = max(period.start, agreement.valid_from)
    end = period.end if agreement.valid_until is None else min(period.end, agreement.valid_until)
    if start >= end:
        until = agreement.valid_until or "open end"
        raise SettlementError(
            f"agreement {agreement.id} (in force {agreement.valid_from} to {until}) is not in "
            f"force at any time in period {period}: settle a period it covers"
        )
    for name, value in (("shipments", shipments), ("previous", previous)):
        if not isinstance(value, Iterable) or isinstance(value, str | bytes | Mapping):
            raise SettlementError(
                f"{name} must be an iterable (a list, a generator) of "
                f"{'Shipment or SettlementRow' if name == 'shipments' else 'SettlementStatement'}"
                f", not {type(value).__name__}"
            )
    before, carried_in, billed = _previous(agreement, period, previous)
    engine = _Engine(agreement, period, start, end, billed)
    engine.read(shipments)
    return engine.finish(carried_in, before)


def _previous(
    agreement: FeeAgreement, period: Period, previous: Iterable[SettlementStatement]
) -> tuple[Money, int, _Billed]:
    """The amount settled earlier in the year, the quota carried in, and the waybills already
    billed: their pieces, return legs and credits."""
    before = Money.zero(agreement.currency)
    carried = 0
    seen: set[str] = set()
    billed: dict[str, set[str]] = {"piece": set(), "return_leg": set(), "credit": set()}
    for statement in previous:
        if not isinstance(statement, SettlementStatement):
            raise SettlementError(
                f"previous holds {type(statement).__name__}, not a SettlementStatement"
            )
        if statement.agreement_id != agreement.id:
            raise SettlementError(
                f"previous statement {statement.statement_id} is of agreement "
                f"{statement.agreement_id}, not {agreement.id}: pass only this agreement's"
            )
        if statement.period.end > period.start:
            raise SettlementError(
                f"previous statement {statement.statement_id} covers {statement.period}, which "
                f"does not end before {period} starts: a period is settled once, from the "
                f"statements before it"
            )
        if str(statement.period) in seen:
            raise SettlementError(
                f"previous holds two statements of {statement.period}: pass each settled "
                f"period once, or its amount would count twice against the budget"
            )
        seen.add(str(statement.period))
        lines = statement.lines
        entries = (
            lines._keys()
            if isinstance(lines, StatementLines)
            else ((line.waybill, line.kind) for line in lines)
        )
        for waybill, kind in entries:
            if waybill is not None and kind is not LineKind.LUMP_SUM:
                billed["piece" if kind.is_piece else kind.value].add(waybill)
        if statement.period.start.year == period.start.year:
            before = before + statement.total
        if statement.period.end == period.start and statement.lump_sum is not None:
            carried = statement.lump_sum.carried_out
    return (
        before,
        carried,
        _Billed(*(frozenset(billed[k]) for k in ("piece", "return_leg", "credit"))),
    )


def _by_code(dim: Mapping[str, Any]) -> list[str]:
    """Center codes in code order, ``"*"`` (the lump sum of a month without pieces) last."""
    return sorted(dim, key=lambda key: (key == "*", key))


def _by_member(kind: type[enum.Enum]) -> Callable[[Mapping[str, Any]], list[str]]:
    """Keys in the order the enum declares its members — zones near to far (同城, 省内, 省外),
    business lines as listed — not alphabetically by value; ``"*"`` last."""
    rank = {member.value: index for index, member in enumerate(kind)}

    def order(dim: Mapping[str, Any]) -> list[str]:
        return sorted(dim, key=lambda key: (rank.get(key, len(rank)), key))

    return order


def _attribute_lump(
    dim: dict[str, list[int]],
    fen: int,
    currency: str,
    order: Callable[[Mapping[str, Any]], list[str]],
) -> None:
    """Attribute the lump sum (in fen) to the keys of one dimension by pieces (or to ``"*"``),
    ties going to the key listed first."""
    keys = order(dim)
    weights = [dim[k][0] for k in keys]
    if not any(weights):
        dim.setdefault("*", [0, 0])[1] += fen
        return
    for key, share in zip(keys, allocate(Money.from_fen(fen, currency), weights), strict=True):
        dim[key][1] += share.fen


_FINGERPRINTS: weakref.WeakKeyDictionary[FeeAgreement, bytes] = weakref.WeakKeyDictionary()


def _agreement_fingerprint(agreement: FeeAgreement) -> bytes:
    """A digest of the agreement's wire form, computed once per agreement (an agreement is
    immutable; equal agreements share it)."""
    found = _FINGERPRINTS.get(agreement)
    if found is None:
        from govpost.serialization import to_json

        found = _FINGERPRINTS[agreement] = hashlib.sha256(to_json(agreement).encode()).digest()
    return found


def _budget(
    agreement: FeeAgreement, period: Period, before: Money, total: Money
) -> BudgetPosition | None:
    budget = agreement.budget
    if budget is None:
        return None
    cumulative = before + total
    exceeded = cumulative > budget.annual
    if exceeded and budget.strict:
        raise BudgetExceededError(
            f"settling {period} under agreement {agreement.id} adds {total} to {before} already "
            f"settled in {period.start.year}, bringing the year to {cumulative}, over its "
            f"budget of {budget.annual} by {cumulative - budget.annual}: raise the budget, or "
            f"use Budget(strict=False) to settle and report the overrun"
        )
    return BudgetPosition(
        annual=budget.annual,
        settled_before=before,
        this_statement=total,
        cumulative=cumulative,
        remaining=budget.annual - cumulative,
        exceeded=exceeded,
        strict=budget.strict,
    )
