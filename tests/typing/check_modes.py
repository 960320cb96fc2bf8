"""Call sites of govpost.modes (cooperation modes and agency services), checked by mypy (never run)."""

from __future__ import annotations

from datetime import date, datetime, time
from decimal import Decimal
from typing import assert_type

from govpost.agreements import FeeAgreement
from govpost.centers import CooperationMode
from govpost.modes import (
    Acknowledgement,
    AgencyService,
    AgencyTransaction,
    AgentFee,
    AgentFeeAdjustment,
    CommissionRule,
    CounterSession,
    DailyCloseOut,
    Department,
    HandoverManifest,
    ManifestItem,
    PickupReconciliation,
    PickupRun,
    PickupScan,
    PickupSchedule,
    RemittanceExclusions,
    RemittanceLine,
    RemittanceStatement,
    apply_agent_fee,
    reconcile_pickup,
)
from govpost.money import Money
from govpost.periods import Period
from govpost.settlement import SettlementStatement
from govpost.shipments import Shipment, TrackingEvent


def schedules(start: date, moment: datetime) -> None:
    schedule = PickupSchedule.working_days(["10:00", time(16)], starts=start)
    assert_type(schedule, PickupSchedule)
    assert_type(PickupSchedule(rules="FREQ=DAILY;BYHOUR=10", starts=start), PickupSchedule)
    assert_type(PickupSchedule(rules=["FREQ=DAILY;BYHOUR=10"], starts=start), PickupSchedule)
    assert_type(schedule.occurrences(start, moment), tuple[datetime, ...])
    assert_type(schedule.next_pickup(moment), datetime)
    assert_type(schedule.runs("GZ-520100", start, start), tuple[PickupRun, ...])
    PickupSchedule(rules=10, starts=start)  # type: ignore[arg-type]
    PickupSchedule(rules="FREQ=DAILY;BYHOUR=10", starts="2018-01-01")  # type: ignore[arg-type]
    schedule.next_pickup(start)  # type: ignore[arg-type]


def manifests(moment: datetime, shipments: list[Shipment], events: list[TrackingEvent]) -> None:
    manifest = HandoverManifest.from_shipments(shipments, center="GZ-520100", scheduled_at=moment)
    assert_type(manifest, HandoverManifest)
    assert_type(PickupRun(center="GZ-1", scheduled_at=moment).manifest(shipments), HandoverManifest)
    assert_type(manifest.acknowledge("center", name="张三", at=moment), HandoverManifest)
    assert_type(manifest.handed_over, Acknowledgement | None)
    assert_type(ManifestItem(waybill="EA000000014CN", weight_g=180), ManifestItem)
    scans = [PickupScan(waybill="EA000000014CN", scanned_at=moment, weight_g=180)]
    assert_type(reconcile_pickup(manifest, scans, tolerance_g=10), PickupReconciliation)
    assert_type(reconcile_pickup(manifest, events), PickupReconciliation)
    assert_type(manifest.mode, CooperationMode)
    ManifestItem(waybill="EA000000014CN", weight_g="180")  # type: ignore[arg-type]
    manifest.acknowledge("center", name=None, at=moment)  # type: ignore[arg-type]
    reconcile_pickup(manifest, ["EA000000014CN"])  # type: ignore[list-item]


def counter(day: date, shipments: list[Shipment], agreement: FeeAgreement) -> None:
    session = CounterSession(center="GZ-520100", day=day).book(*shipments)
    assert_type(session, CounterSession)
    assert_type(session.close_out(agreement), DailyCloseOut)
    assert_type(session.close_out(agreement).postage, Money)
    CounterSession(center="GZ-520100", day="2018-06-04")  # type: ignore[arg-type]
    session.close_out("GZ-EMS")  # type: ignore[arg-type]


def agent(statement: SettlementStatement) -> None:
    fee = AgentFee(per_piece=Money("1.50"), reference="第五条")
    assert_type(apply_agent_fee(statement, fee), AgentFeeAdjustment)
    AgentFee(per_piece="1.50", reference="第五条")  # type: ignore[arg-type]


