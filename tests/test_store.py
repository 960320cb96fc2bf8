"""The store's repositories on SQLite (a real file), PostgreSQL and MariaDB.

Every test that takes ``store_url`` runs once per backend on a new, empty database (see
``tests/databases.py``): what is read back equals what was written, writing twice changes
nothing, personal data is sealed, and bad input is a clear govpost error that changes nothing.
"""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from govpost import Shipment, ShipmentStatus, StoreError, ValidationError
from govpost.carriers.journal import JournalEntry, JournalState, MemoryJournal, book_once
from govpost.carriers.sandbox import SandboxCarrier
from govpost.store import Key, KeyRing, Store, open_store
from govpost.store import _schema as t
from govpost.testing import sample_booking_request
from govpost.testing import strategies as gps
from tests import strategies as ts

#: Hypothesis settings for database round trips: each example writes to a real database.
DB = settings(
    max_examples=15,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

NOW = datetime(2024, 6, 30, tzinfo=UTC)
OTHER_KEY = Key.from_hex("k2", "ffeeddccbbaa99887766554433221100")


@pytest.fixture
def store(store_url: str, store_keys: KeyRing) -> Any:
    with open_store(store_url, keys=store_keys) as opened:
        yield opened


def _counts(store: Store) -> dict[str, int]:
    with store.engine.connect() as connection:
        return {
            table.name: connection.execute(
                sa.select(sa.func.count()).select_from(table)
            ).scalar_one()
            for table in t.METADATA.sorted_tables
        }


def _wipe(store: Store) -> None:
    """Empty every table: each Hypothesis example starts from an empty store."""
    with store.engine.begin() as connection:
        for table in reversed(t.METADATA.sorted_tables):
            connection.execute(
                sa.delete(table).where(sa.true()) if table is not t.store_keys else sa.select(1)
            )


def _booked(order: str = "GZ-7") -> tuple[Shipment, SandboxCarrier, Any]:
    request = sample_booking_request(order)
    carrier = SandboxCarrier(seed=1, clock=lambda: NOW)
    booking = carrier.book(request)
    return request.shipment, carrier, booking


# --- round trips ---------------------------------------------------------------------------------


@DB
@given(center=ts.service_centers())
def test_a_center_reads_back_equal(store: Store, center: Any) -> None:
    _wipe(store)
    store.centers.upsert(center)
    assert store.centers.get(center.code) == center
    assert store.centers.upsert(center) == 0


@DB
@given(agreement=ts.any_agreements)
def test_an_agreement_reads_back_equal_with_its_centers(store: Store, agreement: Any) -> None:
    _wipe(store)
    store.agreements.upsert(agreement)
    assert store.agreements.get(agreement.id) == agreement
    assert store.agreements.upsert(agreement) == 0
    for code in agreement.centers:
        assert agreement in store.agreements.for_center(code)


@DB
@given(card=ts.rate_cards())
def test_a_rate_card_reads_back_equal(store: Store, card: Any) -> None:
    _wipe(store)
    store.rate_cards.upsert(card)
    assert store.rate_cards.get(card.name) == card


@DB
@given(catalogue=ts.catalogues())
def test_the_catalogue_reads_back_equal(store: Store, catalogue: Any) -> None:
    _wipe(store)
    store.catalogue.upsert(catalogue)
    loaded = {service.code: service for service in store.catalogue.load().services}
    for service in catalogue.services:  # the store is shared by the examples: a superset
        assert loaded[service.code] == service == store.catalogue.get(service.code)


@DB
@given(application=ts.applications())
def test_an_application_reads_back_equal_and_is_found_by_digest(
    store: Store, application: Any
) -> None:
    _wipe(store)
    store.applications.record(application)
    assert store.applications.get(application.reference) == application
    assert store.applications.record(application) == 0
    assert application in store.applications.by_mobile(application.applicant.mobile)
    if application.applicant.id_number is not None:
        assert application in store.applications.by_id_number(application.applicant.id_number)
    assert application in store.applications.find(
        center=application.center, status=application.status
    )


@DB
@given(shipment=st.one_of(ts.shipments(), ts.tracked_shipments()))
def test_a_shipment_reads_back_equal(store: Store, shipment: Shipment) -> None:
    _wipe(store)
    store.shipments.record(shipment)
    assert store.shipments.get(shipment.id) == shipment
    assert store.shipments.record(shipment) == 0
    if shipment.tracking_number is not None:
        assert store.shipments.by_tracking_number(shipment.tracking_number.value) == shipment
    if shipment.recipient is not None and shipment.recipient.mobile is not None:
        assert shipment in store.shipments.by_mobile(shipment.recipient.mobile)


@DB
@given(events=st.lists(ts.tracking_events(), max_size=8))
def test_events_ingested_twice_are_stored_once(store: Store, events: list[Any]) -> None:
    _wipe(store)
    before = store.events.count("ems")
    new = store.events.ingest("ems", events)
    assert new == store.events.count("ems") - before
    assert store.events.ingest("ems", events) == 0
    latest = {event.event_id: event for event in events}
    for event_id, event in latest.items():
        assert store.events.get("ems", event_id) == event


@DB
@given(entry=gps.journal_entries())
def test_a_journal_entry_reads_back_equal(store: Store, entry: JournalEntry) -> None:
    _wipe(store)
    recorded = store.journal.setdefault(entry)
    assert store.journal.get(entry.key) == recorded


# --- behaviour -----------------------------------------------------------------------------------


def test_a_shipment_moved_on_by_tracking_is_rewritten(store: Store) -> None:
    shipment, carrier, booking = _booked()
    store.shipments.record(shipment)
    tracked = carrier.track(booking.tracking_number)
    moved = Shipment(
        **{
            **{a.name: getattr(shipment, a.name) for a in shipment.__attrs_attrs__ if a.init},
            "tracking_number": booking.tracking_number,
        }
    ).apply(*tracked)
    assert store.shipments.record(moved) == 1
    assert store.shipments.get(shipment.id) == moved
    assert store.shipments.find(status=moved.status) == (moved,)
    assert store.shipments.find(status=ShipmentStatus.CREATED) == ()


def test_a_correction_replaces_the_stored_event_and_counts(store: Store) -> None:
    _, carrier, booking = _booked()
    events = list(carrier.track(booking.tracking_number))
    assert store.events.ingest("sandbox", events) == len(events)
    first = events[0]
    corrected = type(first)(
        event_id=first.event_id,
        tracking_number=first.tracking_number,
        status=first.status,
        occurred_at=first.occurred_at + timedelta(minutes=5),
        location="贵阳市处理中心",
    )
    assert store.events.ingest("sandbox", [corrected]) == 1
    assert store.events.get("sandbox", first.event_id) == corrected
    assert store.events.count("sandbox") == len(events)


def test_the_same_event_id_of_two_carriers_is_two_events(store: Store) -> None:
    _, carrier, booking = _booked()
    events = carrier.track(booking.tracking_number)
    assert store.events.ingest("sandbox", events) == len(events)
    assert store.events.ingest("other", events) == len(events)
    assert store.events.count() == 2 * len(events)


def test_seen_ids_in_a_transaction_commit_with_the_events_or_not_at_all(store: Store) -> None:
    _, carrier, booking = _booked()
    events = carrier.track(booking.tracking_number)

    def handle_then_fail() -> None:
        with store.transaction() as tx:
            tx.events.ingest("sandbox", events)
            tx.seen.remember(["event:sandbox:1", "event:sandbox:2"])
            raise RuntimeError("the handler failed")

    with pytest.raises(RuntimeError):
        handle_then_fail()
    assert store.events.count() == 0
    assert list(store.seen.seen(["event:sandbox:1"])) == []
    with store.transaction() as tx:
        tx.events.ingest("sandbox", events)
        tx.seen.remember(["event:sandbox:1", "event:sandbox:2"])
    assert sorted(store.seen.seen(["event:sandbox:1", "event:sandbox:3"])) == ["event:sandbox:1"]


def test_the_store_is_a_booking_journal_book_once_books_once(store: Store) -> None:
    request = sample_booking_request("GZ-9")
    carrier = SandboxCarrier(seed=3, clock=lambda: NOW)
    booking = book_once(carrier, request, store.journal, clock=lambda: NOW)
    assert book_once(carrier, request, store.journal, clock=lambda: NOW) == booking
    entry = store.journal.get("GZ-9")
    assert entry is not None
    assert (entry.state, entry.attempts, entry.booking) == (JournalState.BOOKED, 1, booking)
    assert store.journal.pending() == ()
    with pytest.raises(ValidationError, match="other content"):
        book_once(carrier, sample_booking_request("GZ-9", weight_g=999), store.journal)


def test_a_booked_entry_is_never_replaced(store: Store) -> None:
    request = sample_booking_request("GZ-10")
    carrier = SandboxCarrier(seed=3, clock=lambda: NOW)
    book_once(carrier, request, store.journal, clock=lambda: NOW)
    booked = store.journal.get("GZ-10")
    assert booked is not None
    memory = MemoryJournal()
    pending = memory.setdefault(
        JournalEntry(
            key="GZ-10",
            carrier=booked.carrier,
            fingerprint=booked.fingerprint,
            state=JournalState.PENDING,
            created_at=NOW,
            updated_at=NOW,
        )
    )
    assert store.journal.put(pending) == booked


def test_settlement_rows_stream_the_shipments_of_a_period(store: Store) -> None:
    from govpost import Period
    from govpost.settlement import SettlementRow

    shipment, carrier, booking = _booked()
    tracked = Shipment(
        **{
            **{a.name: getattr(shipment, a.name) for a in shipment.__attrs_attrs__ if a.init},
            "tracking_number": booking.tracking_number,
        }
    ).apply(*carrier.track(booking.tracking_number))
    store.shipments.record(tracked)
    assert tracked.picked_up_at is not None
    period = Period.month(tracked.picked_up_at.year, tracked.picked_up_at.month)
    rows = list(store.shipments.settlement_rows({tracked.center}, period))
    # The same row: enum members as the shipment has them, divisions as their codes.
    expected = SettlementRow.from_shipment(tracked)
    expected = expected._replace(
        origin=getattr(expected.origin, "code", expected.origin),
        destination=getattr(expected.destination, "code", expected.destination),
    )
    assert rows == [expected]
    assert list(store.shipments.settlement_rows({"GZ-OTHER"}, period)) == []


# --- encryption at rest --------------------------------------------------------------------------


def test_personal_data_is_never_in_clear_in_the_database(store_url: str, tmp_path: Path) -> None:
    keys = KeyRing(Key.from_hex("k1", "00112233445566778899aabbccddeeff"))
    shipment, _, _ = _booked()
    assert shipment.recipient is not None
    with open_store(store_url, keys=keys) as store:
        store.shipments.record(shipment)
        with store.engine.connect() as connection:
            dumped = repr(connection.execute(sa.select(t.shipments)).all())
    for secret in (shipment.recipient.name, shipment.recipient.mobile, shipment.recipient.address):
        assert secret is not None
        assert secret not in dumped
        assert secret.encode("utf-8").hex() not in dumped


def test_a_wrong_key_is_refused_at_open_and_nothing_changes(
    store_url: str, store_keys: KeyRing
) -> None:
    shipment, _, _ = _booked()
    with open_store(store_url, keys=store_keys) as store:
        store.shipments.record(shipment)
        before = _counts(store)
    wrong = KeyRing(Key.from_hex("k1", "0f" * 16))
    with pytest.raises(StoreError, match="not the key this store recorded") as raised:
        open_store(store_url, keys=wrong)
    assert "0f0f" not in str(raised.value)
    with open_store(store_url, keys=store_keys) as store:
        assert _counts(store) == before
        assert store.shipments.get(shipment.id) == shipment


def test_a_ring_without_the_key_of_a_row_names_the_key(store_url: str, store_keys: KeyRing) -> None:
    shipment, _, _ = _booked()
    with open_store(store_url, keys=store_keys) as store:
        store.shipments.record(shipment)
    with (
        open_store(store_url, keys=KeyRing(OTHER_KEY)) as store,
        pytest.raises(StoreError, match="'k1'"),
    ):
        store.shipments.get(shipment.id)


def test_without_keys_personal_data_is_refused_with_the_fix(store_url: str) -> None:
    shipment, _, _ = _booked()
    with open_store(store_url) as store:
        with pytest.raises(StoreError, match="keys=KeyRing"):
            store.shipments.record(shipment)
        assert _counts(store)["shipments"] == 0


def test_key_rotation_reseals_every_row_and_keeps_lookups(
    store_url: str, store_keys: KeyRing
) -> None:
    shipment, carrier, booking = _booked()
    application = None
    with open_store(store_url, keys=store_keys) as store:
        store.shipments.record(shipment)
        store.events.ingest("sandbox", carrier.track(booking.tracking_number))
        assert store.key_usage() == {"k1": 1 + len(carrier.track(booking.tracking_number))}
    rotated = KeyRing(OTHER_KEY, store_keys.active)
    with open_store(store_url, keys=rotated) as store:
        # Mid-rotation: old rows still read, and are found by the old key's digest.
        assert store.shipments.get(shipment.id) == shipment
        assert shipment.recipient is not None
        assert shipment.recipient.mobile is not None
        assert store.shipments.by_mobile(shipment.recipient.mobile) == (shipment,)
        resealed = store.rotate_keys(batch=2)
        assert resealed == sum(store.key_usage().values())
        assert set(store.key_usage()) == {"k2"}
        assert store.rotate_keys() == 0
    with open_store(store_url, keys=KeyRing(OTHER_KEY)) as store:
        assert store.shipments.get(shipment.id) == shipment
        assert store.shipments.by_mobile(shipment.recipient.mobile) == (shipment,)
        assert len(store.events.for_waybill(booking.tracking_number.value)) > 0
    assert application is None


# --- bad input -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "match"),
    [
        ("oracle://scott@db/orcl", "does not run on 'oracle'"),
        ("not a url", "not a database URL"),
        ("", "non-empty"),
        ("sqlite://", "in-memory"),
        ("sqlite:///:memory:", "in-memory"),
    ],
)
def test_a_bad_url_is_a_store_error_naming_it(url: str, match: str) -> None:
    with pytest.raises(StoreError, match=match):
        open_store(url)


