"""Agency services (警邮, 税邮) and their remittance statements."""

from __future__ import annotations

import contextlib
import json
import random
from datetime import UTC, date, datetime
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from govpost.errors import (
    CurrencyMismatchError,
    DeserializationError,
    GovpostError,
    ValidationError,
)
from govpost.modes import (
    AgencyService,
    AgencyTransaction,
    CommissionRule,
    Department,
    RemittanceExclusions,
    RemittanceLine,
    RemittanceStatement,
    RemittanceSubtotal,
)
from govpost.money import Money
from govpost.periods import SHANGHAI, Period
from govpost.serialization import from_json, to_json
from tests.fuzzing import fuzz, junk_documents
from tests.strategies import (
    agency_services,
    agency_transactions,
    departments,
    remittance_statements,
)

JUNE = Period.month(2018, 6)
POLICE = Department(code="GY-JGJ", name="贵阳市公安局交通管理局", business_line="police")
TAX = Department(code="GY-SWJ", name="国家税务总局贵阳市税务局", business_line="tax")

LICENCE = AgencyService(
    code="JG-01",
    name="补领机动车驾驶证",
    department=POLICE,
    fee=Money("10.00"),
    commission=CommissionRule(per_transaction=Money("3.00")),
)
FINES = AgencyService(
    code="JG-02",
    name="交通违法罚款代收",
    department=POLICE,
    commission=CommissionRule(rate="0.0025"),
)
TAX_ON_BEHALF = AgencyService(
    code="SW-01", name="代征税款", department=TAX, commission=CommissionRule(rate="0.01")
)


def on(day: int, hour: int = 10, month: int = 6) -> datetime:
    return datetime(2018, month, day, hour, tzinfo=SHANGHAI)


def police_month() -> list[AgencyTransaction]:
    return [
        LICENCE.transaction("T-1", occurred_at=on(4), applicant="张三"),
        LICENCE.transaction("T-2", occurred_at=on(5)),
        FINES.transaction("T-3", occurred_at=on(6), collected=Money("50.00")),
        FINES.transaction("T-4", occurred_at=on(7), collected=Money("200.00")),
        FINES.transaction("T-5", occurred_at=on(8), collected=Money("150.00")),
    ]


def test_police_post_month_rounds_each_commission_half_up_once() -> None:
    """Two replacement licences (10.00 fee, 3.00 commission each) and three fines at 0.25%:

    50.00 × 0.0025 = 0.125 → 0.13 (exactly half a fen: half-up; half-even would give 0.12)
    200.00 × 0.0025 = 0.50
    150.00 × 0.0025 = 0.375 → 0.38
    collected 420.00 = net 412.99 + commission 7.01
    """
    statement = RemittanceStatement.build(POLICE, [LICENCE, FINES], police_month(), JUNE)
    assert [Money(c) for c in ("3.00", "3.00", "0.13", "0.50", "0.38")] == [
        line.commission for line in statement.lines
    ]
    assert [Money(n) for n in ("7.00", "7.00", "49.87", "199.50", "149.62")] == [
        line.net for line in statement.lines
    ]
    assert (Money("420.00"), Money("7.01"), Money("412.99")) == (
        statement.collected,
        statement.commission,
        statement.net,
    )
    assert [("JG-01", 2, "20.00", "6.00", "14.00"), ("JG-02", 3, "400.00", "1.01", "398.99")] == [
        (s.key, s.transactions, s.collected.to_str(), s.commission.to_str(), s.net.to_str())
        for s in statement.by_service
    ]
    assert statement.statement_id.startswith("GY-JGJ-2018-06-")


