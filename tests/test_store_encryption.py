"""Encryption at rest: SM4/AES-GCM tokens bound to their row, keyed digests, rotation, no leaks."""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Iterator

import pytest
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes, hmac
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from hypothesis import given, settings
from hypothesis import strategies as st

from govpost.errors import GovpostError, StoreError, ValidationError
from govpost.store.encryption import Algorithm, Key, KeyRing

SM4_HEX = "8a1b2c3d4e5f60718293a4b5c6d7e8f9"
SM4_OTHER_HEX = "0f1e2d3c4b5a69788796a5b4c3d2e1f0"
AES_HEX = "5c0ffee15bad5eed" * 4
SECRETS = (SM4_HEX, SM4_OTHER_HEX, AES_HEX)

K1 = Key.from_hex("k1", SM4_HEX)
K1_OTHER = Key.from_hex("k1", SM4_OTHER_HEX)
K2 = Key.from_hex("k2", SM4_OTHER_HEX)
AES = Key.from_hex("a1", AES_HEX, Algorithm.AES_256_GCM)
CONTEXT = b"recipients/42/mobile"

keys = st.sampled_from([K1, K2, AES])
contexts = st.binary(max_size=80)
plaintexts = st.binary(max_size=300)


def leaks(text: str) -> list[str]:
    """The secrets (hex in either case, bytes repr, either half of the hex) found in ``text``."""
    found = []
    for secret in SECRETS:
        raw = bytes.fromhex(secret)
        half = len(secret) // 2
        for form in (secret, secret.upper(), repr(raw), secret[:half], secret[half:]):
            if form.lower() in text.lower():
                found.append(form)
    return found


def chain(exc: BaseException) -> str:
    """The messages of ``exc`` and of every exception it was raised from or during."""
    texts: list[str] = []
    current: BaseException | None = exc
    while current is not None:
        texts.extend((type(current).__name__, str(current), repr(current)))
        current = current.__cause__ or current.__context__
    return "\n".join(texts)


def error_of(call: Callable[[], object]) -> GovpostError:
    with pytest.raises(GovpostError) as info:
        call()
    assert [] == leaks(chain(info.value))
    return info.value


# --- the cipher and the token ---------------------------------------------------------------


def test_backend_sm4_matches_gbt_32907_test_vector() -> None:
    """The raw SM4 block cipher of the backend gives the standard's example ciphertext."""
    key = bytes.fromhex("0123456789abcdeffedcba9876543210")
    encryptor = Cipher(algorithms.SM4(key), modes.ECB()).encryptor()
    assert (
        "681edf34d206965e86b3e94f536e4246" == (encryptor.update(key) + encryptor.finalize()).hex()
    )


def hkdf(secret: bytes, algorithm: hashes.HashAlgorithm, info: bytes, length: int) -> bytes:
    return HKDF(algorithm=algorithm, length=length, salt=None, info=info).derive(secret)


@pytest.mark.parametrize(
    ("key", "hash_algorithm", "block"),
    [(K1, hashes.SM3(), algorithms.SM4), (AES, hashes.SHA256(), algorithms.AES)],
    ids=["sm4", "aes"],
)
def test_token_decrypts_by_the_documented_format(
    key: Key, hash_algorithm: hashes.HashAlgorithm, block: type[algorithms.SM4 | algorithms.AES]
) -> None:
    """A token, read as the module documents it, decrypts with the raw cipher of its algorithm
    under the HKDF encryption subkey: SM4 is really what encrypts sm4-gcm values."""
    token = KeyRing(key).encrypt(b"13985212345", context=CONTEXT)
    id_bytes = key.id.encode()
    header = b"GP1" + bytes([len(id_bytes)]) + id_bytes
    assert header == token[: len(header)]
    assert len(header) + 12 + 11 + 16 == len(token)
    nonce, body, tag = (
        token[len(header) : len(header) + 12],
        token[len(header) + 12 : -16],
        token[-16:],
    )
    subkey = hkdf(key.secret, hash_algorithm, b"govpost store v1 encryption", len(key.secret))
    decryptor = Cipher(block(subkey), modes.GCM(nonce, tag)).decryptor()
    decryptor.authenticate_additional_data(header + CONTEXT)
    assert b"13985212345" == decryptor.update(body) + decryptor.finalize()


