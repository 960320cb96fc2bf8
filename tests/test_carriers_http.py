"""The HTTP transport and the EMS adapter against real loopback servers, with faults."""

from __future__ import annotations

import http.server
import socket
import threading
from collections.abc import Iterator
from typing import Any

import pytest
import requests

from govpost.carriers import QuoteRequest, load
from govpost.carriers._http import Transport
from govpost.carriers.ems import EmsCarrier
from govpost.errors import CarrierError, ValidationError
from govpost.identifiers import TrackingNumber
from govpost.money import Money
from govpost.testing import FakeEmsServer, Fault, sample_booking_request

# Tests must not depend on the speed of the machine. A normal answer on loopback takes
# milliseconds, even on a loaded CI machine: NORMAL_TIMEOUT is never reached by one. A test
# that needs a timeout uses FAULT_TIMEOUT, still far above a normal answer, against a fake
# that holds its answer back for HELD (released at once when the server closes).
NORMAL_TIMEOUT = 10.0
FAULT_TIMEOUT = 2.0
HELD = 60.0

# --- a scripted server for the transport ---------------------------------------------------------


class Scripted:
    """Answers each POST with the next (status, body, headers) of its script; counts calls."""

    def __init__(self, *answers: tuple[int, str, dict[str, str]]) -> None:
        self.answers = list(answers)
        self.calls = 0
        script = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: Any) -> None:
                pass

            def do_POST(self) -> None:
                self.rfile.read(int(self.headers.get("Content-Length") or 0))
                script.calls += 1
                status, body, headers = script.answers[min(script.calls, len(script.answers)) - 1]
                data = body.encode()
                self.send_response(status)
                self.send_header("Content-Length", str(len(data)))
                for name, value in headers.items():
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(data)

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        )

    def __enter__(self) -> Scripted:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/"


@pytest.fixture
def transport() -> Iterator[Transport]:
    sleeps: list[float] = []
    t = Transport(timeout=NORMAL_TIMEOUT, retries=2, backoff=0.1, sleep=sleeps.append)
    t.sleeps = sleeps  # type: ignore[attr-defined]
    yield t
    t.close()


def test_success_passes_through(transport: Transport) -> None:
    with Scripted((200, "ok", {})) as server:
        reply = transport.post_form(server.url, {"a": "1"}, retry=True)
    assert (reply.status, reply.text, reply.attempts) == (200, "ok", 1)


def test_5xx_is_retried_with_backoff_when_safe(transport: Transport) -> None:
    with Scripted((503, "busy", {}), (502, "busy", {}), (200, "ok", {})) as server:
        reply = transport.post_form(server.url, {}, retry=True)
        assert server.calls == 3
    assert reply.attempts == 3
    assert transport.sleeps == [0.1, 0.2]  # type: ignore[attr-defined]


def test_5xx_is_not_retried_when_unsafe(transport: Transport) -> None:
    with Scripted((500, "boom", {}), (200, "ok", {})) as server:
        with pytest.raises(CarrierError) as info:
            transport.post_form(server.url, {}, retry=False)
        assert server.calls == 1
    assert info.value.code == "http_500"
    assert info.value.retryable is True
    assert info.value.raw == "boom"


def test_retries_are_bounded(transport: Transport) -> None:
    with Scripted((500, "boom", {})) as server:
        with pytest.raises(CarrierError, match="failed \\(500\\)"):
            transport.post_form(server.url, {}, retry=True)
        assert server.calls == 3


def test_429_honours_retry_after(transport: Transport) -> None:
    with Scripted((429, "slow down", {"Retry-After": "3"}), (200, "ok", {})) as server:
        transport.post_form(server.url, {}, retry=True)
    assert transport.sleeps == [3.0]  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    ("status", "code"), [(401, "http_401"), (403, "http_403"), (400, "http_400")]
)
def test_4xx_is_final(transport: Transport, status: int, code: str) -> None:
    with Scripted((status, "no", {}), (200, "ok", {})) as server:
        with pytest.raises(CarrierError) as info:
            transport.post_form(server.url, {}, retry=True)
        assert server.calls == 1
    assert info.value.code == code
    assert info.value.retryable is False


