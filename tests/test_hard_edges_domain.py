"""Hard edges of the domain readers (issue 7): carrier bills, rate cards, shipments.

- The carrier-bill reader and the rate-card readers are total: any bytes or text give a value
  or a :class:`~govpost.errors.GovpostError` that names what was wrong, never ``OverflowError``,
  ``decimal.Overflow``, ``RecursionError`` or ``ValueError`` from deep inside; numbers are
  finite, ASCII and within the model's limits.
- Their costs are bounded: reading a shipment of N events is O(N log N) whatever the
  revocations, and validating a tariff costs the same whatever its step sizes. Costs are
  compared as counts of the Python lines run (:func:`ops`), between N and 10N — never against
  the clock.
- A carrier's correction of an event (same ``event_id``, corrected content) replaces the earlier
  version, which is kept in :attr:`~govpost.shipments.Shipment.superseded`.
"""

from __future__ import annotations

import functools
import json
import sys
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path
from types import FrameType
from typing import Any
from zoneinfo import ZoneInfo

import attrs
import pytest
from hypothesis import given
from hypothesis import strategies as st

from govpost.agreements import (
    MAX_WEIGHT_G,
    RateCard,
    WeightTariff,
    ZoneStep,
    business_date,
)
from govpost.carriers.ems.parse import parse_track
from govpost.errors import (
    CarrierError,
    DeserializationError,
    GovpostError,
    InvalidTransitionError,
    ValidationError,
)
from govpost.money import Money
from govpost.regions import Zone
from govpost.serialization import from_json, to_json
from govpost.settlement import MAX_BILL_AMOUNT, CarrierBill, FeeType, Period
from govpost.shipments import (
    REVOKE_PREVIOUS,
    Anomaly,
    Shipment,
    ShipmentStatus,
    TrackingEvent,
)
from govpost.tariffs import _first_below, _first_inversion
from tests.fuzzing import fuzz
from tests.strategies import rate_cards
from tests.test_shipments import at, booked, ev

SH = ZoneInfo("Asia/Shanghai")
S = ShipmentStatus
WAYBILL = "RR473124829GB"


def ops(action: Callable[[], object]) -> int:
    """How many Python lines ``action`` runs (calls and returns included): a count of its
    work that does not depend on the machine or its load."""
    count = 0

    def tracer(frame: FrameType, event: str, arg: object) -> Any:
        nonlocal count
        count += 1
        return tracer

    previous = sys.gettrace()
    sys.settrace(tracer)
    try:
        action()
    finally:
        sys.settrace(previous)
    return count


def only_govpost_errors(action: Callable[[], object]) -> object:
    """``action()``, or ``None`` if it raised a GovpostError whose message can be printed."""
    try:
        return action()
    except GovpostError as exc:
        message = str(exc)
    assert message
    return None


# --- carrier bills: total, finite, ASCII, bounded ---------------------------------------------

HEADER = "运单号,揽收日期,重量(克),寄达地,费用类型,金额\n"
KG_HEADER = "运单号,揽收日期,重量(千克),寄达地,费用类型,金额\n"


def bill(*rows: str, header: str = HEADER, **kw: Any) -> CarrierBill:
    return CarrierBill.from_text(header + "".join(f"{r}\n" for r in rows), **kw)


@pytest.mark.parametrize(
    "weight",
    ["inf", "-inf", "Infinity", "NaN", "1e999999999", "1e5000", "1E3", "0x10", "1_000", "--1"],
)
def test_bill_weights_must_be_finite_plain_numbers(weight: str) -> None:
    """Regression: inf raised OverflowError, 1e999999999 decimal.Overflow; 1e5000 slipped by."""
    for header, field in ((HEADER, "weight_g"), (KG_HEADER, "weight_kg")):
        with pytest.raises(DeserializationError, match=rf"line 2, {field}: '{weight}' is not a"):
            bill(f"EA1,2018-06-03,{weight},同城,邮费,6.80", header=header)


def test_bill_weights_stop_at_the_models_limit() -> None:
    assert bill(f"EA1,2018-06-03,{MAX_WEIGHT_G},同城,邮费,6.80").rows[0].weight_g == MAX_WEIGHT_G
    assert bill("EA1,2018-06-03,1000,同城,邮费,6.80", header=KG_HEADER).rows[0].weight_g == (
        MAX_WEIGHT_G
    )
    with pytest.raises(DeserializationError, match=r"weight_g: '1000001' is over 1,000,000 g"):
        bill(f"EA1,2018-06-03,{MAX_WEIGHT_G + 1},同城,邮费,6.80")
    with pytest.raises(DeserializationError, match=r"weight_kg: '1000.001' is over 1,000,000 g"):
        bill("EA1,2018-06-03,1000.001,同城,邮费,6.80", header=KG_HEADER)
    # Beyond the decimal context's 28 digits a kilogram weight must not round to a whole gram.
    with pytest.raises(DeserializationError, match="not a positive whole number of kilograms"):
        bill("EA1,2018-06-03,1.00000000000000000000000000001,同城,邮费,6.80", header=KG_HEADER)


