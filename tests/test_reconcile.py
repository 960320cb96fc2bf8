"""Reconciliation against the carrier's bill, the bill reader, and capital numerals."""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import attrs
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from govpost.agreements import (
    AgentFee,
    Budget,
    Coverage,
    FeeAgreement,
    FlatTariff,
    PerPiece,
    RateCard,
)
from govpost.errors import CurrencyMismatchError, DeserializationError, ValidationError
from govpost.money import Money
from govpost.periods import SHANGHAI
from govpost.serialization import from_json, to_json
from govpost.settlement import (
    BillableKind,
    BillRow,
    CarrierBill,
    Discrepancy,
    FeeType,
    Period,
    SettlementStatement,
    amount_in_words,
    reconcile,
    settle,
)
from govpost.shipments import Shipment
from tests.strategies import (
    any_agreements,
    lump_sum_agreements,
    per_piece_agreements,
    shipment_batches,
)

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "examples" / "data"
JUNE = Period.month(2018, 6)


def june_statement() -> SettlementStatement:
    card = RateCard.from_toml((DATA / "ems-rates-2018.toml").read_text(encoding="utf-8"))
    shipments = from_json(
        (DATA / "shipments-2018-06.json").read_text(encoding="utf-8"), list[Shipment]
    )
    agreement = FeeAgreement(
        id="GZ-EMS-2018",
        carrier="ems",
        reference="黔政办〔2018〕1号",
        centers={"GZ-520100", "GZ-520200"},
        covers=[Coverage(business_line="licence_delivery", direction="outbound_result")],
        mode=PerPiece(tariff=card, discount="0.15"),
        valid_from=date(2018, 1, 1),
        budget=Budget(annual="20000.00"),
    )
    return settle(agreement, shipments, JUNE)


# --- worked example --------------------------------------------------------------------------------


def test_reconciliation_with_one_item_of_each_class_from_a_gbk_csv() -> None:
    statement = june_statement()
    # Hand-computed (八五折, rate change on the 16th): 6.80 + 11.90 + 17.00 + 6.80 + 7.65
    # + (5.95 + 5.00 保价) + 7.65 + 7.65.
    assert statement.total == Money("76.40")
    raw = (DATA / "ems-bill-2018-06-gbk.csv").read_bytes()
    with pytest.raises(UnicodeDecodeError):
        raw.decode("utf-8")
    bill = CarrierBill.from_csv(DATA / "ems-bill-2018-06-gbk.csv")
    assert bill.total == Money("92.25")
    report = reconcile(statement, bill)
    found = {
        (item.kind, item.waybill, item.difference.to_str())
        for item in report.items
        if item.kind is not Discrepancy.MATCHED
    }
    assert found == {
        (Discrepancy.MISSING_IN_BILL, "EA520180628CN", "-11.90"),
        (Discrepancy.MISSING_IN_OURS, "EA520180693CN", "9.00"),
        (Discrepancy.AMOUNT_MISMATCH, "EA520180631CN", "3.00"),
        (Discrepancy.WEIGHT_MISMATCH, "EA520180645CN", "0.85"),  # 650 g billed, 450 g ours
        (Discrepancy.ZONE_MISMATCH, "EA520180659CN", "4.25"),
        (Discrepancy.SURCHARGE_MISMATCH, "EA520180662CN", "3.00"),  # 保价 8.00 vs 5.00
        (Discrepancy.DUPLICATE, "EA520180676CN", "7.65"),
        (Discrepancy.PERIOD_MISMATCH, "EA520180680CN", "0.00"),  # billed 07-01, ours 06-30
    }
    assert [i.waybill for i in report.of(Discrepancy.MATCHED)] == [
        "EA520180614CN",
        "EA520180676CN",
    ]
    assert report.difference == Money("15.85")
    assert sum((i.difference for i in report.items), Money.zero()) == Money("15.85")
    assert not report.is_clean
    table = report.to_table()
    assert "重复计费" in table
    assert "差额 Difference 15.85" in table
    csv_lines = report.to_csv().splitlines()
    assert csv_lines[0] == ("class,waybill,entry,ours,bill,difference,our_lines,bill_lines,detail")
    assert (
        'surcharge_mismatch,EA520180662CN,piece,10.95,13.95,3.00,EA520180662CN/charge,6 7,"保价费 billed 8.00, ours 5.00"'
        in csv_lines
    )


