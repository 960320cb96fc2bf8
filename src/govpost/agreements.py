"""Fee agreements (政府支付邮费协议), rate cards and tariffs.

A *tariff* prices one piece by zone and weight. :class:`WeightTariff` is the carrier's 首重/续重
schedule, in integer grams, with the step formula exactly::

    fee = first_fee + ceil(max(0, weight_g - first_g) / step_g) * step_fee

    >>> from govpost.regions import Zone
    >>> tariff = WeightTariff.uniform(
    ...     first_g=500, step_g=500,
    ...     first_fee={"same_city": "8.00", "in_province": "10.00", "out_of_province": "15.00"},
    ...     step_fee={"same_city": "1.00", "in_province": "2.00", "out_of_province": "5.00"},
    ... )
    >>> tariff.price(Zone.IN_PROVINCE, 1200)      # 10.00 + ceil(700 / 500) * 2.00
    Money('14.00', 'CNY')

A zone may never be cheaper than a nearer one at any weight (同城 ≤ 省内 ≤ 省外); a tariff that
breaks this is refused when it is built, naming the first weight where it happens.

A :class:`Rate` is a tariff with its surcharges (保价 insurance as a rate with a minimum, 回执
return receipt), valid over dates ``[valid_from, valid_until)``, with the ``reference`` of the
document that set it. A :class:`RateCard` is the effective-dated sequence of rates — contiguous,
never overlapping — so that any instant maps to exactly one rate. :meth:`Rate.quote` returns the
amount of a piece together with its :class:`FeeBreakdown`, so a statement line can be explained to
an auditor. Rate cards are data: :meth:`RateCard.from_toml`, :meth:`RateCard.from_json` and
:meth:`RateCard.to_json` go through govpost's one converter, so an agency keeps its tariffs in
files, not code.

A :class:`FeeAgreement` says which centers it covers, who pays for what (business line ×
direction: anything not covered is the applicant's and never reaches the government's statement),
the settlement mode — :class:`PerPiece` (计件) or :class:`LumpSum` (包干) —, the settlement period,
its validity, an optional annual :class:`Budget` and what happens to returned items
(:class:`ReturnPolicy`).

.. versionadded:: 0.1.0
"""

from __future__ import annotations

import enum
import itertools
import math
import re
import tomllib
from collections.abc import Iterable, Mapping
from datetime import date, datetime
from decimal import Decimal
from typing import Any, Self

import attrs

from govpost._fields import coerce_enum, short
from govpost._limits import MAX_DEPTH, YEARS, check_depth, check_utf8
from govpost.centers import BusinessLine
from govpost.errors import CurrencyMismatchError, DeserializationError, ValidationError
from govpost.money import Money, _to_decimal
from govpost.periods import PeriodKind, business_date
from govpost.regions import Zone
from govpost.shipments import MAX_WEIGHT_G as _MAX_WEIGHT_G
from govpost.shipments import Direction, Shipment

__all__ = [
    "MAX_WEIGHT_G",
    "Budget",
    "Coverage",
    "FeeAgreement",
    "FeeBreakdown",
    "FlatTariff",
    "Insurance",
    "LumpSum",
    "PerPiece",
    "PeriodKind",
    "Rate",
    "RateCard",
    "ReturnPolicy",
    "Surcharge",
    "SurchargeKind",
    "Tariff",
    "Underuse",
    "WeightTariff",
    "ZonePrice",
    "ZoneStep",
    "business_date",
]

#: The heaviest piece govpost prices, in grams: :data:`govpost.shipments.MAX_WEIGHT_G`, the
#: most a shipment may weigh.
#:
#: .. versionadded:: 0.1.0
MAX_WEIGHT_G = _MAX_WEIGHT_G


# --- validation helpers ---------------------------------------------------------------------------


_short = short


def _grams(what: str, *, minimum: int = 1) -> Any:
    def convert(value: object) -> int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise ValidationError(
                f"{what} {_short(value)} must be an int number of grams (e.g. 500), not "
                f"{type(value).__name__}: weights are integer grams, never floats"
            )
        if not minimum <= value <= MAX_WEIGHT_G:
            raise ValidationError(
                f"{what} {value} g must be between {minimum} g and {MAX_WEIGHT_G:,} g"
            )
        return value

    return convert


def _money(what: str, *, optional: bool = False, positive: bool = False) -> Any:
    def convert(value: object) -> Money | None:
        if value is None and optional:
            return None
        if isinstance(value, str | int | Decimal) and not isinstance(value, bool):
            value = Money(value)
        if not isinstance(value, Money):
            raise ValidationError(f"{what} {_short(value)} must be a Money such as Money('10.00')")
        if value.amount < 0 or (positive and value.amount == 0):
            sign = "positive" if positive else "zero or positive"
            raise ValidationError(f"{what} {value} must be {sign}")
        return value

    return convert


def _fraction(what: str) -> Any:
    def convert(value: object) -> Decimal:
        dec = _to_decimal(value, what)
        if not 0 <= dec < 1:
            raise ValidationError(
                f"{what} {dec} must be a fraction in [0, 1): 0.15 means 15% off (八五折)"
            )
        return dec

    return convert


def _text(what: str) -> Any:
    def convert(value: object) -> str:
        if not isinstance(value, str) or not value.strip() or len(value) > 300:
            raise ValidationError(
                f"{what} {_short(value)} must be a non-empty string of at most 300 characters"
            )
        return check_utf8(value.strip(), what)

    return convert


def _same_currency(what: str, amounts: Iterable[Money]) -> str:
    currencies = sorted({m.currency for m in amounts})
    if len(currencies) > 1:
        raise CurrencyMismatchError(
            f"{what} mixes currencies {', '.join(currencies)}: price everything in one currency"
        )
    return currencies[0] if currencies else "CNY"


# --- named converters (mypy's attrs plugin needs named functions) ---


def _zone(value: object) -> Any:
    return coerce_enum(Zone, value, "zone")


def _first_g(value: object) -> Any:
    return _grams("first weight (首重)")(value)


def _first_fee(value: object) -> Any:
    return _money("first-weight fee")(value)


def _step_g(value: object) -> Any:
    return _grams("step weight (续重)")(value)


def _step_fee(value: object) -> Any:
    return _money("step fee")(value)


def _zone_steps(value: object) -> Any:
    return _zone_tuple(ZoneStep, "WeightTariff zones")(value)


def _zone_price(value: object) -> Any:
    return _money("zone price")(value)


def _flat_price(value: object) -> Any:
    return _money("flat price")(value)


def _zone_prices(value: object) -> Any:
    return _zone_tuple(ZonePrice, "FlatTariff zone_prices")(value)


