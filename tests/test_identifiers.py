"""Identifiers: published vectors, bad input, privacy of messages, and the masking invariants."""

from __future__ import annotations

import contextlib
import string
from collections.abc import Callable
from datetime import datetime
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import attrs
import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from govpost import identifiers
from govpost.errors import GovpostError, InvalidTrackingNumberError, ValidationError
from govpost.identifiers import (
    COMPOUND_SURNAMES,
    DomesticCheckDigitWarning,
    TrackingNumber,
    is_valid_id_number,
    is_valid_mobile,
    is_valid_tracking_number,
    is_valid_uscc,
    mask_address,
    mask_id_number,
    mask_mobile,
    mask_name,
    s10_check_digit,
    validate_id_number,
    validate_mobile,
    validate_uscc,
)
from tests.strategies import id_check, id_numbers, mobiles, s10_check, s10_numbers

S10_WEIGHTS = (8, 6, 4, 2, 3, 5, 9, 7)


def full_width(text: str) -> str:
    """The full-width (全角) form of printable ASCII, as Chinese input methods type it."""
    return "".join(chr(ord(c) + 0xFEE0) if "!" <= c <= "~" else c for c in text)


def with_check(first17: str) -> str:
    return first17 + id_check(first17)


def messages(exc: BaseException) -> str:
    """The text of an exception and of everything chained to it."""
    parts: list[str] = []
    current: BaseException | None = exc
    while current is not None:
        parts.append(str(current))
        current = current.__cause__ or current.__context__
    return "\n".join(parts)


# --- UPU S10 check digit ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("serial", "expected"),
    [
        ("47312482", 9),  # the worked example of UPU S10 (RR473124829GB)
        ("12345678", 5),
        ("00000000", 5),  # S mod 11 = 0: C = 11, written 5
        ("00000008", 0),  # S mod 11 = 1: C = 10, written 0
        ("00000003", 1),  # S mod 11 = 10
    ],
)
def test_s10_check_digit_vectors(serial: str, expected: int) -> None:
    assert expected == s10_check_digit(serial)


@pytest.mark.parametrize(
    "serial", ["1234567", "123456789", "1234567a", "１２３４５６７８", "", 12345678]
)
def test_s10_check_digit_refuses_anything_but_8_ascii_digits(serial: Any) -> None:
    with pytest.raises(InvalidTrackingNumberError, match="must be exactly 8 digits") as info:
        s10_check_digit(serial)
    assert repr(serial) in str(info.value)


# --- TrackingNumber: examples ------------------------------------------------------------------


def test_upu_worked_example() -> None:
    tn = TrackingNumber.parse("RR473124829GB")
    assert str(tn) == "RR473124829GB"
    assert (tn.service, tn.serial, tn.check_digit, tn.country) == ("RR", "47312482", 9, "GB")
    assert tn.is_domestic is False
    assert repr(tn) == "TrackingNumber(value='RR473124829GB')"


@pytest.mark.parametrize(
    "text",
    [
        "rr473124829gb",
        " RR 473 124 829 GB ",
        "RR-473124829-GB",
        "ＲＲ４７３１２４８２９ＧＢ",
        "rr\u3000473124829\tgb",
    ],
)
def test_parse_normalises_case_spaces_dashes_and_full_width(text: str) -> None:
    assert TrackingNumber(value="RR473124829GB") == TrackingNumber.parse(text)


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("RR473124828GB", "has check digit 8, but its serial 47312482 gives 9"),
        ("RR47312482GB", "has 12 characters"),
        ("R1473124829GB", "starts with 'R1'"),
        ("RR4731248X9GB", "'4731248X9' where a UPU S10 number has 9 digits"),
        ("RR473124829G1", "ends with 'G1'"),
        ("", "has 0 characters"),
        ("1012345678501", "pass domestic=True"),
    ],
)
def test_parse_says_what_is_wrong(text: str, fragment: str) -> None:
    with pytest.raises(InvalidTrackingNumberError) as info:
        TrackingNumber.parse(text)
    assert fragment in str(info.value)
    assert not is_valid_tracking_number(text)


