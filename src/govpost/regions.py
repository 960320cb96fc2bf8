"""Administrative divisions of mainland China (GB/T 2260) and postal zones.

The data is python-stdnum's ``cn/loc`` table, which keeps each six-digit code's history. A code
that was renamed resolves to its *current* name, and a code that was abolished still parses (ID
numbers and old records carry such codes) with :attr:`Division.active` false::

    >>> gy = Division.parse("520100")
    >>> gy.name, gy.level
    ('贵阳市', <AdminLevel.CITY: 'city'>)
    >>> Division.parse("520201").name          # 水城特区 until 1986, 钟山区 since 1987
    '钟山区'
    >>> Division.parse("520102").city.name, Division.parse("520102").province.name
    ('贵阳市', '贵州省')

Zones drive postage: two places of one city are :attr:`Zone.SAME_CITY` (同城), of one province
:attr:`Zone.IN_PROVINCE` (省内), otherwise :attr:`Zone.OUT_OF_PROVINCE` (省外). The four
municipalities (北京, 上海, 天津, 重庆) count as one city each, and a county-level city directly
under a province (省直辖县级, e.g. 仙桃 429004) as a city of its own::

    >>> zone_between("110105", "110108")      # 朝阳区 → 海淀区, both 北京市
    <Zone.SAME_CITY: 'same_city'>
    >>> zone_between("520102", "520201")
    <Zone.IN_PROVINCE: 'in_province'>
    >>> zone_between("520102", "110105")
    <Zone.OUT_OF_PROVINCE: 'out_of_province'>

A province-level division (e.g. the provincial service center's 520000) has no city, so a zone
between it and a place in the same province is :attr:`Zone.IN_PROVINCE`; give the center the
division of the city it sits in when same-city rates should apply.

.. versionadded:: 0.1.0
"""

from __future__ import annotations

import enum
import functools
import re
import unicodedata
from typing import Any

import attrs

from govpost.errors import ValidationError
from govpost.errors import _short_code as _short

__all__ = ["MUNICIPALITIES", "AdminLevel", "Division", "Zone", "zone_between"]

#: Province-level codes of the four municipalities (直辖市): 北京, 天津, 上海, 重庆.
#:
#: .. versionadded:: 0.1.0
MUNICIPALITIES = frozenset({"110000", "120000", "310000", "500000"})

_CODE = re.compile(r"[0-9]{6}")
_HISTORY = re.compile(r"^(?:\[(?P<start>\d*)-(?P<end>\d*)\])?(?P<name>.+)$")


class AdminLevel(enum.Enum):
    """Level of an administrative division or of a service center (省级 / 市级 / 县级).

    .. versionadded:: 0.1.0
    """

    PROVINCE = "province"
    CITY = "city"
    COUNTY = "county"


class Zone(enum.Enum):
    """Postal zone between origin and destination, the key of every tariff.

    .. versionadded:: 0.1.0
    """

    SAME_CITY = "same_city"
    IN_PROVINCE = "in_province"
    OUT_OF_PROVINCE = "out_of_province"

    @property
    def label(self) -> str:
        """The Chinese name of the zone: 同城, 省内 or 省外."""
        return _ZONE_LABELS[self]

    @property
    def rank(self) -> int:
        """0, 1, 2 from near to far; tariffs must not get cheaper as the rank grows."""
        return list(Zone).index(self)


_ZONE_LABELS = {Zone.SAME_CITY: "同城", Zone.IN_PROVINCE: "省内", Zone.OUT_OF_PROVINCE: "省外"}


@attrs.frozen
class _Entry:
    name: str
    active: bool
    names: tuple[str, ...]


@functools.cache
def _database() -> Any:
    from stdnum import numdb

    return numdb.get("cn/loc")


@functools.lru_cache(maxsize=8192)
def _lookup(code: str) -> _Entry | None:
    info = _database().info(code)
    if len(info) < 2 or not info[1][1]:
        return None
    props = info[1][1]
    raw = props.get("county") or props.get("province")
    if not raw:
        return None
    history = [_HISTORY.match(part.strip()) for part in raw.split(",")]
    names = tuple(m.group("name") for m in history if m)
    if not names:
        return None
    last = history[-1]
    active = last is not None and not last.group("end")
    return _Entry(name=names[-1], active=active, names=names)


def _normalise_code(value: object) -> str:
    if isinstance(value, Division):
        return value.code
    if not isinstance(value, str):
        raise ValidationError(
            f"division code {_short(value)} must be a six-digit string such as '520100'"
        )
    text = unicodedata.normalize("NFKC", value).strip()
    if not _CODE.fullmatch(text):
        raise ValidationError(
            f"division code {_short(value)} is not six digits: use a GB/T 2260 code such as "
            f"'520100' (贵阳市)"
        )
    return text


