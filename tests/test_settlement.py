"""Settlement: worked examples with hand-computed amounts, bad input, and the invariants."""

from __future__ import annotations

import gc
import itertools
import math
import random
import tracemalloc
import weakref
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal
from fractions import Fraction
from typing import Any

import attrs
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import govpost
from govpost.agreements import (
    AgentFee,
    AgentFeeKind,
    Budget,
    Coverage,
    FeeAgreement,
    FlatTariff,
    Insurance,
    PerPiece,
    Rate,
    RateCard,
    ReturnPolicy,
    Underuse,
    WeightTariff,
    business_date,
)
from govpost.centers import BusinessLine
from govpost.errors import (
    BudgetExceededError,
    CurrencyMismatchError,
    SettlementError,
    ValidationError,
)
from govpost.money import Money, allocate
from govpost.regions import Zone
from govpost.serialization import from_json, to_json
from govpost.settlement import (
    BillableKind,
    CarrierBill,
    Discrepancy,
    Exclusions,
    FeeType,
    LineKind,
    Period,
    ReconciliationItem,
    SettlementMode,
    SettlementRow,
    SettlementStatement,
    StatementLine,
    StatementLines,
    amount_in_words,
    documents,
    prorate,
    reconcile,
    settle,
    split,
    waybill_key,
)
from govpost.shipments import Direction, Shipment, ShipmentStatus
from tests.strategies import (
    SETTLEMENT_CENTERS,
    SHANGHAI,
    any_agreements,
    lump_sum_agreement,
    lump_sum_agreements,
    per_piece_agreements,
    shipment_batches,
)

JUNE = Period.month(2018, 6)
EMS = WeightTariff.uniform(
    first_g=500,
    step_g=500,
    first_fee={"same_city": "8.00", "in_province": "10.00", "out_of_province": "15.00"},
    step_fee={"same_city": "1.00", "in_province": "2.00", "out_of_province": "5.00"},
)
EMS_CARD = RateCard.single(
    EMS,
    reference="黔邮〔2018〕12号",
    valid_from=date(2018, 1, 1),
    insurance=Insurance(rate="0.005", minimum="1.00"),
    return_receipt="3.00",
)
DEST = {Zone.SAME_CITY: "520103", Zone.IN_PROVINCE: "520201", Zone.OUT_OF_PROVINCE: "110105"}


def at(day: int, hour: int = 10, minute: int = 0, month: int = 6) -> datetime:
    return datetime(2018, month, day, hour, minute, tzinfo=SHANGHAI)


def ship(
    number: int,
    zone: Zone,
    weight: int,
    picked: datetime | None,
    *,
    center: str = "GZ-520100",
    **fields: Any,
) -> Shipment:
    created = (picked or at(1)) - timedelta(hours=1)
    return Shipment(
        id=f"GP-{number:04d}",
        center=center,
        business_line=fields.pop("business_line", BusinessLine.LICENCE_DELIVERY),
        direction=fields.pop("direction", Direction.OUTBOUND_RESULT),
        origin="520102",
        destination=DEST[zone],
        weight_g=weight,
        created_at=created,
        picked_up_at=picked,
        status=fields.pop(
            "status", ShipmentStatus.PICKED_UP if picked else ShipmentStatus.AWAITING_PICKUP
        ),
        **fields,
    )


def per_piece(
    tariff: WeightTariff | FlatTariff | RateCard = EMS_CARD,
    *,
    discount: str = "0",
    **fields: Any,
) -> FeeAgreement:
    defaults: dict[str, Any] = {
        "id": "GZ-EMS-2018",
        "carrier": "ems",
        "reference": "黔政办〔2018〕1号",
        "centers": set(SETTLEMENT_CENTERS),
        "covers": Coverage.all(),
        "valid_from": date(2018, 1, 1),
    }
    defaults.update(fields)
    return FeeAgreement(mode=PerPiece(tariff=tariff, discount=discount), **defaults)


def amounts(statement: SettlementStatement) -> dict[str, str]:
    return {line.line_id: line.amount.to_str() for line in statement.lines}


# --- worked examples -------------------------------------------------------------------------------


def test_per_piece_month_with_mixed_zones() -> None:
    shipments = [
        ship(1, Zone.SAME_CITY, 300, at(2)),  # 8.00
        ship(2, Zone.IN_PROVINCE, 1200, at(3), center="GZ-520200"),  # 10 + 2 × 2 = 14.00
        ship(3, Zone.OUT_OF_PROVINCE, 2300, at(4)),  # 15 + 4 × 5 = 35.00
        ship(4, Zone.IN_PROVINCE, 500, at(5), declared_value=Money("1000")),  # 10 + 5.00 保价
        ship(5, Zone.SAME_CITY, 800, at(6), return_receipt=True),  # 8 + 1 + 3.00 回执
    ]
    statement = settle(per_piece(), shipments, JUNE)
    assert amounts(statement) == {
        "GP-0001/charge": "8.00",
        "GP-0002/charge": "14.00",
        "GP-0003/charge": "35.00",
        "GP-0004/charge": "15.00",
        "GP-0005/charge": "12.00",
    }
    assert statement.total == Money("84.00")
    assert statement.pieces == 5
    # Zones near to far (同城, 省内, 省外), as a finance office reads them, not alphabetically.
    assert [(s.key, s.pieces, s.amount.to_str()) for s in statement.by_zone] == [
        ("same_city", 2, "20.00"),
        ("in_province", 2, "29.00"),
        ("out_of_province", 1, "35.00"),
    ]
    assert [(s.key, s.pieces, s.amount.to_str()) for s in statement.by_center] == [
        ("GZ-520100", 4, "70.00"),
        ("GZ-520200", 1, "14.00"),
    ]
    line = statement.line("GP-0004/charge")
    assert line.breakdown is not None
    assert line.explain() == (
        "省内 500 g: 首重 10.00 + 保价费 5.00 = 15.00 → 15.00 (黔邮〔2018〕12号)"
    )
    assert amount_in_words(statement.total) == "捌拾肆元整"


def test_discount_producing_half_fen_lines_is_rounded_per_line_never_on_the_total() -> None:
    shipments = [ship(i, Zone.SAME_CITY, 100, at(i + 1)) for i in range(3)]
    statement = settle(per_piece(FlatTariff(price="12.50"), discount="0.15"), shipments, JUNE)
    # 12.50 × 0.85 = 10.625 → 10.63 per line; 3 lines = 31.89 (not 31.875 → 31.88).
    assert {line.amount for line in statement.lines} == {Money("10.63")}
    assert statement.total == Money("31.89")


def _lump_pieces(n: int, *, month: int = 6, offset: int = 0) -> list[Shipment]:
    return [
        ship(offset + i, Zone.IN_PROVINCE, 300, at(1 + i % 28, month=month, minute=i % 60))
        for i in range(n)
    ]


@pytest.mark.parametrize(
    ("underuse", "pieces", "total", "refund", "carried"),
    [
        (Underuse.KEEP, 8, "300.00", "0.00", 0),  # 结余留用: the lump sum stands
        (Underuse.PRO_RATA, 8, "240.00", "60.00", 0),  # 300 × 8/10
        (Underuse.CARRY_FORWARD, 8, "300.00", "0.00", 2),
        (Underuse.KEEP, 13, "336.00", "0.00", 0),  # 300 + 3 × 12.00 overage
        (Underuse.PRO_RATA, 13, "336.00", "0.00", 0),
        (Underuse.CARRY_FORWARD, 13, "336.00", "0.00", 0),
    ],
)
def test_lump_sum_under_and_over_quota(
    underuse: Underuse, pieces: int, total: str, refund: str, carried: int
) -> None:
    agreement = lump_sum_agreement(
        "300.00", quota=10, overage=FlatTariff(price="12.00"), underuse=underuse
    )
    statement = settle(agreement, _lump_pieces(pieces), JUNE)
    assert statement.total == Money(total)
    assert statement.lump_sum is not None
    assert statement.lump_sum.refund == Money(refund)
    assert statement.lump_sum.carried_out == carried
    kinds = Counter(line.kind for line in statement.lines)
    assert kinds[LineKind.OVERAGE] == max(0, pieces - 10)
    assert kinds[LineKind.COVERED] == min(pieces, 10)
    assert kinds[LineKind.LUMP_SUM] == 1
    # The overage pieces are the last picked up.
    overage = sorted(line.day for line in statement.lines if line.kind is LineKind.OVERAGE)
    covered = sorted(line.day for line in statement.lines if line.kind is LineKind.COVERED)
    assert not overage or covered[-1] <= overage[0]


def test_pro_rata_refund_with_a_share_that_is_not_whole_fen() -> None:
    agreement = lump_sum_agreement("100.00", quota=3, underuse=Underuse.PRO_RATA)
    statement = settle(agreement, _lump_pieces(1), JUNE)
    assert statement.lump_sum is not None
    # allocate(100.00, [1, 2]) = [33.33, 66.67]: payable + refund == 100.00 exactly.
    assert (statement.lump_sum.payable, statement.lump_sum.refund) == (
        Money("33.33"),
        Money("66.67"),
    )
    assert statement.total == Money("33.33")


