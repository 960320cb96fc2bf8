"""Encryption at rest of the personal data the store keeps, and keyed digests to find it.

Names, mobile numbers, ID numbers and addresses are written to the store encrypted, with keys
the agency supplies: SM4 (GB/T 32907, the national standard) in GCM mode by default, AES-256 in
GCM mode when chosen. A :class:`KeyRing` holds the keys: it encrypts with its *active* key and
decrypts with whichever key a value names, so keys can be rotated while old rows are still
read. Each value is bound to its place (``context``: the store passes table and row key), so a
value copied into another row does not decrypt there. For exact-match lookups (find by mobile
number) the store keeps a keyed :meth:`~KeyRing.digest` of the value beside it, never the value
in clear::

    >>> ring = KeyRing(Key.from_hex("k1", "00112233445566778899aabbccddeeff"))
    >>> ring
    <KeyRing active='k1' sm4-gcm>
    >>> token = ring.encrypt(b"13985212345", context=b"recipients/42/mobile")
    >>> token[:6], len(token)
    (b'GP1\\x02k1', 45)
    >>> ring.decrypt(token, context=b"recipients/42/mobile")
    b'13985212345'
    >>> ring.decrypt(token, context=b"recipients/43/mobile")
    Traceback (most recent call last):
    govpost.errors.StoreError: a value does not decrypt with key 'k1': ...
    >>> ring.digest("13985212345", purpose="recipient.mobile")
    'k1:9ec1d077a8...'

Rotating: put the new key first and keep the old ones after it until every row is rewritten;
look values up with :meth:`~KeyRing.digests`, which gives the digest under every key::

    >>> rotated = KeyRing(Key.from_hex("k2", "ffeeddccbbaa99887766554433221100"), ring.active)
    >>> rotated.decrypt(token, context=b"recipients/42/mobile")
    b'13985212345'
    >>> rotated.key_id_of(rotated.encrypt(b"13985212345", context=b"recipients/42/mobile"))
    'k2'
    >>> [d[:3] for d in rotated.digests("13985212345", purpose="recipient.mobile")]
    ['k2:', 'k1:']

Keys are never shown: not in a ``repr``, an error message or a log line (a secret of the wrong
length is described by its length). Deployments usually give the keys in the environment
(:meth:`KeyRing.from_env`, variable ``GOVPOST_STORE_KEYS``) as ``k2=sm4-gcm:<hex>,k1=...``.

**Token format** (version 1), what :meth:`KeyRing.encrypt` returns and the store writes:

=============  ==============  =============================================================
bytes          what            notes
=============  ==============  =============================================================
3              ``b"GP1"``      magic and format version
1              *n*             length of the key id, 1 to 32
*n*            key id          ASCII, ``[A-Za-z0-9._-]``: which key of the ring decrypts
12             nonce           random for each value (96 bits, from ``os.urandom``)
rest - 16      ciphertext      same length as the plaintext
16             tag             GCM authentication tag (128 bits)
=============  ==============  =============================================================

The associated data GCM authenticates is the token's first ``4 + n`` bytes (magic, length and
key id) followed by ``context``. A token is 32 + *n* bytes longer than its plaintext.

**Subkeys.** A key's secret is never used directly: HKDF (RFC 5869, no salt) derives a subkey
for each use, with SM3 for ``sm4-gcm`` keys and SHA-256 for ``aes-256-gcm`` keys:

- encryption key (16 or 32 bytes): ``info=b"govpost store v1 encryption"``;
- digest key (32 bytes): ``info=b"govpost store v1 digest"``; a digest is
  ``"<key id>:" + hex(HMAC(digest key, purpose + b"\\0" + value))`` with HMAC-SM3 or
  HMAC-SHA256, purpose and value in UTF-8;
- key check value (8 bytes, shown as 16 hex digits): ``info=b"govpost store v1 check value"``.

So a digest or a check value reveals nothing of the key that encrypts.

With random nonces, one key should encrypt fewer than 2**32 values (NIST SP 800-38D): rotate
long before that.

.. versionadded:: 0.2.0
"""

