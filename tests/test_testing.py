"""The test kit as users get it: its import surface and the shipped Hypothesis strategies."""

from __future__ import annotations

import importlib
import subprocess
import sys
from datetime import date

import pytest
from hypothesis import given, settings

import govpost.testing
from govpost.agreements import FeeAgreement
from govpost.money import Money, allocate
from govpost.periods import Period
from govpost.serialization import from_json, to_json
from govpost.settlement import settle
from govpost.shipments import Shipment
from govpost.testing import strategies as gps


def test_the_kit_keeps_every_name_it_had_as_a_module() -> None:
    """Regression: govpost.testing became a package; what tests and docs import still works."""
    before = {
        "DEFAULT_SIGN_KEY",
        "WORDING_ONLY_CODE",
        "FakeEmsServer",
        "Fault",
        "carrier_contract",
        "push_body",
        "sample_booking_request",
    }
    assert before <= set(govpost.testing.__all__)
    assert all(hasattr(govpost.testing, name) for name in govpost.testing.__all__)


def test_importing_the_kit_does_not_import_hypothesis() -> None:
    """``import govpost.testing`` works without Hypothesis; only the strategies need it."""
    code = "import sys, govpost.testing; print('hypothesis' in sys.modules)"
    shown = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout
    assert "False" == shown.strip()


def test_the_strategies_say_how_to_install_hypothesis(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "hypothesis", None)
    monkeypatch.delitem(sys.modules, "govpost.testing.strategies")
    with pytest.raises(ImportError, match=r"pip install 'govpost\[testing\]'"):
        importlib.import_module("govpost.testing.strategies")


def test_every_public_strategy_is_documented_and_versioned() -> None:
    assert sorted(gps.__all__) == gps.__all__
    assert ".. versionadded:: 0.2.0" in (gps.__doc__ or "")
    undocumented = [
        name for name in gps.__all__ if callable(obj := getattr(gps, name)) and not obj.__doc__
    ]
    assert [] == undocumented


@settings(max_examples=60)
@given(gps.shipments())
def test_every_shipment_drawn_round_trips_through_json(shipment: Shipment) -> None:
    """Wire format: what shipments() draws is a valid Shipment that comes back from its JSON
    unchanged."""
    assert shipment == from_json(to_json(shipment), Shipment)


@settings(max_examples=60)
@given(gps.money(whole_fen=True), gps.allocation_weights().map(lambda w: [w, w, 1]))
def test_allocation_over_drawn_amounts_sums_to_the_whole(total: Money, weights: list[int]) -> None:
    """Allocation: the shares of any whole-fen amount sum exactly to it."""
    assert total == sum(allocate(total, weights), Money.zero())


@settings(max_examples=30, deadline=None)
@given(gps.fee_agreements(), gps.shipment_batches(start=date(2018, 6, 1), days=30, max_size=10))
def test_the_settlement_strategies_fit_together(
    agreement: FeeAgreement, batch: list[Shipment]
) -> None:
    """Statement: total == Σ lines for any agreement and batch of June 2018 the strategies
    draw."""
    statement = settle(agreement, batch, Period.month(2018, 6))
    assert statement.total == sum((line.amount for line in statement.lines), Money.zero())
