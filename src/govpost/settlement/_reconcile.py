"""Reconciliation of a statement against the carrier's bill (private: use govpost.settlement).

Both sides are read as billable events (:class:`~govpost.settlement.BillableKind`): a
statement line bills one (:attr:`LineKind.billable`), a bill row charges for one
(:attr:`FeeType.billable`), and each waybill's event is matched or classed once.
"""

from __future__ import annotations

import enum

import attrs

from govpost._fields import coerce_enum, short
from govpost.agreements import SurchargeKind
from govpost.errors import CurrencyMismatchError, SettlementError, ValidationError
from govpost.money import Money
from govpost.periods import Period
from govpost.settlement._bill import BillRow, CarrierBill, FeeType
from govpost.settlement._billable import BillableKind
from govpost.settlement._statement import SettlementStatement, StatementLine


def _entry(value: BillableKind | str) -> BillableKind:
    return coerce_enum(BillableKind, value, "entry")


def _period(value: Period | str) -> Period:
    given: object = value  # untyped callers pass anything
    if isinstance(given, Period):
        return given
    if isinstance(given, str):
        return Period.parse(given)
    raise ValidationError(
        f"period {short(given)} must be a Period or its text, such as Period.month(2018, 6) "
        f"or '2018-06'"
    )


class Discrepancy(enum.Enum):
    """The class of a reconciliation item. The classes partition both sides.

    .. versionadded:: 0.1.0
    """

    MATCHED = "matched"  #: same waybill, amount, weight, zone and period
    MISSING_IN_BILL = "missing_in_bill"  #: on our statement, not on the bill
    MISSING_IN_OURS = "missing_in_ours"  #: on the bill, not on our statement
    AMOUNT_MISMATCH = "amount_mismatch"  #: both sides, different amounts
    WEIGHT_MISMATCH = "weight_mismatch"  #: the bill's weight differs from ours
    ZONE_MISMATCH = "zone_mismatch"  #: the bill's destination or zone (tariff) differs
    SURCHARGE_MISMATCH = "surcharge_mismatch"  #: insurance or receipt charged differently
    DUPLICATE = "duplicate"  #: a row the bill repeats (the repeat is the item)
    PERIOD_MISMATCH = "period_mismatch"  #: the bill dates the item outside our period

    @property
    def label(self) -> str:
        """The Chinese name used in reports."""
        return _LABELS[self]


_LABELS = {
    Discrepancy.MATCHED: "一致",
    Discrepancy.MISSING_IN_BILL: "账单缺失",
    Discrepancy.MISSING_IN_OURS: "我方无记录",
    Discrepancy.AMOUNT_MISMATCH: "金额不符",
    Discrepancy.WEIGHT_MISMATCH: "重量不符",
    Discrepancy.ZONE_MISMATCH: "区域/资费不符",
    Discrepancy.SURCHARGE_MISMATCH: "附加费不符",
    Discrepancy.DUPLICATE: "重复计费",
    Discrepancy.PERIOD_MISMATCH: "期间不符",
}


@attrs.frozen(kw_only=True)
class ReconciliationItem:
    """One waybill entry (charge, return, credit, lump sum or agent fee) as both sides see it.

    Attributes:
        kind: its class.
        waybill: the waybill (``None`` for the lump sum).
        entry: the billable event (:class:`BillableKind`; its value given as a str is
            accepted).
        ours: our amount, if we have the entry.
        bill: the bill's amount, if the bill has it.
        difference: ``bill - ours`` (missing sides count as zero), signed.
        line_ids: our statement lines in this item.
        bill_lines: the bill's line numbers in this item.
        detail: what differs, in words.

    .. versionadded:: 0.1.0

    .. versionchanged:: 0.2.0
       ``entry`` is a :class:`BillableKind` (it was a str: ``"charge"`` is now
       ``BillableKind.PIECE``, ``"return"`` ``BillableKind.RETURN_LEG``).
    """

    kind: Discrepancy
    waybill: str | None
    entry: BillableKind = attrs.field(converter=_entry)
    ours: Money | None
    bill: Money | None
    difference: Money
    line_ids: tuple[str, ...]
    bill_lines: tuple[int, ...]
    detail: str = ""


