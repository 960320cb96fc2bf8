"""EMS open platform, offline: envelope, builders, parsers, op-code table, push verification."""

from __future__ import annotations

import contextlib
import json
import re
import warnings
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from govpost.carriers import QuoteRequest
from govpost.carriers.ems import (
    OP_CODES,
    EmsConfig,
    UnknownOpCodeWarning,
    build_cancel,
    build_create_order,
    build_freight_estimate,
    build_track_query,
    decode_envelope,
    encode_envelope,
    parse_cancel,
    parse_create_order,
    parse_freight_estimate,
    parse_push,
    parse_reply,
    parse_track,
)
from govpost.carriers.ems.codes import DUPLICATE_ORDER_CODES, UNCONFIRMED_DUPLICATE
from govpost.carriers.ems.parse import MAX_ANSWER_CHARS, parse_time
from govpost.errors import (
    CarrierError,
    GovpostError,
    ValidationError,
    WebhookVerificationError,
)
from govpost.identifiers import TrackingNumber
from govpost.money import Money
from govpost.regions import Zone
from govpost.shipments import REVOKE_PREVIOUS, ShipmentStatus
from govpost.testing import push_body, sample_booking_request
from tests.fuzzing import fuzz

DATA = Path(__file__).parent / "data" / "ems"
KEY = "TvaBgrhE46sft3nZlfe7xw=="
OTHER_KEY = "AAECAwQFBgcICQoLDA0ODw=="
VECTOR = (
    "|$4|efB6PnjDpgHG4xfrvYlXonyBuMJoGTynkfasopHvbl2u3nmNeP+rznA3DyRwb/2GeZL7I3rL6HKD5+Tv3Uy6x8j"
    "IDISbYG8Bg14caH2flYE="
)
NOW = datetime(2024, 6, 3, 2, 0, tzinfo=UTC)
CONFIG = EmsConfig(sender_no="1100012345678", authorization="auth-test", sign_key=KEY)


def recorded(name: str) -> str:
    return (DATA / f"{name}.json").read_text(encoding="utf-8")


# --- envelope ------------------------------------------------------------------------------------


def test_published_test_vector_reproduces_exactly() -> None:
    payload = {"language": "zh-CN", "orderId": "QIAO-20200618-004"}
    assert encode_envelope(payload, KEY) == VECTOR
    assert decode_envelope(VECTOR, KEY) == '{"language":"zh-CN","orderId":"QIAO-20200618-004"}'


def test_payload_given_as_text_is_sealed_as_is() -> None:
    assert encode_envelope('{"language":"zh-CN","orderId":"QIAO-20200618-004"}', KEY) == VECTOR


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=20),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4)
    ),
    max_leaves=12,
)


@given(st.dictionaries(st.text(max_size=8), json_values, max_size=5) | st.lists(json_values))
def test_decode_inverts_encode(payload: Any) -> None:
    """For every JSON object or array, decoding its envelope gives back its compact JSON text."""
    text = decode_envelope(encode_envelope(payload, KEY), KEY)
    assert json.loads(text) == payload
    assert text == json.dumps(payload, separators=(",", ":"), ensure_ascii=False)


def test_wrong_key_is_refused() -> None:
    with pytest.raises(ValidationError, match="does not decrypt under this signKey"):
        decode_envelope(VECTOR, OTHER_KEY)


def test_any_flipped_ciphertext_byte_is_refused() -> None:
    """Altering any byte of the sealed test vector, in any way, makes it fail verification.

    Exhaustive, not sampled: SM4-ECB has no MAC, and a garbled block can pass the padding,
    UTF-8 and trailing-key checks (byte 11 xor 219 does); only the JSON check refuses it. A
    sample would find such a case once in many runs.
    """
    import base64

    original = base64.b64decode(VECTOR[4:])
    accepted = []
    for position in range(len(original)):
        for mask in range(1, 256):
            sealed = bytearray(original)
            sealed[position] ^= mask
            with contextlib.suppress(ValidationError):
                decode_envelope("|$4|" + base64.b64encode(bytes(sealed)).decode(), KEY)
                accepted.append((position, mask))
    assert accepted == []