from __future__ import annotations

import enum
import hmac as std_hmac
import os
import re
from collections.abc import Mapping
from hmac import compare_digest
from types import MappingProxyType
from typing import Final, NamedTuple

from cryptography.exceptions import InvalidTag, UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes, hmac
from cryptography.hazmat.primitives.ciphers import Cipher, CipherAlgorithm, algorithms, modes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from govpost.errors import StoreError, ValidationError

__all__ = ["Algorithm", "Key", "KeyRing"]

_MAGIC: Final = b"GP1"
_NONCE_SIZE: Final = 12
_TAG_SIZE: Final = 16
_KEY_ID: Final = re.compile(r"[A-Za-z0-9._-]{1,32}")
_HEX: Final = re.compile(r"[0-9A-Fa-f]*")
_ENCRYPTION_INFO: Final = b"govpost store v1 encryption"
_DIGEST_INFO: Final = b"govpost store v1 digest"
_CHECK_INFO: Final = b"govpost store v1 check value"
_DIGEST_KEY_SIZE: Final = 32
_CHECK_SIZE: Final = 8
#: How ``KeyRing.parse`` shows an unknown algorithm: longer text may be a misplaced secret.
_SHOWN_ALGORITHM: Final = 20
_HOW_TO_MAKE: Final = 'python -c "import os; print(os.urandom(16).hex())"'


class Algorithm(enum.Enum):
    """The cipher a :class:`Key` is for: both are used in GCM mode (authenticated).

    >>> Algorithm("sm4-gcm")
    <Algorithm.SM4_GCM: 'sm4-gcm'>

    .. versionadded:: 0.2.0
    """

    #: SM4 (GB/T 32907-2016), the national standard block cipher; 16-byte keys. The default.
    SM4_GCM = "sm4-gcm"
    #: AES with 32-byte keys.
    AES_256_GCM = "aes-256-gcm"


_KEY_SIZE: Final = {Algorithm.SM4_GCM: 16, Algorithm.AES_256_GCM: 32}


class _Subkeys(NamedTuple):
    encryption: bytes
    digest: bytes
    check_value: str


def _hash(algorithm: Algorithm) -> hashes.HashAlgorithm:
    return hashes.SM3() if algorithm is Algorithm.SM4_GCM else hashes.SHA256()


def _unsupported(algorithm: Algorithm, exc: UnsupportedAlgorithm) -> StoreError:
    return StoreError(
        f"the OpenSSL that cryptography uses here does not provide {algorithm.value} "
        f"({exc}): install cryptography's own wheels, which do, or use keys for "
        f"{Algorithm.AES_256_GCM.value}"
    )


def _check_id(value: str) -> str:
    given: object = value
    if not isinstance(given, str):
        raise ValidationError(f"a key id must be a str, not {type(given).__name__}")
    if not _KEY_ID.fullmatch(given):
        # A long "id" may be a secret given in the wrong place: describe it, do not show it.
        shown = repr(given) if len(given) <= 32 else f"of {len(given)} characters"
        raise ValidationError(
            f"key id {shown} is not valid: use 1 to 32 ASCII letters, digits, '.', '_' or '-' "
            f"(such as 'k1' or '2024-06'); the id is stored in clear beside each value"
        )
    return given


def _check_algorithm(value: Algorithm | str, id: str) -> Algorithm:
    given: object = value
    if isinstance(given, Algorithm):
        return given
    if isinstance(given, str):
        for algorithm in Algorithm:
            if given.strip().lower() in (algorithm.value, algorithm.name.lower()):
                return algorithm
        text = given.strip()
        shown = repr(text) if len(text) <= _SHOWN_ALGORITHM else f"of {len(text)} characters"
    else:
        shown = f"of type {type(given).__name__}"
    raise ValidationError(
        f"key {id!r}: unknown algorithm {shown}: use 'sm4-gcm' (the default) or 'aes-256-gcm'"
    )


