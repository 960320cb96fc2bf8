"""Reports: the KPIs of the cooperation (政邮合作), from a store or from data in memory.

The provincial postal administration's report on 2018 measured the cooperation by a few
figures: centers cooperating by mode and level, items sent, postage paid by government,
trips and travel cost saved for citizens, the share of the provincial center's certificates
delivered by post — and asked for the time of each stage against its time limit. A
:class:`KpiReport` holds them for one :class:`~govpost.periods.Period`, by level, mode,
business line, direction and month:

- :func:`report_from_store` reads a :class:`~govpost.store.Store`;
- :func:`build_report` takes the same data in memory (centers, applications, shipments,
  statements, reconciliation reports and the service catalogue) and gives the same report.

Every number that is not data — trips per result, travel cost per trip by zone, delivery
time limits, which lines count as certificates — is an :class:`Assumptions`, configurable and
printed with the report; the defaults are illustrative. Amounts are exact
:class:`~govpost.money.Money`, rates exact fractions::

    >>> from datetime import datetime
    >>> from govpost.applications import Applicant, Application, Service, ServiceCatalogue
    >>> from govpost.centers import ServiceCenter
    >>> from govpost.periods import SHANGHAI
    >>> center = ServiceCenter(code="GZ-520000", name="贵州省政务服务中心", division="520000",
    ...     mode="stationed_staff", channels={"window"}, business_lines={"licence_delivery"})
    >>> catalogue = ServiceCatalogue(services=[Service(code="S1", name="营业执照核发",
    ...     business_line="licence_delivery", time_limit_days=3)])
    >>> at = datetime(2018, 6, 4, 10, 0, tzinfo=SHANGHAI)
    >>> app = Application(reference="R-1", center="GZ-520000", service="S1",
    ...     channel="window", applicant=Applicant(name="张三", mobile="13800138000",
    ...     address="贵州省贵阳市南明区中华南路1号"), accepted_at=at, destination="520102",
    ...     delivery="mail",
    ... ).approve(at.replace(day=5)).dispatch(at.replace(day=6)).deliver(at.replace(day=7))
    >>> report = build_report([center], [app], [], [], [], "2018-06", catalogue=catalogue)
    >>> report.trips_saved, str(report.citizen_cost_saved), report.provincial_share_by_post
    (1, '80.00 CNY', Fraction(1, 1))

Output: :meth:`KpiReport.to_table` (terminal text, columns aligned for Chinese),
:meth:`~KpiReport.to_dict` / :meth:`~KpiReport.to_json` (amounts as strings, the keys of
``govpost report --json``), :meth:`~KpiReport.to_csv` (one tidy table, UTF-8 with a BOM or
GBK), and PNG charts in :mod:`govpost.reports.charts` (the optional extra
``pip install 'govpost[charts]'``)::

    >>> report.to_dict()["provincial_share_by_post"], report.to_dict()["items_total"]
    (1.0, 0)

.. versionadded:: 0.2.0
"""

from __future__ import annotations

from govpost.reports._kpis import build_report, report_from_store
from govpost.reports._model import (
    DEFAULT_DELIVERY_DAYS,
    DEFAULT_TRIP_RULE,
    DIRECTION_LABELS,
    LEVEL_LABELS,
    STAGES,
    Assumptions,
    KpiReport,
    StageFigures,
    ZoneDelivery,
)

__all__ = [
    "DEFAULT_DELIVERY_DAYS",
    "DEFAULT_TRIP_RULE",
    "DIRECTION_LABELS",
    "LEVEL_LABELS",
    "STAGES",
    "Assumptions",
    "KpiReport",
    "StageFigures",
    "ZoneDelivery",
    "build_report",
    "report_from_store",
]
