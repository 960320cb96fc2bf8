"""What the subcommands share: exit codes, errors, options, the store, output, progress (private).

Every subcommand returns its :class:`ExitCode`; errors it knows are raised as
:class:`CommandError` (or a click usage error for a bad option), and govpost's own errors are
classed by :func:`exit_code_of`. The group (:mod:`govpost.cli._app`) turns each into one line
on stderr.
"""

from __future__ import annotations

import enum
import json
import os
import sys
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any, TypeVar

import click

from govpost.errors import (
    DeserializationError,
    GovpostError,
    UnknownCarrierError,
    ValidationError,
)
from govpost.periods import Period

if TYPE_CHECKING:
    from sqlalchemy.engine import URL

    from govpost.store import KeyRing, Store

__all__ = [
    "DB_VARIABLE",
    "DEFAULT_DB",
    "KEYS_VARIABLE",
    "PERIOD",
    "CommandError",
    "ExitCode",
    "Mapping",
    "Run",
    "bad_input",
    "counted",
    "csv_options",
    "db_option",
    "exit_code_of",
    "finding",
    "json_option",
    "key_ring",
    "keys_option",
    "opened_store",
    "print_json",
    "progress",
    "progress_wanted",
    "store_url",
    "wire",
    "write_bytes",
    "write_csv",
]

T = TypeVar("T")
F = TypeVar("F", bound=Callable[..., Any])

#: The environment variable holding the store's URL (``--db``).
DB_VARIABLE = "GOVPOST_DB"
#: The store every command opens when neither ``--db`` nor :data:`DB_VARIABLE` says otherwise.
DEFAULT_DB = "sqlite:///govpost.db"
#: The environment variable holding the store's keys (as :meth:`KeyRing.from_env` reads it).
KEYS_VARIABLE = "GOVPOST_STORE_KEYS"


class ExitCode(enum.IntEnum):
    """The exit status of the ``govpost`` command.

    ``0`` ok; ``1`` a finding (reconciliation discrepancies, a saved statement that differs,
    a carrier's or the store's refusal); ``2`` bad input (a bad option or value, an unreadable
    file, an unknown agreement or carrier); ``70`` an internal error — a bug in govpost
    (``EX_SOFTWARE`` of BSD's ``sysexits.h``); ``130`` interrupted (Ctrl-C); ``141`` the
    output was closed early (a pipe into ``head``).

    .. versionadded:: 0.2.0
    """

    OK = 0
    FINDING = 1
    BAD_INPUT = 2
    INTERNAL_ERROR = 70
    INTERRUPTED = 130
    BROKEN_PIPE = 141


class CommandError(Exception):
    """An error a subcommand reports in one line, with the exit code it ends with.

    Args:
        message: what was wrong and how to fix it.
        code: the exit code.
    """

    def __init__(self, message: str, code: ExitCode) -> None:
        super().__init__(message)
        self.code = code


class Run:
    """What the callbacks of the groups learn of a run, read when the run ends in an error.

    Attributes:
        debug: ``--debug`` was given.
        command: the command being run, as errors name it (``"govpost db upgrade"``).
    """

    def __init__(self) -> None:
        self.debug = False
        self.command = "govpost"

    @classmethod
    def named(cls, ctx: click.Context) -> None:
        """Record the subcommand ``ctx``'s group is about to run."""
        run = ctx.find_object(cls)
        if run is not None and ctx.invoked_subcommand is not None:
            run.command = f"{ctx.command_path} {ctx.invoked_subcommand}"


def bad_input(message: str) -> CommandError:
    """A :class:`CommandError` for input the command cannot use (exit 2)."""
    return CommandError(message, ExitCode.BAD_INPUT)


def finding(message: str) -> CommandError:
    """A :class:`CommandError` for something found that stops the command (exit 1)."""
    return CommandError(message, ExitCode.FINDING)


def exit_code_of(error: GovpostError) -> ExitCode:
    """The exit code of a govpost error: bad input for a value govpost refused (a validation
    or deserialization error, an unknown carrier), a finding for the rest (the store, the
    carrier or the settlement refused)."""
    if isinstance(error, ValidationError | DeserializationError | UnknownCarrierError):
        return ExitCode.BAD_INPUT
    return ExitCode.FINDING


# --- option types -------------------------------------------------------------------------------

# click's ParamType is generic in the type it converts to since click 8.5; older clicks (8.1 is
# supported) cannot subscript it at run time.
if TYPE_CHECKING:
    _PeriodParam = click.ParamType[Period]
    _PairParam = click.ParamType[tuple[str, Any]]
else:
    _PeriodParam = _PairParam = click.ParamType


class _PeriodType(_PeriodParam):
    """A settlement period: ``2018-06`` (month), ``2018-Q2`` (quarter) or ``2018`` (year)."""

    name = "period"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        if isinstance(value, Period):
            return value
        try:
            return Period.parse(value)
        except ValidationError as error:
            self.fail(str(error), param, ctx)


