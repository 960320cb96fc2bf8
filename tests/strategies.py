"""Hypothesis strategies for every govpost model, shared by the property tests.

Each section belongs to one module of govpost; keep strategies next to their section.
"""

from __future__ import annotations

import string
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

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
    ReturnPolicy,
    Surcharge,
    SurchargeKind,
    Underuse,
    WeightTariff,
    ZonePrice,
    ZoneStep,
)
from govpost.calendar import WorkCalendar
from govpost.carriers import (
    Booking,
    BookingRequest,
    PushMessage,
    Quote,
    QuoteRequest,
)
from govpost.carriers.ems import EmsConfig, EmsReply, OpCode, WireRequest
from govpost.carriers.journal import JournalEntry, JournalState
from govpost.carriers.transport import HttpReply
from govpost.carriers.webhooks import WithheldEvent
from govpost.centers import BusinessLine, Channel, CooperationMode, ServiceCenter
from govpost.identifiers import TrackingNumber
from govpost.money import Money
from govpost.regions import Division, Zone
from govpost.settlement import (
    BillRow,
    BudgetPosition,
    CarrierBill,
    CenterShare,
    Exclusions,
    FeeType,
    LumpSumPosition,
    Period,
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
    StageDurations,
    TrackingEvent,
)

# --- money -------------------------------------------------------------------------------------

currencies = st.sampled_from(["CNY", "USD", "HKD"])

#: Decimal amounts of up to 6 decimal places, within +/- 10^9 yuan.
amounts = st.decimals(
    min_value=Decimal("-1e9"),
    max_value=Decimal("1e9"),
    allow_nan=False,
    allow_infinity=False,
    places=6,
)

#: Whole-fen amounts, the kind that appear on statements.
fen_amounts = st.integers(min_value=-(10**11), max_value=10**11).map(
    lambda f: Decimal(f).scaleb(-2)
)


def money(currency: str = "CNY", *, whole_fen: bool = False) -> st.SearchStrategy[Money]:
    """Money in one currency; ``whole_fen`` restricts to amounts with at most 2 decimals."""
    return (fen_amounts if whole_fen else amounts).map(lambda a: Money(a, currency))


weights = st.one_of(
    st.integers(min_value=0, max_value=10**6),
    st.decimals(min_value=0, max_value=10**6, places=3, allow_nan=False, allow_infinity=False),
)

# --- regions -----------------------------------------------------------------------------------

#: Real codes of every level, including municipalities and renamed or abolished codes.
DIVISION_CODES = (
    "110000", "110105", "110108", "120101", "310104", "310115", "500101", "500230",
    "520000", "520100", "520102", "520103", "520115", "520200", "520201", "520114",
    "522301", "522601", "429004", "440300", "440305", "330100", "330106",
)  # fmt: skip


def divisions() -> st.SearchStrategy[Division]:
    """Divisions drawn from a fixed list of real codes (province, city, county)."""
    return st.sampled_from(DIVISION_CODES).map(Division.parse)


# --- identifiers -------------------------------------------------------------------------------

#: Region codes of real counties: 朝阳区, 南明区, 观山湖区 (created 2012), 浦东新区 (1992).
ID_REGION_CODES = ("110105", "520102", "520115", "310115")

#: Mobile prefixes that the phonenumbers metadata accepts for every 8-digit suffix.
MOBILE_PREFIXES = (
    *(str(p) for p in range(130, 140)),
    *("150", "151", "152", "153", "155", "156", "157", "158", "159"),
    *(str(p) for p in range(180, 190)),
    *("176", "177", "178", "199"),
)


def s10_check(serial: str) -> int:
    """The S10 check digit, written independently of govpost for the tests to compare."""
    remainder = sum(int(d) * w for d, w in zip(serial, (8, 6, 4, 2, 3, 5, 9, 7), strict=True)) % 11
    return {0: 5, 1: 0}.get(remainder, 11 - remainder)


