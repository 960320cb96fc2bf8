"""The settlement statement and its documents (private: use govpost.settlement)."""

from __future__ import annotations

import csv
import enum
import io
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from datetime import date
from decimal import Decimal

import attrs

from govpost.agreements import FeeBreakdown, SurchargeKind, Underuse
from govpost.centers import BusinessLine
from govpost.errors import ValidationError
from govpost.money import Money, allocate
from govpost.regions import Zone
from govpost.settlement._period import Period
from govpost.settlement._words import amount_in_words


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

    @property
    def is_piece(self) -> bool:
        """Whether the line is a piece picked up in the period (charge, covered or overage)."""
        return self in _PIECES

    @property
    def label(self) -> str:
        """The Chinese name used on printed statements."""
        return _KIND_LABELS[self]


_PIECES = frozenset({LineKind.CHARGE, LineKind.COVERED, LineKind.OVERAGE})
_KIND_LABELS = {
    LineKind.CHARGE: "计件",
    LineKind.COVERED: "包干内",
    LineKind.OVERAGE: "超量",
    LineKind.RETURN_LEG: "退回",
    LineKind.CREDIT: "冲销",
    LineKind.LUMP_SUM: "包干",
}


@attrs.frozen
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
        weight_g: the weight priced, in grams (0 for the lump-sum line).
        day: the business date of the event billed: pickup, or the return for return legs and
            credits, or the first day in force for the lump sum.
        amount: the amount, rounded once; negative only for credits.
        breakdown: how the amount was computed (``None`` for covered and lump-sum lines).
        refers_to: for a credit, the :attr:`line_id` of the line it negates.

    .. versionadded:: 0.1.0
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
        return self.kind.value if self.waybill is None else f"{self.waybill}/{self.kind.value}"

    def explain(self) -> str:
        """How the amount was computed, in one line (empty for covered and lump-sum lines)."""
        if self.breakdown is None:
            return ""
        text = self.breakdown.explain(self.weight_g)
        return f"冲销 credit of {self.refers_to}: -({text})" if self.refers_to else text

    def surcharge(self, kind: SurchargeKind) -> Money:
        """The surcharge of one kind included in this line (negated on a credit)."""
        if self.breakdown is None:
            return Money.zero(self.amount.currency)
        amount = self.breakdown.surcharge(kind)
        return -amount if self.kind is LineKind.CREDIT else amount


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
    :func:`~govpost.money.allocate`, in the order of the sorted keys, so the shares add up to
    ``amount`` exactly.

    Raises:
        ValidationError: no weights, a negative weight, all weights zero, or fractions of a fen.

    >>> [s.amount for s in split(Money("100.00"), {"GZ-2": 1, "GZ-1": 2})]
    [Money('66.67', 'CNY'), Money('33.33', 'CNY')]

    .. versionadded:: 0.1.0
    """
    if not isinstance(weights, Mapping) or not all(isinstance(k, str) for k in weights):
        raise ValidationError(
            f"weights must map center codes to weights, e.g. {{'GZ-520100': 3}}, not "
            f"{type(weights).__name__}"
        )
    keys = sorted(weights)
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
        mode: ``"per_piece"`` or ``"lump_sum"``.
        currency: the currency of every amount.
        lines: the lines, sorted by date, waybill and kind (the lump-sum line last).
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
    """

    statement_id: str
    agreement_id: str
    agreement_reference: str
    carrier: str
    period: Period
    mode: str
    currency: str
    lines: tuple[StatementLine, ...]
    pieces: int
    total: Money
    by_center: tuple[Subtotal, ...]
    by_business_line: tuple[Subtotal, ...]
    by_zone: tuple[Subtotal, ...]
    lump_sum: LumpSumPosition | None = None
    budget: BudgetPosition | None = None
    excluded: Exclusions = Exclusions()

    @property
    def credits(self) -> tuple[StatementLine, ...]:
        """The credit lines (each negates the line it refers to)."""
        return tuple(line for line in self.lines if line.kind is LineKind.CREDIT)

    @property
    def charges(self) -> tuple[StatementLine, ...]:
        """Every line that is not a credit."""
        return tuple(line for line in self.lines if line.kind is not LineKind.CREDIT)

    def line(self, line_id: str) -> StatementLine:
        """The line with this :attr:`StatementLine.line_id`.

        Raises:
            KeyError: no such line.
        """
        for line in self.lines:
            if line.line_id == line_id:
                return line
        raise KeyError(line_id)

    def center_split(
        self, weights: Mapping[str, int | Decimal] | None = None
    ) -> tuple[CenterShare, ...]:
        """The finance → center leg: the total split across centers, summing to it exactly.

        Args:
            weights: a stated key (e.g. each center's population served); by default each
                center's pieces on this statement.

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
        ``encoding="utf-8-sig"`` (Excel then reads the Chinese text correctly).
        """
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(_CSV_COLUMNS)
        for line in self.lines:
            writer.writerow(
                [
                    line.line_id,
                    line.waybill or "",
                    line.kind.value,
                    line.center or "",
                    line.business_line.value if line.business_line else "",
                    line.zone.value if line.zone else "",
                    line.destination or "",
                    line.weight_g,
                    line.day.isoformat(),
                    line.amount.to_str(),
                    line.amount.currency,
                    line.refers_to or "",
                    line.explain(),
                ]
            )
        return out.getvalue()

    def to_table(self, *, max_lines: int | None = 50) -> str:
        """A human-readable statement; subtotals and total also in capital numerals (大写金额).

        Args:
            max_lines: print at most this many lines (``None`` for all); totals always cover
                every line.
        """
        head = [
            f"结算单 Settlement statement {self.statement_id}",
            f"协议 Agreement: {self.agreement_id} ({self.agreement_reference}), "
            f"carrier {self.carrier}",
            f"期间 Period: {self.period} ({self.period.start} – {self.period.end}, end exclusive)",
            f"结算方式 Mode: {'计件 per piece' if self.mode == 'per_piece' else '包干 lump sum'}",
            "",
        ]
        shown = self.lines if max_lines is None else self.lines[:max_lines]
        rows = [
            [
                line.waybill or "—",
                line.kind.label,
                line.center or "",
                line.zone.label if line.zone else "",
                str(line.weight_g) if line.weight_g else "",
                line.day.isoformat(),
                line.amount.to_str(),
            ]
            for line in shown
        ]
        body = render_table(["运单 Waybill", "类别", "中心", "区域", "克", "日期", "金额"], rows)
        more = len(self.lines) - len(shown)
        if more:
            body += f"\n… {more} more lines (see to_csv())"
        parts = [*head, body, ""]
        for title, subtotals in (
            ("按中心 By center", self.by_center),
            ("按业务 By business line", self.by_business_line),
            ("按区域 By zone", self.by_zone),
        ):
            parts.append(title)
            parts.append(
                render_table(
                    ["", "件数", "金额", "大写"],
                    [
                        [
                            _subtotal_label(s.key),
                            str(s.pieces),
                            s.amount.to_str(),
                            amount_in_words(s.amount),
                        ]
                        for s in subtotals
                    ],
                )
            )
            parts.append("")
        if self.lump_sum is not None:
            lump = self.lump_sum
            quota = "no quota" if lump.quota is None else f"quota {lump.quota}"
            parts.append(
                f"包干 Lump sum {lump.amount.to_str()} ({quota}, {lump.pieces} pieces, "
                f"{lump.overage_pieces} over, payable {lump.payable.to_str()}, "
                f"refund {lump.refund.to_str()}, carried out {lump.carried_out})"
            )
        if self.budget is not None:
            b = self.budget
            status = "EXCEEDED 超预算" if b.exceeded else "within budget"
            parts.append(
                f"预算 Budget {b.annual.to_str()}: settled before {b.settled_before.to_str()}, "
                f"cumulative {b.cumulative.to_str()}, remaining {b.remaining.to_str()} ({status})"
            )
        excluded = self.excluded
        parts.append(
            f"件数 Pieces: {self.pieces}; not billed: {excluded.not_covered} applicant-paid, "
            f"{excluded.not_picked_up} not picked up, {excluded.other_center} other centers, "
            f"{excluded.other_period} other periods, {excluded.outside_validity} outside the "
            f"agreement, {excluded.duplicates} duplicates, {excluded.billed_before} billed in "
            f"an earlier period"
        )
        parts.append(f"合计 Total: {self.total.to_str()} {self.currency}")
        parts.append(f"大写 In words: {amount_in_words(self.total)}")
        return "\n".join(parts)


