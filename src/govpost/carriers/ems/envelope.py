"""The EMS open-platform envelope: SM4-ECB over the compact JSON followed by the signKey.

``logitcsInterface`` (sic) carries the business payload of every request and push::

    "|$4|" + base64(SM4-ECB-PKCS7(key=base64decode(signKey), compact_json + signKey))

``compact_json`` has no spaces and keeps Chinese characters as they are. Appending the signKey
before encrypting is what authenticates a message: only a holder of the key can produce a
ciphertext that decrypts to text ending in it. The published test vector::

    >>> key = "TvaBgrhE46sft3nZlfe7xw=="
    >>> text = encode_envelope({"language": "zh-CN", "orderId": "QIAO-20200618-004"}, key)
    >>> text
    '|$4|efB6PnjDpgHG4xfrvYlXonyBuMJoGTynkfasopHvbl2u3nmNeP+rznA3DyRwb/2GeZL7I3rL6HKD5+Tv3Uy6x8jIDISbYG8Bg14caH2flYE='
    >>> decode_envelope(text, key)
    '{"language":"zh-CN","orderId":"QIAO-20200618-004"}'

.. versionadded:: 0.1.0
"""

from __future__ import annotations

import base64
import binascii
import json
from typing import Any

from cryptography.hazmat.primitives import padding
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

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
    text, end with ``sign_key`` itself, and hold JSON before it; that JSON is returned as
    text. (The protocol has no MAC: SM4-ECB keeps unaltered blocks intact, so these checks are
    what catches an altered block.)

    Args:
        text: the ``logitcsInterface`` value.
        sign_key: the signKey (base64 of 16 bytes).

    Raises:
        ValidationError: a malformed, tampered or truncated envelope, one sealed under
            another key, or one whose message is not JSON. The message never shows the
            decrypted text.

    >>> decode_envelope(encode_envelope({"a": 1}, "TvaBgrhE46sft3nZlfe7xw=="),
    ...                 "AAAAAAAAAAAAAAAAAAAAAA==")
    Traceback (most recent call last):
    ...
    govpost.errors.ValidationError: the EMS envelope does not decrypt under this signKey ...

    .. versionadded:: 0.1.0
    """
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
        # SM4-ECB garbles only the blocks that were altered and keeps the others: an altered
        # message can still end in the key, but its garbled block does not read as JSON.
        json.loads(text)
    except ValueError:
        raise ValidationError(
            "the EMS envelope ends with this signKey but its message is not JSON: it was altered"
        ) from None
    return text
