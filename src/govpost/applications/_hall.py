"""A deterministic sample online hall: a seeded stream of applications for tests and demos."""

from __future__ import annotations

import random
from collections.abc import Iterable, Iterator
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from fractions import Fraction

import attrs

from govpost._fields import coerce_enum, short
from govpost.applications._application import (
    Applicant,
    Application,
    ApplicationEvent,
    ApplicationEventKind,
    DeliveryChoice,
)
from govpost.applications._catalogue import Service, ServiceCatalogue
from govpost.calendar import WorkCalendar
from govpost.centers import BusinessLine, Channel, ServiceCenter
from govpost.errors import ValidationError
from govpost.identifiers import s10_check_digit
from govpost.periods import SHANGHAI
from govpost.regions import Division

_SURNAMES = "王李张刘陈杨黄赵吴周徐孙马胡朱郭何罗高林"
_GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华"
_STREETS = ("中华南路", "遵义路", "延安中路", "北京路", "宝山北路", "花溪大道", "人民大道")
_MOBILE_PREFIXES = ("135", "136", "138", "139", "150", "151", "158", "183", "187", "189")
_ID_WEIGHTS = tuple(2 ** (17 - i) % 11 for i in range(17))


def _share(value: Fraction | Decimal | str) -> Fraction:
    given: object = value
    try:
        if isinstance(given, bool) or not isinstance(given, Fraction | Decimal | str | int):
            raise ValueError
        share = Fraction(given)
    except (ValueError, ZeroDivisionError):
        raise ValidationError(
            f"share {short(given)} must be a fraction from 0 to 1, e.g. Fraction(4, 5) or '0.8'"
        ) from None
    if not 0 <= share <= 1:
        raise ValidationError(f"share {share} must be from 0 to 1")
    return share


def _count(value: int) -> int:
    given: object = value
    if isinstance(given, bool) or not isinstance(given, int) or not 0 <= given <= 100_000:
        raise ValidationError(f"count {short(given)} must be an int from 0 to 100,000")
    return given


def _centers(value: Iterable[ServiceCenter]) -> tuple[ServiceCenter, ...]:
    centers = tuple(value)
    if not centers or not all(isinstance(c, ServiceCenter) for c in centers):
        raise ValidationError("centers must be one or more ServiceCenter values")
    return centers


def _lines(value: Iterable[BusinessLine] | None) -> frozenset[BusinessLine] | None:
    return None if value is None else frozenset(coerce_enum(BusinessLine, v, "line") for v in value)


def _codes(value: Iterable[str] | None) -> tuple[str, ...] | None:
    return None if value is None else tuple(value)


def _destinations(value: Iterable[Division | str]) -> tuple[Division, ...]:
    return tuple(Division.parse(v) for v in value)


