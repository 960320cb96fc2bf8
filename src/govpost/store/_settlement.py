"""Statements with their lines, reconciliation reports, manifests, remittances, the ledger (private).

A settlement statement is saved once per agreement and period: its header as a document, its
lines as rows of ``statement_lines`` (integer fen and codes SQL can read), written and read in
batches so that a statement of a million lines never becomes one statement or one parameter
list. Saving the statement already in force changes nothing; a different one is refused unless
it supersedes the one in force, which is then kept as history.

The ledger records the money flow provincial finance → center → carrier as entries, each under
the caller's idempotency key, and keeps one balance per agreement, fiscal year and leg, updated
in the same transaction as the entries. Nothing in the ledger is updated or deleted: a
correction is a new entry (:func:`reversal`).
"""

from __future__ import annotations

import enum
import hashlib
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, date, datetime
from typing import Any, NamedTuple

import attrs
import sqlalchemy as sa
from sqlalchemy import exc

from govpost._fields import CODE, aware, coerce_enum, short
from govpost._limits import YEARS, check_utf8, check_year
from govpost.agreements import FeeBreakdown
from govpost.errors import GovpostError, StoreError, ValidationError
from govpost.modes import HandoverManifest, RemittanceStatement
from govpost.money import Money
from govpost.periods import Period
from govpost.serialization import from_primitive
from govpost.settlement import (
    ReconciliationReport,
    SettlementStatement,
    StatementLine,
    Subtotal,
)
from govpost.store import _schema as t
from govpost.store._base import Repository, Source
from govpost.store._codec import check_key, check_row, column_problem
from govpost.store._reference import upsert
from govpost.store._tracking import _bounds

__all__ = [
    "BalanceMismatch",
    "Ledger",
    "LedgerEntry",
    "LedgerLeg",
    "Manifests",
    "Reconciliations",
    "Remittances",
    "StatementTotals",
    "Statements",
    "ledger_entries",
    "reversal",
]

#: Statement lines written per ``executemany`` and read per fetch.
LINE_BATCH = 1_000


def _insert_absent(
    source: Source,
    connection: sa.Connection,
    table: sa.Table,
    row: dict[str, Any],
    unique: Sequence[str],
) -> bool:
    """Insert ``row`` unless a row with the same ``unique`` columns exists; whether it was new.

    One statement, safe against a concurrent writer of the same key: the database decides which
    write is first, and the other waits for it, then inserts nothing. ``INSERT IGNORE`` on
    MySQL/MariaDB is used only for rows govpost validated (duplicates are then the only error
    it can ignore).
    """
    statement: sa.Insert
    if source.dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as pg_insert

        statement = pg_insert(table).values(row).on_conflict_do_nothing(index_elements=unique)
    elif source.dialect == "sqlite":
        from sqlalchemy.dialects.sqlite import insert as sqlite_insert

        statement = sqlite_insert(table).values(row).on_conflict_do_nothing(index_elements=unique)
    else:
        # MySQL counts the rows an INSERT IGNORE wrote (it has no RETURNING; MariaDB's is newer).
        return connection.execute(sa.insert(table).values(row).prefix_with("IGNORE")).rowcount == 1
    # The rows returned are the rows written (a row count is not reliable after RETURNING).
    keys = list(table.primary_key.columns)
    return connection.execute(statement.returning(*keys)).first() is not None


@contextmanager
def _atomic(source: Source, connection: sa.Connection) -> Iterator[None]:
    """All or nothing of a block, also inside a caller's transaction (a savepoint there: a
    caller who catches the error and commits keeps nothing of the block)."""
    if source.connection is None:  # the block's own transaction: it rolls back whole
        yield
        return
    with connection.begin_nested():
        yield


def _period(value: Period | str, what: str = "period") -> Period:
    """``value`` as a :class:`Period` (its text, such as ``"2018-06"``, is accepted)."""
    given: object = value
    if isinstance(given, Period):
        return given
    if isinstance(given, str):
        return Period.parse(given)
    raise ValidationError(
        f"{what} {short(given)} must be a Period such as Period.month(2018, 6), or its text "
        f"'2018-06'"
    )


def _key(value: object, what: str) -> str:
    """A key looked up in the store: a non-empty str (anything else finds nothing, loudly)."""
    if not isinstance(value, str) or not value:
        raise ValidationError(f"{what} must be a non-empty str, not {short(value)}")
    return check_key(value, what)


def _typed(value: object, cls: type, what: str) -> None:
    if not isinstance(value, cls):
        raise ValidationError(f"{what} takes a {cls.__name__}, not {type(value).__name__}")


def _locked(connection: sa.Connection, query: sa.Select[Any]) -> sa.Select[Any]:
    """``query`` as a locking read on servers: it sees the rows another transaction has just
    committed (MySQL's plain reads keep the transaction's first snapshot)."""
    if connection.dialect.name == "sqlite":
        return query
    return query.with_for_update()


def _money_text(fen: int) -> str:
    """An amount of ``fen`` as the wire format writes it (``-12.50``), without a float."""
    sign = "-" if fen < 0 else ""
    whole, cents = divmod(abs(fen), 100)
    return f"{sign}{whole}.{cents:02d}"


# --- statements --------------------------------------------------------------------------------


class StatementTotals(NamedTuple):
    """The header of a saved statement: its totals, read without its lines.

    Args:
        statement_id: the statement in force.
        version: 1 for the first statement of its agreement and period, one more for each
            that superseded it.
        pieces: pieces billed.
        total: the sum of the lines.
        by_center: the subtotals per center (they add up to ``total``).

    .. versionadded:: 0.2.0
    """

    statement_id: str
    version: int
    pieces: int
    total: Money
    by_center: tuple[Subtotal, ...]