def s10_numbers() -> st.SearchStrategy[TrackingNumber]:
    """Valid UPU S10 numbers: any service letters, serial and country, the right check digit."""
    letters = st.text(alphabet=string.ascii_uppercase, min_size=2, max_size=2)
    serials = st.text(alphabet=string.digits, min_size=8, max_size=8)
    return st.builds(
        lambda service, serial, country: TrackingNumber(
            value=f"{service}{serial}{s10_check(serial)}{country}"
        ),
        letters,
        serials,
        letters,
    )


def id_check(first17: str) -> str:
    """GB 11643 check character, as python-stdnum writes ISO 7064 MOD 11-2 (not govpost's way)."""
    remainder = (1 - 2 * int(first17, 13)) % 11
    return "X" if remainder == 10 else str(remainder)


def id_numbers() -> st.SearchStrategy[str]:
    """Valid 18-character resident ID numbers: known regions, births 1900-2020, any sequence."""

    def build(region: str, born: date, sequence: int) -> str:
        first17 = f"{region}{born:%Y%m%d}{sequence:03d}"
        return first17 + id_check(first17)

    return st.builds(
        build,
        st.sampled_from(ID_REGION_CODES),
        st.dates(min_value=date(1900, 1, 1), max_value=date(2020, 12, 31)),
        st.integers(min_value=0, max_value=999),
    )


def mobiles() -> st.SearchStrategy[str]:
    """Valid mainland mobile numbers as 11 ASCII digits."""
    return st.builds(
        str.__add__,
        st.sampled_from(MOBILE_PREFIXES),
        st.text(alphabet=string.digits, min_size=8, max_size=8),
    )


# --- centers and shipments ---------------------------------------------------------------------

SHANGHAI = ZoneInfo("Asia/Shanghai")

center_codes = st.from_regex(r"[A-Z]{2}-[0-9]{6}(-[0-9]{2})?", fullmatch=True)


@st.composite
def service_centers(draw: st.DrawFn) -> ServiceCenter:
    """Valid centers, cooperating or not (mode=None then has no channels or lines)."""
    mode = draw(st.none() | st.sampled_from(CooperationMode))
    cooperating = mode is not None
    return ServiceCenter(
        code=draw(center_codes),
        name=draw(st.text(alphabet="贵阳市南明区政务服务中心", min_size=1, max_size=12)),
        division=draw(divisions()),
        mode=mode,
        channels=draw(st.frozensets(st.sampled_from(Channel))) if cooperating else frozenset(),
        business_lines=(
            draw(st.frozensets(st.sampled_from(BusinessLine))) if cooperating else frozenset()
        ),
    )


#: Aware datetimes between 2018 and 2026 at a whole second, in a few real offsets.
aware_datetimes = st.datetimes(
    min_value=datetime(2018, 1, 1),
    max_value=datetime(2026, 12, 31),
    timezones=st.sampled_from([SHANGHAI, UTC, timezone(timedelta(hours=-5))]),
).map(lambda d: d.replace(microsecond=0))

recipients = st.builds(
    Recipient,
    name=st.sampled_from(["张三", "欧阳娜娜", "李四光", "王五", "诸葛亮"]),
    mobile=st.none() | mobiles(),
    address=st.none()
    | st.sampled_from(["贵州省贵阳市南明区中华南路1号", "北京市朝阳区建国路88号"]),
)


@st.composite
def shipments(draw: st.DrawFn, *, picked_up: bool | None = None) -> Shipment:
    """Valid shipments; ``picked_up`` forces (True) or forbids (False) a pickup time."""
    created = draw(aware_datetimes)
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
        center=draw(center_codes),
        business_line=draw(st.sampled_from(BusinessLine)),
        direction=draw(st.sampled_from(Direction)),
        origin=draw(divisions()),
        destination=draw(divisions()),
        weight_g=draw(st.integers(1, 30_000)),
        created_at=created,
        recipient=draw(st.none() | recipients),
        declared_value=draw(st.none() | money(whole_fen=True).filter(lambda m: m.amount > 0)),
        return_receipt=draw(st.booleans()),
        tracking_number=draw(st.none() | s10_numbers()),
        application_ref=draw(st.none() | st.from_regex(r"BJ[0-9]{10}", fullmatch=True)),
        status=status,
        picked_up_at=pickup,
        returned_at=returned,
    )


