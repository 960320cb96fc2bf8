"""Identifiers: tracking numbers, resident ID numbers, USCC, mobile numbers, and masking.

Each identifier has the same verbs: ``validate_*`` returns the normalised (compact) form or raises
a :class:`~govpost.errors.ValidationError` that says what is wrong; ``is_valid_*`` never raises and
answers ``True`` or ``False``, for anything, even ``None``. Input is normalised the same way
everywhere: Unicode NFKC (full-width ``１２３`` becomes ``123``), separators removed, upper case.

Tracking numbers (UPU S10)
--------------------------
An international postal item number has 13 characters: a 2-letter service indicator (``EA`` … for
EMS, ``RR`` for registered letters, ``CP`` for parcels), an 8-digit serial number, a check digit
and the ISO 3166 code of the issuing country. The check digit weighs the serial by 8, 6, 4, 2, 3,
5, 9, 7; ``C = 11 - (S mod 11)``, with 10 written as 0 and 11 as 5. The worked example of the
UPU standard::

    >>> s10_check_digit("47312482")
    9
    >>> tn = TrackingNumber.parse("rr 473 124 829 gb")
    >>> str(tn), tn.service, tn.serial, tn.check_digit, tn.country
    ('RR473124829GB', 'RR', '47312482', 9, 'GB')
    >>> TrackingNumber.parse("RR473124828GB")
    Traceback (most recent call last):
    ...
    govpost.errors.InvalidTrackingNumberError: tracking number 'RR473124828GB' has check digit 8,
    but its serial 47312482 gives 9: check for a mistyped digit
    >>> is_valid_tracking_number("RR473124829GB"), is_valid_tracking_number(None)
    (True, False)

The check digit catches every single mistyped digit except one blind spot of the S10 rule itself:
weighted sums of remainder 0 and 6 both give check digit 5, so ``EE000000005CN`` and
``EE900000005CN`` are both valid.

Domestic EMS waybill numbers are 13 digits. No public specification describes their check digit;
govpost applies the S10 weights to digits 3–10 against digit 11 and, when they disagree, only
emits a :class:`DomesticCheckDigitWarning` — such a number is never refused. Domestic numbers are
accepted with ``domestic=True`` or by :meth:`TrackingNumber.parse_any`::

    >>> TrackingNumber.parse_any("1012345678501").is_domestic
    True

Resident identity numbers (GB 11643-1999)
-----------------------------------------
18 characters: the 6-digit GB/T 2260 region code of first registration, the birth date
``YYYYMMDD``, a 3-digit sequence number (odd for men, even for women) and an ISO 7064 MOD 11-2
check character (``0``–``9`` or ``X``). :func:`validate_id_number` checks the check character,
that the birth date is a real date between 1900 and today, and that the region code exists in the
GB/T 2260 table *at any time in its history* — not that it existed in the birth year: people
registered after their region was created (观山湖区 520115 dates from 2012) legitimately hold such
numbers::

    >>> validate_id_number("11010519491231002x")
    '11010519491231002X'
    >>> validate_id_number("520115197001010010")
    '520115197001010010'
    >>> is_valid_id_number("520115197001010011")
    False

An ID number is personal data: error messages show it masked, never whole::

    >>> validate_id_number("520102199003071237")
    Traceback (most recent call last):
    ...
    govpost.errors.ValidationError: ID number 520102********1237 has a wrong check character:
    the last character does not match the first 17 digits (GB 11643, ISO 7064 MOD 11-2); check
    that it was copied correctly

Unified social credit codes (GB 32100-2015)
-------------------------------------------
The 18-character code of every organisation (统一社会信用代码), checked with python-stdnum::

    >>> validate_uscc("91110000600037341L")
    '91110000600037341L'
    >>> is_valid_uscc("91110000600037341A")
    False

Mobile numbers
--------------
Mainland China mobile numbers, written in any usual way, normalised to the 11-digit national
number (validated with the ``phonenumbers`` metadata)::

    >>> validate_mobile("+86 138-0013-8000")
    '13800138000'
    >>> is_valid_mobile("+852 9123 4567")
    False

Masking (PIPL)
--------------
For display and logs, personal data is masked by the industry convention. Every mask keeps the
length, is idempotent, accepts any ``str`` and never reveals more than the convention, whatever
the shape of its input::

    >>> mask_mobile("13800138000"), mask_id_number("520102199003071236")
    ('138****8000', '520102********1236')
    >>> mask_name("张三"), mask_name("欧阳娜娜"), mask_address("贵州省贵阳市观山湖区长岭北路")
    ('张*', '欧阳**', '贵州省贵阳市********')

.. versionadded:: 0.1.0
"""

