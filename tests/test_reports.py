"""KPI reports: a worked example checked by hand, the store path equal to the in-memory path on
SQLite, PostgreSQL and MariaDB, exact amounts, and the table, JSON and CSV renderings."""

from __future__ import annotations

import csv
import importlib
import inspect
import io
import json
import random
import subprocess
import sys
import unicodedata
from collections.abc import Iterator
from datetime import date, datetime
from decimal import Decimal
from fractions import Fraction
from typing import Any

import attrs
import pytest
from hypothesis import given, settings

from govpost.agreements import Coverage, FeeAgreement, FlatTariff, LumpSum, PerPiece
from govpost.applications import (
    Applicant,
    Application,
    Distribution,
    Service,
    ServiceCatalogue,
    Tally,
    TripRule,
)
from govpost.centers import BusinessLine, CooperationMode, ServiceCenter
from govpost.errors import DeserializationError, ValidationError
from govpost.identifiers import s10_check_digit
from govpost.money import Money
from govpost.periods import SHANGHAI, Period, business_date
from govpost.regions import AdminLevel, Zone
from govpost.reports import Assumptions, KpiReport, _kpis, build_report, report_from_store
from govpost.serialization import from_json, from_toml, to_json, to_toml
from govpost.settlement import (
    BillRow,
    CarrierBill,
    Discrepancy,
    FeeType,
    ReconciliationReport,
    SettlementMode,
    SettlementStatement,
    reconcile,
    settle,
)
from govpost.shipments import Direction, Shipment, TrackingEvent
from tests.strategies import (
    OTHER_CENTER,
    SETTLEMENT_CENTERS,
    lump_sum_agreements,
    per_piece_agreements,
    shipment_batches,
)

JUNE = Period.month(2018, 6)

# --- the worked example: four centers, eleven applications of June, eleven shipments ----------
#
# June 2018 in the China calendar: Fri 1, Mon-Fri 4-8, 11-15, Mon 18 off (端午), 19-22, 25-29.

PROVINCE = ServiceCenter(
    code="GZ-520000",
    name="贵州省政务服务中心",
    division="520000",
    mode="stationed_staff",
    channels={"window"},
    business_lines={"licence_delivery", "police", "tax"},
)
CITY = ServiceCenter(
    code="GZ-520100",
    name="贵阳市政务服务中心",
    division="520100",
    mode="door_pickup",
    channels={"window"},
    business_lines={"licence_delivery", "police", "tax"},
)
COUNTY = ServiceCenter(
    code="GZ-520102",
    name="南明区政务服务中心",
    division="520102",
    mode="government_agent",
    channels={"window"},
    business_lines={"licence_delivery"},
)
IDLE = ServiceCenter(code="GZ-520103", name="云岩区政务服务中心", division="520103")
CENTERS = (PROVINCE, CITY, COUNTY, IDLE)

CATALOGUE = ServiceCatalogue(
    services=[
        Service(
            code="S-LIC", name="营业执照核发", business_line="licence_delivery", time_limit_days=3
        ),
        Service(code="S-POL", name="驾驶证补证", business_line="police", time_limit_days=5),
        Service(code="S-TAX", name="发票领用", business_line="tax", time_limit_days=1),
    ]
)
PERSON = Applicant(name="张三", mobile="13800138000", address="贵州省贵阳市南明区中华南路1号")


def at(month: int, day: int, hour: int = 10) -> datetime:
    return datetime(2018, month, day, hour, 0, tzinfo=SHANGHAI)


def waybill(n: int) -> str:
    serial = f"{n:08d}"
    return f"EA{serial}{s10_check_digit(serial)}CN"


def accepted(
    reference: str,
    center: ServiceCenter,
    service: str,
    when: datetime,
    delivery: str,
    *,
    destination: str = "520102",
    materials: bool = False,
) -> Application:
    return Application(
        reference=reference,
        center=center.code,
        service=service,
        channel="window",
        applicant=PERSON,
        accepted_at=when,
        destination=destination,
        delivery=delivery,
        materials_by_post=materials,
    )