@st.composite
def tracking_events(draw: st.DrawFn, waybill: TrackingNumber | None = None) -> TrackingEvent:
    """Tracking events of one waybill (drawn when not given), some of them revocations."""
    return TrackingEvent(
        event_id=draw(st.from_regex(r"ev-[0-9a-f]{6}", fullmatch=True)),
        tracking_number=waybill or draw(s10_numbers()),
        status=draw(st.sampled_from(ShipmentStatus)),
        occurred_at=draw(aware_datetimes),
        location=draw(st.none() | st.sampled_from(["贵阳市南明区营业部", "北京处理中心"])),
        carrier_code=draw(st.none() | st.sampled_from(["203", "305", "704", "743"])),
        description=draw(st.none() | st.just("已签收")),
        revokes=draw(st.none() | st.sampled_from([REVOKE_PREVIOUS, "ev-000000"])),
    )


@st.composite
def tracked_shipments(draw: st.DrawFn) -> Shipment:
    """Booked shipments with a few events applied (anomalies included)."""
    base = draw(shipments(picked_up=False))
    waybill = draw(s10_numbers())
    booked = attrs.evolve(base, tracking_number=waybill, status=ShipmentStatus.CREATED)
    events = draw(st.lists(tracking_events(waybill), max_size=5))
    events = [e for e in events if e.occurred_at >= booked.created_at]
    return booked.apply(*events)


# --- agreements and settlement -----------------------------------------------------------------


SHANGHAI = ZoneInfo("Asia/Shanghai")

#: The centers the settlement strategies' agreements cover, and one they do not.
SETTLEMENT_CENTERS = ("GZ-520100", "GZ-520200", "GZ-522301")
OTHER_CENTER = "GZ-999999"

#: Origin → destination pairs of each zone, all from 贵阳市 南明区 (520102).
ZONE_DESTINATIONS = {
    Zone.SAME_CITY: ("520103", "520115"),
    Zone.IN_PROVINCE: ("520201", "522301", "522601"),
    Zone.OUT_OF_PROVINCE: ("110105", "310115", "440305"),
}

#: Small fees in whole fen, from 0.01 to 50.00 yuan.
fees = st.integers(min_value=1, max_value=5_000).map(Money.from_fen)


@st.composite
def zone_steps(draw: st.DrawFn, zone: Zone | None = None) -> ZoneStep:
    """Any 首重/续重 prices of one zone (no ordering between zones implied)."""
    return ZoneStep(
        zone=zone if zone is not None else draw(st.sampled_from(Zone)),
        first_g=draw(st.sampled_from([100, 250, 500, 1000, 2000]) | st.integers(1, 5000)),
        first_fee=draw(fees),
        step_g=draw(st.sampled_from([100, 250, 500, 1000]) | st.integers(1, 3000)),
        step_fee=draw(fees),
    )


@st.composite
def weight_tariffs(draw: st.DrawFn) -> WeightTariff:
    """Valid weight tariffs: the same first weight and step everywhere, fees rising by zone."""
    first_g = draw(st.sampled_from([250, 500, 1000]))
    step_g = draw(st.sampled_from([250, 500, 1000]))
    first = sorted(draw(st.lists(fees, min_size=3, max_size=3)))
    step = sorted(draw(st.lists(fees, min_size=3, max_size=3)))
    return WeightTariff(
        zones=[
            ZoneStep(zone=z, first_g=first_g, first_fee=f, step_g=step_g, step_fee=s)
            for z, f, s in zip(Zone, first, step, strict=True)
        ]
    )