from __future__ import annotations

import datetime
import functools
import re
import string
import unicodedata
import warnings
from typing import Self

import attrs

from govpost._limits import ascii_digits
from govpost.errors import InvalidTrackingNumberError, ValidationError

# A bad tracking number or USCC is shown as a code: scrubbed, non-ASCII characters as ``*``.
from govpost.errors import _short_code as _short

__all__ = [
    "COMPOUND_SURNAMES",
    "DomesticCheckDigitWarning",
    "TrackingNumber",
    "is_valid_id_number",
    "is_valid_mobile",
    "is_valid_tracking_number",
    "is_valid_uscc",
    "mask_address",
    "mask_id_number",
    "mask_mobile",
    "mask_name",
    "s10_check_digit",
    "validate_id_number",
    "validate_mobile",
    "validate_uscc",
]

# Longer input is refused before any normalisation: no identifier here is written with more
# than a few dozen characters, and messages must not echo megabytes.
_MAX_INPUT = 64

_S10_WEIGHTS = (8, 6, 4, 2, 3, 5, 9, 7)
_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_DIGITS = frozenset(string.digits)
# A compact S10 number, the shape nearly every number arrives in, skips normalisation.
_COMPACT_S10 = re.compile(r"[A-Z]{2}[0-9]{9}[A-Z]{2}")
# Numbers already checked: a shipment's events repeat its waybill, and a month repeats many.
# Bounded: cleared when full, so memory stays flat on any stream of numbers.
_VALID_S10: dict[str, None] = {}
_VALID_S10_SIZE = 65_536
_LETTERS = frozenset(string.ascii_uppercase)

# Spaces and the dashes people and spreadsheets put between groups of characters.
_SEPARATORS = re.compile(r"[\s\-\u2010-\u2015\u2212]+")
_MOBILE_SEPARATORS = re.compile(r"[\s\-\u2010-\u2015\u2212().]+")
_MOBILE_SHAPE = re.compile(r"\+?[0-9]+")


def _is_digits(text: str) -> bool:
    return ascii_digits(text)


def _is_letters(text: str) -> bool:
    return bool(text) and all(c in _LETTERS for c in text)


# --- tracking numbers ---------------------------------------------------------------------------


class DomesticCheckDigitWarning(UserWarning):
    """A domestic EMS number whose last-but-two digit is not the S10-style check digit.

    No public specification confirms the rule for domestic numbers, so the number is accepted
    and this warning only asks for a second look at a number typed by hand.

    .. versionadded:: 0.1.0
    """


def s10_check_digit(serial: str) -> int:
    """The UPU S10 check digit of an 8-digit serial number.

    The digits are weighted 8, 6, 4, 2, 3, 5, 9, 7; ``C = 11 - (S mod 11)``, where 10 becomes 0
    and 11 becomes 5.

    Args:
        serial: exactly 8 ASCII digits.

    Raises:
        InvalidTrackingNumberError: ``serial`` is not a str of 8 ASCII digits.

    >>> s10_check_digit("12345678")
    5
    >>> s10_check_digit("1234567")
    Traceback (most recent call last):
    ...
    govpost.errors.InvalidTrackingNumberError: S10 serial '1234567' must be exactly 8 digits,
    such as '47312482'

    .. versionadded:: 0.1.0
    """
    if not isinstance(serial, str) or len(serial) != 8 or not _is_digits(serial):
        raise InvalidTrackingNumberError(
            f"S10 serial {_short(serial)} must be exactly 8 digits, such as '47312482'"
        )
    check = 11 - sum(w * int(d) for w, d in zip(_S10_WEIGHTS, serial, strict=True)) % 11
    return {10: 0, 11: 5}.get(check, check)