def _check_secret(value: bytes, id: str, algorithm: Algorithm) -> bytes:
    given: object = value
    if not isinstance(given, bytes | bytearray):
        raise ValidationError(
            f"key {id!r}: the secret must be bytes, not {type(given).__name__} "
            f"(for hex digits use Key.from_hex({id!r}, ...))"
        )
    size = _KEY_SIZE[algorithm]
    if len(given) != size:
        hint = "".join(
            f"; {len(given)} bytes is the size of an {other.value} secret: pass "
            f"algorithm={other.value!r}"
            for other, other_size in _KEY_SIZE.items()
            if other is not algorithm and other_size == len(given)
        )
        raise ValidationError(
            f"key {id!r}: an {algorithm.value} secret is {size} bytes ({2 * size} hex digits), "
            f"not {len(given)}{hint}; or make a new one with Key.generate({id!r})"
        )
    return bytes(given)


def _derive(secret: bytes, algorithm: Algorithm) -> _Subkeys:
    def hkdf(info: bytes, length: int) -> bytes:
        return HKDF(algorithm=_hash(algorithm), length=length, salt=None, info=info).derive(secret)

    try:
        return _Subkeys(
            encryption=hkdf(_ENCRYPTION_INFO, _KEY_SIZE[algorithm]),
            digest=hkdf(_DIGEST_INFO, _DIGEST_KEY_SIZE),
            check_value=hkdf(_CHECK_INFO, _CHECK_SIZE).hex(),
        )
    except UnsupportedAlgorithm as exc:
        raise _unsupported(algorithm, exc) from exc


