"""The wire format: every govpost model to and from JSON and TOML, through one cattrs converter.

Money is an object with a string amount, timestamps are ISO 8601 with their offset, enums are
their values and divisions their codes::

    >>> from govpost.money import Money
    >>> print(to_json(Money("12.5")))
    {"amount": "12.50", "currency": "CNY"}
    >>> from_json('{"amount": "12.50", "currency": "CNY"}', Money)
    Money('12.50', 'CNY')

A document that does not describe a valid value raises :class:`~govpost.errors.DeserializationError`
naming the path of every bad field::

    >>> from govpost.centers import ServiceCenter
    >>> from_json('{"code": "GZ-1", "name": "中心", "division": "999999"}', ServiceCenter)
    Traceback (most recent call last):
    ...
    govpost.errors.DeserializationError: cannot read ServiceCenter: division code '999999' is not in the GB/T 2260 table (current or historical): check the code, e.g. '520100' for 贵阳市 @ $.division

The wire format is strict and bounded, the same way in both directions (what :func:`to_json`
writes, :func:`from_json` reads; what one refuses, so does the other):

- numbers in strings — money amounts, decimals — are ASCII digits in a plain grammar
  (``"-12.50"``; decimals also ``"1E-7"``): ``Decimal`` alone would read ``"١٢"`` (Arabic-Indic
  digits) or ``"1,000"``;
- money amounts are below 10^15 in size; JSON integers lie within ±(2^53 − 1), the range every
  JSON reader holds exactly;
- dates and timestamps lie in the years 1900–9998;
- strings are valid Unicode (no lone surrogate, which no carrier or database could take),
  divisions and tracking numbers ASCII;
- documents nest at most 64 deep; ``NaN`` and ``Infinity`` are refused.

::

    >>> from govpost.shipments import Recipient
    >>> from_json('{"name": "\\ud800"}', Recipient)
    Traceback (most recent call last):
    ...
    govpost.errors.DeserializationError: cannot read Recipient: the string holds a character that is not valid Unicode text (a lone surrogate at position 0): send real characters, not escaped UTF-16 halves @ $.name

A carrier's answer kept in :attr:`Booking.raw <govpost.carriers.Booking.raw>` and
:attr:`Quote.raw <govpost.carriers.Quote.raw>` is part of the wire format: a booking read back
from JSON still holds it.

TOML (:func:`to_toml`, :func:`from_toml`) is the same wire format in another syntax, for the
data an agency keeps in files (rate cards): a document is a table, so a model or a dict of them;
dates are TOML dates; a field that is ``None`` is left out, since TOML has no null. TOML text
is held to the same bounds as JSON::

    >>> from datetime import date
    >>> from govpost.ratecards import Rate
    >>> from govpost.tariffs import FlatTariff
    >>> rate = Rate(valid_from=date(2018, 6, 16), reference="黔邮〔2018〕9号",
    ...             tariff=FlatTariff(price="11.00"))
    >>> print(to_toml(rate))
    valid_from = 2018-06-16
    reference = "黔邮〔2018〕9号"
    <BLANKLINE>
    [tariff]
    zone_prices = []
    <BLANKLINE>
    [tariff.price]
    amount = "11.00"
    currency = "CNY"
    <BLANKLINE>
    >>> from_toml(to_toml(rate), Rate) == rate
    True

Users who need different hooks start from :func:`make_converter`, which returns a fresh
converter with govpost's hooks that they may change without affecting govpost itself.

.. versionadded:: 0.1.0
"""

from __future__ import annotations

import json
import math
import re
import tomllib
from datetime import date, time
from typing import Any, TypeVar

import cattrs
import tomli_w
from cattrs.v import transform_error

from govpost import _convert
from govpost._fields import short
from govpost._limits import MAX_DEPTH, check_depth, check_utf8, load_json
from govpost.errors import DeserializationError, GovpostError, ValidationError

__all__ = [
    "from_json",
    "from_primitive",
    "from_toml",
    "make_converter",
    "to_json",
    "to_primitive",
    "to_toml",
]

T = TypeVar("T")

_CONVERTER = _convert.build()


def make_converter() -> cattrs.Converter:
    """A fresh cattrs converter with govpost's hooks, for users who customise the format.

    Changing the returned converter never changes what :func:`to_json` and :func:`from_json`
    do; each call builds a new one.

    >>> from govpost.money import Money
    >>> conv = make_converter()
    >>> conv.register_unstructure_hook(Money, lambda m: m.fen)
    >>> conv.unstructure(Money("12.50")), to_primitive(Money("12.50"))
    (1250, {'amount': '12.50', 'currency': 'CNY'})

    .. versionadded:: 0.1.0
    """
    return _convert.build()


def to_primitive(obj: Any) -> Any:
    """``obj`` as plain JSON-compatible data (dicts, lists, strings, numbers).

    This is the document :func:`to_json` writes, before it becomes text: useful to embed a
    govpost value in a larger document of your own.

    >>> from govpost.money import Money
    >>> to_primitive([Money("1"), Money("2.5")])
    [{'amount': '1.00', 'currency': 'CNY'}, {'amount': '2.50', 'currency': 'CNY'}]

    .. versionadded:: 0.1.0
    """
    return _CONVERTER.unstructure(obj)


