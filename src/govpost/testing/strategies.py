"""Hypothesis strategies for every govpost model, for your own property tests.

Each function returns a :class:`hypothesis.strategies.SearchStrategy` of valid values: what
govpost's own property tests draw from, shipped so that the code you build on govpost (a store,
a report, an integration with an online hall) can be tested over the same range of inputs. Import
the module on its own — it needs Hypothesis, which ``import govpost.testing`` does not::

    pip install 'govpost[testing]'

A property test states an invariant in words and lets Hypothesis look for a counterexample:

    >>> from hypothesis import given, settings
    >>> from govpost.serialization import from_json, to_json
    >>> from govpost.shipments import Shipment
    >>> from govpost.testing import strategies as gps
    >>> @settings(max_examples=25)
    ... @given(gps.shipments())
    ... def test_a_shipment_survives_our_queue(shipment: Shipment) -> None:
    ...     '''What we put on the queue as JSON comes back equal.'''
    ...     assert from_json(to_json(shipment), Shipment) == shipment
    >>> test_a_shipment_survives_our_queue()

Strategies take keyword arguments where a test usually needs to narrow them (``shipments(
picked_up=True)``, ``money(whole_fen=True)``, ``shipment_batches(start=..., days=...)``), and
combine with Hypothesis' own (``st.lists(gps.shipments())``, ``.filter``, ``.map``). The
settlement strategies fit together: :func:`shipment_batches` draws shipments of the
:data:`SETTLEMENT_CENTERS` (and of :data:`OTHER_CENTER`, which no agreement covers), and
:func:`fee_agreements` draws agreements over those centers, so that
``settle(agreement, batch, period)`` exercises every rule. Likewise :func:`applications` draws
applications of :data:`APPLICATION_CENTER`, of a service of ``catalogue`` when given one (a
:func:`service_catalogues` draw), so that shipments, promises and trips saved derive from them.
The docs page "Property tests with govpost's strategies" walks through a complete example.

.. versionadded:: 0.2.0
"""

from __future__ import annotations

import string
from collections.abc import Callable
from datetime import UTC, date, datetime, time, timedelta, timezone
from decimal import Decimal
from typing import Any, TypeVar

import attrs

try:
    from hypothesis import strategies as st
except ImportError as exc:  # pragma: no cover - the message is the feature
    raise ImportError(
        "govpost.testing.strategies needs Hypothesis, which is not installed: "
        "pip install 'govpost[testing]'",
        name=exc.name,
    ) from exc

from govpost.agreements import (
    AgentFee,
    AgentFeeKind,
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
    ReturnPolicy,
    Surcharge,
    SurchargeKind,
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
    ApplicationEventKind,
    ApplicationStatusMessage,
    ApplicationTimeLimits,
    CarrierStatus,
    DeliveryChoice,
    DeliveryOrder,
    Distribution,
    GroupStats,
    LineTrips,
    Promise,
    Service,
    ServiceCatalogue,
    StageAnalysis,
    Tally,
    TripRule,
    TripsSaved,
    analyse,
)
from govpost.applications import trips_saved as _count_trips
from govpost.calendar import WorkCalendar
from govpost.carriers import Booking, BookingRequest, PushMessage, Quote, QuoteRequest
from govpost.carriers.journal import JournalEntry, JournalState
from govpost.carriers.webhooks import WithheldEvent
from govpost.centers import BusinessLine, Channel, CooperationMode, ServiceCenter
from govpost.identifiers import TrackingNumber
from govpost.modes import (
    Acknowledgement,
    AgencyService,
    AgencyTransaction,
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
    apply_agent_fee,
    reconcile_pickup,
)
from govpost.money import Money
from govpost.periods import SHANGHAI, Period
from govpost.regions import Division, Zone
from govpost.settlement import (
    BillRow,
    BudgetPosition,
    CarrierBill,
    CenterShare,
    Exclusions,
    FeeType,
    LumpSumPosition,
    ReconciliationItem,
    ReconciliationReport,
    SettlementStatement,
    StatementLine,
    Subtotal,
    reconcile,
    settle,
    split,
)
from govpost.shipments import (
    REVOKE_PREVIOUS,
    Anomaly,
    DeliveryTimeLimits,
    Direction,
    Recipient,
    Shipment,
    ShipmentStatus,
    TrackingEvent,
)

__all__ = [
    "APPLICATION_CENTER",
    "OTHER_CENTER",
    "SETTLEMENT_CENTERS",
    "acknowledgements",
    "agency_services",
    "agency_transaction_batches",
    "agency_transactions",
    "agent_fee_adjustments",
    "agent_fee_lines",
    "agent_fees",
    "allocation_weights",
    "amounts",
    "anomalies",
    "applicants",
    "application_anomalies",
    "application_events",
    "application_status_messages",
    "applications",
    "aware_datetimes",
    "bill_rows",
    "booking_requests",
    "bookings",
    "budget_positions",
    "budgets",
    "carrier_bills",
    "carrier_statuses",
    "center_codes",
    "center_shares",
    "close_out_lines",
    "close_out_subtotals",
    "commission_rules",
    "counter_sessions",
    "coverages",
    "daily_close_outs",
    "delivery_orders",
    "departments",
    "discounts",
    "distributions",
    "divisions",
    "exclusions",
    "fee_agreements",
    "fee_breakdowns",
    "fees",
    "flat_tariffs",
    "group_stats",
    "handover_manifests",
    "id_numbers",
    "insurances",
    "journal_entries",
    "line_trips",
    "lump_sum_agreements",
    "lump_sum_positions",
    "lump_sums",
    "manifest_items",
    "manifest_waybills",
    "mobiles",
    "money",
    "per_piece_agreements",
    "per_pieces",
    "periods",
    "pickup_matches",
    "pickup_reconciliations",
    "pickup_runs",
    "pickup_scans",
    "pickup_scans_for",
    "pickup_schedules",
    "promises",
    "push_messages",
    "quote_requests",
    "quotes",
    "rate_cards",
    "rates",
    "recipients",
    "reconciliation_items",
    "reconciliation_reports",
    "remittance_exclusions",
    "remittance_lines",
    "remittance_statements",
    "remittance_subtotals",
    "service_catalogues",
    "service_centers",
    "service_codes",
    "services",
    "settlement_statements",
    "shipment_batches",
    "shipments",
    "stage_analyses",
    "statement_lines",
    "subtotals",
    "surcharges",
    "tallies",
    "tariffs",
    "tracked_shipments",
    "tracking_events",
    "tracking_numbers",
    "trip_rules",
    "trips_saved",
    "weight_tariffs",
    "withheld_events",
    "zone_prices",
    "zone_steps",
]

T = TypeVar("T")

# --- money ---------------------------------------------------------------------------------------


def amounts(*, whole_fen: bool = False) -> st.SearchStrategy[Decimal]:
    """Decimal amounts within ±10⁹ yuan, of up to 6 decimal places (2 with ``whole_fen``)."""
    if whole_fen:
        return st.integers(min_value=-(10**11), max_value=10**11).map(
            lambda fen: Decimal(fen).scaleb(-2)
        )
    return st.decimals(
        min_value=Decimal("-1e9"),
        max_value=Decimal("1e9"),
        allow_nan=False,
        allow_infinity=False,
        places=6,
    )


def money(currency: str = "CNY", *, whole_fen: bool = False) -> st.SearchStrategy[Money]:
    """:class:`~govpost.money.Money` in ``currency``, negative, zero or positive, within ±10⁹;
    ``whole_fen`` keeps to amounts of at most 2 decimals (what statements hold)."""
    return amounts(whole_fen=whole_fen).map(lambda amount: Money(amount, currency))


def fees() -> st.SearchStrategy[Money]:
    """Small positive postage in whole fen, from 0.01 to 50.00 CNY."""
    return st.integers(min_value=1, max_value=5_000).map(Money.from_fen)


def allocation_weights() -> st.SearchStrategy[int | Decimal]:
    """Weights for :func:`~govpost.money.allocate`: non-negative ints and Decimals up to 10⁶."""
    return st.one_of(
        st.integers(min_value=0, max_value=10**6),
        st.decimals(min_value=0, max_value=10**6, places=3, allow_nan=False, allow_infinity=False),
    )


