"""Settlement totals where the data lives: one SQL aggregate equal to ``settle`` (private).

:func:`aggregate` gives, for one agreement and period, what :func:`~govpost.settlement.settle`
puts in a statement's ``pieces``, ``total``, ``by_center``, ``by_business_line`` and
``by_zone`` — and its lump-sum and budget positions — to the fen, without reading a shipment
into Python. Each side does what it does well:

1. the database lists the distinct (origin, destination) pairs of the rows that bill
   something; the library zones them (:func:`~govpost.regions.zone_between`) into a temporary
   table;
2. the database lists the distinct fee keys of those rows — the rate in force on the day, the
   zone, the number of steps (续重) of the weight and, where the piece is charged them, its
   declared value and return receipt; the library prices each key exactly as the engine does
   (:meth:`Rate.quote <govpost.ratecards.Rate.quote>`: one half-up rounding per line) into a
   temporary table of integer fen;
3. one aggregate query joins the pieces with both tables and sums them and their fen per
   (center, business line, zone); the returns of the period (return legs or credits) are a
   second, small query of the same shape, found by their own index. The library turns these
   few groups into subtotals with the engine's own rules (agent fees per piece,
   :func:`~govpost.money.allocate` attributing a lump sum by pieces).

A lump sum's overage — the pieces picked up latest, by instant, then by waybill — is one more
query (``ORDER BY … LIMIT k``), run once the number of pieces has fixed ``k``; whether two rows
share a waybill (one's order id is the other's tracking number: ``settle`` refuses that) is a
small query of its own. Business dates are never computed in SQL: every instant is compared
with the UTC instant of a midnight in Asia/Shanghai, computed by the library (exact in every
year, daylight-saving years included). A temporary table's name is new on each call, and the
tables are dropped before it returns.

What is read is what :meth:`Shipments.settlement_rows
<govpost.store._tracking.Shipments.settlement_rows>` streams to ``settle``: the shipments of
the agreement's centers picked up or returned in the period.
"""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import date, datetime, time
from typing import Any

import attrs
import sqlalchemy as sa

from govpost._fields import short
from govpost.agreements import FeeAgreement, LumpSum, PerPiece, ReturnPolicy, WeightTariff
from govpost.errors import GovpostError, SettlementError, StoreError, ValidationError
from govpost.money import Money
from govpost.periods import SHANGHAI, Period
from govpost.ratecards import RateCard
from govpost.regions import zone_between
from govpost.settlement import (
    BudgetPosition,
    LumpSumPosition,
    SettlementStatement,
    Subtotal,
)
from govpost.settlement._billable import BUSINESS_LINES, ZONES
from govpost.settlement._engine import _budget, _group_table, _previous, _subtotals, window
from govpost.settlement._lumpsum import lump_position
from govpost.store import _schema as t
from govpost.store._base import Source

__all__ = ["AggregateTotals", "aggregate"]

#: Rows inserted per statement into a temporary table.
_BATCH = 5_000
_ZONE_KEYS = {zone: key for key, zone in enumerate(ZONES)}
#: A line's group: 1 + center × width + business line × 3 + zone (as the engine numbers them).
_WIDTH = len(BUSINESS_LINES) * 3
_LINE_BASES = {line.value: index * 3 for index, line in enumerate(BUSINESS_LINES)}