def test_an_unreachable_server_is_a_store_error_without_the_password() -> None:
    with pytest.raises(StoreError, match="unreachable") as raised:
        open_store("postgresql://govpost:s3cret-pw@127.0.0.1:1/nowhere")
    assert "s3cret-pw" not in str(raised.value)


def test_an_unwritable_sqlite_path_is_a_store_error(tmp_path: Path) -> None:
    with pytest.raises(StoreError, match="open the store"):
        open_store(f"sqlite:///{tmp_path / 'missing' / 'dir' / 'govpost.db'}")


def test_a_too_long_code_is_refused_alike_on_every_engine(store: Store) -> None:
    with pytest.raises(ValidationError, match="must be the carrier adapter"):
        store.events.ingest("x" * 65, [])
    shipment, _, _ = _booked()
    assert _counts(store)["tracking_events"] == 0
    store.shipments.record(shipment)


def test_wrong_types_are_validation_errors(store: Store) -> None:
    with pytest.raises(ValidationError, match="Shipment values"):
        store.shipments.record("EA000000014CN")  # type: ignore[arg-type]
    with pytest.raises(ValidationError, match="TrackingEvent"):
        store.events.ingest("ems", ["event"])  # type: ignore[list-item]
    with pytest.raises(ValidationError, match="ServiceCenter"):
        store.centers.upsert(object())  # type: ignore[arg-type]


