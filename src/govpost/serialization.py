"""The wire format: every govpost model to and from JSON, through one cattrs converter.

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

Users who need different hooks start from :func:`make_converter`, which returns a fresh
converter with govpost's hooks that they may change without affecting govpost itself.

.. versionadded:: 0.1.0
"""

from __future__ import annotations

import json
from typing import Any, TypeVar

import cattrs
from cattrs.v import transform_error

from govpost import _convert
from govpost.errors import DeserializationError, GovpostError

__all__ = ["from_json", "from_primitive", "make_converter", "to_json", "to_primitive"]

T = TypeVar("T")

_CONVERTER = _convert.build()


def make_converter() -> cattrs.Converter:
    """A fresh cattrs converter with govpost's hooks, for users who customise the format."""
    return _convert.build()


def to_primitive(obj: Any) -> Any:
    """``obj`` as plain JSON-compatible data (dicts, lists, strings, numbers)."""
    return _CONVERTER.unstructure(obj)


def from_primitive(data: Any, cls: type[T]) -> T:
    """Build a ``cls`` from plain data, as :func:`from_json` does after parsing.

    Raises:
        DeserializationError: the data does not describe a valid ``cls``; the message names the
            path of each bad field.
    """
    try:
        return _CONVERTER.structure(data, cls)
    except (cattrs.BaseValidationError, cattrs.StructureHandlerNotFoundError) as exc:
        problems = transform_error(exc, format_exception=_convert.format_exception)
        raise DeserializationError(f"cannot read {_name(cls)}: {'; '.join(problems)}") from exc
    except (GovpostError, ValueError, TypeError, KeyError, AttributeError) as exc:
        # Raised by a class's own validation after its fields were read: the path is the root.
        reason = _convert.format_exception(exc, cls)
        raise DeserializationError(f"cannot read {_name(cls)}: {reason} @ $") from exc


def to_json(obj: Any, *, indent: int | None = None) -> str:
    """``obj`` as a JSON document in govpost's wire format (UTF-8 text, not ASCII-escaped)."""
    return json.dumps(to_primitive(obj), ensure_ascii=False, indent=indent)


def from_json(text: str | bytes, cls: type[T]) -> T:
    """Read a ``cls`` from a JSON document in govpost's wire format.

    Raises:
        DeserializationError: the text is not JSON, or does not describe a valid ``cls``.
    """
    if not isinstance(text, str | bytes | bytearray):
        raise DeserializationError(
            f"from_json() reads a JSON str or bytes, not {type(text).__name__}"
        )
    try:
        data = json.loads(text)
    except (ValueError, RecursionError) as exc:  # JSONDecodeError, UnicodeDecodeError, huge ints
        raise DeserializationError(f"cannot read {_name(cls)}: not valid JSON ({exc})") from exc
    return from_primitive(data, cls)


def _name(cls: Any) -> str:
    return getattr(cls, "__name__", repr(cls))
