"""What every repository stands on: where its connection comes from (private)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from datetime import datetime

import sqlalchemy as sa

from govpost.store._codec import Codec
from govpost.store._engine import READ_ONLY, failing

__all__ = ["Repository", "Source"]


class Source:
    """Connections for repositories: each call in its own transaction, or all in one.

    Args:
        engine: the store's engine.
        codec: documents and keys.
        clock: the current aware time (for ``saved_at`` and similar columns).
        connection: the connection of an open transaction; ``None``: every operation opens,
            and commits, its own.
    """

    def __init__(
        self,
        engine: sa.Engine,
        codec: Codec,
        clock: Callable[[], datetime],
        connection: sa.Connection | None = None,
    ) -> None:
        self.engine = engine
        self.codec = codec
        self.clock = clock
        self.connection = connection

    @property
    def dialect(self) -> str:
        """``"sqlite"``, ``"postgresql"`` or ``"mysql"`` (MariaDB included)."""
        name = self.engine.dialect.name
        return "mysql" if name == "mariadb" else name

    @contextmanager
    def begin(self, operation: str, *, read: bool = False) -> Iterator[sa.Connection]:
        """A connection for ``operation``: the transaction's, or a new one committed at exit.

        Database errors become a :class:`~govpost.errors.StoreError` naming ``operation``; a
        new transaction is rolled back on any error, so nothing is half-written. ``read``: the
        operation only reads (on SQLite its transaction does not take the write lock, so it
        neither waits for a writer nor holds one up).
        """
        with failing(operation):
            if self.connection is not None:
                yield self.connection
                return
            with self.engine.connect() as connection:
                if read:
                    connection.execution_options(**{READ_ONLY: True})
                with connection.begin():
                    yield connection


class Repository:
    """One kind of record in the store; bound to a :class:`Source`."""

    def __init__(self, source: Source) -> None:
        self._source = source

    def __repr__(self) -> str:
        return f"<{type(self).__name__}>"

    @property
    def _codec(self) -> Codec:
        return self._source.codec

    def _begin(
        self, operation: str, *, read: bool = False
    ) -> AbstractContextManager[sa.Connection]:
        return self._source.begin(operation, read=read)


def insert_new(
    source: Source,
    connection: sa.Connection,
    table: sa.Table,
    rows: list[dict[str, object]],
) -> list[tuple[object, ...]]:
    """Insert the ``rows`` whose primary key is not in ``table`` yet; return the keys inserted.

    One statement per batch, safe against a concurrent writer of the same keys (the
    database decides which write is first): ``ON CONFLICT DO NOTHING`` on SQLite and
    PostgreSQL, ``INSERT IGNORE`` on MySQL/MariaDB (used only for tables without foreign
    keys, whose rows govpost validated: duplicates are the only error it may ignore).
    """
    if not rows:
        return []
    keys = list(table.primary_key.columns)
    statement: sa.Insert
    if source.dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as pg_insert

        statement = pg_insert(table).on_conflict_do_nothing()
    elif source.dialect == "sqlite":
        from sqlalchemy.dialects.sqlite import insert as sqlite_insert

        statement = sqlite_insert(table).on_conflict_do_nothing()
    else:
        statement = sa.insert(table).prefix_with("IGNORE")
    result = connection.execute(statement.returning(*keys), rows)
    return [tuple(row) for row in result]
