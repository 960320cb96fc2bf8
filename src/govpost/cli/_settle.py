"""``govpost settle``: settle one agreement and period from the store, and save it once (private)."""

from __future__ import annotations

import enum
from typing import TYPE_CHECKING

import click

from govpost.cli._shared import (
    PERIOD,
    ExitCode,
    bad_input,
    counted,
    csv_options,
    db_option,
    finding,
    json_option,
    keys_option,
    opened_store,
    print_json,
    progress,
    progress_wanted,
    wire,
    write_csv,
)
from govpost.periods import Period, PeriodKind

if TYPE_CHECKING:
    from govpost.agreements import FeeAgreement
    from govpost.settlement import SettlementStatement
    from govpost.store import StatementTotals, Store

__all__ = ["Saved", "settle_command"]

_EXAMPLES = {PeriodKind.MONTH: "2018-06", PeriodKind.QUARTER: "2018-Q2", PeriodKind.YEAR: "2018"}


class Saved(enum.Enum):
    """What ``settle`` did with the statement it settled."""

    #: Saved as the first statement of its agreement and period.
    SAVED = "saved"
    #: Saved in place of a different statement, which is kept as history.
    SUPERSEDED = "superseded"
    #: The same statement was already in force: nothing changed.
    UNCHANGED = "unchanged"
    #: ``--no-save``: nothing was written.
    NOT_SAVED = "not_saved"


def _agreement(store: Store, agreement_id: str) -> FeeAgreement:
    """The agreement ``agreement_id`` of the store; bad input, naming those there, if none."""
    agreement = store.agreements.get(agreement_id)
    if agreement is not None:
        return agreement
    known = [a.id for a in store.agreements.all()]
    there = (
        f"it holds {', '.join(known[:10])}{', …' if len(known) > 10 else ''}"
        if known
        else "it holds no agreement"
    )
    raise bad_input(f"the store has no agreement {agreement_id!r} ({there}): check --agreement")


def _check_period(agreement: FeeAgreement, period: Period) -> None:
    if period.kind is not agreement.period:
        raise bad_input(
            f"agreement {agreement.id} settles by {agreement.period.value}, and {period} is a "
            f"{period.kind.value}: give --period as a {agreement.period.value} such as "
            f"{_EXAMPLES[agreement.period]}"
        )
    until = agreement.valid_until
    if agreement.valid_from >= period.end or (until is not None and until <= period.start):
        ends = "open end" if until is None else f"{until} (exclusive)"
        raise bad_input(
            f"agreement {agreement.id} is in force from {agreement.valid_from} to {ends}, not "
            f"in {period}: give a period it covers"
        )


def _receiver(agreement: FeeAgreement, unattributed: str | None) -> str | None:
    """The center whose ledger entries take an amount the statement attributes to no center."""
    if unattributed is not None:
        if unattributed not in agreement.centers:
            raise bad_input(
                f"--unattributed {unattributed!r} is not a center of agreement {agreement.id} "
                f"(its centers: {', '.join(sorted(agreement.centers))})"
            )
        return unattributed
    if len(agreement.centers) == 1:
        (only,) = agreement.centers
        return only
    return None


def _save(
    store: Store,
    agreement: FeeAgreement,
    statement: SettlementStatement,
    *,
    supersede: bool,
    unattributed: str | None,
) -> Saved:
    """Save ``statement`` and post its ledger entries (reversing those of the statement it
    replaces) in one transaction, as :meth:`govpost.service.Operations.close_month` does."""
    from govpost.store import ledger_entries, reversal

    period = statement.period
    held = store.statements.current(agreement.id, period)
    if held is not None and held.statement_id == statement.statement_id:
        return Saved.UNCHANGED
    if held is not None and not supersede:
        raise finding(
            f"agreement {agreement.id} already has statement {held.statement_id} (total "
            f"{held.total}) in force for {period}, and settling it now gives "
            f"{statement.statement_id} (total {statement.total}): the shipments changed since. "
            f"Nothing was saved; run again with --supersede to replace it (the old statement "
            f"is kept as history and its ledger entries reversed), or --no-save to look only"
        )
    receiver = _receiver(agreement, unattributed)
    if receiver is None and any(s.key == "*" and s.amount.amount for s in statement.by_center):
        raise bad_input(
            f"statement {statement.statement_id} attributes an amount to no center (a lump sum "
            f"of a period without pieces): give --unattributed CENTER, one of "
            f"{', '.join(sorted(agreement.centers))}, to name the center whose ledger takes it"
        )
    with store.transaction() as tx:
        old = tx.statements.current(agreement.id, period)
        if not tx.statements.save(statement, supersede=supersede):
            return Saved.UNCHANGED
        now = store.clock()
        undone = (
            ()
            if old is None
            else reversal(ledger_entries(old, posted_at=now, unattributed=receiver), posted_at=now)
        )
        tx.ledger.post(*undone, *ledger_entries(statement, posted_at=now, unattributed=receiver))
    return Saved.SAVED if old is None else Saved.SUPERSEDED