@attrs.frozen(kw_only=True)
class SampleHall:
    """A deterministic online service hall: the same parameters give the same applications.

    Each working day from ``start`` for ``days`` calendar days, each center accepts
    ``per_day`` applications between 09:00 and 17:00 (Asia/Shanghai), drawn with a
    ``random.Random(seed)``: a service of the chosen ``lines`` (or ``services``) that the
    center runs, the channel (``online_share`` online), the delivery choice (``mail_share``
    by post, when the service allows it), materials by post (``materials_share``, when
    allowed), and the outcome — approved (``approval_share``), else rejected
    (``rejection_share``), else withdrawn —, mostly within the service's time limit. Approved
    results are dispatched, delivered or collected, and closed; a few applicants change their
    delivery choice before the decision. Events after ``now`` are left out (still underway).

    The people are invented: names from common surnames, mobiles of real prefixes, ID numbers
    with valid check characters.

    >>> from datetime import date
    >>> from govpost.centers import CooperationMode, ServiceCenter
    >>> center = ServiceCenter(code="GZ-520000", name="贵州省政务服务中心", division="520000",
    ...     mode=CooperationMode.STATIONED_STAFF, channels={"online", "window"},
    ...     business_lines={"licence_delivery", "police", "tax"})
    >>> catalogue = ServiceCatalogue(services=[Service(code="S1", name="营业执照核发",
    ...     business_line="licence_delivery", time_limit_days=3)])
    >>> hall = SampleHall(catalogue=catalogue, centers=[center], start=date(2018, 9, 25),
    ...     days=7, per_day=4, seed=2018, destinations=["520102", "520201"])
    >>> apps = hall.applications()
    >>> len(apps), apps == SampleHall(catalogue=catalogue, centers=[center],
    ...     start=date(2018, 9, 25), days=7, per_day=4, seed=2018,
    ...     destinations=["520102", "520201"]).applications()
    (24, True)

    .. versionadded:: 0.2.0
    """

    catalogue: ServiceCatalogue
    centers: tuple[ServiceCenter, ...] = attrs.field(converter=_centers)
    start: date
    days: int = attrs.field(default=5, converter=_count)
    per_day: int = attrs.field(default=10, converter=_count)
    seed: int = 0
    online_share: Fraction = attrs.field(default=Fraction(1, 2), converter=_share)
    mail_share: Fraction = attrs.field(default=Fraction(4, 5), converter=_share)
    materials_share: Fraction = attrs.field(default=Fraction(1, 5), converter=_share)
    approval_share: Fraction = attrs.field(default=Fraction(9, 10), converter=_share)
    rejection_share: Fraction = attrs.field(default=Fraction(1, 20), converter=_share)
    change_share: Fraction = attrs.field(default=Fraction(1, 20), converter=_share)
    late_share: Fraction = attrs.field(default=Fraction(1, 10), converter=_share)
    lines: frozenset[BusinessLine] | None = attrs.field(default=None, converter=_lines)
    services: tuple[str, ...] | None = attrs.field(default=None, converter=_codes)
    destinations: tuple[Division, ...] = attrs.field(default=(), converter=_destinations)
    calendar: WorkCalendar = attrs.field(factory=WorkCalendar.china)
    now: datetime | None = None

    def _offer(self, center: ServiceCenter) -> list[Service]:
        chosen = (
            [self.catalogue.lookup(code) for code in self.services]
            if self.services is not None
            else list(self.catalogue)
        )
        return [
            s
            for s in chosen
            if (self.lines is None or s.business_line in self.lines)
            and (not center.business_lines or s.business_line in center.business_lines)
        ]

    def stream(self) -> Iterator[tuple[Application, tuple[ApplicationEvent, ...]]]:
        """Each application as accepted, with the events that followed it, in acceptance order.

        Raises:
            ValidationError: a center is offered no service (check ``lines``/``services``).
        """
        rng = random.Random(self.seed)
        offers = {c.code: self._offer(c) for c in self.centers}
        for center in self.centers:
            if not offers[center.code]:
                raise ValidationError(
                    f"center {center.code!r} runs none of the services chosen: check the "
                    f"hall's lines and services against the center's business lines"
                )
        places = self.destinations or tuple(c.division for c in self.centers)
        for offset in range(self.days):
            day = self.start + timedelta(days=offset)
            if not self.calendar.is_workday(day):
                continue
            for index, center in enumerate(self.centers):
                for seq in range(self.per_day):
                    reference = f"{center.division.code}{day:%Y%m%d}{index:03d}{seq:04d}"
                    yield self._one(rng, reference, center, offers[center.code], places, day)

    def applications(self) -> tuple[Application, ...]:
        """Every application of :meth:`stream` with its events applied."""
        return tuple(app.apply(*events) for app, events in self.stream())

    def _chance(self, rng: random.Random, share: Fraction) -> bool:
        return rng.randrange(share.denominator) < share.numerator

    def _at(self, day: date, rng: random.Random, lo: int = 9, hi: int = 17) -> datetime:
        minute = rng.randrange(lo * 60, hi * 60)
        return datetime.combine(day, time(minute // 60, minute % 60), SHANGHAI)

    def _one(
        self,
        rng: random.Random,
        reference: str,
        center: ServiceCenter,
        offer: list[Service],
        places: tuple[Division, ...],
        day: date,
    ) -> tuple[Application, tuple[ApplicationEvent, ...]]:
        service = offer[rng.randrange(len(offer))]
        destination = places[rng.randrange(len(places))]
        channels = sorted(center.channels, key=lambda c: c.value) or [Channel.WINDOW]
        online = Channel.ONLINE in channels and self._chance(rng, self.online_share)
        mail = service.result_by_post and self._chance(rng, self.mail_share)
        materials = service.materials_by_post and self._chance(rng, self.materials_share)
        accepted = self._at(day, rng)
        app = Application(
            reference=reference,
            center=center,
            service=service.code,
            channel=Channel.ONLINE if online else channels[-1],
            applicant=self._applicant(rng, destination),
            accepted_at=accepted,
            destination=destination,
            delivery=DeliveryChoice.MAIL if mail else DeliveryChoice.COLLECT,
            materials_by_post=materials,
        )
        events: list[ApplicationEvent] = []
        next_id = iter(range(1, 100))

        def event(kind: ApplicationEventKind, at: datetime, **payload: object) -> None:
            if self.now is None or at <= self.now:
                events.append(
                    ApplicationEvent(
                        event_id=f"{reference}:{next(next_id)}",
                        kind=kind,
                        occurred_at=at,
                        **payload,  # type: ignore[arg-type]
                    )
                )

        limit = service.time_limit_days
        took = rng.randint(0, limit)
        if self._chance(rng, self.late_share):
            took = limit + rng.randint(1, 3)
        decided_on = self.calendar.add_workdays(day, took)
        decided = max(self._at(decided_on, rng), accepted + timedelta(minutes=30))
        if service.result_by_post and self._chance(rng, self.change_share):
            mail = not mail
            event(
                ApplicationEventKind.DELIVERY_CHANGED,
                accepted + (decided - accepted) / 2,
                delivery=DeliveryChoice.MAIL if mail else DeliveryChoice.COLLECT,
            )
        if not self._chance(rng, self.approval_share):
            rejected = self._chance(rng, self.rejection_share / (1 - self.approval_share))
            kind = ApplicationEventKind.REJECTED if rejected else ApplicationEventKind.WITHDRAWN
            event(kind, decided)
            event(ApplicationEventKind.CLOSED, decided + timedelta(hours=1))
            return app, tuple(events)
        event(ApplicationEventKind.APPROVED, decided)
        if mail:
            sent = self.calendar.add_workdays(decided_on, 1)
            dispatched = self._at(sent, rng, 10, 11 if rng.randrange(2) else 16)
            waybill = self._waybill(rng)
            event(ApplicationEventKind.RESULT_DISPATCHED, dispatched, tracking_number=waybill)
            arrived = self.calendar.add_workdays(sent, rng.randint(1, 3))
            delivered = self._at(arrived, rng, 9, 18)
            event(ApplicationEventKind.RESULT_DELIVERED, delivered, tracking_number=waybill)
            event(ApplicationEventKind.CLOSED, delivered + timedelta(hours=2))
        else:
            came = self.calendar.add_workdays(decided_on, rng.randint(0, 5))
            collected = max(self._at(came, rng), decided + timedelta(minutes=30))
            event(ApplicationEventKind.RESULT_COLLECTED, collected)
            event(ApplicationEventKind.CLOSED, collected + timedelta(hours=1))
        return app, tuple(events)

    def _applicant(self, rng: random.Random, place: Division) -> Applicant:
        name = rng.choice(_SURNAMES) + "".join(rng.choices(_GIVEN, k=rng.randint(1, 2)))
        mobile = rng.choice(_MOBILE_PREFIXES) + f"{rng.randrange(10**8):08d}"
        born = date(1950, 1, 1) + timedelta(days=rng.randrange(365 * 50))
        first17 = f"{place.code}{born:%Y%m%d}{rng.randrange(1000):03d}"
        check = (12 - sum(int(d) * w for d, w in zip(first17, _ID_WEIGHTS, strict=True))) % 11
        street = rng.choice(_STREETS)
        return Applicant(
            name=name,
            mobile=mobile,
            id_number=first17 + ("X" if check == 10 else str(check)),
            address=f"{place.name}{street}{rng.randint(1, 300)}号",
        )

    def _waybill(self, rng: random.Random) -> str:
        serial = f"{rng.randrange(10**8):08d}"
        return f"EA{serial}{s10_check_digit(serial)}CN"
