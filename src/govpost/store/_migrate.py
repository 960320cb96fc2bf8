"""The store's schema version and its migrations: Alembic, driven from code (private).

The revisions live in :mod:`govpost.store.migrations` and the version in the table
``govpost_schema_version`` (an agency's own Alembic table in the same database is left alone).
Whoever changes the schema first takes the *schema lock*, so two processes opening the same new
database never both create it: ``pg_advisory_xact_lock`` on PostgreSQL (per schema),
``GET_LOCK`` on MySQL/MariaDB (per database), and on SQLite the ``BEGIN IMMEDIATE`` the store's
engine issues for every transaction. The version is read again under the lock, and the
migrations run in that same transaction: on SQLite and PostgreSQL an upgrade that fails changes
nothing. MySQL/MariaDB commit each DDL statement as they go, so there a failed upgrade leaves
the revisions before the failing one applied (and recorded); back the database up first.

govpost upgrades and never downgrades a store: going back is restoring the backup taken before
the upgrade.
"""

from __future__ import annotations

import functools
import hashlib
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

import sqlalchemy as sa
from sqlalchemy import exc
from sqlalchemy.engine import URL

from govpost.errors import StoreError
from govpost.store._engine import failing, make_engine, masked
from govpost.store._schema import METADATA

if TYPE_CHECKING:
    from alembic.config import Config

__all__ = ["HEAD", "LOCK_TIMEOUT_S", "VERSION_TABLE", "prepare", "schema_version", "upgrade"]

#: The schema version this govpost reads and writes: the id of its latest migration.
#:
#: .. versionadded:: 0.2.0
HEAD = "0002"

#: The table holding the store's schema version (Alembic's, under a name of govpost's own).
VERSION_TABLE = "govpost_schema_version"

#: How long a process waits, in seconds, for another one that is changing the schema.
LOCK_TIMEOUT_S = 600

#: Where Alembic finds the migrations: the package, wherever govpost is installed.
_SCRIPT_LOCATION = "govpost.store:migrations"

#: The first key of PostgreSQL's two-key advisory locks that govpost takes ("gpos").
_PG_LOCK_CLASS = 0x67706F73


def _config() -> Config:
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", _SCRIPT_LOCATION)
    return config


@functools.cache
def _history() -> tuple[str, ...]:
    """The revisions this govpost knows, oldest first."""
    from alembic.script import ScriptDirectory

    scripts = ScriptDirectory.from_config(_config())
    return tuple(reversed([script.revision for script in scripts.walk_revisions()]))


def _current(connection: sa.Connection) -> str | None:
    """The schema version recorded in the database (``None``: none is)."""
    from alembic.runtime.migration import MigrationContext

    context = MigrationContext.configure(connection, opts={"version_table": VERSION_TABLE})
    heads = context.get_current_heads()
    if len(heads) > 1:
        raise StoreError(
            f"the table {VERSION_TABLE} holds several schema versions ({', '.join(heads)}), "
            f"which govpost never writes: it was changed outside govpost; restore the store "
            f"from a backup"
        )
    return heads[0] if heads else None


def _check(connection: sa.Connection, current: str | None) -> None:
    """Refuse a database whose version govpost does not know, or whose tables have none."""
    where = masked(connection.engine.url)
    if current is None:
        found = sorted(set(sa.inspect(connection).get_table_names()) & set(METADATA.tables))
        if found:
            raise StoreError(
                f"the database at {where} holds tables named like govpost's "
                f"({', '.join(found)}) but no schema version (its {VERSION_TABLE} table is "
                f"missing or empty), so govpost cannot tell what they hold: open the store on a "
                f"new, empty database (or a PostgreSQL schema of its own), or restore this store "
                f"from a backup that has its {VERSION_TABLE} table"
            )
    elif current not in _history():
        raise StoreError(
            f"the store at {where} has schema version {current!r}, which this govpost does not "
            f"know (it knows {', '.join(_history())}): the database was written by a newer "
            f"govpost; upgrade govpost (pip install -U govpost) to open it"
        )


def _run(connection: sa.Connection, target: str) -> None:
    """Migrate the database of ``connection`` to ``target``, in its transaction."""
    from alembic import command
    from alembic.util.exc import CommandError

    config = _config()
    config.attributes["connection"] = connection
    try:
        command.upgrade(config, target)
    except CommandError as error:
        raise StoreError(
            f"the migration of the store at {masked(connection.engine.url)} to schema version "
            f"{target} failed: {error}"
        ) from error


def _lock_postgresql(connection: sa.Connection) -> None:
    schema = connection.scalar(sa.text("SELECT current_schema()")) or ""
    key = int.from_bytes(hashlib.sha256(schema.encode()).digest()[:4], "big", signed=True)
    connection.execute(sa.text(f"SET LOCAL lock_timeout = '{LOCK_TIMEOUT_S}s'"))
    try:
        connection.execute(
            sa.text("SELECT pg_advisory_xact_lock(CAST(:kind AS integer), CAST(:key AS integer))"),
            {"kind": _PG_LOCK_CLASS, "key": key},
        )
    except exc.OperationalError as error:
        raise _busy(connection) from error
    # The migrations themselves wait for locks as the database is configured to.
    connection.execute(sa.text("SET LOCAL lock_timeout TO DEFAULT"))


def _lock_mysql(connection: sa.Connection) -> str:
    database = connection.scalar(sa.text("SELECT DATABASE()")) or ""
    # GET_LOCK names are server-wide and at most 64 characters: one per database, hashed.
    name = f"govpost_schema_{hashlib.sha256(database.encode()).hexdigest()[:40]}"
    got = connection.scalar(
        sa.text("SELECT GET_LOCK(:name, :timeout)"), {"name": name, "timeout": LOCK_TIMEOUT_S}
    )
    if got != 1:
        raise _busy(connection)
    return name


