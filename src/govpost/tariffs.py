"""Tariffs: what one piece costs by zone and weight, and the surcharges on top.

A *tariff* prices one piece by zone and weight. :class:`WeightTariff` is the carrier's 首重/续重
schedule, one :class:`ZoneStep` per zone, in integer grams, with the step formula exactly::

    fee = first_fee + ceil(max(0, weight_g - first_g) / step_g) * step_fee

    >>> tariff = WeightTariff.uniform(
    ...     first_g=500, step_g=500,
    ...     first_fee={"same_city": "8.00", "in_province": "10.00", "out_of_province": "15.00"},
    ...     step_fee={"same_city": "1.00", "in_province": "2.00", "out_of_province": "5.00"},
    ... )
    >>> tariff.price(Zone.IN_PROVINCE, 1200)      # 10.00 + ceil(700 / 500) * 2.00
    Money('14.00', 'CNY')

:class:`FlatTariff` is a price per piece, optionally per zone (:class:`ZonePrice`). A zone may
never be cheaper than a nearer one at any weight (同城 ≤ 省内 ≤ 省外); a tariff that breaks this
is refused when it is built, naming the first weight where it happens::

    >>> FlatTariff(price="12.00", zone_prices=[ZonePrice(zone="out_of_province", price="9.00")])
    Traceback (most recent call last):
    ...
    govpost.errors.ValidationError: tariff zones are out of order: at 1 g, 省外 (out_of_province) costs 9.00 CNY but the nearer 省内 (in_province) costs 12.00 CNY; a farther zone may not be cheaper (同城 ≤ 省内 ≤ 省外): check the prices of both zones

Surcharges come on top of postage: :class:`Insurance` (保价, a rate of the declared value with a
minimum) and the return receipt (回执), each a :class:`Surcharge` of a :class:`SurchargeKind`.
:class:`FeeBreakdown` shows how the amount of one piece is made up, for an auditor. The dated
rates that hold tariffs are in :mod:`govpost.ratecards`.

.. versionadded:: 0.2.0
   The module; its names were in :mod:`govpost.agreements`, which still exports them.
"""

from __future__ import annotations

import enum
import itertools
import math
from collections.abc import Callable, Iterable, Mapping
from decimal import Decimal
from typing import Protocol, Self, TypeVar

import attrs

from govpost._fields import coerce_enum, short
from govpost.errors import CurrencyMismatchError, ValidationError
from govpost.money import Money, _to_decimal
from govpost.regions import Zone
from govpost.shipments import MAX_WEIGHT_G

__all__ = [
    "FeeBreakdown",
    "FlatTariff",
    "Insurance",
    "Surcharge",
    "SurchargeKind",
    "Tariff",
    "WeightTariff",
    "ZonePrice",
    "ZoneStep",
]


# --- checks shared by tariffs, rate cards and agreements (private) -------------------------------
# Each takes the value as ``object``: untyped callers and the wire format may pass anything. The
# models' named converters (mypy's attrs plugin reads an ``__init__`` parameter's type from its
# converter's first parameter) declare what a caller may pass, and call these.