def _compact_tracking(text: str) -> str:
    """Normalise: NFKC, no spaces or dashes, upper case. Refuses non-str and huge input."""
    given: object = text  # untyped callers (and is_valid_tracking_number) pass anything
    if not isinstance(given, str):
        raise InvalidTrackingNumberError(
            f"tracking number {_short(given)} of type {type(given).__name__} is not text: "
            f"pass a str such as 'EA123456785CN'"
        )
    if len(text) > _MAX_INPUT:
        raise InvalidTrackingNumberError(
            f"tracking number {_short(text)} has {len(text)} characters: a tracking number has "
            f"13, such as 'EA123456785CN'"
        )
    if _COMPACT_S10.fullmatch(text):
        return text  # already compact: what carriers and the wire format send
    return _SEPARATORS.sub("", unicodedata.normalize("NFKC", text)).upper()


def _check_tracking(instance: object, attribute: object, value: str) -> None:
    """Refuse any value that is neither a valid S10 number nor a 13-digit domestic number."""
    if value in _VALID_S10:
        return
    shape = "2 letters, 8 digits, a check digit and a 2-letter country code, like 'RR473124829GB'"
    if len(value) != 13:
        raise InvalidTrackingNumberError(
            f"tracking number {_short(value)} has {len(value)} characters without spaces; "
            f"a UPU S10 number has 13: {shape}"
        )
    if _is_digits(value):
        return  # domestic: its check digit is advisory only (see TrackingNumber.parse)
    if not _is_letters(value[:2]):
        raise InvalidTrackingNumberError(
            f"tracking number {_short(value)} starts with {_short(value[:2])}; a UPU S10 number "
            f"starts with 2 letters, the service indicator (such as 'EA'): {shape}"
        )
    if not _is_digits(value[2:11]):
        raise InvalidTrackingNumberError(
            f"tracking number {_short(value)} has {_short(value[2:11])} where a UPU S10 number "
            f"has 9 digits (8 serial digits and the check digit): {shape}"
        )
    if not _is_letters(value[11:]):
        raise InvalidTrackingNumberError(
            f"tracking number {_short(value)} ends with {_short(value[11:])}; a UPU S10 number "
            f"ends with the 2-letter code of the issuing country (such as 'CN'): {shape}"
        )
    expected = s10_check_digit(value[2:10])
    if int(value[10]) != expected:
        raise InvalidTrackingNumberError(
            f"tracking number {_short(value)} has check digit {value[10]}, but its serial "
            f"{value[2:10]} gives {expected}: check for a mistyped digit"
        )
    if len(_VALID_S10) >= _VALID_S10_SIZE:
        _VALID_S10.clear()
    _VALID_S10[value] = None


