"""Privacy: personal data never leaves govpost unmasked — not in a repr, a message or a log.

Two parts. The scrubber (:func:`govpost.privacy.scrub`) is tested against generated mobile
and ID numbers written in every common way and embedded in text. Then generated people go
through every path that turns data into text — reprs, validation errors, carrier flows
(sandbox and the EMS adapter against a real loopback server) with logging at DEBUG — and
none of their data comes out whole.
"""

from __future__ import annotations

import json
import logging
import re
import time
import unicodedata
import warnings
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import attrs
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from govpost import (
    CarrierError,
    Division,
    GovpostError,
    Money,
    Recipient,
    Shipment,
    TrackingEvent,
    TrackingNumber,
    WorkCalendar,
    from_json,
    s10_check_digit,
    validate_id_number,
    validate_mobile,
    validate_uscc,
)
from govpost.agreements import business_date
from govpost.carriers import BookingRequest, PushMessage, QuoteRequest, load
from govpost.carriers.ems.codes import UnknownOpCodeWarning
from govpost.carriers.ems.parse import parse_create_order, parse_reply, parse_time, parse_track
from govpost.carriers.sandbox import SandboxCarrier
from govpost.carriers.webhooks import PushInbox
from govpost.privacy import ScrubbingFilter, scrub
from govpost.settlement import CarrierBill, Period
from govpost.testing import FakeEmsServer, Fault, push_body, sample_booking_request
from tests.strategies import (
    addresses,
    id_numbers,
    names,
    number_followers,
    number_neighbours,
    written_id_numbers,
    written_mobiles,
)

SHANGHAI = ZoneInfo("Asia/Shanghai")


#: How ``repr`` writes a tab, a newline, a no-break or an ideographic space: a reader still
#: sees the groups of a number on either side.
_ESCAPES = re.compile(r"\\(?:[tnrfv]|x[0-9a-fA-F]{2}|u[0-9a-fA-F]{4})")
_GAPS = re.compile(r"[\s\-.\u2010-\u2015\u2212\uff0d\uff0e]+")
_NUMBER = re.compile(r"\+?[0-9]{11,}[Xx]?")


def readable(text: str) -> str:
    """``text`` as a reader sees the numbers in it: escaped spaces and every separator gone,
    digits of any script as ASCII."""
    text = _GAPS.sub("", _ESCAPES.sub("", text))
    return "".join(str(unicodedata.decimal(c)) if c.isdecimal() else c for c in text)


def assert_hidden(text: str, *secrets: str) -> None:
    """None of ``secrets`` appears in ``text``; nor does a secret number in any form a reader
    would still read it in (groups parted by escapes such as ``\\t`` or ``\\xa0``, other
    separators, full-width digits)."""
    for secret in secrets:
        assert secret not in text, f"{secret!r} leaked into {text!r}"
        number = readable(secret)
        if _NUMBER.fullmatch(number):
            assert number not in readable(text), f"{secret!r} leaked into {text!r}"


# --- the scrubber -------------------------------------------------------------------------------


@given(written_mobiles(), number_neighbours, number_followers)
def test_scrub_masks_mobile_numbers_however_written(
    mobile: tuple[str, str], before: str, after: str
) -> None:
    """Neither the mobile as written nor its 11 digits survive scrub, in any surroundings."""
    written, digits = mobile
    text = f"{before}{written}{after}"
    scrubbed = scrub(text)
    assert_hidden(scrubbed, written, digits)
    assert before.rstrip("0123456789 -") in scrubbed  # the words around are left alone


@given(written_id_numbers(), number_neighbours, number_followers)
def test_scrub_masks_id_numbers_however_written(
    number: tuple[str, str], before: str, after: str
) -> None:
    """Neither the ID number as written nor its compact form survive scrub."""
    written, compact = number
    scrubbed = scrub(f"{before}{written}{after}")
    assert_hidden(scrubbed, written, compact, compact.lower())


@given(st.lists(written_mobiles() | written_id_numbers(), min_size=2, max_size=4), st.data())
def test_scrub_masks_every_number_of_a_text(numbers: list[tuple[str, str]], data: Any) -> None:
    """Several numbers side by side, with any separators between them, are all masked."""
    glue = st.sampled_from([" ", "、", "; ", " / ", "，电话 ", "\n"])
    text = numbers[0][0] + "".join(data.draw(glue) + written for written, _ in numbers[1:])
    scrubbed = scrub(text)
    for written, compact in numbers:
        assert_hidden(scrubbed, written, compact)


