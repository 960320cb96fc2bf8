"""Concurrency: two agency processes on one store do each thing once, as one process would.

Two worker processes (``tests/service_worker.py``) start together on the same store, the same
:class:`~govpost.testing.FakeEmsServer` and the same pushes: both dispatch every approved
application and both ingest every push — one in order, the other backwards, so that they meet
on one shipment with different events —, racing for each order and each event. Then each
event is stored once, the carrier created each order once, and the applications and shipments
end where a single process doing the same work leaves them. SQLite serializes the two
(``BEGIN IMMEDIATE``); PostgreSQL runs them side by side, under the row locks and the one
write order the service keeps.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from govpost.carriers import JournalState
from govpost.carriers.ems import EmsCarrier
from govpost.settlement import SettlementStatement
from govpost.store import Store, open_store
from govpost.testing import FakeEmsServer
from tests.databases import fresh_database
from tests.service_worker import (
    KEYS,
    PERIOD,
    acknowledged,
    carrier_side,
    configure,
    event_ids,
    prepare,
    start,
)

APPLICATIONS = 20
AGREEMENT_ID = "GZ-AGREEMENT-2024"


def outcome(store: Store, mailed: list[str]) -> dict[str, Any]:
    """What the work leaves: statuses, and each shipment's events and times (not the waybills
    or the times of saving, which differ between runs)."""
    applications = {a.reference: a.status.value for a in store.applications.find()}
    shipments = {
        s.id: (s.status.value, len(s.events), s.picked_up_at, s.delivered_at)
        for s in store.shipments.find()
    }
    journal = {}
    for reference in mailed:
        entry = store.journal.get(reference + "-R")
        assert entry is not None
        journal[entry.key] = entry.state
    statement = store.statements.current(AGREEMENT_ID, PERIOD)
    assert isinstance(statement, SettlementStatement)
    return {
        "applications": applications,
        "shipments": shipments,
        "journal": journal,
        "statement": (statement.pieces, statement.total),
        "events": store.events.count(),
    }


def run(url: str, folder: Path, workers: int) -> tuple[dict[str, Any], list[str], set[str]]:
    """``workers`` processes doing the whole work together; the outcome, the orders the
    carrier created, and the ids of the events pushed."""
    pushes = folder / "pushes"
    pushes.mkdir()
    with FakeEmsServer() as server, carrier_side(server, pushes):
        with open_store(url, keys=KEYS) as store:
            mailed = prepare(store, "ems", APPLICATIONS)
        expected = 2 * len(mailed)
        configs = [
            configure(
                folder / f"config-{n}.json",
                url=url,
                server=server,
                pushes=pushes,
                acks=folder / f"acks-{n}.txt",
                expected=expected,
                racing=True,
                backwards=n % 2 == 1,
            )
            for n in range(workers)
        ]
        logs = [folder / f"worker-{n}.log" for n in range(workers)]
        processes = [start(config, log) for config, log in zip(configs, logs, strict=True)]
        for process, log in zip(processes, logs, strict=True):
            assert 0 == process.wait(timeout=120), log.read_text(encoding="utf-8")
            assert "" == log.read_text(encoding="utf-8")
        every = sorted(path.stem for path in pushes.glob("*.json"))
        assert expected == len(every)
        for n in range(workers):
            assert every == sorted(acknowledged(folder / f"acks-{n}.txt"))
        with EmsCarrier(**server.carrier_config()) as parser:
            ids = event_ids(pushes, every, parser)
        booked = list(server.booked_order_ids)
        with open_store(url, keys=KEYS) as store:
            assert all(store.events.get("ems", i) is not None for i in ids)
            return outcome(store, mailed), booked, ids


@pytest.fixture(scope="module")
def alone(tmp_path_factory: pytest.TempPathFactory) -> tuple[dict[str, Any], list[str], set[str]]:
    """The same work done by one process (on SQLite: the outcome does not depend on it)."""
    folder = tmp_path_factory.mktemp("alone")
    return run(f"sqlite:///{folder / 'store.db'}", folder, workers=1)


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_two_processes_do_each_thing_once_and_end_as_one_would(
    backend: str, tmp_path: Path, alone: tuple[dict[str, Any], list[str], set[str]]
) -> None:
    with fresh_database(backend, tmp_path) as url:
        together, booked, ids = run(url, tmp_path, workers=2)
    alone_outcome, booked_alone, ids_alone = alone

    orders = sorted(together["journal"])
    assert orders == sorted(booked)  # each order created once, and no other
    assert len(ids) == together["events"]  # each event stored once
    assert set(together["journal"].values()) == {JournalState.BOOKED}
    assert sorted(booked_alone) == orders
    assert len(ids_alone) == len(ids)
    assert alone_outcome == together