def test_message_not_ending_in_the_key_is_refused() -> None:
    """Sealed under the right key, but without the trailing signKey: not authentic."""
    import base64

    from cryptography.hazmat.primitives import padding
    from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

    for plain in ('{"orderId":"QIAO-20200618-004"}', '{"orderId":"X"}' + OTHER_KEY):
        padder = padding.PKCS7(128).padder()
        data = padder.update(plain.encode()) + padder.finalize()
        encryptor = Cipher(algorithms.SM4(base64.b64decode(KEY)), modes.ECB()).encryptor()
        sealed = encryptor.update(data) + encryptor.finalize()
        with pytest.raises(ValidationError, match="does not decrypt under this signKey"):
            decode_envelope("|$4|" + base64.b64encode(sealed).decode(), KEY)


def test_sealed_text_that_is_not_json_is_refused() -> None:
    with pytest.raises(ValidationError, match="not JSON"):
        decode_envelope(encode_envelope("not json", KEY), KEY)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("efB6PnjDpgHG4xfrvYlX", "starting with"),
        ("|$4|not base64!!", "not valid base64"),
        ("|$4|" + VECTOR[4:20], "not valid base64|16-byte"),
        ("|$4|", "16-byte"),
    ],
)
def test_malformed_envelopes_are_refused(text: str, message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        decode_envelope(text, KEY)


@pytest.mark.parametrize("key", ["", "short", "AAAA", "TvaBgrhE46sft3nZlfe7xw=", 42])
def test_bad_sign_keys_are_refused(key: Any) -> None:
    with pytest.raises(ValidationError, match="signKey"):
        encode_envelope({"a": 1}, key)


def test_non_json_payload_is_a_validation_error() -> None:
    with pytest.raises(ValidationError, match="not JSON-compatible"):
        encode_envelope({"when": datetime.now(UTC)}, KEY)


# --- builders ------------------------------------------------------------------------------------


def test_config_repr_hides_secrets() -> None:
    assert "auth-test" not in repr(CONFIG)
    assert KEY not in repr(CONFIG)


def test_build_create_order_fields_and_sealed_payload() -> None:
    request = sample_booking_request("GZ-520100-2024-000123")
    wire = build_create_order(request, CONFIG, now=NOW)
    assert wire.api_code == "020003"
    assert wire.url == "https://api.ems.com.cn/amp-prod-api/f/amp/api/open"
    assert wire.retry is True
    assert {k: v for k, v in wire.form.items() if k != "logitcsInterface"} == {
        "apiCode": "020003",
        "senderNo": "1100012345678",
        "authorization": "auth-test",
        "msgType": "0",
        "timeStamp": "2024-06-03 10:00:00",
        "version": "V1.0.0",
    }
    sealed = json.loads(decode_envelope(wire.form["logitcsInterface"], KEY))
    assert sealed == dict(wire.payload)
    assert sealed["logisticsOrderNo"] == "GZ-520100-2024-000123"
    assert sealed["weight"] == "250"
    assert sealed["receiver"]["prov"] == "贵州省"
    assert sealed["receiver"]["city"] == "遵义市"
    assert sealed["receiver"]["county"] == "红花岗区"
    assert sealed["sender"]["city"] == "贵阳市"
    assert sealed["insuranceFlag"] == "2"
    assert sealed["insuranceAmount"] == "500.00"
    assert "13800138000" not in repr(wire)


def test_builders_are_pure() -> None:
    request = sample_booking_request("A-1")
    assert build_create_order(request, CONFIG, now=NOW) == build_create_order(
        request, CONFIG, now=NOW
    )


def test_build_track_freight_cancel() -> None:
    waybill = TrackingNumber.parse("EA520001879CN")
    track = build_track_query(waybill, CONFIG, now=NOW)
    assert json.loads(decode_envelope(track.form["logitcsInterface"], KEY)) == {
        "waybillNo": "EA520001879CN"
    }
    quote = build_freight_estimate(
        QuoteRequest(origin="520102", destination="110105", weight_g=1200), CONFIG, now=NOW
    )
    assert quote.api_code == "050005"
    assert quote.retry
    assert quote.payload["receiveInfo"] == {"prov": "北京市", "city": "北京市", "county": "朝阳区"}
    cancel = build_cancel("A-1", CONFIG, now=NOW, tracking_number=waybill)
    assert cancel.api_code == "020006"
    assert cancel.payload["waybillNo"] == "EA520001879CN"


def test_test_endpoint() -> None:
    config = EmsConfig(
        sender_no="1", authorization="a", sign_key=KEY, base_url="http://h:1/", test=True
    )
    assert config.endpoint == "http://h:1/amp-prod-api/f/amp/api/test"


def test_naive_now_is_refused() -> None:
    with pytest.raises(ValidationError, match="naive"):
        build_track_query(TrackingNumber.parse("EA520001879CN"), CONFIG, now=datetime(2024, 1, 1))


# --- parsers -------------------------------------------------------------------------------------


def test_parse_create_order_ok() -> None:
    request = sample_booking_request("GZ-520100-2024-000123")
    booking = parse_create_order(recorded("create_order_ok"), request, received_at=NOW)
    assert booking.tracking_number == TrackingNumber.parse_any("1152012345801")
    assert booking.order_id == "GZ-520100-2024-000123"
    assert booking.duplicate is False
    assert booking.booked_at == NOW


def test_duplicate_order_answer_is_success_with_the_existing_waybill() -> None:
    request = sample_booking_request("GZ-520100-2024-000123")
    booking = parse_create_order(recorded("create_order_duplicate"), request, received_at=NOW)
    assert booking.duplicate is True
    assert str(booking.tracking_number) == "1152012345801"


def test_duplicate_order_without_waybill_is_an_error_not_a_second_booking() -> None:
    text = '{"retCode":"B00010","retMsg":"订单号重复","retBody":""}'
    with pytest.raises(CarrierError, match="already exists") as info:
        parse_create_order(text, sample_booking_request("X-1"), received_at=NOW)
    assert info.value.retryable is False


def test_business_error_keeps_code_raw_and_masks_mobiles() -> None:
    text = recorded("create_order_invalid_mobile")
    with pytest.raises(CarrierError) as info:
        parse_create_order(text, sample_booking_request("X-1"), received_at=NOW)
    error = info.value
    assert error.code == "B00001"
    assert error.retryable is False
    assert error.raw == text
    assert "13800138000" not in str(error)
    assert "138****8000" in str(error)


def test_reply_repr_masks_the_carrier_message() -> None:
    reply = parse_reply(recorded("create_order_invalid_mobile"), "020003")
    assert "13800138000" not in repr(reply)
    assert "138****8000" in repr(reply)
    assert "13800138000" in reply.ret_msg  # the value itself is kept as received


def test_business_error_masks_id_numbers() -> None:
    text = json.dumps(
        {"retCode": "B00003", "retMsg": "寄件人证件号520102199003071236与姓名不符", "retBody": None}
    )
    with pytest.raises(CarrierError) as info:
        parse_create_order(text, sample_booking_request("X-1"), received_at=NOW)
    assert "520102199003071236" not in str(info.value)
    assert "520102********1236" in str(info.value)
    assert info.value.raw == text


@pytest.mark.parametrize(
    ("name", "code", "retryable"),
    [("error_auth", "A00001", False), ("error_system_busy", "S00001", True)],
)
def test_error_classification(name: str, code: str, retryable: bool) -> None:
    with pytest.raises(CarrierError) as info:
        parse_track(recorded(name))
    assert (info.value.code, info.value.retryable) == (code, retryable)


@pytest.mark.parametrize(
    "text",
    [
        "",
        "<html>502 Bad Gateway</html>",
        "[]",
        '{"retMsg":"x"}',
        '{"retCode":"00000","retBody":"{not json"}',
    ],
)
def test_malformed_answers_are_carrier_errors(text: str) -> None:
    with pytest.raises(CarrierError) as info:
        parse_track(text)
    assert info.value.code == "malformed_response"
    assert info.value.raw == text


def test_parse_track_delivered() -> None:
    events = parse_track(recorded("track_delivered"))
    assert [e.status for e in events] == [
        ShipmentStatus.PICKED_UP,
        *[ShipmentStatus.IN_TRANSIT] * 6,
        ShipmentStatus.OUT_FOR_DELIVERY,
        ShipmentStatus.DELIVERED,
    ]
    first, last = events[0], events[-1]
    assert last.occurred_at == datetime(2024, 6, 4, 6, 31, 47, tzinfo=UTC)
    assert last.occurred_at.utcoffset() is not None
    assert last.carrier_code == "704"
    assert last.location == "遵义市邮政分公司红花岗揽投部"
    assert first.event_id == "ems:1152012345801:203:20240603101231:52000100"
    assert first.description is not None
    assert "13885012345" not in first.description
    assert len({e.event_id for e in events}) == len(events)
    assert all(e.tracking_number == events[0].tracking_number for e in events)


def test_revocation_codes_become_revoking_events() -> None:
    events = parse_track(recorded("track_locker_with_revocation"))
    revoking = [e for e in events if e.carrier_code == "743"]
    assert len(revoking) == 1
    assert revoking[0].revokes == REVOKE_PREVIOUS


def test_parse_track_empty_and_not_found() -> None:
    assert parse_track(recorded("track_empty")) == ()
    with pytest.raises(CarrierError) as info:
        parse_track(recorded("track_not_found"))
    assert info.value.code == "B00404"


def test_unknown_op_code_is_kept_as_exception_with_a_warning() -> None:
    item = json.loads(recorded("push_trace_clear")) | {"opCode": "999", "opName": "新操作"}
    text = json.dumps(
        {
            "retCode": "00000",
            "retBody": json.dumps([item, item | {"opTime": "2024-06-05 00:00:00"}]),
        }
    )
    with pytest.warns(UnknownOpCodeWarning, match="'999'") as caught:
        events = parse_track(text)
    assert len(caught) == 1
    assert [e.status for e in events] == [ShipmentStatus.EXCEPTION] * 2
    assert events[0].carrier_code == "999"


@pytest.mark.parametrize(
    "item",
    [
        "not an object",
        {"opCode": "704", "opTime": "2024-06-04 14:31:47"},
        {"waybillNo": "1152012345801", "opCode": "704", "opTime": "yesterday"},
        {"waybillNo": "XX", "opCode": "704", "opTime": "2024-06-04 14:31:47"},
        {"waybillNo": "1152012345801", "opCode": "7 04", "opTime": "2024-06-04 14:31:47"},
        {"waybillNo": "1152012345801", "opCode": "", "opTime": "2024-06-04 14:31:47"},
    ],
)
def test_malformed_traces_are_carrier_errors_not_python_errors(item: object) -> None:
    text = json.dumps({"retCode": "00000", "retBody": json.dumps([item])})
    with pytest.raises(CarrierError, match="malformed"):
        parse_track(text)


class BrokenTable(dict[str, Any]):
    """An op-code table with a bug: every lookup raises KeyError."""

    def get(self, key: Any, default: Any = None) -> Any:
        raise KeyError(key)


def test_a_bug_in_our_parse_code_stays_a_bug(monkeypatch: pytest.MonkeyPatch) -> None:
    """A KeyError raised by govpost's own code is not dressed up as a carrier message."""
    import govpost.carriers.ems.parse as parse_module

    monkeypatch.setattr(parse_module, "OP_CODES", BrokenTable())
    with pytest.raises(KeyError) as info:
        parse_track(recorded("track_delivered"))
    assert not isinstance(info.value, CarrierError)
    with pytest.raises(KeyError):
        parse_push(
            push_body(
                json.loads(json.loads(recorded("track_delivered"))["retBody"])["responseItems"], KEY
            ),
            {},
            KEY,
        )


def test_every_op_code_in_the_recorded_answers_is_mapped() -> None:
    seen: set[str] = set()
    for path in sorted(DATA.glob("*.json")):
        text = path.read_text(encoding="utf-8")
        seen.update(re.findall(r'\\?"opCode\\?"\s*:\s*\\?"(\w+)', text))
    assert seen, "the recorded answers hold no opCode at all"
    assert sorted(seen - set(OP_CODES)) == []


def test_op_code_table_statuses_and_revocations() -> None:
    assert OP_CODES["203"].status is ShipmentStatus.PICKED_UP
    assert OP_CODES["711"].status is ShipmentStatus.RETURNED
    assert OP_CODES["801"].status is ShipmentStatus.CANCELLED
    assert {c for c, row in OP_CODES.items() if row.revokes} == {"742", "743", "744"}


def test_parse_freight_estimate() -> None:
    request = QuoteRequest(origin="520102", destination="520302", weight_g=300)
    quote = parse_freight_estimate(recorded("freight_estimate_ok"), request)
    assert quote.amount == Money("12.80")
    assert quote.zone is Zone.IN_PROVINCE


def test_freight_estimate_numbers_are_read_exactly() -> None:
    text = json.dumps({"retCode": "00000", "retBody": '{"realFee": 12.1}'})
    request = QuoteRequest(origin="520102", destination="520302", weight_g=300)
    assert parse_freight_estimate(text, request).amount.amount == Decimal("12.1")


def test_parse_cancel() -> None:
    parse_cancel(recorded("cancel_ok"))
    parse_cancel('{"retCode":"B00022","retMsg":"订单已取消"}')
    with pytest.raises(CarrierError) as info:
        parse_cancel(recorded("cancel_already_picked_up"))
    assert info.value.code == "B00021"
    assert not info.value.retryable


def test_parse_reply_frame() -> None:
    reply = parse_reply(recorded("create_order_ok"), "020003")
    assert reply.ok
    assert reply.serial_no == "5E2A7D10C3B94F62"
    assert reply.body["waybillNo"] == "1152012345801"


def test_parse_time() -> None:
    assert parse_time("2024-06-03 10:15:00") == datetime(2024, 6, 3, 2, 15, tzinfo=UTC)
    for bad in ["", "2024-13-01 00:00:00", None, "x" * 40]:
        with pytest.raises(ValidationError):
            parse_time(bad)


# --- push ----------------------------------------------------------------------------------------


def test_push_is_read_after_verification() -> None:
    trace = json.loads(recorded("push_trace_clear"))
    body = push_body([trace], KEY, serial_no="C3E7E1A2E6F44EB9B09EB9116C89FC86")
    message = parse_push(body, {"Content-Type": "application/json"}, KEY)
    assert message.message_id == "C3E7E1A2E6F44EB9B09EB9116C89FC86"
    assert [e.status for e in message.events] == [ShipmentStatus.DELIVERED]
    assert message.events[0].event_id == "ems:1152012345801:704:20240604143147:52030201"


def test_push_as_a_single_trace_and_as_a_form() -> None:
    trace = json.loads(recorded("push_trace_clear"))
    from urllib.parse import urlencode

    fields = json.loads(push_body(trace, KEY, serial_no="S1"))
    form = urlencode(fields).encode()
    message = parse_push(form, {"Content-Type": "application/x-www-form-urlencoded"}, KEY)
    assert len(message.events) == 1
    assert message.message_id == "S1"


def test_push_sealed_with_another_key_is_refused() -> None:
    trace = json.loads(recorded("push_trace_clear"))
    with pytest.raises(WebhookVerificationError, match="refused push"):
        parse_push(push_body([trace], OTHER_KEY), {}, KEY)


def test_tampered_push_is_refused() -> None:
    trace = json.loads(recorded("push_trace_clear"))
    fields = json.loads(push_body([trace], KEY))
    sealed = fields["logitcsInterface"]
    fields["logitcsInterface"] = sealed[:30] + ("A" if sealed[30] != "A" else "B") + sealed[31:]
    with pytest.raises(WebhookVerificationError):
        parse_push(json.dumps(fields).encode(), {}, KEY)


@pytest.mark.parametrize(
    "body",
    [b"\xff\xfe", b"{not json", b"[1]", b'{"method":"040001","logitcsInterface":"x"}', b"{}"],
)
def test_unreadable_pushes_are_refused(body: bytes) -> None:
    with pytest.raises(WebhookVerificationError):
        parse_push(body, {}, KEY)


# --- robustness ----------------------------------------------------------------------------------

trace_fields = st.fixed_dictionaries(
    {},
    optional={
        "waybillNo": st.sampled_from(["1152012345801", "EA520001879CN", "X", ""]) | st.integers(),
        "opCode": st.sampled_from([*OP_CODES, "999", "", " "]) | st.none(),
        "opTime": st.sampled_from(["2024-06-04 14:31:47", "2024-02-30 00:00:00", ""]) | st.text(),
        "opDesc": st.text() | st.integers(),
        "opOrgName": st.text(max_size=600),
        "opOrgCode": st.text(max_size=10),
    },
)
bodies = st.recursive(
    trace_fields | json_values,
    lambda inner: (
        st.lists(inner, max_size=3)
        | st.fixed_dictionaries({}, optional={"responseItems": inner, "waybillNo": inner})
    ),
    max_leaves=6,
)
frames = st.builds(
    lambda code, body, raw: json.dumps(
        {"retCode": code, "retMsg": "x", "retBody": json.dumps(body) if not raw else body}
    ),
    st.sampled_from(["00000", "B00010", "S00001", 0]),
    bodies,
    st.booleans(),
)


@given(st.text(max_size=200) | frames)
@settings(max_examples=300)
def test_parsers_raise_only_govpost_errors_on_junk(text: str) -> None:
    """Whatever the carrier sends, parsers give a result or a govpost error, never a bug."""

    request = sample_booking_request("JUNK-1")
    quote = QuoteRequest(origin="520102", destination="520302", weight_g=300)
    parsers = [
        parse_track,
        parse_cancel,
        lambda t: parse_create_order(t, request, received_at=NOW),
        lambda t: parse_freight_estimate(t, quote),
        lambda t: parse_push(t.encode("utf-8", "replace"), {}, KEY),
    ]
    for parse in parsers:
        with warnings.catch_warnings(), contextlib.suppress(GovpostError):
            warnings.simplefilter("ignore", UnknownOpCodeWarning)
            parse(text)


# --- total, bounded answer parsers (issue 7) -----------------------------------------------------

QUOTE = QuoteRequest(origin="520102", destination="520302", weight_g=300)
JUNK_REQUEST = sample_booking_request("JUNK-1")
ANSWER_PARSERS = {
    "parse_reply": lambda t: parse_reply(t, "020003"),
    "parse_track": parse_track,
    "parse_cancel": parse_cancel,
    "parse_create_order": lambda t: parse_create_order(t, JUNK_REQUEST, received_at=NOW),
    "parse_freight_estimate": lambda t: parse_freight_estimate(t, QUOTE),
}
GENUINE = [recorded(p.stem) for p in sorted(DATA.glob("*.json")) if p.stem != "push_trace_clear"]


def parses_or_refuses(text: str) -> None:
    """Every answer parser gives a result or a GovpostError for ``text``, nothing else."""
    for parse in ANSWER_PARSERS.values():
        with warnings.catch_warnings(), contextlib.suppress(GovpostError):
            warnings.simplefilter("ignore", UnknownOpCodeWarning)
            parse(text)


def frame(body: object, code: str = "00000") -> str:
    return json.dumps({"retCode": code, "retMsg": "成功", "retBody": body})


@pytest.mark.parametrize("depth", [65, 1000, 100_000])
@pytest.mark.parametrize("where", ["frame", "retBody", "retBody object"])
def test_deeply_nested_answers_are_malformed_not_recursion_errors(depth: int, where: str) -> None:
    """Regression: JSON nested ~1,000 deep raised RecursionError."""
    nested = "[" * depth + "]" * depth
    text = {
        "frame": '{"retCode":"00000","retBody":' + nested + "}",
        "retBody": frame(nested),
        "retBody object": '{"retCode":"00000","retBody":{"a":' + nested + "}}",
    }[where]
    for name, parse in ANSWER_PARSERS.items():
        if name == "parse_cancel" and where == "retBody object":
            continue  # a cancel reads only the code, and depth is refused before that
        with pytest.raises(CarrierError) as info:
            parse(text)
        assert info.value.code == "malformed_response", name
        assert "deeper than the limit of 64" in str(info.value)


@pytest.mark.parametrize(
    "text",
    [
        '{"retCode":"00000","retBody":"{\\"realFee\\": 1' + "0" * 5000 + '}"}',
        '{"retCode":"00000","retBody":"{\\"realFee\\": NaN}"}',
        '{"retCode":"00000","retBody":"{\\"realFee\\": 1e4000000000000000000}"}',
        '{"retCode":"00000","serialNo":1.5e4000000000000000000}',
        '{"retCode":"00000","retBody":"{\\"realFee\\": \\"\\\\ud800\\"}"}',
        '{"retCode":"' + "0" * 33 + '"}',
        '{"retCode":"00\\u000000"}',
        '{"retCode": 0}',
        "x" * (MAX_ANSWER_CHARS + 1),
    ],
)
def test_hostile_answers_are_carrier_errors(text: str) -> None:
    for name, parse in ANSWER_PARSERS.items():
        with pytest.raises(CarrierError) as info:
            parse(text)
        assert info.value.retryable is (info.value.code == "malformed_response"), name
        assert info.value.raw == text


def test_non_ascii_digits_in_the_code_are_a_refusal_not_success() -> None:
    text = '{"retCode":"' + "٠" * 5 + '","retMsg":"成功"}'  # Arabic-Indic zeros
    assert parse_reply(text, "040001").ok is False
    with pytest.raises(CarrierError) as info:
        parse_track(text)
    assert (info.value.code, info.value.retryable) == ("٠" * 5, False)


@pytest.mark.parametrize(
    "fee", ['"1E+400"', '"1e-999999999"', "1e400", '"١٢.٨٠"', '"-12.80"', '"Infinity"', '"x"']
)
def test_unreadable_fees_are_refused(fee: str) -> None:
    text = frame('{"realFee": ' + fee + "}")
    with pytest.raises(CarrierError, match="no readable 'realFee'") as info:
        parse_freight_estimate(text, QUOTE)
    assert info.value.code == "malformed_response"


def test_a_numeric_waybill_is_read() -> None:
    booking = parse_create_order(
        frame('{"waybillNo": 1152012345801}'), sample_booking_request("X-1"), received_at=NOW
    )
    assert str(booking.tracking_number) == "1152012345801"


@pytest.mark.parametrize("waybill", ['["1152012345801"]', "true", '"' + "1" * 100 + '"', "-1"])
def test_a_waybill_that_is_not_a_number_is_malformed(waybill: str) -> None:
    with pytest.raises(CarrierError) as info:
        parse_create_order(
            frame('{"waybillNo": ' + waybill + "}"), sample_booking_request("X-1"), received_at=NOW
        )
    assert info.value.code == "malformed_response"


def test_a_long_carrier_message_is_cut_in_the_reply_and_kept_in_raw() -> None:
    text = json.dumps({"retCode": "B00001", "retMsg": "错" * 5000})
    reply = parse_reply(text, "020003")
    assert reply.ret_msg == "错" * 1000
    assert reply.raw == text


# --- duplicates by code, not by wording ----------------------------------------------------------


def test_only_a_duplicate_code_is_a_duplicate_order() -> None:
    coded = parse_reply(recorded("create_order_duplicate"), "020003")
    worded = parse_reply('{"retCode":"B00099","retMsg":"请勿重复提交"}', "020003")
    assert (coded.is_duplicate_order, coded.mentions_duplicate) == (True, False)
    assert (worded.is_duplicate_order, worded.mentions_duplicate) == (False, True)
    assert "B00010" in DUPLICATE_ORDER_CODES


@pytest.mark.parametrize(
    ("message", "body"),
    [
        ("请勿重复提交", None),  # do not resubmit: said of an order never created
        ("订单已存在", None),
        ("订单已存在", '{"waybillNo":"1152012345801"}'),
    ],
)
def test_duplicate_wording_without_a_duplicate_code_is_never_a_booking(
    message: str, body: str | None
) -> None:
    """Regression: "请勿重复提交" was read as "duplicate order" of an order never created."""
    text = json.dumps({"retCode": "B00099", "retMsg": message, "retBody": body})
    with pytest.raises(CarrierError) as info:
        parse_create_order(text, sample_booking_request("GZ-9"), received_at=NOW)
    assert info.value.code == UNCONFIRMED_DUPLICATE == "duplicate_unconfirmed"
    assert info.value.retryable is False
    assert info.value.raw == text
    assert "GZ-9" in str(info.value)
    assert "not booked until confirmed" in str(info.value)
    expected = "1152012345801" if body else None
    assert parse_reply(str(info.value.raw), "020003").waybill == expected


def test_a_refusal_without_duplicate_words_keeps_its_code() -> None:
    with pytest.raises(CarrierError) as info:
        parse_create_order(
            recorded("create_order_invalid_mobile"), sample_booking_request("X"), received_at=NOW
        )
    assert info.value.code == "B00001"


# --- fuzzing every answer parser -----------------------------------------------------------------

#: Digits that are not ASCII, and text that looks like numbers to str.isdigit or int().
ODD_DIGITS = ["٣", "２", "²", "߀", "𝟗", "Ⅻ", "1e400", "1" * 5000, "-0", "NaN", "0x1F"]


@st.composite
def mutated_answers(draw: st.DrawFn) -> str:
    """A genuine answer with a few edits: to its text, or to its retBody before re-sealing."""
    text = draw(st.sampled_from(GENUINE))
    inner = draw(st.booleans())
    document = json.loads(text)
    target = document["retBody"] if inner and isinstance(document["retBody"], str) else text
    for _ in range(draw(st.integers(1, 4))):
        at = draw(st.integers(0, len(target)))
        end = draw(st.integers(at, min(len(target), at + 40)))
        edit = draw(st.sampled_from(["delete", "insert", "duplicate", "digits", "nest", "number"]))
        if edit == "delete":
            target = target[:at] + target[end:]
        elif edit == "insert":
            target = target[:at] + draw(st.text(max_size=12)) + target[at:]
        elif edit == "duplicate":
            target = target[:at] + target[at:end] * draw(st.integers(2, 50)) + target[at:]
        elif edit == "digits":
            odd = draw(st.sampled_from(ODD_DIGITS))
            target = (
                target[:at]
                + "".join(odd if c.isdigit() else c for c in target[at:end])
                + target[end:]
            )
        elif edit == "nest":
            depth = draw(st.integers(1, 200))
            target = target[:at] + "[" * depth + target[at:end] + "]" * depth + target[end:]
        else:
            target = target[:at] + draw(st.sampled_from(ODD_DIGITS)) + target[end:]
    if target is text or not inner:
        return target
    document["retBody"] = target
    return json.dumps(document, ensure_ascii=draw(st.booleans()))


json_scalars = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=20)
    | st.sampled_from(ODD_DIGITS)
)
json_values = st.recursive(
    json_scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner),
    max_leaves=6,
)
known_keys = st.sampled_from(
    ["waybillNo", "opCode", "opTime", "realFee", "totalFee", "responseItems", "traces"]
)
bodies = st.recursive(
    json_values,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(known_keys, inner, max_size=4),
    max_leaves=10,
)


