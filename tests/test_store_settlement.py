"""The settlement side of the store: statements with their lines, reconciliation reports,
manifests, remittances and the append-only ledger, on SQLite, PostgreSQL and MariaDB."""

from __future__ import annotations

import multiprocessing
import threading
from collections.abc import Iterator
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import attrs
import pytest
from hypothesis import given, settings

from govpost.agreements import (
    AgentFee,
    AgentFeeKind,
    Budget,
    Coverage,
    FeeAgreement,
    FlatTariff,
    LumpSum,
    PerPiece,
    ReturnPolicy,
    Underuse,
)
from govpost.errors import StoreError, ValidationError
from govpost.modes import Acknowledgement, HandoverManifest, RemittanceStatement
from govpost.money import Money
from govpost.periods import SHANGHAI, Period
from govpost.serialization import from_json, to_json
from govpost.settlement import (
    CarrierBill,
    LineKind,
    SettlementRow,
    SettlementStatement,
    reconcile,
    settle,
)
from govpost.testing import strategies as gps
from govpost.testing.strategies import SETTLEMENT_CENTERS

pytest.importorskip("sqlalchemy", reason="the store's tests need govpost[store]")

import sqlalchemy as sa

from govpost.store import (
    BalanceMismatch,
    KeyRing,
    LedgerEntry,
    LedgerLeg,
    Store,
    ledger_entries,
    open_store,
    reversal,
)
from govpost.store import _schema as t
from govpost.store._settlement import LINE_BATCH
from tests.strategies import ledger_entries as ledger_entry_strategy

JUNE = Period.month(2018, 6)
POSTED = datetime(2018, 7, 1, 9, 0, tzinfo=SHANGHAI)
DESTINATIONS = ("520103", "522301", "110105")  # same city, in province, out of province


@pytest.fixture
def store(store_url: str) -> Iterator[Store]:
    with open_store(store_url) as opened:
        yield opened


@pytest.fixture
def sealed_store(store_url: str, store_keys: KeyRing) -> Iterator[Store]:
    with open_store(store_url, keys=store_keys) as opened:
        yield opened


def count(store: Store, table: sa.Table) -> int:
    with store.engine.connect() as connection:
        return int(connection.execute(sa.select(sa.func.count()).select_from(table)).scalar_one())


def clear(store: Store, *tables: sa.Table) -> None:
    """Empty ``tables`` (between the examples of a property test sharing one database)."""
    with store.engine.begin() as connection:
        for table in tables:
            connection.execute(sa.delete(table))


SETTLEMENT_TABLES = (t.statement_lines, t.statements)


# --- statements to save ---------------------------------------------------------------------------


def per_piece(
    *,
    return_policy: ReturnPolicy = ReturnPolicy.REFUND_ORIGINAL,
    agent_fee: AgentFee | None = None,
    budget: Budget | None = None,
) -> FeeAgreement:
    return FeeAgreement(
        id="GZ-EMS-PP",
        carrier="ems",
        reference="黔政办〔2018〕1号",
        centers=set(SETTLEMENT_CENTERS),
        covers=Coverage.all(),
        valid_from=date(2018, 1, 1),
        mode=PerPiece(tariff=FlatTariff(price="12.50"), discount="0.15"),
        return_policy=return_policy,
        agent_fee=agent_fee,
        budget=budget,
    )


def lump(
    *,
    amount: str = "3000.00",
    quota: int | None = 5,
    underuse: Underuse = Underuse.KEEP,
    agent_fee: AgentFee | None = None,
    budget: Budget | None = None,
) -> FeeAgreement:
    return FeeAgreement(
        id="GZ-EMS-LUMP",
        carrier="ems",
        reference="黔政办〔2018〕2号",
        centers=set(SETTLEMENT_CENTERS),
        covers=Coverage.all(),
        valid_from=date(2018, 1, 1),
        mode=LumpSum(
            amount=amount,
            quota=quota,
            overage=None if quota is None else FlatTariff(price="8.00"),
            underuse=underuse,
        ),
        agent_fee=agent_fee,
        budget=budget,
    )