def applications() -> list[Application]:
    """A1-A9, A11, A12 accepted in June; A10 on 31 May."""
    a = accepted
    return [
        a("A1", PROVINCE, "S-LIC", at(6, 4), "mail", materials=True)
        .approve(at(6, 5))
        .dispatch(at(6, 6), tracking_number=waybill(1))
        .deliver(at(6, 7, 15)),
        a("A2", PROVINCE, "S-LIC", at(6, 4), "mail")
        .approve(at(6, 8))
        .dispatch(at(6, 11), tracking_number=waybill(2))
        .deliver(at(6, 14)),
        a("A3", PROVINCE, "S-LIC", at(6, 5), "collect").approve(at(6, 6)).collect(at(6, 7)),
        a("A4", PROVINCE, "S-POL", at(6, 5), "mail", destination="110105")
        .approve(at(6, 7))
        .dispatch(at(6, 8), tracking_number=waybill(4))
        .deliver(at(6, 11)),
        a("A5", CITY, "S-LIC", at(6, 6), "mail", destination="520103")
        .approve(at(6, 7))
        .dispatch(at(6, 8), tracking_number=waybill(5)),
        a("A6", CITY, "S-TAX", at(6, 11), "mail")
        .approve(at(6, 11, 16))
        .dispatch(at(6, 12), tracking_number=waybill(6))
        .deliver(at(6, 12, 17)),
        a("A7", COUNTY, "S-LIC", at(6, 12), "collect").reject(at(6, 13)),
        a("A8", COUNTY, "S-LIC", at(6, 12), "mail").withdraw(at(6, 12, 15)),
        a("A9", PROVINCE, "S-LIC", at(6, 13), "mail")
        .approve(at(6, 14))
        .dispatch(at(6, 15), tracking_number=waybill(9))
        .collect(at(6, 21)),
        a("A10", PROVINCE, "S-LIC", at(5, 31), "mail")
        .approve(at(6, 1))
        .dispatch(at(6, 4), tracking_number=waybill(10))
        .deliver(at(6, 5)),
        a("A11", PROVINCE, "S-LIC", at(6, 28), "mail")
        .approve(at(6, 29))
        .dispatch(at(7, 2), tracking_number=waybill(11))
        .deliver(at(7, 3)),
        a("A12", CITY, "S-POL", at(6, 14), "mail", destination="520103").approve(at(6, 15)),
    ]


def shipped(
    shipment_id: str,
    center: ServiceCenter,
    line: str,
    route: tuple[str, str],
    created: datetime,
    n: int,
    *scans: tuple[str, datetime],
    direction: str = "outbound_result",
) -> Shipment:
    number = waybill(n)
    shipment = Shipment(
        id=shipment_id,
        center=center.code,
        business_line=line,
        direction=direction,
        origin=route[0],
        destination=route[1],
        weight_g=200,
        created_at=created,
        tracking_number=number,
        application_ref=shipment_id.split("-")[0] if "-" in shipment_id else None,
    )
    events = [
        TrackingEvent(
            event_id=f"{shipment_id}:{i}", tracking_number=number, status=status, occurred_at=when
        )
        for i, (status, when) in enumerate(scans)
    ]
    return shipment.apply(*events) if events else shipment


def shipments() -> list[Shipment]:
    """Nine items picked up in June, A11-R picked up on 2 July, X1 cancelled before pickup."""
    out = ("520000", "520102")  # 省内 from the provincial center
    return [
        shipped(
            "A1-M",
            PROVINCE,
            "licence_delivery",
            ("520102", "520000"),
            at(6, 1, 9),
            101,
            ("picked_up", at(6, 1)),
            ("delivered", at(6, 4, 9)),
            direction="inbound_material",
        ),
        shipped(
            "A1-R",
            PROVINCE,
            "licence_delivery",
            out,
            at(6, 6, 9),
            1,
            ("picked_up", at(6, 6, 11)),
            ("delivered", at(6, 7, 15)),
        ),
        shipped(
            "A2-R",
            PROVINCE,
            "licence_delivery",
            out,
            at(6, 11, 9),
            2,
            ("picked_up", at(6, 11, 11)),
            ("delivered", at(6, 14)),
        ),
        shipped(
            "A4-R",
            PROVINCE,
            "police",
            ("520000", "110105"),
            at(6, 8, 9),
            4,
            ("picked_up", at(6, 8, 11)),
            ("delivered", at(6, 11)),
        ),
        shipped(
            "A5-R",
            CITY,
            "licence_delivery",
            ("520100", "520103"),
            at(6, 8, 9),
            5,
            ("picked_up", at(6, 8, 16)),
        ),
        shipped(
            "A6-R",
            CITY,
            "tax",
            ("520100", "520102"),
            at(6, 12, 9),
            6,
            ("picked_up", at(6, 12, 11)),
            ("delivered", at(6, 12, 17)),
        ),
        shipped(
            "A9-R",
            PROVINCE,
            "licence_delivery",
            out,
            at(6, 15, 9),
            9,
            ("picked_up", at(6, 15, 11)),
            ("returning", at(6, 19)),
            ("returned", at(6, 20)),
        ),
        shipped(
            "A10-R",
            PROVINCE,
            "licence_delivery",
            out,
            at(6, 4, 9),
            10,
            ("picked_up", at(6, 4, 11)),
            ("delivered", at(6, 5)),
        ),
        shipped(
            "A11-R",
            PROVINCE,
            "licence_delivery",
            out,
            at(7, 2, 9),
            11,
            ("picked_up", at(7, 2, 11)),
            ("delivered", at(7, 3)),
        ),
        shipped(
            "T1",
            CITY,
            "tax",
            ("520100", "520103"),
            at(6, 20, 9),
            201,
            ("picked_up", at(6, 20, 11)),
            ("delivered", at(6, 21)),
        ),
        shipped(
            "X1",
            CITY,
            "tax",
            ("520100", "520103"),
            at(6, 5, 9),
            202,
            ("cancelled", at(6, 5, 12)),
        ),
    ]