def test_carry_forward_moves_unused_quota_to_the_next_month() -> None:
    agreement = lump_sum_agreement(
        "300.00", quota=10, overage=FlatTariff(price="12.00"), underuse=Underuse.CARRY_FORWARD
    )
    june = settle(agreement, _lump_pieces(8), JUNE)
    july = settle(
        agreement, _lump_pieces(13, month=7, offset=100), Period.month(2018, 7), previous=[june]
    )
    assert july.lump_sum is not None
    assert (july.lump_sum.carried_in, july.lump_sum.quota) == (2, 12)
    assert july.total == Money("312.00")  # one piece over 12


def test_only_the_period_just_before_carries_quota_forward() -> None:
    agreement = lump_sum_agreement(
        "300.00", quota=10, overage=FlatTariff(price="12.00"), underuse=Underuse.CARRY_FORWARD
    )
    may = settle(agreement, _lump_pieces(8, month=5), Period.month(2018, 5))  # leaves 2
    june = settle(agreement, _lump_pieces(10, offset=100), JUNE, previous=[may])  # 12, leaves 2
    assert june.lump_sum is not None
    assert (june.lump_sum.quota, june.lump_sum.carried_out) == (12, 2)
    full = settle(agreement, _lump_pieces(12, offset=200), JUNE, previous=[may])
    assert full.lump_sum is not None
    assert full.lump_sum.carried_out == 0
    # July: June's statement (nothing left) decides, in whatever order `previous` lists them;
    # May's unused quota expired with June.
    july = Period.month(2018, 7)
    for previous in ([may, full], [full, may]):
        statement = settle(
            agreement, _lump_pieces(11, month=7, offset=300), july, previous=previous
        )
        assert statement.lump_sum is not None
        assert (statement.lump_sum.carried_in, statement.lump_sum.quota) == (0, 10)
        assert statement.total == Money("312.00")  # 300.00 + 1 × 12.00
    skipped = settle(agreement, _lump_pieces(11, month=7, offset=300), july, previous=[may])
    assert skipped.lump_sum is not None
    assert skipped.lump_sum.carried_in == 0  # May is not the period just before July


def test_lines_are_ordered_by_date_then_waybill_then_kind() -> None:
    agreement = per_piece(FlatTariff(price="10.00"), return_policy=ReturnPolicy.CHARGE_RETURN_LEG)
    shipments = [
        ship(1, Zone.SAME_CITY, 300, at(9)),
        ship(2, Zone.SAME_CITY, 300, at(3)),
        ship(
            3, Zone.SAME_CITY, 300, at(3, 9), returned_at=at(3, 18), status=ShipmentStatus.RETURNED
        ),
    ]
    statement = settle(agreement, shipments, JUNE)
    assert [line.line_id for line in statement.lines] == [
        "GP-0002/charge",
        "GP-0003/charge",
        "GP-0003/return_leg",
        "GP-0001/charge",
    ]


def test_agreement_starting_mid_month_prorates_amount_and_quota_by_days() -> None:
    agreement = lump_sum_agreement(
        "3000.00", quota=100, overage=FlatTariff(price="12.00"), valid_from=date(2018, 7, 10)
    )
    shipments = [
        ship(1, Zone.SAME_CITY, 300, at(9, month=7)),  # before the agreement: not billed
        ship(2, Zone.SAME_CITY, 300, at(10, month=7)),
    ]
    statement = settle(agreement, shipments, Period.month(2018, 7))
    lump = statement.lump_sum
    assert lump is not None
    # July has 31 days, 22 of them in force (10th to 31st). The share of the days before the
    # 10th is allocate(3000.00, [9, 22])[0] = 870.97 (870.967… takes the odd fen: its remainder
    # .0077 beats 2129.032…'s .0022), so the 22 days get 3000.00 − 870.97 = 2129.03; the quota
    # likewise: 100 × 9/31 = 29.03 → 29, so 71 pieces.
    assert (lump.amount, lump.quota, lump.days_in_force) == (Money("2129.03"), 71, 22)
    assert statement.total == Money("2129.03")
    assert statement.pieces == 1
    assert statement.excluded.outside_validity == 1
    # The days before complete the month exactly.
    assert prorate(Money("3000.00"), Period.month(2018, 7), date(2018, 7, 1), date(2018, 7, 10)) + (
        lump.amount
    ) == Money("3000.00")


def test_per_piece_agreement_starting_mid_month_bills_only_days_in_force() -> None:
    agreement = per_piece(FlatTariff(price="10.00"), valid_from=date(2018, 6, 16))
    shipments = [ship(1, Zone.SAME_CITY, 300, at(15)), ship(2, Zone.SAME_CITY, 300, at(16))]
    statement = settle(agreement, shipments, JUNE)
    assert list(amounts(statement)) == ["GP-0002/charge"]


def test_rate_change_on_the_16th() -> None:
    card = RateCard(
        name="EMS",
        rates=[
            Rate(
                valid_from=date(2018, 1, 1),
                valid_until=date(2018, 6, 16),
                reference="old",
                tariff=FlatTariff(price="12.00"),
            ),
            Rate(valid_from=date(2018, 6, 16), reference="new", tariff=FlatTariff(price="11.00")),
        ],
    )
    shipments = [
        ship(1, Zone.SAME_CITY, 300, at(15, 23, 59)),  # old
        ship(2, Zone.SAME_CITY, 300, at(16, 0, 0)),  # new
        ship(3, Zone.SAME_CITY, 300, datetime(2018, 6, 15, 16, 30, tzinfo=UTC)),  # 00:30 16th
    ]
    statement = settle(per_piece(card), shipments, JUNE)
    assert amounts(statement) == {
        "GP-0001/charge": "12.00",
        "GP-0002/charge": "11.00",
        "GP-0003/charge": "11.00",
    }


def _returned(picked: datetime, returned: datetime, **fields: Any) -> Shipment:
    return ship(
        7,
        Zone.IN_PROVINCE,
        1200,
        picked,
        returned_at=returned,
        status=ShipmentStatus.RETURNED,
        **fields,
    )


def test_returned_item_charge_return_leg() -> None:
    item = _returned(at(5), at(20), declared_value=Money("1000"))
    statement = settle(per_piece(return_policy=ReturnPolicy.CHARGE_RETURN_LEG), [item], JUNE)
    # Charge 14.00 + 5.00 insurance; the return leg is postage only: 14.00.
    assert amounts(statement) == {"GP-0007/charge": "19.00", "GP-0007/return_leg": "14.00"}
    assert statement.pieces == 1
    assert statement.total == Money("33.00")


def test_returned_item_refunded_across_periods_by_an_exact_credit() -> None:
    agreement = per_piece(
        FlatTariff(price="12.50"), discount="0.15", return_policy=ReturnPolicy.REFUND_ORIGINAL
    )
    item = _returned(at(28), at(3, month=7))
    june = settle(agreement, [item], JUNE)
    july = settle(agreement, [item], Period.month(2018, 7), previous=[june])
    assert amounts(june) == {"GP-0007/charge": "10.63"}  # 12.50 × 0.85 = 10.625 → 10.63
    (credit,) = july.credits
    assert credit.refers_to == "GP-0007/charge"
    # The credit negates the rounded line, not the exact 10.625.
    assert credit.amount == Money("-10.63") == -june.line("GP-0007/charge").amount
    assert july.total == Money("-10.63")
    assert july.pieces == 0


def test_returned_item_no_charge() -> None:
    item = _returned(at(5), at(20))
    statement = settle(per_piece(return_policy=ReturnPolicy.NO_CHARGE), [item], JUNE)
    assert amounts(statement) == {"GP-0007/charge": "14.00"}


def test_a_waybill_billed_in_an_earlier_period_is_never_billed_again() -> None:
    item = ship(1, Zone.SAME_CITY, 300, at(30, 23, 0))
    agreement = per_piece(FlatTariff(price="10.00"))
    june = settle(agreement, [item], JUNE)
    assert amounts(june) == {"GP-0001/charge": "10.00"}
    # The carrier later corrects the pickup to 1 July: July must not bill it a second time.
    corrected = attrs.evolve(item, picked_up_at=at(1, 9, month=7))
    july = settle(agreement, [corrected], Period.month(2018, 7), previous=[june])
    assert amounts(july) == {}
    assert (july.total, july.excluded.billed_before) == (Money("0.00"), 1)
    assert "1 billed in an earlier period" in july.to_table()


def test_settle_streams_a_generator_and_keeps_no_reference_to_its_input() -> None:
    refs: list[weakref.ref[Shipment]] = []

    def read() -> Iterator[Shipment]:  # as if from a database cursor, one record at a time
        for i in range(50):
            item = ship(i, Zone.IN_PROVINCE, 100 + 40 * i, at(1 + i % 30))
            refs.append(weakref.ref(item))
            yield item

    statement = settle(per_piece(), read(), JUNE)
    gc.collect()
    assert statement.pieces == len(refs) == 50
    assert [r for r in refs if r() is not None] == []
    # 100 + 40i g, 省内 10.00 + 2.00 per started 500 g: 11 pieces ≤ 500 g × 10.00, 12 up to
    # 1000 g × 12.00, 13 up to 1500 g × 14.00, 12 up to 2000 g × 16.00, 2 above × 18.00.
    assert statement.total == Money("664.00")  # 110 + 144 + 182 + 192 + 36


def test_cancelled_item_is_never_billed() -> None:
    cancelled = ship(1, Zone.SAME_CITY, 300, None, status=ShipmentStatus.CANCELLED)
    statement = settle(per_piece(), [cancelled, ship(2, Zone.SAME_CITY, 300, at(2))], JUNE)
    assert list(amounts(statement)) == ["GP-0002/charge"]
    assert statement.excluded.not_picked_up == 1


