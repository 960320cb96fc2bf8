"""Call sites of govpost.settlement, checked by mypy (never run).

One right call (its result pinned with ``assert_type``) and one mistake (an expected error) for
every public constructor and function of settlement.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import assert_type

from govpost.agreements import FeeAgreement, SurchargeKind, Underuse
from govpost.centers import BusinessLine
from govpost.money import Money
from govpost.periods import Period
from govpost.regions import Zone
from govpost.settlement import (
    BillableKind,
    BillRow,
    BudgetPosition,
    CarrierBill,
    CenterShare,
    Discrepancy,
    Exclusions,
    FeeType,
    LineKind,
    LumpSumPosition,
    ReconciliationItem,
    ReconciliationReport,
    SettlementMode,
    SettlementRow,
    SettlementStatement,
    StatementLine,
    StatementLines,
    Subtotal,
    amount_in_words,
    prorate,
    reconcile,
    settle,
    split,
    waybill_key,
)
from govpost.settlement.documents import (
    render_table,
    report_csv,
    report_table,
    statement_csv,
    statement_table,
)
from govpost.shipments import Shipment

JUNE = Period.month(2018, 6)


def settling(agreement: FeeAgreement, shipment: Shipment, at: datetime) -> None:
    row = SettlementRow(
        "EA000000014CN", "GZ-520100", "licence_delivery", "outbound_result", "520102",
        "520103", 300, at,
    )  # fmt: skip
    assert_type(row, SettlementRow)
    SettlementRow("EA1", "GZ-1", "licence_delivery", "outbound_result", "520102", "520103", "300g", at)  # type: ignore[arg-type]  # fmt: skip
    assert_type(SettlementRow.from_shipment(shipment), SettlementRow)
    SettlementRow.from_shipment(row)  # type: ignore[arg-type]
    statement = settle(agreement, [shipment, row], JUNE)
    assert_type(statement, SettlementStatement)
    assert_type(
        settle(agreement, (s for s in [shipment]), JUNE, previous=[statement]), SettlementStatement
    )
    settle(agreement, [shipment], "2018-06")  # type: ignore[arg-type]
    settle(agreement, ["EA000000014CN"], JUNE)  # type: ignore[list-item]
    settle(agreement, [shipment], JUNE, previous=[agreement])  # type: ignore[list-item]
    assert_type(waybill_key(shipment), str)
    waybill_key("EA000000014CN")  # type: ignore[arg-type]


def lump_sums_and_splits() -> None:
    assert_type(prorate(Money("3000.00"), JUNE, date(2018, 6, 10), date(2018, 7, 1)), Money)
    prorate(Money("3000.00"), JUNE, "2018-06-10", date(2018, 7, 1))  # type: ignore[arg-type]
    assert_type(split(Money("100.00"), {"GZ-1": 1, "GZ-2": Decimal(2)}), tuple[CenterShare, ...])
    split(Money("100.00"), {"GZ-1": 1.5})  # type: ignore[dict-item]
    assert_type(CenterShare(center="GZ-1", weight=Decimal(1), amount=Money("1.00")), CenterShare)
    CenterShare(center="GZ-1", weight=Decimal(1), amount="1.00")  # type: ignore[arg-type]


def statements(statement: SettlementStatement, line: StatementLine) -> None:
    assert_type(
        StatementLine(
            waybill="GP-1", shipment_id="GP-1", kind=LineKind.CHARGE, center="GZ-1",
            business_line=BusinessLine.LICENCE_DELIVERY, zone=Zone.SAME_CITY,
            destination="520103", weight_g=300, day=date(2018, 6, 3), amount=Money("8.00"),
        ),
        StatementLine,
    )  # fmt: skip
    StatementLine(
        waybill="GP-1", shipment_id="GP-1", kind="charge", center="GZ-1",  # type: ignore[arg-type]
        business_line=BusinessLine.LICENCE_DELIVERY, zone=Zone.SAME_CITY,
        destination="520103", weight_g=300, day=date(2018, 6, 3), amount=Money("8.00"),
    )  # fmt: skip
    assert_type(StatementLines([line]), StatementLines)
    StatementLines(["GP-1/charge"])  # type: ignore[list-item]
    assert_type(line.kind.billable, BillableKind)
    assert_type(line.line_id, str)
    assert_type(
        SettlementStatement(
            statement_id="S-1", agreement_id="A", agreement_reference="R", carrier="ems",
            period=JUNE, mode=SettlementMode.PER_PIECE, currency="CNY", lines=[line],
            pieces=1, total=Money("8.00"), by_center=(), by_business_line=(), by_zone=(),
        ),
        SettlementStatement,
    )  # fmt: skip
    assert_type(
        SettlementStatement(
            statement_id="S-1", agreement_id="A", agreement_reference="R", carrier="ems",
            period=JUNE, mode="per_piece", currency="CNY", lines=(), pieces=0,
            total=Money("0.00"), by_center=(), by_business_line=(), by_zone=(),
        ).mode,
        SettlementMode,
    )  # fmt: skip
    SettlementStatement(
        statement_id="S-1", agreement_id="A", agreement_reference="R", carrier="ems",
        period=JUNE, mode=1, currency="CNY", lines=(), pieces=0,  # type: ignore[arg-type]
        total=Money("0.00"), by_center=(), by_business_line=(), by_zone=(),
    )  # fmt: skip
    assert_type(Subtotal(key="GZ-1", pieces=1, amount=Money("8.00")), Subtotal)
    Subtotal(key="GZ-1", pieces="1", amount=Money("8.00"))  # type: ignore[arg-type]
    assert_type(Exclusions(duplicates=2), Exclusions)
    Exclusions(duplicates="2")  # type: ignore[arg-type]
    zero = Money("0.00")
    assert_type(
        LumpSumPosition(
            amount=zero, days_in_force=30, quota=None, carried_in=0, pieces=0,
            overage_pieces=0, overage_amount=zero, payable=zero, refund=zero, carried_out=0,
            underuse=Underuse.KEEP,
        ),
        LumpSumPosition,
    )  # fmt: skip
    LumpSumPosition(
        amount=zero, days_in_force=30, quota=None, carried_in=0, pieces=0,
        overage_pieces=0, overage_amount=zero, payable=zero, refund=zero, carried_out=0,
        underuse="keep",  # type: ignore[arg-type]
    )  # fmt: skip
    assert_type(
        BudgetPosition(
            annual=zero, settled_before=zero, this_statement=zero, cumulative=zero,
            remaining=zero, exceeded=False, strict=False,
        ),
        BudgetPosition,
    )  # fmt: skip
    BudgetPosition(
        annual="0", settled_before=zero, this_statement=zero, cumulative=zero,  # type: ignore[arg-type]
        remaining=zero, exceeded=False, strict=False,
    )  # fmt: skip
    assert_type(statement.line("GP-1/charge"), StatementLine)
    statement.line(LineKind.CHARGE)  # type: ignore[arg-type]
    assert_type(statement.center_split({"GZ-1": 1}), tuple[CenterShare, ...])
    statement.center_split(["GZ-1"])  # type: ignore[arg-type]
    assert_type(line.surcharge(SurchargeKind.INSURANCE), Money)
    line.surcharge("insurance")  # type: ignore[arg-type]


def bills(statement: SettlementStatement) -> None:
    row = BillRow(
        line_no=2, waybill="EA000000014CN", pickup_date=date(2018, 6, 3), weight_g=300,
        destination=None, zone="same_city", fee_type=FeeType.POSTAGE, amount=Money("6.80"),
    )  # fmt: skip
    assert_type(row, BillRow)
    assert_type(row.zone, Zone | None)
    BillRow(
        line_no=2, waybill="EA000000014CN", pickup_date="2018-06-03", weight_g=300,  # type: ignore[arg-type]
        destination=None, zone=None, fee_type=FeeType.POSTAGE, amount=Money("6.80"),
    )  # fmt: skip
    BillRow(
        line_no=2, waybill="EA000000014CN", pickup_date=date(2018, 6, 3), weight_g=300,
        destination=None, zone=3, fee_type=FeeType.POSTAGE, amount=Money("6.80"),  # type: ignore[arg-type]
    )  # fmt: skip
    assert_type(CarrierBill(rows=(row,)), CarrierBill)
    CarrierBill(rows=[row])  # type: ignore[arg-type]
    assert_type(CarrierBill.from_csv(Path("bill.csv"), encoding="gbk"), CarrierBill)
    CarrierBill.from_csv(Path("bill.csv"), max_rows="10")  # type: ignore[arg-type]
    assert_type(CarrierBill.from_bytes(b"waybill\n"), CarrierBill)
    CarrierBill.from_bytes("waybill\n")  # type: ignore[arg-type]
    assert_type(CarrierBill.from_text("waybill\n", columns={"waybill": "邮件号"}), CarrierBill)
    CarrierBill.from_text(b"waybill\n")  # type: ignore[arg-type]
    assert_type(CarrierBill.from_statement(statement), CarrierBill)
    CarrierBill.from_statement(row)  # type: ignore[arg-type]
    assert_type(FeeType.CREDIT.billable, BillableKind)


def reconciling(statement: SettlementStatement, bill: CarrierBill) -> None:
    report = reconcile(statement, bill)
    assert_type(report, ReconciliationReport)
    reconcile(bill, statement)  # type: ignore[arg-type]
    assert_type(report.period, Period)
    assert_type(report.of(Discrepancy.MATCHED), tuple[ReconciliationItem, ...])
    report.of("matched")  # type: ignore[arg-type]
    item = ReconciliationItem(
        kind=Discrepancy.MATCHED, waybill="EA000000014CN", entry=BillableKind.PIECE,
        ours=None, bill=None, difference=Money("0.00"), line_ids=(), bill_lines=(),
    )  # fmt: skip
    assert_type(item.entry, BillableKind)
    ReconciliationItem(
        kind=Discrepancy.MATCHED, waybill="EA000000014CN", entry=1,  # type: ignore[arg-type]
        ours=None, bill=None, difference=Money("0.00"), line_ids=(), bill_lines=(),
    )  # fmt: skip
    assert_type(
        ReconciliationReport(
            statement_id="S-1", period="2018-06", items=(item,),
            statement_total=Money("0.00"), bill_total=Money("0.00"),
        ),
        ReconciliationReport,
    )  # fmt: skip
    ReconciliationReport(
        statement_id="S-1", period=date(2018, 6, 1), items=(item,),  # type: ignore[arg-type]
        statement_total=Money("0.00"), bill_total=Money("0.00"),
    )  # fmt: skip


def documents(statement: SettlementStatement, report: ReconciliationReport) -> None:
    assert_type(amount_in_words(Money("12.50")), str)
    amount_in_words(Decimal("12.50"))  # type: ignore[arg-type]
    assert_type(render_table(["区域"], [["同城"]]), str)
    render_table(["区域"], [[1]])  # type: ignore[list-item]
    assert_type(statement_table(statement, max_lines=10), str)
    statement_table(statement, max_lines="10")  # type: ignore[arg-type]
    assert_type(statement_csv(statement), str)
    statement_csv(report)  # type: ignore[arg-type]
    assert_type(report_table(report, include_matched=True), str)
    report_table(statement)  # type: ignore[arg-type]
    assert_type(report_csv(report), str)
    report_csv(statement)  # type: ignore[arg-type]
    assert_type(statement.to_table(), str)
    statement.to_table(max_lines=None, full=True)  # type: ignore[call-arg]
    assert_type(report.to_csv(), str)
    assert_type(SettlementMode.LUMP_SUM.label, str)
