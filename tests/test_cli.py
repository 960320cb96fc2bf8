"""The ``govpost`` command: every subcommand's help, happy path, exit codes 1 and 2, and JSON.

Commands run in-process through click's :class:`~click.testing.CliRunner` on a SQLite store in
``tmp_path`` seeded with the examples' June 2018 (two centers, a per-piece agreement on the
EMS rate card, ten shipments); one test runs settle and reconcile on every backend. The console
script and ``python -m govpost`` are also run as real processes. Every error is checked to be
one line on stderr, with nothing on stdout and no traceback.
"""

from __future__ import annotations

import csv
import io
import json
import shutil
import subprocess
import sys
from collections.abc import Iterator
from datetime import date, datetime
from pathlib import Path
from typing import Any

import click
import pytest
from click.testing import CliRunner, Result

from govpost import (
    Budget,
    Coverage,
    FeeAgreement,
    PerPiece,
    RateCard,
    Shipment,
    from_json,
)
from govpost.centers import ServiceCenter
from govpost.cli import ExitCode, main
from govpost.cli._app import _report
from govpost.cli._shared import Run, counted, progress, progress_wanted
from govpost.money import Money
from govpost.periods import SHANGHAI, Period
from govpost.settlement import CarrierBill, SettlementStatement
from govpost.shipments import TrackingEvent
from govpost.store import HEAD, KeyRing, LedgerLeg, Store, open_store, upgrade
from govpost.testing import FakeEmsServer, Fault

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "examples" / "data"
KEYS = "k1=sm4-gcm:00112233445566778899aabbccddeeff"
SECRET = "00112233445566778899aabbccddeeff"
AGREEMENT = "GZ-EMS-2018"
JUNE = Period.month(2018, 6)
GBK_BILL = DATA / "ems-bill-2018-06-gbk.csv"
#: What the examples' June 2018 settles to under the agreement (see examples/settle_a_month.py).
JUNE_TOTAL = Money("76.40")


# --- the world ----------------------------------------------------------------------------------


def agreement(**changes: Any) -> FeeAgreement:
    """The examples' agreement: per piece on the EMS rate card, 15% off, a budget."""
    rates = RateCard.from_toml((DATA / "ems-rates-2018.toml").read_text(encoding="utf-8"))
    fields: dict[str, Any] = {
        "id": AGREEMENT,
        "carrier": "ems",
        "reference": "黔政办〔2018〕1号",
        "centers": {"GZ-520100", "GZ-520200"},
        "covers": [Coverage(business_line="licence_delivery", direction="outbound_result")],
        "mode": PerPiece(tariff=rates, discount="0.15"),
        "valid_from": date(2018, 1, 1),
        "budget": Budget(annual="20000.00"),
    }
    fields.update(changes)
    return FeeAgreement(**fields)


def shipments() -> list[Shipment]:
    return from_json((DATA / "shipments-2018-06.json").read_text(encoding="utf-8"), list[Shipment])


def seed(url: str, keys: KeyRing) -> None:
    """The two centers, the agreement and the shipments of June 2018."""
    with open_store(url, keys=keys) as store:
        store.centers.upsert(
            ServiceCenter(
                code="GZ-520100",
                name="贵阳市政务服务中心",
                division="520100",
                mode="stationed_staff",
            ),
            ServiceCenter(
                code="GZ-520200", name="六盘水市政务服务中心", division="520200", mode="door_pickup"
            ),
        )
        store.agreements.upsert(agreement())
        store.shipments.record(*shipments())


