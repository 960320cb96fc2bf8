"""Naming the field a model's own checks refuse, for the wire documents of this package."""

from __future__ import annotations

import typing
from collections.abc import Callable
from typing import Any

import attrs

from govpost.errors import DeserializationError, GovpostError


def locate(data: object, cls: type[Any], path: str = "$") -> str | None:
    """The first field of ``data`` whose own converter or validator refuses it, as
    ``"message @ path"``; ``None`` when every field passes on its own.

    The wire format names the path of a value its hooks refuse; a value a model's converter
    or validator refuses (a malformed mobile inside the applicant, a time limit of -1 days in
    the third service of a catalogue) is reported at the model. This finds the field itself,
    walking into nested models and into sequences of models.
    """
    from govpost.serialization import from_primitive

    if not (attrs.has(cls) and isinstance(data, dict)):
        return None
    hints = typing.get_type_hints(cls)
    for field in attrs.fields(cls):
        name = field.alias or field.name
        if not field.init or name not in data:
            continue
        where = f"{path}.{name}"
        hint = hints[field.name]
        value = data[name]
        args = [t for t in typing.get_args(hint) if isinstance(t, type)]
        if typing.get_origin(hint) in (tuple, list) and isinstance(value, list):
            items = [t for t in args if attrs.has(t)]
            if items:
                for index, item in enumerate(value):
                    found = locate(item, items[0], f"{where}[{index}]")
                    if found is not None:
                        return found
                continue
        nested = [t for t in (args or ([hint] if isinstance(hint, type) else [])) if attrs.has(t)]
        if nested:
            found = locate(value, nested[0], where)
            if found is not None:
                return found
        try:
            read = from_primitive(value, hint)
        except DeserializationError:
            continue  # the wire format names that path itself
        try:
            converter = typing.cast(Callable[[Any], Any] | None, field.converter)
            if converter is not None:
                read = converter(read)
            if field.validator is not None:
                field.validator(None, field, read)
        except GovpostError as exc:
            return f"{exc} @ {where}"
        except Exception:  # a check that needs the whole model: the error stays there
            continue
    return None


def pinpointed(exc: DeserializationError, data: object, cls: type[Any]) -> DeserializationError:
    """``exc``, or a sharper error naming the field whose own check refused it."""
    found = locate(data, cls)
    if found is None:
        return exc
    return DeserializationError(f"cannot read {cls.__name__}: {found}")