BILL_TEXT = (
    "运单号,揽收日期,重量(克),寄达地,费用类型,金额\nEA520180614CN,2018/6/3,300,同城,邮费,6.80\n"
)


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "gbk", "gb18030"])
def test_bill_encodings_are_detected(tmp_path: Path, encoding: str) -> None:
    path = tmp_path / "bill.csv"
    path.write_bytes(BILL_TEXT.encode(encoding))
    (row,) = CarrierBill.from_csv(path).rows
    assert (row.waybill, row.pickup_date, row.weight_g, row.fee_type, row.amount) == (
        "EA520180614CN",
        date(2018, 6, 3),
        300,
        FeeType.POSTAGE,
        Money("6.80"),
    )
    assert row.zone is not None
    assert row.zone.label == "同城"


def test_columns_can_be_renamed(tmp_path: Path) -> None:
    path = tmp_path / "bill.csv"
    path.write_text(
        "邮件号码,日期,计费重量,type,fee\nEA520180614CN,2018-06-03,1.25,postage,6.80\n",
        encoding="utf-8",
    )
    columns = {
        "waybill": "邮件号码",
        "pickup_date": "日期",
        "weight_kg": "计费重量",
        "fee_type": "type",
        "amount": "fee",
    }
    (row,) = CarrierBill.from_csv(path, columns=columns).rows
    assert (row.weight_g, row.amount) == (1250, Money("6.80"))


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("运单号,揽收日期,费用类型\nEA1,2018-06-03,邮费\n", r"no column for amount \(looked for amount / 金额\)"),
        ("运单号,揽收日期,费用类型,金额\nEA1,2018-06-03,邮费,6.80\nEA2,2018-06-03,邮费,六元\n",
         r"line 3, amount: '六元' is not an amount"),
        ("运单号,揽收日期,费用类型,金额\nEA1,2018-06-03,邮费,6.805\n", r"line 2, amount: '6.805'"),
        ("运单号,揽收日期,费用类型,金额\nEA1,2018-06-31,邮费,6.80\n", r"line 2, pickup_date: '2018-06-31'"),
        ("运单号,揽收日期,费用类型,金额\nEA1,2018-06-03,快递,6.80\n", r"line 2, fee_type: '快递'"),
        ("运单号,揽收日期,费用类型,金额\n,2018-06-03,邮费,6.80\n", r"line 2, waybill: '' is empty"),
        ("运单号,揽收日期,重量(千克),费用类型,金额\nEA1,2018-06-03,0.0005,邮费,6.80\n",
         r"line 2, weight_kg: '0.0005' is not a positive whole number of kilograms"),
        ("运单号,揽收日期,重量(克),费用类型,金额\nEA1,2018-06-03,300.5,邮费,6.80\n",
         r"line 2, weight_g: '300.5'"),
        ("运单号,揽收日期,寄达地,费用类型,金额\nEA1,2018-06-03,贵阳,邮费,6.80\n",
         r"line 2, destination: '贵阳'"),
        ("运单号,揽收日期,重量,费用类型,金额\nEA1,2018-06-03,1,邮费,6.80\n",
         r"column '重量' does not say its unit: map it with columns=\{'weight_g': '重量'\}"),
        ("", "the CSV is empty"),
    ],
)  # fmt: skip
def test_bad_bills_name_the_line_and_the_field(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "bill.csv"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(DeserializationError, match=message):
        CarrierBill.from_csv(path)


def test_unknown_column_field_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "bill.csv"
    path.write_text(BILL_TEXT, encoding="utf-8")
    with pytest.raises(DeserializationError, match="unknown fields price"):
        CarrierBill.from_csv(path, columns={"price": "金额"})


def test_bill_in_another_currency_is_refused() -> None:
    statement = june_statement()
    bill = CarrierBill(rows=(), currency="USD")
    with pytest.raises(CurrencyMismatchError, match="USD"):
        reconcile(statement, bill)


# --- properties ------------------------------------------------------------------------------------

JUNE_BATCH = shipment_batches(start=date(2018, 6, 1), days=30)


@st.composite
def mutated_bills(draw: st.DrawFn, statement: SettlementStatement) -> CarrierBill:
    """The bill the statement expects, with rows dropped, repriced, reweighed, redated,
    duplicated and invented."""
    rows = list(CarrierBill.from_statement(statement).rows)
    out: list[BillRow] = []
    for row in rows:
        action = draw(st.sampled_from(["keep", "keep", "drop", "price", "weigh", "date", "dup"]))
        if action == "drop":
            continue
        if action == "price":
            row = attrs.evolve(
                row, amount=row.amount + Money.from_fen(draw(st.integers(-500, 500)))
            )
        elif action == "weigh" and row.weight_g:
            row = attrs.evolve(row, weight_g=row.weight_g + 1)
        elif action == "date":
            row = attrs.evolve(row, pickup_date=row.pickup_date + timedelta(days=31))
        out.append(row)
        if action == "dup":
            out.append(row)
    for i in range(draw(st.integers(0, 3))):
        out.append(
            BillRow(
                line_no=0,
                waybill=f"XX{i:08d}",
                pickup_date=date(2018, 6, 1 + i),
                weight_g=None,
                destination=None,
                zone=None,
                fee_type=draw(st.sampled_from([FeeType.POSTAGE, FeeType.INSURANCE])),
                amount=Money.from_fen(draw(st.integers(1, 5000))),
            )
        )
    numbered = tuple(attrs.evolve(r, line_no=i + 2) for i, r in enumerate(out))
    return CarrierBill(rows=numbered, currency=statement.currency)


@settings(max_examples=40)
@given(any_agreements, JUNE_BATCH, st.data())
def test_classes_partition_both_sides(
    agreement: FeeAgreement, shipments: list[Shipment], data: st.DataObject
) -> None:
    """Reconciliation: every statement line and every bill row is in exactly one item."""
    statement = settle(agreement, shipments, JUNE)
    bill = data.draw(mutated_bills(statement))
    report = reconcile(statement, bill)
    ours = [line_id for item in report.items for line_id in item.line_ids]
    theirs = [n for item in report.items for n in item.bill_lines]
    assert sorted(ours) == sorted(line.line_id for line in statement.lines)
    assert sorted(theirs) == sorted(row.line_no for row in bill.rows)
    assert sum(report.counts().values()) == len(report.items)


@settings(max_examples=40)
@given(any_agreements, JUNE_BATCH, st.data())
def test_signed_differences_sum_to_bill_total_minus_ours(
    agreement: FeeAgreement, shipments: list[Shipment], data: st.DataObject
) -> None:
    """Reconciliation: Σ signed differences == bill total − statement total."""
    statement = settle(agreement, shipments, JUNE)
    bill = data.draw(mutated_bills(statement))
    report = reconcile(statement, bill)
    total = sum((item.difference for item in report.items), Money.zero())
    assert total == bill.total - statement.total == report.difference


@settings(max_examples=30)
@given(any_agreements, JUNE_BATCH)
def test_a_statement_reconciled_with_itself_is_all_matched(
    agreement: FeeAgreement, shipments: list[Shipment]
) -> None:
    """Reconciliation: a statement reconciled with the bill it expects is all matched."""
    statement = settle(agreement, shipments, JUNE)
    report = reconcile(statement, CarrierBill.from_statement(statement))
    assert report.is_clean
    assert len(report.items) == len(statement.lines)


# --- agent fee --------------------------------------------------------------------------------------


def agent_statement() -> SettlementStatement:
    """Two pieces of a government-agent center at 12.00, 1.00 packaging fee deducted each."""
    agreement = FeeAgreement(
        id="GZ-AGENT-2018",
        carrier="ems",
        reference="黔政办〔2018〕3号",
        centers={"GZ-522700"},
        covers=Coverage.all(),
        valid_from=date(2018, 1, 1),
        mode=PerPiece(tariff=FlatTariff(price="12.00")),
        agent_fee=AgentFee(per_piece=Money("1.00"), reference="第五条"),
    )
    at = datetime(2018, 6, 5, 15, tzinfo=SHANGHAI)
    pieces = [
        Shipment(id=waybill, center="GZ-522700", business_line="licence_delivery",
                 direction="outbound_result", origin="522701", destination="522701",
                 weight_g=200, created_at=at, picked_up_at=at, status="picked_up")
        for waybill in ("GP-1", "GP-2")
    ]  # fmt: skip
    return settle(agreement, pieces, JUNE)


def test_a_carriers_bill_names_the_agent_fee_and_each_fee_is_its_own_entry() -> None:
    """The bill lists the packaging fee (代办费 or 包装费) as its own row per piece: matched
    entry by entry; a bill that forgets one fee is short of the deduction by exactly it."""
    statement = agent_statement()
    assert statement.total == Money("22.00")  # 2 × 12.00 − 2 × 1.00
    bill = CarrierBill.from_text(
        "运单号,揽收日期,重量(克),寄达地,费用类型,金额\n"
        "GP-1,2018-06-05,200,522701,邮费,12.00\n"
        "GP-1,2018-06-05,200,522701,代办费,-1.00\n"
        "GP-2,2018-06-05,200,522701,邮费,12.00\n"
        "GP-2,2018-06-05,,,包装费,-1.00\n"
    )
    assert [row.fee_type for row in bill.rows] == [
        FeeType.POSTAGE, FeeType.AGENT_FEE, FeeType.POSTAGE, FeeType.AGENT_FEE
    ]  # fmt: skip
    report = reconcile(statement, bill)
    assert report.is_clean
    assert [(item.waybill, item.entry, item.line_ids) for item in report.items] == [
        ("GP-1", BillableKind.PIECE, ("GP-1/charge",)),
        ("GP-1", BillableKind.AGENT_FEE, ("GP-1/agent_fee",)),
        ("GP-2", BillableKind.PIECE, ("GP-2/charge",)),
        ("GP-2", BillableKind.AGENT_FEE, ("GP-2/agent_fee",)),
    ]
    short = CarrierBill(rows=bill.rows[:3], currency="CNY")
    report = reconcile(statement, short)
    (missing,) = report.of(Discrepancy.MISSING_IN_BILL)
    assert (missing.line_ids, missing.entry, missing.difference) == (
        ("GP-2/agent_fee",),
        BillableKind.AGENT_FEE,
        Money("1.00"),  # the bill is 1.00 higher: the deduction it forgot
    )
    assert report.difference == Money("1.00")


@settings(max_examples=25)
@given(
    st.one_of(per_piece_agreements(agent_fee=True), lump_sum_agreements(agent_fee=True)),
    JUNE_BATCH,
)
def test_a_statement_with_agent_fees_reconciled_with_itself_is_all_matched(
    agreement: FeeAgreement, shipments: list[Shipment]
) -> None:
    """Reconciliation: with agent fee lines too, a statement reconciled with the bill it
    expects is all matched, one item per line."""
    statement = settle(agreement, shipments, JUNE)
    report = reconcile(statement, CarrierBill.from_statement(statement))
    assert report.is_clean
    assert len(report.items) == len(statement.lines)
    fees = [item for item in report.items if item.entry is BillableKind.AGENT_FEE]
    assert len(fees) == statement.pieces


# --- capital numerals ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("amount", "words"),
    [
        ("1480.00", "壹仟肆佰捌拾元整"),
        ("1006.05", "壹仟零陆元零伍分"),
        ("0.50", "伍角"),
        ("0.05", "伍分"),
        ("0.00", "零元整"),
        ("10.00", "壹拾元整"),
        ("12.34", "壹拾贰元叁角肆分"),
        ("100010.00", "壹拾万零壹拾元整"),
        ("1000000.00", "壹佰万元整"),
        ("100000001.00", "壹亿零壹元整"),
        ("1010101000.00", "壹拾亿壹仟零壹拾万壹仟元整"),
        ("1480000.00", "壹佰肆拾捌万元整"),  # the report's 1.48 million yuan
        ("-3.20", "负叁元贰角"),
    ],
)
def test_capital_numerals(amount: str, words: str) -> None:
    assert amount_in_words(Money(amount)) == words


