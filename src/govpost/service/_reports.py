"""What the operations report: counts and ids, never personal data (private; see the package)."""

from __future__ import annotations

from collections.abc import Iterable

import attrs

__all__ = ["DispatchReport", "IngestReport"]


def _ids(values: Iterable[str]) -> tuple[str, ...]:
    return tuple(values)


def _codes(values: Iterable[tuple[str, str]]) -> tuple[tuple[str, str], ...]:
    return tuple(values)


@attrs.frozen(kw_only=True)
class DispatchReport:
    """What one :meth:`~govpost.service.Operations.dispatch` run did, by order id.

    The order id is the result shipment's id (``<reference>-R``): no personal data.

    Attributes:
        booked: orders booked with the carrier in this run (a call was made; a carrier that
            already had the order answered with its waybill).
        recovered: orders whose booking the journal already held (the run before stopped
            between the carrier's answer and recording it): completed without a call.
        pending: orders the carrier could not book for now (a retryable failure, such as a
            timeout): still pending, booked again by the next run.
        failed: orders refused: by the carrier (not retryable; its journal entry is
            ``failed``), or by govpost before anything was sent (an application the
            catalogue or the store's centers do not allow to be mailed).
        errors: ``(order id, code)`` of each pending and failed order: the carrier's error
            code, or ``"invalid"`` for a refusal of govpost's.

    .. versionadded:: 0.2.0
    """

    booked: tuple[str, ...] = attrs.field(default=(), converter=_ids)
    recovered: tuple[str, ...] = attrs.field(default=(), converter=_ids)
    pending: tuple[str, ...] = attrs.field(default=(), converter=_ids)
    failed: tuple[str, ...] = attrs.field(default=(), converter=_ids)
    errors: tuple[tuple[str, str], ...] = attrs.field(default=(), converter=_codes)

    @property
    def dispatched(self) -> tuple[str, ...]:
        """Every order recorded as dispatched in this run: booked and recovered."""
        return (*self.booked, *self.recovered)


@attrs.frozen(kw_only=True)
class IngestReport:
    """What one push, or one tracking poll, brought into the store.

    Attributes:
        received: events handed over: by the push inbox (those not handled before, and not
            withheld), or by the carrier's tracking queries.
        stored: events new to the store, or corrections of stored ones (the rest were
            stored already).
        withheld: pushed events the inbox withheld (unconfirmed by the carrier's tracking,
            or outside its time window); not remembered, so a redelivery checks them again.
        shipments: ids of the shipments whose tracking changed.
        applications: references (办件编号) of the applications those changes moved on.
        unmatched: waybills of events no shipment in the store carries (yet): the events are
            stored, and applied when a booking records that waybill.
        failed: ids of the shipments whose tracking query failed (a poll goes on with the
            others; the next poll asks again).
        errors: ``(shipment id, code)`` of each failed query: the carrier's error code.

    .. versionadded:: 0.2.0
    """

    received: int = 0
    stored: int = 0
    withheld: int = 0
    shipments: tuple[str, ...] = attrs.field(default=(), converter=_ids)
    applications: tuple[str, ...] = attrs.field(default=(), converter=_ids)
    unmatched: tuple[str, ...] = attrs.field(default=(), converter=_ids)
    failed: tuple[str, ...] = attrs.field(default=(), converter=_ids)
    errors: tuple[tuple[str, str], ...] = attrs.field(default=(), converter=_codes)

    def __add__(self, other: IngestReport) -> IngestReport:
        """The two reports together (a poll adds those of its waybills)."""
        if not isinstance(other, IngestReport):
            return NotImplemented
        return IngestReport(
            received=self.received + other.received,
            stored=self.stored + other.stored,
            withheld=self.withheld + other.withheld,
            shipments=(*self.shipments, *other.shipments),
            applications=(*self.applications, *other.applications),
            unmatched=(*self.unmatched, *other.unmatched),
            failed=(*self.failed, *other.failed),
            errors=(*self.errors, *other.errors),
        )
