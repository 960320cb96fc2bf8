"""Rate cards, tariffs, surcharges and fee agreements (govpost.agreements)."""

from __future__ import annotations

import math
import re
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from fractions import Fraction

import attrs
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import govpost.modes
from govpost.agreements import (
    MAX_WEIGHT_G,
    AgentFee,
    AgentFeeKind,
    Budget,
    Coverage,
    FeeAgreement,
    FlatTariff,
    Insurance,
    LumpSum,
    PerPiece,
    Rate,
    RateCard,
    SurchargeKind,
    Underuse,
    WeightTariff,
    ZonePrice,
    ZoneStep,
    business_date,
)
from govpost.errors import CurrencyMismatchError, DeserializationError, ValidationError
from govpost.money import Money
from govpost.regions import Zone
from govpost.serialization import from_json, to_json
from tests.strategies import (
    SHANGHAI,
    lump_sum_agreement,
    per_piece_agreements,
    rate_cards,
    tariffs,
    weight_tariffs,
    zone_steps,
)

EMS = WeightTariff.uniform(
    first_g=500,
    step_g=500,
    first_fee={"same_city": "8.00", "in_province": "10.00", "out_of_province": "15.00"},
    step_fee={"same_city": "1.00", "in_province": "2.00", "out_of_province": "5.00"},
)

weights_g = st.integers(min_value=1, max_value=MAX_WEIGHT_G)


def card(*rates: Rate) -> RateCard:
    return RateCard(name="EMS 政务", rates=rates)


# --- worked examples -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("zone", "weight", "expected"),
    [
        (Zone.SAME_CITY, 1, "8.00"),
        (Zone.SAME_CITY, 500, "8.00"),  # exactly the first weight: no step
        (Zone.SAME_CITY, 501, "9.00"),  # one gram over starts a step
        (Zone.IN_PROVINCE, 1000, "12.00"),
        (Zone.IN_PROVINCE, 1001, "14.00"),
        (Zone.OUT_OF_PROVINCE, 2300, "35.00"),  # 15 + ceil(1800/500)=4 × 5
    ],
)
def test_step_formula_worked_examples(zone: Zone, weight: int, expected: str) -> None:
    assert EMS.price(zone, weight) == Money(expected)


def test_quote_breakdown_explains_every_part() -> None:
    rate = Rate(
        valid_from=date(2018, 1, 1),
        reference="黔邮〔2018〕12号",
        tariff=EMS,
        insurance=Insurance(rate="0.005", minimum="1.00"),
        return_receipt="3.00",
    )
    quote = rate.quote(
        zone=Zone.IN_PROVINCE,
        weight_g=1200,
        declared_value=Money("1000.00"),
        return_receipt=True,
        discount="0.15",
    )
    # postage 10 + 2 × 2 = 14.00; discount 15% = 2.10; insurance 0.5% × 1000 = 5.00; receipt 3
    assert (quote.first_fee, quote.steps, quote.step_fee) == (Money("10"), 2, Money("2"))
    assert quote.postage == Money("14.00")
    assert quote.discount == Money("-2.10")
    assert quote.surcharge(SurchargeKind.INSURANCE) == Money("5.00")
    assert quote.surcharge(SurchargeKind.RETURN_RECEIPT) == Money("3.00")
    assert quote.exact == Money("19.90")
    assert quote.amount == Money("19.90")
    assert quote.explain(1200) == (
        "省内 1200 g: 首重 10.00 + 2 × 续重 2.00 - 15% 2.10 + 保价费 5.00 + 回执费 3.00 "
        "= 19.90 → 19.90 (黔邮〔2018〕12号)"
    )


def test_discount_producing_half_fen_rounds_half_up_once() -> None:
    rate = Rate(valid_from=date(2018, 1, 1), reference="R", tariff=FlatTariff(price="12.50"))
    quote = rate.quote(zone=Zone.SAME_CITY, weight_g=10, discount="0.15")
    assert quote.exact == Money("10.625")
    assert quote.amount == Money("10.63")


