"""The settlement engine: billable events → priced lines → statement (private: use
govpost.settlement).

The billable-event stage (:mod:`._billable`) reads the input once into columns; this engine
prices them — a dictionary lookup per piece: a breakdown is computed once per rate, zone,
number of steps and surcharges, and the weights already seen of each rate and zone map
straight to it — then sorts, merges duplicates, applies the lump sum (:mod:`._lumpsum`), and
builds the statement's columns, subtotals and id on whole columns at C speed; no
:class:`StatementLine` is built. An agreement's agent fee (代办费) adds a line after each piece,
built from the piece's own columns (:meth:`_Engine.with_agent_fee`).
"""

from __future__ import annotations

import enum
import functools
import hashlib
import json
import operator
import sys
import weakref
from array import array
from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from datetime import date
from itertools import accumulate, chain, compress, count, islice, repeat
from typing import Any

from govpost._fields import short
from govpost.agreements import (
    FeeAgreement,
    FeeBreakdown,
    LumpSum,
    PerPiece,
    Rate,
    RateCard,
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
from govpost.periods import Period
from govpost.regions import Zone
from govpost.settlement._billable import (
    BUSINESS_LINES,
    KIND_KEYS,
    ZONES,
    Billed,
    Events,
    Exclusions,
    LineKind,
    SettlementRow,
    line_id,
    who,
)
from govpost.settlement._columns import Text, int_column, reorder
from govpost.settlement._lumpsum import latest, lump_position, utc
from govpost.settlement._statement import (
    BudgetPosition,
    Group,
    LumpSumPosition,
    SettlementMode,
    SettlementStatement,
    StatementLines,
    Subtotal,
)
from govpost.shipments import Shipment


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
    """The prices of one rate and zone: a breakdown key per number of steps and surcharges,
    and the weights seen so far (without surcharges) mapped to theirs.

    The waybill, order id and day passed in name the piece in an error message.
    """

    __slots__ = ("by_key", "by_weight", "discount", "rate", "step", "table", "zone")

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
                raise SettlementError(f"cannot price {who(*piece)}: {exc}") from exc
        self.by_weight: dict[int, int] = {}
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
        """The key of the breakdown of a piece of this weight and surcharges, priced once per
        number of steps (the tariff counts them; a flat tariff has none) and surcharges."""
        steps = 0 if self.step is None else self.step.steps(weight)
        found = self.by_key.get((steps, declared, receipt))
        if found is None:
            try:
                quote = self.rate.quote(
                    zone=self.zone,
                    weight_g=weight,
                    declared_value=declared,
                    return_receipt=receipt,
                    discount=self.discount,
                )
            except GovpostError as exc:
                raise type(exc)(f"cannot price {who(waybill, shipment_id, day)}: {exc}") from exc
            found = self.by_key[(steps, declared, receipt)] = self.table.add(quote)
        return found


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
                    f"cannot price {who(waybill, shipment_id, day)}: {exc}"
                ) from exc
            self.rates[day] = rate
        # The card holds its rates while we settle: their ids are stable keys.
        slot = self.slots.get((id(rate), zone))
        if slot is None:
            piece = (waybill, shipment_id, day)
            slot = _Slot(rate, ZONES[zone], self.discount, self.table, piece)
            self.slots[(id(rate), zone)] = slot
        return slot


class _Pricing:
    """What the billable-event stage asks of pricing: the breakdown key of a piece, memoised by
    day and zone for the weights seen (see :class:`~govpost.settlement._billable.Pricing`)."""

    def __init__(self, pricer: _Pricer, days: int) -> None:
        self.pricer = pricer
        self.slots: list[dict[int, int] | None] = [None] * (3 * days)
        self.slot_objects: list[_Slot | None] = [None] * (3 * days)

    def first_weight(
        self, offset: int, day: date, zone: int, weight: int, waybill: str, shipment_id: str
    ) -> int:
        """The breakdown of a weight not seen yet on this day and zone (no surcharges)."""
        index = offset * 3 + zone
        slot = self.slot_objects[index]
        if slot is None:
            slot = self.slot_objects[index] = self.pricer.slot(day, zone, waybill, shipment_id)
            self.slots[index] = slot.by_weight
        key = slot.by_weight.get(weight)
        if key is None:
            key = slot.by_weight[weight] = slot.key(weight, None, False, waybill, shipment_id, day)
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
        slot = self.pricer.slot(day, zone, waybill, shipment_id)
        return slot.key(weight, declared, receipt, waybill, shipment_id, day)


