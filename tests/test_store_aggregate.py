"""Settlement where the data lives: the store's aggregate equals ``settle``, to the fen.

Every test runs on SQLite, PostgreSQL and MariaDB (the ``store_url`` fixture). The property
tests record a batch of shipments into an empty store and state two invariants of
ARCHITECTURE.md: the totals and subtotals the database computes (``store.aggregate``) are those
of ``settle`` on the same shipments in memory, and settling the rows the store streams
(``store.shipments.settlement_rows``) gives the statement settling the shipments in memory
gives. The worked examples pin the numbers by hand.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime, timedelta
from typing import Any, TypeVar

import attrs
import pytest

pytest.importorskip("sqlalchemy", reason="the store's tests need govpost[store]")

import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from govpost.agreements import (
    Budget,
    Coverage,
    FeeAgreement,
    FlatTariff,
    Insurance,
    LumpSum,
    PerPiece,
    RateCard,
    ReturnPolicy,
    Underuse,
    ZonePrice,
)
from govpost.errors import (
    BudgetExceededError,
    GovpostError,
    SettlementError,
    StoreError,
)
from govpost.money import Money
from govpost.periods import SHANGHAI
from govpost.settlement import Period, SettlementStatement, Subtotal, settle
from govpost.shipments import Shipment
from govpost.store import AggregateTotals, KeyRing, Store, open_store
from govpost.store import _schema as t
from govpost.testing import strategies as gps

T = TypeVar("T")

MAY, JUNE = Period.month(2018, 5), Period.month(2018, 6)
CENTER = "GZ-520100"
ORIGIN = "520102"  # 贵阳市南明区
SAME_CITY, IN_PROVINCE, OUT_OF_PROVINCE = "520103", "520201", "110105"

#: Database tests: few examples, each records a batch and runs a dozen statements.
DB_SETTINGS = settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


@pytest.fixture
def store(store_url: str, store_keys: KeyRing) -> Iterator[Store]:
    with open_store(store_url, keys=store_keys) as opened:
        yield opened


def fresh(store: Store, shipments: list[Shipment]) -> None:
    """The store holding exactly ``shipments`` (one database serves every example)."""
    with store.engine.begin() as connection:
        connection.execute(sa.delete(t.shipments))
    if shipments:
        store.shipments.record(*shipments)


def outcome(call: Callable[[], T]) -> tuple[T | None, GovpostError | None]:
    try:
        return call(), None
    except GovpostError as error:
        return None, error


# --- generated agreements and shipments ------------------------------------------------------------


@st.composite
def agreements(draw: st.DrawFn) -> FeeAgreement:
    """Per-piece and lump-sum agreements (:mod:`govpost.testing.strategies`), with a budget
    or not, often covering everything, sometimes in force for part of June only, sometimes on
    a rate card that starts on June 5 (so that pieces before cannot be priced)."""
    budget = draw(st.none() | gps.budgets())
    agreement: FeeAgreement
    if draw(st.booleans()):
        valid_from = draw(st.sampled_from([date(2018, 1, 1), date(2018, 6, 10)]))
        agreement = draw(gps.per_piece_agreements(valid_from=valid_from, budget=budget))
        if draw(st.integers(0, 5)) == 0:
            assert isinstance(agreement.mode, PerPiece)
            card = draw(gps.rate_cards(start=date(2018, 6, 5)))
            mode = PerPiece(tariff=card, discount=agreement.mode.discount)
            agreement = attrs.evolve(agreement, mode=mode)
    else:
        agreement = draw(gps.lump_sum_agreements(budget=budget))
    if draw(st.booleans()):  # most pieces billed, not one (business line, direction) in eight
        agreement = attrs.evolve(agreement, covers=Coverage.all())
    ends = [day for day in (date(2018, 6, 20), date(2018, 7, 1)) if day > agreement.valid_from]
    if draw(st.booleans()) and ends:
        agreement = attrs.evolve(agreement, valid_until=draw(st.sampled_from(ends)))
    return agreement


@st.composite
def batches(draw: st.DrawFn) -> list[Shipment]:
    """Shipments created in June, and more from May to mid-July (returns up to 40 days
    later: some of late May's in June), some between any two divisions of the country."""
    batch = draw(gps.shipment_batches(start=date(2018, 6, 1), days=30, max_size=20))
    batch += draw(gps.shipment_batches(start=date(2018, 5, 1), days=75, max_size=8, offset=50))
    batch += draw(gps.shipment_batches(start=date(2018, 5, 20), days=15, max_size=8, offset=70))
    routes = st.none() | st.tuples(gps.divisions(), gps.divisions())
    moved = []
    for s in batch:
        route = draw(routes)
        if route is not None:
            s = attrs.evolve(s, origin=route[0], destination=route[1])
        if s.picked_up_at is not None and s.returned_at is None and draw(st.integers(0, 3)) == 0:
            back = datetime(
                2018, 6, draw(st.integers(1, 30)), draw(st.integers(0, 23)), tzinfo=SHANGHAI
            )
            if back >= s.picked_up_at:  # returned in June
                s = attrs.evolve(s, returned_at=back, status="returning")
        moved.append(s)
    return moved


@st.composite
def histories(draw: st.DrawFn, agreement: FeeAgreement) -> tuple[SettlementStatement, ...]:
    """No earlier statement, or May's, settled over shipments that share waybills with the
    June batch (numbered from the same offset) but were picked up earlier."""
    if not draw(st.booleans()):
        return ()
    earlier = draw(gps.shipment_batches(start=date(2018, 4, 25), days=36, max_size=10))
    statement, _ = outcome(lambda: settle(agreement, earlier, MAY))
    return () if statement is None else (statement,)


@st.composite
def scenarios(
    draw: st.DrawFn,
) -> tuple[FeeAgreement, list[Shipment], tuple[SettlementStatement, ...]]:
    agreement = draw(agreements())
    return agreement, draw(batches()), draw(histories(agreement))


@DB_SETTINGS
@given(scenario=scenarios())
def test_aggregate_equals_settle_to_the_fen(
    store: Store,
    scenario: tuple[FeeAgreement, list[Shipment], tuple[SettlementStatement, ...]],
) -> None:
    """For any agreement, shipments and earlier statements, the database's totals — pieces,
    total, subtotals by center, business line and zone, lump-sum and budget positions — are
    those of ``settle`` on the same shipments, to the fen; and whatever ``settle`` refuses,
    the aggregate refuses with the same error class."""
    agreement, batch, previous = scenario
    fresh(store, batch)
    expected, error = outcome(lambda: settle(agreement, batch, JUNE, previous=previous))
    if error is not None:
        with pytest.raises(type(error)):
            store.aggregate(agreement, JUNE, previous=previous)
        return
    assert expected is not None
    totals = store.aggregate(agreement, JUNE, previous=previous)
    assert AggregateTotals.of(expected) == totals
    assert totals.matches(expected)


@DB_SETTINGS
@given(scenario=scenarios())
def test_settling_from_the_store_equals_settling_in_memory(
    store: Store,
    scenario: tuple[FeeAgreement, list[Shipment], tuple[SettlementStatement, ...]],
) -> None:
    """Settling the rows the store streams gives the statement — every line, the subtotals,
    the ``statement_id`` — that settling the same shipments in memory gives.

    Only ``excluded`` may differ: it counts what settle read and did not bill, and the store
    hands over only the agreement's centers' shipments picked up or returned in the period
    (settle in memory also reads, and counts, the other centers' and the other periods').
    """
    agreement, batch, previous = scenario
    fresh(store, batch)
    expected, error = outcome(lambda: settle(agreement, batch, JUNE, previous=previous))
    rows = store.shipments.settlement_rows(agreement.centers, JUNE)
    if error is not None:
        with pytest.raises(type(error)):
            settle(agreement, rows, JUNE, previous=previous)
        return
    assert expected is not None
    from_store = settle(agreement, rows, JUNE, previous=previous)
    assert from_store.statement_id == expected.statement_id
    assert attrs.evolve(from_store, excluded=expected.excluded) == expected
    assert from_store.excluded.other_center == 0  # the store read only the agreement's centers


# --- worked examples -------------------------------------------------------------------------------


def at(day: int, hour: int = 10, minute: int = 0, month: int = 6) -> datetime:
    return datetime(2018, month, day, hour, minute, tzinfo=SHANGHAI)


def shipment(
    key: str,
    destination: str,
    picked: datetime | None,
    *,
    returned: datetime | None = None,
    center: str = CENTER,
    business_line: str = "licence_delivery",
    declared: str | None = None,
    receipt: bool = False,
    weight_g: int = 300,
    tracking: str | None = None,
) -> Shipment:
    created = (picked or at(1)) - timedelta(hours=1)
    status = "returning" if returned else "picked_up" if picked else "awaiting_pickup"
    return Shipment(
        id=key,
        center=center,
        business_line=business_line,
        direction="outbound_result",
        origin=ORIGIN,
        destination=destination,
        weight_g=weight_g,
        created_at=created,
        picked_up_at=picked,
        returned_at=returned,
        status=status,
        declared_value=None if declared is None else Money(declared),
        return_receipt=receipt,
        tracking_number=tracking,
    )


def subtotal(key: str, pieces: int, amount: str) -> Subtotal:
    return Subtotal(key=key, pieces=pieces, amount=Money(amount))


def per_piece(policy: ReturnPolicy, since: date = date(2018, 1, 1), **terms: Any) -> FeeAgreement:
    """12.50 同城, 14.00 省内, 20.00 省外, 15% off; insurance 1% (at least 1.00), receipt 3.00."""
    tariff = FlatTariff(
        price="12.50",
        zone_prices=[
            ZonePrice(zone="in_province", price="14.00"),
            ZonePrice(zone="out_of_province", price="20.00"),
        ],
    )
    card = RateCard.single(
        tariff,
        reference="黔邮〔2018〕3号",
        valid_from=since,
        insurance=Insurance(rate="0.01", minimum="1.00"),
        return_receipt="3.00",
    )
    return FeeAgreement(
        id="GZ-EMS-PP",
        carrier="ems",
        reference="黔政办〔2018〕1号",
        centers={CENTER},
        covers=Coverage(business_line="licence_delivery", direction="outbound_result"),
        mode=PerPiece(tariff=card, discount="0.15"),
        valid_from=since,
        return_policy=policy,
        **terms,
    )


#: June 2018 at one center: three pieces, a return of one of them, a return of a piece of May,
#: and three shipments that bill nothing.
MONTH = [
    shipment("A-1", SAME_CITY, at(3)),  # 12.50 × 0.85 = 10.625 → 10.63
    shipment("A-2", IN_PROVINCE, at(5), declared="500.00"),  # 11.90 + 5.00 = 16.90
    # 17.00 + receipt 3.00 = 20.00; returned on June 20
    shipment("A-3", OUT_OF_PROVINCE, at(7), receipt=True, returned=at(20)),
    # picked up in May (billed then), returned on June 2: 10.63 again
    shipment("A-4", SAME_CITY, at(28, month=5), returned=at(2)),
    shipment("A-5", SAME_CITY, at(4), center="GZ-520200"),  # another center's
    shipment("A-6", SAME_CITY, at(4), business_line="tax"),  # the applicant pays
    shipment("A-7", SAME_CITY, None),  # never picked up
]


@pytest.mark.parametrize(
    ("policy", "total", "zones"),
    [
        # return legs are postage only, at the day of return: 17.00 and 10.63
        (
            ReturnPolicy.CHARGE_RETURN_LEG,
            "75.16",
            (
                subtotal("same_city", 1, "21.26"),
                subtotal("in_province", 1, "16.90"),
                subtotal("out_of_province", 1, "37.00"),
            ),
        ),
        # credits negate the charge as billed, surcharges included: -20.00 and -10.63
        (
            ReturnPolicy.REFUND_ORIGINAL,
            "16.90",
            (
                subtotal("same_city", 1, "0.00"),
                subtotal("in_province", 1, "16.90"),
                subtotal("out_of_province", 1, "0.00"),
            ),
        ),
        (
            ReturnPolicy.NO_CHARGE,
            "47.53",
            (
                subtotal("same_city", 1, "10.63"),
                subtotal("in_province", 1, "16.90"),
                subtotal("out_of_province", 1, "20.00"),
            ),
        ),
    ],
)
def test_a_per_piece_month_with_returns(
    store: Store, policy: ReturnPolicy, total: str, zones: tuple[Subtotal, ...]
) -> None:
    agreement = per_piece(policy)
    fresh(store, MONTH)
    totals = store.aggregate(agreement, JUNE)
    assert (totals.pieces, totals.total, totals.by_zone) == (3, Money(total), zones)
    assert totals.by_center == (subtotal(CENTER, 3, total),)
    assert totals.by_business_line == (subtotal("licence_delivery", 3, total),)
    assert totals.lump_sum is None
    assert totals.budget is None
    assert totals.matches(settle(agreement, MONTH, JUNE))


def test_the_agent_fee_and_the_budget(store: Store) -> None:
    from govpost.agreements import AgentFee

    fee = AgentFee(per_piece=Money("1.50"), reference="第五条")
    budget = Budget(annual="100.00", strict=False)
    agreement = per_piece(ReturnPolicy.CHARGE_RETURN_LEG, agent_fee=fee, budget=budget)
    fresh(store, MONTH)
    may = settle(agreement, MONTH, MAY)  # 10.63 and its fee -1.50
    totals = store.aggregate(agreement, JUNE, previous=[may])
    assert totals.total == Money("75.16") - Money("4.50")  # three pieces' fees deducted
    assert totals.budget is not None
    assert (totals.budget.settled_before, totals.budget.cumulative) == (
        Money("9.13"),
        Money("79.79"),
    )
    assert totals.matches(settle(agreement, MONTH, JUNE, previous=[may]))
    strict = per_piece(ReturnPolicy.CHARGE_RETURN_LEG, budget=Budget(annual="50.00"))
    with pytest.raises(BudgetExceededError):
        store.aggregate(strict, JUNE)


def lump_sum(**terms: Any) -> FeeAgreement:
    """1,000.00 a month for 3 pieces; beyond them 8.00 同城, 9.00 省内, 12.00 省外."""
    overage = FlatTariff(
        price="8.00",
        zone_prices=[
            ZonePrice(zone="in_province", price="9.00"),
            ZonePrice(zone="out_of_province", price="12.00"),
        ],
    )
    mode = LumpSum(amount="1000.00", quota=3, overage=overage, **terms)
    return FeeAgreement(
        id="GZ-EMS-LUMP",
        carrier="ems",
        reference="黔政办〔2018〕2号",
        centers={CENTER},
        covers=Coverage.all(),
        mode=mode,
        valid_from=date(2018, 1, 1),
    )


@pytest.mark.parametrize(
    ("late", "early", "zones"),
    [
        # June 30: the out-of-province piece at 15:00 is the latest — overage, 12.00 — though
        # its waybill sorts before the same-city piece's, picked up that day at 09:00 (written
        # in UTC, 01:00Z)
        (
            at(30, 15),
            at(30, 9).astimezone(UTC),
            ("500.00", "250.00", "262.00"),
        ),
        # the same instant: the later waybill (the same-city piece's) is the overage, 8.00
        (at(30, 15), at(30, 15), ("508.00", "250.00", "250.00")),
    ],
)
def test_a_lump_sum_month_the_latest_pickup_is_overage(
    store: Store, late: datetime, early: datetime, zones: tuple[str, str, str]
) -> None:
    agreement = lump_sum()
    month = [
        shipment("L-1", SAME_CITY, at(1), tracking="EA000000014CN"),
        shipment("L-2", IN_PROVINCE, at(2), tracking="EA000000028CN"),
        shipment("L-3", OUT_OF_PROVINCE, late, tracking="EA000000031CN"),
        shipment("L-4", SAME_CITY, early, tracking="EA000000045CN"),
    ]
    fresh(store, month)
    totals = store.aggregate(agreement, JUNE)
    # 1,000.00 split by pieces 2 : 1 : 1, and the overage piece's postage
    same_city, in_province, out_of_province = zones
    assert totals.by_zone == (
        subtotal("same_city", 2, same_city),
        subtotal("in_province", 1, in_province),
        subtotal("out_of_province", 1, out_of_province),
    )
    overage = Money(same_city) + Money(in_province) + Money(out_of_province) - Money("1000.00")
    assert (totals.pieces, totals.total) == (4, Money("1000.00") + overage)
    assert totals.lump_sum is not None
    assert (totals.lump_sum.overage_pieces, totals.lump_sum.overage_amount) == (1, overage)
    assert totals.matches(settle(agreement, month, JUNE))


def test_an_empty_period(store: Store) -> None:
    fresh(store, [shipment("E-1", SAME_CITY, at(3, month=5))])  # May's: nothing in June
    per_piece_totals = store.aggregate(per_piece(ReturnPolicy.REFUND_ORIGINAL), JUNE)
    assert (per_piece_totals.pieces, per_piece_totals.total) == (0, Money("0.00"))
    assert per_piece_totals.by_center == per_piece_totals.by_zone == ()
    # a lump sum without pieces is owed whole, under "*"; refunded whole under pro rata
    kept = store.aggregate(lump_sum(), JUNE)
    assert (kept.pieces, kept.total) == (0, Money("1000.00"))
    assert kept.by_center == kept.by_business_line == kept.by_zone == (subtotal("*", 0, "1000.00"),)
    refunded = store.aggregate(lump_sum(underuse=Underuse.PRO_RATA), JUNE)
    assert refunded.total == Money("0.00")
    assert refunded.lump_sum is not None
    assert refunded.lump_sum.refund == Money("1000.00")
    for agreement, totals in [
        (per_piece(ReturnPolicy.REFUND_ORIGINAL), per_piece_totals),
        (lump_sum(), kept),
        (lump_sum(underuse=Underuse.PRO_RATA), refunded),
    ]:
        assert totals.matches(settle(agreement, [], JUNE))


def test_weights_at_every_step_boundary_of_zones_stepped_differently(store: Store) -> None:
    """The database counts the steps (续重) of each weight under each zone's own first weight
    and step — and a rate change mid-month — exactly as the tariff does."""
    from govpost.agreements import Rate, WeightTariff, ZoneStep

    def tariff(extra: str) -> WeightTariff:
        return WeightTariff(
            zones=[
                ZoneStep(zone="same_city", first_g=500, first_fee="8", step_g=500, step_fee="1"),
                ZoneStep(
                    zone="in_province", first_g=1000, first_fee="10", step_g=250, step_fee=extra
                ),
                ZoneStep(
                    zone="out_of_province", first_g=250, first_fee="15", step_g=1000, step_fee="5"
                ),
            ]
        )

    card = RateCard(
        name="two rates",
        rates=[
            Rate(
                valid_from=date(2018, 1, 1),
                valid_until=date(2018, 6, 16),
                reference="A",
                tariff=tariff("1"),
            ),
            Rate(valid_from=date(2018, 6, 16), reference="B", tariff=tariff("1.25")),
        ],
    )
    agreement = attrs.evolve(
        per_piece(ReturnPolicy.CHARGE_RETURN_LEG), mode=PerPiece(tariff=card, discount="0.125")
    )
    weights = [1, 250, 251, 500, 501, 999, 1000, 1001, 1250, 1251, 29_999, 1_000_000]
    month = [
        shipment(f"W-{day}-{zone}-{weight}", destination, at(day), weight_g=weight)
        for day in (15, 16)
        for zone, destination in enumerate((SAME_CITY, IN_PROVINCE, OUT_OF_PROVINCE))
        for weight in weights
    ]
    fresh(store, month)
    statement = settle(agreement, month, JUNE)
    assert statement.pieces == len(month)
    assert store.aggregate(agreement, JUNE) == AggregateTotals.of(statement)


def test_business_dates_in_a_daylight_saving_year(store: Store) -> None:
    """China kept daylight saving time from 1986 to 1991: 00:30 on 1 June 1988 in Shanghai was
    15:30 UTC on 31 May (UTC+9), a June piece; a fixed UTC+8 shift would put it in May."""
    agreement = per_piece(ReturnPolicy.CHARGE_RETURN_LEG, since=date(1988, 1, 1))
    june_1988 = Period.month(1988, 6)
    first = datetime(1988, 6, 1, 0, 30, tzinfo=SHANGHAI)
    assert first.astimezone(UTC) == datetime(1988, 5, 31, 15, 30, tzinfo=UTC)
    month = [
        shipment("D-1", SAME_CITY, first),
        shipment("D-2", SAME_CITY, datetime(1988, 7, 1, 0, 30, tzinfo=SHANGHAI)),  # July's
        shipment("D-3", SAME_CITY, datetime(1988, 5, 31, 23, 30, tzinfo=SHANGHAI)),  # May's
    ]
    fresh(store, month)
    totals = store.aggregate(agreement, june_1988)
    assert (totals.pieces, totals.total) == (1, Money("10.63"))
    assert totals.matches(settle(agreement, month, june_1988))


# --- the entry point -------------------------------------------------------------------------------


def test_an_agreement_by_its_id(store: Store) -> None:
    agreement = per_piece(ReturnPolicy.CHARGE_RETURN_LEG)
    fresh(store, MONTH)
    store.agreements.upsert(agreement)
    assert store.aggregate(agreement.id, JUNE) == store.aggregate(agreement, JUNE)
    with pytest.raises(StoreError, match="no agreement 'GZ-NONE'"):
        store.aggregate("GZ-NONE", JUNE)


def test_what_settle_refuses_is_refused(store: Store) -> None:
    agreement = per_piece(ReturnPolicy.CHARGE_RETURN_LEG)
    fresh(store, MONTH)
    with pytest.raises(SettlementError, match="is a quarter but agreement GZ-EMS-PP settles by"):
        store.aggregate(agreement, Period.quarter(2018, 2))
    late = attrs.evolve(agreement, valid_from=date(2018, 7, 1))
    with pytest.raises(SettlementError, match="is not in force at any time in period 2018-06"):
        store.aggregate(late, JUNE)
    with pytest.raises(SettlementError, match="previous must be an iterable"):
        store.aggregate(agreement, JUNE, previous="2018-05")  # type: ignore[arg-type]


def test_a_waybill_shared_by_two_shipments_is_refused(store: Store) -> None:
    """One shipment's order id is another's tracking number: settle refuses to bill the
    waybill twice, and so does the aggregate."""
    agreement = per_piece(ReturnPolicy.CHARGE_RETURN_LEG)
    month = [
        shipment("EA000000014CN", SAME_CITY, at(3)),
        shipment("B-2", IN_PROVINCE, at(4), tracking="EA000000014CN"),
    ]
    fresh(store, month)
    with pytest.raises(SettlementError, match="waybill EA000000014CN appears twice"):
        settle(agreement, month, JUNE)
    with pytest.raises(SettlementError, match="waybill EA000000014CN appears twice"):
        store.aggregate(agreement, JUNE)


def test_a_day_no_rate_covers_is_refused(store: Store) -> None:
    agreement = per_piece(ReturnPolicy.CHARGE_RETURN_LEG)
    assert isinstance(agreement.mode, PerPiece)
    card = attrs.evolve(
        agreement.mode.tariff,
        rates=[attrs.evolve(agreement.mode.tariff.rates[0], valid_from=date(2018, 6, 4))],
    )
    late_card = attrs.evolve(agreement, mode=PerPiece(tariff=card, discount="0.15"))
    fresh(store, MONTH)
    with pytest.raises(SettlementError, match="cannot price"):
        settle(late_card, MONTH, JUNE)
    with pytest.raises(SettlementError, match="no rate of rate card"):
        store.aggregate(late_card, JUNE)
    # settle stops reading the store's rows midway: their cursor is closed all the same (an
    # open one warns, and warnings are errors here)
    rows = store.shipments.settlement_rows(late_card.centers, JUNE, batch=1)
    with pytest.raises(SettlementError, match="cannot price"):
        settle(late_card, rows, JUNE)
    del rows


def test_inside_a_transaction_nothing_is_committed_early(store: Store) -> None:
    """The aggregate's temporary tables neither commit the caller's transaction (MariaDB
    commits on most DDL) nor outlive the call."""
    agreement = per_piece(ReturnPolicy.CHARGE_RETURN_LEG)
    fresh(store, MONTH)
    extra = shipment("A-8", SAME_CITY, at(9))
    seen: list[AggregateTotals] = []

    def work() -> None:
        with store.transaction() as tx:
            tx.shipments.record(extra)
            seen.extend([tx.aggregate(agreement, JUNE), tx.aggregate(agreement, JUNE)])
            raise RuntimeError("roll back")

    with pytest.raises(RuntimeError, match="roll back"):
        work()
    assert seen[0] == seen[1]  # the second call's temporary tables did not clash
    assert seen[0].pieces == 4  # the transaction's own write is seen
    assert store.shipments.get("A-8") is None
    assert store.aggregate(agreement, JUNE).pieces == 3


def test_totals_compare_with_a_statement() -> None:
    agreement = per_piece(ReturnPolicy.CHARGE_RETURN_LEG)
    statement = settle(agreement, MONTH, JUNE)
    totals = AggregateTotals.of(statement)
    assert totals.matches(statement)
    assert totals.differences(statement) == ()
    off = attrs.evolve(totals, total=totals.total + Money("0.01"), pieces=2)
    assert off.differences(statement) == ("pieces", "total")
    assert not off.matches(statement)
