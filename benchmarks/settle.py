"""Benchmark: settle N shipments of a 110-center province, against three baselines.

govpost settles June 2018 twice — per piece under a weight tariff with a discount, and as a
lump sum with a quota and an overage tariff — each timed on its own, and is compared, in the
same run, with

(a) the naive loop: a Decimal fee per piece over pre-digested ``(weight, zone)`` tuples of the
    billable pieces (filtered, zones computed, before the clock starts), discounted, quantized
    half-up and summed — the least any Python settlement can do;
(b) the loop an integrator would hand-write over the same ``Shipment`` objects, with the zones
    memoised per (origin, destination): skip what is not picked up in June (the business date
    in Asia/Shanghai), look the zone up, then as (a);
(c) one SQL aggregate in SQLite, in integer fen, over a table loaded beforehand (the embedded
    engine's limit: no objects, no validation, no lines).

Each timing is the best of ``--repeat`` runs. The script asserts that govpost, both loops and
SQLite agree to the fen before printing. Memory is measured in separate runs of each settle under
``tracemalloc``: what the statement keeps (traced memory after ``settle`` returns, the statement
alive, less before) and the peak while it runs, each per line; the input exists before and
after, so what is measured is what ``settle`` allocates.

Usage: ``.venv/bin/python benchmarks/settle.py [--n N] [--repeat R]``. The last line printed is
JSON.
"""

from __future__ import annotations

import argparse
import gc
import json
import sqlite3
import time
import tracemalloc
from collections.abc import Callable
from datetime import date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any, TypeVar
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
from govpost.settlement import Period, SettlementStatement, settle
from govpost.shipments import Shipment

T = TypeVar("T")

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


def digest(shipments: list[Shipment]) -> list[tuple[int, Zone]]:
    """The billable pieces as ``(weight, zone)`` tuples: the naive loop's input, made untimed."""
    return [
        (s.weight_g, s.zone)
        for s in shipments
        if s.picked_up_at is not None
        and PERIOD.contains(s.picked_up_at.astimezone(SHANGHAI).date())
    ]


def naive_loop(pieces: list[tuple[int, Zone]]) -> Decimal:
    """(a) Decimal fee per piece over pre-digested tuples: step formula, discount, half-up, sum."""
    first = {z: Decimal(v) for z, v in FIRST.items()}
    step = {z: Decimal(v) for z, v in STEP.items()}
    keep = 1 - DISCOUNT
    cent = Decimal("0.01")
    total = Decimal(0)
    for weight, zone in pieces:
        steps = max(0, -(-(weight - FIRST_G) // STEP_G))
        fee = (first[zone] + steps * step[zone]) * keep
        total += fee.quantize(cent, rounding=ROUND_HALF_UP)
    return total


def memo_loop(shipments: list[Shipment]) -> Decimal:
    """(b) The hand-written loop over the Shipments, zones memoised per (origin, destination)."""
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
        key = (s.origin.code, s.destination.code)
        zone = zones.get(key)
        if zone is None:
            zone = zones[key] = s.zone
        steps = max(0, -(-(s.weight_g - FIRST_G) // STEP_G))
        fee = (first[zone] + steps * step[zone]) * keep
        total += fee.quantize(cent, rounding=ROUND_HALF_UP)
    return total


def lump_total(pieces: int, n: int) -> Decimal:
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


def sql(db: sqlite3.Connection) -> tuple[Decimal, int]:
    """(c) One aggregate: the per-piece total in fen and the number of pieces."""
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
    return Decimal(fen) / 100, pieces


def best(fn: Callable[[], T], repeat: int) -> tuple[float, T]:
    """The fastest of ``repeat`` runs, and the result of the last."""
    times = []
    result: Any = None
    for _ in range(repeat):
        result = None  # the previous result is freed before the next run
        gc.collect()
        start = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - start)
    return min(times), result


def memory(fn: Callable[[], SettlementStatement]) -> tuple[float, float]:
    """Bytes per line kept by the statement ``fn`` returns, and at the peak of ``fn``."""
    gc.collect()
    tracemalloc.start()
    before = tracemalloc.get_traced_memory()[0]
    tracemalloc.reset_peak()
    statement = fn()
    kept, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    lines = max(1, len(statement.lines))
    return (kept - before) / lines, (peak - before) / lines


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    parser.add_argument("--n", type=int, default=1_000_000, help="number of shipments")
    parser.add_argument("--repeat", type=int, default=3, help="runs per timing (best is kept)")
    args = parser.parse_args(argv)
    n: int = args.n
    repeat: int = args.repeat

    per_piece, lump = agreements(n)
    start = time.perf_counter()
    shipments = build(n)
    pieces = digest(shipments)
    db = sql_load(shipments)
    print(f"built {n:,} shipments in {time.perf_counter() - start:.1f} s (not timed below)")

    pp_s, statement = best(lambda: settle(per_piece, shipments, PERIOD), repeat)
    pp_total, lines = statement.total.amount, len(statement.lines)
    del statement
    lump_s, lump_statement = best(lambda: settle(lump, shipments, PERIOD), repeat)
    lump_amount = lump_statement.total.amount
    del lump_statement
    naive_s, naive_total = best(lambda: naive_loop(pieces), repeat)
    memo_s, memo_total = best(lambda: memo_loop(shipments), repeat)
    sql_s, (sql_total, sql_pieces) = best(lambda: sql(db), repeat)
    # The computations must agree to the fen, or the timings mean nothing.
    assert pp_total == naive_total == memo_total == sql_total, (
        pp_total,
        naive_total,
        memo_total,
        sql_total,
    )
    assert sql_pieces == len(pieces) == lines, (sql_pieces, len(pieces), lines)
    assert lump_amount == lump_total(len(pieces), n) == lump_total(sql_pieces, n), lump_amount

    pp_kept, pp_peak = memory(lambda: settle(per_piece, shipments, PERIOD))
    lump_kept, lump_peak = memory(lambda: settle(lump, shipments, PERIOD))
    kept, peak = max(pp_kept, lump_kept), max(pp_peak, lump_peak)

    def per_line(seconds: float) -> str:
        return f"{seconds:.3f} s ({seconds / max(1, lines) * 1e6:.2f} µs/line)"

    print(f"{lines:,} lines per statement; per-piece total {pp_total}, lump sum {lump_amount}")
    print(f"govpost per piece:  {per_line(pp_s)}, {pp_s / naive_s:.2f}× the naive loop")
    print(f"govpost lump sum:   {per_line(lump_s)}, {lump_s / naive_s:.2f}× the naive loop")
    print(f"(a) naive loop:     {per_line(naive_s)}")
    print(f"(b) memoised loop:  {per_line(memo_s)}")
    print(f"(c) SQLite:         {per_line(sql_s)}")
    print(
        f"memory per line: per piece keeps {pp_kept:.1f} B (peak {pp_peak:.1f} B), lump sum "
        f"keeps {lump_kept:.1f} B (peak {lump_peak:.1f} B)"
    )
    result = {
        "benchmark": "settle",
        "n": n,
        "per_piece_s": round(pp_s, 3),
        "lump_sum_s": round(lump_s, 3),
        "naive_loop_s": round(naive_s, 3),
        "memo_loop_s": round(memo_s, 3),
        "sql_s": round(sql_s, 4),
        "per_piece_ratio_vs_naive": round(pp_s / naive_s, 3),
        "lump_sum_ratio_vs_naive": round(lump_s / naive_s, 3),
        "kept_bytes_per_line": round(kept, 1),
        "peak_bytes_per_line": round(peak, 1),
    }
    print(json.dumps(result))
    return result


if __name__ == "__main__":
    main()