_EMPTY: array[int] = array("B")


class _Engine:
    """Prices the billable events of a period and builds their statement."""

    def __init__(
        self, agreement: FeeAgreement, period: Period, start: date, end: date, billed: Billed
    ) -> None:
        self.agreement = agreement
        self.period = period
        self.start = start  # first day in force within the period
        self.end = end
        self.currency = agreement.currency
        mode = agreement.mode
        self.table = _Breakdowns()
        self.lump = isinstance(mode, LumpSum)
        pricer: _Pricer | None
        if isinstance(mode, PerPiece):
            pricer = _Pricer(mode.tariff, mode.discount, self.table)
        else:  # a lump sum covers the whole service: beyond the quota only postage is charged
            overage = mode.overage
            pricer = (
                None if overage is None else _Pricer(overage, mode.overage_discount, self.table)
            )
        self.pricing = None if pricer is None else _Pricing(pricer, (end - start).days)
        self.events = Events(agreement, period, start, end, billed, self.pricing)
        self.counts = self.events.counts

    def finish(self, carried_in: int, before: Money) -> SettlementStatement:
        ev = self.events
        waybills = ev.waybills
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
        order.sort(key=ev.days.__getitem__)
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
        ev = self.events
        kept: dict[LineKind | None, int] = {}  # None: the piece
        for index in run:
            kind = ev.returns.get(index)
            other = kept.get(kind)
            if other is None:
                kept[kind] = index
            elif self.line_data(index) == self.line_data(other):
                self.counts["duplicates"] += 1
                if self.lump and utc(ev.instants[index]) < utc(ev.instants[other]):
                    ev.instants[other] = ev.instants[index]  # whatever the input order
            else:
                raise SettlementError(
                    f"waybill {ev.waybills[index]} appears twice with different data "
                    f"(shipments {ev.ids[other]} and {ev.ids[index]}): a waybill is billed "
                    f"once; fix the duplicate record"
                )
        return [kept[kind] for kind in sorted(kept, key=lambda k: "" if k is None else k.value)]

    def line_data(self, index: int) -> tuple[Any, ...]:
        ev = self.events
        key = ev.breakdowns[index] if self.pricing is not None else 0
        return (
            ev.ids[index],
            ev.groups[index],
            ev.destinations[index],
            ev.weights[index],
            ev.days[index],
            key,
        )

    def settle_lump(
        self, order: list[int], carried_in: int
    ) -> tuple[LumpSumPosition, bytearray | None]:
        """The lump sum's position, and which lines (by position in ``order``) are overage."""
        mode = self.agreement.mode
        assert isinstance(mode, LumpSum)
        ev = self.events

        def overage(k: int) -> tuple[bytearray, int]:
            flags = latest(order, k, ev.days, ev.instants, ev.waybills)
            fen_of, keys = self.table.fen, ev.breakdowns
            return flags, sum(
                map(fen_of.__getitem__, map(keys.__getitem__, compress(order, flags)))
            )

        return lump_position(
            mode,
            self.period,
            self.start,
            self.end,
            len(order),
            carried_in,
            None if self.pricing is None else overage,
            self.currency,
        )

    def with_agent_fee(
        self, order: list[int], overage: bytearray | None
    ) -> tuple[list[int], bytearray | None, list[int]]:
        """``order`` with each piece followed by its agent-fee line, the overage flags to
        match, and the positions of the agent-fee lines.

        The rule: one agent-fee line per piece of the period — charged (计件), covered by the
        lump sum or over its quota —, none for a return leg, a credit or the lump-sum line
        (the center packed the piece once, whatever became of it). The fee line is the
        piece's event once more (its waybill, order id, group, destination and day), so every
        column is built as for the other lines; :meth:`statement` then gives it its kind and
        amount, and no weight or breakdown. Its ``refers_to``, the piece's line id, is not
        kept: the lines derive it from the line before (see :class:`StatementLines`).
        """
        returns = self.events.returns
        times = [1 if index in returns else 2 for index in order] if returns else [2] * len(order)
        expanded = list(chain.from_iterable(map(repeat, order, times)))
        ends = accumulate(times)
        fee_at = [end - 1 for end, lines in zip(ends, times, strict=True) if lines == 2]
        if overage is not None:
            overage = bytearray(chain.from_iterable(map(repeat, overage, times)))
        return expanded, overage, fee_at

    def statement(
        self,
        order: list[int],
        lump: LumpSumPosition | None,
        overage: bytearray | None,
        before: Money,
    ) -> SettlementStatement:
        """The statement of the lines kept, in ``order``: its columns, subtotals and id."""
        ev = self.events
        agreement, period, currency = self.agreement, self.period, self.currency
        fee_at: list[int] = []  # positions of agent-fee lines
        fee = agreement.agent_fee
        fee_fen = 0 if fee is None else fee.amount_per_piece.fen
        if fee is not None and order:
            order, overage, fee_at = self.with_agent_fee(order, overage)
        n = len(order)
        refers: dict[int, str | None] = {}
        returned: list[int] = []  # positions of return legs and credits
        credits: list[int] = []
        if ev.returns:
            returned = list(compress(count(), map(ev.returns.__contains__, order)))
            for position in returned:
                if ev.returns[order[position]] is LineKind.CREDIT:
                    credits.append(position)
                    waybill = ev.waybills[order[position]]
                    refers[position] = line_id(waybill, LineKind.CHARGE)
        # Waybills and order ids first: as text they leave no large container for the cyclic
        # garbage collector to walk while the rest is built.
        column = reorder(order)
        tail, nones = (("",), frozenset({n})) if lump is not None else ((), frozenset())
        waybills = Text(column(ev.waybills) + tail, nones)
        same_ids = ev.ids == ev.waybills  # no tracking numbers: ids are the waybills
        ids = None if same_ids else Text(column(ev.ids) + tail, nones)
        ev.waybills = ev.ids = []
        fen_of = self.table.fen
        keys: Iterable[int]
        if self.lump:
            flags = bytearray(n) if overage is None else overage
            kind_of = bytearray(256)
            kind_of[0], kind_of[1] = KIND_KEYS[LineKind.COVERED], KIND_KEYS[LineKind.OVERAGE]
            kinds = flags.translate(kind_of)
            keys = (
                map(operator.mul, column(ev.breakdowns), flags)
                if self.pricing is not None
                else repeat(0, n)
            )
        else:
            kinds = bytearray([KIND_KEYS[LineKind.CHARGE]]) * n
            keys = column(ev.breakdowns)
            for position in returned:
                kinds[position] = KIND_KEYS[ev.returns[order[position]]]
        breakdown_keys = int_column(keys, 0, len(fen_of))
        ev.breakdowns = _EMPTY
        if fee_at:  # an agent-fee line: its piece's group, destination and day; no weight priced
            agent_fee = KIND_KEYS[LineKind.AGENT_FEE]
            for position in fee_at:  # refers_to: the piece right before, derived when read
                kinds[position] = agent_fee
                breakdown_keys[position] = 0
        payable = 0 if lump is None else lump.payable.fen
        top = max(max(fen_of), payable)
        fen = int_column(
            map(fen_of.__getitem__, breakdown_keys),
            min(-top if credits else 0, payable, fee_fen),
            max(top, fee_fen),
        )
        for position in credits:
            fen[position] = -fen[position]
        for position in fee_at:
            fen[position] = fee_fen
        groups = int_column(column(ev.groups), 0, ev.ngroups)
        ev.groups = _EMPTY
        codes = sorted(ev.destination_codes)
        rank = {code: key for key, code in enumerate(codes, start=1)}  # 0: no destination
        remap = [rank[code] for code in ev.destination_codes]
        destinations = int_column(map(remap.__getitem__, column(ev.destinations)), 0, len(codes))
        ev.destinations = _EMPTY
        weighed = column(ev.weights)
        weights = int_column(weighed, 0, max(weighed, default=0))
        del weighed
        ev.weights = _EMPTY
        for position in fee_at:
            weights[position] = 0
        days = int_column(column(ev.days), 0, len(ev.offsets))
        ev.days = _EMPTY
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
        if fee_at:  # agent-fee lines are not pieces; each adds the fee to its piece's group
            for group, times in Counter(map(groups.__getitem__, fee_at)).items():
                by_group[group][0] -= times
                by_group[group][1] += fee_fen * times
        pieces = sum(entry[0] for entry in by_group.values())
        total = sum(entry[1] for entry in by_group.values()) + payable
        table = _group_table(self.agreement.centers)
        subtotals = _subtotals(by_group, table, None if lump is None else payable, currency)

        if lump is not None:  # the lump-sum line, last
            kinds.append(KIND_KEYS[LineKind.LUMP_SUM])
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
            mode=SettlementMode.PER_PIECE if lump is None else SettlementMode.LUMP_SUM,
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
            for business_line in BUSINESS_LINES
            for zone in ZONES
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