_HELP = """Settle one agreement for one period from the shipments in the store, print the
statement, and save it.

The statement is what the government owes the carrier (政府买单): every piece picked up in the
period under the agreement, priced by its rate card or lump sum, with the statements saved
before counted (the budget, lump-sum quota carried forward, waybills billed before).

By default (--save) the statement is saved as the one in force for the agreement and period,
with its ledger entries (finance → center → carrier), all in one transaction. Settling again
while the shipments are unchanged gives the same statement and changes nothing. When they have
changed (a late pickup scan, a correction), the new statement differs from the saved one: it is
refused (exit 1) unless --supersede is given, which saves it as the next version, keeps the old
one as history and reverses its ledger entries. --no-save only prints.

PERIOD is 2018-06 (a month), 2018-Q2 (a quarter) or 2018 (a year), as the agreement settles.
The save status is printed on stderr (it is in the JSON with --json); stdout holds the
statement only.

\b
Examples:
  govpost settle --agreement GZ-EMS-2018 --period 2018-06
  govpost settle --agreement GZ-EMS-2018 --period 2018-06 --no-save --max-lines 20
  govpost settle --agreement GZ-EMS-2018 --period 2018-06 --supersede
  govpost settle --agreement GZ-EMS-2018 --period 2018-06 --csv > statement-2018-06.csv
  govpost settle --agreement GZ-EMS-2018 --period 2018-06 --json

Exit status: 0 settled (and saved, or already saved); 1 a different statement is saved (see
--supersede), the settlement refused (a budget exceeded in strict mode, a piece no rate covers)
or the store failed; 2 a bad option, an unknown agreement, a period of the wrong kind.
"""


@click.command("settle", help=_HELP, short_help="Settle an agreement for a period; save it.")
@db_option
@keys_option
@click.option("--agreement", "agreement_id", required=True, metavar="ID", help="The agreement.")
@click.option(
    "--period", required=True, type=PERIOD, metavar="PERIOD", help="The period to settle."
)
@click.option(
    "--save/--no-save",
    default=True,
    show_default=True,
    help="Save the statement and post its ledger entries (once), or only print it.",
)
@click.option(
    "--supersede",
    is_flag=True,
    help="Replace a different statement saved for the agreement and period.",
)
@click.option(
    "--unattributed",
    metavar="CENTER",
    help="The center whose ledger takes a lump sum of a period without pieces (needed when "
    "the agreement covers several centers).",
)
@click.option(
    "--max-lines",
    type=click.IntRange(min=0),
    metavar="N",
    help="Print at most N lines of the statement table (totals still cover every line).",
)
@csv_options()
@json_option
def settle_command(
    db_url: str,
    keys_text: str | None,
    agreement_id: str,
    period: Period,
    save: bool,
    supersede: bool,
    unattributed: str | None,
    max_lines: int | None,
    as_csv: bool,
    encoding: str,
    as_json: bool,
) -> ExitCode:
    """Settle ``agreement_id`` for ``period``; print the statement; save it unless told not to."""
    from govpost.settlement import settle

    if as_json and as_csv:
        raise bad_input("--json and --csv both ask for stdout: give one of them")
    with opened_store(db_url, keys_text) as store:
        agreement = _agreement(store, agreement_id)
        _check_period(agreement, period)
        previous = store.statements.previous(agreement.id, period)
        shown = progress_wanted(as_json or as_csv)
        with progress(f"settling {agreement.id} {period}", enabled=shown) as advance:
            rows = store.shipments.settlement_rows(agreement.centers, period)
            statement = settle(agreement, counted(rows, advance), period, previous=previous)
        saved = Saved.NOT_SAVED
        if save:
            saved = _save(
                store, agreement, statement, supersede=supersede, unattributed=unattributed
            )
        totals = store.statements.totals(agreement.id, period)
    in_force = totals is not None and totals.statement_id == statement.statement_id
    version = totals.version if totals is not None and in_force else None
    if as_json:
        print_json({"saved": saved.value, "version": version, "statement": wire(statement)})
    elif as_csv:
        write_csv(statement.to_csv(), encoding.lower())
    else:
        click.echo(statement.to_table(max_lines=max_lines))
    if not as_json:
        click.echo(_status(saved, statement, version, totals), err=True)
    return ExitCode.OK


def _status(
    saved: Saved,
    statement: SettlementStatement,
    version: int | None,
    totals: StatementTotals | None,
) -> str:
    """The line on stderr that says what was saved."""
    key = f"{statement.agreement_id} {statement.period}"
    if saved is Saved.SAVED:
        return f"saved: statement {statement.statement_id} is version {version} of {key}"
    if saved is Saved.SUPERSEDED:
        return (
            f"superseded: statement {statement.statement_id} is now version {version} of "
            f"{key}; the one it replaced is kept as history, its ledger entries reversed"
        )
    if saved is Saved.UNCHANGED:
        return f"unchanged: statement {statement.statement_id} (version {version}) was saved before"
    if version is not None:
        return f"not saved (--no-save): the same statement is saved as version {version}"
    if totals is None:
        return f"not saved (--no-save): no statement of {key} is saved"
    return f"not saved (--no-save): a different statement of {key} is saved"