def test_bill_amounts_are_finite_and_within_bounds() -> None:
    top = f"{MAX_BILL_AMOUNT:.2f}"
    assert bill(f'EA1,2018-06-03,300,同城,邮费,"{int(MAX_BILL_AMOUNT):,}.00"').total == Money(top)
    assert bill(f"EA1,2018-06-03,300,同城,冲销,-{top}").total == -Money(top)
    assert bill("EA1,2018-06-03,300,同城,邮费,￥6.80").total == Money("6.80")
    for amount, message in [
        ("1000000000.01", r"is beyond ±1,000,000,000 yuan"),
        ("-1e20", "no exponent"),
        ("1e5000", "no exponent"),
        ("inf", "no exponent"),
        ("NaN", "no exponent"),
        ("1" * 41, "no exponent"),
        ("12345678901234567890123456789.5", "is beyond"),
        ("0.000000000000000000000000000001", "at most two decimals"),
    ]:
        with pytest.raises(DeserializationError, match=rf"line 2, amount: .* {message}"):
            bill(f"EA1,2018-06-03,300,同城,邮费,{amount}")


@pytest.mark.parametrize(
    ("row", "field"),
    [
        ("EA1,2018-06-03,３００,同城,邮费,6.80", "weight_g"),  # full-width
        ("EA1,2018-06-03,٣٠٠,同城,邮费,6.80", "weight_g"),  # Arabic-Indic
        ("EA1,2018-06-03,300,同城,邮费,٦.٨٠", "amount"),
        ("EA1,2018-06-03,300,同城,邮费,６.８０", "amount"),
        ("EA1,٢٠١٨-06-03,300,同城,邮费,6.80", "pickup_date"),
        ("EA1,2018-０6-03,300,同城,邮费,6.80", "pickup_date"),
        ("EA1,2018-06-031,300,同城,邮费,6.80", "pickup_date"),
        ("EA1,2018-06-03,300,５２０１０２,邮费,6.80", "destination"),
        ("EA1,2018-06-03,300,٥٢٠١٠٢,邮费,6.80", "destination"),
        ("EA1,2018-06-03,3²,同城,邮费,6.80", "weight_g"),  # "²".isdigit() is True
    ],
)
def test_digits_of_other_scripts_are_refused_naming_the_field(row: str, field: str) -> None:
    with pytest.raises(DeserializationError, match=rf"line 2, {field}: "):
        bill(row)


def test_a_lone_surrogate_is_refused_naming_its_line() -> None:
    with pytest.raises(DeserializationError, match=r"line 3: holds a character that is not"):
        bill("EA1,2018-06-03,300,同城,邮费,6.80", "EA2\udc80,2018-06-03,300,同城,邮费,6.80")


def test_messages_cut_junk_short_and_mask_personal_numbers() -> None:
    with pytest.raises(DeserializationError) as caught:
        bill(f"EA1,2018-06-03,300,同城,邮费,13800138000{'x' * 10_000}")
    message = str(caught.value)
    assert "13800138000" not in message
    assert "138****8000" in message
    assert len(message) < 300


def test_size_caps_are_stated_and_can_be_raised(tmp_path: Path) -> None:
    rows = [f"EA{i},2018-06-03,300,同城,邮费,6.80" for i in range(3)]
    assert len(bill(*rows, max_rows=3).rows) == 3
    assert len(bill(*rows, "", " , ,", max_rows=3).rows) == 3  # blank lines are no rows
    with pytest.raises(DeserializationError, match=r"line 4: the bill has more than 2 rows"):
        bill(*rows, max_rows=2)
    text = HEADER + "".join(f"{r}\n" for r in rows)
    size = len(text.encode("gbk"))
    path = tmp_path / "bill.csv"
    path.write_bytes(text.encode("gbk"))
    assert len(CarrierBill.from_csv(path, max_bytes=size).rows) == 3
    with pytest.raises(DeserializationError, match=rf"larger than {size - 1:,} bytes"):
        CarrierBill.from_csv(path, max_bytes=size - 1)
    with pytest.raises(DeserializationError, match=rf"longer than {len(text) - 1:,} characters"):
        CarrierBill.from_text(text, max_bytes=len(text) - 1)


def test_from_bytes_reads_what_from_csv_reads(tmp_path: Path) -> None:
    text = HEADER + "EA520180614CN,2018/6/3,300,同城,邮费,6.80\n"
    path = tmp_path / "bill.csv"
    path.write_bytes(text.encode("gbk"))
    assert CarrierBill.from_bytes(text.encode("gbk")) == CarrierBill.from_csv(path)
    assert CarrierBill.from_bytes(text.encode("gbk"), encoding="gbk").total == Money("6.80")


@pytest.mark.parametrize(
    ("kw", "message"),
    [
        ({"encoding": 8}, "encoding= 8 must be the name of an encoding"),
        ({"encoding": "rot13"}, "cannot decode as 'rot13'"),
        ({"encoding": "idna"}, "cannot decode as 'idna'"),
        ({"encoding": "no-such-codec"}, "cannot decode as 'no-such-codec'"),
        ({"max_rows": 0}, "max_rows= 0 must be a positive int"),
        ({"max_bytes": True}, "max_bytes= True must be a positive int"),
        ({"currency": "元"}, "currency= '元' is not an ISO 4217 code"),
    ],
)
def test_bad_reader_arguments_are_govpost_errors(kw: dict[str, Any], message: str) -> None:
    with pytest.raises(DeserializationError, match=message):
        CarrierBill.from_bytes((HEADER + "EA1,2018-06-03,300,同城,邮费,6.80\n").encode(), **kw)


def test_reading_a_bill_is_linear_in_its_rows() -> None:
    """Cost: a bill of 10N rows costs about ten times a bill of N rows."""

    def text(n: int) -> str:
        return HEADER + "".join(
            f"EA{i},2018-06-03,{i % 900 + 1},同城,邮费,6.80\n" for i in range(n)
        )

    small, large = text(100), text(1_000)
    ratio = ops(lambda: CarrierBill.from_text(large)) / ops(lambda: CarrierBill.from_text(small))
    assert 5 < ratio < 15


