"""Trips saved (最多跑一次): the trips and travel cost the post saves applicants, by a stated rule."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from types import MappingProxyType

import attrs

from govpost._fields import coerce_enum, short, text
from govpost.applications._application import Application, DeliveryChoice
from govpost.applications._catalogue import ServiceCatalogue
from govpost.centers import BusinessLine, ServiceCenter
from govpost.errors import ValidationError
from govpost.money import Money
from govpost.regions import Zone, zone_between


def _trips(value: int) -> int:
    given: object = value
    if isinstance(given, bool) or not isinstance(given, int) or not 0 <= given <= 10:
        raise ValidationError(
            f"trips {short(given)} must be an int of 0-10 round trips to the hall per application"
        )
    return given


def _costs(value: Mapping[Zone, Money]) -> Mapping[Zone, Money]:
    given: object = value
    if not isinstance(given, Mapping):
        raise ValidationError(
            f"cost_per_trip {short(given)} must map every Zone to a Money, e.g. "
            f"{{Zone.SAME_CITY: Money('10'), Zone.IN_PROVINCE: Money('60'), ...}}"
        )
    table: dict[Zone, Money] = {}
    for key, cost in given.items():
        zone = coerce_enum(Zone, key, "zone")
        if not isinstance(cost, Money) or cost.amount < 0:
            raise ValidationError(
                f"cost per trip {short(cost)} for {zone.name} must be a non-negative Money"
            )
        cost.fen  # noqa: B018 - raises ValidationError for an amount finer than the fen
        table[zone] = cost
    missing = [z.name for z in Zone if z not in table]
    if missing:
        raise ValidationError(f"cost_per_trip misses the zones {', '.join(missing)}")
    currencies = {m.currency for m in table.values()}
    if len(currencies) > 1:
        raise ValidationError(f"cost_per_trip mixes currencies {sorted(currencies)}: use one")
    return MappingProxyType({z: table[z] for z in Zone})


def _reference(value: str | None) -> str | None:
    return None if value is None else text(value, "rule reference", max_len=500)


@attrs.frozen(kw_only=True, repr=False)
class TripRule:
    """The stated rule that turns applications into trips and travel cost saved.

    A *trip* is one round trip of the applicant to the hall (往返一次). The rule counts:

    - ``trips_per_result`` trips for each result **delivered** by post (the applicant did not
      come back to collect it; a result that was mailed but came back and was collected at
      the hall saves nothing);
    - ``trips_per_materials`` trips for each application whose materials were mailed in;
    - each trip at ``cost_per_trip`` of the zone from the center to the applicant's division.

    Every number is the user's: govpost types none into a report. :meth:`assumptions` returns
    them as data, and the ``repr`` shows them.

    >>> from govpost.money import Money
    >>> rule = TripRule(cost_per_trip={Zone.SAME_CITY: Money("10"),
    ...     Zone.IN_PROVINCE: Money("60"), Zone.OUT_OF_PROVINCE: Money("300")})
    >>> rule
    TripRule(trips_per_result=1, trips_per_materials=1, cost_per_trip={SAME_CITY: 10.00 CNY, IN_PROVINCE: 60.00 CNY, OUT_OF_PROVINCE: 300.00 CNY}, reference=None)

    .. versionadded:: 0.2.0
    """

    cost_per_trip: Mapping[Zone, Money] = attrs.field(converter=_costs, hash=False)
    trips_per_result: int = attrs.field(default=1, converter=_trips)
    trips_per_materials: int = attrs.field(default=1, converter=_trips)
    reference: str | None = attrs.field(default=None, converter=_reference)

    def assumptions(self) -> dict[str, object]:
        """Every assumption of the rule, as data a report can print next to its figures.

        >>> from govpost.money import Money
        >>> rule = TripRule(cost_per_trip={z: Money("20") for z in Zone}, reference="调查 2018")
        >>> rule.assumptions()["cost_per_trip"]["same_city"]
        '20.00 CNY'
        """
        return {
            "trip": "one round trip of the applicant to the hall (往返一次)",
            "trips_per_result": self.trips_per_result,
            "trips_per_materials": self.trips_per_materials,
            "cost_per_trip": {z.value: str(m) for z, m in self.cost_per_trip.items()},
            "zone": "from the center's division to the applicant's (destination)",
            "counted": "results delivered by post; applications whose materials were mailed in",
            "reference": self.reference,
        }

    @property
    def currency(self) -> str:
        """The currency of the costs."""
        return next(iter(self.cost_per_trip.values())).currency

    def __repr__(self) -> str:
        costs = ", ".join(f"{z.name}: {m}" for z, m in self.cost_per_trip.items())
        return (
            f"TripRule(trips_per_result={self.trips_per_result}, "
            f"trips_per_materials={self.trips_per_materials}, cost_per_trip={{{costs}}}, "
            f"reference={self.reference!r})"
        )


@attrs.frozen(kw_only=True)
class LineTrips:
    """Trips and cost saved in one business line.

    .. versionadded:: 0.2.0
    """

    line: BusinessLine
    applications: int
    result_trips: int
    material_trips: int
    cost: Money

    @property
    def trips(self) -> int:
        """All trips saved in the line."""
        return self.result_trips + self.material_trips


@attrs.frozen(kw_only=True)
class TripsSaved:
    """Trips and travel cost saved, in total and by business line, under ``rule``.

    Attributes:
        rule: the rule applied (its assumptions go with the figures).
        applications: the applications counted (all given, saving trips or not).
        result_trips: trips saved by results delivered by post.
        material_trips: trips saved by materials mailed in.
        cost: travel cost saved, exact (a sum of whole-fen costs).
        by_line: the same figures per business line, for every line that has applications.

    .. versionadded:: 0.2.0
    """

    rule: TripRule
    applications: int
    result_trips: int
    material_trips: int
    cost: Money
    by_line: tuple[LineTrips, ...]

    @property
    def trips(self) -> int:
        """All trips saved."""
        return self.result_trips + self.material_trips


def trips_saved(
    applications: Iterable[Application],
    rule: TripRule,
    *,
    catalogue: ServiceCatalogue,
    centers: Iterable[ServiceCenter],
) -> TripsSaved:
    """The trips and travel cost ``applications`` saved their applicants, under ``rule``.

    Exact: trips are ints, costs whole-fen :class:`~govpost.money.Money` multiplied by ints.

    Raises:
        ValidationError: an application of an unknown service or center.

    .. versionadded:: 0.2.0
    """
    if not isinstance(rule, TripRule):
        raise ValidationError(f"rule {short(rule)} must be a TripRule")
    by_code = {c.code: c for c in centers}
    zero = Money.zero(rule.currency)
    counts: dict[BusinessLine, tuple[int, int, int]] = {}
    costs: dict[BusinessLine, Money] = {}
    for app in applications:
        center = by_code.get(app.center)
        if center is None:
            raise ValidationError(
                f"application {app.reference} names center {app.center!r}, which is not "
                f"among the centers given: pass every center of the applications"
            )
        line = catalogue.lookup(app.service).business_line
        delivered = app.current_delivery is DeliveryChoice.MAIL and app.delivered_at is not None
        result = rule.trips_per_result if delivered else 0
        material = rule.trips_per_materials if app.materials_by_post else 0
        cost = rule.cost_per_trip[zone_between(center.division, app.destination)]
        n, r, m = counts.get(line, (0, 0, 0))
        counts[line] = (n + 1, r + result, m + material)
        costs[line] = costs.get(line, zero) + cost * (result + material)
    by_line = tuple(
        LineTrips(
            line=line,
            applications=counts[line][0],
            result_trips=counts[line][1],
            material_trips=counts[line][2],
            cost=costs[line],
        )
        for line in sorted(counts, key=lambda line: line.value)
    )
    return TripsSaved(
        rule=rule,
        applications=sum(t.applications for t in by_line),
        result_trips=sum(t.result_trips for t in by_line),
        material_trips=sum(t.material_trips for t in by_line),
        cost=sum((t.cost for t in by_line), zero),
        by_line=by_line,
    )
