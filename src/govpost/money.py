"""Exact money: :class:`Money` and :func:`allocate`.

Amounts are :class:`~decimal.Decimal` and stay exact through ``+``, ``-`` and multiplication by an
integer or a Decimal; floats are refused because they cannot hold a fen exactly. There is one
rounding rule for money in govpost, half-up to the fen (四舍五入), applied explicitly with
:meth:`Money.rounded` — never the ambient decimal context, whose default is half-even::

    >>> from decimal import Decimal
    >>> price = Money("12.345")
    >>> price.rounded()
    Money('12.35', 'CNY')
    >>> str(Money("12.5"))
    '12.50 CNY'
    >>> sum([Money("0.10"), Money("0.20")], Money.zero())
    Money('0.30', 'CNY')

Splitting a whole into parts that add up exactly — a lump sum across centers, a discount across
lines — is :func:`allocate`'s job::

    >>> allocate(Money("100.00"), [1, 1, 1])
    [Money('33.34', 'CNY'), Money('33.33', 'CNY'), Money('33.33', 'CNY')]

.. versionadded:: 0.1.0
"""

from __future__ import annotations

import decimal
from collections.abc import Iterable
from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction
from typing import Any, Self

import attrs

from govpost.errors import CurrencyMismatchError, ValidationError, _short

__all__ = ["Money", "allocate"]

CENT = Decimal("0.01")

# Exact arithmetic: any operation whose result would need rounding traps instead of rounding
# silently, and the precision is far beyond any postage amount.
_EXACT = decimal.Context(
    prec=60,
    rounding=ROUND_HALF_UP,
    Emin=-999,
    Emax=999,
    traps=[
        decimal.InvalidOperation,
        decimal.Inexact,
        decimal.Overflow,
        decimal.Underflow,
        decimal.DivisionByZero,
        decimal.Clamped,
    ],
)


def _amount(value: Decimal | str | int) -> Decimal:
    """The converter of :attr:`Money.amount`: what a caller may pass, checked at run time."""
    return _to_decimal(value)


def _to_decimal(value: object, what: str = "amount") -> Decimal:
    """Normalise an amount given as Decimal, int or str; refuse floats and junk."""
    if isinstance(value, float):
        raise ValidationError(
            f"{what} {value!r} is a float; floats cannot hold fen exactly: "
            f'pass a str or Decimal such as "12.50"'
        )
    if isinstance(value, bool):
        raise ValidationError(
            f'{what} {value!r} is a bool, not an amount: pass a str, int or Decimal such as "12.50"'
        )
    if isinstance(value, Decimal):
        dec = value
    elif isinstance(value, int):
        dec = Decimal(value)
    elif isinstance(value, str):
        text = value.strip().replace(",", "")
        try:
            dec = Decimal(text)
        except decimal.InvalidOperation:
            raise ValidationError(
                f"{what} {_short(value)} is not a number: write it like '12.50'"
            ) from None
    else:
        raise ValidationError(
            f"{what} {_short(value)} of type {type(value).__name__} is not an amount: "
            f"pass a str, int or Decimal"
        )
    if not dec.is_finite():
        raise ValidationError(
            f"{what} {_short(value)} is not a finite number: give an amount such as '12.50'"
        )
    if len(dec.as_tuple().digits) > _EXACT.prec or abs(dec.adjusted()) > 200:
        raise ValidationError(
            f"{what} {_short(value)} is too large or too precise for money: money holds at "
            f"most {_EXACT.prec} digits; check the units, or round the amount first"
        )
    if dec.is_zero() and dec.is_signed():
        dec = dec.copy_abs()  # -0 and 0 are one amount; "-0.00" would only puzzle a reader
    return dec


def _currency(value: str) -> str:
    given: object = value  # untyped callers pass anything
    if not isinstance(given, str) or len(given) != 3 or not given.isascii() or not given.isalpha():
        raise ValidationError(
            f"currency {_short(given)} is not an ISO 4217 code: use three letters such as 'CNY'"
        )
    return given.upper()


def _exact(op: str, compute: Any) -> Decimal:
    try:
        result: Decimal = compute()
    except decimal.DecimalException as exc:
        raise ValidationError(
            f"{op} cannot be computed exactly within money's {_EXACT.prec} digits "
            f"({exc.__class__.__name__}): call .rounded() on the operands, or check the units"
        ) from None
    return result


def _plain(amount: Decimal) -> str:
    """Format without exponent, at least two decimals, never rounding."""
    if amount == amount.quantize(CENT, context=_LOOSE):
        return format(amount.quantize(CENT, context=_LOOSE), "f")
    return format(amount.normalize(_LOOSE), "f")