@pytest.mark.parametrize("where", ["amount", "fee_type", "header"])
def test_a_huge_bad_cell_costs_no_more_than_a_small_one(where: str) -> None:
    """Regression: the message about a bad cell scrubbed the whole cell before cutting it to
    40 characters, and scrubbing a run of short groups (``1 1 1 …``) was quadratic: a 40 KB
    cell took 4 s. Now only what the message can show is scrubbed: a cell ten times larger
    costs about the same."""

    def text(cell: str) -> str:
        if where == "header":
            return f"{cell},x\n"
        row = {
            "amount": f"EA1,2018-06-03,300,同城,邮费,{cell}",
            "fee_type": f"EA1,2018-06-03,300,同城,{cell},1",
        }
        return HEADER + row[where] + "\n"

    small, large = text("1 " * 1_000), text("1 " * 10_000)
    for document in (small, large):
        with pytest.raises(DeserializationError, match=r"line|header") as caught:
            CarrierBill.from_text(document)
        assert len(str(caught.value)) < 600
    cost_small = ops(lambda: only_govpost_errors(lambda: CarrierBill.from_text(small)))
    cost_large = ops(lambda: only_govpost_errors(lambda: CarrierBill.from_text(large)))
    assert cost_large < 2 * cost_small


# --- rate cards: total and bounded -------------------------------------------------------------

TOML_CARD = """\
name = "EMS"
[[rates]]
valid_from = 2018-01-01
reference = "黔邮〔2018〕1号"
tariff = { price = { amount = "12.00" } }
"""


@pytest.mark.parametrize(
    "text",
    [
        "x = " + "[" * 1_000 + "]" * 1_000,
        "x = " + "{a = " * 1_000 + "1" + "}" * 1_000,
        "a" + ".a" * 1_000 + " = 1",
        "[a" + ".a" * 1_000 + "]",
        "[[a" + " . a" * 1_000 + "]]",
        TOML_CARD + "x = " + "[" * 65 + "]" * 65,
    ],
)
def test_deeply_nested_toml_is_refused_before_parsing(text: str) -> None:
    """Regression: a rate card nested ~1,000 deep raised RecursionError; dotted keys nest too
    (and cost tomllib the square of their length)."""
    with pytest.raises(DeserializationError, match=r"nests arrays or objects \d+ deep"):
        RateCard.from_toml(text)


def test_nesting_up_to_the_limit_is_read() -> None:
    with pytest.raises(DeserializationError, match="unexpected fields") as caught:
        RateCard.from_toml("x = " + "[" * 64 + "]" * 64 + "\n" + TOML_CARD)
    assert "nests" not in str(caught.value)
    # Brackets and dots inside strings and comments do not nest anything.
    name = "a." * 100 + "[" * 100
    text = TOML_CARD.replace('name = "EMS"', f'name = "{name}"  # {"{" * 100}')
    assert RateCard.from_toml(text).name == name


@pytest.mark.parametrize(
    "text",
    [
        "x = " + "9" * 5_000,  # tomllib raises a bare ValueError beyond 4,300 digits
        'name = "\ud800"',  # a lone surrogate in the text itself
        'name = "\\ud800"',  # and escaped
        "x = 1e999999999",
        "valid_from = 2018-02-30",
        "\x00",
    ],
)
def test_toml_oddities_are_deserialization_errors(text: str) -> None:
    with pytest.raises(DeserializationError, match="cannot read RateCard"):
        RateCard.from_toml(text)


@pytest.mark.parametrize(
    "text",
    [
        "[" * 100_000,
        '{"name": ' + "[" * 5_000 + "]" * 5_000 + "}",
        b"\xff\xfe",
        '{"name": NaN}',
        '{"name": "\\ud800", "rates": []}',
        '{"name": 1e999999999}',
    ],
)
def test_json_oddities_are_deserialization_errors(text: str | bytes) -> None:
    with pytest.raises(DeserializationError, match="cannot read RateCard"):
        RateCard.from_json(text)


def test_data_that_holds_itself_is_refused() -> None:
    data: dict[str, Any] = {"name": "EMS"}
    data["rates"] = [data]
    with pytest.raises(DeserializationError, match="nests more than 64 deep"):
        RateCard.from_data(data)


def test_a_reference_that_is_not_unicode_is_refused() -> None:
    card = RateCard.from_toml(TOML_CARD)
    with pytest.raises(ValidationError, match="lone surrogate"):
        attrs.evolve(card.rates[0], reference="黔邮\udc80")


# --- tariffs: exact, at a cost independent of the weights --------------------------------------


def step(zone: str, first_g: int, first_fee: str, step_g: int, step_fee: str) -> ZoneStep:
    return ZoneStep(
        zone=zone, first_g=first_g, first_fee=first_fee, step_g=step_g, step_fee=step_fee
    )


def test_pathological_steps_are_checked_exactly() -> None:
    """Regression: steps of 999,983 g and 1 g took ~40 s to validate, walking a million steps.

    同城 costs 1 → 2 from 2 g → 3 from 999,985 g; 省内 costs 2 up to 999,000 g, then 1/10,000
    of a fen more per gram: 2.000984 at 999,984 g, 2.000985 at 999,985 g, where 同城's second
    step overtakes it — the lightest inversion, a gram past everything but the last step.
    """
    near = step("same_city", 1, "1.00", 999_983, "1.00")
    far = step("in_province", 999_000, "2.00", 1, "0.000001")
    with pytest.raises(
        ValidationError,
        match=r"at 999985 g, 省内 \(in_province\) costs 2\.000985 CNY but the nearer 同城 "
        r"\(same_city\) costs 3\.00 CNY",
    ):
        WeightTariff(zones=[near, far])
    assert far.price(999_984) >= near.price(999_984)
    fine = step("in_province", 999_000, "2.00", 1, "0.0011")  # 3.0835 at 999,985 g
    assert WeightTariff(zones=[near, fine]).for_zone(Zone.IN_PROVINCE) == fine


