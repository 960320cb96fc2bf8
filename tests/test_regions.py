"""Divisions and zones over the GB/T 2260 table."""

from __future__ import annotations

import contextlib

import pytest
from hypothesis import given
from hypothesis import strategies as st

from govpost import AdminLevel, Division, ValidationError, Zone, zone_between
from tests.strategies import divisions


def test_parse_gives_name_level_and_parents() -> None:
    gy = Division.parse("520100")
    assert (gy.code, gy.name, gy.level) == ("520100", "贵阳市", AdminLevel.CITY)
    assert gy.province == Division("520000")
    assert gy.province.name == "贵州省"
    assert gy.city == gy
    nm = Division.parse("520102")
    assert (nm.name, nm.level, nm.city, nm.province.level) == (
        "南明区",
        AdminLevel.COUNTY,
        gy,
        AdminLevel.PROVINCE,
    )


def test_renamed_code_has_its_current_name() -> None:
    zs = Division.parse("520201")
    assert zs.name == "钟山区"
    assert zs.former_names == ("水城特区",)
    assert zs.active


def test_abolished_code_still_parses_but_is_inactive() -> None:
    xh = Division.parse("520114")  # 小河区, merged into 花溪区 in 2012
    assert xh.name == "小河区"
    assert not xh.active


def test_parse_normalises_spaces_and_full_width_digits() -> None:
    assert Division.parse(" ５２０１０２ ") == Division("520102")


@pytest.mark.parametrize(
    "bad", ["999999", "52010", "5201000", "abcdef", "", None, 520100, b"520100"]
)
def test_bad_codes_are_refused(bad: object) -> None:
    with pytest.raises(ValidationError, match="520100"):
        Division.parse(bad)


@pytest.mark.parametrize("bad", [520100, None, b"520100", 5.2e5])
def test_constructor_refuses_non_strings_with_validation_error(bad: object) -> None:
    """Regression: Division(520100) raised a bare TypeError from the regex."""
    with pytest.raises(ValidationError, match=r"must be a six-digit string such as '520100'"):
        Division(bad)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("a", "b", "zone"),
    [
        ("520102", "520103", Zone.SAME_CITY),  # 南明区 → 云岩区
        ("520100", "520102", Zone.SAME_CITY),
        ("520102", "520201", Zone.IN_PROVINCE),  # 贵阳 → 六盘水
        ("520102", "110105", Zone.OUT_OF_PROVINCE),
        ("110105", "110108", Zone.SAME_CITY),  # 北京 朝阳 → 海淀
        ("310115", "310104", Zone.SAME_CITY),  # 上海 浦东 → 徐汇
        ("120101", "120116", Zone.SAME_CITY),  # 天津
        ("500101", "500230", Zone.SAME_CITY),  # 重庆 万州区 (市辖区) → 丰都县 (县)
        ("110105", "120101", Zone.OUT_OF_PROVINCE),
        ("429004", "429005", Zone.IN_PROVINCE),  # 仙桃 → 潜江, both directly under 湖北
        ("429004", "429004", Zone.SAME_CITY),
        ("520000", "520102", Zone.IN_PROVINCE),  # province-level center has no city
    ],
)
def test_zone_between(a: str, b: str, zone: Zone) -> None:
    assert zone_between(a, b) is zone
    assert zone_between(Division.parse(b), Division.parse(a)) is zone


def test_zone_labels() -> None:
    assert [z.label for z in Zone] == ["同城", "省内", "省外"]
    assert [z.rank for z in Zone] == [0, 1, 2]


@given(divisions(), divisions())
def test_zone_is_symmetric(a: Division, b: Division) -> None:
    """The zone from a to b is the zone from b to a."""
    assert zone_between(a, b) is zone_between(b, a)


@given(divisions())
def test_division_is_in_its_own_city_and_province(d: Division) -> None:
    """A division's parents share its code prefix and a place is never out of its own province."""
    assert d.province.code[:2] == d.code[:2]
    assert zone_between(d, d) is not Zone.OUT_OF_PROVINCE
    if d.city is not None:
        assert zone_between(d, d.city) is Zone.SAME_CITY


@given(st.text(max_size=10))
def test_parse_never_raises_anything_but_validation_error(text: str) -> None:
    """Any text either parses or raises ValidationError."""
    with contextlib.suppress(ValidationError):
        Division.parse(text)