@given(written_mobiles() | written_id_numbers(), number_neighbours, number_followers)
def test_scrub_is_idempotent(number: tuple[str, str], before: str, after: str) -> None:
    """Scrubbing scrubbed text changes nothing: the masks hold no recognisable number."""
    once = scrub(f"{before}{number[0]}{after}")
    assert scrub(once) == once


@given(st.text().filter(lambda t: not re.search(r"\d", t)))
def test_scrub_leaves_text_without_digits_alone(text: str) -> None:
    """Without digits (and without known values) there is nothing to mask."""
    assert scrub(text) == text


@pytest.mark.parametrize(
    "text",
    [
        "waybill EA123456785CN, domestic 1012345678501",
        "ems:1012345678501:704:20240603101500:52000100",
        "12.50 CNY on 2024-06-03 10:15:00+08:00",
        "order GZ-520100-2024-000123, statement GZ-EMS-2018-2018-06-3f2a",
        "weight 1200 g, 3 pieces, region 520102",
    ],
)
def test_scrub_keeps_the_numbers_that_are_not_personal(text: str) -> None:
    """Waybills, amounts, timestamps, order ids and codes stay readable."""
    assert scrub(text) == text


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("+86 139 8521 2345", "+86 139****2345"),
        ("139-8521-2345", "139****2345"),
        ("139 8521 2345", "139****2345"),
        ("(+86)13985212345", "(+86)139****2345"),
        ("0086-139-8521-2345", "0086-139****2345"),
        ("１３９８５２１２３４５", "139****2345"),
        ("139 - 8521.2345", "139****2345"),
        ("520102 19900307 1236", "520102********1236"),
        ("520102-1990-0307-123x", "520102********123X"),
        ("5201 0219 9003 0712 36", "520102********1236"),
        ("520102900307123", "520102******123"),
        (
            "电话13985212345，身份证520102199003071236。",
            "电话139****2345，身份证520102********1236。",
        ),
    ],
)
def test_scrub_masks_the_formats_that_leaked(text: str, expected: str) -> None:
    """Regression: the first scrubber passed ``+86 139 8521 2345`` and spaced ID numbers."""
    assert scrub(text) == expected


@given(names, addresses)
def test_scrub_masks_known_values_wherever_they_appear(name: str, address: str) -> None:
    """Names and addresses cannot be recognised, but known ones are masked like names."""
    text = f"收件人{name}，地址{address}；{name}本人签收"
    scrubbed = scrub(text, known=(name, address))
    assert_hidden(scrubbed, name, address)
    assert scrubbed.startswith(f"收件人{name[0]}")


def test_scrub_ignores_known_values_too_short_to_search() -> None:
    assert scrub("张三 and 李四", known=("张", "", "李四")) == "张三 and 李*"


def test_scrub_takes_anything() -> None:
    assert scrub(13985212345) == "139****2345"
    assert scrub(None) == "None"


# --- the logging filter -------------------------------------------------------------------------


