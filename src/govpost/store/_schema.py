"""The store's tables, on SQLAlchemy Core (private; the migrations create them).

One rule for every table: columns hold what SQL must read (keys, codes, statuses, integer fen,
UTC instants); the model itself is kept whole as its wire document (:mod:`govpost.serialization`),
so that what is read back equals what was written. A document that can hold personal data
(names, phones, ID numbers, addresses) is *sealed*: encrypted with the agency's key
(:mod:`govpost.store.encryption`), never written in clear; ``*_digest`` columns hold keyed
digests for exact-match lookups.

Money is integer fen (``BIGINT``), never floating point. Times are UTC instants (the documents
keep each value's own offset, restored on read).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import mysql
from sqlalchemy.engine import Dialect

from govpost.errors import ValidationError

__all__ = ["METADATA", "UtcDateTime"]


class UtcDateTime(sa.types.TypeDecorator[datetime]):
    """A timezone-aware instant, stored as UTC (microseconds kept on every engine)."""

    impl = sa.DateTime
    cache_ok = True

    def load_dialect_impl(self, dialect: Dialect) -> sa.types.TypeEngine[Any]:
        if dialect.name in ("mysql", "mariadb"):
            return dialect.type_descriptor(mysql.DATETIME(fsp=6))
        return dialect.type_descriptor(sa.DateTime())

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None or value.utcoffset() is None:
            raise ValidationError(f"the store keeps aware instants only, not naive {value!r}")
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC)


#: A wire document in clear: JSON text (LONGTEXT on MySQL/MariaDB, whose TEXT holds 64 KiB).
Document = sa.Text().with_variant(mysql.LONGTEXT(), "mysql", "mariadb")
#: A sealed document: the ciphertext of its JSON.
Sealed = sa.LargeBinary().with_variant(mysql.LONGBLOB(), "mysql", "mariadb")
#: Integer fen.
Fen = sa.BigInteger

METADATA = sa.MetaData(
    naming_convention={
        "ix": "ix_%(table_name)s_%(column_0_N_name)s",
        "uq": "uq_%(table_name)s_%(column_0_N_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
        "ck": "ck_%(table_name)s_%(constraint_name)s",
    }
)


#: Every table: InnoDB, UTF-8 in full, and binary collation on MySQL/MariaDB (codes and keys are
#: case-sensitive, as on SQLite and PostgreSQL).
def _table(name: str, *items: Any) -> sa.Table:
    return sa.Table(
        name,
        METADATA,
        *items,
        mysql_engine="InnoDB",
        mysql_charset="utf8mb4",
        mysql_collate="utf8mb4_bin",
    )


def _code(name: str, length: int = 64, **kw: Any) -> sa.Column[Any]:
    """A code column: ASCII-ish identifiers, short enough to index on every engine."""
    return sa.Column(name, sa.String(length), **kw)


# --- keys ------------------------------------------------------------------------------------

store_keys = _table(
    "store_keys",
    _code("key_id", 32, primary_key=True),
    _code("algorithm", 16, nullable=False),
    _code("check_value", 64, nullable=False),
    sa.Column("recorded_at", UtcDateTime, nullable=False),
)

# --- reference data --------------------------------------------------------------------------

centers = _table(
    "centers",
    _code("code", primary_key=True),
    _code("division", 6, nullable=False),
    _code("mode", 32, nullable=True),
    sa.Column("document", Document, nullable=False),
)

agreements = _table(
    "agreements",
    _code("agreement_id", primary_key=True),
    sa.Column("carrier", sa.String(300), nullable=False),
    sa.Column("valid_from", sa.Date, nullable=False),
    sa.Column("valid_until", sa.Date, nullable=True),
    sa.Column("document", Document, nullable=False),
)

agreement_centers = _table(
    "agreement_centers",
    _code("agreement_id", primary_key=True),
    _code("center", primary_key=True),
    sa.ForeignKeyConstraint(["agreement_id"], ["agreements.agreement_id"], ondelete="CASCADE"),
)

rate_cards = _table(
    "rate_cards",
    sa.Column("name", sa.String(200), primary_key=True),
    sa.Column("document", Document, nullable=False),
)

services = _table(
    "services",
    _code("code", primary_key=True),
    _code("business_line", 32, nullable=False),
    sa.Column("document", Document, nullable=False),
)

# --- applications and shipments --------------------------------------------------------------

applications = _table(
    "applications",
    _code("reference", primary_key=True),
    _code("center", nullable=False, index=True),
    _code("service", nullable=False),
    _code("status", 32, nullable=False, index=True),
    _code("delivery", 16, nullable=False),
    sa.Column("accepted_at", UtcDateTime, nullable=False, index=True),
    sa.Column("approved_at", UtcDateTime, nullable=True),
    sa.Column("dispatched_at", UtcDateTime, nullable=True),
    _code("mobile_digest", 100, nullable=True, index=True),
    _code("id_digest", 100, nullable=True, index=True),
    #: The keyed fingerprint of the document: an unchanged record is not rewritten.
    _code("version", 64, nullable=False),
    _code("key_id", 32, nullable=False),
    sa.Column("document", Sealed, nullable=False),
)

shipments = _table(
    "shipments",
    _code("shipment_id", primary_key=True),
    _code("tracking_number", 13, nullable=True, unique=True),
    _code("center", nullable=False),
    _code("business_line", 32, nullable=False),
    _code("direction", 32, nullable=False),
    _code("origin", 6, nullable=False),
    _code("destination", 6, nullable=False),
    sa.Column("weight_g", sa.Integer, nullable=False),
    _code("status", 32, nullable=False, index=True),
    sa.Column("created_at", UtcDateTime, nullable=False),
    sa.Column("picked_up_at", UtcDateTime, nullable=True),
    sa.Column("returned_at", UtcDateTime, nullable=True),
    #: The declared value (保价) exactly, as Money.to_str() writes it ("500.00 CNY").
    sa.Column("declared_value", sa.String(60), nullable=True),
    sa.Column("return_receipt", sa.Boolean, nullable=False),
    _code("application_ref", nullable=True, index=True),
    sa.Column("last_event_at", UtcDateTime, nullable=True),
    _code("mobile_digest", 100, nullable=True, index=True),
    #: The keyed fingerprint of the document: an unchanged record is not rewritten.
    _code("version", 64, nullable=False),
    _code("key_id", 32, nullable=False),
    sa.Column("document", Sealed, nullable=False),
    sa.Index("ix_shipments_center_picked_up_at", "center", "picked_up_at"),
    sa.Index("ix_shipments_center_returned_at", "center", "returned_at"),
)

tracking_events = _table(
    "tracking_events",
    _code("carrier", primary_key=True),
    _code("event_id", 128, primary_key=True),
    _code("tracking_number", 13, nullable=False, index=True),
    _code("status", 32, nullable=False),
    sa.Column("occurred_at", UtcDateTime, nullable=False),
    #: The keyed fingerprint of the event's content: a correction under the same id differs.
    _code("version", 64, nullable=False),
    _code("key_id", 32, nullable=False),
    #: The event's wire document, sealed (a carrier's description names the person who signed).
    sa.Column("document", Sealed, nullable=False),
)

seen_ids = _table(
    "seen_ids",
    #: sha256 of the inbox key: fixed width for every engine's index, and no event text kept.
    _code("key_hash", 64, primary_key=True),
    sa.Column("remembered_at", UtcDateTime, nullable=False),
)

booking_journal = _table(
    "booking_journal",
    _code("order_id", primary_key=True),
    _code("carrier", nullable=False),
    _code("state", 16, nullable=False, index=True),
    sa.Column("created_at", UtcDateTime, nullable=False),
    sa.Column("updated_at", UtcDateTime, nullable=False),
    sa.Column("attempts", sa.Integer, nullable=False),
    _code("error_code", 64, nullable=True),
    _code("version", 64, nullable=False),
    _code("key_id", 32, nullable=False),
    #: Sealed: the entry's fingerprint is a plain digest of the booking request, recipient
    #: included, against which guesses could be tested.
    sa.Column("document", Sealed, nullable=False),
)

# --- settlement --------------------------------------------------------------------------------

statements = _table(
    "statements",
    sa.Column("pk", sa.Integer, sa.Identity(), primary_key=True),
    sa.Column("statement_id", sa.String(200), nullable=False, unique=True),
    _code("agreement_id", nullable=False),
    _code("period", 16, nullable=False),
    #: 1 for the first statement of an agreement and period; each superseding one adds 1.
    sa.Column("version", sa.Integer, nullable=False),
    #: Whether this is the statement in force (the latest version).
    sa.Column("current", sa.Boolean, nullable=False),
    sa.Column("carrier", sa.String(300), nullable=False),
    _code("mode", 16, nullable=False),
    _code("currency", 3, nullable=False),
    sa.Column("pieces", sa.Integer, nullable=False),
    sa.Column("total_fen", Fen, nullable=False),
    sa.Column("line_count", sa.Integer, nullable=False),
    sa.Column("saved_at", UtcDateTime, nullable=False),
    #: The statement's document without its lines (they are rows of statement_lines).
    sa.Column("document", Document, nullable=False),
    sa.UniqueConstraint("agreement_id", "period", "version"),
)

statement_lines = _table(
    "statement_lines",
    sa.Column("statement_pk", sa.Integer, primary_key=True),
    sa.Column("position", sa.Integer, primary_key=True),
    sa.Column("waybill", sa.String(64), nullable=True, index=True),
    sa.Column("shipment_id", sa.String(64), nullable=True),
    _code("kind", 16, nullable=False),
    _code("center", nullable=True),
    _code("business_line", 32, nullable=True),
    _code("zone", 16, nullable=True),
    _code("destination", 6, nullable=True),
    sa.Column("weight_g", sa.Integer, nullable=False),
    sa.Column("day", sa.Date, nullable=False),
    sa.Column("amount_fen", Fen, nullable=False),
    _code("refers_to", 80, nullable=True),
    #: The line's fee breakdown as JSON, when it has one.
    sa.Column("breakdown", Document, nullable=True),
    sa.ForeignKeyConstraint(["statement_pk"], ["statements.pk"], ondelete="CASCADE"),
)

reconciliations = _table(
    "reconciliations",
    sa.Column("pk", sa.Integer, sa.Identity(), primary_key=True),
    sa.Column("statement_id", sa.String(200), nullable=False, index=True),
    _code("period", 16, nullable=False),
    sa.Column("statement_fen", Fen, nullable=False),
    sa.Column("bill_fen", Fen, nullable=False),
    sa.Column("matched", sa.Boolean, nullable=False),
    #: sha256 of the report's document: saving the same report twice is a no-op.
    _code("digest", 64, nullable=False, unique=True),
    sa.Column("saved_at", UtcDateTime, nullable=False),
    sa.Column("document", Document, nullable=False),
)

manifests = _table(
    "manifests",
    _code("manifest_id", primary_key=True),
    _code("center", nullable=False, index=True),
    sa.Column("scheduled_at", UtcDateTime, nullable=False),
    #: The keyed fingerprint of the document: an unchanged record is not rewritten.
    _code("version", 64, nullable=False),
    _code("key_id", 32, nullable=False),
    #: Sealed: acknowledgements carry the names of the staff who signed.
    sa.Column("document", Sealed, nullable=False),
)

remittances = _table(
    "remittances",
    sa.Column("statement_id", sa.String(200), primary_key=True),
    _code("department_code", nullable=False),
    _code("period", 16, nullable=False),
    sa.Column("collected_fen", Fen, nullable=False),
    sa.Column("commission_fen", Fen, nullable=False),
    sa.Column("net_fen", Fen, nullable=False),
    sa.Column("document", Document, nullable=False),
)

# --- the ledger ------------------------------------------------------------------------------

ledger_entries = _table(
    "ledger_entries",
    sa.Column("entry_no", sa.Integer, sa.Identity(), primary_key=True),
    #: The caller's idempotency key: posting the same entry twice records it once.
    sa.Column("reference", sa.String(200), nullable=False, unique=True),
    _code("agreement_id", nullable=False),
    sa.Column("fiscal_year", sa.Integer, nullable=False),
    _code("leg", 24, nullable=False),
    #: Who pays and who is paid: "finance", a center's code, the carrier's name.
    sa.Column("payer", sa.String(300), nullable=False),
    sa.Column("payee", sa.String(300), nullable=False),
    sa.Column("amount_fen", Fen, nullable=False),
    _code("currency", 3, nullable=False),
    sa.Column("statement_id", sa.String(200), nullable=True),
    sa.Column("posted_at", UtcDateTime, nullable=False),
    sa.Column("memo", sa.String(400), nullable=False),
    sa.Index("ix_ledger_entries_agreement_year", "agreement_id", "fiscal_year"),
)

ledger_balances = _table(
    "ledger_balances",
    _code("agreement_id", primary_key=True),
    sa.Column("fiscal_year", sa.Integer, primary_key=True),
    _code("leg", 24, primary_key=True),
    #: The currency of every entry of the balance.
    _code("currency", 3, nullable=False),
    sa.Column("balance_fen", Fen, nullable=False),
    sa.Column("entries", sa.Integer, nullable=False),
)
