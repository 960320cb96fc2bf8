"""The HTTP transport of carrier adapters: an injected session, a deadline, size caps, retries.

Every call has one overall deadline covering DNS, connect, every read and every retry: nothing
a server does — stalling, trickling its answer a byte at a time, asking us to come back much
later — holds a call past it. Each attempt runs in a short-lived worker thread and the caller
waits for it at most the time left; each attempt's connect and read timeouts are also cut to
that time, so an abandoned worker does not linger either. Answers are read in chunks, the
deadline checked between them, and refused past a size cap (the read stops at cap + 1 bytes
and the connection is closed).

A failed call is retried, with exponential backoff, only when the caller says the call is safe
to repeat: an idempotent query, or a create-order call carrying our own order id, which the
carrier answers with "duplicate order" the second time. A retry starts only if the time left
covers its backoff. ``Retry-After`` is read strictly (delta-seconds in ASCII digits, or an HTTP
date) and capped by ``max_backoff``. Every failure becomes a :class:`~govpost.errors.CarrierError`
whose ``retryable`` says whether the same request may succeed later (timeouts, the deadline,
dropped connections, 5xx and 429: yes; other 4xx, such as a refused authorization: no).
"""

from __future__ import annotations

import contextlib
import math
import threading
import time
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any

import attrs
import requests
import urllib3.exceptions

from govpost._limits import ascii_digits
from govpost.carriers._model import utc_now
from govpost.errors import CarrierError, ValidationError
from govpost.privacy import _logger

__all__ = [
    "DEFAULT_DEADLINE",
    "DEFAULT_MAX_RESPONSE_BYTES",
    "DEFAULT_TIMEOUT",
    "HttpReply",
    "Transport",
    "parse_retry_after",
]

_log = _logger("govpost.carriers")  # scrubbed: privacy.ScrubbingFilter

#: Seconds to connect and seconds between bytes of the answer, for one attempt.
DEFAULT_TIMEOUT: tuple[float, float] = (5.0, 15.0)

#: Seconds one call may take in all: connect, reads, retries and the waits between them.
DEFAULT_DEADLINE = 30.0

#: The largest answer read, in bytes (10 MiB); a larger one is refused.
DEFAULT_MAX_RESPONSE_BYTES = 10 * 1024 * 1024

#: Bytes asked for per read of an answer: small enough that the deadline is checked often.
_CHUNK = 64 * 1024

#: Seconds a retry needs beyond its backoff to be worth starting.
_MIN_ATTEMPT = 0.05

#: Bytes of a refused (non-2xx) answer kept in ``CarrierError.raw``.
_ERROR_BODY = 64 * 1024

#: A ``Retry-After`` longer than this (about 31 years) is read as this.
_LONGEST_RETRY_AFTER = 1e9


@attrs.frozen(kw_only=True)
class HttpReply:
    """A successful (2xx) HTTP answer.

    Attributes:
        status: the HTTP status.
        text: the body, decoded by the charset of ``Content-Type`` (UTF-8 when none).
        attempts: how many attempts the call took.
    """

    status: int
    text: str = attrs.field(repr=False)
    attempts: int = 1


def _timeout(value: object) -> tuple[float, float]:
    pair = value if isinstance(value, tuple) else (value, value)
    if len(pair) != 2 or not all(
        isinstance(v, int | float) and not isinstance(v, bool) and 0 < v <= 600 for v in pair
    ):
        raise ValidationError(
            f"timeout {value!r} must be seconds between 0 and 600 (a number, or a pair "
            f"(connect, read)); no call may wait forever"
        )
    return (float(pair[0]), float(pair[1]))