@pytest.fixture(scope="module")
def seeded(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A seeded SQLite store, made once: each test gets a copy (:func:`db`)."""
    from govpost.store import Key

    path = tmp_path_factory.mktemp("seeded") / "govpost.db"
    seed(f"sqlite:///{path}", KeyRing(Key.from_hex("k1", SECRET)))
    assert not path.with_name("govpost.db-wal").exists()  # closed: the file holds everything
    return path


@pytest.fixture
def db(seeded: Path, tmp_path: Path) -> str:
    """The URL of a seeded SQLite store of the test's own."""
    path = tmp_path / "govpost.db"
    shutil.copyfile(seeded, path)
    return f"sqlite:///{path}"


@pytest.fixture
def env(db: str) -> dict[str, str | None]:
    """The environment of a command run on the seeded store."""
    return {"GOVPOST_DB": db, "GOVPOST_STORE_KEYS": KEYS, "GOVPOST_DEBUG": None}


def run(*args: str, env: dict[str, str | None] | None = None, input: str | None = None) -> Result:
    """``govpost ARGS`` in-process; the store's variables unset unless ``env`` gives them."""
    base: dict[str, str | None] = {
        "GOVPOST_DB": None,
        "GOVPOST_STORE_KEYS": None,
        "GOVPOST_DEBUG": None,
    }
    return CliRunner().invoke(main, list(args), env={**base, **(env or {})}, input=input)


def error_line(result: Result, code: ExitCode, *fragments: str) -> str:
    """The one line an error wrote on stderr, after checking the exit code, that stdout is
    empty, that there is no traceback and that each fragment is in the line."""
    assert (result.exit_code, result.stdout) == (int(code), ""), result.output
    assert "Traceback" not in result.output
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    for fragment in fragments:
        assert fragment in lines[0]
    return lines[0]


def stored(url: str, keys: KeyRing) -> Store:
    return open_store(url, keys=keys)


def bill_csv(statement: SettlementStatement, path: Path) -> Path:
    """A UTF-8 bill agreeing with ``statement`` row for row (as the carrier should send it)."""
    with path.open("w", encoding="utf-8", newline="") as file:
        writer = csv.writer(file)
        writer.writerow(["waybill", "pickup_date", "weight_g", "destination", "fee_type", "amount"])
        for row in CarrierBill.from_statement(statement).rows:
            writer.writerow(
                [
                    row.waybill,
                    row.pickup_date.isoformat(),
                    row.weight_g,
                    row.destination,
                    row.fee_type.value,
                    str(row.amount.amount),
                ]
            )
    return path


# --- the group ----------------------------------------------------------------------------------


def commands(group: click.Group, prefix: tuple[str, ...] = ()) -> Iterator[tuple[str, ...]]:
    """The path of every command under ``group``."""
    for name, command in sorted(group.commands.items()):
        yield (*prefix, name)
        if isinstance(command, click.Group):
            yield from commands(command, (*prefix, name))


COMMANDS = sorted(commands(main))


def test_every_subcommand_of_the_issue_is_there() -> None:
    assert {("validate",), ("track",), ("db",), ("db", "upgrade"), ("db", "version")} <= set(
        COMMANDS
    )
    assert {("settle",), ("reconcile",), ("report",)} <= set(COMMANDS)


@pytest.mark.parametrize("path", [(), *COMMANDS], ids=lambda p: " ".join(p) or "govpost")
def test_help_is_complete(path: tuple[str, ...]) -> None:
    """Every command's help names each of its options and arguments, and shows examples."""
    result = run(*path, "--help")
    assert (result.exit_code, result.stderr) == (0, "")
    text = result.stdout
    command: click.Command = main
    for name in path:
        assert isinstance(command, click.Group)
        command = command.commands[name]
    assert "Examples:" in text
    for param in command.params:
        if isinstance(param, click.Option):
            for opt in [*param.opts, *param.secondary_opts]:
                assert opt in text, opt
            assert param.help, param.name
        else:
            assert (param.name or "").upper() in text
    if not isinstance(command, click.Group):
        assert "Exit status" in text


def test_main_help_states_the_exit_codes_and_the_environment() -> None:
    text = run("--help").stdout
    for words in ("0    ok", "1    a finding", "2    bad input", "70   internal error"):
        assert words in text
    for variable in ("GOVPOST_DB", "GOVPOST_STORE_KEYS", "GOVPOST_DEBUG"):
        assert variable in text


def test_version() -> None:
    from importlib.metadata import version

    result = run("--version")
    assert (result.exit_code, result.stdout) == (0, f"govpost {version('govpost')}\n")


def test_no_command_shows_the_help_as_a_usage_error() -> None:
    result = run()
    assert result.exit_code == 2
    assert "Commands:" in result.stderr


def test_unknown_command_and_option_are_one_line_usage_errors() -> None:
    error_line(run("bogus"), ExitCode.BAD_INPUT, "No such command 'bogus'", "govpost --help")
    error_line(
        run("settle", "--bogus"),
        ExitCode.BAD_INPUT,
        "govpost settle: error: No such option",
        "--bogus",
        "'govpost settle --help'",
    )


def test_console_script_and_python_m_run_as_real_processes() -> None:
    script = Path(sys.executable).parent / "govpost"
    for command in ([str(script)], [sys.executable, "-m", "govpost"]):
        shown = subprocess.run(
            [*command, "--help"], capture_output=True, text=True, check=False, cwd=ROOT
        )
        assert (shown.returncode, shown.stderr) == (0, "")
        assert shown.stdout.startswith("Usage: govpost ")
        refused = subprocess.run(
            [*command, "validate", "id", "520102199003071237"],
            capture_output=True,
            text=True,
            check=False,
            cwd=ROOT,
        )
        assert (refused.returncode, refused.stdout) == (2, "")
        assert refused.stderr.splitlines() == [
            "govpost validate: error: ID number 520102********1237 has a wrong check character: "
            "the last character does not match the first 17 digits (GB 11643, ISO 7064 MOD 11-2); "
            "check that it was copied correctly"
        ]


def test_debug_prints_the_traceback_before_the_line() -> None:
    for args, env in (
        (("--debug", "validate", "mobile", "12345"), None),
        (("validate", "mobile", "12345"), {"GOVPOST_DEBUG": "1"}),
    ):
        result = run(*args, env=env)
        assert result.exit_code == 2
        assert result.stderr.startswith("Traceback (most recent call last):")
        assert result.stderr.splitlines()[-1].startswith("govpost validate: error: mobile number")


def test_a_bug_is_an_internal_error_in_one_line_with_personal_data_masked(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def broken(text: str) -> str:
        raise RuntimeError(f"lost the applicant 13800138000 of {text}")

    monkeypatch.setattr("govpost.identifiers.validate_uscc", broken)
    line = error_line(run("validate", "uscc", "X"), ExitCode.INTERNAL_ERROR)
    assert line == (
        "govpost validate: error: internal error: RuntimeError: lost the applicant 138****8000 "
        "of X (a bug in govpost; run with --debug for the traceback, please report it)"
    )
    shown = run("--debug", "validate", "uscc", "X")
    assert shown.exit_code == 70
    assert "Traceback" in shown.stderr
    assert "in broken" in shown.stderr


def test_interrupted(monkeypatch: pytest.MonkeyPatch) -> None:
    def interrupted(text: str) -> str:
        raise KeyboardInterrupt

    monkeypatch.setattr("govpost.identifiers.validate_uscc", interrupted)
    result = run("validate", "uscc", "X")
    assert result.exit_code == ExitCode.INTERRUPTED
    assert result.stderr.strip().splitlines()[-1] == "govpost validate: error: interrupted"


def test_a_closed_pipe_ends_quietly() -> None:
    assert _report(BrokenPipeError(), Run()) is ExitCode.BROKEN_PIPE


def test_exit_codes_are_those_documented() -> None:
    assert [int(c) for c in ExitCode] == [0, 1, 2, 70, 130, 141]


# --- validate -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kind", "value", "line"),
    [
        (
            "waybill",
            "ea 123 456 785 cn",
            "EA123456785CN  UPU S10 number: service EA, serial 12345678, check digit 5, country CN",
        ),
        ("waybill", "1012345678501", "1012345678501  domestic EMS waybill number (13 digits)"),
        (
            "id",
            "11010519491231002x",
            "110105********002X  resident ID number (GB 11643), registered in 110105 朝阳区 "
            "(masked: --reveal prints it whole)",
        ),
        (
            "uscc",
            "9111 0000 6000 3734 1l",
            "91110000600037341L  unified social credit code (GB 32100)",
        ),
        ("division", " ５２０１００ ", "520100  贵阳市, city level, in 贵州省"),
        ("division", "520000", "520000  贵州省, province level"),
        (
            "mobile",
            "+86 138-0013-8000",
            "138****8000  mainland China mobile number (masked: --reveal prints it whole)",
        ),
    ],
)
def test_validate_prints_the_normalised_value(kind: str, value: str, line: str) -> None:
    result = run("validate", kind, value)
    assert (result.exit_code, result.stdout, result.stderr) == (0, line + "\n", "")


def test_validate_reveals_personal_numbers_only_when_asked() -> None:
    assert run("validate", "mobile", "138 0013 8000", "--reveal").stdout.startswith("13800138000 ")
    document = json.loads(run("validate", "id", "11010519491231002x", "--json").stdout)
    assert document == {
        "kind": "id",
        "valid": True,
        "value": "110105********002X",
        "masked": True,
        "region": "110105",
        "region_name": "朝阳区",
    }
    revealed = json.loads(run("validate", "ID", "11010519491231002x", "--json", "--reveal").stdout)
    assert (revealed["value"], revealed["masked"]) == ("11010519491231002X", False)


def test_validate_reads_the_value_from_stdin() -> None:
    result = run("validate", "id", "-", "--reveal", input="11010519491231002x\n")
    assert result.stdout.startswith("11010519491231002X ")
    error_line(run("validate", "id", "-", input=""), ExitCode.BAD_INPUT, "no id on standard input")


def test_validate_json_of_a_division() -> None:
    result = run("validate", "division", "520201", "--json")
    assert json.loads(result.stdout) == {
        "kind": "division",
        "valid": True,
        "value": "520201",
        "masked": False,
        "name": "钟山区",
        "level": "county",
        "province": "520000",
        "city": "520200",
        "active": True,
        "former_names": ["水城特区"],
    }


@pytest.mark.parametrize(
    ("kind", "value", "words"),
    [
        ("waybill", "EA123456784CN", "tracking number 'EA123456784CN' has check digit 4"),
        ("id", "520102199003071237", "ID number 520102********1237 has a wrong check character"),
        ("uscc", "91110000600037341A", "USCC '91110000600037341A' has check character 'A'"),
        ("division", "999999", "division code '999999' is not in the GB/T 2260 table"),
        ("mobile", "010-6552 9988", "mobile number 010****9988 is not a mainland China mobile"),
    ],
)
def test_validate_refuses_in_one_line(kind: str, value: str, words: str) -> None:
    line = error_line(run("validate", kind, value, "--json"), ExitCode.BAD_INPUT, words)
    assert line.startswith("govpost validate: error: ")
    assert "199003071237" not in line  # an ID number is never shown whole


def test_validate_warns_in_one_line_about_a_domestic_check_digit() -> None:
    result = run("validate", "waybill", "1012345678001")
    assert (result.exit_code, result.stdout) == (
        0,
        "1012345678001  domestic EMS waybill number (13 digits)\n",
    )
    assert result.stderr.splitlines() == [
        "govpost validate: warning: domestic EMS number '1012345678001': the S10 weights over "
        "digits 3-10 give check digit 5, not 0; accepted, since no public specification confirms "
        "the rule for domestic numbers — check the number if it was typed by hand"
    ]


def test_validate_refuses_an_unknown_kind() -> None:
    error_line(
        run("validate", "passport", "E12345678"), ExitCode.BAD_INPUT, "'passport' is not one of"
    )


# --- track --------------------------------------------------------------------------------------


@pytest.fixture
def ems(tmp_path: Path) -> Iterator[tuple[FakeEmsServer, Path]]:
    """A loopback EMS server that scanned waybill EA520180614CN three times, and a TOML file
    of the adapter's configuration."""
    with FakeEmsServer() as server:
        for code, at in (
            ("203", datetime(2018, 6, 3, 10, 0, tzinfo=SHANGHAI)),
            ("389", datetime(2018, 6, 3, 16, 30, tzinfo=SHANGHAI)),
            ("704", datetime(2018, 6, 4, 11, 5, tzinfo=SHANGHAI)),
        ):
            server.scan(
                "EA520180614CN", code, at, description="已签收，签收人：欧阳娜娜 13800138000"
            )
        config = tmp_path / "ems.toml"
        config.write_text(
            f'sender_no = "{server.sender_no}"\n'
            f'authorization = "{server.authorization}"\n'
            f'sign_key = "{server.sign_key}"\n'
            f'base_url = "{server.url}"\n'
            "retries = 0\n",
            encoding="utf-8",
        )
        yield server, config


def test_track_asks_the_carrier(ems: tuple[FakeEmsServer, Path]) -> None:
    _, config = ems
    result = run("track", "ea520180614cn", "--carrier", "ems", "--config-file", str(config))
    assert (result.exit_code, result.stderr) == (0, "")
    lines = result.stdout.splitlines()
    assert lines[0] == "EA520180614CN: 3 events from ems"
    assert lines[1].split() == [
        "时间",
        "Time",
        "(UTC+8)",
        "状态",
        "Status",
        "地点",
        "Location",
        "代码",
        "Code",
    ]
    assert [line.split()[:4] for line in lines[3:]] == [
        ["2018-06-03", "10:00", "已揽收", "picked_up"],
        ["2018-06-03", "16:30", "运输中", "in_transit"],
        ["2018-06-04", "11:05", "已妥投", "delivered"],
    ]
    assert "欧阳" not in result.stdout
    assert "签收" not in result.stdout


def test_track_json_and_descriptions_masked(ems: tuple[FakeEmsServer, Path]) -> None:
    _, config = ems
    result = run(
        "track", "EA520180614CN", "--carrier", "ems", "--config-file", str(config),
        "--config", "timeout:=5", "--descriptions", "--json",
    )  # fmt: skip
    document = json.loads(result.stdout)
    assert (document["waybill"], document["source"]) == ("EA520180614CN", "ems")
    assert [e["status"] for e in document["events"]] == ["picked_up", "in_transit", "delivered"]
    assert document["events"][2]["carrier_code"] == "704"
    assert document["events"][2]["occurred_at"] == "2018-06-04T11:05:00+08:00"
    assert "138****8000" in document["events"][2]["description"]
    assert "13800138000" not in result.stdout


def test_track_a_carrier_refusal_is_exit_1_with_its_code(ems: tuple[FakeEmsServer, Path]) -> None:
    server, config = ems
    server.inject(Fault.RET_CODE, ret_code="B00101", ret_msg="运单号不存在")
    error_line(
        run("track", "EA520180614CN", "--carrier", "ems", "--config-file", str(config)),
        ExitCode.FINDING,
        "govpost track: error: carrier error [B00101]",
        "运单号不存在",
    )


def test_track_the_sandbox_knows_only_its_own_waybills() -> None:
    error_line(
        run("track", "EA123456785CN"),
        ExitCode.FINDING,
        "carrier error [unknown_waybill] the sandbox has no waybill EA123456785CN",
    )


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (("EA123456784CN",), "tracking number 'EA123456784CN' has check digit 4"),
        (("EA123456785CN", "--carrier", "pigeon"), "no carrier adapter named 'pigeon'"),
        (
            ("EA123456785CN", "--config", "seed"),
            "Invalid value for '--config': an item without a key",
        ),
        (
            ("EA123456785CN", "--config", "seed:=x2018"),
            "after ':=' is not JSON (the value is not shown)",
        ),
        (("EA123456785CN", "--config", "seed=x"), "seed 'x' must be an int"),
        (
            ("EA123456785CN", "--config", "colour=red"),
            "failed to start with the config given (colour)",
        ),
        (("EA123456785CN", "--config-file", "missing.toml"), "'missing.toml' does not exist"),
    ],
)
def test_track_bad_input_is_exit_2(args: tuple[str, ...], words: str) -> None:
    error_line(run("track", *args), ExitCode.BAD_INPUT, words)


