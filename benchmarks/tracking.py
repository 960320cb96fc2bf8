"""Benchmark: parse N recorded EMS track answers of 20 events each.

govpost's :func:`~govpost.carriers.ems.parse_track` turns each answer into 20 validated
``TrackingEvent`` values (aware Asia/Shanghai datetimes, mapped statuses, waybill numbers,
deterministic event ids). The baseline, in the same run, is ``json.loads`` of the same
payloads: the answer and the JSON text of its ``retBody`` (the answer carries its body as a
JSON string, so decoding the payload is two ``json.loads``). The last line printed is JSON::

    {"benchmark": "tracking", "n": ..., "govpost_s": ..., "baseline_s": ..., "ratio_vs_baseline": ...}

Run: ``python benchmarks/tracking.py --n N`` (default N = 2000). Target: ratio <= 5.
"""

from __future__ import annotations

import argparse
import json
import time
from collections.abc import Callable
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from govpost.carriers.ems import parse_track
from govpost.identifiers import s10_check_digit

SHANGHAI = ZoneInfo("Asia/Shanghai")
#: A realistic life of 20 scans: pickup, dispatches and arrivals, a failed attempt, delivery.
CODES = ["203", "305", "389", "954", "389", "954", "389", "954", "389", "954"]
CODES += ["389", "954", "713", "702", "705", "713", "702", "747", "702", "704"]
OFFICES = [
    ("52000100", "贵阳市邮政分公司南明揽投部", "贵阳市"),
    ("52000001", "贵阳邮区中心", "贵阳市"),
    ("52030001", "遵义邮区中心", "遵义市"),
    ("52030201", "遵义市邮政分公司红花岗揽投部", "遵义市"),
]


def recorded_answer(index: int) -> str:
    """One EMS track answer (040001) with 20 traces, as the platform sends it."""
    serial = f"{52000000 + index:08d}"
    waybill = f"EA{serial}{s10_check_digit(serial)}CN"
    start = datetime(2024, 6, 3, 9, 0, tzinfo=SHANGHAI) + timedelta(minutes=index)
    items = []
    for i, code in enumerate(CODES):
        office, office_name, city = OFFICES[min(i // 5, 3)]
        items.append(
            {
                "waybillNo": waybill,
                "opTime": (start + timedelta(hours=3 * i)).strftime("%Y-%m-%d %H:%M:%S"),
                "opCode": code,
                "opName": "处理",
                "opDesc": f"【{office_name}】已处理，操作员：王*，电话：13885012345",
                "opOrgProvName": "贵州省",
                "opOrgCity": city,
                "opOrgCode": office,
                "opOrgName": office_name,
                "operatorNo": "52010212",
                "operatorName": "王*",
                "deliverCode": "",
                "attemptDeliveryCode": "",
            }
        )
    body = json.dumps({"waybillNo": waybill, "responseItems": items}, ensure_ascii=False)
    return json.dumps(
        {"retCode": "00000", "retMsg": "成功", "retBody": body, "serialNo": f"S{index:08d}"},
        ensure_ascii=False,
    )


def baseline(payload: str) -> object:
    document = json.loads(payload)
    return json.loads(document["retBody"])


def best_of(repeats: int, work: Callable[[], object]) -> float:
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        work()
        times.append(time.perf_counter() - started)
    return min(times)


def main(n: int = 2000) -> dict[str, object]:
    payloads = [recorded_answer(i) for i in range(n)]
    events = [parse_track(p) for p in payloads]  # warm-up, and a check of the work itself
    assert all(len(e) == 20 for e in events)
    govpost_s = best_of(5, lambda: [parse_track(p) for p in payloads])
    baseline_s = best_of(5, lambda: [baseline(p) for p in payloads])
    result: dict[str, object] = {
        "benchmark": "tracking",
        "n": n,
        "govpost_s": round(govpost_s, 6),
        "baseline_s": round(baseline_s, 6),
        "ratio_vs_baseline": round(govpost_s / baseline_s, 2),
    }
    print(f"parsed {n} answers of 20 events: {govpost_s * 1e6 / n:.1f} µs each")
    print(json.dumps(result))
    return result


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=2000, help="number of track answers")
    main(parser.parse_args().n)