@attrs.frozen(kw_only=True)
class ReconciliationReport:
    """The result of :func:`reconcile`: every line of both sides in exactly one item.

    ``sum(item.difference) == bill_total - statement_total`` always.

    Attributes:
        statement_id: the statement reconciled.
        period: its period (a str such as ``"2018-06"`` is accepted and parsed).
        items: every entry of both sides, by class, then waybill.
        statement_total: our total.
        bill_total: the bill's.

    .. versionadded:: 0.1.0

    .. versionchanged:: 0.2.0
       ``period`` is a :class:`~govpost.periods.Period` (it was a str).
    """

    statement_id: str
    period: Period = attrs.field(converter=_period)
    items: tuple[ReconciliationItem, ...]
    statement_total: Money
    bill_total: Money

    @property
    def difference(self) -> Money:
        """``bill_total - statement_total``."""
        return self.bill_total - self.statement_total

    @property
    def is_clean(self) -> bool:
        """Whether every item matched."""
        return all(item.kind is Discrepancy.MATCHED for item in self.items)

    def of(self, kind: Discrepancy) -> tuple[ReconciliationItem, ...]:
        """The items of one class."""
        return tuple(item for item in self.items if item.kind is kind)

    def counts(self) -> dict[Discrepancy, int]:
        """How many items each class holds (every class present, zero included)."""
        counts = dict.fromkeys(Discrepancy, 0)
        for item in self.items:
            counts[item.kind] += 1
        return counts

    def to_csv(self) -> str:
        """The items as CSV for the finance office (UTF-8 text, header first).

        Columns: ``class, waybill, entry, ours, bill, difference, our_lines, bill_lines,
        detail``. For a spreadsheet, save it with ``encoding="utf-8-sig"``. As
        :func:`govpost.settlement.documents.report_csv`.
        """
        from govpost.settlement.documents import report_csv

        return report_csv(self)

    def to_table(self, *, include_matched: bool = False) -> str:
        """A readable report: counts per class, then every discrepancy. As
        :func:`govpost.settlement.documents.report_table`."""
        from govpost.settlement.documents import report_table

        return report_table(self, include_matched=include_matched)


#: Entries in the order the enum declares them: a piece, its return leg, its credit.
_ENTRIES = {kind: rank for rank, kind in enumerate(BillableKind)}


def _entry_order(key: tuple[str, BillableKind]) -> tuple[str, int]:
    return key[0], _ENTRIES[key[1]]


_SURCHARGE_OF_FEE = {
    FeeType.INSURANCE: SurchargeKind.INSURANCE,
    FeeType.RETURN_RECEIPT: SurchargeKind.RETURN_RECEIPT,
}


