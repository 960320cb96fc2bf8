"""Shared converters and checks for the fields of govpost's models (private).

attrs converters must be named functions for mypy's attrs plugin, so each model defines small
named converters that call these.
"""

from __future__ import annotations

import enum
import re
import unicodedata
from collections.abc import Iterable
from datetime import datetime
from typing import TypeVar

from govpost._limits import check_utf8, check_year
from govpost.errors import ValidationError
from govpost.privacy import scrub
from govpost.regions import Division

E = TypeVar("E", bound=enum.Enum)

#: The heaviest piece govpost records or prices, in grams: the one weight limit of shipments,
#: tariffs and settlement rows (exported as ``govpost.shipments.MAX_WEIGHT_G`` and
#: ``govpost.agreements.MAX_WEIGHT_G``).
MAX_WEIGHT_G = 1_000_000

#: How ``repr`` writes the whitespace people put between the groups of a number.
#: The one pattern of codes: a center, an agreement, a department — 1–64 ASCII letters, digits,
#: ``-``, ``_`` or ``.``, starting with a letter or digit.
CODE = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.\-]{0,63}")

#: An id that is also a key at the carrier (a shipment or order id, a service code): a
#: :data:`CODE` that may also hold ``:``.
ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.:\-]{0,63}")

#: A carrier's event id: 1–128 characters, none of them whitespace, a control or a lone
#: surrogate.
EVENT_ID = re.compile(r"[^\s\x00-\x1f\x7f\ud800-\udfff]{1,128}")

_ESCAPED_SPACE = re.compile(
    r"\\(?:[tnrfv]|x(?:0b|0c|1[c-f]|85|a0)|u(?:1680|200[0-9a]|202[89f]|205f|3000))"
)


def short(value: object, width: int = 40, *, code: bool = False) -> str:
    """``repr(value)`` scrubbed and cut to ``width`` characters: how a message shows junk input.

    The one home of this rule; modules that must stay light to import reach it through
    ``govpost.errors._short``, which imports this module on first use.

    Junk may be personal data typed into the wrong field, so the recognisable personal numbers
    in it are masked (:func:`govpost.privacy.scrub`) — before the cut, so that a cut never
    leaves half a number unrecognised, and, for a string, before ``repr``, which writes a tab,
    a no-break space or an ideographic space between the groups of a number as an escape
    (``\\t``, ``\\xa0``, ``\\u3000``) the scrubber would not take for a separator. ``repr``
    escapes what cannot be printed (a lone surrogate), so the message can always be encoded.

    >>> short("call 13985212345"), short("x" * 50), short("139\\t8521\\t2345")
    ("'call 139****2345'", "'xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx...", "'139****2345'")

    ``code=True`` shows a value that should have been a code (a tracking number, a division
    code, which are not personal data themselves): every character without an ASCII form (a
    full-width ``Ａ`` has one, a Chinese character has none) becomes ``*``, since a code has no
    such characters and a name typed into the field could not be recognised otherwise.

    >>> short("张三 13985212345", code=True)
    "'** 139****2345'"
    """
    # Scrubbing never shrinks text below a quarter of its length (a masked number loses at
    # most its separators, three between digits), so scrubbing the first 4 × width + 80
    # characters finds every number that could show within the width, without scanning
    # megabytes.
    head = 4 * width + 80
    if isinstance(value, str):
        text = repr(scrub(value[:head]))
    else:  # strings inside a list or dict: their escaped spaces still part the groups
        text = _ESCAPED_SPACE.sub(" ", repr(value)[:head])
        text = scrub(text)
    text = text if len(text) <= width else text[: width - 3] + "..."
    if code:
        return "".join(c if unicodedata.normalize("NFKC", c).isascii() else "*" for c in text)
    return text