@attrs.frozen(kw_only=True, order=True)
class TrackingNumber:
    """A postal item number: a valid UPU S10 number or a 13-digit domestic EMS number.

    Build it with :meth:`parse` (or :meth:`parse_any`). The constructor normalises too and
    refuses anything invalid, so a ``TrackingNumber`` always holds a valid value; it does not
    warn about a domestic check digit (warnings are about input text, which ``parse`` reads).
    Instances are hashable and ordered by their compact string.

    Args:
        value: the number; spaces, dashes, case and full-width characters are normalised.

    Raises:
        InvalidTrackingNumberError: the value is not a valid S10 or domestic number.

    >>> TrackingNumber(value="EA 123 456 785 CN")
    TrackingNumber(value='EA123456785CN')
    >>> sorted({TrackingNumber.parse("RR473124829GB"), TrackingNumber.parse("EA123456785CN")})
    [TrackingNumber(value='EA123456785CN'), TrackingNumber(value='RR473124829GB')]

    .. versionadded:: 0.1.0
    """

    value: str = attrs.field(converter=_compact_tracking, validator=_check_tracking)

    @classmethod
    def parse(cls, text: str, *, domestic: bool = False) -> Self:
        """Read a tracking number as people write it.

        Args:
            text: the number; spaces, dashes, case and full-width characters are normalised.
            domestic: also accept 13-digit domestic EMS numbers. Their S10-style check digit is
                not a published rule: a mismatch emits :class:`DomesticCheckDigitWarning` and
                the number is still accepted.

        Raises:
            InvalidTrackingNumberError: not a valid UPU S10 number (nor, with ``domestic=True``,
                a 13-digit domestic number); the message says what is wrong.

        >>> TrackingNumber.parse("ＥＡ１２３４５６７８５ＣＮ")
        TrackingNumber(value='EA123456785CN')
        >>> TrackingNumber.parse("1012345678501")
        Traceback (most recent call last):
        ...
        govpost.errors.InvalidTrackingNumberError: tracking number '1012345678501' is a 13-digit
        domestic EMS number, not UPU S10: pass domestic=True (or use TrackingNumber.parse_any) to
        accept it
        >>> TrackingNumber.parse("1012345678501", domestic=True).serial
        '12345678'

        .. versionadded:: 0.1.0
        """
        number = cls._read(text, domestic=domestic)
        mismatch = number._domestic_mismatch()
        if mismatch is not None:
            warnings.warn(mismatch, DomesticCheckDigitWarning, stacklevel=2)
        return number

    @classmethod
    def parse_any(cls, text: str) -> Self:
        """Read a UPU S10 or a domestic EMS number: ``parse(text, domestic=True)``.

        This is what the wire format and carrier adapters use, since both kinds reach them.

        Raises:
            InvalidTrackingNumberError: neither a valid S10 nor a 13-digit domestic number.

        >>> TrackingNumber.parse_any("rr473124829gb")
        TrackingNumber(value='RR473124829GB')
        >>> TrackingNumber.parse_any("10 12345678 5 01")
        TrackingNumber(value='1012345678501')

        .. versionadded:: 0.1.0
        """
        number = cls._read(text, domestic=True)
        mismatch = number._domestic_mismatch()
        if mismatch is not None:
            warnings.warn(mismatch, DomesticCheckDigitWarning, stacklevel=2)
        return number

    @classmethod
    def _read(cls, text: str, *, domestic: bool) -> Self:
        number = cls(value=text)
        if number.is_domestic and not domestic:
            raise InvalidTrackingNumberError(
                f"tracking number {_short(number.value)} is a 13-digit domestic EMS number, not UPU "
                f"S10: pass domestic=True (or use TrackingNumber.parse_any) to accept it"
            )
        return number

    def _domestic_mismatch(self) -> str | None:
        """The warning text when a domestic number's S10-style check digit disagrees."""
        if not self.is_domestic:
            return None
        expected = s10_check_digit(self.serial)
        if expected == self.check_digit:
            return None
        return (
            f"domestic EMS number {self.value!r}: the S10 weights over digits 3-10 give check "
            f"digit {expected}, not {self.check_digit}; accepted, since no public specification "
            f"confirms the rule for domestic numbers — check the number if it was typed by hand"
        )

    @property
    def is_domestic(self) -> bool:
        """Whether this is a 13-digit domestic EMS number rather than a UPU S10 number."""
        # The value was validated: it is ASCII, so isdigit() means 0-9 here.
        return self.value[0].isdigit()

    @property
    def service(self) -> str:
        """The service indicator (``'EA'``), or a domestic number's first two digits."""
        return self.value[:2]

    @property
    def serial(self) -> str:
        """The 8-digit serial number (characters 3–10)."""
        return self.value[2:10]

    @property
    def check_digit(self) -> int:
        """The check digit as written (character 11)."""
        return int(self.value[10])

    @property
    def country(self) -> str | None:
        """The ISO 3166 code of the issuing country; ``None`` for a domestic number.

        >>> TrackingNumber.parse("EA123456785CN").country
        'CN'
        """
        return None if self.is_domestic else self.value[11:]

    def __str__(self) -> str:
        return self.value


def is_valid_tracking_number(text: object, *, domestic: bool = False) -> bool:
    """Whether ``text`` is a valid tracking number; never raises, never warns.

    Args:
        text: anything; only a str can be valid.
        domestic: also accept 13-digit domestic EMS numbers, whatever their check digit (it is
            advisory only, see :meth:`TrackingNumber.parse`).

    >>> is_valid_tracking_number("EA123456785CN"), is_valid_tracking_number("EA123456784CN")
    (True, False)
    >>> is_valid_tracking_number("1012345678001")
    False
    >>> is_valid_tracking_number("1012345678001", domestic=True)
    True

    .. versionadded:: 0.1.0
    """
    if not isinstance(text, str):
        return False
    try:
        TrackingNumber._read(text, domestic=domestic)
    except InvalidTrackingNumberError:
        return False
    return True