def rows(
    period: Period, n: int, *, prefix: str = "W", returned_every: int = 0
) -> list[SettlementRow]:
    """``n`` pieces picked up in ``period`` across the three centers and zones; every
    ``returned_every``-th one returned the next day."""
    made = []
    for i in range(n):
        picked = datetime.combine(
            period.start + timedelta(days=i % 28), datetime.min.time(), SHANGHAI
        ) + timedelta(hours=9, minutes=i % 60)
        returned = (
            picked + timedelta(days=1) if returned_every and i % returned_every == 0 else None
        )
        made.append(
            SettlementRow(
                waybill=f"{prefix}{i:07d}",
                center=SETTLEMENT_CENTERS[i % 3],
                business_line="licence_delivery",
                direction="outbound_result",
                origin="520102",
                destination=DESTINATIONS[i % 3],
                weight_g=100 + 37 * (i % 50),
                picked_up_at=picked,
                returned_at=returned,
            )
        )
    return made


FEE = AgentFee(per_piece=Money("1.50"), reference="黔邮协〔2018〕6号 第五条")


def kinds(statement: SettlementStatement) -> set[LineKind]:
    return {line.kind for line in statement.lines}


# --- statements: round trips ---------------------------------------------------------------------


def test_settled_statements_round_trip(store: Store) -> None:
    """What is read back equals what was saved, lines included, for statements settled from
    generated shipments (per piece and lump sum, with budgets, agent fees, returns); saving
    the same statement again writes nothing."""

    @settings(max_examples=20, deadline=None)
    @given(statement=gps.settlement_statements())
    def check(statement: SettlementStatement) -> None:
        clear(store, *SETTLEMENT_TABLES)
        assert store.statements.save(statement) is True
        assert store.statements.save(statement) is False
        assert (1, len(statement.lines)) == (
            count(store, t.statements),
            count(store, t.statement_lines),
        )
        assert statement == store.statements.get(statement.statement_id)
        assert statement == store.statements.current(statement.agreement_id, statement.period)
        assert (statement,) == store.statements.for_period(statement.period)
        totals = store.statements.totals(statement.agreement_id, str(statement.period))
        assert totals is not None
        assert (statement.statement_id, 1, statement.pieces, statement.total) == totals[:4]
        assert statement.by_center == totals.by_center

    check()


@pytest.mark.parametrize(
    ("agreement", "expected"),
    [
        (
            per_piece(return_policy=ReturnPolicy.REFUND_ORIGINAL, agent_fee=FEE),
            {LineKind.CHARGE, LineKind.CREDIT, LineKind.AGENT_FEE},
        ),
        (
            per_piece(
                return_policy=ReturnPolicy.CHARGE_RETURN_LEG,
                agent_fee=attrs.evolve(FEE, kind=AgentFeeKind.CHARGE),
            ),
            {LineKind.CHARGE, LineKind.RETURN_LEG, LineKind.AGENT_FEE},
        ),
        (
            lump(agent_fee=FEE, budget=Budget(annual="10000.00", strict=False)),
            {LineKind.LUMP_SUM, LineKind.COVERED, LineKind.OVERAGE, LineKind.AGENT_FEE},
        ),
    ],
    ids=["credits", "return-legs", "lump-sum"],
)
def test_every_kind_of_line_round_trips(
    store: Store, agreement: FeeAgreement, expected: set[LineKind]
) -> None:
    """Charges, credits, return legs, agent fees (deducted and charged), covered and overage
    pieces and the lump-sum line are read back as saved, with their breakdowns."""
    statement = settle(agreement, rows(JUNE, 24, returned_every=4), JUNE)
    assert expected == kinds(statement)
    assert store.statements.save(statement) is True
    back = store.statements.get(statement.statement_id)
    assert back == statement
    assert back is not None
    assert list(statement.lines) == list(back.lines)
    assert [line.breakdown for line in statement.lines] == [line.breakdown for line in back.lines]
    assert [line.refers_to for line in statement.lines] == [line.refers_to for line in back.lines]


def test_a_lump_sum_without_pieces_round_trips(store: Store) -> None:
    """A lump-sum month without a piece: one line, attributed to no center ("*")."""
    statement = settle(lump(), [], JUNE)
    assert [LineKind.LUMP_SUM] == [line.kind for line in statement.lines]
    assert store.statements.save(statement) is True
    assert statement == store.statements.current("GZ-EMS-LUMP", "2018-06")