class Key:
    """A key of the store: its id, its secret and the algorithm it is for.

    The id is stored in clear beside every value the key encrypts; the secret is never shown:
    not in the ``repr``, nor in any error message (a wrong one is described by its length).
    Keys compare equal when id, algorithm and secret are equal. Make them with
    :meth:`generate` or :meth:`from_hex`::

        >>> key = Key.from_hex("k1", "00112233445566778899aabbccddeeff")
        >>> key
        Key(id='k1', algorithm=sm4-gcm, secret=<hidden>)
        >>> Key(id="k1", secret=bytes(8))
        Traceback (most recent call last):
        govpost.errors.ValidationError: key 'k1': an sm4-gcm secret is 16 bytes (32 hex digits),
        not 8; or make a new one with Key.generate('k1')

    Args:
        id: 1 to 32 ASCII letters, digits, ``.``, ``_`` or ``-``, unique in a key ring.
        secret: exactly 16 bytes for ``sm4-gcm``, 32 for ``aes-256-gcm``.
        algorithm: an :class:`Algorithm` or its value; SM4-GCM by default.

    Raises:
        ValidationError: a bad id, an unknown algorithm, a secret that is not bytes or not of
            the algorithm's length.
        StoreError: the OpenSSL build cryptography uses lacks the algorithm (SM4 and SM3 are in
            cryptography's wheels).

    .. versionadded:: 0.2.0
    """

    __slots__ = ("_aead", "_algorithm", "_block", "_id", "_secret", "_subkeys")

    def __init__(
        self, *, id: str, secret: bytes, algorithm: Algorithm | str = Algorithm.SM4_GCM
    ) -> None:
        self._id = _check_id(id)
        self._algorithm = _check_algorithm(algorithm, self._id)
        self._secret = _check_secret(secret, self._id, self._algorithm)
        self._subkeys = _derive(self._secret, self._algorithm)
        # Built once: the cipher objects are immutable and cost more than a short encryption.
        subkey = self._subkeys.encryption
        self._block: CipherAlgorithm | None = None
        self._aead: AESGCM | None = None
        try:
            if self._algorithm is Algorithm.SM4_GCM:
                self._block = algorithms.SM4(subkey)
            else:
                self._aead = AESGCM(subkey)
        except UnsupportedAlgorithm as exc:
            raise _unsupported(self._algorithm, exc) from exc

    @property
    def id(self) -> str:
        """The key's id, stored in clear beside each value it encrypts.

        .. versionadded:: 0.2.0
        """
        return self._id

    @property
    def secret(self) -> bytes:
        """The secret bytes. Handle with care: never log or show them.

        .. versionadded:: 0.2.0
        """
        return self._secret

    @property
    def algorithm(self) -> Algorithm:
        """The cipher the key is for.

        .. versionadded:: 0.2.0
        """
        return self._algorithm

    @classmethod
    def generate(cls, id: str, algorithm: Algorithm | str = Algorithm.SM4_GCM) -> Key:
        """A new key with a random secret from ``os.urandom``.

        Keep ``key.secret.hex()`` where the agency keeps its secrets: data encrypted with the
        key cannot be read without it.

        >>> key = Key.generate("k3", "aes-256-gcm")
        >>> key.algorithm, len(key.secret)
        (<Algorithm.AES_256_GCM: 'aes-256-gcm'>, 32)

        Args:
            id: the key's id (see :class:`Key`).
            algorithm: an :class:`Algorithm` or its value.

        Returns:
            The new key.

        Raises:
            ValidationError: a bad id or an unknown algorithm.

        .. versionadded:: 0.2.0
        """
        checked = _check_algorithm(algorithm, _check_id(id))
        return cls(id=id, secret=os.urandom(_KEY_SIZE[checked]), algorithm=checked)

    @classmethod
    def from_hex(cls, id: str, hex: str, algorithm: Algorithm | str = Algorithm.SM4_GCM) -> Key:
        """The key whose secret is written in hex digits (whitespace between them is ignored).

        >>> Key.from_hex("k1", "0011 2233 4455 6677 8899 aabb ccdd eeff").id
        'k1'

        Args:
            id: the key's id (see :class:`Key`).
            hex: the secret in hex digits: 32 for ``sm4-gcm``, 64 for ``aes-256-gcm``.
            algorithm: an :class:`Algorithm` or its value.

        Returns:
            The key.

        Raises:
            ValidationError: a bad id, an unknown algorithm, a secret that is not hex digits
                or not of the algorithm's length; the message never shows the secret.

        .. versionadded:: 0.2.0
        """
        checked_id = _check_id(id)
        checked = _check_algorithm(algorithm, checked_id)
        given: object = hex
        if not isinstance(given, str):
            raise ValidationError(
                f"key {checked_id!r}: the secret must be a str of hex digits, not "
                f"{type(given).__name__}"
            )
        digits = "".join(given.split())
        if not _HEX.fullmatch(digits) or len(digits) % 2:
            raise ValidationError(
                f"key {checked_id!r}: the secret is not hexadecimal ({len(digits)} characters, "
                f"not all of them 0-9 a-f): write the {checked.value} secret as "
                f"{2 * _KEY_SIZE[checked]} hex digits"
            )
        return cls(id=checked_id, secret=bytes.fromhex(digits), algorithm=checked)

    def check_value(self) -> str:
        """The key check value: 16 hex digits derived from the secret, safe to store and show.

        Stored beside the data when a key is first used, it tells at open time whether a key
        given under an id is the one the data was written with, before any row is read. It
        reveals nothing about the secret (a separate HKDF subkey).

        >>> Key.from_hex("k1", "00112233445566778899aabbccddeeff").check_value()
        '68a3f07983d3f78f'

        Returns:
            16 lowercase hex digits; the same for the same secret and algorithm, whatever the id.

        .. versionadded:: 0.2.0
        """
        return self._subkeys.check_value

    def __repr__(self) -> str:
        return f"Key(id={self._id!r}, algorithm={self._algorithm.value}, secret=<hidden>)"

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Key):
            return NotImplemented
        return (
            self._id == other._id
            and self._algorithm is other._algorithm
            and compare_digest(self._secret, other._secret)
        )

    def __hash__(self) -> int:
        return hash((self._id, self._algorithm))


def _cipher(key: Key, mode: modes.GCM) -> Cipher[modes.GCM]:
    assert key._block is not None  # SM4 keys; AES keys go through their AESGCM
    return Cipher(key._block, mode)


def _not_decrypted(key_id: str) -> StoreError:
    return StoreError(
        f"a value does not decrypt with key {key_id!r}: the key under this id is not "
        f"the one the data was written with (compare check values), or the value was "
        f"altered or moved to another row"
    )


