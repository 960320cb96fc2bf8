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

A "duplicate order" is recognised by its code (:data:`DUPLICATE_ORDER_CODES`), never by
wording alone::

    >>> "B00010" in DUPLICATE_ORDER_CODES, any(w in "请勿重复提交" for w in DUPLICATE_WORDS)
    (True, True)

.. versionadded:: 0.1.0
.. versionchanged:: 0.2.0
   :data:`DUPLICATE_WORDS` and :data:`UNCONFIRMED_DUPLICATE`: wording alone is not a duplicate.
"""

from __future__ import annotations

from types import MappingProxyType

import attrs

from govpost.shipments import ShipmentStatus

__all__ = [
    "DUPLICATE_ORDER_CODES",
    "DUPLICATE_WORDS",
    "OK",
    "OP_CODES",
    "RETRYABLE_PREFIXES",
    "UNCONFIRMED_DUPLICATE",
    "OpCode",
    "UnknownOpCodeWarning",
]

#: ``retCode`` of a successful answer.
OK = "00000"

#: ``retCode`` prefixes of failures on the platform's side (system busy, internal error): the
#: same request may succeed later. Other codes (parameters, authorization, business rules) are
#: not retryable.
RETRYABLE_PREFIXES: tuple[str, ...] = ("S",)

#: ``retCode`` values meaning "this order id was already created". Only these codes prove it:
#: such an answer carrying the existing waybill number is the success of a retried booking.
DUPLICATE_ORDER_CODES: frozenset[str] = frozenset({"B00010"})

#: Words of a ``retMsg`` that *may* mean "already created": 重复 (duplicate), 已存在 (already
#: exists). Wording alone proves nothing — "请勿重复提交" (do not resubmit) is also said of an
#: order that was never created — so an answer with these words and no code of
#: :data:`DUPLICATE_ORDER_CODES` is reported as :data:`UNCONFIRMED_DUPLICATE`, and the adapter
#: confirms it with a track query of the waybill EMS named before calling the order booked.
DUPLICATE_WORDS: tuple[str, ...] = ("重复", "已存在")

#: ``CarrierError.code`` (govpost's, not EMS's) of a create-order answer that speaks of a
#: duplicate without a duplicate-order code: the order may or may not exist.
UNCONFIRMED_DUPLICATE = "duplicate_unconfirmed"


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
