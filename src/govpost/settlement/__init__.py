"""Settlement: statements, per-piece and lump-sum rules, allocation and reconciliation.

:func:`settle` turns an agreement, the shipments and a :class:`Period` into a
:class:`SettlementStatement` — lines with their breakdown, credits, subtotals per center,
business line and zone, the lump-sum and budget positions, and a deterministic
``statement_id``. Every line is rounded half-up once; totals are sums of lines, never
re-rounded; lump sums, proration and the finance → center split use
:func:`~govpost.money.allocate`, so parts always add up to the whole::

    >>> from datetime import date, datetime
    >>> from zoneinfo import ZoneInfo
    >>> from govpost.agreements import Coverage, FeeAgreement, FlatTariff, PerPiece
    >>> from govpost.shipments import Shipment
    >>> agreement = FeeAgreement(
    ...     id="GZ-EMS-2018", carrier="ems", reference="黔政办〔2018〕1号",
    ...     centers={"GZ-520100"}, covers=Coverage.all(), valid_from=date(2018, 1, 1),
    ...     mode=PerPiece(tariff=FlatTariff(price="12.50"), discount="0.15"),
    ... )
    >>> at = datetime(2018, 6, 3, 10, 0, tzinfo=ZoneInfo("Asia/Shanghai"))
    >>> piece = Shipment(
    ...     id="A-1", center="GZ-520100", business_line="licence_delivery",
    ...     direction="outbound_result", origin="520102", destination="520103",
    ...     weight_g=300, created_at=at, picked_up_at=at, status="picked_up",
    ... )
    >>> statement = settle(agreement, [piece], Period.month(2018, 6))
    >>> statement.total, statement.pieces                       # 12.50 × 0.85 = 10.625 → 10.63
    (Money('10.63', 'CNY'), 1)
    >>> amount_in_words(statement.total)
    '壹拾元陆角叁分'

``settle`` reads :class:`~govpost.shipments.Shipment` values or plain :class:`SettlementRow`
rows (what a database holds: no ``Shipment`` built), and keeps the statement's lines in
columns (:class:`StatementLines`) — a few dozen bytes per line; each :class:`StatementLine` is
built when it is read::

    >>> row = SettlementRow(
    ...     waybill="A-1", center="GZ-520100", business_line="licence_delivery",
    ...     direction="outbound_result", origin="520102", destination="520103", weight_g=300,
    ...     picked_up_at=at,
    ... )
    >>> settle(agreement, [row], Period.month(2018, 6)) == statement
    True
    >>> statement.lines[0].line_id, len(statement.lines)
    ('A-1/charge', 1)

:func:`reconcile` checks the carrier's bill (:meth:`CarrierBill.from_csv`, UTF-8 or GBK)
against a statement and classes every line of both sides. The bill reader is total and
bounded: any file gives a bill or a :class:`~govpost.errors.DeserializationError` naming the
line and field, and files over :data:`MAX_BILL_BYTES` or :data:`MAX_BILL_ROWS` are refused.

Settle, statements and reconciliation share one vocabulary of billable events
(:class:`BillableKind`: a piece, a return leg, a credit, the lump sum, a piece's agent fee —
the per-piece cost difference of a government agent's agreement,
:attr:`FeeAgreement.agent_fee <govpost.agreements.FeeAgreement.agent_fee>`): each statement line
bills one (:attr:`LineKind.billable`), each row of the carrier's bill charges for one
(:attr:`FeeType.billable`), and each :class:`ReconciliationItem` is one event of one waybill
(its :attr:`~ReconciliationItem.entry`). Statements, reports and amounts in words are rendered
by :mod:`govpost.settlement.documents`.

.. versionadded:: 0.1.0

.. versionchanged:: 0.2.0
   :class:`BillableKind`, :class:`SettlementMode` and :mod:`~govpost.settlement.documents`.
"""

from __future__ import annotations

from govpost.periods import Period
from govpost.settlement import documents
from govpost.settlement._bill import (
    DEFAULT_COLUMNS,
    MAX_BILL_AMOUNT,
    MAX_BILL_BYTES,
    MAX_BILL_ROWS,
    BillRow,
    CarrierBill,
    FeeType,
)
from govpost.settlement._billable import (
    BillableKind,
    Exclusions,
    LineKind,
    SettlementRow,
    waybill_key,
)
from govpost.settlement._engine import settle
from govpost.settlement._lumpsum import prorate
from govpost.settlement._reconcile import (
    Discrepancy,
    ReconciliationItem,
    ReconciliationReport,
    reconcile,
)
from govpost.settlement._statement import (
    BudgetPosition,
    CenterShare,
    LumpSumPosition,
    SettlementMode,
    SettlementStatement,
    StatementLine,
    StatementLines,
    Subtotal,
    split,
)
from govpost.settlement.documents import amount_in_words

__all__ = [
    "DEFAULT_COLUMNS",
    "MAX_BILL_AMOUNT",
    "MAX_BILL_BYTES",
    "MAX_BILL_ROWS",
    "BillRow",
    "BillableKind",
    "BudgetPosition",
    "CarrierBill",
    "CenterShare",
    "Discrepancy",
    "Exclusions",
    "FeeType",
    "LineKind",
    "LumpSumPosition",
    "Period",
    "ReconciliationItem",
    "ReconciliationReport",
    "SettlementMode",
    "SettlementRow",
    "SettlementStatement",
    "StatementLine",
    "StatementLines",
    "Subtotal",
    "amount_in_words",
    "documents",
    "prorate",
    "reconcile",
    "settle",
    "split",
    "waybill_key",
]
