"""``govpost db upgrade`` and ``govpost db version``: the store's schema (private)."""

from __future__ import annotations

import click

from govpost.cli._shared import (
    ExitCode,
    Run,
    db_option,
    json_option,
    print_json,
    progress,
    progress_wanted,
    store_url,
)

__all__ = ["db"]


@click.group(
    "db",
    short_help="See or upgrade the store's schema version.",
    help="""The store's schema: see its version (govpost db version), bring it to this govpost's
(govpost db upgrade).

\b
Examples:
  govpost db version --db sqlite:///govpost.db
  govpost db upgrade --db postgresql+psycopg://govpost@db.example:5432/govpost
""",
)
@click.pass_context
def db(ctx: click.Context) -> None:
    """The ``db`` group."""
    Run.named(ctx)


@db.command(
    "upgrade",
    short_help="Migrate the store to this govpost's schema.",
    help="""Migrate the store's schema to this govpost's version (or --to an earlier one).

An empty database gets the whole schema; a store already at the version is left alone. Back
the database up first: govpost never downgrades a store (going back is restoring the backup).
On SQLite and PostgreSQL a failed upgrade changes nothing; MySQL/MariaDB keep the migrations
before the one that failed.

Prints the version before and after (none: the database was empty).

\b
Examples:
  govpost db upgrade --db sqlite:///govpost.db          # none → 0002 (created)
  govpost db upgrade --json

Exit status: 0 upgraded or already current; 1 the store refused (a newer schema, a failed
migration, an unreachable server, --to naming no version of this govpost); 2 a bad URL.
""",
)
@db_option
@click.option(
    "--to",
    "target",
    default="head",
    show_default=True,
    metavar="VERSION",
    help="The schema version to reach: head (this govpost's) or an earlier id.",
)
@json_option
def upgrade_command(db_url: str, target: str, as_json: bool) -> ExitCode:
    """Migrate the store at ``db_url`` and print the versions before and after."""
    from govpost.store import upgrade

    url = store_url(db_url, must_exist=False)
    with progress("upgrading the schema", enabled=progress_wanted(as_json), unit=None):
        before, after = upgrade(url, to=target)
    if as_json:
        print_json({"before": before, "after": after, "changed": before != after})
    elif before == after:
        click.echo(f"schema {after}: already current, nothing to do")
    else:
        what = "created" if before is None else "upgraded"
        click.echo(f"schema {before or 'none'} → {after} ({what})")
    return ExitCode.OK


@db.command(
    "version",
    short_help="Print the store's schema version.",
    help="""Print the store's schema version and whether this govpost can use it as it is.

Reading the version changes nothing.

\b
Examples:
  govpost db version --db sqlite:///govpost.db          # 0002 (current)
  govpost db version --json

Exit status: 0 the store is at this govpost's version, or empty (the first command that opens
it creates the schema); 1 it is at another version (run govpost db upgrade; a version this
govpost does not know was written by a newer govpost); 2 a bad URL, or no SQLite file there.
""",
)
@db_option
@json_option
def version_command(db_url: str, as_json: bool) -> ExitCode:
    """Print the schema version of the store at ``db_url``."""
    from govpost.store import HEAD, schema_version

    version = schema_version(store_url(db_url, must_exist=True))
    current = version in (None, HEAD)
    if as_json:
        print_json({"version": version, "head": HEAD, "current": current})
    elif version is None:
        click.echo(f"none: an empty database (this govpost creates schema {HEAD} in it)")
    elif version == HEAD:
        click.echo(f"{version} (current)")
    else:
        click.echo(
            f"{version}: this govpost uses {HEAD}; back the database up, then run "
            f"govpost db upgrade (a version this govpost does not know was written by a newer "
            f"govpost: upgrade govpost instead)"
        )
    return ExitCode.OK if current else ExitCode.FINDING
