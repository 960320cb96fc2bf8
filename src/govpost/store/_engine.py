"""Engines for the store's URLs, and database errors as :class:`~govpost.errors.StoreError` (private).

SQLite is the embedded default: WAL, foreign keys on, a busy timeout, and every transaction
``BEGIN IMMEDIATE`` (two processes writing one file wait for each other instead of failing on a
lock upgrade). PostgreSQL runs on psycopg 3, MySQL/MariaDB on PyMySQL; ``postgresql://`` and
``mysql://`` URLs without a driver get these.
"""

from __future__ import annotations

import re
import sqlite3
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import sqlalchemy as sa
from sqlalchemy import event, exc
from sqlalchemy.engine import URL, Engine

from govpost.errors import GovpostError, StoreError
from govpost.privacy import scrub

__all__ = ["BACKENDS", "READ_ONLY", "failing", "make_engine", "masked"]

#: Backend -> (driver used when the URL names none, the extra that installs it).
BACKENDS: dict[str, tuple[str, str]] = {
    "sqlite": ("pysqlite", "store"),
    "postgresql": ("psycopg", "postgres"),
    "mysql": ("pymysql", "mysql"),
    "mariadb": ("pymysql", "mysql"),
}

#: The execution option that marks a connection whose transaction only reads: on SQLite it
#: begins DEFERRED (a snapshot, no write lock), every other transaction IMMEDIATE.
READ_ONLY = "govpost_read_only"

#: How long a SQLite writer waits for another process's transaction, in milliseconds.
SQLITE_BUSY_MS = 30_000
#: How long connecting to a server may take, in seconds.
CONNECT_TIMEOUT_S = 10

_EXAMPLES = (
    "sqlite:///govpost.db, postgresql+psycopg://user@host:5432/db or "
    "mysql+pymysql://user@host:3306/db"
)


def masked(url: URL | str) -> str:
    """``url`` for messages: the password hidden."""
    if isinstance(url, URL):
        return url.render_as_string(hide_password=True)
    return re.sub(r"(//[^:/@]*:)[^@]*@", r"\1***@", url)


def _parse(url: str | URL) -> URL:
    given: object = url
    if isinstance(given, URL):
        return given
    if not isinstance(given, str) or not given.strip():
        raise StoreError(
            f"the store URL must be a non-empty str such as {_EXAMPLES}, not {given!r}"
        )
    try:
        return sa.make_url(given.strip())
    except (exc.ArgumentError, ValueError) as error:
        raise StoreError(
            f"{masked(given)!r} is not a database URL: give one such as {_EXAMPLES}"
        ) from error


def make_engine(url: str | URL, *, echo: bool = False) -> Engine:
    """An engine for ``url``, configured for the store.

    Raises:
        StoreError: not a URL, an unknown backend, or its driver is not installed (naming the
            extra that installs it).
    """
    parsed = _parse(url)
    backend = parsed.get_backend_name()
    if backend not in BACKENDS:
        raise StoreError(
            f"the store does not run on {backend!r} ({masked(parsed)}): use SQLite, PostgreSQL "
            f"or MySQL/MariaDB, e.g. {_EXAMPLES}"
        )
    driver, extra = BACKENDS[backend]
    if backend == "mariadb":
        # SQLAlchemy's "mariadb" dialect ignores the mysql_* table options (the binary
        # collation that keeps codes case-sensitive): MariaDB speaks the MySQL dialect.
        parsed = parsed.set(drivername=f"mysql+{parsed.drivername.partition('+')[2] or driver}")
    elif parsed.drivername == backend:
        parsed = parsed.set(drivername=f"{backend}+{driver}")
    options: dict[str, Any] = {"echo": echo, "hide_parameters": True}
    if backend == "sqlite":
        database = parsed.database or ""
        if database in ("", ":memory:") or database.startswith("file::memory:"):
            raise StoreError(
                "an in-memory SQLite database is gone when its connection closes, and the store "
                "opens several: give a file, e.g. sqlite:///govpost.db"
            )
        options["connect_args"] = {"timeout": SQLITE_BUSY_MS / 1000}
    elif backend == "postgresql":
        options["connect_args"] = {"connect_timeout": CONNECT_TIMEOUT_S}
        options["pool_pre_ping"] = True
    else:
        options["connect_args"] = {"connect_timeout": CONNECT_TIMEOUT_S, "charset": "utf8mb4"}
        options["pool_pre_ping"] = True
        options["pool_recycle"] = 3600
    try:
        engine = sa.create_engine(parsed, **options)
    except (ImportError, exc.NoSuchModuleError) as error:
        raise StoreError(
            f"the driver for {masked(parsed)} is not installed: pip install 'govpost[{extra}]'"
        ) from error
    except exc.ArgumentError as error:
        raise StoreError(f"cannot open {masked(parsed)}: {error}") from error
    if backend == "sqlite":
        _configure_sqlite(engine)
    return engine


