"""The world the service tests share, and the child process of the crash and concurrency tests.

As a module: a center, the sample catalogue, an agreement, applications and the EMS scans of
an order, for ``tests/test_service*.py``.

As a program (``python -m tests.service_worker CONFIG``, from the repository root): an agency
at work against a store and a :class:`~govpost.testing.FakeEmsServer` run by the parent. It
loops — dispatch a few applications, ingest the pushes the parent wrote into a directory,
close the month — until every application is dispatched and every push acknowledged, then
closes the month a last time and exits 0. A push is *acknowledged* when its id is appended to
the ack file (and fsynced) after :meth:`~govpost.service.Operations.ingest_push` returned:
the parent may SIGKILL the process at any moment and start it again. It prints nothing.

CONFIG is a JSON file: ``url`` (the store), ``ems`` (keyword arguments of
:class:`~govpost.carriers.ems.EmsCarrier` but its clock), ``pushes`` (the directory of push
files, ``<id>.json``), ``acks`` (the ack file), ``expected`` (how many pushes will come) and
``racing`` (another process works on the same store: the month is closed only at the end,
when both see the same shipments; closed while the other one still ingests, a statement
could supersede a later one, which the store refuses to bring back) and ``backwards``
(ingest the pushes in reverse order: two processes then meet on one shipment with different
pushes).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from govpost.agreements import Coverage, FeeAgreement, FlatTariff, PerPiece
from govpost.applications import Applicant, Application, ServiceCatalogue
from govpost.centers import ServiceCenter
from govpost.periods import SHANGHAI, Period
from govpost.shipments import Recipient
from govpost.store import Key, KeyRing, Store

if TYPE_CHECKING:
    from govpost.carriers.ems import EmsCarrier
    from govpost.testing import FakeEmsServer

ROOT = Path(__file__).resolve().parents[1]

#: The same key as the ``store_keys`` fixture (never a real key).
KEYS = KeyRing(Key.from_hex("k1", "00112233445566778899aabbccddeeff"))

#: "Now" for every clock of the tests: after the month's scans, within the inbox's window.
NOW = datetime(2024, 6, 20, 12, 0, tzinfo=SHANGHAI)
PERIOD = Period.month(2024, 6)
ACCEPTED = datetime(2024, 6, 3, 9, 0, tzinfo=SHANGHAI)

CENTER = ServiceCenter(
    code="GZ-520100", name="贵阳市政务服务中心", division="520100", mode="stationed_staff"
)
SENDER = Recipient(
    name="贵阳市政务服务中心", mobile="13885000000", address="贵州省贵阳市南明区市府路1号"
)
#: Applicants' data, checked against every report and message: it never shows there.
APPLICANT_NAME = "欧阳娜娜"
APPLICANT_MOBILE = "13800138000"
DESTINATIONS = ("520302", "520102", "522601", "520103")

#: EMS scans of each order: picked up, dispatched, delivered (the last confirmed by tracking).
SCANS = (
    ("203", datetime(2024, 6, 5, 10, 0, tzinfo=SHANGHAI)),
    ("389", datetime(2024, 6, 5, 14, 0, tzinfo=SHANGHAI)),
    ("704", datetime(2024, 6, 7, 15, 0, tzinfo=SHANGHAI)),
)


def catalogue() -> ServiceCatalogue:
    """The sample service catalogue of the examples."""
    text = (ROOT / "examples" / "data" / "service-catalogue.toml").read_text(encoding="utf-8")
    return ServiceCatalogue.from_toml(text)


def agreement(carrier: str, *, price: str = "12.50") -> FeeAgreement:
    """A per-piece agreement of the center with ``carrier``."""
    return FeeAgreement(
        id="GZ-AGREEMENT-2024",
        carrier=carrier,
        reference="黔政办〔2024〕1号",
        centers={CENTER.code},
        covers=Coverage.all(),
        valid_from=date(2024, 1, 1),
        mode=PerPiece(tariff=FlatTariff(price=price)),
    )


def reference(number: int) -> str:
    return f"520100-20240603-{number:04d}"


def application(number: int, *, delivery: str = "mail") -> Application:
    """Application ``number``, accepted on 3 June 2024."""
    return Application(
        reference=reference(number),
        center=CENTER.code,
        service="GZ-SCJG-001",
        channel="online",
        applicant=Applicant(
            name=APPLICANT_NAME, mobile=APPLICANT_MOBILE, address="贵州省遵义市红花岗区中华南路1号"
        ),
        accepted_at=ACCEPTED + timedelta(minutes=number),
        destination=DESTINATIONS[number % len(DESTINATIONS)],
        delivery=delivery,
    )


def approved_at(number: int) -> datetime:
    return datetime(2024, 6, 4, 10, 0, tzinfo=SHANGHAI) + timedelta(minutes=number)


def seed(store: Store, carrier: str) -> None:
    """The reference data: the center, the catalogue, the agreement with ``carrier``."""
    store.centers.upsert(CENTER)
    store.catalogue.upsert(catalogue())
    store.agreements.upsert(agreement(carrier))


def admit(store: Store, numbers: Iterable[int]) -> list[str]:
    """Accept and approve the applications ``numbers`` (through the service, with a carrier
    that is never called; every fifth chose to collect its result at the hall); the
    references of those that chose ``MAIL``."""
    from govpost.carriers.sandbox import SandboxCarrier
    from govpost.service import Operations

    operations = Operations(store, SandboxCarrier(), sender=SENDER, clock=lambda: NOW)
    mailed = []
    for n in numbers:
        app = application(n, delivery="collect" if n % 5 == 4 else "mail")
        operations.accept(app)
        operations.approve(app.reference, approved_at(n))
        if app.delivery.value == "mail":
            mailed.append(app.reference)
    return mailed


def prepare(store: Store, carrier: str, count: int) -> list[str]:
    """Seed the store, then :func:`admit` ``count`` applications."""
    seed(store, carrier)
    return admit(store, range(count))


# --- the child process ------------------------------------------------------------------------


def _acked(path: Path) -> set[str]:
    if not path.exists():
        return set()
    return {line for line in path.read_text(encoding="utf-8").splitlines() if line}


def _ack(path: Path, push_id: str) -> None:
    with path.open("a", encoding="utf-8") as file:
        file.write(push_id + "\n")
        file.flush()
        os.fsync(file.fileno())


def work(config: dict[str, Any]) -> None:
    """Dispatch, ingest and close until everything is done (see the module docstring)."""
    from govpost.applications import ApplicationStatus
    from govpost.carriers.ems import EmsCarrier
    from govpost.service import Operations
    from govpost.store import open_store

    pushes = Path(config["pushes"])
    acks = Path(config["acks"])
    expected = int(config["expected"])
    racing = bool(config.get("racing"))
    backwards = bool(config.get("backwards"))
    acked = _acked(acks)
    with (
        open_store(config["url"], keys=KEYS) as store,
        EmsCarrier(**config["ems"], clock=lambda: NOW) as ems,
    ):
        operations = Operations(store, ems, sender=SENDER, clock=lambda: NOW)
        while True:
            operations.dispatch(limit=3)
            waiting = sorted(
                (p for p in pushes.glob("*.json") if p.stem not in acked), reverse=backwards
            )
            for path in waiting[:6]:
                operations.ingest_push(path.read_bytes(), {"Content-Type": "application/json"})
                _ack(acks, path.stem)
                acked.add(path.stem)
            if not racing:
                # Closed again and again while the month fills: each change supersedes.
                operations.close_month(PERIOD, supersede=True)
            due = store.applications.find(status=ApplicationStatus.APPROVED)
            if len(acked) >= expected and not any(a.current_delivery.value == "mail" for a in due):
                break
            if not waiting:
                time.sleep(0.02)
        operations.close_month(PERIOD, supersede=True)


# --- the parent's side ---------------------------------------------------------------------------


class Carrier(threading.Thread):
    """The carrier's side: scans each order the server created and writes its two pushes."""

    def __init__(self, server: FakeEmsServer, folder: Path) -> None:
        super().__init__(daemon=True)
        self.server = server
        self.folder = folder
        self.done: set[str] = set()
        self.stop = threading.Event()

    def run(self) -> None:
        while not self.stop.wait(0.02):
            for order_id, waybill in self.server.orders().items():
                if order_id not in self.done:
                    self.push(order_id, waybill)
                    self.done.add(order_id)

    def push(self, order_id: str, waybill: str) -> None:
        from govpost.testing import push_body

        traces = [self.server.scan(waybill, code, at) for code, at in SCANS]
        for suffix, batch in (("a", traces[:2]), ("b", traces[2:])):
            push_id = f"{order_id}-{suffix}"
            body = push_body(batch, self.server.sign_key, serial_no=push_id)
            staged = self.folder / f"{push_id}.part"
            staged.write_bytes(body)
            staged.replace(self.folder / f"{push_id}.json")