def test_tax_post_month_with_a_transaction_of_the_next_period_and_one_of_the_police() -> None:
    """Tax collected on behalf at 1%: 123.4567 → 123.46, 80.00, 3.3333 → 3.33, 0.005 → 0.01.

    The fifth transaction is at 16:30 UTC on 30 June, 00:30 on 1 July in Shanghai: July's.
    """
    transactions = [
        TAX_ON_BEHALF.transaction("S-1", occurred_at=on(1), collected=Money("12345.67")),
        TAX_ON_BEHALF.transaction("S-2", occurred_at=on(12), collected=Money("8000.00")),
        TAX_ON_BEHALF.transaction("S-3", occurred_at=on(20), collected=Money("333.33")),
        TAX_ON_BEHALF.transaction("S-4", occurred_at=on(30, 17), collected=Money("0.50")),
        TAX_ON_BEHALF.transaction(
            "S-5",
            occurred_at=datetime(2018, 6, 30, 16, 30, tzinfo=UTC),
            collected=Money("99.00"),
        ),
        *police_month(),
    ]
    statement = RemittanceStatement.build(TAX, [TAX_ON_BEHALF, LICENCE, FINES], transactions, JUNE)
    assert ["123.46", "80.00", "3.33", "0.01"] == [
        line.commission.to_str() for line in statement.lines
    ]
    assert (Money("20679.50"), Money("206.80"), Money("20472.70")) == (
        statement.collected,
        statement.commission,
        statement.net,
    )
    assert (5, 1, 0) == (
        statement.excluded.other_department,
        statement.excluded.other_period,
        statement.excluded.duplicates,
    )


def test_the_statement_renders_as_csv_and_as_a_table_with_amounts_in_words() -> None:
    statement = RemittanceStatement.build(POLICE, [LICENCE, FINES], police_month(), JUNE)
    assert statement.to_csv().splitlines() == [
        "transaction_id,service_code,date,collected,commission,net,currency",
        "T-1,JG-01,2018-06-04,10.00,3.00,7.00,CNY",
        "T-2,JG-01,2018-06-05,10.00,3.00,7.00,CNY",
        "T-3,JG-02,2018-06-06,50.00,0.13,49.87,CNY",
        "T-4,JG-02,2018-06-07,200.00,0.50,199.50,CNY",
        "T-5,JG-02,2018-06-08,150.00,0.38,149.62,CNY",
    ]
    table = statement.to_table()
    assert f"代收款项结算单 Remittance statement {statement.statement_id}" in table
    assert "代收合计 Collected: 420.00 CNY  大写 肆佰贰拾元整" in table
    assert "手续费合计 Commission: 7.01 CNY  大写 柒元零壹分" in table
    assert "应解缴合计 Net to remit: 412.99 CNY  大写 肆佰壹拾贰元玖角玖分" in table
    assert "T-3               JG-02  2018-06-06   50.00    0.13   49.87" in table


def test_same_transactions_in_any_order_or_twice_give_the_same_statement() -> None:
    first = RemittanceStatement.build(POLICE, [LICENCE, FINES], police_month(), JUNE)
    shuffled = police_month() * 2
    random.Random(7).shuffle(shuffled)
    again = RemittanceStatement.build(POLICE, [FINES, LICENCE], shuffled, JUNE)
    assert first.lines == again.lines
    assert first.statement_id == again.statement_id
    assert 5 == again.excluded.duplicates
    other = RemittanceStatement.build(POLICE, [LICENCE, FINES], police_month()[:4], JUNE)
    assert other.statement_id != first.statement_id


def test_the_applicant_is_masked() -> None:
    transaction = LICENCE.transaction("T-1", occurred_at=on(4), applicant="欧阳娜娜")
    assert "applicant='欧阳**'" in repr(transaction)
    assert "娜娜" not in repr(transaction)


@pytest.mark.parametrize(
    ("build", "message"),
    [
        (
            lambda: AgencyService(
                code="JG-09",
                name="x",
                department=POLICE,
                fee=Money("-10.00"),
                commission=CommissionRule(rate="0.01"),
            ),
            "service fee -10.00 CNY is negative",
        ),
        (
            lambda: CommissionRule(per_transaction=Money("-1.00")),
            "per-transaction commission -1.00 CNY is negative",
        ),
        (
            lambda: CommissionRule(rate="-0.01"),
            r"commission rate '-0.01' must be a fraction in \[0, 1\)",
        ),
        (lambda: CommissionRule(rate="1.5"), r"must be a fraction in \[0, 1\)"),
        (lambda: CommissionRule(), "exactly one of them"),
        (
            lambda: CommissionRule(per_transaction=Money("1.00"), rate="0.01"),
            "exactly one of them",
        ),
        (lambda: CommissionRule(rate=0.01), "is a float"),  # type: ignore[arg-type]
        (
            lambda: LICENCE.transaction("T-1", occurred_at=on(4), collected=Money("10.001")),
            "collected amount 10.001 CNY is not a whole number of fen",
        ),
        (
            lambda: FINES.transaction("T-1", occurred_at=on(4)),
            "service JG-02 has no fixed fee: give collected=Money",
        ),
        (
            lambda: Department(code="GY-X", name="x", business_line="licence_delivery"),
            "licence delivery is the centers' own line",
        ),
    ],
)
def test_bad_services_and_rules_are_refused(build: object, message: str) -> None:
    assert callable(build)
    with pytest.raises(ValidationError, match=message):
        build()