@attrs.frozen(kw_only=True)
class AggregateTotals:
    """A statement's totals and subtotals, computed by the database (:meth:`Store.aggregate
    <govpost.store.Repositories.aggregate>`).

    Each field is the field of the same name of the
    :class:`~govpost.settlement.SettlementStatement` that
    :func:`~govpost.settlement.settle` gives on the same data, to the fen.

    Attributes:
        agreement_id: the agreement settled.
        period: the period settled.
        currency: the currency of every amount.
        pieces: pieces picked up in the period under the agreement.
        total: what the statement's lines add up to.
        by_center: subtotals per center code, in code order (``"*"``, a lump sum without
            pieces, last).
        by_business_line: subtotals per business line, in the order of
            :class:`~govpost.centers.BusinessLine`.
        by_zone: subtotals per zone, near to far.
        lump_sum: how the lump sum was settled (lump-sum agreements), else ``None``.
        budget: the budget position (agreements with a budget), else ``None``.

    >>> from govpost.settlement import Period
    >>> totals = AggregateTotals(
    ...     agreement_id="GZ-EMS", period=Period.month(2018, 6), currency="CNY", pieces=0,
    ...     total=Money("0.00"), by_center=(), by_business_line=(), by_zone=(),
    ... )
    >>> totals.total
    Money('0.00', 'CNY')

    .. versionadded:: 0.2.0
    """

    agreement_id: str
    period: Period
    currency: str
    pieces: int
    total: Money
    by_center: tuple[Subtotal, ...]
    by_business_line: tuple[Subtotal, ...]
    by_zone: tuple[Subtotal, ...]
    lump_sum: LumpSumPosition | None = None
    budget: BudgetPosition | None = None

    @classmethod
    def of(cls, statement: SettlementStatement) -> AggregateTotals:
        """The totals of ``statement``: what :meth:`Store.aggregate
        <govpost.store.Repositories.aggregate>` gives on the same data.

        Raises:
            ValidationError: ``statement`` is not a
                :class:`~govpost.settlement.SettlementStatement`.
        """
        if not isinstance(statement, SettlementStatement):
            raise ValidationError(
                f"AggregateTotals.of takes a SettlementStatement, not {type(statement).__name__}"
            )
        return cls(
            agreement_id=statement.agreement_id,
            period=statement.period,
            currency=statement.currency,
            pieces=statement.pieces,
            total=statement.total,
            by_center=statement.by_center,
            by_business_line=statement.by_business_line,
            by_zone=statement.by_zone,
            lump_sum=statement.lump_sum,
            budget=statement.budget,
        )

    def differences(self, statement: SettlementStatement) -> tuple[str, ...]:
        """The names of the fields in which these totals and ``statement`` differ; empty when
        they agree to the fen.

        Raises:
            ValidationError: ``statement`` is not a
                :class:`~govpost.settlement.SettlementStatement`.
        """
        theirs = AggregateTotals.of(statement)
        return tuple(
            field.name
            for field in attrs.fields(AggregateTotals)
            if getattr(self, field.name) != getattr(theirs, field.name)
        )

    def matches(self, statement: SettlementStatement) -> bool:
        """Whether ``statement`` has these totals, to the fen (see :meth:`differences`)."""
        return not self.differences(statement)


def _midnight(day: date) -> datetime:
    """The instant a business date begins (midnight in Asia/Shanghai)."""
    return datetime.combine(day, time(), SHANGHAI)


def _window(agreement: FeeAgreement, period: Period) -> tuple[date, date]:
    """The days ``[start, end)`` of ``period`` the agreement is in force: ``settle``'s checks."""
    return window(agreement, period)


class _Temporary:
    """The temporary tables of one aggregate, on its connection; dropped when it ends."""

    def __init__(self, connection: sa.Connection, dialect: str) -> None:
        self.connection = connection
        self.dialect = dialect
        self.tag = uuid.uuid4().hex[:12]
        self.tables: list[sa.Table] = []

    def table(
        self, name: str, *columns: sa.Column[Any], rows: Sequence[dict[str, Any]]
    ) -> sa.Table:
        """A new temporary table holding ``rows``."""
        table = sa.Table(
            f"gp_{name}_{self.tag}",
            sa.MetaData(),
            *columns,
            prefixes=["TEMPORARY"],
            # Codes compare with the shipments' columns: the same binary collation.
            mysql_charset="utf8mb4",
            mysql_collate="utf8mb4_bin",
        )
        table.create(self.connection)
        self.tables.append(table)
        for begin in range(0, len(rows), _BATCH):
            self.connection.execute(sa.insert(table), list(rows[begin : begin + _BATCH]))
        if self.dialect == "postgresql":
            # Autovacuum never analyses temporary tables: give the planner their sizes.
            self.connection.exec_driver_sql(f"ANALYZE {table.name}")
        return table

    def drop(self) -> None:
        # DROP TABLE commits the transaction on MySQL/MariaDB; DROP TEMPORARY TABLE does not.
        verb = "DROP TEMPORARY TABLE" if self.dialect == "mysql" else "DROP TABLE"
        while self.tables:
            self.connection.exec_driver_sql(f"{verb} {self.tables.pop().name}")


