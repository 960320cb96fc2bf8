"""Hypothesis strategies for govpost's own tests.

The strategies of the models are shipped in :mod:`govpost.testing.strategies`; this module
re-exports them under the names the tests use, adds the fixed fixtures of the tests (a lump-sum
agreement to a given amount), the wire-format registry that the round-trip and fuzz tests walk,
and the test-only inputs: the independent check-digit oracles and personal data written the many
ways people write it.
"""

from __future__ import annotations

import string
from datetime import date
from typing import Any

import attrs
from hypothesis import strategies as st

from govpost.agreements import (
    Budget,
    Coverage,
    FeeAgreement,
    FeeBreakdown,
    FlatTariff,
    Insurance,
    LumpSum,
    PerPiece,
    Rate,
    RateCard,
    Surcharge,
    Underuse,
    WeightTariff,
    ZonePrice,
    ZoneStep,
)
from govpost.applications import (
    Applicant,
    Application,
    ApplicationAnomaly,
    ApplicationEvent,
    ApplicationStages,
    ApplicationStatusMessage,
    ApplicationTimeLimits,
    CarrierStatus,
    DeliveryOrder,
    Distribution,
    GroupStats,
    LineTrips,
    Promise,
    SampleHall,
    Service,
    ServiceCatalogue,
    StageAnalysis,
    StageTime,
    Tally,
    TripRule,
    TripsSaved,
)
from govpost.calendar import WorkCalendar
from govpost.carriers import Booking, BookingRequest, PushMessage, Quote, QuoteRequest
from govpost.carriers.ems import EmsConfig, EmsReply, OpCode, WireRequest
from govpost.carriers.journal import JournalEntry
from govpost.carriers.transport import HttpReply
from govpost.carriers.webhooks import WithheldEvent
from govpost.centers import BusinessLine, ServiceCenter
from govpost.identifiers import TrackingNumber
from govpost.modes import (
    Acknowledgement,
    AgencyService,
    AgencyTransaction,
    AgentFee,
    AgentFeeAdjustment,
    AgentFeeLine,
    CloseOutLine,
    CloseOutSubtotal,
    CommissionRule,
    CounterSession,
    DailyCloseOut,
    Department,
    HandoverManifest,
    ManifestItem,
    PickupMatch,
    PickupReconciliation,
    PickupRun,
    PickupScan,
    PickupSchedule,
    RemittanceExclusions,
    RemittanceLine,
    RemittanceStatement,
    RemittanceSubtotal,
)
from govpost.money import Money
from govpost.periods import SHANGHAI, Period
from govpost.regions import Division, Zone
from govpost.reports import Assumptions, KpiReport, StageFigures, ZoneDelivery
from govpost.settlement import (
    BillRow,
    BudgetPosition,
    CarrierBill,
    CenterShare,
    Exclusions,
    LumpSumPosition,
    ReconciliationItem,
    ReconciliationReport,
    SettlementStatement,
    StatementLine,
    Subtotal,
)
from govpost.shipments import (
    Anomaly,
    DeliveryTimeLimits,
    Recipient,
    Shipment,
    StageDurations,
    TrackingEvent,
)
from govpost.testing import strategies as gps
from govpost.testing.strategies import APPLICATION_CENTER as CENTER
from govpost.testing.strategies import (
    OTHER_CENTER,
    SETTLEMENT_CENTERS,
    agency_services,
    applicants,
    application_events,
    applications,
    booking_requests,
    departments,
    divisions,
    id_numbers,
    lump_sum_agreements,
    mobiles,
    money,
    per_piece_agreements,
    pickup_schedules,
    rate_cards,
    remittance_statements,
    service_centers,
    services,
    shipment_batches,
    shipments,
    tracked_shipments,
    tracking_events,
    weight_tariffs,
    zone_steps,
)
from govpost.testing.strategies import _id_check as id_check
from govpost.testing.strategies import _s10_check as s10_check
from govpost.testing.strategies import agency_transaction_batches as agency_transactions
from govpost.testing.strategies import handover_manifests as manifests
from govpost.testing.strategies import pickup_scans_for as scans_for
from govpost.testing.strategies import service_catalogues as catalogues