def _configure_sqlite(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _connect(dbapi_connection: Any, record: Any) -> None:
        # The driver must not open transactions itself: the "begin" hook below does.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute(f"PRAGMA busy_timeout = {SQLITE_BUSY_MS}")
        # Switching a new file to WAL takes a lock SQLite does not wait for (the busy timeout
        # does not apply): two processes opening one new store at once retry here.
        deadline = time.monotonic() + SQLITE_BUSY_MS / 1000
        while True:
            try:
                cursor.execute("PRAGMA journal_mode = WAL")
                break
            except sqlite3.OperationalError as error:
                if "locked" not in str(error) or time.monotonic() > deadline:
                    raise
                time.sleep(0.01)
        cursor.execute("PRAGMA foreign_keys = ON")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _begin(connection: sa.Connection) -> None:
        reading = connection.get_execution_options().get(READ_ONLY, False)
        connection.exec_driver_sql("BEGIN DEFERRED" if reading else "BEGIN IMMEDIATE")


#: SQLSTATEs of PostgreSQL and error numbers of MySQL/MariaDB for "another transaction won".
_CONFLICT_STATES = frozenset({"40001", "40P01", "55P03"})
_CONFLICT_NUMBERS = frozenset({1205, 1213})


def _conflict(error: exc.DBAPIError) -> bool:
    """Whether ``error`` is a deadlock, a serialization failure or a lock wait that timed out."""
    original = error.orig
    if getattr(original, "sqlstate", None) in _CONFLICT_STATES:
        return True
    args = getattr(original, "args", ())
    if args and args[0] in _CONFLICT_NUMBERS:
        return True
    return "database is locked" in str(original)


#: Words of drivers' messages when the server cannot be reached or the connection broke.
_UNREACHABLE = re.compile(
    r"connect|connection|refused|timed? ?out|unable to open|no such host|name resolution|"
    r"server closed|gone away|lost connection|unknown database|does not exist",
    re.IGNORECASE,
)


def _unreachable(error: exc.DBAPIError) -> bool:
    """Whether ``error`` says the database could not be reached (not that a statement failed)."""
    if error.connection_invalidated:
        return True
    if not isinstance(error, exc.OperationalError | exc.InterfaceError):
        return False
    return bool(_UNREACHABLE.search(str(error.orig)))


def _reason(error: BaseException) -> str:
    """The database's own words for ``error``, without SQL text or parameters, scrubbed."""
    original = getattr(error, "orig", None) or error
    text = " ".join(str(original).split()) or type(original).__name__
    return scrub(text[:300])


@contextmanager
def failing(operation: str) -> Iterator[None]:
    """Run a block whose database errors become a :class:`StoreError` naming ``operation``.

    The transaction the block runs in is rolled back by its owner, so nothing is half-written.
    govpost's own errors pass through unchanged.
    """
    try:
        yield
    except GovpostError:
        raise
    except exc.IntegrityError as error:
        raise StoreError(
            f"{operation}: the database refused the write ({_reason(error)}); nothing was written"
        ) from error
    except exc.DBAPIError as error:
        if _conflict(error):
            raise StoreError(
                f"{operation}: a concurrent transaction conflicted with this one "
                f"({_reason(error)}); nothing was written: retry the operation"
            ) from error
        if not _unreachable(error):
            raise StoreError(
                f"{operation} failed: {_reason(error)}; nothing was written"
            ) from error
        raise StoreError(
            f"{operation}: the database is unreachable or refused the connection "
            f"({_reason(error)}); check that it runs and the URL is right, then retry"
        ) from error
    except exc.SQLAlchemyError as error:
        raise StoreError(f"{operation} failed: {_reason(error)}; nothing was written") from error