class Statements(Repository):
    """Settlement statements, saved once per agreement and period, with their lines.

    >>> store.statements.save(statement)                      # doctest: +SKIP
    True
    >>> store.statements.current("GZ-EMS-2018", Period.month(2018, 6)) == statement  # doctest: +SKIP
    True

    .. versionadded:: 0.2.0
    """

    def save(self, statement: SettlementStatement, *, supersede: bool = False) -> bool:
        """Save ``statement`` as the one in force for its agreement and period.

        The first statement of an agreement and period is version 1. Saving the statement in
        force again changes nothing. A different statement (another ``statement_id``) is
        refused unless ``supersede=True``: it then becomes the one in force (the next
        version), and the one it replaces is kept as history (:meth:`history`). Two processes
        saving the same statement at once write it once.

        Args:
            statement: the statement, as :func:`~govpost.settlement.settle` made it.
            supersede: replace a different statement in force for the same agreement and
                period (post the ledger's reversal of the old one, :func:`reversal`).

        Returns:
            Whether the statement was written (``False``: it was already in force).

        Raises:
            StoreError: another statement is in force and ``supersede`` is false; the
                statement was saved before and has since been superseded; another process
                saved a different statement of the same agreement and period meanwhile; or
                the database failed. Nothing is written.
            ValidationError: not a statement, a value its column does not hold alike on every
                engine (too long, a NUL character, an integer out of range), or lines that do
                not add up to the statement's total.
        """
        _typed(statement, SettlementStatement, "statements.save")
        if not isinstance(supersede, bool):
            raise ValidationError(f"supersede must be True or False, not {short(supersede)}")
        lines = statement.lines
        if len(lines) and lines[0].amount.currency != statement.currency:
            raise ValidationError(
                f"statement {statement.statement_id} is in {statement.currency} but its lines "
                f"are in {lines[0].amount.currency}: settle it again"
            )
        header = check_row(
            t.statements,
            {
                "statement_id": statement.statement_id,
                "agreement_id": statement.agreement_id,
                "period": str(statement.period),
                "carrier": statement.carrier,
                "mode": statement.mode.value,
                "currency": statement.currency,
                "pieces": statement.pieces,
                "total_fen": statement.total.fen,
                "line_count": len(lines),
                "document": self._codec.document(attrs.evolve(statement, lines=())),
            },
        )
        with (
            self._begin(f"save statement {statement.statement_id}") as connection,
            _atomic(self._source, connection),
        ):
            return self._save(connection, statement, header, supersede)

    def _save(
        self,
        connection: sa.Connection,
        statement: SettlementStatement,
        header: dict[str, Any],
        supersede: bool,
    ) -> bool:
        s = t.statements.c
        key = statement.statement_id
        saved = connection.execute(
            sa.select(s.version, s.current).where(s.statement_id == key)
        ).first()
        if saved is not None:
            if saved.current:
                return False
            raise StoreError(
                f"statement {key} was saved before as version {saved.version} of agreement "
                f"{statement.agreement_id} for {statement.period} and has since been "
                f"superseded; a superseded statement is never put back in force (the ledger "
                f"reversed its entries under its id). Nothing was written: read the statement "
                f"in force with store.statements.current()"
            )
        current = connection.execute(
            sa.select(s.pk, s.statement_id, s.version, s.total_fen, s.currency).where(
                s.agreement_id == statement.agreement_id,
                s.period == header["period"],
                s.current.is_(True),
            )
        ).first()
        if current is not None and not supersede:
            held = Money.from_fen(current.total_fen, current.currency)
            raise StoreError(
                f"agreement {statement.agreement_id} already has statement {current.statement_id} "
                f"(total {held}) in force for {statement.period}; statement {key} (total "
                f"{statement.total}) differs from it. Nothing was written: pass supersede=True "
                f"to replace it (the old one is kept as history)"
            )
        version = 1 if current is None else current.version + 1
        try:
            with connection.begin_nested():
                if current is not None:
                    retired = connection.execute(
                        sa.update(t.statements)
                        .where(s.pk == current.pk, s.current.is_(True))
                        .values(current=False)
                    )
                    if retired.rowcount != 1:
                        return self._raced(connection, statement)
                result = connection.execute(
                    sa.insert(t.statements),
                    {
                        **header,
                        "version": version,
                        "current": True,
                        "saved_at": self._source.clock(),
                    },
                )
                inserted = result.inserted_primary_key
        except exc.IntegrityError:
            return self._raced(connection, statement)
        assert inserted is not None  # an INSERT of one row always has its key
        self._write_lines(connection, int(inserted[0]), statement)
        return True

    def _raced(self, connection: sa.Connection, statement: SettlementStatement) -> bool:
        """After another process saved a statement of the same agreement and period: ``False``
        if it saved this one, else a :class:`StoreError`."""
        s = t.statements.c
        now = connection.execute(
            _locked(
                connection,
                sa.select(s.statement_id).where(
                    s.agreement_id == statement.agreement_id,
                    s.period == str(statement.period),
                    s.current.is_(True),
                ),
            )
        ).scalar()
        if now == statement.statement_id:
            return False
        raise StoreError(
            f"another process changed the statement in force of agreement "
            f"{statement.agreement_id} for {statement.period} (now {now or 'none'}) while "
            f"statement {statement.statement_id} was being saved; nothing was written: read the "
            f"statement in force and decide whether to supersede it"
        )

    def _write_lines(
        self, connection: sa.Connection, pk: int, statement: SettlementStatement
    ) -> None:
        breakdowns: dict[FeeBreakdown, str] = {}
        batch: list[dict[str, Any]] = []
        total = 0
        for position, line in enumerate(statement.lines):
            row = self._line_row(pk, position, line, breakdowns)
            total += row["amount_fen"]
            batch.append(row)
            if len(batch) == LINE_BATCH:
                connection.execute(sa.insert(t.statement_lines), batch)
                batch = []
        if batch:
            connection.execute(sa.insert(t.statement_lines), batch)
        # Reading checks the lines against the total (a line changed outside govpost): a
        # statement whose lines do not add up to its total could never be read back.
        if total != statement.total.fen:
            raise ValidationError(
                f"the lines of statement {statement.statement_id} add up to "
                f"{Money.from_fen(total, statement.currency)}, not to its total "
                f"{statement.total}: settle it again. Nothing was written"
            )

    def _line_row(
        self,
        pk: int,
        position: int,
        line: StatementLine,
        breakdowns: dict[FeeBreakdown, str],
    ) -> dict[str, Any]:
        breakdown = line.breakdown
        text: str | None = None
        if breakdown is not None:
            text = breakdowns.get(breakdown)
            if text is None:
                text = breakdowns[breakdown] = self._codec.document(breakdown)
        row = {
            "statement_pk": pk,
            "position": position,
            "waybill": line.waybill,
            "shipment_id": line.shipment_id,
            "kind": line.kind.value,
            "center": line.center,
            "business_line": None if line.business_line is None else line.business_line.value,
            "zone": None if line.zone is None else line.zone.value,
            "destination": line.destination,
            "weight_g": line.weight_g,
            "day": line.day,
            "amount_fen": line.amount.fen,
            "refers_to": line.refers_to,
            "breakdown": text,
        }
        for name, value in row.items():
            problem = column_problem(t.statement_lines.c[name], value)
            if problem is not None:
                raise ValidationError(
                    f"line {position} ({short(line.line_id, 60, code=True)}): "
                    f"statement_lines.{name} {problem}"
                )
        return row

    # -- reading ----------------------------------------------------------------------------------

    def _headers(self, connection: sa.Connection, *where: sa.ColumnElement[bool]) -> Sequence[Any]:
        s = t.statements.c
        query = sa.select(
            s.pk, s.statement_id, s.period, s.version, s.line_count, s.document
        ).where(*where)
        return connection.execute(query.order_by(s.agreement_id, s.pk)).all()

    def _load(self, connection: sa.Connection, row: Any) -> SettlementStatement:
        key = row.statement_id
        header = self._codec.read(row.document, SettlementStatement, f"statement {key}")
        lines = list(self._lines(connection, row.pk, header.currency, key))
        if len(lines) != row.line_count:
            raise StoreError(
                f"statement {key} in the store has {len(lines)} lines where its header counts "
                f"{row.line_count}: its lines were changed outside govpost; restore them"
            )
        c = t.statement_lines.c
        first, last = connection.execute(
            sa.select(sa.func.min(c.position), sa.func.max(c.position)).where(
                c.statement_pk == row.pk
            )
        ).one()
        total = sum(line.amount.fen for line in lines)
        if (lines and (first, last) != (0, len(lines) - 1)) or total != header.total.fen:
            raise StoreError(
                f"the lines of statement {key} in the store are not the ones saved (they add "
                f"up to {Money.from_fen(total, header.currency)} where its total is "
                f"{header.total}, or are out of order): they were changed outside govpost; "
                f"restore them"
            )
        if header.statement_id != key or str(header.period) != row.period:
            raise StoreError(
                f"statement {key} in the store holds the document of statement "
                f"{header.statement_id} ({header.period}): the row was changed outside "
                f"govpost; restore it"
            )
        try:
            return attrs.evolve(header, lines=lines)
        except GovpostError as error:
            raise StoreError(
                f"the lines of statement {key} in the store are unreadable ({error}): they were "
                f"changed outside govpost"
            ) from error

    def _lines(
        self, connection: sa.Connection, pk: int, currency: str, key: str
    ) -> Iterator[StatementLine]:
        """The lines of statement ``pk``, in order, built through the wire format."""
        c = t.statement_lines.c
        query = (
            sa.select(
                c.position,
                c.waybill,
                c.shipment_id,
                c.kind,
                c.center,
                c.business_line,
                c.zone,
                c.destination,
                c.weight_g,
                c.day,
                c.amount_fen,
                c.refers_to,
                c.breakdown,
            )
            .where(c.statement_pk == pk)
            .order_by(c.position)
            .execution_options(yield_per=LINE_BATCH)
        )
        breakdowns: dict[str, FeeBreakdown] = {}
        result = connection.execute(query)
        try:
            yield from self._read_lines(result, breakdowns, currency, key)
        finally:
            # A server-side cursor left open by an unreadable line would leak.
            result.close()

    def _read_lines(
        self,
        result: Iterable[Any],
        breakdowns: dict[str, FeeBreakdown],
        currency: str,
        key: str,
    ) -> Iterator[StatementLine]:
        for row in result:
            day: date = row.day
            document = {
                "waybill": row.waybill,
                "shipment_id": row.shipment_id,
                "kind": row.kind,
                "center": row.center,
                "business_line": row.business_line,
                "zone": row.zone,
                "destination": row.destination,
                "weight_g": row.weight_g,
                "day": day.isoformat(),
                "amount": {"amount": _money_text(row.amount_fen), "currency": currency},
                "breakdown": None,
                "refers_to": row.refers_to,
            }
            try:
                line = from_primitive(document, StatementLine)
            except GovpostError as error:
                raise StoreError(
                    f"line {row.position} of statement {key} in the store is unreadable "
                    f"({error}): it was changed outside govpost"
                ) from error
            if row.breakdown is not None:
                breakdown = breakdowns.get(row.breakdown)
                if breakdown is None:
                    breakdown = breakdowns[row.breakdown] = self._codec.read(
                        row.breakdown, FeeBreakdown, f"line {row.position} of statement {key}"
                    )
                line = attrs.evolve(line, breakdown=breakdown)
            yield line

    def get(self, statement_id: str) -> SettlementStatement | None:
        """The statement ``statement_id`` (in force or superseded), or ``None``."""
        key = _key(statement_id, "statement_id")
        with self._begin("read a statement", read=True) as connection:
            rows = self._headers(connection, t.statements.c.statement_id == key)
            return self._load(connection, rows[0]) if rows else None

    def current(self, agreement_id: str, period: Period | str) -> SettlementStatement | None:
        """The statement in force for ``agreement_id`` and ``period``, or ``None``."""
        s = t.statements.c
        where = (
            s.agreement_id == _key(agreement_id, "agreement_id"),
            s.period == str(_period(period)),
            s.current.is_(True),
        )
        with self._begin("read a statement", read=True) as connection:
            rows = self._headers(connection, *where)
            return self._load(connection, rows[0]) if rows else None

    def history(self, agreement_id: str, period: Period | str) -> tuple[SettlementStatement, ...]:
        """Every statement saved for ``agreement_id`` and ``period``, oldest version first."""
        s = t.statements.c
        where = (
            s.agreement_id == _key(agreement_id, "agreement_id"),
            s.period == str(_period(period)),
        )
        with self._begin("read statements", read=True) as connection:
            rows = sorted(self._headers(connection, *where), key=lambda row: int(row.version))
            return tuple(self._load(connection, row) for row in rows)

    def for_period(self, period: Period | str) -> tuple[SettlementStatement, ...]:
        """The statements in force for ``period``, of every agreement, in agreement order."""
        s = t.statements.c
        where = (s.period == str(_period(period)), s.current.is_(True))
        with self._begin("read statements", read=True) as connection:
            return tuple(self._load(connection, row) for row in self._headers(connection, *where))

    def for_agreement(self, agreement_id: str) -> tuple[SettlementStatement, ...]:
        """The statements in force of ``agreement_id``, one per period, earliest first."""
        return self._current_of(agreement_id, lambda _: True)

    def previous(self, agreement_id: str, before: Period | str) -> tuple[SettlementStatement, ...]:
        """What :func:`~govpost.settlement.settle` needs as ``previous=`` to settle ``before``.

        The statements in force of ``agreement_id`` for the periods of ``before``'s fiscal
        (calendar) year that end by its start — they count against the annual budget, and no
        waybill they billed is billed again — and the statement of the period just before,
        which carries unused lump-sum quota forward even across the new year. Earliest first.
        Statements of earlier years are left out (memory grows with the lines loaded): a
        waybill only they billed is not checked against them.

        >>> statement = settle(agreement, rows, period,
        ...                    previous=store.statements.previous(agreement.id, period))  # doctest: +SKIP
        """
        period = _period(before, "before")

        def wanted(other: Period) -> bool:
            return other.end <= period.start and (
                other.start.year == period.start.year or other.end == period.start
            )

        return self._current_of(agreement_id, wanted)

    def _current_of(
        self, agreement_id: str, wanted: Callable[[Period], bool]
    ) -> tuple[SettlementStatement, ...]:
        s = t.statements.c
        where = (s.agreement_id == _key(agreement_id, "agreement_id"), s.current.is_(True))
        with self._begin("read statements", read=True) as connection:
            rows = []
            for row in self._headers(connection, *where):
                try:
                    period = Period.parse(row.period)
                except ValidationError as error:
                    raise StoreError(
                        f"statement {row.statement_id} in the store has an unreadable period "
                        f"({error}): the row was changed outside govpost"
                    ) from error
                if wanted(period):
                    rows.append((period.start, row))
            rows.sort(key=lambda item: item[0])
            return tuple(self._load(connection, row) for _, row in rows)

    def totals(self, agreement_id: str, period: Period | str) -> StatementTotals | None:
        """The totals of the statement in force for ``agreement_id`` and ``period`` (read
        from its header: no line is loaded), or ``None``."""
        s = t.statements.c
        with self._begin("read a statement's totals", read=True) as connection:
            row = connection.execute(
                sa.select(
                    s.statement_id, s.version, s.pieces, s.total_fen, s.currency, s.document
                ).where(
                    s.agreement_id == _key(agreement_id, "agreement_id"),
                    s.period == str(_period(period)),
                    s.current.is_(True),
                )
            ).first()
        if row is None:
            return None
        header = self._codec.read(
            row.document, SettlementStatement, f"statement {row.statement_id}"
        )
        kept = (row.statement_id, row.pieces, row.total_fen, row.currency)
        total = header.total
        if kept != (header.statement_id, header.pieces, total.fen, total.currency):
            raise StoreError(
                f"the totals of statement {row.statement_id} in the store are not those of its "
                f"document (statement {header.statement_id}, {header.pieces} pieces, total "
                f"{header.total}): the row was changed outside govpost; restore it"
            )
        return StatementTotals(
            statement_id=row.statement_id,
            version=row.version,
            pieces=row.pieces,
            total=Money.from_fen(row.total_fen, row.currency),
            by_center=header.by_center,
        )