def test_the_secret_itself_does_not_encrypt() -> None:
    """Values are encrypted with a derived subkey, not with the raw secret."""
    token = KeyRing(K1).encrypt(b"x", context=CONTEXT)
    nonce, body, tag = token[7:19], token[19:-16], token[-16:]
    decryptor = Cipher(algorithms.SM4(K1.secret), modes.GCM(nonce, tag)).decryptor()
    decryptor.authenticate_additional_data(token[:7] + CONTEXT)
    decryptor.update(body)
    with pytest.raises(InvalidTag):
        decryptor.finalize()


@settings(max_examples=150)
@given(key=keys, plaintext=plaintexts, context=contexts)
def test_round_trip(key: Key, plaintext: bytes, context: bytes) -> None:
    """What is encrypted under a context decrypts under the same context to the same bytes; the
    token names the key and is 32 + len(id) bytes longer than the plaintext."""
    ring = KeyRing(key)
    token = ring.encrypt(plaintext, context=context)
    assert plaintext == ring.decrypt(token, context=context)
    assert key.id == ring.key_id_of(token)
    assert len(plaintext) + 32 + len(key.id) == len(token)


def test_same_value_encrypts_differently_each_time() -> None:
    ring = KeyRing(K1)
    assert ring.encrypt(b"same", context=CONTEXT) != ring.encrypt(b"same", context=CONTEXT)


@settings(max_examples=60)
@given(key=keys, plaintext=plaintexts, context=contexts, other=contexts)
def test_token_moved_to_another_context_fails(
    key: Key, plaintext: bytes, context: bytes, other: bytes
) -> None:
    """A value copied into another row (another context) does not decrypt there."""
    if other == context:
        other = context + b"/"
    ring = KeyRing(key)
    token = ring.encrypt(plaintext, context=context)
    with pytest.raises(StoreError, match=f"does not decrypt with key '{key.id}'.*another row"):
        ring.decrypt(token, context=other)


@pytest.mark.parametrize("key", [K1, AES], ids=["sm4", "aes"])
def test_tampering_any_byte_fails(key: Key) -> None:
    """Changing any single byte of a token, header included, makes it fail with StoreError."""
    ring = KeyRing(key)
    token = ring.encrypt(b"\xe6\xac\xa7\xe9\x98\xb3\xe5\xa8\x9c", context=CONTEXT)
    for index in range(len(token)):
        for flip in (0x01, 0x80):
            tampered = bytearray(token)
            tampered[index] ^= flip
            with pytest.raises(StoreError):
                ring.decrypt(bytes(tampered), context=CONTEXT)


def test_truncated_and_extended_tokens_fail() -> None:
    ring = KeyRing(K1)
    token = ring.encrypt(b"abc", context=CONTEXT)
    for end in range(len(token)):
        with pytest.raises(StoreError):
            ring.decrypt(token[:end], context=CONTEXT)
    with pytest.raises(StoreError, match="does not decrypt"):
        ring.decrypt(token + b"\0", context=CONTEXT)


def test_wrong_key_under_the_same_id_fails_naming_the_id() -> None:
    token = KeyRing(K1).encrypt(b"13985212345", context=CONTEXT)
    error = error_of(lambda: KeyRing(K1_OTHER).decrypt(token, context=CONTEXT))
    assert isinstance(error, StoreError)
    assert str(error) == (
        "a value does not decrypt with key 'k1': the key under this id is not the one the data "
        "was written with (compare check values), or the value was altered or moved to another "
        "row"
    )
    assert "13985212345" not in chain(error)


def test_unknown_key_id_fails_naming_it_and_the_fix() -> None:
    token = KeyRing(K2).encrypt(b"x", context=CONTEXT)
    error = error_of(lambda: KeyRing(K1).decrypt(token, context=CONTEXT))
    assert isinstance(error, StoreError)
    assert str(error) == (
        "data was encrypted with key 'k2', which is not in the key ring (it holds 'k1'): pass it "
        "as an older key: KeyRing(active, Key.from_hex('k2', ...))"
    )


