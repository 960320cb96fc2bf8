"""The settlement statement (private: use govpost.settlement; its documents are rendered by
govpost.settlement.documents).

A statement keeps its lines in columns (:class:`StatementLines`): integer fen, small integer keys
into short tables of the few distinct centers, business lines, zones, destinations and fee
breakdowns of a period, and the waybills as one string. A :class:`StatementLine` is built only
when one is read; totals, subtotals, CSV, tables and reconciliation read the columns.
"""

from __future__ import annotations

import enum
import operator
from array import array
from collections.abc import Hashable, Iterable, Iterator, Mapping, Sequence
from datetime import date
from decimal import Decimal
from itertools import compress, count, repeat
from typing import Any, overload

import attrs

from govpost._fields import coerce_enum
from govpost.agreements import FeeBreakdown, SurchargeKind, Underuse
from govpost.centers import BusinessLine
from govpost.errors import ValidationError
from govpost.money import Money, allocate
from govpost.periods import Period
from govpost.regions import Zone
from govpost.settlement._billable import KIND_KEYS, KINDS, Exclusions, LineKind, line_id
from govpost.settlement._columns import Text, int_column


class SettlementMode(enum.Enum):
    """How a statement settles: per piece (计件) or as a lump sum (包干).

    >>> SettlementMode.LUMP_SUM.label
    '包干'

    .. versionadded:: 0.2.0
    """

    PER_PIECE = "per_piece"  #: each piece one line (计件结算)
    LUMP_SUM = "lump_sum"  #: a lump sum per period covering a quota (包干结算)

    @property
    def label(self) -> str:
        """The Chinese name used on printed statements: 计件 or 包干."""
        return _MODE_LABELS[self]


_MODE_LABELS = {SettlementMode.PER_PIECE: "计件", SettlementMode.LUMP_SUM: "包干"}


def _mode(value: SettlementMode | str) -> SettlementMode:
    return coerce_enum(SettlementMode, value, "settlement mode")


def _explain(
    breakdown: FeeBreakdown | None, weight_g: int, refers_to: str | None, kind: LineKind
) -> str:
    if kind is LineKind.AGENT_FEE:
        return f"代办费 agent fee of {refers_to}"
    if breakdown is None:
        return ""
    text = breakdown.explain(weight_g)
    return f"冲销 credit of {refers_to}: -({text})" if refers_to else text


@attrs.frozen(kw_only=True)
class StatementLine:
    """One line of a statement.

    Attributes:
        waybill: the waybill key — the tracking number when the shipment has one, else its id;
            ``None`` for the lump-sum line.
        shipment_id: our order id (``None`` for the lump-sum line).
        kind: what the line is.
        center: the center code of the shipment.
        business_line: its line of cooperation.
        zone: the zone priced.
        destination: the GB/T 2260 code of the destination.
        weight_g: the weight priced, in grams (0 for the lump-sum and agent-fee lines).
        day: the business date of the event billed: pickup (an agent fee's is its piece's),
            or the return for return legs and credits, or the first day in force for the
            lump sum.
        amount: the amount, rounded once; negative only for credits and deducted agent fees.
        breakdown: how the amount was computed (``None`` for covered, lump-sum and agent-fee
            lines).
        refers_to: for a credit, the :attr:`line_id` of the line it negates; for an agent
            fee, the line of its piece.

    .. versionadded:: 0.1.0

    .. versionchanged:: 0.2.0
       Keyword-only: build it as ``StatementLine(waybill=..., kind=..., ...)``.
    """

    waybill: str | None
    shipment_id: str | None
    kind: LineKind
    center: str | None
    business_line: BusinessLine | None
    zone: Zone | None
    destination: str | None
    weight_g: int
    day: date
    amount: Money
    breakdown: FeeBreakdown | None = None
    refers_to: str | None = None

    @property
    def line_id(self) -> str:
        """``"<waybill>/<kind>"``, unique within a statement (``"lump_sum"`` for the lump sum)."""
        return line_id(self.waybill, self.kind)

    def explain(self) -> str:
        """How the amount was computed, in one line (empty for covered and lump-sum lines)."""
        return _explain(self.breakdown, self.weight_g, self.refers_to, self.kind)

    def surcharge(self, kind: SurchargeKind) -> Money:
        """The surcharge of one kind included in this line (negated on a credit)."""
        if self.breakdown is None:
            return Money.zero(self.amount.currency)
        amount = self.breakdown.surcharge(kind)
        return -amount if self.kind is LineKind.CREDIT else amount


