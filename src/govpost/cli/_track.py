"""``govpost track WAYBILL``: a waybill's tracking events, from its carrier or the store (private)."""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from govpost.cli._shared import (
    KEYS_VARIABLE,
    ExitCode,
    Mapping,
    bad_input,
    db_option,
    json_option,
    keys_option,
    opened_store,
    print_json,
)
from govpost.periods import SHANGHAI

if TYPE_CHECKING:
    from govpost.identifiers import TrackingNumber
    from govpost.shipments import Shipment, TrackingEvent

__all__ = ["track_command"]

#: The carrier asked when ``--carrier`` is not given.
DEFAULT_CARRIER = "sandbox"


def _config(file: Path | None, items: tuple[tuple[str, Any], ...]) -> dict[str, Any]:
    """The adapter's keyword arguments: the TOML file's table, then each ``--config`` item."""
    config: dict[str, Any] = {}
    if file is not None:
        try:
            with file.open("rb") as handle:
                config.update(tomllib.load(handle))
        except tomllib.TOMLDecodeError as error:
            raise bad_input(f"--config-file {file} is not TOML: {error}") from error
        except OSError as error:
            raise bad_input(f"cannot read --config-file {file}: {error.strerror}") from error
    config.update(items)
    return config


def _from_carrier(
    name: str, config: dict[str, Any], number: TrackingNumber
) -> tuple[TrackingEvent, ...]:
    """The events the carrier ``name`` reports for ``number``."""
    from govpost import carriers

    carrier = carriers.load(name, **config)
    try:
        if carriers.Capability.TRACK not in carrier.capabilities:
            offered = ", ".join(sorted(c.value for c in carrier.capabilities)) or "nothing"
            raise bad_input(
                f"carrier {name!r} cannot track waybills (it offers {offered}): choose a "
                f"carrier that does with --carrier"
            )
        return carriers.require(carrier, carriers.Capability.TRACK).track(number)
    finally:
        close = getattr(carrier, "close", None)
        if callable(close):
            close()


def _time(event: TrackingEvent) -> str:
    return event.occurred_at.astimezone(SHANGHAI).strftime("%Y-%m-%d %H:%M")


def _what(event: TrackingEvent) -> str:
    if event.revokes is not None:
        return f"撤销 revokes {event.revokes}"
    return f"{event.status.label} {event.status.value}"


def _description(event: TrackingEvent) -> str | None:
    """The carrier's text, numbers that look personal masked (it may name the signer)."""
    from govpost.privacy import scrub

    return None if event.description is None else scrub(event.description)


def _event_document(event: TrackingEvent, descriptions: bool) -> dict[str, Any]:
    document: dict[str, Any] = {
        "event_id": event.event_id,
        "occurred_at": event.occurred_at.isoformat(),
        "status": event.status.value,
        "status_label": event.status.label,
        "location": event.location,
        "carrier_code": event.carrier_code,
        "revokes": event.revokes,
    }
    if descriptions:
        document["description"] = _description(event)
    return document


def _table(events: tuple[TrackingEvent, ...], descriptions: bool) -> str:
    from govpost.settlement.documents import render_table

    headers = ["时间 Time (UTC+8)", "状态 Status", "地点 Location", "代码 Code"]
    if descriptions:
        headers.append("说明 Description")
    rows = []
    for event in events:
        row = [_time(event), _what(event), event.location or "", event.carrier_code or ""]
        if descriptions:
            row.append(_description(event) or "")
        rows.append(row)
    return render_table(headers, rows)


