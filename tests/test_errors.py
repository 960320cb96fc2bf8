"""The error hierarchy: one root, and every leaf also the builtin it behaves like."""

from __future__ import annotations

import pytest

import govpost
from govpost import errors

LEAVES = {
    errors.CurrencyMismatchError: ValueError,
    errors.InvalidTrackingNumberError: ValueError,
    errors.CalendarCoverageError: LookupError,
    errors.InvalidTransitionError: ValueError,
    errors.BudgetExceededError: ValueError,
    errors.UnknownCarrierError: LookupError,
    errors.WebhookVerificationError: ValueError,
    errors.DeserializationError: ValueError,
    errors.StoreError: OSError,
}


@pytest.mark.parametrize("leaf", sorted(LEAVES, key=lambda c: c.__name__))
def test_every_leaf_is_a_govpost_error_and_a_builtin(leaf: type[Exception]) -> None:
    assert issubclass(leaf, errors.GovpostError)
    assert issubclass(leaf, LEAVES[leaf])
    assert not any(
        issubclass(other, leaf)
        for other in vars(errors).values()
        if isinstance(other, type) and other is not leaf and issubclass(other, Exception)
    )


def test_hierarchy_matches_the_contract() -> None:
    assert issubclass(errors.ValidationError, ValueError)
    assert issubclass(errors.CurrencyMismatchError, errors.ValidationError)
    assert issubclass(errors.InvalidTrackingNumberError, errors.ValidationError)
    assert issubclass(errors.BudgetExceededError, errors.SettlementError)
    assert issubclass(errors.UnknownCarrierError, errors.CarrierError)


def test_every_error_is_exported_from_the_top_level() -> None:
    for name in errors.__all__:
        assert getattr(govpost, name) is getattr(errors, name)


def test_carrier_error_keeps_code_retryable_and_raw() -> None:
    raw = {"retCode": "S00001", "retMsg": "系统繁忙"}
    exc = errors.CarrierError("EMS is busy", code="S00001", retryable=True, raw=raw)
    assert (exc.code, exc.retryable, exc.raw, str(exc)) == ("S00001", True, raw, "EMS is busy")
    assert errors.UnknownCarrierError("no such carrier 'x'").retryable is False
