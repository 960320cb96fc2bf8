"""Applications, shipments, tracking events, the inbox's seen ids, the booking journal (private)."""

from __future__ import annotations

import hashlib
from collections.abc import Collection, Iterable, Iterator
from datetime import datetime
from typing import Any

import attrs
import sqlalchemy as sa

from govpost._fields import aware
from govpost.applications import Application, ApplicationStatus
from govpost.carriers.journal import JournalEntry, JournalState
from govpost.centers import BusinessLine
from govpost.errors import StoreError, ValidationError
from govpost.money import Money
from govpost.periods import Period
from govpost.serialization import to_json
from govpost.settlement import SettlementRow
from govpost.shipments import TRANSITIONS, Direction, Shipment, ShipmentStatus, TrackingEvent
from govpost.store import _schema as t
from govpost.store._base import Repository, insert_new
from govpost.store._codec import check_key, check_row
from govpost.store._reference import upsert

__all__ = ["Applications", "Events", "Journal", "SeenIds", "Shipments"]

#: Rows written per statement when ingesting or remembering in batches.
BATCH = 1_000

_MOBILE = "mobile"
_ID_NUMBER = "id-number"


def _chunks(items: list[Any], size: int = BATCH) -> Iterator[list[Any]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _status_value(status: ApplicationStatus | ShipmentStatus | str | None, cls: type) -> str | None:
    if status is None:
        return None
    try:
        return cls(status).value  # type: ignore[no-any-return]
    except ValueError:
        names = ", ".join(member.value for member in cls)  # type: ignore[attr-defined]
        raise ValidationError(f"status {status!r} is not one of: {names}") from None


class Applications(Repository):
    """Applications (办件), sealed: the applicant's personal data is encrypted at rest."""

    def record(self, *applications: Application) -> int:
        """Record ``applications`` (new, or moved on by events); return how many changed."""
        for application in applications:
            if not isinstance(application, Application):
                raise ValidationError(
                    f"applications.record takes Application values, not "
                    f"{type(application).__name__}"
                )
        changed = 0
        with self._begin("record applications") as connection:
            for application in applications:
                changed += upsert(connection, t.applications, self._row(application))
        return changed

    def _row(self, application: Application) -> dict[str, Any]:
        key = application.reference
        applicant = application.applicant
        return {
            "reference": key,
            "center": application.center,
            "service": application.service,
            "status": application.status.value,
            "delivery": application.current_delivery.value,
            "accepted_at": application.accepted_at,
            "approved_at": application.approved_at,
            "dispatched_at": application.dispatched_at,
            "mobile_digest": self._codec.digest(applicant.mobile, _MOBILE),
            "id_digest": self._codec.digest(applicant.id_number, _ID_NUMBER),
            **self._codec.seal(application, "applications", key),
        }

    def _read(self, rows: Iterable[Any]) -> tuple[Application, ...]:
        return tuple(
            self._codec.unseal(document, Application, "applications", reference)
            for reference, document in rows
        )

    def get(self, reference: str, *, lock: bool = False) -> Application | None:
        """The application ``reference``, or ``None``.

        ``lock=True`` (inside a transaction): the row is locked until the transaction ends
        (``SELECT ... FOR UPDATE``; SQLite's transactions already exclude each other), so that
        a read-modify-write of the application loses no concurrent change.
        """
        found = self._select(
            t.applications.c.reference == check_key(reference, "application reference"),
            lock=lock,
        )
        return found[0] if found else None

    def find(
        self,
        *,
        center: str | None = None,
        status: ApplicationStatus | str | None = None,
        accepted_in: Period | None = None,
        limit: int | None = None,
    ) -> tuple[Application, ...]:
        """Applications by center, status and period of acceptance, in reference order."""
        a = t.applications.c
        where: list[sa.ColumnElement[bool]] = []
        if center is not None:
            where.append(a.center == check_key(center, "center"))
        if status is not None:
            where.append(a.status == _status_value(status, ApplicationStatus))
        if accepted_in is not None:
            start, end = _bounds(accepted_in)
            where.append(sa.and_(a.accepted_at >= start, a.accepted_at < end))
        return self._select(*where, limit=limit)

    def by_mobile(self, mobile: str) -> tuple[Application, ...]:
        """The applications of the applicant with ``mobile``, found by its keyed digest."""
        return self._select(
            t.applications.c.mobile_digest.in_(self._codec.digests(mobile, _MOBILE))
        )

    def by_id_number(self, id_number: str) -> tuple[Application, ...]:
        """The applications of the applicant with ``id_number``, found by its keyed digest."""
        digests = self._codec.digests(check_key(id_number, "ID number").upper(), _ID_NUMBER)
        return self._select(t.applications.c.id_digest.in_(digests))

    def _select(
        self, *where: sa.ColumnElement[bool], limit: int | None = None, lock: bool = False
    ) -> tuple[Application, ...]:
        a = t.applications.c
        query = sa.select(a.reference, a.document).where(*where).order_by(a.reference)
        if limit is not None:
            query = query.limit(_count(limit, "limit", minimum=0))
        if lock:
            query = query.with_for_update()
        with self._begin("read applications", read=True) as connection:
            rows = connection.execute(query).all()
        return self._read(rows)


def _count(value: object, what: str, *, minimum: int) -> int:
    """``value``, an int of at least ``minimum`` (a limit, a batch size)."""
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        shown = value if isinstance(value, int) else type(value).__name__  # no text echoed
        raise ValidationError(f"{what} must be an int of at least {minimum}, not {shown}")
    return value


def _keys(values: Collection[str], what: str) -> list[str]:
    """``values``, a collection of keys (a str alone is refused: it is not a collection of
    them), each checked with :func:`check_key`."""
    if isinstance(values, str | bytes) or not isinstance(values, Iterable):
        raise ValidationError(
            f"{what} must be a collection of str, such as a list or a set, not "
            f"{type(values).__name__}"
        )
    return [check_key(value, f"an item of {what}") for value in values]


def _bounds(period: Period) -> tuple[datetime, datetime]:
    """The instants a period runs from (included) and to (excluded), in Asia/Shanghai."""
    if not isinstance(period, Period):
        raise ValidationError(f"a period is a Period (Period.month(2018, 6)), not {period!r}")
    from govpost.periods import SHANGHAI

    start = datetime.combine(period.start, datetime.min.time(), SHANGHAI)
    end = datetime.combine(period.end, datetime.min.time(), SHANGHAI)
    return start, end


class Shipments(Repository):
    """Shipments, sealed: the recipient's personal data is encrypted at rest."""

    def record(self, *shipments: Shipment) -> int:
        """Record ``shipments`` (new, or moved on by tracking); return how many changed."""
        for shipment in shipments:
            if not isinstance(shipment, Shipment):
                raise ValidationError(
                    f"shipments.record takes Shipment values, not {type(shipment).__name__}"
                )
        changed = 0
        with self._begin("record shipments") as connection:
            for shipment in shipments:
                changed += upsert(connection, t.shipments, self.row(shipment))
        return changed

    def row(self, shipment: Shipment) -> dict[str, Any]:
        """The row of ``shipment`` (public to the service layer and benchmarks)."""
        key = shipment.id
        declared = shipment.declared_value
        recipient = shipment.recipient
        events = shipment.events
        return {
            "shipment_id": key,
            "tracking_number": None
            if shipment.tracking_number is None
            else shipment.tracking_number.value,
            "center": shipment.center,
            "business_line": shipment.business_line.value,
            "direction": shipment.direction.value,
            "origin": shipment.origin.code,
            "destination": shipment.destination.code,
            "weight_g": shipment.weight_g,
            "status": shipment.status.value,
            "created_at": shipment.created_at,
            "picked_up_at": shipment.picked_up_at,
            "returned_at": shipment.returned_at,
            "declared_value": None
            if declared is None
            else f"{declared.to_str()} {declared.currency}",
            "return_receipt": shipment.return_receipt,
            "application_ref": shipment.application_ref,
            "last_event_at": max(e.occurred_at for e in events) if events else None,
            "mobile_digest": self._codec.digest(
                None if recipient is None else recipient.mobile, _MOBILE
            ),
            **self._codec.seal(shipment, "shipments", key),
        }

    def get(self, shipment_id: str, *, lock: bool = False) -> Shipment | None:
        """The shipment ``shipment_id``, or ``None``; ``lock`` as for
        :meth:`Applications.get`."""
        found = self._select(
            t.shipments.c.shipment_id == check_key(shipment_id, "shipment id"), lock=lock
        )
        return found[0] if found else None

    def by_tracking_number(self, number: str, *, lock: bool = False) -> Shipment | None:
        """The shipment carrying waybill ``number``, or ``None``; ``lock`` as for
        :meth:`Applications.get`."""
        number = check_key(str(number), "tracking number")
        found = self._select(t.shipments.c.tracking_number == number, lock=lock)
        return found[0] if found else None

    def by_mobile(self, mobile: str) -> tuple[Shipment, ...]:
        """The shipments to the recipient with ``mobile``, found by its keyed digest."""
        return self._select(t.shipments.c.mobile_digest.in_(self._codec.digests(mobile, _MOBILE)))

    def find(
        self,
        *,
        center: str | None = None,
        status: ShipmentStatus | str | None = None,
        picked_up_in: Period | None = None,
        application: str | None = None,
        quiet_since: datetime | None = None,
        limit: int | None = None,
    ) -> tuple[Shipment, ...]:
        """Shipments by center, status, period of pickup, application, in id order.

        ``quiet_since``: only shipments with a waybill, not in a final status, whose last
        event (or creation, without events) is older than this instant — the ones to poll.
        """
        s = t.shipments.c
        where: list[sa.ColumnElement[bool]] = []
        if center is not None:
            where.append(s.center == check_key(center, "center"))
        if status is not None:
            where.append(s.status == _status_value(status, ShipmentStatus))
        if picked_up_in is not None:
            start, end = _bounds(picked_up_in)
            where.append(sa.and_(s.picked_up_at >= start, s.picked_up_at < end))
        if application is not None:
            where.append(s.application_ref == check_key(application, "application"))
        if quiet_since is not None:
            if not isinstance(quiet_since, datetime):  # aware() would echo the text given
                raise ValidationError(
                    f"quiet_since must be a datetime with a timezone, not "
                    f"{type(quiet_since).__name__}"
                )
            quiet_since = aware(quiet_since, "quiet_since")
            final = [member.value for member in ShipmentStatus if not TRANSITIONS[member]]
            where += [
                s.tracking_number.is_not(None),
                s.status.not_in(final),
                sa.func.coalesce(s.last_event_at, s.created_at) < quiet_since,
            ]
        return self._select(*where, limit=limit)

    def _select(
        self, *where: sa.ColumnElement[bool], limit: int | None = None, lock: bool = False
    ) -> tuple[Shipment, ...]:
        s = t.shipments.c
        query = sa.select(s.shipment_id, s.document).where(*where).order_by(s.shipment_id)
        if limit is not None:
            query = query.limit(_count(limit, "limit", minimum=0))
        if lock:
            query = query.with_for_update()
        with self._begin("read shipments", read=True) as connection:
            rows = connection.execute(query).all()
        return tuple(
            self._codec.unseal(document, Shipment, "shipments", key) for key, document in rows
        )

    def settlement_rows(
        self, centers: Collection[str], period: Period, *, batch: int = 10_000
    ) -> Iterator[SettlementRow]:
        """Stream the rows settlement reads for ``centers`` in ``period``: no ``Shipment`` built.

        Every shipment of those centers picked up or returned within the period (in
        Asia/Shanghai), read ``batch`` rows at a time; nothing is decrypted.
        """
        s = t.shipments.c
        start, end = _bounds(period)
        codes = _keys(centers, "centers")
        batch = _count(batch, "batch", minimum=1)
        query = (
            sa.select(
                s.tracking_number,
                s.shipment_id,
                s.center,
                s.business_line,
                s.direction,
                s.origin,
                s.destination,
                s.weight_g,
                s.picked_up_at,
                s.returned_at,
                s.status,
                s.declared_value,
                s.return_receipt,
            )
            .where(
                s.center.in_(sorted(codes)),
                sa.or_(
                    sa.and_(s.picked_up_at >= start, s.picked_up_at < end),
                    sa.and_(s.returned_at >= start, s.returned_at < end),
                ),
            )
            .execution_options(yield_per=batch)
        )
        # The result is closed even when the reader stops early (settle raising on a row, a
        # break): a streaming cursor left open warns on PostgreSQL and MariaDB.
        with (
            self._begin("read shipments to settle", read=True) as connection,
            connection.execute(query) as result,
        ):
            # Enum members, not their values: settle reads them without converting (a value
            # it does not know is handed on as it is, for settle to refuse by name).
            lines, directions, statuses = _LINES.get, _DIRECTIONS.get, _STATUSES.get
            for row in result:
                number, key = row[0], row[1]
                declared = row[11]
                yield SettlementRow(
                    key if number is None else number,
                    row[2],
                    lines(row[3], row[3]),
                    directions(row[4], row[4]),
                    row[5],
                    row[6],
                    row[7],
                    row[8],
                    row[9],
                    statuses(row[10], row[10]),
                    None if number is None else key,
                    None if declared is None else Money(*declared.split(" ")),
                    row[12],
                )


_LINES: dict[str, BusinessLine] = {member.value: member for member in BusinessLine}
_DIRECTIONS: dict[str, Direction] = {member.value: member for member in Direction}
_STATUSES: dict[str, ShipmentStatus] = {member.value: member for member in ShipmentStatus}


def _insert_events(connection: sa.Connection, rows: list[dict[str, Any]]) -> int:
    """Insert the event ``rows`` not stored yet; return how many were inserted.

    The hot path of ingestion, profiled: one DB-API ``executemany`` of a statement compiled
    once per dialect, with the values the column types would bind, and the driver's row
    count — SQLAlchemy's per-row statement machinery cost twice the insert itself.
    """
    dialect = connection.dialect
    compiled = _EVENT_INSERTS.get(dialect.name)
    if compiled is None:
        statement: sa.Insert
        if dialect.name == "postgresql":
            from sqlalchemy.dialects.postgresql import insert as pg_insert

            statement = pg_insert(t.tracking_events).on_conflict_do_nothing()
        elif dialect.name == "sqlite":
            from sqlalchemy.dialects.sqlite import insert as sqlite_insert

            statement = sqlite_insert(t.tracking_events).on_conflict_do_nothing()
        else:
            statement = sa.insert(t.tracking_events).prefix_with("IGNORE")
        sql = statement.compile(dialect=dialect)
        names = list(sql.positiontup or ()) if sql.positional else list(sql.params)
        processors = [t.tracking_events.c[name].type.bind_processor(dialect) for name in names]
        compiled = _EVENT_INSERTS[dialect.name] = (str(sql), names, processors, sql.positional)
    sql_text, names, processors, positional = compiled
    params: list[Any] = []
    for row in rows:
        values = [
            row[name] if process is None else process(row[name])
            for name, process in zip(names, processors, strict=True)
        ]
        params.append(tuple(values) if positional else dict(zip(names, values, strict=True)))
    cursor = connection.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
    try:
        cursor.executemany(sql_text, params)
        count = cursor.rowcount
    finally:
        cursor.close()
    if count is None or count < 0:  # pragma: no cover - every supported driver counts
        raise StoreError("the database driver did not count the events it inserted")
    return int(count)


#: Per dialect: the compiled insert of tracking events, its parameter names, their processors.
_EVENT_INSERTS: dict[str, tuple[str, list[str], list[Any], bool]] = {}


class Events(Repository):
    """Tracking events, one row per event id per carrier (its latest version), sealed."""

    def ingest(self, carrier: str, events: Iterable[TrackingEvent]) -> int:
        """Store ``events`` from ``carrier`` in batches; return how many were new or corrected.

        Idempotent: ingesting the same events again changes nothing and returns 0. An event
        whose id is stored with other content (the carrier's correction) replaces it.
        """
        name = _carrier(carrier)
        total = 0
        pending: list[TrackingEvent] = []
        with self._begin("ingest tracking events") as connection:
            for event in events:
                if not isinstance(event, TrackingEvent):
                    raise ValidationError(
                        f"events.ingest takes TrackingEvent values, not {type(event).__name__}"
                    )
                pending.append(event)
                if len(pending) == BATCH:
                    total += self._batch(connection, name, pending)
                    pending = []
            total += self._batch(connection, name, pending)
        return total

    def rows(self, carrier: str, events: Iterable[TrackingEvent]) -> list[dict[str, Any]]:
        """The rows of ``events`` (public to benchmarks: the same rows a raw insert writes)."""
        name = _carrier(carrier)
        return [self._row(name, event) for event in events]

    def _row(self, carrier: str, event: TrackingEvent) -> dict[str, Any]:
        document = to_json(event)
        ring = self._codec.ring(f"tracking event {event.event_id}")
        context = f"govpost:tracking_events:{carrier}/{event.event_id}".encode()
        return {
            "carrier": carrier,
            "event_id": event.event_id,
            "tracking_number": event.tracking_number.value,
            "status": event.status.value,
            "occurred_at": event.occurred_at,
            "version": ring.fingerprint(document.encode("utf-8")),
            "key_id": ring.active.id,
            "document": ring.encrypt(document.encode("utf-8"), context=context),
        }

    def _batch(self, connection: sa.Connection, carrier: str, events: list[TrackingEvent]) -> int:
        if not events:
            return 0
        # One row per id: the last version given wins, as it would if pushed one by one.
        rows = list({event.event_id: self._row(carrier, event) for event in events}.values())
        # In id order, for the reason SeenIds.remember gives: no deadlock between two
        # transactions ingesting overlapping events in different orders.
        rows.sort(key=lambda row: str(row["event_id"]))
        # No check_row: every string column is bounded by the model (event ids of 1-128
        # characters, S10 waybills, status values, digests) and the carrier by _carrier.
        inserted = _insert_events(connection, rows)
        if inserted == len(rows):
            return inserted
        e = t.tracking_events.c
        stored = dict(
            connection.execute(
                sa.select(e.event_id, e.version).where(
                    e.carrier == carrier, e.event_id.in_([row["event_id"] for row in rows])
                )
            ).all()
        )
        corrected = [row for row in rows if stored.get(row["event_id"]) != row["version"]]
        for row in corrected:
            connection.execute(
                sa.update(t.tracking_events)
                .where(e.carrier == carrier, e.event_id == row["event_id"])
                .values(row)
            )
        return inserted + len(corrected)

    def get(self, carrier: str, event_id: str) -> TrackingEvent | None:
        """The stored event ``event_id`` of ``carrier``, or ``None``."""
        e = t.tracking_events.c
        found = self._select(
            e.carrier == _carrier(carrier), e.event_id == check_key(event_id, "event id")
        )
        return found[0] if found else None

    def for_waybill(self, number: str, carrier: str | None = None) -> tuple[TrackingEvent, ...]:
        """The events stored for waybill ``number``, oldest first."""
        e = t.tracking_events.c
        where = [e.tracking_number == check_key(str(number), "tracking number")]
        if carrier is not None:
            where.append(e.carrier == _carrier(carrier))
        return self._select(*where)

    def count(self, carrier: str | None = None) -> int:
        """How many events are stored (of ``carrier``, or of all)."""
        e = t.tracking_events.c
        query = sa.select(sa.func.count()).select_from(t.tracking_events)
        if carrier is not None:
            query = query.where(e.carrier == _carrier(carrier))
        with self._begin("count tracking events", read=True) as connection:
            return int(connection.execute(query).scalar_one())

    def _select(self, *where: sa.ColumnElement[bool]) -> tuple[TrackingEvent, ...]:
        e = t.tracking_events.c
        query = (
            sa.select(e.carrier, e.event_id, e.document)
            .where(*where)
            .order_by(e.occurred_at, e.event_id)
        )
        with self._begin("read tracking events", read=True) as connection:
            rows = connection.execute(query).all()
        return tuple(
            self._codec.unseal(document, TrackingEvent, "tracking_events", f"{carrier}/{key}")
            for carrier, key, document in rows
        )


def _carrier(name: str) -> str:
    given: object = name
    if not isinstance(given, str) or not given or len(given) > 64 or not given.isprintable():
        raise ValidationError(
            f"carrier {given!r} must be the carrier adapter's name (a str of 1-64 characters), "
            f"e.g. carrier.name"
        )
    return given


class SeenIds(Repository):
    """The :class:`~govpost.carriers.webhooks.SeenIds` of a push inbox, in the store.

    Bound to a transaction (``tx.seen``), the ids are remembered in the same transaction as
    the events stored beside them: what is remembered was also stored.
    """

    @staticmethod
    def _hash(key: str) -> str:
        return hashlib.sha256(key.encode("utf-8")).hexdigest()

    def seen(self, keys: Collection[str]) -> Collection[str]:
        """The keys among ``keys`` already remembered."""
        by_hash = {self._hash(key): key for key in _keys(keys, "keys")}
        found: set[str] = set()
        s = t.seen_ids.c
        with self._begin("read the inbox's seen ids", read=True) as connection:
            for chunk in _chunks(list(by_hash)):
                found.update(
                    connection.execute(sa.select(s.key_hash).where(s.key_hash.in_(chunk))).scalars()
                )
        return [by_hash[digest] for digest in found]

    def remember(self, keys: Collection[str]) -> None:
        """Remember ``keys``."""
        now = self._source.clock()
        # In key order: two transactions inserting overlapping keys lock them in the same
        # order, so that neither waits for the other while holding what it waits for
        # (a set's order differs between processes: PostgreSQL then reports a deadlock).
        rows: list[dict[str, object]] = [
            {"key_hash": digest, "remembered_at": now}
            for digest in sorted({self._hash(k) for k in _keys(keys, "keys")})
        ]
        with self._begin("remember the inbox's seen ids") as connection:
            for chunk in _chunks(rows):
                insert_new(self._source, connection, t.seen_ids, chunk)


def _without_raw(entry: JournalEntry) -> JournalEntry:
    """``entry`` without the carrier's raw answer: it may echo the recipient, and the journal
    is kept in clear (``Booking.raw`` is not part of a booking's equality)."""
    booking = entry.booking
    if booking is None or booking.raw is None:
        return entry
    return attrs.evolve(entry, booking=attrs.evolve(booking, raw=None))


class Journal(Repository):
    """The :class:`~govpost.carriers.journal.BookingJournal` in the store; each call atomic."""

    def _row(self, entry: JournalEntry) -> dict[str, Any]:
        """The row of ``entry`` (public to key rotation): its document sealed."""
        return check_row(
            t.booking_journal,
            {
                "order_id": entry.key,
                "carrier": entry.carrier,
                "state": entry.state.value,
                "created_at": entry.created_at,
                "updated_at": entry.updated_at,
                "attempts": entry.attempts,
                "error_code": entry.error_code,
                **self._codec.seal(_without_raw(entry), "booking_journal", entry.key),
            },
        )

    def _get(self, connection: sa.Connection, key: str) -> JournalEntry | None:
        j = t.booking_journal.c
        sealed = connection.execute(sa.select(j.document).where(j.order_id == key)).scalar()
        if sealed is None:
            return None
        return self._codec.unseal(sealed, JournalEntry, "booking_journal", key)

    def get(self, key: str) -> JournalEntry | None:
        """The entry of order ``key``, or ``None``."""
        with self._begin("read the booking journal", read=True) as connection:
            return self._get(connection, check_key(key, "order id"))

    def setdefault(self, entry: JournalEntry) -> JournalEntry:
        """Record ``entry`` unless its key has one; return the entry recorded under the key."""
        with self._begin("record a booking attempt") as connection:
            insert_new(self._source, connection, t.booking_journal, [self._row(entry)])
            found = self._get(connection, entry.key)
        if found is None:  # pragma: no cover - the row was just written
            raise StoreError(f"the journal entry of order {entry.key} vanished")
        return found

    def put(self, entry: JournalEntry) -> JournalEntry:
        """Record ``entry`` over its key's, unless that one is booked; return the recorded one."""
        j = t.booking_journal.c
        row = self._row(entry)  # checked before the row is locked by its key
        with self._begin("record a booking outcome") as connection:
            if self._source.dialect != "sqlite":
                # Lock the row: a concurrent put waits, then sees the booking.
                connection.execute(
                    sa.select(j.order_id).where(j.order_id == entry.key).with_for_update()
                ).all()
            current = self._get(connection, entry.key)
            if current is not None and current.state is JournalState.BOOKED:
                return current
            if current is None:
                connection.execute(sa.insert(t.booking_journal), row)
            else:
                connection.execute(
                    sa.update(t.booking_journal).where(j.order_id == entry.key).values(row)
                )
            return entry

    def pending(self) -> tuple[JournalEntry, ...]:
        """The ``pending`` entries, oldest first."""
        return self._state(JournalState.PENDING)

    def _state(self, state: JournalState) -> tuple[JournalEntry, ...]:
        j = t.booking_journal.c
        with self._begin("read the booking journal", read=True) as connection:
            rows = connection.execute(
                sa.select(j.order_id, j.document)
                .where(j.state == state.value)
                .order_by(j.created_at, j.order_id)
            ).all()
        return tuple(
            self._codec.unseal(doc, JournalEntry, "booking_journal", key) for key, doc in rows
        )

    def booked(self) -> tuple[JournalEntry, ...]:
        """The ``booked`` entries, oldest first."""
        return self._state(JournalState.BOOKED)