def test_track_never_shows_a_config_value(tmp_path: Path) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text('sign_key = "s3cr3t\n', encoding="utf-8")
    line = error_line(run("track", "EA123456785CN", "--config-file", str(bad)), ExitCode.BAD_INPUT)
    assert "is not TOML" in line
    assert "s3cr3t" not in line
    line = error_line(
        run("track", "EA123456785CN", "--config", "sign_key:={s3cr3t"), ExitCode.BAD_INPUT
    )
    assert "s3cr3t" not in line


def test_track_from_the_store(db: str, env: dict[str, str | None], store_keys: KeyRing) -> None:
    with stored(db, store_keys) as store:
        store.events.ingest(
            "ems",
            [
                TrackingEvent(
                    event_id="e-1",
                    tracking_number="EA520180614CN",
                    status="picked_up",
                    occurred_at=datetime(2018, 6, 3, 10, 0, tzinfo=SHANGHAI),
                    location="贵阳市南明揽投部",
                    carrier_code="203",
                ),
                TrackingEvent(
                    event_id="e-2",
                    tracking_number="EA520180614CN",
                    status="delivered",
                    occurred_at=datetime(2018, 6, 4, 11, 5, tzinfo=SHANGHAI),
                    carrier_code="704",
                    description="签收人：13800138000",
                ),
            ],
        )
    result = run("track", "EA520180614CN", "--from-store", env=env)
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[0] == (
        "EA520180614CN: 2 events in the store; shipment GY-2018-06-0001 of GZ-520100, now 已揽收 "
        "picked_up"
    )
    assert [line.split()[2] for line in lines[3:]] == ["已揽收", "已妥投"]
    document = json.loads(run("track", "EA520180614CN", "--from-store", "--json", env=env).stdout)
    assert document["shipment"] == {
        "id": "GY-2018-06-0001",
        "center": "GZ-520100",
        "status": "picked_up",
        "status_label": "已揽收",
    }
    assert [e["event_id"] for e in document["events"]] == ["e-1", "e-2"]
    assert "description" not in document["events"][1]
    none = run("track", "EA520180628CN", "--from-store", "--carrier", "ems", env=env)
    assert none.stdout.startswith("EA520180628CN: no events yet in the store; shipment ")


