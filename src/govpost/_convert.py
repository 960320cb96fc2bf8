"""The cattrs converter that owns govpost's wire format (private: use govpost.serialization)."""

from __future__ import annotations

import enum
from collections.abc import Callable
from datetime import date, datetime
from decimal import Decimal
from typing import Any

import cattrs
from cattrs.errors import ForbiddenExtraKeysError
from cattrs.v import format_exception as _cattrs_format_exception

from govpost._fields import coerce_enum, short
from govpost.errors import GovpostError, ValidationError
from govpost.identifiers import TrackingNumber
from govpost.money import Money, _to_decimal
from govpost.regions import Division


def _structure_money(value: object, _: type) -> Money:
    if not isinstance(value, dict):
        raise ValidationError(
            f'money must be an object like {{"amount": "12.50", "currency": "CNY"}}, '
            f"got {type(value).__name__}"
        )
    if set(value) - {"amount", "currency"}:
        extra = ", ".join(sorted(map(str, set(value) - {"amount", "currency"})))
        raise ValidationError(f"money has unexpected keys {extra}; only amount and currency")
    if "amount" not in value:
        raise ValidationError('money needs an "amount" such as "12.50"')
    amount = value["amount"]
    if not isinstance(amount, str):
        raise ValidationError(
            f'money amount {short(amount)} must be a JSON string such as "12.50", so that no '
            f"JSON reader turns it into a binary float"
        )
    return Money(amount, value.get("currency", "CNY"))


def _structure_decimal(value: object, _: type) -> Decimal:
    if not isinstance(value, str | int) or isinstance(value, bool):
        raise ValidationError(f'decimal {short(value)} must be written as a string such as "0.85"')
    return _to_decimal(value, "decimal")


def _structure_datetime(value: object, _: type) -> datetime:
    if not isinstance(value, str):
        raise ValidationError(
            f"timestamp {short(value)} must be an ISO 8601 string with an offset, "
            f"e.g. '2018-06-01T09:30:00+08:00'"
        )
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise ValidationError(
            f"timestamp {short(value)} is not ISO 8601; write e.g. '2018-06-01T09:30:00+08:00'"
        ) from None
    if parsed.tzinfo is None:
        raise ValidationError(
            f"timestamp {value!r} has no UTC offset; add one, e.g. '+08:00' for Asia/Shanghai"
        )
    return parsed


def _unstructure_datetime(value: datetime) -> str:
    if value.tzinfo is None:
        raise ValidationError(
            f"cannot write the naive datetime {value.isoformat()}: attach a timezone, e.g. "
            f"tzinfo=ZoneInfo('Asia/Shanghai')"
        )
    return value.isoformat()


def _structure_date(value: object, _: type) -> date:
    if not isinstance(value, str):
        raise ValidationError(f"date {short(value)} must be a string such as '2018-06-01'")
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise ValidationError(f"date {short(value)} is not a date like '2018-06-01'") from None


def _structure_str(value: object, _: type) -> str:
    if not isinstance(value, str):
        # The value is not shown: text fields hold names, mobiles and addresses (personal data).
        raise ValidationError(
            f"expected a string, got a JSON {_json_type(value)}: write the value in quotes"
        )
    return value


def _json_type(value: object) -> str:
    """The JSON name of a parsed value's type, for messages that must not show the value."""
    names = {bool: "boolean", int: "number", float: "number", list: "array", dict: "object"}
    return "null" if value is None else names.get(type(value), type(value).__name__)


def _structure_int(value: object, _: type) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValidationError(
            f"expected an integer, got {type(value).__name__} {short(value)}: write a whole "
            f"number without quotes, such as 250"
        )
    return value


def _structure_bool(value: object, _: type) -> bool:
    if not isinstance(value, bool):
        raise ValidationError(f"expected true or false, got {short(value)}")
    return value


def _structure_enum(value: object, cls: type[enum.Enum]) -> enum.Enum:
    return coerce_enum(cls, value)


def _sorted_values(values: frozenset[Any]) -> list[Any]:
    return sorted(
        (v.value if isinstance(v, enum.Enum) else v for v in values),
        key=lambda v: (str(type(v)), v),
    )


def _is_frozenset(cls: Any) -> bool:
    origin = getattr(cls, "__origin__", None)
    return origin is frozenset or cls is frozenset


def format_exception(exc: BaseException, type_: type | None) -> str:
    """One line for one leaf error: govpost's own message, else cattrs' wording."""
    if isinstance(exc, GovpostError):
        return str(exc)
    if isinstance(exc, ForbiddenExtraKeysError):
        return f"unexpected fields {', '.join(sorted(exc.extra_fields))}"
    return _cattrs_format_exception(exc, type_)


def build() -> cattrs.Converter:
    """A new converter with every govpost hook registered."""
    conv = cattrs.Converter(forbid_extra_keys=True)
    hooks: list[tuple[type, Callable[[Any], Any], Callable[[Any, Any], Any]]] = [
        (Money, lambda m: {"amount": m.to_str(), "currency": m.currency}, _structure_money),
        (Decimal, str, _structure_decimal),
        (datetime, _unstructure_datetime, _structure_datetime),
        (date, date.isoformat, _structure_date),
        (Division, lambda d: d.code, lambda v, _: Division.parse(v)),
        (TrackingNumber, str, lambda v, _: TrackingNumber(value=v)),
        (str, str, _structure_str),
        (int, int, _structure_int),
        (bool, bool, _structure_bool),
    ]
    for cls, unstructure, structure in hooks:
        conv.register_unstructure_hook(cls, unstructure)
        conv.register_structure_hook(cls, structure)
    conv.register_structure_hook_func(
        lambda t: isinstance(t, type) and issubclass(t, enum.Enum), _structure_enum
    )
    conv.register_unstructure_hook_func(_is_frozenset, _sorted_values)
    return conv
