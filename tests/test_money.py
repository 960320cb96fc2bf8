"""Money and allocation: examples, bad input, and the invariants of ARCHITECTURE.md."""

from __future__ import annotations

import decimal
from decimal import Decimal
from fractions import Fraction

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from govpost import CurrencyMismatchError, Money, ValidationError, allocate
from tests.strategies import amounts, fen_amounts, money, weights

# --- examples ----------------------------------------------------------------------------------


def test_str_and_repr_show_two_decimals() -> None:
    assert str(Money("12.5")) == "12.50 CNY"
    assert repr(Money(3, "usd")) == "Money('3.00', 'USD')"
    assert str(Money("1.005")) == "1.005 CNY"


def test_half_up_not_half_even() -> None:
    assert Money("0.125").rounded() == Money("0.13")
    assert Money("0.135").rounded() == Money("0.14")
    assert Money("2.675").rounded() == Money("2.68")
    assert Money("-2.675").rounded() == Money("-2.68")


def test_rounding_ignores_the_ambient_context() -> None:
    with decimal.localcontext() as ctx:
        ctx.rounding = decimal.ROUND_HALF_EVEN
        ctx.prec = 3
        assert Money("0.125").rounded() == Money("0.13")
        assert Money("123456.785").rounded() == Money("123456.79")
        assert Money("123456.78") + Money("0.01") == Money("123456.79")


def test_fen() -> None:
    assert Money("12.50").fen == 1250
    assert Money("-0.01").fen == -1
    assert Money("12.500").fen == 1250
    assert Money.from_fen(1250) == Money("12.50")
    with pytest.raises(ValidationError, match=r"call \.rounded\(\) first"):
        _ = Money("0.125").fen


def test_arithmetic() -> None:
    assert Money("12.50") + Money("0.5") == Money("13")
    assert Money("12.50") - Money("13") == Money("-0.50")
    assert -Money("1.20") == Money("-1.2")
    assert Money("1.20") * 3 == Money("3.60")
    assert 3 * Money("1.20") == Money("3.60")
    assert Money("12.80") * Decimal("0.85") == Money("10.88")
    assert sum([Money("1.10"), Money("2.20")], Money.zero()) == Money("3.30")
    assert Money("1") < Money("2") <= Money("2.00")
    assert Money("3") > Money("2") >= Money("2")


@pytest.mark.parametrize("bad", [1.5, float("nan"), True, None, "abc", "", b"1", [1], "inf", "NaN"])
def test_bad_amounts_are_refused(bad: object) -> None:
    with pytest.raises(ValidationError):
        Money(bad)  # type: ignore[arg-type]


@pytest.mark.parametrize("bad", ["RMB1", "cn", "", 156, None, "元元元"])
def test_bad_currencies_are_refused(bad: object) -> None:
    with pytest.raises(ValidationError, match="ISO 4217"):
        Money("1", bad)  # type: ignore[arg-type]


def test_float_message_names_the_value_and_fix() -> None:
    with pytest.raises(ValidationError) as info:
        Money(12.8)  # type: ignore[arg-type]
    assert "12.8" in str(info.value)
    assert "Decimal" in str(info.value)


def test_currency_mismatch() -> None:
    with pytest.raises(CurrencyMismatchError, match=r"12\.00 CNY and 1\.00 USD"):
        Money("12") + Money("1", "USD")
    with pytest.raises(CurrencyMismatchError):
        _ = Money("12") < Money("1", "USD")


def test_multiplying_by_float_or_money_is_refused() -> None:
    with pytest.raises(ValidationError, match="float"):
        Money("1") * 0.85  # type: ignore[operator]
    with pytest.raises(ValidationError, match="int or a Decimal"):
        Money("1") * Money("2")  # type: ignore[operator]


def test_overflowing_precision_is_an_error_not_a_silent_rounding() -> None:
    huge = Money("1" * 59)
    with pytest.raises(ValidationError, match="exactly"):
        huge * Decimal("1.000000000000001")


def test_bool_is_refused_as_a_bool_not_as_a_float() -> None:
    with pytest.raises(ValidationError, match=r"amount True is a bool, not an amount") as info:
        Money(True)  # type: ignore[arg-type]
    assert "float" not in str(info.value)


def test_negation_abs_and_fen_stay_exact_beyond_the_ambient_precision() -> None:
    """Regression: unary -, abs(), from_fen and .fen used the ambient context (28 digits)."""
    digits = "1234567890123456789012345678901234567"  # 37 digits, more than the default 28
    big = Money(digits + ".89")
    assert Money("-" + digits + ".89") == -big
    assert big == abs(-big)
    assert int(digits + "89") == big.fen
    assert big == Money.from_fen(int(digits + "89"))
    with decimal.localcontext() as ctx:
        ctx.prec = 3
        assert Money("-1234.56") == -Money("1234.56")
        assert 123456 == Money("1234.56").fen


def test_negative_zero_is_plain_zero() -> None:
    assert "0.00 CNY" == str(-Money.zero())
    assert "0.00 CNY" == str(Money("-0.00"))
    assert "0.00 CNY" == str(Money("-0.004").rounded())