def test_construction_always_validates() -> None:
    """The constructor and attrs.evolve go through the same validation as parse."""
    with pytest.raises(InvalidTrackingNumberError, match="gives 9"):
        TrackingNumber(value="RR473124828GB")
    tn = TrackingNumber.parse("RR473124829GB")
    with pytest.raises(InvalidTrackingNumberError, match="gives 9"):
        attrs.evolve(tn, value="RR473124828GB")
    with pytest.raises(attrs.exceptions.FrozenInstanceError):
        tn.value = "EA123456785CN"  # type: ignore[misc]


def test_equal_hashable_and_ordered_by_string() -> None:
    a = TrackingNumber.parse("rr473124829gb")
    b = TrackingNumber.parse("RR 473124829 GB")
    c = TrackingNumber.parse("EA123456785CN")
    d = TrackingNumber.parse_any("1012345678501")
    assert len({a, b}) == 1
    assert [d, c, a] == sorted([a, c, d])
    assert c < a


def test_s10_blind_spot_residues_0_and_6_share_check_digit_5() -> None:
    """A documented property of the S10 rule itself, not a govpost defect."""
    assert is_valid_tracking_number("EE000000005CN")
    assert is_valid_tracking_number("EE900000005CN")


# --- domestic EMS numbers ----------------------------------------------------------------------


def test_domestic_number_accepted_when_asked() -> None:
    tn = TrackingNumber.parse("1012345678501", domestic=True)
    assert str(tn) == "1012345678501"
    assert (tn.service, tn.serial, tn.check_digit, tn.country) == ("10", "12345678", 5, None)
    assert tn.is_domestic is True
    assert tn == TrackingNumber.parse_any("10 1234 5678 501")
    assert tn == TrackingNumber.parse(str(tn), domestic=True)  # the wire format's round trip
    assert is_valid_tracking_number("1012345678501", domestic=True)
    assert not is_valid_tracking_number("1012345678501")


def test_domestic_accepts_s10_too() -> None:
    assert TrackingNumber.parse("RR473124829GB") == TrackingNumber.parse(
        "RR473124829GB", domestic=True
    )
    with pytest.raises(InvalidTrackingNumberError, match="gives 9"):
        TrackingNumber.parse_any("RR473124828GB")


def test_domestic_wrong_check_digit_warns_but_accepts() -> None:
    with pytest.warns(DomesticCheckDigitWarning, match="give check digit 5, not 0") as record:
        tn = TrackingNumber.parse("1012345678001", domestic=True)
    assert str(tn) == "1012345678001"
    assert __file__ == record[0].filename  # stacklevel points at the caller
    with pytest.warns(DomesticCheckDigitWarning, match="1012345678001") as record:
        TrackingNumber.parse_any("1012345678001")
    assert __file__ == record[0].filename


def test_is_valid_does_not_warn_about_domestic_check_digit() -> None:
    """filterwarnings=error turns any warning here into a failure."""
    assert is_valid_tracking_number("1012345678001", domestic=True)


@pytest.mark.parametrize("text", ["101234567850", "10123456785011", "1012345678５0a"])
def test_domestic_needs_13_digits(text: str) -> None:
    with pytest.raises(InvalidTrackingNumberError):
        TrackingNumber.parse_any(text)


# --- TrackingNumber: properties ----------------------------------------------------------------


@given(s10_numbers())
def test_s10_round_trips_through_parse_and_str(tn: TrackingNumber) -> None:
    """parse(str(tn)) == tn; str is 13 characters made of service, serial, check, country."""
    assert tn == TrackingNumber.parse(str(tn))
    assert str(tn) == f"{tn.service}{tn.serial}{tn.check_digit}{tn.country}"
    assert len(str(tn)) == 13
    assert tn.check_digit == s10_check_digit(tn.serial)


@given(s10_numbers(), st.integers(min_value=2, max_value=10), st.sampled_from(string.digits))
def test_single_digit_changes_are_detected(tn: TrackingNumber, position: int, digit: str) -> None:
    """Changing the check digit is always detected; changing one serial digit is detected unless
    the two weighted sums have remainders 0 and 6, which the S10 rule both maps to 5."""
    text = str(tn)
    assume(text[position] != digit)
    changed = text[:position] + digit + text[position + 1 :]

    def remainder(serial: str) -> int:
        return sum(int(d) * w for d, w in zip(serial, S10_WEIGHTS, strict=True)) % 11

    blind_spot = {remainder(text[2:10]), remainder(changed[2:10])} == {0, 6}
    assert is_valid_tracking_number(changed) == blind_spot