PATHOLOGICAL = [
    # (near step, far step), as (first_g, first_fee, step_g, step_fee) of each zone
    ((1, "1.00", 99_991, "1.00"), (9_990, "2.00", 1, "0.000001")),
    ((1, "1.00", 999_983, "1.00"), (99_900, "2.00", 1, "0.000001")),
    ((7, "8.00", 99_991, "10"), (3, "8.00", 1, "0.0001")),
    ((7, "8.00", 999_983, "10"), (3, "8.00", 1, "0.00001")),
    ((500, "8.00", 99_991, "5.00"), (1, "8.00", 99_989, "5.00001")),
    ((500, "8.00", 999_983, "5.00"), (1, "8.00", 999_979, "5.00001")),
]


@pytest.mark.parametrize("pair", [(0, 1), (2, 3), (4, 5)])
def test_validating_a_tariff_costs_the_same_whatever_its_steps(pair: tuple[int, int]) -> None:
    """Cost: a tariff whose steps are ten times finer or coarser costs about the same to check
    (a walk over grams or steps would cost ten times more)."""

    def check(case: int) -> Callable[[], object]:
        near, far = PATHOLOGICAL[case]
        zones = [step("same_city", *near), step("in_province", *far)]
        return lambda: only_govpost_errors(lambda: WeightTariff(zones=zones))

    small, large = (ops(check(case)) for case in pair)
    assert large < 2 * small


@fuzz
@given(
    near=st.builds(
        ZoneStep,
        zone=st.just(Zone.SAME_CITY),
        first_g=st.integers(1, MAX_WEIGHT_G),
        first_fee=st.integers(0, 10**6).map(Money.from_fen),
        step_g=st.integers(1, MAX_WEIGHT_G),
        step_fee=st.integers(0, 10**6).map(lambda n: Money(Decimal(n).scaleb(-4))),
    ),
    far=st.builds(
        ZoneStep,
        zone=st.just(Zone.IN_PROVINCE),
        first_g=st.integers(1, MAX_WEIGHT_G),
        first_fee=st.integers(0, 10**6).map(Money.from_fen),
        step_g=st.integers(1, MAX_WEIGHT_G),
        step_fee=st.integers(0, 10**6).map(lambda n: Money(Decimal(n).scaleb(-4))),
    ),
    probes=st.lists(st.integers(1, MAX_WEIGHT_G), max_size=10),
)
def test_any_weights_validate_quickly_and_exactly(
    near: ZoneStep, far: ZoneStep, probes: list[int]
) -> None:
    """Tariff: over the whole weight range, a refused tariff really inverts at the weight its
    error names and not one gram lighter; an accepted one inverts at no weight probed — and
    either answer comes within the fuzz deadline whatever the step sizes."""
    at = _first_inversion(near, far)
    if at is not None:
        assert far.price(at) < near.price(at)
        assert at == 1 or far.price(at - 1) >= near.price(at - 1)
        with pytest.raises(ValidationError, match=rf"at {at} g"):
            WeightTariff(zones=[near, far])
        return
    WeightTariff(zones=[near, far])
    for w in [*probes, near.first_g, far.first_g, min(near.first_g + 1, MAX_WEIGHT_G)]:
        assert far.price(w) >= near.price(w)


@given(
    near=st.builds(
        ZoneStep,
        zone=st.just(Zone.SAME_CITY),
        first_g=st.integers(1, 60),
        first_fee=st.integers(0, 40).map(Money.from_fen),
        step_g=st.integers(1, 25),
        step_fee=st.sampled_from(["0", "0.01", "0.02", "0.05", "0.125", "0.3", "1"]),
    ),
    far=st.builds(
        ZoneStep,
        zone=st.just(Zone.IN_PROVINCE),
        first_g=st.integers(1, 60),
        first_fee=st.integers(0, 40).map(Money.from_fen),
        step_g=st.integers(1, 25),
        step_fee=st.sampled_from(["0", "0.01", "0.02", "0.05", "0.125", "0.3", "1"]),
    ),
    top=st.integers(1, 150),
)
def test_the_lightest_inversion_is_the_one_a_walk_over_every_gram_finds(
    near: ZoneStep, far: ZoneStep, top: int
) -> None:
    """Tariff: the analytic search names exactly the weight a gram-by-gram walk finds."""
    walk = next((w for w in range(1, top + 1) if far.price(w) < near.price(w)), None)
    assert _first_inversion(near, far, top) == walk