@pytest.mark.parametrize(
    ("token", "message"),
    [
        (b"", "not a govpost ciphertext: it does not start with b'GP1'"),
        (b"13985212345", "not a govpost ciphertext: it does not start with b'GP1'"),
        (b"GP1\x02k1", "not a govpost ciphertext: it has 6 bytes, fewer than the 33"),
        (b"GP1\x00" + bytes(40), "not a govpost ciphertext: its key id is malformed"),
        (b"GP1\x21" + b"k" * 33 + bytes(28), "not a govpost ciphertext: its key id is malformed"),
        (b"GP1\x02k\xff" + bytes(28), "not a govpost ciphertext: its key id is malformed"),
        (b"GP1\x02k" + bytes(28), "not a govpost ciphertext: its key id is malformed"),
        (b"GP1\x05k1abc" + bytes(24), "not a govpost ciphertext: it has 33 bytes, too few for its"),
        (b"GP2\x02k1" + bytes(28), "govpost ciphertext format '2'.*upgrade govpost"),
    ],
)
def test_not_a_token(token: bytes, message: str) -> None:
    ring = KeyRing(K1)
    with pytest.raises(StoreError, match=message):
        ring.decrypt(token, context=CONTEXT)
    with pytest.raises(StoreError, match=message):
        ring.key_id_of(token)


def test_tokens_from_database_drivers_are_accepted_as_bytes_like() -> None:
    ring = KeyRing(K1)
    token = ring.encrypt(bytearray(b"abc"), context=memoryview(CONTEXT))  # type: ignore[arg-type]
    assert b"abc" == ring.decrypt(memoryview(token), context=CONTEXT)  # type: ignore[arg-type]
    assert b"abc" == ring.decrypt(bytearray(token), context=bytearray(CONTEXT))  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (
            lambda r: r.encrypt("13985212345", context=CONTEXT),
            "plaintext must be bytes, not str: encode",
        ),
        (lambda r: r.encrypt(b"x", context="row 1"), "context must be bytes, not str"),
        (lambda r: r.decrypt(None, context=CONTEXT), "token must be bytes, not NoneType"),
        (lambda r: r.key_id_of(12), "token must be bytes, not int"),
        (
            lambda r: r.digest(b"13985212345", purpose="m"),
            "value to digest must be a str, not bytes",
        ),
        (lambda r: r.digest("x", purpose=""), "digest purpose '' must be a non-empty str"),
        (lambda r: r.digest("x", purpose="a\0b"), "digest purpose 'a\\x00b' must be"),
        (lambda r: r.digests("x", purpose=None), "digest purpose NoneType must be"),
        (lambda r: r.get(1), "a key id must be a str, not int"),
    ],
)
def test_bad_arguments_raise_validation_error(
    call: Callable[[KeyRing], object], message: str
) -> None:
    error = error_of(lambda: call(KeyRing(K1)))
    assert isinstance(error, ValidationError)
    assert message in str(error)
    assert "13985212345" not in str(error)


# --- rotation ---------------------------------------------------------------------------------


def test_rotation_reads_old_tokens_and_writes_with_the_new_key() -> None:
    old_ring = KeyRing(K1)
    old_token = old_ring.encrypt(b"old", context=CONTEXT)
    rotated = KeyRing(K2, K1)
    assert b"old" == rotated.decrypt(old_token, context=CONTEXT)
    new_token = rotated.encrypt(b"new", context=CONTEXT)
    assert ("k1", "k2") == (rotated.key_id_of(old_token), rotated.key_id_of(new_token))
    assert b"new" == rotated.decrypt(new_token, context=CONTEXT)
    with pytest.raises(StoreError, match="key 'k2', which is not in the key ring"):
        old_ring.decrypt(new_token, context=CONTEXT)


def test_key_ring_basics() -> None:
    ring = KeyRing(K2, K1, AES)
    assert (K2, ("k2", "k1", "a1")) == (ring.active, ring.ids)
    assert AES == ring.get("a1")
    assert "<KeyRing active='k2' sm4-gcm; older: 'k1' sm4-gcm, 'a1' aes-256-gcm>" == repr(ring)
    assert repr(ring) == str(ring)
    with pytest.raises(AttributeError):
        ring.active = K1  # type: ignore[misc]


def test_key_ring_refuses_duplicate_ids_and_non_keys() -> None:
    error = error_of(lambda: KeyRing(K1, K1_OTHER))
    assert isinstance(error, ValidationError)
    assert str(error).startswith("key id 'k1' is given twice (argument 2): give each key its own")
    error = error_of(lambda: KeyRing(SM4_HEX))  # type: ignore[arg-type]
    assert isinstance(error, ValidationError)
    assert str(error).startswith("KeyRing takes Key objects, not str (argument 1)")


