"""The ``govpost`` group: its options, the subcommands, and how errors end the command (private)."""

from __future__ import annotations

import os
import sys
import traceback
import warnings
from collections.abc import Sequence
from typing import Any, TextIO

import click

from govpost.cli._db import db
from govpost.cli._reconcile import reconcile_command
from govpost.cli._report import report_command
from govpost.cli._settle import settle_command
from govpost.cli._shared import (
    DB_VARIABLE,
    KEYS_VARIABLE,
    CommandError,
    ExitCode,
    Run,
    exit_code_of,
)
from govpost.cli._track import track_command
from govpost.cli._validate import validate_command
from govpost.errors import CarrierError, GovpostError

__all__ = ["main"]

#: The environment variable that turns ``--debug`` on.
DEBUG_VARIABLE = "GOVPOST_DEBUG"


def _one_line(text: str) -> str:
    """``text`` on one line: its lines joined with a space."""
    return " ".join(line.strip() for line in text.splitlines() if line.strip())


def _short_internal(error: BaseException) -> str:
    """An unexpected exception in a few words, personal data masked (it was never meant to be
    shown, so nothing vouches for what it holds)."""
    from govpost.privacy import scrub

    words = _one_line(scrub(str(error)))
    if len(words) > 200:
        words = words[:199] + "…"
    return f"{type(error).__name__}: {words}" if words else type(error).__name__


class _Group(click.Group):
    """A click group whose :meth:`main` ends every run with one of :class:`ExitCode`, an error
    on one line of stderr, and a traceback only with ``--debug``."""

    def main(
        self,
        args: Sequence[str] | None = None,
        prog_name: str | None = None,
        complete_var: str | None = None,
        standalone_mode: bool = True,
        **extra: Any,
    ) -> Any:
        """Run the command and exit with its code (with ``standalone_mode=False``, click's own
        behaviour: return the result, let errors propagate)."""
        if not standalone_mode:
            return super().main(args, prog_name, complete_var, standalone_mode=False, **extra)
        run = Run()
        extra.setdefault("obj", run)
        with warnings.catch_warnings():
            _warn_in_one_line(run)
            try:
                result = super().main(args, prog_name, complete_var, standalone_mode=False, **extra)
            except SystemExit:
                raise
            except BaseException as error:  # every way a run can end is reported below
                code: int = _report(error, run)
            else:
                code = result if isinstance(result, int) else ExitCode.OK
        sys.exit(int(code))


def _warn_in_one_line(run: Run) -> None:
    """Show each warning of the run as one line on stderr, as Python filters them by default
    (each once per place, deprecations hidden), whatever filters the caller set."""

    def show(
        message: Warning | str,
        category: type[Warning],
        filename: str,
        lineno: int,
        file: TextIO | None = None,
        line: str | None = None,
    ) -> None:
        click.echo(f"{run.command}: warning: {_one_line(str(message))}", err=True)

    warnings.showwarning = show
    warnings.simplefilter("default")
    for category in (DeprecationWarning, PendingDeprecationWarning, ImportWarning, ResourceWarning):
        warnings.filterwarnings("ignore", category=category)


def _report(error: BaseException, run: Run) -> ExitCode:
    """Say on one line of stderr how the run ended, and return its exit code."""
    if isinstance(error, BrokenPipeError):
        # Whoever read the output stopped reading (``| head``): nothing more can be said there.
        _silence_stdout()
        return ExitCode.BROKEN_PIPE
    if isinstance(error, click.exceptions.NoArgsIsHelpError):
        error.show()
        return ExitCode.BAD_INPUT
    if run.debug and not isinstance(error, click.exceptions.Abort | KeyboardInterrupt):
        click.echo("".join(traceback.format_exception(error)).rstrip(), err=True)
    if isinstance(error, click.exceptions.Abort | KeyboardInterrupt):
        message, code = "interrupted", ExitCode.INTERRUPTED
    elif isinstance(error, click.ClickException):
        message, code = error.format_message(), ExitCode.BAD_INPUT
        context = getattr(error, "ctx", None)
        if isinstance(context, click.Context):
            run.command = context.command_path
            message = f"{message.rstrip('.')} (see '{context.command_path} --help')"
    elif isinstance(error, CommandError):
        message, code = str(error), error.code
    elif isinstance(error, CarrierError):
        message, code = _carrier_message(error), exit_code_of(error)
    elif isinstance(error, GovpostError):
        message, code = str(error), exit_code_of(error)
    else:
        how = "" if run.debug else "; run with --debug for the traceback"
        message = (
            f"internal error: {_short_internal(error)} (a bug in govpost{how}, please report it)"
        )
        code = ExitCode.INTERNAL_ERROR
    click.echo(f"{run.command}: error: {_one_line(message)}", err=True)
    return code


def _carrier_message(error: CarrierError) -> str:
    """A carrier's error with its code, and whether trying again may help."""
    code = f"[{error.code}] " if error.code else ""
    again = " (temporary: trying again later may succeed)" if error.retryable else ""
    return f"carrier error {code}{error}{again}"


def _silence_stdout() -> None:
    """Point stdout at the null device, so that flushing it at exit raises nothing more."""
    try:
        null = os.open(os.devnull, os.O_WRONLY)
        try:
            os.dup2(null, sys.stdout.fileno())
        finally:
            os.close(null)
    except (OSError, ValueError):  # not a real file (a test runner's buffer)
        pass


_HELP = f"""Government–postal cooperation (政邮合作) from the command line.

Settle a month of postage under a fee agreement, reconcile the carrier's bill, report the
cooperation's figures, track a waybill, validate identifiers, and keep the store's schema up to
date. Every command that reads or writes data works on a store given by --db (or
{DB_VARIABLE}; default sqlite:///govpost.db).

\b
Examples:
  govpost validate waybill "EA 123 456 785 CN"
  govpost db upgrade --db sqlite:///govpost.db
  govpost settle --agreement GZ-EMS-2018 --period 2018-06
  govpost reconcile --agreement GZ-EMS-2018 --period 2018-06 --bill ems-2018-06.csv
  govpost report --period 2018 --chart report.png
  govpost track EA123456785CN --carrier ems --config-file ems.toml

\b
Exit status:
  0    ok
  1    a finding: reconciliation discrepancies, a saved statement that
       differs, a store or carrier that refused
  2    bad input: a bad option or value, an unreadable file, an unknown
       agreement or carrier
  70   internal error (a bug in govpost: run with --debug, please report it)
  130  interrupted
  141  the output was closed early (a pipe into head)

\b
Environment:
  {DB_VARIABLE}           the store's URL (--db)
  {KEYS_VARIABLE}   the store's encryption keys (--keys)
  {DEBUG_VARIABLE}        1 turns --debug on

Errors are one line on stderr, never a traceback unless --debug is given. --json prints
exactly one JSON document on stdout; progress is shown on a terminal only, never with --json.
"""


@click.group(
    "govpost",
    cls=_Group,
    help=_HELP,
    context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100},
)
@click.version_option(package_name="govpost", prog_name="govpost", message="%(prog)s %(version)s")
@click.option(
    "--debug",
    is_flag=True,
    envvar=DEBUG_VARIABLE,
    help="On an error, print the traceback before the one-line message.",
)
@click.pass_context
def main(ctx: click.Context, debug: bool) -> None:
    """The ``govpost`` command (see the help text above)."""
    ctx.ensure_object(Run).debug = debug
    Run.named(ctx)


main.add_command(validate_command)
main.add_command(track_command)
main.add_command(db)
main.add_command(settle_command)
main.add_command(reconcile_command)
main.add_command(report_command)