@fuzz
@given(st.text(max_size=400) | st.binary(max_size=200).map(lambda b: b.decode("latin-1")))
def test_answer_parsers_are_total_on_random_text(text: str) -> None:
    """Whatever text EMS sends, every answer parser gives a result or a GovpostError."""
    parses_or_refuses(text)


@fuzz
@given(mutated_answers())
def test_answer_parsers_are_total_on_mutated_genuine_answers(text: str) -> None:
    """Recorded answers of EMS with edits (deletions, nesting, odd digits) never crash a parser."""
    parses_or_refuses(text)


@fuzz
@given(
    st.sampled_from(["00000", "B00010", "B00099", "S00001", "٠٠٠٠٠", ""]),
    st.sampled_from(["成功", "请勿重复提交", "订单已存在", "已取消", ""]) | st.text(max_size=20),
    bodies,
    st.sampled_from(["string", "object", "absent"]),
)
def test_answer_parsers_are_total_on_generated_frames(
    code: str, message: str, body: object, shape: str
) -> None:
    """Frames with any code, message and retBody (as JSON text, inline, or none) never crash."""
    document: dict[str, Any] = {"retCode": code, "retMsg": message}
    if shape == "string":
        document["retBody"] = json.dumps(body)
    elif shape == "object":
        document["retBody"] = body
    parses_or_refuses(json.dumps(document))


@fuzz
@given(
    st.integers(1, 1500),
    st.sampled_from(["[", '{"a":', '[{"waybillNo":']),
    st.booleans(),
)
def test_answer_parsers_are_total_on_deep_nesting(depth: int, opener: str, inner: bool) -> None:
    """Nesting of any depth, closed or not, is read or refused, never a RecursionError."""
    closer = {"[": "]", '{"a":': "}", '[{"waybillNo":': "}]"}[opener]
    nested = opener * depth + "1" + closer * depth
    text = frame(nested) if inner else '{"retCode":"00000","retBody":' + nested + "}"
    parses_or_refuses(text)
    parses_or_refuses(text[: len(text) // 2])