# --- columns ----------------------------------------------------------------------------------------


def _same_keyed(
    table: Sequence[Hashable],
    keys: Sequence[int],
    other: Sequence[Hashable],
    other_keys: Sequence[int],
) -> bool:
    """Whether two keyed columns hold the same values, whatever keys their tables use."""
    if table == other and keys == other_keys:
        return True
    canonical: dict[Hashable, int] = {}
    mine = [canonical.setdefault(value, len(canonical)) for value in table]
    theirs = [canonical.setdefault(value, len(canonical)) for value in other]
    return list(map(mine.__getitem__, keys)) == list(map(theirs.__getitem__, other_keys))


Group = tuple[str | None, BusinessLine | None, Zone | None]


class StatementLines(Sequence[StatementLine]):
    """The lines of a :class:`SettlementStatement`, a read-only sequence kept in columns.

    It holds what a million lines say in a few dozen bytes each: the amount in integer fen,
    small keys into tables of the period's few distinct centers, business lines, zones,
    destinations and fee breakdowns, and the waybills as one string. Reading a line (by index,
    slice or iteration) builds its :class:`StatementLine`; nothing is kept, so iterating twice
    builds the lines twice. Two sequences are equal when their lines are, and a sequence equals
    a tuple or list of the same lines. An agent-fee line refers to the piece line right before
    it, as ``settle`` lays them out: that ``refers_to`` is derived (:func:`line_id` of the line
    before), not kept.

    >>> lines = StatementLines([StatementLine(
    ...     waybill="GP-1", shipment_id="GP-1", kind=LineKind.CHARGE, center="GZ-520100",
    ...     business_line=BusinessLine.LICENCE_DELIVERY, zone=Zone.SAME_CITY,
    ...     destination="520103", weight_g=300, day=date(2018, 6, 3), amount=Money("8.00"))])
    >>> len(lines), lines[0].line_id, lines[0].amount
    (1, 'GP-1/charge', Money('8.00', 'CNY'))

    Raises:
        ValidationError: built from something other than :class:`StatementLine` values, or
            lines whose amounts are not whole fen or not all in one currency.

    .. versionadded:: 0.2.0
    """

    __slots__ = (
        "_breakdown_keys",
        "_breakdowns",
        "_cache",
        "_currency",
        "_day0",
        "_days",
        "_destination_keys",
        "_destinations",
        "_fen",
        "_group_keys",
        "_groups",
        "_ids",
        "_kinds",
        "_refers",
        "_waybills",
        "_weights",
    )

    _waybills: Text
    _ids: Text | None
    _kinds: bytes
    _groups: tuple[Group, ...]
    _group_keys: array[int]
    _destinations: tuple[str | None, ...]
    _destination_keys: array[int]
    _weights: array[int]
    _day0: int
    _days: array[int]
    _currency: str
    _fen: array[int]
    _breakdowns: tuple[FeeBreakdown | None, ...]
    _breakdown_keys: array[int]
    _refers: dict[int, str | None]
    _cache: dict[str, Any]

    def __init__(self, lines: Iterable[StatementLine] = ()) -> None:
        items = list(lines)
        for index, line in enumerate(items):
            if not isinstance(line, StatementLine):
                raise ValidationError(
                    f"statement lines must be StatementLine values; item {index} is "
                    f"{type(line).__name__}"
                )
        try:
            self._read(items)
        except ValidationError:
            raise
        except (AttributeError, KeyError, OverflowError, TypeError, ValueError) as exc:
            raise ValidationError(
                f"statement lines hold a value their fields do not take ({exc}): build each "
                f"StatementLine with the types it declares (amount a Money, day a date, ...)"
            ) from exc

    def _read(self, items: list[StatementLine]) -> None:
        currencies = {line.amount.currency for line in items}
        if len(currencies) > 1:
            raise ValidationError(
                f"statement lines are in one currency, not {', '.join(sorted(currencies))}"
            )
        groups: dict[Group, int] = {}
        destinations: dict[str | None, int] = {}
        breakdowns: dict[FeeBreakdown | None, int] = {None: 0}
        days = [line.day.toordinal() for line in items]
        day0 = min(days, default=0)
        self._set(
            waybills=Text(
                [line.waybill or "" for line in items],
                frozenset(i for i, line in enumerate(items) if line.waybill is None),
            ),
            ids=Text(
                [line.shipment_id or "" for line in items],
                frozenset(i for i, line in enumerate(items) if line.shipment_id is None),
            ),
            kinds=bytes(KIND_KEYS[line.kind] for line in items),
            groups=groups,
            group_keys=int_column(
                [
                    groups.setdefault((line.center, line.business_line, line.zone), len(groups))
                    for line in items
                ]
            ),
            destinations=destinations,
            destination_keys=int_column(
                [destinations.setdefault(line.destination, len(destinations)) for line in items]
            ),
            weights=int_column([line.weight_g for line in items]),
            day0=day0,
            days=int_column([day - day0 for day in days]),
            currency=currencies.pop() if currencies else "CNY",
            fen=int_column(list(map(_fen, items, count()))),
            breakdowns=breakdowns,
            breakdown_keys=int_column(
                [breakdowns.setdefault(line.breakdown, len(breakdowns)) for line in items]
            ),
            refers=_kept_refers(items),
        )

    @classmethod
    def _of(cls, **columns: Any) -> StatementLines:
        """Lines from columns the engine has built (see :meth:`_set`)."""
        lines = cls.__new__(cls)
        lines._set(**columns)
        return lines

    def _set(
        self,
        *,
        waybills: Text,
        ids: Text | None,
        kinds: bytes,
        groups: Iterable[Group],
        group_keys: array[int],
        destinations: Iterable[str | None],
        destination_keys: array[int],
        weights: array[int],
        day0: int,
        days: array[int],
        currency: str,
        fen: array[int],
        breakdowns: Iterable[FeeBreakdown | None],
        breakdown_keys: array[int],
        refers: dict[int, str | None],
    ) -> None:
        n = len(waybills)
        columns = (ids, kinds, group_keys, destination_keys, weights, days, fen, breakdown_keys)
        if any(column is not None and len(column) != n for column in columns):
            raise ValidationError("statement columns differ in length")  # a bug, never input
        self._waybills = waybills
        # Shipment ids are the waybills unless the shipments had tracking numbers.
        self._ids = None if ids is None or ids == waybills else ids
        self._kinds = kinds
        self._groups = tuple(groups)
        self._group_keys = group_keys
        self._destinations = tuple(destinations)
        self._destination_keys = destination_keys
        self._weights = weights
        self._day0 = day0
        self._days = days
        self._currency = currency
        self._fen = fen
        self._breakdowns = tuple(breakdowns)
        self._breakdown_keys = breakdown_keys
        self._refers = refers
        self._cache = {}

    # -- the sequence ---------------------------------------------------------------------------

    def __len__(self) -> int:
        return len(self._kinds)

    @overload
    def __getitem__(self, index: int) -> StatementLine: ...

    @overload
    def __getitem__(self, index: slice) -> tuple[StatementLine, ...]: ...

    def __getitem__(self, index: int | slice) -> StatementLine | tuple[StatementLine, ...]:
        if isinstance(index, slice):
            return tuple(map(self._line, range(*index.indices(len(self)))))
        n = len(self)
        if not -n <= index < n:
            raise IndexError(f"statement line {index} out of range ({n} lines)")
        return self._line(index % n)

    def __iter__(self) -> Iterator[StatementLine]:
        return map(self._line, range(len(self)))

    def __eq__(self, other: object) -> bool:
        if isinstance(other, StatementLines):
            return self._same(other)
        if isinstance(other, tuple | list):
            return len(self) == len(other) and all(map(operator.eq, self, other))
        return NotImplemented

    def __hash__(self) -> int:
        return hash((len(self), self._waybills.text, self._kinds, sum(self._fen)))

    def __repr__(self) -> str:
        return f"<StatementLines: {len(self)} lines>"

    def _same(self, other: StatementLines) -> bool:
        if len(self) != len(other):
            return False
        if not len(self):
            return True
        mine_ids = self._waybills if self._ids is None else self._ids
        their_ids = other._waybills if other._ids is None else other._ids
        return (
            self._kinds == other._kinds
            and self._fen == other._fen
            and self._currency == other._currency
            and self._weights == other._weights
            and self._waybills == other._waybills
            and mine_ids == their_ids
            and self._refers == other._refers
            and (
                (self._day0 == other._day0 and self._days == other._days)
                or list(map(self._day0.__add__, self._days))
                == list(map(other._day0.__add__, other._days))
            )
            and _same_keyed(self._groups, self._group_keys, other._groups, other._group_keys)
            and _same_keyed(
                self._destinations,
                self._destination_keys,
                other._destinations,
                other._destination_keys,
            )
            and _same_keyed(
                self._breakdowns, self._breakdown_keys, other._breakdowns, other._breakdown_keys
            )
        )

    # -- reading the columns ---------------------------------------------------------------------

    def _money(self, fen: int) -> Money:
        amounts: dict[int, Money] = self._cache.setdefault("money", {})
        money = amounts.get(fen)
        if money is None:
            money = amounts[fen] = Money.from_fen(fen, self._currency)
        return money

    def _date(self, offset: int) -> date:
        days: dict[int, date] = self._cache.setdefault("days", {})
        day = days.get(offset)
        if day is None:
            day = days[offset] = date.fromordinal(self._day0 + offset)
        return day

    def _line(self, index: int) -> StatementLine:
        center, business_line, zone = self._groups[self._group_keys[index]]
        return StatementLine(
            waybill=self._waybills.get(index),
            shipment_id=(self._waybills if self._ids is None else self._ids).get(index),
            kind=KINDS[self._kinds[index]],
            center=center,
            business_line=business_line,
            zone=zone,
            destination=self._destinations[self._destination_keys[index]],
            weight_g=self._weights[index],
            day=self._date(self._days[index]),
            amount=self._money(self._fen[index]),
            breakdown=self._breakdowns[self._breakdown_keys[index]],
            refers_to=self._refers_to(index),
        )

    def _refers_to(self, index: int) -> str | None:
        """The ``refers_to`` of a line: kept, or for an agent-fee line, the line before it."""
        refers = self._refers
        if index in refers:
            return refers[index]
        if index and self._kinds[index] == _AGENT_FEE:
            return self._line_id(index - 1)
        return None

    def _kinds_of(self) -> Iterator[LineKind]:
        return map(KINDS.__getitem__, self._kinds)

    def _waybill_values(self) -> list[str | None]:
        return self._waybills.values()

    def _keys(self) -> Iterator[tuple[str | None, LineKind]]:
        """``(waybill, kind)`` of every line, in order."""
        return zip(self._waybill_values(), self._kinds_of(), strict=True)

    def _amount(self, index: int) -> Money:
        return self._money(self._fen[index])

    def _line_id(self, index: int) -> str:
        return line_id(self._waybills.get(index), KINDS[self._kinds[index]])

    def _indices(self, kind: LineKind) -> Iterator[int]:
        """The indices of the lines of one kind, in order."""
        return compress(count(), map(KIND_KEYS[kind].__eq__, self._kinds))

    def _find(self, wanted: str) -> int | None:
        """The index of the line with this line id (an index built on the first call)."""
        index: dict[str, int] | None = self._cache.get("index")
        if index is None:
            index = self._cache["index"] = {
                line_id(waybill, kind): i for i, (waybill, kind) in enumerate(self._keys())
            }
        return index.get(wanted)

    def _rows(
        self,
    ) -> Iterator[
        tuple[
            str | None, LineKind, Group, str | None, int, date, int, FeeBreakdown | None, str | None
        ]
    ]:
        """``(waybill, kind, (center, business line, zone), destination, weight, day, fen,
        breakdown, refers_to)`` of every line, in order, without building lines."""
        n = len(self)
        refers: Iterable[str | None]
        if _AGENT_FEE in self._kinds:
            refers = map(self._refers_to, range(n))
        else:
            refers = map(self._refers.get, range(n)) if self._refers else repeat(None, n)
        return zip(
            self._waybill_values(),
            self._kinds_of(),
            map(self._groups.__getitem__, self._group_keys),
            map(self._destinations.__getitem__, self._destination_keys),
            self._weights,
            map(self._date, self._days),
            self._fen,
            map(self._breakdowns.__getitem__, self._breakdown_keys),
            refers,
            strict=True,
        )