@contextmanager
def carrier_side(server: FakeEmsServer, folder: Path) -> Iterator[Carrier]:
    """The carrier's side, running while the block runs."""
    carrier = Carrier(server, folder)
    carrier.start()
    try:
        yield carrier
    finally:
        carrier.stop.set()
        carrier.join(timeout=5)


def configure(
    path: Path,
    *,
    url: str,
    server: FakeEmsServer,
    pushes: Path,
    acks: Path,
    expected: int,
    racing: bool = False,
    backwards: bool = False,
) -> Path:
    """Write the worker's CONFIG file at ``path`` (see the module docstring)."""
    config = {
        "url": url,
        "ems": server.carrier_config(backoff=0.01),
        "pushes": str(pushes),
        "acks": str(acks),
        "expected": expected,
        "racing": racing,
        "backwards": backwards,
    }
    path.write_text(json.dumps(config), encoding="utf-8")
    return path


def start(config: Path, log: Path) -> subprocess.Popen[bytes]:
    """Start the worker on ``config``; its stderr goes to ``log``."""
    with log.open("ab") as errors:
        return subprocess.Popen(
            [sys.executable, "-m", "tests.service_worker", str(config)],
            cwd=ROOT,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=errors,
        )


def acknowledged(acks: Path) -> list[str]:
    """The ids of the pushes acknowledged in ``acks``, in order."""
    if not acks.exists():
        return []
    return [line for line in acks.read_text(encoding="utf-8").splitlines() if line]


def event_ids(folder: Path, push_ids: list[str], parser: EmsCarrier) -> set[str]:
    """The ids of the events the pushes ``push_ids`` in ``folder`` carry."""
    ids: set[str] = set()
    for push_id in push_ids:
        message = parser.parse_push((folder / f"{push_id}.json").read_bytes(), {})
        ids.update(event.event_id for event in message.events)
    return ids


if __name__ == "__main__":
    work(json.loads(Path(sys.argv[1]).read_text(encoding="utf-8")))
