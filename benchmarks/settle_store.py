"""Benchmark: settle from the store (streamed rows, and the SQL aggregate) against in memory.

N shipments of a 110-center province (default 1,000,000; the generator of ``settle.py``, with
tracking numbers, returns, insured pieces and return receipts) are recorded, sealed, into a
SQLite store and a PostgreSQL store, and June 2018 is settled under a per-piece agreement (a
首重/续重 weight tariff, 15% off, insurance and receipts, return legs charged) four ways:

- **in memory** (``memory_s``): ``settle`` over the ``SettlementRow`` rows the store hands
  over, already in a list (read from the store before the clock starts) — the same objects
  the store path builds, so the ratio is what streaming them from the database costs;
  ``settle`` over the ``Shipment`` objects themselves is reported too
  (``memory_shipments_s``);
- **from the store** (``store_s``, SQLite; ``postgres_store_s``): ``settle(agreement,
  store.shipments.settlement_rows(agreement.centers, period), period)``, rows streamed in
  batches, nothing decrypted;
- **the SQL aggregate** (``sqlite_aggregate_s``, ``postgres_aggregate_s``):
  ``store.aggregate(agreement, period)``, the totals and subtotals computed by the database.

Every timing is the best of ``--repeat`` runs. Before printing, the script checks that every
statement is the same (the same ``statement_id``) and that both aggregates match it to the
fen. Memory: the peak traced by ``tracemalloc`` while settling from the store and in memory,
per line (the rows in memory exist before and after, so that peak is what ``settle``
allocates; streaming adds the batch being read), and the process's peak resident set
(``peak_rss_mb``, dominated by the N shipments and rows the benchmark itself holds).

Loading is measured apart (``seal_s``: ``store.shipments.row`` of every shipment — its
document sealed with SM4-GCM —; ``sqlite_load_s``, ``postgres_load_s``: bulk inserts of those
rows, 10,000 per statement): the benchmark measures settling, not loading, but the rows are
exactly those ``store.shipments.record`` writes.

PostgreSQL is found at ``GOVPOST_TEST_POSTGRES_URL`` (default
``postgresql+psycopg://postgres@127.0.0.1:5432/test``); the benchmark works in a schema of its
own, dropped at the end. If the server does not answer, the PostgreSQL fields are ``null`` and
the script says why.

Usage: ``.venv/bin/python benchmarks/settle_store.py [--n N] [--repeat R]``. The last line
printed is JSON.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import resource
import tempfile
import time
import tracemalloc
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

import sqlalchemy as sa

from govpost.agreements import (
    Coverage,
    FeeAgreement,
    Insurance,
    PerPiece,
    RateCard,
    ReturnPolicy,
    WeightTariff,
)
from govpost.errors import StoreError
from govpost.identifiers import s10_check_digit
from govpost.money import Money
from govpost.regions import Division, Zone
from govpost.settlement import Period, SettlementRow, SettlementStatement, settle
from govpost.shipments import Shipment
from govpost.store import AggregateTotals, Key, KeyRing, Store, open_store
from govpost.store import _schema as t

T = TypeVar("T")

SHANGHAI = ZoneInfo("Asia/Shanghai")
PERIOD = Period.month(2018, 6)
POSTGRES = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
#: A fixed test key (never a real one): the documents are sealed as the store seals them.
KEYS = KeyRing(Key.from_hex("k1", "00112233445566778899aabbccddeeff"))

#: Active divisions of Guizhou (贵州省) the 110 centers sit in (as in settle.py).
GUIZHOU = (
    "520102", "520103", "520111", "520112", "520113", "520115", "520121", "520122", "520123", "520181",
    "520201", "520203", "520204", "520281", "520302", "520303", "520304", "520322", "520323", "520324",
    "520325", "520326", "520327", "520328", "520329", "520330", "520381", "520382", "520402", "520403",
    "520422", "520423", "520424", "520425", "520502", "520521", "520523", "520524", "520525", "520526",
    "520527", "520581", "520602", "520603", "520621", "520622", "520623", "520624", "520625", "520626",
    "520627", "520628", "522301", "522302", "522323", "522324", "522325", "522326", "522327", "522328",
    "522601", "522622", "522623", "522624", "522625", "522626", "522627", "522628", "522629", "522630",
    "522631", "522632", "522633", "522634", "522635", "522636", "522701", "522702", "522722", "522723",
    "522725", "522726", "522727", "522728", "522729", "522730", "522731", "522732",
)  # fmt: skip
OUT_OF_PROVINCE = ("110105", "310115", "440305", "330106", "500101")
CENTERS = tuple(f"GZ-{i:03d}" for i in range(1, 111))
FIRST = {Zone.SAME_CITY: "8.00", Zone.IN_PROVINCE: "10.00", Zone.OUT_OF_PROVINCE: "15.00"}
STEP = {Zone.SAME_CITY: "1.00", Zone.IN_PROVINCE: "2.00", Zone.OUT_OF_PROVINCE: "5.00"}


def agreement() -> FeeAgreement:
    """Per piece: 首重/续重 by zone, 15% off, insurance 0.5% (at least 1.00), receipts 3.00,
    return legs charged."""
    tariff = WeightTariff.uniform(
        first_g=500,
        step_g=500,
        first_fee={z.value: v for z, v in FIRST.items()},
        step_fee={z.value: v for z, v in STEP.items()},
    )
    card = RateCard.single(
        tariff,
        reference="黔邮〔2018〕3号",
        valid_from=date(2018, 1, 1),
        insurance=Insurance(rate="0.005", minimum="1.00"),
        return_receipt="3.00",
    )
    return FeeAgreement(
        id="GZ-PER-PIECE",
        carrier="ems",
        reference="黔政办〔2018〕1号",
        centers=set(CENTERS),
        covers=Coverage.all(),
        mode=PerPiece(tariff=card, discount=Decimal("0.15")),
        valid_from=date(2018, 1, 1),
        return_policy=ReturnPolicy.CHARGE_RETURN_LEG,
    )


def build(n: int) -> list[Shipment]:
    """N shipments across June: mixed zones and weights, 2% never picked up, 1% returned
    (some in July), 2% insured, 3% with a return receipt, all with a tracking number."""
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
        returned = None
        if picked is not None and i % 97 == 0:
            returned = picked + timedelta(days=3 + i % 11)
        serial = f"{i:08d}"
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
                returned_at=returned,
                status="returning" if returned else "picked_up" if picked else "awaiting_pickup",
                declared_value=Money(100 + 50 * (i % 9)) if i % 53 == 0 else None,
                return_receipt=i % 33 == 0,
                tracking_number=f"EA{serial}{s10_check_digit(serial)}CN",
            )
        )
    return out


def load(store: Store, rows: list[dict[str, Any]]) -> float:
    """Bulk-insert prepared shipment rows; the seconds it took."""
    start = time.perf_counter()
    with store.engine.begin() as connection:
        for begin in range(0, len(rows), 10_000):
            connection.execute(sa.insert(t.shipments), rows[begin : begin + 10_000])
    return time.perf_counter() - start


@contextmanager
def postgres() -> Iterator[tuple[str | None, str | None]]:
    """A URL of a fresh PostgreSQL schema (dropped at exit), or why there is none."""
    admin = os.environ.get("GOVPOST_TEST_POSTGRES_URL") or POSTGRES
    engine = sa.create_engine(
        admin, isolation_level="AUTOCOMMIT", connect_args={"connect_timeout": 5}
    )
    name = f"gp_bench_{uuid.uuid4().hex[:12]}"
    try:
        with engine.connect() as connection:
            connection.execute(sa.text(f"CREATE SCHEMA {name}"))
    except sa.exc.SQLAlchemyError as error:
        engine.dispose()
        yield None, f"{type(error).__name__}: {' '.join(str(error).split())[:200]}"
        return
    try:
        url = sa.make_url(admin).update_query_dict({"options": f"-csearch_path={name}"})
        yield url.render_as_string(hide_password=False), None
    finally:
        with engine.connect() as connection:
            connection.execute(sa.text(f"DROP SCHEMA IF EXISTS {name} CASCADE"))
        engine.dispose()


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


def peak(fn: Callable[[], object]) -> float:
    """Bytes allocated at the peak of ``fn``, beyond what existed before (``tracemalloc``)."""
    gc.collect()
    tracemalloc.start()
    before = tracemalloc.get_traced_memory()[0]
    tracemalloc.reset_peak()
    fn()
    top = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return top - before


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    parser.add_argument("--n", type=int, default=1_000_000, help="number of shipments")
    parser.add_argument("--repeat", type=int, default=3, help="runs per timing (best is kept)")
    args = parser.parse_args(argv)
    n: int = args.n
    repeat: int = args.repeat
    terms = agreement()

    def from_store(store: Store) -> SettlementStatement:
        return settle(terms, store.shipments.settlement_rows(terms.centers, PERIOD), PERIOD)

    with tempfile.TemporaryDirectory() as folder, postgres() as (pg_url, pg_problem):
        sqlite = open_store(f"sqlite:///{Path(folder) / 'store.db'}", keys=KEYS)
        start = time.perf_counter()
        shipments = build(n)
        print(f"built {n:,} shipments in {time.perf_counter() - start:.1f} s (not timed below)")
        start = time.perf_counter()
        rows = [sqlite.shipments.row(shipment) for shipment in shipments]
        seal_s = time.perf_counter() - start
        sqlite_load_s = load(sqlite, rows)
        print(f"sealed in {seal_s:.1f} s, loaded into SQLite in {sqlite_load_s:.1f} s")
        pg: Store | None = None
        postgres_load_s: float | None = None
        if pg_url is not None:
            try:
                pg = open_store(pg_url, keys=KEYS)
            except StoreError as error:
                pg_problem = str(error)
            else:
                postgres_load_s = load(pg, rows)
                with pg.engine.begin() as connection:
                    connection.exec_driver_sql("ANALYZE shipments")
                print(f"loaded into PostgreSQL in {postgres_load_s:.1f} s")
        if pg_problem is not None:
            print(f"PostgreSQL not measured: {pg_problem}")
        del rows
        in_memory: list[SettlementRow] = list(
            sqlite.shipments.settlement_rows(terms.centers, PERIOD)
        )

        memory_s, statement = best(lambda: settle(terms, in_memory, PERIOD), repeat)
        shipments_s, by_shipments = best(lambda: settle(terms, shipments, PERIOD), repeat)
        store_s, stored = best(lambda: from_store(sqlite), repeat)
        sqlite_aggregate_s, sqlite_totals = best(lambda: sqlite.aggregate(terms, PERIOD), repeat)
        # Every way gives the same statement, and both aggregates its totals to the fen, or
        # the timings mean nothing.
        assert stored.statement_id == statement.statement_id == by_shipments.statement_id
        assert sqlite_totals == AggregateTotals.of(statement), sqlite_totals
        postgres_store_s: float | None = None
        postgres_aggregate_s: float | None = None
        if pg is not None:
            postgres_store_s, pg_stored = best(lambda: from_store(pg), repeat)
            postgres_aggregate_s, pg_totals = best(lambda: pg.aggregate(terms, PERIOD), repeat)
            assert pg_stored.statement_id == statement.statement_id
            assert pg_totals == AggregateTotals.of(statement), pg_totals
            del pg_stored

        lines = len(statement.lines)
        memory_peak = peak(lambda: settle(terms, in_memory, PERIOD)) / max(1, lines)
        store_peak = peak(lambda: from_store(sqlite)) / max(1, lines)
        aggregate_peak = peak(lambda: sqlite.aggregate(terms, PERIOD))
        peak_rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        sqlite.close()
        if pg is not None:
            pg.close()

    def per(seconds: float | None, what: int) -> str:
        if seconds is None:
            return "not measured"
        return f"{seconds:.3f} s ({seconds / max(1, what) * 1e6:.2f} µs per {'line' if what == lines else 'shipment'})"

    print(
        f"{lines:,} lines ({statement.pieces:,} pieces), total {statement.total}, "
        f"the same on every path"
    )
    print(f"in memory, rows:          {per(memory_s, lines)}")
    print(f"in memory, shipments:     {per(shipments_s, lines)}")
    print(f"from SQLite, streamed:    {per(store_s, lines)}, {store_s / memory_s:.2f}× in memory")
    print(f"from PostgreSQL, streamed: {per(postgres_store_s, lines)}")
    print(f"SQLite aggregate:         {per(sqlite_aggregate_s, n)}")
    print(f"PostgreSQL aggregate:     {per(postgres_aggregate_s, n)}")
    print(
        f"peak per line: {store_peak:.1f} B settling from SQLite, {memory_peak:.1f} B in memory; "
        f"the SQLite aggregate's peak {aggregate_peak / 1024:.0f} KiB; process peak RSS "
        f"{peak_rss_mb:.0f} MB"
    )
    result = {
        "benchmark": "settle_store",
        "n": n,
        "memory_s": round(memory_s, 3),
        "store_s": round(store_s, 3),
        "store_ratio": round(store_s / memory_s, 3),
        "sqlite_aggregate_s": round(sqlite_aggregate_s, 3),
        "postgres_aggregate_s": None
        if postgres_aggregate_s is None
        else round(postgres_aggregate_s, 3),
        "postgres_us_per_shipment": None
        if postgres_aggregate_s is None
        else round(postgres_aggregate_s / n * 1e6, 3),
        "peak_rss_mb": round(peak_rss_mb, 1),
        "memory_shipments_s": round(shipments_s, 3),
        "postgres_store_s": None if postgres_store_s is None else round(postgres_store_s, 3),
        "postgres_store_ratio": None
        if postgres_store_s is None
        else round(postgres_store_s / memory_s, 3),
        "sqlite_us_per_shipment": round(sqlite_aggregate_s / n * 1e6, 3),
        "store_peak_bytes_per_line": round(store_peak, 1),
        "memory_peak_bytes_per_line": round(memory_peak, 1),
        "sqlite_aggregate_peak_kib": round(aggregate_peak / 1024, 1),
        "seal_s": round(seal_s, 1),
        "sqlite_load_s": round(sqlite_load_s, 1),
        "postgres_load_s": None if postgres_load_s is None else round(postgres_load_s, 1),
        "lines": lines,
    }
    print(json.dumps(result))
    return result


if __name__ == "__main__":
    main()