def test_uncovered_items_are_the_applicants_and_never_on_the_statement() -> None:
    agreement = per_piece(
        covers=[Coverage(business_line="licence_delivery", direction="outbound_result")]
    )
    shipments = [
        ship(1, Zone.SAME_CITY, 300, at(2)),
        ship(2, Zone.SAME_CITY, 300, at(2), direction=Direction.INBOUND_MATERIAL),
        ship(3, Zone.SAME_CITY, 300, at(2), business_line=BusinessLine.TAX),
        ship(4, Zone.SAME_CITY, 300, at(2), center="GZ-000000"),
    ]
    statement = settle(agreement, shipments, JUNE)
    assert list(amounts(statement)) == ["GP-0001/charge"]
    assert (statement.excluded.not_covered, statement.excluded.other_center) == (2, 1)


def _budget_case(strict: bool) -> tuple[FeeAgreement, SettlementStatement]:
    agreement = per_piece(FlatTariff(price="10.00"), budget=Budget(annual="100.00", strict=strict))
    may = settle(agreement, [ship(i, Zone.SAME_CITY, 300, at(i + 1, month=5)) for i in range(9)],
                 Period.month(2018, 5))  # fmt: skip
    assert may.total == Money("90.00")
    return agreement, may


def test_budget_overrun_in_strict_mode_is_refused() -> None:
    agreement, may = _budget_case(strict=True)
    june = [ship(100 + i, Zone.SAME_CITY, 300, at(i + 1)) for i in range(2)]
    with pytest.raises(BudgetExceededError, match=r"110\.00.*budget of 100\.00 CNY by 10\.00"):
        settle(agreement, june, JUNE, previous=[may])


def test_budget_reached_exactly_is_not_exceeded() -> None:
    agreement, may = _budget_case(strict=True)
    june = settle(agreement, [ship(100, Zone.SAME_CITY, 300, at(1))], JUNE, previous=[may])
    assert june.budget is not None
    assert (june.budget.cumulative, june.budget.remaining) == (Money("100.00"), Money("0.00"))
    assert not june.budget.exceeded


def test_budget_counts_only_the_statements_of_the_same_year() -> None:
    agreement = per_piece(
        FlatTariff(price="10.00"), budget=Budget(annual="50.00"), valid_from=date(2017, 1, 1)
    )
    december = settle(
        agreement,
        [
            ship(i, Zone.SAME_CITY, 300, datetime(2017, 12, 5, 10, tzinfo=SHANGHAI))
            for i in range(4)
        ],
        Period.month(2017, 12),
    )
    january = settle(
        agreement,
        [ship(10 + i, Zone.SAME_CITY, 300, at(i + 2, month=1)) for i in range(3)],
        Period.month(2018, 1),
        previous=[december],
    )
    assert december.total == Money("40.00")
    assert january.budget is not None
    # 2017's 40.00 is not 2018's: 0.00 before, 30.00 this month, 20.00 left of 50.00.
    assert (january.budget.settled_before, january.budget.remaining) == (
        Money("0.00"),
        Money("20.00"),
    )


def test_budget_overrun_in_lenient_mode_is_reported() -> None:
    agreement, may = _budget_case(strict=False)
    june = [ship(100 + i, Zone.SAME_CITY, 300, at(i + 1)) for i in range(2)]
    statement = settle(agreement, june, JUNE, previous=[may])
    assert statement.budget is not None
    assert statement.budget.exceeded
    assert (statement.budget.cumulative, statement.budget.remaining) == (
        Money("110.00"),
        Money("-10.00"),
    )
    assert "EXCEEDED" in statement.to_table()


def test_lump_sum_with_no_pieces_is_attributed_to_star() -> None:
    statement = settle(lump_sum_agreement("300.00", quota=None), [], JUNE)
    assert statement.total == Money("300.00")
    assert [(s.key, s.amount) for s in statement.by_center] == [("*", Money("300.00"))]
    with pytest.raises(ValidationError, match="pass weights"):
        statement.center_split()
    shares = statement.center_split({"GZ-520100": 2, "GZ-520200": 1})
    assert [s.amount for s in shares] == [Money("200.00"), Money("100.00")]


def test_lump_sum_split_to_centers_by_pieces() -> None:
    shipments = [
        ship(1, Zone.SAME_CITY, 300, at(2)),
        ship(2, Zone.SAME_CITY, 300, at(3)),
        ship(3, Zone.SAME_CITY, 300, at(4), center="GZ-520200"),
    ]
    statement = settle(lump_sum_agreement("100.00", quota=None), shipments, JUNE)
    assert [(s.center, s.amount) for s in statement.center_split()] == [
        ("GZ-520100", Money("66.67")),
        ("GZ-520200", Money("33.33")),
    ]
    assert [s.amount for s in statement.by_center] == [Money("66.67"), Money("33.33")]


def test_statement_documents() -> None:
    shipments = [ship(1, Zone.SAME_CITY, 300, at(2)), ship(2, Zone.IN_PROVINCE, 1200, at(3))]
    statement = settle(per_piece(), shipments, JUNE)
    csv_text = statement.to_csv()
    assert csv_text.splitlines()[0].startswith("line_id,waybill,kind,center")
    assert "GP-0002/charge,GP-0002,charge,GZ-520100,licence_delivery,in_province" in csv_text
    table = statement.to_table()
    assert "合计 Total: 22.00 CNY" in table
    assert "大写 In words: 贰拾贰元整" in table
    assert from_json(statement.to_json(), SettlementStatement) == statement


# --- bad input -------------------------------------------------------------------------------------


def test_period_mismatch_is_refused() -> None:
    with pytest.raises(SettlementError, match="is a quarter but agreement GZ-EMS-2018 settles by"):
        settle(per_piece(), [], Period.quarter(2018, 2))


def test_period_outside_the_agreement_is_refused() -> None:
    with pytest.raises(SettlementError, match="not in force"):
        settle(per_piece(), [], Period.month(2017, 12))


def test_previous_statement_of_the_same_period_is_refused() -> None:
    agreement = per_piece()
    june = settle(agreement, [], JUNE)
    with pytest.raises(SettlementError, match="settled once"):
        settle(agreement, [], JUNE, previous=[june])


def test_previous_statements_of_one_period_twice_are_refused() -> None:
    agreement = per_piece()
    may = settle(agreement, [], Period.month(2018, 5))
    with pytest.raises(SettlementError, match="two statements of 2018-05"):
        settle(agreement, [], JUNE, previous=[may, may])


def test_previous_statement_of_another_agreement_is_refused() -> None:
    may = settle(per_piece(id="OTHER"), [], Period.month(2018, 5))
    with pytest.raises(SettlementError, match="of agreement OTHER, not GZ-EMS-2018"):
        settle(per_piece(), [], JUNE, previous=[may])


def test_currency_mismatch_is_refused() -> None:
    item = ship(1, Zone.SAME_CITY, 300, at(2), declared_value=Money("100", "USD"))
    with pytest.raises(CurrencyMismatchError, match="USD"):
        settle(per_piece(), [item], JUNE)


def test_waybill_twice_with_different_data_is_refused() -> None:
    a = ship(1, Zone.SAME_CITY, 300, at(2))
    b = ship(1, Zone.SAME_CITY, 400, at(2))
    with pytest.raises(SettlementError, match="GP-0001 appears twice with different data"):
        settle(per_piece(), [a, b], JUNE)


def test_a_piece_no_rate_covers_is_refused() -> None:
    card = RateCard.single(FlatTariff(price="10"), reference="R", valid_from=date(2018, 6, 10))
    with pytest.raises(SettlementError, match="no rate on 2018-06-02"):
        settle(per_piece(card), [ship(1, Zone.SAME_CITY, 300, at(2))], JUNE)


def test_non_shipments_are_refused() -> None:
    with pytest.raises(SettlementError, match="reads Shipment values"):
        settle(per_piece(), [{"id": "x"}], JUNE)  # type: ignore[list-item]


@pytest.mark.parametrize("text", ["2018-13", "18-06", "2018-Q5", "June"])
def test_bad_period_text_is_refused(text: str) -> None:
    with pytest.raises(ValidationError):
        Period.parse(text)


def test_periods() -> None:
    assert str(Period.parse("2018-Q4")) == "2018-Q4"
    assert Period.parse("2018-Q4").next() == Period.quarter(2019, 1)
    assert Period.month(2018, 1).previous() == Period.month(2017, 12)
    assert Period.month(2016, 2).days == 29
    assert from_json(to_json(JUNE), Period) == JUNE


# --- properties ------------------------------------------------------------------------------------

JUNE_BATCH = shipment_batches(start=date(2018, 6, 1), days=30)
YEAR_BATCH = shipment_batches(start=date(2018, 1, 1), days=365, max_size=30)


def expected_pieces(agreement: FeeAgreement, shipments: list[Shipment], period: Period) -> set[str]:
    covers = {(c.business_line, c.direction) for c in agreement.covers}
    return {
        waybill_key(s)
        for s in shipments
        if s.center in agreement.centers
        and (s.business_line, s.direction) in covers
        and s.picked_up_at is not None
        and period.contains(business_date(s.picked_up_at))
    }