@st.composite
def flat_tariffs(draw: st.DrawFn) -> FlatTariff:
    """Flat tariffs, sometimes with rising per-zone prices."""
    prices = sorted(draw(st.lists(fees, min_size=3, max_size=3)))
    if draw(st.booleans()):
        return FlatTariff(price=prices[0])
    return FlatTariff(
        price=prices[0],
        zone_prices=[ZonePrice(zone=z, price=p) for z, p in zip(Zone, prices, strict=True)],
    )


tariffs = st.one_of(weight_tariffs(), flat_tariffs())


@st.composite
def rate_cards(draw: st.DrawFn, *, start: date = date(2018, 1, 1)) -> RateCard:
    """Contiguous, effective-dated rate cards from ``start``, open-ended, 1–3 rates."""
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
                tariff=draw(tariffs),
                insurance=Insurance(
                    rate=draw(st.sampled_from(["0.005", "0.01", "0.003"])), minimum=draw(fees)
                ),
                return_receipt=draw(fees),
            )
        )
    return RateCard(name="test card", rates=rates)


discounts = st.sampled_from(["0", "0.1", "0.15", "0.05", "0.125"]).map(Decimal)


@st.composite
def per_piece_agreements(
    draw: st.DrawFn,
    *,
    valid_from: date = date(2018, 1, 1),
    return_policy: ReturnPolicy | None = None,
    budget: Budget | None = None,
) -> FeeAgreement:
    """Per-piece agreements over the settlement centers, covering some lines and directions."""
    covers = draw(st.sets(st.sampled_from(Coverage.all()), min_size=1))
    return FeeAgreement(
        id="GZ-EMS-TEST",
        carrier="ems",
        reference="黔政办〔2018〕1号",
        centers=set(SETTLEMENT_CENTERS),
        covers=covers,
        mode=PerPiece(tariff=draw(rate_cards()), discount=draw(discounts)),
        valid_from=valid_from,
        budget=budget,
        return_policy=return_policy or draw(st.sampled_from(ReturnPolicy)),
    )


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


def _tracking(index: int) -> TrackingNumber:
    serial = f"{index:08d}"
    return TrackingNumber(value=f"EA{serial}{s10_check(serial)}CN")


@st.composite
def billing_shipments(
    draw: st.DrawFn,
    index: int,
    *,
    start: date = date(2018, 1, 1),
    days: int = 365,
) -> Shipment:
    """A shipment for settlement tests: unique id and waybill from ``index``; picked up (or not)
    on a day in ``[start, start + days)`` in Asia/Shanghai; sometimes returned, cancelled,
    insured (every test rate card offers insurance), from another center."""
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
        destination=draw(st.sampled_from(ZONE_DESTINATIONS[zone])),
        weight_g=draw(st.integers(1, 5_000)),
        created_at=created,
        return_receipt=draw(st.booleans()),
        declared_value=draw(st.none() | st.integers(1, 300_000).map(Money.from_fen)),
        tracking_number=_tracking(index) if draw(st.booleans()) else None,
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
    """Lists of shipments with unique ids and waybills (numbered from ``offset``)."""
    size = draw(st.integers(0, max_size))
    return [draw(billing_shipments(offset + i, start=start, days=days)) for i in range(size)]


@st.composite
def lump_sum_agreements(draw: st.DrawFn, *, budget: Budget | None = None) -> FeeAgreement:
    """Lump-sum agreements: any amount, quota (or none), flat or weight overage, policy."""
    quota = draw(st.none() | st.integers(1, 20))
    underuse = Underuse.KEEP if quota is None else draw(st.sampled_from(Underuse))
    overage = None if quota is None else draw(st.none() | tariffs)
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
    )


#: Agreements of either settlement mode.
any_agreements = st.one_of(per_piece_agreements(), lump_sum_agreements())


# --- carriers ----------------------------------------------------------------------------------


#: Destinations from 南明区 (520102) by zone: same city, in province, out of province.
CARRIER_DESTINATIONS = ["520103", "520111", "520302", "522601", "110105", "310115", "530102"]


