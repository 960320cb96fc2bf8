"""Amounts in Chinese capital numerals (大写金额), as finance offices write them (private)."""

from __future__ import annotations

from govpost.errors import ValidationError
from govpost.money import Money

_DIGITS = "零壹贰叁肆伍陆柒捌玖"
_PLACES = ("", "拾", "佰", "仟")
_YI = 10**8


def _group(value: int) -> str:
    """A number 1..9999 without leading zero: internal runs of zeros become one 零."""
    out: list[str] = []
    zero = False
    for place in range(3, -1, -1):
        digit = value // 10**place % 10
        if digit == 0:
            zero = bool(out)
            continue
        if zero:
            out.append("零")
            zero = False
        out.append(_DIGITS[digit] + _PLACES[place])
    return "".join(out)


def _below_yi(value: int) -> str:
    """A number 1..10^8 - 1: 万 groups, one 零 for any run of zeros between them."""
    high, low = divmod(value, 10000)
    if not high:
        return _group(low)
    text = _group(high) + "万"
    if low:
        text += ("零" if low < 1000 else "") + _group(low)
    return text


def _integer(value: int) -> str:
    """A positive number: the part above 亿 is itself a number of 亿 (so 亿 never repeats:
    壹万零壹亿, not 壹万亿零壹亿), the rest below it, with 零 for any zeros between."""
    if value >= 10**16:
        raise ValidationError("amount is too large to write in capital numerals (at most 10^16)")
    high, low = divmod(value, _YI)
    if not high:
        return _below_yi(low)
    text = _below_yi(high) + "亿"
    if low:
        text += ("零" if low < 10**7 else "") + _below_yi(low)
    return text


def amount_in_words(amount: Money) -> str:
    """``amount`` in Chinese capital numerals (大写金额), as written on finance documents.

    The rules of the payment-settlement measures (《支付结算办法》): ``元`` after the yuan,
    ``整`` when there are no fen (and no jiao), one ``零`` for any run of zeros inside the
    number, ``零`` between yuan and fen when the jiao is zero, ``拾`` always preceded by its
    digit (壹拾). From 10^8 on, the part above ``亿`` is itself written as a number of 亿, so
    ``亿`` never repeats (壹万零壹亿, not 壹万亿零壹亿). An amount below one yuan starts at its
    jiao or fen; a negative amount is prefixed with ``负``.

    Args:
        amount: a whole number of fen (round it first).

    Raises:
        ValidationError: the amount has fractions of a fen, or is 10^16 or more.

    >>> amount_in_words(Money("1480.00"))
    '壹仟肆佰捌拾元整'
    >>> amount_in_words(Money("1006.05"))
    '壹仟零陆元零伍分'
    >>> amount_in_words(Money("0.50")), amount_in_words(Money("100000.30"))
    ('伍角', '壹拾万元叁角')
    >>> amount_in_words(Money("-12.8"))
    '负壹拾贰元捌角'
    >>> amount_in_words(Money("1000100000000.00"))
    '壹万零壹亿元整'

    .. versionadded:: 0.1.0

    .. versionchanged:: 0.2.0
       Amounts of 10^12 and more no longer repeat 亿.
    """
    if not isinstance(amount, Money):
        raise ValidationError(f"amount_in_words() takes a Money, not {type(amount).__name__}")
    fen = amount.fen
    sign = "负" if fen < 0 else ""
    yuan, rest = divmod(abs(fen), 100)
    jiao, cents = divmod(rest, 10)
    if yuan == 0 and rest == 0:
        return "零元整"
    text = _integer(yuan) + "元" if yuan else ""
    if jiao:
        text += _DIGITS[jiao] + "角"
    elif cents and yuan:
        text += "零"
    if cents:
        text += _DIGITS[cents] + "分"
    elif not jiao:
        text += "整"
    return sign + text