@given(s10_numbers(), st.data())
def test_normalisation_gives_the_same_number(tn: TrackingNumber, data: st.DataObject) -> None:
    """Lower case, spaces, dashes and full-width characters do not change the parsed number."""
    chars = []
    for c in str(tn):
        written = data.draw(st.sampled_from([c, c.lower(), full_width(c), full_width(c.lower())]))
        chars.append(written + data.draw(st.sampled_from(["", " ", "-", "\u3000", "－"])))
    assert tn == TrackingNumber.parse("".join(chars))


# --- resident identity numbers -----------------------------------------------------------------


@pytest.mark.parametrize(
    "number",
    [
        "11010519491231002X",  # the GB 11643-1999 sample
        "520115197001010010",  # 观山湖区 was created in 2012: a later registration, still valid
        "110103198001010013",  # 崇文区, abolished in 2010: old numbers stay valid
        "520102199003071236",
    ],
)
def test_valid_id_numbers(number: str) -> None:
    assert number == validate_id_number(number)
    assert is_valid_id_number(number)


def test_id_number_is_normalised() -> None:
    assert validate_id_number(" 110105 19491231 002x ") == "11010519491231002X"
    assert validate_id_number(full_width("11010519491231002x")) == "11010519491231002X"


@pytest.mark.parametrize(
    ("number", "fragment"),
    [
        ("110105194912310021", "wrong check character"),
        (with_check("52010229990101123"), "birth date in the future"),
        (with_check("52010218991231123"), "before 1900"),
        (with_check("52010219900230123"), "no real calendar date"),
        (with_check("99999919900101123"), "region code 999999"),
        (with_check("52019919900101123"), "region code 520199"),
        ("52010219900307123A", "17 digits followed by a check character"),
        ("520102900307123", "convert it to the 18-digit form"),
        ("5201021990030712361", "of 19 characters"),
        ("", "of 0 characters"),
    ],
)
def test_invalid_id_numbers_are_refused_with_a_masked_message(number: str, fragment: str) -> None:
    with pytest.raises(ValidationError) as info:
        validate_id_number(number)
    assert fragment in str(info.value)
    assert number not in messages(info.value) or not number
    assert not is_valid_id_number(number)


def test_birth_date_today_is_accepted_and_next_year_refused() -> None:
    """ "Today" is the date in Asia/Shanghai, where the numbers are issued."""
    today = datetime.now(ZoneInfo("Asia/Shanghai")).date()
    assert is_valid_id_number(with_check(f"520102{today:%Y%m%d}123"))
    assert not is_valid_id_number(with_check(f"520102{today.year + 1}0101123"))


@given(id_numbers())
def test_generated_id_numbers_are_valid(number: str) -> None:
    """Every number with a known region, a birth date 1900-2020 and the right check is valid."""
    assert number == validate_id_number(number)
    assert number == validate_id_number(number.lower())


@given(id_numbers(), st.integers(min_value=0, max_value=17), st.sampled_from("0123456789X"))
def test_errors_never_show_the_whole_id_number(number: str, position: int, char: str) -> None:
    """A corrupted ID number is refused (any single change breaks MOD 11-2, or the shape), and
    nothing in the error or its causes shows the number or its hidden birth date."""
    changed = number[:position] + char + number[position + 1 :]
    assume(changed != number)
    with pytest.raises(ValidationError) as info:
        validate_id_number(changed)
    text = messages(info.value)
    assert changed not in text
    assert changed[6:14] not in text


# --- USCC ---------------------------------------------------------------------------------------


def test_valid_uscc() -> None:
    assert validate_uscc("91110000600037341L") == "91110000600037341L"
    assert validate_uscc(" 9111-0000-6000-3734-1l ") == "91110000600037341L"
    assert validate_uscc(full_width("91110000600037341l")) == "91110000600037341L"
    assert is_valid_uscc("91110000600037341L")