def _insurance_minimum(value: object) -> Any:
    return _money("insurance minimum")(value)


def _rate_reference(value: object) -> Any:
    return _text("rate reference")(value)


def _receipt_fee(value: object) -> Any:
    return _money("return receipt fee", optional=True)(value)


def _card_name(value: object) -> Any:
    return _text("rate card name")(value)


def _discount(value: object) -> Any:
    return _fraction("discount")(value)


def _lump_amount(value: object) -> Any:
    return _money("lump sum", positive=True)(value)


def _overage_discount(value: object) -> Any:
    return _fraction("overage discount")(value)


def _underuse(value: object) -> Any:
    return coerce_enum(Underuse, value, "underuse policy")


def _business_line(value: object) -> Any:
    return coerce_enum(BusinessLine, value, "business line")


def _direction(value: object) -> Any:
    return coerce_enum(Direction, value, "direction")


def _annual_budget(value: object) -> Any:
    return _money("annual budget", positive=True)(value)


def _carrier(value: object) -> Any:
    return _text("carrier")(value)


def _agreement_reference(value: object) -> Any:
    return _text("agreement reference")(value)


def _period_kind(value: object) -> Any:
    return coerce_enum(PeriodKind, value, "period")


def _return_policy(value: object) -> Any:
    return coerce_enum(ReturnPolicy, value, "return policy")


# --- tariffs --------------------------------------------------------------------------------------


