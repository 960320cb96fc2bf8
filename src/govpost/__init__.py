"""govpost — a typed SDK for government–postal cooperation (政邮合作).

This module is a table of contents: the public names, each imported from the module that owns
it the first time it is used, so ``import govpost`` stays light.

    >>> import govpost
    >>> govpost.Money("12.5")
    Money('12.50', 'CNY')
"""

from __future__ import annotations

import importlib
from importlib.metadata import PackageNotFoundError, version
from typing import TYPE_CHECKING, Any

from govpost.errors import (
    BudgetExceededError,
    CalendarCoverageError,
    CarrierError,
    CurrencyMismatchError,
    DeserializationError,
    GovpostError,
    InvalidTrackingNumberError,
    InvalidTransitionError,
    SettlementError,
    StoreError,
    UnknownCarrierError,
    ValidationError,
    WebhookVerificationError,
)
from govpost.money import Money, allocate

if TYPE_CHECKING:
    from govpost.calendar import WorkCalendar
    from govpost.centers import BusinessLine, Channel, CooperationMode, ServiceCenter
    from govpost.identifiers import (
        TrackingNumber,
        is_valid_tracking_number,
        mask_address,
        mask_id_number,
        mask_mobile,
        mask_name,
        s10_check_digit,
        validate_id_number,
        validate_mobile,
        validate_uscc,
    )
    from govpost.regions import AdminLevel, Division, Zone, zone_between
    from govpost.serialization import from_json, to_json
    from govpost.shipments import (
        DeliveryTimeLimits,
        Direction,
        Recipient,
        Shipment,
        ShipmentStatus,
        StageDurations,
        TrackingEvent,
    )

try:
    __version__ = version("govpost")
except PackageNotFoundError:  # pragma: no cover - running from a source tree without install
    __version__ = "0.0.0"

# name -> module that defines it; imported on first attribute access (PEP 562).
_LAZY: dict[str, str] = {
    "AdminLevel": "govpost.regions",
    "BusinessLine": "govpost.centers",
    "Channel": "govpost.centers",
    "CooperationMode": "govpost.centers",
    "DeliveryTimeLimits": "govpost.shipments",
    "Direction": "govpost.shipments",
    "Division": "govpost.regions",
    "Recipient": "govpost.shipments",
    "ServiceCenter": "govpost.centers",
    "Shipment": "govpost.shipments",
    "ShipmentStatus": "govpost.shipments",
    "StageDurations": "govpost.shipments",
    "TrackingEvent": "govpost.shipments",
    "TrackingNumber": "govpost.identifiers",
    "WorkCalendar": "govpost.calendar",
    "Zone": "govpost.regions",
    "from_json": "govpost.serialization",
    "is_valid_tracking_number": "govpost.identifiers",
    "mask_address": "govpost.identifiers",
    "mask_id_number": "govpost.identifiers",
    "mask_mobile": "govpost.identifiers",
    "mask_name": "govpost.identifiers",
    "s10_check_digit": "govpost.identifiers",
    "to_json": "govpost.serialization",
    "validate_id_number": "govpost.identifiers",
    "validate_mobile": "govpost.identifiers",
    "validate_uscc": "govpost.identifiers",
    "zone_between": "govpost.regions",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'govpost' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(__all__)


__all__ = [
    "AdminLevel",
    "BudgetExceededError",
    "BusinessLine",
    "CalendarCoverageError",
    "CarrierError",
    "Channel",
    "CooperationMode",
    "CurrencyMismatchError",
    "DeliveryTimeLimits",
    "DeserializationError",
    "Direction",
    "Division",
    "GovpostError",
    "InvalidTrackingNumberError",
    "InvalidTransitionError",
    "Money",
    "Recipient",
    "ServiceCenter",
    "SettlementError",
    "Shipment",
    "ShipmentStatus",
    "StageDurations",
    "StoreError",
    "TrackingEvent",
    "TrackingNumber",
    "UnknownCarrierError",
    "ValidationError",
    "WebhookVerificationError",
    "WorkCalendar",
    "Zone",
    "__version__",
    "allocate",
    "from_json",
    "is_valid_tracking_number",
    "mask_address",
    "mask_id_number",
    "mask_mobile",
    "mask_name",
    "s10_check_digit",
    "to_json",
    "validate_id_number",
    "validate_mobile",
    "validate_uscc",
    "zone_between",
]