def test_connection_refused_is_retryable(transport: Transport) -> None:
    # A port we hold bound but never listen on: connecting is refused, and no other process
    # can take the port meanwhile (a closed server's port could be reused).
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as held:
        held.bind(("127.0.0.1", 0))
        url = f"http://127.0.0.1:{held.getsockname()[1]}/"
        with pytest.raises(CarrierError) as info:
            transport.post_form(url, {}, retry=False)
    assert info.value.code == "connection"
    assert info.value.retryable is True
    assert isinstance(info.value.__cause__, requests.exceptions.ConnectionError)


def test_bad_url_is_a_final_carrier_error(transport: Transport) -> None:
    with pytest.raises(CarrierError) as info:
        transport.post_form("not a url", {}, retry=True)
    assert info.value.code == "request"
    assert info.value.retryable is False


@pytest.mark.parametrize("timeout", [0, -1, None, "5", (1, 2, 3), 10_000, True])
def test_every_call_has_a_finite_timeout(timeout: Any) -> None:
    with pytest.raises(ValidationError, match="timeout"):
        Transport(timeout=timeout)


def test_injected_session_is_used_and_left_open() -> None:
    session = requests.Session()
    session.headers["X-Agency"] = "GZ"
    transport = Transport(session, timeout=NORMAL_TIMEOUT)
    with Scripted((200, "ok", {})) as server:
        transport.post_form(server.url, {}, retry=False)
    transport.close()
    assert transport.session is session
    session.close()


# --- the EMS adapter against the fake EMS server -------------------------------------------------


@pytest.fixture
def server() -> Iterator[FakeEmsServer]:
    with FakeEmsServer(timeout_delay=HELD) as fake:
        yield fake


@pytest.fixture
def ems(server: FakeEmsServer) -> Iterator[EmsCarrier]:
    carrier = load("ems", **server.carrier_config(timeout=NORMAL_TIMEOUT))
    assert isinstance(carrier, EmsCarrier)
    with carrier:
        yield carrier


def test_book_track_quote_cancel_round_trip(server: FakeEmsServer, ems: EmsCarrier) -> None:
    booking = ems.book(sample_booking_request("GZ-1"))
    assert str(booking.tracking_number) == server.waybill_of("GZ-1")
    assert booking.duplicate is False
    assert ems.track(booking.tracking_number) == ()
    quote = ems.quote(QuoteRequest(origin="520102", destination="520302", weight_g=1200))
    assert quote.amount == Money("14.00")
    ems.cancel("GZ-1", tracking_number=booking.tracking_number)
    ems.cancel("GZ-1", tracking_number=booking.tracking_number)  # again: not an error
    assert [code for code, _ in server.calls] == [
        "020003",
        "040001",
        "050005",
        "020006",
        "020006",
    ]


def test_timeout_during_create_order_then_retry_books_exactly_once(
    server: FakeEmsServer,
) -> None:
    """The order is created but its answer is lost; the retry is answered "duplicate"."""
    server.inject(Fault.TIMEOUT, api_code="020003")
    with EmsCarrier(**server.carrier_config(timeout=FAULT_TIMEOUT)) as ems:
        booking = ems.book(sample_booking_request("GZ-TIMEOUT"))
    assert server.booked_order_ids == ["GZ-TIMEOUT"]
    assert [code for code, _ in server.calls] == ["020003", "020003"]
    assert booking.duplicate is True
    assert str(booking.tracking_number) == server.waybill_of("GZ-TIMEOUT")


def test_timeout_without_retries_is_retryable_and_booking_again_books_once(
    server: FakeEmsServer,
) -> None:
    with EmsCarrier(**server.carrier_config(timeout=FAULT_TIMEOUT, retries=0)) as ems:
        server.inject(Fault.TIMEOUT, api_code="020003")
        with pytest.raises(CarrierError) as info:
            ems.book(sample_booking_request("GZ-T2"))
        assert info.value.code == "timeout"
        assert info.value.retryable is True
        booking = ems.book(sample_booking_request("GZ-T2"))
    assert server.booked_order_ids == ["GZ-T2"]
    assert str(booking.tracking_number) == server.waybill_of("GZ-T2")


def test_duplicate_order_reply_is_success(server: FakeEmsServer, ems: EmsCarrier) -> None:
    first = ems.book(sample_booking_request("GZ-DUP"))
    server.inject(Fault.DUPLICATE_ORDER)
    again = ems.book(sample_booking_request("GZ-DUP"))
    assert again.tracking_number == first.tracking_number
    assert again.duplicate is True
    assert server.booked_order_ids == ["GZ-DUP"]