class Mapping(_PairParam):
    """``KEY=VALUE`` as a ``(key, value)`` pair; with ``typed=True``, ``KEY:=JSON`` too.

    Values are never shown in errors: they may be secrets (a carrier's key).
    """

    name = "key=value"

    def __init__(self, *, typed: bool = False) -> None:
        self.typed = typed

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        if isinstance(value, tuple):
            return value
        key, equals, text = str(value).partition("=")
        if not equals or not key.strip():
            how = "KEY=VALUE (or KEY:=JSON for a number, true/false or a list)"
            self.fail(
                f"an item without a key and '=' (the value is not shown): write {how}"
                if self.typed
                else "an item without a key and '=': write KEY=VALUE",
                param,
                ctx,
            )
        key = key.strip()
        if self.typed and key.endswith(":"):
            key = key[:-1].strip()
            try:
                return key, json.loads(text)
            except ValueError:
                self.fail(
                    f"the value of {key!r} after ':=' is not JSON (the value is not shown): write "
                    f"{key}:=10 for a number, {key}:=true for a flag, or {key}=text for text",
                    param,
                    ctx,
                )
        if self.typed and not key.isidentifier():
            self.fail(f"{key!r} is not a keyword argument name", param, ctx)
        return key, text


#: The type of every ``--period`` option.
PERIOD = _PeriodType()


# --- options ------------------------------------------------------------------------------------


def db_option(function: F) -> F:
    """``--db URL``, from :data:`DB_VARIABLE` by default, else :data:`DEFAULT_DB`."""
    return click.option(
        "--db",
        "db_url",
        metavar="URL",
        envvar=DB_VARIABLE,
        show_envvar=True,
        default=DEFAULT_DB,
        show_default=True,
        help=(
            "The store's database URL: sqlite:///PATH.db, "
            "postgresql+psycopg://USER@HOST:5432/DB or mysql+pymysql://USER@HOST:3306/DB."
        ),
    )(function)


def keys_option(function: F) -> F:
    """``--keys KEYS``: the store's key ring, else :data:`KEYS_VARIABLE`."""
    return click.option(
        "--keys",
        "keys_text",
        metavar="KEYS",
        help=(
            f"The store's encryption keys as ID=ALGORITHM:HEX entries, the active key first "
            f"(k1=sm4-gcm:<32 hex digits>). Without it, the keys are read from "
            f"{KEYS_VARIABLE}; prefer that variable, since a key on the command line is "
            f"visible to other users in the process list and stays in the shell's history."
        ),
    )(function)


def csv_options(
    encodings: tuple[str, ...] = ("utf-8-sig", "utf-8", "gbk"),
) -> Callable[[F], F]:
    """``--csv`` and ``--encoding`` (one of ``encodings``, the first the default): UTF-8 with
    the BOM spreadsheets look for, plain UTF-8, GBK for older Chinese spreadsheet software."""
    words = {
        "utf-8-sig": "utf-8-sig (UTF-8 with a BOM, which spreadsheets read correctly)",
        "utf-8": "utf-8",
        "gbk": "gbk (older spreadsheet software set to Chinese)",
    }

    def decorate(function: F) -> F:
        function = click.option(
            "--encoding",
            type=click.Choice(encodings, case_sensitive=False),
            default=encodings[0],
            show_default=True,
            help=f"The encoding of --csv output: {', '.join(words[e] for e in encodings)}.",
        )(function)
        return click.option(
            "--csv", "as_csv", is_flag=True, help="Print CSV on stdout instead of a table."
        )(function)

    return decorate


def json_option(function: F) -> F:
    """``--json``: one JSON document on stdout, no progress display."""
    return click.option(
        "--json",
        "as_json",
        is_flag=True,
        help="Print one JSON document on stdout, for scripts (no progress display).",
    )(function)


# --- the store ----------------------------------------------------------------------------------


def store_url(text: str, *, must_exist: bool) -> URL:
    """The store's URL, checked before anything is opened.

    Args:
        text: the ``--db`` value.
        must_exist: refuse a SQLite file that does not exist (a command that reads would
            otherwise create an empty store under a mistyped name).

    Raises:
        click.BadParameter: not a database URL, or a SQLite file that is not there.
    """
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

    try:
        url = make_url(text.strip())
    except (ArgumentError, ValueError) as error:
        # The text is not shown: it may hold a password.
        raise click.BadParameter(
            "not a database URL (it is not shown: it may hold a password): give one such as "
            "sqlite:///govpost.db or postgresql+psycopg://USER@HOST:5432/DB",
            param_hint="'--db'",
        ) from error
    database = url.database or ""
    if (
        must_exist
        and url.get_backend_name() == "sqlite"
        and database not in ("", ":memory:")
        and not database.startswith("file:")
        and not Path(database).exists()
    ):
        raise click.BadParameter(
            f"there is no store at {database} ({DB_VARIABLE} or --db): check the path; "
            f"'govpost db upgrade --db {url.render_as_string(hide_password=True)}' creates a "
            f"new store",
            param_hint="'--db'",
        )
    return url