# --- reconciliation reports --------------------------------------------------------------------


class Reconciliations(Repository):
    """Reconciliation reports of statements against carrier bills; the same report is kept once.

    .. versionadded:: 0.2.0
    """

    def save(self, report: ReconciliationReport) -> bool:
        """Keep ``report``; whether it was new (the same report saved again changes nothing).

        Raises:
            ValidationError: not a report, or a statement id longer than 200 characters.
            StoreError: the database failed.
        """
        _typed(report, ReconciliationReport, "reconciliations.save")
        document = self._codec.document(report)
        row = check_row(
            t.reconciliations,
            {
                "statement_id": report.statement_id,
                "period": str(report.period),
                "statement_fen": report.statement_total.fen,
                "bill_fen": report.bill_total.fen,
                "matched": report.is_clean,
                "digest": hashlib.sha256(document.encode("utf-8")).hexdigest(),
                "saved_at": self._source.clock(),
                "document": document,
            },
        )
        with self._begin(f"save the reconciliation of {report.statement_id}") as connection:
            return _insert_absent(self._source, connection, t.reconciliations, row, ("digest",))

    def for_statement(self, statement_id: str) -> tuple[ReconciliationReport, ...]:
        """The reports of statement ``statement_id``, oldest first."""
        r = t.reconciliations.c
        key = _key(statement_id, "statement_id")
        with self._begin("read reconciliation reports", read=True) as connection:
            rows = connection.execute(
                sa.select(r.pk, r.document).where(r.statement_id == key).order_by(r.pk)
            ).all()
        reports = []
        for pk, doc in rows:
            report = self._codec.read(doc, ReconciliationReport, f"reconciliation {pk} of {key}")
            if report.statement_id != key:
                raise StoreError(
                    f"reconciliation {pk} of statement {key} in the store holds a report of "
                    f"statement {report.statement_id}: the row was changed outside govpost"
                )
            reports.append(report)
        return tuple(reports)

    def latest(self, statement_id: str) -> ReconciliationReport | None:
        """The latest report of statement ``statement_id``, or ``None``."""
        reports = self.for_statement(statement_id)
        return reports[-1] if reports else None