def test_a_failed_batch_writes_nothing(store: Store) -> None:
    _, carrier, booking = _booked()
    events = list(carrier.track(booking.tracking_number))
    with pytest.raises(ValidationError):
        store.events.ingest("sandbox", [*events, "not an event"])  # type: ignore[list-item]
    assert store.events.count() == 0


# --- SQLite specifics ----------------------------------------------------------------------------


def test_sqlite_runs_in_wal_with_foreign_keys_and_a_busy_timeout(
    tmp_path: Path, store_keys: KeyRing
) -> None:
    path = tmp_path / "govpost.db"
    with open_store(f"sqlite:///{path}", keys=store_keys) as store:
        with store.engine.connect() as connection:
            pragma = connection.exec_driver_sql
            assert pragma("PRAGMA journal_mode").scalar() == "wal"
            assert pragma("PRAGMA foreign_keys").scalar() == 1
            assert pragma("PRAGMA busy_timeout").scalar() >= 1000
        shipment, _, _ = _booked()
        store.shipments.record(shipment)
    with sqlite3.connect(path) as raw:
        assert raw.execute("PRAGMA integrity_check").fetchone() == ("ok",)


def test_times_are_kept_as_utc_instants(store: Store) -> None:
    shipment, _, _ = _booked()
    store.shipments.record(shipment)
    with store.engine.connect() as connection:
        created = connection.execute(
            sa.select(t.shipments.c.created_at).where(t.shipments.c.shipment_id == shipment.id)
        ).scalar_one()
    assert created.tzinfo is None or created.utcoffset() == timedelta(0)
    assert created.replace(tzinfo=UTC) == shipment.created_at