def window(agreement: FeeAgreement, period: Period) -> tuple[date, date]:
    """The days ``[start, end)`` of ``period`` that ``agreement`` is in force (private).

    Raises:
        SettlementError: not an agreement or a period, a period of another kind than the
            agreement's, or an agreement in force on no day of the period.
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
    return start, end


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

    Agent fee (代办费): when the agreement carries one
    (:attr:`~govpost.agreements.FeeAgreement.agent_fee`), each piece of the period — charged,
    covered by the lump sum, or over its quota — is followed by one
    :attr:`LineKind.AGENT_FEE` line of :attr:`~govpost.agreements.AgentFee.amount_per_piece`
    (negative when deducted, 减收; positive when charged, 加收) whose ``refers_to`` is the
    piece's line id; return legs, credits and the lump-sum line have none. The fee lines count
    in the total and the subtotals (not in the pieces), and in the budget.

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
       by instant (they were the latest by date); statement ids are digests of the columns;
       applies the agreement's agent fee.
    """
    start, end = window(agreement, period)
    for name, value in (("shipments", shipments), ("previous", previous)):
        if not isinstance(value, Iterable) or isinstance(value, str | bytes | Mapping):
            raise SettlementError(
                f"{name} must be an iterable (a list, a generator) of "
                f"{'Shipment or SettlementRow' if name == 'shipments' else 'SettlementStatement'}"
                f", not {type(value).__name__}"
            )
    before, carried_in, billed = _previous(agreement, period, previous)
    engine = _Engine(agreement, period, start, end, billed)
    engine.events.read(shipments)
    return engine.finish(carried_in, before)