@settings(max_examples=60)
@given(any_agreements, JUNE_BATCH)
def test_total_is_the_sum_of_lines_and_of_every_subtotal(
    agreement: FeeAgreement, shipments: list[Shipment]
) -> None:
    """Statement: total == Σ lines (never re-rounded), and the subtotals per center, business
    line and zone each add up to the total."""
    statement = settle(agreement, shipments, JUNE)
    assert statement.total == sum((line.amount for line in statement.lines), Money.zero())
    assert statement.total == Money(sum(line.amount.amount for line in statement.lines))
    for subtotals in (statement.by_center, statement.by_business_line, statement.by_zone):
        assert sum((s.amount for s in subtotals), Money.zero()) == statement.total
        assert sum(s.pieces for s in subtotals) == statement.pieces
    for line in statement.lines:
        assert line.amount == line.amount.rounded()


@settings(max_examples=40)
@given(per_piece_agreements(), JUNE_BATCH)
def test_one_line_per_billable_piece(agreement: FeeAgreement, shipments: list[Shipment]) -> None:
    """Statement: exactly one charge line per covered piece picked up in the period, none for
    anything else (not picked up, cancelled, uncovered, another center or period)."""
    statement = settle(agreement, shipments, JUNE)
    charges = [line.waybill for line in statement.lines if line.kind is LineKind.CHARGE]
    assert len(charges) == len(set(charges)) == statement.pieces
    assert set(charges) == expected_pieces(agreement, shipments, JUNE)


@settings(max_examples=30)
@given(
    per_piece_agreements(return_policy=ReturnPolicy.CHARGE_RETURN_LEG),
    JUNE_BATCH,
    shipment_batches(start=date(2018, 6, 1), days=30, offset=1000),
)
def test_per_piece_is_additive_over_disjoint_sets(
    agreement: FeeAgreement, first: list[Shipment], second: list[Shipment]
) -> None:
    """Statement: per piece, settling two disjoint sets of shipments together costs the sum of
    settling them apart, line for line."""
    both = settle(agreement, first + second, JUNE)
    a, b = settle(agreement, first, JUNE), settle(agreement, second, JUNE)
    assert both.total == a.total + b.total
    assert amounts(both) == {**amounts(a), **amounts(b)}


@settings(max_examples=15)
@given(per_piece_agreements(), YEAR_BATCH)
def test_periods_partition_the_pieces_and_no_waybill_is_billed_twice(
    agreement: FeeAgreement, shipments: list[Shipment]
) -> None:
    """Statement: per piece, the months of a year together bill each piece of the year exactly
    once — no waybill is in two active lines across periods — and the monthly totals add up
    to the year's."""
    statements = [settle(agreement, shipments, Period.month(2018, m)) for m in range(1, 13)]
    active = [line.waybill for s in statements for line in s.lines if line.kind.is_piece]
    assert len(active) == len(set(active))
    assert set(active) == expected_pieces(agreement, shipments, Period.year(2018))
    year_agreement = FeeAgreement(
        **{**{f: getattr(agreement, f) for f in ("id", "carrier", "reference", "centers")},
           "covers": agreement.covers, "mode": agreement.mode, "valid_from": agreement.valid_from,
           "return_policy": agreement.return_policy, "agent_fee": agreement.agent_fee,
           "period": "year"}
    )  # fmt: skip
    year = settle(year_agreement, shipments, Period.year(2018))
    assert sum((s.total for s in statements), Money.zero()) == year.total


@settings(max_examples=40)
@given(any_agreements, JUNE_BATCH, st.randoms(use_true_random=False))
def test_input_order_never_matters(
    agreement: FeeAgreement, shipments: list[Shipment], rnd: random.Random
) -> None:
    """Statement: settling is permutation-invariant — any order of the input gives the same
    statement, statement_id included."""
    shuffled = list(shipments)
    rnd.shuffle(shuffled)
    assert settle(agreement, iter(shuffled), JUNE) == settle(agreement, shipments, JUNE)


def test_statement_id_changes_with_anything_a_line_says() -> None:
    agreement = per_piece(FlatTariff(price="10.00"))
    base = settle(agreement, [ship(1, Zone.SAME_CITY, 300, at(2))], JUNE)
    other_center = settle(
        agreement, [ship(1, Zone.SAME_CITY, 300, at(2), center="GZ-520200")], JUNE
    )
    assert base.total == other_center.total
    assert base.statement_id != other_center.statement_id
    assert base.statement_id.startswith("GZ-EMS-2018-2018-06-")


@settings(max_examples=25)
@given(per_piece_agreements(), JUNE_BATCH, st.integers(1, 40))
def test_no_waybill_is_billed_in_two_periods_even_when_its_dates_are_corrected(
    agreement: FeeAgreement, shipments: list[Shipment], shift: int
) -> None:
    """Statement: no waybill is in two active lines across periods — when June has been
    settled and the records are then re-dated (a corrected pickup moves pieces into July),
    July settled with ``previous=[june]`` bills none of June's pieces, returns or credits
    again, and counts each under ``billed_before``."""
    june = settle(agreement, shipments, JUNE)
    later = [
        attrs.evolve(
            s,
            picked_up_at=None if s.picked_up_at is None else s.picked_up_at + timedelta(days=shift),
            returned_at=None if s.returned_at is None else s.returned_at + timedelta(days=shift),
        )
        for s in shipments
    ]
    july = settle(agreement, later, Period.month(2018, 7), previous=[june])
    fresh = settle(agreement, later, Period.month(2018, 7))

    def entries(statement: SettlementStatement) -> set[str]:
        # An agent fee goes with its piece: billed with it, never apart.
        return {
            f"{line.waybill}/{'piece' if line.kind.is_piece else line.kind.value}"
            for line in statement.lines
            if line.kind is not LineKind.AGENT_FEE
        }

    assert not entries(june) & entries(july)
    assert entries(july) == entries(fresh) - entries(june)
    assert july.excluded.billed_before == len(entries(fresh) & entries(june))


@settings(max_examples=30)
@given(per_piece_agreements(), JUNE_BATCH)
def test_settling_is_idempotent(agreement: FeeAgreement, shipments: list[Shipment]) -> None:
    """Statement: settling the same period twice gives the same statement, and a shipment given
    twice is billed once."""
    once = settle(agreement, shipments, JUNE)
    assert settle(agreement, shipments, JUNE) == once
    doubled = settle(agreement, shipments + shipments, JUNE)
    assert doubled.lines == once.lines
    assert doubled.total == once.total
    events = [line for line in once.lines if line.kind is not LineKind.AGENT_FEE]
    assert doubled.excluded.duplicates == len(events)


@settings(max_examples=15)
@given(per_piece_agreements(return_policy=ReturnPolicy.REFUND_ORIGINAL), YEAR_BATCH)
def test_a_charge_and_its_credit_sum_to_zero_and_only_credits_and_deducted_fees_are_negative(
    agreement: FeeAgreement, shipments: list[Shipment]
) -> None:
    """Statement: every credit negates exactly the charge it refers to (charge + credit == 0),
    wherever the two periods fall, and only credits and deducted agent-fee lines (减收) are
    negative."""
    statements = [settle(agreement, shipments, Period.month(2018, m)) for m in range(1, 13)]
    lines = {line.line_id: line for s in statements for line in s.lines}
    deducts = agreement.agent_fee is not None and agreement.agent_fee.kind is AgentFeeKind.DEDUCTION
    for line in lines.values():
        assert line.amount == line.amount.rounded()
        negative_kinds = {LineKind.CREDIT, *([LineKind.AGENT_FEE] if deducts else [])}
        assert (line.amount.amount < 0) <= (line.kind in negative_kinds)
        if line.kind is LineKind.CREDIT:
            assert line.refers_to is not None
            charged = lines[line.refers_to]
            assert charged.amount + line.amount == Money.zero()


@settings(max_examples=40)
@given(
    st.integers(1, 500_000).map(Money.from_fen),
    st.integers(1, 12),
    st.integers(0, 20),
    st.integers(1, 3_000).map(Money.from_fen),
)
def test_lump_sum_payable_is_flat_to_the_quota_then_rises_by_the_overage(
    amount: Money, quota: int, pieces: int, fee: Money
) -> None:
    """Lump sum: payable(n) == L for n ≤ Q and L + overage(n − Q) above — so it is
    non-decreasing in n and continuous at Q (payable(Q) == L, one more piece adds one fee)."""
    agreement = lump_sum_agreement(str(amount.amount), quota=quota, overage=FlatTariff(price=fee))
    statement = settle(agreement, _lump_pieces(pieces), JUNE)
    assert statement.total == amount + fee * max(0, pieces - quota)


@settings(max_examples=50)
@given(
    st.integers(1, 10**9).map(Money.from_fen),
    st.sampled_from([Period.month(2018, 2), JUNE, Period.month(2018, 7), Period.year(2018)]),
    st.lists(st.integers(1, 364), max_size=6),
)
def test_prorated_parts_of_a_period_sum_to_the_lump_sum(
    amount: Money, period: Period, cuts: list[int]
) -> None:
    """Lump sum: the prorated parts of any partition of a period add up to L exactly, and each
    part is within a fen of its exact share of days."""
    inside = sorted({c for c in cuts if c < period.days})
    bounds = [period.start, *(period.start + timedelta(days=c) for c in inside), period.end]
    parts = [prorate(amount, period, a, b) for a, b in itertools.pairwise(bounds)]
    assert sum(parts, Money.zero()) == amount
    for part, a, b in zip(parts, bounds, bounds[1:], strict=False):
        exact = amount.amount * Decimal((b - a).days) / Decimal(period.days)
        assert abs(part.amount - exact) < Decimal("0.02")