__all__ = [
    "CENTER",
    "OTHER_CENTER",
    "SETTLEMENT_CENTERS",
    "SHANGHAI",
    "agency_services",
    "agency_transactions",
    "applicants",
    "application_events",
    "applications",
    "booking_requests",
    "catalogues",
    "departments",
    "divisions",
    "id_check",
    "id_numbers",
    "lump_sum_agreements",
    "manifests",
    "mobiles",
    "money",
    "per_piece_agreements",
    "pickup_schedules",
    "rate_cards",
    "remittance_statements",
    "s10_check",
    "scans_for",
    "service_centers",
    "services",
    "shipment_batches",
    "shipments",
    "tracked_shipments",
    "tracking_events",
    "weight_tariffs",
    "zone_steps",
]

# --- the shipped strategies, under the names the tests use ---------------------------------------

amounts = gps.amounts()
fen_amounts = gps.amounts(whole_fen=True)
weights = gps.allocation_weights()
tariffs = gps.tariffs()
any_agreements = gps.fee_agreements()
aware_datetimes = gps.aware_datetimes()
recipients = gps.recipients()


def s10_numbers() -> st.SearchStrategy[TrackingNumber]:
    """Valid UPU S10 numbers only (no domestic EMS numbers)."""
    return gps.tracking_numbers(domestic=False)


# --- fixtures ------------------------------------------------------------------------------------


def lump_sum_agreement(
    amount: str = "3000.00",
    *,
    quota: int | None = 100,
    overage: FlatTariff | None = None,
    underuse: Underuse = Underuse.KEEP,
    valid_from: date = date(2018, 1, 1),
    valid_until: date | None = None,
    budget: Budget | None = None,
) -> FeeAgreement:
    """A lump-sum agreement over the settlement centers covering everything."""
    return FeeAgreement(
        id="GZ-EMS-LUMP",
        carrier="ems",
        reference="黔政办〔2018〕2号",
        centers=set(SETTLEMENT_CENTERS),
        covers=Coverage.all(),
        mode=LumpSum(amount=amount, quota=quota, overage=overage, underuse=underuse),
        valid_from=valid_from,
        valid_until=valid_until,
        budget=budget,
    )


# --- wire format: a strategy for every public model ----------------------------------------------

#: Short texts of any script (never a lone surrogate: Hypothesis does not draw them).
free_texts = st.text(min_size=1, max_size=40).filter(lambda t: t.strip() == t and t.strip())


@st.composite
def noted_booking_requests(draw: st.DrawFn) -> BookingRequest:
    """Booking requests with any contents and, sometimes, a note for the courier."""
    request = draw(booking_requests())
    return attrs.evolve(
        request, contents=draw(free_texts), pickup_notes=draw(st.none() | free_texts)
    )


@st.composite
def report_assumptions(draw: st.DrawFn) -> Assumptions:
    """The assumptions of a KPI report: any trip rule, 0-30 working days of delivery by zone
    and of pickup, one or more certificate lines, with or without a reference."""
    days = draw(st.tuples(*(st.integers(0, 30) for _ in Zone)))
    return Assumptions(
        trip_rule=draw(gps.trip_rules()),
        delivery_days=dict(zip(Zone, days, strict=True)),
        pickup_days=draw(st.integers(0, 30)),
        certificate_lines=draw(st.sets(st.sampled_from(BusinessLine), min_size=1)),
        reference=draw(st.none() | free_texts),
    )