def _previous(
    agreement: FeeAgreement, period: Period, previous: Iterable[SettlementStatement]
) -> tuple[Money, int, Billed]:
    """The amount settled earlier in the year, the quota carried in, and the waybills already
    billed: their pieces, return legs and credits."""
    before = Money.zero(agreement.currency)
    carried = 0
    seen: set[str] = set()
    entries: list[Iterable[tuple[str | None, LineKind]]] = []
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
        entries.append(
            lines._keys()
            if isinstance(lines, StatementLines)
            else [(line.waybill, line.kind) for line in lines]
        )
        if statement.period.start.year == period.start.year:
            before = before + statement.total
        if statement.period.end == period.start and statement.lump_sum is not None:
            carried = statement.lump_sum.carried_out
    return before, carried, Billed.of(chain.from_iterable(entries))


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
    immutable; equal agreements share it).

    Terms added to the agreement after statement ids were first issued are digested only when
    set — an agreement without an agent fee is digested without the ``agent_fee`` key — so
    that its statements keep the ids they had.
    """
    found = _FINGERPRINTS.get(agreement)
    if found is None:
        from govpost.serialization import to_primitive

        data = to_primitive(agreement)
        if data.get("agent_fee") is None:
            del data["agent_fee"]
        # Written as to_json writes it.
        text = json.dumps(data, ensure_ascii=False, allow_nan=False)
        found = _FINGERPRINTS[agreement] = hashlib.sha256(text.encode()).digest()
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