# --- resident identity numbers ------------------------------------------------------------------


def _first_misfit(number: str) -> int:
    """The 1-based position of the first character of ``number`` that breaks the ID shape."""
    return next(
        i for i, c in enumerate(number, 1) if c not in _DIGITS and not (i == 18 and c == "X")
    )


def _id_check_character(first17: str) -> str:
    """ISO 7064 MOD 11-2 over 17 ASCII digits, as GB 11643 specifies it."""
    remainder = (12 - sum(w * int(d) for w, d in zip(_ID_WEIGHTS, first17, strict=True)) % 11) % 11
    return "X" if remainder == 10 else str(remainder)


def validate_id_number(text: str) -> str:
    """Check a resident identity number (GB 11643-1999) and return its 18-character form.

    The number is normalised (NFKC, spaces removed, ``x`` upper-cased), then checked: 17 digits
    and a check character; the ISO 7064 MOD 11-2 check character; the birth date (characters
    7–14) is a real date, not before 1900 and not after today (Asia/Shanghai); the region code
    (characters 1–6) exists in the GB/T 2260 table at any time, current or abolished.

    Args:
        text: the number.

    Raises:
        ValidationError: the number is not valid. The message shows the number masked (or only
            its length), never whole: it is personal data.

    >>> validate_id_number(" 520102 19900307 1236 ")
    '520102199003071236'
    >>> validate_id_number("520102900307123")
    Traceback (most recent call last):
    ...
    govpost.errors.ValidationError: ID number 520102******123 is a 15-digit first-generation
    number: convert it to the 18-digit form (insert '19' before the 2-digit birth year and append
    the GB 11643 check character), then validate that

    .. versionadded:: 0.1.0
    """
    if not isinstance(text, str):
        raise ValidationError(
            f"ID number of type {type(text).__name__} is not text: pass the number as a str"
        )
    if len(text) > _MAX_INPUT:
        raise ValidationError(
            f"ID number of {len(text)} characters is not a resident ID number: it has 18 "
            f"characters, 17 digits and a check character 0-9 or X"
        )
    number = "".join(unicodedata.normalize("NFKC", text).split()).upper()
    if len(number) == 15 and _is_digits(number):
        raise ValidationError(
            f"ID number {mask_id_number(number)} is a 15-digit first-generation number: convert "
            f"it to the 18-digit form (insert '19' before the 2-digit birth year and append the "
            f"GB 11643 check character), then validate that"
        )
    if len(number) != 18:
        raise ValidationError(
            f"ID number of {len(number)} characters is not a resident ID number: it has 18 "
            f"characters, 17 digits and a check character 0-9 or X"
        )
    if not _is_digits(number[:17]) or number[17] not in "0123456789X":
        # Not the shape of an ID number: the text may be a name or an address, which the mask
        # of an ID number would show in part, so nothing of it is shown.
        raise ValidationError(
            f"ID number of 18 characters has character {_first_misfit(number)} (not counting "
            f"spaces) where a digit belongs: write 17 digits followed by a check character 0-9 "
            f"or X (the value is not shown: it may be personal data)"
        )
    masked = mask_id_number(number)
    if number[17] != _id_check_character(number[:17]):
        raise ValidationError(
            f"ID number {masked} has a wrong check character: the last character does not match "
            f"the first 17 digits (GB 11643, ISO 7064 MOD 11-2); check that it was copied "
            f"correctly"
        )
    _check_birth_date(number, masked)
    _check_region(number, masked)
    return number


def _check_birth_date(number: str, masked: str) -> None:
    # The date itself is not shown: it is the part of the number the mask hides.
    try:
        born = datetime.date(int(number[6:10]), int(number[10:12]), int(number[12:14]))
    except ValueError:
        raise ValidationError(
            f"ID number {masked} has no real calendar date in characters 7-14 (the birth date "
            f"YYYYMMDD); check that it was copied correctly"
        ) from None
    if born.year < 1900:
        raise ValidationError(
            f"ID number {masked} has a birth date before 1900 in characters 7-14; check that it "
            f"was copied correctly"
        )
    from govpost.periods import SHANGHAI  # periods imports this module (through _fields)

    if born > datetime.datetime.now(SHANGHAI).date():
        raise ValidationError(
            f"ID number {masked} has a birth date in the future in characters 7-14; check that "
            f"it was copied correctly"
        )