def test_track_from_the_store_needs_the_keys(env: dict[str, str | None]) -> None:
    error_line(
        run("track", "EA520180614CN", "--from-store", env={**env, "GOVPOST_STORE_KEYS": None}),
        ExitCode.BAD_INPUT,
        "reading tracking events needs the store's keys",
        "GOVPOST_STORE_KEYS",
    )
    error_line(
        run("track", "EA520180614CN", "--from-store", "--config", "seed=1", env=env),
        ExitCode.BAD_INPUT,
        "not with --from-store",
    )


# --- db -----------------------------------------------------------------------------------------


def test_db_upgrade_creates_then_finds_the_schema_current(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'new.db'}"
    created = run("db", "upgrade", "--db", url)
    assert (created.exit_code, created.stdout) == (0, f"schema none → {HEAD} (created)\n")
    again = run(
        "db",
        "upgrade",
        env={"GOVPOST_DB": url},
    )
    assert again.stdout == f"schema {HEAD}: already current, nothing to do\n"
    document = json.loads(run("db", "upgrade", "--db", url, "--json").stdout)
    assert document == {"before": HEAD, "after": HEAD, "changed": False}
    version = run("db", "version", "--db", url)
    assert (version.exit_code, version.stdout) == (0, f"{HEAD} (current)\n")
    assert json.loads(run("db", "version", "--db", url, "--json").stdout) == {
        "version": HEAD,
        "head": HEAD,
        "current": True,
    }