def test_surcharges_are_added_exactly_and_the_line_rounded_once() -> None:
    rate = Rate(
        valid_from=date(2018, 1, 1),
        reference="R",
        tariff=FlatTariff(price="10.04"),
        insurance=Insurance(rate="0.005", minimum="1.00"),
    )
    quote = rate.quote(
        zone=Zone.SAME_CITY, weight_g=10, declared_value=Money("200.80"), discount="0.15"
    )
    # 10.04 × 0.85 = 8.534; 保价 200.80 × 0.5% = 1.004; 8.534 + 1.004 = 9.538 → 9.54. Rounding
    # the parts first would give 8.53 + 1.00 = 9.53: the line is rounded once, at the end.
    assert quote.exact == Money("9.538")
    assert quote.amount == Money("9.54")
    assert quote.explain(10) == "同城 10 g: 10.04 - 15% 1.506 + 保价费 1.004 = 9.538 → 9.54 (R)"


def test_insurance_minimum_applies_to_small_declared_values() -> None:
    insurance = Insurance(rate="0.01", minimum="2.00")
    assert insurance.fee(Money("50")) == Money("2.00")
    assert insurance.fee(Money("500")) == Money("5.00")


def test_flat_tariff_per_zone_prices() -> None:
    flat = FlatTariff(price="10.00", zone_prices=[ZonePrice(zone="out_of_province", price="18.00")])
    assert flat.for_zone(Zone.SAME_CITY) == Money("10.00")
    assert flat.for_zone(Zone.OUT_OF_PROVINCE) == Money("18.00")


def test_rate_change_on_the_16th_maps_each_instant_to_one_rate() -> None:
    rc = card(
        Rate(
            valid_from=date(2018, 1, 1),
            valid_until=date(2018, 6, 16),
            reference="old",
            tariff=FlatTariff(price="12.00"),
        ),
        Rate(valid_from=date(2018, 6, 16), reference="new", tariff=FlatTariff(price="11.00")),
    )
    # 23:59 on the 15th in Shanghai is 15:59 UTC; 00:00 on the 16th is 16:00 UTC on the 15th.
    assert rc.rate_on(datetime(2018, 6, 15, 23, 59, tzinfo=SHANGHAI)).reference == "old"
    assert rc.rate_on(datetime(2018, 6, 16, 0, 0, tzinfo=SHANGHAI)).reference == "new"
    assert rc.rate_on(datetime(2018, 6, 15, 16, 0, tzinfo=UTC)).reference == "new"
    assert rc.rate_on(datetime(2018, 6, 15, 15, 59, tzinfo=UTC)).reference == "old"


# --- bad input -------------------------------------------------------------------------------------


@pytest.mark.parametrize("weight", [0, -1, 1.5, 500.0, "500", True, MAX_WEIGHT_G + 1])
def test_bad_weights_are_refused(weight: object) -> None:
    rate = Rate(valid_from=date(2018, 1, 1), reference="R", tariff=EMS)
    with pytest.raises(ValidationError, match="weight"):
        rate.quote(zone=Zone.SAME_CITY, weight_g=weight)  # type: ignore[arg-type]


def test_float_grams_in_a_tariff_are_refused() -> None:
    with pytest.raises(ValidationError, match=r"first weight.*500\.0.*integer grams"):
        ZoneStep(zone="same_city", first_g=500.0, first_fee="8", step_g=500, step_fee="1")


def test_tariff_zones_out_of_order_are_refused_naming_the_weight() -> None:
    # 省内 is cheaper from the first gram: the error names the lightest weight, 1 g.
    with pytest.raises(ValidationError, match=r"out of order: at 1 g, 省内.*8\.00.*同城.*10\.00"):
        WeightTariff.uniform(
            first_g=500,
            step_g=500,
            first_fee={"same_city": "10.00", "in_province": "8.00"},
            step_fee={"same_city": "1.00", "in_province": "1.00"},
        )


