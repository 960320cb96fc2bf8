"""Benchmark: ingest N tracking events into the store, against a raw executemany of the same rows.

govpost's :meth:`~govpost.store.Store` ``events.ingest`` takes ``TrackingEvent`` values in
batches: it writes each event's wire document sealed with the agency's key (SM4-GCM), a digest
of its content, and inserts only the events it has not stored (``ON CONFLICT DO NOTHING ...
RETURNING`` on SQLite and PostgreSQL), counting them — idempotent, so a redelivered push
changes nothing. The baseline, on the same engine in the same run, is the DB-API's
``executemany`` of the very rows govpost writes (sealed documents computed beforehand, outside
the timing) into an empty copy of the table, in the same batch size, one transaction per
batch. The last line printed is JSON::

    {"benchmark": "ingest", "engine": "sqlite", "n": ..., "govpost_s": ..., "baseline_s": ...,
     "ratio_vs_baseline": ..., "events_per_s": ..., "peak_rss_mb": ...}

Run: ``python benchmarks/ingest.py --n N [--algorithm aes-256-gcm]`` (default N = 1,000,000; SQLite, and PostgreSQL too
when ``GOVPOST_TEST_POSTGRES_URL`` is set or ``--postgres URL`` is given: its line is printed
before SQLite's). Target: ratio <= 2 on SQLite.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa

from govpost.identifiers import s10_check_digit
from govpost.shipments import ShipmentStatus, TrackingEvent
from govpost.store import Key, KeyRing, open_store
from govpost.store import _schema as t

SHANGHAI = ZoneInfo("Asia/Shanghai")
SECRETS = {"sm4-gcm": "00112233445566778899aabbccddeeff", "aes-256-gcm": "00112233" * 8}
#: Events per batch: one ingest call (one transaction) each, and one executemany each.
BATCH = 5_000
LIFE = [
    ShipmentStatus.PICKED_UP,
    ShipmentStatus.IN_TRANSIT,
    ShipmentStatus.IN_TRANSIT,
    ShipmentStatus.OUT_FOR_DELIVERY,
    ShipmentStatus.DELIVERED,
]


def events(n: int) -> list[TrackingEvent]:
    """``n`` events: lives of five scans, with the location and description carriers send."""
    out: list[TrackingEvent] = []
    start = datetime(2024, 6, 3, 9, 0, tzinfo=SHANGHAI)
    for index in range(n):
        item, step = divmod(index, len(LIFE))
        serial = f"{item % 100_000_000:08d}"
        out.append(
            TrackingEvent(
                event_id=f"EMS-{item}-{step}",
                tracking_number=f"EA{serial}{s10_check_digit(serial)}CN",
                status=LIFE[step],
                occurred_at=start + timedelta(minutes=item % 10_000, hours=step * 5),
                location="贵阳市",
                description="已签收，签收人：本人" if step == 4 else "贵阳邮区中心已处理",
            )
        )
    return out


def batches(items: list[Any], size: int = BATCH) -> Iterator[list[Any]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def measure(url: str, engine_name: str, n: int, algorithm: str) -> dict[str, Any]:
    """Time govpost's ingest and the raw executemany on ``url``; both on empty tables."""
    stream = events(n)
    keys = KeyRing(Key.from_hex("bench", SECRETS[algorithm], algorithm))
    with open_store(url, keys=keys) as store:
        started = time.perf_counter()
        new = 0
        for chunk in batches(stream):
            new += store.events.ingest("ems", chunk)
        govpost_s = time.perf_counter() - started
        assert new == n, f"{new} new of {n}"
        again = sum(store.events.ingest("ems", chunk) for chunk in batches(stream[:BATCH]))
        assert again == 0, "ingesting the same events again stored something"

        rows = store.events.rows("ems", stream)
        with store.engine.begin() as connection:
            connection.execute(sa.delete(t.tracking_events).where(sa.true()))
        # The rows exactly as the database receives them (the column types' bound values),
        # prepared outside the timing: the baseline only inserts.
        dialect = store.engine.dialect
        compiled = sa.insert(t.tracking_events).compile(dialect=dialect)
        names = list(compiled.positiontup or ()) if compiled.positional else list(compiled.params)
        processors = [t.tracking_events.c[name].type.bind_processor(dialect) for name in names]
        prepared: list[Any] = []
        for row in rows:
            values = [
                row[name] if process is None else process(row[name])
                for name, process in zip(names, processors, strict=True)
            ]
            prepared.append(
                tuple(values) if compiled.positional else dict(zip(names, values, strict=True))
            )
        sql = str(compiled)
        started = time.perf_counter()
        for chunk in batches(prepared):
            with store.engine.begin() as connection:
                cursor = connection.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
                cursor.executemany(sql, chunk)
                cursor.close()
        baseline_s = time.perf_counter() - started
        assert store.events.count("ems") == n
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return {
        "benchmark": "ingest",
        "engine": engine_name,
        "algorithm": algorithm,
        "n": n,
        "govpost_s": round(govpost_s, 3),
        "baseline_s": round(baseline_s, 3),
        "ratio_vs_baseline": round(govpost_s / baseline_s, 2),
        "events_per_s": round(n / govpost_s),
        "peak_rss_mb": round(peak, 1),
    }


def postgres(url: str, n: int, algorithm: str) -> dict[str, Any] | None:
    """The same measure in a new PostgreSQL schema (dropped after); ``None`` if unreachable."""
    admin = sa.create_engine(url, isolation_level="AUTOCOMMIT")
    schema = f"bench_{uuid.uuid4().hex[:10]}"
    try:
        with admin.connect() as connection:
            connection.execute(sa.text(f"CREATE SCHEMA {schema}"))
    except sa.exc.OperationalError as error:
        print(f"PostgreSQL at {url} not reachable ({error.orig}); skipped", file=sys.stderr)
        return None
    try:
        scoped = sa.make_url(url).update_query_dict({"options": f"-csearch_path={schema}"})
        return measure(scoped.render_as_string(hide_password=False), "postgresql", n, algorithm)
    finally:
        with admin.connect() as connection:
            connection.execute(sa.text(f"DROP SCHEMA {schema} CASCADE"))
        admin.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--n", type=int, default=1_000_000, help="events to ingest")
    parser.add_argument("--postgres", default=os.environ.get("GOVPOST_TEST_POSTGRES_URL"))
    parser.add_argument("--algorithm", choices=sorted(SECRETS), default="sm4-gcm")
    args = parser.parse_args()
    if args.postgres:
        result = postgres(args.postgres, args.n, args.algorithm)
        if result is not None:
            print(json.dumps(result))
    with tempfile.TemporaryDirectory() as folder:
        url = f"sqlite:///{Path(folder) / 'ingest.db'}"
        print(json.dumps(measure(url, "sqlite", args.n, args.algorithm)))


if __name__ == "__main__":
    main()