def from_primitive(data: Any, cls: type[T]) -> T:
    """Build a ``cls`` from plain data, as :func:`from_json` does after parsing.

    Raises:
        DeserializationError: the data does not describe a valid ``cls``; the message names the
            path of each bad field.

    >>> from govpost.money import Money
    >>> from_primitive({"amount": "2.50", "currency": "CNY"}, Money)
    Money('2.50', 'CNY')

    .. versionadded:: 0.1.0
    """
    try:
        return _CONVERTER.structure(data, cls)
    except (cattrs.BaseValidationError, cattrs.StructureHandlerNotFoundError) as exc:
        problems = transform_error(exc, format_exception=_convert.format_exception)
        raise DeserializationError(f"cannot read {_name(cls)}: {'; '.join(problems)}") from exc
    except (GovpostError, ValueError, TypeError, KeyError, AttributeError, ArithmeticError) as exc:
        # Raised by a class's own validation after its fields were read: the path is the root.
        reason = _convert.format_exception(exc, cls)
        raise DeserializationError(f"cannot read {_name(cls)}: {reason} @ $") from exc


def to_json(obj: Any, *, indent: int | None = None) -> str:
    """``obj`` as a JSON document in govpost's wire format (UTF-8 text, not ASCII-escaped).

    Args:
        obj: any govpost model, or a list or dict of them.
        indent: passed to :func:`json.dumps`; ``None`` writes one line.

    Raises:
        ValidationError: ``obj`` holds something the wire format cannot write (bytes, a float
            NaN, an arbitrary object, a naive datetime).

    >>> from govpost.money import Money
    >>> from govpost.regions import Division
    >>> to_json({"origin": Division.parse("520102"), "postage": Money("12.5")})
    '{"origin": "520102", "postage": {"amount": "12.50", "currency": "CNY"}}'

    .. versionadded:: 0.1.0
    """
    data = to_primitive(obj)
    try:
        # allow_nan=False: NaN and Infinity are not JSON, and no reader would accept them.
        return json.dumps(data, ensure_ascii=False, indent=indent, allow_nan=False)
    except (TypeError, ValueError) as exc:
        raise ValidationError(
            f"to_json() cannot write {short(obj)} of type {type(obj).__name__} ({exc}): pass a "
            f"govpost model, or lists and dicts of models, strings, ints and bools"
        ) from exc


def from_json(text: str | bytes, cls: type[T]) -> T:
    """Read a ``cls`` from a JSON document in govpost's wire format.

    Total: whatever the text, the answer is a ``cls`` or a
    :class:`~govpost.errors.DeserializationError` — never another exception — in time bounded
    by the size of the text (reading is linear; a model's own checks are at worst
    N log N in its items). There is no cap on the size: bound the bodies you accept where
    they arrive (a web server's request limit). The document must be UTF-8 JSON nested at
    most 64 deep, without ``NaN`` or ``Infinity``; its strings must be valid Unicode (an
    escaped lone surrogate such as ``"\\ud800"`` is refused, naming its path), its numbers
    within the bounds of the wire format (see the module's documentation).

    Raises:
        DeserializationError: the text is not JSON, or does not describe a valid ``cls``.

    >>> from govpost.money import Money
    >>> from_json('{"amount": 12.5}', Money)
    Traceback (most recent call last):
    ...
    govpost.errors.DeserializationError: cannot read Money: money amount 12.5 must be a JSON string such as "12.50", so that no JSON reader turns it into a binary float @ $

    .. versionadded:: 0.1.0
    """
    if not isinstance(text, str | bytes | bytearray):
        raise DeserializationError(
            f"from_json() reads a JSON str or bytes, not {type(text).__name__}"
        )
    try:
        # Strings are checked by the wire format's hooks, which know the path of each.
        data = load_json(text, what="the text", check_strings=False)
    except ValidationError as exc:
        raise DeserializationError(f"cannot read {_name(cls)}: {exc}") from exc
    return from_primitive(data, cls)


def _name(cls: Any) -> str:
    return getattr(cls, "__name__", repr(cls))


def to_toml(obj: object) -> str:
    """``obj`` as a TOML document in govpost's wire format: what :func:`from_toml` reads back.

    The wire format of :func:`to_json`, written as TOML: dates (``"2018-06-16"``) are TOML
    dates, fields that are ``None`` are left out (TOML has no null), tables and arrays of
    tables are laid out by ``tomli-w``. Meant for the data kept in files — rate cards,
    tariffs, agreements —, whose optional fields default to ``None``: a model with a required
    field that may be ``None`` does not read back.

    Args:
        obj: a govpost model, or a dict of them: a TOML document is a table.

    Raises:
        ValidationError: ``obj`` is not written as a table (it is a list, a string or a
            number), holds ``None`` inside a list, or holds something the wire format cannot
            write (see :func:`to_json`).

    >>> from govpost.money import Money
    >>> print(to_toml({"postage": Money("12.5")}))
    [postage]
    amount = "12.50"
    currency = "CNY"
    <BLANKLINE>

    .. versionadded:: 0.2.0
    """
    data = to_primitive(obj)
    if not isinstance(data, dict):
        raise ValidationError(
            f"to_toml() cannot write {short(obj)} of type {type(obj).__name__}: a TOML document "
            f"is a table; pass a govpost model or a dict (use to_json for a list or a value)"
        )
    try:
        return tomli_w.dumps(_toml_values(data, 0))
    except (TypeError, ValueError) as exc:
        raise ValidationError(
            f"to_toml() cannot write {short(obj)} of type {type(obj).__name__} ({exc}): pass a "
            f"govpost model, or dicts of models, strings, ints and bools"
        ) from exc