def test_bad_transactions_are_refused_when_the_statement_is_built() -> None:
    with pytest.raises(ValidationError, match="service 'JG-02', which is not among the services"):
        RemittanceStatement.build(POLICE, [LICENCE], police_month(), JUNE)
    wrong_fee = AgencyTransaction(
        transaction_id="T-9", service_code="JG-01", occurred_at=on(4), collected=Money("20.00")
    )
    with pytest.raises(ValidationError, match=r"collected 20.00 CNY for service JG-01, whose fee"):
        RemittanceStatement.build(POLICE, [LICENCE], [wrong_fee], JUNE)
    first = LICENCE.transaction("T-1", occurred_at=on(4))
    clash = LICENCE.transaction("T-1", occurred_at=on(5))
    with pytest.raises(ValidationError, match="T-1 is given twice with different content"):
        RemittanceStatement.build(POLICE, [LICENCE], [first, clash], JUNE)
    dollars = FINES.transaction("T-1", occurred_at=on(4), collected=Money("5.00", "USD"))
    with pytest.raises(CurrencyMismatchError, match="not in the statement's currency CNY"):
        RemittanceStatement.build(POLICE, [FINES], [dollars], JUNE)


@given(remittance_statements())
def test_collected_is_net_plus_commission_per_line_and_in_total(
    statement: RemittanceStatement,
) -> None:
    """On every line and in total, collected == net + commission to the fen; every commission
    is >= 0 and a whole number of fen; the totals are the sums of the lines."""
    for line in statement.lines:
        assert line.collected == line.net + line.commission
        assert line.commission >= Money(0)
        assert line.commission == line.commission.rounded()
    zero = Money.zero()
    assert statement.collected == sum((line.collected for line in statement.lines), zero)
    assert statement.commission == sum((line.commission for line in statement.lines), zero)
    assert statement.net == sum((line.net for line in statement.lines), zero)
    assert statement.collected == statement.net + statement.commission
    assert statement.commission >= zero
    assert statement.transactions == sum(s.transactions for s in statement.by_service)


@given(
    departments().flatmap(
        lambda d: st.lists(
            agency_services(d), min_size=1, max_size=3, unique_by=lambda s: s.code
        ).flatmap(
            lambda services: st.tuples(st.just(d), st.just(services), agency_transactions(services))
        )
    ),
    st.randoms(use_true_random=False),
)
def test_a_statement_is_independent_of_the_order_of_its_transactions(
    case: tuple[Department, list[AgencyService], list[AgencyTransaction]], rng: random.Random
) -> None:
    """The same transactions in any order give the same statement and statement id."""
    department, services, transactions = case
    shuffled = list(transactions)
    rng.shuffle(shuffled)
    assert RemittanceStatement.build(department, services, transactions, JUNE) == (
        RemittanceStatement.build(department, services, shuffled, JUNE)
    )


@given(remittance_statements())
def test_remittance_statements_round_trip_through_json(statement: RemittanceStatement) -> None:
    """A statement read back from its JSON is the same statement."""
    assert statement == from_json(statement.to_json(), RemittanceStatement)
    assert to_json(statement) == statement.to_json()


def test_a_tampered_document_is_refused() -> None:
    statement = RemittanceStatement.build(POLICE, [LICENCE, FINES], police_month(), JUNE)
    tampered = statement.to_json().replace(
        '"net": {"amount": "412.99"', '"net": {"amount": "413.00"'
    )
    assert tampered != statement.to_json()
    with pytest.raises(DeserializationError, match=r"net 413.00 CNY is not the sum of its lines"):
        from_json(tampered, RemittanceStatement)


def test_transactions_on_the_last_evening_of_the_month_belong_to_it() -> None:
    late = FINES.transaction("T-1", occurred_at=on(30, 23), collected=Money("20.00"))
    statement = RemittanceStatement.build(POLICE, [FINES], [late], JUNE)
    assert [date(2018, 6, 30)] == [line.day for line in statement.lines]