def test_a_steeper_near_zone_is_refused_where_it_overtakes() -> None:
    # 同城 8 + 3/500 g overtakes 省内 10 + 1/500 g at 1001 g, but is cheaper below it.
    with pytest.raises(ValidationError, match=r"at 1001 g, 省内 \(in_province\) costs 12\.00"):
        WeightTariff(
            zones=[
                ZoneStep(zone="same_city", first_g=500, first_fee="8", step_g=500, step_fee="3"),
                ZoneStep(zone="in_province", first_g=500, first_fee="10", step_g=500, step_fee="1"),
            ]
        )


def test_a_zone_given_twice_is_refused() -> None:
    step = ZoneStep(zone="same_city", first_g=500, first_fee="8", step_g=500, step_fee="1")
    with pytest.raises(ValidationError, match="twice"):
        WeightTariff(zones=[step, step])


def test_flat_zone_prices_out_of_order_are_refused() -> None:
    with pytest.raises(ValidationError, match="out of order"):
        FlatTariff(price="10", zone_prices=[ZonePrice(zone="out_of_province", price="9")])


def test_overlapping_rates_are_refused() -> None:
    with pytest.raises(ValidationError, match="overlap: end the earlier one on 2018-06-10"):
        card(
            Rate(
                valid_from=date(2018, 1, 1),
                valid_until=date(2018, 6, 16),
                reference="A",
                tariff=FlatTariff(price="12"),
            ),
            Rate(valid_from=date(2018, 6, 10), reference="B", tariff=FlatTariff(price="11")),
        )


def test_open_ended_rate_followed_by_another_is_an_overlap() -> None:
    with pytest.raises(ValidationError, match="overlap"):
        card(
            Rate(valid_from=date(2018, 1, 1), reference="A", tariff=FlatTariff(price="12")),
            Rate(valid_from=date(2018, 6, 16), reference="B", tariff=FlatTariff(price="11")),
        )


def test_gap_between_rates_is_refused() -> None:
    with pytest.raises(ValidationError, match="gap from 2018-06-01 to 2018-06-16"):
        card(
            Rate(
                valid_from=date(2018, 1, 1),
                valid_until=date(2018, 6, 1),
                reference="A",
                tariff=FlatTariff(price="12"),
            ),
            Rate(valid_from=date(2018, 6, 16), reference="B", tariff=FlatTariff(price="11")),
        )


def test_date_outside_the_card_is_refused() -> None:
    rc = RateCard.single(FlatTariff(price="12"), reference="A", valid_from=date(2018, 1, 1))
    with pytest.raises(ValidationError, match="no rate on 2017-12-31"):
        rc.rate_on(date(2017, 12, 31))


def test_naive_datetime_is_refused() -> None:
    rc = RateCard.single(FlatTariff(price="12"), reference="A")
    with pytest.raises(ValidationError, match="naive"):
        rc.rate_on(datetime(2018, 6, 1, 9, 0))


def test_currency_mismatch_inside_a_tariff_is_refused() -> None:
    with pytest.raises(CurrencyMismatchError, match="CNY, USD"):
        FlatTariff(
            price=Money("10", "CNY"),
            zone_prices=[ZonePrice(zone="out_of_province", price=Money("12", "USD"))],
        )


def test_declared_value_in_another_currency_is_refused() -> None:
    rate = Rate(
        valid_from=date(2018, 1, 1),
        reference="R",
        tariff=EMS,
        insurance=Insurance(rate="0.01", minimum="1"),
    )
    with pytest.raises(CurrencyMismatchError, match="USD"):
        rate.quote(zone=Zone.SAME_CITY, weight_g=100, declared_value=Money("100", "USD"))


def test_insurance_on_a_rate_without_it_is_refused() -> None:
    rate = Rate(valid_from=date(2018, 1, 1), reference="R", tariff=EMS)
    with pytest.raises(ValidationError, match="offers no insurance"):
        rate.quote(zone=Zone.SAME_CITY, weight_g=100, declared_value=Money("100"))


