"""Service centers and their cooperation."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from govpost import (
    AdminLevel,
    BusinessLine,
    Channel,
    CooperationMode,
    Division,
    ServiceCenter,
    ValidationError,
)
from govpost._fields import coerce_enum
from govpost.centers import center_code


def test_center_level_comes_from_its_division() -> None:
    county = ServiceCenter(
        code="GZ-520102",
        name="南明区政务服务中心",
        division="520102",
        mode="door_pickup",
        channels=["window"],
        business_lines=[BusinessLine.LICENCE_DELIVERY, "tax"],
    )
    assert county.division == Division("520102")
    assert county.level is AdminLevel.COUNTY
    assert county.mode is CooperationMode.DOOR_PICKUP
    assert county.channels == frozenset({Channel.WINDOW})
    assert county.business_lines == frozenset({BusinessLine.LICENCE_DELIVERY, BusinessLine.TAX})
    assert county.is_cooperating


def test_non_cooperating_center() -> None:
    center = ServiceCenter(code="GZ-522701", name="都匀市政务服务中心", division="522701")
    assert center.mode is None
    assert not center.is_cooperating
    with pytest.raises(ValidationError, match="mode=None"):
        ServiceCenter(code="X", name="x", division="522701", channels=[Channel.WINDOW])


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"code": ""}, "center code"),
        ({"code": "has space"}, "center code"),
        ({"name": "  "}, "center name"),
        ({"division": "999999"}, "GB/T 2260"),
        ({"mode": "teleport"}, "door_pickup"),
        ({"channels": "window"}, "collection"),
        ({"business_lines": ["mail"]}, "licence_delivery"),
    ],
)
def test_bad_centers_are_refused(kwargs: dict[str, object], message: str) -> None:
    good: dict[str, object] = {
        "code": "GZ-1",
        "name": "中心",
        "division": "520100",
        "mode": CooperationMode.GOVERNMENT_AGENT,
    }
    with pytest.raises(ValidationError, match=message):
        ServiceCenter(**{**good, **kwargs})  # type: ignore[arg-type]


def test_labels_are_the_reports_terms() -> None:
    assert [m.label for m in CooperationMode] == ["上门揽收", "专人驻点", "政府代办"]
    assert BusinessLine.POLICE.label == "警邮合作"


@pytest.mark.parametrize(("field", "junk"), [("code", "\x00" * 100_000), ("name", " " * 100_000)])
def test_messages_about_huge_junk_stay_short(field: str, junk: str) -> None:
    """Regression: 100,000 characters of junk in code or name were echoed whole in the message."""
    good: dict[str, object] = {"code": "GZ-1", "name": "中心", "division": "520100"}
    with pytest.raises(ValidationError) as info:
        ServiceCenter(**{**good, field: junk})  # type: ignore[arg-type]
    assert len(str(info.value)) < 300


@pytest.mark.parametrize(
    "call",
    [
        lambda: center_code("欧阳娜娜"),
        lambda: coerce_enum(CooperationMode, "欧阳娜娜"),
        lambda: ServiceCenter(code="GZ-1", name="x", division="520100", mode="欧阳娜娜"),
    ],
    ids=["center_code", "coerce_enum", "ServiceCenter"],
)
def test_a_name_typed_into_a_code_field_is_not_shown(call: Callable[[], object]) -> None:
    """Regression: a name typed where a code or enum value belongs was echoed in the error."""
    with pytest.raises(ValidationError) as info:
        call()
    assert "娜" not in str(info.value)
