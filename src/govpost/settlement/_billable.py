"""The billable-event stage: shipments or rows → billable events (private: use govpost.settlement).

Settle, statements and reconciliation speak one vocabulary of what is billed:

- :class:`BillableKind` — the billable event: a piece, a return leg, a credit, the lump sum,
  a piece's agent fee.
  Reconciliation matches the carrier's bill entry by entry in these terms, and a waybill is
  never billed twice for the same kind across periods.
- :class:`LineKind` — the statement line of an event; a piece is refined into a per-piece
  charge, a piece inside a lump sum's quota, or overage (:attr:`LineKind.billable`).
- :func:`line_id` — the one formula of a line's id, ``"<waybill>/<line kind>"``.

:class:`Events` reads shipments or :class:`SettlementRow` rows once into columns of billable
events: what is billed (waybill, group, destination, weight), on which day of the period, and
under which kind; what is not billed is counted by reason. Pricing is asked of a
:class:`Pricing` (the engine's), so that this stage decides *what* is billed and the engine
*how much*.
"""

from __future__ import annotations

import enum
from array import array
from collections.abc import Iterable
from datetime import date, datetime, timedelta, timezone, tzinfo
from typing import NamedTuple, Protocol

import attrs

from govpost._fields import coerce_enum, short
from govpost._limits import YEARS
from govpost.agreements import MAX_WEIGHT_G, FeeAgreement, LumpSum, ReturnPolicy
from govpost.centers import BusinessLine
from govpost.errors import SettlementError, ValidationError
from govpost.money import Money
from govpost.periods import SHANGHAI, Period
from govpost.regions import Division, Zone, zone_between
from govpost.settlement._columns import typecode
from govpost.shipments import Direction, Shipment, ShipmentStatus


class BillableKind(enum.Enum):
    """What a billable event is: the one vocabulary of settle, statements and reconciliation.

    Every statement line is one billable event (:attr:`LineKind.billable`), every row of a
    carrier's bill charges for one (:attr:`FeeType.billable
    <govpost.settlement.FeeType.billable>`), and a reconciliation item is one event of one
    waybill as both sides see it (:attr:`ReconciliationItem.entry
    <govpost.settlement.ReconciliationItem.entry>`).

    >>> LineKind.OVERAGE.billable, BillableKind.PIECE.label
    (<BillableKind.PIECE: 'piece'>, '收寄')

    .. versionadded:: 0.2.0
    """

    PIECE = "piece"  #: a piece picked up in the period, with its surcharges (收寄)
    RETURN_LEG = "return_leg"  #: the return leg of a returned item (退回)
    CREDIT = "credit"  #: negates the charge of a piece exactly (冲销)
    LUMP_SUM = "lump_sum"  #: the lump sum (包干) payable for the period; no waybill
    #: the agent fee (代办费) of a piece: the agreement's per-piece cost difference, deducted
    #: or charged (:attr:`FeeAgreement.agent_fee <govpost.agreements.FeeAgreement.agent_fee>`).
    #:
    #: .. versionadded:: 0.2.0
    AGENT_FEE = "agent_fee"

    @property
    def label(self) -> str:
        """The Chinese name used on printed statements and reports."""
        return _BILLABLE_LABELS[self]


_BILLABLE_LABELS = {
    BillableKind.PIECE: "收寄",
    BillableKind.RETURN_LEG: "退回",
    BillableKind.CREDIT: "冲销",
    BillableKind.LUMP_SUM: "包干",
    BillableKind.AGENT_FEE: "代办费",
}