_AGENT_FEE = KIND_KEYS[LineKind.AGENT_FEE]


def _kept_refers(items: Sequence[StatementLine]) -> dict[int, str | None]:
    """The ``refers_to`` a column keeps: every line's that is not ``None``, but not an
    agent-fee line's that names the line before it (derived when read), and an agent-fee
    line's ``None`` where the line before would be derived instead."""
    kept: dict[int, str | None] = {}
    for index, line in enumerate(items):
        if line.kind is LineKind.AGENT_FEE:
            before = items[index - 1] if index else None
            derived = None if before is None else line_id(before.waybill, before.kind)
            if line.refers_to != derived:
                kept[index] = line.refers_to
        elif line.refers_to is not None:
            kept[index] = line.refers_to
    return kept


def _fen(line: StatementLine, index: int) -> int:
    try:
        return line.amount.fen
    except ValidationError:
        raise ValidationError(
            f"statement line {index} ({line.line_id}) has the amount {line.amount}, not a whole "
            f"number of fen: a line is rounded to the fen once (Money.rounded())"
        ) from None


def _statement_lines(lines: Iterable[StatementLine]) -> StatementLines:
    return lines if isinstance(lines, StatementLines) else StatementLines(lines)


@attrs.frozen(kw_only=True)
class Subtotal:
    """The pieces and amount of one center, business line or zone.

    .. versionadded:: 0.1.0
    """

    key: str
    pieces: int
    amount: Money