PER_PIECE = FeeAgreement(
    id="GZ-EMS-PP",
    carrier="ems",
    reference="黔政办〔2018〕1号",
    centers={CITY.code},
    covers=Coverage.all(),
    valid_from=date(2018, 1, 1),
    mode=PerPiece(tariff=FlatTariff(price="10.00")),
)
LUMP = FeeAgreement(
    id="GZ-EMS-LUMP",
    carrier="ems",
    reference="黔政办〔2018〕2号",
    centers={PROVINCE.code},
    covers=Coverage.all(),
    valid_from=date(2018, 1, 1),
    mode=LumpSum(amount="500.00"),
)


def bill_row(line_no: int, number: str, amount: str) -> BillRow:
    return BillRow(
        line_no=line_no,
        waybill=number,
        pickup_date=date(2018, 6, 8),
        weight_g=None,
        destination=None,
        zone=None,
        fee_type=FeeType.POSTAGE,
        amount=Money(amount),
    )


@attrs.frozen(kw_only=True)
class Example:
    """The data of the worked example, as an agency holds it."""

    applications: list[Application]
    shipments: list[Shipment]
    statements: list[SettlementStatement]
    reconciliations: list[ReconciliationReport]


def example() -> Example:
    """Statements of June (per piece for the city: three pieces at 10.00; a lump sum of 500.00
    for the province) and of May (the city's, empty); the per-piece statement reconciled twice,
    first against an empty bill, then against a bill that matches A5-R, charges A6-R 12.00,
    misses T1 and adds an unknown waybill at 5.00."""
    batch = shipments()
    per_piece = settle(PER_PIECE, batch, JUNE)
    lump = settle(LUMP, batch, JUNE)
    may = settle(PER_PIECE, batch, Period.month(2018, 5))
    first = reconcile(per_piece, CarrierBill(rows=()))
    bill = CarrierBill(
        rows=(
            bill_row(2, waybill(5), "10.00"),
            bill_row(3, waybill(6), "12.00"),
            bill_row(4, waybill(999), "5.00"),
        )
    )
    return Example(
        applications=applications(),
        shipments=batch,
        statements=[per_piece, lump, may],
        reconciliations=[first, reconcile(per_piece, bill)],
    )


def report_of(data: Example, period: Period | str = JUNE, **options: Any) -> KpiReport:
    return build_report(
        CENTERS,
        data.applications,
        data.shipments,
        data.statements,
        data.reconciliations,
        period,
        catalogue=CATALOGUE,
        **options,
    )


@pytest.fixture(scope="module")
def june() -> KpiReport:
    return report_of(example())


# --- the worked example, checked by hand ------------------------------------------------------


def test_centers(june: KpiReport) -> None:
    """4 centers, 3 cooperating (one per mode); the idle county center counts as not
    cooperating at county level."""
    assert (4, 3) == (june.centers_total, june.centers_cooperating)
    assert dict.fromkeys(CooperationMode, 1) == dict(june.centers_by_mode)
    assert {
        AdminLevel.PROVINCE: {CooperationMode.STATIONED_STAFF: 1},
        AdminLevel.CITY: {CooperationMode.DOOR_PICKUP: 1},
        AdminLevel.COUNTY: {CooperationMode.GOVERNMENT_AGENT: 1, None: 1},
    } == {
        level: {mode: n for mode, n in counts.items() if n}
        for level, counts in june.centers_by_level.items()
    }


def test_items(june: KpiReport) -> None:
    """Items are the shipments picked up in June: A1-M, A1-R, A2-R, A4-R, A5-R, A6-R, A9-R,
    A10-R (its application is of May) and T1 — not A11-R (July) nor X1 (cancelled)."""
    assert 9 == june.items_total
    lines = {BusinessLine.LICENCE_DELIVERY: 6, BusinessLine.TAX: 2, BusinessLine.POLICE: 1}
    assert {**dict.fromkeys(BusinessLine, 0), **lines} == dict(june.items_by_line)
    assert {Direction.OUTBOUND_RESULT: 8, Direction.INBOUND_MATERIAL: 1} == dict(
        june.items_by_direction
    )
    assert {AdminLevel.PROVINCE: 6, AdminLevel.CITY: 3, AdminLevel.COUNTY: 0} == dict(
        june.items_by_level
    )
    assert {
        CooperationMode.STATIONED_STAFF: 6,
        CooperationMode.DOOR_PICKUP: 3,
        CooperationMode.GOVERNMENT_AGENT: 0,
        None: 0,
    } == dict(june.items_by_mode)
    assert [JUNE] == list(june.items_by_month)
    assert dict(june.items_by_line) == dict(june.items_by_month[JUNE])