_CSV_COLUMNS = (
    "line_id",
    "waybill",
    "kind",
    "center",
    "business_line",
    "zone",
    "destination",
    "weight_g",
    "date",
    "amount",
    "currency",
    "refers_to",
    "explanation",
)


def _subtotal_label(key: str) -> str:
    for kind in (Zone, BusinessLine):
        try:
            return f"{kind(key).label} {key}"
        except ValueError:
            continue
    return key


def _width(text: str) -> int:
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def render_table(headers: Sequence[str], rows: Iterable[Sequence[str]]) -> str:
    """A plain-text table, aligned for Chinese (double-width) characters; numbers right-aligned."""
    data = [list(headers), *(list(r) for r in rows)]
    widths = [max(_width(row[i]) for row in data) for i in range(len(headers))]

    def numeric(text: str) -> bool:
        return text.replace(".", "", 1).replace("-", "", 1).isdigit()

    lines = []
    for index, row in enumerate(data):
        cells = []
        for i, cell in enumerate(row):
            pad = " " * (widths[i] - _width(cell))
            cells.append(pad + cell if index and numeric(cell) else cell + pad)
        lines.append("  ".join(cells).rstrip())
        if index == 0:
            lines.append("  ".join("-" * w for w in widths))
    return "\n".join(lines)
