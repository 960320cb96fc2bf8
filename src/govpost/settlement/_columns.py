"""Columns of statement lines: narrow int arrays, strings as one text, reordering (private).

A statement keeps a million lines in a few dozen bytes each; these are its containers.
"""

from __future__ import annotations

import operator
from array import array
from collections.abc import Callable, Iterable, Sequence
from itertools import accumulate, chain
from typing import Any

from govpost.errors import ValidationError

#: Array typecodes from the narrowest, with the ints each holds (sizes are the platform's).
_RANGES = tuple(
    (code, low, high)
    for code in "BbHhIiQq"
    for bits in (8 * array(code).itemsize,)
    for low, high in (
        (0, (1 << bits) - 1) if code.isupper() else (-(1 << bits - 1), (1 << bits - 1) - 1),
    )
)


def int_column(
    values: Iterable[int], low: int | None = None, high: int | None = None
) -> array[int]:
    """``values`` in the narrowest array that holds every int from ``low`` to ``high``.

    Without bounds, ``values`` are read twice to find them (pass a sequence then).
    """
    if low is None or high is None:
        items = values if isinstance(values, Sequence | array) else list(values)
        low, high = (min(items), max(items)) if len(items) else (0, 0)
        values = items
    for code, smallest, largest in _RANGES:
        if smallest <= low and high <= largest:
            return array(code, values)
    raise ValidationError(f"an int from {low} to {high} is beyond what a statement column holds")


class Text:
    """A column of strings (or ``None``) kept as one string (private).

    Strings of one width (waybill numbers usually are) are found by their index alone; others
    by the end offset of each.
    """

    __slots__ = ("ends", "nones", "text", "width")

    def __init__(self, values: Sequence[str], nones: frozenset[int] = frozenset()) -> None:
        """``values`` in order; the indices in ``nones`` are ``None`` (their value is ``""``)."""
        self.nones = nones
        self.text = "".join(values)
        self.width: int | None = None
        self.ends: array[int] | None = None
        lengths = set(map(len, values))
        if nones:
            lengths.discard(0)
        count = len(values)
        if (
            len(lengths) == 1
            and 0 not in lengths
            and values.count("") == len(nones)
            # None as blanks of the width: only at the end, where they shift nothing
            and (not nones or min(nones) == count - len(nones))
        ):
            self.width = lengths.pop()
            self.text += " " * (self.width * len(nones))
        else:
            self.ends = array(typecode(len(self.text)), accumulate(map(len, values)))

    def __len__(self) -> int:
        if self.ends is not None:
            return len(self.ends)
        return len(self.text) // self.width if self.width else 0

    def get(self, index: int) -> str | None:
        if index in self.nones:
            return None
        if self.ends is None:
            assert self.width is not None
            return self.text[index * self.width : (index + 1) * self.width]
        ends = self.ends
        return self.text[ends[index - 1] if index else 0 : ends[index]]

    def values(self) -> list[str | None]:
        """Every value, in order."""
        if self.ends is None:
            assert self.width is not None
            width, size = self.width, len(self.text)
            starts: Iterable[int] = range(0, size, width)
            ends: Iterable[int] = range(width, size + width, width)
        else:
            starts, ends = chain((0,), self.ends), self.ends
        out: list[str | None] = list(map(self.text.__getitem__, map(slice, starts, ends)))
        for index in self.nones:
            out[index] = None
        return out

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Text):
            return NotImplemented
        return (
            self.text == other.text
            and self.width == other.width
            and self.ends == other.ends
            and self.nones == other.nones
        )

    def __hash__(self) -> int:
        return hash(self.text)


def typecode(largest: int) -> str:
    """The narrowest unsigned typecode holding every int from 0 to ``largest``."""
    return next(code for code, low, high in _RANGES if low == 0 and largest <= high)


def reorder(order: Sequence[int]) -> Callable[[Sequence[Any]], tuple[Any, ...]]:
    """A function giving a column in ``order``: ``tuple(column[i] for i in order)``, at C speed.

    Build it once and apply it to every column of the same lines.
    """
    if len(order) > 1:
        return operator.itemgetter(*order)
    return lambda column: tuple(column[i] for i in order)


def take(order: Sequence[int], column: Sequence[Any]) -> tuple[Any, ...]:
    """``column`` in ``order``, once (see :func:`reorder` for several columns)."""
    return reorder(order)(column)