def test_capital_numerals_refuse_fractions_of_a_fen() -> None:
    with pytest.raises(ValidationError, match="rounded"):
        amount_in_words(Money("1.005"))


_DIGIT = {c: i for i, c in enumerate("零壹贰叁肆伍陆柒捌玖")}
_UNIT = {"拾": 10, "佰": 100, "仟": 1000}


def _parse_group(text: str) -> int:
    value, digit = 0, 0
    for ch in text:
        if ch in _DIGIT:
            digit = _DIGIT[ch]
        elif ch in _UNIT:
            value += digit * _UNIT[ch]
            digit = 0
    return value + digit


def _parse_words(text: str) -> int:
    """Read capital numerals back to fen, written independently of govpost."""
    sign = -1 if text.startswith("负") else 1
    text = text.removeprefix("负").removesuffix("整")
    yuan_text, _, rest = text.partition("元") if "元" in text else ("", "", text)

    def below_yi(part: str) -> int:
        head, _, part = part.rpartition("万")
        return _parse_group(head) * 10**4 + _parse_group(part)

    # The part above 亿 is itself a number of 亿 (壹万零壹亿): 亿 is written once at most.
    head, _, yuan_text = yuan_text.rpartition("亿")
    yuan = below_yi(head) * 10**8 + below_yi(yuan_text)
    jiao = re.search(r"(.)角", rest)
    fen = re.search(r"(.)分", rest)
    return sign * (
        yuan * 100 + (_DIGIT[jiao[1]] * 10 if jiao else 0) + (_DIGIT[fen[1]] if fen else 0)
    )