# --- regions, identifiers, time ------------------------------------------------------------------

#: Real codes of every level, including municipalities and renamed or abolished codes.
_DIVISION_CODES = (
    "110000", "110105", "110108", "120101", "310104", "310115", "500101", "500230",
    "520000", "520100", "520102", "520103", "520115", "520200", "520201", "520114",
    "522301", "522601", "429004", "440300", "440305", "330100", "330106",
)  # fmt: skip

#: Region codes of real counties: 朝阳区, 南明区, 观山湖区 (created 2012), 浦东新区 (1992).
_ID_REGION_CODES = ("110105", "520102", "520115", "310115")

#: Mobile prefixes that the phonenumbers metadata accepts for every 8-digit suffix.
_MOBILE_PREFIXES = (
    *(str(p) for p in range(130, 140)),
    *("150", "151", "152", "153", "155", "156", "157", "158", "159"),
    *(str(p) for p in range(180, 190)),
    *("176", "177", "178", "199"),
)


def divisions() -> st.SearchStrategy[Division]:
    """Divisions of every level (province, city, county) drawn from real GB/T 2260 codes."""
    return st.sampled_from(_DIVISION_CODES).map(Division.parse)


def _s10_check(serial: str) -> int:
    # Written independently of govpost.identifiers, so that a test comparing the two compares
    # two implementations.
    remainder = sum(int(d) * w for d, w in zip(serial, (8, 6, 4, 2, 3, 5, 9, 7), strict=True)) % 11
    return {0: 5, 1: 0}.get(remainder, 11 - remainder)


def _id_check(first17: str) -> str:
    # GB 11643's check character as python-stdnum writes ISO 7064 MOD 11-2 (not govpost's way).
    remainder = (1 - 2 * int(first17, 13)) % 11
    return "X" if remainder == 10 else str(remainder)


def tracking_numbers(*, domestic: bool = True) -> st.SearchStrategy[TrackingNumber]:
    """Valid UPU S10 numbers (any service letters, serial and country) and, unless
    ``domestic=False``, 13-digit domestic EMS numbers."""
    letters = st.text(alphabet=string.ascii_uppercase, min_size=2, max_size=2)
    serials = st.text(alphabet=string.digits, min_size=8, max_size=8)
    s10 = st.builds(
        lambda service, serial, country: TrackingNumber(
            value=f"{service}{serial}{_s10_check(serial)}{country}"
        ),
        letters,
        serials,
        letters,
    )
    if not domestic:
        return s10
    waybills = st.text(alphabet=string.digits, min_size=13, max_size=13)
    return st.one_of(s10, waybills.map(lambda digits: TrackingNumber(value=digits)))


def id_numbers() -> st.SearchStrategy[str]:
    """Valid 18-character resident ID numbers (GB 11643): real regions, births 1900–2020."""

    def build(region: str, born: date, sequence: int) -> str:
        first17 = f"{region}{born:%Y%m%d}{sequence:03d}"
        return first17 + _id_check(first17)

    return st.builds(
        build,
        st.sampled_from(_ID_REGION_CODES),
        st.dates(min_value=date(1900, 1, 1), max_value=date(2020, 12, 31)),
        st.integers(min_value=0, max_value=999),
    )


def mobiles() -> st.SearchStrategy[str]:
    """Valid mainland mobile numbers as 11 ASCII digits."""
    return st.builds(
        str.__add__,
        st.sampled_from(_MOBILE_PREFIXES),
        st.text(alphabet=string.digits, min_size=8, max_size=8),
    )


def aware_datetimes() -> st.SearchStrategy[datetime]:
    """Timezone-aware datetimes from 2018 to 2026 at a whole second, in Asia/Shanghai, UTC or
    UTC−5."""
    return st.datetimes(
        min_value=datetime(2018, 1, 1),
        max_value=datetime(2026, 12, 31),
        timezones=st.sampled_from([SHANGHAI, UTC, timezone(timedelta(hours=-5))]),
    ).map(lambda d: d.replace(microsecond=0))


def periods() -> st.SearchStrategy[Period]:
    """Settlement periods: months, quarters and years between 2000 and 2030."""
    years = st.integers(2000, 2030)
    return st.one_of(
        st.builds(Period.month, years, st.integers(1, 12)),
        st.builds(Period.quarter, years, st.integers(1, 4)),
        st.builds(Period.year, years),
    )


# --- centers and shipments -----------------------------------------------------------------------


def center_codes() -> st.SearchStrategy[str]:
    """Service-center codes such as ``GZ-520100`` or ``GZ-520100-01``."""
    return st.from_regex(r"[A-Z]{2}-[0-9]{6}(-[0-9]{2})?", fullmatch=True)


@st.composite
def service_centers(draw: st.DrawFn) -> ServiceCenter:
    """Service centers, cooperating (any mode, channels and lines) or not (``mode=None``)."""
    mode = draw(st.none() | st.sampled_from(CooperationMode))
    cooperating = mode is not None
    return ServiceCenter(
        code=draw(center_codes()),
        name=draw(st.text(alphabet="贵阳市南明区政务服务中心", min_size=1, max_size=12)),
        division=draw(divisions()),
        mode=mode,
        channels=draw(st.frozensets(st.sampled_from(Channel))) if cooperating else frozenset(),
        business_lines=(
            draw(st.frozensets(st.sampled_from(BusinessLine))) if cooperating else frozenset()
        ),
    )


#: Names of one to four characters, compound surnames included.
_NAMES = ("张三", "欧阳娜娜", "李四光", "王五", "诸葛亮")
_ADDRESSES = ("贵州省贵阳市南明区中华南路1号", "北京市朝阳区建国路88号")


def recipients() -> st.SearchStrategy[Recipient]:
    """Recipients with a Chinese name and, sometimes, a mobile and an address."""
    return st.builds(
        Recipient,
        name=st.sampled_from(_NAMES),
        mobile=st.none() | mobiles(),
        address=st.none() | st.sampled_from(_ADDRESSES),
    )


@st.composite
def shipments(draw: st.DrawFn, *, picked_up: bool | None = None) -> Shipment:
    """Shipments of any center, line and route, in a status that agrees with their times;
    ``picked_up=True`` forces a pickup time, ``picked_up=False`` forbids one."""
    created = draw(aware_datetimes())
    has_pickup = draw(st.booleans()) if picked_up is None else picked_up
    pickup = created + timedelta(minutes=draw(st.integers(0, 60 * 24 * 5))) if has_pickup else None
    returned = None
    if pickup is not None and draw(st.booleans()):
        returned = pickup + timedelta(hours=draw(st.integers(1, 24 * 20)))
    status = (
        ShipmentStatus.RETURNED
        if returned
        else draw(
            st.sampled_from(
                [ShipmentStatus.PICKED_UP, ShipmentStatus.IN_TRANSIT, ShipmentStatus.DELIVERED]
                if pickup
                else [
                    ShipmentStatus.CREATED,
                    ShipmentStatus.AWAITING_PICKUP,
                    ShipmentStatus.CANCELLED,
                ]
            )
        )
    )
    return Shipment(
        id=draw(st.from_regex(r"GP-[0-9]{8}-[0-9]{5}", fullmatch=True)),
        center=draw(center_codes()),
        business_line=draw(st.sampled_from(BusinessLine)),
        direction=draw(st.sampled_from(Direction)),
        origin=draw(divisions()),
        destination=draw(divisions()),
        weight_g=draw(st.integers(1, 30_000)),
        created_at=created,
        recipient=draw(st.none() | recipients()),
        declared_value=draw(st.none() | money(whole_fen=True).filter(lambda m: m.amount > 0)),
        return_receipt=draw(st.booleans()),
        tracking_number=draw(st.none() | tracking_numbers(domestic=False)),
        application_ref=draw(st.none() | st.from_regex(r"BJ[0-9]{10}", fullmatch=True)),
        status=status,
        picked_up_at=pickup,
        returned_at=returned,
    )