# --- manifests ---------------------------------------------------------------------------------


class Manifests(Repository):
    """Handover manifests (交接清单), sealed: the acknowledgements carry the signers' names.

    .. versionadded:: 0.2.0
    """

    def record(self, *manifests: HandoverManifest) -> int:
        """Record ``manifests`` (new, or changed: acknowledged since); return how many changed.

        Raises:
            ValidationError: not a manifest.
            StoreError: the store has no keys, or the database failed.
        """
        for manifest in manifests:
            _typed(manifest, HandoverManifest, "manifests.record")
        changed = 0
        with self._begin("record manifests") as connection:
            for manifest in manifests:
                changed += upsert(connection, t.manifests, self.row(manifest))
        return changed

    def row(self, manifest: HandoverManifest) -> dict[str, Any]:
        """The row of ``manifest``, its document sealed (public to key rotation)."""
        return {
            "manifest_id": manifest.manifest_id,
            "center": manifest.center,
            "scheduled_at": manifest.scheduled_at,
            **self._codec.seal(manifest, "manifests", manifest.manifest_id),
        }

    def get(self, manifest_id: str) -> HandoverManifest | None:
        """The manifest ``manifest_id``, or ``None``."""
        found = self._select(t.manifests.c.manifest_id == _key(manifest_id, "manifest_id"))
        return found[0] if found else None

    def find(
        self, *, center: str | None = None, scheduled_in: Period | str | None = None
    ) -> tuple[HandoverManifest, ...]:
        """Manifests of ``center`` scheduled within ``scheduled_in`` (Asia/Shanghai), by time."""
        m = t.manifests.c
        where: list[sa.ColumnElement[bool]] = []
        if center is not None:
            where.append(m.center == _key(center, "center"))
        if scheduled_in is not None:
            start, end = _bounds(_period(scheduled_in, "scheduled_in"))
            where.append(sa.and_(m.scheduled_at >= start, m.scheduled_at < end))
        return self._select(*where)

    def _select(self, *where: sa.ColumnElement[bool]) -> tuple[HandoverManifest, ...]:
        m = t.manifests.c
        query = (
            sa.select(m.manifest_id, m.document)
            .where(*where)
            .order_by(m.scheduled_at, m.manifest_id)
        )
        with self._begin("read manifests", read=True) as connection:
            rows = connection.execute(query).all()
        return tuple(
            self._codec.unseal(document, HandoverManifest, "manifests", key)
            for key, document in rows
        )