def test_one_ring_is_shared_by_threads() -> None:
    """Many threads encrypting and decrypting with one ring all get their own values back."""
    ring = KeyRing(K2, K1)
    failures: list[BaseException] = []

    def work(n: int) -> None:
        try:
            for i in range(200):
                value, context = f"{n}-{i}".encode(), f"t/{n}/{i}".encode()
                assert value == ring.decrypt(ring.encrypt(value, context=context), context=context)
        except BaseException as exc:
            failures.append(exc)

    threads = [threading.Thread(target=work, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert [] == failures


# --- digests ----------------------------------------------------------------------------------


def test_digest_is_hmac_under_the_digest_subkey() -> None:
    """The digest is the documented HMAC-SM3 over purpose, NUL and value, under an HKDF subkey
    that is not the encryption subkey."""
    digest_key = hkdf(K1.secret, hashes.SM3(), b"govpost store v1 digest", 32)
    mac = hmac.HMAC(digest_key, hashes.SM3())
    mac.update("recipient.name\0欧阳娜娜".encode())
    expected = "k1:" + mac.finalize().hex()
    assert expected == KeyRing(K1).digest("欧阳娜娜", purpose="recipient.name")
    assert digest_key != hkdf(K1.secret, hashes.SM3(), b"govpost store v1 encryption", 16)


def test_aes_digest_is_hmac_sha256() -> None:
    digest_key = hkdf(AES.secret, hashes.SHA256(), b"govpost store v1 digest", 32)
    mac = hmac.HMAC(digest_key, hashes.SHA256())
    mac.update(b"m\x0013985212345")
    assert "a1:" + mac.finalize().hex() == KeyRing(AES).digest("13985212345", purpose="m")


@given(
    value=st.text(max_size=40),
    purpose=st.text(min_size=1, max_size=20).filter(lambda p: "\0" not in p),
)
def test_digest_is_deterministic_and_keyed(value: str, purpose: str) -> None:
    """Same value, purpose and key give the same digest; another key or purpose another."""
    ring = KeyRing(K1)
    one = ring.digest(value, purpose=purpose)
    assert one == ring.digest(value, purpose=purpose)
    assert one.startswith("k1:")
    assert 3 + 64 == len(one)
    same_id_other_secret = KeyRing(K1_OTHER).digest(value, purpose=purpose)
    assert one != same_id_other_secret
    assert one != ring.digest(value, purpose=purpose + "x")
    assert one != ring.digest(value + "x", purpose=purpose)


def test_purpose_and_value_cannot_be_shifted_into_each_other() -> None:
    ring = KeyRing(K1)
    assert ring.digest("bc", purpose="a") != ring.digest("c", purpose="ab")


def test_digests_under_every_key_active_first() -> None:
    ring = KeyRing(K2, K1, AES)
    expected = (
        KeyRing(K2).digest("13985212345", purpose="m"),
        KeyRing(K1).digest("13985212345", purpose="m"),
        KeyRing(AES).digest("13985212345", purpose="m"),
    )
    assert expected == ring.digests("13985212345", purpose="m")
    assert expected[0] == ring.digest("13985212345", purpose="m")
    assert ["k2", "k1", "a1"] == [d.split(":")[0] for d in expected]


# --- keys -------------------------------------------------------------------------------------


def test_key_repr_and_str_hide_the_secret() -> None:
    assert "Key(id='k1', algorithm=sm4-gcm, secret=<hidden>)" == repr(K1)
    assert "Key(id='a1', algorithm=aes-256-gcm, secret=<hidden>)" == str(AES)
    for text in (repr(K1), str(K1), repr(AES), repr(KeyRing(K1, AES)), str(KeyRing(AES))):
        assert [] == leaks(text)


def test_check_value_is_stable_and_differs_per_secret() -> None:
    """The check value depends on the secret only: stable, the same under another id, different
    for another secret, and not a prefix of the secret or of its subkeys."""
    again = Key.from_hex("renamed", SM4_HEX)
    assert K1.check_value() == Key.from_hex("k1", SM4_HEX).check_value() == again.check_value()
    assert K1.check_value() != K1_OTHER.check_value()
    assert 16 == len(K1.check_value())
    assert int(K1.check_value(), 16) >= 0
    expected = hkdf(K1.secret, hashes.SM3(), b"govpost store v1 check value", 8).hex()
    assert expected == K1.check_value()
    assert [] == leaks(K1.check_value())


def test_generate_makes_random_keys_of_the_right_size() -> None:
    one, two = Key.generate("g1"), Key.generate("g1")
    assert (Algorithm.SM4_GCM, 16) == (one.algorithm, len(one.secret))
    assert one != two
    aes = Key.generate("g2", Algorithm.AES_256_GCM)
    assert (Algorithm.AES_256_GCM, 32) == (aes.algorithm, len(aes.secret))
    assert b"v" == KeyRing(aes).decrypt(KeyRing(aes).encrypt(b"v", context=b""), context=b"")


def test_keys_compare_by_id_algorithm_and_secret() -> None:
    assert K1 == Key(id="k1", secret=bytes.fromhex(SM4_HEX), algorithm="sm4-gcm")
    assert hash(K1) == hash(Key.from_hex("k1", SM4_HEX.upper()))
    assert K1 != K1_OTHER
    assert K1 != Key.from_hex("k9", SM4_HEX)
    assert K1 != SM4_HEX
    with pytest.raises(AttributeError):
        K1.secret = b"x" * 16  # type: ignore[misc]


def test_algorithm_by_value_or_name_in_any_case() -> None:
    for text in ("aes-256-gcm", "AES-256-GCM", " aes_256_gcm "):
        assert Algorithm.AES_256_GCM == Key.from_hex("a", AES_HEX, text).algorithm


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (
            lambda: Key.from_hex("k1", SM4_HEX[:-2]),
            "key 'k1': an sm4-gcm secret is 16 bytes (32 hex digits), not 15; or make a new one with Key.generate('k1')",
        ),
        (
            lambda: Key.from_hex("k1", AES_HEX),
            "key 'k1': an sm4-gcm secret is 16 bytes (32 hex digits), not 32; 32 bytes is the size of an aes-256-gcm secret: pass algorithm='aes-256-gcm'; or make a new one with Key.generate('k1')",
        ),
        (
            lambda: Key.from_hex("a1", SM4_HEX, "aes-256-gcm"),
            "key 'a1': an aes-256-gcm secret is 32 bytes (64 hex digits), not 16; 16 bytes is the size of an sm4-gcm secret: pass algorithm='sm4-gcm'; or make a new one with Key.generate('a1')",
        ),
        (
            lambda: Key.from_hex("k1", SM4_HEX[:-1] + "g"),
            "key 'k1': the secret is not hexadecimal (32 characters, not all of them 0-9 a-f): write the sm4-gcm secret as 32 hex digits",
        ),
        (
            lambda: Key.from_hex("k1", SM4_HEX[:-1]),
            "key 'k1': the secret is not hexadecimal (31 characters",
        ),
        (
            lambda: Key.from_hex("k1", bytes.fromhex(SM4_HEX)),  # type: ignore[arg-type]
            "key 'k1': the secret must be a str of hex digits, not bytes",
        ),
        (
            lambda: Key(id="k1", secret=SM4_HEX),  # type: ignore[arg-type]
            "key 'k1': the secret must be bytes, not str (for hex digits use Key.from_hex('k1', ...))",
        ),
        (
            lambda: Key.from_hex("k1", SM4_HEX, "des"),
            "key 'k1': unknown algorithm 'des': use 'sm4-gcm' (the default) or 'aes-256-gcm'",
        ),
        (
            lambda: Key.from_hex("k1", "sm4-gcm", SM4_HEX),
            "key 'k1': unknown algorithm of 32 characters: use",
        ),
        (lambda: Key.from_hex("k1", SM4_HEX, 4), "key 'k1': unknown algorithm of type int"),  # type: ignore[arg-type]
        (
            lambda: Key.from_hex("", SM4_HEX),
            "key id '' is not valid: use 1 to 32 ASCII letters, digits, '.', '_' or '-'",
        ),
        (lambda: Key.from_hex("key one", SM4_HEX), "key id 'key one' is not valid"),
        (lambda: Key.from_hex("密钥", SM4_HEX), "key id '密钥' is not valid"),
        (lambda: Key.from_hex(AES_HEX, SM4_HEX), "key id of 64 characters is not valid"),
        (lambda: Key.from_hex(None, SM4_HEX), "a key id must be a str, not NoneType"),  # type: ignore[arg-type]
        (lambda: Key.generate("k/1"), "key id 'k/1' is not valid"),
        (lambda: Key.generate("k1", "sm4"), "key 'k1': unknown algorithm 'sm4'"),
    ],
)
def test_bad_keys_raise_validation_error_without_the_secret(
    make: Callable[[], object], message: str
) -> None:
    error = error_of(make)
    assert isinstance(error, ValidationError)
    assert str(error).startswith(message)