@given(
    n=st.integers(0, 80),
    m=st.integers(1, 50),
    a=st.integers(-60, 60),
    b=st.integers(-100, 100),
    coef=st.integers(-30, 30),
    slope=st.integers(-30, 30),
    bound=st.integers(-400, 400),
)
def test_first_below_agrees_with_a_scan(
    n: int, m: int, a: int, b: int, coef: int, slope: int, bound: int
) -> None:
    """The Euclid-like search finds the least x in [0, n) with coef·⌊(ax+b)/m⌋ + slope·x <
    bound, exactly as a scan of every x does."""
    scan = next((x for x in range(n) if coef * ((a * x + b) // m) + slope * x < bound), None)
    assert _first_below(n, m, a, b, coef, slope, bound) == scan


def test_first_below_takes_logarithmic_steps() -> None:
    """Cost: a search over ten times more values takes a few more steps, not ten times more."""

    def search(scale: int) -> Callable[[], object]:
        return lambda: _first_below(10 * scale, 999_983, 1_000_003, 5, 7, -3, -(10**9))

    assert ops(search(10**5)) < 2 * ops(search(10**4))


# --- shipments: bounded reading ----------------------------------------------------------------


def busy_events(n: int) -> list[TrackingEvent]:
    """A pickup, then n rounds of two scans and one revocation (by id or of the previous)."""
    start = at(3, 9)
    events = [ev("p", S.PICKED_UP, start)]
    for i in range(n):
        t = start + timedelta(minutes=1 + 3 * i)
        events.append(ev(f"s{i}", S.IN_TRANSIT, t))
        events.append(ev(f"t{i}", S.IN_TRANSIT, t + timedelta(minutes=1)))
        revokes = REVOKE_PREVIOUS if i % 2 else f"s{i}"
        events.append(ev(f"r{i}", S.IN_TRANSIT, t + timedelta(minutes=2), revokes=revokes))
    return events


def test_a_shipment_of_4500_events_is_read_in_n_log_n() -> None:
    """Regression: 4,500 events (1,500 of them revocations) took ~3 s, each revocation scanning
    every event. Applying them, reading the shipment back from JSON and reading its derived
    state cost about ten times what a tenth of the events costs, not a hundred times."""
    small_events, large_events = busy_events(150), busy_events(1_500)
    assert len(large_events) == 4_501
    small, large = booked().apply(*small_events), booked().apply(*large_events)
    assert (large.status, large.anomalies, large.picked_up_at) == (S.IN_TRANSIT, (), at(3, 9))
    late = ev("late", S.DELIVERED, at(30))
    for cost_small, cost_large in [
        (ops(lambda: booked().apply(*small_events)), ops(lambda: booked().apply(*large_events))),
        (
            ops(lambda: from_json(to_json(small), Shipment)),
            ops(lambda: from_json(to_json(large), Shipment)),
        ),
        (ops(lambda: small.apply(late)), ops(lambda: large.apply(late))),
    ]:
        assert cost_large < 30 * cost_small


def test_revoking_a_long_run_of_scans_one_by_one_is_n_log_n() -> None:
    """Cost: n scans, then n revocations of "the previous event", each finding the latest scan
    not yet revoked. Without path compression each revocation walks back over every scan
    already revoked (quadratic; a mutant that dropped it survived the interleaved test
    above). Ten times the events cost about ten times as much."""

    def events(n: int) -> list[TrackingEvent]:
        start = at(3, 9)
        scans = [ev(f"s{i}", S.IN_TRANSIT, start + timedelta(minutes=1 + i)) for i in range(n)]
        revocations = [
            ev(f"r{i}", S.IN_TRANSIT, start + timedelta(minutes=1 + n + i), revokes=REVOKE_PREVIOUS)
            for i in range(n)
        ]
        return [ev("p", S.PICKED_UP, start), *scans, *revocations]

    small_events, large_events = events(100), events(1_000)
    large = booked().apply(*large_events)
    assert (large.status, large.anomalies, large.history) == (
        S.PICKED_UP,
        (),
        ((at(3, 9), S.PICKED_UP),),
    )
    cost_small = ops(lambda: booked().apply(*small_events))
    cost_large = ops(lambda: booked().apply(*large_events))
    assert cost_large < 20 * cost_small


def test_the_derived_state_is_computed_once() -> None:
    shipment = booked().apply(*busy_events(20))
    assert shipment.anomalies is shipment.anomalies
    assert shipment.history is shipment.history
    assert ops(lambda: shipment.history) < 10


# --- times at the ends of the calendar ----------------------------------------------------------

#: Aware times within hours of the first and last days Python's dates hold: converting them to
#: Asia/Shanghai (for a business date) overflows.
EDGE_TIMES = [
    datetime(9999, 12, 31, 23, tzinfo=timezone(timedelta(hours=-14))),
    datetime(1, 1, 1, tzinfo=timezone(timedelta(hours=14))),
    datetime.max.replace(tzinfo=UTC),
]


@pytest.mark.parametrize("when", EDGE_TIMES, ids=str)
def test_times_the_wire_format_cannot_hold_are_refused_where_they_enter(when: datetime) -> None:
    """Regression: an EMS trace dated ``9999-12-31 23:59:59-14:00`` became an event that
    settlement then turned into an ``OverflowError`` (its business date), and that no wire
    document could hold. Every model timestamp now lies in the wire format's years."""
    with pytest.raises(ValidationError, match="govpost holds times from 1900 to 9998"):
        ev("e1", S.PICKED_UP, when)
    with pytest.raises(ValidationError, match="govpost holds times from 1900 to 9998"):
        attrs.evolve(booked(), created_at=when)
    with pytest.raises(ValidationError):
        business_date(when)
    trace = {"waybillNo": WAYBILL, "opCode": "203", "opTime": when.isoformat(sep=" ")[:32]}
    body = json.dumps({"waybillNo": WAYBILL, "responseItems": [trace]})
    with pytest.raises(CarrierError, match="malformed"):
        parse_track(json.dumps({"retCode": "00000", "retBody": body}))


def test_periods_at_the_ends_of_the_calendar_are_govpost_errors() -> None:
    """Regression: ``Period.parse("0001").previous()`` raised ``ValueError`` (year 0), a period
    starting in 9999 was built, its ``end`` then raising ``ValueError``, and a period of 1899
    was built that ``to_json`` then refused. Periods lie in the wire format's years."""
    with pytest.raises(ValidationError, match="no previous period"):
        Period.parse("1900").previous()
    assert Period.parse("1900-02").previous() == Period.parse("1900-01")
    assert Period.parse("9998-11").next() == Period.parse("9998-12")
    with pytest.raises(ValidationError, match="periods lie in the years 1900 to 9998"):
        Period.parse("9998-12").next()
    for start in (date(9999, 1, 1), date(1899, 1, 1)):
        with pytest.raises(ValidationError, match="periods lie in the years 1900 to 9998"):
            Period(kind="year", start=start)
    for text in ("0001", "1899-12", "0000"):
        with pytest.raises(ValidationError, match="must be an int from 1900 to 9998"):
            Period.parse(text)
    for period in (Period.parse("1900-01"), Period.parse("9998-Q4")):
        assert from_json(to_json(period), Period) == period


def test_dates_of_rates_lie_in_the_years_of_the_wire_format() -> None:
    """A rate valid from 1899 was built, and ``to_json`` then refused it: what the model holds,
    the wire format writes (and reads: a date of 1899 is refused there, naming its path)."""
    card = RateCard.from_toml(TOML_CARD)
    for day in (date(1899, 12, 31), date(9999, 1, 1)):
        with pytest.raises(ValidationError, match="hold dates from 1900 to 9998"):
            attrs.evolve(card.rates[0], valid_from=day)
    with pytest.raises(
        DeserializationError, match=r"in the year 1899.* @ \$\.rates\[0\]\.valid_from"
    ):
        RateCard.from_toml(TOML_CARD.replace("2018-01-01", "1899-01-01"))
    for text in (
        '"0001-01-01T00:00:00+14:00"',
        '"9999-12-31T23:59:59-14:00"',
        '"1899-12-31T23:59:59+08:00"',
    ):
        with pytest.raises(DeserializationError, match="from 1900 to 9998"):
            from_json(text, datetime)


# --- corrections (issue 7, point 10) -----------------------------------------------------------

PICKUP = ev("e1", S.PICKED_UP, at(3, 10), carrier_code="203", location="贵阳市南明区营业部")
FAILED = ev("e2", S.DELIVERY_FAILED, at(4, 15), carrier_code="705", description="无人签收")
SIGNED = ev("e2", S.DELIVERED, at(4, 15), carrier_code="704", description="已签收")


def test_a_corrected_text_replaces_the_earlier_version_and_keeps_it() -> None:
    before = booked().apply(PICKUP, FAILED)
    fixed = attrs.evolve(FAILED, description="收件人不在，已电话联系", location="都匀市营业部")
    after = before.apply(fixed)
    assert after.events == (PICKUP, fixed)
    assert after.superseded == (FAILED,)
    assert after.anomalies == ()
    assert (after.status, after.history) == (before.status, before.history)


def test_a_corrected_status_is_derived_again() -> None:
    """A 705 (delivery failed) corrected to 704 (delivered) delivers the shipment."""
    failed = booked().apply(PICKUP, FAILED)
    assert failed.status is S.DELIVERY_FAILED
    signed = failed.apply(SIGNED)
    assert (signed.status, signed.delivered_at) == (S.DELIVERED, at(4, 15))
    assert [s for _, s in signed.history] == [S.PICKED_UP, S.DELIVERED]
    assert signed.superseded == (FAILED,)
    # and back: the version applied later wins, whichever it is
    assert booked().apply(PICKUP, SIGNED).apply(FAILED).status is S.DELIVERY_FAILED


def test_applying_a_version_again_changes_nothing() -> None:
    signed = booked().apply(PICKUP, FAILED).apply(SIGNED)
    assert signed.apply(SIGNED) is signed
    assert signed.apply(FAILED) is signed  # a replay of the old version never undoes the fix
    assert signed.apply(PICKUP, FAILED, SIGNED) is signed


def test_each_correction_keeps_every_earlier_version() -> None:
    third = ev("e2", S.DELIVERED, at(4, 16), carrier_code="704", description="本人签收")
    shipment = booked().apply(PICKUP, FAILED).apply(SIGNED).apply(third)
    assert shipment.events == (PICKUP, third)
    assert set(shipment.superseded) == {FAILED, SIGNED}
    assert shipment.delivered_at == at(4, 16)


def test_two_versions_in_one_call_are_a_conflict_until_a_new_version_settles_it() -> None:
    """Within one call there is no arrival order: both are held, the first in event order is
    applied, the other is an anomaly — whatever the order of the arguments."""
    both = booked().apply(PICKUP, FAILED, SIGNED)
    assert both == booked().apply(SIGNED, PICKUP, FAILED)
    # Same time: DELIVERY_FAILED comes first in STATUS_PRECEDENCE, so it is the one applied.
    assert both.status is S.DELIVERY_FAILED
    assert both.anomalies == (Anomaly("e2", "conflicts with another event of the same id"),)
    settled = both.apply(attrs.evolve(SIGNED, description="已签收（更正）"))
    assert settled.anomalies == ()
    assert set(settled.superseded) == {FAILED, SIGNED}
    assert both.apply(FAILED) is both


def test_strict_refuses_a_correction_that_breaks_the_table() -> None:
    delivered = booked().apply(PICKUP, SIGNED)
    cancelled = attrs.evolve(PICKUP, status=S.CANCELLED, carrier_code="801")
    with pytest.raises(InvalidTransitionError, match="e2: CANCELLED → DELIVERED is not allowed"):
        delivered.apply(cancelled, strict=True)
    recorded = delivered.apply(cancelled)
    assert recorded.status is S.CANCELLED
    assert recorded.superseded == (PICKUP,)
    assert [a.event_id for a in recorded.anomalies] == ["e2"]


def test_corrections_round_trip_through_json() -> None:
    shipment = booked().apply(PICKUP, FAILED).apply(SIGNED)
    text = to_json(shipment)
    assert '"superseded": [{"event_id": "e2"' in text
    back = from_json(text, Shipment)
    assert back == shipment
    assert back.superseded == (FAILED,)
    assert from_json(to_json(booked()), Shipment).superseded == ()


@pytest.mark.parametrize(
    "superseded",
    [
        (ev("e9", S.IN_TRANSIT, at(3, 12)),),  # no event holds e9
        (PICKUP,),  # the held version itself
        (attrs.evolve(PICKUP, tracking_number="EE000000005CN"),),  # another waybill
    ],
)
def test_superseded_events_must_be_earlier_versions_of_held_ones(
    superseded: tuple[TrackingEvent, ...],
) -> None:
    shipment = booked().apply(PICKUP)
    with pytest.raises(ValidationError, match=r"superseded event|holds event"):
        attrs.evolve(shipment, superseded=superseded)
    document = to_json(shipment).replace('"superseded": []', f'"superseded": {to_json(superseded)}')
    with pytest.raises(DeserializationError, match=r"superseded event|holds event"):
        from_json(document, Shipment)


@st.composite
def corrected_histories(draw: st.DrawFn) -> tuple[list[TrackingEvent], list[TrackingEvent]]:
    """Events of distinct ids, then a sequence of corrections, each a new version of one."""
    n = draw(st.integers(1, 8))
    events = [
        ev(
            f"e{i}",
            draw(st.sampled_from(ShipmentStatus)),
            at(3, 10) + timedelta(minutes=30 * draw(st.integers(0, 100))),
        )
        for i in range(n)
    ]
    corrections = []
    for k in range(draw(st.integers(0, 6))):
        i = draw(st.integers(0, n - 1))
        corrections.append(
            attrs.evolve(
                events[i],
                status=draw(st.sampled_from(ShipmentStatus)),
                description=f"更正 {k}",
            )
        )
    return events, corrections


@given(corrected_histories())
def test_the_latest_version_wins(history: tuple[list[TrackingEvent], list[TrackingEvent]]) -> None:
    """Corrections: after the events and then each correction in its own call, the shipment
    holds the latest version of every id and keeps every earlier one in ``superseded``; its
    state is the state of the latest versions applied together; it round-trips through JSON."""
    events, corrections = history
    shipment = booked().apply(*events)
    for correction in corrections:
        shipment = shipment.apply(correction)
    latest = {e.event_id: e for e in [*events, *corrections]}
    assert set(shipment.events) == set(latest.values())
    assert set(shipment.superseded) == set(events + corrections) - set(latest.values())
    fresh = booked().apply(*latest.values())
    assert (shipment.status, shipment.picked_up_at, shipment.anomalies, shipment.history) == (
        fresh.status,
        fresh.picked_up_at,
        fresh.anomalies,
        fresh.history,
    )
    assert from_json(to_json(shipment), Shipment) == shipment


# --- fuzzing the bill reader -------------------------------------------------------------------

#: Cells a spreadsheet, a careless clerk or a hostile sender may put in a bill.
HOSTILE_CELLS = [
    "inf",
    "-Infinity",
    "NaN",
    "sNaN",
    "1e999999999",
    "1e5000",
    "-1e-999999999",
    "9" * 5_000,
    "0x10",
    "1_000",
    "١٢",
    "１２",
    "²",
    "٢٠١٨-06-03",
    "2018-13-45",
    "0000-00-00",
    "9999-12-31",
    "\ud800",
    "\x00",
    '"',
    '""',
    "\n",
    "\r\n",
    ",",
    "¥",
    "-",
    ".",
    "-0",
    "1000000000.01",
    "13800138000",
    "５２０１０２",
    "同城",
    "冲销",
    "包干",
    " ",
]

cells = st.sampled_from(HOSTILE_CELLS) | st.text(max_size=12)


@st.composite
def valid_rows(draw: st.DrawFn) -> list[str]:
    return [
        draw(st.from_regex(r"E[A-Z][0-9]{9}CN", fullmatch=True)),
        draw(st.dates(date(2018, 1, 1), date(2018, 12, 31))).isoformat(),
        str(draw(st.integers(1, MAX_WEIGHT_G))),
        draw(st.sampled_from(["同城", "省内", "省外", "520102", ""])),
        draw(st.sampled_from(["邮费", "保价费", "回执", "退回", "冲销", "postage"])),
        str(Money.from_fen(draw(st.integers(-(10**6), 10**6))).amount),
    ]


@st.composite
def mutated_bills(draw: st.DrawFn) -> str:
    """Valid rows with cells replaced by hostile ones, quotes and separators thrown in."""
    rows = draw(st.lists(valid_rows(), min_size=1, max_size=6))
    for row in rows:
        for _ in range(draw(st.integers(0, 3))):
            row[draw(st.integers(0, len(row) - 1))] = draw(cells)
        if draw(st.booleans()):
            row.insert(draw(st.integers(0, len(row))), draw(cells))
    lines = [",".join(row) for row in rows]
    text = HEADER + "\n".join(lines) + "\n"
    if draw(st.booleans()):
        cut = draw(st.integers(0, len(text)))
        text = text[:cut] + draw(cells) + text[cut:]
    return text


def check_bill(read: Callable[[], CarrierBill]) -> None:
    """Only a GovpostError escapes; an accepted bill holds only values within the model."""
    result = only_govpost_errors(read)
    if result is None:
        return
    assert isinstance(result, CarrierBill)
    for row in result.rows:
        assert row.weight_g is None or 1 <= row.weight_g <= MAX_WEIGHT_G
        assert abs(row.amount.amount) <= MAX_BILL_AMOUNT
        assert row.amount == row.amount.rounded()
        assert row.waybill is not None or row.fee_type is FeeType.LUMP_SUM
        assert row.destination is None or row.destination.isascii()


@fuzz
@given(data=st.binary(max_size=2_000), encoding=st.none() | st.sampled_from(
    ["utf-8", "gbk", "gb18030", "utf-16", "latin-1", "idna", "punycode", "rot13", "zlib"]
))  # fmt: skip
def test_fuzz_bill_bytes(data: bytes, encoding: str | None) -> None:
    """Any bytes, in any encoding asked for, give a bill or a GovpostError."""
    check_bill(lambda: CarrierBill.from_bytes(data, encoding=encoding))
    check_bill(lambda: CarrierBill.from_bytes(HEADER.encode() + data))


@fuzz
@given(text=mutated_bills())
def test_fuzz_mutated_bills(text: str) -> None:
    """Valid rows mutated with hostile cells give a bill of in-range values or a GovpostError,
    as text and as the bytes of a GBK or UTF-8 file."""
    check_bill(lambda: CarrierBill.from_text(text))
    for encoding in ("utf-8", "gb18030"):
        try:
            raw = text.encode(encoding)
        except UnicodeEncodeError:
            continue
        check_bill(functools.partial(CarrierBill.from_bytes, raw))


@fuzz
@given(text=st.text(max_size=500))
def test_fuzz_bill_text(text: str) -> None:
    check_bill(lambda: CarrierBill.from_text(text))
    check_bill(lambda: CarrierBill.from_text(HEADER + text))


# --- fuzzing the rate-card readers -------------------------------------------------------------

TOML_TOKENS = [
    "[",
    "]",
    "[[",
    "]]",
    "{",
    "}",
    "=",
    ".",
    ",",
    '"',
    "'",
    '"""',
    "\n",
    "#",
    "a.b.c",
    "9" * 5_000,
    "1e999999999",
    "inf",
    "nan",
    "2018-02-30",
    "2018-01-01T25:00:00",
    "\\ud800",
    "\ud800",
    "١٢",
    "true",
    "[" * 70,
    "{x=" * 70,
]


@st.composite
def mutated_text(draw: st.DrawFn, text: str, tokens: list[str]) -> str:
    """``text`` with slices deleted, duplicated, or replaced by tokens or random text."""
    for _ in range(draw(st.integers(1, 4))):
        i = draw(st.integers(0, len(text)))
        j = draw(st.integers(i, min(len(text), i + 40)))
        action = draw(st.sampled_from(["delete", "duplicate", "token", "text"]))
        if action == "delete":
            text = text[:i] + text[j:]
        elif action == "duplicate":
            text = text[:j] + text[i:j] + text[j:]
        elif action == "token":
            text = text[:i] + draw(st.sampled_from(tokens)) + text[i:]
        else:
            text = text[:i] + draw(st.text(max_size=8)) + text[j:]
    return text


@st.composite
def mutated_cards(draw: st.DrawFn, syntax: str) -> str:
    card = draw(rate_cards())
    text = card.to_toml() if syntax == "toml" else card.to_json()
    tokens = TOML_TOKENS if syntax == "toml" else ["{", "}", "[", "]", ":", ",", '"', "NaN"]
    return draw(mutated_text(text, tokens))


def check_card(read: Callable[[], RateCard]) -> None:
    """Only a GovpostError escapes; an accepted card writes back to what it was read as."""
    result = only_govpost_errors(read)
    if result is None:
        return
    assert isinstance(result, RateCard)
    assert RateCard.from_toml(result.to_toml()) == result
    assert RateCard.from_json(result.to_json()) == result


@fuzz
@given(text=st.text(max_size=300) | st.sampled_from(TOML_TOKENS))
def test_fuzz_rate_card_random_text(text: str) -> None:
    check_card(lambda: RateCard.from_toml(text))
    check_card(lambda: RateCard.from_json(text))


@fuzz
@given(text=mutated_cards("toml"))
def test_fuzz_rate_card_mutated_toml(text: str) -> None:
    check_card(lambda: RateCard.from_toml(text))


@fuzz
@given(text=mutated_cards("json"))
def test_fuzz_rate_card_mutated_json(text: str) -> None:
    check_card(lambda: RateCard.from_json(text))
    check_card(lambda: RateCard.from_json(text.encode("utf-8", "surrogatepass")))


@fuzz
@given(
    depth=st.integers(1, 3_000),
    opener=st.sampled_from(["[", "{a=", "a.", "[a.", "x = [{y = "]),
    card=st.sampled_from([TOML_CARD, ""]),
)
def test_fuzz_rate_card_deep_nesting(depth: int, opener: str, card: str) -> None:
    """Nesting of every TOML kind, at any depth, gives a card or a DeserializationError; past
    64 levels, always the depth error."""
    closer = {"[": "]", "{a=": "}", "x = [{y = ": "}]"}.get(opener, "")
    text = card + "\n" + (opener * depth) + ("z = 1" if "." in opener else "1") + closer * depth
    with pytest.raises(DeserializationError) as caught:
        RateCard.from_toml(text)
    assert depth <= 64 or "deep" in str(caught.value)
    as_json = card and '{"name": ' + "[" * depth + "]" * depth + "}"
    if as_json:
        with pytest.raises(DeserializationError):
            RateCard.from_json(as_json)
