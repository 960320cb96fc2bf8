"""0001: the core tables: keys, reference data, applications, shipments and tracking,
the booking journal, statements and their lines.

The tables are spelt out as they were at this version, with every constraint and index named
as the schema's naming convention names it; nothing here reads the live schema.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import mysql

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | None = None
depends_on: str | None = None

#: A UTC instant, naive in the database; microseconds kept on MySQL/MariaDB too.
INSTANT = sa.DateTime().with_variant(mysql.DATETIME(fsp=6), "mysql", "mariadb")
#: A wire document in clear (LONGTEXT on MySQL/MariaDB, whose TEXT holds 64 KiB).
DOCUMENT = sa.Text().with_variant(mysql.LONGTEXT(), "mysql", "mariadb")
#: A sealed document: the ciphertext of its JSON.
SEALED = sa.LargeBinary().with_variant(mysql.LONGBLOB(), "mysql", "mariadb")
#: InnoDB, UTF-8 in full, binary collation (codes and keys are case-sensitive everywhere).
MYSQL: dict[str, Any] = {
    "mysql_engine": "InnoDB",
    "mysql_charset": "utf8mb4",
    "mysql_collate": "utf8mb4_bin",
}

#: Index name -> (table, columns), created after the tables.
INDEXES = {
    "ix_applications_accepted_at": ("applications", ["accepted_at"]),
    "ix_applications_center": ("applications", ["center"]),
    "ix_applications_id_digest": ("applications", ["id_digest"]),
    "ix_applications_mobile_digest": ("applications", ["mobile_digest"]),
    "ix_applications_status": ("applications", ["status"]),
    "ix_shipments_application_ref": ("shipments", ["application_ref"]),
    "ix_shipments_center_picked_up_at": ("shipments", ["center", "picked_up_at"]),
    "ix_shipments_center_returned_at": ("shipments", ["center", "returned_at"]),
    "ix_shipments_mobile_digest": ("shipments", ["mobile_digest"]),
    "ix_shipments_status": ("shipments", ["status"]),
    "ix_tracking_events_tracking_number": ("tracking_events", ["tracking_number"]),
    "ix_booking_journal_state": ("booking_journal", ["state"]),
    "ix_statement_lines_waybill": ("statement_lines", ["waybill"]),
}


def upgrade() -> None:
    """Create the core tables and their indexes."""
    op.create_table(
        "store_keys",
        sa.Column("key_id", sa.String(32), nullable=False),
        sa.Column("algorithm", sa.String(16), nullable=False),
        sa.Column("check_value", sa.String(64), nullable=False),
        sa.Column("recorded_at", INSTANT, nullable=False),
        sa.PrimaryKeyConstraint("key_id", name="pk_store_keys"),
        **MYSQL,
    )
    op.create_table(
        "centers",
        sa.Column("code", sa.String(64), nullable=False),
        sa.Column("division", sa.String(6), nullable=False),
        sa.Column("mode", sa.String(32), nullable=True),
        sa.Column("document", DOCUMENT, nullable=False),
        sa.PrimaryKeyConstraint("code", name="pk_centers"),
        **MYSQL,
    )
    op.create_table(
        "agreements",
        sa.Column("agreement_id", sa.String(64), nullable=False),
        sa.Column("carrier", sa.String(300), nullable=False),
        sa.Column("valid_from", sa.Date(), nullable=False),
        sa.Column("valid_until", sa.Date(), nullable=True),
        sa.Column("document", DOCUMENT, nullable=False),
        sa.PrimaryKeyConstraint("agreement_id", name="pk_agreements"),
        **MYSQL,
    )
    op.create_table(
        "agreement_centers",
        sa.Column("agreement_id", sa.String(64), nullable=False),
        sa.Column("center", sa.String(64), nullable=False),
        sa.PrimaryKeyConstraint("agreement_id", "center", name="pk_agreement_centers"),
        sa.ForeignKeyConstraint(
            ["agreement_id"],
            ["agreements.agreement_id"],
            name="fk_agreement_centers_agreement_id_agreements",
            ondelete="CASCADE",
        ),
        **MYSQL,
    )
    op.create_table(
        "rate_cards",
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("document", DOCUMENT, nullable=False),
        sa.PrimaryKeyConstraint("name", name="pk_rate_cards"),
        **MYSQL,
    )
    op.create_table(
        "services",
        sa.Column("code", sa.String(64), nullable=False),
        sa.Column("business_line", sa.String(32), nullable=False),
        sa.Column("document", DOCUMENT, nullable=False),
        sa.PrimaryKeyConstraint("code", name="pk_services"),
        **MYSQL,
    )
    op.create_table(
        "applications",
        sa.Column("reference", sa.String(64), nullable=False),
        sa.Column("center", sa.String(64), nullable=False),
        sa.Column("service", sa.String(64), nullable=False),
        sa.Column("status", sa.String(32), nullable=False),
        sa.Column("delivery", sa.String(16), nullable=False),
        sa.Column("accepted_at", INSTANT, nullable=False),
        sa.Column("approved_at", INSTANT, nullable=True),
        sa.Column("dispatched_at", INSTANT, nullable=True),
        sa.Column("mobile_digest", sa.String(100), nullable=True),
        sa.Column("id_digest", sa.String(100), nullable=True),
        sa.Column("version", sa.String(64), nullable=False),
        sa.Column("key_id", sa.String(32), nullable=False),
        sa.Column("document", SEALED, nullable=False),
        sa.PrimaryKeyConstraint("reference", name="pk_applications"),
        **MYSQL,
    )
    op.create_table(
        "shipments",
        sa.Column("shipment_id", sa.String(64), nullable=False),
        sa.Column("tracking_number", sa.String(13), nullable=True),
        sa.Column("center", sa.String(64), nullable=False),
        sa.Column("business_line", sa.String(32), nullable=False),
        sa.Column("direction", sa.String(32), nullable=False),
        sa.Column("origin", sa.String(6), nullable=False),
        sa.Column("destination", sa.String(6), nullable=False),
        sa.Column("weight_g", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(32), nullable=False),
        sa.Column("created_at", INSTANT, nullable=False),
        sa.Column("picked_up_at", INSTANT, nullable=True),
        sa.Column("returned_at", INSTANT, nullable=True),
        sa.Column("declared_value", sa.String(60), nullable=True),
        sa.Column("return_receipt", sa.Boolean(), nullable=False),
        sa.Column("application_ref", sa.String(64), nullable=True),
        sa.Column("last_event_at", INSTANT, nullable=True),
        sa.Column("mobile_digest", sa.String(100), nullable=True),
        sa.Column("version", sa.String(64), nullable=False),
        sa.Column("key_id", sa.String(32), nullable=False),
        sa.Column("document", SEALED, nullable=False),
        sa.PrimaryKeyConstraint("shipment_id", name="pk_shipments"),
        sa.UniqueConstraint("tracking_number", name="uq_shipments_tracking_number"),
        **MYSQL,
    )
    op.create_table(
        "tracking_events",
        sa.Column("carrier", sa.String(64), nullable=False),
        sa.Column("event_id", sa.String(128), nullable=False),
        sa.Column("tracking_number", sa.String(13), nullable=False),
        sa.Column("status", sa.String(32), nullable=False),
        sa.Column("occurred_at", INSTANT, nullable=False),
        sa.Column("version", sa.String(64), nullable=False),
        sa.Column("key_id", sa.String(32), nullable=False),
        sa.Column("document", SEALED, nullable=False),
        sa.PrimaryKeyConstraint("carrier", "event_id", name="pk_tracking_events"),
        **MYSQL,
    )
    op.create_table(
        "seen_ids",
        sa.Column("key_hash", sa.String(64), nullable=False),
        sa.Column("remembered_at", INSTANT, nullable=False),
        sa.PrimaryKeyConstraint("key_hash", name="pk_seen_ids"),
        **MYSQL,
    )
    op.create_table(
        "booking_journal",
        sa.Column("order_id", sa.String(64), nullable=False),
        sa.Column("carrier", sa.String(64), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("created_at", INSTANT, nullable=False),
        sa.Column("updated_at", INSTANT, nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("error_code", sa.String(64), nullable=True),
        sa.Column("version", sa.String(64), nullable=False),
        sa.Column("key_id", sa.String(32), nullable=False),
        sa.Column("document", SEALED, nullable=False),
        sa.PrimaryKeyConstraint("order_id", name="pk_booking_journal"),
        **MYSQL,
    )
    op.create_table(
        "statements",
        sa.Column("pk", sa.Integer(), sa.Identity(), nullable=False),
        sa.Column("statement_id", sa.String(200), nullable=False),
        sa.Column("agreement_id", sa.String(64), nullable=False),
        sa.Column("period", sa.String(16), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("current", sa.Boolean(), nullable=False),
        sa.Column("carrier", sa.String(300), nullable=False),
        sa.Column("mode", sa.String(16), nullable=False),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("pieces", sa.Integer(), nullable=False),
        sa.Column("total_fen", sa.BigInteger(), nullable=False),
        sa.Column("line_count", sa.Integer(), nullable=False),
        sa.Column("saved_at", INSTANT, nullable=False),
        sa.Column("document", DOCUMENT, nullable=False),
        sa.PrimaryKeyConstraint("pk", name="pk_statements"),
        sa.UniqueConstraint(
            "agreement_id", "period", "version", name="uq_statements_agreement_id_period_version"
        ),
        sa.UniqueConstraint("statement_id", name="uq_statements_statement_id"),
        **MYSQL,
    )
    op.create_table(
        "statement_lines",
        sa.Column("statement_pk", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("waybill", sa.String(64), nullable=True),
        sa.Column("shipment_id", sa.String(64), nullable=True),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("center", sa.String(64), nullable=True),
        sa.Column("business_line", sa.String(32), nullable=True),
        sa.Column("zone", sa.String(16), nullable=True),
        sa.Column("destination", sa.String(6), nullable=True),
        sa.Column("weight_g", sa.Integer(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("amount_fen", sa.BigInteger(), nullable=False),
        sa.Column("refers_to", sa.String(80), nullable=True),
        sa.Column("breakdown", DOCUMENT, nullable=True),
        sa.PrimaryKeyConstraint("statement_pk", "position", name="pk_statement_lines"),
        sa.ForeignKeyConstraint(
            ["statement_pk"],
            ["statements.pk"],
            name="fk_statement_lines_statement_pk_statements",
            ondelete="CASCADE",
        ),
        **MYSQL,
    )
    for name, (table, columns) in INDEXES.items():
        op.create_index(name, table, columns)


def downgrade() -> None:
    """Drop the core tables, their indexes with them (for completeness: govpost offers no
    downgrade to its users)."""
    for table in (
        "statement_lines",
        "statements",
        "booking_journal",
        "seen_ids",
        "tracking_events",
        "shipments",
        "applications",
        "services",
        "rate_cards",
        "agreement_centers",
        "agreements",
        "centers",
        "store_keys",
    ):
        op.drop_table(table)
