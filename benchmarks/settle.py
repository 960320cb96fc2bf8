"""Benchmark: settle N shipments of a 110-center province, against two baselines.

govpost settles the month twice — per piece under a weight tariff with a discount, and as a
lump sum with a quota and an overage tariff — and is compared, in the same run, with

(a) the loop an integrator would hand-write over the same ``Shipment`` objects: skip what is not
    billable, take ``shipment.zone``, compute the Decimal fee of the step formula, apply the
    discount, quantize half-up, sum (and, for the lump sum, count pieces and add the overage);
(b) the same computation as one SQL aggregate in SQLite, in integer fen, over a table loaded
    beforehand (the embedded engine's limit: no objects, no validation, no lines).

The shipments are built once, before anything is timed (building a validated ``Shipment`` costs
more than settling it; see benchmarks/README.md). Memory is the growth of the resident set
while ``settle`` runs, sampled every few milliseconds, divided by the number of lines.

Usage: ``.venv/bin/python benchmarks/settle.py [--n N]``. The last line printed is JSON.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import resource
import sqlite3
import threading
import time
from collections.abc import Callable
from datetime import date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any
from zoneinfo import ZoneInfo

from govpost.agreements import (
    Coverage,
    FeeAgreement,
    FlatTariff,
    LumpSum,
    PerPiece,
    RateCard,
    WeightTariff,
)
from govpost.money import Money
from govpost.regions import Division, Zone
from govpost.settlement import Period, settle
from govpost.shipments import Shipment

SHANGHAI = ZoneInfo("Asia/Shanghai")
PERIOD = Period.month(2018, 6)

#: Active divisions of Guizhou (贵州省) the 110 centers sit in (several share one).
GUIZHOU = (
    "520000", "520102", "520103", "520111", "520112", "520113", "520115", "520121", "520122", "520123", "520181",
    "520201", "520203", "520204", "520281", "520302", "520303", "520304", "520322", "520323", "520324", "520325",
    "520326", "520327", "520328", "520329", "520330", "520381", "520382", "520402", "520403", "520422", "520423",
    "520424", "520425", "520502", "520521", "520523", "520524", "520525", "520526", "520527", "520581", "520602",
    "520603", "520621", "520622", "520623", "520624", "520625", "520626", "520627", "520628", "522301", "522302",
    "522323", "522324", "522325", "522326", "522327", "522328", "522601", "522622", "522623", "522624", "522625",
    "522626", "522627", "522628", "522629", "522630", "522631", "522632", "522633", "522634", "522635", "522636",
    "522701", "522702", "522722", "522723", "522725", "522726", "522727", "522728", "522729", "522730", "522731",
    "522732",
)  # fmt: skip
OUT_OF_PROVINCE = ("110105", "310115", "440305", "330106", "500101")
CENTERS = tuple(f"GZ-{i:03d}" for i in range(1, 111))

FIRST_G, STEP_G = 500, 500
FIRST = {Zone.SAME_CITY: "8.00", Zone.IN_PROVINCE: "10.00", Zone.OUT_OF_PROVINCE: "15.00"}
STEP = {Zone.SAME_CITY: "1.00", Zone.IN_PROVINCE: "2.00", Zone.OUT_OF_PROVINCE: "5.00"}
DISCOUNT = Decimal("0.15")
LUMP, OVERAGE = Money("1200000.00"), Money("11.00")


def quota(n: int) -> int:
    """The lump sum's quota: 90% of the shipments, so about 8% of the pieces are overage."""
    return max(1, n * 9 // 10)


def agreements(n: int) -> tuple[FeeAgreement, FeeAgreement]:
    tariff = WeightTariff.uniform(
        first_g=FIRST_G,
        step_g=STEP_G,
        first_fee={z.value: v for z, v in FIRST.items()},
        step_fee={z.value: v for z, v in STEP.items()},
    )
    card = RateCard.single(tariff, reference="黔邮〔2018〕3号", valid_from=date(2018, 1, 1))
    common: dict[str, Any] = {
        "carrier": "ems",
        "reference": "黔政办〔2018〕1号",
        "centers": set(CENTERS),
        "covers": Coverage.all(),
        "valid_from": date(2018, 1, 1),
    }
    per_piece = FeeAgreement(
        id="GZ-PER-PIECE", mode=PerPiece(tariff=card, discount=DISCOUNT), **common
    )
    lump = FeeAgreement(
        id="GZ-LUMP",
        mode=LumpSum(amount=LUMP, quota=quota(n), overage=FlatTariff(price=OVERAGE)),
        **common,
    )
    return per_piece, lump


def build(n: int) -> list[Shipment]:
    """N shipments: 110 centers, mixed zones and weights, picked up across June (a few not)."""
    divisions = [Division.parse(code) for code in GUIZHOU]
    far = [Division.parse(code) for code in OUT_OF_PROVINCE]
    start = datetime(2018, 6, 1, 8, 0, tzinfo=SHANGHAI)
    out = []
    for i in range(n):
        origin = divisions[i % len(divisions)]
        choice = i % 7
        if choice < 3:
            destination = divisions[(i * 31) % len(divisions)]
        elif choice < 5:
            destination = origin
        else:
            destination = far[i % len(far)]
        created = start + timedelta(minutes=(i * 37) % (29 * 24 * 60))
        picked = None if i % 50 == 0 else created + timedelta(hours=2)
        out.append(
            Shipment(
                id=f"GZ{i:09d}",
                center=CENTERS[i % len(CENTERS)],
                business_line="licence_delivery",
                direction="outbound_result",
                origin=origin,
                destination=destination,
                weight_g=1 + (i * 7919) % 3000,
                created_at=created,
                picked_up_at=picked,
                status="picked_up" if picked else "awaiting_pickup",
            )
        )
    return out


def baseline_per_piece(shipments: list[Shipment], *, cache_zones: bool = False) -> Decimal:
    """The hand-written per-piece loop: Decimal fee per piece, discount, quantize, sum."""
    first = {z: Decimal(v) for z, v in FIRST.items()}
    step = {z: Decimal(v) for z, v in STEP.items()}
    keep = 1 - DISCOUNT
    cent = Decimal("0.01")
    zones: dict[tuple[str, str], Zone] = {}
    total = Decimal(0)
    for s in shipments:
        if s.picked_up_at is None:
            continue
        if not PERIOD.contains(s.picked_up_at.astimezone(SHANGHAI).date()):
            continue
        if cache_zones:
            key = (s.origin.code, s.destination.code)
            zone = zones.get(key) or zones.setdefault(key, s.zone)
        else:
            zone = s.zone
        steps = max(0, -(-(s.weight_g - FIRST_G) // STEP_G))
        fee = (first[zone] + steps * step[zone]) * keep
        total += fee.quantize(cent, rounding=ROUND_HALF_UP)
    return total


def baseline_lump(shipments: list[Shipment], n: int) -> Decimal:
    """The hand-written lump-sum loop: count the month's pieces, add the flat overage."""
    pieces = 0
    for s in shipments:
        if s.picked_up_at is None:
            continue
        if PERIOD.contains(s.picked_up_at.astimezone(SHANGHAI).date()):
            pieces += 1
    return LUMP.amount + max(0, pieces - quota(n)) * OVERAGE.amount


def sql_load(shipments: list[Shipment]) -> sqlite3.Connection:
    db = sqlite3.connect(":memory:")
    db.execute("CREATE TABLE s (zone INTEGER, weight_g INTEGER, day TEXT)")
    db.execute("CREATE TABLE t (zone INTEGER PRIMARY KEY, first_fen INTEGER, step_fen INTEGER)")
    db.executemany(
        "INSERT INTO t VALUES (?, ?, ?)",
        [(z.rank, Money(FIRST[z]).fen, Money(STEP[z]).fen) for z in Zone],
    )
    db.executemany(
        "INSERT INTO s VALUES (?, ?, ?)",
        (
            (s.zone.rank, s.weight_g, s.picked_up_at.astimezone(SHANGHAI).date().isoformat())
            for s in shipments
            if s.picked_up_at is not None
        ),
    )
    db.commit()
    return db


def sql(db: sqlite3.Connection, n: int) -> tuple[Decimal, Decimal]:
    keep = int((1 - DISCOUNT) * 100)
    # Fee in fen × 85, then half-up to whole fen: (x + 50) / 100 in integer arithmetic.
    fen, pieces = db.execute(
        f"""
        SELECT SUM((fee * {keep} + 50) / 100), COUNT(*) FROM (
          SELECT t.first_fen + MAX(0, (s.weight_g - {FIRST_G} + {STEP_G} - 1) / {STEP_G})
                 * t.step_fen AS fee
          FROM s JOIN t ON t.zone = s.zone
          WHERE s.day >= ? AND s.day < ?
        )
        """,
        (PERIOD.start.isoformat(), PERIOD.end.isoformat()),
    ).fetchone()
    lump = LUMP.amount + max(0, pieces - quota(n)) * OVERAGE.amount
    return Decimal(fen) / 100, lump


def rss() -> int:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


class PeakSampler:
    """Samples the resident set size every 5 ms while running."""

    def __init__(self) -> None:
        self.peak = rss()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.wait(0.005):
            self.peak = max(self.peak, rss())

    def __enter__(self) -> PeakSampler:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self.peak = max(self.peak, rss())


def timed(fn: Callable[[], Any]) -> tuple[float, Any]:
    gc.collect()
    start = time.perf_counter()
    result = fn()
    return time.perf_counter() - start, result


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--n", type=int, default=1_000_000, help="number of shipments")
    args = parser.parse_args(argv)
    n: int = args.n

    per_piece, lump = agreements(n)
    build_s, shipments = timed(lambda: build(n))
    print(f"built {n:,} shipments in {build_s:.1f} s (not timed below)")
    db = sql_load(shipments)

    before = rss()
    with PeakSampler() as sampler:
        pp_s, statement = timed(lambda: settle(per_piece, shipments, PERIOD))
    lines = len(statement.lines)
    bytes_per_line = (sampler.peak - before) / max(1, lines)
    pp_total = statement.total.amount
    del statement
    lump_s, lump_statement = timed(lambda: settle(lump, shipments, PERIOD))
    base_pp_s, base_total = timed(lambda: baseline_per_piece(shipments))
    base_lump_s, base_lump = timed(lambda: baseline_lump(shipments, n))
    cached_s, cached_total = timed(lambda: baseline_per_piece(shipments, cache_zones=True))
    sql_s, (sql_total, sql_lump) = timed(lambda: sql(db, n))
    # The three computations must agree to the fen, or the timings mean nothing.
    assert pp_total == base_total == cached_total == sql_total, (pp_total, base_total, sql_total)
    assert lump_statement.total.amount == base_lump == sql_lump, (lump_statement.total, base_lump)

    govpost_s = pp_s + lump_s
    baseline_s = base_pp_s + base_lump_s
    print(
        f"per piece: govpost {pp_s:.2f} s for {lines:,} lines, baseline {base_pp_s:.2f} s "
        f"({cached_s:.2f} s with zones memoised); total {pp_total}"
    )
    print(
        f"lump sum:  govpost {lump_s:.2f} s, baseline {base_lump_s:.2f} s; total "
        f"{lump_statement.total}"
    )
    print(f"SQL aggregates (both): {sql_s:.3f} s")
    print(f"settle memory: {bytes_per_line:.0f} bytes per line above the resident set before it")
    result = {
        "benchmark": "settle",
        "n": n,
        "govpost_s": round(govpost_s, 3),
        "baseline_s": round(baseline_s, 3),
        "sql_s": round(sql_s, 4),
        "ratio_vs_baseline": round(govpost_s / baseline_s, 3),
        "pieces_per_s": round(2 * lines / govpost_s),
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
        "settle_bytes_per_line": round(bytes_per_line),
        "baseline_zones_memoised_s": round(cached_s + base_lump_s, 3),
    }
    print(json.dumps(result))
    return result


if __name__ == "__main__":
    main()