def _grams(value: object, what: str) -> int:
    """``value`` as a weight in integer grams, from 1 g to :data:`MAX_WEIGHT_G`."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValidationError(
            f"{what} {short(value)} must be an int number of grams (e.g. 500), not "
            f"{type(value).__name__}: weights are integer grams, never floats"
        )
    if not 1 <= value <= MAX_WEIGHT_G:
        raise ValidationError(f"{what} {value} g must be between 1 g and {MAX_WEIGHT_G:,} g")
    return value


def _amount(value: object, what: str, *, positive: bool = False) -> Money:
    """``value`` as a non-negative :class:`Money` (positive if asked), from an amount or Money."""
    if isinstance(value, str | int | Decimal) and not isinstance(value, bool):
        value = Money(value)
    if not isinstance(value, Money):
        raise ValidationError(f"{what} {short(value)} must be a Money such as Money('10.00')")
    if value.amount < 0 or (positive and value.amount == 0):
        sign = "positive" if positive else "zero or positive"
        raise ValidationError(f"{what} {value} must be {sign}")
    return value


def _fraction(value: object, what: str) -> Decimal:
    """``value`` as a discount: a fraction in ``[0, 1)``."""
    dec = _to_decimal(value, what)
    if not 0 <= dec < 1:
        raise ValidationError(
            f"{what} {dec} must be a fraction in [0, 1): 0.15 means 15% off (八五折)"
        )
    return dec


def _same_currency(what: str, amounts: Iterable[Money]) -> str:
    """The one currency of ``amounts`` (CNY if there are none)."""
    currencies = sorted({m.currency for m in amounts})
    if len(currencies) > 1:
        raise CurrencyMismatchError(
            f"{what} mixes currencies {', '.join(currencies)}: price everything in one currency"
        )
    return currencies[0] if currencies else "CNY"


def _zone(value: Zone | str) -> Zone:
    return coerce_enum(Zone, value, "zone")


# --- zone steps ----------------------------------------------------------------------------------


def _first_g(value: int) -> int:
    return _grams(value, "first weight (首重)")


def _first_fee(value: Money | Decimal | str | int) -> Money:
    return _amount(value, "first-weight fee")


def _step_g(value: int) -> int:
    return _grams(value, "step weight (续重)")


def _step_fee(value: Money | Decimal | str | int) -> Money:
    return _amount(value, "step fee")


@attrs.frozen(kw_only=True)
class ZoneStep:
    """The 首重/续重 prices of one zone.

    Args:
        zone: the zone these prices apply to (a :class:`~govpost.regions.Zone` or its value).
        first_g: the first weight (首重) in grams, covered by ``first_fee``.
        first_fee: the price of the first weight (Money, or an amount such as ``"8.00"``).
        step_g: the step (续重) in grams; every started step beyond ``first_g`` costs ``step_fee``.
        step_fee: the price of one step.

    Raises:
        ValidationError: a weight that is not an int from 1 g to
            :data:`~govpost.shipments.MAX_WEIGHT_G`, a negative fee, an unknown zone.

    >>> step = ZoneStep(zone="same_city", first_g=500, first_fee="8.00", step_g=500, step_fee="1.00")
    >>> step.price(1001)
    Money('10.00', 'CNY')

    .. versionadded:: 0.1.0

    .. versionchanged:: 0.2.0
       Lives in :mod:`govpost.tariffs` (``govpost.agreements.ZoneStep`` is the same class); the
       constructor declares the types it accepts.
    """

    zone: Zone = attrs.field(converter=_zone)
    first_g: int = attrs.field(converter=_first_g)
    first_fee: Money = attrs.field(converter=_first_fee)
    step_g: int = attrs.field(converter=_step_g)
    step_fee: Money = attrs.field(converter=_step_fee)

    def steps(self, weight_g: int) -> int:
        """The number of started steps beyond the first weight: ``ceil(max(0, w - first) / step)``.

        The one home of the step formula: :meth:`price`, :meth:`Rate.quote
        <govpost.ratecards.Rate.quote>` and the settlement engine all count steps here.

        >>> ZoneStep(zone="same_city", first_g=500, first_fee="8", step_g=500, step_fee="1").steps(1001)
        2
        """
        over = weight_g - self.first_g
        return 0 if over <= 0 else -(-over // self.step_g)

    def price(self, weight_g: int) -> Money:
        """``first_fee + steps(weight_g) × step_fee``, exact."""
        return self.first_fee + self.step_fee * self.steps(weight_g)


class _Zoned(Protocol):
    @property
    def zone(self) -> Zone: ...


Z = TypeVar("Z", bound=_Zoned)


def _by_zone(values: object, kind: type[Z], what: str) -> tuple[Z, ...]:
    """``values`` as a tuple of ``kind``, each zone at most once, sorted near to far."""
    if isinstance(values, Mapping):
        raise ValidationError(f"{what} must be a list of {kind.__name__}, not a mapping")
    if isinstance(values, str | bytes) or not isinstance(values, Iterable):
        raise ValidationError(f"{what} {short(values)} must be a list of {kind.__name__}")
    items: list[Z] = []
    seen: set[Zone] = set()
    for item in values:
        if not isinstance(item, kind):
            raise ValidationError(f"{what} holds {short(item)}, not a {kind.__name__}")
        if item.zone in seen:
            raise ValidationError(
                f"{what} lists zone {item.zone.value!r} ({item.zone.label}) twice: "
                f"give each zone once"
            )
        seen.add(item.zone)
        items.append(item)
    return tuple(sorted(items, key=lambda item: item.zone.rank))


# --- zone order: a farther zone is never cheaper ---------------------------------------------------


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


class _Priced(Protocol):
    def price(self, weight_g: int) -> Money: ...


P = TypeVar("P", bound=_Priced)


def _check_zone_order(
    prices: Mapping[Zone, P], first_inversion: Callable[[P, P], int | None]
) -> None:
    """Refuse a tariff where a farther zone is cheaper than a nearer one.

    ``first_inversion(near, far)`` is the lightest weight at which ``far`` is cheaper, or ``None``.
    """
    ordered = sorted(prices, key=lambda z: z.rank)
    for near, far in itertools.pairwise(ordered):
        at = first_inversion(prices[near], prices[far])
        if at is not None:
            raise ValidationError(
                f"tariff zones are out of order: at {at} g, {far.label} ({far.value}) costs "
                f"{prices[far].price(at)} but the nearer {near.label} ({near.value}) costs "
                f"{prices[near].price(at)}; a farther zone may not be cheaper "
                f"(同城 ≤ 省内 ≤ 省外): check the prices of both zones"
            )


# --- weight tariffs ------------------------------------------------------------------------------


def _zone_steps(values: Iterable[ZoneStep]) -> tuple[ZoneStep, ...]:
    return _by_zone(values, ZoneStep, "WeightTariff zones")


def _check_weight_tariff(
    instance: WeightTariff, attribute: object, value: tuple[ZoneStep, ...]
) -> None:
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

    >>> tariff = WeightTariff(zones=[
    ...     ZoneStep(zone="in_province", first_g=500, first_fee="10", step_g=500, step_fee="2"),
    ...     ZoneStep(zone="same_city", first_g=500, first_fee="8", step_g=500, step_fee="1"),
    ... ])
    >>> [step.zone for step in tariff.zones]
    [<Zone.SAME_CITY: 'same_city'>, <Zone.IN_PROVINCE: 'in_province'>]

    .. versionadded:: 0.1.0

    .. versionchanged:: 0.2.0
       Lives in :mod:`govpost.tariffs` (``govpost.agreements.WeightTariff`` is the same class);
       the constructor and methods declare the types they accept; :meth:`for_zone` and
       :meth:`price` also take a zone's value.
    """

    zones: tuple[ZoneStep, ...] = attrs.field(converter=_zone_steps, validator=_check_weight_tariff)

    @classmethod
    def uniform(
        cls,
        *,
        first_g: int,
        step_g: int,
        first_fee: Mapping[Zone | str, Money | Decimal | str | int],
        step_fee: Mapping[Zone | str, Money | Decimal | str | int],
    ) -> Self:
        """A tariff with the same first weight and step in every zone; fees keyed by zone.

        Raises:
            ValidationError: ``first_fee`` and ``step_fee`` price different zones, or any check
                of :class:`ZoneStep` and :class:`WeightTariff`.

        >>> WeightTariff.uniform(
        ...     first_g=500, step_g=500, first_fee={"same_city": "8"}, step_fee={"same_city": "1"}
        ... ).price("same_city", 501)
        Money('9.00', 'CNY')
        """
        given: tuple[object, object] = (first_fee, step_fee)  # untyped callers pass anything
        if not all(isinstance(fees, Mapping) for fees in given):
            raise ValidationError(
                "first_fee and step_fee must be mappings of zone to fee, such as "
                "{'same_city': '8.00'}"
            )
        firsts = {_zone(k): v for k, v in first_fee.items()}
        steps = {_zone(k): v for k, v in step_fee.items()}
        if len(firsts) < len(first_fee) or len(steps) < len(step_fee):
            raise ValidationError("first_fee and step_fee must name each zone once")
        if set(firsts) != set(steps):
            raise ValidationError("first_fee and step_fee must price the same zones")
        return cls(
            zones=[
                ZoneStep(
                    zone=zone,
                    first_g=first_g,
                    first_fee=fee,
                    step_g=step_g,
                    step_fee=steps[zone],
                )
                for zone, fee in firsts.items()
            ]
        )

    @property
    def currency(self) -> str:
        """The currency of every price."""
        return self.zones[0].first_fee.currency

    def for_zone(self, zone: Zone | str) -> ZoneStep:
        """The prices of ``zone``.

        Raises:
            ValidationError: the tariff does not price that zone.
        """
        zone = _zone(zone)
        for step in self.zones:
            if step.zone is zone:
                return step
        priced = ", ".join(z.zone.value for z in self.zones)
        raise ValidationError(
            f"the tariff has no price for zone {zone.value!r} ({zone.label}); it prices "
            f"{priced}: add that zone to the rate card"
        )

    def price(self, zone: Zone | str, weight_g: int) -> Money:
        """The base postage of a piece, exact, before discount and surcharges."""
        return self.for_zone(zone).price(weight_g)