class _Prices:
    """The fen of fee keys under one rate card, priced as the engine prices them: one quote per
    rate, zone, number of steps and surcharges, rounded half-up once.

    A weight enters a key as its number of steps (续重) under each *shape* — a first weight and
    a step in grams — that a zone of a rate of the card uses: the database counts them
    (:meth:`steps`), so that a key stands for every weight priced alike.
    """

    def __init__(self, card: RateCard, discount: Any, agreement: FeeAgreement) -> None:
        self.card, self.discount, self.agreement = card, discount, agreement
        shapes = sorted(
            {
                (step.first_g, step.step_g)
                for rate in card.rates
                if isinstance(rate.tariff, WeightTariff)
                for step in rate.tariff.zones
            }
        )
        self.shapes = {shape: index for index, shape in enumerate(shapes)}
        self.memo: dict[tuple[int, int, int, str, bool], int] = {}

    def steps(self, weight: sa.ColumnElement[int], dialect: str) -> list[sa.ColumnElement[int]]:
        """The steps of ``weight`` under each shape: ``ceil((weight - first) / step)``, at
        least 0 (the formula of :meth:`ZoneStep.steps <govpost.tariffs.ZoneStep.steps>`), in
        integer arithmetic."""
        columns: list[sa.ColumnElement[int]] = []
        for first, step in self.shapes:
            over = weight - (first - step + 1)  # ceil(x / step) == (x + step - 1) div step
            # MySQL's / is exact division; DIV (as tight as /) is the integer one.
            divided = over.op("DIV", precedence=8)(step) if dialect == "mysql" else over // step
            columns.append(sa.case((weight > first, divided), else_=0))
        return columns

    def fen(
        self, rate_key: int, zone_key: int, steps: Sequence[int], declared: str, receipt: bool
    ) -> int:
        """The amount in fen of a piece of this key: the rate (index into the card), zone,
        steps under each shape, declared value as the store keeps it (``""``: none), return
        receipt."""
        card = self.card
        zone = ZONES[zone_key]
        if not 0 <= rate_key < len(card.rates):
            first, last = card.rates[0], card.rates[-1]
            until = "open-ended" if last.valid_until is None else f"until {last.valid_until}"
            raise SettlementError(
                f"cannot price a piece of agreement {self.agreement.id}: it falls on a day no "
                f"rate of rate card {card.name!r} covers (from {first.valid_from}, {until}): "
                f"add a rate for that day to the card"
            )
        rate = card.rates[rate_key]
        what = f"{zone.label} ({zone.value}) pieces under rate {rate.reference!r}"
        count, weight = 0, 1
        if isinstance(rate.tariff, WeightTariff):
            try:
                step = rate.tariff.for_zone(zone)
            except ValidationError as exc:
                raise SettlementError(f"cannot price {what}: {exc}") from exc
            count = steps[self.shapes[(step.first_g, step.step_g)]]
            # The lightest weight of that many steps: it prices every weight of the key.
            weight = 1 if count == 0 else step.first_g + (count - 1) * step.step_g + 1
            if step.steps(weight) != count:  # pragma: no cover - the SQL is the formula
                raise StoreError(f"the database counted {count} steps of {what}: a bug")
        key = (rate_key, zone_key, count, declared, receipt)
        found = self.memo.get(key)
        if found is None:
            try:
                value = Money(*declared.split(" ")) if declared else None
                quote = rate.quote(
                    zone=zone,
                    weight_g=weight,
                    declared_value=value,
                    return_receipt=receipt,
                    discount=self.discount,
                )
            except GovpostError as exc:
                raise type(exc)(f"cannot price {what}: {exc}") from exc
            found = self.memo[key] = quote.amount.fen
        return found


