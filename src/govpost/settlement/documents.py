"""The documents of settlement: statement tables and CSV, reports, amounts in words (大写).

Every document govpost prints for a finance office is rendered here, from the models' data:
:func:`statement_table` and :func:`statement_csv` for a :class:`SettlementStatement`,
:func:`report_table` and :func:`report_csv` for a :class:`ReconciliationReport`,
:func:`amount_in_words` for an amount in Chinese capital numerals (大写金额), and
:func:`render_table` for any plain-text table aligned for Chinese characters. The models'
methods (:meth:`SettlementStatement.to_table`, :meth:`~SettlementStatement.to_csv`,
:meth:`ReconciliationReport.to_table`, :meth:`~ReconciliationReport.to_csv`) call these::

    >>> from govpost.money import Money
    >>> amount_in_words(Money("1480.00"))
    '壹仟肆佰捌拾元整'
    >>> print(render_table(["区域", "金额"], [["同城", "8.00"], ["省外", "15.00"]]))
    区域  金额
    ----  -----
    同城   8.00
    省外  15.00

.. versionadded:: 0.2.0
   The module; :func:`amount_in_words` is also exported by :mod:`govpost.settlement`.
"""

from __future__ import annotations

import csv
import io
import unicodedata
from collections.abc import Iterable, Sequence

from govpost.centers import BusinessLine
from govpost.errors import ValidationError
from govpost.money import Money
from govpost.regions import Zone
from govpost.settlement._billable import LineKind, line_id
from govpost.settlement._reconcile import Discrepancy, ReconciliationReport
from govpost.settlement._statement import SettlementMode, SettlementStatement, _explain

__all__ = [
    "amount_in_words",
    "render_table",
    "report_csv",
    "report_table",
    "statement_csv",
    "statement_table",
]


# --- statements ---------------------------------------------------------------------------------


def statement_csv(statement: SettlementStatement) -> str:
    """The lines of a statement as CSV (UTF-8 text, header row first), one row per line.

    Columns: ``line_id, waybill, kind, center, business_line, zone, destination, weight_g,
    date, amount, currency, refers_to, explanation``. For a spreadsheet, save it with
    ``encoding="utf-8-sig"`` (Excel then reads the Chinese text correctly). The lines are read
    from the statement's columns: no :class:`StatementLine` is built.

    >>> from govpost.settlement import Period, SettlementStatement
    >>> empty = SettlementStatement(
    ...     statement_id="S-1", agreement_id="A", agreement_reference="R", carrier="ems",
    ...     period=Period.month(2018, 6), mode="per_piece", currency="CNY", lines=(),
    ...     pieces=0, total=Money("0.00"), by_center=(), by_business_line=(), by_zone=(),
    ... )
    >>> statement_csv(empty).splitlines()[0][:30]
    'line_id,waybill,kind,center,bu'

    .. versionadded:: 0.2.0
    """
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(_CSV_COLUMNS)
    currency = statement._columns._currency
    for (
        waybill,
        kind,
        group,
        destination,
        weight,
        day,
        fen,
        breakdown,
        refers,
    ) in statement._columns._rows():
        center, business_line, zone = group
        writer.writerow(
            [
                line_id(waybill, kind),
                waybill or "",
                kind.value,
                center or "",
                business_line.value if business_line else "",
                zone.value if zone else "",
                destination or "",
                weight,
                day.isoformat(),
                _fen_text(fen),
                currency,
                refers or "",
                _explain(breakdown, weight, refers, kind),
            ]
        )
    return out.getvalue()


