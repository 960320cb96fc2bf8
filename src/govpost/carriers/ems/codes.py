"""EMS operation codes (``opCode``) and answer codes (``retCode``), as data.

Each tracking event of EMS carries an operation code; :data:`OP_CODES` maps it to a
:class:`~govpost.shipments.ShipmentStatus`. Codes named 删除/撤销 do not move the shipment: they
cancel (revoke) the latest earlier event of the waybill. A code missing from the table maps to
``EXCEPTION`` and is kept, with an :class:`UnknownOpCodeWarning`, never dropped::

    >>> OP_CODES["704"].status.name, OP_CODES["704"].name
    ('DELIVERED', '已妥投')
    >>> OP_CODES["743"].revokes
    True

No official public specification exists; the table follows the codes independent public clients
document. Add a code by adding a row.

.. versionadded:: 0.1.0
"""

from __future__ import annotations

from types import MappingProxyType

import attrs

from govpost.shipments import ShipmentStatus

__all__ = [
    "DUPLICATE_ORDER_CODES",
    "OK",
    "OP_CODES",
    "RETRYABLE_PREFIXES",
    "OpCode",
    "UnknownOpCodeWarning",
]

#: ``retCode`` of a successful answer.
OK = "00000"

#: ``retCode`` prefixes of failures on the platform's side (system busy, internal error): the
#: same request may succeed later. Other codes (parameters, authorization, business rules) are
#: not retryable.
RETRYABLE_PREFIXES: tuple[str, ...] = ("S",)

#: ``retCode`` values meaning "this order id was already created"; also recognised by the
#: words 重复 (duplicate) or 已存在 (already exists) in ``retMsg``. Treated as success when the
#: answer carries the existing waybill number.
DUPLICATE_ORDER_CODES: frozenset[str] = frozenset({"B00010"})


class UnknownOpCodeWarning(UserWarning):
    """An EMS event carried an operation code missing from the table ``OP_CODES``.

    The event is kept with status ``EXCEPTION``; add the code to the table.
    """


@attrs.frozen
class OpCode:
    """One row of the table: what an EMS operation code means."""

    status: ShipmentStatus
    name: str
    revokes: bool = False


_S = ShipmentStatus

#: opCode -> meaning. Revoking rows carry the status ``EXCEPTION`` only as a placeholder: a
#: revoking event removes the event it cancels and never sets a status of its own.
OP_CODES: MappingProxyType[str, OpCode] = MappingProxyType(
    {
        "203": OpCode(_S.PICKED_UP, "收寄/揽收"),
        "305": OpCode(_S.IN_TRANSIT, "封发"),
        "389": OpCode(_S.IN_TRANSIT, "发运"),
        "954": OpCode(_S.IN_TRANSIT, "到达处理中心"),
        "713": OpCode(_S.IN_TRANSIT, "到达投递局"),
        "702": OpCode(_S.OUT_FOR_DELIVERY, "投递/派送中"),
        "704": OpCode(_S.DELIVERED, "已妥投"),
        "705": OpCode(_S.DELIVERY_FAILED, "未妥投"),
        "747": OpCode(_S.AT_PICKUP_POINT, "已入柜/待取"),
        "748": OpCode(_S.DELIVERED, "已取件"),
        "708": OpCode(_S.RETURNING, "退回登记"),
        "711": OpCode(_S.RETURNED, "退回妥投"),
        "801": OpCode(_S.CANCELLED, "订单取消"),
        "742": OpCode(_S.EXCEPTION, "删除收寄", revokes=True),
        "743": OpCode(_S.EXCEPTION, "撤销投递", revokes=True),
        "744": OpCode(_S.EXCEPTION, "删除处理", revokes=True),
    }
)
