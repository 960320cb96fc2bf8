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
        FeeBreakdown,
        FlatTariff,
        Insurance,
        LumpSum,
        PerPiece,
        Rate,
        RateCard,
        ReturnPolicy,
        Underuse,
        WeightTariff,
        ZoneStep,
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
    from govpost.periods import Period, PeriodKind
    from govpost.privacy import ScrubbingFilter, scrub
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
        DeliveryTimeLimits,
        Direction,
        Recipient,
        Shipment,
        ShipmentStatus,
        StageDurations,
        TrackingEvent,
    )

# name -> module that defines it; imported on first attribute access (PEP 562).
_LAZY: dict[str, str] = {
    "AdminLevel": "govpost.regions",
    "Budget": "govpost.agreements",
    "BusinessLine": "govpost.centers",
    "CarrierBill": "govpost.settlement",
    "Channel": "govpost.centers",
    "CooperationMode": "govpost.centers",
    "Coverage": "govpost.agreements",
    "DeliveryTimeLimits": "govpost.shipments",
    "Direction": "govpost.shipments",
    "Discrepancy": "govpost.settlement",
    "Division": "govpost.regions",
    "FeeAgreement": "govpost.agreements",
    "FeeBreakdown": "govpost.agreements",
    "FlatTariff": "govpost.agreements",
    "Insurance": "govpost.agreements",
    "LineKind": "govpost.settlement",
    "LumpSum": "govpost.agreements",
    "PerPiece": "govpost.agreements",
    "Period": "govpost.periods",
    "PeriodKind": "govpost.periods",
    "Rate": "govpost.agreements",
    "RateCard": "govpost.agreements",
    "Recipient": "govpost.shipments",
    "ReconciliationReport": "govpost.settlement",
    "ReturnPolicy": "govpost.agreements",
    "ScrubbingFilter": "govpost.privacy",
    "ServiceCenter": "govpost.centers",
    "SettlementStatement": "govpost.settlement",
    "Shipment": "govpost.shipments",
    "ShipmentStatus": "govpost.shipments",
    "StageDurations": "govpost.shipments",
    "StatementLine": "govpost.settlement",
    "TrackingEvent": "govpost.shipments",
    "TrackingNumber": "govpost.identifiers",
    "Underuse": "govpost.agreements",
    "WeightTariff": "govpost.agreements",
    "WorkCalendar": "govpost.calendar",
    "Zone": "govpost.regions",
    "ZoneStep": "govpost.agreements",
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
    "DeliveryTimeLimits",
    "DeserializationError",
    "Direction",
    "Discrepancy",
    "Division",
    "FeeAgreement",
    "FeeBreakdown",
    "FlatTariff",
    "GovpostError",
    "Insurance",
    "InvalidTrackingNumberError",
    "InvalidTransitionError",
    "LineKind",
    "LumpSum",
    "Money",
    "PerPiece",
    "Period",
    "PeriodKind",
    "Rate",
    "RateCard",
    "Recipient",
    "ReconciliationReport",
    "ReturnPolicy",
    "ScrubbingFilter",
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