@st.composite
def tracking_events(draw: st.DrawFn, waybill: TrackingNumber | None = None) -> TrackingEvent:
    """Tracking events of ``waybill`` (drawn when not given), of any status, some of them
    revocations (撤销)."""
    return TrackingEvent(
        event_id=draw(st.from_regex(r"ev-[0-9a-f]{6}", fullmatch=True)),
        tracking_number=waybill or draw(tracking_numbers(domestic=False)),
        status=draw(st.sampled_from(ShipmentStatus)),
        occurred_at=draw(aware_datetimes()),
        location=draw(st.none() | st.sampled_from(["贵阳市南明区营业部", "北京处理中心"])),
        carrier_code=draw(st.none() | st.sampled_from(["203", "305", "704", "743"])),
        description=draw(st.none() | st.just("已签收")),
        revokes=draw(st.none() | st.sampled_from([REVOKE_PREVIOUS, "ev-000000"])),
    )


@st.composite
def tracked_shipments(draw: st.DrawFn) -> Shipment:
    """Booked shipments with up to five events applied (late and illegal ones included, kept
    as anomalies)."""
    base = draw(shipments(picked_up=False))
    waybill = draw(tracking_numbers(domestic=False))
    booked = attrs.evolve(base, tracking_number=waybill, status=ShipmentStatus.CREATED)
    events = draw(st.lists(tracking_events(waybill), max_size=5))
    return booked.apply(*(e for e in events if e.occurred_at >= booked.created_at))


def anomalies() -> st.SearchStrategy[Anomaly]:
    """Anomalies as :meth:`~govpost.shipments.Shipment.apply` records them."""
    return st.builds(
        Anomaly,
        st.from_regex(r"ev-[0-9a-f]{6}", fullmatch=True),
        st.sampled_from(
            ["conflicts with another event of the same id", "DELIVERED → IN_TRANSIT is not allowed"]
        ),
    )


# --- agreements and tariffs ----------------------------------------------------------------------

#: The centers the agreements of :func:`per_piece_agreements`, :func:`lump_sum_agreements` and
#: :func:`fee_agreements` cover, and of which :func:`shipment_batches` draws shipments.
SETTLEMENT_CENTERS = ("GZ-520100", "GZ-520200", "GZ-522301")
#: A center no agreement of this module covers: its shipments in a batch are never billed.
OTHER_CENTER = "GZ-999999"

#: Destinations from 贵阳市 南明区 (520102) in each zone.
_ZONE_DESTINATIONS = {
    Zone.SAME_CITY: ("520103", "520115"),
    Zone.IN_PROVINCE: ("520201", "522301", "522601"),
    Zone.OUT_OF_PROVINCE: ("110105", "310115", "440305"),
}


@st.composite
def zone_steps(draw: st.DrawFn, zone: Zone | None = None) -> ZoneStep:
    """首重/续重 prices of ``zone`` (drawn when not given); no order between zones implied."""
    return ZoneStep(
        zone=zone if zone is not None else draw(st.sampled_from(Zone)),
        first_g=draw(st.sampled_from([100, 250, 500, 1000, 2000]) | st.integers(1, 5000)),
        first_fee=draw(fees()),
        step_g=draw(st.sampled_from([100, 250, 500, 1000]) | st.integers(1, 3000)),
        step_fee=draw(fees()),
    )


@st.composite
def weight_tariffs(draw: st.DrawFn) -> WeightTariff:
    """Weight tariffs: one first weight and step for every zone, fees rising by zone."""
    first_g = draw(st.sampled_from([250, 500, 1000]))
    step_g = draw(st.sampled_from([250, 500, 1000]))
    first = sorted(draw(st.lists(fees(), min_size=3, max_size=3)))
    step = sorted(draw(st.lists(fees(), min_size=3, max_size=3)))
    return WeightTariff(
        zones=[
            ZoneStep(zone=z, first_g=first_g, first_fee=f, step_g=step_g, step_fee=s)
            for z, f, s in zip(Zone, first, step, strict=True)
        ]
    )


@st.composite
def flat_tariffs(draw: st.DrawFn) -> FlatTariff:
    """Flat tariffs: one price per piece, sometimes with rising per-zone prices."""
    prices = sorted(draw(st.lists(fees(), min_size=3, max_size=3)))
    if draw(st.booleans()):
        return FlatTariff(price=prices[0])
    return FlatTariff(
        price=prices[0],
        zone_prices=[ZonePrice(zone=z, price=p) for z, p in zip(Zone, prices, strict=True)],
    )


def tariffs() -> st.SearchStrategy[WeightTariff | FlatTariff]:
    """Weight or flat tariffs."""
    return st.one_of(weight_tariffs(), flat_tariffs())


def zone_prices() -> st.SearchStrategy[ZonePrice]:
    """One zone's price of a flat tariff."""
    return st.builds(ZonePrice, zone=st.sampled_from(Zone), price=fees())


def insurances() -> st.SearchStrategy[Insurance]:
    """Insurance (保价) surcharges: a rate of the declared value and a minimum."""
    return st.builds(Insurance, rate=st.sampled_from(["0.005", "0.01", "0.003"]), minimum=fees())


def surcharges() -> st.SearchStrategy[Surcharge]:
    """Surcharges of any kind and a small fee."""
    return st.builds(Surcharge, kind=st.sampled_from(SurchargeKind), amount=fees())


@st.composite
def rate_cards(draw: st.DrawFn, *, start: date = date(2018, 1, 1)) -> RateCard:
    """Rate cards of 1–3 contiguous rates from ``start`` (within a year), the last open-ended,
    each with a reference, a tariff, insurance and a return-receipt fee."""
    cuts = sorted(set(draw(st.lists(st.integers(1, 364), max_size=2))))
    bounds = [start, *(start + timedelta(days=c) for c in cuts)]
    rates = []
    for i, begin in enumerate(bounds):
        until = bounds[i + 1] if i + 1 < len(bounds) else None
        rates.append(
            Rate(
                valid_from=begin,
                valid_until=until,
                reference=f"黔邮〔2018〕{i + 1}号",
                tariff=draw(tariffs()),
                insurance=Insurance(
                    rate=draw(st.sampled_from(["0.005", "0.01", "0.003"])), minimum=draw(fees())
                ),
                return_receipt=draw(fees()),
            )
        )
    return RateCard(name="test card", rates=rates)


def rates() -> st.SearchStrategy[Rate]:
    """Single effective-dated rates (the first of a :func:`rate_cards` card)."""
    return rate_cards().map(lambda card: card.rates[0])


def discounts() -> st.SearchStrategy[Decimal]:
    """Per-piece discounts between 0 and 15 %."""
    return st.sampled_from(["0", "0.1", "0.15", "0.05", "0.125"]).map(Decimal)


def coverages() -> st.SearchStrategy[Coverage]:
    """One (business line, direction) an agreement may cover."""
    return st.builds(
        Coverage, business_line=st.sampled_from(BusinessLine), direction=st.sampled_from(Direction)
    )


def budgets() -> st.SearchStrategy[Budget]:
    """Annual budgets, strict or not."""
    return st.builds(Budget, annual=st.integers(1, 10**9).map(Money.from_fen), strict=st.booleans())


def per_pieces() -> st.SearchStrategy[PerPiece]:
    """Per-piece settlement modes: a rate card and a discount."""
    return st.builds(PerPiece, tariff=rate_cards(), discount=discounts())


@st.composite
def per_piece_agreements(
    draw: st.DrawFn,
    *,
    valid_from: date = date(2018, 1, 1),
    return_policy: ReturnPolicy | None = None,
    budget: Budget | None = None,
    agent_fee: bool | None = None,
) -> FeeAgreement:
    """Per-piece agreements over :data:`SETTLEMENT_CENTERS` from ``valid_from``, covering some
    lines and directions; ``return_policy`` and ``budget`` fix those terms, ``agent_fee``
    whether the agreement carries an :class:`~govpost.agreements.AgentFee` (``None``:
    sometimes).
    """
    covers = draw(st.sets(st.sampled_from(Coverage.all()), min_size=1))
    return FeeAgreement(
        id="GZ-EMS-TEST",
        carrier="ems",
        reference="黔政办〔2018〕1号",
        centers=set(SETTLEMENT_CENTERS),
        covers=covers,
        mode=PerPiece(tariff=draw(rate_cards()), discount=draw(discounts())),
        valid_from=valid_from,
        budget=budget,
        return_policy=return_policy or draw(st.sampled_from(ReturnPolicy)),
        agent_fee=draw(_maybe_agent_fee(agent_fee)),
    )


