"""The store's schema migrations (Alembic, driven from code) on SQLite, PostgreSQL and MariaDB.

Every test that takes ``store_url`` runs once per backend on a new, empty database: an empty
database is migrated to the head; the migrated schema is the one the library's tables
describe; a store at an earlier version keeps its data through the upgrade, and is refused
without one; a store written by a newer govpost, or govpost's tables without a version, are
refused and left exactly as they were; two processes opening one new database at once create
it once.
"""

from __future__ import annotations

import hashlib
import multiprocessing
import threading
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import attrs
import pytest
import sqlalchemy as sa
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from govpost import StoreError
from govpost.carriers.sandbox import SandboxCarrier
from govpost.centers import BusinessLine, Channel, CooperationMode, ServiceCenter
from govpost.serialization import to_json
from govpost.store import HEAD, KeyRing, _engine, _migrate, open_store, schema_version, upgrade
from govpost.store import _schema as t
from govpost.store._base import Source
from govpost.store._codec import Codec
from govpost.store._migrate import VERSION_TABLE, _history
from govpost.store._tracking import Events, Shipments
from govpost.testing import sample_booking_request
from tests.databases import fresh_database

NOW = datetime(2024, 6, 30, 8, 15, 30, 123456, tzinfo=UTC)

#: The tables each revision creates.
REVISION_TABLES = {
    "0001": {
        "store_keys",
        "centers",
        "agreements",
        "agreement_centers",
        "rate_cards",
        "services",
        "applications",
        "shipments",
        "tracking_events",
        "seen_ids",
        "booking_journal",
        "statements",
        "statement_lines",
    },
    "0002": {"reconciliations", "manifests", "remittances", "ledger_entries", "ledger_balances"},
}


def _plain(url: str) -> sa.Engine:
    """A plain engine, outside the store: what an administrator's own tools see."""
    return sa.create_engine(url, poolclass=sa.NullPool)


def _snapshot(url: str) -> tuple[list[str], list[str]]:
    """The tables of the database at ``url`` and the versions in govpost's version table."""
    engine = _plain(url)
    try:
        with engine.connect() as connection:
            tables = sorted(sa.inspect(connection).get_table_names())
            versions: list[str] = []
            if VERSION_TABLE in tables:
                versions = sorted(
                    connection.execute(
                        sa.text(f"SELECT version_num FROM {VERSION_TABLE}")
                    ).scalars()
                )
        return tables, versions
    finally:
        engine.dispose()


def _execute(url: str, *statements: str) -> None:
    engine = _plain(url)
    try:
        with engine.begin() as connection:
            for statement in statements:
                connection.execute(sa.text(statement))
    finally:
        engine.dispose()


def _insert(connection: sa.Connection, table: str, row: dict[str, Any]) -> None:
    """``row`` into ``table`` with plain SQL; instants as the naive UTC the schema keeps."""
    values = {
        name: value.astimezone(UTC).replace(tzinfo=None) if isinstance(value, datetime) else value
        for name, value in row.items()
    }
    statement = sa.text(
        f"INSERT INTO {table} ({', '.join(values)}) VALUES ({', '.join(f':{n}' for n in values)})"
    ).bindparams(
        *(
            sa.bindparam(n, type_=sa.DateTime())
            for n, v in values.items()
            if isinstance(v, datetime)
        )
    )
    connection.execute(statement, values)


# --- versions --------------------------------------------------------------------------------


def test_head_is_the_latest_of_the_revisions() -> None:
    assert _history() == ("0001", "0002")
    assert _history()[-1] == HEAD


def test_an_empty_database_is_migrated_to_head(store_url: str) -> None:
    assert schema_version(store_url) is None
    with open_store(store_url) as store:
        assert store.schema_version == HEAD
        assert schema_version(store.engine) == HEAD
    tables, versions = _snapshot(store_url)
    assert versions == [HEAD]
    assert set(tables) == set(t.METADATA.tables) | {VERSION_TABLE}
    assert set().union(*REVISION_TABLES.values()) == set(t.METADATA.tables)
    assert upgrade(store_url) == (HEAD, HEAD)


