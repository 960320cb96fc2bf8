"""The operations an agency runs, over a store and a carrier (private; see the package)."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from datetime import UTC, datetime, timedelta

import attrs

from govpost._fields import aware, check_weight, short
from govpost.agreements import FeeAgreement
from govpost.applications import (
    DEFAULT_RESULT_WEIGHT_G,
    Application,
    ApplicationEvent,
    ApplicationEventKind,
    ApplicationStatus,
    DeliveryChoice,
    ServiceCatalogue,
)
from govpost.carriers import (
    Booking,
    BookingCarrier,
    BookingRequest,
    Capability,
    Carrier,
    JournalEntry,
    JournalState,
    book_once,
    booking_fingerprint,
    require,
)
from govpost.carriers.webhooks import PushInbox
from govpost.centers import ServiceCenter
from govpost.errors import (
    CarrierError,
    InvalidTransitionError,
    StoreError,
    ValidationError,
)
from govpost.periods import Period
from govpost.service._reports import DispatchReport, IngestReport
from govpost.service._tracking import apply_stored, carrier_events, record_tracking
from govpost.settlement import (
    CarrierBill,
    ReconciliationReport,
    SettlementStatement,
    reconcile,
    settle,
)
from govpost.shipments import Recipient, ShipmentStatus
from govpost.store import LedgerEntry, Store, Transaction, ledger_entries, reversal

__all__ = ["Operations"]

#: The code a dispatch reports for an application govpost refused to book (an unknown
#: center, a service that may not be mailed, a recipient without a mobile number).
INVALID = "invalid"
#: The code a dispatch reports for an order the journal holds with other content, or with
#: another carrier (the sender changed since the order was first asked for, say).
CONFLICT = "journal_conflict"
#: How often :meth:`Operations.accept` tries when another process inserts the same application.
_ACCEPT_ATTEMPTS = 3


def _utc_now() -> datetime:
    return datetime.now(UTC)


def _reference(value: object) -> str:
    if not isinstance(value, str) or not value:
        raise ValidationError(
            f"an application reference (办件编号) is a non-empty str, not {short(value, code=True)}"
        )
    return value


def _limit(value: object) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValidationError(f"limit {short(value, code=True)} must be None or a positive int")
    return value


def _window(value: object, what: str) -> timedelta:
    if not isinstance(value, timedelta) or value < timedelta(0):
        raise ValidationError(
            f"{what} {short(value, code=True)} must be a timedelta of zero or more"
        )
    return value


def _in_force(agreement: FeeAgreement, period: Period) -> bool:
    until = agreement.valid_until
    return agreement.valid_from < period.end and (until is None or until > period.start)


def _posted(tx: Transaction, statement: SettlementStatement) -> tuple[LedgerEntry, ...]:
    """The ledger entries posted for ``statement`` (its own, not reversals of it)."""
    return tuple(
        entry
        for entry in tx.ledger.entries(statement.agreement_id, statement.period.start.year)
        if entry.statement_id == statement.statement_id
        and not entry.reference.endswith("/reversal")
    )


def _differing(stored: Application, given: Application) -> list[str]:
    """The fields, by name only (they hold personal data), in which two applications differ."""
    names = [f.name for f in attrs.fields(Application) if f.init and f.name != "events"]
    differ = [name for name in names if getattr(stored, name) != getattr(given, name)]
    if not set(given.events) <= set(stored.events):
        differ.append("events")
    return differ


class _Dispatch:
    """The outcomes of one dispatch run, gathered."""

    def __init__(self) -> None:
        self.booked: list[str] = []
        self.recovered: list[str] = []
        self.pending: list[str] = []
        self.failed: list[str] = []
        self.errors: list[tuple[str, str]] = []

    def pend(self, order_id: str, code: str) -> None:
        self.pending.append(order_id)
        self.errors.append((order_id, code))

    def fail(self, order_id: str, code: str) -> None:
        self.failed.append(order_id)
        self.errors.append((order_id, code))

    def report(self) -> DispatchReport:
        return DispatchReport(
            booked=self.booked,
            recovered=self.recovered,
            pending=self.pending,
            failed=self.failed,
            errors=self.errors,
        )


class Operations:
    """The operations an agency runs over its store and its carrier, each exactly once.

    Each operation is one or more transactions of the store with the carrier's calls around
    them; whatever is written together commits together. Run any of them again — after a
    crash, a timeout, or from a second process at the same time — and what was done is not
    done twice; what was not finished is finished. A booking is asked for between two
    transactions, recorded in the booking journal before and after; the one carrier call
    inside a transaction is the tracking query that confirms a pushed terminal status (a
    failure there rolls back a push that was not acknowledged yet). Reads that are modified
    and written back (an application, a shipment) are made under a row lock, so that two
    processes never lose each other's changes.

    Args:
        store: the store (:func:`govpost.store.open_store`), opened with the agency's keys.
        carrier: the carrier adapter; :meth:`dispatch` needs ``BOOK``, :meth:`ingest_push`
            ``PUSH`` (and ``TRACK`` to confirm the pushes of a carrier whose pushes are not
            authenticated), :meth:`poll_tracking` ``TRACK``.
        sender: who hands the results over on booking requests: one contact for every
            center, or a function giving the contact of a center (its postal window); it
            needs a mobile number and an address. It is part of what is booked: change it
            only between orders (an order asked for again must be asked for with the same
            content).
        clock: gives the current aware time: for journal entries, the push inbox's time
            window, tracking polls and ledger postings.
        finance: the ledger account of the finance bureau paying the postage.
        result_weight_g: the weight of a result shipment, in grams.
        confirm_terminal: as for :class:`~govpost.carriers.webhooks.PushInbox`: ``None``
            confirms terminal statuses through the carrier's tracking exactly when its
            pushes are not authenticated (EMS).
        max_push_age: as :class:`~govpost.carriers.webhooks.PushInbox`'s ``max_age``: pushed
            events older than this (by ``clock``) are withheld; ``None``, no limit.

    Raises:
        ValidationError: a store, carrier, sender, clock or setting of the wrong type.

    .. versionadded:: 0.2.0
    """

    def __init__(
        self,
        store: Store,
        carrier: Carrier,
        *,
        sender: Recipient | Callable[[ServiceCenter], Recipient],
        clock: Callable[[], datetime] = _utc_now,
        finance: str = "finance",
        result_weight_g: int = DEFAULT_RESULT_WEIGHT_G,
        confirm_terminal: bool | None = None,
        max_push_age: timedelta | None = timedelta(days=30),
    ) -> None:
        if not isinstance(store, Store):
            raise ValidationError(
                f"store must be a govpost Store (govpost.store.open_store(url, keys=...)), "
                f"not {type(store).__name__}"
            )
        if not isinstance(getattr(carrier, "name", None), str) or not isinstance(
            getattr(carrier, "capabilities", None), frozenset
        ):
            raise ValidationError(
                f"carrier must be a carrier adapter (govpost.carriers.load('ems', ...)), not "
                f"{type(carrier).__name__}"
            )
        if not isinstance(sender, Recipient) and not callable(sender):
            raise ValidationError(
                f"sender must be a Recipient, or a function of the ServiceCenter giving one, "
                f"not {type(sender).__name__}"
            )
        if not callable(clock):
            raise ValidationError(
                f"clock must be a function giving the time, not {short(clock, code=True)}"
            )
        if not isinstance(finance, str) or not finance.strip():
            raise ValidationError(
                f"finance {short(finance, code=True)} must be a non-empty account name"
            )
        if confirm_terminal is not None and not isinstance(confirm_terminal, bool):
            raise ValidationError(
                f"confirm_terminal {short(confirm_terminal, code=True)} must be None or a bool"
            )
        self.store = store
        self.carrier = carrier
        self.sender = sender
        self.clock = clock
        self.finance = finance
        self.result_weight_g = check_weight(result_weight_g, "result_weight_g")
        self.confirm_terminal = confirm_terminal
        self.max_push_age = None if max_push_age is None else _window(max_push_age, "max_push_age")

    def __repr__(self) -> str:
        return f"<Operations store={self.store.url!r} carrier={self.carrier.name!r}>"

    def _now(self) -> datetime:
        return aware(self.clock(), "the operations' clock's time")

    # --- applications -----------------------------------------------------------------------

    def accept(self, application: Application) -> Application:
        """Record an accepted application (受理); accepting the same one again changes nothing.

        Args:
            application: the application, as accepted (it may carry events already).

        Returns:
            The application as stored (after a repeat: the stored one, with the events
            recorded since).

        Raises:
            ValidationError: not an :class:`~govpost.applications.Application`; its center is
                not in the store or its service not in the store's catalogue, or the service
                may not be mailed as the application asks; another application is stored
                under the same reference (the message names the fields that differ).
            StoreError: the database failed; nothing was written.
        """
        if not isinstance(application, Application):
            raise ValidationError(
                f"accept() takes an Application, not {type(application).__name__}"
            )
        reference = application.reference
        if self.store.centers.get(application.center) is None:
            raise ValidationError(
                f"application {reference} names center {application.center!r}, which the store "
                f"does not have: record it first with store.centers.upsert(center)"
            )
        service = self.store.catalogue.get(application.service)
        if service is None:
            raise ValidationError(
                f"application {reference} names service {application.service!r}, which the "
                f"store's catalogue does not have: record it with store.catalogue.upsert(...)"
            )
        application.check(ServiceCatalogue(services=[service]))
        stored = self._record_new(application)
        if stored is None:
            return application
        differ = _differing(stored, application)
        if differ:
            raise ValidationError(
                f"application {reference} is already in the store with other content (differs "
                f"in: {', '.join(differ)}): an application is accepted once. Record what "
                f"happened since with approve(), reject(), withdraw() or change_delivery(); "
                f"a new application needs a new reference"
            )
        return stored

    def _record_new(self, application: Application) -> Application | None:
        """Record ``application`` if its reference is new (``None``); else the one stored."""
        attempt = 0
        while True:
            attempt += 1
            try:
                with self.store.transaction() as tx:
                    stored = tx.applications.get(application.reference, lock=True)
                    if stored is None:
                        tx.applications.record(application)
                    return stored
            except StoreError:
                # Two processes accepting one new reference at once: one insert loses (a
                # duplicate key, or a deadlock on MariaDB's gap locks); it then reads the
                # winner's, once that one has committed.
                if attempt == _ACCEPT_ATTEMPTS:
                    raise

    def _move(
        self,
        reference: str,
        step: Callable[[Application], Application],
        check: Callable[[Transaction, Application], None] | None = None,
        then: Callable[[Transaction, Application, Application], None] | None = None,
    ) -> Application:
        reference = _reference(reference)
        with self.store.transaction() as tx:
            application = tx.applications.get(reference, lock=True)
            if application is None:
                raise StoreError(
                    f"the store has no application {short(reference, code=True)}: accept it "
                    f"first with Operations.accept(application)"
                )
            if check is not None:
                check(tx, application)
            moved = step(application)
            if then is not None:
                then(tx, application, moved)
            if moved != application:
                tx.applications.record(moved)
        return moved

    def approve(self, reference: str, at: datetime, *, event_id: str | None = None) -> Application:
        """Approve (办结) the application ``reference`` at ``at``, in one transaction.

        The same approval again (same time, or same ``event_id``) changes nothing.

        Returns:
            The application, approved.

        Raises:
            StoreError: the store has no such application; the database failed.
            InvalidTransitionError: it is not ACCEPTED (approved at another time, rejected,
                withdrawn); nothing changes.
        """
        return self._move(reference, lambda a: a.approve(at, event_id=event_id))

    def reject(self, reference: str, at: datetime, *, event_id: str | None = None) -> Application:
        """Reject (不予许可) the application ``reference`` at ``at``, in one transaction.

        Raises:
            StoreError: the store has no such application; the database failed.
            InvalidTransitionError: it is not ACCEPTED; nothing changes.
        """
        return self._move(reference, lambda a: a.reject(at, event_id=event_id))

    def withdraw(self, reference: str, at: datetime, *, event_id: str | None = None) -> Application:
        """Record the applicant's withdrawal of ``reference`` at ``at``, in one transaction.

        Raises:
            StoreError: the store has no such application; the database failed.
            InvalidTransitionError: it is not ACCEPTED; nothing changes.
        """
        return self._move(reference, lambda a: a.withdraw(at, event_id=event_id))

    def change_delivery(
        self,
        reference: str,
        choice: DeliveryChoice | str,
        at: datetime,
        *,
        event_id: str | None = None,
    ) -> Application:
        """Change the delivery choice of ``reference`` at ``at``, until its dispatch starts.

        Once :meth:`dispatch` has recorded the result's order (whatever the carrier answered
        since), the choice is fixed: the order may already exist at the carrier.

        Raises:
            StoreError: the store has no such application; the database failed.
            InvalidTransitionError: the dispatch has started, or the application does not
                allow it (see :meth:`~govpost.applications.Application.change_delivery`).
            ValidationError: a change to ``MAIL`` for a service of the store's catalogue that
                does not allow its result to be mailed (as :meth:`accept` refuses it).
        """

        def not_ordered(tx: Transaction, application: Application) -> None:
            order = application.result_shipment_id
            if tx.shipments.get(order) is not None:
                raise InvalidTransitionError(
                    f"application {application.reference}: the order of its result ({order}) "
                    f"was recorded for the carrier, so the delivery choice can no longer "
                    f"change; cancel the order with the carrier first"
                )

        def mailable(tx: Transaction, before: Application, moved: Application) -> None:
            # Else dispatch would refuse it on every run ("invalid"), the application stuck
            # at APPROVED: refused here, as accept() refuses such an application.
            if moved == before or moved.current_delivery is not DeliveryChoice.MAIL:
                return
            service = tx.catalogue.get(moved.service)
            if service is None or not service.result_by_post:
                why = (
                    "is not in the store's catalogue"
                    if service is None
                    else "does not allow its result to be mailed"
                )
                raise ValidationError(
                    f"application {moved.reference} cannot change to MAIL: service "
                    f"{moved.service!r} {why}; keep COLLECT"
                )

        return self._move(
            reference,
            lambda a: a.change_delivery(choice, at, event_id=event_id),
            not_ordered,
            mailable,
        )

    # --- dispatch ---------------------------------------------------------------------------

    def _sender(self, center: ServiceCenter) -> Recipient:
        sender = self.sender if isinstance(self.sender, Recipient) else self.sender(center)
        if not isinstance(sender, Recipient):
            raise ValidationError(
                f"the sender function gave {type(sender).__name__} for center {center.code}, "
                f"not a Recipient"
            )
        return sender

    def dispatch(self, *, limit: int | None = None, retry_failed: bool = False) -> DispatchReport:
        """Book every approved application that chose ``MAIL`` and has no booking yet.

        For each, in reference order:

        1. in one transaction, the result's shipment
           (:meth:`~govpost.applications.Application.outbound_shipment`) and the booking's
           intent (a ``pending`` entry of ``store.journal``) are recorded;
        2. the order is booked with :func:`~govpost.carriers.journal.book_once` under its id (the
           shipment's id, ``<reference>-R``), which the journal records;
        3. in one transaction, the shipment gets its waybill (and the tracking events already
           stored for it), and the application its dispatch (结果已寄出).

        A crash anywhere is resumed by the next run: an order left pending is asked for again
        with the same request (the carrier answers a duplicate with the waybill it gave); one
        the journal holds as booked is completed without calling the carrier. Two processes
        dispatching at once book each order once.

        Args:
            limit: at most this many applications taken on: booked, recovered, or asked for
                at the carrier in vain. Those refused before — by the carrier (unless
                ``retry_failed``), or by govpost — are reported again without counting, so
                that they never hold back the applications after them.
            retry_failed: ask again for orders the carrier refused (their journal entry is
                ``failed``); by default they are reported, not sent again.

        Returns:
            What was booked, recovered, left pending or refused (:class:`DispatchReport`).

        Raises:
            CarrierError: the carrier does not declare ``BOOK``.
            ValidationError: a bad ``limit``, or a clock giving naive times; or the adapter
                raised it from ``book`` (its contract is ``CarrierError``). An adapter's bug
                (any exception but ``CarrierError``) stops the run and propagates, the order
                left pending, to be asked for again by the next run.
            StoreError: the database failed (the run stops; run it again).
        """
        booker = require(self.carrier, Capability.BOOK)
        count = _limit(limit)
        self._now()  # a clock giving naive times is refused before anything is recorded
        catalogue = self.store.catalogue.load()
        due = [
            application
            for application in self.store.applications.find(status=ApplicationStatus.APPROVED)
            if application.current_delivery is DeliveryChoice.MAIL
        ]
        outcome = _Dispatch()
        taken = 0
        for application in due:
            if taken == count:
                break
            # Refused before (by govpost, or by the carrier without retry_failed): reported
            # again, not counted, so that they never hold back the applications after them.
            if self._dispatch_one(booker, application, catalogue, retry_failed, outcome):
                taken += 1
        return outcome.report()

    def _dispatch_one(
        self,
        booker: BookingCarrier,
        application: Application,
        catalogue: ServiceCatalogue,
        retry_failed: bool,
        outcome: _Dispatch,
    ) -> bool:
        """Dispatch one application; whether it was taken on (the carrier asked, or the
        booking completed from the journal), as :meth:`dispatch`'s ``limit`` counts."""
        reference = application.reference
        order_id = application.result_shipment_id
        try:
            request = self._record_intent(booker, reference, catalogue)
        except (ValidationError, InvalidTransitionError):
            outcome.fail(order_id, INVALID)
            return False
        if request is None:
            return False
        entry = self.store.journal.get(order_id)
        assert entry is not None  # recorded by the intent, never deleted
        if entry.state is JournalState.FAILED and not retry_failed:
            outcome.fail(order_id, entry.error_code or "failed")
            return False
        recovered = entry.state is JournalState.BOOKED
        try:
            booking = book_once(booker, request, self.store.journal, clock=self.clock)
        except CarrierError as exc:
            code = exc.code or "carrier_error"
            if exc.retryable:
                outcome.pend(order_id, code)
            else:
                outcome.fail(order_id, code)
            return True
        except ValidationError:
            if entry.carrier == booker.name and entry.fingerprint == booking_fingerprint(request):
                # Not book_once's refusal of the order (its entry agrees with the request):
                # the adapter's own, which its contract (CarrierError) does not allow — a bug
                # to surface, not an answer of the carrier. The order stays pending.
                raise
            outcome.fail(order_id, CONFLICT)
            return False
        if self._record_booking(booker.name, reference, booking):
            (outcome.recovered if recovered else outcome.booked).append(order_id)
            # Events pushed while step 3 ran, which it could not see yet (PostgreSQL and
            # MariaDB show a transaction no uncommitted row of another).
            self._catch_up(booker.name, booking.tracking_number.value)
        return True

    def _catch_up(self, carrier: str, number: str) -> IngestReport:
        """Apply the events of ``carrier`` stored for waybill ``number`` that its shipment does
        not hold yet, in a transaction of its own: run after the commit of a booking or a push,
        so that of two writers meeting on a waybill the one committing last applies them."""
        if not self.store.events.for_waybill(number, carrier):
            return IngestReport()
        with self.store.transaction() as tx:
            return apply_stored(tx, carrier, number)

    def _record_intent(
        self, booker: BookingCarrier, reference: str, catalogue: ServiceCatalogue
    ) -> BookingRequest | None:
        """Step 1: the shipment and the journal's pending entry, in one transaction; the
        request to book, or ``None`` if the application is no longer due."""
        with self.store.transaction() as tx:
            application = tx.applications.get(reference, lock=True)
            if (
                application is None
                or application.status is not ApplicationStatus.APPROVED
                or application.current_delivery is not DeliveryChoice.MAIL
            ):
                return None  # dispatched, or changed, by someone else meanwhile
            center = tx.centers.get(application.center)
            if center is None:
                raise ValidationError(
                    f"application {reference} names center {application.center!r}, which "
                    f"the store does not have: record it with store.centers.upsert(center)"
                )
            shipment = tx.shipments.get(application.result_shipment_id, lock=True)
            if shipment is not None and shipment.tracking_number is not None:
                return None
            if shipment is None:
                shipment = application.outbound_shipment(
                    center, catalogue, weight_g=self.result_weight_g
                )
                request = BookingRequest(shipment=shipment, sender=self._sender(center))
                tx.shipments.record(shipment)
            else:
                request = BookingRequest(shipment=shipment, sender=self._sender(center))
            now = self._now()
            tx.journal.setdefault(
                JournalEntry(
                    key=request.order_id,
                    carrier=booker.name,
                    fingerprint=booking_fingerprint(request),
                    state=JournalState.PENDING,
                    created_at=now,
                    updated_at=now,
                )
            )
        return request

    def _record_booking(self, carrier: str, reference: str, booking: Booking) -> bool:
        """Step 3: the waybill on the shipment, the dispatch on the application, in one
        transaction; ``False`` if a concurrent run recorded it first."""
        with self.store.transaction() as tx:
            application = tx.applications.get(reference, lock=True)
            shipment = tx.shipments.get(booking.order_id, lock=True)
            if application is None or shipment is None:  # pragma: no cover - never deleted
                raise StoreError(
                    f"application {reference} or its shipment {booking.order_id} vanished "
                    f"from the store while booked with waybill {booking.tracking_number}"
                )
            if shipment.tracking_number is not None:
                if shipment.tracking_number != booking.tracking_number:
                    raise StoreError(
                        f"shipment {shipment.id} carries waybill {shipment.tracking_number}, "
                        f"but the journal records the booking of waybill "
                        f"{booking.tracking_number}: ask the carrier which one is the order's"
                    )
                return False
            linked = attrs.evolve(
                shipment,
                tracking_number=booking.tracking_number,
                status=ShipmentStatus.AWAITING_PICKUP,
            )
            # Pushed before the booking was recorded (a crash between the carrier's answer
            # and this transaction): stored, waiting for this waybill.
            earlier = tx.events.for_waybill(booking.tracking_number.value, carrier)
            if earlier:
                linked = linked.apply(*earlier)
            tx.shipments.record(linked)
            approved = application.approved_at
            at = booking.booked_at if approved is None else max(booking.booked_at, approved)
            dispatched = ApplicationEvent(
                event_id=f"booking:{booking.order_id}",
                kind=ApplicationEventKind.RESULT_DISPATCHED,
                occurred_at=at,
                tracking_number=booking.tracking_number,
            )
            moved = application.apply(dispatched, *carrier_events(linked))
            if moved != application:
                tx.applications.record(moved)
        return True

    # --- tracking ---------------------------------------------------------------------------

    def ingest_push(self, body: bytes, headers: Mapping[str, str]) -> IngestReport:
        """Handle one pushed HTTP request of the carrier, in one transaction.

        The push is verified and read by a :class:`~govpost.carriers.webhooks.PushInbox`
        made for this request over the transaction's seen ids (``seen=tx.seen``,
        ``confirm_terminal`` and ``max_age`` from this object, its ``clock``); the events it
        hands over are stored, applied to their shipments and to those shipments'
        applications, and their ids remembered, all in the one transaction, which commits
        before this returns. Events of a waybill no shipment carried are applied after the
        commit if a booking recorded the waybill meanwhile (a dispatch running at the same
        time could not see them).

        Answer the carrier from the outcome, as :mod:`govpost.carriers.webhooks` says:
        returned: **200** (the push is in the store); ``WebhookVerificationError``: **401**;
        a retryable ``CarrierError`` (the tracking query confirming a terminal status
        failed): **503**; anything else: **500**. Whatever raised, nothing was stored or
        remembered, and the carrier's redelivery brings the same events again.

        Raises:
            WebhookVerificationError: the push failed verification.
            CarrierError: the push is malformed inside, the confirming tracking query
                failed, or the carrier does not declare ``PUSH``.
            StoreError: the database failed.
        """
        pusher = require(self.carrier, Capability.PUSH)
        with self.store.transaction() as tx:
            inbox = PushInbox(
                pusher,
                seen=tx.seen,
                confirm_terminal=self.confirm_terminal,
                max_age=self.max_push_age,
                clock=self.clock,
            )
            with inbox.receiving(body, headers) as events:
                report = record_tracking(tx, pusher.name, events)
            withheld = inbox.withheld
        report = attrs.evolve(report, withheld=withheld)
        # Waybills without a shipment may have got one meanwhile: a booking recorded while
        # this transaction ran could not see its events (see _catch_up).
        # The push is committed: a failure here must not answer it 500 (its redelivery would
        # bring nothing new); the waybill stays unmatched, and the tracking poll catches up.
        for number in report.unmatched:
            try:
                if self.store.shipments.by_tracking_number(number) is None:
                    continue
                caught = self._catch_up(pusher.name, number)
            except StoreError:
                continue
            report = attrs.evolve(
                report + caught, unmatched=[n for n in report.unmatched if n != number]
            )
        return report

    def poll_tracking(
        self, *, quiet_for: timedelta = timedelta(hours=6), limit: int | None = None
    ) -> IngestReport:
        """Ask the carrier's tracking for every booked shipment quiet for ``quiet_for``.

        The shipments with a waybill, not in a final status, whose last event (or creation)
        is older than ``quiet_for`` by the clock — those whose pushes may have been lost —
        are queried one by one, each answer recorded in a transaction of its own as pushes
        are (events already stored change nothing). A failed query is reported, and the
        poll goes on.

        Args:
            quiet_for: how long a shipment has had no event.
            limit: at most this many shipments (in id order).

        Raises:
            CarrierError: the carrier does not declare ``TRACK``.
            StoreError: the database failed.
        """
        tracker = require(self.carrier, Capability.TRACK)
        since = self._now() - _window(quiet_for, "quiet_for")
        report = IngestReport()
        for shipment in self.store.shipments.find(quiet_since=since, limit=_limit(limit)):
            number = shipment.tracking_number
            assert number is not None  # quiet_since finds only booked shipments
            entry = self.store.journal.get(shipment.id)
            if entry is not None and entry.carrier != tracker.name:
                continue  # booked with another carrier: its own poll asks that one
            try:
                events = tracker.track(number)
            except CarrierError as exc:
                report += IngestReport(
                    failed=(shipment.id,), errors=((shipment.id, exc.code or "carrier_error"),)
                )
                continue
            with self.store.transaction() as tx:
                report += record_tracking(tx, tracker.name, events)
        return report

    # --- settlement -------------------------------------------------------------------------

    def close_month(
        self,
        period: Period,
        *,
        agreements: Iterable[str] | None = None,
        supersede: bool = False,
        unattributed: str | None = None,
    ) -> tuple[SettlementStatement, ...]:
        """Settle ``period`` under every agreement, save each statement once, post the ledger.

        For each agreement of the store that settles by ``period``'s kind and is in force in
        it (or each of ``agreements``), the shipments of its centers are settled from the
        store (``store.shipments.settlement_rows``, with the statements saved before —
        ``store.statements.previous`` — for the budget, the quota carried forward and the
        waybills billed before), and in one
        transaction per agreement the statement is saved and its ledger entries posted
        (finance → center → carrier, :func:`govpost.store.ledger_entries`).

        Closing a period again changes nothing while the shipments have not changed. When
        they have (a late pickup scan, a correction), the new statement differs from the
        saved one and is refused, unless ``supersede=True``: then it is saved as the next
        version and the ledger gets the reversal of the old entries and the new ones.

        Args:
            period: the period to close (a month for monthly agreements, etc.).
            agreements: the ids of the agreements to settle; all by default.
            supersede: replace a saved statement that differs.
            unattributed: the center whose ledger entries take a lump sum the statement
                attributes to no center (a period in which no piece was sent), under an
                agreement covering several centers (it must be one of them); one covering a
                single center gives it to that center.

        Returns:
            The statements in force for the period, one per agreement settled, in id order.

        Raises:
            ValidationError: ``period`` is not a :class:`~govpost.periods.Period`; a lump sum
                attributed to no center, under an agreement of several centers, without
                ``unattributed`` or with one the agreement does not cover (nothing is saved
                for that agreement).
            StoreError: an agreement id the store does not have; a saved statement that
                differs (without ``supersede``); the database failed. The agreements
                settled before the error stay settled (each is its own transaction).
            SettlementError: the settlement refused (see :func:`~govpost.settlement.settle`),
                such as an agreement named in ``agreements`` that is not in force in
                ``period``.
        """
        if not isinstance(period, Period):
            raise ValidationError(
                f"period must be a Period such as Period.month(2018, 6), not "
                f"{short(period, code=True)}"
            )
        if agreements is None:
            chosen = [
                agreement
                for agreement in self.store.agreements.all()
                if agreement.period is period.kind and _in_force(agreement, period)
            ]
        else:
            if isinstance(agreements, str):
                raise ValidationError(
                    f"agreements is a list of agreement ids, not the str "
                    f"{short(agreements, code=True)}"
                )
            chosen = [self.store.agreements.require(key) for key in dict.fromkeys(agreements)]
        closed: list[SettlementStatement] = []
        for agreement in chosen:
            previous = self.store.statements.previous(agreement.id, before=period)
            rows = self.store.shipments.settlement_rows(agreement.centers, period)
            statement = settle(agreement, rows, period, previous=previous)
            receiver = unattributed
            if receiver is None and len(agreement.centers) == 1:
                (receiver,) = agreement.centers
            lump = any(sub.key == "*" and sub.amount.amount for sub in statement.by_center)
            if lump and receiver is not None and receiver not in agreement.centers:
                raise ValidationError(
                    f"unattributed {short(receiver, code=True)} is not a center of agreement "
                    f"{agreement.id} ({', '.join(sorted(agreement.centers))}): name the one "
                    f"that receives a lump sum no piece is attributed to"
                )
            with self.store.transaction() as tx:
                old = tx.statements.current(agreement.id, period)
                if tx.statements.save(statement, supersede=supersede):
                    now = self._now()
                    # The reversal of what was posted for the old statement, read back: not
                    # recomputed, since finance or unattributed may have changed since.
                    undone = () if old is None else reversal(_posted(tx, old), posted_at=now)
                    tx.ledger.post(*undone, *self._entries(statement, now, receiver))
            closed.append(statement)
        return tuple(closed)

    def _entries(
        self, statement: SettlementStatement, now: datetime, unattributed: str | None
    ) -> tuple[LedgerEntry, ...]:
        return ledger_entries(
            statement, posted_at=now, finance=self.finance, unattributed=unattributed
        )

    def reconcile(
        self, bill: CarrierBill, *, agreement_id: str, period: Period
    ) -> ReconciliationReport:
        """Reconcile the carrier's ``bill`` against the statement saved for the agreement and
        period, and save the report (saving the same report again changes nothing).

        Raises:
            StoreError: no statement is saved for that agreement and period (close the
                period first); the database failed.
            SettlementError: ``bill`` is not a :class:`~govpost.settlement.CarrierBill`.
            CurrencyMismatchError: the bill is in another currency than the statement.
        """
        if not isinstance(period, Period):
            raise ValidationError(
                f"period must be a Period such as Period.month(2018, 6), not "
                f"{short(period, code=True)}"
            )
        statement = self.store.statements.current(agreement_id, period)
        if statement is None:
            raise StoreError(
                f"the store has no statement of agreement {short(agreement_id, code=True)} for "
                f"{period}: close the period first with "
                f"Operations.close_month(Period.parse('{period}'))"
            )
        report = reconcile(statement, bill)
        self.store.reconciliations.save(report)
        return report
