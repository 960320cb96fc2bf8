"""The EMS open-platform envelope: SM4-ECB over the compact JSON followed by the signKey.

``logitcsInterface`` (sic) carries the business payload of every request and push::

    "|$4|" + base64(SM4-ECB-PKCS7(key=base64decode(signKey), compact_json + signKey))

``compact_json`` has no spaces and keeps Chinese characters as they are. The published test
vector::

    >>> key = "TvaBgrhE46sft3nZlfe7xw=="
    >>> text = encode_envelope({"language": "zh-CN", "orderId": "QIAO-20200618-004"}, key)
    >>> text
    '|$4|efB6PnjDpgHG4xfrvYlXonyBuMJoGTynkfasopHvbl2u3nmNeP+rznA3DyRwb/2GeZL7I3rL6HKD5+Tv3Uy6x8jIDISbYG8Bg14caH2flYE='
    >>> decode_envelope(text, key)
    '{"language":"zh-CN","orderId":"QIAO-20200618-004"}'

**The envelope keeps messages secret; it does not make them authentic.** SM4 in ECB mode
encrypts each 16-byte block on its own, and the protocol adds no MAC. Whole blocks of genuine
envelopes sealed under the same key can be dropped, repeated, reordered or spliced from
several envelopes, and the result often still decrypts to JSON ending in the signKey: no check
on the decrypted text can tell it from a genuine message. Appending the signKey only refuses
envelopes sealed under another key, and a block altered at random (it decrypts to garbage that
is not UTF-8 JSON). Treat a decrypted push as a *claim*: :class:`govpost.carriers.webhooks.PushInbox`
hands over no terminal status from such pushes before the carrier's own tracking confirms it.

.. versionadded:: 0.1.0
"""

from __future__ import annotations

import base64
import binascii
import json
from typing import Any

from cryptography.hazmat.primitives import padding
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

from govpost._limits import load_json
from govpost.errors import ValidationError

__all__ = ["PREFIX", "compact_json", "decode_envelope", "encode_envelope"]

#: The marker that starts every SM4 envelope.
PREFIX = "|$4|"


def compact_json(payload: Any) -> str:
    """``payload`` as the platform expects it: no spaces, non-ASCII characters kept.

    >>> compact_json({"name": "贵阳", "n": 1})
    '{"name":"贵阳","n":1}'
    """
    return json.dumps(payload, separators=(",", ":"), ensure_ascii=False)


def _key(sign_key: str) -> bytes:
    if not isinstance(sign_key, str):
        raise ValidationError(
            f"signKey of type {type(sign_key).__name__} must be the base64 text EMS issued"
        )
    try:
        key = base64.b64decode(sign_key, validate=True)
    except (binascii.Error, ValueError):
        raise ValidationError(
            "signKey is not valid base64: copy the signKey exactly as EMS issued it"
        ) from None
    if len(key) != 16:
        raise ValidationError(
            f"signKey decodes to {len(key)} bytes, but SM4 needs 16: copy the signKey exactly "
            f"as EMS issued it (24 base64 characters)"
        )
    return key


def encode_envelope(payload: Any, sign_key: str) -> str:
    """Encrypt a payload into a ``logitcsInterface`` value.

    Args:
        payload: the business message: a JSON-compatible value, or a ``str`` that is already
            the compact JSON text (sent as it is).
        sign_key: the signKey EMS issued (base64 of 16 bytes).

    Raises:
        ValidationError: the key is not base64 of 16 bytes, or the payload is not JSON-compatible.

    .. versionadded:: 0.1.0
    """
    key = _key(sign_key)
    try:
        text = payload if isinstance(payload, str) else compact_json(payload)
    except (TypeError, ValueError) as exc:
        raise ValidationError(f"the EMS payload is not JSON-compatible: {exc}") from exc
    padder = padding.PKCS7(algorithms.SM4.block_size).padder()
    plain = padder.update((text + sign_key).encode("utf-8")) + padder.finalize()
    encryptor = Cipher(algorithms.SM4(key), modes.ECB()).encryptor()
    sealed = encryptor.update(plain) + encryptor.finalize()
    return PREFIX + base64.b64encode(sealed).decode("ascii")