# --- remittances -------------------------------------------------------------------------------


class Remittances(Repository):
    """Remittance statements (代收款项结算单) of the agency services, each saved once.

    .. versionadded:: 0.2.0
    """

    def save(self, statement: RemittanceStatement) -> bool:
        """Save ``statement``; whether it was new (the same statement again changes nothing).

        Raises:
            StoreError: a different statement is saved under the same id (its content was
                changed), or the database failed; nothing is written.
            ValidationError: not a remittance statement.
        """
        _typed(statement, RemittanceStatement, "remittances.save")
        row = check_row(
            t.remittances,
            {
                "statement_id": statement.statement_id,
                "department_code": statement.department_code,
                "period": str(statement.period),
                "collected_fen": statement.collected.fen,
                "commission_fen": statement.commission.fen,
                "net_fen": statement.net.fen,
                "document": self._codec.document(statement),
            },
        )
        key = statement.statement_id
        with self._begin(f"save remittance statement {key}") as connection:
            if _insert_absent(self._source, connection, t.remittances, row, ("statement_id",)):
                return True
            r = t.remittances.c
            document = connection.execute(
                _locked(connection, sa.select(r.document).where(r.statement_id == key))
            ).scalar_one()
        if self._codec.read(document, RemittanceStatement, f"remittance statement {key}") == (
            statement
        ):
            return False
        raise StoreError(
            f"remittance statement {key} is saved with other content: a statement id is the "
            f"digest of its content, so one of them was altered; nothing was written. Build the "
            f"statement again with RemittanceStatement.build"
        )

    def get(self, statement_id: str) -> RemittanceStatement | None:
        """The remittance statement ``statement_id``, or ``None``."""
        found = self._select(t.remittances.c.statement_id == _key(statement_id, "statement_id"))
        return found[0] if found else None

    def for_department(
        self, code: str, period: Period | str | None = None
    ) -> tuple[RemittanceStatement, ...]:
        """The statements of department ``code`` (of ``period`` only, if given), earliest
        period first."""
        r = t.remittances.c
        where = [r.department_code == _key(code, "department code")]
        if period is not None:
            where.append(r.period == str(_period(period)))
        found = self._select(*where)
        return tuple(
            sorted(found, key=lambda s: (s.period.start, s.period.kind.months, s.statement_id))
        )

    def _select(self, *where: sa.ColumnElement[bool]) -> tuple[RemittanceStatement, ...]:
        r = t.remittances.c
        with self._begin("read remittance statements", read=True) as connection:
            rows = connection.execute(
                sa.select(r.statement_id, r.document).where(*where).order_by(r.statement_id)
            ).all()
        found = []
        for key, doc in rows:
            statement = self._codec.read(doc, RemittanceStatement, f"remittance statement {key}")
            if statement.statement_id != key:
                raise StoreError(
                    f"remittance statement {key} in the store holds the document of statement "
                    f"{statement.statement_id}: the row was changed outside govpost"
                )
            found.append(statement)
        return tuple(found)


# --- the ledger --------------------------------------------------------------------------------


class LedgerLeg(enum.Enum):
    """A leg of the money flow of government-paid postage (政府买单).

    >>> LedgerLeg("finance_to_center").label
    '财政划款'

    .. versionadded:: 0.2.0
    """

    FINANCE_TO_CENTER = "finance_to_center"  #: provincial finance pays the center (划款)
    CENTER_TO_CARRIER = "center_to_carrier"  #: the center pays the carrier (结算)

    @property
    def label(self) -> str:
        """The Chinese name used in reports."""
        return _LEG_LABELS[self]


_LEG_LABELS = {
    LedgerLeg.FINANCE_TO_CENTER: "财政划款",
    LedgerLeg.CENTER_TO_CARRIER: "邮费结算",
}


def _reference(value: object) -> str:
    if (
        not isinstance(value, str)
        or not 1 <= len(value) <= 200
        or value.strip() != value
        or not value.isprintable()
    ):
        raise ValidationError(
            f"ledger reference {short(value)} must be 1-200 printable characters without "
            f"surrounding spaces, e.g. '<statement id>/<leg>/<center>'"
        )
    return check_utf8(value, "ledger reference")


def _code(value: object) -> str:
    if not isinstance(value, str) or CODE.fullmatch(value) is None:
        raise ValidationError(
            f"agreement id {short(value, code=True)} must be a code of 1-64 letters, digits, "
            f"'-', '_' or '.'"
        )
    return value


def _fiscal_year(value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value not in YEARS:
        raise ValidationError(
            f"fiscal year {short(value)} must be an int from {YEARS.start} to {YEARS.stop - 1}"
        )
    return value


def _leg(value: LedgerLeg | str) -> LedgerLeg:
    return coerce_enum(LedgerLeg, value, "ledger leg")


def _party(value: object) -> str:
    if not isinstance(value, str) or not value.strip() or len(value) > 300:
        raise ValidationError(
            "a ledger payer or payee must be a non-empty str of at most 300 characters "
            "('finance', a center's code, the carrier's name)"
        )
    return check_utf8(value, "ledger party").strip()


def _amount(value: object) -> Money:
    if not isinstance(value, Money):
        raise ValidationError(f"a ledger amount must be a Money, not {short(value)}")
    if value.fen == 0:  # .fen also refuses fractions of a fen
        raise ValidationError(
            "a ledger entry moves money: its amount is never zero (leave a zero amount out)"
        )
    return value


def _statement_id(value: object) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str) or not 1 <= len(value) <= 200 or not value.isprintable():
        raise ValidationError(
            f"statement_id {short(value)} must be None or 1-200 printable characters"
        )
    return value


def _memo(value: object) -> str:
    if not isinstance(value, str) or len(value) > 400:
        raise ValidationError("a ledger memo must be a str of at most 400 characters")
    return check_utf8(value, "ledger memo")


def _posted_at(value: object) -> datetime:
    return aware(value, "posted_at")