def test_postage(june: KpiReport) -> None:
    """Per piece 3 × 10.00 = 30.00 (city); lump sum 500.00 (province), split by pieces over
    licence (5) and police (1): 416.67 and 83.33; May's statement is not June's."""
    assert Money("530.00") == june.postage_paid_by_government
    assert (2, 9) == (june.statements, june.pieces_billed)
    assert {SettlementMode.PER_PIECE: Money("30.00"), SettlementMode.LUMP_SUM: Money("500.00")} == (
        dict(june.postage_by_settlement_mode)
    )
    assert dict(june.postage_by_settlement_mode) == dict(june.postage_by_month[JUNE])
    assert {
        BusinessLine.LICENCE_DELIVERY: Money("426.67"),
        BusinessLine.TAX: Money("20.00"),
        BusinessLine.POLICE: Money("83.33"),
        BusinessLine.TRANSPORT: Money("0.00"),
        None: Money("0.00"),
    } == dict(june.postage_by_line)
    assert {
        AdminLevel.PROVINCE: Money("500.00"),
        AdminLevel.CITY: Money("30.00"),
        AdminLevel.COUNTY: Money("0.00"),
        None: Money("0.00"),
    } == dict(june.postage_by_level)
    assert Money("58.89") == june.postage_per_item  # 530.00 / 9 = 58.888…


def test_reconciliation(june: KpiReport) -> None:
    """The latest report of the per-piece statement counts (not the first one, against an empty
    bill): A5-R matched, A6-R 2.00 more, T1 missing in the bill, one waybill missing in ours;
    27.00 billed against 30.00; the lump-sum statement was not reconciled."""
    counts = {
        Discrepancy.MATCHED: 1,
        Discrepancy.AMOUNT_MISMATCH: 1,
        Discrepancy.MISSING_IN_BILL: 1,
        Discrepancy.MISSING_IN_OURS: 1,
    }
    assert {**dict.fromkeys(Discrepancy, 0), **counts} == dict(june.reconciliation)
    assert 1 == june.statements_reconciled
    assert Money("-3.00") == june.reconciliation_difference


def test_trips_saved(june: KpiReport) -> None:
    """Under the default rule (1 trip per result delivered, 1 per materials mailed in; 30 / 80
    / 200 yuan same city / in province / out of province): A1 2 trips × 80 (province → 南明区
    is 省内), A2 80, A4 200 (to Beijing), A6 30 (same city), A11 80 (delivered in July, accepted
    in June); A5 in transit, A9 returned and collected, A3 collected, A7 rejected, A8
    withdrawn, A12 not dispatched save nothing."""
    assert 11 == june.applications
    assert (6, Money("550.00")) == (june.trips_saved, june.citizen_cost_saved)
    by_line = {t.line: (t.applications, t.trips, t.cost) for t in june.trips.by_line}
    assert {
        BusinessLine.LICENCE_DELIVERY: (8, 4, Money("320.00")),
        BusinessLine.POLICE: (2, 1, Money("200.00")),
        BusinessLine.TAX: (1, 1, Money("30.00")),
    } == by_line


def test_provincial_share_by_post(june: KpiReport) -> None:
    """The provincial center's licences that reached their applicant: A1, A2, A11 by post, A3
    collected, A9 collected after its return: 3 of 5. A4 (police) is no certificate line."""
    assert (5, 3) == (june.provincial_results, june.provincial_by_post)
    assert Fraction(3, 5) == june.provincial_share_by_post
    with_police = report_of(
        example(), assumptions=Assumptions(certificate_lines={"licence_delivery", "police"})
    )
    assert Fraction(4, 6) == with_police.provincial_share_by_post


def test_delivery_against_the_limit(june: KpiReport) -> None:
    """Limits 1 / 2 / 4 working days. Same city: A5-R undelivered past 11 June (late), A6-R
    0 days, T1 1 day. In province: A1-M, A1-R, A10-R 1 day; A2-R 3 days (late). Out of
    province: A4-R 1 day (Friday to Monday). A9-R returned: not judged. 6 of 8 on time."""
    by_zone = {z.zone: (z.limit_days, z.tally, z.days) for z in june.delivery}
    assert {
        Zone.SAME_CITY: (1, Tally(judged=3, on_time=2), Distribution.of([0, 1])),
        Zone.IN_PROVINCE: (2, Tally(judged=4, on_time=3), Distribution.of([1, 1, 1, 3])),
        Zone.OUT_OF_PROVINCE: (4, Tally(judged=1, on_time=1), Distribution.of([1])),
    } == by_zone
    assert Fraction(3, 4) == june.on_time_rate