class LineKind(enum.Enum):
    """What a statement line is.

    .. versionadded:: 0.1.0
    """

    CHARGE = "charge"  #: a piece under a per-piece agreement (计件)
    COVERED = "covered"  #: a piece inside a lump sum's quota; amount zero
    OVERAGE = "overage"  #: a piece beyond a lump sum's quota, charged by the overage tariff
    RETURN_LEG = "return_leg"  #: the return leg of a returned item (退回)
    CREDIT = "credit"  #: negates exactly the line named in ``refers_to``
    LUMP_SUM = "lump_sum"  #: the lump sum (包干) payable for the period
    #: the agent fee (代办费) of the piece named in ``refers_to``, one per charged, covered or
    #: overage line when the agreement carries an
    #: :attr:`~govpost.agreements.FeeAgreement.agent_fee`: negative when deducted (减收),
    #: positive when charged (加收).
    #:
    #: .. versionadded:: 0.2.0
    AGENT_FEE = "agent_fee"

    @property
    def is_piece(self) -> bool:
        """Whether the line is a piece picked up in the period (charge, covered or overage)."""
        return _BILLABLE[self] is BillableKind.PIECE

    @property
    def billable(self) -> BillableKind:
        """The billable event the line bills.

        >>> LineKind.COVERED.billable
        <BillableKind.PIECE: 'piece'>

        .. versionadded:: 0.2.0
        """
        return _BILLABLE[self]

    @property
    def label(self) -> str:
        """The Chinese name used on printed statements."""
        return _KIND_LABELS[self]


_BILLABLE = {
    LineKind.CHARGE: BillableKind.PIECE,
    LineKind.COVERED: BillableKind.PIECE,
    LineKind.OVERAGE: BillableKind.PIECE,
    LineKind.RETURN_LEG: BillableKind.RETURN_LEG,
    LineKind.CREDIT: BillableKind.CREDIT,
    LineKind.LUMP_SUM: BillableKind.LUMP_SUM,
    LineKind.AGENT_FEE: BillableKind.AGENT_FEE,
}
_KIND_LABELS = {
    LineKind.CHARGE: "计件",
    LineKind.COVERED: "包干内",
    LineKind.OVERAGE: "超量",
    LineKind.RETURN_LEG: "退回",
    LineKind.CREDIT: "冲销",
    LineKind.LUMP_SUM: "包干",
    LineKind.AGENT_FEE: "代办费",
}

#: Line kinds by their key in a kind column: the enum's order (new kinds are added last, so
#: that the keys, which statement ids digest, never change).
KINDS: tuple[LineKind, ...] = tuple(LineKind)
KIND_KEYS = {kind: key for key, kind in enumerate(KINDS)}


def line_id(waybill: str | None, kind: LineKind) -> str:
    """The id of a statement line: ``"<waybill>/<kind>"``, ``"lump_sum"`` for the lump sum.

    The one formula: lines, credits' ``refers_to``, CSV, look-ups and reconciliation use it.
    """
    return kind.value if waybill is None else f"{waybill}/{kind.value}"


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


# What the stage reads of a shipment or a row: waybill, order id, center, business line and
# direction (their values), origin and destination codes, weight, picked up, returned,
# declared value, return receipt.
_Fields = tuple[
    str, str, str, str, str, str, str, int, datetime | None, datetime | None, Money | None, bool
]

ZONES: tuple[Zone, ...] = tuple(Zone)
_ZONE_KEYS = {zone: key for key, zone in enumerate(ZONES)}
BUSINESS_LINES: tuple[BusinessLine, ...] = tuple(BusinessLine)
# Shanghai has kept UTC+8 without daylight saving since 1992: from then on, the business date
# of a fixed-offset time (UTC, +08:00 from JSON) is a shift away, without the tz database.
FIXED_SINCE = 1992
_SHANGHAI_OFFSET = timedelta(hours=8)


def who(waybill: str, shipment_id: str, day: date | None = None) -> str:
    """A piece as messages name it."""
    on = "" if day is None else f" on {day}"
    if waybill == shipment_id:
        return f"waybill {waybill}{on}"
    return f"waybill {waybill} (shipment {shipment_id}){on}"


def _bad(waybill: object, field: str, value: object, rule: str) -> ValidationError:
    return ValidationError(
        f"settlement row of waybill {short(waybill)}: {field} {short(value)} {rule}"
    )


def _enum_value(kind: type[enum.Enum], value: object, waybill: str, field: str) -> str:
    try:
        member = coerce_enum(kind, value)
    except ValidationError:
        choices = ", ".join(repr(member.value) for member in kind)
        raise _bad(
            waybill, field, value, f"is not a {kind.__name__}; choose from {choices}"
        ) from None
    return member._value_  # type: ignore[no-any-return]