def statement_table(statement: SettlementStatement, *, max_lines: int | None = None) -> str:
    """A human-readable statement; subtotals and total also in capital numerals (大写金额).

    Every line is printed unless ``max_lines`` asks for fewer: then the first ``max_lines``
    lines are printed, and a line says how many were left out and how to see them. The
    lump-sum line, the subtotals and the summary are always printed, and the totals always
    cover every line.

    Args:
        statement: the statement.
        max_lines: print at most this many of the lines (the lump-sum line aside); ``None``,
            the default, prints them all.

    Raises:
        ValidationError: ``max_lines`` is not ``None`` or an int of at least 0.

    >>> from govpost.settlement import Period, SettlementStatement
    >>> empty = SettlementStatement(
    ...     statement_id="S-1", agreement_id="A", agreement_reference="R", carrier="ems",
    ...     period=Period.month(2018, 6), mode="per_piece", currency="CNY", lines=(),
    ...     pieces=0, total=Money("0.00"), by_center=(), by_business_line=(), by_zone=(),
    ... )
    >>> statement_table(empty).splitlines()[-1]
    '大写 In words: 零元整'

    .. versionadded:: 0.2.0
    """
    if max_lines is not None and (
        isinstance(max_lines, bool) or not isinstance(max_lines, int) or max_lines < 0
    ):
        raise ValidationError(f"max_lines {max_lines!r} must be None (all lines) or an int >= 0")
    head = [
        f"结算单 Settlement statement {statement.statement_id}",
        f"协议 Agreement: {statement.agreement_id} ({statement.agreement_reference}), "
        f"carrier {statement.carrier}",
        f"期间 Period: {statement.period} ({statement.period.start} – {statement.period.end}, end exclusive)",
        f"结算方式 Mode: {statement.mode.label} {_MODE_NAMES[statement.mode]}",
        "",
    ]
    rows: list[list[str]] = []
    kept: list[list[str]] = []  # lump-sum lines past the limit: shown all the same
    left_out = 0
    for waybill, kind, group, _, weight, day, fen, _, _ in statement._columns._rows():
        zone = group[2]
        row = [
            waybill or "—",
            kind.label,
            group[0] or "",
            zone.label if zone else "",
            str(weight) if weight else "",
            day.isoformat(),
            _fen_text(fen),
        ]
        if max_lines is None or len(rows) < max_lines:
            rows.append(row)
        elif kind is LineKind.LUMP_SUM:
            kept.append(row)
        else:
            left_out += 1
    body = render_table(
        ["运单 Waybill", "类别", "中心", "区域", "克", "日期", "金额"], [*rows, *kept]
    )
    if left_out:
        body += (
            f"\n… {left_out} of {len(statement.lines)} lines not shown (max_lines={max_lines}): "
            f"call to_table() without max_lines to print every line, or to_csv() for all "
            f"of them with their explanations"
        )
    parts = [*head, body, ""]
    for title, subtotals in (
        ("按中心 By center", statement.by_center),
        ("按业务 By business line", statement.by_business_line),
        ("按区域 By zone", statement.by_zone),
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
    if statement.lump_sum is not None:
        lump = statement.lump_sum
        quota = "no quota" if lump.quota is None else f"quota {lump.quota}"
        parts.append(
            f"包干 Lump sum {lump.amount.to_str()} ({quota}, {lump.pieces} pieces, "
            f"{lump.overage_pieces} over, payable {lump.payable.to_str()}, "
            f"refund {lump.refund.to_str()}, carried out {lump.carried_out})"
        )
    if statement.budget is not None:
        b = statement.budget
        status = "EXCEEDED 超预算" if b.exceeded else "within budget"
        parts.append(
            f"预算 Budget {b.annual.to_str()}: settled before {b.settled_before.to_str()}, "
            f"cumulative {b.cumulative.to_str()}, remaining {b.remaining.to_str()} ({status})"
        )
    fees = statement._columns._indices(LineKind.AGENT_FEE)
    fee_fen = [statement._columns._fen[index] for index in fees]
    if fee_fen:  # printed only when the agreement carries an agent fee
        fee_total = Money.from_fen(sum(fee_fen), statement.currency)
        parts.append(
            f"代办费 Agent fee: {fee_total.to_str()} on {len(fee_fen)} pieces "
            f"({'减收 deducted' if fee_total.amount < 0 else '加收 charged'}), in the total"
        )
    excluded = statement.excluded
    parts.append(
        f"件数 Pieces: {statement.pieces}; not billed: {excluded.not_covered} applicant-paid, "
        f"{excluded.not_picked_up} not picked up, {excluded.other_center} other centers, "
        f"{excluded.other_period} other periods, {excluded.outside_validity} outside the "
        f"agreement, {excluded.duplicates} duplicates, {excluded.billed_before} billed in "
        f"an earlier period"
    )
    parts.append(f"合计 Total: {statement.total.to_str()} {statement.currency}")
    parts.append(f"大写 In words: {amount_in_words(statement.total)}")
    return "\n".join(parts)


_MODE_NAMES = {SettlementMode.PER_PIECE: "per piece", SettlementMode.LUMP_SUM: "lump sum"}

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


def _fen_text(fen: int) -> str:
    """An amount in fen as the wire format writes it: ``1250`` → ``"12.50"``."""
    sign = "-" if fen < 0 else ""
    yuan, cents = divmod(abs(fen), 100)
    return f"{sign}{yuan}.{cents:02d}"


# --- reconciliation reports ---------------------------------------------------------------------


def report_csv(report: ReconciliationReport) -> str:
    """The items of a reconciliation as CSV for the finance office (UTF-8 text, header first).

    Columns: ``class, waybill, entry, ours, bill, difference, our_lines, bill_lines, detail``
    (``entry`` is the :class:`~govpost.settlement.BillableKind` value). For a spreadsheet,
    save it with ``encoding="utf-8-sig"``.

    >>> from govpost.settlement import Period, ReconciliationReport
    >>> clean = ReconciliationReport(
    ...     statement_id="S-1", period=Period.month(2018, 6), items=(),
    ...     statement_total=Money("0.00"), bill_total=Money("0.00"),
    ... )
    >>> report_csv(clean).splitlines()
    ['class,waybill,entry,ours,bill,difference,our_lines,bill_lines,detail']

    .. versionadded:: 0.2.0
    """
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(
        ["class", "waybill", "entry", "ours", "bill", "difference", "our_lines",
         "bill_lines", "detail"]
    )  # fmt: skip
    for item in report.items:
        writer.writerow(
            [
                item.kind.value,
                item.waybill or "",
                item.entry.value,
                "" if item.ours is None else item.ours.to_str(),
                "" if item.bill is None else item.bill.to_str(),
                item.difference.to_str(),
                " ".join(item.line_ids),
                " ".join(map(str, item.bill_lines)),
                item.detail,
            ]
        )
    return out.getvalue()


def report_table(report: ReconciliationReport, *, include_matched: bool = False) -> str:
    """A readable reconciliation: counts per class, then every discrepancy.

    Args:
        report: the reconciliation.
        include_matched: list the matched items too.

    >>> from govpost.settlement import Period, ReconciliationReport
    >>> clean = ReconciliationReport(
    ...     statement_id="S-1", period=Period.month(2018, 6), items=(),
    ...     statement_total=Money("0.00"), bill_total=Money("0.00"),
    ... )
    >>> report_table(clean).splitlines()[0]
    '对账 Reconciliation of S-1 (2018-06)'

    .. versionadded:: 0.2.0
    """
    counts = report.counts()
    summary = render_table(
        ["类别 Class", "件 Items", "差额 Difference"],
        [
            [
                f"{kind.label} {kind.value}",
                str(counts[kind]),
                sum(
                    (i.difference for i in report.of(kind)), Money.zero(report.bill_total.currency)
                ).to_str(),
            ]
            for kind in Discrepancy
        ],
    )
    shown = [i for i in report.items if include_matched or i.kind is not Discrepancy.MATCHED]
    details = render_table(
        ["类别", "运单 Waybill", "我方 Ours", "账单 Bill", "差额", "说明 Detail"],
        [
            [
                i.kind.label,
                i.waybill or "—",
                "" if i.ours is None else i.ours.to_str(),
                "" if i.bill is None else i.bill.to_str(),
                i.difference.to_str(),
                i.detail,
            ]
            for i in shown
        ],
    )
    return "\n".join(
        [
            f"对账 Reconciliation of {report.statement_id} ({report.period})",
            summary,
            "",
            details,
            "",
            f"我方合计 Ours {report.statement_total.to_str()}; 账单合计 Bill "
            f"{report.bill_total.to_str()}; 差额 Difference {report.difference.to_str()}",
        ]
    )


# --- amounts in words ---------------------------------------------------------------------------

_DIGITS = "零壹贰叁肆伍陆柒捌玖"
_PLACES = ("", "拾", "佰", "仟")
#: The large units, largest first: the part of a number above one is itself a number of it.
_UNITS = ((10**8, "亿"), (10**4, "万"))


def _group(value: int) -> str:
    """A number 1..9999 without leading zero: internal runs of zeros become one 零."""
    out: list[str] = []
    zero = False
    for place in range(3, -1, -1):
        digit = value // 10**place % 10
        if digit == 0:
            zero = bool(out)
            continue
        if zero:
            out.append("零")
            zero = False
        out.append(_DIGITS[digit] + _PLACES[place])
    return "".join(out)


def _number(value: int, level: int = 0) -> str:
    """A positive number below 10^16: the part above a unit (亿, then 万) is itself a number
    of that unit, written with the units below it (so 亿 never repeats: 壹万零壹亿, not
    壹万亿零壹亿), then the rest, with one 零 for any zeros between."""
    if level == len(_UNITS):
        return _group(value)
    base, unit = _UNITS[level]
    high, low = divmod(value, base)
    if not high:
        return _number(low, level + 1)
    text = _number(high, level + 1) + unit
    if low:
        text += ("零" if low < base // 10 else "") + _number(low, level + 1)
    return text


def amount_in_words(amount: Money) -> str:
    """``amount`` in Chinese capital numerals (大写金额), as written on finance documents.

    The rules of the payment-settlement measures (《支付结算办法》): ``元`` after the yuan,
    ``整`` when there are no fen (and no jiao), one ``零`` for any run of zeros inside the
    number, ``零`` between yuan and fen when the jiao is zero, ``拾`` always preceded by its
    digit (壹拾). From 10^8 on, the part above ``亿`` is itself written as a number of 亿, so
    ``亿`` never repeats (壹万零壹亿, not 壹万亿零壹亿). An amount below one yuan starts at its
    jiao or fen; a negative amount is prefixed with ``负``.

    Args:
        amount: a whole number of fen (round it first).

    Raises:
        ValidationError: the amount has fractions of a fen, or is 10^16 or more.

    >>> amount_in_words(Money("1480.00"))
    '壹仟肆佰捌拾元整'
    >>> amount_in_words(Money("1006.05"))
    '壹仟零陆元零伍分'
    >>> amount_in_words(Money("0.50")), amount_in_words(Money("100000.30"))
    ('伍角', '壹拾万元叁角')
    >>> amount_in_words(Money("-12.8"))
    '负壹拾贰元捌角'
    >>> amount_in_words(Money("1000100000000.00"))
    '壹万零壹亿元整'

    .. versionadded:: 0.1.0

    .. versionchanged:: 0.2.0
       Amounts of 10^12 and more no longer repeat 亿.
    """
    given: object = amount  # untyped callers pass anything
    if not isinstance(given, Money):
        raise ValidationError(f"amount_in_words() takes a Money, not {type(given).__name__}")
    fen = amount.fen
    if abs(fen) >= 10**18:
        raise ValidationError("amount is too large to write in capital numerals (at most 10^16)")
    sign = "负" if fen < 0 else ""
    yuan, rest = divmod(abs(fen), 100)
    jiao, cents = divmod(rest, 10)
    if yuan == 0 and rest == 0:
        return "零元整"
    text = _number(yuan) + "元" if yuan else ""
    if jiao:
        text += _DIGITS[jiao] + "角"
    elif cents and yuan:
        text += "零"
    if cents:
        text += _DIGITS[cents] + "分"
    elif not jiao:
        text += "整"
    return sign + text