def test_db_an_older_schema_is_a_finding_until_upgraded(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'old.db'}"
    assert upgrade(url, to="0001") == (None, "0001")
    older = run("db", "version", "--db", url)
    assert older.exit_code == ExitCode.FINDING
    assert older.stdout.startswith(f"0001: this govpost uses {HEAD}; back the database up")
    upgraded = run("db", "upgrade", "--db", url, "--json")
    assert json.loads(upgraded.stdout) == {"before": "0001", "after": HEAD, "changed": True}
    assert run("db", "version", "--db", url).exit_code == 0


def test_db_bad_input(tmp_path: Path) -> None:
    error_line(
        run("db", "version", "--db", f"sqlite:///{tmp_path / 'missing.db'}"),
        ExitCode.BAD_INPUT,
        "Invalid value for '--db': there is no store at",
        "govpost db upgrade --db sqlite:///",
    )
    assert not (tmp_path / "missing.db").exists()
    line = error_line(run("db", "upgrade", "--db", "user:hunter2@localhost"), ExitCode.BAD_INPUT)
    assert "not a database URL" in line
    assert "hunter2" not in line
    error_line(
        run("db", "upgrade", "--db", f"sqlite:///{tmp_path / 'x.db'}", "--to", "9999"),
        ExitCode.FINDING,
        "'9999' is not a schema version of this govpost",
    )


# --- settle -------------------------------------------------------------------------------------


def test_settle_prints_and_saves_once(
    db: str, env: dict[str, str | None], store_keys: KeyRing
) -> None:
    first = run("settle", "--agreement", AGREEMENT, "--period", "2018-06", env=env)
    assert first.exit_code == 0, first.output
    assert first.stdout.startswith("结算单 Settlement statement GZ-EMS-2018-2018-06-")
    assert "合计 Total: 76.40 CNY" in first.stdout
    with stored(db, store_keys) as store:
        statement = store.statements.current(AGREEMENT, JUNE)
        assert statement is not None
        assert statement.total == JUNE_TOTAL
        for leg in LedgerLeg:
            assert store.ledger.balance(AGREEMENT, 2018, leg) == JUNE_TOTAL
    assert first.stderr == (
        f"saved: statement {statement.statement_id} is version 1 of GZ-EMS-2018 2018-06\n"
    )
    again = run("settle", "--agreement", AGREEMENT, "--period", "2018-06", env=env)
    assert (again.exit_code, again.stdout) == (0, first.stdout)
    assert again.stderr.startswith(f"unchanged: statement {statement.statement_id} (version 1)")
    with stored(db, store_keys) as store:
        for leg in LedgerLeg:
            assert store.ledger.balance(AGREEMENT, 2018, leg) == JUNE_TOTAL  # posted once


def test_settle_no_save_writes_nothing(
    db: str, env: dict[str, str | None], store_keys: KeyRing
) -> None:
    result = run(
        "settle", "--agreement", AGREEMENT, "--period", "2018-06", "--no-save", "--max-lines", "2",
        env=env,
    )  # fmt: skip
    assert result.exit_code == 0
    assert "… 6 of 8 lines not shown" in result.stdout
    assert result.stderr == "not saved (--no-save): no statement of GZ-EMS-2018 2018-06 is saved\n"
    with stored(db, store_keys) as store:
        assert store.statements.current(AGREEMENT, JUNE) is None


def test_settle_json(env: dict[str, str | None]) -> None:
    result = run("settle", "--agreement", AGREEMENT, "--period", "2018-06", "--json", env=env)
    assert (result.exit_code, result.stderr) == (0, "")
    document = json.loads(result.stdout)
    assert (document["saved"], document["version"]) == ("saved", 1)
    statement = from_json(json.dumps(document["statement"]), SettlementStatement)
    assert (statement.total, statement.pieces) == (JUNE_TOTAL, 8)


def test_settle_csv_in_each_encoding(env: dict[str, str | None]) -> None:
    base = ("settle", "--agreement", AGREEMENT, "--period", "2018-06", "--no-save", "--csv")
    utf8_bom = run(*base, env=env).stdout_bytes
    assert utf8_bom.startswith(b"\xef\xbb\xbfline_id,waybill,")
    gbk = run(*base, "--encoding", "GBK", env=env).stdout_bytes
    assert gbk.decode("gbk") == utf8_bom.decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(gbk.decode("gbk"))))
    assert len(rows) == 1 + 8
    error_line(
        run(*base, "--json", env=env), ExitCode.BAD_INPUT, "--json and --csv both ask for stdout"
    )