_LOOSE = decimal.Context(prec=400, rounding=ROUND_HALF_UP)


@attrs.frozen(repr=False, order=False)
class Money:
    """An exact amount of money in one currency.

    Args:
        amount: a ``Decimal``, ``int`` or ``str`` such as ``"12.50"``; a ``float`` is refused.
        currency: an ISO 4217 code, ``"CNY"`` by default.

    Raises:
        ValidationError: the amount is a float, not a number, or not finite; the currency is
            not three letters.

    >>> Money("12.50") + Money(3)
    Money('15.50', 'CNY')
    >>> Money("12.50") * 3
    Money('37.50', 'CNY')
    >>> Money(1.5)
    Traceback (most recent call last):
    ...
    govpost.errors.ValidationError: amount 1.5 is a float; floats cannot hold fen exactly: pass a str or Decimal such as "12.50"

    .. versionadded:: 0.1.0
    """

    amount: Decimal = attrs.field(converter=_amount)
    currency: str = attrs.field(default="CNY", converter=_currency)

    @classmethod
    def zero(cls, currency: str = "CNY") -> Self:
        """The zero amount, the identity of ``+`` (``sum(ms, Money.zero())``).

        >>> sum([Money("1.10"), Money("2.20")], Money.zero())
        Money('3.30', 'CNY')

        .. versionadded:: 0.1.0
        """
        return cls(Decimal(0), currency)

    @classmethod
    def from_fen(cls, fen: int, currency: str = "CNY") -> Self:
        """An amount given in minor units (fen): ``Money.from_fen(1250)`` is 12.50.

        Raises:
            ValidationError: ``fen`` is not an int.

        >>> Money.from_fen(1250)
        Money('12.50', 'CNY')

        .. versionadded:: 0.1.0
        """
        given: object = fen  # untyped callers pass anything
        if isinstance(given, bool) or not isinstance(given, int):
            raise ValidationError(f"fen {_short(given)} must be an int number of minor units")
        # scaleb with the exact context: the ambient one would round beyond 28 digits.
        return cls(_exact("from_fen", lambda: Decimal(fen).scaleb(-2, _EXACT)), currency)

    @property
    def fen(self) -> int:
        """The amount in minor units.

        Raises:
            ValidationError: the amount has a part smaller than a fen; call :meth:`rounded`
                first.

        >>> Money("12.50").fen
        1250
        """
        scaled = _exact("fen", lambda: self.amount.scaleb(2, _LOOSE))
        if scaled != scaled.to_integral_value(context=_LOOSE):
            raise ValidationError(
                f"{self} has more than 2 decimals and no whole number of fen: call .rounded() first"
            )
        return int(scaled)

    def rounded(self) -> Money:
        """This amount rounded half-up (四舍五入) to the fen; idempotent.

        >>> Money("0.125").rounded(), Money("-0.125").rounded()
        (Money('0.13', 'CNY'), Money('-0.13', 'CNY'))

        .. versionadded:: 0.1.0
        """
        return Money(
            _exact("rounding", lambda: self.amount.quantize(CENT, ROUND_HALF_UP, _LOOSE)),
            self.currency,
        )

    def is_zero(self) -> bool:
        """Whether the amount is exactly zero.

        .. versionadded:: 0.1.0
        """
        return self.amount == 0

    def _same(self, other: Money, op: str) -> None:
        if self.currency != other.currency:
            raise CurrencyMismatchError(
                f"cannot {op} {self} and {other}: convert one to the other's currency first"
            )

    def __add__(self, other: Money) -> Money:
        given: object = other  # untyped callers pass anything
        if not isinstance(given, Money):
            return NotImplemented
        self._same(other, "add")
        return Money(
            _exact("addition", lambda: _EXACT.add(self.amount, other.amount)), self.currency
        )

    def __sub__(self, other: Money) -> Money:
        given: object = other  # untyped callers pass anything
        if not isinstance(given, Money):
            return NotImplemented
        self._same(other, "subtract")
        return Money(
            _exact("subtraction", lambda: _EXACT.subtract(self.amount, other.amount)),
            self.currency,
        )

    def __neg__(self) -> Money:
        # copy_negate/copy_abs are exact; unary - and abs() would round in the ambient context.
        return Money(self.amount.copy_negate(), self.currency)

    def __pos__(self) -> Money:
        return self

    def __abs__(self) -> Money:
        return Money(self.amount.copy_abs(), self.currency)

    def __mul__(self, factor: int | Decimal) -> Money:
        given: object = factor  # untyped callers pass anything
        if isinstance(given, bool) or not isinstance(given, int | Decimal):
            raise ValidationError(
                f"cannot multiply {self} by {_short(given)} ({type(given).__name__}): "
                f"multiply money by an int or a Decimal only"
            )
        multiplier = _to_decimal(factor, "factor")
        return Money(
            _exact("multiplication", lambda: _EXACT.multiply(self.amount, multiplier)),
            self.currency,
        )

    __rmul__ = __mul__

    def _compare(self, other: Money, op: str) -> tuple[Decimal, Decimal] | None:
        given: object = other  # untyped callers pass anything
        if not isinstance(given, Money):
            return None
        self._same(given, op)
        return self.amount, given.amount

    def __lt__(self, other: Money) -> bool:
        pair = self._compare(other, "compare")
        return NotImplemented if pair is None else pair[0] < pair[1]

    def __le__(self, other: Money) -> bool:
        pair = self._compare(other, "compare")
        return NotImplemented if pair is None else pair[0] <= pair[1]

    def __gt__(self, other: Money) -> bool:
        pair = self._compare(other, "compare")
        return NotImplemented if pair is None else pair[0] > pair[1]

    def __ge__(self, other: Money) -> bool:
        pair = self._compare(other, "compare")
        return NotImplemented if pair is None else pair[0] >= pair[1]

    def __str__(self) -> str:
        return f"{_plain(self.amount)} {self.currency}"

    def __repr__(self) -> str:
        return f"Money({_plain(self.amount)!r}, {self.currency!r})"

    def to_str(self) -> str:
        """The amount alone as the wire format writes it: ``"12.50"``.

        >>> Money("12.5").to_str()
        '12.50'

        .. versionadded:: 0.1.0
        """
        return _plain(self.amount)


