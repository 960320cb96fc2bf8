"""The cattrs converter that owns govpost's wire format (private: use govpost.serialization).

Every hook is total: whatever JSON value it is given, it returns the value or raises a
:class:`~govpost.errors.ValidationError` (which :mod:`govpost.serialization` turns into a
``DeserializationError`` naming the path). The bounds it enforces, and what it writes, are
the same both ways, so that whatever ``to_json`` writes ``from_json`` reads:

- numbers written in strings (money amounts, decimals) use ASCII digits only — ``Decimal``
  and ``int`` would read Arabic-Indic or full-width digits — in a plain grammar: ``-12.50``,
  and for decimals also ``1E-7``;
- money amounts are below :data:`MAX_AMOUNT` in size; JSON integers are within
  :data:`MAX_INT` (the range every JSON reader holds exactly);
- dates and timestamps lie in the years ``1900``–``9998`` (``govpost._limits.YEARS``), so that no later arithmetic on them
  (a period's end, a time zone conversion) overflows;
- text is valid Unicode (no lone surrogate), and identifiers (divisions, tracking numbers)
  are ASCII.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Callable, Mapping
from datetime import date, datetime
from decimal import Decimal
from typing import Any, Literal

import attrs
import cattrs
from cattrs.errors import ForbiddenExtraKeysError
from cattrs.v import format_exception as _cattrs_format_exception

from govpost._fields import coerce_enum, short
from govpost._limits import check_utf8, check_year
from govpost.errors import GovpostError, ValidationError
from govpost.identifiers import TrackingNumber
from govpost.money import Money, _to_decimal
from govpost.privacy import scrub
from govpost.regions import Division

#: Money amounts on the wire are below 10^15 yuan in size: far beyond any budget, within what
#: the store's NUMERIC(18, 2) holds.
MAX_AMOUNT = Decimal(10) ** 15

#: JSON integers on the wire lie within ±(2^53 − 1), which every JSON reader holds exactly.
MAX_INT = 2**53 - 1

#: The longest number written in a string that the wire format reads.
_MAX_NUMBER_TEXT = 100
_AMOUNT = re.compile(r"-?[0-9]+(?:\.[0-9]+)?")
_DECIMAL = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")
_ISO_TEXT = 64  # longer than any ISO 8601 date or timestamp


def _check_amount(amount: Decimal, what: str) -> None:
    if abs(amount) >= MAX_AMOUNT:
        raise ValidationError(
            f"{what} {short(format(amount, 'f'))} is 10^15 or more in size: the wire format "
            f"holds amounts below that; check the units"
        )


def _structure_money(value: object, _: type) -> Money:
    if not isinstance(value, dict):
        raise ValidationError(
            f'money must be an object like {{"amount": "12.50", "currency": "CNY"}}, '
            f"got a JSON {_json_type(value)}"
        )
    if set(value) - {"amount", "currency"}:
        extra = ", ".join(sorted(short(k) for k in set(value) - {"amount", "currency"})[:3])
        raise ValidationError(f"money has unexpected keys {extra}; only amount and currency")
    if "amount" not in value:
        raise ValidationError('money needs an "amount" such as "12.50"')
    amount = value["amount"]
    if not isinstance(amount, str):
        raise ValidationError(
            f'money amount {short(amount)} must be a JSON string such as "12.50", so that no '
            f"JSON reader turns it into a binary float"
        )
    if len(amount) > _MAX_NUMBER_TEXT or not _AMOUNT.fullmatch(amount):
        raise ValidationError(
            f'money amount {short(amount)} is not a number written like "12.50" or "-3": ASCII '
            f"digits, an optional minus sign and decimal point, nothing else"
        )
    money = Money(amount, value.get("currency", "CNY"))
    _check_amount(money.amount, "money amount")
    return money


def _unstructure_money(value: Money) -> dict[str, str]:
    _check_amount(value.amount, "money amount")
    return {"amount": value.to_str(), "currency": value.currency}


def _structure_decimal(value: object, _: type) -> Decimal:
    if isinstance(value, bool) or not isinstance(value, str | int):
        raise ValidationError(f'decimal {short(value)} must be written as a string such as "0.85"')
    if isinstance(value, str) and (len(value) > _MAX_NUMBER_TEXT or not _DECIMAL.fullmatch(value)):
        raise ValidationError(
            f'decimal {short(value)} is not written like "0.85" or "1E-7": ASCII digits, an '
            f"optional sign, decimal point and exponent, nothing else"
        )
    return _to_decimal(value, "decimal")


#: How a year error of the wire format names what holds the years (see check_year).
_WIRE_YEARS = "the wire format holds dates and timestamps from"


def _structure_datetime(value: object, _: type) -> datetime:
    if not isinstance(value, str):
        raise ValidationError(
            f"timestamp {short(value)} must be an ISO 8601 string with an offset, "
            f"e.g. '2018-06-01T09:30:00+08:00'"
        )
    try:
        if len(value) > _ISO_TEXT:
            raise ValueError("too long")
        parsed = datetime.fromisoformat(value)  # reads ASCII digits only
    except ValueError:
        raise ValidationError(
            f"timestamp {short(value)} is not ISO 8601; write e.g. '2018-06-01T09:30:00+08:00'"
        ) from None
    if parsed.tzinfo is None:
        raise ValidationError(
            f"timestamp {short(value)} has no UTC offset; add one, e.g. '+08:00' for Asia/Shanghai"
        )
    check_year(parsed, lambda: f"timestamp {short(value)}", scope=_WIRE_YEARS)
    return parsed


def _unstructure_datetime(value: datetime) -> str:
    if value.tzinfo is None:
        raise ValidationError(
            f"cannot write the naive datetime {value.isoformat()}: attach a timezone, e.g. "
            f"tzinfo=ZoneInfo('Asia/Shanghai')"
        )
    check_year(value, lambda: f"cannot write {value.isoformat()}: it", scope=_WIRE_YEARS)
    return value.isoformat()


def _structure_date(value: object, _: type) -> date:
    if not isinstance(value, str):
        raise ValidationError(f"date {short(value)} must be a string such as '2018-06-01'")
    try:
        if len(value) > _ISO_TEXT:
            raise ValueError("too long")
        parsed = date.fromisoformat(value)  # reads ASCII digits only
    except ValueError:
        raise ValidationError(f"date {short(value)} is not a date like '2018-06-01'") from None
    check_year(parsed, lambda: f"date {short(value)}", scope=_WIRE_YEARS)
    return parsed


def _unstructure_date(value: date) -> str:
    check_year(value, lambda: f"cannot write {value.isoformat()}: it", scope=_WIRE_YEARS)
    return value.isoformat()


def _structure_str(value: object, _: type) -> str:
    if not isinstance(value, str):
        # The value is not shown: text fields hold names, mobiles and addresses (personal data).
        raise ValidationError(
            f"expected a string, got a JSON {_json_type(value)}: write the value in quotes"
        )
    return check_utf8(value, "the string")


def _structure_division(value: object, _: type) -> Division:
    if not isinstance(value, str) or not value.isascii():
        raise ValidationError(
            f"division {short(value)} must be a string of six ASCII digits such as '520100'"
        )
    return Division.parse(value)


def _structure_tracking(value: object, _: type) -> TrackingNumber:
    if not isinstance(value, str) or not value.isascii():
        raise ValidationError(
            f"tracking number {short(value)} must be a string of ASCII letters and digits such "
            f"as 'EA123456785CN'"
        )
    return TrackingNumber(value=value)


def _json_type(value: object) -> str:
    """The JSON name of a parsed value's type, for messages that must not show the value."""
    names = {
        bool: "boolean",
        int: "number",
        float: "number",
        str: "string",
        list: "array",
        dict: "object",
    }
    return "null" if value is None else names.get(type(value), type(value).__name__)


