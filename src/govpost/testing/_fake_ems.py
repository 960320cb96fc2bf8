"""A loopback EMS open-platform server with switchable faults, for carrier tests."""

from __future__ import annotations

import email.utils
import enum
import http.server
import socket
import struct
import sys
import threading
import time
from collections.abc import Mapping
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any
from urllib.parse import parse_qsl

import attrs

from govpost.carriers._model import utc_now
from govpost.carriers.ems.build import (
    API_CANCEL,
    API_CREATE_ORDER,
    API_FREIGHT_ESTIMATE,
    API_TRACK_QUERY,
    timestamp,
)
from govpost.carriers.ems.codes import OP_CODES
from govpost.carriers.ems.envelope import compact_json, open_envelope
from govpost.errors import ValidationError
from govpost.identifiers import s10_check_digit
from govpost.testing._samples import DEFAULT_SIGN_KEY

__all__ = ["WORDING_ONLY_CODE", "FakeEmsServer", "Fault"]


class Fault(enum.Enum):
    """A failure :class:`FakeEmsServer` can be told to produce.

    "Processing" is the business logic: a create-order call that is processed creates the
    order (once per order id), whatever happens to the answer afterwards.

    .. versionadded:: 0.1.0
    .. versionchanged:: 0.2.0
       ``STALL``, ``RESET``, ``RESET_AFTER``, ``SERVER_ERROR_AFTER``, ``RATE_LIMITED_DATE``,
       ``TRICKLE``, ``NOT_JSON``, ``DEEP_JSON``, ``OVERSIZED``, ``DUPLICATE_WORDING``.
    """

    #: Process the request, then answer only after ``FakeEmsServer.timeout_delay`` seconds:
    #: the client times out although the work was done (the case idempotency keys exist for).
    TIMEOUT = "timeout"
    #: Wait ``FakeEmsServer.timeout_delay`` seconds, then process and answer: the client
    #: gives up first, and the order is created afterwards all the same.
    STALL = "stall"
    #: Answer correctly after ``FakeEmsServer.slow_delay`` seconds.
    SLOW = "slow"
    #: HTTP 500 without processing.
    SERVER_ERROR = "server_error"
    #: Process, then answer HTTP 502 (a gateway failing after the work was done).
    SERVER_ERROR_AFTER = "server_error_after"
    #: HTTP 429 with ``Retry-After`` in delta-seconds (``retry_after`` given to
    #: :meth:`FakeEmsServer.inject`, default 0), without processing.
    RATE_LIMITED = "rate_limited"
    #: HTTP 429 with ``Retry-After`` as an HTTP date ``retry_after`` seconds ahead, without
    #: processing.
    RATE_LIMITED_DATE = "rate_limited_date"
    #: HTTP 200 whose body is truncated JSON, without processing.
    MALFORMED_JSON = "malformed_json"
    #: HTTP 200 whose body is an HTML page, not JSON, without processing.
    NOT_JSON = "not_json"
    #: Process, then answer a frame whose ``retBody`` nests arrays 1,000 deep.
    DEEP_JSON = "deep_json"
    #: Process, then send the answer one byte every ``FakeEmsServer.trickle_interval``
    #: seconds (the headers at once).
    TRICKLE = "trickle"
    #: HTTP 200 whose body (``FakeEmsServer.oversize_bytes``, no ``Content-Length``) goes on
    #: until the connection closes, without processing.
    OVERSIZED = "oversized"
    #: A ``retCode`` error (``ret_code``, ``ret_msg`` given to :meth:`FakeEmsServer.inject`).
    RET_CODE = "ret_code"
    #: Answer "duplicate order" by its code (with the waybill when the order exists), without
    #: processing.
    DUPLICATE_ORDER = "duplicate_order"
    #: Answer "请勿重复提交" (do not resubmit) with a code that is not a duplicate-order
    #: code, and the waybill only when the order exists; without processing (so an order
    #: never created stays uncreated).
    DUPLICATE_WORDING = "duplicate_wording"
    #: Close the connection without answering, without processing.
    DROP = "drop"
    #: Reset the connection (TCP RST) without answering, without processing.
    RESET = "reset"
    #: Process, then reset the connection without answering: the order exists, the answer is
    #: lost.
    RESET_AFTER = "reset_after"


#: ``retCode`` of :attr:`Fault.DUPLICATE_WORDING`: a business refusal, not a duplicate code.
WORDING_ONLY_CODE = "B00099"