@st.composite
def lump_sum_agreements(
    draw: st.DrawFn, *, budget: Budget | None = None, agent_fee: bool | None = None
) -> FeeAgreement:
    """Lump-sum agreements over :data:`SETTLEMENT_CENTERS`: any amount, a quota or none, a flat
    or weight overage, any underuse policy, starting on or during June 2018; ``agent_fee``
    says whether they carry an :class:`~govpost.agreements.AgentFee` (``None``: sometimes).
    """
    quota = draw(st.none() | st.integers(1, 20))
    underuse = Underuse.KEEP if quota is None else draw(st.sampled_from(Underuse))
    overage = None if quota is None else draw(st.none() | tariffs())
    return FeeAgreement(
        id="GZ-EMS-LUMP",
        carrier="ems",
        reference="黔政办〔2018〕2号",
        centers=set(SETTLEMENT_CENTERS),
        covers=draw(st.sets(st.sampled_from(Coverage.all()), min_size=1)),
        mode=LumpSum(
            amount=draw(st.integers(1, 10**7).map(Money.from_fen)),
            quota=quota,
            overage=overage,
            underuse=underuse,
        ),
        valid_from=draw(st.sampled_from([date(2018, 1, 1), date(2018, 6, 10), date(2018, 6, 30)])),
        budget=budget,
        agent_fee=draw(_maybe_agent_fee(agent_fee)),
    )


def _maybe_agent_fee(carried: bool | None) -> st.SearchStrategy[AgentFee | None]:
    """An agent fee (``True``), none (``False``), or either (``None``)."""
    if carried is None:
        return st.none() | agent_fees()
    return agent_fees() if carried else st.none()


def lump_sums() -> st.SearchStrategy[LumpSum]:
    """Lump-sum settlement modes (those of :func:`lump_sum_agreements`)."""

    def mode(agreement: FeeAgreement) -> LumpSum:
        assert isinstance(agreement.mode, LumpSum)
        return agreement.mode

    return lump_sum_agreements().map(mode)


def fee_agreements() -> st.SearchStrategy[FeeAgreement]:
    """Agreements of either settlement mode over :data:`SETTLEMENT_CENTERS`, sometimes with an
    agent fee."""
    return st.one_of(per_piece_agreements(), lump_sum_agreements())


def fee_breakdowns() -> st.SearchStrategy[FeeBreakdown]:
    """What a rate quotes for one piece of any zone and weight, insured or not."""
    return st.builds(
        lambda rate, zone, weight_g, declared, receipt, discount: rate.quote(
            zone=zone,
            weight_g=weight_g,
            declared_value=declared,
            return_receipt=receipt,
            discount=discount,
        ),
        rates(),
        st.sampled_from(Zone),
        st.integers(1, 30_000),
        st.none() | fees(),
        st.booleans(),
        discounts(),
    )


# --- settlement ----------------------------------------------------------------------------------


def _waybill(index: int) -> TrackingNumber:
    serial = f"{index:08d}"
    return TrackingNumber(value=f"EA{serial}{_s10_check(serial)}CN")


@st.composite
def _billing_shipment(draw: st.DrawFn, index: int, *, start: date, days: int) -> Shipment:
    zone = draw(st.sampled_from(Zone))
    day = start + timedelta(days=draw(st.integers(0, days - 1)))
    created = datetime(day.year, day.month, day.day, 8, 0, tzinfo=SHANGHAI)
    pickup_kind = draw(st.sampled_from(["picked", "picked", "picked", "none", "cancelled"]))
    picked = None
    status = ShipmentStatus.AWAITING_PICKUP
    returned = None
    if pickup_kind == "cancelled":
        status = ShipmentStatus.CANCELLED
    elif pickup_kind == "picked":
        # Late evening UTC times land on the next business date in Shanghai.
        picked = created + timedelta(minutes=draw(st.integers(0, 15 * 60)))
        status = ShipmentStatus.PICKED_UP
        if draw(st.integers(0, 4)) == 0:
            returned = picked + timedelta(days=draw(st.integers(0, 40)))
            status = ShipmentStatus.RETURNING
        if draw(st.booleans()):
            picked = picked.astimezone(UTC)
    return Shipment(
        id=f"GP-{index:06d}",
        center=draw(st.sampled_from([*SETTLEMENT_CENTERS, OTHER_CENTER])),
        business_line=draw(st.sampled_from(BusinessLine)),
        direction=draw(st.sampled_from(Direction)),
        origin="520102",
        destination=draw(st.sampled_from(_ZONE_DESTINATIONS[zone])),
        weight_g=draw(st.integers(1, 5_000)),
        created_at=created,
        return_receipt=draw(st.booleans()),
        declared_value=draw(st.none() | st.integers(1, 300_000).map(Money.from_fen)),
        tracking_number=_waybill(index) if draw(st.booleans()) else None,
        status=status,
        picked_up_at=picked,
        returned_at=returned,
    )


@st.composite
def shipment_batches(
    draw: st.DrawFn,
    *,
    start: date = date(2018, 1, 1),
    days: int = 365,
    max_size: int = 25,
    offset: int = 0,
) -> list[Shipment]:
    """Lists of up to ``max_size`` shipments to settle, with unique ids and waybills numbered
    from ``offset`` (so that two batches of different offsets never share a waybill).

    Each is created from 南明区 on a day in ``[start, start + days)`` and picked up that day
    (in Asia/Shanghai, sometimes written in UTC), not yet picked up, or cancelled; some are
    returning, insured, with a return receipt; most belong to :data:`SETTLEMENT_CENTERS`, some
    to :data:`OTHER_CENTER`.
    """
    size = draw(st.integers(0, max_size))
    return [draw(_billing_shipment(offset + i, start=start, days=days)) for i in range(size)]


_JUNE_2018 = Period.month(2018, 6)


@st.composite
def settlement_statements(
    draw: st.DrawFn, *, lump_sum: bool | None = None, budget: bool | None = None
) -> SettlementStatement:
    """Statements of June 2018 for a batch of up to 8 shipments; ``lump_sum`` and ``budget``
    force (True) or forbid (False) a lump-sum agreement and a budget."""
    with_budget = draw(st.booleans()) if budget is None else budget
    annual = Budget(annual=Money("100000"), strict=False) if with_budget else None
    lump = draw(st.booleans()) if lump_sum is None else lump_sum
    agreement = draw(
        lump_sum_agreements(budget=annual) if lump else per_piece_agreements(budget=annual)
    )
    batch = draw(shipment_batches(start=date(2018, 6, 1), days=30, max_size=8))
    return settle(agreement, batch, _JUNE_2018)


def _parts(statements: st.SearchStrategy[T], part: Callable[[T], Any]) -> st.SearchStrategy[Any]:
    """One of the parts ``part`` picks from a drawn value (a tuple, a value or None)."""

    def pick(value: T) -> st.SearchStrategy[Any]:
        found = part(value)
        items = found if isinstance(found, tuple) else () if found is None else (found,)
        return st.sampled_from(items) if items else st.nothing()

    return statements.flatmap(pick)


def statement_lines() -> st.SearchStrategy[StatementLine]:
    """Lines of :func:`settlement_statements` (charges, returns, credits and agent fees)."""
    return _parts(settlement_statements(), lambda s: tuple(s.lines))


def subtotals() -> st.SearchStrategy[Subtotal]:
    """Per-center and per-zone subtotals of :func:`settlement_statements`."""
    return _parts(settlement_statements(), lambda s: s.by_center + s.by_zone)


def lump_sum_positions() -> st.SearchStrategy[LumpSumPosition]:
    """The lump-sum positions of lump-sum statements."""
    return _parts(settlement_statements(lump_sum=True), lambda s: s.lump_sum)


def budget_positions() -> st.SearchStrategy[BudgetPosition]:
    """The budget positions of statements under a budget."""
    return _parts(settlement_statements(budget=True), lambda s: s.budget)