def test_a_large_statement_is_written_and_read_in_batches(store: Store) -> None:
    """A statement of 20,000 lines is written in executemany batches of at most LINE_BATCH
    rows — never one statement per line, nor one giant parameter list — and read back equal."""
    statement = settle(per_piece(agent_fee=FEE), rows(JUNE, 10_000, returned_every=97), JUNE)
    assert len(statement.lines) > 20_000
    batches: list[int] = []

    def watch(conn: Any, cursor: Any, statement_text: str, parameters: Any, *rest: Any) -> None:
        if statement_text.lstrip().upper().startswith("INSERT INTO STATEMENT_LINES"):
            batches.append(len(parameters) if rest[-1] else 1)

    sa.event.listen(store.engine, "before_cursor_execute", watch)
    try:
        assert store.statements.save(statement) is True
    finally:
        sa.event.remove(store.engine, "before_cursor_execute", watch)
    assert len(statement.lines) == count(store, t.statement_lines)
    assert len(statement.lines) == sum(batches)
    assert max(batches) <= LINE_BATCH
    assert len(batches) == -(-len(statement.lines) // LINE_BATCH)
    assert statement == store.statements.get(statement.statement_id)


# --- statements: once per agreement and period ----------------------------------------------------


def snapshot(store: Store) -> tuple[int, int, SettlementStatement | None]:
    return (
        count(store, t.statements),
        count(store, t.statement_lines),
        store.statements.current("GZ-EMS-PP", JUNE),
    )


def test_a_different_statement_is_refused_then_superseded(store: Store) -> None:
    """A second, different statement of the same agreement and period is refused, naming both
    ids and totals, and nothing changes; with supersede=True it becomes version 2 and the first
    is kept as history."""
    first = settle(per_piece(), rows(JUNE, 6), JUNE)
    second = settle(per_piece(), rows(JUNE, 7), JUNE)
    assert first.statement_id != second.statement_id
    assert store.statements.save(first) is True
    before = snapshot(store)

    with pytest.raises(StoreError) as refused:
        store.statements.save(second)
    message = str(refused.value)
    for part in (
        "GZ-EMS-PP",
        "2018-06",
        first.statement_id,
        second.statement_id,
        str(first.total),
        str(second.total),
        "supersede=True",
    ):
        assert part in message
    assert before == snapshot(store)

    assert store.statements.save(second, supersede=True) is True
    assert store.statements.save(second, supersede=True) is False
    assert second == store.statements.current("GZ-EMS-PP", JUNE)
    assert (first, second) == store.statements.history("GZ-EMS-PP", JUNE)
    assert first == store.statements.get(first.statement_id)
    assert (second,) == store.statements.for_period(JUNE)
    totals = store.statements.totals("GZ-EMS-PP", JUNE)
    assert totals is not None
    assert (second.statement_id, 2, second.total) == (
        totals.statement_id,
        totals.version,
        totals.total,
    )

    # The superseded statement is history: saving it again is refused, never a third version.
    for supersede in (False, True):
        with pytest.raises(StoreError, match="superseded"):
            store.statements.save(first, supersede=supersede)
    assert 2 == count(store, t.statements)


def test_nothing_is_half_written_inside_a_transaction(store: Store) -> None:
    """A statement refused after some of its lines were written leaves none behind, even when
    the caller catches the error and commits the rest of its transaction."""
    good = settle(per_piece(), rows(JUNE, 1_500), JUNE)
    lines = list(good.lines)
    lines[-1] = attrs.evolve(lines[-1], waybill="X" * 65)
    bad = attrs.evolve(good, lines=lines)
    entry = ledger_entries(good, posted_at=POSTED)[0]
    with store.transaction() as tx:
        tx.ledger.post(entry)
        with pytest.raises(ValidationError, match=r"statement_lines\.waybill holds at most 64"):
            tx.statements.save(bad)
    assert (0, 0) == (count(store, t.statements), count(store, t.statement_lines))
    assert (entry,) == store.ledger.entries()


def test_previous_is_what_settle_needs(store: Store) -> None:
    """previous() gives the statements in force of the same fiscal year before the period, and
    the one of the period just before across the new year; settling with it equals settling
    with every earlier statement in memory (budget and carried quota included)."""
    agreement = lump(
        amount="500.00",
        quota=10,
        underuse=Underuse.CARRY_FORWARD,
        budget=Budget(annual="2000.00", strict=False),
    )
    months = [Period.month(2018, m) for m in (10, 11, 12)] + [
        Period.month(2019, 1),
        Period.month(2019, 2),
    ]
    settled: list[SettlementStatement] = []
    for index, (month, pieces) in enumerate(zip(months, (3, 7, 11, 5, 4), strict=True)):
        statement = settle(
            agreement, rows(month, pieces, prefix=f"M{index}-"), month, previous=settled
        )
        settled.append(statement)
        assert store.statements.save(statement) is True
    october, november, december, january, february = settled

    assert (october, november) == store.statements.previous("GZ-EMS-LUMP", Period.month(2018, 12))
    assert (december,) == store.statements.previous("GZ-EMS-LUMP", Period.month(2019, 1))
    assert (january,) == store.statements.previous("GZ-EMS-LUMP", "2019-02")
    assert () == store.statements.previous("GZ-EMS-LUMP", Period.month(2018, 10))
    march = Period.month(2019, 3)
    in_march = rows(march, 4, prefix="M5-")
    from_store = settle(
        agreement, in_march, march, previous=store.statements.previous("GZ-EMS-LUMP", march)
    )
    assert settle(agreement, in_march, march, previous=settled) == from_store
    assert from_store.budget is not None
    assert from_store.lump_sum is not None
    assert january.total + february.total == from_store.budget.settled_before
    assert february.lump_sum is not None
    assert 0 < february.lump_sum.carried_out == from_store.lump_sum.carried_in
    assert tuple(settled) == store.statements.for_agreement("GZ-EMS-LUMP")


def test_statement_reads_of_nothing_and_bad_input(store: Store) -> None:
    assert store.statements.get("nope") is None
    assert store.statements.current("GZ-EMS-PP", JUNE) is None
    assert store.statements.totals("GZ-EMS-PP", JUNE) is None
    assert () == store.statements.history("GZ-EMS-PP", JUNE)
    with pytest.raises(ValidationError, match=r"statements\.save takes a SettlementStatement"):
        store.statements.save("statement")  # type: ignore[arg-type]
    with pytest.raises(ValidationError, match="is not like '2018-06'"):
        store.statements.current("GZ-EMS-PP", "June")
    with pytest.raises(ValidationError, match="must be a Period"):
        store.statements.for_period(2018)  # type: ignore[arg-type]


def test_lines_changed_outside_govpost_are_a_store_error(store: Store) -> None:
    statement = settle(per_piece(), rows(JUNE, 3), JUNE)
    store.statements.save(statement)
    position = t.statement_lines.c.position
    with store.engine.begin() as connection:
        connection.execute(sa.update(t.statement_lines).where(position == 1).values(kind="bogus"))
    with pytest.raises(StoreError, match=r"line 1 of statement .* is unreadable.*'bogus'"):
        store.statements.get(statement.statement_id)
    with store.engine.begin() as connection:
        connection.execute(sa.delete(t.statement_lines).where(position == 1))
    with pytest.raises(StoreError, match="has 2 lines where its header counts 3"):
        store.statements.get(statement.statement_id)


def test_database_errors_are_store_errors(store: Store) -> None:
    """A database failure surfaces as a StoreError naming the operation, never a SQLAlchemy
    exception."""
    with store.engine.begin() as connection:
        connection.execute(sa.text("DROP TABLE statement_lines"))
    statement = settle(per_piece(), rows(JUNE, 2), JUNE)
    with pytest.raises(StoreError, match=f"save statement {statement.statement_id}") as error:
        store.statements.save(statement)
    assert isinstance(error.value.__cause__, sa.exc.SQLAlchemyError)
    assert 0 == count(store, t.statements)


# --- statements: concurrency -------------------------------------------------------------------


def test_a_save_waiting_on_another_finds_it_saved(store_url: str) -> None:
    """While one transaction holds a statement unsaved, another saving the same statement
    waits, then finds it saved (on servers: its insert collides, and it reads again)."""
    statement = settle(per_piece(), rows(JUNE, 5), JUNE)
    outcome: list[object] = []
    with open_store(store_url) as first, open_store(store_url) as second:
        with first.transaction() as tx:
            assert tx.statements.save(statement) is True

            def other() -> None:
                try:
                    outcome.append(second.statements.save(statement))
                except Exception as error:  # reported by the assertion below
                    outcome.append(error)

            waiting = threading.Thread(target=other)
            waiting.start()
            waiting.join(timeout=0.5)
            assert waiting.is_alive()  # blocked by the first transaction
        waiting.join(timeout=30)
        assert [False] == outcome
        assert 1 == count(first, t.statements)


# --- reconciliation reports -------------------------------------------------------------------


def test_reconciliation_reports_round_trip(store: Store) -> None:
    """A report is kept once, read back equal, and a statement's reports come oldest first."""

    @settings(max_examples=20, deadline=None)
    @given(report=gps.reconciliation_reports())
    def check(report: Any) -> None:
        clear(store, t.reconciliations)
        assert store.reconciliations.save(report) is True
        assert store.reconciliations.save(report) is False
        assert (report,) == store.reconciliations.for_statement(report.statement_id)
        assert report == store.reconciliations.latest(report.statement_id)

    check()


def test_a_statements_reports_come_oldest_first(store: Store) -> None:
    statement = settle(per_piece(), rows(JUNE, 6), JUNE)
    bill = CarrierBill.from_statement(statement)
    clean = reconcile(statement, bill)
    short_bill = reconcile(statement, CarrierBill(rows=bill.rows[:-1], currency="CNY"))
    assert clean != short_bill
    assert store.reconciliations.save(short_bill) is True
    assert store.reconciliations.save(clean) is True
    assert store.reconciliations.save(short_bill) is False
    assert (short_bill, clean) == store.reconciliations.for_statement(statement.statement_id)
    assert clean == store.reconciliations.latest(statement.statement_id)
    assert store.reconciliations.latest("other") is None
    with store.engine.connect() as connection:
        matched = connection.execute(
            sa.select(t.reconciliations.c.matched).order_by(t.reconciliations.c.pk)
        ).scalars()
        assert [False, True] == list(matched)


# --- manifests --------------------------------------------------------------------------------


def test_manifests_round_trip_sealed(sealed_store: Store) -> None:
    """A manifest is recorded once, read back equal, found by center and period, and the
    names of the signers are never in the table in clear."""

    @settings(max_examples=20, deadline=None)
    @given(manifest=gps.handover_manifests())
    def check(manifest: HandoverManifest) -> None:
        clear(sealed_store, t.manifests)
        assert 1 == sealed_store.manifests.record(manifest)
        assert 0 == sealed_store.manifests.record(manifest)
        assert manifest == sealed_store.manifests.get(manifest.manifest_id)
        september = Period.month(2018, 9)
        assert (manifest,) == sealed_store.manifests.find(
            center=manifest.center, scheduled_in=september
        )
        assert () == sealed_store.manifests.find(scheduled_in=Period.month(2018, 10))
        assert () == sealed_store.manifests.find(center="GZ-000000")
        with sealed_store.engine.connect() as connection:
            blob = bytes(connection.execute(sa.select(t.manifests.c.document)).scalar_one())
        for signed in (manifest.handed_over, manifest.received):
            if signed is not None:
                assert signed.name.encode("utf-8") not in blob
        assert manifest.manifest_id.encode() not in blob

    check()


def test_an_acknowledged_manifest_replaces_its_draft(sealed_store: Store) -> None:
    manifest = HandoverManifest(
        manifest_id="GZ-520100-20180929T1000",
        center="GZ-520100",
        scheduled_at=datetime(2018, 9, 29, 10, tzinfo=SHANGHAI),
        items=[],
    )
    signed = attrs.evolve(
        manifest,
        handed_over=Acknowledgement(
            name="欧阳娜娜", at=datetime(2018, 9, 29, 10, 5, tzinfo=SHANGHAI)
        ),
    )
    assert 1 == sealed_store.manifests.record(manifest)
    assert 1 == sealed_store.manifests.record(signed)
    assert signed == sealed_store.manifests.get(manifest.manifest_id)
    assert sealed_store.manifests.get("GZ-520100-20180929T1100") is None
    row = sealed_store.manifests.row(signed)
    assert {"manifest_id", "center", "scheduled_at", "key_id", "version", "document"} == set(row)


def test_manifests_need_the_keys(tmp_path: Path) -> None:
    """Refused before any SQL is sent, so one backend is enough."""
    store = open_store(f"sqlite:///{tmp_path / 'store.db'}")
    manifest = HandoverManifest(
        manifest_id="GZ-520100-20180929T1000",
        center="GZ-520100",
        scheduled_at=datetime(2018, 9, 29, 10, tzinfo=SHANGHAI),
        items=[],
    )
    with pytest.raises(StoreError, match="open the store with keys="):
        store.manifests.record(manifest)
    with pytest.raises(ValidationError, match=r"manifests\.record takes a HandoverManifest"):
        store.manifests.record("manifest")  # type: ignore[arg-type]
    store.close()


# --- remittances ------------------------------------------------------------------------------


def test_remittances_round_trip(store: Store) -> None:
    """A remittance statement is saved once and read back equal, alone and by department."""

    @settings(max_examples=20, deadline=None)
    @given(statement=gps.remittance_statements())
    def check(statement: RemittanceStatement) -> None:
        clear(store, t.remittances)
        assert store.remittances.save(statement) is True
        assert store.remittances.save(statement) is False
        assert statement == store.remittances.get(statement.statement_id)
        assert (statement,) == store.remittances.for_department(statement.department_code)
        assert (statement,) == store.remittances.for_department(
            statement.department_code, Period.month(2018, 6)
        )
        assert () == store.remittances.for_department(statement.department_code, "2018-07")

    check()


def test_a_remittance_with_other_content_under_its_id_is_refused(store: Store) -> None:
    """Two statements under one id (one was altered in the database) are refused."""

    @settings(max_examples=5, deadline=None)
    @given(first=gps.remittance_statements(), second=gps.remittance_statements())
    def check(first: RemittanceStatement, second: RemittanceStatement) -> None:
        if first == second:
            return
        clear(store, t.remittances)
        store.remittances.save(first)
        with store.engine.begin() as connection:
            connection.execute(sa.update(t.remittances).values(document=to_json(second)))
        with pytest.raises(StoreError, match="is saved with other content"):
            store.remittances.save(first)

    check()


# --- the ledger: entries --------------------------------------------------------------------------


def entry(reference: str = "S-1/finance_to_center/GZ-520100", **changes: Any) -> LedgerEntry:
    fields: dict[str, Any] = {
        "reference": reference,
        "agreement_id": "GZ-EMS-PP",
        "fiscal_year": 2018,
        "leg": LedgerLeg.FINANCE_TO_CENTER,
        "payer": "finance",
        "payee": "GZ-520100",
        "amount": Money("10.63"),
        "statement_id": "S-1",
        "posted_at": POSTED,
        "memo": "2018-06 财政划款",
    }
    fields.update(changes)
    return LedgerEntry(**fields)


ledger_entry_values = ledger_entry_strategy()


@given(ledger_entry_values)
def test_ledger_entries_round_trip_through_the_wire_format(value: LedgerEntry) -> None:
    assert value == from_json(to_json(value), LedgerEntry)


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"amount": Money("0.00")}, "never zero"),
        ({"amount": Money("0.005")}, "fen"),
        ({"amount": "10.00"}, "must be a Money"),
        ({"posted_at": datetime(2018, 7, 1)}, "is naive"),
        ({"payee": "finance"}, "the payer and the payee are the same party"),
        ({"leg": "sideways"}, "is not a LedgerLeg"),
        ({"fiscal_year": True}, "fiscal year True must be an int"),
        ({"reference": " S-1"}, "without surrounding spaces"),
        ({"reference": "x" * 201}, "1-200 printable characters"),
        ({"agreement_id": "张三"}, "must be a code"),
        ({"memo": "x" * 401}, "at most 400 characters"),
    ],
)
def test_a_bad_ledger_entry_is_refused(changes: dict[str, Any], message: str) -> None:
    with pytest.raises(ValidationError, match=message) as error:
        entry(**changes)
    assert "张三" not in str(error.value)