def _unlock_mysql(connection: sa.Connection, name: str) -> None:
    try:
        connection.execute(sa.text("DO RELEASE_LOCK(:name)"), {"name": name})
        connection.rollback()
    except exc.SQLAlchemyError:
        # The server releases a session's locks when the session ends: end this one.
        connection.invalidate()


def _busy(connection: sa.Connection) -> StoreError:
    return StoreError(
        f"another process has been changing the schema of the store at "
        f"{masked(connection.engine.url)} for {LOCK_TIMEOUT_S} s (an upgrade still running, or "
        f"one that hangs): let it finish, then retry"
    )


@contextmanager
def _schema_lock(engine: sa.Engine) -> Iterator[sa.Connection]:
    """A connection in a transaction that alone, in its database, may change govpost's schema."""
    with engine.connect() as connection:
        backend = connection.dialect.name
        if backend != "sqlite":
            # Once the lock is ours, the version must be read as the last holder committed
            # it, whatever isolation the database defaults to (a snapshot taken before the
            # lock would miss it).
            connection.execution_options(isolation_level="READ COMMITTED")
        held: str | None = None
        try:
            with connection.begin():
                if backend == "postgresql":
                    _lock_postgresql(connection)
                elif backend in ("mysql", "mariadb"):
                    held = _lock_mysql(connection)
                # SQLite: the store's engine begins every transaction with BEGIN IMMEDIATE,
                # which already shuts out every other writer of the file until it ends.
                yield connection
        finally:
            if held is not None:
                _unlock_mysql(connection, held)


@contextmanager
def _engine(store: str | URL | sa.Engine) -> Iterator[sa.Engine]:
    """The engine of ``store``: the one given, or a new one disposed of at exit."""
    if isinstance(store, sa.Engine):
        yield store
        return
    engine = make_engine(store)
    try:
        yield engine
    finally:
        engine.dispose()


def prepare(engine: sa.Engine, *, upgrade: bool) -> None:
    """Bring the database of ``engine`` to :data:`HEAD` for :func:`~govpost.store.open_store`.

    An empty database (no govpost table, no version) gets the whole schema; one at an earlier
    version is upgraded only if ``upgrade``; one at :data:`HEAD` is left alone.

    Raises:
        StoreError: the schema is older (without ``upgrade``) or newer than this govpost, or
            govpost's tables are there without a version.
    """
    with _schema_lock(engine) as connection:
        current = _current(connection)
        if current == HEAD:
            return
        _check(connection, current)
        if current is not None and not upgrade:
            raise StoreError(
                f"the store's schema at {masked(engine.url)} is at version {current}, this "
                f"govpost needs {HEAD}: run govpost.store.upgrade(url) or open_store(url, "
                f"upgrade=True) (back the database up first)"
            )
        _run(connection, HEAD)


def schema_version(store: str | URL | sa.Engine) -> str | None:
    """The schema version of the store at ``store``, or ``None`` if it has none yet.

    Reading the version changes nothing: a database at an older version is not upgraded.

    >>> schema_version(store.engine)  # doctest: +SKIP
    '0002'

    Args:
        store: the store's URL (as for :func:`~govpost.store.open_store`), or an engine.

    Returns:
        The id of the latest migration applied (:data:`HEAD` for a store this govpost
        opened), or ``None`` for a database govpost has not set up.

    Raises:
        StoreError: a bad URL, an unreachable database, a version table changed by hand.

    .. versionadded:: 0.2.0
    """
    with (
        _engine(store) as engine,
        failing(f"read the schema version of the store at {masked(engine.url)}"),
        engine.connect() as connection,
    ):
        return _current(connection)


def upgrade(url: str | URL, *, to: str = "head") -> tuple[str | None, str]:
    """Migrate the store at ``url`` to schema version ``to``: what the ``govpost db upgrade`` command will do.

    Back the database up first. Every migration runs under the schema lock, so processes that
    open the store meanwhile wait, then find it upgraded. On SQLite and PostgreSQL the whole
    upgrade is one transaction: if it fails, nothing changed. MySQL/MariaDB commit each DDL
    statement, so there a failed upgrade keeps the migrations before the failing one.

    govpost offers no downgrade: to go back, restore the backup.

    >>> upgrade("sqlite:///govpost.db")  # doctest: +SKIP
    ('0001', '0002')

    Args:
        url: the store's URL, as for :func:`~govpost.store.open_store` (whose engine settings
            the upgrade runs with).
        to: the version to reach: ``"head"`` (:data:`HEAD`, this govpost's) or an earlier id.

    Returns:
        The version before (``None``: the database was empty) and after the upgrade; the
        same twice if there was nothing to do.

    Raises:
        StoreError: ``to`` is not a version of this govpost or is older than the store's; the
            store's version is newer than this govpost's; govpost's tables are there without
            a version; the database is unreachable or refused a migration.

    .. versionadded:: 0.2.0
    """
    history = _history()
    target = HEAD if to == "head" else to
    if target not in history:
        raise StoreError(
            f"{to!r} is not a schema version of this govpost: give 'head' or one of "
            f"{', '.join(history)}"
        )
    with (
        _engine(url) as engine,
        failing(f"upgrade the schema of the store at {masked(engine.url)}"),
        _schema_lock(engine) as connection,
    ):
        before = _current(connection)
        _check(connection, before)
        if before is not None and history.index(before) > history.index(target):
            raise StoreError(
                f"the store's schema at {masked(engine.url)} is at version {before}, later "
                f"than {target}: govpost does not downgrade a store; to go back, restore the "
                f"backup taken before the upgrade"
            )
        if before != target:
            _run(connection, target)
    return before, target
