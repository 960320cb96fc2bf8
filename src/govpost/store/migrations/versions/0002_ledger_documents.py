"""0002: the ledger and the documents of settlement: reconciliation reports, handover
manifests, remittance statements, ledger entries and balances.

The tables are spelt out as they were at this version, with every constraint and index named
as the schema's naming convention names it; nothing here reads the live schema.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import mysql

revision: str = "0002"
down_revision: str | None = "0001"
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
    "ix_reconciliations_statement_id": ("reconciliations", ["statement_id"]),
    "ix_manifests_center": ("manifests", ["center"]),
    "ix_ledger_entries_agreement_year": ("ledger_entries", ["agreement_id", "fiscal_year"]),
}


def upgrade() -> None:
    """Create the ledger's and the settlement documents' tables and their indexes."""
    op.create_table(
        "reconciliations",
        sa.Column("pk", sa.Integer(), sa.Identity(), nullable=False),
        sa.Column("statement_id", sa.String(200), nullable=False),
        sa.Column("period", sa.String(16), nullable=False),
        sa.Column("statement_fen", sa.BigInteger(), nullable=False),
        sa.Column("bill_fen", sa.BigInteger(), nullable=False),
        sa.Column("matched", sa.Boolean(), nullable=False),
        sa.Column("digest", sa.String(64), nullable=False),
        sa.Column("saved_at", INSTANT, nullable=False),
        sa.Column("document", DOCUMENT, nullable=False),
        sa.PrimaryKeyConstraint("pk", name="pk_reconciliations"),
        sa.UniqueConstraint("digest", name="uq_reconciliations_digest"),
        **MYSQL,
    )
    op.create_table(
        "manifests",
        sa.Column("manifest_id", sa.String(64), nullable=False),
        sa.Column("center", sa.String(64), nullable=False),
        sa.Column("scheduled_at", INSTANT, nullable=False),
        sa.Column("version", sa.String(64), nullable=False),
        sa.Column("key_id", sa.String(32), nullable=False),
        sa.Column("document", SEALED, nullable=False),
        sa.PrimaryKeyConstraint("manifest_id", name="pk_manifests"),
        **MYSQL,
    )
    op.create_table(
        "remittances",
        sa.Column("statement_id", sa.String(200), nullable=False),
        sa.Column("department_code", sa.String(64), nullable=False),
        sa.Column("period", sa.String(16), nullable=False),
        sa.Column("collected_fen", sa.BigInteger(), nullable=False),
        sa.Column("commission_fen", sa.BigInteger(), nullable=False),
        sa.Column("net_fen", sa.BigInteger(), nullable=False),
        sa.Column("document", DOCUMENT, nullable=False),
        sa.PrimaryKeyConstraint("statement_id", name="pk_remittances"),
        **MYSQL,
    )
    op.create_table(
        "ledger_entries",
        sa.Column("entry_no", sa.Integer(), sa.Identity(), nullable=False),
        sa.Column("reference", sa.String(200), nullable=False),
        sa.Column("agreement_id", sa.String(64), nullable=False),
        sa.Column("fiscal_year", sa.Integer(), nullable=False),
        sa.Column("leg", sa.String(24), nullable=False),
        sa.Column("payer", sa.String(300), nullable=False),
        sa.Column("payee", sa.String(300), nullable=False),
        sa.Column("amount_fen", sa.BigInteger(), nullable=False),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("statement_id", sa.String(200), nullable=True),
        sa.Column("posted_at", INSTANT, nullable=False),
        sa.Column("memo", sa.String(400), nullable=False),
        sa.PrimaryKeyConstraint("entry_no", name="pk_ledger_entries"),
        sa.UniqueConstraint("reference", name="uq_ledger_entries_reference"),
        **MYSQL,
    )
    op.create_table(
        "ledger_balances",
        sa.Column("agreement_id", sa.String(64), nullable=False),
        sa.Column("fiscal_year", sa.Integer(), nullable=False),
        sa.Column("leg", sa.String(24), nullable=False),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("balance_fen", sa.BigInteger(), nullable=False),
        sa.Column("entries", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("agreement_id", "fiscal_year", "leg", name="pk_ledger_balances"),
        **MYSQL,
    )
    for name, (table, columns) in INDEXES.items():
        op.create_index(name, table, columns)


def downgrade() -> None:
    """Drop the ledger's and the settlement documents' tables, their indexes with them (for
    completeness: govpost offers no downgrade to its users)."""
    for table in (
        "ledger_balances",
        "ledger_entries",
        "remittances",
        "manifests",
        "reconciliations",
    ):
        op.drop_table(table)
