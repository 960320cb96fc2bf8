"""The store: :func:`open_store`, :class:`Store` and its transactions (private; see the package)."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import URL

from govpost.agreements import FeeAgreement
from govpost.applications import Application
from govpost.carriers.journal import JournalEntry
from govpost.errors import StoreError, ValidationError
from govpost.modes import HandoverManifest
from govpost.periods import Period
from govpost.settlement import SettlementStatement
from govpost.shipments import Shipment, TrackingEvent
from govpost.store import _schema as t
from govpost.store._aggregate import AggregateTotals, aggregate
from govpost.store._base import Source, insert_new
from govpost.store._codec import Codec
from govpost.store._engine import failing, make_engine, masked
from govpost.store._migrate import prepare
from govpost.store._migrate import schema_version as read_schema_version
from govpost.store._reference import Agreements, Catalogue, Centers, RateCards
from govpost.store._settlement import Ledger, Manifests, Reconciliations, Remittances, Statements
from govpost.store._tracking import Applications, Events, Journal, SeenIds, Shipments
from govpost.store.encryption import KeyRing

__all__ = ["Repositories", "Store", "Transaction", "open_store"]


def _utc_now() -> datetime:
    return datetime.now(UTC)


class Repositories:
    """The store's records, one attribute per kind (shared by :class:`Store` and
    :class:`Transaction`).

    Attributes:
        centers: service centers.
        agreements: fee agreements.
        rate_cards: rate cards.
        catalogue: the service catalogue.
        applications: applications (办件), sealed.
        shipments: shipments, sealed.
        events: tracking events, sealed, one per event id per carrier.
        seen: the push inbox's seen ids.
        journal: the booking journal.
        statements: settlement statements with their lines.
        reconciliations: reconciliation reports.
        manifests: handover manifests, sealed.
        remittances: remittance statements.
        ledger: the append-only ledger.
    """

    def __init__(self, source: Source) -> None:
        self._source = source
        self.centers = Centers(source)
        self.agreements = Agreements(source)
        self.rate_cards = RateCards(source)
        self.catalogue = Catalogue(source)
        self.applications = Applications(source)
        self.shipments = Shipments(source)
        self.events = Events(source)
        self.seen = SeenIds(source)
        self.journal = Journal(source)
        self.statements = Statements(source)
        self.reconciliations = Reconciliations(source)
        self.manifests = Manifests(source)
        self.remittances = Remittances(source)
        self.ledger = Ledger(source)

    @property
    def dialect(self) -> str:
        """``"sqlite"``, ``"postgresql"`` or ``"mysql"`` (MariaDB included)."""
        return self._source.dialect

    def aggregate(
        self,
        agreement: FeeAgreement | str,
        period: Period,
        *,
        previous: Iterable[SettlementStatement] = (),
    ) -> AggregateTotals:
        """A statement's totals and subtotals for ``agreement`` and ``period``, computed by the
        database over the stored shipments: equal, to the fen, to those of
        ``settle(agreement, store.shipments.settlement_rows(agreement.centers, period), period,
        previous=previous)``, without reading a shipment into Python.

        The database lists the distinct routes and fee keys of the rows that bill something;
        the library zones and prices them (exactly as :func:`~govpost.settlement.settle`
        does, half-up once per line) into temporary tables; one aggregate query joins and sums
        integer fen per center, business line and zone. Everything ``settle`` applies is
        applied: coverage, days in force, the rate of each day, discount and surcharges,
        return legs or credits by the return policy, the lump sum (proration, quota, the
        pieces picked up latest by instant then waybill as overage, underuse and quota
        carried in), agent fees, the waybills ``previous`` statements billed, and the budget.
        What ``settle`` refuses is refused, with the same error class.

        Args:
            agreement: the agreement, or the id of one recorded in :attr:`agreements`.
            period: the period to settle; its kind must be the agreement's.
            previous: statements already settled under this agreement, as for ``settle``.

        Returns:
            The totals; :meth:`AggregateTotals.matches` compares them with a statement.

        Raises:
            SettlementError: a period of the wrong kind or outside the agreement, a piece no
                rate covers, a waybill billed twice, a bad ``previous``.
            ValidationError: a route between unknown division codes, a piece asking for a
                surcharge its rate does not offer.
            BudgetExceededError: a strict budget would be exceeded.
            StoreError: the agreement id is not in the store; the database failed.

        >>> totals = store.aggregate("GZ-EMS-2018", Period.month(2018, 6))  # doctest: +SKIP
        >>> totals.matches(statement)  # doctest: +SKIP
        True

        .. versionadded:: 0.2.0
        """
        if isinstance(agreement, str):
            agreement = self.agreements.require(agreement)
        return aggregate(self._source, agreement, period, previous=previous)


class Transaction(Repositories):
    """The store's records inside one transaction (from :meth:`Store.transaction`).

    Everything written through it commits together when the ``with`` block ends, or not at
    all if it raises.
    """

    def __repr__(self) -> str:
        return f"<Transaction on {self._source.dialect}>"


class Store(Repositories):
    """govpost's data in a database: the records, each call its own transaction.

    Open one with :func:`open_store`. Each repository method called on the store commits on
    its own; group several in :meth:`transaction`. Close the store (or use it in a ``with``
    block) to release its connections.

    Attributes:
        url: the database URL, its password hidden.
        engine: the SQLAlchemy engine (for your own queries; the tables are govpost's).
        keys: the key ring that seals personal data, or ``None``.
    """

    def __init__(
        self,
        engine: sa.Engine,
        *,
        keys: KeyRing | None = None,
        clock: Callable[[], datetime] = _utc_now,
    ) -> None:
        super().__init__(Source(engine, Codec(keys), clock))
        self.engine = engine
        self.url = masked(engine.url)
        self.keys = keys
        self.clock = clock

    def __repr__(self) -> str:
        return f"<Store {self.url}>"

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def schema_version(self) -> str | None:
        """The version of the store's schema: :data:`~govpost.store.HEAD` for a store this
        govpost opened (see :func:`~govpost.store.schema_version`).

        .. versionadded:: 0.2.0
        """
        return read_schema_version(self.engine)

    def close(self) -> None:
        """Release the store's connections."""
        self.engine.dispose()

    def key_usage(self) -> dict[str, int]:
        """How many sealed rows each key id seals, over every table: ``{"k1": 120, ...}``.

        After :meth:`rotate_keys` only the active key should remain; then the older keys may
        be dropped from the ring.
        """
        usage: dict[str, int] = {}
        with self._source.begin("count the rows of each key") as connection:
            for table in _SEALED:
                query = sa.select(table.c.key_id, sa.func.count()).group_by(table.c.key_id)
                for key_id, count in connection.execute(query):
                    usage[key_id] = usage.get(key_id, 0) + int(count)
        return dict(sorted(usage.items()))

    def rotate_keys(self, *, batch: int = 500) -> int:
        """Re-seal every row sealed with an older key under the ring's active key.

        Each row is decrypted with the key it names, encrypted again with the active key, and
        its keyed digests recomputed under it, ``batch`` rows per transaction: a rotation that
        stops half-way (a crash, a restart) is resumed by calling this again, and reading works
        throughout as long as the ring holds the older keys. Returns how many rows were
        re-sealed (0 once everything is under the active key; see :meth:`key_usage`).

        Other processes may write meanwhile: each row is locked while it is re-sealed, so that
        a change written concurrently is never overwritten with the row's older content.

        Raises:
            StoreError: no key ring, or a row sealed with a key the ring does not hold.
            ValidationError: ``batch`` is not a positive int.
        """
        if isinstance(batch, bool) or not isinstance(batch, int) or batch < 1:
            raise ValidationError(
                f"batch must be a positive int (rows per transaction), not "
                f"{batch if isinstance(batch, int) else type(batch).__name__}"
            )
        ring = self._source.codec.ring("rotating keys")
        active = ring.active.id
        total = 0
        for table in _SEALED:
            keys = list(table.primary_key.columns)
            while True:
                with self.transaction() as tx:
                    connection = tx._source.connection
                    assert connection is not None  # a transaction's source has its connection
                    query = (
                        sa.select(*keys, table.c.document)
                        .where(table.c.key_id != active)
                        .order_by(*keys)
                        .limit(batch)
                    )
                    if connection.dialect.name != "sqlite":  # SQLite's writers exclude each other
                        query = query.with_for_update()
                    rows = connection.execute(query).all()
                    for row in rows:
                        _reseal(tx, table, row)
                total += len(rows)
                if len(rows) < batch:
                    break
        return total

    @contextmanager
    def transaction(self) -> Iterator[Transaction]:
        """One transaction: every record written in the block commits together, or none.

        >>> with store.transaction() as tx:  # doctest: +SKIP
        ...     tx.shipments.record(shipment)
        ...     tx.events.ingest("ems", shipment.events)
        """
        with failing("transaction"), self.engine.begin() as connection:
            yield Transaction(Source(self.engine, self._source.codec, self.clock, connection))


#: The tables whose documents are sealed, in the order keys are rotated.
_SEALED = (t.applications, t.shipments, t.tracking_events, t.manifests, t.booking_journal)


def _reseal(tx: Transaction, table: sa.Table, row: Any) -> None:
    """Rewrite one sealed row under the active key, its digests recomputed."""
    codec = tx._source.codec
    connection = tx._source.connection
    assert connection is not None
    new: dict[str, Any]
    if table is t.applications:
        application = codec.unseal(row.document, Application, "applications", row.reference)
        new = tx.applications._row(application)
        where = table.c.reference == row.reference
    elif table is t.shipments:
        shipment = codec.unseal(row.document, Shipment, "shipments", row.shipment_id)
        new = tx.shipments.row(shipment)
        where = table.c.shipment_id == row.shipment_id
    elif table is t.tracking_events:
        key = f"{row.carrier}/{row.event_id}"
        event = codec.unseal(row.document, TrackingEvent, "tracking_events", key)
        new = tx.events._row(row.carrier, event)
        where = sa.and_(table.c.carrier == row.carrier, table.c.event_id == row.event_id)
    elif table is t.booking_journal:
        entry = codec.unseal(row.document, JournalEntry, "booking_journal", row.order_id)
        new = tx.journal._row(entry)
        where = table.c.order_id == row.order_id
    else:
        manifest = codec.unseal(row.document, HandoverManifest, "manifests", row.manifest_id)
        new = tx.manifests.row(manifest)
        where = table.c.manifest_id == row.manifest_id
    connection.execute(sa.update(table).where(where).values(new))


def _check_keys(engine: sa.Engine, keys: KeyRing, clock: Callable[[], datetime]) -> None:
    """Refuse a key that is not the one recorded under its id; record new ids.

    Two processes opening a store with a new key at once both record it: the first insert
    wins, the second finds it and compares.
    """
    k = t.store_keys.c
    source = Source(engine, Codec(None), clock)
    with failing("check the encryption keys"), engine.begin() as connection:
        rows: list[dict[str, object]] = [
            {
                "key_id": key_id,
                "algorithm": keys.get(key_id).algorithm.value,
                "check_value": keys.get(key_id).check_value(),
                "recorded_at": clock(),
            }
            for key_id in keys.ids
        ]
        insert_new(source, connection, t.store_keys, rows)
        recorded = dict(connection.execute(sa.select(k.key_id, k.check_value)).all())
    for row in rows:
        key_id = str(row["key_id"])
        if recorded.get(key_id) != row["check_value"]:
            raise StoreError(
                f"key {key_id!r} is not the key this store recorded under that id: the "
                f"data it sealed would not decrypt. Give the right key for {key_id!r}, or a "
                f"new key under a new id (then rotate with store.rotate_keys())"
            )


def open_store(
    url: str | URL = "sqlite:///govpost.db",
    *,
    keys: KeyRing | None = None,
    upgrade: bool = False,
    echo: bool = False,
    clock: Callable[[], datetime] = _utc_now,
) -> Store:
    """Open (creating if needed) govpost's store at ``url``.

    An empty database gets the current schema. A database at an earlier schema version is
    upgraded only with ``upgrade=True`` (or :func:`~govpost.store.upgrade`); one at a newer version
    than this library is refused.

    Args:
        url: a SQLAlchemy URL: ``sqlite:///path.db`` (the embedded default),
            ``postgresql+psycopg://user@host:5432/db`` (extra ``govpost[postgres]``),
            ``mysql+pymysql://user@host:3306/db`` (extra ``govpost[mysql]``; MariaDB too).
        keys: the agency's key ring, which seals personal data (applications, shipments,
            tracking events, manifests). Without it, the store refuses to write or read them.
        upgrade: migrate a database at an earlier schema version to this library's.
        echo: log every SQL statement (parameters are never logged).
        clock: the current aware time, for the store's own timestamps.

    Raises:
        StoreError: a bad URL, an unknown backend, a missing driver, an unreachable server, a
            schema newer than the library (or older, without ``upgrade``), a key that is not
            the one recorded under its id.
    """
    if keys is not None and not isinstance(keys, KeyRing):
        raise ValidationError(f"keys must be a KeyRing, not {type(keys).__name__}")
    engine = make_engine(url, echo=echo)
    try:
        with failing(f"open the store at {masked(engine.url)}"):
            prepare(engine, upgrade=upgrade)
        if keys is not None:
            _check_keys(engine, keys, clock)
    except BaseException:
        engine.dispose()
        raise
    return Store(engine, keys=keys, clock=clock)