# --- parse and from_env -----------------------------------------------------------------------


def test_parse() -> None:
    ring = KeyRing.parse(
        f"  k2 = sm4-gcm : {SM4_OTHER_HEX} ,\n k1={SM4_HEX}, a1=aes-256-gcm:{AES_HEX.upper()},"
    )
    assert ("k2", "k1", "a1") == ring.ids
    assert (K2, K1, AES) == (ring.get("k2"), ring.get("k1"), ring.get("a1"))


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "no keys given: write at least one, the active key first, as in 'k2=sm4-gcm:<32 hex"),
        (" , ", "no keys given"),
        (SM4_HEX, "key entry 1 has no '=': write each key as id=algorithm:hex"),
        (f"k1=sm4-gcm:{SM4_HEX},{SM4_OTHER_HEX}", "key entry 2 has no '='"),
        (
            f"k1=sm4-gcm:{SM4_HEX[2:]}",
            "key 'k1': an sm4-gcm secret is 16 bytes (32 hex digits), not 15",
        ),
        (f"k1=sm4-gcm:{SM4_HEX[3:]}", "key 'k1': the secret is not hexadecimal (29 characters"),
        (
            f"k1={AES_HEX}",
            "key 'k1': an sm4-gcm secret is 16 bytes (32 hex digits), not 32; 32 bytes",
        ),
        (f"k1=aes:{AES_HEX}", "key 'k1': unknown algorithm 'aes'"),
        (f"k1={SM4_HEX}:sm4-gcm", "key 'k1': unknown algorithm of 32 characters"),
        (f"k1=sm4-gcm:{SM4_HEX}=", "key 'k1': the secret is not hexadecimal (33 characters"),
        (f"k 1=sm4-gcm:{SM4_HEX}", "key id 'k 1' is not valid"),
        (f"=sm4-gcm:{SM4_HEX}", "key id '' is not valid"),
        (f"k1={SM4_HEX},k1={SM4_OTHER_HEX}", "key id 'k1' is given twice (argument 2)"),
        (b"k1=00", "KeyRing.parse takes a str such as 'k2=sm4-gcm:<32 hex digits>,"),
    ],
)
def test_parse_errors_name_the_entry_never_the_secret(text: str, message: str) -> None:
    error = error_of(lambda: KeyRing.parse(text))
    assert isinstance(error, ValidationError)
    assert str(error).startswith(message)