def test_a_statements_entries_add_up_to_its_total_on_each_leg() -> None:
    """For any settled statement, each leg's entries add up to the statement's total (a lump sum
    is attributed to the centers by pieces, or to the center named for "*"), and no entry is
    zero."""

    @settings(max_examples=60, deadline=None)
    @given(statement=gps.settlement_statements())
    def check(statement: SettlementStatement) -> None:
        entries = ledger_entries(statement, posted_at=POSTED, unattributed=SETTLEMENT_CENTERS[0])
        for leg in LedgerLeg:
            amounts = [e.amount for e in entries if e.leg is leg]
            assert statement.total == sum(amounts, Money.zero(statement.currency))
        assert len({e.reference for e in entries}) == len(entries)
        assert all(
            e.fiscal_year == 2018 and e.statement_id == statement.statement_id for e in entries
        )
        assert all(e.amount.fen != 0 for e in entries)
        carrier = [e for e in entries if e.leg is LedgerLeg.CENTER_TO_CARRIER]
        assert {statement.carrier} == {e.payee for e in carrier} or not carrier

    check()


def test_an_unattributed_lump_sum_needs_a_center() -> None:
    statement = settle(lump(), [], JUNE)
    with pytest.raises(ValidationError, match="pass unattributed='<center code>'"):
        ledger_entries(statement, posted_at=POSTED)
    entries = ledger_entries(statement, posted_at=POSTED, unattributed="GZ-520000")
    assert [
        ("finance", "GZ-520000", Money("3000.00")),
        ("GZ-520000", "ems", Money("3000.00")),
    ] == [(e.payer, e.payee, e.amount) for e in entries]
    assert entries[0].reference == f"{statement.statement_id}/finance_to_center/GZ-520000"