@pytest.mark.parametrize(
    ("code", "fragment"),
    [
        ("91110000600037341A", "has check character 'A', but the first 17 characters give 'L'"),
        ("9111000060003734", "has 16 characters"),
        ("A1110000600037341L", "is not 8 digits followed by"),
        ("9111000060003734IL", "is not 8 digits followed by"),
    ],
)
def test_invalid_uscc_translates_stdnum_errors(code: str, fragment: str) -> None:
    from stdnum.exceptions import ValidationError as StdnumError

    with pytest.raises(ValidationError) as info:
        validate_uscc(code)
    assert fragment in str(info.value)
    assert isinstance(info.value.__cause__, StdnumError)
    assert not isinstance(info.value, StdnumError)
    assert not is_valid_uscc(code)


# --- mobile numbers -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "13800138000",
        "+86 138 0013 8000",
        "138-0013-8000",
        "0086 138 0013 8000",
        "(+86) 138.0013.8000",
        "１３８００１３８０００",
        "＋８６ １３８ ００１３ ８０００",
    ],
)
def test_mobile_written_any_usual_way(text: str) -> None:
    assert validate_mobile(text) == "13800138000"
    assert is_valid_mobile(text)


@pytest.mark.parametrize(
    "text",
    [
        "12345678901",  # no such prefix
        "1380013800",  # 10 digits
        "+852 9123 4567",  # Hong Kong
        "+1 202 555 0143",  # abroad
        "010-6552 9988",  # Beijing fixed line
        "13800138000 ext. 5",
        "138OO138OOO",  # letters O for zeros
        "",
    ],
)
def test_not_a_mainland_mobile(text: str) -> None:
    with pytest.raises(ValidationError) as info:
        validate_mobile(text)
    digits = "".join(c for c in text if c.isdigit())
    if len(digits) >= 8:
        assert digits not in messages(info.value)
    assert not is_valid_mobile(text)


@given(mobiles(), st.sampled_from(["{}", "+86 {}", "+86-{}", "0086{}", "{} "]), st.booleans())
def test_generated_mobiles_are_valid(mobile: str, template: str, wide: bool) -> None:
    """Any valid mobile, written with a country prefix or full-width, normalises to its digits."""
    text = template.format(mobile)
    assert mobile == validate_mobile(full_width(text) if wide else text)


# --- masks --------------------------------------------------------------------------------------


def test_mask_examples() -> None:
    assert mask_mobile("13800138000") == "138****8000"
    assert mask_id_number("520102199003071236") == "520102********1236"
    assert mask_name("张三") == "张*"
    assert mask_name("欧阳娜娜") == "欧阳**"
    assert mask_name("欧阳") == "欧*"  # two characters: a surname and a given name
    assert mask_name("李") == "*"
    assert mask_name("") == ""
    assert mask_address("贵州省贵阳市观山湖区长岭北路") == "贵州省贵阳市********"
    assert mask_address("观山湖区") == "观山**"


@pytest.mark.parametrize("surname", COMPOUND_SURNAMES)
def test_compound_surnames_are_kept_whole(surname: str) -> None:
    assert len(surname) == 2
    assert f"{surname}**" == mask_name(f"{surname}娜娜")


MASKS: list[Callable[[str], str]] = [mask_mobile, mask_id_number, mask_name, mask_address]


@pytest.mark.parametrize("mask", MASKS)
@given(text=st.text())
def test_masks_are_idempotent_and_keep_length(mask: Callable[[str], str], text: str) -> None:
    """For every str: mask(mask(x)) == mask(x), len(mask(x)) == len(x), and every character of
    the result is either '*' or the character of x at the same place."""
    masked = mask(text)
    assert masked == mask(masked)
    assert len(text) == len(masked)
    assert all(m in ("*", c) for m, c in zip(masked, text, strict=True))


@pytest.mark.parametrize("mask", MASKS)
def test_masks_refuse_non_str_without_showing_it(mask: Callable[[Any], str]) -> None:
    with pytest.raises(ValidationError, match="takes a str, not bytes") as info:
        mask(b"13800138000")
    assert "13800138000" not in str(info.value)