@settings(max_examples=40)
@given(st.integers(1, 500_000).map(Money.from_fen), st.integers(1, 15), st.integers(0, 20))
def test_pro_rata_refund_is_the_unused_share_within_zero_and_the_lump_sum(
    amount: Money, quota: int, pieces: int
) -> None:
    """Lump sum: under pro-rata, refund == L − payable and 0 ≤ refund ≤ L; the refund is the
    unused share L × (Q − n) / Q to within a fen (floor or ceiling), and nothing at or beyond
    the quota."""
    agreement = lump_sum_agreement(str(amount.amount), quota=quota, underuse=Underuse.PRO_RATA)
    lump = settle(agreement, _lump_pieces(pieces), JUNE).lump_sum
    assert lump is not None
    assert lump.refund == lump.amount - lump.payable
    assert Money.zero() <= lump.refund <= lump.amount
    unused = Fraction(amount.fen * max(0, quota - pieces), quota)
    assert math.floor(unused) <= lump.refund.fen <= math.ceil(unused)


@settings(max_examples=25)
@given(st.lists(st.integers(0, 15), min_size=2, max_size=4), st.integers(1, 10))
def test_carry_forward_conserves_unused_quota(monthly: list[int], quota: int) -> None:
    """Lump sum: under carry-forward, each month's quota is its own plus what the previous
    month left unused, and what is left unused is carried to the next."""
    agreement = lump_sum_agreement(
        "100.00", quota=quota, overage=FlatTariff(price="5.00"), underuse=Underuse.CARRY_FORWARD
    )
    previous: list[SettlementStatement] = []
    carried = 0
    for month, n in enumerate(monthly, start=1):
        statement = settle(
            agreement,
            _lump_pieces(n, month=month, offset=100 * month),
            Period.month(2018, month),
            previous=previous,
        )
        lump = statement.lump_sum
        assert lump is not None
        assert lump.quota == quota + carried
        assert lump.carried_out == max(0, quota + carried - n)
        assert lump.overage_pieces == max(0, n - quota - carried)
        carried = lump.carried_out
        previous.append(statement)


@settings(max_examples=30)
@given(
    st.integers(1, 20_000).map(Money.from_fen),
    st.booleans(),
    st.lists(st.integers(0, 6), min_size=1, max_size=6),
)
def test_cumulative_never_exceeds_a_strict_budget(
    annual: Money, strict: bool, monthly: list[int]
) -> None:
    """Budget: in strict mode the cumulative settled amount never exceeds the budget — a
    settlement that would is refused; in lenient mode the overrun is reported exactly."""
    agreement = per_piece(FlatTariff(price="10.00"), budget=Budget(annual=annual, strict=strict))
    previous: list[SettlementStatement] = []
    for month, n in enumerate(monthly, start=1):
        shipments = [
            ship(100 * month + i, Zone.SAME_CITY, 300, at(i + 1, month=month)) for i in range(n)
        ]
        before = sum((s.total for s in previous), Money.zero())
        try:
            statement = settle(agreement, shipments, Period.month(2018, month), previous=previous)
        except BudgetExceededError:
            assert strict
            assert before + Money("10.00") * n > annual
            break
        assert statement.budget is not None
        assert statement.budget.cumulative == before + statement.total
        assert statement.budget.exceeded == (statement.budget.cumulative > annual)
        if strict:
            assert statement.budget.cumulative <= annual
        previous.append(statement)


@given(
    st.integers(-(10**9), 10**9).map(Money.from_fen),
    st.dictionaries(st.sampled_from(SETTLEMENT_CENTERS), st.integers(0, 1000), min_size=1).filter(
        lambda w: any(w.values())
    ),
)
def test_finance_to_center_split_is_exact(total: Money, weights: dict[str, int]) -> None:
    """Allocation: the finance → center split sums exactly to the whole; each share is the floor
    or ceiling of its exact share; a zero weight gets zero; negating the whole negates it."""
    shares = split(total, weights)
    assert sum((s.amount for s in shares), Money.zero()) == total
    whole = sum(weights.values())
    for share in shares:
        exact = Decimal(total.fen) * weights[share.center] / whole
        assert abs(Decimal(share.amount.fen) - exact) < 1
        if weights[share.center] == 0:
            assert share.amount.is_zero()
    assert [s.amount for s in split(-total, weights)] == [-s.amount for s in shares]


@settings(max_examples=20)
@given(any_agreements, JUNE_BATCH)
def test_statements_round_trip_through_json(
    agreement: FeeAgreement, shipments: list[Shipment]
) -> None:
    """Wire format: every statement round-trips through JSON unchanged."""
    statement = settle(agreement, shipments, JUNE)
    assert from_json(statement.to_json(), SettlementStatement) == statement


def test_naive_datetimes_are_refused_before_settlement() -> None:
    with pytest.raises(ValidationError, match="naive"):
        ship(1, Zone.SAME_CITY, 300, datetime(2018, 6, 2, 10, 0))
    with pytest.raises(ValidationError, match="naive"):
        business_date(datetime(2018, 6, 2, 10, 0))


# --- issue 8: decisions, plain rows, the columnar statement ----------------------------------------


def test_lump_sum_overage_is_the_pieces_picked_up_latest_by_instant() -> None:
    """Two pickups on one day and a quota of one: the later pickup is the overage, even when
    its waybill sorts first (by date and waybill, the earlier one used to be charged)."""
    agreement = lump_sum_agreement("300.00", quota=1, overage=FlatTariff(price="12.00"))
    evening = ship(1, Zone.SAME_CITY, 300, at(3, 17))  # GP-0001, picked up last
    morning = ship(2, Zone.SAME_CITY, 300, at(3, 9))  # GP-0002
    for shipments in ([evening, morning], [morning, evening]):
        statement = settle(agreement, shipments, JUNE)
        kinds = {line.waybill: line.kind for line in statement.lines}
        assert kinds == {
            "GP-0001": LineKind.OVERAGE,
            "GP-0002": LineKind.COVERED,
            None: LineKind.LUMP_SUM,
        }
        assert statement.total == Money("312.00")
    # The same instant written in UTC is the same instant: the waybill then decides.
    utc_twin = ship(3, Zone.SAME_CITY, 300, at(3, 17).astimezone(UTC))
    statement = settle(agreement, [evening, utc_twin, morning], JUNE)
    over = [line.waybill for line in statement.lines if line.kind is LineKind.OVERAGE]
    assert over == ["GP-0001", "GP-0003"]


def test_lump_sum_overage_takes_whole_later_days_then_the_latest_of_the_day_it_starts() -> None:
    agreement = lump_sum_agreement("300.00", quota=3, overage=FlatTariff(price="12.00"))
    shipments = [
        ship(1, Zone.SAME_CITY, 300, at(2, 8)),
        ship(2, Zone.SAME_CITY, 300, at(5, 16)),  # the 5th: 16:00 and 11:00
        ship(3, Zone.SAME_CITY, 300, at(5, 11)),
        ship(4, Zone.SAME_CITY, 300, at(9, 10)),  # later days: all overage
        ship(5, Zone.SAME_CITY, 300, at(9, 12)),
    ]
    statement = settle(agreement, shipments, JUNE)
    over = sorted(line.waybill or "" for line in statement.lines if line.kind is LineKind.OVERAGE)
    assert over == ["GP-0004", "GP-0005"]
    statement = settle(
        lump_sum_agreement("300.00", quota=2, overage=FlatTariff(price="12.00")), shipments, JUNE
    )
    over = sorted(line.waybill or "" for line in statement.lines if line.kind is LineKind.OVERAGE)
    assert over == ["GP-0002", "GP-0004", "GP-0005"]  # 16:00 on the 5th, not 11:00
    assert statement.total == Money("336.00")


@pytest.mark.parametrize(
    ("amount", "words"),
    [
        ("1000100000000.00", "壹万零壹亿元整"),
        ("1234567890123.45", "壹万贰仟叁佰肆拾伍亿陆仟柒佰捌拾玖万零壹佰贰拾叁元肆角伍分"),
        ("1000000000000.00", "壹万亿元整"),
        ("1000000000001.00", "壹万亿零壹元整"),
        ("100000001.00", "壹亿零壹元整"),
        (
            "9999999999999999.99",
            "玖仟玖佰玖拾玖万玖仟玖佰玖拾玖亿玖仟玖佰玖拾玖万玖仟玖佰玖拾玖元玖角玖分",
        ),
    ],
)
def test_amounts_of_ten_to_the_twelve_and_more_never_repeat_yi(amount: str, words: str) -> None:
    assert amount_in_words(Money(amount)) == words
    assert words.count("亿") <= 1


def test_split_gives_the_tie_break_fen_in_the_callers_order() -> None:
    # 0.01 between two equal weights: the key listed first gets it, as allocate() gives it to
    # the earlier index — not the key that sorts first.
    shares = split(Money("0.01"), {"GZ-520200": 1, "GZ-520100": 1})
    assert [(s.center, s.amount) for s in shares] == [
        ("GZ-520200", Money("0.01")),
        ("GZ-520100", Money("0.00")),
    ]
    assert [s.amount for s in shares] == allocate(Money("0.01"), [1, 1])
    shares = split(Money("0.01"), {"GZ-520100": 1, "GZ-520200": 1})
    assert [(s.center, s.amount) for s in shares] == [
        ("GZ-520100", Money("0.01")),
        ("GZ-520200", Money("0.00")),
    ]