def _rate_of(instant: sa.ColumnElement[datetime], card: RateCard) -> sa.ColumnElement[int]:
    """The index of the rate of ``card`` in force on the business date of ``instant``; -1
    where none is (the rates are contiguous: each ends where the next begins)."""
    rates = card.rates
    whens: list[tuple[sa.ColumnElement[bool], int]] = [
        (instant < _midnight(rates[0].valid_from), -1)
    ]
    whens += [
        (instant < _midnight(rate.valid_until), index)
        for index, rate in enumerate(rates)
        if rate.valid_until is not None
    ]
    return sa.case(*whens, else_=-1 if rates[-1].valid_until is not None else len(rates) - 1)


#: A fee key of the rows of a table, all but the zone: the rate, the steps under each shape,
#: and maybe the declared value and return receipt.
Key = Callable[[sa.FromClause], list[sa.ColumnElement[Any]]]
Group = tuple[str, str, int]


class _Fees:
    """A temporary table of fee keys and their fen, how a row finds its key, and why the keys
    missing from it could not be priced."""

    def __init__(
        self, table: sa.Table, key: Key, failures: dict[tuple[Any, ...], GovpostError]
    ) -> None:
        self.table, self.key, self.failures = table, key, failures

    def on(self, s: sa.FromClause, routes: sa.Table) -> sa.ColumnElement[bool]:
        """The join condition of the rows of ``s`` (joined with ``routes``) to their key."""
        columns = [column for column in self.table.c if column.name not in ("zone", "fen")]
        return sa.and_(
            self.table.c.zone == routes.c.zone,
            *(column == value for column, value in zip(columns, self.key(s), strict=True)),
        )

    def full_key(self, s: sa.FromClause, routes: sa.Table) -> list[sa.ColumnElement[Any]]:
        """The key of the rows of ``s`` in the table's column order, zone included."""
        key = self.key(s)
        return [key[0], routes.c.zone, *key[1:]]