def key_ring(text: str | None) -> KeyRing | None:
    """The key ring of ``--keys``, else of :data:`KEYS_VARIABLE`, else ``None``.

    Raises:
        click.BadParameter: ``--keys`` is not a key ring (its secrets are never shown).
        ValidationError: the variable's text is not a key ring.
    """
    from govpost.store import KeyRing

    if text is not None:
        try:
            return KeyRing.parse(text)
        except ValidationError as error:
            raise click.BadParameter(str(error), param_hint="'--keys'") from error
    if os.environ.get(KEYS_VARIABLE) is not None:
        return KeyRing.from_env(KEYS_VARIABLE)
    return None


@contextmanager
def opened_store(
    url_text: str,
    keys_text: str | None,
    *,
    must_exist: bool = True,
    keys_needed_for: str | None = None,
) -> Iterator[Store]:
    """The store at ``url_text`` with the keys given, closed at the end of the block.

    Args:
        url_text: the ``--db`` value.
        keys_text: the ``--keys`` value.
        must_exist: refuse a SQLite file that is not there.
        keys_needed_for: what needs the keys (``"reading tracking events"``): without keys,
            the command is refused before the store is opened.

    Raises:
        click.BadParameter: a bad URL or keys; no SQLite file there (``must_exist``).
        CommandError: no keys, and ``keys_needed_for`` says they are needed (exit 2).
        StoreError: the store could not be opened.
    """
    from govpost.store import open_store

    url = store_url(url_text, must_exist=must_exist)
    keys = key_ring(keys_text)
    if keys is None and keys_needed_for is not None:
        raise bad_input(
            f"{keys_needed_for} needs the store's keys (personal data is encrypted in the "
            f"store): set {KEYS_VARIABLE} or give --keys"
        )
    with open_store(url, keys=keys) as store:
        yield store


# --- output -------------------------------------------------------------------------------------


def wire(model: object) -> Any:
    """``model`` in govpost's wire format, as JSON values (amounts stay strings)."""
    from govpost.serialization import to_json

    return json.loads(to_json(model))


def print_json(document: object) -> None:
    """Print ``document`` as one JSON document on stdout (UTF-8, not ASCII-escaped)."""
    click.echo(json.dumps(document, ensure_ascii=False, indent=2))


def write_csv(text: str, encoding: str) -> None:
    """Write CSV ``text`` to stdout as bytes in ``encoding`` (``utf-8-sig`` writes the BOM that
    spreadsheets look for); line ends are kept as the CSV writer made them.

    Raises:
        CommandError: the text holds a character ``encoding`` cannot write (exit 2).
    """
    try:
        data = text.encode(encoding)
    except UnicodeEncodeError as error:
        raise bad_input(
            f"the CSV holds a character {encoding} cannot write ({error.object[error.start]!r} "
            f"at position {error.start}): use --encoding utf-8-sig"
        ) from error
    write_bytes(data)


def write_bytes(data: bytes) -> None:
    """Write ``data`` to stdout as they are (after whatever text was written before)."""
    sys.stdout.flush()
    sys.stdout.buffer.write(data)
    sys.stdout.buffer.flush()


# --- progress -----------------------------------------------------------------------------------


def progress_wanted(as_json: bool, stream: IO[str] | None = None) -> bool:
    """Whether to show progress: never with ``--json``, and only when ``stream`` (stderr, where
    progress is drawn) is a terminal."""
    if as_json:
        return False
    target = sys.stderr if stream is None else stream
    isatty = getattr(target, "isatty", None)
    return bool(callable(isatty) and isatty())


@contextmanager
def progress(
    description: str, *, enabled: bool, unit: str | None = "rows"
) -> Iterator[Callable[[int], None]]:
    """A spinner on stderr while the block runs, with a running count of ``unit`` (when
    ``enabled``; no count when ``unit`` is ``None``).

    Yields a function that adds to the count; it does nothing when progress is not shown. The
    display is removed when the block ends.
    """
    if not enabled:
        yield _ignore
        return
    from rich.console import Console
    from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

    count = () if unit is None else (TextColumn(f"{{task.completed:,}} {unit}"),)
    columns = (SpinnerColumn(), TextColumn("{task.description}"), *count, TimeElapsedColumn())
    with Progress(*columns, console=Console(stderr=True), transient=True) as display:
        task = display.add_task(description, total=None)
        yield lambda count: display.advance(task, count)


def _ignore(count: int) -> None:
    """Progress that is not shown."""


def counted(items: Iterable[T], advance: Callable[[int], None], *, every: int = 500) -> Iterator[T]:
    """``items``, reporting to ``advance`` every ``every`` items (and the rest at the end)."""
    count = 0
    for item in items:
        yield item
        count += 1
        if count == every:
            advance(count)
            count = 0
    if count:
        advance(count)
