"""Government service centers (政务服务中心) and how they cooperate with the post.

In Guizhou in 2018, 104 of the 110 centers at province, prefecture and county level cooperated
with the post: 32 by door pickup (上门揽收), 66 by stationed postal staff (专人驻点) and 6 by
government agent (政府代办)::

    >>> center = ServiceCenter(
    ...     code="GZ-520000",
    ...     name="贵州省政务服务中心",
    ...     division="520000",
    ...     mode=CooperationMode.STATIONED_STAFF,
    ...     channels={Channel.ONLINE, Channel.WINDOW},
    ...     business_lines={BusinessLine.LICENCE_DELIVERY},
    ... )
    >>> center.level, center.is_cooperating
    (<AdminLevel.PROVINCE: 'province'>, True)

A center that does not (yet) cooperate has ``mode=None`` and no postal channels or lines.

.. versionadded:: 0.1.0
"""

from __future__ import annotations

import enum
from collections.abc import Iterable

import attrs

from govpost._fields import CODE as _CENTER_CODE
from govpost._fields import coerce_enum, coerce_enum_set, division, short
from govpost._limits import check_utf8
from govpost.errors import ValidationError
from govpost.regions import AdminLevel, Division

__all__ = [
    "AdminLevel",
    "BusinessLine",
    "Channel",
    "CooperationMode",
    "ServiceCenter",
    "center_code",
]


class CooperationMode(enum.Enum):
    """How the post serves a center.

    .. versionadded:: 0.1.0
    """

    DOOR_PICKUP = "door_pickup"  #: 上门揽收: the carrier collects at the center
    STATIONED_STAFF = "stationed_staff"  #: 专人驻点: postal staff work in the hall
    GOVERNMENT_AGENT = "government_agent"  #: 政府代办: the center's own staff do the postal work

    @property
    def label(self) -> str:
        """The Chinese name used in the cooperation's reports."""
        return {
            CooperationMode.DOOR_PICKUP: "上门揽收",
            CooperationMode.STATIONED_STAFF: "专人驻点",
            CooperationMode.GOVERNMENT_AGENT: "政府代办",
        }[self]


class BusinessLine(enum.Enum):
    """A line of cooperation between government and post.

    .. versionadded:: 0.1.0
    """

    LICENCE_DELIVERY = "licence_delivery"  #: 政邮合作: licences, certificates and approvals
    TAX = "tax"  #: 税邮合作: invoices applied for online
    POLICE = "police"  #: 警邮合作: e.g. traffic-management services
    TRANSPORT = "transport"  #: 交邮合作

    @property
    def label(self) -> str:
        """The Chinese name of the line."""
        return {
            BusinessLine.LICENCE_DELIVERY: "证照寄递",
            BusinessLine.TAX: "税邮合作",
            BusinessLine.POLICE: "警邮合作",
            BusinessLine.TRANSPORT: "交邮合作",
        }[self]


class Channel(enum.Enum):
    """Where an applicant chooses postal delivery.

    .. versionadded:: 0.1.0
    """

    ONLINE = "online"  #: 网上办事大厅
    WINDOW = "window"  #: the postal window in the hall


def center_code(value: ServiceCenter | str) -> str:
    """The code of a center, given as its code or as the :class:`ServiceCenter` itself.

    The one rule for center codes, wherever a model takes one (a :class:`ServiceCenter`, a
    :class:`~govpost.shipments.Shipment`).

    Raises:
        ValidationError: a malformed code.

    >>> center_code("GZ-520100")
    'GZ-520100'

    .. versionadded:: 0.2.0
    """
    given: object = value  # untyped callers pass anything
    if isinstance(given, ServiceCenter):
        return given.code
    if not isinstance(given, str) or not _CENTER_CODE.fullmatch(given):
        raise ValidationError(
            f"center code {short(given, code=True)} must be 1-64 letters, digits, '-', '_' or '.', "
            f"starting with a letter or digit (e.g. 'GZ-520100')"
        )
    return given


def _code(instance: object, attribute: attrs.Attribute[str], value: object) -> None:
    if isinstance(value, ServiceCenter):
        raise ValidationError("a center's code is a str: pass center.code, not the center")
    center_code(value)  # type: ignore[arg-type]  # the validator sees what was passed


def _name(instance: object, attribute: attrs.Attribute[str], value: object) -> None:
    if not isinstance(value, str) or not value.strip():
        raise ValidationError(
            f"center name {short(value)} must be a non-empty string, e.g. '贵阳市政务服务中心'"
        )
    check_utf8(value, "center name")


def _mode(value: CooperationMode | str | None) -> CooperationMode | None:
    return None if value is None else coerce_enum(CooperationMode, value)


def _channels(values: Iterable[Channel | str]) -> frozenset[Channel]:
    return coerce_enum_set(Channel, values)


def _business_lines(values: Iterable[BusinessLine | str]) -> frozenset[BusinessLine]:
    return coerce_enum_set(BusinessLine, values)


@attrs.frozen(kw_only=True)
class ServiceCenter:
    """A government service center.

    Args:
        code: the center's own identifier, unique within a deployment.
        name: its official name, e.g. ``"贵阳市政务服务中心"``.
        division: the GB/T 2260 division it serves (a :class:`~govpost.regions.Division` or
            its code); its level is the center's level.
        mode: how it cooperates with the post, or ``None`` when it does not.
        channels: where applicants can choose postal delivery.
        business_lines: the lines of cooperation it runs.

    Raises:
        ValidationError: a malformed code, an unknown division, or channels/lines on a center
            that does not cooperate.

    .. versionadded:: 0.1.0
    """

    code: str = attrs.field(validator=_code)
    name: str = attrs.field(validator=_name)
    division: Division = attrs.field(converter=division)
    mode: CooperationMode | None = attrs.field(default=None, converter=_mode)
    channels: frozenset[Channel] = attrs.field(factory=frozenset, converter=_channels)
    business_lines: frozenset[BusinessLine] = attrs.field(
        factory=frozenset, converter=_business_lines
    )

    def __attrs_post_init__(self) -> None:
        if self.mode is None and (self.channels or self.business_lines):
            raise ValidationError(
                f"center {self.code!r} has mode=None (not cooperating) but lists postal "
                f"channels or business lines: set its CooperationMode or remove them"
            )

    @property
    def level(self) -> AdminLevel:
        """The center's administrative level, that of its division."""
        return self.division.level

    @property
    def is_cooperating(self) -> bool:
        """Whether the center works with the post at all."""
        return self.mode is not None