@attrs.frozen(kw_only=True)
class LedgerEntry:
    """One movement of money in the ledger: provincial finance → center, or center → carrier.

    Entries are appended, never changed: a correction is another entry, of the opposite sign
    (:func:`reversal`). The :attr:`reference` is the idempotency key: posting an entry again
    records it once.

    Args:
        reference: the idempotency key, unique in the ledger (up to 200 characters), e.g.
            ``"<statement id>/<leg>/<center>"`` as :func:`ledger_entries` makes it.
        agreement_id: the fee agreement the money is paid under.
        fiscal_year: the fiscal (calendar) year it counts in.
        leg: :class:`LedgerLeg` (its value as a str is accepted).
        payer: who pays: ``"finance"``, a center's code.
        payee: who is paid: a center's code, the carrier's name.
        amount: whole fen, never zero; negative for a correction.
        statement_id: the statement the entry settles, if any.
        posted_at: when it was posted (timezone-aware; read back in UTC).
        memo: a note for the finance office (up to 400 characters).

    Raises:
        ValidationError: a field out of its bounds (the message says which).

    >>> from datetime import datetime, timezone
    >>> LedgerEntry(reference="S-1/finance_to_center/GZ-520100", agreement_id="GZ-EMS-2018",
    ...     fiscal_year=2018, leg="finance_to_center", payer="finance", payee="GZ-520100",
    ...     amount=Money("10.63"), posted_at=datetime(2018, 7, 1, tzinfo=timezone.utc)).leg
    <LedgerLeg.FINANCE_TO_CENTER: 'finance_to_center'>

    .. versionadded:: 0.2.0
    """

    reference: str = attrs.field(converter=_reference)
    agreement_id: str = attrs.field(converter=_code)
    fiscal_year: int = attrs.field(converter=_fiscal_year)
    leg: LedgerLeg = attrs.field(converter=_leg)
    payer: str = attrs.field(converter=_party)
    payee: str = attrs.field(converter=_party)
    amount: Money = attrs.field(converter=_amount)
    statement_id: str | None = attrs.field(default=None, converter=_statement_id)
    posted_at: datetime = attrs.field(converter=_posted_at)
    memo: str = attrs.field(default="", converter=_memo)

    def __attrs_post_init__(self) -> None:
        if self.payer == self.payee:
            raise ValidationError(
                f"ledger entry {self.reference}: the payer and the payee are the same party; "
                f"an entry moves money from one to another"
            )


def ledger_entries(
    statement: SettlementStatement,
    *,
    posted_at: datetime,
    finance: str = "finance",
    unattributed: str | None = None,
) -> tuple[LedgerEntry, ...]:
    """The ledger entries a saved statement posts: finance → each center → the carrier.

    For each center with a non-zero subtotal in :attr:`SettlementStatement.by_center
    <govpost.settlement.SettlementStatement.by_center>` — which attributes a lump sum to the
    centers by pieces, so the subtotals add up to the total — one
    :attr:`~LedgerLeg.FINANCE_TO_CENTER` entry (``finance`` pays the center) and one
    :attr:`~LedgerLeg.CENTER_TO_CARRIER` entry (the center pays ``statement.carrier``) of that
    subtotal. Each leg's entries thus add up to ``statement.total``. The references are
    ``"<statement id>/<leg>/<center>"``: posting them twice records them once. The fiscal year
    is the year the statement's period starts in.

    Args:
        statement: the statement.
        posted_at: when the entries are posted (timezone-aware).
        finance: who pays the centers (the provincial finance department).
        unattributed: the center that receives an amount the statement attributes to no
            center (``"*"``: a lump sum of a period in which no piece was sent).

    Raises:
        ValidationError: the statement holds an unattributed amount and ``unattributed`` is
            not given, or a field is out of bounds.

    .. versionadded:: 0.2.0
    """
    _typed(statement, SettlementStatement, "ledger_entries")
    entries: list[LedgerEntry] = []
    for subtotal in statement.by_center:
        if not subtotal.amount.amount:
            continue
        center = subtotal.key
        if center == "*":
            if unattributed is None:
                raise ValidationError(
                    f"statement {statement.statement_id} attributes {subtotal.amount} to no "
                    f"center (a lump sum of a period without pieces): pass unattributed="
                    f"'<center code>' to name the center that receives it"
                )
            center = unattributed
        for leg, payer, payee in (
            (LedgerLeg.FINANCE_TO_CENTER, finance, center),
            (LedgerLeg.CENTER_TO_CARRIER, center, statement.carrier),
        ):
            entries.append(
                LedgerEntry(
                    reference=f"{statement.statement_id}/{leg.value}/{center}",
                    agreement_id=statement.agreement_id,
                    fiscal_year=statement.period.start.year,
                    leg=leg,
                    payer=payer,
                    payee=payee,
                    amount=subtotal.amount,
                    statement_id=statement.statement_id,
                    posted_at=posted_at,
                    memo=f"{statement.period} {leg.label} {center}",
                )
            )
    return tuple(entries)


def reversal(
    entries: Iterable[LedgerEntry], *, posted_at: datetime, memo: str | None = None
) -> tuple[LedgerEntry, ...]:
    """The entries that cancel ``entries``: each negated, under ``"<reference>/reversal"``.

    Post them with the entries of the statement that superseded the one ``entries`` settled:
    the balances then hold the new statement only.

    >>> store.ledger.post(*reversal(ledger_entries(old, posted_at=now), posted_at=now),
    ...                   *ledger_entries(new, posted_at=now))          # doctest: +SKIP

    Args:
        entries: the entries to cancel.
        posted_at: when the reversal is posted.
        memo: the note of every reversing entry (default: ``"reversal of <reference>"``).

    Raises:
        ValidationError: an item is not a :class:`LedgerEntry`, or a reference would exceed
            200 characters.

    .. versionadded:: 0.2.0
    """
    reversed_: list[LedgerEntry] = []
    for entry in entries:
        _typed(entry, LedgerEntry, "reversal")
        reversed_.append(
            attrs.evolve(
                entry,
                reference=f"{entry.reference}/reversal",
                amount=-entry.amount,
                posted_at=posted_at,
                memo=f"reversal of {entry.reference}"[:400] if memo is None else memo,
            )
        )
    return tuple(reversed_)