def test_each_revision_creates_its_tables(store_url: str) -> None:
    before: set[str] = set()
    for revision in _history():
        previous = schema_version(store_url)
        assert upgrade(store_url, to=revision) == (previous, revision)
        tables, versions = _snapshot(store_url)
        assert versions == [revision]
        assert set(tables) - before - {VERSION_TABLE} == REVISION_TABLES[revision]
        before = set(tables)


def test_each_revision_downgrade_undoes_its_upgrade(store_url: str) -> None:
    """Users get no downgrade; the revisions keep one for maintainers, and it must work."""
    upgrade(store_url)
    engine = _engine.make_engine(store_url)
    try:
        for revision, previous in (("0002", "0001"), ("0001", "base")):
            with _migrate._schema_lock(engine) as connection:
                config = _migrate._config()
                config.attributes["connection"] = connection
                command.downgrade(config, previous)
            tables, versions = _snapshot(store_url)
            assert not set(tables) & REVISION_TABLES[revision]
            assert versions == ([] if previous == "base" else [previous])
    finally:
        engine.dispose()
    assert _snapshot(store_url) == ([VERSION_TABLE], [])
    assert upgrade(store_url) == (None, HEAD)


# --- the migrated schema is the library's -------------------------------------------------------

#: What autogenerate reports only because an engine has no identity columns: SQLite and
#: MySQL/MariaDB make an integer primary key AUTOINCREMENT / AUTO_INCREMENT instead (checked in
#: test_the_migrated_schema_is_the_one_create_all_writes), and reflect no Identity() back.
_NO_IDENTITY = ("sqlite", "mysql", "mariadb")


def _differences(connection: sa.Connection) -> list[Any]:
    context = MigrationContext.configure(
        connection,
        opts={"version_table": VERSION_TABLE, "compare_type": True, "compare_server_default": True},
    )
    found = []
    for difference in compare_metadata(context, t.METADATA):
        change = difference[0] if isinstance(difference, list) else difference
        if (
            connection.dialect.name in _NO_IDENTITY
            and change[0] == "modify_default"
            and isinstance(change[-1], sa.Identity)
            and change[-2] is None
        ):
            continue
        found.append(difference)
    return found


def test_the_migrated_schema_equals_the_library_tables(store_url: str) -> None:
    upgrade(store_url)
    engine = _plain(store_url)
    try:
        with engine.connect() as connection:
            assert _differences(connection) == []
    finally:
        engine.dispose()


def _layout(url: str) -> dict[str, Any]:
    """Everything the database says about govpost's tables, in a comparable form."""
    engine = _plain(url)
    try:
        inspector = sa.inspect(engine)
        columns = inspector.get_multi_columns()
        primary_keys = inspector.get_multi_pk_constraint()
        foreign_keys = inspector.get_multi_foreign_keys()
        indexes = inspector.get_multi_indexes()
        uniques = inspector.get_multi_unique_constraints()
        options = inspector.get_multi_table_options()
    finally:
        engine.dispose()

    def by_name(items: list[Any]) -> list[Any]:
        return sorted(items, key=lambda item: item["name"] or "")

    return {
        table: {
            "columns": {c["name"]: {**c, "type": repr(c["type"])} for c in columns[key]},
            "primary key": primary_keys[key],
            "foreign keys": by_name(foreign_keys[key]),
            "indexes": by_name(indexes[key]),
            "unique": by_name(uniques[key]),
            "options": options.get(key, {}),
        }
        for key in columns
        if (table := key[1]) != VERSION_TABLE
    }