def _retries(value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= 10:
        raise ValidationError(f"retries {value!r} must be an int from 0 to 10")
    return value


def _backoff(value: object) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value <= 60:
        raise ValidationError(f"backoff {value!r} must be seconds from 0 to 60")
    return float(value)


def _deadline(value: object) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 < value <= 3600:
        raise ValidationError(
            f"deadline {value!r} must be seconds, more than 0 and at most 3600: the longest "
            f"one carrier call (all its attempts) may take"
        )
    return float(value)


def _max_bytes(value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 1024 <= value <= 2**30:
        raise ValidationError(
            f"max_response_bytes {value!r} must be an int from 1024 to 2**30 (1 GiB); the "
            f"default, {DEFAULT_MAX_RESPONSE_BYTES}, is far above any genuine carrier answer"
        )
    return value


def parse_retry_after(value: str | None, *, now: datetime) -> float | None:
    """The seconds a ``Retry-After`` header asks us to wait, or ``None`` when unreadable.

    Two forms are read (RFC 9110): delta-seconds, ASCII digits only (``"²"`` or ``"٣"`` are not
    digits here), and an HTTP date, which gives the seconds from ``now`` (never negative). A
    value longer than about 31 years is read as that; the transport caps it far lower.
    Anything else is ignored: the call falls back to its own backoff.

    Args:
        value: the header's value (``None`` when the header is missing; any other value
            that is not text is ignored too).
        now: the current time, timezone-aware.

    >>> now = datetime(2024, 6, 3, 8, 0, tzinfo=UTC)
    >>> parse_retry_after("120", now=now), parse_retry_after("٣", now=now)
    (120.0, None)
    >>> parse_retry_after("Mon, 03 Jun 2024 08:00:30 GMT", now=now)
    30.0

    .. versionadded:: 0.2.0
    """
    given: object = value
    if not isinstance(given, str):
        return None
    text = given.strip(" \t")
    if ascii_digits(text):
        return float(int(text)) if len(text) <= 9 else _LONGEST_RETRY_AFTER
    if not text.isascii() or not 16 <= len(text) <= 64:
        return None
    try:
        when = parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError, OverflowError):
        return None
    if when.tzinfo is None:  # "-0000": a time in UTC whose source zone is unknown
        when = when.replace(tzinfo=UTC)
    try:
        seconds = (when - now).total_seconds()
    except OverflowError:  # pragma: no cover - both are valid datetimes; kept for safety
        return None
    return min(max(seconds, 0.0), _LONGEST_RETRY_AFTER)


def _charset(content_type: str) -> str | None:
    for part in content_type.split(";")[1:]:
        name, _, value = part.partition("=")
        if name.strip().lower() == "charset":
            label = value.strip().strip("\"'").lower()
            return label if label.isascii() and 0 < len(label) <= 40 else None
    return None


def _decode(body: bytes, headers: Mapping[str, str], url: str) -> str:
    """The text of an answer: by its declared charset, else UTF-8 (a leading BOM dropped)."""
    label = _charset(headers.get("Content-Type", ""))
    if label is not None and label.replace("_", "-") not in ("utf-8", "utf8"):
        try:
            return body.decode(label)
        except LookupError:
            pass  # an unknown charset, or a codec that is not a text encoding: read UTF-8
        except (UnicodeError, ValueError) as exc:
            raise _undecodable(url, label, body) from exc
    try:
        return body.decode("utf-8-sig")
    except UnicodeError as exc:
        raise _undecodable(url, "UTF-8", body) from exc


def _undecodable(url: str, charset: str, body: bytes) -> CarrierError:
    return CarrierError(
        f"the carrier at {url} sent an answer that is not {charset} text; keep the raw "
        f"answer (CarrierError.raw, bytes) for the carrier's support",
        code="malformed_response",
        retryable=True,
        raw=body[:_ERROR_BODY],
    )


class _TooLarge(Exception):
    """The answer passed the size cap (internal: becomes a CarrierError)."""


class _Abandoned(Exception):
    """The caller stopped waiting for this attempt (internal)."""


@attrs.define
class _Answer:
    status: int
    headers: Mapping[str, str]
    body: bytes


class _Exchange:
    """One HTTP attempt, run in a worker thread, which the caller may abandon at its deadline."""

    def __init__(
        self,
        session: requests.Session,
        url: str,
        form: Mapping[str, str],
        timeout: tuple[float, float],
        cap: int,
    ) -> None:
        self.session = session
        self.url = url
        self.form = dict(form)
        self.timeout = timeout
        self.cap = cap
        self.done = threading.Event()
        self.answer: _Answer | None = None
        self.error: Exception | None = None
        self._lock = threading.Lock()
        self._abandoned = False
        self._response: requests.Response | None = None

    def run(self) -> None:
        response = None
        try:
            response = self.session.post(
                self.url, data=self.form, timeout=self.timeout, stream=True
            )
            with self._lock:
                if self._abandoned:
                    return
                self._response = response
            ok = 200 <= response.status_code < 300
            body = self._read(response, self.cap if ok else min(self.cap, _ERROR_BODY))
            self.answer = _Answer(response.status_code, response.headers, body)
        except Exception as exc:  # handed to the caller's thread, which translates or raises it
            self.error = exc
        finally:
            if response is not None:
                # An answer read whole goes back to the pool; a partial one closes the connection.
                response.close()
            self.done.set()

    def _read(self, response: requests.Response, cap: int) -> bytes:
        """The body, at most ``cap`` bytes: a larger 2xx answer raises, a refusal is cut."""
        ok = 200 <= response.status_code < 300
        length = response.headers.get("Content-Length", "").strip()
        if ok and ascii_digits(length) and (len(length) > 12 or int(length) > cap):
            raise _TooLarge
        # read1 returns as soon as some bytes arrive: a trickling server cannot make one read
        # wait for a whole chunk (a plain read(n) waits for n bytes, however slowly they come).
        read1 = getattr(response.raw, "read1", None)
        # urllib3 < 2.3 has no read1: small chunks still let the deadline be checked often.
        stream = response.iter_content(chunk_size=4096) if read1 is None else iter(())
        chunks: list[bytes] = []
        size = 0
        while not self._abandoned:
            if read1 is not None:
                chunk = read1(min(_CHUNK, cap + 1 - size), decode_content=True)
            else:
                chunk = next(stream, b"")
            if not chunk:
                return b"".join(chunks)
            chunks.append(chunk)
            size += len(chunk)
            if size > cap:
                if ok:
                    raise _TooLarge
                return b"".join(chunks)[:cap]
        raise _Abandoned

    def abandon(self) -> None:
        """Stop this attempt: the caller has given up waiting."""
        with self._lock:
            self._abandoned = True
            response = self._response
        if response is not None:
            shutdown = getattr(response.raw, "shutdown", None)
            if shutdown is not None:
                # Interrupts a read blocked in the worker thread (urllib3 >= 2.3); an error
                # means the connection is already closed or back in the pool: nothing blocks.
                with contextlib.suppress(OSError, ValueError, RuntimeError):
                    shutdown()


class Transport:
    """Posts forms to a carrier through a ``requests.Session``, within a deadline per call.

    Args:
        session: the session to use (inject one to set proxies, certificates, adapters); a new
            one is made when ``None``.
        timeout: seconds, or ``(connect, read)`` seconds, for one attempt; cut to the time
            left before the deadline.
        retries: how many times a call that is safe to repeat is retried after a retryable
            failure.
        backoff: seconds before the first retry; doubled for each further retry.
        max_backoff: the longest wait between two attempts, ``Retry-After`` included.
        deadline: seconds one call may take in all (every attempt, every wait); past it the
            call raises a retryable :class:`~govpost.errors.CarrierError` with code
            ``"deadline"``.
        max_response_bytes: the largest answer read; a larger one raises
            :class:`~govpost.errors.CarrierError` with code ``"response_too_large"``.
        sleep: the function that waits (tests pass a fake).

    Raises:
        ValidationError: a setting out of range.

    .. versionadded:: 0.1.0
    .. versionchanged:: 0.2.0
       ``deadline`` and ``max_response_bytes``; answers read in chunks; strict ``Retry-After``.
    """

    def __init__(
        self,
        session: requests.Session | None = None,
        *,
        timeout: float | tuple[float, float] = DEFAULT_TIMEOUT,
        retries: int = 2,
        backoff: float = 0.5,
        max_backoff: float = 8.0,
        deadline: float = DEFAULT_DEADLINE,
        max_response_bytes: int = DEFAULT_MAX_RESPONSE_BYTES,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.timeout = _timeout(timeout)
        self.retries = _retries(retries)
        self.backoff = _backoff(backoff)
        self.max_backoff = _backoff(max_backoff)
        self.deadline = _deadline(deadline)
        self.max_response_bytes = _max_bytes(max_response_bytes)
        self._sleep = sleep
        self._owns_session = session is None
        self.session = session if session is not None else requests.Session()

    def close(self) -> None:
        """Close the session if this transport made it (an injected one is the caller's)."""
        if self._owns_session:
            self.session.close()

    def __repr__(self) -> str:
        return (
            f"<Transport timeout={self.timeout} retries={self.retries} deadline={self.deadline:g}>"
        )

    def post_form(
        self,
        url: str,
        form: Mapping[str, str],
        *,
        retry: bool,
        deadline: float | None = None,
    ) -> HttpReply:
        """POST ``form`` (``application/x-www-form-urlencoded``) to ``url``, within a deadline.

        Args:
            url: the endpoint.
            form: the fields.
            retry: whether the call is safe to repeat (idempotent, or keyed by our order id).
            deadline: seconds this call may take, instead of the transport's ``deadline``
                (an adapter making several calls for one operation passes the time left; zero
                or less raises the deadline error without sending).

        Raises:
            CarrierError: the call failed; after the last attempt for retryable failures. Code
                ``"deadline"`` (retryable) when the deadline passed: the request may or may
                not have been processed.

        .. versionchanged:: 0.2.0
           ``deadline``.
        """
        if deadline is None:
            budget = self.deadline
        elif (
            isinstance(deadline, bool)
            or not isinstance(deadline, int | float)
            or math.isnan(deadline)
        ):
            raise ValidationError(f"deadline {deadline!r} must be seconds (a number) or None")
        else:
            budget = float(min(deadline, 3600.0))
        end = time.monotonic() + budget
        attempts = 1 + (self.retries if retry else 0)
        error: CarrierError | None = None
        for attempt in range(1, attempts + 1):
            if end - time.monotonic() <= 0:
                raise _expired(url, budget, attempt - 1) from error
            wait = None
            try:
                answer = self._attempt(url, form, end, budget, attempt)
            except CarrierError as exc:
                error = exc
            else:
                if 200 <= answer.status < 300:
                    return HttpReply(
                        status=answer.status,
                        text=_decode(answer.body, answer.headers, url),
                        attempts=attempt,
                    )
                error = _refused(answer, url)
                wait = parse_retry_after(answer.headers.get("Retry-After"), now=utc_now())
            if not error.retryable or attempt == attempts or error.code == "deadline":
                raise error
            delay = min(
                self.backoff * 2 ** (attempt - 1) if wait is None else wait, self.max_backoff
            )
            left = end - time.monotonic()
            if delay + _MIN_ATTEMPT >= left:
                raise CarrierError(
                    f"{error}; no retry: the {max(left, 0):.2f} s left before the call's "
                    f"deadline ({_seconds(budget)} s) do not cover the {delay:.2f} s wait before it",
                    code=error.code,
                    retryable=True,
                    raw=error.raw,
                ) from error
            # The URL and the code only: form fields may hold personal data.
            _log.warning(
                "carrier call to %s failed (%s); retry %d of %d in %.2f s",
                url,
                error.code,
                attempt,
                attempts - 1,
                delay,
            )
            self._sleep(delay)
        raise AssertionError("unreachable: the loop returns or raises")  # pragma: no cover

    def _attempt(
        self, url: str, form: Mapping[str, str], end: float, budget: float, attempt: int
    ) -> _Answer:
        left = end - time.monotonic()
        timeout = (min(self.timeout[0], left), min(self.timeout[1], left))
        exchange = _Exchange(self.session, url, form, timeout, self.max_response_bytes)
        worker = threading.Thread(target=exchange.run, name="govpost-carrier-call", daemon=True)
        worker.start()
        if not exchange.done.wait(max(end - time.monotonic(), 0.0)):
            exchange.abandon()
            raise _expired(url, budget, attempt)
        if exchange.error is None:
            assert exchange.answer is not None  # run() sets one or the other
            return exchange.answer
        exc = exchange.error
        if isinstance(exc, _TooLarge):
            raise CarrierError(
                f"the carrier at {url} sent an answer larger than {self.max_response_bytes} "
                f"bytes: refused, the connection closed. The request may have been processed "
                f"(an order: book it again once this is fixed, the carrier answers "
                f"'duplicate'); raise max_response_bytes only if genuine answers are this large",
                code="response_too_large",
                retryable=False,
            )
        if isinstance(exc, requests.exceptions.Timeout | urllib3.exceptions.TimeoutError):
            connecting = isinstance(
                exc, requests.exceptions.ConnectTimeout | urllib3.exceptions.ConnectTimeoutError
            )
            configured = self.timeout[0] if connecting else self.timeout[1]
            if timeout[0 if connecting else 1] < configured:  # cut short by the deadline
                raise _expired(url, budget, attempt) from exc
        translated = _failed(exc, url)
        if translated is None:
            raise exc  # not a network failure: a bug, raised as itself
        raise translated from exc


def _seconds(value: float) -> str:
    return f"{round(value, 2):g}"


def _expired(url: str, budget: float, attempts: int) -> CarrierError:
    return CarrierError(
        f"the call to the carrier at {url} did not finish within its deadline "
        f"({_seconds(budget)} s, {attempts} attempt(s)); the request may or may not have been "
        f"processed: repeat it (it is safe for queries and for orders keyed by their own id), "
        f"or give the call a longer deadline",
        code="deadline",
        retryable=True,
    )


def _failed(exc: Exception, url: str) -> CarrierError | None:
    """The CarrierError for a failed exchange, or ``None`` when ``exc`` is not a network failure."""
    if isinstance(exc, requests.exceptions.Timeout | urllib3.exceptions.TimeoutError):
        return CarrierError(
            f"the carrier at {url} did not answer in time ({type(exc).__name__}); the "
            f"request may or may not have been processed: repeat it (it is safe for "
            f"queries and for orders keyed by their own id)",
            code="timeout",
            retryable=True,
        )
    if isinstance(exc, requests.exceptions.ContentDecodingError | urllib3.exceptions.DecodeError):
        return CarrierError(
            f"the carrier at {url} sent an answer whose content encoding cannot be decoded "
            f"({type(exc).__name__}); repeat the request later",
            code="malformed_response",
            retryable=True,
        )
    dropped = (
        f"the connection to the carrier at {url} failed or was dropped "
        f"({type(exc).__name__}); the request may or may not have been processed: repeat it "
        f"later (it is safe for queries and for orders keyed by their own id)"
    )
    if isinstance(
        exc, requests.exceptions.ConnectionError | requests.exceptions.ChunkedEncodingError
    ):
        return CarrierError(dropped, code="connection", retryable=True)
    if isinstance(exc, requests.exceptions.RequestException):
        return CarrierError(
            f"the request to the carrier at {url} could not be sent "
            f"({type(exc).__name__}: {exc}); check the base URL and session settings",
            code="request",
            retryable=False,
        )
    # Read errors of the answer's body come from urllib3 (or the socket) untranslated.
    if isinstance(exc, urllib3.exceptions.HTTPError | OSError):
        return CarrierError(dropped, code="connection", retryable=True)
    return None


def _refused(answer: _Answer, url: str) -> CarrierError:
    status = answer.status
    if status == 429:
        reason, retryable = "is rate-limiting us (429): slow down and repeat later", True
    elif status >= 500:
        reason, retryable = f"failed ({status}): repeat the request later", True
    elif status in (401, 403):
        reason, retryable = (
            f"refused our credentials ({status}): check the account and authorization",
            False,
        )
    else:
        reason, retryable = f"refused the request ({status}): it will not succeed as is", False
    raw: Any = answer.body.decode("utf-8", "replace")
    return CarrierError(
        f"the carrier at {url} {reason}",
        code=f"http_{status}",
        retryable=retryable,
        raw=raw,
    )