@attrs.frozen(kw_only=True)
class LumpSumPosition:
    """How a lump sum (包干) was settled for the period.

    Attributes:
        amount: the lump sum for the period, prorated by days when the agreement is in force
            for only part of it.
        days_in_force: days of the period the agreement was in force.
        quota: pieces covered this period (prorated quota plus any carried in), or ``None``.
        carried_in: unused quota carried in from the previous period.
        pieces: pieces picked up in the period.
        overage_pieces: pieces beyond the quota.
        overage_amount: what the overage pieces cost.
        payable: the part of ``amount`` payable (less than ``amount`` only under pro-rata).
        refund: ``amount - payable``, the unused share refunded under pro-rata.
        carried_out: unused quota carried to the next period (carry-forward policy).
        underuse: the policy applied.

    .. versionadded:: 0.1.0
    """

    amount: Money
    days_in_force: int
    quota: int | None
    carried_in: int
    pieces: int
    overage_pieces: int
    overage_amount: Money
    payable: Money
    refund: Money
    carried_out: int
    underuse: Underuse


@attrs.frozen(kw_only=True)
class BudgetPosition:
    """The agreement's annual budget after this statement.

    Attributes:
        annual: the budget of the year.
        settled_before: what earlier statements of the year settled.
        this_statement: this statement's total.
        cumulative: ``settled_before + this_statement``.
        remaining: ``annual - cumulative`` (negative when exceeded).
        exceeded: whether the cumulative amount is over the budget.
        strict: whether the budget is strict (an overrun is then refused, never reported).

    .. versionadded:: 0.1.0
    """

    annual: Money
    settled_before: Money
    this_statement: Money
    cumulative: Money
    remaining: Money
    exceeded: bool
    strict: bool


