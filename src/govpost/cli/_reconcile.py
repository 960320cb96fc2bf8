"""``govpost reconcile``: the carrier's bill against the saved statement (private)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import click

from govpost.cli._shared import (
    PERIOD,
    ExitCode,
    Mapping,
    bad_input,
    csv_options,
    db_option,
    json_option,
    keys_option,
    opened_store,
    print_json,
    wire,
    write_csv,
)
from govpost.periods import Period

if TYPE_CHECKING:
    from govpost.settlement import CarrierBill, ReconciliationReport, SettlementStatement
    from govpost.store import Store

__all__ = ["reconcile_command"]


def _bill(path: Path, columns: dict[str, str], encoding: str | None) -> CarrierBill:
    from govpost.settlement import CarrierBill

    try:
        return CarrierBill.from_csv(path, columns=columns or None, encoding=encoding)
    except OSError as error:
        raise bad_input(f"cannot read the bill {path}: {error.strerror or error}") from error


def _statement(store: Store, agreement_id: str | None, period: Period) -> SettlementStatement:
    """The statement in force to reconcile against; bad input if there is none (or, without
    ``--agreement``, several)."""
    if agreement_id is not None:
        statement = store.statements.current(agreement_id, period)
        if statement is None:
            raise bad_input(
                f"the store has no statement of agreement {agreement_id!r} for {period}: "
                f"settle it first with govpost settle --agreement {agreement_id} --period "
                f"{period}"
            )
        return statement
    saved = store.statements.for_period(period)
    if len(saved) == 1:
        return saved[0]
    if not saved:
        raise bad_input(
            f"the store has no statement for {period}: settle it first with govpost settle "
            f"--agreement ID --period {period}"
        )
    ids = ", ".join(s.agreement_id for s in saved)
    raise bad_input(
        f"{len(saved)} agreements have a statement for {period} ({ids}): give --agreement"
    )


def _summary(report: ReconciliationReport) -> str:
    """One line: how many discrepancies, and the totals."""
    from govpost.settlement import Discrepancy

    off = sum(n for kind, n in report.counts().items() if kind is not Discrepancy.MATCHED)
    if not off:
        return f"all {len(report.items)} items matched; bill total {report.bill_total}"
    return (
        f"{off} discrepanc{'y' if off == 1 else 'ies'}: bill total {report.bill_total}, ours "
        f"{report.statement_total}, difference {report.difference}"
    )


_HELP = """Reconcile the carrier's bill (对账单) against the statement saved for the agreement and
period, save the report, and print it.

The bill is a CSV file, UTF-8 or GBK (detected; --bill-encoding forces one), with English or
the usual Chinese headers (运单号, 揽收日期, 重量(克), 寄达地, 费用类型, 金额); --column maps
other headers to the fields waybill, pickup_date, weight_g, weight_kg, destination, fee_type,
amount. Every line of both sides lands in one class: matched, missing in the bill, missing in
our records, amount, weight, zone/tariff or surcharge mismatch, duplicate, period mismatch.

The statement must have been saved (govpost settle). --agreement may be left out when one
agreement only has a statement for the period. The same report saved again is kept once.

\b
Examples:
  govpost reconcile --agreement GZ-EMS-2018 --period 2018-06 --bill ems-2018-06.csv
  govpost reconcile --period 2018-06 --bill bill.csv --column waybill=邮件号码
  govpost reconcile --period 2018-06 --bill bill.csv --csv > reconciliation.csv
  govpost reconcile --period 2018-06 --bill bill.csv --json

Exit status: 0 every item matched; 1 there are discrepancies (the report is printed all the
same) or the store failed; 2 a bad option, an unreadable or malformed bill (the line and field
are named), no saved statement for the agreement and period.
"""


@click.command("reconcile", help=_HELP, short_help="Reconcile a carrier's bill; save the report.")
@db_option
@keys_option
@click.option(
    "--bill",
    "bill_path",
    required=True,
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    metavar="FILE.csv",
    help="The carrier's bill, a CSV file.",
)
@click.option("--period", required=True, type=PERIOD, metavar="PERIOD", help="The period billed.")
@click.option(
    "--agreement",
    "agreement_id",
    metavar="ID",
    help="The agreement whose statement the bill is checked against.",
)
@click.option(
    "--bill-encoding",
    metavar="ENCODING",
    help="The bill's encoding (utf-8, gbk, gb18030), instead of detecting it.",
)
@click.option(
    "--column",
    "columns",
    multiple=True,
    type=Mapping(),
    metavar="FIELD=HEADER",
    help="The bill's header for a field (repeatable), e.g. waybill=邮件号码.",
)
@click.option(
    "--all", "show_all", is_flag=True, help="List the matched items too, not only discrepancies."
)
@csv_options()
@json_option
def reconcile_command(
    db_url: str,
    keys_text: str | None,
    bill_path: Path,
    period: Period,
    agreement_id: str | None,
    bill_encoding: str | None,
    columns: tuple[tuple[str, str], ...],
    show_all: bool,
    as_csv: bool,
    encoding: str,
    as_json: bool,
) -> ExitCode:
    """Reconcile the bill at ``bill_path``; print and save the report; exit 1 on discrepancies."""
    from govpost.settlement import reconcile

    if as_json and as_csv:
        raise bad_input("--json and --csv both ask for stdout: give one of them")
    bill = _bill(bill_path, dict(columns), bill_encoding)
    with opened_store(db_url, keys_text) as store:
        statement = _statement(store, agreement_id, period)
        report = reconcile(statement, bill)
        new = store.reconciliations.save(report)
    if as_json:
        print_json(
            {
                "agreement_id": statement.agreement_id,
                "statement_id": report.statement_id,
                "period": str(report.period),
                "clean": report.is_clean,
                "counts": {kind.value: n for kind, n in report.counts().items()},
                "statement_total": wire(report.statement_total),
                "bill_total": wire(report.bill_total),
                "difference": wire(report.difference),
                "saved": new,
                "report": wire(report),
            }
        )
    elif as_csv:
        write_csv(report.to_csv(), encoding.lower())
    else:
        click.echo(report.to_table(include_matched=show_all))
    if not as_json:
        saved = "report saved" if new else "the same report was saved before"
        click.echo(f"{_summary(report)} ({saved})", err=True)
    return ExitCode.OK if report.is_clean else ExitCode.FINDING