@pytest.fixture
def environment() -> Iterator[str]:
    name = "GOVPOST_TEST_STORE_KEYS"
    yield name
    os.environ.pop(name, None)


def test_from_env(environment: str) -> None:
    os.environ[environment] = f"k2=sm4-gcm:{SM4_OTHER_HEX},k1={SM4_HEX}"
    assert ("k2", "k1") == KeyRing.from_env(environment).ids


def test_from_env_defaults_to_govpost_store_keys(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GOVPOST_STORE_KEYS", f"k1={SM4_HEX}")
    assert K1 == KeyRing.from_env().active
    monkeypatch.delenv("GOVPOST_STORE_KEYS")
    with pytest.raises(StoreError, match="environment variable GOVPOST_STORE_KEYS is not set"):
        KeyRing.from_env()


def test_from_env_errors(environment: str) -> None:
    error = error_of(lambda: KeyRing.from_env(environment))
    assert isinstance(error, StoreError)
    assert str(error).startswith(
        f"environment variable {environment} is not set: set it to the store's keys, the active "
        f"key first, as in 'k1=sm4-gcm:<32 hex digits>'; make a secret with python -c"
    )
    os.environ[environment] = f"k1=sm4-gcm:{SM4_HEX[:-4]}"
    error = error_of(lambda: KeyRing.from_env(environment))
    assert isinstance(error, ValidationError)
    assert str(error).startswith(
        f"environment variable {environment}: key 'k1': an sm4-gcm secret is 16 bytes"
    )
    error = error_of(lambda: KeyRing.from_env(""))
    assert isinstance(error, ValidationError)


def test_no_cryptography_exception_escapes_decrypt() -> None:
    """Junk of every shape given to decrypt raises StoreError (never a cryptography error)."""

    @settings(max_examples=300)
    @given(
        st.one_of(st.binary(max_size=80), st.binary(max_size=60).map(lambda b: b"GP1\x02k1" + b))
    )
    def junk(token: bytes) -> None:
        with pytest.raises(StoreError) as info:
            KeyRing(K1).decrypt(token, context=CONTEXT)
        assert [] == leaks(chain(info.value))

    junk()