# --- the ledger: posting --------------------------------------------------------------------------


def test_posting_is_idempotent_and_balances_follow(store: Store) -> None:
    statement = settle(per_piece(agent_fee=FEE), rows(JUNE, 30, returned_every=5), JUNE)
    entries = ledger_entries(statement, posted_at=POSTED)
    assert 6 == len(entries)
    assert 6 == store.ledger.post(*entries)
    assert 0 == store.ledger.post(*entries)
    assert 0 == store.ledger.post(entries[0], entries[0])
    for leg in LedgerLeg:
        assert statement.total == store.ledger.balance("GZ-EMS-PP", 2018, leg)
        assert statement.total == store.ledger.balance("GZ-EMS-PP", 2018, leg.value)
    assert Money.zero() == store.ledger.balance("GZ-EMS-PP", 2019, LedgerLeg.FINANCE_TO_CENTER)
    assert entries == store.ledger.entries()
    assert entries == store.ledger.entries("GZ-EMS-PP", 2018)
    assert () == store.ledger.entries("GZ-EMS-PP", 2019)
    assert () == store.ledger.entries("GZ-EMS-LUMP")
    assert () == store.ledger.verify()


def test_a_reference_posted_with_other_content_is_refused(store: Store) -> None:
    """A reference reused for another entry is refused, and nothing of that call is posted."""
    first = entry()
    assert 1 == store.ledger.post(first)
    other = entry("S-2/finance_to_center/GZ-520100", amount=Money("5.00"))
    changed = entry(amount=Money("10.64"))
    with pytest.raises(StoreError, match=r"S-1/finance_to_center/GZ-520100 is posted with other"):
        store.ledger.post(other, changed)
    assert (first,) == store.ledger.entries()
    assert Money("10.63") == store.ledger.balance("GZ-EMS-PP", 2018, LedgerLeg.FINANCE_TO_CENTER)
    with pytest.raises(StoreError, match=r"post (it|them) in CNY"):
        store.ledger.post(entry("S-3/x", amount=Money("1.00", "USD")))
    assert (first,) == store.ledger.entries()
    with pytest.raises(ValidationError, match=r"ledger\.post takes a LedgerEntry"):
        store.ledger.post("entry")  # type: ignore[arg-type]