@attrs.frozen(kw_only=True)
class ZoneStep:
    """The 首重/续重 prices of one zone.

    Args:
        zone: the zone these prices apply to.
        first_g: the first weight (首重) in grams, covered by ``first_fee``.
        first_fee: the price of the first weight.
        step_g: the step (续重) in grams; every started step beyond ``first_g`` costs ``step_fee``.
        step_fee: the price of one step.

    .. versionadded:: 0.1.0
    """

    zone: Zone = attrs.field(converter=_zone)
    first_g: int = attrs.field(converter=_first_g)
    first_fee: Money = attrs.field(converter=_first_fee)
    step_g: int = attrs.field(converter=_step_g)
    step_fee: Money = attrs.field(converter=_step_fee)

    def steps(self, weight_g: int) -> int:
        """The number of started steps beyond the first weight: ``ceil(max(0, w - first) / step)``.

        >>> ZoneStep(zone="same_city", first_g=500, first_fee="8", step_g=500, step_fee="1").steps(1001)
        2
        """
        over = weight_g - self.first_g
        return 0 if over <= 0 else -(-over // self.step_g)

    def price(self, weight_g: int) -> Money:
        """``first_fee + steps(weight_g) × step_fee``, exact."""
        return self.first_fee + self.step_fee * self.steps(weight_g)


def _zone_tuple(kind: type[Any], what: str) -> Any:
    def convert(values: object) -> tuple[Any, ...]:
        if isinstance(values, Mapping):
            raise ValidationError(f"{what} must be a list of {kind.__name__}, not a mapping")
        if isinstance(values, str | bytes) or not isinstance(values, Iterable):
            raise ValidationError(f"{what} {_short(values)} must be a list of {kind.__name__}")
        items = list(values)
        for item in items:
            if not isinstance(item, kind):
                raise ValidationError(f"{what} holds {_short(item)}, not a {kind.__name__}")
        seen: set[Zone] = set()
        for item in items:
            if item.zone in seen:
                raise ValidationError(
                    f"{what} lists zone {item.zone.value!r} ({item.zone.label}) twice: "
                    f"give each zone once"
                )
            seen.add(item.zone)
        return tuple(sorted(items, key=lambda item: item.zone.rank))

    return convert


def _integers(*amounts: Money) -> list[int]:
    """``amounts`` as integers over one common denominator (exact: Decimals are ratios)."""
    ratios = [m.amount.as_integer_ratio() for m in amounts]
    common = math.lcm(*(den for _, den in ratios))
    return [num * (common // den) for num, den in ratios]


def _first_below(n: int, m: int, a: int, b: int, coef: int, slope: int, bound: int) -> int | None:
    """The least ``x`` in ``[0, n)`` with ``coef·⌊(a·x + b)/m⌋ + slope·x < bound``, or ``None``.

    ``m`` is positive; everything else is any integer. A Euclid-like descent, O(log m) steps
    of constant work (plus one O(log n) bisection when the function is monotone): on each
    level ``y`` of the floor the function is linear in ``x``, so only one end of each level can
    be the first to fall below ``bound`` — its left end when the linear part rises, its right
    end when it falls — and those ends are themselves ``⌊(m·y + c)/a⌋``, the same problem with
    ``a`` and ``m`` swapped.
    """
    if n <= 0:
        return None
    # Reduce a and b below m; what they carry is linear in x or constant.
    whole, a = divmod(a, m)
    carry, b = divmod(b, m)
    slope += coef * whole
    bound -= coef * carry

    def value(x: int) -> int:
        return coef * ((a * x + b) // m) + slope * x

    if value(0) < bound:
        return 0
    if a == 0 or coef == 0:  # the floor is constant: a line through value(0) >= bound
        if slope >= 0:
            return None
        x = (value(0) - bound) // -slope + 1
        return x if x < n else None
    if coef >= 0 and slope >= 0:  # never decreases
        return None
    top = (a * (n - 1) + b) // m  # the floor's last level; a < m, so it takes every level
    if coef <= 0 and slope <= 0:  # never increases: bisect for the first value below bound
        if value(n - 1) >= bound:
            return None
        lo, hi = 0, n - 1
        while hi - lo > 1:
            mid = (lo + hi) // 2
            lo, hi = (lo, mid) if value(mid) < bound else (mid, hi)
        return hi
    if slope < 0:  # coef > 0: rises at each level, falls along it; try each level's right end
        level = _first_below(top, a, m, m - b - 1, slope, coef, bound)
        if level is None:
            if value(n - 1) >= bound:
                return None
            level = top
        start = max(0, -((b - m * level) // a))  # the level's left end: ⌈(m·level − b)/a⌉
        return max(start, (coef * level - bound) // -slope + 1)
    # coef < 0 < slope: drops at each level, rises along it; try each level's left end (> 0)
    level = _first_below(top, a, m, m - b + a - 1, slope, coef, bound - coef)
    if level is None:
        return None
    return (m * (level + 1) - b + a - 1) // a


def _first_inversion(near: ZoneStep, far: ZoneStep, top: int = MAX_WEIGHT_G) -> int | None:
    """The lightest weight up to ``top`` at which ``far`` is cheaper than ``near``, or ``None``.

    Both prices are non-decreasing step functions of the weight, so the lightest inversion is
    at 1 g or where ``near`` steps up: at ``w = near.first_g + 1 + near.step_g·x`` for a whole
    ``x >= 0``, where ``near`` costs ``first_fee + (x + 1)·step_fee``. Below ``far.first_g``
    ``far`` is flat and the first such ``x`` is solved for; above it ``far`` costs
    ``first_fee + ⌈(w − far.first_g)/far.step_g⌉·step_fee`` and the first ``x`` is found by
    :func:`_first_below`, in integer arithmetic (amounts over a common denominator). Exact,
    in O(log) steps whatever the weights, never walking grams or steps.
    """
    a1, s1, a2, s2 = _integers(near.first_fee, near.step_fee, far.first_fee, far.step_fee)
    if a2 < a1:  # both cost their first fee at 1 g
        return 1
    f1, g1, f2, g2 = near.first_g, near.step_g, far.first_g, far.step_g
    if f1 >= top:
        return None
    count = (top - f1 - 1) // g1 + 1  # near's steps up to top: x in [0, count)
    flat = 0 if f2 <= f1 else min(count, (f2 - f1 - 1) // g1 + 1)  # steps where far is flat
    if flat and s1 > 0:
        x = (a2 - a1) // s1  # the first x with a1 + (x + 1)·s1 > a2
        if x < flat:
            return f1 + 1 + g1 * x
    # far(w) = a2 + s2·⌊(g1·x + f1 + 1 − f2 + g2 − 1)/g2⌋ once w passes f2.
    rest = _first_below(
        count - flat, g2, g1, g1 * flat + f1 - f2 + g2, s2, -s1, a1 + s1 - a2 + s1 * flat
    )
    return None if rest is None else f1 + 1 + g1 * (flat + rest)


def _check_zone_order(prices: Mapping[Zone, Any], weight: Any) -> None:
    """Refuse a tariff where a farther zone is cheaper than a nearer one."""
    ordered = sorted(prices, key=lambda z: z.rank)
    for near, far in itertools.pairwise(ordered):
        at = weight(prices[near], prices[far])
        if at is not None:
            raise ValidationError(
                f"tariff zones are out of order: at {at} g, {far.label} ({far.value}) costs "
                f"{prices[far].price(at)} but the nearer {near.label} ({near.value}) costs "
                f"{prices[near].price(at)}; a farther zone may not be cheaper "
                f"(同城 ≤ 省内 ≤ 省外): check the prices of both zones"
            )


def _check_weight_tariff(instance: WeightTariff, attribute: Any, value: Any) -> None:
    if not instance.zones:
        raise ValidationError("a WeightTariff needs the prices of at least one zone")
    _same_currency("WeightTariff", [m for z in instance.zones for m in (z.first_fee, z.step_fee)])
    _check_zone_order({z.zone: z for z in instance.zones}, _first_inversion)


@attrs.frozen(kw_only=True)
class WeightTariff:
    """首重/续重 prices per zone, in integer grams.

    Args:
        zones: one :class:`ZoneStep` per zone priced (sorted near to far on construction).

    Raises:
        ValidationError: a zone given twice, no zones, or a farther zone cheaper than a nearer
            one at some weight (同城 ≤ 省内 ≤ 省外).
        CurrencyMismatchError: prices in more than one currency.

    .. versionadded:: 0.1.0
    """

    zones: tuple[ZoneStep, ...] = attrs.field(converter=_zone_steps, validator=_check_weight_tariff)

    @classmethod
    def uniform(
        cls,
        *,
        first_g: int,
        step_g: int,
        first_fee: Mapping[str | Zone, Money | str],
        step_fee: Mapping[str | Zone, Money | str],
    ) -> Self:
        """A tariff with the same first weight and step in every zone; fees keyed by zone."""
        keys = [coerce_enum(Zone, k, "zone") for k in first_fee]
        fees = {coerce_enum(Zone, k, "zone"): v for k, v in step_fee.items()}
        if set(keys) != set(fees):
            raise ValidationError("first_fee and step_fee must price the same zones")
        return cls(
            zones=[
                ZoneStep(
                    zone=zone,
                    first_g=first_g,
                    first_fee=first_fee[key],
                    step_g=step_g,
                    step_fee=fees[zone],
                )
                for key, zone in zip(first_fee, keys, strict=True)
            ]
        )

    @property
    def currency(self) -> str:
        """The currency of every price."""
        return self.zones[0].first_fee.currency

    def for_zone(self, zone: Zone) -> ZoneStep:
        """The prices of ``zone``.

        Raises:
            ValidationError: the tariff does not price that zone.
        """
        for step in self.zones:
            if step.zone is zone:
                return step
        priced = ", ".join(z.zone.value for z in self.zones)
        raise ValidationError(
            f"the tariff has no price for zone {zone.value!r} ({zone.label}); it prices "
            f"{priced}: add that zone to the rate card"
        )

    def price(self, zone: Zone, weight_g: int) -> Money:
        """The base postage of a piece, exact, before discount and surcharges."""
        return self.for_zone(zone).price(weight_g)


@attrs.frozen(kw_only=True)
class ZonePrice:
    """A flat price for one zone, overriding :attr:`FlatTariff.price`.

    .. versionadded:: 0.1.0
    """

    zone: Zone = attrs.field(converter=_zone)
    price: Money = attrs.field(converter=_zone_price)


def _flat_order(near: Any, far: Any) -> int | None:
    return 1 if far.price(1) < near.price(1) else None


@attrs.frozen
class _Flat:
    amount: Money

    def price(self, weight_g: int) -> Money:
        return self.amount


def _check_flat(instance: FlatTariff, attribute: Any, value: Any) -> None:
    _same_currency("FlatTariff", [instance.price, *(z.price for z in instance.zone_prices)])
    _check_zone_order({z: _Flat(instance.for_zone(z)) for z in Zone}, _flat_order)


@attrs.frozen(kw_only=True)
class FlatTariff:
    """A price per piece, whatever it weighs; optionally a different price per zone.

    Args:
        price: the price of a piece in every zone not listed in ``zone_prices``.
        zone_prices: per-zone overrides.

    Raises:
        ValidationError: a zone listed twice or a farther zone cheaper than a nearer one.

    >>> FlatTariff(price="12.00").price
    Money('12.00', 'CNY')

    .. versionadded:: 0.1.0
    """

    price: Money = attrs.field(converter=_flat_price)
    zone_prices: tuple[ZonePrice, ...] = attrs.field(
        default=(),
        converter=_zone_prices,
        validator=_check_flat,
    )

    @property
    def currency(self) -> str:
        """The currency of every price."""
        return self.price.currency

    def for_zone(self, zone: Zone) -> Money:
        """The price of a piece in ``zone``."""
        for item in self.zone_prices:
            if item.zone is zone:
                return item.price
        return self.price


#: A tariff prices one piece by zone and weight.
#:
#: .. versionadded:: 0.1.0
Tariff = WeightTariff | FlatTariff


# --- surcharges and the fee breakdown -------------------------------------------------------------


class SurchargeKind(enum.Enum):
    """A charge on top of postage.

    .. versionadded:: 0.1.0
    """

    INSURANCE = "insurance"  #: 保价费
    RETURN_RECEIPT = "return_receipt"  #: 回执费

    @property
    def label(self) -> str:
        """The Chinese name."""
        return {SurchargeKind.INSURANCE: "保价费", SurchargeKind.RETURN_RECEIPT: "回执费"}[self]


def _rate(value: object) -> Decimal:
    dec = _to_decimal(value, "insurance rate")
    if not 0 <= dec < 1:
        raise ValidationError(
            f"insurance rate {dec} must be a fraction of the declared value in [0, 1), "
            f"e.g. 0.01 for 1%"
        )
    return dec


@attrs.frozen(kw_only=True)
class Insurance:
    """Insurance (保价): a rate of the declared value, never less than a minimum.

    Args:
        rate: fraction of the declared value, e.g. ``Decimal("0.01")``.
        minimum: the least an insured piece pays.

    >>> Insurance(rate="0.01", minimum="1.00").fee(Money("350.00"))
    Money('3.50', 'CNY')
    >>> Insurance(rate="0.01", minimum="1.00").fee(Money("50.00"))
    Money('1.00', 'CNY')

    .. versionadded:: 0.1.0
    """

    rate: Decimal = attrs.field(converter=_rate)
    minimum: Money = attrs.field(default=Money(0), converter=_insurance_minimum)

    def fee(self, declared_value: Money) -> Money:
        """``max(declared_value × rate, minimum)``, exact.

        Raises:
            CurrencyMismatchError: the declared value is in another currency.
        """
        return max(declared_value * self.rate, self.minimum)


@attrs.frozen(kw_only=True)
class Surcharge:
    """One surcharge on a piece.

    .. versionadded:: 0.1.0
    """

    kind: SurchargeKind
    amount: Money


@attrs.frozen(kw_only=True)
class FeeBreakdown:
    """How the amount of one piece is made up, for an auditor.

    ``amount`` is ``exact`` rounded half-up to the fen — the one rounding of a statement line;
    ``exact = first_fee + steps × step_fee + discount + Σ surcharges``, where ``discount`` is
    negative (or zero) and applies to the postage only, never to surcharges.

    Attributes:
        reference: the document that set the rate used.
        zone: the zone priced.
        first_g: the first weight (0 for a flat tariff).
        first_fee: the price of the first weight (the flat price for a flat tariff).
        steps: started steps beyond the first weight.
        step_g: grams per step (0 for a flat tariff).
        step_fee: price of one step.
        discount_rate: the agreement's discount, e.g. ``0.15`` for 15% off.
        discount: the discount in money, ``-(first_fee + steps × step_fee) × discount_rate``.
        surcharges: insurance and return-receipt charges.
        exact: the exact amount before rounding.
        amount: the amount of the line.

    .. versionadded:: 0.1.0
    """

    reference: str
    zone: Zone
    first_g: int
    first_fee: Money
    steps: int
    step_g: int
    step_fee: Money
    discount_rate: Decimal
    discount: Money
    surcharges: tuple[Surcharge, ...]
    exact: Money
    amount: Money

    @property
    def postage(self) -> Money:
        """Postage before discount: ``first_fee + steps × step_fee``."""
        return self.first_fee + self.step_fee * self.steps

    def surcharge(self, kind: SurchargeKind) -> Money:
        """The amount of one kind of surcharge (zero if none)."""
        return sum(
            (s.amount for s in self.surcharges if s.kind is kind), Money.zero(self.exact.currency)
        )

    def explain(self, weight_g: int | None = None) -> str:
        """The computation in one line, as an auditor reads it.

        A breakdown is shared by every piece of the same zone and number of steps, so the
        weight of a given piece is passed in to be shown.

        >>> card = RateCard.single(FlatTariff(price="12.50"), reference="黔邮〔2018〕1号")
        >>> from govpost.regions import Zone
        >>> print(card.rates[0].quote(zone=Zone.SAME_CITY, weight_g=300, discount="0.15").explain(300))
        同城 300 g: 12.50 - 15% 1.875 = 10.625 → 10.63 (黔邮〔2018〕1号)
        """
        if self.step_g:
            parts = [f"首重 {self.first_fee.to_str()}"]
            if self.steps:
                parts.append(f"{self.steps} × 续重 {self.step_fee.to_str()}")
            text = " + ".join(parts)
        else:
            text = self.first_fee.to_str()
        if self.discount_rate:
            pct = (self.discount_rate * 100).normalize()
            text += f" - {pct:f}% {(-self.discount).to_str()}"
        for s in self.surcharges:
            text += f" + {s.kind.label} {s.amount.to_str()}"
        return (
            f"{self.zone.label}{'' if weight_g is None else f' {weight_g} g'}: {text} = "
            f"{self.exact.to_str()} → "
            f"{self.amount.to_str()} ({self.reference})"
        )


# --- rates and rate cards -------------------------------------------------------------------------


def _tariff(value: object) -> Tariff:
    if not isinstance(value, WeightTariff | FlatTariff):
        raise ValidationError(f"tariff {_short(value)} must be a WeightTariff or a FlatTariff")
    return value


def _optional_date(value: object) -> date | None:
    if value is None:
        return None
    return _day("valid_until", value)


def _date(value: object) -> date:
    return _day("valid_from", value)


def _day(what: str, value: object) -> date:
    if isinstance(value, datetime) or not isinstance(value, date):
        raise ValidationError(
            f"{what} {_short(value)} must be a datetime.date such as date(2018, 6, 1) (a "
            f"business date in Asia/Shanghai), not {type(value).__name__}"
        )
    if value.year not in YEARS:
        raise ValidationError(
            f"{what} {value} is in the year {value.year}: agreements and rates hold dates from "
            f"{YEARS.start} to {YEARS.stop - 1}, the years of the wire format"
        )
    return value


def _optional_insurance(value: object) -> Insurance | None:
    if value is not None and not isinstance(value, Insurance):
        raise ValidationError(
            f"insurance {_short(value)} must be an Insurance such as "
            f"Insurance(rate='0.005', minimum='1.00') or None"
        )
    return value


def _check_rate(instance: Rate, attribute: Any, value: Any) -> None:
    if instance.valid_until is not None and instance.valid_until <= instance.valid_from:
        raise ValidationError(
            f"rate {instance.reference!r}: valid_until {instance.valid_until} must be after "
            f"valid_from {instance.valid_from} (valid_until is exclusive)"
        )
    money = [
        instance.tariff.price
        if isinstance(instance.tariff, FlatTariff)
        else instance.tariff.zones[0].first_fee
    ]
    if instance.insurance is not None:
        money.append(instance.insurance.minimum)
    if instance.return_receipt is not None:
        money.append(instance.return_receipt)
    _same_currency(f"rate {instance.reference!r}", money)


@attrs.frozen(kw_only=True)
class Rate:
    """A tariff and its surcharges, valid over ``[valid_from, valid_until)``.

    Args:
        valid_from: first business date the rate applies (inclusive).
        valid_until: the date it stops applying (exclusive); ``None`` = until further notice.
        reference: the document that set it (文号), e.g. ``"黔邮〔2018〕12号"``.
        tariff: the postage of a piece.
        insurance: the 保价 surcharge, if the rate offers insurance.
        return_receipt: the price of a return receipt (回执), if offered.

    Raises:
        ValidationError: ``valid_until`` not after ``valid_from``; a bad field.
        CurrencyMismatchError: prices in more than one currency.

    .. versionadded:: 0.1.0
    """

    valid_from: date = attrs.field(converter=_date)
    valid_until: date | None = attrs.field(default=None, converter=_optional_date)
    reference: str = attrs.field(converter=_rate_reference)
    tariff: WeightTariff | FlatTariff = attrs.field(converter=_tariff)
    insurance: Insurance | None = attrs.field(default=None, converter=_optional_insurance)
    return_receipt: Money | None = attrs.field(
        default=None, converter=_receipt_fee, validator=_check_rate
    )

    @property
    def currency(self) -> str:
        """The currency of the rate's prices."""
        return self.tariff.currency

    def covers(self, day: date) -> bool:
        """Whether the business date ``day`` falls in ``[valid_from, valid_until)``."""
        return self.valid_from <= day and (self.valid_until is None or day < self.valid_until)

    def quote(
        self,
        *,
        zone: Zone,
        weight_g: int,
        declared_value: Money | None = None,
        return_receipt: bool = False,
        discount: Decimal | str | int = 0,
    ) -> FeeBreakdown:
        """The amount of one piece and its breakdown.

        Args:
            zone: the zone from origin to destination.
            weight_g: the weight in integer grams (a float is refused).
            declared_value: the value declared for insurance, if insured.
            return_receipt: whether a return receipt was ordered.
            discount: fraction off the postage (not the surcharges), e.g. ``"0.15"``.

        Raises:
            ValidationError: a bad weight or discount; insurance or a return receipt asked of a
                rate that offers none; the zone is not priced.
            CurrencyMismatchError: the declared value is in another currency than the rate.

        >>> rate = RateCard.single(
        ...     FlatTariff(price="10.00"), reference="R1", insurance=Insurance(rate="0.01", minimum="1")
        ... ).rates[0]
        >>> rate.quote(zone=Zone.OUT_OF_PROVINCE, weight_g=800, declared_value=Money("500")).amount
        Money('15.00', 'CNY')
        """
        weight = _grams("weight")(weight_g)
        rate = _fraction("discount")(discount)
        tariff = self.tariff
        if isinstance(tariff, WeightTariff):
            step = tariff.for_zone(zone)
            first_g, first_fee, step_g, step_fee = (
                step.first_g,
                step.first_fee,
                step.step_g,
                step.step_fee,
            )
            steps = step.steps(weight)
        else:
            first_g, first_fee, step_g, steps = 0, tariff.for_zone(zone), 0, 0
            step_fee = Money.zero(first_fee.currency)
        postage = first_fee + step_fee * steps
        cut = -(postage * rate) if rate else Money.zero(postage.currency)
        surcharges: list[Surcharge] = []
        if declared_value is not None:
            if self.insurance is None:
                raise ValidationError(
                    f"a piece declares {declared_value} for insurance but rate "
                    f"{self.reference!r} offers no insurance (保价): add Insurance to the rate"
                )
            if declared_value.currency != postage.currency:
                raise CurrencyMismatchError(
                    f"declared value {declared_value} is not in the rate's currency "
                    f"{postage.currency}: declare it in {postage.currency}"
                )
            surcharges.append(
                Surcharge(kind=SurchargeKind.INSURANCE, amount=self.insurance.fee(declared_value))
            )
        if return_receipt:
            if self.return_receipt is None:
                raise ValidationError(
                    f"a piece orders a return receipt (回执) but rate {self.reference!r} has no "
                    f"return_receipt price: add one to the rate"
                )
            surcharges.append(
                Surcharge(kind=SurchargeKind.RETURN_RECEIPT, amount=self.return_receipt)
            )
        exact = postage + cut
        for s in surcharges:
            exact = exact + s.amount
        return FeeBreakdown(
            reference=self.reference,
            zone=zone,
            first_g=first_g,
            first_fee=first_fee,
            steps=steps,
            step_g=step_g,
            step_fee=step_fee,
            discount_rate=rate,
            discount=cut,
            surcharges=tuple(surcharges),
            exact=exact,
            amount=exact.rounded(),
        )


def _rates(values: object) -> tuple[Rate, ...]:
    if isinstance(values, Rate):
        values = (values,)
    if isinstance(values, str | bytes | Mapping) or not isinstance(values, Iterable):
        raise ValidationError(f"rates {_short(values)} must be a list of Rate")
    items = list(values)
    if not items:
        raise ValidationError("a rate card needs at least one Rate")
    for item in items:
        if not isinstance(item, Rate):
            raise ValidationError(f"rates holds {_short(item)}, not a Rate")
    return tuple(sorted(items, key=lambda r: r.valid_from))


def _check_card(instance: RateCard, attribute: object, rates: tuple[Rate, ...]) -> None:
    for before, after in itertools.pairwise(rates):
        if before.valid_until is None or before.valid_until > after.valid_from:
            until = "open-ended" if before.valid_until is None else f"until {before.valid_until}"
            raise ValidationError(
                f"rate card {instance.name!r}: rates {before.reference!r} (from "
                f"{before.valid_from}, {until}) and {after.reference!r} (from {after.valid_from}) "
                f"overlap: end the earlier one on {after.valid_from}"
            )
        if before.valid_until < after.valid_from:
            raise ValidationError(
                f"rate card {instance.name!r} has a gap from {before.valid_until} to "
                f"{after.valid_from} between {before.reference!r} and {after.reference!r}: "
                f"no rate would apply then; make the later one start on {before.valid_until}"
            )
    _same_currency(f"rate card {instance.name!r}", [Money(0, r.currency) for r in rates])


@attrs.frozen(kw_only=True)
class RateCard:
    """Effective-dated rates: contiguous, never overlapping, one rate per instant.

    Args:
        name: what the card is, e.g. ``"EMS 政务寄递资费"``.
        rates: the rates, in any order; sorted by ``valid_from``. Each ends exactly where the
            next starts; only the last may be open-ended.

    Raises:
        ValidationError: overlapping rates, a gap between rates, no rates.
        CurrencyMismatchError: rates in different currencies.

    >>> from datetime import date
    >>> card = RateCard(name="EMS", rates=[
    ...     Rate(valid_from=date(2018, 1, 1), valid_until=date(2018, 6, 16), reference="A",
    ...          tariff=FlatTariff(price="12.00")),
    ...     Rate(valid_from=date(2018, 6, 16), reference="B", tariff=FlatTariff(price="11.00")),
    ... ])
    >>> card.rate_on(date(2018, 6, 15)).reference, card.rate_on(date(2018, 6, 16)).reference
    ('A', 'B')

    .. versionadded:: 0.1.0
    """

    name: str = attrs.field(converter=_card_name)
    rates: tuple[Rate, ...] = attrs.field(converter=_rates, validator=_check_card)

    @classmethod
    def single(
        cls,
        tariff: Tariff,
        *,
        reference: str,
        valid_from: date = date(1900, 1, 1),
        insurance: Insurance | None = None,
        return_receipt: Money | str | None = None,
        name: str | None = None,
    ) -> Self:
        """A card with one open-ended rate, for a tariff that never changed."""
        rate = Rate(
            valid_from=valid_from,
            reference=reference,
            tariff=tariff,
            insurance=insurance,
            return_receipt=return_receipt,
        )
        return cls(name=name or reference, rates=(rate,))

    @property
    def currency(self) -> str:
        """The currency of every rate on the card."""
        return self.rates[0].currency

    def rate_on(self, when: date | datetime) -> Rate:
        """The one rate in force on a business date or at an aware instant.

        Raises:
            ValidationError: no rate covers that date (before the first, after the last), or a
                naive datetime.
        """
        day = business_date(when)
        for rate in self.rates:
            if rate.covers(day):
                return rate
        first, last = self.rates[0], self.rates[-1]
        span = f"{first.valid_from} to " + (
            "open end" if last.valid_until is None else f"{last.valid_until} (exclusive)"
        )
        raise ValidationError(
            f"rate card {self.name!r} has no rate on {day}: it covers {span}; add a rate for that date"
        )

    def quote(self, shipment: Shipment, *, discount: Decimal | str | int = 0) -> FeeBreakdown:
        """The fee of a picked-up shipment at the rate of its pickup date.

        Raises:
            ValidationError: the shipment has not been picked up, or no rate covers its date.
        """
        if shipment.picked_up_at is None:
            raise ValidationError(
                f"shipment {shipment.id} has not been picked up: only picked-up pieces are priced"
            )
        return self.rate_on(shipment.picked_up_at).quote(
            zone=shipment.zone,
            weight_g=shipment.weight_g,
            declared_value=shipment.declared_value,
            return_receipt=shipment.return_receipt,
            discount=discount,
        )

    # -- files ---------------------------------------------------------------------------------

    @classmethod
    def from_data(cls, data: Any) -> Self:
        """A rate card from plain data (parsed JSON or TOML) in govpost's wire format.

        Raises:
            DeserializationError: naming the path of every bad field; data nested deeper than
                64 levels (or holding itself).
        """
        from govpost.serialization import from_primitive

        return from_primitive(_dates_to_text(data), cls)

    @classmethod
    def from_json(cls, text: str | bytes) -> Self:
        """A rate card from a JSON document (see :meth:`from_data`).

        Total, like :func:`govpost.serialization.from_json`: any text gives a card or a
        :class:`~govpost.errors.DeserializationError`, in time bounded by the text's size —
        validating a tariff costs the same whatever its weights and steps.

        Raises:
            DeserializationError: not UTF-8 JSON, nested more than 64 deep, ``NaN``, a lone
                surrogate, or naming the path of every bad field.
        """
        from govpost.serialization import from_json

        return from_json(text, cls)

    @classmethod
    def from_toml(cls, text: str) -> Self:
        """A rate card from a TOML document; TOML dates are read as business dates.

        Total: any text gives a card or a :class:`~govpost.errors.DeserializationError`, in
        time bounded by the text's size. Tables, arrays and dotted keys may nest at most 64
        deep (Python's TOML reader would exhaust the stack near 1,000, and its cost grows with
        the square of a dotted key's length).

        Raises:
            DeserializationError: not TOML, nested too deeply, a lone surrogate in the text, or
                naming the path of every bad field.

        >>> card = RateCard.from_toml('''
        ... name = "EMS"
        ... [[rates]]
        ... valid_from = 2018-01-01
        ... reference = "黔邮〔2018〕1号"
        ... tariff = { price = { amount = "12.00" } }
        ... ''')
        >>> card.rates[0].tariff
        FlatTariff(price=Money('12.00', 'CNY'), zone_prices=())
        """
        if not isinstance(text, str):
            raise DeserializationError(
                f"cannot read RateCard: expected TOML text (str), got {type(text).__name__}; "
                f"read the file with .read_text(encoding='utf-8')"
            )
        try:
            check_utf8(text, "the TOML text")
            check_depth(text, what="the TOML text", syntax="toml")
            data = tomllib.loads(text)
        except ValidationError as exc:
            raise DeserializationError(f"cannot read RateCard: {exc}") from exc
        except (ValueError, RecursionError) as exc:  # TOMLDecodeError; an int over 4,300 digits
            raise DeserializationError(f"cannot read RateCard: not valid TOML ({exc})") from exc
        return cls.from_data(data)

    def to_toml(self) -> str:
        """The card as a TOML document that :meth:`from_toml` reads back unchanged.

        >>> card = RateCard.single(FlatTariff(price="12.00"), reference="R1")
        >>> print(card.to_toml())
        name = "R1"
        <BLANKLINE>
        [[rates]]
        valid_from = 1900-01-01
        reference = "R1"
        <BLANKLINE>
        [rates.tariff]
        price = { amount = "12.00", currency = "CNY" }
        zone_prices = []
        >>> RateCard.from_toml(card.to_toml()) == card
        True
        """
        return _toml_table([], self.to_data()).strip() + "\n"

    def to_data(self) -> Any:
        """The card as plain data in govpost's wire format (what :meth:`from_data` reads)."""
        from govpost.serialization import to_primitive

        return to_primitive(self)

    def to_json(self, *, indent: int | None = 2) -> str:
        """The card as a JSON document."""
        from govpost.serialization import to_json

        return to_json(self, indent=indent)


_DATE_TEXT = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
_BARE_KEY = re.compile(r"[A-Za-z0-9_-]+")


def _toml_key(key: str) -> str:
    return key if _BARE_KEY.fullmatch(key) else _toml_string(key)


def _toml_string(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace('"', '\\"')
    escaped = "".join(
        ch if (" " <= ch != "\x7f") or ch == "\t" else f"\\u{ord(ch):04x}" for ch in escaped
    )
    return f'"{escaped}"'


def _toml_value(value: Any) -> str:
    """A scalar, a list or a table of scalars, written inline."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, str):
        # Dates are written as TOML dates, which from_toml reads back as the same ISO text.
        return value if _DATE_TEXT.fullmatch(value) else _toml_string(value)
    if isinstance(value, list):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    if isinstance(value, dict):
        items = ", ".join(
            f"{_toml_key(k)} = {_toml_value(v)}" for k, v in value.items() if v is not None
        )
        return "{ " + items + " }" if items else "{}"
    raise ValidationError(f"cannot write {type(value).__name__} {_short(value)} as TOML")


def _is_table(value: Any) -> bool:
    return isinstance(value, dict) and any(isinstance(v, dict | list) for v in value.values())


def _is_table_array(value: Any) -> bool:
    return isinstance(value, list) and bool(value) and all(isinstance(v, dict) for v in value)


def _toml_table(path: list[str], data: dict[str, Any]) -> str:
    """Scalars (and small tables) inline first, then sub-tables and arrays of tables.

    ``None`` values are left out: TOML has no null, and every optional field of a rate card
    defaults to ``None``.
    """
    lines = [
        f"{_toml_key(k)} = {_toml_value(v)}"
        for k, v in data.items()
        if v is not None and not _is_table(v) and not _is_table_array(v)
    ]
    parts = ["\n".join(lines)]
    for key, value in data.items():
        if _is_table(value):
            header = ".".join(_toml_key(p) for p in [*path, key])
            parts.append(f"\n[{header}]\n" + _toml_table([*path, key], value))
        elif _is_table_array(value):
            header = ".".join(_toml_key(p) for p in [*path, key])
            for item in value:
                parts.append(f"\n[[{header}]]\n" + _toml_table([*path, key], item))
    return "\n".join(part for part in parts if part) + "\n"


def _dates_to_text(data: Any, depth: int = 0) -> Any:
    """TOML parses dates natively; the wire format writes them as ISO strings.

    Raises:
        DeserializationError: the data nests deeper than :data:`~govpost._limits.MAX_DEPTH`
            (or contains itself), which no rate card does.
    """
    if isinstance(data, dict | list) and depth > MAX_DEPTH:
        raise DeserializationError(
            f"cannot read RateCard: the data nests more than {MAX_DEPTH} deep (or contains "
            f"itself); a rate card is a few levels deep"
        )
    if isinstance(data, dict):
        return {k: _dates_to_text(v, depth + 1) for k, v in data.items()}
    if isinstance(data, list):
        return [_dates_to_text(v, depth + 1) for v in data]
    if isinstance(data, datetime):
        return data.isoformat()
    if isinstance(data, date):
        return data.isoformat()
    return data


def _card(value: object) -> RateCard:
    if isinstance(value, WeightTariff | FlatTariff):
        return RateCard.single(value, reference="tariff")
    if not isinstance(value, RateCard):
        raise ValidationError(
            f"tariff {_short(value)} must be a RateCard, a WeightTariff or a FlatTariff"
        )
    return value


def _optional_card(value: object) -> RateCard | None:
    return None if value is None else _card(value)


# --- agreements -----------------------------------------------------------------------------------


class Underuse(enum.Enum):
    """What happens to a lump sum's unused quota.

    .. versionadded:: 0.1.0
    """

    KEEP = "keep"  #: 结余留用: the carrier keeps the lump sum, no refund
    PRO_RATA = "pro_rata"  #: the unused share of the lump sum is refunded
    CARRY_FORWARD = "carry_forward"  #: unused pieces of quota move to the next period


class ReturnPolicy(enum.Enum):
    """How a returned item (退回) is billed under a per-piece agreement.

    .. versionadded:: 0.1.0
    """

    CHARGE_RETURN_LEG = "charge_return_leg"  #: the return leg is one more line, priced as the piece
    NO_CHARGE = "no_charge"  #: the return costs nothing
    REFUND_ORIGINAL = "refund_original"  #: a credit line negates the original charge


@attrs.frozen(kw_only=True)
class PerPiece:
    """计件结算: every covered piece picked up is one line, priced by ``tariff`` less ``discount``.

    Args:
        tariff: a :class:`RateCard` (or a bare tariff, taken as valid forever).
        discount: fraction off the postage, in ``[0, 1)``: ``"0.15"`` is 15% off (八五折).

    .. versionadded:: 0.1.0
    """

    tariff: RateCard = attrs.field(converter=_card)
    discount: Decimal = attrs.field(default=Decimal(0), converter=_discount)


def _quota(value: object) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        raise ValidationError(
            f"quota {_short(value)} must be a positive int number of pieces or None"
        )
    return value


def _check_lump(instance: LumpSum, attribute: Any, value: Any) -> None:
    if instance.quota is None and instance.underuse is not Underuse.KEEP:
        raise ValidationError(
            f"underuse policy {instance.underuse.value!r} needs a quota: without a quota nothing "
            f"can be unused; give quota= or use Underuse.KEEP"
        )
    if instance.quota is None and instance.overage is not None:
        raise ValidationError("an overage tariff needs a quota beyond which it applies")
    if instance.overage is not None and instance.overage.currency != instance.amount.currency:
        raise CurrencyMismatchError(
            f"lump sum {instance.amount} and its overage tariff in {instance.overage.currency} "
            f"differ in currency: use one currency"
        )


@attrs.frozen(kw_only=True)
class LumpSum:
    """包干结算: ``amount`` per period covers ``quota`` pieces.

    Args:
        amount: the lump sum L of a full period.
        quota: pieces Q covered by L; ``None`` = every piece.
        overage: the tariff of each piece beyond Q (``None`` = beyond Q is still covered).
        overage_discount: fraction off the overage postage.
        underuse: what happens when fewer than Q pieces are sent (:class:`Underuse`).

    .. versionadded:: 0.1.0
    """

    amount: Money = attrs.field(converter=_lump_amount)
    quota: int | None = attrs.field(default=None, converter=_quota)
    overage: RateCard | None = attrs.field(default=None, converter=_optional_card)
    overage_discount: Decimal = attrs.field(default=Decimal(0), converter=_overage_discount)
    underuse: Underuse = attrs.field(
        default=Underuse.KEEP, converter=_underuse, validator=_check_lump
    )


@attrs.frozen(kw_only=True, order=True)
class Coverage:
    """One (business line, direction) pair the government pays for.

    .. versionadded:: 0.1.0
    """

    business_line: BusinessLine = attrs.field(converter=_business_line)
    direction: Direction = attrs.field(converter=_direction)

    @classmethod
    def all(cls) -> tuple[Coverage, ...]:
        """Every business line in both directions."""
        return tuple(cls(business_line=b, direction=d) for b in BusinessLine for d in Direction)


def _coverage(values: object) -> tuple[Coverage, ...]:
    if isinstance(values, Coverage):
        values = (values,)
    if isinstance(values, str | bytes | Mapping) or not isinstance(values, Iterable):
        raise ValidationError(f"covers {_short(values)} must be a list of Coverage")
    items = set()
    for item in values:
        if not isinstance(item, Coverage):
            raise ValidationError(f"covers holds {_short(item)}, not a Coverage")
        items.add(item)
    if not items:
        raise ValidationError(
            "an agreement must cover at least one (business line, direction): see Coverage.all()"
        )
    return tuple(sorted(items, key=lambda c: (c.business_line.value, c.direction.value)))


def _centers(values: object) -> frozenset[str]:
    if isinstance(values, str | bytes) or not isinstance(values, Iterable):
        raise ValidationError(f"centers {_short(values)} must be a collection of center codes")
    codes = frozenset(values)
    if not codes:
        raise ValidationError("an agreement must cover at least one center code")
    for code in codes:
        if not isinstance(code, str) or not _CENTER.fullmatch(code):
            raise ValidationError(f"center code {_short(code)} is malformed (e.g. 'GZ-520100')")
    return codes


_CENTER = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.\-]{0,63}")


def _mode(value: object) -> PerPiece | LumpSum:
    if not isinstance(value, PerPiece | LumpSum):
        raise ValidationError(
            f"settlement mode {_short(value)} must be PerPiece(...) or LumpSum(...)"
        )
    return value


def _strict(value: object) -> bool:
    if not isinstance(value, bool):
        raise ValidationError(f"budget strict {_short(value)} must be True or False")
    return value


@attrs.frozen(kw_only=True)
class Budget:
    """An annual budget (纳入财政预算) for an agreement's postage.

    Args:
        annual: the amount budgeted for a calendar year.
        strict: refuse a settlement that would exceed it (:class:`~govpost.errors.BudgetExceededError`);
            when ``False`` the overrun is only reported on the statement.

    .. versionadded:: 0.1.0
    """

    annual: Money = attrs.field(converter=_annual_budget)
    strict: bool = attrs.field(default=True, converter=_strict)


def _optional_budget(value: object) -> Budget | None:
    if value is not None and not isinstance(value, Budget):
        raise ValidationError(
            f"budget {_short(value)} must be a Budget such as Budget(annual='20000.00') or None"
        )
    return value


def _check_agreement(instance: FeeAgreement, attribute: Any, value: Any) -> None:
    if instance.valid_until is not None and instance.valid_until <= instance.valid_from:
        raise ValidationError(
            f"agreement {instance.id!r}: valid_until {instance.valid_until} must be after "
            f"valid_from {instance.valid_from}"
        )
    mode = instance.mode
    currency = mode.tariff.currency if isinstance(mode, PerPiece) else mode.amount.currency
    if instance.budget is not None and instance.budget.annual.currency != currency:
        raise CurrencyMismatchError(
            f"agreement {instance.id!r}: budget {instance.budget.annual} is not in the "
            f"settlement currency {currency}"
        )


_AGREEMENT_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.\-]{0,63}")


def _agreement_id(instance: object, attribute: Any, value: Any) -> None:
    if not isinstance(value, str) or not _AGREEMENT_ID.fullmatch(value):
        raise ValidationError(
            f"agreement id {_short(value)} must be 1-64 letters, digits, '-', '_' or '.'"
        )


@attrs.frozen(kw_only=True)
class FeeAgreement:
    """A "government pays postage" agreement (政府支付邮费协议).

    Args:
        id: the agreement's own identifier (letters, digits, ``-_.``), part of statement ids.
        carrier: the carrier's name, e.g. ``"ems"``.
        reference: the document that set the agreement.
        centers: codes of the service centers it covers.
        covers: the (business line, direction) pairs the government pays; anything else is
            the applicant's and never appears on a statement.
        mode: :class:`PerPiece` or :class:`LumpSum`.
        period: how often it is settled.
        valid_from: first business date in force (inclusive).
        valid_until: the date it ends (exclusive), or ``None``.
        budget: an annual budget, if any.
        return_policy: how returned items are billed (per-piece mode; a lump sum covers returns).

    Raises:
        ValidationError: a bad field; ``valid_until`` not after ``valid_from``.
        CurrencyMismatchError: budget and tariff in different currencies.

    .. versionadded:: 0.1.0
    """

    id: str = attrs.field(validator=_agreement_id)
    carrier: str = attrs.field(converter=_carrier)
    reference: str = attrs.field(converter=_agreement_reference)
    centers: frozenset[str] = attrs.field(converter=_centers)
    covers: tuple[Coverage, ...] = attrs.field(converter=_coverage)
    mode: PerPiece | LumpSum = attrs.field(converter=_mode)
    period: PeriodKind = attrs.field(default=PeriodKind.MONTH, converter=_period_kind)
    valid_from: date = attrs.field(converter=_date)
    valid_until: date | None = attrs.field(default=None, converter=_optional_date)
    budget: Budget | None = attrs.field(default=None, converter=_optional_budget)
    return_policy: ReturnPolicy = attrs.field(
        default=ReturnPolicy.CHARGE_RETURN_LEG,
        converter=_return_policy,
        validator=_check_agreement,
    )

    @property
    def currency(self) -> str:
        """The currency statements under this agreement are in."""
        mode = self.mode
        return mode.tariff.currency if isinstance(mode, PerPiece) else mode.amount.currency

    def in_force(self, day: date) -> bool:
        """Whether the agreement applies on business date ``day``."""
        return self.valid_from <= day and (self.valid_until is None or day < self.valid_until)

    def covers_shipment(self, shipment: Shipment) -> bool:
        """Whether the government pays for this shipment (its center, line and direction)."""
        return shipment.center in self.centers and any(
            c.business_line is shipment.business_line and c.direction is shipment.direction
            for c in self.covers
        )