def coerce_enum(kind: type[E], value: object, what: str | None = None) -> E:
    """``value`` as a member of ``kind``, accepting the member or its wire value.

    ``what`` names the field in the error message (``"zone 'x' is not a Zone; ..."``).
    """
    if isinstance(value, kind):
        return value
    try:
        return kind(value)
    except ValueError:
        choices = ", ".join(repr(m.value) for m in kind)
        shown = short(value, code=True)  # a name typed into the field is not shown
        label = f"{what} {shown}" if what else shown
        raise ValidationError(f"{label} is not a {kind.__name__}; choose from {choices}") from None


def coerce_enum_set(kind: type[E], values: object) -> frozenset[E]:
    """A frozenset of ``kind`` members from any collection of members or wire values."""
    if values is None:
        return frozenset()
    if isinstance(values, str | bytes) or not isinstance(values, Iterable):
        raise ValidationError(
            f"{kind.__name__} values {short(values)} must be a collection such as "
            f"{{{kind.__name__}.{next(iter(kind)).name}}}"
        )
    return frozenset(coerce_enum(kind, v) for v in values)


def aware(value: object, what: str = "timestamp") -> datetime:
    """Check that ``value`` is a timezone-aware datetime in the years 1900–9998 and return it.

    The years are those of the wire format; beyond them, converting the time to another zone
    (Asia/Shanghai for a business date) overflows.

    Raises:
        ValidationError: a naive datetime, a year outside 1900–9998, or not a datetime at all.
    """
    if not isinstance(value, datetime):
        raise ValidationError(f"{what} {short(value)} must be a datetime with a timezone")
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValidationError(
            f"{what} {value.isoformat()} is naive: attach a timezone, e.g. "
            f"datetime(..., tzinfo=ZoneInfo('Asia/Shanghai'))"
        )
    check_year(
        value,
        lambda: f"{what} {value.isoformat()}",
        scope="govpost holds times from",
        hint="; check the clock or the carrier's data",
    )
    return value


def check_weight(value: object, what: str, *, minimum: int = 1) -> int:
    """``value`` if it is an int number of grams from ``minimum`` to :data:`MAX_WEIGHT_G`.

    The one weight rule: shipments, tariffs (``minimum=0`` for a first weight that may be
    nothing) and settlement rows check weights with it.

    Raises:
        ValidationError: a bool, float or anything else not an int; a weight out of range.

    >>> check_weight(250, "weight_g")
    250
    >>> check_weight(0.25, "weight_g")
    Traceback (most recent call last):
    ...
    govpost.errors.ValidationError: weight_g 0.25 must be an int number of grams (e.g. 250), not float; weights are integer grams, never floats: convert kilograms with round(kg * 1000)
    """
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValidationError(
            f"{what} {short(value)} must be an int number of grams (e.g. 250), not "
            f"{type(value).__name__}; weights are integer grams, never floats: convert "
            f"kilograms with round(kg * 1000)"
        )
    if not minimum <= value <= MAX_WEIGHT_G:
        raise ValidationError(
            f"{what} {value} g must be between {minimum} g and {MAX_WEIGHT_G:,} g"
        )
    return value


def text(value: object, what: str, *, max_len: int) -> str:
    """A stripped, non-empty string of at most ``max_len`` characters, valid Unicode.

    The value is never shown in the message: text fields hold names and addresses.

    Raises:
        ValidationError: not a str, blank, too long, or holding a lone surrogate (which could
            never be sent to a carrier nor stored).
    """
    if not isinstance(value, str) or not value.strip() or len(value) > max_len:
        raise ValidationError(f"{what} must be a non-empty string of at most {max_len} characters")
    return check_utf8(value, what).strip()


def optional_text(value: object, what: str, *, max_len: int) -> str | None:
    """``None``, or :func:`text`."""
    return None if value is None else text(value, what, max_len=max_len)


def division(value: Division | str) -> Division:
    """A :class:`~govpost.regions.Division` from itself or its code (an attrs converter)."""
    return Division.parse(value)