def exclusions() -> st.SearchStrategy[Exclusions]:
    """What statements left out, and why."""
    return _parts(settlement_statements(), lambda s: s.excluded)


def center_shares() -> st.SearchStrategy[CenterShare]:
    """Shares of a province-level amount split across :data:`SETTLEMENT_CENTERS` by pieces."""
    splits = st.builds(
        split,
        st.integers(0, 10**8).map(Money.from_fen),
        st.dictionaries(st.sampled_from(SETTLEMENT_CENTERS), st.integers(1, 50), min_size=1),
    )
    return splits.flatmap(st.sampled_from)


def bill_rows() -> st.SearchStrategy[BillRow]:
    """Rows of a carrier's bill, of any fee type, some fields missing."""
    return st.builds(
        BillRow,
        line_no=st.integers(2, 10_000),
        waybill=st.none() | tracking_numbers(domestic=False).map(str),
        pickup_date=st.dates(date(2018, 1, 1), date(2026, 12, 31)),
        weight_g=st.none() | st.integers(1, 30_000),
        destination=st.none() | st.sampled_from(_DIVISION_CODES),
        zone=st.none() | st.sampled_from(Zone),
        fee_type=st.sampled_from(FeeType),
        amount=st.integers(-50_000, 50_000).map(Money.from_fen),
    )


def carrier_bills() -> st.SearchStrategy[CarrierBill]:
    """Carrier bills of up to 5 rows."""
    return st.builds(CarrierBill, rows=st.lists(bill_rows(), max_size=5).map(tuple))


@st.composite
def reconciliation_reports(draw: st.DrawFn) -> ReconciliationReport:
    """A statement reconciled with its expected bill, some rows dropped and some invented."""
    statement = draw(settlement_statements())
    rows = [r for r in CarrierBill.from_statement(statement).rows if draw(st.booleans())]
    rows += draw(st.lists(bill_rows(), max_size=2))
    numbered = tuple(attrs.evolve(r, line_no=i + 2) for i, r in enumerate(rows))
    return reconcile(statement, CarrierBill(rows=numbered, currency=statement.currency))


def reconciliation_items() -> st.SearchStrategy[ReconciliationItem]:
    """Items of :func:`reconciliation_reports`, of every class."""
    return _parts(reconciliation_reports(), lambda r: r.items)


# --- carriers ------------------------------------------------------------------------------------

#: Destinations from 南明区 (520102): same city, in province, out of province.
_CARRIER_DESTINATIONS = ("520103", "520111", "520302", "522601", "110105", "310115", "530102")


def _carrier_names() -> st.SearchStrategy[str]:
    return st.sampled_from(["sandbox", "ems", "acme"])


def _carrier_answers() -> st.SearchStrategy[str | None]:
    return st.none() | st.text(max_size=200)


def _order_ids() -> st.SearchStrategy[str]:
    return st.from_regex(r"GZ-[0-9]{6}-[0-9]{6}", fullmatch=True)


def quote_requests() -> st.SearchStrategy[QuoteRequest]:
    """Postage questions from 南明区 to any zone, of any weight, insured or not."""
    return st.builds(
        QuoteRequest,
        origin=st.just("520102"),
        destination=st.sampled_from(_CARRIER_DESTINATIONS),
        weight_g=st.integers(1, 30_000),
        declared_value=st.none() | fees(),
    )


def quotes() -> st.SearchStrategy[Quote]:
    """Carriers' answers to a postage question (the raw answer kept, or not)."""
    return st.builds(
        Quote,
        carrier=_carrier_names(),
        amount=fees(),
        zone=st.sampled_from(Zone),
        raw=_carrier_answers(),
    )


@st.composite
def booking_requests(draw: st.DrawFn, *, order_id: str | None = None) -> BookingRequest:
    """Booking requests from 贵阳 to any zone, created at any minute of 2024 (Asia/Shanghai),
    with a complete recipient and sender; ``order_id`` fixes the order id."""
    created = datetime(2024, 1, 1, tzinfo=SHANGHAI) + timedelta(
        minutes=draw(st.integers(0, 365 * 24 * 60 - 1))
    )
    shipment = Shipment(
        id=order_id or f"BK-{draw(st.integers(0, 10**9)):09d}",
        center="GZ-520100",
        business_line=draw(st.sampled_from(BusinessLine)),
        direction=draw(st.sampled_from(Direction)),
        origin="520102",
        destination=draw(st.sampled_from(_CARRIER_DESTINATIONS)),
        weight_g=draw(st.integers(1, 30_000)),
        created_at=created,
        recipient=Recipient(name="张三", mobile="13800138000", address="贵州省贵阳市南明区1号"),
        declared_value=draw(st.none() | st.integers(1, 10_000).map(Money)),
    )
    sender = Recipient(name="贵阳市政务服务中心", mobile="13885000000", address="贵阳市市府路1号")
    return BookingRequest(shipment=shipment, sender=sender)


def bookings() -> st.SearchStrategy[Booking]:
    """Bookings as carriers confirm them, first or duplicate."""
    return st.builds(
        Booking,
        carrier=_carrier_names(),
        order_id=_order_ids(),
        tracking_number=tracking_numbers(),
        booked_at=aware_datetimes(),
        duplicate=st.booleans(),
        raw=_carrier_answers(),
    )


def push_messages() -> st.SearchStrategy[PushMessage]:
    """Pushed tracking messages of up to 4 events, with or without a message id."""
    return st.builds(
        PushMessage,
        message_id=st.none() | st.from_regex(r"[0-9a-f]{8,32}", fullmatch=True),
        events=st.lists(tracking_events(), max_size=4).map(tuple),
    )


def withheld_events() -> st.SearchStrategy[WithheldEvent]:
    """Events a push inbox withheld, with the reason."""
    return st.builds(
        WithheldEvent,
        event=tracking_events(),
        reason=st.sampled_from(["unconfirmed", "stale", "ahead"]),
        detail=st.text(min_size=1, max_size=40).filter(lambda t: t.strip() == t and t.strip()),
    )


@st.composite
def journal_entries(draw: st.DrawFn) -> JournalEntry:
    """Booking-journal entries in each state; a booked one holds a booking of its own order."""
    key = draw(_order_ids())
    state = draw(st.sampled_from(JournalState))
    created = draw(aware_datetimes())
    booking = None
    if state is JournalState.BOOKED:
        booking = attrs.evolve(draw(bookings()), order_id=key)
    return JournalEntry(
        key=key,
        carrier=draw(_carrier_names()),
        fingerprint=draw(st.from_regex(r"[0-9a-f]{64}", fullmatch=True)),
        state=state,
        created_at=created,
        updated_at=created + timedelta(seconds=draw(st.integers(0, 10**6))),
        attempts=draw(st.integers(0, 10)),
        booking=booking,
        error_code=draw(
            st.sampled_from(["B0001", "timeout"])
            if state is JournalState.FAILED
            else st.none() | st.just("timeout")
        ),
    )


# --- applications --------------------------------------------------------------------------------

#: The center every application of :func:`applications` belongs to: 贵阳市政务服务中心, whose
#: division (520100) is the origin of the results it mails.
APPLICATION_CENTER = ServiceCenter(
    code="GZ-520100",
    name="贵阳市政务服务中心",
    division="520100",
    mode=CooperationMode.STATIONED_STAFF,
    channels={Channel.ONLINE, Channel.WINDOW},
    business_lines=set(BusinessLine),
)

#: Applicants' divisions, from 贵阳市: the city itself, in the city, in province, out of it.
_APPLICATION_DESTINATIONS = ("520100", "520102", "520103", "520201", "522601", "110105", "310115")


def service_codes() -> st.SearchStrategy[str]:
    """Catalogue codes of services such as ``GZ-SCJG-001``."""
    return st.from_regex(r"[A-Z]{2}-[A-Z]{2,4}-[0-9]{3}", fullmatch=True)


def services(*, result_by_post: bool | None = None) -> st.SearchStrategy[Service]:
    """Services of every line and time limit; ``result_by_post`` forces whether their results
    may be mailed."""
    return st.builds(
        Service,
        code=service_codes(),
        name=st.sampled_from(["营业执照核发", "食品经营许可证核发", "机动车驾驶证期满换证"]),
        business_line=st.sampled_from(BusinessLine),
        time_limit_days=st.integers(0, 30),
        result_by_post=st.booleans() if result_by_post is None else st.just(result_by_post),
        materials_by_post=st.booleans(),
    )