def test_settle_a_different_statement_is_refused_then_superseded(
    db: str, env: dict[str, str | None], store_keys: KeyRing
) -> None:
    args = ("settle", "--agreement", AGREEMENT, "--period", "2018-06")
    assert run(*args, env=env).exit_code == 0
    late = shipments()[0]
    import attrs

    with stored(db, store_keys) as store:
        first = store.statements.current(AGREEMENT, JUNE)
        assert first is not None
        store.shipments.record(
            attrs.evolve(
                late,
                id="GY-2018-06-0099",
                tracking_number="EA520180999CN",
                application_ref="BJ20180600099",
            )
        )
    line = error_line(run(*args, env=env), ExitCode.FINDING, "--supersede")
    assert line.startswith(
        f"govpost settle: error: agreement GZ-EMS-2018 already has statement "
        f"{first.statement_id} (total 76.40 CNY) in force for 2018-06"
    )
    superseded = run(*args, "--supersede", env=env)
    assert superseded.exit_code == 0
    assert superseded.stderr.startswith("superseded: statement ")
    assert "is now version 2 of GZ-EMS-2018 2018-06" in superseded.stderr
    with stored(db, store_keys) as store:
        second = store.statements.current(AGREEMENT, JUNE)
        assert second is not None
        assert second.total == JUNE_TOTAL + Money("6.80")
        for leg in LedgerLeg:
            assert store.ledger.balance(AGREEMENT, 2018, leg) == second.total
        assert store.ledger.verify() == ()


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (("--agreement", "GZ-EMS-2019", "--period", "2018-06"),
         "the store has no agreement 'GZ-EMS-2019' (it holds GZ-EMS-2018): check --agreement"),
        (("--agreement", AGREEMENT, "--period", "2018-Q2"),
         "agreement GZ-EMS-2018 settles by month, and 2018-Q2 is a quarter: give --period as a "
         "month such as 2018-06"),
        (("--agreement", AGREEMENT, "--period", "2017-12"),
         "agreement GZ-EMS-2018 is in force from 2018-01-01 to open end, not in 2017-12"),
        (("--agreement", AGREEMENT, "--period", "June"),
         "Invalid value for '--period': period 'June' is not like '2018-06'"),
        (("--agreement", AGREEMENT, "--period", "2018-06", "--unattributed", "GZ-999"),
         "--unattributed 'GZ-999' is not a center of agreement GZ-EMS-2018"),
        (("--period", "2018-06"), "Missing option '--agreement'"),
    ],
)  # fmt: skip
def test_settle_bad_input_is_exit_2(
    env: dict[str, str | None], args: tuple[str, ...], words: str
) -> None:
    error_line(run("settle", *args, env=env), ExitCode.BAD_INPUT, "govpost settle: error: ", words)


def test_settle_refuses_a_missing_store_and_bad_keys(tmp_path: Path, db: str) -> None:
    missing = f"sqlite:///{tmp_path / 'typo.db'}"
    error_line(
        run("settle", "--agreement", AGREEMENT, "--period", "2018-06", "--db", missing),
        ExitCode.BAD_INPUT,
        f"there is no store at {tmp_path / 'typo.db'}",
    )
    assert not (tmp_path / "typo.db").exists()
    line = error_line(
        run("settle", "--agreement", AGREEMENT, "--period", "2018-06", "--db", db,
            "--keys", f"k1=sm4-gcm:{SECRET}00"),
        ExitCode.BAD_INPUT,
        "Invalid value for '--keys'",
    )  # fmt: skip
    assert SECRET not in line
    line = error_line(
        run("settle", "--agreement", AGREEMENT, "--period", "2018-06",
            env={"GOVPOST_DB": db, "GOVPOST_STORE_KEYS": "k1"}),
        ExitCode.BAD_INPUT,
        "environment variable GOVPOST_STORE_KEYS",
    )  # fmt: skip


def test_settle_a_wrong_key_is_the_stores_refusal(db: str) -> None:
    wrong = "k1=sm4-gcm:ffeeddccbbaa99887766554433221100"
    error_line(
        run("settle", "--agreement", AGREEMENT, "--period", "2018-06", "--db", db, "--keys", wrong),
        ExitCode.FINDING,
        "key 'k1' is not the key this store recorded under that id",
    )


# --- reconcile ----------------------------------------------------------------------------------


@pytest.fixture
def settled(db: str, env: dict[str, str | None], store_keys: KeyRing) -> SettlementStatement:
    assert run("settle", "--agreement", AGREEMENT, "--period", "2018-06", env=env).exit_code == 0
    with stored(db, store_keys) as store:
        statement = store.statements.current(AGREEMENT, JUNE)
    assert statement is not None
    return statement


def test_reconcile_discrepancies_are_exit_1_with_the_report(
    settled: SettlementStatement, db: str, env: dict[str, str | None], store_keys: KeyRing
) -> None:
    result = run("reconcile", "--period", "2018-06", "--bill", str(GBK_BILL), env=env)
    assert result.exit_code == ExitCode.FINDING
    assert result.stdout.startswith(f"对账 Reconciliation of {settled.statement_id} (2018-06)")
    assert "我方合计 Ours 76.40; 账单合计 Bill 92.25; 差额 Difference 15.85" in result.stdout
    assert result.stderr == (
        "8 discrepancies: bill total 92.25 CNY, ours 76.40 CNY, difference 15.85 CNY "
        "(report saved)\n"
    )
    with stored(db, store_keys) as store:
        report = store.reconciliations.latest(settled.statement_id)
    assert report is not None
    assert report.difference == Money("15.85")
    again = run(
        "reconcile", "--agreement", AGREEMENT, "--period", "2018-06", "--bill", str(GBK_BILL),
        env=env,
    )  # fmt: skip
    assert again.exit_code == 1
    assert again.stderr.endswith("(the same report was saved before)\n")


def test_reconcile_json(settled: SettlementStatement, env: dict[str, str | None]) -> None:
    result = run("reconcile", "--period", "2018-06", "--bill", str(GBK_BILL), "--json", env=env)
    assert (result.exit_code, result.stderr) == (1, "")
    document = json.loads(result.stdout)
    assert document["clean"] is False
    assert document["counts"]["matched"] == 2
    assert document["counts"]["duplicate"] == 1
    assert document["difference"] == {"amount": "15.85", "currency": "CNY"}
    assert document["statement_id"] == settled.statement_id
    assert len(document["report"]["items"]) == sum(document["counts"].values())