def test_stages_against_their_limits(june: KpiReport) -> None:
    """Approval (deadline: accepted + the service's days): only A2 (4 days for 3) late of
    the ten decided, A8 withdrawn unjudged. Dispatch: the seven mailed results each left the
    working day after approval (A2 and A11 over a weekend). Pickup (approval deadline + 1 working day): A2
    picked up on 11 June for 8 June, A12 not picked up by 25 June: 6 of 8. Delivery (the
    result shipments): A2-R and A5-R late of six judged. Total promise: A2 and A5 late, A12
    not in hand by 26 June: 5 of 8."""
    stages = {s.stage: s for s in june.stages}
    assert ["approval", "dispatch", "pickup", "delivery", "total"] == list(stages)
    assert Tally(judged=10, on_time=9) == stages["approval"].tally
    assert Distribution.of([0, 1, 1, 1, 1, 1, 1, 1, 2, 4]) == stages["approval"].days
    assert stages["dispatch"].tally is None
    assert Distribution.of([1] * 7) == stages["dispatch"].days  # each the next working day
    assert Tally(judged=8, on_time=6) == stages["pickup"].tally
    assert Tally(judged=6, on_time=4) == stages["delivery"].tally
    assert Tally(judged=8, on_time=5) == stages["total"].tally


def test_as_of_decides_what_is_late() -> None:
    """Judged on 9 June, A5-R (due 11 June) is not late yet: not judged."""
    early = report_of(example(), as_of=at(6, 9, 12))
    same_city = next(z for z in early.delivery if z.zone is Zone.SAME_CITY)
    assert Tally(judged=2, on_time=2) == same_city.tally
    assert at(6, 9, 12) == early.as_of


def test_assumptions_drive_the_figures() -> None:
    """Every assumption changes what it should: two trips per result, other costs, longer
    delivery limits."""
    rule = TripRule(
        cost_per_trip={z: Money("10.00") for z in Zone}, trips_per_result=2, trips_per_materials=0
    )
    report = report_of(
        example(),
        assumptions=Assumptions(
            trip_rule=rule, delivery_days=dict.fromkeys(Zone, 3), reference="问卷 2018"
        ),
    )
    assert (10, Money("100.00")) == (report.trips_saved, report.citizen_cost_saved)
    assert Fraction(7, 8) == report.on_time_rate  # only A5-R, due 13 June, is late
    assert "问卷 2018" == report.to_dict()["assumptions"]["reference"]


def test_the_same_data_in_any_order_give_the_same_report(june: KpiReport) -> None:
    data = example()
    rng = random.Random(2018)
    for values in (data.applications, data.shipments, data.statements):
        rng.shuffle(values)
    centers = list(CENTERS)
    rng.shuffle(centers)
    twice = [*data.shipments, *data.shipments]
    assert june == build_report(
        centers,
        data.applications,
        twice,
        data.statements,
        data.reconciliations,
        "2018-06",
        catalogue=CATALOGUE,
    )


def test_a_year_holds_its_months() -> None:
    """The year 2018 holds June's statements and items, May's empty statement, and A10 (May)."""
    year = report_of(example(), "2018")
    assert 12 == len(year.items_by_month)
    assert 10 == year.items_total  # and A11-R, of July
    assert 3 == year.statements
    assert Money("530.00") == year.postage_paid_by_government
    assert 12 == year.applications
    assert Period.month(2018, 7) in year.items_by_month
    assert 1 == year.items_by_month[Period.month(2018, 7)][BusinessLine.LICENCE_DELIVERY]


# --- errors ------------------------------------------------------------------------------------


def test_an_item_of_an_unknown_center_is_refused() -> None:
    data = example()
    with pytest.raises(ValidationError, match=r"shipment A1-M names center 'GZ-520000'.*pass"):
        build_report([CITY, COUNTY], [], data.shipments, [], [], JUNE, catalogue=CATALOGUE)


def test_two_versions_of_one_statement_are_refused() -> None:
    data = example()
    other = attrs.evolve(data.statements[0], statement_id="GZ-EMS-PP-2018-06-other")
    with pytest.raises(ValidationError, match="two different statements of agreement 'GZ-EMS-PP'"):
        build_report(CENTERS, [], [], [*data.statements, other], [], JUNE, catalogue=CATALOGUE)