class _Aggregate:
    """The queries of one agreement and period, on one connection."""

    def __init__(
        self,
        connection: sa.Connection,
        dialect: str,
        agreement: FeeAgreement,
        start: date,
        end: date,
    ) -> None:
        self.connection = connection
        self.dialect = dialect
        self.temporary = _Temporary(connection, dialect)
        self.agreement = agreement
        mode = agreement.mode
        self.lump = isinstance(mode, LumpSum)
        self.card: RateCard | None
        discount: Any
        if isinstance(mode, PerPiece):
            self.card, discount = mode.tariff, mode.discount
        else:  # beyond the quota only postage is charged, by the overage tariff
            self.card, discount = mode.overage, mode.overage_discount
        self.prices = None if self.card is None else _Prices(self.card, discount, agreement)
        policy = agreement.return_policy
        self.bills_returns = not self.lump and policy is not ReturnPolicy.NO_CHARGE
        self.credit = policy is ReturnPolicy.REFUND_ORIGINAL
        self.start, self.end = _midnight(start), _midnight(end)
        self.valid_from = _midnight(agreement.valid_from)
        self.valid_until = (
            None if agreement.valid_until is None else _midnight(agreement.valid_until)
        )
        self.billed_pieces: sa.Table | None = None
        self.billed_returns: sa.Table | None = None
        self._routes: sa.Table | None = None

    # --- which rows bill what ----------------------------------------------------------------

    @staticmethod
    def waybill(s: sa.FromClause) -> sa.ColumnElement[str]:
        """The key a row is billed under: its tracking number, else its order id."""
        return sa.func.coalesce(s.c.tracking_number, s.c.shipment_id)

    def covered(self, s: sa.FromClause) -> list[sa.ColumnElement[bool]]:
        """The rows of the agreement's centers, of a business line and direction it covers."""
        pairs = [
            sa.and_(
                s.c.business_line == cover.business_line.value,
                s.c.direction == cover.direction.value,
            )
            for cover in self.agreement.covers
        ]
        return [s.c.center.in_(sorted(self.agreement.centers)), sa.or_(*pairs)]

    def piece(self, s: sa.FromClause, *, billed: bool = True) -> sa.ColumnElement[bool]:
        """A row that bills a piece: picked up on a day in force, not billed before (unless
        ``billed`` is false: whether it was is then left to the caller)."""
        terms = [s.c.picked_up_at >= self.start, s.c.picked_up_at < self.end]
        if billed and self.billed_pieces is not None:
            terms.append(self.waybill(s).not_in(sa.select(self.billed_pieces.c.waybill)))
        return sa.and_(*terms)

    def back(self, s: sa.FromClause, *, billed: bool = True) -> sa.ColumnElement[bool]:
        """A row that bills its return (a return leg or a credit): returned on a day in force,
        picked up on a day the agreement was in force, its return not billed before (unless
        ``billed`` is false)."""
        if not self.bills_returns:
            return sa.false()
        terms = [
            s.c.returned_at >= self.start,
            s.c.returned_at < self.end,
            s.c.picked_up_at >= self.valid_from,
        ]
        if self.valid_until is not None:
            terms.append(s.c.picked_up_at < self.valid_until)
        if billed and self.billed_returns is not None:
            terms.append(self.waybill(s).not_in(sa.select(self.billed_returns.c.waybill)))
        return sa.and_(*terms)

    @property
    def routes(self) -> sa.Table:
        assert self._routes is not None  # zone_routes comes first
        return self._routes

    def routed(self, s: sa.FromClause) -> sa.Join:
        """``s`` joined with the zone of its route."""
        r = self.routes
        return s.join(r, sa.and_(r.c.origin == s.c.origin, r.c.destination == s.c.destination))

    # --- the steps ---------------------------------------------------------------------------

    def run(
        self,
        period: Period,
        start: date,
        end: date,
        carried_in: int,
        billed_pieces: frozenset[str],
        billed_returns: frozenset[str],
    ) -> tuple[dict[int, list[int]], LumpSumPosition | None]:
        """The lines' pieces and fen per group (as the engine numbers groups) and the lump
        sum's position."""
        self.billed_pieces = self.billed("billed_pieces", billed_pieces)
        if self.bills_returns:
            self.billed_returns = self.billed("billed_returns", billed_returns)
        self.refuse_shared_waybills()
        self.zone_routes()
        lump: LumpSumPosition | None = None
        if self.lump:
            groups, lump = self.lump_sum(period, start, end, carried_in)
        else:
            groups = self.per_piece()
        fee = self.agreement.agent_fee
        fee_fen = 0 if fee is None else fee.amount_per_piece.fen
        bases = {code: 1 + k * _WIDTH for k, code in enumerate(sorted(self.agreement.centers))}
        return {
            bases[center] + _LINE_BASES[line] + zone: [pieces, fen + fee_fen * pieces]
            for (center, line, zone), (pieces, fen) in groups.items()
        }, lump

    def billed(self, name: str, waybills: frozenset[str]) -> sa.Table | None:
        """A temporary table of the waybills earlier statements billed (``None``: none)."""
        if not waybills:
            return None
        return self.temporary.table(
            name,
            sa.Column("waybill", sa.String(64), primary_key=True),
            rows=[{"waybill": waybill} for waybill in sorted(waybills)],
        )

    def refuse_shared_waybills(self) -> None:
        """Refuse two rows billed under one waybill for the same event, as ``settle`` does.

        A row without a tracking number is billed under its order id, which may be another
        row's tracking number; the store's keys keep every other pair of rows apart.
        """
        a, b = t.shipments.alias("a"), t.shipments.alias("b")
        # Both rows share the waybill, and so what was billed before under it: each table of
        # billed waybills is read once (MySQL reads a temporary table once per statement).
        query = (
            sa.select(a.c.shipment_id, b.c.shipment_id)
            .select_from(a.join(b, b.c.tracking_number == a.c.shipment_id))
            .where(
                a.c.tracking_number.is_(None),
                *self.covered(a),
                *self.covered(b),
                sa.or_(
                    sa.and_(self.piece(a), self.piece(b, billed=False)),
                    sa.and_(self.back(a), self.back(b, billed=False)),
                ),
            )
            .limit(1)
        )
        found = self.connection.execute(query).first()
        if found is not None:
            first, second = sorted(found)
            raise SettlementError(
                f"waybill {found[0]} appears twice with different data (shipments {first} and "
                f"{second}): a waybill is billed once; fix the duplicate record"
            )

    def zone_routes(self) -> None:
        """The temporary table of the zone of each (origin, destination) of the rows that bill
        something, zoned by the library."""
        s = t.shipments
        pairs = self.connection.execute(
            sa.select(s.c.origin, s.c.destination)
            .where(*self.covered(s), sa.or_(self.piece(s), self.back(s)))
            .distinct()
        ).all()
        rows = []
        for origin, destination in pairs:
            try:
                zone = zone_between(origin, destination)
            except ValidationError as exc:
                raise ValidationError(
                    f"cannot settle the shipments from {short(origin)} to {short(destination)} "
                    f"under agreement {self.agreement.id}: {exc}"
                ) from exc
            rows.append({"origin": origin, "destination": destination, "zone": _ZONE_KEYS[zone]})
        self._routes = self.temporary.table(
            "routes",
            sa.Column("origin", sa.String(6), primary_key=True),
            sa.Column("destination", sa.String(6), primary_key=True),
            sa.Column("zone", sa.SmallInteger, nullable=False),
            rows=rows,
        )

    def piece_key(self, s: sa.FromClause) -> list[sa.ColumnElement[Any]]:
        """A piece's fee key, surcharges included — the key of its credit too: the rate in
        force on its pickup day, steps, declared value, return receipt (and its zone)."""
        prices = self.prices
        assert prices is not None
        return [
            _rate_of(s.c.picked_up_at, prices.card),
            *prices.steps(s.c.weight_g, self.dialect),
            sa.func.coalesce(s.c.declared_value, ""),
            s.c.return_receipt,
        ]

    def postage_key(self, instant: str) -> Key:
        """The fee key of postage only — a return leg, a lump sum's overage — at the rate in
        force on the day of the column ``instant``."""

        def key(s: sa.FromClause) -> list[sa.ColumnElement[Any]]:
            prices = self.prices
            assert prices is not None
            return [_rate_of(s.c[instant], prices.card), *prices.steps(s.c.weight_g, self.dialect)]

        return key

    def fees(
        self, name: str, key: Key, where: sa.ColumnElement[bool], *, surcharges: bool = False
    ) -> _Fees:
        """The fen of each distinct fee key of the rows ``where`` selects, in every zone,
        priced by the library, in a temporary table; ``surcharges``: the key ends with the
        declared value and the return receipt (:meth:`piece_key`).

        The keys are listed without their zone — one scan of the rows, no join — and priced
        in each zone. A zone the tariff cannot price (or a day no rate covers) is kept out of
        the table with its error, which is raised only if a row needs that key
        (:meth:`lines`), as ``settle`` raises it only for a piece it bills.
        """
        assert self.prices is not None
        s = t.shipments
        found = self.connection.execute(
            sa.select(*key(s)).where(*self.covered(s), where).distinct()
        ).all()
        shapes = len(self.prices.shapes)
        fen = self.prices.fen
        columns: list[sa.Column[Any]] = [
            sa.Column("rate", sa.SmallInteger, primary_key=True),
            sa.Column("zone", sa.SmallInteger, primary_key=True),
            *(sa.Column(f"steps_{j}", sa.Integer, primary_key=True) for j in range(shapes)),
        ]
        if surcharges:
            columns += [
                sa.Column("declared", sa.String(60), primary_key=True),
                sa.Column("receipt", sa.Boolean, primary_key=True),
            ]
        names = [column.name for column in columns]
        rows: list[dict[str, Any]] = []
        failures: dict[tuple[Any, ...], GovpostError] = {}
        for listed in found:
            rate = int(listed[0])
            steps = [int(value) for value in listed[1 : 1 + shapes]]
            declared, receipt = (str(listed[-2]), bool(listed[-1])) if surcharges else ("", False)
            for zone in range(len(ZONES)):
                values = (rate, zone, *steps, *((declared, receipt) if surcharges else ()))
                try:
                    amount = fen(rate, zone, steps, declared, receipt)
                except GovpostError as error:
                    failures[values] = error
                    continue
                rows.append({**dict(zip(names, values, strict=True)), "fen": amount})
        columns.append(sa.Column("fen", t.Fen, nullable=False))
        return _Fees(self.temporary.table(name, *columns, rows=rows), key, failures)

    def refuse_unpriced(self, where: sa.ColumnElement[bool], fees: _Fees) -> None:
        """Raise why a row ``where`` selects has no price: the error its key met."""
        s, r = t.shipments, self.routes
        found = self.connection.execute(
            sa.select(*fees.full_key(s, r))
            .select_from(self.routed(s).outerjoin(fees.table, fees.on(s, r)))
            .where(*self.covered(s), where, fees.table.c.fen.is_(None))
            .limit(1)
        ).first()
        if found is not None:
            # As the database returns them: the receipt may be 0/1, the other columns ints.
            kinds = [column.name for column in fees.table.c if column.name != "fen"]
            values = tuple(
                bool(value) if kind == "receipt" else value if kind == "declared" else int(value)
                for kind, value in zip(kinds, found, strict=True)
            )
            error = fees.failures.get(values)
            if error is not None:
                raise error
        _check_priced(1)

    def lines(
        self,
        where: sa.ColumnElement[bool],
        fees: _Fees | None,
        groups: dict[Group, list[int]],
        *,
        pieces: bool,
        sign: int = 1,
    ) -> None:
        """Add to ``groups`` the lines of the rows ``where`` selects, per (center, business
        line, zone): ``pieces`` (whether they are pieces) and ``sign`` × their fen (by
        ``fees``; none: zero)."""
        s, r = t.shipments, self.routes
        source: sa.FromClause = self.routed(s)
        amounts: list[sa.ColumnElement[Any]] = [sa.literal(0), sa.func.count()]
        if fees is not None:
            source = source.outerjoin(fees.table, fees.on(s, r))
            fen = fees.table.c.fen
            amounts = [sa.func.coalesce(sa.func.sum(fen), 0), sa.func.count(fen)]
        query = (
            sa.select(s.c.center, s.c.business_line, r.c.zone, sa.func.count(), *amounts)
            .select_from(source)
            .where(*self.covered(s), where)
            .group_by(s.c.center, s.c.business_line, r.c.zone)
        )
        unpriced = 0
        for center, line, zone, count, fen_sum, priced in self.connection.execute(query):
            entry = groups.setdefault((center, line, int(zone)), [0, 0])
            entry[0] += int(count) if pieces else 0
            entry[1] += sign * int(fen_sum)
            unpriced += int(count) - int(priced)
        if unpriced and fees is not None:
            self.refuse_unpriced(where, fees)

    def per_piece(self) -> dict[Group, list[int]]:
        """Per (center, business line, zone): pieces, and the fen of their charges and of the
        return legs or credits (agent fees aside)."""
        s = t.shipments
        piece, back = self.piece(s), self.back(s)
        charged = self.fees(
            "piece_fees",
            self.piece_key,
            sa.or_(piece, back) if self.credit else piece,
            surcharges=True,
        )
        groups: dict[Group, list[int]] = {}
        self.lines(piece, charged, groups, pieces=True)
        if self.bills_returns:
            # A second small query: the returns of the period, found by their own index.
            if self.credit:  # a credit negates its charge: the same key, the same fen
                self.lines(back, charged, groups, pieces=False, sign=-1)
            else:
                legs = self.fees("return_fees", self.postage_key("returned_at"), back)
                self.lines(back, legs, groups, pieces=False)
        return groups

    def lump_sum(
        self, period: Period, start: date, end: date, carried_in: int
    ) -> tuple[dict[Group, list[int]], LumpSumPosition]:
        """Per (center, business line, zone): pieces and the fen of those over the quota;
        and the lump sum's position."""
        mode = self.agreement.mode
        assert isinstance(mode, LumpSum)
        piece = self.piece(t.shipments)
        # Every piece is priced by the overage tariff when there is one, as settle prices
        # them: a day or zone it cannot price is refused whether or not the piece is over.
        overage_fees = (
            None
            if self.card is None
            else self.fees("overage_fees", self.postage_key("picked_up_at"), piece)
        )
        groups: dict[Group, list[int]] = {}
        self.lines(piece, overage_fees, groups, pieces=True, sign=0)

        def overage(k: int) -> tuple[bytearray, int]:
            assert overage_fees is not None
            found = self.overage(k, overage_fees)
            for group, fen in found.items():
                groups[group][1] += fen
            return bytearray(), sum(found.values())

        lump, _ = lump_position(
            mode,
            period,
            start,
            end,
            sum(entry[0] for entry in groups.values()),
            carried_in,
            None if overage_fees is None else overage,
            self.agreement.currency,
        )
        return groups, lump

    def overage(self, k: int, fees: _Fees) -> dict[Group, int]:
        """The fen of the ``k`` pieces picked up latest — by instant, then by waybill — per
        (center, business line, zone)."""
        s = t.shipments
        waybill = self.waybill(s)
        if self.dialect == "postgresql":
            waybill = sa.collate(waybill, "C")  # the order of Python's str, whatever the locale
        latest = (
            sa.select(
                s.c.center,
                s.c.business_line,
                s.c.origin,
                s.c.destination,
                s.c.weight_g,
                s.c.picked_up_at,
            )
            .where(*self.covered(s), self.piece(s))
            .order_by(s.c.picked_up_at.desc(), waybill.desc())
            .limit(k)
            .subquery("latest")
        )
        r = self.routes
        fen = fees.table.c.fen
        query = (
            sa.select(
                latest.c.center,
                latest.c.business_line,
                r.c.zone,
                sa.func.count(),
                sa.func.coalesce(sa.func.sum(fen), 0),
                sa.func.count(fen),
            )
            .select_from(self.routed(latest).outerjoin(fees.table, fees.on(latest, r)))
            .group_by(latest.c.center, latest.c.business_line, r.c.zone)
        )
        found: dict[Group, int] = {}
        unpriced = 0
        for center, line, zone, count, fen_sum, priced in self.connection.execute(query):
            unpriced += int(count) - int(priced)
            found[(center, line, int(zone))] = int(fen_sum)
        _check_priced(unpriced)
        return found


