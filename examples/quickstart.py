"""Quickstart: the foundation of govpost in one run — zones, waybills, money, calendar, JSON.

Run it with ``make demo`` (or ``python examples/quickstart.py`` inside the virtual environment).
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from govpost import (
    BusinessLine,
    Channel,
    CooperationMode,
    Division,
    Money,
    ServiceCenter,
    TrackingNumber,
    WorkCalendar,
    allocate,
    from_json,
    to_json,
    zone_between,
)
from govpost.identifiers import mask_id_number


def main() -> None:
    center = ServiceCenter(
        code="GZ-520100",
        name="贵阳市政务服务中心",
        division="520100",
        mode=CooperationMode.STATIONED_STAFF,
        channels={Channel.ONLINE, Channel.WINDOW},
        business_lines={BusinessLine.LICENCE_DELIVERY},
    )
    print(f"{center.name}: {center.level.value}, {center.mode.label if center.mode else '未合作'}")

    origin, destination = center.division, Division.parse("522601")
    zone = zone_between(origin, destination)
    print(f"{origin.name} → {destination.name}: {zone.label}")

    waybill = TrackingNumber.parse("rr 473124829 gb")
    print(f"waybill {waybill} (service {waybill.service}, country {waybill.country})")

    postage = (Money("12.50") * Decimal("0.85")).rounded()
    print(f"postage after a 15% discount: {postage}")

    # The 2018 figure of the Guizhou report, split by the 32 / 66 / 6 centers of each mode.
    shares = allocate(Money("1480000.00"), [32, 66, 6])
    print("lump sum by mode:", ", ".join(str(s) for s in shares))
    assert sum(shares, Money.zero()) == Money("1480000.00")

    calendar = WorkCalendar.china()
    print("due one working day after 2024-09-30:", calendar.add_workdays(date(2024, 9, 30), 1))
    print("masked ID:", mask_id_number("11010519491231002X"))

    document = to_json(center)
    print("wire format:", document)
    assert from_json(document, ServiceCenter) == center


if __name__ == "__main__":
    main()
