"""Shared converters and checks for the fields of govpost's models (private).

attrs converters must be named functions for mypy's attrs plugin, so each model defines small
named converters that call these.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable
from datetime import datetime
from typing import TypeVar

from govpost._limits import check_utf8
from govpost.errors import ValidationError
from govpost.privacy import scrub
from govpost.regions import Division

E = TypeVar("E", bound=enum.Enum)


def short(value: object, width: int = 40) -> str:
    """``repr(value)`` scrubbed and cut to ``width`` characters: how a message shows junk input.

    Junk may be personal data typed into the wrong field, so the recognisable personal numbers
    in it are masked (:func:`govpost.privacy.scrub`) — before the cut, so that a cut never
    leaves half a number unrecognised. ``repr`` escapes what cannot be printed (a lone
    surrogate), so the message can always be encoded.

    >>> short("call 13985212345"), short("x" * 50)
    ("'call 139****2345'", "'xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx...")
    """
    # A number with separators spans well under 80 characters, so scrubbing this much of the
    # repr finds every number that starts within the width, without scanning megabytes.
    text = scrub(repr(value)[: width + 80])
    return text if len(text) <= width else text[: width - 3] + "..."


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
        label = f"{what} {short(value)}" if what else short(value)
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
    """Check that ``value`` is a timezone-aware datetime and return it.

    Raises:
        ValidationError: a naive datetime or not a datetime at all.
    """
    if not isinstance(value, datetime):
        raise ValidationError(f"{what} {short(value)} must be a datetime with a timezone")
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValidationError(
            f"{what} {value.isoformat()} is naive: attach a timezone, e.g. "
            f"datetime(..., tzinfo=ZoneInfo('Asia/Shanghai'))"
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


def division(value: object) -> Division:
    """A :class:`~govpost.regions.Division` from itself or its code (an attrs converter)."""
    return Division.parse(value)