def test_a_superseded_statement_is_reversed(store: Store) -> None:
    """After supersede, the old statement's reversal and the new statement's entries, each leg
    holds the new statement's total."""
    old = settle(per_piece(), rows(JUNE, 9), JUNE)
    new = settle(per_piece(), rows(JUNE, 11), JUNE)
    assert store.statements.save(old)
    store.ledger.post(*ledger_entries(old, posted_at=POSTED))
    later = POSTED + timedelta(days=3)
    assert store.statements.save(new, supersede=True)
    undo = reversal(ledger_entries(old, posted_at=POSTED), posted_at=later)
    assert all(e.reference.endswith("/reversal") for e in undo)
    assert [-e.amount for e in ledger_entries(old, posted_at=POSTED)] == [e.amount for e in undo]
    with store.transaction() as tx:
        posted = tx.ledger.post(*undo, *ledger_entries(new, posted_at=later))
    assert len(undo) * 2 == posted
    for leg in LedgerLeg:
        assert new.total == store.ledger.balance("GZ-EMS-PP", 2018, leg)
    assert 0 == store.ledger.post(*undo)
    assert () == store.ledger.verify()


def test_verify_finds_a_tampered_balance_and_rebuild_mends_it(store: Store) -> None:
    statement = settle(per_piece(), rows(JUNE, 12), JUNE)
    store.ledger.post(*ledger_entries(statement, posted_at=POSTED))
    b = t.ledger_balances.c
    with store.engine.begin() as connection:
        connection.execute(
            sa.update(t.ledger_balances)
            .where(b.leg == "center_to_carrier")
            .values(balance_fen=b.balance_fen + 1)
        )
    assert (
        BalanceMismatch(
            agreement_id="GZ-EMS-PP",
            fiscal_year=2018,
            leg=LedgerLeg.CENTER_TO_CARRIER,
            recorded=statement.total + Money("0.01"),
            computed=statement.total,
            recorded_entries=3,
            computed_entries=3,
        ),
    ) == store.ledger.verify()
    with store.engine.begin() as connection:
        connection.execute(sa.delete(t.ledger_balances).where(b.leg == "finance_to_center"))
        connection.execute(
            sa.insert(t.ledger_balances),
            {
                "agreement_id": "GZ-GONE",
                "fiscal_year": 2017,
                "leg": "finance_to_center",
                "currency": "CNY",
                "balance_fen": 100,
                "entries": 1,
            },
        )
    found = store.ledger.verify()
    assert [
        ("GZ-EMS-PP", LedgerLeg.CENTER_TO_CARRIER),
        ("GZ-EMS-PP", LedgerLeg.FINANCE_TO_CENTER),
        ("GZ-GONE", LedgerLeg.FINANCE_TO_CENTER),
    ] == [(m.agreement_id, m.leg) for m in found]
    assert (None, statement.total) == (found[1].recorded, found[1].computed)
    assert (Money("1.00"), None) == (found[2].recorded, found[2].computed)
    assert 2 == store.ledger.rebuild()
    assert () == store.ledger.verify()
    for leg in LedgerLeg:
        assert statement.total == store.ledger.balance("GZ-EMS-PP", 2018, leg)