def _a_json_type(value: object) -> str:
    """:func:`_json_type` with its article: ``"a string"``, ``"an array"``, ``"null"``."""
    name = _json_type(value)
    if name == "null":
        return name
    return f"an {name}" if name[:1] in "aeiou" else f"a {name}"


def _objects_only(cls: type, hook: Callable[[Any, Any], Any]) -> Callable[[Any, Any], Any]:
    """``hook``, the structure hook of model ``cls``, refusing anything but a JSON object.

    cattrs' generated hooks read any value as a mapping: a string or an array fails inside
    them with "unknown error ('str' object has no attribute 'keys')" at the root, not at the
    field. Refused here, the message says what was expected and cattrs names the path.
    """
    name = getattr(cls, "__name__", repr(cls))

    def structure(value: Any, type_: Any) -> Any:
        if type(value) is not dict and not isinstance(value, Mapping):
            # The value is not shown: a string here may be a name or a mobile (personal data).
            raise ValidationError(f"expected a JSON object ({name}), got {_a_json_type(value)}")
        return hook(value, type_)

    return structure


def _structure_int(value: object, _: type) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValidationError(
            f"expected an integer, got {type(value).__name__} {short(value)}: write a whole "
            f"number without quotes, such as 250"
        )
    _check_int(value)
    return value