@attrs.define
class _Injected:
    fault: Fault
    times: int
    api_code: str | None
    ret_code: str
    ret_msg: str
    retry_after: int = 0


@attrs.define
class _Order:
    order_id: str
    waybill: str
    payload: dict[str, Any]
    cancelled: bool = False


class FakeEmsServer:
    """An EMS open-platform server on ``127.0.0.1``, for tests. A context manager.

    It checks ``senderNo``, ``authorization`` and the envelope of every request like the real
    platform, keeps orders (one waybill per ``logisticsOrderNo``, a second create-order of the
    same id is answered "duplicate order" with the existing waybill), cancels before pickup,
    answers track queries from the traces added with :meth:`scan`, and estimates freight by a
    fixed tariff. :meth:`inject` switches on faults for the next requests.

    Args:
        sign_key: the account's signKey.
        sender_no: the account's customer number.
        authorization: the account's authorization code.
        timeout_delay: seconds a :attr:`Fault.TIMEOUT` answer is held back (released at once
            when the server closes). Keep it far above the client's read timeout, and that
            timeout far above the time of a normal answer on a loaded machine, so that a test
            never depends on the speed of the machine.
        slow_delay: seconds a :attr:`Fault.SLOW` answer is held back; keep it far below the
            client's read timeout.
        trickle_interval: seconds between two bytes of a :attr:`Fault.TRICKLE` answer.
        oversize_bytes: the length of a :attr:`Fault.OVERSIZED` answer (default 11 MiB, above
            the transport's default cap).

    Attributes:
        booked_order_ids: order ids in the order they were created (each once).
        calls: ``(apiCode, payload)`` of every request that reached the business logic.

    Closing the server releases held answers and waits (up to 5 s) for requests in flight,
    so that the orders it holds afterwards are final.

    .. versionadded:: 0.1.0
    .. versionchanged:: 0.2.0
       ``trickle_interval``, ``oversize_bytes``; closing waits for requests in flight.
    """

    def __init__(
        self,
        *,
        sign_key: str = DEFAULT_SIGN_KEY,
        sender_no: str = "1100012345678",
        authorization: str = "fake-authorization",
        timeout_delay: float = 60.0,
        slow_delay: float = 0.05,
        trickle_interval: float = 0.05,
        oversize_bytes: int = 11 * 1024 * 1024,
    ) -> None:
        self.sign_key = sign_key
        self.sender_no = sender_no
        self.authorization = authorization
        self.timeout_delay = timeout_delay
        self.slow_delay = slow_delay
        self.trickle_interval = trickle_interval
        self.oversize_bytes = oversize_bytes
        self.booked_order_ids: list[str] = []
        self.calls: list[tuple[str, dict[str, Any]]] = []
        self._orders: dict[str, _Order] = {}
        self._traces: dict[str, list[dict[str, Any]]] = {}
        self._faults: list[_Injected] = []
        self._lock = threading.Lock()
        self._idle = threading.Condition(self._lock)
        self._in_flight = 0
        self._stopping = threading.Event()
        self._server: http.server.ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self._next_serial = 52000000

    # --- lifecycle -------------------------------------------------------------------------------

    def start(self) -> FakeEmsServer:
        """Start serving on a free port of 127.0.0.1."""
        if self._server is not None:
            return self
        self._stopping.clear()
        server = _Server(("127.0.0.1", 0), _handler_for(self))
        server.daemon_threads = True
        server.block_on_close = False
        self._server = server
        self._thread = threading.Thread(
            target=server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        )
        self._thread.start()
        return self

    def close(self) -> None:
        """Stop serving; held-back answers are released, requests in flight finished."""
        self._stopping.set()
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None
        with self._idle:
            self._idle.wait_for(lambda: self._in_flight == 0, timeout=5)

    def _enter(self) -> None:
        with self._lock:
            self._in_flight += 1

    def _leave(self) -> None:
        with self._idle:
            self._in_flight -= 1
            self._idle.notify_all()

    def __enter__(self) -> FakeEmsServer:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    @property
    def url(self) -> str:
        """The base URL of the server, e.g. ``http://127.0.0.1:53117``."""
        if self._server is None:
            raise ValidationError("FakeEmsServer is not running: use it as a context manager")
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    def carrier_config(self, **overrides: Any) -> dict[str, Any]:
        """Keyword arguments for ``load("ems", ...)`` that talk to this server.

        A short backoff suits tests; the read timeout stays generous (a loaded machine must
        not turn a normal answer into a timeout). A test of :attr:`Fault.TIMEOUT` overrides
        ``timeout`` with a value still well above a normal answer's time, and well below
        ``timeout_delay``. ``overrides`` replace any of these.
        """
        config: dict[str, Any] = {
            "sender_no": self.sender_no,
            "authorization": self.authorization,
            "sign_key": self.sign_key,
            "base_url": self.url,
            "timeout": 10.0,
            "retries": 2,
            "backoff": 0.01,
        }
        config.update(overrides)
        return config

    # --- faults and data -------------------------------------------------------------------------

    def inject(
        self,
        fault: Fault,
        *,
        times: int = 1,
        api_code: str | None = None,
        ret_code: str = "S00001",
        ret_msg: str = "系统繁忙，请稍后重试",
        retry_after: int = 0,
    ) -> None:
        """Make the next ``times`` requests (of ``api_code``, or any) fail with ``fault``.

        ``ret_code`` and ``ret_msg`` are those of :attr:`Fault.RET_CODE`; ``retry_after``,
        the seconds of :attr:`Fault.RATE_LIMITED` and :attr:`Fault.RATE_LIMITED_DATE`.

        .. versionchanged:: 0.2.0
           ``retry_after``.
        """
        with self._lock:
            self._faults.append(
                _Injected(fault, times, api_code, ret_code, ret_msg, retry_after=retry_after)
            )

    def clear_faults(self) -> None:
        """Forget the faults injected and not yet produced.

        .. versionadded:: 0.2.0
        """
        with self._lock:
            self._faults.clear()

    def orders(self) -> dict[str, str]:
        """Order id -> waybill of every order created, in the order created.

        .. versionadded:: 0.2.0
        """
        with self._lock:
            return {order_id: self._orders[order_id].waybill for order_id in self.booked_order_ids}

    def waybill_of(self, order_id: str) -> str:
        """The waybill number the server assigned to ``order_id``."""
        with self._lock:
            return self._orders[order_id].waybill

    def scan(
        self,
        waybill: str,
        op_code: str,
        at: datetime,
        *,
        office: str = "52000100",
        office_name: str = "贵阳市邮政分公司南明揽投部",
        city: str = "贵阳市",
        description: str | None = None,
    ) -> dict[str, Any]:
        """Record a scan of ``waybill`` (an EMS trace) and return it.

        Args:
            waybill: the waybill number.
            op_code: the EMS operation code, e.g. ``"704"`` (delivered).
            at: when the scan happened (timezone-aware).
            office: the office code.
            office_name: the office name.
            city: the office's city.
            description: the trace text (default: the operation's name).
        """
        row = OP_CODES.get(op_code)
        trace = {
            "waybillNo": waybill,
            "opTime": timestamp(at),
            "opCode": op_code,
            "opName": row.name if row else op_code,
            "opDesc": description or (row.name if row else op_code),
            "opOrgProvName": "贵州省",
            "opOrgCity": city,
            "opOrgCode": office,
            "opOrgName": office_name,
            "operatorNo": "52010212",
            "operatorName": "王*",
            "deliverCode": "",
            "attemptDeliveryCode": "",
        }
        with self._lock:
            self._traces.setdefault(waybill, []).append(trace)
        return trace

    def traces(self, waybill: str) -> list[dict[str, Any]]:
        """The traces recorded for ``waybill``, oldest first."""
        with self._lock:
            return list(self._traces.get(waybill, []))

    # --- the protocol ----------------------------------------------------------------------------

    def _take_fault(self, api_code: str) -> _Injected | None:
        with self._lock:
            for injected in self._faults:
                if injected.api_code in (None, api_code):
                    injected.times -= 1
                    if injected.times <= 0:
                        self._faults.remove(injected)
                    return injected
        return None

    def _answer(self, form: Mapping[str, str]) -> dict[str, Any]:
        """The EMS answer to a well-formed request (faults aside)."""
        if (
            form.get("senderNo") != self.sender_no
            or form.get("authorization") != self.authorization
        ):
            return _frame("A00001", "授权码无效或已过期")
        try:
            payload = open_envelope(form.get("logitcsInterface", ""), self.sign_key)[1]
        except (ValidationError, ValueError):
            return _frame("A00002", "报文验签失败")
        api_code = form.get("apiCode", "")
        with self._lock:
            self.calls.append((api_code, payload))
            handler = {
                API_CREATE_ORDER: self._create,
                API_CANCEL: self._cancel,
                API_TRACK_QUERY: self._track,
                API_FREIGHT_ESTIMATE: self._freight,
            }.get(api_code)
            if handler is None or not isinstance(payload, dict):
                return _frame("B00002", f"不支持的接口 {api_code}")
            return handler(payload)

    def _create(self, payload: dict[str, Any]) -> dict[str, Any]:
        order_id = payload.get("logisticsOrderNo")
        if not isinstance(order_id, str) or not order_id:
            return _frame("B00001", "logisticsOrderNo 不能为空")
        existing = self._orders.get(order_id)
        if existing is not None:
            return _frame("B00010", "订单号重复：该订单已下单", {"waybillNo": existing.waybill})
        serial = f"{self._next_serial:08d}"
        self._next_serial += 1
        waybill = f"EA{serial}{s10_check_digit(serial)}CN"
        self._orders[order_id] = _Order(order_id, waybill, payload)
        self.booked_order_ids.append(order_id)
        return _frame("00000", "成功", {"waybillNo": waybill, "logisticsOrderNo": order_id})

    def _cancel(self, payload: dict[str, Any]) -> dict[str, Any]:
        order = self._orders.get(str(payload.get("logisticsOrderNo")))
        if order is None:
            return _frame("B00404", "订单不存在")
        if order.cancelled:
            return _frame("B00022", "订单已取消")
        if self._traces.get(order.waybill):
            return _frame("B00021", "运单已揽收，不能取消")
        order.cancelled = True
        return _frame("00000", "取消成功", {"logisticsOrderNo": order.order_id})

    def _track(self, payload: dict[str, Any]) -> dict[str, Any]:
        waybill = str(payload.get("waybillNo"))
        known = any(o.waybill == waybill for o in self._orders.values())
        if not known and waybill not in self._traces:
            return _frame("B00404", "未查询到该运单轨迹")
        items = list(self._traces.get(waybill, []))
        return _frame("00000", "成功", {"waybillNo": waybill, "responseItems": items})

    def _freight(self, payload: dict[str, Any]) -> dict[str, Any]:
        weight = int(str(payload.get("weight", "0")) or 0)
        if weight <= 0:
            return _frame("B00001", "weight 必须大于0")
        same_province = payload.get("senderInfo", {}).get("prov") == payload.get(
            "receiveInfo", {}
        ).get("prov")
        first, step = (
            (Decimal("10"), Decimal("2")) if same_province else (Decimal("15"), Decimal("5"))
        )
        steps = max(0, -(-(weight - 500) // 500))
        fee = first + step * steps
        return _frame("00000", "成功", {"realFee": f"{fee:.2f}", "totalFee": f"{fee:.2f}"})

    def _hold(self, seconds: float) -> None:
        self._stopping.wait(seconds)


class _Server(http.server.ThreadingHTTPServer):
    # The default backlog (5) drops the connections of a burst of concurrent clients, which
    # then wait a second for their SYN to be resent.
    request_queue_size = 128

    def handle_error(self, request: Any, client_address: Any) -> None:
        """A client that went away mid-request (killed, timed out) is expected: stay quiet."""
        error = sys.exc_info()[1]
        if isinstance(error, ConnectionError | TimeoutError):
            return
        super().handle_error(request, client_address)


def _frame(code: str, message: str, body: Any = None) -> dict[str, Any]:
    return {
        "retCode": code,
        "retMsg": message,
        "retBody": None if body is None else compact_json(body),
        "serialNo": f"{time.monotonic_ns():X}",
    }


def _handler_for(fake: FakeEmsServer) -> type[http.server.BaseHTTPRequestHandler]:
    class Handler(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        # Headers and body are two writes: with Nagle's algorithm each answer waits for the
        # client's delayed ACK (~40 ms on Linux).
        disable_nagle_algorithm = True

        def log_message(self, format: str, *args: Any) -> None:
            """Quiet: tests read ``FakeEmsServer.calls`` instead."""

        def do_POST(self) -> None:
            fake._enter()
            try:
                self._post()
            finally:
                fake._leave()

        def _post(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            form = dict(parse_qsl(self.rfile.read(length).decode("utf-8"), keep_blank_values=True))
            api_code = form.get("apiCode", "")
            injected = fake._take_fault(api_code)
            fault = injected.fault if injected else None
            if fault is Fault.DROP:
                self.close_connection = True
                return
            if fault is Fault.RESET:
                self._reset()
                return
            if fault is Fault.SERVER_ERROR:
                self._send(500, b"<html><body>500 Internal Server Error</body></html>", "text/html")
                return
            if fault in (Fault.RATE_LIMITED, Fault.RATE_LIMITED_DATE) and injected is not None:
                seconds = injected.retry_after
                value = (
                    str(seconds)
                    if fault is Fault.RATE_LIMITED
                    else email.utils.format_datetime(
                        utc_now() + timedelta(seconds=seconds), usegmt=True
                    )
                )
                self._send(429, b"Too Many Requests", "text/plain", {"Retry-After": value})
                return
            if fault is Fault.MALFORMED_JSON:
                self._send(200, b'{"retCode":"00000","retBody":', "application/json")
                return
            if fault is Fault.NOT_JSON:
                self._send(200, b"<html><body>502 Bad Gateway</body></html>", "text/html")
                return
            if fault is Fault.OVERSIZED:
                self._oversized()
                return
            if fault is Fault.RET_CODE and injected is not None:
                self._json(_frame(injected.ret_code, injected.ret_msg))
                return
            if fault in (Fault.DUPLICATE_ORDER, Fault.DUPLICATE_WORDING):
                order_id = _sealed_order_id(form, fake.sign_key)
                with fake._lock:
                    order = fake._orders.get(order_id) if order_id else None
                body = {"waybillNo": order.waybill} if order is not None else None
                if fault is Fault.DUPLICATE_ORDER:
                    self._json(_frame("B00010", "订单号重复：该订单已下单", body))
                else:
                    self._json(_frame(WORDING_ONLY_CODE, "请勿重复提交", body))
                return
            if fault is Fault.STALL:
                fake._hold(fake.timeout_delay)
            answer = fake._answer(form)
            if fault is Fault.TIMEOUT:
                fake._hold(fake.timeout_delay)
            elif fault is Fault.SLOW:
                fake._hold(fake.slow_delay)
            elif fault is Fault.RESET_AFTER:
                self._reset()
                return
            elif fault is Fault.SERVER_ERROR_AFTER:
                self._send(502, b"<html><body>502 Bad Gateway</body></html>", "text/html")
                return
            elif fault is Fault.DEEP_JSON:
                answer = {**answer, "retCode": "00000", "retBody": "[" * 1000 + "]" * 1000}
            elif fault is Fault.TRICKLE:
                self._trickle(compact_json(answer).encode("utf-8"))
                return
            self._json(answer)

        def _reset(self) -> None:
            # SO_LINGER on, timeout 0: closing sends RST instead of FIN.
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            self.connection.close()
            self.close_connection = True

        def _trickle(self, body: bytes) -> None:
            try:
                self.send_response(200)
                self.send_header("Content-Type", "application/json; charset=utf-8")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.flush()
                for i in range(len(body)):
                    self.wfile.write(body[i : i + 1])
                    self.wfile.flush()
                    fake._hold(fake.trickle_interval)
            except OSError:  # the client gave up (its deadline passed)
                self.close_connection = True

        def _oversized(self) -> None:
            self.close_connection = True
            piece = b" " * 65536
            try:
                self.send_response(200)
                self.send_header("Content-Type", "application/json; charset=utf-8")
                self.send_header("Connection", "close")
                self.end_headers()
                self.wfile.write(b'{"retCode":"00000","retMsg":"')
                for _ in range(fake.oversize_bytes // len(piece) + 1):
                    self.wfile.write(piece)
            except OSError:  # the client stopped reading at its cap and closed
                pass

        def _json(self, document: Mapping[str, Any]) -> None:
            self._send(200, compact_json(document).encode("utf-8"), "application/json")

        def _send(
            self, status: int, body: bytes, content_type: str, extra: Mapping[str, str] = {}
        ) -> None:
            try:
                self.send_response(status)
                self.send_header("Content-Type", f"{content_type}; charset=utf-8")
                self.send_header("Content-Length", str(len(body)))
                for name, value in extra.items():
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(body)
            except OSError:  # the client gave up (timed out) before the answer
                self.close_connection = True

    return Handler


def _sealed_order_id(form: Mapping[str, str], sign_key: str) -> str | None:
    try:
        payload = open_envelope(form.get("logitcsInterface", ""), sign_key)[1]
    except (ValidationError, ValueError):
        return None
    order_id = payload.get("logisticsOrderNo") if isinstance(payload, dict) else None
    return order_id if isinstance(order_id, str) else None