def _code(value: object, waybill: str, field: str) -> str:
    if isinstance(value, Division):
        return value.code
    if not isinstance(value, str):
        raise _bad(waybill, field, value, "must be a GB/T 2260 code such as '520102'")
    return value


def _instant(value: object, waybill: str, field: str) -> datetime | None:
    # The rule of Shipment's times (govpost._fields.aware), worded for a row (naming the
    # waybill and field, as every row error does).
    if value is None or (
        type(value) is datetime and value.tzinfo is SHANGHAI and value.year in YEARS
    ):
        return value
    if not isinstance(value, datetime) or value.tzinfo is None or value.utcoffset() is None:
        raise _bad(
            waybill,
            field,
            value,
            "must be a timezone-aware datetime, e.g. datetime(..., tzinfo=ZoneInfo('Asia/Shanghai'))",
        )
    if value.year not in YEARS:
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
        try:
            status = coerce_enum(ShipmentStatus, status)
        except ValidationError:
            raise _bad(waybill, "status", status, "is not a ShipmentStatus value") from None
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
    """What the stage reads of anything but an exact ``Shipment`` (its fast path)."""
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


class Billed(NamedTuple):
    """The waybills earlier statements billed, by the billable event they billed."""

    pieces: frozenset[str] = frozenset()
    return_legs: frozenset[str] = frozenset()
    credits: frozenset[str] = frozenset()

    @classmethod
    def of(cls, entries: Iterable[tuple[str | None, LineKind]]) -> Billed:
        """What the lines ``(waybill, kind)`` of earlier statements billed."""
        billed: dict[BillableKind, set[str]] = {kind: set() for kind in BillableKind}
        for waybill, kind in entries:
            if waybill is not None:
                billed[kind.billable].add(waybill)
        return cls(
            frozenset(billed[BillableKind.PIECE]),
            frozenset(billed[BillableKind.RETURN_LEG]),
            frozenset(billed[BillableKind.CREDIT]),
        )


class Pricing(Protocol):
    """How the stage asks the engine for the breakdown key of a piece."""

    #: By day offset × 3 + zone: the key of each weight already priced (no surcharges).
    slots: list[dict[int, int] | None]

    def first_weight(
        self, offset: int, day: date, zone: int, weight: int, waybill: str, shipment_id: str
    ) -> int: ...

    def quote(
        self,
        day: date,
        zone: int,
        weight: int,
        declared: Money | None,
        receipt: bool,
        waybill: str,
        shipment_id: str,
    ) -> int: ...


@attrs.frozen(kw_only=True)
class Exclusions:
    """Shipments read but not billed on this statement, counted by reason.

    Attributes:
        other_center: from a center the agreement does not cover.
        not_covered: a business line and direction the applicant pays for.
        not_picked_up: never picked up (including cancelled before pickup).
        other_period: picked up in another period, with nothing billed in this one.
        outside_validity: picked up in the period but when the agreement was not in force.
        duplicates: the same shipment given more than once (billed once).
        billed_before: a piece, return leg or credit a ``previous`` statement already billed
            (a waybill is never billed in two periods).

    .. versionadded:: 0.1.0
    """

    other_center: int = 0
    not_covered: int = 0
    not_picked_up: int = 0
    other_period: int = 0
    outside_validity: int = 0
    duplicates: int = 0
    billed_before: int = 0