def test_the_migrated_schema_is_the_one_create_all_writes(store_url: str, tmp_path: Path) -> None:
    """Types with their lengths, precision and collation, nullability, keys, indexes and
    table options (InnoDB, utf8mb4, utf8mb4_bin): the same as the library's tables create."""
    upgrade(store_url)
    backend = sa.make_url(store_url).get_backend_name()
    with fresh_database(backend, tmp_path) as reference_url:
        engine = _plain(reference_url)
        try:
            t.METADATA.create_all(engine)
        finally:
            engine.dispose()
        expected = _layout(reference_url)
    migrated = _layout(store_url)
    assert set(migrated) == set(t.METADATA.tables)
    for table in expected:
        assert (table, migrated[table]) == (table, expected[table])
    if backend == "mysql":
        options = {table: migrated[table]["options"] for table in migrated}
        assert {
            (o["mysql_engine"], o["mysql_default charset"], o["mysql_collate"])
            for o in options.values()
        } == {("InnoDB", "utf8mb4", "utf8mb4_bin")}
        assert "DATETIME(fsp=6)" in migrated["shipments"]["columns"]["created_at"]["type"]


# --- data kept through an upgrade ----------------------------------------------------------------


def _at_0001(
    connection: sa.Connection, row: dict[str, Any], table: str = "shipments"
) -> dict[str, Any]:
    names = {column["name"] for column in sa.inspect(connection).get_columns(table)}
    return {name: value for name, value in row.items() if name in names}


def _write_at_0001(url: str, keys: KeyRing) -> dict[str, Any]:
    """Rows in the 0001 tables, written with plain SQL; the models they hold."""
    center = ServiceCenter(
        code="GZ-520100",
        name="贵阳市政务服务中心",
        division="520100",
        mode=CooperationMode.STATIONED_STAFF,
        channels={Channel.ONLINE, Channel.WINDOW},
        business_lines={BusinessLine.LICENCE_DELIVERY},
    )
    request = sample_booking_request("GZ-7")
    carrier = SandboxCarrier(seed=1, clock=lambda: NOW)
    booking = carrier.book(request)
    events = carrier.track(booking.tracking_number)
    shipment = attrs.evolve(request.shipment, tracking_number=booking.tracking_number).apply(
        *events
    )
    engine = _plain(url)
    source = Source(engine, Codec(keys), lambda: NOW)
    key = keys.get("k1")
    try:
        with engine.begin() as connection:
            _insert(
                connection,
                "store_keys",
                {
                    "key_id": "k1",
                    "algorithm": key.algorithm.value,
                    "check_value": key.check_value(),
                    "recorded_at": NOW,
                },
            )
            _insert(
                connection,
                "centers",
                {
                    "code": center.code,
                    "division": center.division.code,
                    "mode": CooperationMode.STATIONED_STAFF.value,
                    "document": to_json(center),
                },
            )
            # The values the store writes, in the columns the 0001 tables have.
            _insert(connection, "shipments", _at_0001(connection, Shipments(source).row(shipment)))
            for row in Events(source).rows("sandbox", events):
                _insert(connection, "tracking_events", _at_0001(connection, row, "tracking_events"))
            _insert(
                connection,
                "seen_ids",
                {
                    "key_hash": hashlib.sha256(b"event:sandbox:1").hexdigest(),
                    "remembered_at": NOW,
                },
            )
    finally:
        engine.dispose()
    return {"center": center, "shipment": shipment, "events": events}


def test_a_store_at_0001_keeps_its_data_through_the_upgrade(
    store_url: str, store_keys: KeyRing
) -> None:
    assert upgrade(store_url, to="0001") == (None, "0001")
    written = _write_at_0001(store_url, store_keys)
    assert upgrade(store_url) == ("0001", HEAD)
    with open_store(store_url, keys=store_keys) as store:
        assert store.schema_version == HEAD
        assert store.centers.get("GZ-520100") == written["center"]
        shipment = written["shipment"]
        assert store.shipments.get(shipment.id) == shipment
        assert store.shipments.by_tracking_number(shipment.tracking_number.value) == shipment
        assert store.shipments.by_mobile("13800138000") == (shipment,)
        assert len(written["events"]) > 1
        assert set(store.events.for_waybill(shipment.tracking_number.value)) == set(
            written["events"]
        )
        assert list(store.seen.seen(["event:sandbox:1", "event:sandbox:2"])) == ["event:sandbox:1"]