@st.composite
def booking_requests(draw: st.DrawFn, *, order_id: str | None = None) -> BookingRequest:
    """Booking requests from 贵阳 to any zone, created at any minute of 2024 (Asia/Shanghai)."""
    created = datetime(2024, 1, 1, tzinfo=ZoneInfo("Asia/Shanghai")) + timedelta(
        minutes=draw(st.integers(0, 365 * 24 * 60 - 1))
    )
    shipment = Shipment(
        id=order_id or f"BK-{draw(st.integers(0, 10**9)):09d}",
        center="GZ-520100",
        business_line=draw(st.sampled_from(BusinessLine)),
        direction=draw(st.sampled_from(Direction)),
        origin="520102",
        destination=draw(st.sampled_from(CARRIER_DESTINATIONS)),
        weight_g=draw(st.integers(1, 30_000)),
        created_at=created,
        recipient=Recipient(name="张三", mobile="13800138000", address="贵州省贵阳市南明区1号"),
        declared_value=draw(st.none() | st.integers(1, 10_000).map(Money)),
    )
    sender = Recipient(name="贵阳市政务服务中心", mobile="13885000000", address="贵阳市市府路1号")
    return BookingRequest(shipment=shipment, sender=sender)


# --- wire format: a strategy for every public model --------------------------------------------

JUNE_2018 = Period.month(2018, 6)

#: Short texts of any script (never a lone surrogate: Hypothesis does not draw them).
free_texts = st.text(min_size=1, max_size=40).filter(lambda t: t.strip() == t and t.strip())


def periods() -> st.SearchStrategy[Period]:
    """Months, quarters and years between 2000 and 2030."""
    years = st.integers(2000, 2030)
    return st.one_of(
        st.builds(Period.month, years, st.integers(1, 12)),
        st.builds(Period.quarter, years, st.integers(1, 4)),
        st.builds(Period.year, years),
    )


def tracking_numbers() -> st.SearchStrategy[TrackingNumber]:
    """UPU S10 numbers and 13-digit domestic EMS numbers."""
    domestic = st.text(alphabet=string.digits, min_size=13, max_size=13).map(
        lambda digits: TrackingNumber(value=digits)
    )
    return st.one_of(s10_numbers(), domestic)


anomalies = st.builds(
    Anomaly,
    st.from_regex(r"ev-[0-9a-f]{6}", fullmatch=True),
    st.sampled_from(
        ["conflicts with another event of the same id", "DELIVERED → IN_TRANSIT is not allowed"]
    ),
)

coverages = st.builds(
    Coverage, business_line=st.sampled_from(BusinessLine), direction=st.sampled_from(Direction)
)
budgets = st.builds(Budget, annual=st.integers(1, 10**9).map(Money.from_fen), strict=st.booleans())
insurances = st.builds(Insurance, rate=st.sampled_from(["0.005", "0.01", "0.003"]), minimum=fees)
zone_prices = st.builds(ZonePrice, zone=st.sampled_from(Zone), price=fees)
surcharges = st.builds(Surcharge, kind=st.sampled_from(SurchargeKind), amount=fees)
per_pieces = st.builds(PerPiece, tariff=rate_cards(), discount=discounts)
lump_sums = lump_sum_agreements().map(lambda agreement: agreement.mode)
rates = rate_cards().map(lambda card: card.rates[0])


@st.composite
def settlement_statements(
    draw: st.DrawFn, *, lump_sum: bool | None = None, budget: bool | None = None
) -> SettlementStatement:
    """Statements of June 2018 for a small batch; ``lump_sum`` and ``budget`` force (True) or
    forbid (False) a lump-sum agreement and a budget."""
    with_budget = draw(st.booleans()) if budget is None else budget
    annual = Budget(annual=Money("100000"), strict=False) if with_budget else None
    lump = draw(st.booleans()) if lump_sum is None else lump_sum
    agreement = draw(
        lump_sum_agreements(budget=annual) if lump else per_piece_agreements(budget=annual)
    )
    batch = draw(shipment_batches(start=date(2018, 6, 1), days=30, max_size=8))
    return settle(agreement, batch, JUNE_2018)


