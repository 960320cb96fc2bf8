"""Stationed staff (专人驻点): the counter session and its daily close-out (private).

The postal staff stationed in the hall accept pieces at their counter all day; at the end of the
day they close out (日结): pieces and postage, priced exactly as settlement will bill them — the
close-out is :func:`govpost.settlement.settle` read for one day, so the two can never disagree.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime
from typing import TYPE_CHECKING

import attrs

from govpost._fields import short
from govpost.agreements import FeeAgreement, PerPiece
from govpost.centers import BusinessLine, center_code
from govpost.errors import ValidationError
from govpost.money import Money
from govpost.periods import Period, business_date
from govpost.regions import Zone
from govpost.shipments import Shipment

if TYPE_CHECKING:
    from govpost.settlement import StatementLine


def _center(value: str) -> str:
    return center_code(value)


def _day(value: date) -> date:
    given: object = value
    if isinstance(given, datetime) or not isinstance(given, date):
        raise ValidationError(f"day {short(given)} must be a datetime.date, the business date")
    return given


def _bookings(values: Iterable[Shipment]) -> tuple[Shipment, ...]:
    given: object = values
    if isinstance(given, str | bytes) or not isinstance(given, Iterable):
        raise ValidationError(f"bookings {short(given)} must be a list of Shipment")
    items = list(given)
    for item in items:
        if not isinstance(item, Shipment):
            raise ValidationError(f"bookings must be Shipment values, not {short(item)}")
    return tuple(sorted(items, key=lambda s: (s.created_at, s.id)))


def _check_bookings(instance: CounterSession, attribute: object, value: object) -> None:
    seen: set[str] = set()
    for shipment in instance.bookings:
        if shipment.center != instance.center:
            raise ValidationError(
                f"shipment {shipment.id} belongs to center {shipment.center}, not to the counter "
                f"of {instance.center}"
            )
        booked = business_date(shipment.created_at, "created_at")
        if booked != instance.day:
            raise ValidationError(
                f"shipment {shipment.id} was booked on {booked}, not on {instance.day}: book it "
                f"in that day's session"
            )
        if shipment.id in seen:
            raise ValidationError(f"shipment {shipment.id} is booked twice in the session")
        seen.add(shipment.id)


@attrs.frozen(kw_only=True)
class CounterSession:
    """The bookings taken at a center's postal counter on one business date (专人驻点).

    Args:
        center: the center's code.
        day: the business date (Asia/Shanghai) of the session.
        bookings: the shipments booked at the counter that day (kept sorted by time and id).

    Raises:
        ValidationError: a booking of another center, booked on another day, or twice.

    >>> from datetime import date
    >>> session = CounterSession(center="GZ-520100", day=date(2018, 6, 4))
    >>> session.pieces
    0

    .. versionadded:: 0.2.0
    """

    center: str = attrs.field(converter=_center)
    day: date = attrs.field(converter=_day)
    bookings: tuple[Shipment, ...] = attrs.field(
        default=(), converter=_bookings, validator=_check_bookings
    )

    @property
    def pieces(self) -> int:
        """The number of bookings taken."""
        return len(self.bookings)

    def book(self, *shipments: Shipment) -> CounterSession:
        """A copy of the session with ``shipments`` booked.

        Raises:
            ValidationError: a shipment of another center or day, or already booked.

        .. versionadded:: 0.2.0
        """
        return attrs.evolve(self, bookings=(*self.bookings, *shipments))

    def close_out(self, agreement: FeeAgreement) -> DailyCloseOut:
        """The day's close-out (日结) under a per-piece ``agreement``.

        The postage of each piece is the line :func:`govpost.settlement.settle` bills for it
        in the agreement's period, on the day of its pickup: for pieces picked up on the day
        they were booked, the close-outs of the days of a month add up to that month's
        statement, line by line. A piece picked up on a later day is counted in
        :attr:`DailyCloseOut.not_billed` and listed by no close-out (the month's statement
        bills it).

        Raises:
            ValidationError: a lump-sum agreement (its pieces are not priced one by one: the
                lump sum is settled for the period), or one that does not cover the center.
            SettlementError: the agreement is not in force in the period.

        .. versionadded:: 0.2.0
        """
        from govpost.settlement import LineKind, settle

        if not isinstance(agreement, FeeAgreement):
            raise ValidationError(f"agreement {short(agreement)} must be a FeeAgreement")
        if not isinstance(agreement.mode, PerPiece):
            raise ValidationError(
                f"agreement {agreement.id} settles as a lump sum (包干): a day's pieces carry no "
                f"postage of their own; count them with session.pieces and settle the period"
            )
        if self.center not in agreement.centers:
            raise ValidationError(
                f"agreement {agreement.id} does not cover center {self.center}: close out "
                f"under the center's own agreement"
            )
        statement = settle(agreement, self.bookings, Period.of(agreement.period, self.day))
        lines = tuple(
            _piece(line)
            for line in statement.lines
            if line.kind is LineKind.CHARGE and line.day == self.day
        )
        zero = Money.zero(agreement.currency)
        groups: dict[BusinessLine, list[CloseOutLine]] = {}
        for line in lines:
            groups.setdefault(line.business_line, []).append(line)
        applicant_paid = statement.excluded.not_covered
        return DailyCloseOut(
            center=self.center,
            day=self.day,
            agreement_id=agreement.id,
            currency=agreement.currency,
            lines=lines,
            postage=sum((line.postage for line in lines), zero),
            by_business_line=tuple(
                CloseOutSubtotal(
                    business_line=b,
                    pieces=len(groups[b]),
                    postage=sum((line.postage for line in groups[b]), zero),
                )
                for b in BusinessLine
                if b in groups
            ),
            applicant_paid=applicant_paid,
            not_billed=len(self.bookings) - len(lines) - applicant_paid,
        )


def _piece(line: StatementLine) -> CloseOutLine:
    # A charge line always names its piece; only the lump-sum line has no waybill.
    assert line.waybill is not None
    assert line.shipment_id is not None
    assert line.business_line is not None
    assert line.zone is not None
    return CloseOutLine(
        waybill=line.waybill,
        shipment_id=line.shipment_id,
        business_line=line.business_line,
        zone=line.zone,
        weight_g=line.weight_g,
        postage=line.amount,
    )


@attrs.frozen(kw_only=True)
class CloseOutLine:
    """One piece of a close-out, with the postage settlement bills for it
    (see :class:`DailyCloseOut`).

    .. versionadded:: 0.2.0
    """

    waybill: str
    shipment_id: str
    business_line: BusinessLine
    zone: Zone
    weight_g: int
    postage: Money


@attrs.frozen(kw_only=True)
class CloseOutSubtotal:
    """The pieces and postage of one business line in a close-out (see :class:`DailyCloseOut`).

    .. versionadded:: 0.2.0
    """

    business_line: BusinessLine
    pieces: int
    postage: Money


@attrs.frozen(kw_only=True)
class DailyCloseOut:
    """A counter's daily close-out (日结): the day's pieces and postage under an agreement.

    Attributes:
        center: the center.
        day: the business date closed.
        agreement_id: the agreement the postage is billed under.
        currency: its currency.
        lines: the pieces the government pays for, picked up that day, each with its postage
            (the line settlement bills), sorted as settlement sorts them.
        postage: the sum of the lines.
        by_business_line: pieces and postage per business line.
        applicant_paid: bookings the agreement does not cover (the applicant pays at the counter).
        not_billed: bookings not billed that day: not (yet) picked up, cancelled, picked up on
            another day, or outside the agreement's validity.

    Built by :meth:`CounterSession.close_out`; the how-to :doc:`/howto/stationed-staff` closes
    out a day step by step.

    .. versionadded:: 0.2.0
    """

    center: str
    day: date
    agreement_id: str
    currency: str
    lines: tuple[CloseOutLine, ...]
    postage: Money
    by_business_line: tuple[CloseOutSubtotal, ...]
    applicant_paid: int
    not_billed: int

    @property
    def pieces(self) -> int:
        """The number of pieces billed to the government that day."""
        return len(self.lines)