def service_catalogues() -> st.SearchStrategy[ServiceCatalogue]:
    """Catalogues of 1–6 services with distinct codes, with or without a reference."""
    return st.builds(
        ServiceCatalogue,
        services=st.lists(services(), min_size=1, max_size=6, unique_by=lambda s: s.code),
        reference=st.none() | st.just("SAMPLE DATA"),
    )


def applicants(*, address: bool | None = None) -> st.SearchStrategy[Applicant]:
    """Applicants with a mobile and, sometimes, an ID number; ``address=True`` forces an
    address, ``address=False`` forbids one."""
    addresses = st.sampled_from(_ADDRESSES)
    return st.builds(
        Applicant,
        name=st.sampled_from(_NAMES),
        mobile=mobiles(),
        id_number=st.none() | id_numbers(),
        address=(
            addresses if address else st.none() if address is False else st.none() | addresses
        ),
    )


def _acceptance_times() -> st.SearchStrategy[datetime]:
    return st.datetimes(
        min_value=datetime(2018, 1, 1), max_value=datetime(2025, 12, 1), timezones=st.just(SHANGHAI)
    ).map(lambda d: d.replace(microsecond=0))


@st.composite
def application_events(
    draw: st.DrawFn, accepted_at: datetime | None = None, *, prefix: str = "e"
) -> ApplicationEvent:
    """Events of every kind, legal or not for a given application, from an hour before
    ``accepted_at`` (drawn in 2018–2025 when not given) to 60 days after; ids are ``prefix``
    and a number up to 30, so that some draws share an id."""
    kind = draw(st.sampled_from(ApplicationEventKind))
    start = accepted_at or draw(_acceptance_times())
    tracking = None
    if kind.value.startswith("result_") and draw(st.booleans()):
        tracking = draw(tracking_numbers(domestic=False))
    return ApplicationEvent(
        event_id=f"{prefix}{draw(st.integers(0, 30))}",
        kind=kind,
        occurred_at=start + timedelta(minutes=draw(st.integers(-60, 60 * 24 * 60))),
        delivery=(
            draw(st.sampled_from(DeliveryChoice))
            if kind is ApplicationEventKind.DELIVERY_CHANGED
            else None
        ),
        tracking_number=tracking,
    )


@st.composite
def applications(
    draw: st.DrawFn, *, catalogue: ServiceCatalogue | None = None, events: bool = True
) -> Application:
    """Applications of :data:`APPLICATION_CENTER` accepted in 2018–2025, unless
    ``events=False`` with events applied: a legal walk through the transition table (up to 8
    events, so that every status is reached) and up to 4 events of any kind (illegal ones
    kept as anomalies); the service is one of
    ``catalogue`` when given (so that shipments and promises can be derived), else a made-up
    code."""
    if catalogue is not None:
        service = draw(st.sampled_from(catalogue.services))
        code = service.code
        mail_allowed = service.result_by_post
        materials = service.materials_by_post and draw(st.booleans())
    else:
        code = draw(service_codes())
        mail_allowed = True
        materials = draw(st.booleans())
    applicant = draw(applicants())
    mail = mail_allowed and applicant.address is not None and draw(st.booleans())
    accepted = draw(_acceptance_times())
    application = Application(
        reference=draw(st.from_regex(r"520100-20[0-9]{6}-[0-9]{4}", fullmatch=True)),
        center=APPLICATION_CENTER,
        service=code,
        channel=draw(st.sampled_from(Channel)),
        applicant=applicant,
        accepted_at=accepted,
        destination=draw(st.sampled_from(_APPLICATION_DESTINATIONS)),
        delivery=DeliveryChoice.MAIL if mail else DeliveryChoice.COLLECT,
        materials_by_post=materials,
    )
    if not events:
        return application
    walk = draw(_lifecycle_events(application, mail_allowed=mail_allowed))
    noise = draw(st.lists(application_events(accepted), max_size=4))
    return application.apply(*walk, *noise)


@st.composite
def _lifecycle_events(
    draw: st.DrawFn, application: Application, *, mail_allowed: bool = True
) -> list[ApplicationEvent]:
    """A legal walk through the transition table from acceptance, stopping anywhere: each
    event a move the table allows from where the walk stands (a delivery change while the
    choice is open, a dispatch repeated), at non-decreasing times, so that events of one
    instant meet the precedence rule; a change to ``MAIL`` only when ``mail_allowed`` and the
    applicant gave an address. Applied alone, it leaves no anomaly."""
    from govpost.applications import ApplicationStatus as S

    kinds = ApplicationEventKind
    status, delivery, when = S.ACCEPTED, application.delivery, application.accepted_at
    walk: list[ApplicationEvent] = []
    while len(walk) < 8:
        moves: list[ApplicationEventKind | None] = [None]  # None: the walk stops here
        if status in (S.ACCEPTED, S.APPROVED):
            address = application.applicant.address is not None
            to_mail = delivery is DeliveryChoice.COLLECT and mail_allowed and address
            if to_mail or delivery is DeliveryChoice.MAIL:
                moves.append(kinds.DELIVERY_CHANGED)
        if status is S.ACCEPTED:
            moves += [kinds.APPROVED, kinds.REJECTED, kinds.WITHDRAWN]
        elif status is S.APPROVED:
            mail = delivery is DeliveryChoice.MAIL
            moves.append(kinds.RESULT_DISPATCHED if mail else kinds.RESULT_COLLECTED)
        elif status is S.RESULT_DISPATCHED:
            moves += [kinds.RESULT_DISPATCHED, kinds.RESULT_DELIVERED, kinds.RESULT_COLLECTED]
        elif status is not S.CLOSED:
            moves.append(kinds.CLOSED)
        kind = draw(st.sampled_from(moves))
        if kind is None:
            break
        when += timedelta(minutes=draw(st.sampled_from([0, 1, 90, 60 * 24, 60 * 24 * 9])))
        choice = None
        if kind is kinds.DELIVERY_CHANGED:
            choice = delivery = (
                DeliveryChoice.COLLECT if delivery is DeliveryChoice.MAIL else DeliveryChoice.MAIL
            )
        else:
            status = S(kind.value)
        tracking = None
        if kind in (kinds.RESULT_DISPATCHED, kinds.RESULT_DELIVERED) and draw(st.booleans()):
            tracking = draw(tracking_numbers(domestic=False))
        walk.append(
            ApplicationEvent(
                event_id=f"w{len(walk)}",
                kind=kind,
                occurred_at=when,
                delivery=choice,
                tracking_number=tracking,
            )
        )
    return walk


def application_anomalies() -> st.SearchStrategy[ApplicationAnomaly]:
    """Anomalies as :meth:`~govpost.applications.Application.apply` records them."""
    return _parts(applications(), lambda a: a.anomalies)


def _references() -> st.SearchStrategy[str]:
    return st.from_regex(r"520100-20[0-9]{6}-[0-9]{4}", fullmatch=True)


@st.composite
def delivery_orders(draw: st.DrawFn) -> DeliveryOrder:
    """``delivery_order`` messages: an approved result of any line to mail from a division to
    another, to an applicant with a mobile and an address."""
    reference = draw(_references())
    return DeliveryOrder(
        order_id=f"{reference}-R",
        reference=reference,
        center=draw(center_codes()),
        service=draw(service_codes()),
        business_line=draw(st.sampled_from(BusinessLine)),
        approved_at=draw(aware_datetimes()),
        origin=draw(divisions()),
        destination=draw(divisions()),
        weight_g=draw(st.integers(1, 30_000)),
        applicant=Recipient(
            name=draw(st.sampled_from(_NAMES)),
            mobile=draw(mobiles()),
            address=draw(st.sampled_from(_ADDRESSES)),
        ),
    )