def agency(moment: datetime) -> None:
    police = Department(code="GY-JGJ", name="贵阳市公安局交通管理局", business_line="police")
    rule = CommissionRule(rate=Decimal("0.0025"))
    assert_type(CommissionRule(rate="0.0025"), CommissionRule)
    assert_type(rule.commission(Money("50.00")), Money)
    service = AgencyService(code="JG-02", name="罚款代收", department=police, commission=rule)
    tx = service.transaction("T-1", occurred_at=moment, collected=Money("50.00"))
    assert_type(tx, AgencyTransaction)
    statement = RemittanceStatement.build(police, [service], [tx], Period.month(2018, 6))
    assert_type(statement, RemittanceStatement)
    assert_type(statement.net, Money)
    assert_type(statement.to_csv(), str)
    CommissionRule(rate=0.0025)  # type: ignore[arg-type]
    CommissionRule(per_transaction="3.00")  # type: ignore[arg-type]
    RemittanceStatement.build(police, [service], [tx], "2018-06")  # type: ignore[arg-type]


def constructors(moment: datetime, day: date, event: TrackingEvent) -> None:
    """Each public constructor of the modes once right, once wrong (review)."""
    assert_type(Acknowledgement(name="张三", at=moment), Acknowledgement)
    Acknowledgement(name="张三", at="2018-09-29T10:00:00+08:00")  # type: ignore[arg-type]
    item = ManifestItem(waybill="EA000000014CN", weight_g=180)
    manifest = HandoverManifest(
        manifest_id="M-1", center="GZ-520100", scheduled_at=moment, items=[item]
    )
    assert_type(manifest, HandoverManifest)
    HandoverManifest(  # type: ignore[call-arg]
        manifest_id="M-1", center="GZ-520100", scheduled_at=moment
    )
    assert_type(PickupRun(center="GZ-520100", scheduled_at=moment), PickupRun)
    PickupRun(center="GZ-520100", scheduled_at=day)  # type: ignore[arg-type]
    assert_type(PickupScan.from_event(event), PickupScan)
    PickupScan(waybill="EA000000014CN", scanned_at=moment, weight_g=1.5)  # type: ignore[arg-type]
    PickupScan.from_event("EA000000014CN")  # type: ignore[arg-type]
    schedule = PickupSchedule.working_days(["10:00"], starts=day)
    PickupSchedule.working_days(["10:00"], starts=moment.isoformat())  # type: ignore[arg-type]
    schedule.occurrences(day, day, calendar="china")  # type: ignore[arg-type]
    schedule.runs(520100, day, day)  # type: ignore[arg-type]
    reconcile_pickup(manifest, [], tolerance_g="5")  # type: ignore[arg-type]
    police = Department(code="GY-JGJ", name="贵阳市公安局交通管理局", business_line="police")
    Department(code="GY-JGJ", name="交管局")  # type: ignore[call-arg]
    rule = CommissionRule(per_transaction=Money("3.00"))
    service = AgencyService(code="JG-01", name="补领驾驶证", department=police, commission=rule)
    AgencyService(code="JG-01", name="补领驾驶证", department="GY-JGJ", commission=rule)  # type: ignore[arg-type]
    assert_type(service.transaction("T-1", occurred_at=moment), AgencyTransaction)
    service.transaction("T-1", occurred_at=moment, collected="10.00")  # type: ignore[arg-type]
    tx = AgencyTransaction(
        transaction_id="T-1", service_code="JG-01", occurred_at=moment, collected=Money("10.00")
    )
    assert_type(tx, AgencyTransaction)
    AgencyTransaction(
        transaction_id="T-1",
        service_code="JG-01",
        occurred_at=moment,
        collected=10,  # type: ignore[arg-type]
    )
    assert_type(RemittanceExclusions(duplicates=1), RemittanceExclusions)
    RemittanceExclusions(duplicates="1")  # type: ignore[arg-type]
    line = RemittanceLine(
        transaction_id="T-1",
        service_code="JG-01",
        day=day,
        collected=Money("10.00"),
        commission=Money("3.00"),
        net=Money("7.00"),
    )
    assert_type(line, RemittanceLine)
    RemittanceLine(
        transaction_id="T-1",
        service_code="JG-01",
        day="2018-06-04",  # type: ignore[arg-type]
        collected=Money("10.00"),
        commission=Money("3.00"),
        net=Money("7.00"),
    )