class BalanceMismatch(NamedTuple):
    """A ledger balance that is not the sum of its entries (from :meth:`Ledger.verify`).

    Args:
        agreement_id: the agreement.
        fiscal_year: the year.
        leg: the leg.
        recorded: the balance kept (``None``: no balance row).
        computed: the sum of the entries (``None``: no entry).
        recorded_entries: the number of entries the balance row counts.
        computed_entries: the number of entries.

    .. versionadded:: 0.2.0
    """

    agreement_id: str
    fiscal_year: int
    leg: LedgerLeg
    recorded: Money | None
    computed: Money | None
    recorded_entries: int
    computed_entries: int


_BalanceKey = tuple[str, int, str]


class Ledger(Repository):
    """The append-only ledger, finance → center → carrier, with a balance per agreement,
    fiscal year and leg.

    There is no update and no delete: post a correction (:func:`reversal`).

    .. versionadded:: 0.2.0
    """

    def post(self, *entries: LedgerEntry) -> int:
        """Append ``entries`` and move their balances, all in one transaction; how many were new.

        An entry whose reference is in the ledger with the same content is skipped (posting
        twice records once). Balances move by ``balance + amount`` in the database, so that
        two processes posting at once both count.

        Raises:
            StoreError: a reference is in the ledger with other content, an entry is in
                another currency than its balance's earlier entries, or the database failed;
                nothing is posted.
            ValidationError: not a :class:`LedgerEntry`, a value its column does not hold
                alike on every engine (a NUL character, an amount beyond a BIGINT), or a
                ``posted_at`` outside 1900-9998 in UTC, where the ledger keeps it.
        """
        for entry in entries:
            _typed(entry, LedgerEntry, "ledger.post")
        rows = [check_row(t.ledger_entries, self._row(entry)) for entry in entries]
        moves: dict[_BalanceKey, list[Any]] = {}
        new = 0
        with self._begin("post ledger entries") as connection, _atomic(self._source, connection):
            for entry, row in zip(entries, rows, strict=True):
                if _insert_absent(self._source, connection, t.ledger_entries, row, ("reference",)):
                    new += 1
                    key = (entry.agreement_id, entry.fiscal_year, entry.leg.value)
                    move = moves.setdefault(key, [entry.amount.currency, 0, 0])
                    if move[0] != entry.amount.currency:
                        raise StoreError(self._currency_error(entry, move[0]))
                    move[1] += entry.amount.fen
                    move[2] += 1
                    continue
                stored = self._read(
                    connection.execute(
                        _locked(
                            connection,
                            sa.select(t.ledger_entries).where(
                                t.ledger_entries.c.reference == entry.reference
                            ),
                        )
                    ).one()
                )
                if stored != entry:
                    raise StoreError(
                        f"ledger entry {entry.reference} is posted with other content "
                        f"({stored.leg.value} {stored.amount} of agreement {stored.agreement_id} "
                        f"in {stored.fiscal_year}); the ledger is append-only: post a "
                        f"correction under a new reference (see govpost.store.reversal). "
                        f"Nothing was posted"
                    )
            # In key order, so that two processes lock the same balances in the same order.
            for key in sorted(moves):
                self._move(connection, key, *moves[key])
        return new

    @staticmethod
    def _currency_error(entry: LedgerEntry, currency: str) -> str:
        return (
            f"ledger entry {entry.reference} is in {entry.amount.currency} but the balance of "
            f"agreement {entry.agreement_id}, {entry.fiscal_year}, {entry.leg.value} is in "
            f"{currency}: post it in {currency}. Nothing was posted"
        )

    def _move(
        self, connection: sa.Connection, key: _BalanceKey, currency: str, fen: int, count: int
    ) -> None:
        """Add ``fen`` and ``count`` entries to a balance, creating it if absent: one atomic
        statement (``balance_fen = balance_fen + :fen`` on the existing row), so that two
        processes posting to one balance both count, without the lock upgrade of a separate
        insert-if-absent and update that deadlocks on MySQL."""
        agreement_id, year, leg = key
        b = t.ledger_balances
        row = {
            "agreement_id": agreement_id,
            "fiscal_year": year,
            "leg": leg,
            "currency": currency,
            "balance_fen": fen,
            "entries": count,
        }
        statement: sa.Executable
        if self._source.dialect == "mysql":
            from sqlalchemy.dialects.mysql import insert as mysql_insert

            mine = mysql_insert(b).values(row)
            statement = mine.on_duplicate_key_update(
                balance_fen=b.c.balance_fen + mine.inserted.balance_fen,
                entries=b.c.entries + mine.inserted.entries,
            )
        elif self._source.dialect == "postgresql":
            from sqlalchemy.dialects.postgresql import insert as pg_insert

            pg = pg_insert(b).values(row)
            statement = pg.on_conflict_do_update(
                index_elements=list(b.primary_key.columns),
                set_={
                    "balance_fen": b.c.balance_fen + pg.excluded.balance_fen,
                    "entries": b.c.entries + pg.excluded.entries,
                },
            )
        else:
            from sqlalchemy.dialects.sqlite import insert as sqlite_insert

            lite = sqlite_insert(b).values(row)
            statement = lite.on_conflict_do_update(
                index_elements=list(b.primary_key.columns),
                set_={
                    "balance_fen": b.c.balance_fen + lite.excluded.balance_fen,
                    "entries": b.c.entries + lite.excluded.entries,
                },
            )
        connection.execute(statement)
        held = connection.execute(
            sa.select(b.c.currency).where(
                b.c.agreement_id == agreement_id, b.c.fiscal_year == year, b.c.leg == leg
            )
        ).scalar_one()
        if held != currency:
            raise StoreError(
                f"the entries of agreement {agreement_id}, {year}, {leg} are in {currency} but "
                f"its balance is in {held}: post them in {held}. Nothing was posted"
            )

    @staticmethod
    def _row(entry: LedgerEntry) -> dict[str, Any]:
        # The ledger keeps the instant in UTC and reads it back so: an instant that is in
        # another year there than govpost holds (1900 early in a zone ahead of UTC) could be
        # posted but never read back.
        check_year(
            entry.posted_at.astimezone(UTC),
            lambda: (
                f"ledger entry {entry.reference}: posted_at {entry.posted_at.isoformat()}, "
                f"in UTC where the ledger keeps it,"
            ),
            scope="the ledger holds times from",
        )
        return {
            "reference": entry.reference,
            "agreement_id": entry.agreement_id,
            "fiscal_year": entry.fiscal_year,
            "leg": entry.leg.value,
            "payer": entry.payer,
            "payee": entry.payee,
            "amount_fen": entry.amount.fen,
            "currency": entry.amount.currency,
            "statement_id": entry.statement_id,
            "posted_at": entry.posted_at,
            "memo": entry.memo,
        }

    @staticmethod
    def _read(row: Any) -> LedgerEntry:
        try:
            return LedgerEntry(
                reference=row.reference,
                agreement_id=row.agreement_id,
                fiscal_year=row.fiscal_year,
                leg=row.leg,
                payer=row.payer,
                payee=row.payee,
                amount=Money.from_fen(row.amount_fen, row.currency),
                statement_id=row.statement_id,
                posted_at=row.posted_at,
                memo=row.memo,
            )
        except GovpostError as error:
            raise StoreError(
                f"ledger entry {row.entry_no} in the store is invalid ({error}): it was changed "
                f"outside govpost"
            ) from error

    def balance(self, agreement_id: str, fiscal_year: int, leg: LedgerLeg | str) -> Money:
        """The balance of ``agreement_id`` in ``fiscal_year`` on ``leg``: the sum of its entries
        (zero yuan when nothing is posted)."""
        b = t.ledger_balances.c
        with self._begin("read a ledger balance", read=True) as connection:
            row = connection.execute(
                sa.select(b.balance_fen, b.currency).where(
                    b.agreement_id == _key(agreement_id, "agreement_id"),
                    b.fiscal_year == _fiscal_year(fiscal_year),
                    b.leg == _leg(leg).value,
                )
            ).first()
        return Money.zero() if row is None else Money.from_fen(row.balance_fen, row.currency)

    def entries(
        self, agreement_id: str | None = None, fiscal_year: int | None = None
    ) -> tuple[LedgerEntry, ...]:
        """The entries (of ``agreement_id``, of ``fiscal_year``, if given) in posting order."""
        e = t.ledger_entries.c
        where: list[sa.ColumnElement[bool]] = []
        if agreement_id is not None:
            where.append(e.agreement_id == _key(agreement_id, "agreement_id"))
        if fiscal_year is not None:
            where.append(e.fiscal_year == _fiscal_year(fiscal_year))
        with self._begin("read ledger entries", read=True) as connection:
            rows = connection.execute(
                sa.select(t.ledger_entries).where(*where).order_by(e.entry_no)
            ).all()
        return tuple(map(self._read, rows))

    def _sums(self, connection: sa.Connection) -> dict[tuple[str, int, str, str], tuple[int, int]]:
        """The sum and count of the entries per agreement, year, leg and currency."""
        e = t.ledger_entries.c
        rows = connection.execute(
            sa.select(
                e.agreement_id,
                e.fiscal_year,
                e.leg,
                e.currency,
                sa.func.sum(e.amount_fen),
                sa.func.count(),
            ).group_by(e.agreement_id, e.fiscal_year, e.leg, e.currency)
        ).all()
        return {(a, int(y), leg, c): (int(total), int(n)) for a, y, leg, c, total, n in rows}

    def verify(self) -> tuple[BalanceMismatch, ...]:
        """Recompute every balance from the entries; the balances that differ (none: consistent).

        Raises:
            StoreError: a balance or entry holds a leg or currency govpost does not know (the
                rows were changed outside govpost); the database failed.
        """
        b = t.ledger_balances.c
        with self._begin("verify the ledger") as connection:
            sums = self._sums(connection)
            kept = {
                (a, int(y), leg): (c, int(fen), int(n))
                for a, y, leg, c, fen, n in connection.execute(
                    sa.select(
                        b.agreement_id, b.fiscal_year, b.leg, b.currency, b.balance_fen, b.entries
                    )
                ).all()
            }
        computed: dict[_BalanceKey, list[tuple[str, int, int]]] = {}
        for (agreement_id, year, leg, currency), (fen, count) in sums.items():
            computed.setdefault((agreement_id, year, leg), []).append((currency, fen, count))
        found: list[BalanceMismatch] = []
        for key in sorted(set(computed) | set(kept)):
            recorded = kept.get(key)
            sums_of_key = sorted(computed.get(key, []))
            if recorded is not None and sums_of_key == [recorded]:
                continue
            agreement_id, year, leg = key
            # A balance without entries, or entries in several currencies: one row for each.
            none: list[tuple[str | None, int, int]] = [(None, 0, 0)]
            for unit, fen, count in sums_of_key or none:
                try:
                    mismatch = BalanceMismatch(
                        agreement_id=agreement_id,
                        fiscal_year=year,
                        leg=_leg(leg),
                        recorded=None
                        if recorded is None
                        else Money.from_fen(recorded[1], recorded[0]),
                        computed=None if unit is None else Money.from_fen(fen, unit),
                        recorded_entries=0 if recorded is None else recorded[2],
                        computed_entries=count,
                    )
                except GovpostError as error:
                    raise StoreError(
                        f"the ledger of agreement {short(agreement_id, code=True)}, {year}, leg "
                        f"{short(leg, code=True)} in the store is invalid ({error}): its entries "
                        f"or balance were changed outside govpost; correct them, then rebuild()"
                    ) from error
                found.append(mismatch)
        return tuple(found)

    def rebuild(self) -> int:
        """Recompute the balances from the entries (after a restore); how many balances there are.

        Posting waits while the balances are rebuilt.

        Raises:
            StoreError: the entries of one balance are in several currencies, or the database
                failed; nothing is changed.
        """
        with self._begin("rebuild the ledger's balances") as connection:
            if self._source.dialect == "postgresql":
                connection.exec_driver_sql("LOCK TABLE ledger_entries IN SHARE MODE")
                connection.exec_driver_sql("LOCK TABLE ledger_balances IN EXCLUSIVE MODE")
            elif self._source.dialect == "mysql":
                connection.execute(
                    sa.select(t.ledger_entries.c.entry_no).with_for_update(read=True)
                ).all()
            rows: dict[_BalanceKey, dict[str, Any]] = {}
            for (agreement_id, year, leg, currency), (fen, count) in sorted(
                self._sums(connection).items()
            ):
                key = (agreement_id, year, leg)
                if key in rows:
                    raise StoreError(
                        f"the ledger entries of agreement {agreement_id}, {year}, {leg} are in "
                        f"{rows[key]['currency']} and {currency}: correct the entries in the "
                        f"wrong currency before rebuilding; nothing was changed"
                    )
                rows[key] = {
                    "agreement_id": agreement_id,
                    "fiscal_year": year,
                    "leg": leg,
                    "currency": currency,
                    "balance_fen": fen,
                    "entries": count,
                }
            connection.execute(sa.delete(t.ledger_balances))
            if rows:
                connection.execute(sa.insert(t.ledger_balances), list(rows.values()))
        return len(rows)
