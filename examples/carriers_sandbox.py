"""Carriers: quote, book, track and receive pushes through the sandbox carrier.

The sandbox is deterministic: the same seed gives the same waybill numbers and the same
simulated deliveries. Run it with ``python examples/carriers_sandbox.py``.
"""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import attrs

from govpost.calendar import WorkCalendar
from govpost.carriers import BookingRequest, Capability, QuoteRequest, load, require
from govpost.carriers.sandbox import SandboxCarrier
from govpost.carriers.webhooks import PushInbox
from govpost.centers import BusinessLine
from govpost.shipments import Direction, Recipient, Shipment

SHANGHAI = ZoneInfo("Asia/Shanghai")


def main() -> None:
    # The sandbox's clock stands at the end of June 2024: every simulated event has happened.
    sandbox = load("sandbox", seed=2018, clock=lambda: datetime(2024, 6, 30, tzinfo=SHANGHAI))
    booking = require(sandbox, Capability.BOOK)
    tracking = require(sandbox, Capability.TRACK)
    calendar = WorkCalendar.china()

    window = Recipient(name="贵阳市政务服务中心", mobile="13885000000", address="贵阳市市府路1号")
    destinations = {"GZ-0001": "520103", "GZ-0002": "522601", "GZ-0003": "110105"}
    for order_id, destination in destinations.items():
        shipment = Shipment(
            id=order_id,
            center="GZ-520100",
            business_line=BusinessLine.LICENCE_DELIVERY,
            direction=Direction.OUTBOUND_RESULT,
            origin="520102",
            destination=destination,
            weight_g=250,
            created_at=datetime(2024, 6, 3, 10, 0, tzinfo=SHANGHAI),
            recipient=Recipient(name="欧阳娜娜", mobile="13800138000", address="某地某路1号"),
        )
        quote = require(sandbox, Capability.QUOTE).quote(QuoteRequest.for_shipment(shipment))
        booked = booking.book(BookingRequest(shipment=shipment, sender=window))
        shipment = attrs.evolve(shipment, tracking_number=booked.tracking_number)
        shipment = shipment.apply(*tracking.track(booked.tracking_number))
        assert shipment.picked_up_at is not None
        assert shipment.delivered_at is not None
        days = calendar.workdays_between(shipment.picked_up_at, shipment.delivered_at)
        print(
            f"{order_id} → {shipment.destination.name} ({shipment.zone.label}): "
            f"{booked.tracking_number}, postage {quote.amount}, {shipment.status.name} "
            f"{days} working day(s) after pickup, {len(shipment.events)} events"
        )

    # Pushed tracking is verified first; a duplicate push brings nothing new.
    number = booking.book(BookingRequest(shipment=shipment, sender=window)).tracking_number
    assert isinstance(sandbox, SandboxCarrier)  # push() is the sandbox's own test helper
    body, headers = sandbox.push(number)
    inbox = PushInbox(require(sandbox, Capability.PUSH))
    print(
        f"push: {len(inbox.receive(body, headers))} new events, then {len(inbox.receive(body, headers))}"
    )


if __name__ == "__main__":
    main()