def _known(instance: object, attribute: object, code: str) -> None:
    if not isinstance(code, str):
        raise ValidationError(
            f"division code {_short(code)} of type {type(code).__name__} must be a six-digit "
            f"string such as '520100'; Division.parse() also accepts full-width digits"
        )
    if not _CODE.fullmatch(code) or _lookup(code) is None:
        raise ValidationError(
            f"division code {_short(code)} is not in the GB/T 2260 table (current or historical): "
            f"check the code, e.g. '520100' for 贵阳市"
        )


@attrs.frozen(order=True, repr=False)
class Division:
    """A GB/T 2260 administrative division, identified by its six-digit code.

    Build it with :meth:`parse` (which normalises) or directly as ``Division("520100")``. Two
    divisions are equal when their codes are. Name, level and parents come from the table.

    Raises:
        ValidationError: the code is not six digits or not in the table at any time.

    .. versionadded:: 0.1.0
    """

    code: str = attrs.field(validator=_known)

    @classmethod
    def parse(cls, value: Division | str) -> Division:
        """A division from its code, accepting surrounding spaces and full-width digits.

        Args:
            value: a six-digit GB/T 2260 code such as ``"520100"``, or a ``Division``.

        Raises:
            ValidationError: not six digits, or not in the table at any time.

        >>> Division.parse(" ５２０１００ ")
        Division('520100', '贵阳市')
        >>> Division.parse("999999")
        Traceback (most recent call last):
        ...
        govpost.errors.ValidationError: division code '999999' is not in the GB/T 2260 table (current or historical): check the code, e.g. '520100' for 贵阳市

        .. versionadded:: 0.1.0
        """
        return cls(_normalise_code(value))

    @property
    def _entry(self) -> _Entry:
        entry = _lookup(self.code)
        assert entry is not None  # guaranteed by the validator
        return entry

    @property
    def name(self) -> str:
        """The current (or, for an abolished code, the last) name."""
        return self._entry.name

    @property
    def former_names(self) -> tuple[str, ...]:
        """Earlier names of this code, oldest first (empty if never renamed)."""
        return self._entry.names[:-1]

    @property
    def active(self) -> bool:
        """Whether the code is still in use today (False for abolished codes)."""
        return self._entry.active

    @property
    def level(self) -> AdminLevel:
        """The level, from the code's shape: ``XX0000`` province, ``XXYY00`` city, else county."""
        if self.code.endswith("0000"):
            return AdminLevel.PROVINCE
        if self.code.endswith("00"):
            return AdminLevel.CITY
        return AdminLevel.COUNTY

    @property
    def is_municipality(self) -> bool:
        """Whether this division is, or lies in, one of the four municipalities (直辖市)."""
        return self.code[:2] + "0000" in MUNICIPALITIES

    @property
    def province(self) -> Division:
        """The province-level division containing this one (itself for a province)."""
        return Division(self.code[:2] + "0000")

    @property
    def city(self) -> Division | None:
        """The city-level division this one belongs to, for same-city (同城) zoning.

        The municipality itself for places in 北京/上海/天津/重庆; itself for a city and for a
        county-level city directly under its province (``XX90YY``); ``None`` for an ordinary
        province, or when the table has no such city.
        """
        if self.is_municipality:
            return self.province
        level = self.level
        if level is AdminLevel.PROVINCE:
            return None
        if level is AdminLevel.CITY or self.code[2:4] == "90":
            return self
        parent = self.code[:4] + "00"
        return Division(parent) if _lookup(parent) is not None else None

    def __str__(self) -> str:
        return f"{self.code} {self.name}"

    def __repr__(self) -> str:
        return f"Division({self.code!r}, {self.name!r})"


def zone_between(origin: Division | str, destination: Division | str) -> Zone:
    """The postal zone between two divisions (or their codes).

    Raises:
        ValidationError: either code is malformed or unknown.

    >>> zone_between(Division.parse("520102"), "520103").label
    '同城'

    .. versionadded:: 0.1.0
    """
    a = Division.parse(origin)
    b = Division.parse(destination)
    city_a, city_b = a.city, b.city
    if city_a is not None and city_a == city_b:
        return Zone.SAME_CITY
    if a.code[:2] == b.code[:2]:
        return Zone.IN_PROVINCE
    return Zone.OUT_OF_PROVINCE