@pytest.mark.parametrize("fault", [Fault.SERVER_ERROR, Fault.DROP, Fault.RATE_LIMITED])
def test_transient_faults_are_retried(server: FakeEmsServer, ems: EmsCarrier, fault: Fault) -> None:
    booking = ems.book(sample_booking_request("GZ-2"))
    server.inject(fault, times=2)
    assert ems.track(booking.tracking_number) == ()
    assert server.booked_order_ids == ["GZ-2"]


@pytest.mark.parametrize(
    ("fault", "code"),
    [
        (Fault.SERVER_ERROR, "http_500"),
        (Fault.DROP, "connection"),
        (Fault.MALFORMED_JSON, "malformed_response"),
        (Fault.TIMEOUT, "timeout"),
    ],
)
def test_persistent_faults_surface_as_retryable_carrier_errors(
    server: FakeEmsServer, fault: Fault, code: str
) -> None:
    with EmsCarrier(**server.carrier_config(timeout=FAULT_TIMEOUT, retries=1)) as ems:
        server.inject(fault, times=5)
        with pytest.raises(CarrierError) as info:
            ems.track(TrackingNumber.parse("EA520001879CN"))
    assert info.value.code == code
    assert info.value.retryable is True


def test_slow_reply_within_the_timeout_succeeds(server: FakeEmsServer, ems: EmsCarrier) -> None:
    booking = ems.book(sample_booking_request("GZ-SLOW"))
    server.inject(Fault.SLOW)
    assert ems.track(booking.tracking_number) == ()
    assert [code for code, _ in server.calls] == ["020003", "040001"]


def test_ret_code_errors_keep_code_and_raw(server: FakeEmsServer, ems: EmsCarrier) -> None:
    server.inject(Fault.RET_CODE, ret_code="B00001", ret_msg="收件人手机号13800138000格式不正确")
    with pytest.raises(CarrierError) as info:
        ems.book(sample_booking_request("GZ-BAD"))
    assert info.value.code == "B00001"
    assert info.value.retryable is False
    assert "B00001" in str(info.value.raw)
    assert "13800138000" not in str(info.value)
    assert server.booked_order_ids == []


def test_system_busy_ret_code_is_retryable_by_the_caller(
    server: FakeEmsServer, ems: EmsCarrier
) -> None:
    server.inject(Fault.RET_CODE, ret_code="S00001")
    with pytest.raises(CarrierError) as info:
        ems.track(TrackingNumber.parse("EA520001879CN"))
    assert info.value.retryable is True


def test_wrong_credentials_are_refused(server: FakeEmsServer) -> None:
    with (
        EmsCarrier(**server.carrier_config(authorization="stolen")) as ems,
        pytest.raises(CarrierError) as info,
    ):
        ems.track(TrackingNumber.parse("EA520001879CN"))
    assert info.value.code == "A00001"
    assert info.value.retryable is False


def test_wrong_sign_key_is_refused(server: FakeEmsServer) -> None:
    with (
        EmsCarrier(**server.carrier_config(sign_key="AAECAwQFBgcICQoLDA0ODw==")) as ems,
        pytest.raises(CarrierError) as info,
    ):
        ems.track(TrackingNumber.parse("EA520001879CN"))
    assert info.value.code == "A00002"


def test_cancel_after_pickup_is_refused(server: FakeEmsServer, ems: EmsCarrier) -> None:
    from datetime import UTC, datetime

    booking = ems.book(sample_booking_request("GZ-PICKED"))
    server.scan(str(booking.tracking_number), "203", datetime(2024, 6, 3, 3, tzinfo=UTC))
    with pytest.raises(CarrierError) as info:
        ems.cancel("GZ-PICKED")
    assert info.value.code == "B00021"


def test_misuse_is_a_validation_error_not_a_carrier_error(server: FakeEmsServer) -> None:
    with (
        EmsCarrier(**server.carrier_config()) as ems,
        pytest.raises(ValidationError, match="TrackingNumber") as info,
    ):
        ems.track("EA520001879CN")  # type: ignore[arg-type]
    assert not isinstance(info.value, CarrierError)
    assert server.calls == []


def test_retries_are_logged_without_form_fields(
    transport: Transport, caplog: pytest.LogCaptureFixture
) -> None:
    with Scripted((503, "busy", {}), (200, "ok", {})) as server:
        transport.post_form(server.url, {"mobile": "13800138000"}, retry=True)
    assert "failed (http_503); retry 1 of 2" in caplog.text
    assert "13800138000" not in caplog.text