# --- flat tariffs --------------------------------------------------------------------------------


def _zone_price(value: Money | Decimal | str | int) -> Money:
    return _amount(value, "zone price")


@attrs.frozen(kw_only=True)
class ZonePrice:
    """A flat price for one zone, overriding :attr:`FlatTariff.price`.

    Args:
        zone: the zone (a :class:`~govpost.regions.Zone` or its value).
        price: the price of a piece in that zone.

    >>> ZonePrice(zone="out_of_province", price="15.00").price
    Money('15.00', 'CNY')

    .. versionadded:: 0.1.0

    .. versionchanged:: 0.2.0
       Lives in :mod:`govpost.tariffs` (``govpost.agreements.ZonePrice`` is the same class); the
       constructor declares the types it accepts.
    """

    zone: Zone = attrs.field(converter=_zone)
    price: Money = attrs.field(converter=_zone_price)


@attrs.frozen
class _Flat:
    amount: Money

    def price(self, weight_g: int) -> Money:
        return self.amount


def _flat_order(near: _Flat, far: _Flat) -> int | None:
    return 1 if far.amount < near.amount else None


def _flat_price(value: Money | Decimal | str | int) -> Money:
    return _amount(value, "flat price")


def _zone_prices(values: Iterable[ZonePrice]) -> tuple[ZonePrice, ...]:
    return _by_zone(values, ZonePrice, "FlatTariff zone_prices")