# --- two processes at once -------------------------------------------------------------------

OWN = 20


def month_to_close() -> SettlementStatement:
    return settle(per_piece(agent_fee=FEE), rows(JUNE, 300, returned_every=7), JUNE)


def own_entries(worker: int) -> list[LedgerEntry]:
    """Entries only one process posts, to the balance the statement's entries also move."""
    return [
        entry(f"w{worker}/{i}", amount=Money.from_fen((-1) ** i * (1_000 + 7 * i + worker)))
        for i in range(OWN)
    ]


def close_month(url: str, worker: int, barrier: Any, results: Any) -> None:
    """A process closing June: save its statement, post its entries and some of its own, one
    call each (run with the spawn context)."""
    statement = month_to_close()
    with open_store(url) as store:
        barrier.wait(timeout=30)
        saved = store.statements.save(statement)
        posted = [*ledger_entries(statement, posted_at=POSTED), *own_entries(worker)]
        results.put((saved, sum(store.ledger.post(e) for e in posted)))


def spawn(monkeypatch: pytest.MonkeyPatch) -> Any:
    """The spawn context, with this file importable in the processes it starts (pytest imports
    it in importlib mode, leaving the project's root off ``sys.path``, which they inherit)."""
    monkeypatch.syspath_prepend(str(Path(__file__).resolve().parents[1]))
    return multiprocessing.get_context("spawn")