def _check_priced(unpriced: int) -> None:
    if unpriced:  # pragma: no cover - every key billed was priced: a bug, never input
        raise StoreError(
            f"the aggregate found {unpriced} lines without a price: settle from the store "
            f"instead (settle(agreement, store.shipments.settlement_rows(centers, period), "
            f"period)) and report this"
        )


def aggregate(
    source: Source,
    agreement: FeeAgreement,
    period: Period,
    *,
    previous: Iterable[SettlementStatement] = (),
) -> AggregateTotals:
    """The totals ``settle`` gives for ``agreement`` and ``period`` on the shipments of the
    store, computed by the database (see the module and :meth:`Repositories.aggregate
    <govpost.store.Repositories.aggregate>`)."""
    start, end = _window(agreement, period)
    if not isinstance(previous, Iterable) or isinstance(previous, str | bytes | Mapping):
        raise SettlementError(
            f"previous must be an iterable (a list, a generator) of SettlementStatement, not "
            f"{type(previous).__name__}"
        )
    before, carried_in, billed = _previous(agreement, period, previous)
    returns = (
        billed.credits
        if agreement.return_policy is ReturnPolicy.REFUND_ORIGINAL
        else billed.return_legs
    )
    operation = f"aggregate the totals of agreement {agreement.id} for {period}"
    with source.begin(operation) as connection:
        work = _Aggregate(connection, source.dialect, agreement, start, end)
        try:
            by_group, lump = work.run(period, start, end, carried_in, billed.pieces, returns)
        except BaseException:
            # After a database error PostgreSQL refuses every statement until the rollback,
            # which drops the tables anyway; elsewhere they are dropped here.
            with contextlib.suppress(sa.exc.SQLAlchemyError):
                work.temporary.drop()
            raise
        work.temporary.drop()
    currency = agreement.currency
    payable = None if lump is None else lump.payable.fen
    subtotals = _subtotals(by_group, _group_table(agreement.centers), payable, currency)
    total = Money.from_fen(sum(entry[1] for entry in by_group.values()) + (payable or 0), currency)
    return AggregateTotals(
        agreement_id=agreement.id,
        period=period,
        currency=currency,
        pieces=sum(entry[0] for entry in by_group.values()),
        total=total,
        by_center=subtotals[0],
        by_business_line=subtotals[1],
        by_zone=subtotals[2],
        lump_sum=lump,
        budget=_budget(agreement, period, before, total),
    )
