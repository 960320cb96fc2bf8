"""Call sites of tariffs, rate cards and fee agreements, checked by mypy (never run)."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any, assert_type
from zoneinfo import ZoneInfo

from govpost.agreements import (
    AgentFee,
    AgentFeeKind,
    Budget,
    Coverage,
    FeeAgreement,
    LumpSum,
    PerPiece,
    ReturnPolicy,
    Underuse,
)
from govpost.agreements import WeightTariff as ReexportedWeightTariff
from govpost.centers import BusinessLine
from govpost.money import Money
from govpost.periods import PeriodKind
from govpost.ratecards import Rate, RateCard
from govpost.regions import Zone
from govpost.serialization import from_toml, to_toml
from govpost.shipments import Direction, Shipment
from govpost.tariffs import (
    FeeBreakdown,
    FlatTariff,
    Insurance,
    Surcharge,
    SurchargeKind,
    Tariff,
    WeightTariff,
    ZonePrice,
    ZoneStep,
)

AT = datetime(2018, 6, 15, 9, 0, tzinfo=ZoneInfo("Asia/Shanghai"))
STEP = ZoneStep(zone=Zone.SAME_CITY, first_g=500, first_fee="8.00", step_g=500, step_fee="1")
FLAT = FlatTariff(price="12.00")
RATE = Rate(valid_from=date(2018, 1, 1), reference="R1", tariff=FLAT)
CARD = RateCard(name="EMS", rates=[RATE])


def zone_steps() -> None:
    assert_type(STEP, ZoneStep)
    assert_type(
        ZoneStep(
            zone="in_province",
            first_g=500,
            first_fee=Money("10.00"),
            step_g=500,
            step_fee=Decimal("2"),
        ),
        ZoneStep,
    )
    ZoneStep(zone=3, first_g=500, first_fee="8", step_g=500, step_fee="1")  # type: ignore[arg-type]
    ZoneStep(zone="same_city", first_g="heavy", first_fee="8", step_g=500, step_fee="1")  # type: ignore[arg-type]
    ZoneStep(zone="same_city", first_g=500.0, first_fee="8", step_g=500, step_fee="1")  # type: ignore[arg-type]
    ZoneStep(zone="same_city", first_g=500, first_fee=8.0, step_g=500, step_fee="1")  # type: ignore[arg-type]
    ZoneStep(zone="same_city", first_g=500, first_fee="8", step_g=None, step_fee="1")  # type: ignore[arg-type]
    ZoneStep(zone="same_city", first_g=500, first_fee="8", step_g=500, step_fee=[1])  # type: ignore[arg-type]
    assert_type(STEP.steps(1001), int)
    STEP.steps("1001")  # type: ignore[arg-type]
    assert_type(STEP.price(1001), Money)
    STEP.price(1.5)  # type: ignore[arg-type]


def weight_tariffs() -> None:
    assert_type(WeightTariff(zones=[STEP]), WeightTariff)
    assert_type(WeightTariff(zones=(STEP,)), WeightTariff)
    assert_type(ReexportedWeightTariff(zones=[STEP]), WeightTariff)
    WeightTariff(zones=STEP)  # type: ignore[arg-type]
    WeightTariff(zones=["same_city"])  # type: ignore[list-item]
    uniform = WeightTariff.uniform(
        first_g=500,
        step_g=500,
        first_fee={"same_city": "8.00", Zone.IN_PROVINCE: Money("10.00")},
        step_fee={"same_city": 1, Zone.IN_PROVINCE: Decimal("2")},
    )
    assert_type(uniform, WeightTariff)
    WeightTariff.uniform(first_g=500, step_g=500, first_fee=["8.00"], step_fee={})  # type: ignore[arg-type]
    WeightTariff.uniform(first_g="500", step_g=500, first_fee={}, step_fee={})  # type: ignore[arg-type]
    WeightTariff.uniform(first_g=500, step_g=500, first_fee={1: "8"}, step_fee={})  # type: ignore[dict-item]
    assert_type(uniform.for_zone(Zone.SAME_CITY), ZoneStep)
    assert_type(uniform.for_zone("same_city"), ZoneStep)
    uniform.for_zone(1)  # type: ignore[arg-type]
    assert_type(uniform.price("same_city", 1200), Money)
    uniform.price(Zone.SAME_CITY, "1200")  # type: ignore[arg-type]
    assert_type(uniform.currency, str)


def flat_tariffs() -> None:
    assert_type(ZonePrice(zone="out_of_province", price="15.00"), ZonePrice)
    assert_type(ZonePrice(zone=Zone.OUT_OF_PROVINCE, price=Money(15)), ZonePrice)
    ZonePrice(zone=None, price="15.00")  # type: ignore[arg-type]
    ZonePrice(zone="out_of_province", price=15.0)  # type: ignore[arg-type]
    assert_type(FLAT, FlatTariff)
    far = ZonePrice(zone="out_of_province", price="15.00")
    assert_type(FlatTariff(price=Decimal("12"), zone_prices=[far]), FlatTariff)
    FlatTariff(price=12.5)  # type: ignore[arg-type]
    FlatTariff(price="12", zone_prices=far)  # type: ignore[arg-type]
    FlatTariff(price="12", zone_prices={"out_of_province": "15"})  # type: ignore[dict-item]
    assert_type(FLAT.for_zone("same_city"), Money)
    FLAT.for_zone(None)  # type: ignore[arg-type]
    tariff: Tariff = FLAT
    assert_type(tariff.currency, str)


def surcharges() -> None:
    insurance = Insurance(rate="0.005", minimum="1.00")
    assert_type(insurance, Insurance)
    assert_type(Insurance(rate=Decimal("0.01")), Insurance)
    Insurance(rate=0.005)  # type: ignore[arg-type]
    Insurance(rate="0.005", minimum=1.0)  # type: ignore[arg-type]
    assert_type(insurance.fee(Money("350")), Money)
    insurance.fee("350")  # type: ignore[arg-type]
    assert_type(SurchargeKind("insurance"), SurchargeKind)
    assert_type(SurchargeKind.INSURANCE.label, str)
    surcharge = Surcharge(kind=SurchargeKind.RETURN_RECEIPT, amount=Money("3.00"))
    assert_type(surcharge, Surcharge)
    Surcharge(kind="return_receipt", amount=Money("3.00"))  # type: ignore[arg-type]
    Surcharge(kind=SurchargeKind.RETURN_RECEIPT, amount="3.00")  # type: ignore[arg-type]


def fee_breakdowns() -> None:
    quote = RATE.quote(zone=Zone.SAME_CITY, weight_g=300)
    assert_type(quote, FeeBreakdown)
    assert_type(quote.postage, Money)
    assert_type(quote.surcharge(SurchargeKind.INSURANCE), Money)
    quote.surcharge("insurance")  # type: ignore[arg-type]
    assert_type(quote.explain(300), str)
    quote.explain("300 g")  # type: ignore[arg-type]
    FeeBreakdown(  # type: ignore[call-arg]
        reference="R", zone=Zone.SAME_CITY, first_g=0, first_fee=Money(1), steps=0
    )


def rates() -> None:
    assert_type(RATE, Rate)
    rate = Rate(
        valid_from=date(2018, 1, 1),
        valid_until=date(2018, 6, 16),
        reference="黔邮〔2018〕3号",
        tariff=WeightTariff(zones=[STEP]),
        insurance=Insurance(rate="0.005"),
        return_receipt="3.00",
    )
    assert_type(rate, Rate)
    Rate(valid_from="2018-01-01", reference="R", tariff=FLAT)  # type: ignore[arg-type]
    Rate(valid_from=date(2018, 1, 1), valid_until=AT.timestamp(), reference="R", tariff=FLAT)  # type: ignore[arg-type]
    Rate(valid_from=date(2018, 1, 1), reference=12, tariff=FLAT)  # type: ignore[arg-type]
    Rate(valid_from=date(2018, 1, 1), reference="R", tariff=CARD)  # type: ignore[arg-type]
    Rate(valid_from=date(2018, 1, 1), reference="R", tariff=FLAT, insurance="0.005")  # type: ignore[arg-type]
    Rate(valid_from=date(2018, 1, 1), reference="R", tariff=FLAT, return_receipt=3.0)  # type: ignore[arg-type]
    assert_type(rate.covers(date(2018, 6, 1)), bool)
    rate.covers("2018-06-01")  # type: ignore[arg-type]
    assert_type(
        rate.quote(
            zone="same_city",
            weight_g=1200,
            declared_value=Money("500"),
            return_receipt=True,
            discount="0.15",
        ),
        FeeBreakdown,
    )
    rate.quote(zone=Zone.SAME_CITY, weight_g=1.2)  # type: ignore[arg-type]
    rate.quote(zone=Zone.SAME_CITY, weight_g=1200, discount=0.15)  # type: ignore[arg-type]
    rate.quote(zone=Zone.SAME_CITY, weight_g=1200, declared_value="500")  # type: ignore[arg-type]


def rate_cards(shipment: Shipment, data: dict[str, Any]) -> None:
    assert_type(CARD, RateCard)
    assert_type(RateCard(name="EMS", rates=RATE), RateCard)
    assert_type(RateCard(name="EMS", rates=(RATE,)), RateCard)
    RateCard(name=None, rates=[RATE])  # type: ignore[arg-type]
    RateCard(name="EMS", rates=[FLAT])  # type: ignore[list-item]
    assert_type(RateCard.single(FLAT, reference="R1"), RateCard)
    assert_type(
        RateCard.single(
            WeightTariff(zones=[STEP]),
            reference="R1",
            valid_from=date(2018, 1, 1),
            insurance=Insurance(rate="0.01"),
            return_receipt=Decimal("3"),
            name="EMS",
        ),
        RateCard,
    )
    RateCard.single("12.00", reference="R1")  # type: ignore[arg-type]
    RateCard.single(FLAT, reference="R1", valid_from="2018-01-01")  # type: ignore[arg-type]
    assert_type(CARD.rate_on(AT), Rate)
    assert_type(CARD.rate_on(date(2018, 6, 15)), Rate)
    CARD.rate_on("2018-06-15")  # type: ignore[arg-type]
    assert_type(CARD.quote(shipment, discount=Decimal("0.1")), FeeBreakdown)
    CARD.quote("GP-1")  # type: ignore[arg-type]
    CARD.quote(shipment, discount=0.1)  # type: ignore[arg-type]
    assert_type(CARD.currency, str)


def rate_card_files(data: dict[str, Any]) -> None:
    assert_type(RateCard.from_data(data), RateCard)
    RateCard.from_data()  # type: ignore[call-arg]
    assert_type(RateCard.from_json('{"name": "EMS"}'), RateCard)
    assert_type(RateCard.from_json(b'{"name": "EMS"}'), RateCard)
    RateCard.from_json({"name": "EMS"})  # type: ignore[arg-type]
    assert_type(RateCard.from_toml('name = "EMS"'), RateCard)
    assert_type(RateCard.from_toml(b'name = "EMS"'), RateCard)
    RateCard.from_toml({"name": "EMS"})  # type: ignore[arg-type]
    assert_type(CARD.to_toml(), str)
    CARD.to_toml(indent=2)  # type: ignore[call-arg]
    assert_type(CARD.to_json(), str)
    assert_type(CARD.to_json(indent=None), str)
    CARD.to_json(indent="  ")  # type: ignore[arg-type]
    assert_type(CARD.to_data(), dict[str, Any])
    CARD.to_data("toml")  # type: ignore[call-arg]


def serialization() -> None:
    assert_type(to_toml(CARD), str)
    to_toml(CARD, indent=2)  # type: ignore[call-arg]
    assert_type(from_toml('name = "EMS"', RateCard), RateCard)
    assert_type(from_toml(b'amount = "1"', Money), Money)
    from_toml(123, RateCard)  # type: ignore[arg-type]
    from_toml('name = "EMS"', "RateCard")  # type: ignore[arg-type]


def modes() -> None:
    assert_type(PerPiece(tariff=CARD), PerPiece)
    assert_type(PerPiece(tariff=FLAT, discount="0.15"), PerPiece)
    assert_type(PerPiece(tariff=WeightTariff(zones=[STEP]), discount=Decimal("0.1")), PerPiece)
    PerPiece(tariff="12.00")  # type: ignore[arg-type]
    PerPiece(tariff=FLAT, discount=0.15)  # type: ignore[arg-type]
    assert_type(LumpSum(amount="3000.00"), LumpSum)
    lump = LumpSum(
        amount=Money("3000"),
        quota=500,
        overage=FLAT,
        overage_discount="0.1",
        underuse="pro_rata",
    )
    assert_type(lump, LumpSum)
    assert_type(LumpSum(amount=3000, quota=None, overage=CARD, underuse=Underuse.KEEP), LumpSum)
    LumpSum(amount=3000.0)  # type: ignore[arg-type]
    LumpSum(amount="3000", quota="500")  # type: ignore[arg-type]
    LumpSum(amount="3000", quota=500, overage="8.00")  # type: ignore[arg-type]
    LumpSum(amount="3000", quota=500, overage_discount=0.1)  # type: ignore[arg-type]
    LumpSum(amount="3000", quota=500, underuse=True)  # type: ignore[arg-type]


def coverage_and_budget() -> None:
    assert_type(
        Coverage(business_line=BusinessLine.LICENCE_DELIVERY, direction=Direction.OUTBOUND_RESULT),
        Coverage,
    )
    assert_type(Coverage(business_line="licence_delivery", direction="outbound_result"), Coverage)
    Coverage(business_line=1, direction="outbound_result")  # type: ignore[arg-type]
    Coverage(business_line="licence_delivery", direction=None)  # type: ignore[arg-type]
    assert_type(Coverage.all(), tuple[Coverage, ...])
    Coverage.all("licence_delivery")  # type: ignore[call-arg]
    assert_type(Budget(annual="20000.00"), Budget)
    assert_type(Budget(annual=Money("20000"), strict=False), Budget)
    Budget(annual=20000.0)  # type: ignore[arg-type]
    Budget(annual="20000", strict="no")  # type: ignore[arg-type]


def agent_fees() -> None:
    fee = AgentFee(per_piece=Money("1.00"), reference="第五条")
    assert_type(fee, AgentFee)
    assert_type(AgentFee(per_piece=Money("0.80"), reference="第六条", kind="charge"), AgentFee)
    assert_type(
        AgentFee(per_piece=Money("0.80"), reference="R", kind=AgentFeeKind.CHARGE, label="封装费"),
        AgentFee,
    )
    assert_type(fee.amount_per_piece, Money)
    assert_type(fee.kind.label, str)
    AgentFee(per_piece="1.00", reference="第五条")  # type: ignore[arg-type]
    AgentFee(per_piece=Money("1.00"), reference="第五条", kind=-1)  # type: ignore[arg-type]
    agreement = FeeAgreement(
        id="GZ-AGENT",
        carrier="ems",
        reference="R",
        centers={"GZ-522700"},
        covers=Coverage.all(),
        mode=PerPiece(tariff=FLAT, discount="0.15"),
        valid_from=date(2018, 1, 1),
        agent_fee=fee,
    )
    assert_type(agreement.agent_fee, AgentFee | None)
    FeeAgreement(
        id="GZ-AGENT",
        carrier="ems",
        reference="R",
        centers={"GZ-522700"},
        covers=Coverage.all(),
        mode=PerPiece(tariff=FLAT),
        valid_from=date(2018, 1, 1),
        agent_fee=Money("1.00"),  # type: ignore[arg-type]
    )


def agreements(shipment: Shipment) -> None:
    agreement = FeeAgreement(
        id="GZ-EMS",
        carrier="ems",
        reference="R",
        centers={"GZ-520100"},
        covers=Coverage.all(),
        mode=PerPiece(tariff=FLAT),
        period="quarter",
        valid_from=date(2018, 1, 1),
        valid_until=date(2019, 1, 1),
        budget=Budget(annual="20000"),
        return_policy="no_charge",
    )
    assert_type(agreement, FeeAgreement)
    assert_type(
        FeeAgreement(
            id="GZ-EMS",
            carrier="ems",
            reference="R",
            centers=["GZ-520100"],
            covers=Coverage(business_line="licence_delivery", direction="outbound_result"),
            mode=LumpSum(amount="3000"),
            period=PeriodKind.YEAR,
            valid_from=date(2018, 1, 1),
            return_policy=ReturnPolicy.NO_CHARGE,
        ),
        FeeAgreement,
    )
    FeeAgreement(
        id=7,  # type: ignore[arg-type]
        carrier="ems",
        reference="R",
        centers=["C"],
        covers=Coverage.all(),
        mode=PerPiece(tariff=FLAT),
        valid_from=date(2018, 1, 1),
    )
    FeeAgreement(
        id="A",
        carrier=None,  # type: ignore[arg-type]
        reference="R",
        centers=["C"],
        covers=Coverage.all(),
        mode=PerPiece(tariff=FLAT),
        valid_from=date(2018, 1, 1),
    )
    FeeAgreement(
        id="A",
        carrier="ems",
        reference=b"R",  # type: ignore[arg-type]
        centers=["C"],
        covers=Coverage.all(),
        mode=PerPiece(tariff=FLAT),
        valid_from=date(2018, 1, 1),
    )
    FeeAgreement(
        id="A",
        carrier="ems",
        reference="R",
        centers=[520100],  # type: ignore[list-item]
        covers=Coverage.all(),
        mode=PerPiece(tariff=FLAT),
        valid_from=date(2018, 1, 1),
    )
    FeeAgreement(
        id="A",
        carrier="ems",
        reference="R",
        centers=["C"],
        covers=["licence_delivery"],  # type: ignore[list-item]
        mode=PerPiece(tariff=FLAT),
        valid_from=date(2018, 1, 1),
    )
    FeeAgreement(
        id="A",
        carrier="ems",
        reference="R",
        centers=["C"],
        covers=Coverage.all(),
        mode=FLAT,  # type: ignore[arg-type]
        valid_from=date(2018, 1, 1),
    )
    FeeAgreement(
        id="A",
        carrier="ems",
        reference="R",
        centers=["C"],
        covers=Coverage.all(),
        mode=PerPiece(tariff=FLAT),
        period=3,  # type: ignore[arg-type]
        valid_from=date(2018, 1, 1),
    )
    FeeAgreement(
        id="A",
        carrier="ems",
        reference="R",
        centers=["C"],
        covers=Coverage.all(),
        mode=PerPiece(tariff=FLAT),
        valid_from=AT.isoformat(),  # type: ignore[arg-type]
    )
    FeeAgreement(
        id="A",
        carrier="ems",
        reference="R",
        centers=["C"],
        covers=Coverage.all(),
        mode=PerPiece(tariff=FLAT),
        valid_from=date(2018, 1, 1),
        budget="20000",  # type: ignore[arg-type]
    )
    FeeAgreement(
        id="A",
        carrier="ems",
        reference="R",
        centers=["C"],
        covers=Coverage.all(),
        mode=PerPiece(tariff=FLAT),
        valid_from=date(2018, 1, 1),
        return_policy=0,  # type: ignore[arg-type]
    )
    assert_type(agreement.in_force(date(2018, 6, 1)), bool)
    agreement.in_force("2018-06-01")  # type: ignore[arg-type]
    assert_type(agreement.covers_shipment(shipment), bool)
    agreement.covers_shipment("GP-1")  # type: ignore[arg-type]
    assert_type(agreement.currency, str)
