"""An outside audit of :mod:`govpost.store`, on SQLite, PostgreSQL and MariaDB (``store_url``).

Each test here stands for a defect the audit found (and the fix it checks) or for a bug the
audit planted in the store's code that no other test caught:

- hostile input: text no engine keeps alike (NUL, lone surrogates), strings and integers at
  and beyond their columns, wrong types, keys of junk, huge batches, odd time zones and the
  edges of periods — refused alike on every engine with a govpost error naming the field,
  nothing written;
- tampering: rows changed with plain SQL are a :class:`StoreError` naming the record (or found
  by ``ledger.verify()``), never a wrong model;
- no raw exception from the public API (a closed store, a broken connection, a dropped table,
  a server that refuses);
- privacy: no name, mobile, ID number or address in logs (``echo=True``, DEBUG), reprs, error
  messages, nor in clear in any column of any table, in any encoding;
- key rotation and the booking journal under concurrent writers.
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta, timezone
from typing import Any
from zoneinfo import ZoneInfo

import attrs
import pytest

pytest.importorskip("sqlalchemy", reason="the store's tests need govpost[store]")

import sqlalchemy as sa
from sqlalchemy import event

from govpost.agreements import FlatTariff, Rate
from govpost.applications import Applicant, Application
from govpost.carriers.journal import JournalEntry, JournalState, MemoryJournal, book_once
from govpost.carriers.sandbox import SandboxCarrier
from govpost.centers import ServiceCenter
from govpost.errors import GovpostError, StoreError, ValidationError
from govpost.modes import Acknowledgement, HandoverManifest, RemittanceStatement
from govpost.money import Money
from govpost.periods import SHANGHAI, Period
from govpost.ratecards import RateCard
from govpost.serialization import to_json
from govpost.settlement import CarrierBill, reconcile, settle
from govpost.shipments import Shipment, ShipmentStatus, TrackingEvent
from govpost.store import Key, KeyRing, LedgerEntry, Store, ledger_entries, open_store
from govpost.store import _schema as t
from govpost.store._base import insert_new
from govpost.testing import sample_booking_request
from tests.databases import server_url
from tests.test_remittance import FINES, LICENCE, POLICE, police_month
from tests.test_store_settlement import JUNE, POSTED, per_piece, rows

NOW = datetime(2024, 6, 30, tzinfo=UTC)
K1 = Key.from_hex("k1", "00112233445566778899aabbccddeeff")
K2 = Key.from_hex("k2", "ffeeddccbbaa99887766554433221100")

#: The personal data of the workload: never in clear anywhere.
NAME, MOBILE, ID_NUMBER = "欧阳娜娜", "13800138000", "52010219900307009X"
ADDRESS = "贵州省凯里市北京东路1号"
RECIPIENT_ADDRESS = "贵州省遵义市红花岗区中华南路1号"
SIGNER = "司马相如"
PERSONAL = (NAME, MOBILE, ID_NUMBER, ADDRESS, RECIPIENT_ADDRESS, SIGNER)


@pytest.fixture
def store(store_url: str, store_keys: KeyRing) -> Iterator[Store]:
    with open_store(store_url, keys=store_keys) as opened:
        yield opened


def counts(store: Store) -> dict[str, int]:
    with store.engine.connect() as connection:
        return {
            table.name: connection.execute(
                sa.select(sa.func.count()).select_from(table)
            ).scalar_one()
            for table in t.METADATA.sorted_tables
        }


def execute(store: Store, *statements: sa.Executable) -> None:
    """Change rows outside govpost, with plain SQL."""
    with store.engine.begin() as connection:
        for statement in statements:
            connection.execute(statement)


def column(store: Store, col: sa.Column[Any], *where: sa.ColumnElement[bool]) -> Any:
    with store.engine.connect() as connection:
        return connection.execute(sa.select(col).where(*where)).scalar_one()


# --- records to write ---------------------------------------------------------------------------


def shipment(shipment_id: str = "GZ-1", **changes: Any) -> Shipment:
    return attrs.evolve(sample_booking_request(shipment_id).shipment, **changes)


def picked(shipment_id: str, at: datetime, **changes: Any) -> Shipment:
    return shipment(
        shipment_id,
        created_at=at - timedelta(hours=1),
        picked_up_at=at,
        status=ShipmentStatus.PICKED_UP,
        **changes,
    )


def application(reference: str = "520100-20180927-0001", **changes: Any) -> Application:
    fields: dict[str, Any] = {
        "reference": reference,
        "center": "GZ-520100",
        "service": "GZ-SCJG-001",
        "channel": "online",
        "applicant": Applicant(name=NAME, mobile=MOBILE, id_number=ID_NUMBER, address=ADDRESS),
        "accepted_at": datetime(2018, 9, 27, 10, tzinfo=SHANGHAI),
        "destination": "522601",
        "delivery": "mail",
    }
    fields.update(changes)
    return Application(**fields)


def manifest(manifest_id: str = "GZ-520100-20180929T1000", **changes: Any) -> HandoverManifest:
    fields: dict[str, Any] = {
        "manifest_id": manifest_id,
        "center": "GZ-520100",
        "scheduled_at": datetime(2018, 9, 29, 10, tzinfo=SHANGHAI),
        "items": [],
        "handed_over": Acknowledgement(
            name=SIGNER, at=datetime(2018, 9, 29, 10, 5, tzinfo=SHANGHAI)
        ),
    }
    fields.update(changes)
    return HandoverManifest(**fields)


def journal_entries(order: str = "GZ-50") -> tuple[JournalEntry, JournalEntry, JournalEntry]:
    """A pending, a failed and a booked entry of one order."""
    memory = MemoryJournal()
    carrier = SandboxCarrier(seed=3, clock=lambda: NOW)
    book_once(carrier, sample_booking_request(order), memory, clock=lambda: NOW)
    booked = memory.get(order)
    assert booked is not None
    assert booked.state is JournalState.BOOKED
    pending = attrs.evolve(booked, state=JournalState.PENDING, booking=None)
    failed = attrs.evolve(pending, state=JournalState.FAILED, error_code="E9", attempts=2)
    return pending, failed, booked


def event_of(
    number: str, event_id: str, at: datetime, status: ShipmentStatus = ShipmentStatus.PICKED_UP
) -> TrackingEvent:
    return TrackingEvent(
        event_id=event_id,
        tracking_number=number,
        status=status,
        occurred_at=at,
        location="贵阳市",
        description=f"已签收，签收人：{SIGNER}",
    )


def tracked(shipment_id: str = "GZ-7", number: str = "EA000000014CN") -> Shipment:
    events = [
        event_of(number, f"{shipment_id}-e1", datetime(2024, 6, 3, 10, tzinfo=SHANGHAI)),
        event_of(
            number,
            f"{shipment_id}-e2",
            datetime(2024, 6, 4, 16, tzinfo=SHANGHAI),
            ShipmentStatus.DELIVERED,
        ),
    ]
    return shipment(shipment_id, tracking_number=number).apply(*events)


def entry(reference: str = "R-1", **changes: Any) -> LedgerEntry:
    fields: dict[str, Any] = {
        "reference": reference,
        "agreement_id": "GZ-EMS-PP",
        "fiscal_year": 2018,
        "leg": "finance_to_center",
        "payer": "finance",
        "payee": "GZ-520100",
        "amount": Money("10.00"),
        "posted_at": POSTED,
    }
    fields.update(changes)
    return LedgerEntry(**fields)


def rate_card(name: str) -> RateCard:
    rate = Rate(
        valid_from=date(2018, 1, 1), reference="黔邮〔2018〕3号", tariff=FlatTariff(price="12.00")
    )
    return RateCard(name=name, rates=[rate])


# --- hostile input ------------------------------------------------------------------------------


def test_text_no_engine_keeps_alike_is_refused_naming_the_column(store: Store) -> None:
    """PostgreSQL refuses a NUL in text where SQLite and MariaDB keep it, and no engine encodes
    a lone surrogate: each is a ValidationError naming the column (never the value), on every
    engine, and nothing is written (before the fix: a StoreError on PostgreSQL only, a raw
    UnicodeEncodeError, or the row written)."""
    statement = settle(per_piece(), rows(JUNE, 3), JUNE)
    lines = list(statement.lines)
    pending, _, _ = journal_entries()
    cases: list[tuple[Callable[[], object], str]] = [
        (lambda: store.shipments.record(shipment(application_ref="CASE\x00-1")), "shipments.application_ref"),
        (lambda: store.ledger.post(entry(memo=f"{NAME}\x00")), "ledger_entries.memo"),
        (lambda: store.ledger.post(entry(payee="GZ\x00520100")), "ledger_entries.payee"),
        (lambda: store.agreements.upsert(attrs.evolve(per_piece(), carrier="e\x00ms")), "agreements.carrier"),
        (lambda: store.rate_cards.upsert(rate_card("EMS\x00")), "rate_cards.name"),
        (lambda: store.journal.setdefault(attrs.evolve(pending, carrier="e\ud800ms")), "JournalEntry GZ-50"),
        (lambda: store.journal.put(attrs.evolve(pending, key="GZ\x0050")), "booking_journal.order_id"),
        (lambda: store.statements.save(attrs.evolve(statement, statement_id="S\x00")), "statements.statement_id"),
        (lambda: store.statements.save(attrs.evolve(statement, lines=[*lines[:-1], attrs.evolve(lines[-1], waybill="W\x00")])), "statement_lines.waybill"),
    ]  # fmt: skip
    before = counts(store)
    for write, where in cases:
        with pytest.raises(
            ValidationError, match=rf"{where.replace('.', '[.]')} holds a (NUL|char)"
        ) as raised:
            write()
        assert NAME not in str(raised.value)
        assert counts(store) == before, where
    # The same text without the bad character is kept, and reads back equal.
    store.ledger.post(entry(memo=f"{NAME} "))
    assert store.ledger.entries()[0].memo == f"{NAME} "


def test_strings_and_integers_at_and_beyond_their_columns(store: Store) -> None:
    """At the column's limit a value is kept and reads back equal on every engine; one more is
    a ValidationError naming the column on every engine (MariaDB's INSERT IGNORE cut an
    integer out of range to the column's maximum, SQLite kept it, PostgreSQL refused)."""
    # A rate card's name may be 300 characters, its column holds 200 (4-byte characters too).
    at_limit = rate_card("邮" * 100 + "😀" * 100)
    assert store.rate_cards.upsert(at_limit) == 1
    assert store.rate_cards.get(at_limit.name) == at_limit
    with pytest.raises(ValidationError, match=r"rate_cards[.]name holds at most 200 characters"):
        store.rate_cards.upsert(rate_card("邮" * 201))
    pending, _, _ = journal_entries()
    longest = attrs.evolve(pending, key="G" * 64, attempts=2**31 - 1)
    assert store.journal.setdefault(longest) == longest
    assert column(store, t.booking_journal.c.attempts) == 2**31 - 1
    for bad, where in (
        (attrs.evolve(pending, key="G" * 65), r"order_id holds at most 64"),
        (attrs.evolve(pending, key="GZ-51", attempts=2**31), r"attempts holds integers from"),
    ):
        with pytest.raises(ValidationError, match=rf"booking_journal[.]{where}"):
            store.journal.setdefault(bad)
    # The largest amount a BIGINT holds, and one fen more (before: OverflowError on SQLite).
    most = Money.from_fen(2**63 - 1)
    assert store.ledger.post(entry(amount=most)) == 1
    assert store.ledger.balance("GZ-EMS-PP", 2018, "finance_to_center") == most
    with pytest.raises(ValidationError, match=r"ledger_entries[.]amount_fen holds integers"):
        store.ledger.post(entry("R-2", amount=Money.from_fen(2**63)))
    assert [e.amount for e in store.ledger.entries()] == [most]


def test_keys_of_junk_are_refused_alike_by_every_lookup(store: Store) -> None:
    """A key holding a NUL was a StoreError on PostgreSQL and nothing found elsewhere; a lone
    surrogate a raw UnicodeEncodeError; a key of another type found nothing on SQLite and was
    a StoreError quoting SQL on PostgreSQL. Now: a ValidationError naming the key, alike."""
    lookups: list[Callable[[Any], object]] = [
        store.shipments.get,
        store.shipments.by_tracking_number,
        lambda key: store.shipments.find(center=key),
        lambda key: store.shipments.find(application=key),
        store.applications.get,
        store.applications.by_id_number,
        lambda key: store.applications.find(center=key),
        lambda key: store.events.get("ems", key),
        store.events.for_waybill,
        store.centers.get,
        store.agreements.get,
        store.agreements.for_center,
        store.rate_cards.get,
        store.catalogue.get,
        store.journal.get,
        lambda key: store.seen.seen([key]),
        lambda key: store.seen.remember([key]),
        store.statements.get,
        lambda key: store.statements.current(key, JUNE),
        store.remittances.get,
        store.manifests.get,
        store.reconciliations.for_statement,
        lambda key: store.ledger.entries(key),
    ]
    for junk, match in (
        (f"{MOBILE}\x00", "NUL"),
        ("GZ\ud800", "lone surrogate"),
    ):
        for lookup in lookups:
            with pytest.raises(ValidationError, match=match) as raised:
                lookup(junk)
            assert MOBILE not in str(raised.value)
    for lookup in lookups:
        if lookup in (store.shipments.by_tracking_number, store.events.for_waybill):
            continue  # a waybill is any object whose str() is the number
        with pytest.raises(ValidationError, match=r"must be a (non-empty )?str"):
            lookup(520100)
    assert counts(store)["seen_ids"] == 0


def test_wrong_types_and_values_of_arguments_are_validation_errors(store: Store) -> None:
    """Not raw exceptions (AttributeError), nor silent nonsense (a str taken for a collection
    of its characters), nor a hang (``rotate_keys(batch=0)`` looped for ever)."""
    with pytest.raises(ValidationError, match="ID number must be a str"):
        store.applications.by_id_number(520102199003071236)  # type: ignore[arg-type]
    with pytest.raises(ValidationError, match="keys must be a collection"):
        store.seen.remember("event:ems:1")
    with pytest.raises(ValidationError, match="keys must be a collection"):
        store.seen.seen("event:ems:1")
    with pytest.raises(ValidationError, match="centers must be a collection"):
        list(store.shipments.settlement_rows("GZ-520100", JUNE))
    with pytest.raises(ValidationError, match="batch must be an int of at least 1"):
        list(store.shipments.settlement_rows(["GZ-520100"], JUNE, batch=0))
    for limit in (-1, True, "3", 2.0):
        with pytest.raises(ValidationError, match="limit must be an int of at least 0"):
            store.shipments.find(limit=limit)  # type: ignore[arg-type]
        with pytest.raises(ValidationError, match="limit must be an int of at least 0"):
            store.applications.find(limit=limit)  # type: ignore[arg-type]
    for since in ("2024-06-01", datetime(2024, 6, 1)):
        with pytest.raises(ValidationError, match="quiet_since"):
            store.shipments.find(quiet_since=since)  # type: ignore[arg-type]
    for period in ("2018-06", date(2018, 6, 1)):
        with pytest.raises(ValidationError, match="a period is a Period"):
            store.shipments.find(picked_up_in=period)  # type: ignore[arg-type]
    with pytest.raises(ValidationError, match=r"limit must be an int of at least 0, not str$"):
        store.shipments.find(limit=MOBILE)  # type: ignore[arg-type]
    store.shipments.record(shipment())
    assert store.shipments.find(limit=0) == ()
    for batch in (0, -1, True, "500"):
        done: list[BaseException] = []

        def rotate(batch: object = batch, done: list[BaseException] = done) -> None:
            try:
                store.rotate_keys(batch=batch)  # type: ignore[arg-type]
            except BaseException as error:
                done.append(error)

        thread = threading.Thread(target=rotate, daemon=True)
        thread.start()
        thread.join(10)
        assert not thread.is_alive(), f"rotate_keys(batch={batch!r}) does not return"
        assert len(done) == 1, done
        assert isinstance(done[0], ValidationError), done


def test_huge_batches_and_repeated_ids_in_one_batch(store: Store) -> None:
    """Beyond one insert statement (1,000 rows), an id given twice in one call keeps the last
    version given, wherever the two fall; ingesting the versions kept again changes nothing."""
    number = "EA000000014CN"
    start = datetime(2024, 6, 1, tzinfo=SHANGHAI)
    events = [event_of(number, f"e{i:05d}", start + timedelta(minutes=i)) for i in range(2_500)]
    first, moved = events[0], attrs.evolve(events[0], location="遵义市")
    near, near_moved = events[1], attrs.evolve(events[1], location="凯里市")
    given = [first, near, near_moved, *events[2:], moved]  # repeats in one chunk and across
    assert store.events.ingest("ems", iter(given)) >= 2_500
    assert store.events.count("ems") == 2_500
    assert store.events.get("ems", first.event_id) == moved
    assert store.events.get("ems", near.event_id) == near_moved
    assert store.events.ingest("ems", [moved, near_moved, *events[2:]]) == 0
    assert store.events.ingest("ems", [first]) == 1  # the earlier version is a correction
    # The same id from another carrier is another event: neither replaces the other.
    assert store.events.ingest("sf", [moved]) == 1
    assert store.events.get("ems", first.event_id) == first
    assert store.events.get("sf", first.event_id) == moved
    assert store.events.count() == 2_501
    keys = [f"event:ems:{i}" for i in range(2_500)]
    store.seen.remember(keys + keys[:10])
    assert sorted(store.seen.seen([*keys, "event:ems:new"])) == sorted(keys)
    assert counts(store)["seen_ids"] == 2_500


def test_times_in_odd_zones_round_trip_exactly(store: Store) -> None:
    """UTC+14, UTC-12, an offset of seconds, both readings of a time DST repeats, the first and
    last years govpost holds: the same instant and the same offset come back in every
    document, and the UTC column holds the instant."""
    new_york = ZoneInfo("America/New_York")
    times = [
        datetime(2024, 6, 3, 9, 30, 1, 123456, tzinfo=timezone(timedelta(hours=14))),
        datetime(2024, 6, 3, 9, 30, 1, 999999, tzinfo=timezone(timedelta(hours=-12))),
        datetime(2024, 6, 3, 9, 30, tzinfo=timezone(-timedelta(hours=3, minutes=7, seconds=11))),
        datetime(2021, 11, 7, 1, 30, tzinfo=new_york, fold=0),
        datetime(2021, 11, 7, 1, 30, tzinfo=new_york, fold=1),
        datetime(1900, 1, 1, tzinfo=timezone(timedelta(hours=14))),
        datetime(9998, 12, 31, 23, 59, 59, 999999, tzinfo=timezone(timedelta(hours=-12))),
    ]

    def same(got: datetime, want: datetime) -> bool:
        # Instants and offsets: a time DST repeats never equals one in another zone (PEP 495).
        return (got.timestamp(), got.utcoffset()) == (want.timestamp(), want.utcoffset())

    for i, when in enumerate(times):
        key = f"GZ-T{i}"
        store.shipments.record(shipment(key, created_at=when))
        got = store.shipments.get(key)
        assert got is not None
        assert same(got.created_at, when)
        created = column(store, t.shipments.c.created_at, t.shipments.c.shipment_id == key)
        assert created.replace(tzinfo=UTC) == when.astimezone(UTC)
        store.events.ingest("ems", [event_of("EA000000014CN", key, when)])
        stored = store.events.get("ems", key)
        assert stored is not None
        assert same(stored.occurred_at, when)
        if 2000 < when.year < 9000:
            store.applications.record(application(f"520100-2018092{i}-0001", accepted_at=when))
            found = store.applications.get(f"520100-2018092{i}-0001")
            assert found is not None
            assert same(found.accepted_at, when)
            store.manifests.record(manifest(f"M-{i}", scheduled_at=when, handed_over=None))
            held = store.manifests.get(f"M-{i}")
            assert held is not None
            assert same(held.scheduled_at, when)
        if 1900 <= when.astimezone(UTC).year <= 9998:
            store.ledger.post(entry(key, posted_at=when))
            posted = store.ledger.entries()[-1].posted_at  # read back in UTC
            assert (posted.timestamp(), posted.utcoffset()) == (when.timestamp(), timedelta(0))
        else:  # it could be posted, but no entry of the ledger could be read any more
            with pytest.raises(ValidationError, match="in UTC where the ledger keeps it"):
                store.ledger.post(entry(key, posted_at=when))
    assert len(store.ledger.entries()) == len(times) - 2


def test_the_edges_of_a_period_on_every_engine(store: Store) -> None:
    """A period runs from its first instant (included) to the next period's first (excluded),
    in Asia/Shanghai whatever zone a time is written in; settlement reads the pieces picked
    up or returned in it."""
    june_start = datetime(2018, 6, 1, tzinfo=SHANGHAI)
    july_start = datetime(2018, 7, 1, tzinfo=SHANGHAI)
    plus14, minus12 = timezone(timedelta(hours=14)), timezone(timedelta(hours=-12))
    first = picked("GZ-FIRST", june_start.astimezone(plus14))
    last = picked("GZ-LAST", (july_start - timedelta(microseconds=1)).astimezone(minus12))
    after = picked("GZ-AFTER", july_start.astimezone(minus12))
    before = picked("GZ-BEFORE", june_start - timedelta(microseconds=1))
    returned = attrs.evolve(
        before, id="GZ-RETURNED", status=ShipmentStatus.RETURNING, returned_at=june_start
    )
    store.shipments.record(first, last, after, before, returned)
    assert [s.id for s in store.shipments.find(picked_up_in=JUNE)] == ["GZ-FIRST", "GZ-LAST"]
    quarter = Period.parse("2018-Q2")
    assert {s.id for s in store.shipments.find(picked_up_in=quarter)} == {
        "GZ-FIRST",
        "GZ-LAST",
        "GZ-BEFORE",
        "GZ-RETURNED",
    }
    settled = {
        row.shipment_id or row.waybill
        for row in store.shipments.settlement_rows(["GZ-520100"], JUNE)
    }
    assert settled == {"GZ-FIRST", "GZ-LAST", "GZ-RETURNED"}
    for i, when in enumerate((june_start, july_start - timedelta(microseconds=1), july_start)):
        store.applications.record(application(f"520100-20180601-000{i}", accepted_at=when))
        store.manifests.record(manifest(f"M-{i}", scheduled_at=when, handed_over=None))
    assert [a.reference for a in store.applications.find(accepted_in=JUNE)] == [
        "520100-20180601-0000",
        "520100-20180601-0001",
    ]
    assert [m.manifest_id for m in store.manifests.find(scheduled_in=JUNE)] == ["M-0", "M-1"]


def test_quiet_since_reads_the_last_event(store: Store) -> None:
    """The shipments to poll are those whose *latest* event is older than the instant."""
    old = shipment("GZ-OLD", tracking_number="EA000000014CN").apply(
        event_of("EA000000014CN", "o1", datetime(2024, 6, 3, 10, tzinfo=SHANGHAI))
    )
    moving = shipment("GZ-MOVING", tracking_number="EA000000028CN").apply(
        event_of("EA000000028CN", "m1", datetime(2024, 6, 3, 10, tzinfo=SHANGHAI)),
        event_of(
            "EA000000028CN",
            "m2",
            datetime(2024, 6, 20, 10, tzinfo=SHANGHAI),
            ShipmentStatus.IN_TRANSIT,
        ),
    )
    done = tracked("GZ-DONE", "EA000000045CN")  # delivered: never polled
    silent = shipment("GZ-SILENT", tracking_number="EA000000031CN")
    store.shipments.record(old, moving, done, silent)
    since = datetime(2024, 6, 10, tzinfo=SHANGHAI)
    assert [s.id for s in store.shipments.find(quiet_since=since)] == ["GZ-OLD", "GZ-SILENT"]
    later = datetime(2024, 6, 21, tzinfo=SHANGHAI)
    assert [s.id for s in store.shipments.find(quiet_since=later)] == [
        "GZ-MOVING",
        "GZ-OLD",
        "GZ-SILENT",
    ]


def test_agreement_centers_and_id_numbers_follow_the_record(store: Store) -> None:
    """An agreement that stops covering a center is no longer found by it; an ID number is
    found whatever the case of its check character."""
    agreement = per_piece()
    store.agreements.upsert(agreement)
    dropped = sorted(agreement.centers)[0]
    narrower = attrs.evolve(agreement, centers=agreement.centers - {dropped})
    assert store.agreements.upsert(narrower) == 1
    assert store.agreements.for_center(dropped) == ()
    assert store.agreements.for_center(sorted(narrower.centers)[0]) == (narrower,)
    kept = application()
    store.applications.record(kept)
    assert store.applications.by_id_number(ID_NUMBER.lower()) == (kept,)
    assert store.applications.by_id_number(ID_NUMBER) == (kept,)
    assert store.applications.by_mobile(MOBILE) == (kept,)


def test_insert_new_returns_the_keys_it_inserted(store: Store) -> None:
    rows: list[dict[str, object]] = [
        {"key_hash": f"{i:064x}", "remembered_at": NOW} for i in range(3)
    ]
    with store.engine.begin() as connection:
        assert insert_new(store._source, connection, t.seen_ids, rows[:2]) == [
            (f"{0:064x}",),
            (f"{1:064x}",),
        ]
        assert insert_new(store._source, connection, t.seen_ids, rows) == [(f"{2:064x}",)]
        assert insert_new(store._source, connection, t.seen_ids, rows) == []


# --- tampering ----------------------------------------------------------------------------------


def test_sealed_documents_moved_cut_or_relabelled(store: Store, store_url: str) -> None:
    """A sealed document is bound to its table and row: moved to another row (of its table or
    of another), cut short, or replaced, it is a StoreError naming the record; a key_id column
    changed is harmless (the token names its key) and rotation mends it."""
    a, b = shipment("GZ-1"), shipment("GZ-2")
    pending, _, _ = journal_entries("GZ-1")
    store.shipments.record(a, b)
    store.journal.setdefault(pending)
    s, j = t.shipments, t.booking_journal
    sealed_a = column(store, s.c.document, s.c.shipment_id == "GZ-1")
    sealed_b = column(store, s.c.document, s.c.shipment_id == "GZ-2")
    execute(store, sa.update(s).where(s.c.shipment_id == "GZ-1").values(document=sealed_b))
    with pytest.raises(StoreError, match=r"Shipment GZ-1 cannot be read: a value does not decrypt"):
        store.shipments.get("GZ-1")
    with pytest.raises(StoreError, match="Shipment GZ-1 cannot be read"):
        store.shipments.find()
    journal = column(store, j.c.document)
    execute(store, sa.update(j).values(document=sealed_a))  # same key, another table
    with pytest.raises(StoreError, match=r"JournalEntry GZ-1 cannot be read: a value does not"):
        store.journal.get("GZ-1")
    execute(store, sa.update(j).values(document=journal))
    execute(
        store, sa.update(s).where(s.c.shipment_id == "GZ-1").values(document=bytes(sealed_a)[:-1])
    )
    with pytest.raises(StoreError, match="Shipment GZ-1 cannot be read"):
        store.shipments.get("GZ-1")
    execute(store, sa.update(s).where(s.c.shipment_id == "GZ-1").values(document=b"{}"))
    with pytest.raises(StoreError, match="Shipment GZ-1 cannot be read: not a govpost ciphertext"):
        store.shipments.get("GZ-1")
    execute(
        store, sa.update(s).where(s.c.shipment_id == "GZ-1").values(document=sealed_a, key_id="k9")
    )
    assert store.shipments.get("GZ-1") == a
    with open_store(store_url, keys=KeyRing(K2, K1)) as rotated:
        assert rotated.rotate_keys() == 3
        assert rotated.key_usage() == {"k2": 3}
        assert rotated.shipments.get("GZ-1") == a


def test_clear_documents_moved_to_another_row(store: Store) -> None:
    """A document in clear is not bound to its row: copied into another row it was read as
    that row's record (a wrong model); now a StoreError naming the row."""
    one = ServiceCenter(code="GZ-A", name="甲中心", division="520102")
    two = ServiceCenter(code="GZ-B", name="乙中心", division="520103")
    store.centers.upsert(one, two)
    store.rate_cards.upsert(rate_card("EMS A"), rate_card("EMS B"))
    c, r = t.centers, t.rate_cards
    execute(
        store,
        sa.update(c).where(c.c.code == "GZ-B").values(document=column(store, c.c.document, c.c.code == "GZ-A")),
        sa.update(r).where(r.c.name == "EMS B").values(document=column(store, r.c.document, r.c.name == "EMS A")),
    )  # fmt: skip
    with pytest.raises(StoreError, match="center GZ-B in the store holds the document of another"):
        store.centers.get("GZ-B")
    with pytest.raises(StoreError, match="center GZ-B"):
        store.centers.all()
    with pytest.raises(StoreError, match="rate card EMS B in the store holds the document"):
        store.rate_cards.get("EMS B")
    assert store.centers.get("GZ-A") == one
    for garbled in ("{not json", '{"code": 1}', "[]", '"GZ-B"'):
        execute(store, sa.update(c).where(c.c.code == "GZ-B").values(document=garbled))
        with pytest.raises(StoreError, match="center GZ-B in the store is unreadable as Service"):
            store.centers.get("GZ-B")
    # Remittances and reconciliation reports.
    police = RemittanceStatement.build(POLICE, [LICENCE, FINES], police_month(), JUNE)
    other = RemittanceStatement.build(POLICE, [LICENCE, FINES], police_month()[:2], JUNE)
    store.remittances.save(police)
    execute(store, sa.update(t.remittances).values(document=to_json(other)))
    with pytest.raises(
        StoreError, match=f"remittance statement {police.statement_id} in the store holds"
    ):
        store.remittances.get(police.statement_id)
    june, july = (settle(per_piece(), rows(p, 3), p) for p in (JUNE, Period.month(2018, 7)))
    store.reconciliations.save(reconcile(june, CarrierBill.from_statement(june)))
    store.reconciliations.save(reconcile(july, CarrierBill.from_statement(july)))
    rc = t.reconciliations.c
    execute(store, sa.update(t.reconciliations).where(rc.statement_id == june.statement_id).values(document=column(store, rc.document, rc.statement_id == july.statement_id)))  # fmt: skip
    with pytest.raises(
        StoreError, match=f"of statement {june.statement_id} in the store holds a report"
    ):
        store.reconciliations.for_statement(june.statement_id)


def test_statement_rows_changed_outside_govpost(store: Store) -> None:
    """A line's amount or place changed, a header's totals or id changed: a StoreError naming
    the statement, never a statement whose lines do not add up (before: read back silently)."""
    statement = settle(per_piece(), rows(JUNE, 6), JUNE)
    agreement_id, key = statement.agreement_id, statement.statement_id
    store.statements.save(statement)
    lines, heads = t.statement_lines, t.statements
    position = lines.c.position
    changes: list[tuple[list[sa.Executable], list[sa.Executable], Callable[[], object], str]] = [
        (
            [sa.update(lines).where(position == 0).values(amount_fen=lines.c.amount_fen + 100)],
            [sa.update(lines).where(position == 0).values(amount_fen=lines.c.amount_fen - 100)],
            lambda: store.statements.get(key),
            f"the lines of statement {key} in the store are not the ones saved",
        ),
        (
            [sa.update(lines).where(position == 1).values(position=99)],
            [sa.update(lines).where(position == 99).values(position=1)],
            lambda: store.statements.current(agreement_id, JUNE),
            f"the lines of statement {key} .* out of order",
        ),
        (
            [sa.update(lines).where(position == 1).values(position=-1)],
            [sa.update(lines).where(position == -1).values(position=1)],
            lambda: store.statements.history(agreement_id, JUNE),
            f"the lines of statement {key} .* out of order",
        ),
        (
            [sa.update(heads).values(total_fen=1)],
            [sa.update(heads).values(total_fen=statement.total.fen)],
            lambda: store.statements.totals(agreement_id, JUNE),
            f"the totals of statement {key} in the store are not those of its document",
        ),
        (
            [sa.update(heads).values(currency="USD")],
            [sa.update(heads).values(currency="CNY")],
            lambda: store.statements.totals(agreement_id, JUNE),
            f"the totals of statement {key}",
        ),
        (
            [sa.update(heads).values(statement_id="GZ-OTHER")],
            [sa.update(heads).values(statement_id=key)],
            lambda: store.statements.get("GZ-OTHER"),
            f"statement GZ-OTHER in the store holds the document of statement {key}",
        ),
    ]
    for tamper, restore, read, match in changes:
        execute(store, *tamper)
        with pytest.raises(StoreError, match=match):
            read()
        execute(store, *restore)
        assert store.statements.get(key) == statement
    # A statement whose lines do not add up to its total could never be read back: refused.
    wrong = attrs.evolve(statement, statement_id="GZ-WRONG", lines=[*statement.lines[:-1]])
    with store.transaction() as tx:
        tx.ledger.post(entry())
        with pytest.raises(ValidationError, match="the lines of statement GZ-WRONG add up to"):
            tx.statements.save(wrong, supersede=True)
    assert counts(store)["statements"] == 1
    assert counts(store)["ledger_entries"] == 1


def test_ledger_rows_changed_outside_govpost(store: Store) -> None:
    """verify() finds a balance or an entry changed; a leg or currency no longer valid is a
    StoreError naming the balance (before: a bare ValidationError from verify)."""
    statement = settle(per_piece(), rows(JUNE, 6), JUNE)
    store.ledger.post(*ledger_entries(statement, posted_at=POSTED))
    b, e = t.ledger_balances, t.ledger_entries
    execute(store, sa.update(e).where(e.c.entry_no == 1).values(amount_fen=e.c.amount_fen + 1))
    (found,) = store.ledger.verify()
    assert found.leg.value == "finance_to_center"
    assert found.computed is not None
    assert found.recorded is not None
    assert found.computed - found.recorded == Money("0.01")
    execute(store, sa.update(e).where(e.c.entry_no == 1).values(amount_fen=e.c.amount_fen - 1))
    assert store.ledger.verify() == ()
    execute(store, sa.update(b).where(b.c.leg == "finance_to_center").values(leg="bogus"))
    with pytest.raises(StoreError, match=r"the ledger of agreement 'GZ-EMS-PP', 2018, leg 'bogus'"):
        store.ledger.verify()
    execute(store, sa.update(b).where(b.c.leg == "bogus").values(leg="finance_to_center"))
    execute(store, sa.update(e).where(e.c.entry_no == 2).values(currency="XX"))
    with pytest.raises(StoreError, match="ledger entry 2 in the store is invalid"):
        store.ledger.entries()
    with pytest.raises(StoreError, match="in the store is invalid"):
        store.ledger.verify()
    execute(store, sa.update(e).where(e.c.entry_no == 2).values(currency="CNY"))
    execute(store, sa.delete(e).where(e.c.entry_no == 3))
    assert len(store.ledger.verify()) == 1
    assert store.ledger.rebuild() == 2
    assert store.ledger.verify() == ()


# --- no raw exception ---------------------------------------------------------------------------


def test_a_closed_store_a_broken_connection_and_a_dropped_table(store: Store) -> None:
    store.shipments.record(shipment("GZ-1"))
    store.close()
    assert store.shipments.get("GZ-1") == shipment("GZ-1")  # connections are opened again
    store.close()
    with store.transaction() as tx:  # the store closed mid-transaction: it commits
        tx.shipments.record(shipment("GZ-2"))
        assert tx._source.connection is not None
        driver = tx._source.connection.connection.dbapi_connection
        store.close()
        tx.shipments.record(shipment("GZ-3"))
    # SQLAlchemy leaves a connection checked out at dispose() open in the pool it left:
    # closed here, else the driver warns when it is collected (a ResourceWarning).
    assert driver is not None
    driver.close()
    assert store.shipments.get("GZ-3") is not None

    def broken(how: str) -> None:
        with store.transaction() as tx:
            tx.shipments.record(shipment("GZ-4"))
            connection = tx._source.connection
            assert connection is not None
            connection.invalidate() if how == "invalidate" else connection.close()
            tx.shipments.record(shipment("GZ-5"))

    with pytest.raises(StoreError, match="record shipments failed: Can't reconnect"):
        broken("invalidate")
    with pytest.raises(StoreError, match="record shipments failed: This Connection is closed"):
        broken("close")
    assert [s.id for s in store.shipments.find()] == ["GZ-1", "GZ-2", "GZ-3"]
    execute(store, sa.text("DROP TABLE centers"))
    with pytest.raises(StoreError, match="read centers failed") as raised:
        store.centers.get("GZ-A")
    assert "unreachable" not in str(raised.value)  # before: so said on SQLite


@pytest.mark.parametrize("backend", ["postgresql", "mysql"])
def test_servers_that_refuse_are_store_errors_without_the_password(backend: str) -> None:
    base = sa.make_url(server_url(backend))
    password = "pw-Zq81-secret"
    urls = [
        base.set(port=1, password=password),
        base.set(database="gp_no_such_database", password=None if backend == "mysql" else password),
    ]
    if backend == "mysql":  # the server's root takes no password: a wrong one is refused
        urls.append(base.set(password=password))
    for url in urls:
        text = url.render_as_string(hide_password=False)
        with pytest.raises(StoreError) as raised:
            open_store(text)
        assert password not in str(raised.value)
        assert password not in repr(raised.value)
    garbled = f"{backend}://u:{password}@host:notaport/db"
    with pytest.raises(StoreError, match="not a database URL") as raised:
        open_store(garbled)
    assert password not in str(raised.value)
    engine = sa.create_engine(f"postgresql+psycopg://u:{password}@127.0.0.1:1/db")
    unopened = Store(engine)
    assert password not in repr(unopened)
    assert password not in unopened.url
    engine.dispose()


# --- privacy ------------------------------------------------------------------------------------


def _forms(secret: str) -> tuple[list[str], list[bytes]]:
    """How a value may be written in text and in bytes."""
    escaped = json.dumps(secret)[1:-1]
    encoded = [secret.encode(codec) for codec in ("utf-8", "utf-16-le", "utf-16-be", "gb18030")]
    texts = [secret, escaped, escaped.lower(), escaped.upper()]
    texts += [raw.hex() for raw in encoded] + [raw.hex().upper() for raw in encoded]
    return texts, encoded


@pytest.fixture
def restored_sql_logging() -> Iterator[None]:
    """``echo=True`` gives SQLAlchemy's engine logger a handler on the stdout of the moment (the
    test's capture): removed afterwards."""
    logger = logging.getLogger("sqlalchemy.engine.Engine")
    kept = list(logger.handlers)
    yield
    for handler in list(logger.handlers):
        if handler not in kept:
            logger.removeHandler(handler)


@pytest.mark.usefixtures("restored_sql_logging")
def test_no_personal_data_in_logs_reprs_messages_or_any_column(
    store_url: str,
    store_keys: KeyRing,
    caplog: pytest.LogCaptureFixture,
    capsys: pytest.CaptureFixture[str],
) -> None:
    caplog.set_level(logging.DEBUG)
    caplog.set_level(logging.DEBUG, logger="sqlalchemy")
    marker = "CASE-PARAM-7c1e"  # a parameter: the SQL log never shows one
    messages: list[str] = []
    with open_store(store_url, keys=store_keys, echo=True) as store:
        sent = tracked("GZ-7")
        store.applications.record(application())
        store.shipments.record(sent, shipment("GZ-8", application_ref=marker))
        store.events.ingest("ems", sent.events)
        store.manifests.record(manifest())
        book_once(
            SandboxCarrier(seed=1, clock=lambda: NOW),
            sample_booking_request("GZ-9"),
            store.journal,
            clock=lambda: NOW,
        )
        statement = settle(per_piece(), rows(JUNE, 3), JUNE)
        store.statements.save(statement)
        store.ledger.post(*ledger_entries(statement, posted_at=POSTED))
        assert store.applications.by_mobile(MOBILE) == (application(),)
        assert store.applications.by_id_number(ID_NUMBER) == (application(),)
        assert len(store.shipments.by_mobile(MOBILE)) == 2
        assert len(store.events.for_waybill("EA000000014CN")) == 2
        store.rotate_keys()
        calls: list[Callable[[Any], object]] = [
            store.shipments.get,
            store.applications.by_id_number,
            store.ledger.entries,
            store.centers.get,
            lambda v: store.shipments.find(limit=v),
            lambda v: store.rotate_keys(batch=v),
            lambda v: store.shipments.find(quiet_since=v),
        ]
        for junk in (f"{NAME}\x00", f"{MOBILE}\ud800", f"{ID_NUMBER}\x00", f"{ADDRESS}\x00"):
            for call in calls:
                with pytest.raises(GovpostError) as raised:
                    call(junk)
                messages.append(str(raised.value))
        for bad in (MOBILE, ID_NUMBER, NAME):
            for call in calls[-3:]:
                with pytest.raises(GovpostError) as raised:
                    call(bad)
                messages.append(str(raised.value))
        with pytest.raises(GovpostError) as raised:
            store.shipments.record(shipment("GZ-7", application_ref=NAME * 20))
        messages.append(str(raised.value))
        s = t.shipments
        execute(
            store,
            sa.update(s)
            .where(s.c.shipment_id == "GZ-7")
            .values(document=column(store, s.c.document, s.c.shipment_id == "GZ-8")),
        )
        with pytest.raises(StoreError) as raised:
            store.shipments.get("GZ-7")
        messages.append(str(raised.value))
        with store.transaction() as tx:
            reprs = [repr(store), repr(tx), repr(store.keys), repr(store._source.codec)]
            reprs += [repr(getattr(tx, name)) for name in vars(tx) if not name.startswith("_")]
        dumped: list[Any] = []
        with store.engine.connect() as connection:
            for table in t.METADATA.sorted_tables:
                for row in connection.execute(sa.select(table)):
                    dumped.extend(row)
    with open_store(store_url) as unkeyed, pytest.raises(StoreError) as raised:
        unkeyed.shipments.get("GZ-8")
    messages.append(str(raised.value))
    logged = caplog.text + capsys.readouterr().out
    assert "INSERT INTO shipments" in logged  # echo and DEBUG were on
    assert marker not in logged
    texts = [logged, *messages, *reprs] + [str(v) for v in dumped if not isinstance(v, bytes)]
    blobs = [bytes(v) for v in dumped if isinstance(v, bytes | bytearray | memoryview)]
    for secret in PERSONAL:
        in_text, in_bytes = _forms(secret)
        for text in texts:
            for form in in_text:
                assert form not in text, (secret, form, text[:200])
        for blob in blobs:
            for raw in in_bytes:
                assert raw not in blob, secret


# --- concurrent writers -------------------------------------------------------------------------


@contextmanager
def interleaved(engine: sa.Engine, prefix: str, other: Callable[[], object]) -> Iterator[None]:
    """In the block: just before this thread's first statement on ``engine`` that starts with
    ``prefix``, run ``other`` in another thread and give it 0.75 s to finish (it may
    have to wait for this thread's locks); joined at exit."""
    owner = threading.get_ident()
    fired: list[threading.Thread] = []
    failed: list[BaseException] = []
    done = threading.Event()

    def run() -> None:
        try:
            other()
        except BaseException as error:
            failed.append(error)
        finally:
            done.set()

    def before(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        if threading.get_ident() == owner and not fired and statement.lstrip().startswith(prefix):
            fired.append(threading.Thread(target=run))
            fired[0].start()
            done.wait(0.75)

    event.listen(engine, "before_cursor_execute", before)
    try:
        yield
    finally:
        event.remove(engine, "before_cursor_execute", before)
        for thread in fired:
            thread.join(30)
    assert fired, f"no statement started with {prefix!r}"
    if failed:
        raise failed[0]


def test_a_booking_written_while_a_failure_is_being_put_is_kept(
    store: Store, store_url: str, store_keys: KeyRing
) -> None:
    """``journal.put`` locks the entry: a booking recorded by another process between its read
    and its write is never replaced by the failure it was about to write."""
    pending, failed, booked = journal_entries()
    store.journal.setdefault(pending)
    with (
        open_store(store_url, keys=store_keys) as other,
        interleaved(store.engine, "UPDATE booking_journal", lambda: other.journal.put(booked)),
    ):
        store.journal.put(failed)
    kept = store.journal.get(booked.key)
    assert kept is not None
    assert kept.state is JournalState.BOOKED
    assert kept.booking == booked.booking


def test_a_change_written_while_its_row_is_resealed_is_kept(
    store_url: str, store_keys: KeyRing
) -> None:
    """``rotate_keys`` locks the rows it re-seals: a change written by another process after
    rotation read a row is never overwritten with the row's older content (before: lost on
    PostgreSQL and MariaDB)."""
    first = shipment("GZ-1")
    changed = attrs.evolve(first, weight_g=first.weight_g + 1)
    with open_store(store_url, keys=store_keys) as store:
        store.shipments.record(first)
    ring = KeyRing(K2, K1)
    with open_store(store_url, keys=ring) as rotating, open_store(store_url, keys=ring) as other:
        with interleaved(
            rotating.engine, "UPDATE shipments", lambda: other.shipments.record(changed)
        ):
            assert rotating.rotate_keys() == 1
        assert rotating.key_usage() == {"k2": 1}
        assert rotating.shipments.get("GZ-1") == changed


def test_rotation_while_another_thread_writes(store_url: str, store_keys: KeyRing) -> None:
    """Everything ends under the active key and reads back as last written, in every table."""
    with open_store(store_url, keys=store_keys) as store:
        store.shipments.record(*(shipment(f"GZ-{i}") for i in range(12)))
        store.applications.record(application())
        store.manifests.record(manifest())
        store.journal.setdefault(journal_entries("GZ-50")[0])
        sent = tracked("GZ-7")
        store.events.ingest("ems", sent.events)
        start = store.key_usage()
    ring = KeyRing(K2, K1)
    latest = {f"GZ-{i}": shipment(f"GZ-{i}") for i in range(12)}
    failed: list[BaseException] = []
    with open_store(store_url, keys=ring) as rotating, open_store(store_url, keys=ring) as writer:

        def write() -> None:
            try:
                for round_ in range(3):
                    for i in range(0, 12, 2):
                        moved = attrs.evolve(latest[f"GZ-{i}"], weight_g=300 + 10 * round_ + i)
                        writer.shipments.record(moved)
                        latest[moved.id] = moved
                    writer.events.ingest("ems", [event_of("EA000000014CN", f"w{round_}", NOW)])
            except BaseException as error:
                failed.append(error)

        thread = threading.Thread(target=write)
        thread.start()
        resealed = rotating.rotate_keys(batch=1)
        thread.join(60)
        assert not failed, failed
        assert resealed <= sum(start.values())
        rotating.rotate_keys()
        usage = rotating.key_usage()
        assert set(usage) == {"k2"}
        assert usage["k2"] == sum(start.values()) + 3
    with open_store(store_url, keys=KeyRing(K2)) as after:
        assert {s.id: s for s in after.shipments.find()} == latest
        assert after.applications.by_mobile(MOBILE) == (application(),)
        assert after.applications.by_id_number(ID_NUMBER) == (application(),)
        assert after.manifests.get(manifest().manifest_id) == manifest()
        assert after.journal.get("GZ-50") == journal_entries("GZ-50")[0]
        assert len(after.events.for_waybill("EA000000014CN")) == 5
        assert after.shipments.by_mobile(MOBILE) == tuple(
            sorted(latest.values(), key=lambda s: s.id)
        )


def test_digests_are_taken_for_their_purpose(store: Store, store_keys: KeyRing) -> None:
    """The digest columns are part of the stored format: a store written by one version must
    be found by the next, so the purposes never change."""
    store.applications.record(application())
    store.shipments.record(shipment())
    a, s = t.applications.c, t.shipments.c
    assert column(store, a.mobile_digest) == store_keys.digest(MOBILE, purpose="mobile")
    assert column(store, a.id_digest) == store_keys.digest(ID_NUMBER, purpose="id-number")
    assert column(store, s.mobile_digest) == store_keys.digest(MOBILE, purpose="mobile")
