"""Amounts in Chinese capital numerals (大写金额), as finance offices write them (private)."""

from __future__ import annotations

from govpost.errors import ValidationError
from govpost.money import Money

_DIGITS = "零壹贰叁肆伍陆柒捌玖"
_PLACES = ("", "拾", "佰", "仟")
_GROUPS = ("", "万", "亿", "万亿")


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


def _integer(value: int) -> str:
    groups: list[int] = []
    while value:
        groups.append(value % 10000)
        value //= 10000
    if len(groups) > len(_GROUPS):
        raise ValidationError("amount is too large to write in capital numerals (at most 10^16)")
    out: list[str] = []
    pending_zero = False
    for index in range(len(groups) - 1, -1, -1):
        group = groups[index]
        if group == 0:
            pending_zero = bool(out)
            continue
        if out and (pending_zero or group < 1000):
            out.append("零")
        out.append(_group(group) + _GROUPS[index])
        pending_zero = False
    return "".join(out)


def amount_in_words(amount: Money) -> str:
    """``amount`` in Chinese capital numerals (大写金额), as written on finance documents.

    The rules of the payment-settlement measures (《支付结算办法》): ``元`` after the yuan,
    ``整`` when there are no fen (and no jiao), one ``零`` for any run of zeros inside the
    number, ``零`` between yuan and fen when the jiao is zero, ``拾`` always preceded by its
    digit (壹拾). An amount below one yuan starts at its jiao or fen; a negative amount is
    prefixed with ``负``.

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

    .. versionadded:: 0.1.0
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