def _sixty_pieces_lump() -> SettlementStatement:
    agreement = lump_sum_agreement("300.00", quota=50, overage=FlatTariff(price="12.00"))
    return settle(agreement, _lump_pieces(60), JUNE)


def test_to_table_shows_every_line_unless_asked_and_never_hides_the_lump_sum() -> None:
    statement = _sixty_pieces_lump()
    assert len(statement.lines) == 61
    table = statement.to_table()
    assert all(f"GP-{i:04d}" in table for i in range(60))
    assert "not shown" not in table
    short = statement.to_table(max_lines=5)
    rows = [line for line in short.splitlines() if line.startswith(("GP-", "—"))]
    assert len(rows) == 6  # five lines, then the lump-sum line all the same
    assert rows[-1].startswith("—")
    assert "包干" in rows[-1]
    assert "300.00" in rows[-1]
    assert "… 55 of 61 lines not shown (max_lines=5): call to_table() without max_lines" in short
    for summary in ("按中心 By center", "包干 Lump sum 300.00", "合计 Total: 420.00 CNY", "大写"):
        assert summary in short
    with pytest.raises(ValidationError, match="max_lines"):
        statement.to_table(max_lines=-1)


def test_the_settlement_names_are_exported_from_govpost() -> None:
    from govpost.agreements import ZoneStep

    assert govpost.LineKind is LineKind
    assert govpost.StatementLine is StatementLine
    assert govpost.ZoneStep is ZoneStep
    assert govpost.prorate is prorate
    assert govpost.split is split
    assert {"LineKind", "StatementLine", "ZoneStep", "prorate", "split"} <= set(govpost.__all__)


def test_statement_lines_are_keyword_only() -> None:
    line = settle(per_piece(), [ship(1, Zone.SAME_CITY, 300, at(2))], JUNE).lines[0]
    assert attrs.evolve(line) == line
    with pytest.raises(TypeError):
        StatementLine(*attrs.astuple(line, recurse=False))  # type: ignore[misc]


def test_rows_settle_like_the_shipments_they_describe_worked_example() -> None:
    tracked = ship(1, Zone.IN_PROVINCE, 1200, at(3), tracking_number="EA000000014CN")
    returned = _returned(at(5), at(20), declared_value=Money("1000"))
    shipments = [ship(2, Zone.SAME_CITY, 300, at(2), return_receipt=True), tracked, returned]
    agreement = per_piece(return_policy=ReturnPolicy.CHARGE_RETURN_LEG)
    rows = [SettlementRow.from_shipment(s) for s in shipments]
    assert (rows[1].waybill, rows[1].shipment_id) == ("EA000000014CN", "GP-0001")
    assert settle(agreement, rows, JUNE) == settle(agreement, shipments, JUNE)
    # As a database hands them over: plain strings for enums and codes, UTC instants.
    plain = SettlementRow(
        "EA000000014CN", "GZ-520100", "licence_delivery", "outbound_result", "520102",
        "520201", 1200, at(3).astimezone(UTC), shipment_id="GP-0001", status="picked_up",
    )  # fmt: skip
    assert settle(agreement, [plain], JUNE) == settle(agreement, [tracked], JUNE)
    mixed = settle(agreement, [rows[0], shipments[1], rows[2]], JUNE)
    assert mixed == settle(agreement, shipments, JUNE)


@settings(max_examples=40)
@given(any_agreements, JUNE_BATCH, st.randoms(use_true_random=False))
def test_settling_rows_equals_settling_their_shipments(
    agreement: FeeAgreement, shipments: list[Shipment], rnd: random.Random
) -> None:
    """Statement: settling the rows of shipments gives the statement of the shipments — the
    same lines, totals and statement_id — in any order and mixed with shipments, and so does
    settling a later period with the first as ``previous``."""
    rows = [SettlementRow.from_shipment(s) for s in shipments]
    mixed: list[Shipment | SettlementRow] = [
        row if rnd.random() < 0.5 else shipment
        for row, shipment in zip(rows, shipments, strict=True)
    ]
    rnd.shuffle(mixed)
    expected = settle(agreement, shipments, JUNE)
    assert settle(agreement, rows, JUNE) == expected
    assert settle(agreement, mixed, JUNE).statement_id == expected.statement_id
    july = Period.month(2018, 7)
    later = settle(agreement, rows, july, previous=[expected])
    assert later == settle(agreement, shipments, july, previous=[expected])


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("waybill", "", "waybill '' must be a non-empty str"),
        ("center", 520100, "center 520100 must be the center's code"),
        ("business_line", "post", "business_line 'post' is not a BusinessLine"),
        ("direction", None, "direction None is not a Direction"),
        ("origin", 520102, "origin 520102 must be a GB/T 2260 code"),
        ("destination", "999999", "not in the GB/T 2260 table"),
        ("weight_g", 0, "weight_g 0 must be an int number of grams"),
        ("weight_g", 12.5, "weight_g 12.5 must be an int number of grams"),
        ("picked_up_at", datetime(2018, 6, 3, 10), "must be a timezone-aware datetime"),
        ("picked_up_at", datetime(9999, 6, 3, 10, tzinfo=SHANGHAI), "must lie in the years"),
        ("picked_up_at", datetime(1899, 6, 3, 10, tzinfo=UTC), "must lie in the years"),
        ("returned_at", datetime(2018, 6, 1, 10, tzinfo=UTC), "needs a picked_up_at at or before"),
        ("status", "cancelled", "contradicts picked_up_at"),
        ("status", "lost", "is not a ShipmentStatus"),
        ("declared_value", "100", "must be a positive Money"),
        ("return_receipt", "yes", "must be True or False"),
    ],
)
def test_a_row_with_a_bad_field_is_refused_naming_waybill_and_field(
    field: str, value: object, message: str
) -> None:
    good = SettlementRow.from_shipment(ship(1, Zone.SAME_CITY, 300, at(3)))
    assert settle(per_piece(), [good], JUNE).pieces == 1
    with pytest.raises(ValidationError, match=message) as info:
        settle(per_piece(), [good._replace(**{field: value})], JUNE)
    if field != "waybill":
        assert "GP-0001" in str(info.value)


def test_business_dates_of_fixed_offset_and_utc_pickups() -> None:
    """A pickup at 16:30 UTC on 30 June is 00:30 on 1 July in Shanghai: July's, whether the
    time is in UTC, in +08:00 (as JSON writes it) or in Asia/Shanghai."""
    agreement = per_piece(FlatTariff(price="10.00"))
    instant = datetime(2018, 6, 30, 16, 30, tzinfo=UTC)
    for when in (
        instant,
        instant.astimezone(timezone(timedelta(hours=8))),
        instant.astimezone(SHANGHAI),
    ):
        item = ship(1, Zone.SAME_CITY, 300, when)
        assert settle(agreement, [item], JUNE).pieces == 0
        assert settle(agreement, [item], Period.month(2018, 7)).pieces == 1
    # Before 1992 Shanghai kept summer time: 15:30 UTC on 30 June 1988 was already 1 July.
    old = per_piece(FlatTariff(price="10.00"), valid_from=date(1988, 1, 1))
    item = ship(1, Zone.SAME_CITY, 300, datetime(1988, 6, 30, 15, 30, tzinfo=UTC))
    assert settle(old, [item], Period.month(1988, 7)).pieces == 1


def test_statement_lines_are_a_sequence_read_from_columns() -> None:
    agreement = per_piece(return_policy=ReturnPolicy.REFUND_ORIGINAL)
    shipments = [
        ship(1, Zone.SAME_CITY, 300, at(2)),
        ship(2, Zone.IN_PROVINCE, 1200, at(3), tracking_number="EA000000014CN"),
        _returned(at(5), at(20), declared_value=Money("1000")),
    ]
    statement = settle(agreement, shipments, JUNE)
    lines = statement.lines
    assert isinstance(lines, StatementLines)
    built = tuple(lines)
    assert lines == built
    assert built == lines
    assert lines == list(built)
    assert [line.line_id for line in built] == [
        "GP-0001/charge",
        "EA000000014CN/charge",
        "GP-0007/charge",
        "GP-0007/credit",
    ]
    assert lines[-1] == built[-1]
    assert lines[1:3] == built[1:3]
    assert lines[::-1] == built[::-1]
    with pytest.raises(IndexError):
        lines[4]
    assert (built[1].waybill, built[1].shipment_id) == ("EA000000014CN", "GP-0002")
    (credit,) = statement.credits
    assert (credit.refers_to, credit.amount) == ("GP-0007/charge", Money("-19.00"))
    assert statement.charges == built[:3]
    assert statement.line("EA000000014CN/charge") == built[1]
    # Built from lines (as from JSON), the same lines make an equal sequence and statement.
    rebuilt = StatementLines(built)
    assert rebuilt == lines
    assert hash(rebuilt) == hash(lines)
    assert attrs.evolve(statement, lines=built) == statement
    assert from_json(statement.to_json(), SettlementStatement) == statement
    assert StatementLines(built[:2]) != lines
    with pytest.raises(ValidationError, match=r"whole number of fen|more than 2 decimals"):
        StatementLines([attrs.evolve(built[0], amount=Money("8.005"))])
    with pytest.raises(ValidationError, match="one currency"):
        StatementLines([built[0], attrs.evolve(built[1], amount=Money("1", "USD"))])