class Events:
    """The billable events of a period under an agreement, read into columns.

    One entry per event, in the order read: waybill, order id, group (center, business line,
    zone: see :attr:`ngroups`), destination key, weight, day (offset into the days in force),
    breakdown key (when priced), pickup instant (lump sums: to find the latest pieces), and
    the kind of the events that are return legs or credits (the rest are pieces).
    """

    def __init__(
        self,
        agreement: FeeAgreement,
        period: Period,
        start: date,
        end: date,
        billed: Billed,
        pricing: Pricing | None,
    ) -> None:
        self.agreement = agreement
        self.period = period
        self.start = start  # first day in force within the period
        self.end = end
        self.billed = billed  # what earlier statements billed: never billed again
        self.pricing = pricing
        self.offsets = {start + timedelta(days=k): k for k in range((end - start).days)}
        # A line's group is its (center, business line, zone): 1 + (center × lines + line) × 3
        # + zone, centers in code order; 0 is the lump-sum line's (none of the three).
        self.centers = sorted(agreement.centers)
        width = len(BUSINESS_LINES) * 3
        self.center_bases = {code: 1 + k * width for k, code in enumerate(self.centers)}
        self.ngroups = 1 + len(self.centers) * width
        self.covered: dict[str, dict[str, int]] = {}
        for cover in agreement.covers:
            line = BUSINESS_LINES.index(cover.business_line) * 3
            self.covered.setdefault(cover.business_line.value, {})[cover.direction.value] = line
        self.lump = isinstance(agreement.mode, LumpSum)
        # A lump sum covers the whole service: beyond the quota only postage is charged.
        self.surcharges = not self.lump
        self.policy = agreement.return_policy
        self.bills_returns = not self.lump and self.policy is not ReturnPolicy.NO_CHARGE
        self.waybills: list[str] = []
        self.ids: list[str] = []
        self.groups = array(typecode(self.ngroups))
        self.destinations = array("I")
        self.weights = array("I")
        self.days = array(typecode(len(self.offsets)))
        self.breakdowns = array("I")
        self.instants: list[datetime] = []
        self.returns: dict[int, LineKind] = {}  # the events that are return legs or credits
        # Memos: (origin, destination) → (zone, destination key); a time zone's shift to
        # Shanghai (None: not fixed).
        self.routes: dict[str, dict[str, tuple[int, int]]] = {}
        self.destination_codes: list[str] = []
        self.destination_keys: dict[str, int] = {}
        self.shifts: dict[tzinfo, timedelta | None] = {}
        self.counts = dict.fromkeys((field.name for field in attrs.fields(Exclusions)), 0)

    def read(self, items: Iterable[object]) -> None:
        """Read every shipment or row once: the hot loop of settlement."""
        shipment_type = Shipment
        center_bases = self.center_bases
        covered = self.covered
        tz = SHANGHAI
        offsets = self.offsets
        routes = self.routes
        pricing = self.pricing
        slots = None if pricing is None else pricing.slots
        local = self.local
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
                if slots is not None:
                    assert pricing is not None
                    key: int | None
                    if surcharges and (declared is not None or receipt):
                        key = pricing.quote(
                            day, zone, weight, declared, receipt, waybill, shipment_id
                        )
                    else:
                        by_weight = slots[offset * 3 + zone]
                        key = None if by_weight is None else by_weight.get(weight)
                        if key is None:
                            key = pricing.first_weight(
                                offset, day, zone, weight, waybill, shipment_id
                            )
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
        if shift is not None and FIXED_SINCE <= instant.year < 9999:
            return (instant + shift).date()
        return instant.astimezone(SHANGHAI).date()

    def route(
        self, origin: str, destination: str, waybill: str, shipment_id: str
    ) -> tuple[int, int]:
        """The zone and destination key of a pair of codes, first seen."""
        try:
            zone = zone_between(origin, destination)
            code = Division.parse(destination).code
        except ValidationError as exc:
            raise ValidationError(f"cannot settle {who(waybill, shipment_id)}: {exc}") from exc
        key = self.destination_keys.get(code)
        if key is None:
            key = self.destination_keys[code] = len(self.destination_codes)
            self.destination_codes.append(code)
        route = self.routes.setdefault(origin, {})[destination] = (_ZONE_KEYS[zone], key)
        return route

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
        day = returned.date() if returned.tzinfo is SHANGHAI else self.local(returned)
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
        pricing = self.pricing
        assert pricing is not None  # returns are billed per piece only
        if credit:  # negates the charge as billed at pickup, surcharges included
            key = pricing.quote(pickup_day, zone, weight, declared, receipt, waybill, shipment_id)
        else:  # the return leg is postage only: insurance and receipts were bought once
            key = pricing.quote(day, zone, weight, None, False, waybill, shipment_id)
        self.returns[len(self.waybills)] = LineKind.CREDIT if credit else LineKind.RETURN_LEG
        self.breakdowns.append(key)
        self.waybills.append(waybill)
        self.ids.append(shipment_id)
        self.groups.append(group + zone)
        self.destinations.append(destination_key)
        self.weights.append(weight)
        self.days.append(offset)
        return True
