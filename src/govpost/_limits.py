"""Bounds every reader of outside data shares (private).

Outside data — carrier answers and pushes, bills, rate cards, wire documents — is read through
these helpers so that no input, however hostile, escapes as a Python exception or costs more
than its size:

- :func:`load_json` refuses JSON nested deeper than :data:`MAX_DEPTH` *before* ``json`` recurses
  (Python's reader would raise ``RecursionError`` near 1,000 levels), and refuses ``NaN`` and
  ``Infinity``, which are not JSON;
- :func:`check_depth` does the same bracket count for TOML text;
- :func:`ascii_digits` is ``str.isdigit`` for ASCII only (``"²".isdigit()`` is true, and ``int()``
  reads Arabic-Indic and full-width digits);
- :func:`check_utf8` refuses text that cannot be encoded as UTF-8 (lone surrogates), so that
  nothing accepted at a model's boundary fails later when it is sent or stored;
- :func:`check_year` refuses a date or timestamp outside :data:`YEARS`, the one year rule of
  models and the wire format.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from datetime import date
from typing import Any

from govpost.errors import ValidationError

__all__ = [
    "MAX_DEPTH",
    "YEARS",
    "ascii_digits",
    "check_depth",
    "check_utf8",
    "check_year",
    "load_json",
]

#: The deepest nesting of arrays and objects any reader accepts by default.
MAX_DEPTH = 64

#: The years of every date and timestamp govpost holds: what the wire format writes, and far
#: enough from the ends of ``datetime`` that converting a time to another zone cannot overflow.
YEARS = range(1900, 9999)

# Possessive: a 10 MiB string is skipped in one linear pass, without a backtracking stack.
_JSON_STRING = re.compile(r'"[^"\\]*+(?:\\.[^"\\]*+)*+"?', re.DOTALL)
_TOML_SKIP = re.compile(
    r'"""(?:[^\\]|\\.)*?(?:"""|$)'  # multi-line basic string
    r"|'''.*?(?:'''|$)"  # multi-line literal string
    r'|"[^"\\\n]*+(?:\\.[^"\\\n]*+)*+"?'  # basic string (possessive: no backtracking stack)
    r"|'[^'\n]*'?"  # literal string
    r"|#[^\n]*",  # comment
    re.DOTALL,
)
_BRACKETS = re.compile(r"[\[\]{}]")
# TOML nests tables with dotted keys too (a.b.c = 1, [a.b.c]); tomllib's cost grows with the
# square of a key's length. With blanks removed, a run of dot-separated words is one key.
_BLANKS = re.compile(r"[ \t]+")
_DOTTED = re.compile(r"\.(?:[A-Za-z0-9_+:-]*\.)*")
# Only an escape can put a lone surrogate into parsed JSON (the text itself is valid str).
_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F]")


def check_year(
    value: date,
    label: str | Callable[[], str],
    *,
    scope: str = "govpost holds dates and times from",
    hint: str = "",
) -> None:
    """Refuse a date or datetime whose year is outside :data:`YEARS` (1900–9998).

    The one year rule of govpost: models (``_fields.aware``, periods, agreements), the wire
    format and readers of outside data all call it, each naming the value its own way.

    Args:
        value: a ``date`` or ``datetime``.
        label: how the message names the value (``"created_at 9999-01-01T00:00:00+08:00"``), or
            a function that makes that text, called only on error — for callers on a hot path
            whose label costs more than the check (a scrubbed repr).
        scope: what holds the years, followed by the range: ``"<label> is in the year Y:
            <scope> 1900 to 9998<hint>"``.
        hint: appended to the message (``"; check the clock"``).

    Raises:
        ValidationError: the year is outside 1900–9998.

    >>> from datetime import date
    >>> check_year(date(2018, 6, 1), "valid_from")
    >>> check_year(date(1899, 12, 31), "valid_from 1899-12-31", hint="; check the rate card")
    Traceback (most recent call last):
    ...
    govpost.errors.ValidationError: valid_from 1899-12-31 is in the year 1899: govpost holds dates and times from 1900 to 9998; check the rate card

    .. versionadded:: 0.2.0
    """
    if value.year not in YEARS:
        text = label if isinstance(label, str) else label()
        raise ValidationError(
            f"{text} is in the year {value.year}: {scope} {YEARS.start} to {YEARS.stop - 1}{hint}"
        )


def _depth(text: str, skip: re.Pattern[str]) -> int:
    """The deepest bracket nesting of ``text`` outside what ``skip`` matches (strings, comments).

    Linear in the size of the text: the regular expressions run in C, and the Python loop sees
    only bracket characters.
    """
    depth = deepest = 0
    for match in _BRACKETS.finditer(skip.sub("", text)):
        if match.group() in "[{":
            depth += 1
            deepest = max(deepest, depth)
        else:
            depth = max(depth - 1, 0)
    return deepest


def check_depth(text: str, *, what: str, max_depth: int = MAX_DEPTH, syntax: str = "json") -> None:
    """Refuse ``text`` whose arrays and objects (tables) nest deeper than ``max_depth``.

    Args:
        text: JSON or TOML text.
        what: names the document in the error ("the EMS answer").
        max_depth: the deepest nesting allowed.
        syntax: ``"json"`` or ``"toml"`` (which strings and comments to skip; in TOML a
            dotted key such as ``a.b.c`` nests as deep as its parts).

    Raises:
        ValidationError: the text nests too deeply.
    """
    if syntax == "json" and text.count("[") + text.count("{") <= max_depth:
        # No nesting can be deeper than the number of opening brackets, those in strings
        # included: nearly every document is settled by two counts in C, without a scan.
        return
    deepest = _depth(text, _JSON_STRING if syntax == "json" else _TOML_SKIP)
    if syntax == "toml":
        squeezed = _BLANKS.sub("", _TOML_SKIP.sub("", text))
        # A key of k dots nests k + 1 tables.
        keys = (match.group().count(".") + 1 for match in _DOTTED.finditer(squeezed))
        deepest = max(deepest, max(keys, default=0))
    if deepest > max_depth:
        raise ValidationError(
            f"{what} nests arrays or objects {deepest} deep, deeper than the limit of "
            f"{max_depth}: no genuine document needs that; raise max_depth only if one does"
        )


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON number")


def load_json(
    text: str | bytes | bytearray,
    *,
    what: str,
    max_depth: int = MAX_DEPTH,
    parse_float: Callable[[str], Any] | None = None,
    check_strings: bool = True,
) -> Any:
    """Parse JSON from outside, bounded in depth, finite, valid UTF-8.

    Args:
        text: the document (bytes are decoded as UTF-8).
        what: names the document in the error ("the EMS answer").
        max_depth: the deepest nesting of arrays and objects allowed.
        parse_float: as for :func:`json.loads` (``decimal.Decimal`` to keep amounts exact).
        check_strings: refuse lone surrogates here; ``False`` leaves that to a caller that
            checks every string where it can name its place (the wire format names the path).

    Raises:
        ValidationError: not UTF-8, not JSON, nested too deeply, ``NaN``/``Infinity``, a number
            with more than 4,300 digits, or a string holding a lone surrogate (``"\\ud800"``).
    """
    if isinstance(text, bytes | bytearray):
        try:
            text = bytes(text).decode("utf-8")
        except UnicodeDecodeError as exc:
            raise ValidationError(f"{what} is not UTF-8 text (byte {exc.start})") from None
    elif check_strings:
        check_utf8(text, what)
    check_depth(text, what=what, max_depth=max_depth)
    try:
        data = json.loads(text, parse_float=parse_float, parse_constant=_no_constant)
    except json.JSONDecodeError as exc:
        raise ValidationError(
            f"{what} is not JSON: {exc.msg} at line {exc.lineno} column {exc.colno}"
        ) from None
    except (ValueError, RecursionError) as exc:  # NaN, huge integers, a depth check missed
        raise ValidationError(f"{what} is not acceptable JSON: {exc}") from None
    except ArithmeticError:  # parse_float=Decimal read "1e4000000000000000000"
        raise ValidationError(
            f"{what} is not acceptable JSON: a number's exponent is out of range"
        ) from None
    if check_strings and _SURROGATE_ESCAPE.search(text):
        _check_strings(data, what)
    return data


def _check_strings(data: Any, what: str) -> None:
    # json.loads decodes "\ud800" into a lone surrogate; such text breaks every later encode.
    stack = [data]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            check_utf8(item, what)
        elif isinstance(item, dict):
            for key, value in item.items():
                check_utf8(key, what)
                stack.append(value)
        elif isinstance(item, list):
            stack.extend(item)


def check_utf8(value: str, what: str) -> str:
    """``value`` unchanged, if it can be encoded as UTF-8 (it holds no lone surrogate).

    Raises:
        ValidationError: it cannot; the message gives the position, not the text.
    """
    if not value.isascii():
        try:
            value.encode("utf-8")
        except UnicodeEncodeError as exc:
            raise ValidationError(
                f"{what} holds a character that is not valid Unicode text (a lone surrogate "
                f"at position {exc.start}): send real characters, not escaped UTF-16 halves"
            ) from None
    return value


def ascii_digits(text: str) -> bool:
    """Whether ``text`` is one or more ASCII digits ``0``-``9`` and nothing else.

    >>> ascii_digits("2024"), ascii_digits("²"), ascii_digits("٣"), ascii_digits("")
    (True, False, False, False)
    """
    return text.isascii() and text.isdigit()
