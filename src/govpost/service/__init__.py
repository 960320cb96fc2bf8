"""The operations an agency runs over its store and its carrier: each exactly once, crash-safe.

:class:`Operations` joins a :class:`~govpost.store.Store` and a carrier adapter. Each operation
is one or more transactions of the store with the carrier's calls between them — never a
network call whose outcome a crash could lose:

- **accept and approve** applications (:meth:`~Operations.accept`, :meth:`~Operations.approve`,
  :meth:`~Operations.reject`, :meth:`~Operations.withdraw`,
  :meth:`~Operations.change_delivery`): one transaction each; the same call again changes
  nothing, a contradicting one is refused;
- **dispatch** (:meth:`~Operations.dispatch`): for each approved application that chose
  ``MAIL``, (1) the result's shipment and the booking's intent are recorded, (2) the order is
  booked under its own id with :func:`~govpost.carriers.journal.book_once` (the booking journal is
  ``store.journal``), (3) the waybill and the dispatch are recorded. A crash anywhere is
  resumed by the next run and never books twice: the carrier answers an order asked for again
  with the waybill it gave;
- **tracking** (:meth:`~Operations.ingest_push`, :meth:`~Operations.poll_tracking`): the events
  of a push, the shipments and applications they move on and the push inbox's seen ids are
  committed together, before the push is acknowledged; polled tracking takes the same path;
- **close a period** (:meth:`~Operations.close_month`): every agreement settled from the
  store, each statement saved once with its ledger entries (finance → center → carrier) in the
  same transaction;
- **reconcile** (:meth:`~Operations.reconcile`) the carrier's bill against the saved statement.

Reports (:class:`DispatchReport`, :class:`IngestReport`) hold counts, order ids, waybills and
references: never personal data. A day of an agency, with the sandbox carrier::

    >>> import tempfile
    >>> from datetime import date, datetime, timedelta
    >>> from pathlib import Path
    >>> from govpost.agreements import Coverage, FeeAgreement, FlatTariff, PerPiece
    >>> from govpost.applications import Applicant, Application, ServiceCatalogue
    >>> from govpost.carriers.sandbox import SandboxCarrier
    >>> from govpost.centers import ServiceCenter
    >>> from govpost.periods import SHANGHAI, Period
    >>> from govpost.shipments import Recipient
    >>> from govpost.store import Key, KeyRing, open_store
    >>> folder = tempfile.TemporaryDirectory()
    >>> store = open_store(f"sqlite:///{folder.name}/govpost.db",
    ...                    keys=KeyRing(Key.from_hex("k1", "00112233445566778899aabbccddeeff")))
    >>> store.centers.upsert(ServiceCenter(code="GZ-520100", name="贵阳市政务服务中心",
    ...     division="520100", mode="stationed_staff"))
    1
    >>> catalogue = ServiceCatalogue.from_toml(
    ...     Path("examples/data/service-catalogue.toml").read_text(encoding="utf-8"))
    >>> store.catalogue.upsert(catalogue) > 0
    True
    >>> store.agreements.upsert(FeeAgreement(id="GZ-EMS-2018", carrier="sandbox",
    ...     reference="黔政办〔2018〕1号", centers={"GZ-520100"}, covers=Coverage.all(),
    ...     valid_from=date(2018, 1, 1), mode=PerPiece(tariff=FlatTariff(price="12.50"))))
    1
    >>> now = datetime(2018, 6, 20, 18, 0, tzinfo=SHANGHAI)
    >>> sandbox = SandboxCarrier(seed=2018, clock=lambda: now, failure_rate=0, return_rate=0)
    >>> window = Recipient(name="贵阳市政务服务中心", mobile="13885000000",
    ...                    address="贵州省贵阳市南明区市府路1号")
    >>> operations = Operations(store, sandbox, sender=window, clock=lambda: now)
    >>> accepted = operations.accept(Application(
    ...     reference="520100-20180604-0001", center="GZ-520100", service="GZ-SCJG-001",
    ...     channel="online", applicant=Applicant(name="张三", mobile="13800138000",
    ...     address="贵州省遵义市红花岗区中华南路1号"),
    ...     accepted_at=datetime(2018, 6, 4, 10, 0, tzinfo=SHANGHAI),
    ...     destination="520302", delivery="mail"))
    >>> operations.approve("520100-20180604-0001",
    ...                    datetime(2018, 6, 6, 11, 0, tzinfo=SHANGHAI)).status.name
    'APPROVED'
    >>> operations.dispatch().booked
    ('520100-20180604-0001-R',)
    >>> operations.dispatch().booked              # again: nothing left to book
    ()
    >>> shipment = store.shipments.get("520100-20180604-0001-R")
    >>> pushed = operations.ingest_push(*sandbox.push(shipment.tracking_number))
    >>> pushed.applications, store.applications.get("520100-20180604-0001").status.name
    (('520100-20180604-0001',), 'RESULT_DELIVERED')
    >>> operations.ingest_push(*sandbox.push(shipment.tracking_number)).received  # a redelivery
    0
    >>> (statement,) = operations.close_month(Period.month(2018, 6))
    >>> statement.pieces, statement.total
    (1, Money('12.50', 'CNY'))
    >>> operations.close_month(Period.month(2018, 6)) == (statement,)   # closed once
    True
    >>> store.close(); folder.cleanup()

.. versionadded:: 0.2.0
"""

from __future__ import annotations

from govpost.service._operations import Operations
from govpost.service._reports import DispatchReport, IngestReport

__all__ = ["DispatchReport", "IngestReport", "Operations"]