def _parts(
    statements: st.SearchStrategy[SettlementStatement], part: Callable[[SettlementStatement], Any]
) -> st.SearchStrategy[Any]:
    """One of the parts ``part`` picks from a statement (a tuple, a value or None)."""

    def pick(statement: SettlementStatement) -> st.SearchStrategy[Any]:
        found = part(statement)
        items = found if isinstance(found, tuple) else () if found is None else (found,)
        return st.sampled_from(items) if items else st.nothing()

    return statements.flatmap(pick)


statement_lines = _parts(settlement_statements(), lambda s: tuple(s.lines))
fee_breakdowns = st.builds(
    lambda rate, zone, weight_g, declared, receipt, discount: rate.quote(
        zone=zone,
        weight_g=weight_g,
        declared_value=declared,
        return_receipt=receipt,
        discount=discount,
    ),
    rates,
    st.sampled_from(Zone),
    st.integers(1, 30_000),
    st.none() | fees,
    st.booleans(),
    discounts,
)
subtotals = _parts(settlement_statements(), lambda s: s.by_center + s.by_zone)
lump_sum_positions = _parts(settlement_statements(lump_sum=True), lambda s: s.lump_sum)
budget_positions = _parts(settlement_statements(budget=True), lambda s: s.budget)
exclusions = _parts(settlement_statements(), lambda s: s.excluded)
center_shares = st.builds(
    split,
    st.integers(0, 10**8).map(Money.from_fen),
    st.dictionaries(st.sampled_from(SETTLEMENT_CENTERS), st.integers(1, 50), min_size=1),
)

bill_rows = st.builds(
    BillRow,
    line_no=st.integers(2, 10_000),
    waybill=st.none() | s10_numbers().map(str),
    pickup_date=st.dates(date(2018, 1, 1), date(2026, 12, 31)),
    weight_g=st.none() | st.integers(1, 30_000),
    destination=st.none() | st.sampled_from(DIVISION_CODES),
    zone=st.none() | st.sampled_from(Zone),
    fee_type=st.sampled_from(FeeType),
    amount=st.integers(-50_000, 50_000).map(Money.from_fen),
)
carrier_bills = st.builds(CarrierBill, rows=st.lists(bill_rows, max_size=5).map(tuple))


@st.composite
def reconciliation_reports(draw: st.DrawFn) -> ReconciliationReport:
    """A statement reconciled with its expected bill, some rows dropped and some invented."""
    statement = draw(settlement_statements())
    rows = [r for r in CarrierBill.from_statement(statement).rows if draw(st.booleans())]
    rows += draw(st.lists(bill_rows, max_size=2))
    numbered = tuple(attrs.evolve(r, line_no=i + 2) for i, r in enumerate(rows))
    return reconcile(statement, CarrierBill(rows=numbered, currency=statement.currency))


reconciliation_items = _parts(reconciliation_reports(), lambda r: r.items)

carrier_names = st.sampled_from(["sandbox", "ems", "acme"])
carrier_answers = st.none() | st.text(max_size=200)

quote_requests = st.builds(
    QuoteRequest,
    origin=st.just("520102"),
    destination=st.sampled_from(CARRIER_DESTINATIONS),
    weight_g=st.integers(1, 30_000),
    declared_value=st.none() | fees,
)
quotes = st.builds(
    Quote,
    carrier=carrier_names,
    amount=fees,
    zone=st.sampled_from(Zone),
    raw=carrier_answers,
)
bookings = st.builds(
    Booking,
    carrier=carrier_names,
    order_id=st.from_regex(r"GZ-[0-9]{6}-[0-9]{6}", fullmatch=True),
    tracking_number=tracking_numbers(),
    booked_at=aware_datetimes,
    duplicate=st.booleans(),
    raw=carrier_answers,
)
push_messages = st.builds(
    PushMessage,
    message_id=st.none() | st.from_regex(r"[0-9a-f]{8,32}", fullmatch=True),
    events=st.lists(tracking_events(), max_size=4).map(tuple),
)