def test_a_statement_keeps_a_few_dozen_bytes_per_line() -> None:
    """The columns, not an object per line: well under 100 bytes per line are kept (the
    benchmark measures about 25 at a million lines)."""
    shipments = [
        ship(i, [Zone.SAME_CITY, Zone.IN_PROVINCE][i % 2], 100 + i % 3000, at(1 + i % 30, i % 24))
        for i in range(4000)
    ]
    gc.collect()
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        statement = settle(per_piece(), shipments, JUNE)
        kept = tracemalloc.get_traced_memory()[0] - before
    finally:
        tracemalloc.stop()
    assert len(statement.lines) == 4000
    assert kept / 4000 < 100


# --- one vocabulary of billable events (issue 8) ------------------------------------------------------


def test_settle_statements_and_reconciliation_name_the_billable_events_alike() -> None:
    """A returned piece refunded by a credit: its charge and its credit are two billable
    events, named alike by the statement's lines, the expected bill and the reconciliation."""
    agreement = per_piece(FlatTariff(price="10.00"), return_policy=ReturnPolicy.REFUND_ORIGINAL)
    statement = settle(agreement, [_returned(at(5), at(20))], JUNE)
    charge, credit = statement.lines
    assert [(line.line_id, line.kind.billable) for line in statement.lines] == [
        ("GP-0007/charge", BillableKind.PIECE),
        ("GP-0007/credit", BillableKind.CREDIT),
    ]
    assert credit.refers_to == charge.line_id == "GP-0007/charge"
    assert statement.line("GP-0007/credit") == credit
    bill = CarrierBill.from_statement(statement)
    assert [(row.fee_type, row.fee_type.billable) for row in bill.rows] == [
        (FeeType.POSTAGE, BillableKind.PIECE),
        (FeeType.CREDIT, BillableKind.CREDIT),
    ]
    report = reconcile(statement, bill)
    assert [(item.entry, item.line_ids) for item in report.items] == [
        (BillableKind.PIECE, ("GP-0007/charge",)),
        (BillableKind.CREDIT, ("GP-0007/credit",)),
    ]
    csv_rows = [row.split(",") for row in statement.to_csv().splitlines()[1:]]
    assert [(row[0], row[11]) for row in csv_rows] == [
        ("GP-0007/charge", ""),
        ("GP-0007/credit", "GP-0007/charge"),
    ]


def test_every_line_kind_and_fee_type_bills_one_billable_event() -> None:
    assert {kind: kind.billable for kind in LineKind} == {
        LineKind.CHARGE: BillableKind.PIECE,
        LineKind.COVERED: BillableKind.PIECE,
        LineKind.OVERAGE: BillableKind.PIECE,
        LineKind.RETURN_LEG: BillableKind.RETURN_LEG,
        LineKind.CREDIT: BillableKind.CREDIT,
        LineKind.LUMP_SUM: BillableKind.LUMP_SUM,
        LineKind.AGENT_FEE: BillableKind.AGENT_FEE,
    }
    assert [kind for kind in LineKind if kind.is_piece] == [
        LineKind.CHARGE,
        LineKind.COVERED,
        LineKind.OVERAGE,
    ]
    assert {fee: fee.billable for fee in FeeType} == {
        FeeType.POSTAGE: BillableKind.PIECE,
        FeeType.INSURANCE: BillableKind.PIECE,
        FeeType.RETURN_RECEIPT: BillableKind.PIECE,
        FeeType.RETURN: BillableKind.RETURN_LEG,
        FeeType.CREDIT: BillableKind.CREDIT,
        FeeType.LUMP_SUM: BillableKind.LUMP_SUM,
        FeeType.AGENT_FEE: BillableKind.AGENT_FEE,
    }
    assert [kind.label for kind in BillableKind] == ["收寄", "退回", "冲销", "包干", "代办费"]
    assert LineKind.AGENT_FEE.label == "代办费"


def test_a_return_leg_billed_before_is_not_billed_again_but_its_piece_was_a_different_event() -> (
    None
):
    """What earlier statements billed is remembered by billable event: June's return leg keeps
    July from billing the return leg again, not from anything else."""
    agreement = per_piece(FlatTariff(price="10.00"), return_policy=ReturnPolicy.CHARGE_RETURN_LEG)
    item = _returned(at(5), at(20))
    june = settle(agreement, [item], JUNE)
    assert [line.line_id for line in june.lines] == ["GP-0007/charge", "GP-0007/return_leg"]
    moved = attrs.evolve(item, picked_up_at=at(2, month=7), returned_at=at(20, month=7))
    july = settle(agreement, [moved], Period.month(2018, 7), previous=[june])
    assert list(july.lines) == []
    assert july.excluded == Exclusions(billed_before=2)


def test_the_mode_of_a_statement_is_a_settlement_mode() -> None:
    statement = settle(per_piece(), [ship(1, Zone.SAME_CITY, 300, at(2))], JUNE)
    assert statement.mode is SettlementMode.PER_PIECE
    assert (SettlementMode.PER_PIECE.label, SettlementMode.LUMP_SUM.label) == ("计件", "包干")
    assert "结算方式 Mode: 计件 per piece" in statement.to_table()
    assert attrs.evolve(statement, mode="lump_sum").mode is SettlementMode.LUMP_SUM
    with pytest.raises(ValidationError, match="settlement mode 'monthly' is not a SettlementMode"):
        attrs.evolve(statement, mode="monthly")
    assert '"mode": "per_piece"' in to_json(statement)


def test_documents_render_what_the_models_methods_return() -> None:
    statement = settle(per_piece(), [ship(1, Zone.SAME_CITY, 300, at(2))], JUNE)
    assert statement.to_table(max_lines=0) == documents.statement_table(statement, max_lines=0)
    assert statement.to_csv() == documents.statement_csv(statement)
    report = reconcile(statement, CarrierBill.from_statement(statement))
    assert report.to_table(include_matched=True) == documents.report_table(
        report, include_matched=True
    )
    assert report.to_csv() == documents.report_csv(report)
    assert amount_in_words is documents.amount_in_words


def test_a_reconciliation_entry_is_a_billable_kind_or_its_value() -> None:
    fields: dict[str, Any] = {
        "kind": Discrepancy.MATCHED,
        "waybill": "GP-1",
        "ours": None,
        "bill": None,
        "difference": Money("0.00"),
        "line_ids": (),
        "bill_lines": (),
    }
    assert ReconciliationItem(entry="return_leg", **fields).entry is BillableKind.RETURN_LEG
    with pytest.raises(ValidationError, match="entry 'charge' is not a BillableKind; choose"):
        ReconciliationItem(entry="charge", **fields)


# --- agent fee (政府代办) ----------------------------------------------------------------------------

#: A packaging fee of 1.00 per piece the carrier deducts (减收): the center's staff packed it.
PACKAGING = AgentFee(per_piece=Money("1.00"), reference="黔政办〔2018〕3号 第五条")


def agent_center_pieces(count: int = 3) -> list[Shipment]:
    """Pieces of a government-agent center (GZ-522700), picked up at the handover of June 5."""
    return [
        Shipment(
            id=f"GP-{n}",
            center="GZ-522700",
            business_line="licence_delivery",
            direction="outbound_result",
            origin="522701",
            destination="522701",
            weight_g=200,
            created_at=datetime(2018, 6, 5, 9, tzinfo=SHANGHAI),
            picked_up_at=datetime(2018, 6, 5, 15, tzinfo=SHANGHAI),
            status="picked_up",
        )
        for n in range(1, count + 1)
    ]


def agent_agreement(fee: AgentFee | None = PACKAGING) -> FeeAgreement:
    return FeeAgreement(
        id="GZ-AGENT-2018",
        carrier="ems",
        reference="黔政办〔2018〕3号",
        centers={"GZ-522700"},
        covers=Coverage.all(),
        valid_from=date(2018, 1, 1),
        mode=PerPiece(tariff=FlatTariff(price="12.50"), discount="0.15"),
        agent_fee=fee,
    )


