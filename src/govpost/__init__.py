"""govpost — a typed SDK for government–postal cooperation (政邮合作).

This module is a table of contents: the public names, each imported from the module that owns
it the first time it is used, so ``import govpost`` stays light.

    >>> import govpost
    >>> govpost.Money("12.5")
    Money('12.50', 'CNY')
"""

from __future__ import annotations

import importlib
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
    __version__: str

    from govpost.agreements import (
        Budget,
        Coverage,
        FeeAgreement,
        LumpSum,
        PerPiece,
        ReturnPolicy,
        Underuse,
    )
    from govpost.applications import (
        Application,
        ApplicationStatus,
        DeliveryChoice,
        Service,
        ServiceCatalogue,
        TripRule,
    )
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
    from govpost.modes import HandoverManifest, PickupSchedule, RemittanceStatement
    from govpost.periods import Period, PeriodKind
    from govpost.privacy import ScrubbingFilter, scrub
    from govpost.ratecards import Rate, RateCard
    from govpost.regions import AdminLevel, Division, Zone, zone_between
    from govpost.serialization import from_json, to_json
    from govpost.settlement import (
        CarrierBill,
        Discrepancy,
        LineKind,
        ReconciliationReport,
        SettlementStatement,
        StatementLine,
        amount_in_words,
        prorate,
        reconcile,
        settle,
        split,
    )
    from govpost.shipments import (
        Direction,
        Recipient,
        Shipment,
        ShipmentStatus,
        TrackingEvent,
    )
    from govpost.tariffs import FeeBreakdown, FlatTariff, Insurance, WeightTariff, ZoneStep
    from govpost.timelimits import DeliveryTimeLimits, StageDurations

# name -> module that defines it; imported on first attribute access (PEP 562).
_LAZY: dict[str, str] = {
    "AdminLevel": "govpost.regions",
    "Application": "govpost.applications",
    "ApplicationStatus": "govpost.applications",
    "Budget": "govpost.agreements",
    "BusinessLine": "govpost.centers",
    "CarrierBill": "govpost.settlement",
    "Channel": "govpost.centers",
    "CooperationMode": "govpost.centers",
    "Coverage": "govpost.agreements",
    "DeliveryChoice": "govpost.applications",
    "DeliveryTimeLimits": "govpost.timelimits",
    "Direction": "govpost.shipments",
    "Discrepancy": "govpost.settlement",
    "Division": "govpost.regions",
    "FeeAgreement": "govpost.agreements",
    "FeeBreakdown": "govpost.tariffs",
    "FlatTariff": "govpost.tariffs",
    "HandoverManifest": "govpost.modes",
    "Insurance": "govpost.tariffs",
    "LineKind": "govpost.settlement",
    "LumpSum": "govpost.agreements",
    "PerPiece": "govpost.agreements",
    "Period": "govpost.periods",
    "PeriodKind": "govpost.periods",
    "PickupSchedule": "govpost.modes",
    "Rate": "govpost.ratecards",
    "RateCard": "govpost.ratecards",
    "Recipient": "govpost.shipments",
    "ReconciliationReport": "govpost.settlement",
    "RemittanceStatement": "govpost.modes",
    "ReturnPolicy": "govpost.agreements",
    "ScrubbingFilter": "govpost.privacy",
    "Service": "govpost.applications",
    "ServiceCatalogue": "govpost.applications",
    "ServiceCenter": "govpost.centers",
    "SettlementStatement": "govpost.settlement",
    "Shipment": "govpost.shipments",
    "ShipmentStatus": "govpost.shipments",
    "StageDurations": "govpost.timelimits",
    "StatementLine": "govpost.settlement",
    "TrackingEvent": "govpost.shipments",
    "TrackingNumber": "govpost.identifiers",
    "TripRule": "govpost.applications",
    "Underuse": "govpost.agreements",
    "WeightTariff": "govpost.tariffs",
    "WorkCalendar": "govpost.calendar",
    "Zone": "govpost.regions",
    "ZoneStep": "govpost.tariffs",
    "amount_in_words": "govpost.settlement",
    "from_json": "govpost.serialization",
    "is_valid_tracking_number": "govpost.identifiers",
    "mask_address": "govpost.identifiers",
    "mask_id_number": "govpost.identifiers",
    "mask_mobile": "govpost.identifiers",
    "mask_name": "govpost.identifiers",
    "prorate": "govpost.settlement",
    "reconcile": "govpost.settlement",
    "s10_check_digit": "govpost.identifiers",
    "scrub": "govpost.privacy",
    "settle": "govpost.settlement",
    "split": "govpost.settlement",
    "to_json": "govpost.serialization",
    "validate_id_number": "govpost.identifiers",
    "validate_mobile": "govpost.identifiers",
    "validate_uscc": "govpost.identifiers",
    "zone_between": "govpost.regions",
}


def _version() -> str:
    # importlib.metadata costs about 40 ms to import: read the version only when asked.
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("govpost")
    except PackageNotFoundError:  # pragma: no cover - a source tree that was never installed
        return "0.0.0"


def __getattr__(name: str) -> Any:
    if name == "__version__":
        value: Any = _version()
        globals()[name] = value
        return value
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
    "Application",
    "ApplicationStatus",
    "Budget",
    "BudgetExceededError",
    "BusinessLine",
    "CalendarCoverageError",
    "CarrierBill",
    "CarrierError",
    "Channel",
    "CooperationMode",
    "Coverage",
    "CurrencyMismatchError",
    "DeliveryChoice",
    "DeliveryTimeLimits",
    "DeserializationError",
    "Direction",
    "Discrepancy",
    "Division",
    "FeeAgreement",
    "FeeBreakdown",
    "FlatTariff",
    "GovpostError",
    "HandoverManifest",
    "Insurance",
    "InvalidTrackingNumberError",
    "InvalidTransitionError",
    "LineKind",
    "LumpSum",
    "Money",
    "PerPiece",
    "Period",
    "PeriodKind",
    "PickupSchedule",
    "Rate",
    "RateCard",
    "Recipient",
    "ReconciliationReport",
    "RemittanceStatement",
    "ReturnPolicy",
    "ScrubbingFilter",
    "Service",
    "ServiceCatalogue",
    "ServiceCenter",
    "SettlementError",
    "SettlementStatement",
    "Shipment",
    "ShipmentStatus",
    "StageDurations",
    "StatementLine",
    "StoreError",
    "TrackingEvent",
    "TrackingNumber",
    "TripRule",
    "Underuse",
    "UnknownCarrierError",
    "ValidationError",
    "WebhookVerificationError",
    "WeightTariff",
    "WorkCalendar",
    "Zone",
    "ZoneStep",
    "__version__",
    "allocate",
    "amount_in_words",
    "from_json",
    "is_valid_tracking_number",
    "mask_address",
    "mask_id_number",
    "mask_mobile",
    "mask_name",
    "prorate",
    "reconcile",
    "s10_check_digit",
    "scrub",
    "settle",
    "split",
    "to_json",
    "validate_id_number",
    "validate_mobile",
    "validate_uscc",
    "zone_between",
]