@pytest.fixture
def scrubbed_logger() -> Iterator[tuple[logging.Logger, list[logging.LogRecord]]]:
    logger = logging.getLogger("tests.privacy")
    records: list[logging.LogRecord] = []

    class Keep(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            records.append(record)

    handler = Keep()
    handler.addFilter(ScrubbingFilter(known=("欧阳娜娜",)))
    handler.setFormatter(logging.Formatter("%(message)s"))
    logger.addHandler(handler)
    logger.setLevel(logging.DEBUG)
    logger.propagate = False
    yield logger, records
    logger.removeHandler(handler)


def test_the_filter_scrubs_messages_arguments_and_tracebacks(
    scrubbed_logger: tuple[logging.Logger, list[logging.LogRecord]],
) -> None:
    logger, records = scrubbed_logger
    logger.debug("calling %s for %s", "+86 139 8521 2345", "欧阳娜娜")
    try:
        raise ValueError("ID 520102 19900307 1236")
    except ValueError:
        logger.exception("failed for %s", "13985212345")
    first, second = records
    assert first.getMessage() == "calling +86 139****2345 for 欧阳**"
    assert second.getMessage() == "failed for 139****2345"
    assert second.exc_info is None
    assert second.exc_text is not None
    assert "ValueError: ID 520102********1236" in second.exc_text
    assert_hidden(logging.Formatter().format(second), "19900307", "13985212345")


def test_govpost_loggers_carry_the_filter() -> None:
    """The carriers' logger is scrubbed whatever handlers the application attaches."""
    import govpost.carriers._http  # noqa: F401  (creates the logger)

    logger = logging.getLogger("govpost.carriers")
    assert any(isinstance(f, ScrubbingFilter) for f in logger.filters)


# --- every path from data to text --------------------------------------------------------------


@attrs.frozen
class Person:
    name: str
    mobile: str
    written_mobile: str
    id_number: str
    address: str

    @property
    def secrets(self) -> tuple[str, ...]:
        return (self.name, self.mobile, self.written_mobile, self.id_number, self.address)

    def recipient(self) -> Recipient:
        return Recipient(name=self.name, mobile=self.written_mobile, address=self.address)

    def note(self) -> str:
        return f"{self.name} {self.written_mobile}，身份证 {self.id_number}，{self.address}"


@st.composite
def people(draw: st.DrawFn) -> Person:
    written, digits = draw(written_mobiles())
    return Person(
        name=draw(names),
        mobile=digits,
        written_mobile=written,
        id_number=draw(id_numbers()),
        address=draw(addresses),
    )


def request_for(
    person: Person, order_id: str, created_at: datetime | None = None
) -> BookingRequest:
    """A booking to ``person``, whose data fills every text field of the request."""
    base = sample_booking_request(order_id, created_at=created_at)
    shipment = attrs.evolve(base.shipment, recipient=person.recipient())
    return attrs.evolve(
        base,
        shipment=shipment,
        contents=f"{person.name}的驾驶证",
        pickup_notes=person.note(),
    )


def texts_of(value: object) -> list[str]:
    return [repr(value), str(value)]


@settings(max_examples=50)
@given(people())
def test_reprs_hold_no_personal_data(person: Person) -> None:
    """repr and str of every model holding personal data show it masked, or not at all."""
    request = request_for(person, "GZ-PRIVACY-1")
    event = TrackingEvent(
        event_id="ev-1",
        tracking_number="EA123456785CN",
        status="delivered",
        occurred_at=datetime(2024, 6, 4, 10, 0, tzinfo=SHANGHAI),
        description=f"已签收，签收人：{person.note()}",
    )
    shown = [
        *texts_of(person.recipient()),
        *texts_of(request.shipment),
        *texts_of(request),
        *texts_of(event),
        *texts_of(PushMessage(message_id="m-1", events=(event,))),
        *texts_of(attrs.evolve(request.shipment, tracking_number="EA123456785CN").apply(event)),
    ]
    for text in shown:
        assert_hidden(text, *person.secrets)


def failures(person: Person) -> tuple[list[Callable[[], object]], list[Callable[[], object]]]:
    """Calls that fail on purpose with the person's data as (part of) the bad value: those of
    personal fields, and those of other fields (where only numbers can be recognised)."""
    p = person
    bad_mobiles = [f"{p.name} {p.written_mobile}", p.id_number, p.mobile + "0", f"{p.address}"]
    bad_ids = [f"{p.name}{p.id_number}", p.id_number[:-1] + "Y", p.name + p.id_number[:16]]
    junk = [p.written_mobile, p.id_number, f"{p.name} {p.written_mobile}", p.note()]
    personal: list[Callable[[], object]] = [
        *(lambda v=v: validate_mobile(v) for v in bad_mobiles),
        *(lambda v=v: Recipient(name=p.name, mobile=v) for v in bad_mobiles),
        *(lambda v=v: validate_id_number(v) for v in bad_ids),
        lambda: Recipient(name=p.name + "\ud800"),
        lambda: Recipient(name=p.written_mobile + "x" * 100),
        lambda: BookingRequest(
            shipment=request_for(p, "GZ-PRIVACY-2").shipment,
            sender=Recipient(name=p.name, address=p.address),
        ),
        lambda: attrs.evolve(request_for(p, "GZ-PRIVACY-3"), pickup_notes=p.note() * 50),
        lambda: from_json(f'{{"name": "{p.name}", "mobile": {p.mobile}}}', Recipient),
        lambda: from_json(f'{{"name": "{p.name}", "mobile": "{p.id_number}"}}', Recipient),
        lambda: from_json(f'{{"name": "{p.name}\\ud800"}}', Recipient),
        lambda: Division.parse(f"{p.name} {p.written_mobile}"),
        lambda: Division(code=f"{p.name}{p.id_number}"),
        lambda: TrackingNumber.parse(f"{p.name}{p.written_mobile}"),
    ]
    other: list[Callable[[], object]] = [
        *(lambda v=v: validate_uscc(v) for v in junk),
        *(lambda v=v: TrackingNumber.parse(v) for v in junk),
        *(lambda v=v: s10_check_digit(v) for v in junk),
        *(lambda v=v: Money(v) for v in junk if not v.isdigit()),
        lambda: validate_uscc(int(p.mobile)),
        lambda: Shipment(
            id=p.written_mobile,
            center="GZ-520100",
            business_line="licence_delivery",
            direction="outbound_result",
            origin="520102",
            destination="520302",
            weight_g=250,
            created_at=datetime(2024, 6, 3, tzinfo=SHANGHAI),
        ),
        lambda: TrackingEvent(
            event_id=f"ev {p.written_mobile}",
            tracking_number="EA123456785CN",
            status="created",
            occurred_at=datetime(2024, 6, 3, tzinfo=SHANGHAI),
        ),
        lambda: from_json(f'{{"name": "{p.name}", "{p.mobile}": 1}}', Recipient),
        lambda: from_json(f'{{"amount": "{p.mobile}x"}}', Money),
        # Junk in fields that are not personal, typed or pasted there by mistake.
        lambda: Money([p.written_mobile]),
        lambda: Money({p.written_mobile: p.id_number}),
        lambda: Period.parse(p.written_mobile),
        lambda: Period.month(p.note(), 1),
        lambda: Division(code=p.written_mobile),
        lambda: business_date(p.note()),
        lambda: WorkCalendar.china().is_workday(p.note()),
        lambda: parse_time(p.written_mobile),
        lambda: SandboxCarrier().cancel(f"{'x' * 30}{p.written_mobile}"),
        lambda: QuoteRequest(origin="520102", destination="520302", weight_g=p.written_mobile),
        lambda: attrs.evolve(request_for(p, "GZ-PRIVACY-4").shipment, weight_g=p.written_mobile),
        lambda: attrs.evolve(request_for(p, "GZ-PRIVACY-5").shipment, declared_value=p.note()),
        lambda: attrs.evolve(
            request_for(p, "GZ-PRIVACY-6").shipment, tracking_number="EA123456785CN"
        ).apply(p.note()),  # type: ignore[arg-type]
        lambda: CarrierBill.from_text(f"{p.written_mobile},{p.id_number}\n"),
        lambda: CarrierBill.from_text(
            f"运单号,揽收日期,费用类型,金额\nEA1,2018-06-03,邮费,{'x' * 30}{p.written_mobile}\n"
        ),
    ]
    return personal, other


@settings(max_examples=30)
@given(people())
def test_error_messages_hold_no_personal_data(person: Person) -> None:
    """Every validation error about a personal value shows it masked, or not at all."""
    personal, other = failures(person)
    refused = 0
    for call in personal + other:
        try:
            call()
        except GovpostError as exc:
            refused += 1
            for text in (str(exc), repr(exc)):
                assert len(text) < 600, text  # short, however long the junk
                assert_hidden(text, person.mobile, person.written_mobile, person.id_number)
                assert_hidden(text, person.address)
                if call in personal:  # fields known to be personal never show the name either
                    assert_hidden(text, person.name)
        else:
            assert call not in personal, "a bad personal value was accepted"
    # An ID number may pass as a USCC or an amount by chance; nothing else is accepted.
    assert refused >= len(personal) + len(other) - 3


def test_the_four_leaky_messages_are_mended() -> None:
    """Regression: these messages showed a name, a mobile or an ID number."""
    cases: list[tuple[Callable[[], object], str]] = [
        (lambda: validate_mobile("欧阳娜娜 139 8521 2345"), "欧阳娜"),
        (lambda: validate_id_number("张三5201021990030712"), "张三"),
        (lambda: validate_uscc("张三 139 8521 2345"), "13985212345"),
        (lambda: TrackingNumber.parse("+86 139 8521 2345"), "13985212345"),
    ]
    for call, secret in cases:
        with pytest.raises(GovpostError) as info:
            call()
        assert_hidden(str(info.value), secret, "张三", "13985212345")
    request = attrs.evolve(sample_booking_request("GZ-7"), pickup_notes="先打 139 8521 2345")
    assert repr(request).endswith("pickup_notes=<16 characters>)")


@pytest.mark.parametrize(
    "junk",
    [
        "139\t8521\t2345",  # a spreadsheet's cells pasted together
        "139\xa08521\xa02345",  # a no-break space, from a web page
        "１３９\u3000８５２１\u3000２３４５",  # an ideographic space, from a Chinese input method
        "139\n8521\n2345",
        "520102\t19900307\t1236",
    ],
)
def test_numbers_parted_by_escaped_spaces_are_masked(junk: str) -> None:
    """Regression: messages showed junk as its repr, scrubbed after repr had written the
    spaces between the groups as escapes (``'139\\t8521\\t2345'``), which the scrubber did
    not take for separators: the number came out whole."""
    calls: list[Callable[[], object]] = [
        lambda: Money(junk),
        lambda: Money([junk]),
        lambda: s10_check_digit(junk),
        lambda: Period.parse(junk),
        lambda: Division.parse(junk),
        lambda: business_date(junk),  # type: ignore[arg-type]
        lambda: WorkCalendar.china().is_workday(junk),  # type: ignore[arg-type]
    ]
    for call in calls:
        with pytest.raises(GovpostError) as info:
            call()
        assert_hidden(str(info.value), "13985212345", "520102199003071236")


PERSON = Person(
    name="欧阳娜娜",
    mobile="13985212345",
    written_mobile="+86 139 8521 2345",
    id_number="520102199003071236",
    address="贵州省贵阳市南明区中华南路1号",
)


def _answer(*traces: dict[str, object], **frame: object) -> str:
    body = {"waybillNo": "EA123456785CN", "responseItems": list(traces)}
    return json.dumps({"retCode": "00000", "retBody": json.dumps(body), **frame})


_TRACE = {"waybillNo": "EA123456785CN", "opCode": "203", "opTime": "2024-06-03 10:15:00"}


def test_ems_answers_with_personal_data_in_odd_places() -> None:
    """Regression: a carrier's answer put into messages and warnings unmasked or cut before it
    was scrubbed — its code, a waybill it named, an operation code and its name, the end of a
    long message cut in the middle of a number (``1398521`` shows what ``139****2345`` hides)."""
    p = PERSON
    hidden_part = p.mobile[:7]  # what a cut would show that the mask hides
    request = request_for(p, "GZ-EMS-ODD")
    failing: list[Callable[[], object]] = [
        lambda: parse_track(json.dumps({"retCode": p.mobile, "retMsg": "系统繁忙"})),
        lambda: parse_track(json.dumps({"retCode": "S00001", "retMsg": "错" * 993 + p.mobile})),
        lambda: parse_track(_answer(_TRACE | {"opCode": "x" * 10 + p.mobile})),
        lambda: parse_track(_answer(_TRACE | {"waybillNo": "x" * 60 + p.mobile})),
        lambda: parse_track(_answer(_TRACE | {"waybillNo": p.note()})),
        lambda: parse_track(_answer(_TRACE | {"opTime": p.written_mobile})),
        lambda: parse_create_order(
            json.dumps(
                {
                    "retCode": p.mobile,
                    "retMsg": "重复下单",
                    "retBody": json.dumps({"waybillNo": p.note()}),
                }
            ),
            request,
            received_at=datetime(2024, 6, 3, tzinfo=SHANGHAI),
        ),
    ]
    for call in failing:
        with pytest.raises(CarrierError) as info:
            call()
        message = str(info.value)
        assert len(message) < 1_500
        assert_hidden(message, *p.secrets)
        assert hidden_part not in readable(message), message
    assert_hidden(repr(parse_reply(json.dumps({"retCode": p.mobile}), "040001")), p.mobile)
    (event,) = parse_track(_answer(_TRACE | {"opDesc": "签收" * 246 + p.mobile}))  # cut at 500
    assert event.description is not None
    assert hidden_part not in readable(event.description), event.description
    unknown = _TRACE | {"opCode": p.mobile, "opName": p.note() * 200}
    with pytest.warns(UnknownOpCodeWarning) as caught:
        parse_track(_answer(unknown))
    for warning in caught:
        assert len(str(warning.message)) < 600
        assert_hidden(str(warning.message), p.mobile, p.written_mobile, p.id_number)


def _best_time(action: Callable[[], object]) -> float:
    best = float("inf")
    for _ in range(3):
        start = time.perf_counter()
        action()
        best = min(best, time.perf_counter() - start)
    return best


@pytest.mark.parametrize("unit", ["1 ", "１ ", "139-8521-2345-", "13985212345 ", "1 - "])
def test_scrub_is_linear_in_the_length_of_the_text(unit: str) -> None:
    """Regression: scrub re-joined a run's digits at each number it chained (``1 1 1 1 …``)
    and copied the rest of the run for each mobile it found: quadratic. A 40 KB bill cell took
    4 s, and the scrubbing log filter any long message. Ten times the text costs about ten
    times as much (compared as a ratio, never against the clock)."""
    small, large = unit * 1_000, unit * 10_000
    ratio = _best_time(lambda: scrub(large)) / _best_time(lambda: scrub(small))
    assert ratio < 25


# --- carrier flows, logged at DEBUG -------------------------------------------------------------


class LogTexts(logging.Handler):
    """Every record of every logger, formatted with its traceback, at DEBUG; warnings too."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.texts: list[str] = []
        self.setFormatter(logging.Formatter("%(name)s %(levelname)s %(message)s"))

    def emit(self, record: logging.LogRecord) -> None:
        self.texts.append(self.format(record))

    def __enter__(self) -> LogTexts:
        root = logging.getLogger()
        self._level = root.level
        root.addHandler(self)
        root.setLevel(logging.DEBUG)
        logging.captureWarnings(True)
        self._warnings = warnings.catch_warnings()
        self._warnings.__enter__()
        warnings.simplefilter("always")
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._warnings.__exit__(*exc_info)
        logging.captureWarnings(False)
        root = logging.getLogger()
        root.removeHandler(self)
        root.setLevel(self._level)


def attempt(shown: list[str], call: Callable[[], Any]) -> Any:
    """Call; keep the texts of its result, or of the govpost error it raised."""
    try:
        result = call()
    except GovpostError as exc:
        shown += [str(exc), repr(exc)]
        return None
    shown += texts_of(result)
    return result


@settings(max_examples=10, deadline=None)
@given(people())
def test_a_sandbox_flow_logs_no_personal_data(person: Person) -> None:
    """Quote, book, track, push, cancel through the sandbox: nothing personal in any text."""
    shown: list[str] = []
    with LogTexts() as logs:
        far = datetime(2030, 1, 1, tzinfo=UTC)
        sandbox = SandboxCarrier(seed=7, clock=lambda: far)
        created = datetime(2024, 6, 3, 9, tzinfo=SHANGHAI)
        request = request_for(person, "GZ-SANDBOX-1", created_at=created)
        attempt(shown, lambda: sandbox.quote(QuoteRequest.for_shipment(request.shipment)))
        booking = attempt(shown, lambda: sandbox.book(request))
        events = attempt(shown, lambda: sandbox.track(booking.tracking_number))
        body, headers = sandbox.push(booking.tracking_number)
        attempt(shown, lambda: sandbox.parse_push(body, headers))
        attempt(shown, lambda: sandbox.parse_push(body + b" ", headers))
        attempt(shown, lambda: sandbox.cancel(request.order_id))
        booked = attrs.evolve(request.shipment, tracking_number=booking.tracking_number)
        attempt(shown, lambda: booked.apply(*events))
    assert len(shown) >= 12
    for text in [*shown, *logs.texts]:
        assert_hidden(text, *person.secrets)


@settings(max_examples=5, deadline=None)
@given(people())
def test_an_ems_flow_logs_no_personal_data(person: Person) -> None:
    """Quote, book (with retried failures and refusals carrying personal data), track, read a
    push, all over HTTP to a real loopback EMS server: nothing personal in any text."""
    shown: list[str] = []
    with (
        LogTexts() as logs,
        FakeEmsServer() as server,
        load("ems", **server.carrier_config()) as ems,
    ):
        request = request_for(person, "GZ-EMS-1")
        attempt(shown, lambda: ems.quote(QuoteRequest.for_shipment(request.shipment)))
        server.inject(Fault.SERVER_ERROR, api_code="020003")
        booking = attempt(shown, lambda: ems.book(request))
        server.inject(
            Fault.RET_CODE,
            ret_code="B00011",
            ret_msg=f"收件人电话{person.written_mobile}有误，身份证{person.id_number}",
        )
        attempt(shown, lambda: ems.book(request_for(person, "GZ-EMS-2")))
        waybill = booking.tracking_number.value
        at = datetime(2024, 6, 3, 15, 0, tzinfo=SHANGHAI)
        server.scan(waybill, "203", at, description=f"已收寄，电话 {person.written_mobile}")
        scan = server.scan(
            waybill,
            "999",
            at + timedelta(days=1),
            description=f"签收人身份证 {person.id_number}",
        )
        scan["opName"] = f"代收 {person.written_mobile}"
        attempt(shown, lambda: ems.track(booking.tracking_number))
        body = push_body(server.traces(waybill), server.sign_key)
        attempt(shown, lambda: ems.parse_push(body, {"Content-Type": "application/json"}))
        # A "delivered" the carrier's tracking never recorded, full of personal data: the
        # inbox withholds it and logs it as a suspected forgery.
        forged = FakeEmsServer().scan(
            waybill, "704", at + timedelta(days=2), description=f"{person.note()} 本人签收"
        )
        forged["opName"] = f"代收 {person.name} {person.written_mobile}"
        inbox = PushInbox(ems, max_age=timedelta(days=100_000))
        forged_body = push_body([forged], server.sign_key)
        attempt(shown, lambda: inbox.receive(forged_body, {"Content-Type": "application/json"}))
        assert inbox.withheld == 1
        shown += [repr(inbox.withheld_events), str(inbox.withheld_events)]
    assert any("suspected forgery" in text for text in logs.texts)
    assert any("retry" in text for text in logs.texts)  # the retried failure was logged
    assert any("999" in text for text in logs.texts)  # so was the unknown operation code
    for text in [*shown, *logs.texts]:
        assert_hidden(text, *person.secrets)


def test_the_filter_never_raises_on_a_bad_format_string(
    scrubbed_logger: tuple[logging.Logger, list[logging.LogRecord]],
) -> None:
    """logging never raises into the caller; the filter keeps it so."""
    logger, records = scrubbed_logger
    logger.warning("%d items for %s", "x", "13985212345")
    assert records[0].getMessage() == "%d items for %s ('x', '139****2345')"


def test_scrubbing_twice_masks_what_scrubbing_once_did() -> None:
    """Regression (found by the idempotence property): a date before a 0086 mobile was, after one
    scrub, digits glued to the mask ("…0086 130****0000") that the second scrub read as a
    15-digit ID number. A run glued to a mask does not end an ID there."""
    once = scrub("2024-06-03 0086 13000000000")
    assert once == "2024-06-03 0086 130****0000"
    assert scrub(once) == once
    assert scrub("**139 8521 2345**") == "**139****2345**"
    assert scrub("**520102199003071236**") == "**520102********1236**"


def test_a_masked_numbers_tail_starts_no_new_number() -> None:
    """Regression (found by test_scrub_is_idempotent): after one scrub, the kept tail of a
    15-digit ID ("…130") and a date after it ("2024-06-03") read as a mobile the second time."""
    once = scrub("110105990101130 2024-06-03")
    assert once == "110105******130 2024-06-03"
    assert scrub(once) == once
    assert scrub("**13985212345**") == "**139****2345**"  # bold: still masked