@given(st.integers(-(10**15), 10**15))
def test_capital_numerals_read_back_to_the_amount(fen: int) -> None:
    """Money: writing an amount in capital numerals loses nothing — it reads back exactly, and
    never shows two 零 in a row."""
    words = amount_in_words(Money.from_fen(fen))
    assert "零零" not in words
    assert _parse_words(words) == fen
    assert Decimal(fen) / 100 == Money.from_fen(fen).amount


def test_bill_and_report_round_trip_through_json() -> None:
    """Wire format: the bill and the reconciliation report round-trip through JSON."""
    statement = june_statement()
    bill = CarrierBill.from_csv(DATA / "ems-bill-2018-06-gbk.csv")
    report = reconcile(statement, bill)
    assert from_json(to_json(bill), CarrierBill) == bill
    assert from_json(to_json(report), type(report)) == report


def test_a_report_period_is_a_period_and_a_text_one_is_parsed() -> None:
    statement = june_statement()
    report = reconcile(statement, CarrierBill.from_statement(statement))
    assert report.period == JUNE
    assert attrs.evolve(report, period="2018-06") == report
    with pytest.raises(ValidationError, match="period 201806 must be a Period or its text"):
        attrs.evolve(report, period=201806)
    assert from_json(to_json(report), type(report)) == report
