"""The EMS open-platform adapter (registered as ``ems``).

EMS (China Post's express service) exposes one endpoint,
``POST {base}/amp-prod-api/f/amp/api/open`` (``.../api/test`` for testing), taking form fields
``apiCode``, ``senderNo``, ``authorization``, ``msgType``, ``timeStamp``, ``version`` and
``logitcsInterface`` (sic): the business payload sealed with SM4 under the account's signKey
(:func:`encode_envelope`, :func:`decode_envelope`). No official public specification exists;
govpost follows the protocol as independent public clients document it.

Each operation is a pure pair, tested offline against recorded answers:

- create order, 020003: :func:`build_create_order` / :func:`parse_create_order`;
- cancel, 020006: :func:`build_cancel` / :func:`parse_cancel`;
- track query, 040001: :func:`build_track_query` / :func:`parse_track`;
- track push, 040002: :func:`parse_push` (verification first);
- freight estimate, 050005: :func:`build_freight_estimate` / :func:`parse_freight_estimate`.

The envelope keeps a message secret but does not prove it unaltered: SM4 in ECB mode with no
MAC lets whole 16-byte blocks of genuine pushes be dropped, repeated or spliced into a push
that still decrypts under our key. :class:`EmsCarrier` therefore declares
``pushes_authenticated = False``: receive its pushes through
:class:`~govpost.carriers.webhooks.PushInbox`, which hands over a terminal status (delivered,
returned, refused, cancelled) only after the track query confirms it.

:class:`EmsCarrier` sends them through an injected ``requests.Session``; operation codes
map to statuses through the table in :mod:`govpost.carriers.ems.codes`::

    >>> from govpost.carriers.ems import decode_envelope, encode_envelope
    >>> sealed = encode_envelope({"waybillNo": "EA123456785CN"}, "TvaBgrhE46sft3nZlfe7xw==")
    >>> decode_envelope(sealed, "TvaBgrhE46sft3nZlfe7xw==")
    '{"waybillNo":"EA123456785CN"}'

.. versionadded:: 0.1.0
"""

from __future__ import annotations

from govpost.carriers.ems.adapter import EmsCarrier
from govpost.carriers.ems.build import (
    EmsConfig,
    WireRequest,
    build_cancel,
    build_create_order,
    build_freight_estimate,
    build_track_query,
)
from govpost.carriers.ems.codes import OP_CODES, OpCode, UnknownOpCodeWarning
from govpost.carriers.ems.envelope import decode_envelope, encode_envelope
from govpost.carriers.ems.parse import (
    EmsReply,
    parse_cancel,
    parse_create_order,
    parse_freight_estimate,
    parse_push,
    parse_reply,
    parse_track,
)

__all__ = [
    "OP_CODES",
    "EmsCarrier",
    "EmsConfig",
    "EmsReply",
    "OpCode",
    "UnknownOpCodeWarning",
    "WireRequest",
    "build_cancel",
    "build_create_order",
    "build_freight_estimate",
    "build_track_query",
    "decode_envelope",
    "encode_envelope",
    "parse_cancel",
    "parse_create_order",
    "parse_freight_estimate",
    "parse_push",
    "parse_reply",
    "parse_track",
]