def test_allocate_examples() -> None:
    assert allocate(Money("100.00"), [1, 1, 1]) == [Money("33.34"), Money("33.33"), Money("33.33")]
    assert allocate(Money("0.02"), [1, 1, 1]) == [Money("0.01"), Money("0.01"), Money("0")]
    assert allocate(Money("10"), [Decimal("0.5"), 0, Decimal("1.5")]) == [
        Money("2.50"),
        Money("0"),
        Money("7.50"),
    ]


@pytest.mark.parametrize(
    ("total", "ws", "message"),
    [
        (Money("1.005"), [1], "call .rounded"),
        (Money("1"), [], "at least one weight"),
        (Money("1"), [0, 0], "all 2 weights are zero"),
        (Money("1"), [1, -1], "must be >= 0"),
        (Money("1"), [0.5], "floats are refused"),
    ],
)
def test_allocate_bad_input(total: Money, ws: list[object], message: str) -> None:
    with pytest.raises(ValidationError, match=message.replace(".", r"\.")):
        allocate(total, ws)  # type: ignore[arg-type]


# --- invariants ----------------------------------------------------------------------------------


@given(st.floats(allow_nan=True, allow_infinity=True))
def test_float_always_refused(value: float) -> None:
    """Money refuses every float, whatever its value."""
    with pytest.raises(ValidationError):
        Money(value)  # type: ignore[arg-type]


@given(money(), money())
def test_addition_commutes(a: Money, b: Money) -> None:
    """a + b == b + a."""
    assert a + b == b + a


@given(money(), money(), money())
def test_addition_associates(a: Money, b: Money, c: Money) -> None:
    """(a + b) + c == a + (b + c), exactly."""
    assert (a + b) + c == a + (b + c)


@given(money())
def test_zero_is_identity(a: Money) -> None:
    """a + 0 == a and a - a == 0."""
    assert a + Money.zero() == a
    assert (a - a).is_zero()


@given(money("CNY"), money("USD"))
def test_currency_mixing_refused(a: Money, b: Money) -> None:
    """Adding or comparing amounts of different currencies raises CurrencyMismatchError."""
    with pytest.raises(CurrencyMismatchError):
        a + b
    with pytest.raises(CurrencyMismatchError):
        _ = a <= b


@given(amounts)
def test_rounding_error_at_most_half_a_fen(amount: Decimal) -> None:
    """|rounded(a) - a| <= 0.005 and the result is a whole number of fen."""
    r = Money(amount).rounded()
    assert abs(r.amount - amount) <= Decimal("0.005")
    assert r.fen * Decimal("0.01") == r.amount


@given(amounts)
def test_rounding_idempotent(amount: Decimal) -> None:
    """rounded(rounded(a)) == rounded(a)."""
    once = Money(amount).rounded()
    assert once.rounded() == once


@given(amounts)
def test_rounding_symmetric_under_negation(amount: Decimal) -> None:
    """rounded(-a) == -rounded(a): half-up rounds halves away from zero on both sides."""
    assert Money(-amount).rounded() == -Money(amount).rounded()


@given(amounts)
def test_half_up_exactly(amount: Decimal) -> None:
    """Rounding matches the definition: floor(|a| * 100 + 1/2) / 100 with a's sign."""
    exact = Fraction(abs(amount)) * 100 + Fraction(1, 2)
    expected = Decimal(int(exact)) / 100 * (1 if amount >= 0 else -1)
    assert Money(amount).rounded().amount == expected


@given(fen_amounts, st.lists(weights, min_size=1, max_size=30))
def test_allocation_sums_exactly(total: Decimal, ws: list[int | Decimal]) -> None:
    """The shares add up to the total exactly."""
    assume(any(w > 0 for w in ws))
    shares = allocate(Money(total), ws)
    assert sum(shares, Money.zero()) == Money(total)
    assert len(shares) == len(ws)


@given(fen_amounts, st.lists(weights, min_size=1, max_size=30))
def test_allocation_shares_are_floor_or_ceiling(total: Decimal, ws: list[int | Decimal]) -> None:
    """Each share, in fen, is the floor or the ceiling of its exact proportional share, and a
    zero weight gets exactly zero."""
    assume(any(w > 0 for w in ws))
    whole = sum(Fraction(w) for w in ws)
    shares = allocate(Money(total), ws)
    for share, w in zip(shares, ws, strict=True):
        exact = Money(total).fen * Fraction(w) / whole
        assert share.fen in {exact.__floor__(), exact.__ceil__()}
        if w == 0:
            assert share.is_zero()


@given(fen_amounts, st.lists(weights, min_size=1, max_size=30))
def test_allocation_negation_symmetric(total: Decimal, ws: list[int | Decimal]) -> None:
    """allocate(-t, w) == [-s for s in allocate(t, w)]."""
    assume(any(w > 0 for w in ws))
    assert allocate(-Money(total), ws) == [-s for s in allocate(Money(total), ws)]


@given(st.integers(min_value=0, max_value=10**6), st.integers(min_value=1, max_value=50))
def test_allocation_ties_go_to_earlier_index(fen: int, n: int) -> None:
    """With equal weights, the leftover fen go to the first shares: shares never increase."""
    shares = [s.fen for s in allocate(Money.from_fen(fen), [1] * n)]
    assert shares == sorted(shares, reverse=True)
    assert max(shares) - min(shares) <= 1