def test_open_store_upgrades_an_older_store_when_asked(store_url: str, store_keys: KeyRing) -> None:
    upgrade(store_url, to="0001")
    written = _write_at_0001(store_url, store_keys)
    with open_store(store_url, keys=store_keys, upgrade=True) as store:
        assert store.schema_version == HEAD
        assert store.centers.get("GZ-520100") == written["center"]
    assert _snapshot(store_url)[1] == [HEAD]


def test_an_older_store_is_refused_without_upgrade_and_left_as_it_was(store_url: str) -> None:
    upgrade(store_url, to="0001")
    before = _snapshot(store_url)
    with pytest.raises(StoreError, match=r"version 0001, this govpost needs 0002") as caught:
        open_store(store_url)
    assert "govpost.store.upgrade(url)" in str(caught.value)
    assert "upgrade=True" in str(caught.value)
    assert _snapshot(store_url) == before
    assert schema_version(store_url) == "0001"


# --- refused databases ---------------------------------------------------------------------------


def test_a_store_of_a_newer_govpost_is_refused_and_left_as_it_was(store_url: str) -> None:
    open_store(store_url).close()
    _execute(store_url, f"UPDATE {VERSION_TABLE} SET version_num = 'ffff_future'")
    before = _snapshot(store_url)
    with pytest.raises(StoreError, match=r"'ffff_future'.*newer govpost.*upgrade govpost"):
        open_store(store_url, upgrade=True)
    with pytest.raises(StoreError, match=r"'ffff_future'.*newer govpost"):
        upgrade(store_url)
    assert _snapshot(store_url) == before
    assert schema_version(store_url) == "ffff_future"


def test_govpost_tables_without_a_version_are_refused(store_url: str) -> None:
    engine = _plain(store_url)
    try:
        t.centers.create(engine)
    finally:
        engine.dispose()
    before = _snapshot(store_url)
    with pytest.raises(StoreError, match=r"\(centers\) but no schema version"):
        open_store(store_url)
    with pytest.raises(StoreError, match=r"\(centers\) but no schema version"):
        upgrade(store_url)
    assert _snapshot(store_url) == before == (["centers"], [])


def test_an_empty_version_table_beside_govpost_tables_is_refused(store_url: str) -> None:
    open_store(store_url).close()
    _execute(store_url, f"DELETE FROM {VERSION_TABLE}")
    before = _snapshot(store_url)
    with pytest.raises(StoreError, match=r"but no schema version"):
        open_store(store_url)
    assert _snapshot(store_url) == before


def test_other_tables_and_the_agency_alembic_table_are_left_alone(store_url: str) -> None:
    _execute(
        store_url,
        "CREATE TABLE agency_cases (id INTEGER PRIMARY KEY, title VARCHAR(40))",
        "INSERT INTO agency_cases (id, title) VALUES (1, 'kept')",
        "CREATE TABLE alembic_version (version_num VARCHAR(32) NOT NULL PRIMARY KEY)",
        "INSERT INTO alembic_version (version_num) VALUES ('agency_7')",
    )
    with open_store(store_url) as store:
        assert store.schema_version == HEAD
    engine = _plain(store_url)
    try:
        with engine.connect() as connection:
            assert connection.execute(sa.text("SELECT title FROM agency_cases")).all() == [
                ("kept",)
            ]
            assert connection.execute(sa.text("SELECT version_num FROM alembic_version")).all() == [
                ("agency_7",)
            ]
    finally:
        engine.dispose()


def test_upgrade_refuses_an_unknown_target_and_a_downgrade(store_url: str) -> None:
    with pytest.raises(StoreError, match=r"'0003' is not a schema version.*'head' or one of 0001"):
        upgrade(store_url, to="0003")
    assert _snapshot(store_url) == ([], [])
    upgrade(store_url)
    with pytest.raises(StoreError, match=r"at version 0002, later than 0001.*does not downgrade"):
        upgrade(store_url, to="0001")
    assert _snapshot(store_url)[1] == [HEAD]