def reconcile(statement: SettlementStatement, bill: CarrierBill) -> ReconciliationReport:
    """Check the carrier's bill against our statement (对账).

    Both sides are grouped by waybill and entry (a piece's charge with its surcharges, a
    return leg, a credit, the lump sum, a piece's agent fee — a bill row of fee type
    :attr:`FeeType.AGENT_FEE <govpost.settlement.FeeType.AGENT_FEE>`, 代办费 or 包装费). A bill row repeating the (waybill, fee type) of an
    earlier row is a duplicate; every other entry is matched, missing on one side, or
    classed by the first thing that differs: period, weight, zone/tariff, surcharges, amount.
    The classes partition both sides, and the signed differences add up to
    ``bill.total - statement.total``. Under a lump sum, a piece inside the quota is a line of
    zero on our side: if the bill does not list it, it is missing in the bill with a zero
    difference, so the carrier's count of pieces is checked as well as its money.

    Raises:
        CurrencyMismatchError: the bill is in another currency than the statement.

    .. versionadded:: 0.1.0
    """
    if not isinstance(statement, SettlementStatement):
        raise SettlementError(
            f"reconcile() takes a SettlementStatement from settle(), not {short(statement)}"
        )
    if not isinstance(bill, CarrierBill):
        raise SettlementError(
            f"reconcile() takes a CarrierBill (e.g. CarrierBill.from_csv(path)), not {short(bill)}"
        )
    if bill.currency != statement.currency:
        raise CurrencyMismatchError(
            f"the bill is in {bill.currency} but statement {statement.statement_id} is in "
            f"{statement.currency}: read the bill with currency={statement.currency!r}"
        )
    zero = Money.zero(statement.currency)
    # Our side is read from the statement's columns; a line is built only to be compared.
    lines = statement._columns
    ours: dict[tuple[str, BillableKind], int] = {}
    for position, (waybill, line_kind) in enumerate(lines._keys()):
        ours[(waybill or "", line_kind.billable)] = position
    items: list[ReconciliationItem] = []
    groups: dict[tuple[str, BillableKind], list[BillRow]] = {}
    seen: set[tuple[str, FeeType]] = set()
    for row in sorted(bill.rows, key=lambda r: r.line_no):
        waybill = "" if row.fee_type is FeeType.LUMP_SUM else (row.waybill or "")
        if (waybill, row.fee_type) in seen:
            items.append(
                ReconciliationItem(
                    kind=Discrepancy.DUPLICATE,
                    waybill=waybill or None,
                    entry=row.fee_type.billable,
                    ours=None,
                    bill=row.amount,
                    difference=row.amount,
                    line_ids=(),
                    bill_lines=(row.line_no,),
                    detail=f"{row.fee_type.value} billed again on line {row.line_no}",
                )
            )
            continue
        seen.add((waybill, row.fee_type))
        groups.setdefault((waybill, row.fee_type.billable), []).append(row)
    period = statement.period
    for key in sorted(set(ours) | set(groups), key=_entry_order):
        index = ours.get(key)
        rows = groups.get(key, [])
        mine = None if index is None else lines._amount(index)
        theirs = None if not rows else sum((r.amount for r in rows), zero)
        difference = (theirs or zero) - (mine or zero)
        outside = [r for r in rows if not period.contains(r.pickup_date)]
        kind, detail = Discrepancy.MATCHED, ""
        if index is None:
            if outside:
                kind = Discrepancy.PERIOD_MISMATCH
                detail = (
                    f"billed on {outside[0].pickup_date}, outside {period}, not on our statement"
                )
            else:
                kind, detail = Discrepancy.MISSING_IN_OURS, "not on our statement"
        elif not rows:
            kind, detail = Discrepancy.MISSING_IN_BILL, "not on the bill"
        else:
            kind, detail = _compare(lines[index], rows, outside, difference, zero, period)
        items.append(
            ReconciliationItem(
                kind=kind,
                waybill=key[0] or None,
                entry=key[1],
                ours=mine,
                bill=theirs,
                difference=difference,
                line_ids=() if index is None else (lines._line_id(index),),
                bill_lines=tuple(r.line_no for r in rows),
                detail=detail,
            )
        )
    order = {kind: i for i, kind in enumerate(Discrepancy)}
    items.sort(key=lambda i: (order[i.kind], i.waybill or "", _ENTRIES[i.entry], i.bill_lines))
    return ReconciliationReport(
        statement_id=statement.statement_id,
        period=period,
        items=tuple(items),
        statement_total=statement.total,
        bill_total=bill.total,
    )


def _compare(
    line: StatementLine,
    rows: list[BillRow],
    outside: list[BillRow],
    difference: Money,
    zero: Money,
    period: Period,
) -> tuple[Discrepancy, str]:
    if outside:
        return (
            Discrepancy.PERIOD_MISMATCH,
            f"billed on {outside[0].pickup_date}, we settled it on {line.day} in {period}",
        )
    for row in rows:
        if row.weight_g is not None and line.weight_g and row.weight_g != line.weight_g:
            return (
                Discrepancy.WEIGHT_MISMATCH,
                f"bill weighs {row.weight_g} g, we weighed {line.weight_g} g",
            )
    for row in rows:
        if row.destination is not None and line.destination and row.destination != line.destination:
            return (
                Discrepancy.ZONE_MISMATCH,
                f"bill sends it to {row.destination}, we sent it to {line.destination}",
            )
        if row.zone is not None and line.zone is not None and row.zone is not line.zone:
            return (
                Discrepancy.ZONE_MISMATCH,
                f"bill prices it {row.zone.label}, we priced it {line.zone.label}",
            )
    billed_surcharges = dict.fromkeys(SurchargeKind, zero)
    listed = False
    for row in rows:
        kind = _SURCHARGE_OF_FEE.get(row.fee_type)
        if kind is not None:
            billed_surcharges[kind] = billed_surcharges[kind] + row.amount
            listed = True
    our_surcharges = {kind: line.surcharge(kind).rounded() for kind in SurchargeKind}
    if not difference.is_zero() or listed:
        for kind in SurchargeKind:
            ours, theirs = our_surcharges[kind], billed_surcharges[kind]
            if ours != theirs and (listed or difference == theirs - ours):
                return (
                    Discrepancy.SURCHARGE_MISMATCH,
                    f"{kind.label} billed {theirs.to_str()}, ours {ours.to_str()}",
                )
    if not difference.is_zero():
        return Discrepancy.AMOUNT_MISMATCH, f"bill differs by {difference.to_str()}"
    return Discrepancy.MATCHED, ""