@st.composite
def noted_booking_requests(draw: st.DrawFn) -> BookingRequest:
    """Booking requests with any contents and, sometimes, a note for the courier."""
    request = draw(booking_requests())
    return attrs.evolve(
        request, contents=draw(free_texts), pickup_notes=draw(st.none() | free_texts)
    )


#: A strategy for every public model of govpost that has a wire form: the wire-format tests
#: round-trip and fuzz each. A new public attrs class must be added here or to
#: :data:`NOT_WIRE_MODELS`, or ``tests/test_serialization.py`` fails.
WIRE_MODELS: dict[type, st.SearchStrategy[Any]] = {
    Anomaly: anomalies,
    BillRow: bill_rows,
    Booking: bookings,
    BookingRequest: noted_booking_requests(),
    Budget: budgets,
    BudgetPosition: budget_positions,
    CarrierBill: carrier_bills,
    CenterShare: center_shares.flatmap(st.sampled_from),
    Coverage: coverages,
    Division: divisions(),
    Exclusions: exclusions,
    FeeAgreement: any_agreements,
    FeeBreakdown: fee_breakdowns,
    FlatTariff: flat_tariffs(),
    Insurance: insurances,
    LumpSum: lump_sums,
    LumpSumPosition: lump_sum_positions,
    Money: money(),
    PerPiece: per_pieces,
    Period: periods(),
    PushMessage: push_messages,
    Quote: quotes,
    QuoteRequest: quote_requests,
    Rate: rates,
    RateCard: rate_cards(),
    Recipient: recipients,
    ReconciliationItem: reconciliation_items,
    ReconciliationReport: reconciliation_reports(),
    ServiceCenter: service_centers(),
    SettlementStatement: settlement_statements(),
    Shipment: st.one_of(shipments(), tracked_shipments()),
    StatementLine: statement_lines,
    Subtotal: subtotals,
    Surcharge: surcharges,
    TrackingEvent: tracking_events(),
    TrackingNumber: tracking_numbers(),
    WeightTariff: weight_tariffs(),
    ZonePrice: zone_prices,
    ZoneStep: zone_steps(),
}

#: Public attrs classes that are deliberately not wire documents, and why.
NOT_WIRE_MODELS: dict[type, str] = {
    WorkCalendar: "built from its data package and overrides (WorkCalendar.china()), not read",
    DeliveryTimeLimits: "holds a WorkCalendar; keep the days by zone in your own settings",
    StageDurations: "derived from a shipment and a calendar (StageDurations.of); recompute it",
    HttpReply: "one HTTP answer inside the carrier transport, never stored",
    EmsConfig: "holds the EMS credentials (authorization, signKey): never written out",
    EmsReply: "the frame of one EMS answer, read by the EMS parsers; Booking.raw keeps the text",
    WireRequest: "one sealed EMS request inside the adapter, never stored",
    OpCode: "a row of the EMS operation-code table, which is code, not data",
}


@st.composite
def journal_entries(draw: st.DrawFn) -> JournalEntry:
    """Booking-journal entries in each state; a booked one holds a booking of its own order."""
    key = draw(st.from_regex(r"GZ-[0-9]{6}-[0-9]{6}", fullmatch=True))
    state = draw(st.sampled_from(JournalState))
    created = draw(aware_datetimes)
    booking = None
    if state is JournalState.BOOKED:
        booking = attrs.evolve(draw(bookings), order_id=key)
    return JournalEntry(
        key=key,
        carrier=draw(carrier_names),
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


withheld_events = st.builds(
    WithheldEvent,
    event=tracking_events(),
    reason=st.sampled_from(["unconfirmed", "stale", "ahead"]),
    detail=free_texts,
)

WIRE_MODELS[JournalEntry] = journal_entries()
WIRE_MODELS[WithheldEvent] = withheld_events


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
        st.sampled_from(ID_REGION_CODES),
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
