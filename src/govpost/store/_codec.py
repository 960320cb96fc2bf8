"""Models to column values and back, through the one converter (private).

A model is kept as its wire document (:func:`govpost.serialization.to_json`): in clear, or
*sealed* — encrypted with the store's :class:`~govpost.store.encryption.KeyRing` and bound to
its table and row, so that a ciphertext moved to another row does not decrypt.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, TypeVar

import sqlalchemy as sa

from govpost.errors import GovpostError, StoreError, ValidationError
from govpost.money import Money
from govpost.serialization import from_json, to_json

if TYPE_CHECKING:
    from govpost.store.encryption import KeyRing

__all__ = ["Codec", "check_key", "check_row", "column_problem", "fen", "text_problem"]

T = TypeVar("T")


def fen(amount: Money | None) -> int | None:
    """``amount`` in integer fen (``None`` stays ``None``)."""
    return None if amount is None else amount.fen


class Codec:
    """Documents in clear and sealed, and the keyed digests beside them."""

    def __init__(self, keys: KeyRing | None) -> None:
        self.keys = keys

    def __repr__(self) -> str:
        return f"<Codec keys={self.keys!r}>"

    # --- documents in clear --------------------------------------------------------------------

    @staticmethod
    def document(obj: object) -> str:
        """``obj``'s wire document."""
        return to_json(obj)

    @staticmethod
    def read(text: str, cls: type[T], what: str) -> T:
        """The model of ``cls`` kept as ``text``; an unreadable one is a :class:`StoreError`."""
        try:
            return from_json(text, cls)
        except GovpostError as error:
            raise StoreError(
                f"{what} in the store is unreadable as {cls.__name__} ({error}): the row was "
                f"changed outside govpost, or written by a newer version"
            ) from error

    # --- sealed documents ----------------------------------------------------------------------

    def ring(self, what: str) -> KeyRing:
        """The key ring, or a :class:`StoreError` saying how to give one."""
        if self.keys is None:
            raise StoreError(
                f"{what} holds personal data, which the store keeps encrypted: open the store "
                f"with keys=KeyRing(Key.from_hex('k1', ...)) or keys=KeyRing.from_env() "
                f"(GOVPOST_STORE_KEYS)"
            )
        return self.keys

    def seal(self, obj: object, table: str, key: str) -> dict[str, Any]:
        """``obj``'s document sealed for row ``key`` of ``table``: the ``document``,
        ``key_id`` and ``version`` (its keyed :meth:`~KeyRing.fingerprint`) columns."""
        ring = self.ring(f"{type(obj).__name__} {key}")
        document = to_json(obj)
        problem = text_problem(document)  # a lone surrogate (JSON escapes a NUL)
        if problem is not None:
            raise ValidationError(f"{type(obj).__name__} {key} {problem} (of its document)")
        plain = document.encode("utf-8")
        return {
            "key_id": ring.active.id,
            "version": ring.fingerprint(plain),
            "document": ring.encrypt(plain, context=_context(table, key)),
        }

    def unseal(self, token: bytes, cls: type[T], table: str, key: str) -> T:
        """The model of ``cls`` sealed in ``token`` for row ``key`` of ``table``."""
        ring = self.ring(f"{cls.__name__} {key}")
        try:
            plain = ring.decrypt(bytes(token), context=_context(table, key))
        except StoreError as error:
            raise StoreError(f"{cls.__name__} {key} cannot be read: {error}") from error
        return self.read(plain.decode("utf-8"), cls, f"{cls.__name__} {key}")

    def digest(self, value: str | None, purpose: str) -> str | None:
        """The keyed digest of ``value`` under the active key (``None`` stays ``None``)."""
        if value is None:
            return None
        return self.ring(purpose).digest(value, purpose=purpose)

    def digests(self, value: str, purpose: str) -> tuple[str, ...]:
        """The digests of ``value`` under every key of the ring: for lookups mid-rotation."""
        return self.ring(purpose).digests(value, purpose=purpose)


def _context(table: str, key: str) -> bytes:
    return f"govpost:{table}:{key}".encode()


def check_row(table: sa.Table, row: dict[str, Any]) -> dict[str, Any]:
    """``row`` for ``table``, every value one that every engine keeps as it is.

    SQLite keeps a string of any length, a NUL character and a 64-bit integer in any column;
    PostgreSQL refuses a longer string, a NUL and an integer beyond its column's range, and
    MySQL's ``INSERT IGNORE`` cuts them. The store refuses the same rows on all of them,
    before writing anything; the message names the column, never the value.
    """
    for name, value in row.items():
        problem = column_problem(table.c[name], value)
        if problem is not None:
            raise ValidationError(f"{table.name}.{name} {problem}")
    return row


#: The range of the integer column types, as PostgreSQL and MySQL hold them.
_INTEGER_RANGES = ((sa.BigInteger, 63), (sa.SmallInteger, 15), (sa.Integer, 31))


def column_problem(column: sa.Column[Any], value: object) -> str | None:
    """What keeps ``value`` out of ``column`` on some engine (``None``: nothing), as the end
    of a message that starts with the column's name; the value itself is never shown."""
    if isinstance(value, str):
        length = getattr(column.type, "length", None)
        if length is not None and len(value) > length:
            return (
                f"holds at most {length} characters; the value given has {len(value)}: shorten it"
            )
        return text_problem(value)
    if isinstance(value, int) and not isinstance(value, bool):
        for kind, bits in _INTEGER_RANGES:
            if isinstance(column.type, kind):
                if not -(2**bits) <= value < 2**bits:
                    return (
                        f"holds integers from {-(2**bits)} to {2**bits - 1}; the value given "
                        f"is {value}, out of that range"
                    )
                break
    return None


def text_problem(value: str) -> str | None:
    """Why no column of the store can hold the text ``value`` (``None``: it can): a NUL
    character (PostgreSQL refuses it) or a lone surrogate (no engine encodes it)."""
    if "\x00" in value:
        return (
            f"holds a NUL character (\\x00) at position {value.index(chr(0))}, which "
            f"PostgreSQL cannot store (and so no engine of the store keeps): remove it"
        )
    if not value.isascii():
        try:
            value.encode("utf-8")
        except UnicodeEncodeError as error:
            return (
                f"holds a character that is not valid Unicode text (a lone surrogate at "
                f"position {error.start}): give real characters, not escaped UTF-16 halves"
            )
    return None


def check_key(value: object, what: str) -> str:
    """``value``, a key to look a record up by: a str no column refuses (see
    :func:`text_problem`), so that every engine finds the same records (none, for junk).

    Raises:
        ValidationError: not a str, or holding a NUL or a lone surrogate.
    """
    if not isinstance(value, str):
        raise ValidationError(f"{what} must be a str, not {type(value).__name__}")
    problem = text_problem(value)
    if problem is not None:
        raise ValidationError(f"{what} {problem}")
    return value