@given(mobiles())
def test_mask_mobile_hides_the_middle_four(mobile: str) -> None:
    """A valid mobile keeps its first 3 and last 4 digits; the 4 in between are all '*'."""
    masked = mask_mobile(mobile)
    assert f"{mobile[:3]}****{mobile[7:]}" == masked


@given(id_numbers())
def test_mask_id_number_hides_the_birth_date(number: str) -> None:
    """A valid ID keeps its region code and last 4 characters; the 8-digit birth date is '*'."""
    masked = mask_id_number(number)
    assert f"{number[:6]}********{number[14:]}" == masked
    assert number[6:14] not in masked


@given(st.text(alphabet=st.characters(min_codepoint=0x4E00, max_codepoint=0x9FFF), min_size=2))
def test_mask_name_keeps_only_the_surname(name: str) -> None:
    """A Chinese name keeps its 1-character surname (2 for a compound one before a given name)."""
    keep = 2 if len(name) > 2 and name[:2] in COMPOUND_SURNAMES else 1
    assert name[:keep] + "*" * (len(name) - keep) == mask_name(name)


# --- robustness: junk of every kind ------------------------------------------------------------

JUNK: list[Any] = [
    None,
    b"RR473124829GB",
    bytearray(b"13800138000"),
    1.5,
    float("nan"),
    12345,
    13800138000,
    True,
    Decimal("11010519491231002"),
    [],
    ["RR473124829GB"],
    {"value": "RR473124829GB"},
    object(),
    "",
    " ",
    "1" * 100_000,
    "1" * 13,
    "\x00\n\t",
    "\x00" * 18,
    "RR473124829GB\x00",
    "１２３４５６７８",
    "１１０１０５１９４９１２３１００２Ｘ",
    "٣٤٥٦٧٨٩٠١٢٣٤٥",  # Arabic-Indic digits: digits to str.isdigit, not to identifiers
    "¹²³⁴⁵⁶⁷⁸",
    "📦" * 13,
    "\ud800" * 11,
    "-" * 18,
    "X" * 18,
    "+",
    "+86",
    "0" * 64,
    "0" * 65,
]

VALIDATORS: list[Callable[[Any], object]] = [
    s10_check_digit,
    TrackingNumber.parse,
    TrackingNumber.parse_any,
    lambda v: TrackingNumber.parse(v, domestic=True),
    lambda v: TrackingNumber(value=v),
    validate_id_number,
    validate_uscc,
    validate_mobile,
    mask_mobile,
    mask_id_number,
    mask_name,
    mask_address,
]

PREDICATES: list[Callable[[Any], bool]] = [
    is_valid_tracking_number,
    lambda v: is_valid_tracking_number(v, domestic=True),
    is_valid_id_number,
    is_valid_uscc,
    is_valid_mobile,
]


@pytest.mark.filterwarnings("ignore::govpost.identifiers.DomesticCheckDigitWarning")
@pytest.mark.parametrize("junk", JUNK, ids=lambda j: type(j).__name__)
def test_junk_gives_a_govpost_error_or_false(junk: Any) -> None:
    """Validators return a value or raise a GovpostError; predicates return a bool, never raise."""
    for validate in VALIDATORS:
        with contextlib.suppress(GovpostError):
            validate(junk)
    for predicate in PREDICATES:
        assert isinstance(predicate(junk), bool)
        if not isinstance(junk, str):
            assert predicate(junk) is False


@pytest.mark.filterwarnings("ignore::govpost.identifiers.DomesticCheckDigitWarning")
@given(st.text())
def test_any_text_gives_a_govpost_error_or_a_value(text: str) -> None:
    """For any str, validators return a value or raise a GovpostError; predicates a bool."""
    for validate in VALIDATORS:
        with contextlib.suppress(GovpostError):
            validate(text)
    for predicate in PREDICATES:
        assert isinstance(predicate(text), bool)


def test_s10_strategy_check_digit_matches_govpost() -> None:
    """The strategies compute check digits independently; both agree on the published vector."""
    assert s10_check("47312482") == s10_check_digit("47312482") == 9


# --- messages about junk show no personal data (issue 7) ---------------------------------------