def _check_region(number: str, masked: str) -> None:
    from govpost.regions import Division  # the region table loads on first use

    try:
        Division.parse(number[:6])
    except ValidationError as exc:
        raise ValidationError(
            f"ID number {masked} has region code {number[:6]}, which is not in the GB/T 2260 "
            f"table at any time (current or abolished); check its first 6 digits"
        ) from exc


def is_valid_id_number(text: object) -> bool:
    """Whether ``text`` is a valid resident identity number; never raises.

    >>> is_valid_id_number("11010519491231002X"), is_valid_id_number("110105194912310021")
    (True, False)

    .. versionadded:: 0.1.0
    """
    if not isinstance(text, str):
        return False
    try:
        validate_id_number(text)
    except ValidationError:
        return False
    return True


# --- unified social credit codes ---------------------------------------------------------------


def validate_uscc(text: str) -> str:
    """Check a unified social credit code (GB 32100-2015) and return its compact form.

    18 characters: 8 digits (registering authority, entity type, region code), then 9 characters
    of the organisation code and a check character, from ``0-9`` and ``A-Z`` without ``I``,
    ``O``, ``Z``, ``S`` and ``V``. Checked by python-stdnum; its errors are translated.

    Args:
        text: the code; spaces, dashes, case and full-width characters are normalised.

    Raises:
        ValidationError: the code is not valid; the message says what is wrong.

    >>> validate_uscc("9111 0000 6000 3734 1l")
    '91110000600037341L'
    >>> validate_uscc("91110000600037341A")
    Traceback (most recent call last):
    ...
    govpost.errors.ValidationError: USCC '91110000600037341A' has check character 'A', but the
    first 17 characters give 'L': check that it was copied correctly

    .. versionadded:: 0.1.0
    """
    from stdnum import exceptions  # imported here: keeps `import govpost` light
    from stdnum.cn import uscc

    if not isinstance(text, str):
        raise ValidationError(
            f"USCC {_short(text)} of type {type(text).__name__} is not text: pass the code as a "
            f"str such as '91110000600037341L'"
        )
    if len(text) > _MAX_INPUT:
        raise ValidationError(
            f"USCC {_short(text)} has {len(text)} characters: a unified social credit code has "
            f"18, such as '91110000600037341L'"
        )
    code = _SEPARATORS.sub("", unicodedata.normalize("NFKC", text)).upper()
    try:
        result: str = uscc.validate(code)
    except exceptions.InvalidLength as exc:
        raise ValidationError(
            f"USCC {_short(code)} has {len(code)} characters: a unified social credit code has 18, "
            f"such as '91110000600037341L'"
        ) from exc
    except exceptions.InvalidFormat as exc:
        raise ValidationError(
            f"USCC {_short(code)} is not 8 digits followed by 10 characters from 0-9 and A-Z "
            f"without I, O, Z, S and V"
        ) from exc
    except exceptions.InvalidChecksum as exc:
        raise ValidationError(
            f"USCC {_short(code)} has check character {code[-1]!r}, but the first 17 characters "
            f"give {uscc.calc_check_digit(code)!r}: check that it was copied correctly"
        ) from exc
    except exceptions.ValidationError as exc:
        raise ValidationError(f"USCC {_short(code)} is not valid: {exc}") from exc
    return result


def is_valid_uscc(text: object) -> bool:
    """Whether ``text`` is a valid unified social credit code; never raises.

    >>> is_valid_uscc("91110000600037341L"), is_valid_uscc(91110000600037341)
    (True, False)

    .. versionadded:: 0.1.0
    """
    if not isinstance(text, str):
        return False
    try:
        validate_uscc(text)
    except ValidationError:
        return False
    return True


# --- mobile numbers -----------------------------------------------------------------------------