#: A strategy for every public model of govpost that has a wire form: the wire-format tests
#: round-trip and fuzz each. A new public attrs class must be added here or to
#: :data:`NOT_WIRE_MODELS`, or ``tests/test_serialization.py`` fails.
def ledger_entries() -> st.SearchStrategy[Any]:
    """Ledger entries of the store (needs govpost[store]: imported on first use)."""
    from govpost.store import LedgerEntry, LedgerLeg

    return st.builds(
        LedgerEntry,
        reference=st.from_regex(r"[A-Za-z0-9][A-Za-z0-9/_.\-]{0,60}", fullmatch=True),
        agreement_id=st.sampled_from(["GZ-EMS-PP", "GZ-EMS-LUMP"]),
        fiscal_year=st.integers(2018, 2026),
        leg=st.sampled_from(LedgerLeg),
        payer=st.just("finance"),
        payee=st.sampled_from(SETTLEMENT_CENTERS),
        amount=st.integers(1, 10**9)
        .flatmap(lambda f: st.sampled_from([f, -f]))
        .map(Money.from_fen),
        statement_id=st.none() | st.just("GZ-EMS-PP-2018-06-0123456789abcdef"),
        posted_at=gps.aware_datetimes(),
        memo=st.text(max_size=30),
    )


def _store_models() -> dict[type, st.SearchStrategy[Any]]:
    """The store's and the service's wire models, when the store's extra is installed."""
    try:
        from govpost.service import DispatchReport, IngestReport
        from govpost.store import LedgerEntry
    except ImportError:  # pragma: no cover - the test extra installs it
        return {}
    ids = st.lists(st.from_regex(r"GZ-[0-9]{1,6}(-R)?", fullmatch=True), max_size=4).map(tuple)
    codes = st.lists(
        st.tuples(st.from_regex(r"GZ-[0-9]{1,6}", fullmatch=True), st.sampled_from(["B01", "E9"])),
        max_size=3,
    ).map(tuple)
    counts = st.integers(0, 10_000)
    return {
        LedgerEntry: ledger_entries(),
        DispatchReport: st.builds(
            DispatchReport, booked=ids, recovered=ids, pending=ids, failed=ids, errors=codes
        ),
        IngestReport: st.builds(
            IngestReport,
            received=counts,
            stored=counts,
            withheld=counts,
            shipments=ids,
            applications=ids,
            unmatched=ids,
            failed=ids,
            errors=codes,
        ),
    }


WIRE_MODELS: dict[type, st.SearchStrategy[Any]] = {
    **_store_models(),
    Acknowledgement: gps.acknowledgements(),
    AgencyService: agency_services(),
    AgencyTransaction: gps.agency_transactions(),
    AgentFee: gps.agent_fees(),
    AgentFeeAdjustment: gps.agent_fee_adjustments(),
    AgentFeeLine: gps.agent_fee_lines(),
    Anomaly: gps.anomalies(),
    Applicant: applicants(),
    Assumptions: report_assumptions(),
    Application: applications(),
    ApplicationAnomaly: gps.application_anomalies(),
    ApplicationEvent: application_events(),
    ApplicationStatusMessage: gps.application_status_messages(),
    BillRow: gps.bill_rows(),
    Booking: gps.bookings(),
    BookingRequest: noted_booking_requests(),
    Budget: gps.budgets(),
    BudgetPosition: gps.budget_positions(),
    CarrierBill: gps.carrier_bills(),
    CarrierStatus: gps.carrier_statuses(),
    CenterShare: gps.center_shares(),
    CloseOutLine: gps.close_out_lines(),
    CloseOutSubtotal: gps.close_out_subtotals(),
    CommissionRule: gps.commission_rules(),
    CounterSession: gps.counter_sessions(),
    Coverage: gps.coverages(),
    DailyCloseOut: gps.daily_close_outs(),
    DeliveryOrder: gps.delivery_orders(),
    Department: departments(),
    Distribution: gps.distributions(),
    Division: divisions(),
    Exclusions: gps.exclusions(),
    FeeAgreement: any_agreements,
    FeeBreakdown: gps.fee_breakdowns(),
    FlatTariff: gps.flat_tariffs(),
    GroupStats: gps.group_stats(),
    HandoverManifest: manifests(),
    Insurance: gps.insurances(),
    JournalEntry: gps.journal_entries(),
    LineTrips: gps.line_trips(),
    LumpSum: gps.lump_sums(),
    LumpSumPosition: gps.lump_sum_positions(),
    ManifestItem: gps.manifest_items(),
    Money: money(),
    PerPiece: gps.per_pieces(),
    Period: gps.periods(),
    PickupMatch: gps.pickup_matches(),
    PickupReconciliation: gps.pickup_reconciliations(),
    PickupRun: gps.pickup_runs(),
    PickupScan: gps.pickup_scans(),
    PickupSchedule: pickup_schedules(),
    Promise: gps.promises(),
    PushMessage: gps.push_messages(),
    Quote: gps.quotes(),
    QuoteRequest: gps.quote_requests(),
    Rate: gps.rates(),
    RateCard: rate_cards(),
    Recipient: recipients,
    ReconciliationItem: gps.reconciliation_items(),
    ReconciliationReport: gps.reconciliation_reports(),
    RemittanceExclusions: gps.remittance_exclusions(),
    RemittanceLine: gps.remittance_lines(),
    RemittanceStatement: remittance_statements(),
    RemittanceSubtotal: gps.remittance_subtotals(),
    Service: services(),
    ServiceCatalogue: catalogues(),
    ServiceCenter: service_centers(),
    SettlementStatement: gps.settlement_statements(),
    Shipment: st.one_of(shipments(), tracked_shipments()),
    StageAnalysis: gps.stage_analyses(),
    StatementLine: gps.statement_lines(),
    Subtotal: gps.subtotals(),
    Surcharge: gps.surcharges(),
    Tally: gps.tallies(),
    TrackingEvent: tracking_events(),
    TrackingNumber: gps.tracking_numbers(),
    TripRule: gps.trip_rules(),
    TripsSaved: gps.trips_saved(),
    WeightTariff: weight_tariffs(),
    WithheldEvent: gps.withheld_events(),
    ZonePrice: gps.zone_prices(),
    ZoneStep: zone_steps(),
}