def test_reconcile_a_matching_bill_is_exit_0(
    settled: SettlementStatement, env: dict[str, str | None], tmp_path: Path
) -> None:
    bill = bill_csv(settled, tmp_path / "bill.csv")
    result = run("reconcile", "--period", "2018-06", "--bill", str(bill), "--all", env=env)
    assert result.exit_code == 0, result.output
    assert result.stderr == "all 8 items matched; bill total 76.40 CNY (report saved)\n"
    assert "EA520180614CN" in result.stdout  # --all lists the matched items
    as_csv = run("reconcile", "--period", "2018-06", "--bill", str(bill), "--csv", env=env)
    rows = list(csv.reader(io.StringIO(as_csv.stdout_bytes.decode("utf-8-sig"))))
    assert rows[0][0] == "class"
    assert len(rows) == 1 + 8


def test_reconcile_maps_the_bills_own_headers(
    settled: SettlementStatement, env: dict[str, str | None], tmp_path: Path
) -> None:
    bill = bill_csv(settled, tmp_path / "bill.csv")
    text = bill.read_text(encoding="utf-8").replace("waybill,", "邮件号码,", 1)
    bill.write_text(text, encoding="gbk")
    refused = run("reconcile", "--period", "2018-06", "--bill", str(bill), env=env)
    error_line(refused, ExitCode.BAD_INPUT, "no column for waybill")
    mapped = run(
        "reconcile", "--period", "2018-06", "--bill", str(bill), "--column", "waybill=邮件号码",
        env=env,
    )  # fmt: skip
    assert mapped.exit_code == 0, mapped.output


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (("--period", "2018-07", "--bill", str(GBK_BILL)),
         "the store has no statement for 2018-07: settle it first"),
        (("--period", "2018-06", "--agreement", "GZ-X", "--bill", str(GBK_BILL)),
         "the store has no statement of agreement 'GZ-X' for 2018-06"),
        (("--period", "2018-06", "--bill", "missing.csv"),
         "Invalid value for '--bill': File 'missing.csv' does not exist"),
        (("--period", "2018-06", "--bill", str(DATA / "ems-rates-2018.toml")),
         "no column for waybill"),
        (("--period", "2018-06", "--bill", str(GBK_BILL), "--bill-encoding", "utf-8"),
         "cannot decode as 'utf-8'"),
        (("--period", "2018-06", "--bill", str(GBK_BILL), "--column", "邮件号码"),
         "Invalid value for '--column': an item without a key and '='"),
    ],
)  # fmt: skip
def test_reconcile_bad_input_is_exit_2(
    settled: SettlementStatement, env: dict[str, str | None], args: tuple[str, ...], words: str
) -> None:
    error_line(run("reconcile", *args, env=env), ExitCode.BAD_INPUT, words)


def test_reconcile_names_the_bad_line_of_a_bill(
    settled: SettlementStatement, env: dict[str, str | None], tmp_path: Path
) -> None:
    bill = bill_csv(settled, tmp_path / "bill.csv")
    lines = bill.read_text(encoding="utf-8").splitlines()
    lines[3] = lines[3].rsplit(",", 1)[0] + ",1e5"
    bill.write_text("\n".join(lines) + "\n", encoding="utf-8")
    error_line(
        run("reconcile", "--period", "2018-06", "--bill", str(bill), env=env),
        ExitCode.BAD_INPUT,
        "line 4",
        "amount",
    )


def test_reconcile_asks_which_agreement_when_several_have_a_statement(
    settled: SettlementStatement, db: str, env: dict[str, str | None], store_keys: KeyRing
) -> None:
    with stored(db, store_keys) as store:
        store.agreements.upsert(agreement(id="GZ-EMS-2018B", centers={"GZ-520200"}))
    assert (
        run("settle", "--agreement", "GZ-EMS-2018B", "--period", "2018-06", env=env).exit_code == 0
    )
    error_line(
        run("reconcile", "--period", "2018-06", "--bill", str(GBK_BILL), env=env),
        ExitCode.BAD_INPUT,
        "2 agreements have a statement for 2018-06 (GZ-EMS-2018, GZ-EMS-2018B): give --agreement",
    )


# --- report -------------------------------------------------------------------------------------

#: The keys the issue asks of ``govpost report --json`` (and ``govpost demo --json``).
REPORT_KEYS = {
    "centers_total",
    "centers_cooperating",
    "centers_by_mode",
    "items_total",
    "items_by_line",
    "postage_paid_by_government",
    "trips_saved",
    "citizen_cost_saved",
    "provincial_share_by_post",
    "on_time_rate",
    "statements",
    "reconciliation",
    "assumptions",
}


def test_report_table(settled: SettlementStatement, env: dict[str, str | None]) -> None:
    result = run("report", "--period", "2018-06", env=env)
    assert (result.exit_code, result.stderr) == (0, "")
    assert result.stdout.startswith("政邮合作 KPI 报告  期间 2018-06")
    figures = {
        line.split()[1]: line.split()[-1]
        for line in result.stdout.splitlines()
        if len(line.split()) == 3
    }
    assert figures["centers_total"] == "2"
    assert figures["items_total"] == "9"  # picked up in June: 8 billed, 1 applicant-paid
    assert figures["postage_paid_by_government"] == "76.40"


def test_report_json_holds_the_figures_of_the_store(
    settled: SettlementStatement, env: dict[str, str | None]
) -> None:
    result = run("report", "--period", "2018", "--json", env=env)
    assert (result.exit_code, result.stderr) == (0, "")
    document = json.loads(result.stdout)
    assert set(document) >= REPORT_KEYS
    assert document["period"] == "2018"
    assert document["postage_paid_by_government"] == str(settled.total.amount)
    assert document["statements"] == 1
    assert document["centers_by_mode"] == {
        "door_pickup": 1,
        "stationed_staff": 1,
        "government_agent": 0,
    }
    assert document["as_of"] == "2019-01-01T00:00:00+08:00"  # the end of the period
    later = run("report", "--period", "2018", "--as-of", "2018-12-20T18:30", "--json", env=env)
    assert json.loads(later.stdout)["as_of"] == "2018-12-20T18:30:00+08:00"


