"""The settlement engine: shipments → statement (private: use govpost.settlement)."""

from __future__ import annotations

import enum
import hashlib
from collections.abc import Callable, Iterable, Mapping
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from govpost.agreements import (
    FeeAgreement,
    FeeBreakdown,
    LumpSum,
    PerPiece,
    Rate,
    RateCard,
    ReturnPolicy,
    Underuse,
    WeightTariff,
    _shanghai,
)
from govpost.centers import BusinessLine
from govpost.errors import BudgetExceededError, GovpostError, SettlementError, ValidationError
from govpost.money import Money, allocate
from govpost.regions import Zone, zone_between
from govpost.settlement._period import Period
from govpost.settlement._statement import (
    BudgetPosition,
    Exclusions,
    LineKind,
    LumpSumPosition,
    SettlementStatement,
    StatementLine,
    Subtotal,
)
from govpost.shipments import Shipment


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


class _Pricer:
    """Quotes pieces, sharing one immutable breakdown among the pieces of the same rate, zone,
    number of steps and surcharges (a month of a province has a few hundred distinct ones)."""

    def __init__(self, card: RateCard, discount: Decimal) -> None:
        self.card = card
        self.discount = discount
        self._rates: dict[date, Rate] = {}
        self._by_day: dict[tuple[date, int], tuple[Rate, tuple[int, int] | None]] = {}
        self._quotes: dict[tuple[Any, ...], FeeBreakdown] = {}

    def rate(self, day: date, shipment: Shipment) -> Rate:
        rate = self._rates.get(day)
        if rate is None:
            try:
                rate = self.card.rate_on(day)
            except ValidationError as exc:
                raise SettlementError(f"cannot price {_who(shipment, day)}: {exc}") from exc
            self._rates[day] = rate
        return rate

    def quote(
        self, day: date, zone: Zone, shipment: Shipment, *, surcharges: bool = True
    ) -> FeeBreakdown:
        known = self._by_day.get((day, id(zone)))
        if known is None:
            rate = self.rate(day, shipment)
            known = self._by_day[(day, id(zone))] = (rate, self._grams(rate, zone, shipment, day))
        rate, grams = known
        weight = shipment.weight_g
        declared = shipment.declared_value if surcharges else None
        receipt = shipment.return_receipt and surcharges
        if grams is None:
            bucket = 0
        else:
            over = weight - grams[0]
            bucket = 0 if over <= 0 else -(-over // grams[1])
        key = (id(rate), id(zone), bucket, declared, receipt)
        quote = self._quotes.get(key)
        if quote is None:
            try:
                quote = rate.quote(
                    zone=zone,
                    weight_g=weight,
                    declared_value=declared,
                    return_receipt=receipt,
                    discount=self.discount,
                )
            except GovpostError as exc:
                raise type(exc)(f"cannot price {_who(shipment, day)}: {exc}") from exc
            self._quotes[key] = quote
        return quote

    @staticmethod
    def _grams(rate: Rate, zone: Zone, shipment: Shipment, day: date) -> tuple[int, int] | None:
        """First weight and step of ``zone`` (``None`` for a flat tariff)."""
        tariff = rate.tariff
        if not isinstance(tariff, WeightTariff):
            return None
        try:
            step = tariff.for_zone(zone)
        except ValidationError as exc:
            raise SettlementError(f"cannot price {_who(shipment, day)}: {exc}") from exc
        return (step.first_g, step.step_g)


def _who(shipment: Shipment, day: date) -> str:
    return f"waybill {waybill_key(shipment)} (shipment {shipment.id}) on {day}"


def waybill_key(shipment: Shipment) -> str:
    """The key a shipment is billed and reconciled under.

    Its tracking number when it has one (that is what the carrier's bill lists), otherwise its
    order id.

    .. versionadded:: 0.1.0
    """
    number = shipment.tracking_number
    return shipment.id if number is None else number.value


class _Engine:
    def __init__(
        self,
        agreement: FeeAgreement,
        period: Period,
        start: date,
        end: date,
        billed: frozenset[str] = frozenset(),
    ) -> None:
        self.agreement = agreement
        self.billed = billed  # entries earlier statements billed: never billed again
        self.period = period
        self.start = start  # first day in force within the period
        self.end = end
        self.centers = agreement.centers
        # Enum members are singletons: their ids are cheap, exact keys (Enum.__hash__ is not).
        self.covers = frozenset((id(c.business_line), id(c.direction)) for c in agreement.covers)
        mode = agreement.mode
        self.per_piece = isinstance(mode, PerPiece)
        if isinstance(mode, PerPiece):
            self.pricer: _Pricer | None = _Pricer(mode.tariff, mode.discount)
            self.overage: _Pricer | None = None
        else:
            self.pricer = None
            self.overage = (
                None if mode.overage is None else _Pricer(mode.overage, mode.overage_discount)
            )
        self.policy = agreement.return_policy
        self.bills_returns = self.per_piece and self.policy is not ReturnPolicy.NO_CHARGE
        self.currency = agreement.currency
        self.zero = Money.zero(self.currency)
        self.lines: list[StatementLine] = []
        self.overage_quotes: list[FeeBreakdown | None] = []
        self.pieces_seen: dict[str, int] = {}
        self.returns_seen: dict[str, int] = {}
        self.zones: dict[tuple[str, str], Zone] = {}
        self.days: dict[date, date] = {}
        self.counts = dict.fromkeys(
            (
                "other_center",
                "not_covered",
                "not_picked_up",
                "other_period",
                "outside_validity",
                "duplicates",
                "billed_before",
            ),
            0,
        )
        self.tz = _shanghai()

    def day(self, instant: datetime) -> date:
        local = instant.date() if instant.tzinfo is self.tz else instant.astimezone(self.tz).date()
        return self.days.setdefault(local, local)

    def zone(self, shipment: Shipment) -> Zone:
        key = (shipment.origin.code, shipment.destination.code)
        zone = self.zones.get(key)
        if zone is None:
            zone = self.zones[key] = zone_between(shipment.origin, shipment.destination)
        return zone

    def add(self, shipment: Shipment) -> None:
        if not isinstance(shipment, Shipment):
            raise SettlementError(
                f"settle() reads Shipment values, got {type(shipment).__name__}: convert your "
                f"records to govpost.Shipment first"
            )
        counts = self.counts
        if shipment.center not in self.centers:
            counts["other_center"] += 1
            return
        if (id(shipment.business_line), id(shipment.direction)) not in self.covers:
            counts["not_covered"] += 1
            return
        picked = shipment.picked_up_at
        if picked is None:
            counts["not_picked_up"] += 1
            return
        pickup_day = self.day(picked)
        billed = False
        billed_before = self.billed
        if self.start <= pickup_day < self.end:
            if billed_before and f"{waybill_key(shipment)}/piece" in billed_before:
                counts["billed_before"] += 1
            else:
                self.piece(shipment, pickup_day)
            billed = True
        elif self.period.contains(pickup_day):
            counts["outside_validity"] += 1
            billed = True
        returned = shipment.returned_at
        if returned is not None and self.bills_returns and self.agreement.in_force(pickup_day):
            return_day = self.day(returned)
            if self.start <= return_day < self.end:
                kind = "credit" if self.policy is ReturnPolicy.REFUND_ORIGINAL else "return_leg"
                if billed_before and f"{waybill_key(shipment)}/{kind}" in billed_before:
                    counts["billed_before"] += 1
                else:
                    self.returned(shipment, pickup_day, return_day)
                billed = True
        if not billed:
            counts["other_period"] += 1

    @staticmethod
    def _line(
        shipment: Shipment,
        zone: Zone,
        kind: LineKind,
        day: date,
        amount: Money,
        breakdown: FeeBreakdown | None,
        refers_to: str | None = None,
    ) -> StatementLine:
        number = shipment.tracking_number
        return StatementLine(
            shipment.id if number is None else number.value,
            shipment.id,
            kind,
            shipment.center,
            shipment.business_line,
            zone,
            shipment.destination.code,
            shipment.weight_g,
            day,
            amount,
            breakdown,
            refers_to,
        )

    def _record(
        self, seen: dict[str, int], line: StatementLine, overage: FeeBreakdown | None = None
    ) -> None:
        waybill = line.waybill
        assert waybill is not None
        index = seen.get(waybill)
        if index is None:
            seen[waybill] = len(self.lines)
            self.lines.append(line)
            self.overage_quotes.append(overage)
            return
        if self.lines[index] == line:
            self.counts["duplicates"] += 1
            return
        other = self.lines[index].shipment_id
        raise SettlementError(
            f"waybill {waybill} appears twice with different data (shipments {other} and "
            f"{line.shipment_id}): a waybill is billed once; fix the duplicate record"
        )

    def piece(self, shipment: Shipment, day: date) -> None:
        zone = self.zone(shipment)
        if self.pricer is not None:
            quote = self.pricer.quote(day, zone, shipment)
            line = self._line(shipment, zone, LineKind.CHARGE, day, quote.amount, quote)
            self._record(self.pieces_seen, line)
            return
        # A lump sum covers the whole service: beyond the quota only postage is charged.
        overage = (
            None
            if self.overage is None
            else self.overage.quote(day, zone, shipment, surcharges=False)
        )
        line = self._line(shipment, zone, LineKind.COVERED, day, self.zero, None)
        self._record(self.pieces_seen, line, overage)

    def returned(self, shipment: Shipment, pickup_day: date, return_day: date) -> None:
        assert self.pricer is not None
        zone = self.zone(shipment)
        if self.policy is ReturnPolicy.CHARGE_RETURN_LEG:
            # The return leg is postage only: insurance and receipts were bought once.
            quote = self.pricer.quote(return_day, zone, shipment, surcharges=False)
            line = self._line(shipment, zone, LineKind.RETURN_LEG, return_day, quote.amount, quote)
        else:
            original = self.pricer.quote(pickup_day, zone, shipment)
            line = self._line(
                shipment,
                zone,
                LineKind.CREDIT,
                return_day,
                -original.amount,
                original,
                f"{waybill_key(shipment)}/{LineKind.CHARGE.value}",
            )
        self._record(self.returns_seen, line)


def _sort(lines: list[StatementLine], *, mixed: bool = True) -> None:
    """Order lines by (day, waybill, kind).

    Stable sorts compose, so no key tuple is built per line (which would double the engine's
    memory at its peak); when every waybill has one line (``mixed`` false) kind cannot matter.
    """
    if mixed:
        lines.sort(key=lambda line: line.kind.value)
    lines.sort(key=lambda line: line.waybill or "")
    lines.sort(key=lambda line: line.day)


def settle(
    agreement: FeeAgreement,
    shipments: Iterable[Shipment],
    period: Period,
    *,
    previous: Iterable[SettlementStatement] = (),
) -> SettlementStatement:
    """Settle ``period`` under ``agreement``: every billable, covered piece priced exactly.

    A piece is billable when picked up and belongs to the period of its pickup date in
    Asia/Shanghai; shipments never picked up (cancelled before pickup) are never billed;
    items the agreement does not cover are the applicant's and are only counted in
    :attr:`SettlementStatement.excluded`. ``shipments`` may be any iterable, read once: memory
    grows with the number of lines, not with the input. The order of the input never matters,
    and the same inputs always give the same statement.

    Per piece (计件), each piece is one line priced at the rate in force on its pickup date,
    less the discount, rounded half-up once. A returned item follows the agreement's
    :class:`~govpost.agreements.ReturnPolicy`, in the period of its return: a return-leg line
    (postage only), nothing, or a credit that negates its charge exactly.

    Lump sum (包干), the lump sum — prorated by days when the agreement is in force for only
    part of the period — covers the quota; the pieces beyond it (the last ones by pickup date,
    then waybill) are charged by the overage tariff, postage only (surcharges are inside the
    lump sum); unused quota is kept by the carrier, refunded pro rata, or carried forward, as
    the agreement says. Returns are inside the lump sum.

    Args:
        agreement: the fee agreement.
        shipments: the shipments to consider, in any order; any iterable.
        period: the period to settle; its kind must be the agreement's settlement period.
        previous: statements already settled under this agreement. Those of the same year
            count against the budget; the one of the period just before carries unused quota
            forward; a piece, return leg or credit any of them billed is never billed again
            (say a corrected pickup date moved it into this period): it is counted in
            :attr:`Exclusions.billed_before` instead.

    Raises:
        SettlementError: a period of the wrong kind or outside the agreement, a ``previous``
            statement of another agreement or not before ``period``, a piece no rate covers,
            a waybill twice with different data.
        BudgetExceededError: a strict budget would be exceeded (nothing is returned).
        CurrencyMismatchError: a declared value in another currency than the tariff.

    .. versionadded:: 0.1.0
    """
    if not isinstance(agreement, FeeAgreement):
        raise SettlementError(f"agreement must be a FeeAgreement, got {type(agreement).__name__}")
    if not isinstance(period, Period):
        raise SettlementError(
            f"period must be a Period such as Period.month(2018, 6), got {period!r}"
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
                f"{'Shipment' if name == 'shipments' else 'SettlementStatement'}, not "
                f"{type(value).__name__}"
            )
    before, carried_in, billed = _previous(agreement, period, previous)

    engine = _Engine(agreement, period, start, end, billed)
    for shipment in shipments:
        engine.add(shipment)

    lines = engine.lines
    lump: LumpSumPosition | None = None
    if isinstance(agreement.mode, LumpSum):
        lump = _settle_lump(engine, agreement.mode, carried_in)
    else:
        _sort(lines, mixed=bool(engine.returns_seen))
    return _statement(engine, lines, lump, before)


def _previous(
    agreement: FeeAgreement, period: Period, previous: Iterable[SettlementStatement]
) -> tuple[Money, int, frozenset[str]]:
    """The amount settled earlier in the year, the quota carried in, and the entries already
    billed (``"<waybill>/piece"``, ``"<waybill>/return_leg"``, ``"<waybill>/credit"``)."""
    before = Money.zero(agreement.currency)
    carried = 0
    seen: set[str] = set()
    billed: set[str] = set()
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
        billed.update(_entry(line.waybill, line.kind) for line in statement.lines if line.waybill)
        if statement.period.start.year == period.start.year:
            before = before + statement.total
        if statement.period.end == period.start and statement.lump_sum is not None:
            carried = statement.lump_sum.carried_out
    return before, carried, frozenset(billed)


def _entry(waybill: str, kind: LineKind) -> str:
    """What a line bills, whatever the mode: the piece itself, its return leg or its credit."""
    return f"{waybill}/piece" if kind.is_piece else f"{waybill}/{kind.value}"


def _settle_lump(engine: _Engine, mode: LumpSum, carried_in: int) -> LumpSumPosition:
    period, start, end = engine.period, engine.start, engine.end
    amount = prorate(mode.amount, period, start, end)
    lines, quotes = engine.lines, engine.overage_quotes
    pieces = len(lines)
    quota: int | None = None
    base_quota = 0
    overage_pieces = 0
    overage_amount = Decimal(0)
    if mode.quota is not None:
        base_quota = _prorate_quota(mode.quota, period, start, end)
        quota = base_quota + (carried_in if mode.underuse is Underuse.CARRY_FORWARD else 0)
        if pieces > quota and engine.overage is not None:
            order = list(range(pieces))
            order.sort(key=lambda i: lines[i].waybill or "")
            order.sort(key=lambda i: lines[i].day)
            ordered = [lines[i] for i in order[:quota]]
            for index in order[quota:]:
                quote = quotes[index]
                assert quote is not None
                ordered.append(_evolve_overage(lines[index], quote))
                overage_amount += quote.amount.amount
            lines[:] = ordered
            overage_pieces = pieces - quota
    payable = amount
    if mode.underuse is Underuse.PRO_RATA and quota is not None and pieces < quota:
        payable = allocate(amount, [pieces, quota - pieces])[0]
    carried_out = (
        max(0, quota - pieces)
        if quota is not None and mode.underuse is Underuse.CARRY_FORWARD
        else 0
    )
    if not overage_pieces:
        _sort(lines, mixed=False)  # a lump sum has one line per waybill: returns are inside it
    engine.overage_quotes = []
    lines.append(
        StatementLine(
            waybill=None,
            shipment_id=None,
            kind=LineKind.LUMP_SUM,
            center=None,
            business_line=None,
            zone=None,
            destination=None,
            weight_g=0,
            day=start,
            amount=payable,
        )
    )
    return LumpSumPosition(
        amount=amount,
        days_in_force=(end - start).days,
        quota=quota,
        carried_in=carried_in if mode.underuse is Underuse.CARRY_FORWARD else 0,
        pieces=pieces,
        overage_pieces=overage_pieces,
        overage_amount=Money(overage_amount, engine.currency),
        payable=payable,
        refund=amount - payable,
        carried_out=carried_out,
        underuse=mode.underuse,
    )


def _evolve_overage(line: StatementLine, quote: FeeBreakdown) -> StatementLine:
    return StatementLine(
        waybill=line.waybill,
        shipment_id=line.shipment_id,
        kind=LineKind.OVERAGE,
        center=line.center,
        business_line=line.business_line,
        zone=line.zone,
        destination=line.destination,
        weight_g=line.weight_g,
        day=line.day,
        amount=quote.amount,
        breakdown=quote,
    )


def _statement(
    engine: _Engine,
    lines: list[StatementLine],
    lump: LumpSumPosition | None,
    before: Money,
) -> SettlementStatement:
    agreement, period, currency = engine.agreement, engine.period, engine.currency
    total = Decimal(0)
    # (center, id(business line), id(zone)) -> [pieces, amount]; the three subtotals are read
    # from these few hundred groups instead of three dictionary updates per line.
    groups: dict[tuple[str | None, int, int], list[Any]] = {}
    members: dict[int, Any] = {}
    lump_line: StatementLine | None = None
    digest = hashlib.sha256()
    digest.update(_agreement_fingerprint(agreement))
    digest.update(str(period).encode())
    chunk: list[str] = []
    append = chunk.append
    piece_kinds = {id(kind) for kind in LineKind if kind.is_piece}
    lump_kind = LineKind.LUMP_SUM
    days: dict[date, str] = {}
    for line in lines:
        amount = line.amount.amount
        total += amount
        kind = line.kind
        day = days.get(line.day) or days.setdefault(line.day, line.day.isoformat())
        if len(chunk) >= 4096:
            digest.update("".join(chunk).encode())
            chunk.clear()
        if kind is lump_kind:
            append(f"lump_sum|{day}|{amount}\n")
            lump_line = line
            continue
        business_line, zone = line.business_line, line.zone
        # Everything the line says goes into the id: two statements that differ in any line
        # (even only in its center or destination) never share a statement_id.
        append(
            f"{line.waybill}|{line.shipment_id}|{kind._value_}|{line.center}|"
            f"{business_line and business_line._value_}|{zone and zone._value_}|"
            f"{line.destination}|{day}|"
            f"{line.weight_g}|{amount}\n"
        )
        key = (line.center, id(business_line), id(zone))
        entry = groups.get(key)
        if entry is None:
            members[id(business_line)], members[id(zone)] = business_line, zone
            groups[key] = entry = [0, Decimal(0)]
        if id(kind) in piece_kinds:
            entry[0] += 1
        entry[1] += amount
    digest.update("".join(chunk).encode())
    dims: tuple[dict[str, list[Any]], ...] = ({}, {}, {})
    pieces = 0
    for (center, line_id, zone_id), (count, amount) in groups.items():
        pieces += count
        names = (center or "", members[line_id].value, members[zone_id].value)
        for dim, name in zip(dims, names, strict=True):
            entry = dim.setdefault(name, [0, Decimal(0)])
            entry[0] += count
            entry[1] += amount
    orders = (_by_code, _by_member(BusinessLine), _by_member(Zone))
    if lump_line is not None:
        for dim, order in zip(dims, orders, strict=True):
            _attribute_lump(dim, lump_line.amount, currency, order)
    if lump is not None:
        digest.update(repr(lump).encode())
    total_money = Money(total, currency)
    budget = _budget(agreement, period, before, total_money)
    if budget is not None:
        digest.update(f"budget|{budget.settled_before}".encode())
    subtotals = [
        tuple(
            Subtotal(key=key, pieces=dim[key][0], amount=Money(dim[key][1], currency))
            for key in order(dim)
        )
        for dim, order in zip(dims, orders, strict=True)
    ]
    return SettlementStatement(
        statement_id=f"{agreement.id}-{period}-{digest.hexdigest()[:16]}",
        agreement_id=agreement.id,
        agreement_reference=agreement.reference,
        carrier=agreement.carrier,
        period=period,
        mode="per_piece" if lump is None else "lump_sum",
        currency=currency,
        lines=tuple(lines),
        pieces=pieces,
        total=total_money,
        by_center=subtotals[0],
        by_business_line=subtotals[1],
        by_zone=subtotals[2],
        lump_sum=lump,
        budget=budget,
        excluded=Exclusions(**engine.counts),
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
    dim: dict[str, list[Any]],
    amount: Money,
    currency: str,
    order: Callable[[Mapping[str, Any]], list[str]],
) -> None:
    """Attribute the lump sum to the keys of one dimension by pieces (or to ``"*"``), ties
    going to the key listed first."""
    keys = order(dim)
    weights = [dim[k][0] for k in keys]
    if not any(weights):
        entry = dim.setdefault("*", [0, Decimal(0)])
        entry[1] += amount.amount
        return
    for key, share in zip(keys, allocate(amount, weights), strict=True):
        dim[key][1] += share.amount


def _agreement_fingerprint(agreement: FeeAgreement) -> bytes:
    from govpost.serialization import to_json

    return hashlib.sha256(to_json(agreement).encode()).digest()


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
