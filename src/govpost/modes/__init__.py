"""The three cooperation modes as workflows, and the agency services the post runs for others.

Door pickup (上门揽收): a :class:`PickupSchedule` says when the post comes — recurrence rules
(RFC 5545, evaluated by python-dateutil) on the working days of a
:class:`~govpost.calendar.WorkCalendar`, so holidays are skipped and adjusted working weekends
(调休) kept. Each :class:`PickupRun` ends in a :class:`HandoverManifest` (交接清单) signed by both
sides, which :func:`reconcile_pickup` checks against the carrier's pickup scans::

    >>> from datetime import date
    >>> schedule = PickupSchedule.working_days(["10:00", "16:00"], starts=date(2018, 9, 1))
    >>> [t.strftime("%m-%d %H:%M") for t in schedule.occurrences(date(2018, 9, 30), date(2018, 10, 9))]
    ['09-30 10:00', '09-30 16:00', '10-08 10:00', '10-08 16:00']

Stationed staff (专人驻点): a :class:`CounterSession` collects the day's bookings at the counter
and closes out (:class:`DailyCloseOut`, 日结) with the postage settlement will bill.

Government agent (政府代办): the center's staff accept and pack, and hand over on a schedule
with a manifest, as above; the cost difference the agreement recognises is an
:class:`~govpost.agreements.AgentFee` (a term of the agreement, exported here too:
:attr:`FeeAgreement.agent_fee <govpost.agreements.FeeAgreement.agent_fee>`), whose lines
:func:`~govpost.settlement.settle` puts on the statement and :func:`apply_agent_fee` gathers.

Agency services (警邮, 税邮): the post collects fees and taxes on a department's behalf
(:class:`AgencyService`, :class:`AgencyTransaction`), keeps a commission
(:class:`CommissionRule`) and remits the rest (:class:`RemittanceStatement`): collected ==
net + commission on every line and in total, each commission rounded half-up once::

    >>> from datetime import datetime
    >>> from govpost.money import Money
    >>> from govpost.periods import SHANGHAI, Period
    >>> police = Department(code="GY-JGJ", name="贵阳市公安局交通管理局", business_line="police")
    >>> fines = AgencyService(code="JG-02", name="交通违法罚款代收", department=police,
    ...                       commission=CommissionRule(rate="0.0025"))
    >>> tx = fines.transaction("T-1", collected=Money("50.00"),
    ...                        occurred_at=datetime(2018, 6, 4, 9, 30, tzinfo=SHANGHAI))
    >>> statement = RemittanceStatement.build(police, [fines], [tx], Period.month(2018, 6))
    >>> statement.collected, statement.commission, statement.net
    (Money('50.00', 'CNY'), Money('0.13', 'CNY'), Money('49.87', 'CNY'))

.. versionadded:: 0.2.0
"""

from __future__ import annotations

from govpost.agreements import AgentFee, AgentFeeKind
from govpost.modes._agency import (
    AgencyService,
    AgencyTransaction,
    CommissionRule,
    Department,
    RemittanceExclusions,
    RemittanceLine,
    RemittanceStatement,
    RemittanceSubtotal,
)
from govpost.modes._agent import AgentFeeAdjustment, AgentFeeLine, apply_agent_fee
from govpost.modes._counter import CloseOutLine, CloseOutSubtotal, CounterSession, DailyCloseOut
from govpost.modes._manifest import (
    Acknowledgement,
    HandoverManifest,
    ManifestItem,
    PickupMatch,
    PickupReconciliation,
    PickupRun,
    PickupScan,
    Side,
    reconcile_pickup,
)
from govpost.modes._pickup import HORIZON_DAYS, MAX_PER_DAY, PickupSchedule

__all__ = [
    "HORIZON_DAYS",
    "MAX_PER_DAY",
    "Acknowledgement",
    "AgencyService",
    "AgencyTransaction",
    "AgentFee",
    "AgentFeeAdjustment",
    "AgentFeeKind",
    "AgentFeeLine",
    "CloseOutLine",
    "CloseOutSubtotal",
    "CommissionRule",
    "CounterSession",
    "DailyCloseOut",
    "Department",
    "HandoverManifest",
    "ManifestItem",
    "PickupMatch",
    "PickupReconciliation",
    "PickupRun",
    "PickupScan",
    "PickupSchedule",
    "RemittanceExclusions",
    "RemittanceLine",
    "RemittanceStatement",
    "RemittanceSubtotal",
    "Side",
    "apply_agent_fee",
    "reconcile_pickup",
]