_HELP = f"""Show the tracking events of a waybill: asked of its carrier, or read from the store.

The carrier adapter is loaded by name (--carrier, default {DEFAULT_CARRIER}) with the keyword
arguments of --config-file (a TOML table) and of each --config KEY=VALUE (text; KEY:=JSON for
a number, true/false or a list). Keep credentials in the file rather than on the command line,
where other users see them in the process list.

The sandbox carrier only knows the waybills it booked in the same process: a waybill booked by
an earlier run (the demo's) is tracked from the store with --from-store, which reads the events
the service has ingested (it needs the store's keys: --keys or {KEYS_VARIABLE}).

Times are Beijing time (UTC+8). The carrier's free text can name the person who signed, so it
is shown only with --descriptions (personal numbers in it masked).

\b
Examples:
  govpost track EA123456785CN --carrier ems --config-file ems.toml
  govpost track 1012345678501 --carrier ems --config-file ems.toml --config timeout:=20
  govpost track EA520180614CN --from-store --db sqlite:///govpost.db --json

Exit status: 0 the events were shown (none yet is not an error); 1 the carrier refused (its
error code is shown) or the store failed; 2 a bad waybill number, carrier name or config.
"""


@click.command("track", help=_HELP, short_help="Show a waybill's tracking events.")
@click.argument("waybill")
@click.option(
    "--carrier",
    "carrier_name",
    metavar="NAME",
    help=f"The carrier adapter to ask: sandbox, ems, or the name a plug-in registers "
    f"[default: {DEFAULT_CARRIER}]; with --from-store, only this carrier's events.",
)
@click.option(
    "--config",
    "config_items",
    multiple=True,
    type=Mapping(typed=True),
    metavar="KEY=VALUE",
    help="A keyword argument of the adapter (repeatable); KEY:=JSON for a typed value.",
)
@click.option(
    "--config-file",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    metavar="FILE",
    help="A TOML file of the adapter's keyword arguments (--config items override it).",
)
@click.option(
    "--from-store",
    is_flag=True,
    help="Read the events the store holds for the waybill instead of asking the carrier.",
)
@db_option
@keys_option
@click.option(
    "--descriptions",
    is_flag=True,
    help="Also show the carrier's free text of each event (it may name the signer).",
)
@json_option
def track_command(
    waybill: str,
    carrier_name: str | None,
    config_items: tuple[tuple[str, Any], ...],
    config_file: Path | None,
    from_store: bool,
    db_url: str,
    keys_text: str | None,
    descriptions: bool,
    as_json: bool,
) -> ExitCode:
    """Print the tracking events of ``waybill`` as a table (or JSON)."""
    from govpost.identifiers import TrackingNumber

    number = TrackingNumber.parse_any(waybill)
    shipment: Shipment | None = None
    if from_store:
        if config_items or config_file is not None:
            raise bad_input("--config and --config-file configure a carrier: not with --from-store")
        with opened_store(db_url, keys_text, keys_needed_for="reading tracking events") as store:
            shipment = store.shipments.by_tracking_number(str(number))
            events = store.events.for_waybill(str(number), carrier_name)
        source = "store"
    else:
        config = _config(config_file, config_items)
        events = _from_carrier(carrier_name or DEFAULT_CARRIER, config, number)
        source = carrier_name or DEFAULT_CARRIER
    events = tuple(sorted(events, key=lambda e: (e.occurred_at, e.event_id)))
    if as_json:
        document: dict[str, Any] = {
            "waybill": str(number),
            "source": source,
            "events": [_event_document(event, descriptions) for event in events],
        }
        if from_store:
            document["shipment"] = None if shipment is None else _shipment_document(shipment)
        print_json(document)
        return ExitCode.OK
    click.echo(_heading(number, source, len(events), shipment, from_store))
    if events:
        click.echo(_table(events, descriptions))
    return ExitCode.OK


def _shipment_document(shipment: Shipment) -> dict[str, Any]:
    """What the store says of the shipment, without its recipient."""
    return {
        "id": shipment.id,
        "center": shipment.center,
        "status": shipment.status.value,
        "status_label": shipment.status.label,
    }


def _heading(
    number: TrackingNumber,
    source: str,
    count: int,
    shipment: Shipment | None,
    from_store: bool,
) -> str:
    where = "in the store" if from_store else f"from {source}"
    events = f"{count} event{'' if count == 1 else 's'}" if count else "no events yet"
    line = f"{number}: {events} {where}"
    if from_store:
        if shipment is None:
            line += "; no shipment in the store carries this waybill"
        else:
            line += (
                f"; shipment {shipment.id} of {shipment.center}, now {shipment.status.label} "
                f"{shipment.status.value}"
            )
    return line
