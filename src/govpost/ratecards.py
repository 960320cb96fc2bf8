"""Rate cards: effective-dated rates, each with the document that set it.

A :class:`Rate` is a tariff (:mod:`govpost.tariffs`) with its surcharges (保价 insurance as a rate
with a minimum, 回执 return receipt), valid over business dates ``[valid_from, valid_until)``,
with the ``reference`` of the document that set it. A :class:`RateCard` is the effective-dated
sequence of rates — contiguous, never overlapping — so that any instant maps to exactly one rate::

    >>> from datetime import date
    >>> from govpost.tariffs import FlatTariff
    >>> card = RateCard(name="EMS 政务寄递资费", rates=[
    ...     Rate(valid_from=date(2018, 1, 1), valid_until=date(2018, 6, 16),
    ...          reference="黔邮〔2018〕3号", tariff=FlatTariff(price="12.00")),
    ...     Rate(valid_from=date(2018, 6, 16), reference="黔邮〔2018〕9号",
    ...          tariff=FlatTariff(price="11.00")),
    ... ])
    >>> card.rate_on(date(2018, 6, 16)).reference
    '黔邮〔2018〕9号'

:meth:`Rate.quote` returns the amount of a piece together with its
:class:`~govpost.tariffs.FeeBreakdown`, so that a statement line can be explained to an auditor.

Rate cards are data: an agency keeps its tariffs in files, not code. :meth:`RateCard.from_toml`,
:meth:`RateCard.to_toml`, :meth:`RateCard.from_json` and :meth:`RateCard.to_json` go through
govpost's one converter (:func:`govpost.serialization.from_toml` and friends), so a card file
is read with the same bounds, and names a bad field by the same path, as any wire document::

    >>> RateCard.from_toml(card.to_toml()) == card
    True

.. versionadded:: 0.2.0
   The module; :class:`Rate` and :class:`RateCard` were in :mod:`govpost.agreements`, which
   still exports them.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Mapping
from datetime import date, datetime
from decimal import Decimal
from typing import Any, Self

import attrs

from govpost._fields import short, text
from govpost._limits import check_year
from govpost.errors import CurrencyMismatchError, ValidationError
from govpost.money import Money
from govpost.periods import business_date
from govpost.regions import Zone
from govpost.shipments import Shipment
from govpost.tariffs import (
    FeeBreakdown,
    FlatTariff,
    Insurance,
    Surcharge,
    SurchargeKind,
    Tariff,
    WeightTariff,
    _amount,
    _fraction,
    _grams,
    _same_currency,
    _zone,
)

__all__ = ["Rate", "RateCard"]


# --- dates (shared with govpost.agreements) --------------------------------------------------------


def _day(value: object, what: str) -> date:
    """``value`` as a business date in the years of the wire format."""
    if isinstance(value, datetime) or not isinstance(value, date):
        raise ValidationError(
            f"{what} {short(value)} must be a datetime.date such as date(2018, 6, 1) (a "
            f"business date in Asia/Shanghai), not {type(value).__name__}"
        )
    check_year(
        value,
        f"{what} {value}",
        scope="agreements and rates hold dates from",
        hint=", the years of the wire format",
    )
    return value


def _valid_from(value: date) -> date:
    return _day(value, "valid_from")


def _valid_until(value: date | None) -> date | None:
    return None if value is None else _day(value, "valid_until")


# --- rates ---------------------------------------------------------------------------------------


def _rate_reference(value: str) -> str:
    return text(value, "rate reference", max_len=300)


def _tariff(value: WeightTariff | FlatTariff) -> WeightTariff | FlatTariff:
    given: object = value  # untyped callers pass anything
    if not isinstance(given, WeightTariff | FlatTariff):
        raise ValidationError(f"tariff {short(given)} must be a WeightTariff or a FlatTariff")
    return given


def _insurance(value: Insurance | None) -> Insurance | None:
    given: object = value  # untyped callers pass anything
    if given is not None and not isinstance(given, Insurance):
        raise ValidationError(
            f"insurance {short(given)} must be an Insurance such as "
            f"Insurance(rate='0.005', minimum='1.00') or None"
        )
    return value


def _receipt_fee(value: Money | Decimal | str | int | None) -> Money | None:
    return None if value is None else _amount(value, "return receipt fee")


def _check_rate(instance: Rate, attribute: object, value: Money | None) -> None:
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

    >>> from datetime import date
    >>> rate = Rate(valid_from=date(2018, 1, 1), reference="黔邮〔2018〕3号",
    ...             tariff=FlatTariff(price="12.00"), return_receipt="3.00")
    >>> rate.quote(zone="same_city", weight_g=300, return_receipt=True).amount
    Money('15.00', 'CNY')

    .. versionadded:: 0.1.0

    .. versionchanged:: 0.2.0
       Lives in :mod:`govpost.ratecards` (``govpost.agreements.Rate`` is the same class); the
       constructor and :meth:`quote` declare the types they accept; :meth:`quote` also takes a
       zone's value.
    """

    valid_from: date = attrs.field(converter=_valid_from)
    valid_until: date | None = attrs.field(default=None, converter=_valid_until)
    reference: str = attrs.field(converter=_rate_reference)
    tariff: WeightTariff | FlatTariff = attrs.field(converter=_tariff)
    insurance: Insurance | None = attrs.field(default=None, converter=_insurance)
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
        zone: Zone | str,
        weight_g: int,
        declared_value: Money | None = None,
        return_receipt: bool = False,
        discount: Decimal | str | int = 0,
    ) -> FeeBreakdown:
        """The amount of one piece and its breakdown.

        Args:
            zone: the zone from origin to destination (a Zone or its value).
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
        zone = _zone(zone)
        weight = _grams(weight_g, "weight")
        rate = _fraction(discount, "discount")
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


# --- rate cards ----------------------------------------------------------------------------------


def _card_name(value: str) -> str:
    return text(value, "rate card name", max_len=300)


def _rates(values: Rate | Iterable[Rate]) -> tuple[Rate, ...]:
    given: object = (values,) if isinstance(values, Rate) else values
    if isinstance(given, str | bytes | Mapping) or not isinstance(given, Iterable):
        raise ValidationError(f"rates {short(given)} must be a list of Rate")
    items = list(given)
    if not items:
        raise ValidationError("a rate card needs at least one Rate")
    for item in items:
        if not isinstance(item, Rate):
            raise ValidationError(f"rates holds {short(item)}, not a Rate")
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

    .. versionchanged:: 0.2.0
       Lives in :mod:`govpost.ratecards` (``govpost.agreements.RateCard`` is the same class);
       reads and writes files through :mod:`govpost.serialization` (:meth:`to_toml` now writes
       with ``tomli-w``: the same data, laid out differently); the constructor and methods
       declare the types they accept.
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
        return_receipt: Money | Decimal | str | int | None = None,
        name: str | None = None,
    ) -> Self:
        """A card with one open-ended rate, for a tariff that never changed.

        Args:
            tariff: the tariff of the one rate.
            reference: the document that set it; also the card's name unless ``name`` is given.
            valid_from: the first business date it applies (by default the earliest date
                govpost holds).
            insurance: the 保价 surcharge, if offered.
            return_receipt: the price of a return receipt, if offered.
            name: the card's name.

        >>> RateCard.single(FlatTariff(price="12.00"), reference="R1").rates[0].valid_until is None
        True
        """
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

    # -- files: through govpost.serialization (imported on first use: it loads cattrs) ---------

    @classmethod
    def from_data(cls, data: object) -> Self:
        """A rate card from plain data (parsed JSON or TOML) in govpost's wire format.

        Raises:
            DeserializationError: naming the path of every bad field; data nested deeper than
                64 levels (or holding itself).

        >>> RateCard.from_data({"name": "R1", "rates": [{"valid_from": "2018-01-01",
        ...     "reference": "R1", "tariff": {"price": {"amount": "12.00"}}}]}).name
        'R1'
        """
        from govpost.serialization import _from_toml_data

        return _from_toml_data(data, cls)

    @classmethod
    def from_json(cls, text: str | bytes) -> Self:
        """A rate card from a JSON document: :func:`govpost.serialization.from_json`.

        Total: any text gives a card or a :class:`~govpost.errors.DeserializationError`, in
        time bounded by the text's size — validating a tariff costs the same whatever its
        weights and steps.

        Raises:
            DeserializationError: not UTF-8 JSON, nested more than 64 deep, ``NaN``, a lone
                surrogate, or naming the path of every bad field.

        >>> card = RateCard.single(FlatTariff(price="12.00"), reference="R1")
        >>> RateCard.from_json(card.to_json()) == card
        True
        """
        from govpost.serialization import from_json

        return from_json(text, cls)

    @classmethod
    def from_toml(cls, text: str | bytes) -> Self:
        """A rate card from a TOML document: :func:`govpost.serialization.from_toml`.

        TOML dates are read as business dates. Total: any text gives a card or a
        :class:`~govpost.errors.DeserializationError`, in time bounded by the text's size.

        Raises:
            DeserializationError: not UTF-8 TOML, nested more than 64 deep, a lone surrogate,
                or naming the path of every bad field.

        >>> card = RateCard.from_toml('''
        ... name = "EMS"
        ... [[rates]]
        ... valid_from = 2018-01-01
        ... reference = "黔邮〔2018〕1号"
        ... tariff = { price = { amount = "12.00" } }
        ... ''')
        >>> card.rates[0].tariff
        FlatTariff(price=Money('12.00', 'CNY'), zone_prices=())

        .. versionchanged:: 0.2.0
           Also reads UTF-8 bytes.
        """
        from govpost.serialization import from_toml

        return from_toml(text, cls)

    def to_toml(self) -> str:
        """The card as a TOML document that :meth:`from_toml` reads back unchanged.

        :func:`govpost.serialization.to_toml`: dates are TOML dates, amounts strings.

        >>> card = RateCard.single(FlatTariff(price="12.00"), reference="R1")
        >>> print(card.to_toml())
        name = "R1"
        <BLANKLINE>
        [[rates]]
        valid_from = 1900-01-01
        reference = "R1"
        <BLANKLINE>
        [rates.tariff]
        zone_prices = []
        <BLANKLINE>
        [rates.tariff.price]
        amount = "12.00"
        currency = "CNY"
        <BLANKLINE>
        >>> RateCard.from_toml(card.to_toml()) == card
        True
        """
        from govpost.serialization import to_toml

        return to_toml(self)

    def to_data(self) -> dict[str, Any]:
        """The card as plain data in govpost's wire format (what :meth:`from_data` reads).

        >>> RateCard.single(FlatTariff(price="12.00"), reference="R1").to_data()["rates"][0]["valid_from"]
        '1900-01-01'
        """
        from govpost.serialization import to_primitive

        data: dict[str, Any] = to_primitive(self)
        return data

    def to_json(self, *, indent: int | None = 2) -> str:
        """The card as a JSON document: :func:`govpost.serialization.to_json`.

        >>> print(RateCard.single(FlatTariff(price="12.00"), reference="R1").to_json(indent=None))
        {"name": "R1", "rates": [{"valid_from": "1900-01-01", "valid_until": null, "reference": "R1", "tariff": {"price": {"amount": "12.00", "currency": "CNY"}, "zone_prices": []}, "insurance": null, "return_receipt": null}]}
        """
        from govpost.serialization import to_json

        return to_json(self, indent=indent)