def test_report_csv_in_each_encoding(
    settled: SettlementStatement, env: dict[str, str | None]
) -> None:
    utf8 = run("report", "--period", "2018-06", "--csv", env=env).stdout_bytes
    assert utf8.startswith(b"\xef\xbb\xbfsection,key,value,label")
    gbk = run("report", "--period", "2018-06", "--csv", "--encoding", "gbk", env=env).stdout_bytes
    assert gbk.decode("gbk") == utf8.decode("utf-8-sig")
    rows = {(row[0], row[1]): row[2] for row in csv.reader(io.StringIO(gbk.decode("gbk")))}
    assert rows[("postage_paid_by_government", "")] == "76.40"


def test_report_assumptions_are_read_from_a_file(
    settled: SettlementStatement, env: dict[str, str | None], tmp_path: Path
) -> None:
    from govpost.reports import Assumptions
    from govpost.serialization import to_toml

    given = tmp_path / "survey.toml"
    given.write_text(to_toml(Assumptions(pickup_days=3, reference="survey 2018")), "utf-8")
    result = run("report", "--period", "2018-06", "--assumptions", str(given), "--json", env=env)
    assumptions = json.loads(result.stdout)["assumptions"]
    assert (assumptions["pickup_days"], assumptions["reference"]) == (3, "survey 2018")
    given.write_text("pickup_days = -1\n", "utf-8")
    error_line(
        run("report", "--period", "2018-06", "--assumptions", str(given), env=env),
        ExitCode.BAD_INPUT,
        "pickup_days",
    )


def test_report_chart_is_a_png(
    settled: SettlementStatement, env: dict[str, str | None], tmp_path: Path
) -> None:
    pytest.importorskip("matplotlib")
    chart = tmp_path / "report.png"
    result = run("report", "--period", "2018", "--chart", str(chart), "--json", env=env)
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["period"] == "2018"
    assert chart.read_bytes().startswith(b"\x89PNG\r\n\x1a\n")
    assert chart.stat().st_size > 10_000
    # Without a Chinese font the labels fall back to English, said in one line.
    for line in result.stderr.splitlines():
        assert line.startswith("govpost report: warning: no font with Chinese characters")
    error_line(
        run("report", "--period", "2018", "--chart", str(tmp_path / "no" / "r.png"), env=env),
        ExitCode.BAD_INPUT,
        f"cannot write the chart to {tmp_path / 'no' / 'r.png'}",
    )


def test_report_chart_without_matplotlib_is_bad_input(
    settled: SettlementStatement,
    env: dict[str, str | None],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from govpost.reports import charts

    def missing(*args: object, **kwargs: object) -> Path:
        raise ImportError("govpost.reports.charts needs matplotlib: pip install 'govpost[charts]'")

    monkeypatch.setattr(charts, "save_charts", missing)
    error_line(
        run("report", "--period", "2018", "--chart", str(tmp_path / "r.png"), env=env),
        ExitCode.BAD_INPUT,
        "--chart needs matplotlib",
        "pip install 'govpost[charts]'",
    )


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (("--period", "2018", "--json", "--csv"), "--json and --csv both ask for stdout"),
        (("--period", "2018", "--font", __file__), "--font is the chart's font: give --chart"),
        (("--period", "2018", "--encoding", "utf-8"), "Invalid value for '--encoding'"),
        (("--period", "2018", "--as-of", "yesterday"), "Invalid value for '--as-of'"),
        (("--period", "2018-W3",), "Invalid value for '--period'"),
    ],
)  # fmt: skip
def test_report_bad_input_is_exit_2(
    env: dict[str, str | None], args: tuple[str, ...], words: str
) -> None:
    error_line(run("report", *args, env=env), ExitCode.BAD_INPUT, words)


def test_report_needs_the_keys(env: dict[str, str | None]) -> None:
    error_line(
        run("report", "--period", "2018", env={**env, "GOVPOST_STORE_KEYS": None}),
        ExitCode.BAD_INPUT,
        "reading applications and shipments for the report needs the store's keys",
    )


# --- every backend ------------------------------------------------------------------------------


def test_settle_and_reconcile_on_every_backend(store_url: str, store_keys: KeyRing) -> None:
    """The commands take any store URL: SQLite, PostgreSQL, MariaDB."""
    seed(store_url, store_keys)
    env: dict[str, str | None] = {"GOVPOST_DB": store_url, "GOVPOST_STORE_KEYS": KEYS}
    settled = run("settle", "--agreement", AGREEMENT, "--period", "2018-06", "--json", env=env)
    assert settled.exit_code == 0, settled.output
    assert json.loads(settled.stdout)["statement"]["total"] == {
        "amount": "76.40",
        "currency": "CNY",
    }
    reconciled = run("reconcile", "--period", "2018-06", "--bill", str(GBK_BILL), "--json", env=env)
    assert reconciled.exit_code == 1
    assert json.loads(reconciled.stdout)["difference"]["amount"] == "15.85"


# --- progress -----------------------------------------------------------------------------------


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_progress_only_on_a_terminal_and_never_with_json() -> None:
    assert progress_wanted(False, _Terminal()) is True
    assert progress_wanted(True, _Terminal()) is False
    assert progress_wanted(False, io.StringIO()) is False


def test_progress_counts_every_item() -> None:
    seen: list[int] = []
    assert list(counted(range(1234), seen.append, every=500)) == list(range(1234))
    assert seen == [500, 500, 234]
    with progress("settling", enabled=False) as advance:
        advance(10)  # shown nowhere, and harmless
