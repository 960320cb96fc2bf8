"""The KPIs computed from centers, applications, shipments, statements and reconciliations
(private; see govpost.reports)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date, datetime, time
from types import MappingProxyType
from typing import TYPE_CHECKING, NamedTuple, TypeVar

from govpost._fields import aware, coerce_enum, short
from govpost.applications import (
    Application,
    ApplicationStatus,
    ApplicationTimeLimits,
    DeliveryChoice,
    Distribution,
    ServiceCatalogue,
    StageAnalysis,
    Tally,
    TripsSaved,
    analyse,
    trips_saved,
)
from govpost.calendar import WorkCalendar
from govpost.centers import BusinessLine, CooperationMode, ServiceCenter
from govpost.errors import ValidationError
from govpost.money import Money
from govpost.periods import SHANGHAI, Period, PeriodKind, business_date
from govpost.regions import AdminLevel, Zone
from govpost.reports._model import (
    STAGES,
    Assumptions,
    KpiReport,
    StageFigures,
    ZoneDelivery,
)
from govpost.settlement import (
    Discrepancy,
    ReconciliationReport,
    SettlementMode,
    SettlementStatement,
)
from govpost.shipments import Direction, Shipment, ShipmentStatus

if TYPE_CHECKING:
    from govpost.store import Repositories

__all__ = ["build_report", "report_from_store"]

T = TypeVar("T")

#: Statuses with no delivery deadline to judge: never sent, on the way back, or delivered
#: without a delivery time (nothing tells when).
_UNJUDGED = frozenset(
    {
        ShipmentStatus.CANCELLED,
        ShipmentStatus.RETURNING,
        ShipmentStatus.RETURNED,
        ShipmentStatus.DELIVERED,
    }
)

#: Beyond this many result shipments missing from the period's items, the store path reads
#: the store's shipments once rather than each by id.
_ONE_BY_ONE = 500


def _period(value: Period | str) -> Period:
    given: object = value
    if isinstance(given, Period):
        return given
    if isinstance(given, str):
        return Period.parse(given)
    raise ValidationError(
        f"period {short(given)} must be a Period or its text: '2018' (year), '2018-Q2' "
        f"(quarter) or '2018-06' (month)"
    )


def _months(period: Period) -> tuple[Period, ...]:
    first = Period.month(period.start.year, period.start.month)
    months = [first]
    while months[-1].end < period.end:
        months.append(months[-1].next())
    return tuple(months)


def _within(period: Period) -> tuple[Period, ...]:
    """Every month, quarter and year that lies within ``period``, itself included."""
    months = _months(period)
    quarters = {
        Period.quarter(m.start.year, (m.start.month + 2) // 3)
        for m in months
        if period.kind is not PeriodKind.MONTH
    }
    years = {period} if period.kind is PeriodKind.YEAR else set()
    return (*sorted(years, key=str), *sorted(quarters, key=str), *months)


def _typed(values: Iterable[T], cls: type[T], what: str) -> list[T]:
    given: object = values
    if isinstance(given, str | bytes | Mapping) or not isinstance(given, Iterable):
        raise ValidationError(f"{what} {short(given)} must be a collection of {cls.__name__}")
    found = list(given)
    for value in found:
        if not isinstance(value, cls):
            raise ValidationError(f"{what} must be {cls.__name__} values, not {short(value)}")
    return found


def _unique(values: Iterable[T], key: str, what: str, of: str) -> dict[str, T]:
    """``values`` by ``key``; the same value twice counts once, two different ones are refused."""
    found: dict[str, T] = {}
    for value in values:
        name = getattr(value, key)
        held = found.setdefault(name, value)
        if held is not value and held != value:
            raise ValidationError(
                f"two different {what} have the {key} {name!r}: pass each {of} once (its "
                f"latest version)"
            )
    return found


def _judge(end: datetime | None, deadline: date | None, today: date) -> bool | None:
    """On time (True), late (False) or not judged yet (None), as :func:`analyse` judges."""
    if deadline is None:
        return None
    if end is not None:
        return business_date(end) <= deadline
    return False if today > deadline else None


def _mails(application: Application) -> bool:
    """Whether the application has a result shipment: approved, with the result by post."""
    return application.is_approved and application.current_delivery is DeliveryChoice.MAIL


class _Centers:
    def __init__(self, centers: Iterable[ServiceCenter]) -> None:
        self.by_code = _unique(centers, "code", "centers", "center")

    def get(self, code: str, whose: str) -> ServiceCenter:
        center = self.by_code.get(code)
        if center is None:
            raise ValidationError(
                f"{whose} names center {code!r}, which is not among the centers: pass every "
                f"center of the data (or record it with store.centers.upsert)"
            )
        return center


def build_report(
    centers: Iterable[ServiceCenter],
    applications: Iterable[Application],
    shipments: Iterable[Shipment],
    statements: Iterable[SettlementStatement],
    reconciliations: Iterable[ReconciliationReport],
    period: Period | str,
    *,
    catalogue: ServiceCatalogue,
    assumptions: Assumptions | None = None,
    calendar: WorkCalendar | None = None,
    as_of: datetime | None = None,
) -> KpiReport:
    """The KPIs of ``period`` from data in memory (see :class:`KpiReport` for what counts).

    Each collection may hold more than the period's: the items are the shipments picked up
    in the period, the applications those accepted in it, the statements those in force
    whose period lies within it (a statement of a longer period is left out: pass the
    period it covers), the reconciliations the last one given of each of those statements.
    The order of the collections does not matter.

    Args:
        centers: every center (the centers of the items and applications at least).
        applications: the applications.
        shipments: the shipments: the period's items, and the result shipments of the
            period's applications (matched by :attr:`Application.result_shipment_id`).
        statements: the statements in force (one per agreement and period).
        reconciliations: reconciliation reports of those statements.
        period: the period, or its text (``"2018"``, ``"2018-Q2"``, ``"2018-06"``).
        catalogue: the services of the applications (their lines and time limits).
        assumptions: trip rule, time limits, certificate lines; :class:`Assumptions()` by
            default.
        calendar: the working days; :meth:`WorkCalendar.china` by default.
        as_of: the moment an unfinished item past its deadline is judged late; by default
            the end of the period (00:00 Asia/Shanghai of the next day), so that a report of
            a past period is the same whenever it is made. Give the current time for a
            period still running.

    Raises:
        ValidationError: a value of the wrong type, an item, application or statement of a
            center not given, an application of a service not in the catalogue, two different
            records with one key, a statement in another currency than the assumptions'.
        CalendarCoverageError: the calendar does not cover a year the data needs.

    >>> from govpost.centers import ServiceCenter
    >>> center = ServiceCenter(code="GZ-520000", name="贵州省政务服务中心", division="520000",
    ...                        mode="stationed_staff")
    >>> report = build_report([center], [], [], [], [], "2018-06",
    ...                       catalogue=ServiceCatalogue(services=[]))
    >>> report.centers_total, report.items_total, str(report.postage_paid_by_government)
    (1, 0, '0.00 CNY')

    .. versionadded:: 0.2.0
    """
    period = _period(period)
    if assumptions is None:
        assumptions = Assumptions()
    elif not isinstance(assumptions, Assumptions):
        raise ValidationError(f"assumptions {short(assumptions)} must be an Assumptions")
    if not isinstance(catalogue, ServiceCatalogue):
        raise ValidationError(
            f"catalogue {short(catalogue)} must be a ServiceCatalogue (store.catalogue.load())"
        )
    if calendar is None:
        calendar = WorkCalendar.china()
    elif not isinstance(calendar, WorkCalendar):
        raise ValidationError(f"calendar {short(calendar)} must be a WorkCalendar")
    moment = (
        datetime.combine(period.end, time(0), SHANGHAI) if as_of is None else aware(as_of, "as_of")
    )
    limits = assumptions.time_limits(calendar)
    known = _Centers(_typed(centers, ServiceCenter, "centers"))
    every_shipment = _unique(
        _typed(shipments, Shipment, "shipments"), "id", "shipments", "shipment"
    )
    chosen = _statements(_typed(statements, SettlementStatement, "statements"), period)
    reports = _typed(reconciliations, ReconciliationReport, "reconciliations")
    apps = _unique(
        (
            a
            for a in _typed(applications, Application, "applications")
            if period.contains(business_date(a.accepted_at))
        ),
        "reference",
        "applications",
        "application",
    )
    currency = assumptions.currency
    for statement in chosen:
        if statement.currency != currency:
            raise ValidationError(
                f"statement {statement.statement_id} is in {statement.currency}, but the "
                f"report's currency is {currency} (that of the assumptions' trip costs): give "
                f"a trip rule in {statement.currency}"
            )
    months = _months(period)
    c = _center_figures(known)
    i = _item_figures(known, every_shipment.values(), period, months, limits, moment)
    p = _postage_figures(known, chosen, months, currency)
    r = _reconciliation_figures(chosen, reports, currency)
    a = _application_figures(
        known,
        [apps[reference] for reference in sorted(apps)],
        every_shipment,
        catalogue,
        assumptions,
        limits,
        moment,
    )
    return KpiReport(
        period=period,
        as_of=moment,
        currency=currency,
        assumptions=assumptions,
        centers_total=c.centers_total,
        centers_cooperating=c.centers_cooperating,
        centers_by_mode=c.centers_by_mode,
        centers_by_level=c.centers_by_level,
        items_total=i.items_total,
        items_by_line=i.items_by_line,
        items_by_direction=i.items_by_direction,
        items_by_level=i.items_by_level,
        items_by_mode=i.items_by_mode,
        items_by_month=i.items_by_month,
        delivery=i.delivery,
        postage_paid_by_government=p.postage_paid_by_government,
        postage_by_settlement_mode=p.postage_by_settlement_mode,
        postage_by_month=p.postage_by_month,
        postage_by_line=p.postage_by_line,
        postage_by_level=p.postage_by_level,
        statements=p.statements,
        pieces_billed=p.pieces_billed,
        statements_reconciled=r.statements_reconciled,
        reconciliation=r.reconciliation,
        reconciliation_difference=r.reconciliation_difference,
        applications=a.applications,
        applications_by_delivery=a.applications_by_delivery,
        trips=a.trips,
        provincial_results=a.provincial_results,
        provincial_by_post=a.provincial_by_post,
        stages=a.stages,
        stage_analysis=a.stage_analysis,
    )


class _CenterFigures(NamedTuple):
    centers_total: int
    centers_cooperating: int
    centers_by_mode: Mapping[CooperationMode, int]
    centers_by_level: Mapping[AdminLevel, Mapping[CooperationMode | None, int]]


class _ItemFigures(NamedTuple):
    items_total: int
    items_by_line: Mapping[BusinessLine, int]
    items_by_direction: Mapping[Direction, int]
    items_by_level: Mapping[AdminLevel, int]
    items_by_mode: Mapping[CooperationMode | None, int]
    items_by_month: Mapping[Period, Mapping[BusinessLine, int]]
    delivery: tuple[ZoneDelivery, ...]


class _PostageFigures(NamedTuple):
    postage_paid_by_government: Money
    postage_by_settlement_mode: Mapping[SettlementMode, Money]
    postage_by_month: Mapping[Period, Mapping[SettlementMode, Money]]
    postage_by_line: Mapping[BusinessLine | None, Money]
    postage_by_level: Mapping[AdminLevel | None, Money]
    statements: int
    pieces_billed: int


class _ReconciliationFigures(NamedTuple):
    statements_reconciled: int
    reconciliation: Mapping[Discrepancy, int]
    reconciliation_difference: Money


class _ApplicationFigures(NamedTuple):
    applications: int
    applications_by_delivery: Mapping[DeliveryChoice, int]
    trips: TripsSaved
    provincial_results: int
    provincial_by_post: int
    stages: tuple[StageFigures, ...]
    stage_analysis: StageAnalysis


def _center_figures(known: _Centers) -> _CenterFigures:
    by_mode = dict.fromkeys(CooperationMode, 0)
    by_level: dict[AdminLevel, dict[CooperationMode | None, int]] = {
        level: dict.fromkeys([*CooperationMode, None], 0) for level in AdminLevel
    }
    for center in known.by_code.values():
        by_level[center.level][center.mode] += 1
        if center.mode is not None:
            by_mode[center.mode] += 1
    return _CenterFigures(
        centers_total=len(known.by_code),
        centers_cooperating=sum(by_mode.values()),
        centers_by_mode=MappingProxyType(by_mode),
        centers_by_level=MappingProxyType(
            {level: MappingProxyType(counts) for level, counts in by_level.items()}
        ),
    )


def _item_figures(
    known: _Centers,
    shipments: Iterable[Shipment],
    period: Period,
    months: tuple[Period, ...],
    limits: ApplicationTimeLimits,
    moment: datetime,
) -> _ItemFigures:
    by_line = dict.fromkeys(BusinessLine, 0)
    by_direction = dict.fromkeys(Direction, 0)
    by_level = dict.fromkeys(AdminLevel, 0)
    by_mode: dict[CooperationMode | None, int] = dict.fromkeys([*CooperationMode, None], 0)
    month_of = {(m.start.year, m.start.month): m for m in months}
    by_month = {m: dict.fromkeys(BusinessLine, 0) for m in months}
    tallies = dict.fromkeys(Zone, Tally())
    days: dict[Zone, list[int]] = {zone: [] for zone in Zone}
    today = business_date(moment)
    calendar = limits.calendar
    for shipment in shipments:
        if shipment.picked_up_at is None:
            continue
        picked_on = business_date(shipment.picked_up_at)
        if not period.contains(picked_on):
            continue
        center = known.get(shipment.center, f"shipment {shipment.id}")
        by_line[shipment.business_line] += 1
        by_direction[shipment.direction] += 1
        by_level[center.level] += 1
        by_mode[center.mode] += 1
        by_month[month_of[picked_on.year, picked_on.month]][shipment.business_line] += 1
        zone = shipment.zone
        deadline = limits.delivery.deadline_for(zone, shipment.picked_up_at)
        delivered = shipment.delivered_at
        if delivered is not None:
            days[zone].append(calendar.workdays_between(picked_on, business_date(delivered)))
            tallies[zone] = tallies[zone].add(business_date(delivered) <= deadline)
        elif shipment.status not in _UNJUDGED:
            tallies[zone] = tallies[zone].add(_judge(None, deadline, today))
    return _ItemFigures(
        items_total=sum(by_line.values()),
        items_by_line=MappingProxyType(by_line),
        items_by_direction=MappingProxyType(by_direction),
        items_by_level=MappingProxyType(by_level),
        items_by_mode=MappingProxyType(by_mode),
        items_by_month=MappingProxyType(
            {m: MappingProxyType(counts) for m, counts in by_month.items()}
        ),
        delivery=tuple(
            ZoneDelivery(
                zone=zone,
                limit_days=limits.delivery.days[zone],
                tally=tallies[zone],
                days=Distribution.of(days[zone]),
            )
            for zone in Zone
        ),
    )


def _statements(statements: list[SettlementStatement], period: Period) -> list[SettlementStatement]:
    inside = [
        s for s in statements if period.start <= s.period.start and s.period.end <= period.end
    ]
    found: dict[tuple[str, str], SettlementStatement] = {}
    for statement in inside:
        key = (statement.agreement_id, str(statement.period))
        held = found.setdefault(key, statement)
        if held is not statement and held != statement:
            raise ValidationError(
                f"two different statements of agreement {key[0]!r} for {key[1]}: pass only "
                f"the one in force (store.statements.current)"
            )
    return [found[key] for key in sorted(found)]


def _postage_figures(
    known: _Centers,
    statements: list[SettlementStatement],
    months: tuple[Period, ...],
    currency: str,
) -> _PostageFigures:
    zero = Money.zero(currency)
    month_of = {(m.start.year, m.start.month): m for m in months}
    by_month = {m: dict.fromkeys(SettlementMode, zero) for m in months}
    by_mode = dict.fromkeys(SettlementMode, zero)
    by_line: dict[BusinessLine | None, Money] = dict.fromkeys([*BusinessLine, None], zero)
    by_level: dict[AdminLevel | None, Money] = dict.fromkeys([*AdminLevel, None], zero)
    for statement in statements:
        mode = statement.mode
        by_mode[mode] += statement.total
        if statement.period.kind is PeriodKind.MONTH:
            month = month_of[statement.period.start.year, statement.period.start.month]
            by_month[month][mode] += statement.total
        else:
            for line in statement.lines:
                month = month_of[line.day.year, line.day.month]
                by_month[month][mode] += line.amount
        for subtotal in statement.by_business_line:
            line_key = None if subtotal.key == "*" else coerce_enum(BusinessLine, subtotal.key)
            by_line[line_key] += subtotal.amount
        for subtotal in statement.by_center:
            level = (
                None
                if subtotal.key == "*"
                else known.get(subtotal.key, f"statement {statement.statement_id}").level
            )
            by_level[level] += subtotal.amount
    return _PostageFigures(
        postage_paid_by_government=sum(by_mode.values(), zero),
        postage_by_settlement_mode=MappingProxyType(by_mode),
        postage_by_month=MappingProxyType(
            {m: MappingProxyType(amounts) for m, amounts in by_month.items()}
        ),
        postage_by_line=MappingProxyType(by_line),
        postage_by_level=MappingProxyType(by_level),
        statements=len(statements),
        pieces_billed=sum(s.pieces for s in statements),
    )


def _reconciliation_figures(
    statements: list[SettlementStatement],
    reports: list[ReconciliationReport],
    currency: str,
) -> _ReconciliationFigures:
    ids = {s.statement_id for s in statements}
    latest: dict[str, ReconciliationReport] = {}
    for report in reports:
        if report.statement_id in ids:
            latest[report.statement_id] = report
    counts = dict.fromkeys(Discrepancy, 0)
    difference = Money.zero(currency)
    for report in latest.values():
        for kind, n in report.counts().items():
            counts[kind] += n
        difference += report.difference
    return _ReconciliationFigures(
        statements_reconciled=len(latest),
        reconciliation=MappingProxyType(counts),
        reconciliation_difference=difference,
    )


def _application_figures(
    known: _Centers,
    applications: list[Application],
    shipments: Mapping[str, Shipment],
    catalogue: ServiceCatalogue,
    assumptions: Assumptions,
    limits: ApplicationTimeLimits,
    moment: datetime,
) -> _ApplicationFigures:
    centers = tuple(known.by_code.values())
    for app in applications:
        known.get(app.center, f"application {app.reference}")
    results = {
        app.reference: shipments[app.result_shipment_id]
        for app in applications
        if _mails(app) and app.result_shipment_id in shipments
    }
    analysis = analyse(
        applications,
        catalogue=catalogue,
        limits=limits,
        centers=centers,
        shipments=results.values(),
        now=moment,
    )
    trips = trips_saved(applications, assumptions.trip_rule, catalogue=catalogue, centers=centers)
    by_delivery = dict.fromkeys(DeliveryChoice, 0)
    today = business_date(moment)
    calendar = limits.calendar
    dispatch_days: list[int] = []
    pickup_days: list[int] = []
    pickup = Tally()
    provincial_results = provincial_by_post = 0
    for app in applications:
        by_delivery[app.current_delivery] += 1
        if not app.is_approved:
            continue
        center = known.get(app.center, f"application {app.reference}")
        shipment = results.get(app.reference)
        # The ends of the stages as ApplicationStages.of takes them (measured here in working
        # days only: the working time it also measures is not reported).
        approved = app.approved_at
        dispatched = app.dispatched_at
        picked = delivered = None
        if shipment is not None:
            dispatched = dispatched or shipment.created_at
            picked = shipment.picked_up_at
            delivered = shipment.delivered_at
        delivered = delivered or app.delivered_at
        if approved is not None and dispatched is not None:
            dispatch_days.append(
                calendar.workdays_between(business_date(approved), business_date(dispatched))
            )
        if dispatched is not None and picked is not None:
            pickup_days.append(
                calendar.workdays_between(business_date(dispatched), business_date(picked))
            )
        mailed = _mails(app)
        if mailed:
            promise = limits.promise(app, catalogue, center)
            pickup = pickup.add(_judge(picked, promise.pickup_by, today))
        service = catalogue.lookup(app.service)
        if (
            center.level is AdminLevel.PROVINCE
            and service.business_line in assumptions.certificate_lines
        ):
            if mailed and delivered is not None:
                provincial_results += 1
                provincial_by_post += 1
            elif app.reached_at(ApplicationStatus.RESULT_COLLECTED) is not None:
                provincial_results += 1
    overall = analysis.overall
    days = assumptions.delivery_days
    zones = "/".join(f"{zone.label}{days[zone]}" for zone in Zone)
    stages = (
        StageFigures(
            stage="approval",
            label=STAGES["approval"],
            limit="各事项承诺时限",
            tally=overall.approval,
            days=overall.approval_days,
        ),
        StageFigures(
            stage="dispatch",
            label=STAGES["dispatch"],
            limit="",
            tally=None,
            days=Distribution.of(dispatch_days),
        ),
        StageFigures(
            stage="pickup",
            label=STAGES["pickup"],
            limit=f"承诺时限后{assumptions.pickup_days}个工作日内揽收",
            tally=pickup,
            days=Distribution.of(pickup_days),
        ),
        StageFigures(
            stage="delivery",
            label=STAGES["delivery"],
            limit=f"寄递时限 {zones} 个工作日",
            tally=overall.delivery,
            days=overall.delivery_days,
        ),
        StageFigures(
            stage="total",
            label=STAGES["total"],
            limit="承诺时限+揽收+寄递时限",
            tally=overall.promise,
            days=overall.total_days,
        ),
    )
    return _ApplicationFigures(
        applications=len(applications),
        applications_by_delivery=MappingProxyType(by_delivery),
        trips=trips,
        provincial_results=provincial_results,
        provincial_by_post=provincial_by_post,
        stages=stages,
        stage_analysis=analysis,
    )


def report_from_store(
    store: Repositories,
    period: Period | str,
    *,
    assumptions: Assumptions | None = None,
    calendar: WorkCalendar | None = None,
    as_of: datetime | None = None,
) -> KpiReport:
    """The KPIs of ``period`` from a store: the same report :func:`build_report` gives on
    the same data.

    Reads the store's centers and catalogue, the shipments picked up in the period, the
    applications accepted in it and their result shipments, the statements in force of
    every month, quarter and year within the period (``store.statements.for_period``) and
    the latest reconciliation of each. The store needs the keys that sealed the
    applications and shipments.

    Args:
        store: an open :class:`~govpost.store.Store` (or a transaction of one).
        period: the period, or its text (``"2018"``, ``"2018-Q2"``, ``"2018-06"``).
        assumptions: as for :func:`build_report`.
        calendar: as for :func:`build_report`.
        as_of: as for :func:`build_report`.

    Raises:
        StoreError: the database failed, or the store has no key for its sealed records.
        ValidationError: as for :func:`build_report`.

    .. versionadded:: 0.2.0
    """
    period = _period(period)
    centers = store.centers.all()
    catalogue = store.catalogue.load()
    items = store.shipments.find(picked_up_in=period)
    applications = store.applications.find(accepted_in=period)
    have = {s.id for s in items}
    wanted = sorted({a.result_shipment_id for a in applications if _mails(a)} - have)
    extra: list[Shipment] = []
    if len(wanted) > _ONE_BY_ONE:
        wanted_ids = set(wanted)
        extra = [s for s in store.shipments.find() if s.id in wanted_ids]
    else:
        for shipment_id in wanted:
            found = store.shipments.get(shipment_id)
            if found is not None:
                extra.append(found)
    statements = [s for p in _within(period) for s in store.statements.for_period(p)]
    reports = [
        report
        for s in statements
        if (report := store.reconciliations.latest(s.statement_id)) is not None
    ]
    return build_report(
        centers,
        applications,
        [*items, *extra],
        statements,
        reports,
        period,
        catalogue=catalogue,
        assumptions=assumptions,
        calendar=calendar,
        as_of=as_of,
    )
