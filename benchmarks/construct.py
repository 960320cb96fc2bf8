"""Benchmark: what the input side costs — building models, parsing identifiers, importing.

Measured, each as the best of several runs of N repetitions (µs per item):

- ``shipment_us``: a ``Shipment`` from string codes (center, business line, direction, origin
  and destination division codes, weight, an aware creation time);
- ``shipment_from_json_us``: a full ``from_json`` of a ``Shipment`` with a tracking number, a
  recipient (name, mobile, address, ID number in the application reference) and 6 events;
- ``tracking_number_parse_us``: ``TrackingNumber.parse`` of a valid S10 number;
- ``validate_mobile_us``: ``validate_mobile`` of a mainland mobile number;
- ``import_ms``: ``import govpost`` in a fresh interpreter (best of several).

The last line printed is JSON::

    {"benchmark": "construct", "n": ..., "shipment_us": ..., "shipment_from_json_us": ...,
     "tracking_number_parse_us": ..., "validate_mobile_us": ..., "import_ms": ...}

Run: ``python benchmarks/construct.py --n N`` (default N = 20000). Targets (issue 8):
Shipment ≤ 8 µs, from_json ≤ 40 µs, parse ≤ 1.5 µs, validate_mobile ≤ 3 µs, import ≤ 50 ms.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from collections.abc import Callable
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import attrs

from govpost import Shipment, TrackingNumber, from_json, to_json, validate_mobile
from govpost.shipments import Recipient, ShipmentStatus, TrackingEvent

SHANGHAI = ZoneInfo("Asia/Shanghai")
CREATED = datetime(2024, 6, 3, 9, 0, tzinfo=SHANGHAI)
WAYBILL = "RR473124829GB"
MOBILE = "13985212345"


def best_us(function: Callable[[], object], n: int, *, repeat: int = 5) -> float:
    """The best of ``repeat`` runs of ``n`` calls, in µs per call."""
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        for _ in range(n):
            function()
        best = min(best, time.perf_counter() - start)
    return best / n * 1e6


def build_shipment() -> Shipment:
    return Shipment(
        id="GZ-20240603-00001",
        center="520000-ZW",
        business_line="licence_delivery",
        direction="outbound_result",
        origin="520102",
        destination="522601",
        weight_g=180,
        created_at=CREATED,
    )


def tracked_document() -> str:
    """The wire form of a booked, delivered shipment with a recipient and 6 events."""
    statuses = [
        ShipmentStatus.PICKED_UP,
        ShipmentStatus.IN_TRANSIT,
        ShipmentStatus.IN_TRANSIT,
        ShipmentStatus.OUT_FOR_DELIVERY,
        ShipmentStatus.DELIVERY_FAILED,
        ShipmentStatus.DELIVERED,
    ]
    events = [
        TrackingEvent(
            event_id=f"ems:{WAYBILL}:{i}",
            tracking_number=WAYBILL,
            status=status,
            occurred_at=CREATED + timedelta(hours=4 * (i + 1)),
            location="贵阳市邮政分公司南明揽投部",
            carrier_code=str(700 + i),
        )
        for i, status in enumerate(statuses)
    ]
    shipment = attrs.evolve(
        build_shipment(),
        recipient=Recipient(name="欧阳娜娜", mobile=MOBILE, address="贵州省凯里市北京东路1号"),
        tracking_number=WAYBILL,
        application_ref="520102-2024-000123",
    ).apply(*events)
    return to_json(shipment)


def import_ms(runs: int = 7) -> float:
    """``import govpost`` in a fresh interpreter, best of ``runs``, in ms (start-up excluded)."""
    code = (
        "import time; t = time.perf_counter(); import govpost; "
        "print((time.perf_counter() - t) * 1000)"
    )
    return min(
        float(subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                             check=True).stdout)
        for _ in range(runs)
    )  # fmt: skip


def main(argv: list[str] | None = None) -> dict[str, object]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=20_000, help="repetitions per measurement")
    args = parser.parse_args(argv)
    n = args.n
    document = tracked_document()
    assert from_json(document, Shipment).status is ShipmentStatus.DELIVERED
    result: dict[str, object] = {
        "benchmark": "construct",
        "n": n,
        "shipment_us": round(best_us(build_shipment, n), 2),
        "shipment_from_json_us": round(
            best_us(lambda: from_json(document, Shipment), max(n // 10, 1)), 2
        ),
        "tracking_number_parse_us": round(best_us(lambda: TrackingNumber.parse(WAYBILL), n), 2),
        "validate_mobile_us": round(best_us(lambda: validate_mobile(MOBILE), n), 2),
        "import_ms": round(import_ms(), 1),
    }
    for key, value in result.items():
        if key not in ("benchmark", "n"):
            print(f"{key:>26}: {value}")
    print(json.dumps(result))
    return result


if __name__ == "__main__":
    main()
