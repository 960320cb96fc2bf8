"""``govpost validate KIND VALUE``: check an identifier and print its normalised form (private)."""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import Any

import click

from govpost.cli._shared import ExitCode, bad_input, json_option, print_json

__all__ = ["KINDS", "validate_command"]

#: The kinds of value ``validate`` checks; ``id`` and ``mobile`` are personal data.
KINDS = ("waybill", "id", "uscc", "division", "mobile")
_PERSONAL = frozenset({"id", "mobile"})


def _waybill(value: str) -> tuple[str, str, dict[str, Any]]:
    from govpost.identifiers import TrackingNumber

    number = TrackingNumber.parse_any(value)
    if number.is_domestic:
        details: dict[str, Any] = {"scheme": "domestic", "serial": number.serial}
        words = "domestic EMS waybill number (13 digits)"
    else:
        details = {
            "scheme": "s10",
            "service": number.service,
            "serial": number.serial,
            "check_digit": number.check_digit,
            "country": number.country,
        }
        words = (
            f"UPU S10 number: service {number.service}, serial {number.serial}, check digit "
            f"{number.check_digit}, country {number.country}"
        )
    return str(number), words, details


def _id_number(value: str) -> tuple[str, str, dict[str, Any]]:
    from govpost.identifiers import validate_id_number
    from govpost.regions import Division

    number = validate_id_number(value)
    region = Division.parse(number[:6])
    words = f"resident ID number (GB 11643), registered in {region.code} {region.name}"
    return number, words, {"region": region.code, "region_name": region.name}


def _mobile(value: str) -> tuple[str, str, dict[str, Any]]:
    from govpost.identifiers import validate_mobile

    return validate_mobile(value), "mainland China mobile number", {}


def _uscc(value: str) -> tuple[str, str, dict[str, Any]]:
    from govpost.identifiers import validate_uscc

    return validate_uscc(value), "unified social credit code (GB 32100)", {}


def _division(value: str) -> tuple[str, str, dict[str, Any]]:
    from govpost.regions import Division

    division = Division.parse(value)
    city = division.city
    details: dict[str, Any] = {
        "name": division.name,
        "level": division.level.value,
        "province": division.province.code,
        "city": None if city is None else city.code,
        "active": division.active,
        "former_names": list(division.former_names),
    }
    words = f"{division.name}, {division.level.value} level"
    if division.province != division:
        words += f", in {division.province.name}"
    if not division.active:
        words += " (abolished: no longer in use)"
    return division.code, words, details


_CHECKS: dict[str, Callable[[str], tuple[str, str, dict[str, Any]]]] = {
    "waybill": _waybill,
    "id": _id_number,
    "uscc": _uscc,
    "division": _division,
    "mobile": _mobile,
}


def _masked(kind: str, value: str) -> str:
    from govpost.identifiers import mask_id_number, mask_mobile

    return mask_id_number(value) if kind == "id" else mask_mobile(value)


_HELP = """Check an identifier and print its normalised form (exit 0), or say what is wrong
with it (one line on stderr, exit 2).

\b
KIND is one of:
  waybill   a UPU S10 tracking number (EA123456785CN), or a 13-digit
            domestic EMS waybill number
  id        a resident ID number (居民身份证号码, GB 11643)
  uscc      a unified social credit code (统一社会信用代码, GB 32100)
  division  a GB/T 2260 administrative division code (520100)
  mobile    a mainland China mobile number

Spaces, dashes, full-width characters and case are normalised. Give VALUE as - to read it
from the first line of standard input, which keeps a personal number out of the shell's
history and the process list.

An ID number or a mobile number is personal data, so it is printed masked (520102********1236,
138****8000): the exit status is the answer, and the number does not end up in terminal
scrollback, logs or CI output. --reveal prints the normalised number whole, for scripts that
normalise input.

\b
Examples:
  govpost validate waybill "ea 123 456 785 cn"     # EA123456785CN
  govpost validate division 520100                 # 520100  贵阳市, city level, in 贵州省
  govpost validate mobile "+86 138-0013-8000"      # 138****8000
  echo "$ID_NUMBER" | govpost validate id - --reveal
  govpost validate uscc 91110000600037341L --json

Exit status: 0 valid (a warning on stderr when a domestic waybill's check digit looks wrong:
no public rule confirms it, so it is accepted); 2 not valid, with what is wrong on stderr.
"""


@click.command("validate", help=_HELP, short_help="Check an identifier; print it normalised.")
@click.argument("kind", type=click.Choice(KINDS, case_sensitive=False))
@click.argument("value")
@click.option(
    "--reveal",
    is_flag=True,
    help="Print an ID or mobile number whole instead of masked.",
)
@json_option
def validate_command(kind: str, value: str, reveal: bool, as_json: bool) -> ExitCode:
    """Check ``value`` as an identifier of ``kind``; print it normalised (masked if personal)."""
    kind = kind.lower()
    if value == "-":
        value = sys.stdin.readline().rstrip("\r\n")
        if not value:
            raise bad_input(f"no {kind} on standard input: give VALUE, or a line on stdin")
    normalised, words, details = _CHECKS[kind](value)
    masked = kind in _PERSONAL and not reveal
    shown = _masked(kind, normalised) if masked else normalised
    if as_json:
        print_json({"kind": kind, "valid": True, "value": shown, "masked": masked, **details})
    else:
        note = " (masked: --reveal prints it whole)" if masked else ""
        click.echo(f"{shown}  {words}{note}")
    return ExitCode.OK