@pytest.mark.parametrize("discount", ["1", "-0.1", "1.5", 0.15])
def test_bad_discounts_are_refused(discount: object) -> None:
    with pytest.raises(ValidationError, match="discount"):
        PerPiece(tariff=EMS, discount=discount)


def test_agreement_validation() -> None:
    with pytest.raises(ValidationError, match="needs a quota"):
        LumpSum(amount="100", underuse=Underuse.PRO_RATA)
    with pytest.raises(ValidationError, match="must be positive"):
        LumpSum(amount="0")
    with pytest.raises(CurrencyMismatchError, match="budget"):
        FeeAgreement(
            id="A",
            carrier="ems",
            reference="R",
            centers={"C1"},
            covers=Coverage.all(),
            mode=PerPiece(tariff=EMS),
            valid_from=date(2018, 1, 1),
            budget=Budget(annual=Money("100", "USD")),
        )
    with pytest.raises(ValidationError, match="at least one center"):
        FeeAgreement(
            id="A",
            carrier="ems",
            reference="R",
            centers=set(),
            covers=Coverage.all(),
            mode=PerPiece(tariff=EMS),
            valid_from=date(2018, 1, 1),
        )


# --- files and wire format -------------------------------------------------------------------------

TOML_CARD = """
name = "EMS 政务寄递资费"

[[rates]]
valid_from = 2018-01-01
valid_until = 2018-06-16
reference = "黔邮〔2018〕3号"
return_receipt = { amount = "3.00" }
insurance = { rate = "0.005", minimum = { amount = "1.00" } }

  [[rates.tariff.zones]]
  zone = "same_city"
  first_g = 500
  first_fee = { amount = "8.00" }
  step_g = 500
  step_fee = { amount = "1.00" }

  [[rates.tariff.zones]]
  zone = "in_province"
  first_g = 500
  first_fee = { amount = "10.00" }
  step_g = 500
  step_fee = { amount = "2.00" }

[[rates]]
valid_from = 2018-06-16
reference = "黔邮〔2018〕9号"
tariff = { price = { amount = "11.00" } }
"""


def test_rate_card_reads_toml_and_round_trips_through_json() -> None:
    rc = RateCard.from_toml(TOML_CARD)
    assert [r.reference for r in rc.rates] == ["黔邮〔2018〕3号", "黔邮〔2018〕9号"]
    assert rc.rate_on(date(2018, 6, 15)).tariff == WeightTariff.uniform(
        first_g=500,
        step_g=500,
        first_fee={"same_city": "8.00", "in_province": "10.00"},
        step_fee={"same_city": "1.00", "in_province": "2.00"},
    )
    assert rc.rate_on(date(2018, 6, 16)).tariff == FlatTariff(price="11.00")
    assert RateCard.from_json(rc.to_json()) == rc
    assert RateCard.from_data(rc.to_data()) == rc


def test_bad_rate_card_file_names_the_path_of_the_field() -> None:
    bad = TOML_CARD.replace('first_fee = { amount = "8.00" }', "first_fee = { amount = 8.0 }")
    with pytest.raises(DeserializationError, match=r"JSON string.*@ \$\.rates\[0\]\.tariff"):
        RateCard.from_toml(bad)
    with pytest.raises(DeserializationError, match="not valid TOML"):
        RateCard.from_toml("name = ")


@settings(max_examples=30)
@given(per_piece_agreements())
def test_agreements_round_trip_through_json(agreement: FeeAgreement) -> None:
    """Wire format: every agreement round-trips through JSON unchanged."""
    assert from_json(to_json(agreement), FeeAgreement) == agreement


def test_lump_sum_agreement_round_trips_through_json() -> None:
    agreement = lump_sum_agreement(overage=FlatTariff(price="5.00"), underuse=Underuse.PRO_RATA)
    assert from_json(to_json(agreement), FeeAgreement) == agreement