def _store_reasons() -> dict[type, str]:
    try:
        from govpost.store import AggregateTotals
    except ImportError:  # pragma: no cover - the test extra installs it
        return {}
    return {
        AggregateTotals: "computed by store.aggregate from the database, never read; compare "
        "it with a statement through AggregateTotals.of(statement)",
    }


#: Public attrs classes that are deliberately not wire documents, and why.
NOT_WIRE_MODELS: dict[type, str] = {
    **_store_reasons(),
    WorkCalendar: "built from its data package and overrides (WorkCalendar.china()), not read",
    DeliveryTimeLimits: "holds a WorkCalendar; keep the days by zone in your own settings",
    StageDurations: "derived from a shipment and a calendar (StageDurations.of); recompute it",
    HttpReply: "one HTTP answer inside the carrier transport, never stored",
    EmsConfig: "holds the EMS credentials (authorization, signKey): never written out",
    EmsReply: "the frame of one EMS answer, read by the EMS parsers; Booking.raw keeps the text",
    WireRequest: "one sealed EMS request inside the adapter, never stored",
    OpCode: "a row of the EMS operation-code table, which is code, not data",
    ApplicationTimeLimits: "holds a WorkCalendar and DeliveryTimeLimits; keep the days in settings",
    ApplicationStages: "derived from an application, a calendar and a shipment "
    "(ApplicationStages.of); recompute it",
    StageTime: "a stage of ApplicationStages, measured on a calendar (its working time is a "
    "timedelta, which has no wire form); recompute it",
    SampleHall: "a generator of demo data holding a WorkCalendar; its applications are the data",
    KpiReport: "computed from the data (build_report, report_from_store), never read; its "
    "document for people and programs is KpiReport.to_json() (govpost report --json)",
    StageFigures: "a part of a KpiReport, computed with it; written out by KpiReport.to_json()",
    ZoneDelivery: "a part of a KpiReport, computed with it; written out by KpiReport.to_json()",
}


# --- personal data, written the many ways people write it ---------------------------------------

#: Surnames, compound ones included, and given-name characters that occur in no fixed text of
#: govpost (office names, statuses), so a name found in output came from the person.
SURNAMES = ("张", "王", "李", "赵", "刘", "陈", "杨", "欧阳", "司马", "诸葛", "上官")
GIVEN_CHARACTERS = "娜丽伟强磊洋艳勇军杰涛超秀霞刚敏静"

