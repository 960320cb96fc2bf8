"""Applications (办件): the service catalogue, the lifecycle, time limits, trips saved, exchange.

What the cooperation exists for is a citizen's application whose result reaches them by post
instead of a second trip to the hall. This package models it, as pure domain (no I/O).

**Service catalogue** (事项目录): a :class:`Service` has a code, a name, a business line, an
approval time limit in working days (承诺时限) and whether its result may be mailed and its
materials mailed in. A :class:`ServiceCatalogue` looks services up by code and is kept as a
TOML or JSON file, read through govpost's one wire format::

    >>> from pathlib import Path
    >>> catalogue = ServiceCatalogue.from_toml(
    ...     Path("examples/data/service-catalogue.toml").read_text(encoding="utf-8"))
    >>> catalogue.lookup("GZ-SCJG-001").name
    '营业执照核发'

**Applications** (办件): an :class:`Application` holds what was known at acceptance (受理) —
reference (办件编号), center, service, channel, :class:`Applicant` (masked everywhere), time,
destination, :class:`DeliveryChoice` and materials by post —; everything after is an
:class:`ApplicationEvent`, folded in time order through :data:`APPLICATION_TRANSITIONS`
into the :class:`ApplicationStatus`::

    accepted 受理 ─┬─ approved 办结 ─┬─ result dispatched ─┬─ result delivered ─┬─ closed
                  │                 │   (MAIL)            └─ result collected ─┤
                  │                 └─ result collected (COLLECT) ─────────────┤
                  ├─ rejected ────────────────────────────────────────────────┤
                  └─ withdrawn ───────────────────────────────────────────────┘

Applying events is idempotent and order-independent, as for tracking events; events that
cannot apply are *recorded* as :attr:`Application.anomalies`, never dropped (the hall's and
the carrier's messages arrive late and out of order), while the verbs
(:meth:`~Application.approve`, :meth:`~Application.change_delivery`, ...) and
``apply(strict=True)`` *refuse* them with :class:`~govpost.errors.InvalidTransitionError`.
An approved application that chose ``MAIL`` yields exactly one outbound
:class:`~govpost.shipments.Shipment` (:meth:`~Application.outbound_shipment`, id
``<reference>-R``); materials mailed in yield an inbound one (id ``<reference>-M``).

**Time limits**: :class:`ApplicationTimeLimits` gives the approval deadline (counted from the
working day after acceptance, 调休 included), the pickup and delivery deadlines and the total
:class:`Promise`; :class:`ApplicationStages` measures each stage in working days and working
hours; :func:`analyse` gives on-time rates and distributions by center, line, zone and mode
(:class:`StageAnalysis`).

**Trips saved** (最多跑一次): :func:`trips_saved` counts trips and travel cost under a stated
:class:`TripRule`, whose :meth:`~TripRule.assumptions` go with the figures.

**Online-hall exchange**: versioned JSON messages, written by :func:`encode` and read
strictly by :func:`decode` / :func:`decode_as`. Each is an object whose ``type`` and
``version`` (a JSON integer) come first; the versions govpost reads are in
:data:`MESSAGE_TYPES`, any other is refused naming them. Schema of version 1 (times ISO 8601 with offset, divisions six-digit
GB/T 2260 codes, enums by value, unknown fields refused):

``delivery_order`` (hall → carrier, :class:`DeliveryOrder`)
    ``order_id`` (str, the carrier's idempotency key: exactly ``<reference>-R``),
    ``reference`` (办件编号: 1-60 ASCII letters, digits, ``-_.:``), ``center``, ``service``
    (codes), ``business_line``
    (``licence_delivery``/``tax``/``police``/``transport``), ``approved_at`` (time),
    ``origin``, ``destination`` (divisions), ``weight_g`` (int grams), ``applicant``
    (``{"name", "mobile", "address"}``, all required; never the ID number).

``carrier_status`` (carrier → hall, :class:`CarrierStatus`)
    ``order_id`` (a shipment id), ``reference``, ``tracking_number`` (S10), ``event_id``
    (the carrier's: 1-128 printable characters without spaces),
    ``status`` (a :class:`~govpost.shipments.ShipmentStatus` value), ``occurred_at``.

``application_status`` (to the hall, :class:`ApplicationStatusMessage`)
    ``reference``, ``status`` (an :class:`ApplicationStatus` value or ``null`` for no
    change: ``picked_up`` → ``result_dispatched``, ``delivered`` → ``result_delivered``),
    ``carrier_status``, ``tracking_number``, ``event_id`` (``"carrier:<event id>"``),
    ``occurred_at``, ``may_close`` (true once the result was delivered); ``status`` and
    ``may_close`` must be what :data:`CARRIER_TO_APPLICATION` makes of ``carrier_status``.

::

    >>> decode('{"type": "delivery_order", "version": 9}')
    Traceback (most recent call last):
    ...
    govpost.errors.DeserializationError: cannot read delivery_order: version 9 is not supported; govpost reads version 1 of delivery_order @ $.version

**Sample hall**: :class:`SampleHall` generates a deterministic stream of applications and
their events (seeded; volumes, channel mix, delivery-choice share, lines and services are
parameters) for tests and demos.

.. versionadded:: 0.2.0
"""

from govpost.applications._application import (
    APPLICATION_TRANSITIONS,
    DEFAULT_MATERIALS_WEIGHT_G,
    DEFAULT_RESULT_WEIGHT_G,
    EVENT_PRECEDENCE,
    Applicant,
    Application,
    ApplicationAnomaly,
    ApplicationEvent,
    ApplicationEventKind,
    ApplicationStatus,
    DeliveryChoice,
)
from govpost.applications._catalogue import MAX_TIME_LIMIT_DAYS, Service, ServiceCatalogue
from govpost.applications._exchange import (
    CARRIER_TO_APPLICATION,
    CURRENT_VERSION,
    MESSAGE_TYPES,
    ApplicationStatusMessage,
    CarrierStatus,
    DeliveryOrder,
    Message,
    decode,
    decode_as,
    encode,
)
from govpost.applications._hall import SampleHall
from govpost.applications._timelimits import (
    ApplicationStages,
    ApplicationTimeLimits,
    Distribution,
    GroupStats,
    Promise,
    StageAnalysis,
    StageTime,
    Tally,
    analyse,
)
from govpost.applications._trips import LineTrips, TripRule, TripsSaved, trips_saved

__all__ = [
    "APPLICATION_TRANSITIONS",
    "CARRIER_TO_APPLICATION",
    "CURRENT_VERSION",
    "DEFAULT_MATERIALS_WEIGHT_G",
    "DEFAULT_RESULT_WEIGHT_G",
    "EVENT_PRECEDENCE",
    "MAX_TIME_LIMIT_DAYS",
    "MESSAGE_TYPES",
    "Applicant",
    "Application",
    "ApplicationAnomaly",
    "ApplicationEvent",
    "ApplicationEventKind",
    "ApplicationStages",
    "ApplicationStatus",
    "ApplicationStatusMessage",
    "ApplicationTimeLimits",
    "CarrierStatus",
    "DeliveryChoice",
    "DeliveryOrder",
    "Distribution",
    "GroupStats",
    "LineTrips",
    "Message",
    "Promise",
    "SampleHall",
    "Service",
    "ServiceCatalogue",
    "StageAnalysis",
    "StageTime",
    "Tally",
    "TripRule",
    "TripsSaved",
    "analyse",
    "decode",
    "decode_as",
    "encode",
    "trips_saved",
]