@functools.cache
def _mainland_mobile() -> re.Pattern[str]:
    """phonenumbers' pattern of mainland mobile numbers (national form), in ASCII digits.

    The fast path of :func:`validate_mobile` for a number written as its 11 digits: what this
    pattern matches, phonenumbers' full parse accepts as a CN mobile with the same digits (the
    tests compare the two over every 7-digit prefix).
    """
    import phonenumbers

    metadata = phonenumbers.PhoneMetadata.metadata_for_region("CN")
    mobile = None if metadata is None else metadata.mobile
    pattern = None if mobile is None else mobile.national_number_pattern
    if pattern is None:  # pragma: no cover - phonenumbers always ships CN metadata
        return re.compile(r"(?!)")  # matches nothing: every number takes the full parse
    return re.compile(pattern.replace(r"\d", "[0-9]"))


def validate_mobile(text: str) -> str:
    """Check a mainland China mobile number and return its 11-digit national form.

    Accepts the usual ways of writing it: ``+86`` or ``0086`` prefixes, spaces, dashes,
    brackets, full-width digits. Numbers of other regions (Hong Kong, Macao, Taiwan, abroad),
    fixed lines and extensions are refused. Validation uses the ``phonenumbers`` metadata.

    Args:
        text: the number.

    Raises:
        ValidationError: not a mainland mobile number; the message shows the number masked.

    >>> validate_mobile("１３８ ００１３ ８０００")
    '13800138000'
    >>> validate_mobile("010-6552 9988")
    Traceback (most recent call last):
    ...
    govpost.errors.ValidationError: mobile number 010****9988 is not a mainland China mobile
    number: write 11 digits starting with 1, such as '138 0013 8000', optionally with +86

    .. versionadded:: 0.1.0
    """
    import phonenumbers  # large metadata: loaded on first use

    if not isinstance(text, str):
        raise ValidationError(
            f"mobile number of type {type(text).__name__} is not text: pass a str such as "
            f"'138 0013 8000'"
        )
    if len(text) > _MAX_INPUT:
        raise ValidationError(
            f"mobile number of {len(text)} characters is not a mobile number: write 11 digits "
            f"such as '138 0013 8000', optionally with +86"
        )
    if len(text) == 11 and _mainland_mobile().fullmatch(text):
        return text  # 11 ASCII digits in phonenumbers' own mainland mobile pattern
    compact = _MOBILE_SEPARATORS.sub("", unicodedata.normalize("NFKC", text))
    if not _MOBILE_SHAPE.fullmatch(compact):
        # Not even digits: the text may be a name or an address typed into the wrong field,
        # which no mask would hide, so nothing of it is shown.
        raise ValidationError(
            f"mobile number of {len(text)} characters holds something other than digits, "
            f"spaces, dashes, brackets and a leading '+': write 11 digits starting with 1, such "
            f"as '138 0013 8000', optionally with +86 (the value is not shown: it may be "
            f"personal data)"
        )
    refusal = (
        f"mobile number {mask_mobile(compact)} is not a mainland China mobile number: write 11 "
        f"digits starting with 1, such as '138 0013 8000', optionally with +86"
    )
    try:
        parsed = phonenumbers.parse(compact, "CN")
    except phonenumbers.NumberParseException as exc:
        # phonenumbers' message does not contain the number; chaining keeps its reason.
        raise ValidationError(refusal) from exc
    national = phonenumbers.national_significant_number(parsed)
    if (
        parsed.extension
        or phonenumbers.region_code_for_number(parsed) != "CN"
        or not phonenumbers.is_valid_number(parsed)
        or phonenumbers.number_type(parsed)
        not in (
            phonenumbers.PhoneNumberType.MOBILE,
            phonenumbers.PhoneNumberType.FIXED_LINE_OR_MOBILE,
        )
        or len(national) != 11
        or not _is_digits(national)
    ):
        raise ValidationError(refusal)
    return national


def is_valid_mobile(text: object) -> bool:
    """Whether ``text`` is a mainland China mobile number; never raises.

    >>> is_valid_mobile("13800138000"), is_valid_mobile("12345678901")
    (True, False)

    .. versionadded:: 0.1.0
    """
    if not isinstance(text, str):
        return False
    try:
        validate_mobile(text)
    except ValidationError:
        return False
    return True


# --- masking ------------------------------------------------------------------------------------

