"""The EMS carrier adapter: the build/parse pairs of :mod:`govpost.carriers.ems` over HTTP."""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from datetime import datetime

import requests

from govpost.carriers._http import (
    DEFAULT_DEADLINE,
    DEFAULT_MAX_RESPONSE_BYTES,
    DEFAULT_TIMEOUT,
    Transport,
)
from govpost.carriers._model import (
    Booking,
    BookingRequest,
    Capability,
    PushMessage,
    Quote,
    QuoteRequest,
    utc_now,
)
from govpost.carriers.ems.build import (
    API_CREATE_ORDER,
    API_TRACK_QUERY,
    PRODUCTION_URL,
    EmsConfig,
    WireRequest,
    build_cancel,
    build_create_order,
    build_freight_estimate,
    build_track_query,
)
from govpost.carriers.ems.codes import UNCONFIRMED_DUPLICATE
from govpost.carriers.ems.parse import (
    parse_cancel,
    parse_create_order,
    parse_freight_estimate,
    parse_push,
    parse_reply,
    parse_track,
)
from govpost.carriers.webhooks import MAX_PUSH_BYTES
from govpost.errors import CarrierError, ValidationError
from govpost.identifiers import TrackingNumber
from govpost.privacy import scrub
from govpost.shipments import TrackingEvent

__all__ = ["EmsCarrier"]


