"""The report's model: its assumptions and figures (private; see govpost.reports)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction
from types import MappingProxyType
from typing import Any

import attrs

from govpost._fields import coerce_enum, coerce_enum_set, optional_text, short
from govpost.applications import (
    ApplicationTimeLimits,
    DeliveryChoice,
    Distribution,
    StageAnalysis,
    Tally,
    TripRule,
    TripsSaved,
)
from govpost.calendar import WorkCalendar
from govpost.centers import BusinessLine, CooperationMode
from govpost.errors import ValidationError
from govpost.money import Money
from govpost.periods import Period
from govpost.regions import AdminLevel, Zone
from govpost.settlement import Discrepancy, SettlementMode
from govpost.shipments import Direction
from govpost.timelimits import DeliveryTimeLimits

#: The Chinese name of each administrative level in the reports (省级 / 市级 / 县级).
#:
#: .. versionadded:: 0.2.0
LEVEL_LABELS: Mapping[AdminLevel, str] = MappingProxyType(
    {AdminLevel.PROVINCE: "省级", AdminLevel.CITY: "市级", AdminLevel.COUNTY: "县级"}
)

#: The Chinese name of each direction in the reports (结果寄递 / 材料寄递).
#:
#: .. versionadded:: 0.2.0
DIRECTION_LABELS: Mapping[Direction, str] = MappingProxyType(
    {Direction.OUTBOUND_RESULT: "结果寄递", Direction.INBOUND_MATERIAL: "材料寄递"}
)

#: The stages of an application the report measures, in order, with their Chinese names.
#:
#: .. versionadded:: 0.2.0
STAGES: Mapping[str, str] = MappingProxyType(
    {
        "approval": "受理至办结",
        "dispatch": "办结至寄出",
        "pickup": "寄出至揽收",
        "delivery": "揽收至妥投",
        "total": "受理至送达",
    }
)

#: The trip rule of :class:`Assumptions` when none is given. **Illustrative**, not survey
#: figures: the 2018 report's 5 million yuan over 100,000 trips is about 50 yuan a trip, which
#: these costs average near for a province whose applicants mostly live in the center's city.
#: Set your own survey's figures.
#:
#: .. versionadded:: 0.2.0
DEFAULT_TRIP_RULE = TripRule(
    cost_per_trip={
        Zone.SAME_CITY: Money("30.00"),
        Zone.IN_PROVINCE: Money("80.00"),
        Zone.OUT_OF_PROVINCE: Money("200.00"),
    },
    trips_per_result=1,
    trips_per_materials=1,
    reference="govpost's illustrative defaults, not survey figures: set your own",
)

#: The delivery time limits of :class:`Assumptions` when none are given, in working days from
#: pickup: illustrative; use those of your agreement with the carrier.
#:
#: .. versionadded:: 0.2.0
DEFAULT_DELIVERY_DAYS: Mapping[Zone, int] = MappingProxyType(
    {Zone.SAME_CITY: 1, Zone.IN_PROVINCE: 2, Zone.OUT_OF_PROVINCE: 4}
)


def _trip_rule(value: TripRule) -> TripRule:
    given: object = value
    if not isinstance(given, TripRule):
        raise ValidationError(
            f"trip_rule {short(given)} must be a TripRule(cost_per_trip={{Zone.SAME_CITY: "
            f"Money('30.00'), ...}}, trips_per_result=1, trips_per_materials=1)"
        )
    return given


def _delivery_days(value: Mapping[Zone, int] | Mapping[str, int]) -> Mapping[Zone, int]:
    given: object = value
    if not isinstance(given, Mapping):
        raise ValidationError(
            f"delivery_days {short(given)} must map every Zone to working days, e.g. "
            f"{{Zone.SAME_CITY: 1, Zone.IN_PROVINCE: 2, Zone.OUT_OF_PROVINCE: 4}}"
        )
    table: dict[Zone, int] = {}
    for key, days in given.items():
        zone = coerce_enum(Zone, key, "zone")
        if isinstance(days, bool) or not isinstance(days, int) or not 0 <= days <= 365:
            raise ValidationError(
                f"delivery time limit {short(days)} for {zone.name} must be an int of working "
                f"days, 0-365"
            )
        table[zone] = days
    missing = [z.name for z in Zone if z not in table]
    if missing:
        raise ValidationError(f"delivery_days misses the zones {', '.join(missing)}")
    return MappingProxyType({z: table[z] for z in Zone})


def _pickup_days(value: int) -> int:
    given: object = value
    if isinstance(given, bool) or not isinstance(given, int) or not 0 <= given <= 30:
        raise ValidationError(
            f"pickup_days {short(given)} must be an int of 0-30 working days (the days the "
            f"post has, after the approval deadline, to take a mailed result)"
        )
    return given


def _lines(values: Iterable[BusinessLine | str]) -> frozenset[BusinessLine]:
    lines = coerce_enum_set(BusinessLine, values)
    if not lines:
        raise ValidationError(
            "certificate_lines is empty: name the business lines whose results are physical "
            "certificates, e.g. {BusinessLine.LICENCE_DELIVERY}"
        )
    return lines


def _reference(value: str | None) -> str | None:
    return optional_text(value, "assumptions reference", max_len=500)


@attrs.frozen(kw_only=True)
class Assumptions:
    """Every number of a :class:`KpiReport` that is not data: stated, configurable, printed.

    No figure of a report comes from a constant typed into it: the trips and travel cost
    saved come from ``trip_rule``, the on-time rates from the time limits here, and the
    provincial share from ``certificate_lines``. The report prints these next to its figures
    (:meth:`to_dict`). The defaults are illustrative (:data:`DEFAULT_TRIP_RULE`,
    :data:`DEFAULT_DELIVERY_DAYS`): set your own. Keep them in a file with the wire format
    (:func:`govpost.serialization.to_toml` / :func:`~govpost.serialization.from_toml`).

    Args:
        trip_rule: trips per result delivered and per materials mailed in, and the travel
            cost of a trip by zone (:class:`~govpost.applications.TripRule`).
        delivery_days: the delivery time limit by zone, in working days from pickup (the
            agreement's with the carrier).
        pickup_days: working days after an application's approval deadline by which the
            post takes a mailed result.
        certificate_lines: the business lines whose results are physical certificates (实物
            证照), for :attr:`KpiReport.provincial_share_by_post`.
        reference: where these numbers come from (a survey, an agreement clause).

    Raises:
        ValidationError: a value out of range, with what to give instead.

    >>> assumptions = Assumptions(pickup_days=2)
    >>> assumptions.to_dict()["delivery_days"]
    {'same_city': 1, 'in_province': 2, 'out_of_province': 4}
    >>> assumptions.to_dict()["trip_rule"]["cost_per_trip"]["same_city"]
    '30.00 CNY'

    .. versionadded:: 0.2.0
    """

    trip_rule: TripRule = attrs.field(default=DEFAULT_TRIP_RULE, converter=_trip_rule)
    delivery_days: Mapping[Zone, int] = attrs.field(
        default=DEFAULT_DELIVERY_DAYS, converter=_delivery_days, hash=False
    )
    pickup_days: int = attrs.field(default=1, converter=_pickup_days)
    certificate_lines: frozenset[BusinessLine] = attrs.field(
        default=frozenset({BusinessLine.LICENCE_DELIVERY}), converter=_lines
    )
    reference: str | None = attrs.field(default=None, converter=_reference)

    @property
    def currency(self) -> str:
        """The currency of the travel costs, hence of the report."""
        return self.trip_rule.currency

    def time_limits(self, calendar: WorkCalendar) -> ApplicationTimeLimits:
        """The time limits these assumptions state, counted in ``calendar``'s working days.

        >>> limits = Assumptions().time_limits(WorkCalendar.china())
        >>> limits.pickup_days, dict(limits.delivery.days)[Zone.IN_PROVINCE]
        (1, 2)
        """
        return ApplicationTimeLimits(
            calendar=calendar,
            delivery=DeliveryTimeLimits(days=self.delivery_days, calendar=calendar),
            pickup_days=self.pickup_days,
        )

    def to_dict(self) -> dict[str, Any]:
        """Every assumption as plain data (strings, ints, lists, dicts) for a report."""
        return {
            "trip_rule": self.trip_rule.assumptions(),
            "delivery_days": {z.value: d for z, d in self.delivery_days.items()},
            "delivery_days_counted": "working days from the pickup date (Asia/Shanghai)",
            "pickup_days": self.pickup_days,
            "pickup_days_counted": "working days after the approval deadline",
            "certificate_lines": sorted(line.value for line in self.certificate_lines),
            "reference": self.reference,
        }


@attrs.frozen(kw_only=True)
class ZoneDelivery:
    """The delivery of the items of one zone against its time limit.

    Attributes:
        zone: the zone from origin to destination.
        limit_days: its delivery time limit, in working days from pickup.
        tally: items judged (delivered, or past their deadline undelivered) and on time.
        days: working days from pickup to delivery of the delivered items.

    .. versionadded:: 0.2.0
    """

    zone: Zone
    limit_days: int
    tally: Tally
    days: Distribution


@attrs.frozen(kw_only=True)
class StageFigures:
    """One stage of the applications (受理至办结, ...) against its time limit.

    Attributes:
        stage: ``"approval"``, ``"dispatch"``, ``"pickup"``, ``"delivery"`` or ``"total"``
            (the keys of :data:`STAGES`).
        label: its Chinese name.
        limit: the time limit it is judged against, in words (empty when it has none of its
            own: dispatch shares the pickup limit).
        tally: the applications judged and on time (``None`` without a limit).
        days: working days the finished stages took.

    .. versionadded:: 0.2.0
    """

    stage: str
    label: str
    limit: str
    tally: Tally | None
    days: Distribution


def rate(value: Fraction | None) -> Decimal | None:
    """A rate rounded half-up to 4 decimals (``0.8`` is ``Decimal('0.8000')``), for display."""
    if value is None:
        return None
    exact = Decimal(value.numerator) / Decimal(value.denominator)
    return exact.quantize(Decimal("0.0001"), ROUND_HALF_UP)


@attrs.frozen(kw_only=True)
class KpiReport:
    """The KPIs of the cooperation for one period, as the 2018 report gives them.

    Built by :func:`~govpost.reports.build_report` (in-memory data) or
    :func:`~govpost.reports.report_from_store`; the same data give the same report. What is
    counted:

    - **centers**: every center given (or in the store), by level and cooperation mode;
    - **items**: shipments the carrier picked up (揽收) in the period (Asia/Shanghai) — what
      the statements bill —, by business line, direction, level and mode of the center, and
      month of pickup;
    - **postage**: the statements in force whose period lies within the report's, by
      settlement mode and month (a monthly statement in its month; the lines of a quarterly
      or yearly one by their dates), by business line and by level of the center (from the
      statements' subtotals; ``None`` holds a lump sum no piece carried);
    - **reconciliation**: the latest report of each of those statements, items by class;
    - **applications**: those accepted in the period: trips and travel cost saved
      (:attr:`trips`), each stage against its time limit (:attr:`stages`,
      :attr:`stage_analysis`), and the provincial share by post;
    - **delivery**: the items of the period against the delivery time limit of their zone,
      judged at :attr:`as_of`.

    Amounts are exact :class:`~govpost.money.Money`; rates exact fractions (properties).
    Render it with :meth:`to_table`, :meth:`to_dict` / :meth:`to_json`, :meth:`to_csv`, and
    :mod:`govpost.reports.charts`.

    .. versionadded:: 0.2.0
    """

    period: Period
    as_of: datetime
    currency: str
    assumptions: Assumptions
    # centers
    centers_total: int
    centers_cooperating: int
    centers_by_mode: Mapping[CooperationMode, int] = attrs.field(hash=False)
    centers_by_level: Mapping[AdminLevel, Mapping[CooperationMode | None, int]] = attrs.field(
        hash=False
    )
    # items
    items_total: int
    items_by_line: Mapping[BusinessLine, int] = attrs.field(hash=False)
    items_by_direction: Mapping[Direction, int] = attrs.field(hash=False)
    items_by_level: Mapping[AdminLevel, int] = attrs.field(hash=False)
    items_by_mode: Mapping[CooperationMode | None, int] = attrs.field(hash=False)
    items_by_month: Mapping[Period, Mapping[BusinessLine, int]] = attrs.field(hash=False)
    # postage and statements
    postage_paid_by_government: Money
    postage_by_settlement_mode: Mapping[SettlementMode, Money] = attrs.field(hash=False)
    postage_by_month: Mapping[Period, Mapping[SettlementMode, Money]] = attrs.field(hash=False)
    postage_by_line: Mapping[BusinessLine | None, Money] = attrs.field(hash=False)
    postage_by_level: Mapping[AdminLevel | None, Money] = attrs.field(hash=False)
    statements: int
    pieces_billed: int
    # reconciliation
    statements_reconciled: int
    reconciliation: Mapping[Discrepancy, int] = attrs.field(hash=False)
    reconciliation_difference: Money
    # applications
    applications: int
    applications_by_delivery: Mapping[DeliveryChoice, int] = attrs.field(hash=False)
    trips: TripsSaved
    provincial_results: int
    provincial_by_post: int
    stages: tuple[StageFigures, ...]
    stage_analysis: StageAnalysis
    # delivery of the items
    delivery: tuple[ZoneDelivery, ...]

    @property
    def trips_saved(self) -> int:
        """Round trips to the hall the applicants were saved (:attr:`trips`)."""
        return self.trips.trips

    @property
    def citizen_cost_saved(self) -> Money:
        """The travel cost those trips would have cost the applicants, exact."""
        return self.trips.cost

    @property
    def provincial_share_by_post(self) -> Fraction | None:
        """Of the provincial centers' results of :attr:`Assumptions.certificate_lines` that
        reached the applicant (delivered, or collected at the hall), the share delivered by
        post; ``None`` when none reached anyone."""
        if not self.provincial_results:
            return None
        return Fraction(self.provincial_by_post, self.provincial_results)

    @property
    def delivery_tally(self) -> Tally:
        """The items judged against their delivery time limit, all zones together."""
        return Tally(
            judged=sum(z.tally.judged for z in self.delivery),
            on_time=sum(z.tally.on_time for z in self.delivery),
        )

    @property
    def on_time_rate(self) -> Fraction | None:
        """The share of the judged items delivered within their time limit, exactly."""
        return self.delivery_tally.rate

    @property
    def postage_per_item(self) -> Money | None:
        """Postage paid over items picked up, rounded half-up to the fen (about 12.80 yuan in
        the 2018 report); ``None`` without items."""
        if not self.items_total:
            return None
        average = Decimal(self.postage_paid_by_government.fen) / self.items_total
        return Money.from_fen(int(average.quantize(Decimal(1), ROUND_HALF_UP)), self.currency)

    def to_dict(self) -> dict[str, Any]:
        """The report as plain data for JSON: amounts as strings (``"1480000.00"``), rates
        as numbers rounded to 4 decimals (``null`` when nothing was judged), enums by value.

        Holds at least the keys of ``govpost report --json``: ``centers_total``,
        ``centers_cooperating``, ``centers_by_mode``, ``items_total``, ``items_by_line``,
        ``postage_paid_by_government``, ``trips_saved``, ``citizen_cost_saved``,
        ``provincial_share_by_post``, ``on_time_rate``, ``statements``, ``reconciliation``
        and ``assumptions``.
        """
        from govpost.reports._render import report_dict

        return report_dict(self)

    def to_json(self, *, indent: int | None = 2) -> str:
        """:meth:`to_dict` as JSON text (UTF-8 characters kept, not escaped)."""
        from govpost.reports._render import report_json

        return report_json(self, indent=indent)

    def to_table(self) -> str:
        """The report as text for a terminal: a table per section, columns aligned for
        Chinese (a wide character takes two cells), assumptions printed last."""
        from govpost.reports._render import report_table

        return report_table(self)

    def to_csv(self, encoding: str = "utf-8-sig") -> bytes:
        """The report as one tidy CSV table for a spreadsheet, encoded.

        Columns ``section, key, value, label``: one row per figure (``items_by_line``,
        ``tax``, ``1234``, ``寄递件数 按业务 / 税邮合作``), the keys those of :meth:`to_dict`.

        Args:
            encoding: ``"utf-8-sig"`` (UTF-8 with a BOM, which Excel recognises) or ``"gbk"``
                (for older spreadsheet software set to Chinese).

        Raises:
            ValidationError: another encoding, or a text that GBK cannot encode (then use
                ``"utf-8-sig"``).
        """
        from govpost.reports._render import report_csv

        return report_csv(self, encoding=encoding)