# --- agent fee ---------------------------------------------------------------------------------------


def test_an_agreement_carries_its_agent_fee_through_json() -> None:
    """A government agent's agreement with a packaging fee charged per piece: the fee is on the
    wire with the rest of the agreement, and comes back equal."""
    fee = AgentFee(per_piece=Money("0.80"), reference="第六条", kind="charge", label="封装费")
    agreement = attrs.evolve(lump_sum_agreement(), agent_fee=fee)
    text = to_json(agreement)
    assert (
        '"agent_fee": {"per_piece": {"amount": "0.80", "currency": "CNY"}, '
        '"reference": "第六条", "kind": "charge", "label": "封装费"}'
    ) in text
    back = from_json(text, FeeAgreement)
    assert back == agreement
    assert back.agent_fee is not None
    assert (back.agent_fee.kind, back.agent_fee.amount_per_piece) == (
        AgentFeeKind.CHARGE,
        Money("0.80"),
    )


def test_an_agreement_written_before_the_agent_fee_reads_without_one() -> None:
    agreement = lump_sum_agreement()
    old = to_json(agreement).replace(', "agent_fee": null', "")
    assert "agent_fee" not in old
    assert from_json(old, FeeAgreement).agent_fee is None
    with pytest.raises(DeserializationError, match=r"agent fee per piece -1.00 CNY is negative"):
        from_json(
            old[:-1] + ', "agent_fee": {"per_piece": {"amount": "-1.00"}, "reference": "x"}}',
            FeeAgreement,
        )


def test_agent_fee_terms_are_checked() -> None:
    assert govpost.modes.AgentFee is AgentFee
    assert govpost.modes.AgentFeeKind is AgentFeeKind
    fee = AgentFee(per_piece=Money("1.00"), reference="第五条")
    assert (fee.kind, fee.label, fee.amount_per_piece) == (
        AgentFeeKind.DEDUCTION,
        "包装费",
        Money("-1.00"),
    )
    with pytest.raises(ValidationError, match=r"agent fee per piece 0\.00 CNY is zero"):
        AgentFee(per_piece=Money("0"), reference="第五条")
    with pytest.raises(ValidationError, match="must be a Money"):
        AgentFee(per_piece="1.00", reference="第五条")  # type: ignore[arg-type]
    with pytest.raises(ValidationError, match="agent fee kind 'refund' is not a"):
        AgentFee(per_piece=Money("1.00"), reference="第五条", kind="refund")
    with pytest.raises(ValidationError, match="must be an AgentFee"):
        attrs.evolve(lump_sum_agreement(), agent_fee=Money("1.00"))
    with pytest.raises(
        CurrencyMismatchError, match=r"agent fee 1\.00 USD is not in the settlement"
    ):
        attrs.evolve(
            lump_sum_agreement(), agent_fee=AgentFee(per_piece=Money("1.00", "USD"), reference="x")
        )


# --- properties ------------------------------------------------------------------------------------


@given(zone_steps(), weights_g)
def test_step_formula_is_exact(step: ZoneStep, weight: int) -> None:
    """Tariff: fee = first + ceil(max(0, w - first_g) / step_g) × step_fee, exactly."""
    steps = math.ceil(Fraction(max(0, weight - step.first_g), step.step_g))
    expected = step.first_fee.amount + steps * step.step_fee.amount
    assert step.price(weight) == Money(expected)


@given(tariffs, st.sampled_from(Zone), weights_g, weights_g)
def test_fee_is_non_decreasing_in_weight(
    tariff: WeightTariff | FlatTariff, zone: Zone, a: int, b: int
) -> None:
    """Tariff: a heavier piece never costs less than a lighter one in the same zone."""
    rate = Rate(valid_from=date(2018, 1, 1), reference="R", tariff=tariff)
    light, heavy = sorted((a, b))
    assert (
        rate.quote(zone=zone, weight_g=light).amount <= rate.quote(zone=zone, weight_g=heavy).amount
    )