def test_a_statement_in_another_currency_is_refused() -> None:
    data = example()
    rule = TripRule(cost_per_trip={z: Money("1.00", "USD") for z in Zone})
    with pytest.raises(ValidationError, match="is in CNY, but the report's currency is USD"):
        report_of(data, assumptions=Assumptions(trip_rule=rule))


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: build_report([], [], [], [], [], "June", catalogue=CATALOGUE), "'June'"),
        (lambda: build_report([], [], [], [], [], 2018, catalogue=CATALOGUE), "2018"),
        (lambda: build_report("centers", [], [], [], [], JUNE, catalogue=CATALOGUE), "centers"),
        (lambda: build_report([PERSON], [], [], [], [], JUNE, catalogue=CATALOGUE), "Applicant"),
        (lambda: build_report([], [], [], [], [], JUNE, catalogue=[]), "ServiceCatalogue"),
        (lambda: Assumptions(pickup_days=-1), "pickup_days -1"),
        (lambda: Assumptions(delivery_days={"same_city": 1}), "IN_PROVINCE, OUT_OF_PROVINCE"),
        (lambda: Assumptions(delivery_days=dict.fromkeys(Zone, 1.5)), "1.5"),
        (lambda: Assumptions(certificate_lines=[]), "certificate_lines is empty"),
        (lambda: Assumptions(trip_rule={"same_city": 1}), "must be a TripRule"),
    ],
)
def test_bad_input_is_named(call: Any, message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        call()


def test_assumptions_are_kept_in_files() -> None:
    """Assumptions round-trip through the wire format, JSON and TOML; a bad number in a file is
    refused with its path."""
    assumptions = Assumptions(pickup_days=2, reference="黔邮 2018")
    assert assumptions == from_json(to_json(assumptions), Assumptions)
    assert assumptions == from_toml(to_toml(assumptions), Assumptions)
    assert Assumptions(pickup_days=3) == from_toml("pickup_days = 3", Assumptions)
    with pytest.raises(DeserializationError, match="cannot read Assumptions: pickup_days 99"):
        from_toml("pickup_days = 99", Assumptions)


# --- exact amounts, for any statements ---------------------------------------------------------


@settings(max_examples=25, deadline=None)
@given(
    agreement=per_piece_agreements(),
    lump=lump_sum_agreements(),
    batch=shipment_batches(start=date(2018, 1, 1), days=365, max_size=25),
)
def test_postage_adds_up_exactly(
    agreement: FeeAgreement, lump: FeeAgreement, batch: list[Shipment]
) -> None:
    """For monthly per-piece statements, quarterly ones of the same shipments under a second
    agreement, and lump sums, over a year of shipments: the postage paid is the sum of the
    statements' totals to the fen, and so is its sum by month, by settlement mode, by line and
    by level; pieces billed are the statements' pieces."""
    quarterly = attrs.evolve(agreement, id="GZ-EMS-Q", period="quarter")
    statements: list[SettlementStatement] = []
    for deal, periods in (
        (agreement, [Period.month(2018, m) for m in range(1, 13)]),
        (quarterly, [Period.quarter(2018, q) for q in range(1, 5)]),
        (lump, [Period.month(2018, m) for m in range(1, 13)]),
    ):
        done: list[SettlementStatement] = []
        for period in periods:
            if period.end <= deal.valid_from:
                continue
            done.append(settle(deal, batch, period, previous=done))
        statements += done
    centers = [
        ServiceCenter(code=code, name="中心", division=division, mode="door_pickup")
        for code, division in zip(
            (*SETTLEMENT_CENTERS, OTHER_CENTER),
            ("520100", "520200", "522301", "520000"),
            strict=True,
        )
    ]
    report = build_report(centers, [], batch, statements, [], "2018", catalogue=CATALOGUE)
    total = sum((s.total for s in statements), Money.zero())
    zero = Money.zero()
    assert total == report.postage_paid_by_government
    assert total == sum(
        (m for month in report.postage_by_month.values() for m in month.values()), zero
    )
    assert total == sum(report.postage_by_settlement_mode.values(), zero)
    assert total == sum(report.postage_by_line.values(), zero)
    assert total == sum(report.postage_by_level.values(), zero)
    assert sum(s.pieces for s in statements) == report.pieces_billed
    picked = [s for s in batch if s.picked_up_at and business_date(s.picked_up_at).year == 2018]
    assert len(picked) == report.items_total
    for amount in report.to_dict()["postage_by_line"].values():
        assert Decimal(amount) == Decimal(amount).quantize(Decimal("0.01"))


# --- the store gives the same report ----------------------------------------------------------


def record(store: Any, data: Example) -> None:
    store.centers.upsert(*CENTERS)
    store.catalogue.upsert(CATALOGUE)
    store.agreements.upsert(PER_PIECE, LUMP)
    store.applications.record(*data.applications)
    store.shipments.record(*data.shipments)
    for statement in data.statements:
        store.statements.save(statement)
    for report in data.reconciliations:  # oldest first: the store keeps their order
        store.reconciliations.save(report)


@pytest.fixture
def stored(store_url: str, store_keys: Any) -> Iterator[Any]:
    from govpost.store import open_store

    with open_store(store_url, keys=store_keys) as store:
        record(store, example())
        yield store


@pytest.mark.parametrize("one_by_one", [True, False], ids=["get", "scan"])
def test_the_store_gives_the_same_report(
    stored: Any, one_by_one: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    """report_from_store equals build_report on the same data, for a month and the year, the
    result shipment picked up after the month (A11-R) read by id or by a scan of the store."""
    if not one_by_one:
        monkeypatch.setattr(_kpis, "_ONE_BY_ONE", 0)
    data = example()
    assert report_of(data, JUNE) == report_from_store(stored, JUNE)
    assert report_of(data, "2018") == report_from_store(stored, "2018")
    assert report_of(data, "2018-Q2") == report_from_store(stored, "2018-Q2")


# --- JSON --------------------------------------------------------------------------------------

CLI_KEYS = {
    "centers_total": int,
    "centers_cooperating": int,
    "centers_by_mode": dict,
    "items_total": int,
    "items_by_line": dict,
    "postage_paid_by_government": str,
    "trips_saved": int,
    "citizen_cost_saved": str,
    "provincial_share_by_post": float,
    "on_time_rate": float,
    "statements": int,
    "reconciliation": dict,
    "assumptions": dict,
}


def test_json_holds_what_the_cli_promises(june: KpiReport) -> None:
    document = json.loads(june.to_json())
    for key, kind in CLI_KEYS.items():
        assert isinstance(document[key], kind), key
    assert {"door_pickup": 1, "stationed_staff": 1, "government_agent": 1} == document[
        "centers_by_mode"
    ]
    assert ("530.00", "550.00") == (
        document["postage_paid_by_government"],
        document["citizen_cost_saved"],
    )
    assert (0.6, 0.75) == (document["provincial_share_by_post"], document["on_time_rate"])
    assert {"matched": 1, "amount_mismatch": 1, "missing_in_bill": 1, "missing_in_ours": 1} == {
        k: n for k, n in document["reconciliation"].items() if n
    }
    assert {"licence_delivery": 6, "tax": 2, "police": 1, "transport": 0} == document[
        "items_by_line"
    ]
    assert "30.00 CNY" == document["assumptions"]["trip_rule"]["cost_per_trip"]["same_city"]
    assert {"judged": 10, "on_time": 9, "rate": 0.9} == {
        k: document["stages"]["approval"][k] for k in ("judged", "on_time", "rate")
    }
    assert document == june.to_dict()


def test_rates_are_rounded_half_up_and_none_is_null() -> None:
    """2/3 is written 0.6667; nothing judged is null."""
    data = example()
    report = report_of(data)
    same_city = json.loads(report.to_json())["delivery"]["by_zone"]["same_city"]
    assert 0.6667 == same_city["rate"]
    empty = json.loads(build_report([], [], [], [], [], JUNE, catalogue=CATALOGUE).to_json())
    assert (None, None, None) == (
        empty["on_time_rate"],
        empty["provincial_share_by_post"],
        empty["postage_per_item"],
    )


# --- CSV ---------------------------------------------------------------------------------------


def flat(value: Any, path: tuple[str, ...] = ()) -> Iterator[tuple[str, str]]:
    if isinstance(value, dict):
        for key, inner in value.items():
            yield from flat(inner, (*path, key))
    else:
        text = "" if value is None else " ".join(value) if isinstance(value, list) else str(value)
        yield ".".join(path), text


@pytest.mark.parametrize(("encoding", "bom"), [("utf-8-sig", b"\xef\xbb\xbf"), ("gbk", b"")])
def test_csv_reads_back_in_both_encodings(june: KpiReport, encoding: str, bom: bytes) -> None:
    """One row per figure of to_dict(), section and key, readable by the csv module once
    decoded; UTF-8 starts with a BOM (for Excel), GBK does not."""
    raw = june.to_csv(encoding=encoding)
    assert raw.startswith(bom)
    assert raw.startswith(b"\xef\xbb\xbf") == bool(bom)
    rows = list(csv.reader(io.StringIO(raw.decode(encoding), newline="")))
    assert ["section", "key", "value", "label"] == rows[0]
    expected = [
        (section, key, value)
        for section, data in june.to_dict().items()
        for key, value in flat(data)
    ]
    assert expected == [tuple(row[:3]) for row in rows[1:]]
    found = {(row[0], row[1]): (row[2], row[3]) for row in rows[1:]}
    assert ("530.00", "政府支付邮费") == found["postage_paid_by_government", ""]
    assert ("2", "寄递件数 按业务 / 税邮合作") == found["items_by_line", "tax"]
    assert ("0.6", "省级中心实物证照邮寄送达占比") == found["provincial_share_by_post", ""]


def test_csv_names_what_gbk_cannot_encode() -> None:
    report = report_of(example(), assumptions=Assumptions(reference="调查 \U00020000"))
    with pytest.raises(ValidationError, match=r"GBK cannot encode '\U00020000'.*utf-8-sig"):
        report.to_csv(encoding="gbk")
    assert "\U00020000" in report.to_csv().decode("utf-8-sig")


@pytest.mark.parametrize("encoding", ["latin-1", "utf-16", "nonsense", None])
def test_csv_offers_two_encodings(june: KpiReport, encoding: Any) -> None:
    with pytest.raises(ValidationError, match="choose 'utf-8-sig'"):
        june.to_csv(encoding=encoding)


# --- the terminal table -------------------------------------------------------------------------


def width(text: str) -> int:
    """Terminal cells: East Asian wide and full-width characters take two."""
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def columns(rule: str) -> list[tuple[int, int]]:
    """(start, end) cells of each column, from the rule under the header (``----  ------``)."""
    spans, start = [], None
    for i, ch in enumerate(rule + " "):
        if ch == "-" and start is None:
            start = i
        elif ch != "-" and start is not None:
            spans.append((start, i))
            start = None
    return spans


def cells(line: str, spans: list[tuple[int, int]]) -> list[str]:
    """The text of ``line`` in each column, cut at display cells; fails if a character
    straddles a column's edge or text runs into the gap between columns."""
    position, at_cell = 0, []
    for ch in line:
        at_cell.append((position, ch))
        position += width(ch)
    found = []
    for index, (start, end) in enumerate(spans):
        inside = "".join(ch for p, ch in at_cell if start <= p < end)
        assert all(p + width(ch) <= end for p, ch in at_cell if start <= p < end), line
        assert not any(p < start < p + width(ch) for p, ch in at_cell), line
        gap_end = spans[index + 1][0] if index + 1 < len(spans) else None
        gap = "".join(ch for p, ch in at_cell if end <= p and (gap_end is None or p < gap_end))
        assert gap.strip() == "", line
        found.append(inside)
    return found


def test_the_table_lines_up_chinese_columns(june: KpiReport) -> None:
    """In every table of the report, each line's cells fall in the columns the rule under its
    header draws, counting a wide character as two cells: no line is wider than its rule,
    and a column is exactly as wide as its widest cell."""
    text = june.to_table()
    tables = 0
    for block in text.strip("\n").split("\n\n"):
        lines = block.split("\n")
        if len(lines) < 3 or set(lines[2]) - {"-", " "}:
            continue  # the title line
        tables += 1
        header, rule, rows = lines[1], lines[2], lines[3:]
        spans = columns(rule)
        table = [cells(line, spans) for line in (header, *rows)]
        for line in (header, *rows):
            assert width(line) <= width(rule), line
        for index, (start, end) in enumerate(spans):
            assert end - start == max(width(row[index].strip()) for row in table), (block, index)
    assert tables == 12
    assert "省级中心实物证照邮寄占比  provincial_share_by_post    60.00%" in text
    assert "trip_rule.cost_per_trip.in_province      80.00 CNY" in text


def test_the_table_states_the_period_and_every_assumption(june: KpiReport) -> None:
    text = june.to_table()
    assert text.startswith("政邮合作 KPI 报告  期间 2018-06  统计时点 2018-07-01T00:00:00+08:00")
    for key in ("trip_rule.trips_per_result", "delivery_days.same_city", "pickup_days"):
        assert key in text


# --- the package -------------------------------------------------------------------------------


@pytest.mark.parametrize("module_name", ["govpost.reports", "govpost.reports.charts"])
def test_every_public_object_says_when_it_was_added(module_name: str) -> None:
    module = importlib.import_module(module_name)
    undocumented = [
        name
        for name in module.__all__
        if (inspect.isclass(obj := getattr(module, name)) or inspect.isfunction(obj))
        and ".. versionadded:: 0.2.0" not in (inspect.getdoc(obj) or "")
    ]
    assert [] == undocumented


def test_reports_load_neither_the_store_nor_matplotlib() -> None:
    """The reports and their charts module import without SQLAlchemy or matplotlib: the
    store is read only when given, matplotlib imported when a chart is drawn."""
    code = (
        "import sys, govpost.reports, govpost.reports.charts; "
        "print(sorted(m for m in ('sqlalchemy', 'matplotlib') if m in sys.modules))"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    )
    assert "[]" == done.stdout.strip()
