"""The HTTP transport of carrier adapters: an injected session, a default timeout, retries.

Every call has a timeout, so none can hang forever. A failed call is retried, with exponential
backoff, only when the caller says the call is safe to repeat: an idempotent query, or a
create-order call carrying our own order id, which the carrier answers with "duplicate order"
the second time. Every failure becomes a :class:`~govpost.errors.CarrierError` whose
``retryable`` says whether the same request may succeed later (timeouts, dropped connections,
5xx and 429: yes; other 4xx, such as a refused authorization: no).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping

import attrs
import requests

from govpost.errors import CarrierError, ValidationError

__all__ = ["DEFAULT_TIMEOUT", "HttpReply", "Transport"]

_log = logging.getLogger("govpost.carriers")

#: Seconds to connect and seconds between bytes of the answer.
DEFAULT_TIMEOUT: tuple[float, float] = (5.0, 15.0)


@attrs.frozen(kw_only=True)
class HttpReply:
    """A successful (2xx) HTTP answer."""

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


def _retry_after(response: requests.Response) -> float | None:
    value = response.headers.get("Retry-After", "")
    return float(value) if value.isdigit() else None


class Transport:
    """Posts forms to a carrier through a ``requests.Session``.

    Args:
        session: the session to use (inject one to set proxies, certificates, adapters); a new
            one is made when ``None``.
        timeout: seconds, or ``(connect, read)`` seconds; applied to every call.
        retries: how many times a call that is safe to repeat is retried after a retryable
            failure.
        backoff: seconds before the first retry; doubled for each further retry.
        max_backoff: the longest wait between two attempts, ``Retry-After`` included.
        sleep: the function that waits (tests pass a fake).
    """

    def __init__(
        self,
        session: requests.Session | None = None,
        *,
        timeout: float | tuple[float, float] = DEFAULT_TIMEOUT,
        retries: int = 2,
        backoff: float = 0.5,
        max_backoff: float = 8.0,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self._owns_session = session is None
        self.session = session if session is not None else requests.Session()
        self.timeout = _timeout(timeout)
        self.retries = _retries(retries)
        self.backoff = _backoff(backoff)
        self.max_backoff = _backoff(max_backoff)
        self._sleep = sleep

    def close(self) -> None:
        """Close the session if this transport made it (an injected one is the caller's)."""
        if self._owns_session:
            self.session.close()

    def __repr__(self) -> str:
        return f"<Transport timeout={self.timeout} retries={self.retries}>"

    def post_form(self, url: str, form: Mapping[str, str], *, retry: bool) -> HttpReply:
        """POST ``form`` (``application/x-www-form-urlencoded``) to ``url``.

        Args:
            url: the endpoint.
            form: the fields.
            retry: whether the call is safe to repeat (idempotent, or keyed by our order id).

        Raises:
            CarrierError: the call failed; after the last attempt for retryable failures.
        """
        attempts = 1 + (self.retries if retry else 0)
        for attempt in range(1, attempts + 1):
            wait = None
            try:
                response = self.session.post(url, data=dict(form), timeout=self.timeout)
            except requests.exceptions.RequestException as exc:
                error = self._failed(exc, url)
            else:
                if 200 <= response.status_code < 300:
                    return HttpReply(
                        status=response.status_code, text=response.text, attempts=attempt
                    )
                error = self._refused(response, url)
                wait = _retry_after(response)
            if not error.retryable or attempt == attempts:
                raise error
            delay = min(
                self.backoff * 2 ** (attempt - 1) if wait is None else wait, self.max_backoff
            )
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

    @staticmethod
    def _failed(exc: requests.exceptions.RequestException, url: str) -> CarrierError:
        if isinstance(exc, requests.exceptions.Timeout):
            error = CarrierError(
                f"the carrier at {url} did not answer in time ({type(exc).__name__}); the "
                f"request may or may not have been processed: repeat it (it is safe for "
                f"queries and for orders keyed by their own id)",
                code="timeout",
                retryable=True,
            )
        elif isinstance(
            exc,
            requests.exceptions.ConnectionError | requests.exceptions.ChunkedEncodingError,
        ):
            error = CarrierError(
                f"the connection to the carrier at {url} failed or was dropped "
                f"({type(exc).__name__}); repeat the request later",
                code="connection",
                retryable=True,
            )
        else:
            error = CarrierError(
                f"the request to the carrier at {url} could not be sent "
                f"({type(exc).__name__}: {exc}); check the base URL and session settings",
                code="request",
                retryable=False,
            )
        error.__cause__ = exc
        return error

    @staticmethod
    def _refused(response: requests.Response, url: str) -> CarrierError:
        status = response.status_code
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
        return CarrierError(
            f"the carrier at {url} {reason}",
            code=f"http_{status}",
            retryable=retryable,
            raw=response.text,
        )