def test_a_bad_url_is_a_store_error() -> None:
    with pytest.raises(StoreError, match=r"not a database URL"):
        schema_version("no url")
    with pytest.raises(StoreError, match=r"not a database URL"):
        upgrade("no url")


def test_a_schema_lock_held_too_long_is_reported_and_nothing_changes(
    store_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(_migrate, "LOCK_TIMEOUT_S", 1)
    monkeypatch.setattr(_engine, "SQLITE_BUSY_MS", 500)
    holder = _engine.make_engine(store_url)
    try:
        with _migrate._schema_lock(holder):
            with pytest.raises(StoreError) as caught:
                open_store(store_url)
            if not store_url.startswith("sqlite"):  # on SQLite: the engine's "database is locked"
                assert "another process has been changing the schema" in str(caught.value)
                assert "for 1 s" in str(caught.value)
    finally:
        holder.dispose()
    assert _snapshot(store_url) == ([], [])
    with open_store(store_url) as store:
        assert store.schema_version == HEAD


# --- two processes at once -----------------------------------------------------------------------


def _open_together(url: str, barrier: Any, results: Any) -> None:
    """Wait for the other process, then open the store: report its version or the error."""
    try:
        barrier.wait(60)
        with open_store(url) as store:
            results.put(("opened", store.schema_version))
    except BaseException as error:  # reported to the test, which fails on it
        results.put(("failed", f"{type(error).__name__}: {error}"))


def _serializable(url: str) -> str:
    """``url`` with every transaction SERIALIZABLE, as some agencies configure their servers."""
    parsed = sa.make_url(url)
    if parsed.get_backend_name() == "postgresql":
        options = f"{parsed.query['options']} -cdefault_transaction_isolation=serializable"
        parsed = parsed.update_query_dict({"options": options})
    else:
        command = "SET SESSION TRANSACTION ISOLATION LEVEL SERIALIZABLE"
        parsed = parsed.update_query_dict({"init_command": command})
    return parsed.render_as_string(hide_password=False)


def test_two_processes_opening_a_new_database_at_once_create_it_once(
    store_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A spawned process imports this module afresh, by its name: from the project's root.
    monkeypatch.syspath_prepend(str(Path(__file__).resolve().parents[1]))
    context = multiprocessing.get_context("spawn")
    barrier = context.Barrier(2)
    results = context.Queue()
    processes = [
        context.Process(target=_open_together, args=(store_url, barrier, results)) for _ in range(2)
    ]
    for process in processes:
        process.start()
    outcomes = sorted(results.get(timeout=120) for _ in processes)
    for process in processes:
        process.join(timeout=60)
    assert outcomes == [("opened", HEAD), ("opened", HEAD)]
    tables, versions = _snapshot(store_url)
    assert versions == [HEAD]
    assert set(tables) == set(t.METADATA.tables) | {VERSION_TABLE}


def test_two_openers_on_a_serializable_server_create_it_once(store_url: str) -> None:
    """Under the lock, the version is read as committed, even where every transaction is
    SERIALIZABLE by default (a snapshot taken before the lock would miss the other's tables)."""
    if store_url.startswith("sqlite"):
        pytest.skip("SQLite's transactions are serializable in any case")
    url = _serializable(store_url)
    barrier = threading.Barrier(2)
    outcomes: list[tuple[str, str | None]] = []

    def open_together() -> None:
        try:
            barrier.wait(30)
            with open_store(url) as store:
                outcomes.append(("opened", store.schema_version))
        except StoreError as error:
            outcomes.append(("failed", str(error)))

    threads = [threading.Thread(target=open_together) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert sorted(outcomes) == [("opened", HEAD), ("opened", HEAD)]
    assert _snapshot(store_url)[1] == [HEAD]