def test_two_processes_closing_a_month_at_once(
    store_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two processes close the same month at once: the statement is saved once (one process
    writes it, the other finds it), each ledger entry is posted once, and every balance is
    the sum of its entries — the concurrent ``balance + amount`` updates all count."""
    context = spawn(monkeypatch)
    barrier = context.Barrier(2)
    results = context.Queue()
    open_store(store_url).close()  # the schema, before the processes race to create it
    workers = [
        context.Process(target=close_month, args=(store_url, n, barrier, results)) for n in (1, 2)
    ]
    for worker in workers:
        worker.start()
    outcomes = sorted(results.get(timeout=120) for _ in workers)
    for worker in workers:
        worker.join(timeout=60)
    assert [0, 0] == [worker.exitcode for worker in workers]
    statement = month_to_close()
    shared = ledger_entries(statement, posted_at=POSTED)
    assert [False, True] == [saved for saved, _ in outcomes]
    assert len(shared) + 2 * OWN == sum(posted for _, posted in outcomes)
    own = sum((e.amount for n in (1, 2) for e in own_entries(n)), Money.zero())
    with open_store(store_url) as store:
        assert (1, len(statement.lines)) == (
            count(store, t.statements),
            count(store, t.statement_lines),
        )
        assert statement == store.statements.current("GZ-EMS-PP", JUNE)
        assert statement.total + own == store.ledger.balance(
            "GZ-EMS-PP", 2018, LedgerLeg.FINANCE_TO_CENTER
        )
        assert statement.total == store.ledger.balance(
            "GZ-EMS-PP", 2018, LedgerLeg.CENTER_TO_CARRIER
        )
        assert () == store.ledger.verify()
        assert len(shared) + 2 * OWN == len(store.ledger.entries())