@given(
    zone_steps(Zone.SAME_CITY),
    zone_steps(Zone.IN_PROVINCE),
    zone_steps(Zone.OUT_OF_PROVINCE),
    st.lists(weights_g, min_size=1, max_size=20),
)
def test_zone_order_is_enforced_exactly_when_a_tariff_is_built(
    near: ZoneStep, mid: ZoneStep, far: ZoneStep, probes: list[int]
) -> None:
    """Tariff: 同城 ≤ 省内 ≤ 省外 at every weight, enforced at construction — a built tariff
    never inverts at any weight probed, and a refused one really inverts at the weight its
    error names, which is the lightest: one gram less, the two zones it names are in order."""
    try:
        tariff = WeightTariff(zones=[near, mid, far])
    except ValidationError as exc:
        message = str(exc)
    else:
        message = ""
    if message:
        match = re.search(r"at (\d+) g, \S+ \((\w+)\).* nearer \S+ \((\w+)\)", message)
        assert match is not None, message
        weight = int(match[1])
        steps = {z.zone.value: z for z in (near, mid, far)}
        farther, nearer = steps[match[2]], steps[match[3]]
        assert farther.price(weight) < nearer.price(weight)
        assert weight == 1 or farther.price(weight - 1) >= nearer.price(weight - 1)
        return
    for w in [*probes, near.first_g, mid.first_g, far.first_g]:
        prices = [tariff.price(z, min(w, MAX_WEIGHT_G)) for z in Zone]
        assert prices == sorted(prices)


@given(weight_tariffs())
def test_generated_tariffs_are_valid(tariff: WeightTariff) -> None:
    """Tariff: tariffs built with rising fees and a common structure are always accepted."""
    assert [z.zone for z in tariff.zones] == list(Zone)


@given(rate_cards(), st.integers(0, 800), st.integers(0, 24 * 60 - 1))
def test_every_instant_maps_to_exactly_one_rate(rc: RateCard, days: int, minute: int) -> None:
    """Tariff: an instant covered by a rate card maps to exactly one of its rates."""
    instant = datetime(2018, 1, 1, tzinfo=SHANGHAI) + timedelta(days=days, minutes=minute)
    day = business_date(instant)
    assert sum(r.covers(day) for r in rc.rates) == 1
    assert rc.rate_on(instant).covers(day)


@given(tariffs, st.sampled_from(Zone), weights_g, st.sampled_from(["0", "0.15", "0.125", "0.3"]))
def test_line_amount_is_the_exact_fee_rounded_half_up_once(
    tariff: WeightTariff | FlatTariff, zone: Zone, weight: int, discount: str
) -> None:
    """Money: a line is its exact fee rounded half-up once; the error is at most half a fen."""
    quote = Rate(valid_from=date(2018, 1, 1), reference="R", tariff=tariff).quote(
        zone=zone, weight_g=weight, discount=discount
    )
    assert quote.amount == quote.exact.rounded()
    assert abs(quote.amount.amount - quote.exact.amount) <= Decimal("0.005")
    assert quote.exact == quote.postage + quote.discount


@settings(max_examples=40)
@given(rate_cards(), st.text(min_size=1, max_size=30).filter(lambda t: t.strip() == t and t))
def test_rate_cards_round_trip_through_toml(rc: RateCard, name: str) -> None:
    """Wire format: every rate card round-trips through TOML (and JSON) unchanged, whatever
    characters its name holds."""
    card = attrs.evolve(rc, name=name)
    assert RateCard.from_toml(card.to_toml()) == card
    assert RateCard.from_json(card.to_json()) == card


def test_saved_toml_is_readable() -> None:
    rc = RateCard.from_toml(TOML_CARD)
    text = rc.to_toml()
    assert "[[rates.tariff.zones]]" in text
    assert "valid_from = 2018-06-16" in text
    assert RateCard.from_toml(text) == rc