#: Two-character compound surnames (复姓), kept whole by :func:`mask_name`; simplified and
#: traditional forms.
#:
#: .. versionadded:: 0.1.0
COMPOUND_SURNAMES: tuple[str, ...] = (
    "欧阳", "司马", "诸葛", "上官", "东方", "皇甫", "尉迟", "公孙", "慕容", "长孙",
    "宇文", "司徒", "夏侯", "轩辕", "令狐", "钟离", "端木", "独孤", "南宫", "西门",
    "百里", "呼延", "东郭", "万俟", "闻人", "澹台", "公冶", "太史", "申屠", "赫连",
    "司空", "濮阳", "淳于", "单于", "公羊", "仲孙", "拓跋", "左丘", "第五", "梁丘",
    "谷梁", "宰父", "亓官", "羊舌", "微生", "段干", "巫马", "乐正", "壤驷", "公良",
    "漆雕", "颛孙", "鲜于", "闾丘", "公西", "子车", "东门", "归海", "即墨",
    "歐陽", "司馬", "諸葛", "東方", "尉遲", "公孫", "長孫", "軒轅", "鍾離", "獨孤",
    "南宮", "東郭", "萬俟", "聞人", "濮陽", "淳於", "單于", "仲孫", "穀梁", "樂正",
    "顓孫", "鮮于", "閭丘", "東門",
)  # fmt: skip
_COMPOUND = frozenset(COMPOUND_SURNAMES)


def _require_str(value: object, function: str) -> str:
    if not isinstance(value, str):
        # The value itself is not shown: it is presumably personal data.
        raise ValidationError(f"{function}() takes a str, not {type(value).__name__}")
    return value


def mask_mobile(text: str) -> str:
    """Mask a mobile number for display: the first 3 and last 4 characters stay.

    A string shorter than 11 characters is not a mobile number and is masked entirely.

    Raises:
        ValidationError: ``text`` is not a str.

    >>> mask_mobile("13800138000"), mask_mobile("+8613800138000"), mask_mobile("12345")
    ('138****8000', '+86*******8000', '*****')

    .. versionadded:: 0.1.0
    """
    value = _require_str(text, "mask_mobile")
    if len(value) < 11:
        return "*" * len(value)
    return value[:3] + "*" * (len(value) - 7) + value[-4:]


def mask_id_number(text: str) -> str:
    """Mask a resident identity number: region code and last 4 characters stay.

    18 characters keep the first 6 and the last 4 (the birth date is hidden); a 15-digit
    first-generation number keeps the first 6 and the last 3; anything else is masked entirely.

    Raises:
        ValidationError: ``text`` is not a str.

    >>> mask_id_number("520102199003071236"), mask_id_number("520102900307123")
    ('520102********1236', '520102******123')
    >>> mask_id_number("5201")
    '****'

    .. versionadded:: 0.1.0
    """
    value = _require_str(text, "mask_id_number")
    if len(value) == 18:
        return value[:6] + "*" * 8 + value[-4:]
    if len(value) == 15:
        return value[:6] + "*" * 6 + value[-3:]
    return "*" * len(value)


def mask_name(text: str) -> str:
    """Mask a person's name: the surname stays, every other character becomes ``*``.

    The surname is the first character, or the first two for a compound surname
    (:data:`COMPOUND_SURNAMES`) followed by a given name; a one-character name is masked
    entirely.

    Raises:
        ValidationError: ``text`` is not a str.

    >>> mask_name("张三"), mask_name("张三丰"), mask_name("司马光"), mask_name("李")
    ('张*', '张**', '司马*', '*')

    .. versionadded:: 0.1.0
    """
    value = _require_str(text, "mask_name")
    if len(value) <= 1:
        return "*" * len(value)
    keep = 2 if len(value) > 2 and value[:2] in _COMPOUND else 1
    return value[:keep] + "*" * (len(value) - keep)


def mask_address(text: str) -> str:
    """Mask an address: the first 6 characters (the province and city part) stay.

    Never more than half of the text stays, so a short address is not shown whole.

    Raises:
        ValidationError: ``text`` is not a str.

    >>> mask_address("贵州省贵阳市南明区遵义路1号"), mask_address("观山湖区")
    ('贵州省贵阳市********', '观山**')

    .. versionadded:: 0.1.0
    """
    value = _require_str(text, "mask_address")
    keep = min(6, len(value) // 2)
    return value[:keep] + "*" * (len(value) - keep)