@st.composite
def carrier_statuses(draw: st.DrawFn) -> CarrierStatus:
    """``carrier_status`` messages: a tracking event of any status of a result's waybill."""
    reference = draw(_references())
    return CarrierStatus(
        order_id=f"{reference}-R",
        reference=reference,
        tracking_number=draw(tracking_numbers()),
        event_id=draw(st.from_regex(r"ev-[0-9a-f]{6}", fullmatch=True)),
        status=draw(st.sampled_from(ShipmentStatus)),
        occurred_at=draw(aware_datetimes()),
    )


def application_status_messages() -> st.SearchStrategy[ApplicationStatusMessage]:
    """``application_status`` messages, translated from :func:`carrier_statuses` (a status
    change, or none)."""
    return carrier_statuses().map(ApplicationStatusMessage.of)


def _application_time_limits() -> ApplicationTimeLimits:
    calendar = WorkCalendar.china()
    days = {Zone.SAME_CITY: 1, Zone.IN_PROVINCE: 2, Zone.OUT_OF_PROVINCE: 4}
    return ApplicationTimeLimits(
        calendar=calendar, delivery=DeliveryTimeLimits(days=days, calendar=calendar)
    )


@st.composite
def promises(draw: st.DrawFn) -> Promise:
    """What applicants are promised (mailed results or not), on the official calendar with
    1, 2 and 4 delivery days by zone."""
    catalogue = draw(service_catalogues())
    application = draw(applications(catalogue=catalogue))
    return _application_time_limits().promise(application, catalogue, APPLICATION_CENTER)


def tallies() -> st.SearchStrategy[Tally]:
    """Tallies of up to 1,000 judged items, some of them on time."""
    return st.integers(0, 1_000).flatmap(
        lambda judged: st.builds(Tally, judged=st.just(judged), on_time=st.integers(0, judged))
    )


def distributions() -> st.SearchStrategy[Distribution]:
    """Histograms of up to 20 items of 0–60 working days."""
    return st.lists(st.integers(0, 60), max_size=20).map(Distribution.of)


@st.composite
def stage_analyses(draw: st.DrawFn) -> StageAnalysis:
    """Analyses of up to 6 applications of a catalogue, at a moment up to 90 days after the
    first acceptance, on the time limits of :func:`promises`."""
    catalogue = draw(service_catalogues())
    batch = draw(st.lists(applications(catalogue=catalogue), max_size=6))
    start = min((a.accepted_at for a in batch), default=datetime(2018, 6, 1, tzinfo=SHANGHAI))
    return analyse(
        batch,
        catalogue=catalogue,
        limits=_application_time_limits(),
        centers=[APPLICATION_CENTER],
        now=start + timedelta(hours=draw(st.integers(0, 90 * 24))),
    )


def group_stats() -> st.SearchStrategy[GroupStats]:
    """The groups of :func:`stage_analyses`: overall, by center, line, zone and mode."""
    return _parts(
        stage_analyses(),
        lambda a: (a.overall, *a.by_center, *a.by_line, *a.by_zone, *a.by_mode),
    )


def trip_rules() -> st.SearchStrategy[TripRule]:
    """Trip rules of 0–10 trips per result and per materials, a cost per trip for every zone,
    with or without a reference."""
    return st.builds(
        TripRule,
        cost_per_trip=st.tuples(*(st.integers(0, 100_000) for _ in Zone)).map(
            lambda fen: {z: Money.from_fen(f) for z, f in zip(Zone, fen, strict=True)}
        ),
        trips_per_result=st.integers(0, 10),
        trips_per_materials=st.integers(0, 10),
        reference=st.none() | st.just("最多跑一次 问卷调查 2018"),
    )


@st.composite
def trips_saved(draw: st.DrawFn) -> TripsSaved:
    """Trips and cost saved by up to 8 applications of a catalogue under a drawn rule."""
    catalogue = draw(service_catalogues())
    batch = draw(st.lists(applications(catalogue=catalogue), max_size=8))
    return _count_trips(
        batch, draw(trip_rules()), catalogue=catalogue, centers=[APPLICATION_CENTER]
    )


def line_trips() -> st.SearchStrategy[LineTrips]:
    """The business lines of :func:`trips_saved`."""
    return _parts(trips_saved(), lambda t: t.by_line)


# --- cooperation modes and agency services -------------------------------------------------------

_SEP_29 = datetime(2018, 9, 29, 10, tzinfo=SHANGHAI)  # a worked Saturday (调休), 10:00


def manifest_waybills() -> st.SearchStrategy[str]:
    """Valid S10 waybills, as manifests list them, from a pool of 41 so that two draws often
    meet."""
    return st.integers(0, 40).map(lambda i: _waybill(i).value)


def pickup_schedules() -> st.SearchStrategy[PickupSchedule]:
    """Schedules of 1–3 times a day on working days, or a weekly rule, starting in 2018–2025."""
    starts = st.dates(min_value=date(2018, 1, 1), max_value=date(2025, 6, 30))
    times = st.lists(
        st.builds(time, st.integers(7, 19), st.sampled_from([0, 15, 30, 45])),
        min_size=1,
        max_size=3,
    )
    daily = st.builds(PickupSchedule.working_days, times, starts=starts)
    weekly = st.builds(
        lambda days, hour, start: PickupSchedule(
            rules=f"FREQ=WEEKLY;BYDAY={','.join(days)};BYHOUR={hour};BYMINUTE=0", starts=start
        ),
        st.lists(st.sampled_from(["MO", "TU", "WE", "TH", "FR", "SA"]), min_size=1, unique=True),
        st.integers(8, 17),
        starts,
    )
    return st.one_of(daily, weekly)


def pickup_runs() -> st.SearchStrategy[PickupRun]:
    """Pickups (door pickup) and handovers (government agent) of any center at any time."""
    return st.builds(
        PickupRun,
        center=center_codes(),
        scheduled_at=aware_datetimes(),
        mode=st.sampled_from([CooperationMode.DOOR_PICKUP, CooperationMode.GOVERNMENT_AGENT]),
    )


def acknowledgements() -> st.SearchStrategy[Acknowledgement]:
    """Signatures on a manifest, at a whole second of 2018 (Asia/Shanghai)."""
    return st.builds(
        Acknowledgement,
        name=st.sampled_from(_NAMES),
        at=st.datetimes(min_value=datetime(2018, 1, 1), max_value=datetime(2018, 12, 31)).map(
            lambda d: d.replace(microsecond=0, tzinfo=SHANGHAI)
        ),
    )


def manifest_items() -> st.SearchStrategy[ManifestItem]:
    """Pieces on a manifest: a waybill of :func:`manifest_waybills`, a weight and, sometimes,
    our order id."""
    return st.builds(
        ManifestItem,
        waybill=manifest_waybills(),
        weight_g=st.integers(1, 5_000),
        shipment_id=st.none() | st.from_regex(r"GP-[0-9]{6}", fullmatch=True),
    )


def handover_manifests() -> st.SearchStrategy[HandoverManifest]:
    """Manifests of up to 12 pieces (distinct waybills) handed over on 29 September 2018,
    signed by none, one or both sides."""
    return st.builds(
        HandoverManifest,
        manifest_id=st.from_regex(r"GZ-52[0-9]{4}-2018[0-9]{4}T[0-9]{4}", fullmatch=True),
        center=st.sampled_from(["GZ-520100", "GZ-520200", "GZ-522700"]),
        mode=st.sampled_from([CooperationMode.DOOR_PICKUP, CooperationMode.GOVERNMENT_AGENT]),
        scheduled_at=st.just(_SEP_29),
        items=st.lists(manifest_items(), max_size=12, unique_by=lambda i: i.waybill),
        handed_over=st.none() | acknowledgements(),
        received=st.none() | acknowledgements(),
    )


def pickup_scans(waybills: st.SearchStrategy[str] | None = None) -> st.SearchStrategy[PickupScan]:
    """Pickup scans of a waybill of ``waybills`` (:func:`manifest_waybills` when not given),
    within 4 hours of the handover, with or without a weight and an event id."""
    return st.builds(
        PickupScan,
        waybill=waybills if waybills is not None else manifest_waybills(),
        scanned_at=st.integers(0, 240).map(lambda m: _SEP_29 + timedelta(minutes=m)),
        weight_g=st.none() | st.integers(1, 5_000),
        event_id=st.none() | st.from_regex(r"ev-[0-9a-f]{6}", fullmatch=True),
    )