# What the wire format writes for a date, read back as the same text: a TOML date.
_DATE_TEXT = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")


def _toml_values(data: Any, depth: int) -> Any:
    """The wire format's plain data as TOML values: dates, no ``None`` in tables."""
    if isinstance(data, dict | list) and depth > MAX_DEPTH:
        raise ValidationError(
            f"to_toml() cannot write data nested more than {MAX_DEPTH} deep (or holding itself)"
        )
    if isinstance(data, dict):
        return {k: _toml_values(v, depth + 1) for k, v in data.items() if v is not None}
    if isinstance(data, list):
        if any(v is None for v in data):
            raise ValidationError("to_toml() cannot write None inside a list: TOML has no null")
        return [_toml_values(v, depth + 1) for v in data]
    if isinstance(data, str) and _DATE_TEXT.fullmatch(data):
        try:
            day = date.fromisoformat(data)
        except ValueError:  # "2018-02-30" is text that looks like a date: it stays text
            return data
        return day
    if isinstance(data, float) and not math.isfinite(data):
        raise ValidationError(f"to_toml() cannot write {data}: not a number of the wire format")
    return data


def from_toml(text: str | bytes, cls: type[T]) -> T:
    """Read a ``cls`` from a TOML document in govpost's wire format.

    The document :func:`to_toml` writes; TOML dates and date-times are read as the ISO text
    the wire format holds. Total, like :func:`from_json`: whatever the text, the answer is a
    ``cls`` or a :class:`~govpost.errors.DeserializationError`, in time bounded by the size of
    the text. Tables, arrays and dotted keys may nest at most 64 deep (Python's TOML reader
    would exhaust the stack near 1,000, and its cost grows with the square of a dotted key's
    length); bytes must be UTF-8.

    Raises:
        DeserializationError: the text is not TOML, nests too deeply, holds a lone surrogate,
            or does not describe a valid ``cls`` (naming the path of every bad field).

    >>> from govpost.money import Money
    >>> from_toml('amount = "12.50"', Money)
    Money('12.50', 'CNY')
    >>> from_toml("amount = 12.5", Money)
    Traceback (most recent call last):
    ...
    govpost.errors.DeserializationError: cannot read Money: money amount 12.5 must be a JSON string such as "12.50", so that no JSON reader turns it into a binary float @ $

    .. versionadded:: 0.2.0
    """
    given: object = text  # untyped callers pass anything
    if isinstance(given, bytes | bytearray):
        try:
            given = bytes(given).decode("utf-8")
        except UnicodeDecodeError as exc:
            raise DeserializationError(
                f"cannot read {_name(cls)}: the TOML text is not UTF-8 (byte {exc.start})"
            ) from None
    if not isinstance(given, str):
        raise DeserializationError(
            f"cannot read {_name(cls)}: expected TOML text (str or UTF-8 bytes), got "
            f"{type(given).__name__}; read the file with .read_text(encoding='utf-8')"
        )
    try:
        check_utf8(given, "the TOML text")
        check_depth(given, what="the TOML text", syntax="toml")
        data = tomllib.loads(given)
    except ValidationError as exc:
        raise DeserializationError(f"cannot read {_name(cls)}: {exc}") from exc
    except (ValueError, RecursionError) as exc:  # TOMLDecodeError; an int over 4,300 digits
        raise DeserializationError(f"cannot read {_name(cls)}: not valid TOML ({exc})") from exc
    return _from_toml_data(data, cls)


def _from_toml_data(data: object, cls: type[T]) -> T:
    """:func:`from_primitive` of parsed TOML (or JSON): TOML's dates and times as ISO text.

    Raises:
        DeserializationError: as :func:`from_primitive`; the data nests deeper than
            :data:`~govpost._limits.MAX_DEPTH` (or holds itself).
    """
    return from_primitive(_iso_text(data, 0, cls), cls)


def _iso_text(data: object, depth: int, cls: type) -> object:
    if isinstance(data, dict | list) and depth > MAX_DEPTH:
        raise DeserializationError(
            f"cannot read {_name(cls)}: the data nests more than {MAX_DEPTH} deep (or holds "
            f"itself); no govpost document is more than a few levels deep"
        )
    if isinstance(data, dict):
        return {k: _iso_text(v, depth + 1, cls) for k, v in data.items()}
    if isinstance(data, list):
        return [_iso_text(v, depth + 1, cls) for v in data]
    if isinstance(data, date | time):  # and datetime, a date
        return data.isoformat()
    return data
