"""Crash safety: an agency process SIGKILLed at random moments loses nothing and repeats nothing.

A child process (``tests/service_worker.py``) dispatches applications through the EMS adapter
to a :class:`~govpost.testing.FakeEmsServer` run here, ingests the pushes a simulated carrier
writes for each order it created, and closes the month again and again as it fills. It
acknowledges a push (appends its id to an fsynced file) only after
:meth:`~govpost.service.Operations.ingest_push` returned. The parent kills it with SIGKILL
after a random delay, checks what was acknowledged, starts it again, and finally lets it run
to completion (a run that finishes its work before its kill brings more applications in).
Then:

- every acknowledged push's events are in the store (checked after every kill), and at the
  end every event exactly once;
- the carrier created each approved ``MAIL`` application's order exactly once, and no other;
- every statement saved, superseded ones included, has all its lines; the ledger's balances
  are the sums of its entries and equal the statement in force;
- SQLite's ``PRAGMA integrity_check`` is ``ok``.

Create-order answers are held back a little (:attr:`Fault.SLOW <govpost.testing.Fault>`): the
order exists before its answer arrives, so kills often land between the two.
"""

from __future__ import annotations

import random
import signal
import sqlite3
import subprocess
from pathlib import Path

import pytest
import sqlalchemy as sa

from govpost.applications import ApplicationStatus
from govpost.carriers import JournalState
from govpost.carriers.ems import EmsCarrier
from govpost.carriers.ems.build import API_CREATE_ORDER
from govpost.money import Money
from govpost.shipments import ShipmentStatus
from govpost.store import LedgerLeg, Store, open_store
from govpost.store import _schema as t
from govpost.testing import FakeEmsServer, Fault
from tests.databases import fresh_database
from tests.service_worker import (
    KEYS,
    PERIOD,
    acknowledged,
    admit,
    carrier_side,
    configure,
    event_ids,
    prepare,
    start,
)

#: Applications at the start (every fifth collects its result: not mailed).
APPLICATIONS = 24
#: Applications admitted whenever a run finished its work before it was killed.
MORE = 8
#: (backend, seed of the kill delays, kills before the run to completion).
SCENARIOS = [
    ("sqlite", 1, 6),
    ("sqlite", 2, 6),
    ("sqlite", 3, 6),
    ("postgresql", 4, 5),
]
#: Seconds a run lives before it is killed: from inside its start-up to well into the work.
DELAYS = (0.3, 1.4)
PRICE = Money("12.50")


def missing_events(url: str, ids: set[str]) -> list[str]:
    with open_store(url, keys=KEYS) as store:
        return sorted(i for i in ids if store.events.get("ems", i) is None)


def statements_without_all_lines(store: Store) -> list[tuple[str, int, int]]:
    s, lines = t.statements.c, t.statement_lines.c
    query = (
        sa.select(s.statement_id, s.line_count, sa.func.count(lines.position))
        .select_from(t.statements.outerjoin(t.statement_lines, lines.statement_pk == s.pk))
        .group_by(s.pk, s.statement_id, s.line_count)
    )
    with store.engine.connect() as connection:
        rows = connection.execute(query).all()
    assert rows, "no statement was saved"
    return [(key, want, have) for key, want, have in rows if want != have]


@pytest.mark.parametrize(("backend", "seed", "kills"), SCENARIOS)
def test_a_process_killed_at_random_loses_nothing_and_books_nothing_twice(
    backend: str, seed: int, kills: int, tmp_path: Path
) -> None:
    rng = random.Random(seed)
    pushes = tmp_path / "pushes"
    pushes.mkdir()
    acks, log, config = tmp_path / "acks.txt", tmp_path / "worker.log", tmp_path / "config.json"
    with (
        fresh_database(backend, tmp_path) as url,
        FakeEmsServer(slow_delay=0.05) as server,
        carrier_side(server, pushes),
        EmsCarrier(**server.carrier_config()) as parser,
    ):
        with open_store(url, keys=KEYS) as store:
            mailed = prepare(store, "ems", APPLICATIONS)
        server.inject(Fault.SLOW, times=10_000, api_code=API_CREATE_ORDER)
        admitted = APPLICATIONS

        killed = runs = 0
        while killed < kills:
            runs += 1
            assert runs <= 3 * kills, f"only {killed} of {runs} runs were killed"
            configure(
                config, url=url, server=server, pushes=pushes, acks=acks, expected=2 * len(mailed)
            )
            process = start(config, log)
            try:
                process.wait(timeout=rng.uniform(*DELAYS))
            except subprocess.TimeoutExpired:
                process.send_signal(signal.SIGKILL)
                process.wait()
                killed += 1
            else:  # the work ran out before the kill: more applications come in
                assert 0 == process.returncode, log.read_text(encoding="utf-8")
                with open_store(url, keys=KEYS) as store:
                    mailed += admit(store, range(admitted, admitted + MORE))
                admitted += MORE
            done = acknowledged(acks)
            assert [] == missing_events(url, event_ids(pushes, done, parser))

        orders = [reference + "-R" for reference in mailed]
        process = start(config, log)
        assert 0 == process.wait(timeout=90), log.read_text(encoding="utf-8")
        assert "" == log.read_text(encoding="utf-8")  # the worker prints nothing

        every = sorted(path.stem for path in pushes.glob("*.json"))
        assert sorted(f"{o}-{s}" for o in orders for s in "ab") == every
        assert sorted(set(acknowledged(acks))) == every
        ids = event_ids(pushes, every, parser)
        assert 3 * len(orders) == len(ids)
        assert [] == missing_events(url, ids)
        assert sorted(orders) == sorted(server.booked_order_ids)  # each once, none other

        with open_store(url, keys=KEYS) as store:
            assert len(ids) == store.events.count()
            check_final_state(store, server, mailed)
    if backend == "sqlite":
        path = url.removeprefix("sqlite:///")
        with sqlite3.connect(path) as connection:
            assert [("ok",)] == connection.execute("PRAGMA integrity_check").fetchall()


def check_final_state(store: Store, server: FakeEmsServer, mailed: list[str]) -> None:
    for reference in mailed:
        order = reference + "-R"
        entry = store.journal.get(order)
        shipment = store.shipments.get(order)
        application = store.applications.get(reference)
        assert entry is not None
        assert shipment is not None
        assert application is not None
        assert JournalState.BOOKED == entry.state
        assert (server.waybill_of(order), ShipmentStatus.DELIVERED) == (
            str(shipment.tracking_number),
            shipment.status,
        )
        assert ApplicationStatus.RESULT_DELIVERED == application.status
    assert [] == statements_without_all_lines(store)
    current = store.statements.current("GZ-AGREEMENT-2024", PERIOD)
    assert current is not None
    assert (len(mailed), PRICE * len(mailed)) == (current.pieces, current.total)
    assert () == store.ledger.verify()
    for leg in LedgerLeg:
        assert current.total == store.ledger.balance("GZ-AGREEMENT-2024", 2024, leg)
