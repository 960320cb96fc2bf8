"""Handover manifests (交接清单) and their reconciliation with pickup scans (private).

A manifest lists the pieces a center hands to the post at one pickup or handover, with both
sides' acknowledgement; :func:`reconcile_pickup` classes every manifest item and every scan.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable
from datetime import datetime

import attrs

from govpost._fields import aware, coerce_enum, optional_text, short, text
from govpost.centers import CooperationMode, center_code
from govpost.errors import ValidationError
from govpost.identifiers import TrackingNumber, mask_name
from govpost.shipments import MAX_WEIGHT_G, Shipment, ShipmentStatus, TrackingEvent

_WAITING = frozenset({ShipmentStatus.CREATED, ShipmentStatus.AWAITING_PICKUP})


def waybill_text(value: str | TrackingNumber) -> str:
    """The key a piece is listed and scanned under: a normalised tracking number, or an id."""
    given: object = value
    if isinstance(given, TrackingNumber):
        return given.value
    if not isinstance(given, str) or not given.strip() or len(given) > 64:
        raise ValidationError(
            f"waybill {short(given)} must be a tracking number or an order id (1-64 characters)"
        )
    try:
        return TrackingNumber(value=given).value
    except ValidationError:
        return given.strip()


def _waybill(value: str | TrackingNumber) -> str:
    return waybill_text(value)


def _grams(value: int) -> int:
    given: object = value
    if isinstance(given, bool) or not isinstance(given, int) or not 0 < given <= MAX_WEIGHT_G:
        raise ValidationError(
            f"weight {short(given)} must be an int number of grams from 1 to {MAX_WEIGHT_G:,}"
        )
    return given


def _optional_grams(value: int | None) -> int | None:
    return None if value is None else _grams(value)


def _shipment_id(value: str | None) -> str | None:
    return optional_text(value, "shipment id", max_len=64)


def _event_id(value: str | None) -> str | None:
    return optional_text(value, "event id", max_len=128)


def _name(value: str) -> str:
    return text(value, "acknowledgement name", max_len=100)


def _at(value: datetime) -> datetime:
    return aware(value, "acknowledgement time")


@attrs.frozen(kw_only=True, repr=False)
class Acknowledgement:
    """One side's signature on a manifest: who signed, and when.

    The name is personal data: ``repr`` and ``str`` show it masked.

    Args:
        name: the person who signed (交接人).
        at: when (timezone-aware).

    Raises:
        ValidationError: a blank name, a naive time.

    >>> from datetime import datetime
    >>> from govpost.periods import SHANGHAI
    >>> Acknowledgement(name="欧阳娜娜", at=datetime(2018, 9, 29, 10, 5, tzinfo=SHANGHAI))
    Acknowledgement(name='欧阳**', at='2018-09-29T10:05:00+08:00')

    .. versionadded:: 0.2.0
    """

    name: str = attrs.field(converter=_name)
    at: datetime = attrs.field(converter=_at)

    def __repr__(self) -> str:
        return f"Acknowledgement(name={mask_name(self.name)!r}, at={self.at.isoformat()!r})"

    __str__ = __repr__


@attrs.frozen(kw_only=True)
class ManifestItem:
    """One piece on a manifest.

    Args:
        waybill: its tracking number, or our order id before it has one.
        weight_g: its weight in integer grams as the center weighed it.
        shipment_id: our order id.

    >>> ManifestItem(waybill="ea 000000014 cn", weight_g=180, shipment_id="GP-1").waybill
    'EA000000014CN'

    .. versionadded:: 0.2.0
    """

    waybill: str = attrs.field(converter=_waybill)
    weight_g: int = attrs.field(converter=_grams)
    shipment_id: str | None = attrs.field(default=None, converter=_shipment_id)


def _items(values: Iterable[ManifestItem]) -> tuple[ManifestItem, ...]:
    given: object = values
    if isinstance(given, str | bytes) or not isinstance(given, Iterable):
        raise ValidationError(f"items {short(given)} must be a list of ManifestItem")
    items = list(given)
    seen: set[str] = set()
    for item in items:
        if not isinstance(item, ManifestItem):
            raise ValidationError(f"items must be ManifestItem values, not {short(item)}")
        if item.waybill in seen:
            raise ValidationError(
                f"waybill {item.waybill} is on the manifest twice: list each piece once"
            )
        seen.add(item.waybill)
    return tuple(sorted(items, key=lambda item: item.waybill))


def _mode(value: CooperationMode | str) -> CooperationMode:
    return coerce_enum(CooperationMode, value, "mode")


def _center(value: str) -> str:
    return center_code(value)


def _scheduled(value: datetime) -> datetime:
    return aware(value, "scheduled_at")


def _ack(value: Acknowledgement | None) -> Acknowledgement | None:
    given: object = value
    if given is not None and not isinstance(given, Acknowledgement):
        raise ValidationError(f"acknowledgement {short(given)} must be an Acknowledgement or None")
    return given


def _manifest_id(value: str) -> str:
    return text(value, "manifest id", max_len=100)


class Side(enum.Enum):
    """The two sides that sign a manifest.

    >>> Side("carrier").label
    '接收方'

    .. versionadded:: 0.2.0
    """

    CENTER = "center"  #: the service center that hands the pieces over (交出方)
    CARRIER = "carrier"  #: the post that receives them (接收方)

    @property
    def label(self) -> str:
        """The Chinese name of the side."""
        return "交出方" if self is Side.CENTER else "接收方"


@attrs.frozen(kw_only=True)
class HandoverManifest:
    """A handover manifest (交接清单): the pieces a center hands to the post at one time.

    Door pickup (上门揽收) and the government agent's handover (政府代办) both end in one. The
    pieces, total weight and both sides' acknowledgements are on it; an acknowledgement is
    given once per side (:meth:`acknowledge`).

    Args:
        manifest_id: the manifest's number; :meth:`from_shipments` makes it from the center and
            the time.
        center: the center's code.
        mode: the cooperation mode the handover belongs to.
        scheduled_at: the pickup or handover time.
        items: the pieces, each waybill once (kept sorted by waybill).
        handed_over: the center's acknowledgement, once given.
        received: the carrier's acknowledgement, once given.

    Raises:
        ValidationError: a waybill twice, a malformed center code, a naive time.

    >>> from datetime import datetime
    >>> from govpost.periods import SHANGHAI
    >>> manifest = HandoverManifest(
    ...     manifest_id="GZ-520100-20180929T1000", center="GZ-520100",
    ...     scheduled_at=datetime(2018, 9, 29, 10, tzinfo=SHANGHAI),
    ...     items=[ManifestItem(waybill="EA000000014CN", weight_g=180),
    ...            ManifestItem(waybill="EA000000028CN", weight_g=320)],
    ... )
    >>> manifest.pieces, manifest.total_weight_g, manifest.is_acknowledged
    (2, 500, False)

    .. versionadded:: 0.2.0
    """

    manifest_id: str = attrs.field(converter=_manifest_id)
    center: str = attrs.field(converter=_center)
    mode: CooperationMode = attrs.field(default=CooperationMode.DOOR_PICKUP, converter=_mode)
    scheduled_at: datetime = attrs.field(converter=_scheduled)
    items: tuple[ManifestItem, ...] = attrs.field(converter=_items)
    handed_over: Acknowledgement | None = attrs.field(default=None, converter=_ack)
    received: Acknowledgement | None = attrs.field(default=None, converter=_ack)

    @classmethod
    def from_shipments(
        cls,
        shipments: Iterable[Shipment],
        *,
        center: str,
        scheduled_at: datetime,
        mode: CooperationMode | str = CooperationMode.DOOR_PICKUP,
    ) -> HandoverManifest:
        """The manifest of ``shipments`` handed over by ``center`` at ``scheduled_at``.

        Each shipment is one item, under its tracking number (or its id before it has one),
        with its weight. The manifest id is ``"<center>-<YYYYMMDDTHHMM>"`` of the time in
        Asia/Shanghai.

        Raises:
            ValidationError: a shipment of another center, one already picked up or cancelled
                (only pieces waiting for the post are handed over), one created after
                ``scheduled_at``, or the same piece twice.

        .. versionadded:: 0.2.0
        """
        from govpost.periods import SHANGHAI

        code = center_code(center)
        when = aware(scheduled_at, "scheduled_at")
        items = []
        for shipment in shipments:
            if not isinstance(shipment, Shipment):
                raise ValidationError(f"a manifest lists Shipment values, not {short(shipment)}")
            if shipment.center != code:
                raise ValidationError(
                    f"shipment {shipment.id} belongs to center {shipment.center}, not {code}: "
                    f"hand it over on its own center's manifest"
                )
            if shipment.status not in _WAITING:
                raise ValidationError(
                    f"shipment {shipment.id} is {shipment.status.name}: only pieces waiting for "
                    f"the post (CREATED, AWAITING_PICKUP) are handed over"
                )
            if shipment.created_at > when:
                raise ValidationError(
                    f"shipment {shipment.id} was created at {shipment.created_at.isoformat()}, "
                    f"after the handover at {when.isoformat()}: put it on the next one"
                )
            number = shipment.tracking_number
            items.append(
                ManifestItem(
                    waybill=shipment.id if number is None else number.value,
                    weight_g=shipment.weight_g,
                    shipment_id=shipment.id,
                )
            )
        local = when.astimezone(SHANGHAI)
        return cls(
            manifest_id=f"{code}-{local:%Y%m%dT%H%M}",
            center=code,
            mode=_mode(mode),
            scheduled_at=when,
            items=items,
        )

    @property
    def pieces(self) -> int:
        """The number of pieces handed over."""
        return len(self.items)

    @property
    def total_weight_g(self) -> int:
        """Their total weight in grams."""
        return sum(item.weight_g for item in self.items)

    @property
    def waybills(self) -> tuple[str, ...]:
        """The waybills on the manifest, sorted."""
        return tuple(item.waybill for item in self.items)

    @property
    def is_acknowledged(self) -> bool:
        """Whether both sides have signed."""
        return self.handed_over is not None and self.received is not None

    def acknowledge(self, side: Side | str, *, name: str, at: datetime) -> HandoverManifest:
        """A copy of the manifest signed by ``side``.

        Args:
            side: :attr:`Side.CENTER` (handed over) or :attr:`Side.CARRIER` (received).
            name: who signs; masked in every repr.
            at: when (timezone-aware).

        Raises:
            ValidationError: the side has signed already, a blank name, a naive time.

        >>> from datetime import datetime
        >>> from govpost.periods import SHANGHAI
        >>> at = datetime(2018, 9, 29, 10, 5, tzinfo=SHANGHAI)
        >>> manifest = HandoverManifest(manifest_id="M-1", center="GZ-520100",
        ...     scheduled_at=at, items=[ManifestItem(waybill="EA000000014CN", weight_g=180)])
        >>> signed = manifest.acknowledge("center", name="张三", at=at)
        >>> signed.handed_over
        Acknowledgement(name='张*', at='2018-09-29T10:05:00+08:00')
        >>> signed.acknowledge("center", name="李四", at=at)
        Traceback (most recent call last):
        ...
        govpost.errors.ValidationError: manifest M-1 was already acknowledged by the center (交出方): 张* at 2018-09-29T10:05:00+08:00; a side signs once

        .. versionadded:: 0.2.0
        """
        which = coerce_enum(Side, side, "side")
        held = self.handed_over if which is Side.CENTER else self.received
        if held is not None:
            raise ValidationError(
                f"manifest {self.manifest_id} was already acknowledged by the {which.value} "
                f"({which.label}): {mask_name(held.name)} at {held.at.isoformat()}; a side "
                f"signs once"
            )
        ack = Acknowledgement(name=name, at=at)
        if which is Side.CENTER:
            return attrs.evolve(self, handed_over=ack)
        return attrs.evolve(self, received=ack)


@attrs.frozen(kw_only=True)
class PickupRun:
    """One scheduled pickup (or handover) at a center: the time the post comes.

    :meth:`PickupSchedule.runs` gives the runs of a window; :meth:`manifest` lists the pieces
    handed over at the run.

    >>> from datetime import datetime
    >>> from govpost.periods import SHANGHAI
    >>> run = PickupRun(center="GZ-520100", scheduled_at=datetime(2018, 9, 29, 10, tzinfo=SHANGHAI))
    >>> run.manifest([]).manifest_id
    'GZ-520100-20180929T1000'

    .. versionadded:: 0.2.0
    """

    center: str = attrs.field(converter=_center)
    scheduled_at: datetime = attrs.field(converter=_scheduled)
    mode: CooperationMode = attrs.field(default=CooperationMode.DOOR_PICKUP, converter=_mode)

    def manifest(self, shipments: Iterable[Shipment]) -> HandoverManifest:
        """The manifest of ``shipments`` handed over at this run
        (:meth:`HandoverManifest.from_shipments`).

        .. versionadded:: 0.2.0
        """
        return HandoverManifest.from_shipments(
            shipments, center=self.center, scheduled_at=self.scheduled_at, mode=self.mode
        )


# --- pickup scans and reconciliation -------------------------------------------------------------


def _scanned_at(value: datetime) -> datetime:
    return aware(value, "scanned_at")


@attrs.frozen(kw_only=True)
class PickupScan:
    """The carrier's pickup scan (揽收扫描) of one piece.

    Args:
        waybill: the waybill scanned.
        scanned_at: when (timezone-aware).
        weight_g: the weight the carrier scanned, in grams; ``None`` when the carrier's data
            has none (a tracking event).
        event_id: the carrier's event id, if any.

    >>> from datetime import datetime
    >>> from govpost.periods import SHANGHAI
    >>> PickupScan(waybill="EA000000014CN", weight_g=185,
    ...            scanned_at=datetime(2018, 9, 29, 10, 20, tzinfo=SHANGHAI)).weight_g
    185

    .. versionadded:: 0.2.0
    """

    waybill: str = attrs.field(converter=_waybill)
    scanned_at: datetime = attrs.field(converter=_scanned_at)
    weight_g: int | None = attrs.field(default=None, converter=_optional_grams)
    event_id: str | None = attrs.field(default=None, converter=_event_id)

    @classmethod
    def from_event(cls, event: TrackingEvent) -> PickupScan:
        """The scan a carrier's :class:`~govpost.shipments.TrackingEvent` of status PICKED_UP
        records (without a weight: tracking events carry none).

        Raises:
            ValidationError: the event is not a pickup (status PICKED_UP) or is a revocation.

        .. versionadded:: 0.2.0
        """
        given: object = event
        if not isinstance(given, TrackingEvent):
            raise ValidationError(f"{short(given)} is not a TrackingEvent")
        if given.status is not ShipmentStatus.PICKED_UP or given.is_revocation:
            raise ValidationError(
                f"event {given.event_id!r} of waybill {given.tracking_number} is "
                f"{'a revocation' if given.is_revocation else given.status.name}, not a pickup "
                f"scan: pass only events of status PICKED_UP"
            )
        return cls(
            waybill=given.tracking_number,
            scanned_at=given.occurred_at,
            event_id=given.event_id,
        )


@attrs.frozen(kw_only=True)
class PickupMatch:
    """A manifest item and the scan of the same waybill.

    >>> from datetime import datetime
    >>> from govpost.periods import SHANGHAI
    >>> PickupMatch(item=ManifestItem(waybill="EA000000014CN", weight_g=180),
    ...     scan=PickupScan(waybill="EA000000014CN", weight_g=175,
    ...                     scanned_at=datetime(2018, 9, 29, 10, tzinfo=SHANGHAI))).difference_g
    -5

    .. versionadded:: 0.2.0
    """

    item: ManifestItem
    scan: PickupScan

    @property
    def difference_g(self) -> int | None:
        """Scanned minus manifest weight, in grams (signed); ``None`` without a scanned weight."""
        scanned = self.scan.weight_g
        return None if scanned is None else scanned - self.item.weight_g


@attrs.frozen(kw_only=True)
class PickupReconciliation:
    """How a manifest and the carrier's pickup scans agree; the classes partition both sides.

    Every manifest item is in exactly one of :attr:`matched`, :attr:`weight_differences` and
    :attr:`missing`; every scan in exactly one of :attr:`matched`, :attr:`weight_differences`,
    :attr:`extra` and :attr:`duplicates`.

    Attributes:
        manifest_id: the manifest reconciled.
        tolerance_g: the weight difference, in grams either way, still counted as matched.
        matched: on both sides, weights within the tolerance (or no scanned weight).
        weight_differences: on both sides, weights further apart than the tolerance.
        missing: on the manifest, never scanned (交接未扫).
        extra: scanned, not on the manifest.
        duplicates: further scans of a waybill already scanned (the earliest one counts).

    See :func:`reconcile_pickup` for an example.

    .. versionadded:: 0.2.0
    """

    manifest_id: str
    tolerance_g: int
    matched: tuple[PickupMatch, ...]
    weight_differences: tuple[PickupMatch, ...]
    missing: tuple[ManifestItem, ...]
    extra: tuple[PickupScan, ...]
    duplicates: tuple[PickupScan, ...]

    @property
    def is_clean(self) -> bool:
        """Whether every item was scanned once, within the tolerance, and nothing else was."""
        return not (self.weight_differences or self.missing or self.extra or self.duplicates)


def reconcile_pickup(
    manifest: HandoverManifest,
    scans: Iterable[PickupScan | TrackingEvent],
    *,
    tolerance_g: int = 0,
) -> PickupReconciliation:
    """Reconcile a manifest with the carrier's pickup scans.

    Scans are :class:`PickupScan` values or the carrier's
    :class:`~govpost.shipments.TrackingEvent` s of status PICKED_UP (no weight: such a piece
    is matched on its waybill alone). A waybill scanned twice counts once, by its earliest
    scan; the others are :attr:`~PickupReconciliation.duplicates`.

    Args:
        manifest: the manifest.
        scans: the carrier's scans, in any order.
        tolerance_g: grams either way within which weights agree (scales differ).

    Raises:
        ValidationError: a negative tolerance, a scan that is neither a ``PickupScan`` nor a
            pickup event.

    >>> from datetime import datetime
    >>> from govpost.periods import SHANGHAI
    >>> at = datetime(2018, 9, 29, 10, tzinfo=SHANGHAI)
    >>> manifest = HandoverManifest(manifest_id="M-1", center="GZ-520100", scheduled_at=at,
    ...     items=[ManifestItem(waybill="EA000000014CN", weight_g=180),
    ...            ManifestItem(waybill="EA000000028CN", weight_g=320)])
    >>> result = reconcile_pickup(manifest, [
    ...     PickupScan(waybill="EA000000014CN", weight_g=185, scanned_at=at),
    ...     PickupScan(waybill="EA000000031CN", weight_g=90, scanned_at=at)], tolerance_g=10)
    >>> len(result.matched), [i.waybill for i in result.missing], [s.waybill for s in result.extra]
    (1, ['EA000000028CN'], ['EA000000031CN'])

    .. versionadded:: 0.2.0
    """
    given: object = manifest
    if not isinstance(given, HandoverManifest):
        raise ValidationError(f"manifest {short(given)} must be a HandoverManifest")
    if isinstance(tolerance_g, bool) or not isinstance(tolerance_g, int) or tolerance_g < 0:
        raise ValidationError(f"tolerance_g {short(tolerance_g)} must be an int of grams >= 0")
    read: list[PickupScan] = []
    for scan in scans:
        if isinstance(scan, TrackingEvent):
            read.append(PickupScan.from_event(scan))
        elif isinstance(scan, PickupScan):
            read.append(scan)
        else:
            raise ValidationError(
                f"scan {short(scan)} must be a PickupScan or a TrackingEvent of status PICKED_UP"
            )
    read.sort(key=_scan_key)
    first: dict[str, PickupScan] = {}
    duplicates: list[PickupScan] = []
    for scan in read:
        if scan.waybill in first:
            duplicates.append(scan)
        else:
            first[scan.waybill] = scan
    matched: list[PickupMatch] = []
    differing: list[PickupMatch] = []
    missing: list[ManifestItem] = []
    for item in manifest.items:
        found = first.pop(item.waybill, None)
        if found is None:
            missing.append(item)
            continue
        pair = PickupMatch(item=item, scan=found)
        difference = pair.difference_g
        (matched if difference is None or abs(difference) <= tolerance_g else differing).append(
            pair
        )
    return PickupReconciliation(
        manifest_id=manifest.manifest_id,
        tolerance_g=tolerance_g,
        matched=tuple(matched),
        weight_differences=tuple(differing),
        missing=tuple(missing),
        extra=tuple(sorted(first.values(), key=_scan_key)),
        duplicates=tuple(duplicates),
    )


def _scan_key(scan: PickupScan) -> tuple[str, datetime, str, int]:
    return (scan.waybill, scan.scanned_at, scan.event_id or "", scan.weight_g or 0)
