"""The benchmarks still run: each, on a tiny input, ends with the JSON line its issue asks for.

Speed is not asserted here (machines are shared and noisy); only that the scripts work and
report every key, so that a benchmark cannot rot between the runs that measure.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

BENCHMARKS = Path(__file__).resolve().parent.parent / "benchmarks"

KEYS = {
    "construct.py": {
        "benchmark",
        "n",
        "shipment_us",
        "shipment_from_json_us",
        "tracking_number_parse_us",
        "validate_mobile_us",
        "import_ms",
    },
    "settle.py": {
        "benchmark",
        "n",
        "per_piece_s",
        "lump_sum_s",
        "naive_loop_s",
        "memo_loop_s",
        "sql_s",
        "per_piece_ratio_vs_naive",
        "lump_sum_ratio_vs_naive",
        "kept_bytes_per_line",
        "peak_bytes_per_line",
    },
    "tracking.py": {"benchmark", "n", "govpost_s", "baseline_s", "ratio_vs_baseline"},
    "settle_store.py": {
        "benchmark",
        "n",
        "memory_s",
        "store_s",
        "store_ratio",
        "sqlite_aggregate_s",
        "postgres_aggregate_s",
        "postgres_us_per_shipment",
        "peak_rss_mb",
    },
    "ingest.py": {
        "benchmark",
        "engine",
        "n",
        "govpost_s",
        "baseline_s",
        "ratio_vs_baseline",
        "events_per_s",
        "peak_rss_mb",
    },
}


@pytest.mark.parametrize("script", sorted(KEYS))
def test_benchmark_runs_and_reports_every_key(script: str) -> None:
    done = subprocess.run(
        [sys.executable, str(BENCHMARKS / script), "--n", "200"],
        capture_output=True,
        text=True,
        check=True,
        timeout=300,
    )
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert set(result) >= KEYS[script]
    assert result["benchmark"] == script.removesuffix(".py")
    assert result["n"] == 200