names = st.builds(
    str.__add__,
    st.sampled_from(SURNAMES),
    st.text(alphabet=GIVEN_CHARACTERS, min_size=1, max_size=2),
)
addresses = st.builds(
    "贵州省{}{}{}号{}栋{}室".format,
    st.sampled_from(["贵阳市南明区", "遵义市红花岗区", "安顺市西秀区"]),
    st.sampled_from(["幸福路", "凤凰街", "枣山路", "瑞金北路"]),
    st.integers(1, 999),
    st.integers(1, 30),
    st.integers(101, 2808),
)

#: What people put between the groups of a number.
NUMBER_SEPARATORS = (" ", "-", ".", "  ", " - ", "–", "－", "\u3000", "\u00a0", "\t")
_FULL_WIDTH_DIGITS = {ord(d): chr(0xFF10 + int(d)) for d in string.digits}


def _written(draw: st.DrawFn, number: str, groupings: list[tuple[int, ...]]) -> str:
    """``number`` cut into groups joined by separators, its digits sometimes full-width."""
    sizes = draw(st.sampled_from(groupings))
    parts, start = [], 0
    for size in sizes:
        parts.append(number[start : start + size])
        start += size
    text = parts[0]
    for part in parts[1:]:
        text += draw(st.sampled_from(NUMBER_SEPARATORS)) + part
    widen = draw(st.sampled_from(["none", "all", "some"]))
    if widen == "all":
        return text.translate(_FULL_WIDTH_DIGITS)
    if widen == "some":
        return "".join(c.translate(_FULL_WIDTH_DIGITS) if draw(st.booleans()) else c for c in text)
    return text


@st.composite
def written_mobiles(draw: st.DrawFn) -> tuple[str, str]:
    """(a mobile number as someone wrote it, its 11 ASCII digits)."""
    digits = draw(mobiles())
    body = _written(draw, digits, [(11,), (3, 4, 4), (3, 8), (3, 3, 5), (4, 4, 3), (1, 2, 4, 4)])
    prefix = draw(
        st.sampled_from(
            ["", "+86 ", "+86-", "+86", "0086 ", "0086-", "0086", "(+86)", "（+86）", "(+86) ",
             "86 ", "86", "＋８６ "]
        )
    )  # fmt: skip
    return prefix + body, digits


def first_generation_id_numbers() -> st.SearchStrategy[str]:
    """15-digit resident ID numbers (before 1999): region, YYMMDD, sequence."""
    return st.builds(
        "{}{:%y%m%d}{:03d}".format,
        st.sampled_from(gps._ID_REGION_CODES),
        st.dates(min_value=date(1930, 1, 1), max_value=date(1999, 9, 30)),
        st.integers(0, 999),
    )


@st.composite
def written_id_numbers(draw: st.DrawFn) -> tuple[str, str]:
    """(a resident ID number as someone wrote it, its compact upper-case form)."""
    number = draw(id_numbers() | first_generation_id_numbers())
    if len(number) == 18:
        groupings = [(18,), (6, 8, 4), (6, 4, 4, 4), (4, 4, 4, 4, 2), (3, 3, 4, 4, 4)]
    else:
        groupings = [(15,), (6, 6, 3)]
    text = _written(draw, number, groupings)
    if text.endswith("X") and draw(st.booleans()):
        text = text[:-1] + draw(st.sampled_from(["x", "Ｘ", "ｘ"]))
    return text, number


#: Text around a number in a message: words of any script, punctuation, other numbers (set
#: apart by a separator: digits glued to a number make it a longer number).
number_neighbours = st.sampled_from(
    ["", "电话", "手机：", "tel ", "call ", "abc", "Zhang San ", "，", "。", "(", ")", "#",
     "号", "x", "5 ", "12-", "2024-06-03 ", "no. 12, ", "订单 GZ-520100 ", "EA123456785CN "]
)  # fmt: skip
number_followers = st.sampled_from(
    ["", "。", "，", " ok", "abc", "号", " 5", "-12", ")", "转8", "x", " 2024-06-03", "\n"]
)  # fmt: skip