@st.composite
def pickup_scans_for(draw: st.DrawFn, manifest: HandoverManifest) -> list[PickupScan]:
    """Scans that meet ``manifest``, in any order: some of its pieces (near or far from their
    weight, some twice) and some pieces not on it."""
    scans = []
    for item in manifest.items:
        for _ in range(draw(st.sampled_from([0, 1, 1, 1, 2]))):
            weight = draw(st.none() | st.integers(max(1, item.weight_g - 30), item.weight_g + 30))
            scans.append(
                PickupScan(
                    waybill=item.waybill,
                    scanned_at=_SEP_29 + timedelta(minutes=draw(st.integers(0, 240))),
                    weight_g=weight,
                )
            )
    scans.extend(draw(st.lists(pickup_scans(), max_size=4)))
    return draw(st.permutations(scans))


@st.composite
def pickup_reconciliations(draw: st.DrawFn) -> PickupReconciliation:
    """Manifests reconciled with :func:`pickup_scans_for` them, within 0–40 grams."""
    manifest = draw(handover_manifests())
    scans = draw(pickup_scans_for(manifest))
    return reconcile_pickup(manifest, scans, tolerance_g=draw(st.integers(0, 40)))


def pickup_matches() -> st.SearchStrategy[PickupMatch]:
    """Items matched with their scan by :func:`pickup_reconciliations`, within the tolerance
    or not."""
    return _parts(pickup_reconciliations(), lambda r: r.matched + r.weight_differences)


@st.composite
def counter_sessions(draw: st.DrawFn, *, max_size: int = 8) -> CounterSession:
    """A day of June 2018 at the counter of a center of :data:`SETTLEMENT_CENTERS`: up to
    ``max_size`` bookings, as :func:`shipment_batches` draws them."""
    day = date(2018, 6, 1) + timedelta(days=draw(st.integers(0, 29)))
    center = draw(st.sampled_from(SETTLEMENT_CENTERS))
    batch = draw(shipment_batches(start=day, days=1, max_size=max_size))
    return CounterSession(
        center=center, day=day, bookings=[attrs.evolve(s, center=center) for s in batch]
    )


@st.composite
def daily_close_outs(draw: st.DrawFn) -> DailyCloseOut:
    """Close-outs of :func:`counter_sessions` under :func:`per_piece_agreements`."""
    return draw(counter_sessions()).close_out(draw(per_piece_agreements()))


def close_out_lines() -> st.SearchStrategy[CloseOutLine]:
    """The pieces of :func:`daily_close_outs`."""
    return _parts(daily_close_outs(), lambda c: c.lines)


def close_out_subtotals() -> st.SearchStrategy[CloseOutSubtotal]:
    """The business-line subtotals of :func:`daily_close_outs`."""
    return _parts(daily_close_outs(), lambda c: c.by_business_line)


def agent_fees() -> st.SearchStrategy[AgentFee]:
    """Agent fees of 0.01–5.00 per piece, deductions or charges (a term of
    :func:`fee_agreements`, sometimes)."""
    return st.builds(
        AgentFee,
        per_piece=st.integers(1, 500).map(Money.from_fen),
        reference=st.sampled_from(["黔邮协〔2018〕6号 第五条", "代办协议 第三条"]),
        kind=st.sampled_from(AgentFeeKind),
        label=st.sampled_from(["包装费", "封装费"]),
    )


@st.composite
def agent_fee_adjustments(draw: st.DrawFn) -> AgentFeeAdjustment:
    """The agent fees of statements of June 2018 (as :func:`settlement_statements`): read from
    the statement when its agreement carries the fee, computed beside it (:func:`agent_fees`)
    when it does not."""
    agreement = draw(fee_agreements())
    batch = draw(shipment_batches(start=date(2018, 6, 1), days=30, max_size=8))
    statement = settle(agreement, batch, _JUNE_2018)
    return apply_agent_fee(statement, agreement.agent_fee or draw(agent_fees()))


def agent_fee_lines() -> st.SearchStrategy[AgentFeeLine]:
    """The lines of :func:`agent_fee_adjustments`."""
    return _parts(agent_fee_adjustments(), lambda a: a.lines)


def departments() -> st.SearchStrategy[Department]:
    """The police (警邮) and tax (税邮) departments of 贵阳市."""
    return st.sampled_from(
        [
            Department(code="GY-JGJ", name="贵阳市公安局交通管理局", business_line="police"),
            Department(code="GY-SWJ", name="国家税务总局贵阳市税务局", business_line="tax"),
        ]
    )


def commission_rules() -> st.SearchStrategy[CommissionRule]:
    """A fixed commission (0.00 to 20.00) or a rate (0 to 5 %, to the ten-thousandth)."""
    fixed = st.integers(0, 2_000).map(lambda f: CommissionRule(per_transaction=Money.from_fen(f)))
    rated = st.integers(0, 500).map(lambda r: CommissionRule(rate=f"{r / 10_000:.4f}"))
    return st.one_of(fixed, rated)


@st.composite
def agency_services(draw: st.DrawFn, department: Department | None = None) -> AgencyService:
    """Services of ``department`` (drawn when not given), with a fixed fee or none."""
    letters = draw(st.text(alphabet=string.ascii_uppercase, min_size=2, max_size=2))
    digits = draw(st.text(alphabet=string.digits, min_size=2, max_size=2))
    return AgencyService(
        code=f"{letters}-{digits}",
        name=draw(st.sampled_from(["补领机动车驾驶证", "交通违法罚款代收", "代征税款"])),
        department=department if department is not None else draw(departments()),
        commission=draw(commission_rules()),
        fee=draw(st.none() | st.integers(0, 50_000).map(Money.from_fen)),
    )


@st.composite
def agency_transaction_batches(
    draw: st.DrawFn, services: list[AgencyService] | None = None, *, max_size: int = 20
) -> list[AgencyTransaction]:
    """Lists of up to ``max_size`` transactions of ``services`` (drawn when not given), with
    unique ids, mostly in June 2018, collecting the service's fee or up to 100,000.00."""
    catalogue = services if services is not None else draw(st.lists(agency_services(), min_size=1))
    found = []
    for index in range(draw(st.integers(0, max_size))):
        service = draw(st.sampled_from(catalogue))
        collected = service.fee or Money.from_fen(draw(st.integers(0, 10_000_000)))
        day = draw(st.dates(min_value=date(2018, 5, 25), max_value=date(2018, 7, 5)))
        found.append(
            service.transaction(
                f"TX-{index:05d}",
                occurred_at=datetime.combine(day, time(draw(st.integers(0, 23))), SHANGHAI),
                collected=collected,
                applicant=draw(st.none() | st.sampled_from(["张三", "欧阳娜娜"])),
            )
        )
    return found


def agency_transactions() -> st.SearchStrategy[AgencyTransaction]:
    """Single transactions of :func:`agency_transaction_batches`."""
    return _parts(agency_transaction_batches(max_size=3), tuple)


@st.composite
def remittance_statements(draw: st.DrawFn) -> RemittanceStatement:
    """Statements of June 2018 of one department, built from transactions of its services and
    of another department's."""
    department = draw(departments())
    own = draw(
        st.lists(agency_services(department), min_size=1, max_size=4, unique_by=lambda s: s.code)
    )
    other = draw(st.lists(agency_services(), max_size=2, unique_by=lambda s: s.code))
    codes = {s.code for s in own}
    offered = own + [s for s in other if s.code not in codes]
    transactions = draw(agency_transaction_batches(offered))
    return RemittanceStatement.build(department, offered, transactions, Period.month(2018, 6))


def remittance_lines() -> st.SearchStrategy[RemittanceLine]:
    """The lines of :func:`remittance_statements`."""
    return _parts(remittance_statements(), lambda s: s.lines)


def remittance_subtotals() -> st.SearchStrategy[RemittanceSubtotal]:
    """The per-service subtotals of :func:`remittance_statements`."""
    return _parts(remittance_statements(), lambda s: s.by_service)


def remittance_exclusions() -> st.SearchStrategy[RemittanceExclusions]:
    """What :func:`remittance_statements` left out, and why."""
    return _parts(remittance_statements(), lambda s: s.excluded)
