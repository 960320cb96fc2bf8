"""The EMS carrier adapter: the build/parse pairs of :mod:`govpost.carriers.ems` over HTTP."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import UTC, datetime

import requests

from govpost.carriers._http import DEFAULT_TIMEOUT, Transport
from govpost.carriers._model import (
    Booking,
    BookingRequest,
    Capability,
    PushMessage,
    Quote,
    QuoteRequest,
)
from govpost.carriers.ems.build import (
    PRODUCTION_URL,
    EmsConfig,
    WireRequest,
    build_cancel,
    build_create_order,
    build_freight_estimate,
    build_track_query,
)
from govpost.carriers.ems.parse import (
    parse_cancel,
    parse_create_order,
    parse_freight_estimate,
    parse_push,
    parse_track,
)
from govpost.identifiers import TrackingNumber
from govpost.shipments import TrackingEvent

__all__ = ["EmsCarrier"]


def _utc_now() -> datetime:
    return datetime.now(UTC)


class EmsCarrier:
    """The EMS open-platform adapter (registered as ``ems``).

    Quote (050005), book (020003), cancel (020006), track (040001) and read pushes (040002).
    Every call has a timeout; queries and create-order calls (keyed by our order id) are
    retried with backoff after timeouts, dropped connections, 5xx and 429, and a "duplicate
    order" answer to a retried booking is the success it is: one piece, one waybill.

    Args:
        sender_no: the agreement customer number (协议客户号).
        authorization: the authorization code (授权码).
        sign_key: the signKey that seals every message (and the pushes EMS sends us).
        base_url: scheme and host of the platform.
        test: use the platform's test endpoint.
        session: a ``requests.Session`` to send through (proxies, certificates, pooling).
        timeout: seconds, or ``(connect, read)`` seconds, for every call.
        retries: retries of calls that are safe to repeat.
        backoff: seconds before the first retry, doubled for each further one.
        clock: gives the current aware time (tests pass a fixed clock).
        product_code: the product (产品代码) priced by freight estimates.
        biz_product_no: the business product (业务产品) of created orders.

    Raises:
        ValidationError: a missing credential, a bad signKey, timeout or retry setting.

    >>> ems = EmsCarrier(sender_no="1100012345678", authorization="auth-code",
    ...                  sign_key="TvaBgrhE46sft3nZlfe7xw==")
    >>> ems
    <EmsCarrier sender_no='1100012345678' endpoint='https://api.ems.com.cn/amp-prod-api/f/amp/api/open'>

    .. versionadded:: 0.1.0
    """

    name = "ems"
    capabilities = frozenset(
        {Capability.QUOTE, Capability.BOOK, Capability.CANCEL, Capability.TRACK, Capability.PUSH}
    )

    def __init__(
        self,
        *,
        sender_no: str,
        authorization: str,
        sign_key: str,
        base_url: str = PRODUCTION_URL,
        test: bool = False,
        session: requests.Session | None = None,
        timeout: float | tuple[float, float] = DEFAULT_TIMEOUT,
        retries: int = 2,
        backoff: float = 0.5,
        clock: Callable[[], datetime] = _utc_now,
        product_code: str = "11210",
        biz_product_no: str = "10",
    ) -> None:
        self.config = EmsConfig(
            sender_no=sender_no,
            authorization=authorization,
            sign_key=sign_key,
            base_url=base_url,
            test=test,
            product_code=product_code,
            biz_product_no=biz_product_no,
        )
        self.transport = Transport(session, timeout=timeout, retries=retries, backoff=backoff)
        self._clock = clock

    def __repr__(self) -> str:
        return f"<EmsCarrier sender_no={self.config.sender_no!r} endpoint={self.config.endpoint!r}>"

    def close(self) -> None:
        """Release the HTTP connections (of a session this adapter made)."""
        self.transport.close()

    def __enter__(self) -> EmsCarrier:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def _send(self, wire: WireRequest) -> str:
        return self.transport.post_form(wire.url, wire.form, retry=wire.retry).text

    def quote(self, request: QuoteRequest) -> Quote:
        """The estimated postage of a piece (050005).

        Raises:
            CarrierError: EMS refused or could not be reached.
        """
        wire = build_freight_estimate(request, self.config, now=self._clock())
        return parse_freight_estimate(self._send(wire), request, carrier=self.name)

    def book(self, request: BookingRequest) -> Booking:
        """Create the order (020003); booking an order id again returns its waybill.

        Raises:
            CarrierError: EMS refused the order, or could not be reached (``retryable``: call
                ``book`` again with the same request; it cannot book twice).
        """
        wire = build_create_order(request, self.config, now=self._clock())
        text = self._send(wire)
        return parse_create_order(text, request, received_at=self._clock(), carrier=self.name)

    def cancel(self, order_id: str, *, tracking_number: TrackingNumber | None = None) -> None:
        """Cancel an order before pickup (020006); cancelling twice is not an error.

        Raises:
            CarrierError: EMS refused (for example: already picked up).
        """
        wire = build_cancel(
            order_id, self.config, now=self._clock(), tracking_number=tracking_number
        )
        parse_cancel(self._send(wire))

    def track(self, tracking_number: TrackingNumber) -> tuple[TrackingEvent, ...]:
        """The events EMS has for a waybill (040001).

        Raises:
            CarrierError: EMS refused or could not be reached, or sent a malformed trace.
        """
        wire = build_track_query(tracking_number, self.config, now=self._clock())
        return parse_track(self._send(wire))

    def parse_push(self, body: bytes, headers: Mapping[str, str]) -> PushMessage:
        """Verify and read a track push (040002) EMS posted to our endpoint.

        Raises:
            WebhookVerificationError: the push fails verification; nothing was read.
            CarrierError: verified, but malformed inside.
        """
        return parse_push(body, headers, self.config.sign_key)