def _check_int(value: int) -> int:
    if not -MAX_INT <= value <= MAX_INT:
        raise ValidationError(
            f"integer {short(value)} is beyond ±(2^53 − 1), the range the wire format holds "
            f"(every JSON reader holds it exactly)"
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
        # Keys are outside text: shown scrubbed and cut, at most three of them.
        names = sorted(short(name) for name in exc.extra_fields)
        more = f" and {len(names) - 3} more" if len(names) > 3 else ""
        return f"unexpected fields {', '.join(names[:3])}{more}"
    # cattrs' wording may quote the bad value as it is: scrubbed, printable, cut.
    wording = scrub(_cattrs_format_exception(exc, type_))
    wording = wording.encode("utf-8", "backslashreplace").decode("utf-8")
    return wording if len(wording) <= 200 else wording[:197] + "..."


def _is_literal(cls: Any) -> bool:
    return getattr(cls, "__origin__", None) is Literal


def _structure_literal(value: object, cls: Any) -> Any:
    choices: tuple[Any, ...] = cls.__args__
    if isinstance(value, bool) or value not in choices:
        raise ValidationError(f"{short(value)} is not one of {', '.join(repr(c) for c in choices)}")
    return value


# --- fast paths ------------------------------------------------------------------------------
#
# cattrs' generated hooks read each field through the converter (a dispatch per field, and
# per optional field two), and the model's converters then check again what the wire hooks
# checked. For the models read in bulk — shipments and their events — a direct path hands
# each JSON value to the model, whose own converters and validators check it, with only the
# wire's extra rules applied on the way (identifiers in ASCII, times in ISO 8601, integers
# within ±(2^53 − 1), text valid Unicode). Anything the direct path does not take — an unknown
# or missing key, a value of another JSON type, a value the model refuses — goes through
# cattrs' generated hook instead, which accepts or refuses it exactly as before and names the
# path of the bad field. So the direct path changes the cost of good documents only.

_Reader = Callable[[Any], Any]


class _Slow(Exception):
    """The direct path does not take this value: read the document through cattrs instead."""


def _wire_str(value: object) -> str:
    if type(value) is not str:
        raise _Slow
    return value if value.isascii() else check_utf8(value, "the string")


def _wire_optional_str(value: object) -> str | None:
    return None if value is None else _wire_str(value)


def _wire_code(value: object) -> str:
    # Divisions and tracking numbers: ASCII on the wire; the model normalises and checks them.
    if type(value) is not str or not value.isascii():
        raise _Slow
    return value


# Tracking numbers read lately: a shipment's events repeat its waybill, and a TrackingNumber is
# immutable, so one instance serves them all. Bounded: cleared when full.
_TRACKING: dict[str, TrackingNumber] = {}
_TRACKING_SIZE = 4096


def _wire_tracking(value: object) -> TrackingNumber:
    number = _TRACKING.get(value) if type(value) is str else None
    if number is None:
        number = TrackingNumber(value=_wire_code(value))
        if len(_TRACKING) >= _TRACKING_SIZE:
            _TRACKING.clear()
        _TRACKING[number.value] = number
    return number


def _wire_optional_tracking(value: object) -> TrackingNumber | None:
    return None if value is None else _wire_tracking(value)


def _wire_int(value: object) -> int:
    if type(value) is not int:
        raise _Slow
    return _check_int(value)


def _wire_bool(value: object) -> bool:
    if type(value) is not bool:
        raise _Slow
    return value


def _wire_datetime(value: object) -> datetime:
    # Parsed only: the model checks the offset and the years (and, on error, cattrs' path
    # gives the wire format's own message).
    if type(value) is not str or len(value) > _ISO_TEXT:
        raise _Slow
    return datetime.fromisoformat(value)


def _wire_optional_datetime(value: object) -> datetime | None:
    return None if value is None else _wire_datetime(value)


def _wire_optional_money(value: object) -> Money | None:
    return None if value is None else _structure_money(value, Money)


def _simple_reader(cls: Any) -> _Reader | None:
    """The direct reader of a field of type ``cls``, or ``None`` when there is none."""
    readers: dict[Any, _Reader] = {
        str: _wire_str,
        str | None: _wire_optional_str,
        Division: _wire_code,
        TrackingNumber: _wire_tracking,
        TrackingNumber | None: _wire_optional_tracking,
        int: _wire_int,
        bool: _wire_bool,
        datetime: _wire_datetime,
        datetime | None: _wire_optional_datetime,
        Money | None: _wire_optional_money,
    }
    if cls in readers:
        return readers[cls]
    if isinstance(cls, type) and issubclass(cls, enum.Enum):
        return {member.value: member for member in cls}.__getitem__  # KeyError: not a member
    return None


#: A model opts into the direct path by setting this class attribute to ``True`` (the wire
#: format stays below the models: it knows the marker, never the classes).
WIRE_DIRECT = "_wire_direct"


def _is_direct(cls: Any) -> bool:
    return isinstance(cls, type) and attrs.has(cls) and cls.__dict__.get(WIRE_DIRECT, False)


def _direct(conv: cattrs.Converter, cls: type) -> Callable[[Any, type], Any]:
    """The structure hook of attrs class ``cls``: the direct path, if every field has one."""
    from cattrs.gen import make_dict_structure_fn

    slow: Callable[[Any, type], Any] = _objects_only(
        cls, make_dict_structure_fn(cls, conv, _cattrs_forbid_extra_keys=True)
    )
    fields = [f for f in attrs.fields(attrs.resolve_types(cls)) if f.init]
    plan: list[tuple[str, bool, _Reader]] = []
    for field in fields:
        reader = _simple_reader(field.type) or _nested_reader(conv, field.type)
        if reader is None:
            return slow
        plan.append((field.alias or field.name, field.default is attrs.NOTHING, reader))
    names = frozenset(name for name, _, _ in plan)

    def structure(value: Any, _: type) -> Any:
        if type(value) is dict and value.keys() <= names:
            try:
                kwargs = {}
                for name, required, read in plan:
                    if name in value:
                        kwargs[name] = read(value[name])
                    elif required:
                        raise _Slow
                return cls(**kwargs)
            except (
                _Slow,
                GovpostError,
                ValueError,
                TypeError,
                KeyError,
                cattrs.BaseValidationError,
            ):
                pass  # cattrs reads it again and names the path of what is wrong
        return slow(value, cls)

    return structure


def _nested_reader(conv: cattrs.Converter, cls: Any) -> _Reader | None:
    """The reader of a field holding direct-path models: a tuple of them, or an optional one."""
    args: tuple[Any, ...] = getattr(cls, "__args__", ())
    if getattr(cls, "__origin__", None) is tuple and len(args) == 2 and args[1] is Ellipsis:
        kind = args[0]
        if not _is_direct(kind):
            return None
        item = conv.get_structure_hook(kind)

        def read_tuple(value: object) -> tuple[Any, ...]:
            if type(value) is not list:
                raise _Slow
            return tuple([item(v, kind) for v in value])

        return read_tuple
    optional = [a for a in args if a is not type(None)]
    if len(args) == 2 and len(optional) == 1 and _is_direct(optional[0]):
        kind = optional[0]
        inner = conv.get_structure_hook(kind)
        return lambda value: None if value is None else inner(value, kind)
    return None


def build() -> cattrs.Converter:
    """A new converter with every govpost hook registered."""
    conv = cattrs.Converter(forbid_extra_keys=True)
    hooks: list[tuple[type, Callable[[Any], Any], Callable[[Any, Any], Any]]] = [
        (Money, _unstructure_money, _structure_money),
        (Decimal, str, _structure_decimal),
        (datetime, _unstructure_datetime, _structure_datetime),
        (date, _unstructure_date, _structure_date),
        (Division, lambda d: d.code, _structure_division),
        (TrackingNumber, str, _structure_tracking),
        (str, str, _structure_str),
        (int, _check_int, _structure_int),
        (bool, bool, _structure_bool),
    ]
    for cls, unstructure, structure in hooks:
        conv.register_unstructure_hook(cls, unstructure)
        conv.register_structure_hook(cls, structure)
    conv.register_structure_hook_func(
        lambda t: isinstance(t, type) and issubclass(t, enum.Enum), _structure_enum
    )
    conv.register_structure_hook_func(_is_literal, _structure_literal)
    conv.register_unstructure_hook_func(_is_frozenset, _sorted_values)
    # Every model reads a JSON object, and says so when given another JSON type.
    conv.register_structure_hook_factory(
        attrs.has, lambda cls: _objects_only(cls, conv.gen_structure_attrs_fromdict(cls))
    )
    # The models read in bulk (shipments and their events) opt into the direct path.
    conv.register_structure_hook_factory(_is_direct, lambda cls: _direct(conv, cls))
    return conv