@attrs.frozen(kw_only=True)
class CenterShare:
    """One center's share of an amount split by the finance → center leg.

    .. versionadded:: 0.1.0
    """

    center: str
    weight: Decimal
    amount: Money


def split(amount: Money, weights: Mapping[str, int | Decimal]) -> tuple[CenterShare, ...]:
    """Split ``amount`` across keys (centers) in proportion to ``weights``, exactly.

    The finance → center leg (划款): a province-level lump sum or budget is split with
    :func:`~govpost.money.allocate`, so the shares add up to ``amount`` exactly. The shares come
    in the order of ``weights`` (a ``dict`` keeps the order you wrote it in), and, as with
    ``allocate``, a fen left over by a tie goes to the key listed first: list the keys in the
    order that should win ties.

    Raises:
        ValidationError: no weights, a negative weight, all weights zero, or fractions of a fen.

    >>> [(s.center, s.amount) for s in split(Money("100.00"), {"GZ-2": 1, "GZ-1": 2})]
    [('GZ-2', Money('33.33', 'CNY')), ('GZ-1', Money('66.67', 'CNY'))]
    >>> [s.amount for s in split(Money("0.01"), {"GZ-2": 1, "GZ-1": 1})]  # the tie: GZ-2 first
    [Money('0.01', 'CNY'), Money('0.00', 'CNY')]

    .. versionadded:: 0.1.0

    .. versionchanged:: 0.2.0
       Shares follow the order of ``weights``, which decides ties, instead of sorted keys.
    """
    if not isinstance(weights, Mapping) or not all(isinstance(k, str) for k in weights):
        raise ValidationError(
            f"weights must map center codes to weights, e.g. {{'GZ-520100': 3}}, not "
            f"{type(weights).__name__}"
        )
    keys = list(weights)
    if not keys:
        raise ValidationError(f"cannot split {amount} across no centers: give at least one weight")
    shares = allocate(amount, [weights[k] for k in keys])
    return tuple(
        CenterShare(center=k, weight=Decimal(weights[k]), amount=s)
        for k, s in zip(keys, shares, strict=True)
    )