def test_an_agent_centers_month_with_a_packaging_fee_deducted_per_piece() -> None:
    """Three pieces at 12.50, 15% off, a packaging fee of 1.00 deducted per piece, by hand:
    each piece 12.50 × 0.85 = 10.625 → 10.63, then its fee line -1.00; total 3 × 10.63 −
    3 × 1.00 = 31.89 − 3.00 = 28.89."""
    statement = settle(agent_agreement(), agent_center_pieces(), JUNE)
    assert [(line.line_id, line.amount.to_str(), line.refers_to) for line in statement.lines] == [
        ("GP-1/charge", "10.63", None),
        ("GP-1/agent_fee", "-1.00", "GP-1/charge"),
        ("GP-2/charge", "10.63", None),
        ("GP-2/agent_fee", "-1.00", "GP-2/charge"),
        ("GP-3/charge", "10.63", None),
        ("GP-3/agent_fee", "-1.00", "GP-3/charge"),
    ]
    assert statement.total == Money("28.89")
    assert statement.pieces == 3
    for subtotals in (statement.by_center, statement.by_business_line, statement.by_zone):
        assert [(s.pieces, s.amount) for s in subtotals] == [(3, Money("28.89"))]
    fee_line = statement.line("GP-2/agent_fee")
    assert (fee_line.kind.label, fee_line.kind.billable) == ("代办费", BillableKind.AGENT_FEE)
    assert (fee_line.center, fee_line.zone, fee_line.day) == (
        "GZ-522700",
        Zone.SAME_CITY,
        date(2018, 6, 5),
    )
    assert (fee_line.weight_g, fee_line.breakdown) == (0, None)
    assert fee_line.explain() == "代办费 agent fee of GP-2/charge"
    assert statement.to_csv().splitlines()[2] == (
        "GP-1/agent_fee,GP-1,agent_fee,GZ-522700,licence_delivery,same_city,522701,0,"
        "2018-06-05,-1.00,CNY,GP-1/charge,代办费 agent fee of GP-1/charge"
    )
    table = statement.to_table()
    assert "GP-1          代办费  GZ-522700  同城       2018-06-05  -1.00" in table
    assert "代办费 Agent fee: -3.00 on 3 pieces (减收 deducted), in the total" in table
    assert table.endswith("合计 Total: 28.89 CNY\n大写 In words: 贰拾捌元捌角玖分")
    # Without the fee: the statement, and its id, of before the agreement carried one.
    plain = settle(agent_agreement(None), agent_center_pieces(), JUNE)
    assert plain.total == Money("31.89")
    assert plain.statement_id == "GZ-AGENT-2018-2018-06-13767f055b757a8b"
    assert statement.statement_id != plain.statement_id
    assert "代办费" not in plain.to_table()


def test_the_fee_applies_to_a_lump_sums_covered_and_overage_pieces_and_never_to_the_lump_sum() -> (
    None
):
    """A 100.00 lump sum for 2 pieces, 8.00 each beyond; a 0.80 packaging fee charged (加收) on
    each of 3 pieces: 100.00 + 8.00 + 3 × 0.80 = 110.40."""
    fee = AgentFee(per_piece=Money("0.80"), reference="第六条", kind=AgentFeeKind.CHARGE)
    agreement = attrs.evolve(
        lump_sum_agreement("100.00", quota=2, overage=FlatTariff(price="8.00")), agent_fee=fee
    )
    statement = settle(agreement, _lump_pieces(3), JUNE)
    assert [(line.line_id, line.amount.to_str(), line.refers_to) for line in statement.lines] == [
        ("GP-0000/covered", "0.00", None),
        ("GP-0000/agent_fee", "0.80", "GP-0000/covered"),
        ("GP-0001/covered", "0.00", None),
        ("GP-0001/agent_fee", "0.80", "GP-0001/covered"),
        ("GP-0002/overage", "8.00", None),
        ("GP-0002/agent_fee", "0.80", "GP-0002/overage"),
        ("lump_sum", "100.00", None),
    ]
    assert statement.total == Money("110.40")
    assert statement.lump_sum is not None
    assert (statement.lump_sum.payable, statement.lump_sum.overage_amount) == (
        Money("100.00"),
        Money("8.00"),
    )
    assert [(s.key, s.pieces, s.amount.to_str()) for s in statement.by_center] == [
        ("GZ-520100", 3, "110.40")
    ]


@pytest.mark.parametrize(
    ("policy", "expected", "total"),
    [
        (
            ReturnPolicy.CHARGE_RETURN_LEG,
            [("GP-0007/charge", "10.00"), ("GP-0007/agent_fee", "-1.00"),
             ("GP-0007/return_leg", "10.00")],
            "19.00",
        ),
        (
            ReturnPolicy.REFUND_ORIGINAL,
            [("GP-0007/charge", "10.00"), ("GP-0007/agent_fee", "-1.00"),
             ("GP-0007/credit", "-10.00")],
            "-1.00",
        ),
    ],
)  # fmt: skip
def test_a_returned_piece_keeps_its_fee_and_its_return_leg_or_credit_gets_none(
    policy: ReturnPolicy, expected: list[tuple[str, str]], total: str
) -> None:
    """The center packed the piece once, whatever became of it: a return leg or a credit has
    no agent fee, and a credit negates the charge only."""
    agreement = per_piece(FlatTariff(price="10.00"), return_policy=policy, agent_fee=PACKAGING)
    statement = settle(agreement, [_returned(at(5), at(20))], JUNE)
    assert [(line.line_id, line.amount.to_str()) for line in statement.lines] == expected
    assert statement.total == Money(total)
    assert statement.pieces == 1


def test_a_piece_billed_before_brings_no_second_fee() -> None:
    """A piece June billed (with its fee) and a corrected date moves into July: July bills
    neither the piece nor its fee again."""
    agreement = per_piece(FlatTariff(price="10.00"), agent_fee=PACKAGING)
    piece = ship(1, Zone.SAME_CITY, 300, at(30))
    june = settle(agreement, [piece], JUNE)
    moved = attrs.evolve(piece, picked_up_at=at(1, month=7))
    july = settle(agreement, [moved], Period.month(2018, 7), previous=[june])
    assert [line.line_id for line in june.lines] == ["GP-0001/charge", "GP-0001/agent_fee"]
    assert (list(july.lines), july.excluded.billed_before) == ([], 1)


def test_an_agent_fee_counts_against_the_budget() -> None:
    budget = Budget(annual="30.00")
    statement = settle(attrs.evolve(agent_agreement(), budget=budget), agent_center_pieces(), JUNE)
    assert statement.budget is not None
    assert (statement.budget.this_statement, statement.budget.remaining) == (
        Money("28.89"),
        Money("1.11"),
    )
    with pytest.raises(BudgetExceededError):  # 31.89 without the deduction
        settle(attrs.evolve(agent_agreement(None), budget=budget), agent_center_pieces(), JUNE)


def test_a_statement_with_agent_fees_round_trips_through_json() -> None:
    statement = settle(agent_agreement(), agent_center_pieces(), JUNE)
    back = from_json(to_json(statement), SettlementStatement)
    assert back == statement
    assert back.line("GP-3/agent_fee").refers_to == "GP-3/charge"


agreements_with_fees = st.one_of(
    per_piece_agreements(agent_fee=True), lump_sum_agreements(agent_fee=True)
)


@settings(max_examples=40)
@given(agreements_with_fees, JUNE_BATCH)
def test_an_agent_fee_adds_one_line_after_each_piece_and_nothing_else(
    agreement: FeeAgreement, shipments: list[Shipment]
) -> None:
    """Statement: under an agent fee, the statement is the one without it plus one line of the
    fee right after each piece (charged, covered or overage) and referring to it; the total and
    every subtotal grow by pieces × fee, the pieces do not, and the id differs."""
    fee = agreement.agent_fee
    assert fee is not None
    statement = settle(agreement, shipments, JUNE)
    without = settle(attrs.evolve(agreement, agent_fee=None), shipments, JUNE)
    lines = list(statement.lines)
    assert [line for line in lines if line.kind is not LineKind.AGENT_FEE] == list(without.lines)
    fees = [(i, line) for i, line in enumerate(lines) if line.kind is LineKind.AGENT_FEE]
    assert len(fees) == sum(line.kind.is_piece for line in lines) == statement.pieces
    for i, line in fees:
        piece = lines[i - 1]
        assert piece.kind.is_piece
        assert (line.refers_to, line.amount) == (piece.line_id, fee.amount_per_piece)
        assert (line.waybill, line.center, line.business_line, line.zone, line.day) == (
            piece.waybill, piece.center, piece.business_line, piece.zone, piece.day
        )  # fmt: skip
        assert (line.weight_g, line.breakdown) == (0, None)
    assert statement.pieces == without.pieces
    assert statement.total == without.total + fee.amount_per_piece * statement.pieces
    for mine, theirs in (
        (statement.by_center, without.by_center),
        (statement.by_business_line, without.by_business_line),
        (statement.by_zone, without.by_zone),
    ):
        assert [(s.key, s.pieces) for s in mine] == [(s.key, s.pieces) for s in theirs]
        assert [s.amount for s in mine] == [
            s.amount + fee.amount_per_piece * s.pieces for s in theirs
        ]
    assert statement.statement_id != without.statement_id
    assert from_json(to_json(statement), SettlementStatement) == statement


def test_an_agreement_without_an_agent_fee_digests_as_before_the_term_existed() -> None:
    """The statement id digests the agreement's wire form: without an agent fee, the form of
    before the term existed (no ``agent_fee`` key), so ids already issued stay valid."""
    agreement = agent_agreement(None)
    assert '"agent_fee": null' in to_json(agreement)
    old_document = to_json(agreement).replace(', "agent_fee": null', "")
    assert from_json(old_document, FeeAgreement) == agreement


def test_an_agent_fee_lines_refers_to_is_the_line_before_unless_it_says_otherwise() -> None:
    """Lines built by hand keep what they say: an agent-fee line naming the piece before it
    (as settle lays them out), another line, or none."""
    statement = settle(agent_agreement(), agent_center_pieces(2), JUNE)
    piece, fee, other_piece, other_fee = statement.lines
    for refers_to in ("GP-1/charge", "GP-2/charge", None):
        lines = StatementLines([piece, attrs.evolve(fee, refers_to=refers_to), other_piece])
        assert lines[1].refers_to == refers_to
        assert lines == [piece, attrs.evolve(fee, refers_to=refers_to), other_piece]
    first = StatementLines([other_fee, piece])
    assert first[0].refers_to == "GP-2/charge"
    assert StatementLines(list(statement.lines)) == statement.lines
