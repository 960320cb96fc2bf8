"""Tracking events into the store: events, shipments and applications in one transaction (private)."""

from __future__ import annotations

from collections.abc import Iterable

import attrs

from govpost.applications import (
    CARRIER_TO_APPLICATION,
    Application,
    ApplicationEvent,
    ApplicationStatusMessage,
    CarrierStatus,
)
from govpost.service._reports import IngestReport
from govpost.shipments import Direction, Shipment, TrackingEvent
from govpost.store import Transaction

__all__ = ["apply_stored", "carrier_events", "record_tracking"]


def carrier_events(shipment: Shipment) -> tuple[ApplicationEvent, ...]:
    """The application events the result shipment's tracking gives, as the exchange does.

    Each tracking event the shipment applied (not revoked, not an anomaly) whose status
    :data:`~govpost.applications.CARRIER_TO_APPLICATION` maps, and which moved the shipment
    to that status, becomes the event of
    :meth:`ApplicationStatusMessage.of(CarrierStatus.of(shipment, event))
    <govpost.applications.ApplicationStatusMessage.of>` (id ``carrier:<event id>``). A
    delivery scan on the way back to the sender ends a return, not a delivery: it moved the
    shipment to RETURNED, so it gives nothing. Only a result going to its applicant moves the
    application: materials mailed in to the center give nothing.
    """
    if shipment.application_ref is None or shipment.direction is not Direction.OUTBOUND_RESULT:
        return ()
    moves = set(shipment.history)
    refused = {anomaly.event_id for anomaly in shipment.anomalies}
    found: list[ApplicationEvent] = []
    for event in shipment.events:
        if (
            event.is_revocation
            or event.event_id in refused
            or event.status not in CARRIER_TO_APPLICATION
            or (event.occurred_at, event.status) not in moves
        ):
            continue
        message = ApplicationStatusMessage.of(CarrierStatus.of(shipment, event))
        moved = message.event()
        if moved is not None:
            found.append(moved)
    return tuple(found)


def record_tracking(tx: Transaction, carrier: str, events: Iterable[TrackingEvent]) -> IngestReport:
    """Store ``events`` of ``carrier``, apply them to their shipments and those shipments'
    applications, all in ``tx``.

    Rows are written in one order (waybill, then event id; an application before its
    shipment) by every writer, so that two processes ingesting overlapping events wait for
    each other instead of deadlocking; each application and shipment is read under a row lock
    and written back in the same transaction, so that no concurrent change is lost.
    """
    ordered = sorted(events, key=_write_order)
    stored = tx.events.ingest(carrier, ordered)
    return attrs.evolve(_apply(tx, ordered), received=len(ordered), stored=stored)


def apply_stored(tx: Transaction, carrier: str, number: str) -> IngestReport:
    """Apply the events of ``carrier`` stored for waybill ``number`` to its shipment and that
    shipment's application, in ``tx``; the events are read, not written again (a correction
    stored meanwhile is not overwritten by the version read before it).

    For the writer that commits second of two that met on a waybill: a push storing its
    events while the booking of that waybill is recorded. Under PostgreSQL's and MariaDB's
    isolation neither transaction sees the other's uncommitted rows, so each checks again
    after its own commit; the one committing last sees the other's rows.
    """
    return _apply(tx, sorted(tx.events.for_waybill(number, carrier), key=_write_order))


def _write_order(event: TrackingEvent) -> tuple[str, str]:
    return (event.tracking_number.value, event.event_id)


def _apply(tx: Transaction, ordered: list[TrackingEvent]) -> IngestReport:
    """Apply ``ordered`` (in write order) to their shipments and applications, in ``tx``."""
    by_waybill: dict[str, list[TrackingEvent]] = {}
    for event in ordered:
        by_waybill.setdefault(event.tracking_number.value, []).append(event)
    shipments: list[str] = []
    applications: list[str] = []
    unmatched: list[str] = []
    for number, batch in by_waybill.items():
        found = tx.shipments.by_tracking_number(number)
        if found is None:
            unmatched.append(number)
            continue
        application: Application | None = None
        reference = found.application_ref
        if reference is not None and found.direction is Direction.OUTBOUND_RESULT:
            application = tx.applications.get(reference, lock=True)
        shipment = tx.shipments.get(found.id, lock=True)
        assert shipment is not None  # a shipment is never deleted
        moved = shipment.apply(*batch)
        if moved != shipment:
            tx.shipments.record(moved)
            shipments.append(moved.id)
        if application is not None:
            updated = application.apply(*carrier_events(moved))
            if updated != application:
                tx.applications.record(updated)
                applications.append(updated.reference)
    return IngestReport(
        shipments=shipments,
        applications=applications,
        unmatched=unmatched,
    )