def _header(key_id: str) -> bytes:
    encoded = key_id.encode("ascii")
    return _MAGIC + bytes([len(encoded)]) + encoded


def _bytes(value: bytes, name: str) -> bytes:
    given: object = value
    if isinstance(given, bytes):
        return given
    if isinstance(given, bytearray | memoryview):
        return bytes(given)
    hint = ": encode it first, as value.encode('utf-8')" if isinstance(given, str) else ""
    raise ValidationError(f"{name} must be bytes, not {type(given).__name__}{hint}")


def _not_ours(why: str) -> StoreError:
    return StoreError(
        f"not a govpost ciphertext: {why}; it was not written by KeyRing.encrypt, or was cut "
        f"short or altered (a column too narrow, a text encoding applied to binary data?)"
    )


def _split(token: bytes) -> tuple[str, int]:
    """The key id a token names, and the length of its header (magic, length and id)."""
    shortest = len(_MAGIC) + 2 + _NONCE_SIZE + _TAG_SIZE
    if not token.startswith(_MAGIC):
        version = token[len(_MAGIC) - 1 : len(_MAGIC)]
        if token.startswith(_MAGIC[:-1]) and version.isdigit():
            raise StoreError(
                f"the value is in govpost ciphertext format {version.decode()!r}, which this "
                f"version of govpost does not read (it reads format '1'): upgrade govpost"
            )
        raise _not_ours(f"it does not start with {_MAGIC!r}")
    if len(token) < shortest:
        raise _not_ours(f"it has {len(token)} bytes, fewer than the {shortest} of the shortest")
    size = token[len(_MAGIC)]
    end = len(_MAGIC) + 1 + size
    raw_id = token[len(_MAGIC) + 1 : end]
    if not 1 <= size <= 32 or not _KEY_ID.fullmatch(raw_id.decode("latin-1")):
        raise _not_ours("its key id is malformed")
    if len(token) < end + _NONCE_SIZE + _TAG_SIZE:
        raise _not_ours(f"it has {len(token)} bytes, too few for its header, nonce and tag")
    return raw_id.decode("ascii"), end


def _purpose(value: str) -> bytes:
    given: object = value
    if not isinstance(given, str) or not given or "\0" in given:
        shown = repr(given) if isinstance(given, str) else type(given).__name__
        raise ValidationError(
            f"digest purpose {shown} must be a non-empty str without NUL, naming what is "
            f"digested (such as 'recipient.mobile'), so equal values of different fields differ"
        )
    return given.encode("utf-8", "surrogatepass")


#: Prefix of fingerprinted data: a fingerprint is never equal to a digest of the same bytes.
_FINGERPRINT = b"govpost fingerprint\x00"


def _digest(key: Key, message: bytes) -> str:
    mac = hmac.HMAC(key._subkeys.digest, _hash(key.algorithm))
    mac.update(message)
    return f"{key.id}:{mac.finalize().hex()}"


