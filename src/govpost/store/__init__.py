"""govpost's data kept in SQLite, PostgreSQL or MariaDB/MySQL, on SQLAlchemy Core 2.

Install with ``pip install 'govpost[store]'`` (add ``[postgres]`` or ``[mysql]`` for those
servers), then open a store::

    from govpost.store import Key, KeyRing, open_store

    keys = KeyRing.from_env()              # GOVPOST_STORE_KEYS="k1=sm4-gcm:<32 hex digits>"
    store = open_store("sqlite:///govpost.db", keys=keys)
    store.centers.upsert(center)
    store.shipments.record(shipment)
    new = store.events.ingest("ems", events)           # idempotent: how many were new
    with store.transaction() as tx:                    # several records, one commit
        tx.shipments.record(moved_on)
        tx.events.ingest("ems", moved_on.events)

SQLite is the embedded default (WAL, foreign keys on, a busy timeout); PostgreSQL and
MariaDB/MySQL are first-class and tested for real. Money is kept as integer fen, times as UTC
instants (each document keeps its own offset), and personal data sealed with the agency's key
(:mod:`govpost.store.encryption`: SM4 by default, AES-GCM selectable). Every database error is
a :class:`~govpost.errors.StoreError` naming the operation; every write is one transaction.

.. versionadded:: 0.2.0
"""

from __future__ import annotations

try:
    import sqlalchemy as _sqlalchemy  # noqa: F401
except ImportError as _missing:  # pragma: no cover - the extra is installed where tests run
    raise ImportError(
        "govpost.store needs SQLAlchemy and cryptography: pip install 'govpost[store]' "
        "(add [postgres] or [mysql] for those servers)"
    ) from _missing

from govpost.errors import StoreError
from govpost.store._aggregate import AggregateTotals
from govpost.store._migrate import HEAD, schema_version, upgrade
from govpost.store._reference import Agreements, Catalogue, Centers, RateCards
from govpost.store._settlement import (
    BalanceMismatch,
    Ledger,
    LedgerEntry,
    LedgerLeg,
    Manifests,
    Reconciliations,
    Remittances,
    Statements,
    StatementTotals,
    ledger_entries,
    reversal,
)
from govpost.store._store import Repositories, Store, Transaction, open_store
from govpost.store._tracking import Applications, Events, Journal, SeenIds, Shipments
from govpost.store.encryption import Algorithm, Key, KeyRing

__all__ = [
    "HEAD",
    "AggregateTotals",
    "Agreements",
    "Algorithm",
    "Applications",
    "BalanceMismatch",
    "Catalogue",
    "Centers",
    "Events",
    "Journal",
    "Key",
    "KeyRing",
    "Ledger",
    "LedgerEntry",
    "LedgerLeg",
    "Manifests",
    "RateCards",
    "Reconciliations",
    "Remittances",
    "Repositories",
    "SeenIds",
    "Shipments",
    "StatementTotals",
    "Statements",
    "Store",
    "StoreError",
    "Transaction",
    "ledger_entries",
    "open_store",
    "reversal",
    "schema_version",
    "upgrade",
]