def decode_envelope(text: str, sign_key: str) -> str:
    """Decrypt a ``logitcsInterface`` value, verify it, and return its JSON text.

    The text must start with ``|$4|``, decrypt under ``sign_key`` with valid padding to UTF-8
    text, end with ``sign_key`` itself, and hold JSON (at most 64 levels deep) before it; that
    JSON is returned as text. These checks refuse another key and a block altered at random;
    they cannot refuse whole genuine blocks dropped, repeated or spliced (see the module
    documentation): the protocol has no MAC.

    Args:
        text: the ``logitcsInterface`` value.
        sign_key: the signKey (base64 of 16 bytes).

    Raises:
        ValidationError: a malformed, randomly altered or truncated envelope, one sealed
            under another key, or one whose message is not JSON (or nests deeper than 64
            levels). The message never shows the decrypted text.

    >>> decode_envelope(encode_envelope({"a": 1}, "TvaBgrhE46sft3nZlfe7xw=="),
    ...                 "AAAAAAAAAAAAAAAAAAAAAA==")
    Traceback (most recent call last):
    ...
    govpost.errors.ValidationError: the EMS envelope does not decrypt under this signKey ...

    .. versionadded:: 0.1.0
    """
    return open_envelope(text, sign_key)[0]


def open_envelope(text: str, sign_key: str) -> tuple[str, Any]:
    """:func:`decode_envelope`, and the JSON document its check already read (read once)."""
    key = _key(sign_key)
    if not isinstance(text, str) or not text.startswith(PREFIX):
        raise ValidationError(
            f"the EMS envelope must be text starting with {PREFIX!r}: this is not a "
            f"logitcsInterface value"
        )
    try:
        sealed = base64.b64decode(text[len(PREFIX) :], validate=True)
    except (binascii.Error, ValueError):
        raise ValidationError("the EMS envelope is not valid base64 after '|$4|'") from None
    if not sealed or len(sealed) % 16:
        raise ValidationError(
            f"the EMS envelope holds {len(sealed)} bytes, not a whole number of 16-byte SM4 "
            f"blocks: it was truncated or altered"
        )
    decryptor = Cipher(algorithms.SM4(key), modes.ECB()).decryptor()
    plain = decryptor.update(sealed) + decryptor.finalize()
    unpadder = padding.PKCS7(algorithms.SM4.block_size).unpadder()
    wrong = ValidationError(
        "the EMS envelope does not decrypt under this signKey to a message ending in it: it "
        "was sealed with another key, or altered"
    )
    try:
        clear = (unpadder.update(plain) + unpadder.finalize()).decode("utf-8")
    except ValueError:  # bad padding, or bytes that are not UTF-8
        raise wrong from None
    if not clear.endswith(sign_key):
        raise wrong
    text = clear[: -len(sign_key)]
    try:
        # A block altered at random decrypts to 16 bytes of garbage, which almost never reads
        # as UTF-8 JSON: this refuses random tampering. It cannot refuse whole genuine blocks
        # dropped, repeated or spliced between envelopes: those decrypt to genuine text, and
        # their JSON is often valid. Only the carrier's own tracking can confirm such a message.
        document = load_json(text, what="the EMS envelope's message")
    except ValidationError as exc:
        raise ValidationError(
            f"the EMS envelope ends with this signKey but its message is not acceptable JSON "
            f"({_reason(exc)}): it was altered"
        ) from None
    return text, document


def _reason(exc: ValidationError) -> str:
    """The reason of a ``load_json`` refusal without the document's name (never its text)."""
    return str(exc).removeprefix("the EMS envelope's message ")