class KeyRing:
    """The store's keys: one active key that encrypts, older keys that still decrypt.

    Immutable, so one ring is safely shared by every thread of a process.

    >>> old = Key.from_hex("k1", "00112233445566778899aabbccddeeff")
    >>> ring = KeyRing(Key.from_hex("k2", "ffeeddccbbaa99887766554433221100"), old)
    >>> ring.ids, ring.get("k1") == old
    (('k2', 'k1'), True)
    >>> ring
    <KeyRing active='k2' sm4-gcm; older: 'k1' sm4-gcm>

    Args:
        active: the key new values are encrypted with.
        older: keys that values may still be encrypted with, newest first.

    Raises:
        ValidationError: an argument that is not a :class:`Key`, or two keys with one id.

    .. versionadded:: 0.2.0
    """

    __slots__ = ("_active", "_ids", "_keys")

    def __init__(self, active: Key, *older: Key) -> None:
        keys: dict[str, Key] = {}
        for position, key in enumerate((active, *older), 1):
            given: object = key
            if not isinstance(given, Key):
                raise ValidationError(
                    f"KeyRing takes Key objects, not {type(given).__name__} (argument "
                    f"{position}): make them with Key.from_hex(id, hex) or Key.generate(id), "
                    f"or parse text with KeyRing.parse"
                )
            if given.id in keys:
                raise ValidationError(
                    f"key id {given.id!r} is given twice (argument {position}): give each key "
                    f"its own id; a value names the key that decrypts it by id"
                )
            keys[given.id] = given
        self._active = active
        self._ids = tuple(keys)
        self._keys: Mapping[str, Key] = MappingProxyType(keys)

    @property
    def active(self) -> Key:
        """The key new values are encrypted with, and digests taken with.

        .. versionadded:: 0.2.0
        """
        return self._active

    @property
    def ids(self) -> tuple[str, ...]:
        """The ids of the keys, the active one first.

        .. versionadded:: 0.2.0
        """
        return self._ids

    def get(self, id: str) -> Key:
        """The key with id ``id``.

        >>> KeyRing(Key.from_hex("k1", "00112233445566778899aabbccddeeff")).get("k0")
        Traceback (most recent call last):
        govpost.errors.StoreError: data was encrypted with key 'k0', which is not in the key
        ring (it holds 'k1'): pass it as an older key: KeyRing(active, Key.from_hex('k0', ...))

        Args:
            id: a key id.

        Returns:
            The key.

        Raises:
            StoreError: no key of the ring has that id.
            ValidationError: ``id`` is not a str.

        .. versionadded:: 0.2.0
        """
        given: object = id
        if not isinstance(given, str):
            raise ValidationError(f"a key id must be a str, not {type(given).__name__}")
        key = self._keys.get(given)
        if key is None:
            shown = repr(given) if len(given) <= 32 else f"<an id of {len(given)} characters>"
            held = ", ".join(repr(i) for i in self._ids)
            raise StoreError(
                f"data was encrypted with key {shown}, which is not in the key ring (it holds "
                f"{held}): pass it as an older key: KeyRing(active, Key.from_hex({shown}, ...))"
            )
        return key

    @classmethod
    def parse(cls, text: str) -> KeyRing:
        """The key ring written as ``id=algorithm:hex`` entries separated by commas, active first.

        The algorithm part may be left out (``id=hex``): ``sm4-gcm``. Whitespace around entries
        and parts, and empty entries, are ignored. Errors name the entry and its id, never the
        secret.

        >>> KeyRing.parse(
        ...     "k2 = sm4-gcm:ffeeddccbbaa99887766554433221100,"
        ...     " k1=00112233445566778899aabbccddeeff"
        ... )
        <KeyRing active='k2' sm4-gcm; older: 'k1' sm4-gcm>

        Args:
            text: the entries.

        Returns:
            The key ring: the first entry is the active key.

        Raises:
            ValidationError: no entries, an entry without ``=``, a bad id, an unknown
                algorithm, a secret that is not hex or not of the algorithm's length, an id
                given twice.

        .. versionadded:: 0.2.0
        """
        given: object = text
        example = "'k2=sm4-gcm:<32 hex digits>,k1=sm4-gcm:<32 hex digits>'"
        if not isinstance(given, str):
            raise ValidationError(
                f"KeyRing.parse takes a str such as {example}, not {type(given).__name__}"
            )
        keys: list[Key] = []
        for position, entry in enumerate(given.split(","), 1):
            if not entry.strip():
                continue
            id, equals, rest = entry.partition("=")
            if not equals:
                raise ValidationError(
                    f"key entry {position} has no '=': write each key as id=algorithm:hex, "
                    f"the active key first, separated by commas, as in {example}"
                )
            algorithm, colon, digits = rest.partition(":")
            if not colon:
                algorithm, digits = Algorithm.SM4_GCM.value, algorithm
            keys.append(Key.from_hex(id.strip(), digits, algorithm.strip()))
        if not keys:
            raise ValidationError(
                f"no keys given: write at least one, the active key first, as in {example}; "
                f"make a secret with {_HOW_TO_MAKE}"
            )
        return cls(*keys)

    @classmethod
    def from_env(cls, variable: str = "GOVPOST_STORE_KEYS") -> KeyRing:
        """The key ring written in environment variable ``variable`` (see :meth:`parse`).

        >>> import os
        >>> os.environ["DOCTEST_KEYS"] = "k1=sm4-gcm:00112233445566778899aabbccddeeff"
        >>> KeyRing.from_env("DOCTEST_KEYS")
        <KeyRing active='k1' sm4-gcm>
        >>> del os.environ["DOCTEST_KEYS"]

        Args:
            variable: the name of the environment variable.

        Returns:
            The key ring.

        Raises:
            StoreError: the variable is not set.
            ValidationError: its text is not a key ring (the message names the variable).

        .. versionadded:: 0.2.0
        """
        given: object = variable
        if not isinstance(given, str) or not given:
            raise ValidationError(
                f"the environment variable's name must be a non-empty str, not {given!r}"
            )
        text = os.environ.get(given)
        if text is None:
            raise StoreError(
                f"environment variable {given} is not set: set it to the store's keys, the "
                f"active key first, as in 'k1=sm4-gcm:<32 hex digits>'; make a secret with "
                f"{_HOW_TO_MAKE}"
            )
        try:
            return cls.parse(text)
        except ValidationError as exc:
            raise ValidationError(f"environment variable {given}: {exc}") from exc

    def encrypt(self, plaintext: bytes, *, context: bytes) -> bytes:
        """``plaintext`` encrypted with the active key, bound to ``context``.

        Each call draws a new random nonce: the same value encrypts differently every time
        (use :meth:`digest` to find equal values).

        Args:
            plaintext: the value, as bytes (encode text in UTF-8).
            context: where the value belongs (the store passes table and row key): it is
                authenticated, not stored; decrypting needs the same context.

        Returns:
            The token (see the module's documentation for its format).

        Raises:
            ValidationError: ``plaintext`` or ``context`` is not bytes.
            StoreError: the OpenSSL build lacks the key's algorithm.

        .. versionadded:: 0.2.0
        """
        data = _bytes(plaintext, "plaintext")
        associated = _bytes(context, "context")
        key = self._active
        header = _header(key.id)
        nonce = os.urandom(_NONCE_SIZE)
        if key._aead is not None:
            return header + nonce + key._aead.encrypt(nonce, data, header + associated)
        try:
            encryptor = _cipher(key, modes.GCM(nonce)).encryptor()
        except UnsupportedAlgorithm as exc:
            raise _unsupported(key.algorithm, exc) from exc
        encryptor.authenticate_additional_data(header + associated)
        body = encryptor.update(data) + encryptor.finalize()
        return header + nonce + body + encryptor.tag

    def decrypt(self, token: bytes, *, context: bytes) -> bytes:
        """The plaintext of ``token``, with the key it names, if it was encrypted for ``context``.

        Args:
            token: what :meth:`encrypt` returned.
            context: the context it was encrypted with.

        Returns:
            The plaintext.

        Raises:
            StoreError: ``token`` is not a govpost ciphertext; it names a key that is not in
                the ring; or it does not authenticate: the key under its id is not the one it
                was written with, or the value was altered or moved to another row.
            ValidationError: ``token`` or ``context`` is not bytes.

        .. versionadded:: 0.2.0
        """
        data = _bytes(token, "token")
        associated = _bytes(context, "context")
        key_id, end = _split(data)
        key = self.get(key_id)
        nonce, body, tag = (
            data[end : end + _NONCE_SIZE],
            data[end + _NONCE_SIZE : -_TAG_SIZE],
            data[-_TAG_SIZE:],
        )
        if key._aead is not None:
            try:
                return key._aead.decrypt(nonce, body + tag, data[:end] + associated)
            except InvalidTag as exc:
                raise _not_decrypted(key_id) from exc
        try:
            decryptor = _cipher(key, modes.GCM(nonce, tag)).decryptor()
        except UnsupportedAlgorithm as exc:
            raise _unsupported(key.algorithm, exc) from exc
        decryptor.authenticate_additional_data(data[:end] + associated)
        try:
            return decryptor.update(body) + decryptor.finalize()
        except InvalidTag as exc:
            raise _not_decrypted(key_id) from exc

    def key_id_of(self, token: bytes) -> str:
        """The id of the key ``token`` was encrypted with (to find values left to re-encrypt).

        Args:
            token: what :meth:`encrypt` returned.

        Returns:
            The key id, whether or not the ring holds that key.

        Raises:
            StoreError: ``token`` is not a govpost ciphertext.
            ValidationError: ``token`` is not bytes.

        .. versionadded:: 0.2.0
        """
        return _split(_bytes(token, "token"))[0]

    def digest(self, value: str, *, purpose: str) -> str:
        """A keyed digest of ``value`` under the active key, for exact-match lookups.

        Deterministic: the same value, purpose and key give the same digest; another key or
        purpose gives another. The digest is ``"<key id>:"`` and 64 hex digits (HMAC-SM3 or
        HMAC-SHA256 with the key's digest subkey). Values are digested as given: normalise
        them first (a mobile number without its spaces), as the lookup will.

        >>> ring = KeyRing(Key.from_hex("k1", "00112233445566778899aabbccddeeff"))
        >>> one = ring.digest("13985212345", purpose="recipient.mobile")
        >>> one == ring.digest("13985212345", purpose="recipient.mobile"), len(one)
        (True, 67)
        >>> one == ring.digest("13985212345", purpose="applicant.mobile")
        False

        Args:
            value: the value, as text.
            purpose: what the value is (``"recipient.mobile"``): a non-empty str without NUL.

        Returns:
            The digest.

        Raises:
            ValidationError: ``value`` is not a str, or ``purpose`` is not valid.

        .. versionadded:: 0.2.0
        """
        return _digest(self._active, self._message(value, purpose))

    def digests(self, value: str, *, purpose: str) -> tuple[str, ...]:
        """:meth:`digest` of ``value`` under every key of the ring, the active key first.

        During a rotation rows hold digests under old keys: look a value up with all of them.

        Args:
            value: the value, as text.
            purpose: what the value is (see :meth:`digest`).

        Returns:
            One digest for each key, in the order of :attr:`ids`.

        Raises:
            ValidationError: ``value`` is not a str, or ``purpose`` is not valid.

        .. versionadded:: 0.2.0
        """
        message = self._message(value, purpose)
        return tuple(_digest(self._keys[i], message) for i in self._ids)

    def fingerprint(self, data: bytes) -> str:
        """A keyed fingerprint of ``data`` under the active key: 64 hex digits.

        For telling whether a sealed value changed without keeping anything an attacker could
        test guesses against: a plain hash of a record beside its ciphertext would let one who
        reads the database try candidate names or numbers until the hash matches; this one
        needs the key. HMAC-SHA-256 under the key's digest subkey, domain-separated from
        :meth:`digest` (the fingerprint is an internal check, never looked up across keys).

        >>> ring = KeyRing(Key.from_hex("k1", "00112233445566778899aabbccddeeff"))
        >>> one = ring.fingerprint(b'{"name": "..."}')
        >>> len(one), one == ring.fingerprint(b'{"name": "..."}')
        (64, True)

        Raises:
            ValidationError: ``data`` is not bytes.

        .. versionadded:: 0.2.0
        """
        message = _FINGERPRINT + _bytes(data, "data")
        return std_hmac.digest(self._active._subkeys.digest, message, "sha256").hex()

    @staticmethod
    def _message(value: str, purpose: str) -> bytes:
        given: object = value
        if not isinstance(given, str):
            raise ValidationError(
                f"the value to digest must be a str, not {type(given).__name__} (decode bytes "
                f"first, and normalise the value as lookups will)"
            )
        return _purpose(purpose) + b"\0" + given.encode("utf-8", "surrogatepass")

    def __repr__(self) -> str:
        def shown(key: Key) -> str:
            return f"{key.id!r} {key.algorithm.value}"

        older = [shown(self._keys[i]) for i in self._ids[1:]]
        return f"<KeyRing active={shown(self._active)}" + (
            f"; older: {', '.join(older)}>" if older else ">"
        )