def test_a_mobile_that_is_not_even_digits_is_not_shown() -> None:
    """Regression: the mask of junk showed its first characters, here a name (欧阳娜)."""
    with pytest.raises(ValidationError) as info:
        validate_mobile("欧阳娜娜 139 8521 2345")
    assert str(info.value) == (
        "mobile number of 18 characters holds something other than digits, spaces, dashes, "
        "brackets and a leading '+': write 11 digits starting with 1, such as '138 0013 8000', "
        "optionally with +86 (the value is not shown: it may be personal data)"
    )


def test_an_id_number_that_is_not_digits_is_not_shown() -> None:
    """Regression: an 18-character text was masked as an ID number, showing its first six
    characters (here a name)."""
    with pytest.raises(ValidationError) as info:
        validate_id_number("张三 5201021990030712")
    assert str(info.value) == (
        "ID number of 18 characters has character 1 (not counting spaces) where a digit "
        "belongs: write 17 digits followed by a check character 0-9 or X (the value is not "
        "shown: it may be personal data)"
    )


@pytest.mark.parametrize(
    ("call", "shown"),
    [
        (lambda: validate_uscc("张三 139 8521 2345"), "USCC '**139****2345' has 13 characters"),
        (lambda: validate_uscc(13985212345), "USCC 139****2345 of type int is not text"),
        (lambda: TrackingNumber.parse("139 8521 2345"), "tracking number '139****2345' has 11"),
        (lambda: TrackingNumber.parse("86 139 8521 2345"), "tracking number '86139****2345' is"),
        (lambda: s10_check_digit("13985212345"), "S10 serial '139****2345' must be"),
    ],
)
def test_identifiers_show_junk_scrubbed(call: Any, shown: str) -> None:
    """A mobile typed into a tracking-number or USCC field is shown masked, a name as ``*``."""
    with pytest.raises(ValidationError) as info:
        call()
    assert str(info.value).startswith(shown)


def test_the_memory_of_checked_numbers_is_bounded_and_holds_only_valid_ones(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Checked S10 numbers are remembered (a shipment's events repeat its waybill), never more
    than the cache's size, and a number that failed its check is never remembered."""
    monkeypatch.setattr(identifiers, "_VALID_S10", {})
    monkeypatch.setattr(identifiers, "_VALID_S10_SIZE", 8)
    for serial in range(10_000_000, 10_000_020):
        text = f"EA{serial}{s10_check_digit(str(serial))}CN"
        assert str(TrackingNumber.parse(text)) == text
        assert len(identifiers._VALID_S10) <= 8
    with pytest.raises(InvalidTrackingNumberError, match="check digit"):
        TrackingNumber.parse("RR473124828GB")
    assert "RR473124828GB" not in identifiers._VALID_S10
    with pytest.raises(InvalidTrackingNumberError, match="check digit"):
        TrackingNumber.parse("RR473124828GB")


def _mobile_by_phonenumbers(number: str) -> str | None:
    """The full phonenumbers check of validate_mobile, without its fast path."""
    import phonenumbers

    parsed = phonenumbers.parse(number, "CN")
    national = phonenumbers.national_significant_number(parsed)
    ok = (
        phonenumbers.region_code_for_number(parsed) == "CN"
        and phonenumbers.is_valid_number(parsed)
        and phonenumbers.number_type(parsed)
        in (phonenumbers.PhoneNumberType.MOBILE, phonenumbers.PhoneNumberType.FIXED_LINE_OR_MOBILE)
    )
    return national if ok and len(national) == 11 else None


def test_the_fast_path_for_mobiles_agrees_with_phonenumbers() -> None:
    """The 11-digit fast path of validate_mobile (phonenumbers' own mainland mobile pattern)
    accepts exactly what the full parse accepts, over a spread of 7-digit prefixes (checked
    over all of them, with two suffixes each, when it was written: 1,043,200 agreed)."""
    fast = identifiers._mainland_mobile()
    compared = 0
    for prefix in range(1_000_000, 2_000_000, 997):
        number = f"{prefix}5678"
        expected = _mobile_by_phonenumbers(number)
        assert (fast.fullmatch(number) is not None) == (expected == number), number
        assert is_valid_mobile(number) == (expected is not None)
        compared += 1
    assert compared > 1000
