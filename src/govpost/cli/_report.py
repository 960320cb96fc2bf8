"""``govpost report``: the cooperation's KPIs for a period, from the store (private)."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

import click

from govpost.cli._shared import (
    PERIOD,
    ExitCode,
    bad_input,
    csv_options,
    db_option,
    json_option,
    keys_option,
    opened_store,
    progress,
    progress_wanted,
    write_bytes,
)
from govpost.periods import SHANGHAI, Period

if TYPE_CHECKING:
    from govpost.reports import Assumptions, KpiReport

__all__ = ["report_command"]


def _assumptions(path: Path | None) -> Assumptions | None:
    """The assumptions of the TOML file at ``path`` (``None``: the defaults)."""
    if path is None:
        return None
    from govpost.reports import Assumptions
    from govpost.serialization import from_toml

    try:
        text = path.read_bytes()
    except OSError as error:
        raise bad_input(f"cannot read --assumptions {path}: {error.strerror or error}") from error
    return from_toml(text, Assumptions)


def _chart(report: KpiReport, path: Path, font: Path | None) -> None:
    """Draw every chart of ``report`` on one PNG at ``path``."""
    try:
        from govpost.reports import charts

        charts.save_charts(report, path, font=font)
    except ImportError as error:
        raise bad_input(f"--chart needs matplotlib: {error}") from error
    except OSError as error:
        raise bad_input(f"cannot write the chart to {path}: {error.strerror or error}") from error


_HELP = """Report the cooperation's figures (KPIs) for a period, from the store.

The figures of the provincial report: centers cooperating by mode and level, items sent by
business line and direction, postage paid by government (the statements saved), trips and
travel cost saved for citizens, the provincial center's share of certificates delivered by
post, the on-time rates and the time of each stage against its limit, and the reconciliations.

Every number that is not data — trips per item, travel cost per trip by zone, delivery time
limits, which lines are certificates — is an assumption, printed with the report. The defaults
are illustrative: give your own with --assumptions, a TOML file of govpost.reports.Assumptions
in the wire format (written by govpost.serialization.to_toml(Assumptions(...))).

Items are judged late against their time limits as of the end of the period, so that a past
period reports the same whenever it is run; --as-of gives another moment (for a period still
running, now). The store's keys are needed: applications and shipments are encrypted.

PERIOD is 2018 (a year), 2018-Q2 (a quarter) or 2018-06 (a month). --chart draws four charts
(items per month by line, postage per month by settlement mode, delivery time against its
limit, centers by mode and level) on one PNG; it needs matplotlib (pip install
'govpost[charts]'), and falls back to English labels, with a warning saying which, when no
Chinese font is installed (--font gives one).

\b
Examples:
  govpost report --period 2018
  govpost report --period 2018 --chart report-2018.png
  govpost report --period 2018-Q2 --json
  govpost report --period 2018 --csv --encoding gbk > report-2018.csv
  govpost report --period 2018 --assumptions survey-2018.toml

Exit status: 0 reported; 1 the store failed; 2 a bad option, an unreadable or malformed
assumptions file, a chart that cannot be drawn or written (no matplotlib, a bad font).
"""


@click.command("report", help=_HELP, short_help="Report the cooperation's KPIs for a period.")
@db_option
@keys_option
@click.option("--period", required=True, type=PERIOD, metavar="PERIOD", help="The period reported.")
@click.option(
    "--assumptions",
    "assumptions_path",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    metavar="FILE.toml",
    help="The report's assumptions (trip rule, time limits, certificate lines) as TOML.",
)
@click.option(
    "--as-of",
    type=click.DateTime(formats=["%Y-%m-%d", "%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M"]),
    metavar="DATE[THH:MM]",
    help="Judge unfinished items late as of this moment, Beijing time [default: the end of "
    "the period].",
)
@csv_options(("utf-8-sig", "gbk"))
@json_option
@click.option(
    "--chart",
    "chart_path",
    type=click.Path(dir_okay=False, path_type=Path),
    metavar="FILE.png",
    help="Also draw the report's charts on one PNG.",
)
@click.option(
    "--font",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    metavar="FILE",
    help="A font file with Chinese characters for the chart's labels (.ttf, .otf, .ttc).",
)
def report_command(
    db_url: str,
    keys_text: str | None,
    period: Period,
    assumptions_path: Path | None,
    as_of: datetime | None,
    as_csv: bool,
    encoding: str,
    as_json: bool,
    chart_path: Path | None,
    font: Path | None,
) -> ExitCode:
    """Print the KPI report of ``period`` (and draw its charts with ``--chart``)."""
    from govpost.reports import report_from_store

    if as_json and as_csv:
        raise bad_input("--json and --csv both ask for stdout: give one of them")
    if font is not None and chart_path is None:
        raise bad_input("--font is the chart's font: give --chart FILE.png too")
    assumptions = _assumptions(assumptions_path)
    moment = None if as_of is None else as_of.replace(tzinfo=SHANGHAI)
    needs = "reading applications and shipments for the report"
    shown = progress_wanted(as_json or as_csv)
    with (
        opened_store(db_url, keys_text, keys_needed_for=needs) as store,
        progress(f"reading {period} from the store", enabled=shown, unit=None),
    ):
        report = report_from_store(store, period, assumptions=assumptions, as_of=moment)
    if chart_path is not None:
        _chart(report, chart_path, font)
    if as_json:
        click.echo(report.to_json(indent=2))
    elif as_csv:
        write_bytes(report.to_csv(encoding=encoding.lower()))
    else:
        click.echo(report.to_table())
    if chart_path is not None and not as_json:
        click.echo(f"charts drawn on {chart_path}", err=True)
    return ExitCode.OK