class EmsCarrier:
    """The EMS open-platform adapter (registered as ``ems``).

    Quote (050005), book (020003), cancel (020006), track (040001) and read pushes (040002).
    Every operation has one overall deadline (``deadline``) covering all its HTTP calls and
    their retries; queries and create-order calls (keyed by our order id) are retried with
    backoff after timeouts, dropped connections, 5xx and 429, and a "duplicate order" answer
    (by its code) to a retried booking is the success it is: one piece, one waybill. An
    answer that only speaks of a duplicate is confirmed by a track query first (see
    :meth:`book`).

    Args:
        sender_no: the agreement customer number (协议客户号).
        authorization: the authorization code (授权码).
        sign_key: the signKey that seals every message (and the pushes EMS sends us).
        base_url: scheme and host of the platform.
        test: use the platform's test endpoint.
        session: a ``requests.Session`` to send through (proxies, certificates, pooling).
        timeout: seconds, or ``(connect, read)`` seconds, for each attempt of a call (cut to
            the time left before the deadline).
        retries: retries of calls that are safe to repeat.
        backoff: seconds before the first retry, doubled for each further one.
        max_backoff: the longest wait between two attempts, ``Retry-After`` included.
        deadline: seconds one operation (:meth:`book`, :meth:`track`, ...) may take in all;
            past it, a retryable :class:`~govpost.errors.CarrierError` with code
            ``"deadline"``.
        max_response_bytes: the largest answer read (10 MiB); a larger one is refused.
        clock: gives the current aware time (tests pass a fixed clock).
        product_code: the product (产品代码) priced by freight estimates.
        biz_product_no: the business product (业务产品) of created orders.

    Raises:
        ValidationError: a missing credential, a bad signKey, timeout, deadline or retry
            setting.

    >>> ems = EmsCarrier(sender_no="1100012345678", authorization="auth-code",
    ...                  sign_key="TvaBgrhE46sft3nZlfe7xw==")
    >>> ems
    <EmsCarrier sender_no='1100012345678' endpoint='https://api.ems.com.cn/amp-prod-api/f/amp/api/open'>

    .. versionadded:: 0.1.0
    .. versionchanged:: 0.2.0
       ``deadline``, ``max_backoff`` and ``max_response_bytes``; duplicates by code only.
    """

    name = "ems"
    capabilities = frozenset(
        {Capability.QUOTE, Capability.BOOK, Capability.CANCEL, Capability.TRACK, Capability.PUSH}
    )
    #: EMS's SM4-ECB envelope has no integrity check: see :meth:`parse_push`.
    pushes_authenticated = False
    #: The largest push body :meth:`parse_push` accepts (1 MiB); set it on an instance to
    #: change it.
    max_push_bytes = MAX_PUSH_BYTES

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
        max_backoff: float = 8.0,
        deadline: float = DEFAULT_DEADLINE,
        max_response_bytes: int = DEFAULT_MAX_RESPONSE_BYTES,
        clock: Callable[[], datetime] = utc_now,
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
        self.transport = Transport(
            session,
            timeout=timeout,
            retries=retries,
            backoff=backoff,
            max_backoff=max_backoff,
            deadline=deadline,
            max_response_bytes=max_response_bytes,
        )
        self._clock = clock

    def __repr__(self) -> str:
        return f"<EmsCarrier sender_no={self.config.sender_no!r} endpoint={self.config.endpoint!r}>"

    @property
    def clock(self) -> Callable[[], datetime]:
        """The adapter's clock (gives the current aware time); the push inbox reads it too."""
        return self._clock

    def close(self) -> None:
        """Release the HTTP connections (of a session this adapter made)."""
        self.transport.close()

    def __enter__(self) -> EmsCarrier:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def _deadline(self) -> float:
        """The monotonic instant by which the operation starting now must finish."""
        return time.monotonic() + self.transport.deadline

    def _send(self, wire: WireRequest, end: float) -> str:
        left = end - time.monotonic()
        return self.transport.post_form(wire.url, wire.form, retry=wire.retry, deadline=left).text

    def quote(self, request: QuoteRequest) -> Quote:
        """The estimated postage of a piece (050005).

        Raises:
            CarrierError: EMS refused or could not be reached.
        """
        end = self._deadline()
        wire = build_freight_estimate(request, self.config, now=self._clock())
        return parse_freight_estimate(self._send(wire, end), request, carrier=self.name)

    def book(self, request: BookingRequest) -> Booking:
        """Create the order (020003); booking an order id again returns its waybill.

        EMS keys orders by our order id, so a booking repeated after a lost answer is answered
        "duplicate order" (by its code, with the waybill): the same booking, never a second
        piece. A refusal that only speaks of a duplicate (重复, 已存在: "请勿重复提交" is
        also said of orders never created) is confirmed before it counts: by a track query of
        the waybill EMS named, within the same deadline. Without a waybill, or when tracking
        does not know it, nothing is reported booked.

        Raises:
            CarrierError: EMS refused the order, or could not be reached (``retryable``: call
                ``book`` again with the same request; it cannot book twice). Code
                ``"duplicate_unconfirmed"`` (not retryable): EMS spoke of a duplicate that
                could not be confirmed; ask EMS whether the order exists.

        .. versionchanged:: 0.2.0
           One deadline for the whole booking; duplicates by wording confirmed by tracking.
        """
        end = self._deadline()
        wire = build_create_order(request, self.config, now=self._clock())
        text = self._send(wire, end)
        try:
            return parse_create_order(text, request, received_at=self._clock(), carrier=self.name)
        except CarrierError as exc:
            if exc.code != UNCONFIRMED_DUPLICATE:
                raise
            return self._confirm_duplicate(request, text, exc, end)

    def _confirm_duplicate(
        self, request: BookingRequest, text: str, refusal: CarrierError, end: float
    ) -> Booking:
        """The booking EMS spoke of in words only, once its tracking knows the waybill."""
        order_id = request.order_id
        reply = parse_reply(text, API_CREATE_ORDER)
        said = (
            f"EMS refused order {order_id} with {scrub(reply.ret_code)}: {scrub(reply.ret_msg)} — "
            f"words of a duplicate, not a duplicate-order code, and said of orders never "
            f"created too"
        )
        ask = (
            f"order {order_id} is not reported booked. Ask EMS whether it was created; book it "
            f"again (under the same order id, which EMS keys orders by) only if it was not"
        )
        waybill = None
        if reply.waybill is not None:
            try:
                waybill = TrackingNumber(value=reply.waybill)
            except ValidationError:
                waybill = None
        if waybill is None:
            raise CarrierError(
                f"{said}; EMS named no valid waybill to confirm it by tracking: {ask}",
                code=UNCONFIRMED_DUPLICATE,
                retryable=False,
                raw=refusal.raw,
            )
        query = build_track_query(waybill, self.config, now=self._clock())
        answer = self._send(query, end)
        trace = parse_reply(answer, API_TRACK_QUERY)
        if trace.ok:
            return Booking(
                carrier=self.name,
                order_id=order_id,
                tracking_number=waybill,
                booked_at=self._clock(),
                duplicate=True,
                raw=text,
            )
        failure = trace.error()
        if failure.retryable:
            raise CarrierError(
                f"EMS spoke of order {order_id} as a duplicate with waybill {waybill}, and the "
                f"track query confirming it failed ({failure}); book it again later (it "
                f"cannot book twice)",
                code=failure.code,
                retryable=True,
                raw=answer,
            )
        raise CarrierError(
            f"{said}; EMS's tracking does not know the waybill it named, {waybill} "
            f"({scrub(trace.ret_code)}): {ask}",
            code=UNCONFIRMED_DUPLICATE,
            retryable=False,
            raw=text,
        )

    def cancel(self, order_id: str, *, tracking_number: TrackingNumber | None = None) -> None:
        """Cancel an order before pickup (020006); cancelling twice is not an error.

        Raises:
            CarrierError: EMS refused (for example: already picked up).
        """
        end = self._deadline()
        wire = build_cancel(
            order_id, self.config, now=self._clock(), tracking_number=tracking_number
        )
        parse_cancel(self._send(wire, end))

    def track(self, tracking_number: TrackingNumber) -> tuple[TrackingEvent, ...]:
        """The events EMS has for a waybill (040001).

        Raises:
            CarrierError: EMS refused or could not be reached, or sent a malformed trace.
        """
        end = self._deadline()
        wire = build_track_query(tracking_number, self.config, now=self._clock())
        return parse_track(self._send(wire, end))

    def parse_push(self, body: bytes, headers: Mapping[str, str]) -> PushMessage:
        """Verify and read a track push (040002) EMS posted to our endpoint.

        Verification proves less than it seems. EMS seals a push with SM4 in ECB mode under our
        signKey and adds no MAC, so the envelope keeps the push secret but does not prove it
        unaltered: whole 16-byte blocks of genuine pushes can be dropped, repeated or spliced
        together, and the result often still decrypts to JSON ending in our key — a
        "delivered" for a waybill that was only picked up, say. No parser can tell such a push
        from a genuine one, so this adapter declares ``pushes_authenticated = False``, and
        :class:`~govpost.carriers.webhooks.PushInbox` hands over a terminal status from a push
        only after :meth:`track` (the carrier's own record) shows the same event. The fields
        outside the envelope (``serialNo``, ``timeStamp``, ``senderNo``) are not verified at
        all; ``serialNo`` becomes the message id, a hint only.

        Bodies above :attr:`max_push_bytes` are refused before they are parsed or decrypted.

        Raises:
            WebhookVerificationError: the push fails verification; nothing was read.
            CarrierError: verified, but malformed inside.

        .. versionchanged:: 0.2.0
           Bodies capped; pushes declared unauthenticated.
        """
        return parse_push(body, headers, self.config.sign_key, max_body=self.max_push_bytes)