def _weight(value: object, index: int) -> Fraction:
    if isinstance(value, bool) or not isinstance(value, int | Decimal):
        raise ValidationError(
            f"weight #{index} {_short(value)} must be an int or Decimal "
            f"(floats are refused: they would make the split depend on binary rounding)"
        )
    if isinstance(value, Decimal) and not value.is_finite():
        raise ValidationError(f"weight #{index} {value!r} is not finite")
    if value < 0:
        raise ValidationError(f"weight #{index} is {value}; weights must be >= 0")
    return Fraction(value)


def allocate(total: Money, weights: Iterable[int | Decimal]) -> list[Money]:
    """Split ``total`` into shares proportional to ``weights``, exactly, to the fen.

    The largest-remainder method: every share is the floor or the ceiling (in fen) of its exact
    proportional share; the shares add up to ``total`` exactly; a zero weight gets zero; the
    leftover fen go to the largest remainders, ties to the earlier index; and
    ``allocate(-t, w) == [-s for s in allocate(t, w)]``.

    Args:
        total: the amount to split; it must be a whole number of fen.
        weights: non-negative ``int`` or ``Decimal`` weights (pieces, days, ...), not all zero.

    Raises:
        ValidationError: ``total`` has fractions of a fen; a weight is negative, a float, or all
            weights are zero; there are no weights.

    >>> allocate(Money("10.00"), [3, 0, 1])
    [Money('7.50', 'CNY'), Money('0.00', 'CNY'), Money('2.50', 'CNY')]
    >>> allocate(Money("-0.05"), [1, 1])
    [Money('-0.03', 'CNY'), Money('-0.02', 'CNY')]

    .. versionadded:: 0.1.0
    """
    given_total: object = total  # untyped callers pass anything
    given_weights: object = weights
    if not isinstance(given_total, Money):
        raise ValidationError(f"total {_short(given_total)} must be a Money, e.g. Money('100.00')")
    if isinstance(given_weights, str | bytes) or not isinstance(given_weights, Iterable):
        raise ValidationError(
            f"weights {_short(given_weights)} must be a list of ints or Decimals, e.g. pieces "
            f"per center"
        )
    parts = [_weight(w, i) for i, w in enumerate(given_weights)]
    if not parts:
        raise ValidationError("allocate() needs at least one weight")
    whole = sum(parts, Fraction(0))
    if whole == 0:
        raise ValidationError(
            f"all {len(parts)} weights are zero: there is no proportion to split {total} by"
        )
    fen = total.fen
    sign = -1 if fen < 0 else 1
    magnitude = abs(fen)
    exact = [magnitude * w / whole for w in parts]
    floors = [int(x) for x in exact]  # non-negative, so int() is the floor
    leftover = magnitude - sum(floors)
    order = sorted(range(len(parts)), key=lambda i: (-(exact[i] - floors[i]), i))
    for i in order[:leftover]:
        floors[i] += 1
    return [Money.from_fen(sign * f, total.currency) for f in floors]