# --- review: altered documents, hostile input ----------------------------------------------------


def _altered(change: Any) -> str:
    doc = json.loads(_STATEMENT.to_json())
    change(doc)
    return json.dumps(doc, ensure_ascii=False)


def _move_a_fen(doc: dict[str, Any]) -> None:
    """Commission of T-3 0.13 → 1.13, and every total and subtotal to match: consistent sums."""
    line = doc["lines"][2]
    line["commission"]["amount"], line["net"]["amount"] = "1.13", "48.87"
    doc["commission"]["amount"], doc["net"]["amount"] = "8.01", "411.99"
    doc["by_service"][1]["commission"]["amount"] = "2.01"
    doc["by_service"][1]["net"]["amount"] = "397.99"


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (_move_a_fen, "does not match its content"),
        (lambda d: d.update(statement_id="GY-JGJ-2018-06-0000000000000000"), "does not match"),
        (lambda d: d.update(department_name="别的部门"), "does not match its content"),
        (lambda d: d["by_service"][0].update(transactions=9), "per-service subtotals"),
        (lambda d: d["lines"][0].update(transaction_id="=cmd|'/c calc'!A1"), "transaction id"),
        (
            lambda d: d["lines"][0].update(day="2018-07-04"),
            "lines are not sorted|outside the period",
        ),
        (lambda d: d["lines"].insert(1, dict(d["lines"][0])), "lists a transaction twice"),
        (lambda d: d["excluded"].update(duplicates=-1), "must be an int >= 0"),
        (
            lambda d: (
                d["lines"][2]["commission"].update(amount="0.125"),
                d["lines"][2]["net"].update(amount="49.875"),
            ),
            "not a whole number of fen",
        ),
    ],
)
def test_an_altered_statement_is_refused(change: Any, message: str) -> None:
    """Reading a statement back checks lines, sums, subtotals and the digest of its content:
    before the review, all of these but the totals were accepted."""
    with pytest.raises(DeserializationError, match=message):
        from_json(_altered(change), RemittanceStatement)


def test_a_half_fen_commission_rounds_up_on_its_own_line_not_on_the_total() -> None:
    """Two fines of 2.00 at 0.25%: 0.005 each → 0.01 each (half-up, per line), total 0.02 —
    rounding the total of the exact commissions (0.010) would give 0.01."""
    txs = [FINES.transaction(f"T-{i}", occurred_at=on(4), collected=Money("2.00")) for i in (1, 2)]
    statement = RemittanceStatement.build(POLICE, [FINES], txs, JUNE)
    assert [Money("0.01")] * 2 == [line.commission for line in statement.lines]
    assert (Money("0.02"), Money("3.98")) == (statement.commission, statement.net)


_STATEMENT = RemittanceStatement.build(POLICE, [LICENCE, FINES], police_month(), JUNE)


@fuzz
@given(
    junk_documents(
        {
            AgencyService: FINES,
            AgencyTransaction: police_month()[0],
            CommissionRule: FINES.commission,
            Department: POLICE,
            RemittanceStatement: _STATEMENT,
            RemittanceLine: _STATEMENT.lines[2],
            RemittanceSubtotal: _STATEMENT.by_service[1],
            RemittanceExclusions: RemittanceExclusions(duplicates=2),
        }
    )
)
def test_junk_documents_of_the_agency_models_are_govpost_errors(
    case: tuple[type[Any], str],
) -> None:
    """from_json of a genuine document with junk in it: the model, or a govpost error."""
    cls, text = case
    with contextlib.suppress(GovpostError):
        from_json(text, cls)


def test_the_statement_id_names_each_lines_service() -> None:
    """The same transactions booked under another service code make another statement."""
    renamed = AgencyService(
        code="JG-03", name=FINES.name, department=POLICE, commission=FINES.commission
    )
    txs = [FINES.transaction("T-1", occurred_at=on(4), collected=Money("50.00"))]
    other = [renamed.transaction("T-1", occurred_at=on(4), collected=Money("50.00"))]
    first = RemittanceStatement.build(POLICE, [FINES], txs, JUNE)
    second = RemittanceStatement.build(POLICE, [renamed], other, JUNE)
    assert first.lines[0].collected == second.lines[0].collected
    assert first.statement_id != second.statement_id