def _check_flat(instance: FlatTariff, attribute: object, value: tuple[ZonePrice, ...]) -> None:
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
        CurrencyMismatchError: prices in more than one currency.

    >>> FlatTariff(price="12.00").price
    Money('12.00', 'CNY')

    .. versionadded:: 0.1.0

    .. versionchanged:: 0.2.0
       Lives in :mod:`govpost.tariffs` (``govpost.agreements.FlatTariff`` is the same class);
       the constructor and :meth:`for_zone` declare the types they accept; :meth:`for_zone`
       also takes a zone's value.
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

    def for_zone(self, zone: Zone | str) -> Money:
        """The price of a piece in ``zone``.

        >>> FlatTariff(price="12.00", zone_prices=[ZonePrice(zone="out_of_province", price="15.00")]).for_zone("out_of_province")
        Money('15.00', 'CNY')
        """
        zone = _zone(zone)
        for item in self.zone_prices:
            if item.zone is zone:
                return item.price
        return self.price


#: A tariff prices one piece by zone and weight: a :class:`WeightTariff` or a
#: :class:`FlatTariff`.
#:
#: .. versionadded:: 0.1.0
#:
#: .. versionchanged:: 0.2.0
#:    Lives in :mod:`govpost.tariffs` (``govpost.agreements.Tariff`` is the same alias).
Tariff = WeightTariff | FlatTariff


# --- surcharges and the fee breakdown -------------------------------------------------------------


class SurchargeKind(enum.Enum):
    """A charge on top of postage.

    >>> SurchargeKind("insurance").label
    '保价费'

    .. versionadded:: 0.1.0

    .. versionchanged:: 0.2.0
       Lives in :mod:`govpost.tariffs` (``govpost.agreements.SurchargeKind`` is the same enum).
    """

    INSURANCE = "insurance"  #: 保价费
    RETURN_RECEIPT = "return_receipt"  #: 回执费

    @property
    def label(self) -> str:
        """The Chinese name."""
        return {SurchargeKind.INSURANCE: "保价费", SurchargeKind.RETURN_RECEIPT: "回执费"}[self]


def _insurance_rate(value: Decimal | str | int) -> Decimal:
    dec = _to_decimal(value, "insurance rate")
    if not 0 <= dec < 1:
        raise ValidationError(
            f"insurance rate {dec} must be a fraction of the declared value in [0, 1), "
            f"e.g. 0.01 for 1%"
        )
    return dec


def _insurance_minimum(value: Money | Decimal | str | int) -> Money:
    return _amount(value, "insurance minimum")


@attrs.frozen(kw_only=True)
class Insurance:
    """Insurance (保价): a rate of the declared value, never less than a minimum.

    Args:
        rate: fraction of the declared value, e.g. ``Decimal("0.01")`` or ``"0.01"``.
        minimum: the least an insured piece pays.

    >>> Insurance(rate="0.01", minimum="1.00").fee(Money("350.00"))
    Money('3.50', 'CNY')
    >>> Insurance(rate="0.01", minimum="1.00").fee(Money("50.00"))
    Money('1.00', 'CNY')

    .. versionadded:: 0.1.0

    .. versionchanged:: 0.2.0
       Lives in :mod:`govpost.tariffs` (``govpost.agreements.Insurance`` is the same class); the
       constructor declares the types it accepts.
    """

    rate: Decimal = attrs.field(converter=_insurance_rate)
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

    >>> Surcharge(kind=SurchargeKind.RETURN_RECEIPT, amount=Money("3.00")).kind.label
    '回执费'

    .. versionadded:: 0.1.0

    .. versionchanged:: 0.2.0
       Lives in :mod:`govpost.tariffs` (``govpost.agreements.Surcharge`` is the same class).
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

    .. versionchanged:: 0.2.0
       Lives in :mod:`govpost.tariffs` (``govpost.agreements.FeeBreakdown`` is the same class).
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

        >>> from govpost.ratecards import RateCard
        >>> card = RateCard.single(FlatTariff(price="12.50"), reference="黔邮〔2018〕1号")
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