@attrs.frozen(kw_only=True)
class SettlementStatement:
    """What the government owes the carrier for one period under one agreement.

    ``total`` is the sum of the lines — each rounded once, the total never re-rounded; the
    subtotals per center, business line and zone each add up to ``total`` (a lump sum is
    attributed to them in proportion to pieces with :func:`~govpost.money.allocate`, or under
    the key ``"*"`` when no piece was sent). The same inputs always give the same statement and
    the same :attr:`statement_id`.

    Attributes:
        statement_id: ``"<agreement>-<period>-<digest>"``, a digest of everything settled.
        agreement_id: the agreement settled.
        agreement_reference: its document.
        carrier: the carrier paid.
        period: the period settled.
        mode: how it settles (:class:`SettlementMode`; its value given as a str is accepted).
        currency: the currency of every amount.
        lines: the lines, sorted by date, waybill and kind (the lump-sum line last), as
            :class:`StatementLines`, a sequence kept in columns (give any sequence of
            :class:`StatementLine` when building a statement yourself).
        pieces: pieces picked up in the period under the agreement.
        total: the sum of the lines.
        by_center: subtotals per center code, in code order.
        by_business_line: subtotals per business line, in the order of
            :class:`~govpost.centers.BusinessLine`.
        by_zone: subtotals per zone, near to far (同城, 省内, 省外).
        lump_sum: how the lump sum was settled (lump-sum agreements).
        budget: the budget position (agreements with a budget).
        excluded: shipments read but not billed, by reason.

    .. versionadded:: 0.1.0

    .. versionchanged:: 0.2.0
       ``lines`` is a :class:`StatementLines` sequence (it was a tuple); the digest behind
       ``statement_id`` is computed from the columns, so ids differ from 0.1's.
    """

    statement_id: str
    agreement_id: str
    agreement_reference: str
    carrier: str
    period: Period
    mode: SettlementMode = attrs.field(converter=_mode)
    currency: str
    lines: Sequence[StatementLine] = attrs.field(converter=_statement_lines)
    pieces: int
    total: Money
    by_center: tuple[Subtotal, ...]
    by_business_line: tuple[Subtotal, ...]
    by_zone: tuple[Subtotal, ...]
    lump_sum: LumpSumPosition | None = None
    budget: BudgetPosition | None = None
    excluded: Exclusions = attrs.field(factory=Exclusions)

    @property
    def _columns(self) -> StatementLines:
        lines = self.lines
        assert isinstance(lines, StatementLines)  # the converter made it so
        return lines

    @property
    def credits(self) -> tuple[StatementLine, ...]:
        """The credit lines (each negates the line it refers to)."""
        lines = self._columns
        return tuple(map(lines._line, lines._indices(LineKind.CREDIT)))

    @property
    def charges(self) -> tuple[StatementLine, ...]:
        """Every line that is not a credit."""
        lines = self._columns
        credit = KIND_KEYS[LineKind.CREDIT]
        return tuple(map(lines._line, compress(count(), map(credit.__ne__, lines._kinds))))

    def line(self, line_id: str) -> StatementLine:
        """The line with this :attr:`StatementLine.line_id`.

        Raises:
            KeyError: no such line.
        """
        index = self._columns._find(line_id)
        if index is None:
            raise KeyError(line_id)
        return self._columns._line(index)

    def center_split(
        self, weights: Mapping[str, int | Decimal] | None = None
    ) -> tuple[CenterShare, ...]:
        """The finance → center leg: the total split across centers, summing to it exactly.

        Args:
            weights: a stated key (e.g. each center's population served), in the order that
                should win ties (see :func:`split`); by default each center's pieces on this
                statement, in center code order.

        Raises:
            ValidationError: no center has a weight (e.g. no piece was sent and no key given).
        """
        if weights is None:
            weights = {s.key: s.pieces for s in self.by_center if s.key != "*"}
            if not any(weights.values()):
                raise ValidationError(
                    f"statement {self.statement_id} has no pieces to split {self.total} by: "
                    f"pass weights={{center: key}}"
                )
        return split(self.total, weights)

    # -- documents -------------------------------------------------------------------------------

    def to_json(self, *, indent: int | None = None) -> str:
        """The statement in govpost's wire format (JSON)."""
        from govpost.serialization import to_json

        return to_json(self, indent=indent)

    def to_csv(self) -> str:
        """The lines as CSV (UTF-8 text, header row first), one row per line.

        Columns: ``line_id, waybill, kind, center, business_line, zone, destination, weight_g,
        date, amount, currency, refers_to, explanation``. For a spreadsheet, save it with
        ``encoding="utf-8-sig"`` (Excel then reads the Chinese text correctly). As
        :func:`govpost.settlement.documents.statement_csv`.
        """
        from govpost.settlement.documents import statement_csv

        return statement_csv(self)

    def to_table(self, *, max_lines: int | None = None) -> str:
        """A human-readable statement; subtotals and total also in capital numerals (大写金额).

        Every line is printed unless ``max_lines`` asks for fewer: then the first
        ``max_lines`` lines are printed, and a line says how many were left out and how to see
        them. The lump-sum line, the subtotals and the summary are always printed, and the
        totals always cover every line. As
        :func:`govpost.settlement.documents.statement_table`.

        Args:
            max_lines: print at most this many of the lines (the lump-sum line aside);
                ``None``, the default, prints them all.

        Raises:
            ValidationError: ``max_lines`` is not ``None`` or an int of at least 0.

        .. versionchanged:: 0.2.0
           Prints every line by default (it stopped at 50), and never hides the lump sum.
        """
        from govpost.settlement.documents import statement_table

        return statement_table(self, max_lines=max_lines)
