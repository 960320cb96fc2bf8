"""Fee agreements (政府支付邮费协议): who pays the postage of which pieces, and how it is settled.

A :class:`FeeAgreement` says which centers it covers, who pays for what (business line ×
direction, :class:`Coverage`: anything not covered is the applicant's and never reaches the
government's statement), the settlement mode — :class:`PerPiece` (计件) or :class:`LumpSum`
(包干) —, the settlement period, its validity, an optional annual :class:`Budget`, what
happens to returned items (:class:`ReturnPolicy`) and, for a government agent (政府代办), the
per-piece cost difference it recognises (:class:`AgentFee`)::

    >>> from datetime import date
    >>> from govpost.tariffs import FlatTariff
    >>> agreement = FeeAgreement(
    ...     id="GZ-EMS-2018", carrier="ems", reference="筑政服〔2018〕7号",
    ...     centers={"GZ-520100"}, covers=Coverage.all(),
    ...     mode=PerPiece(tariff=FlatTariff(price="12.00"), discount="0.15"),
    ...     valid_from=date(2018, 1, 1), budget=Budget(annual="20000.00"),
    ... )
    >>> agreement.in_force(date(2018, 6, 30)), agreement.currency
    (True, 'CNY')

What a piece costs is said elsewhere: tariffs and surcharges in :mod:`govpost.tariffs`, the
effective-dated rates that hold them in :mod:`govpost.ratecards`. This module still exports
their names (``from govpost.agreements import WeightTariff`` keeps working), and
:class:`~govpost.periods.PeriodKind` and :func:`~govpost.periods.business_date` from
:mod:`govpost.periods`.

.. versionadded:: 0.1.0

.. versionchanged:: 0.2.0
   Agreement terms only: tariffs, surcharges and :class:`~govpost.tariffs.FeeBreakdown` live in
   :mod:`govpost.tariffs`, :class:`~govpost.ratecards.Rate` and
   :class:`~govpost.ratecards.RateCard` in :mod:`govpost.ratecards`, :class:`PeriodKind` and
   :func:`business_date` in :mod:`govpost.periods`; every name is still exported here.
   :class:`AgentFee`, :class:`AgentFeeKind` and :attr:`FeeAgreement.agent_fee`.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Mapping
from datetime import date
from decimal import Decimal

import attrs

from govpost._fields import CODE as _CODE
from govpost._fields import coerce_enum, short, text
from govpost.centers import BusinessLine
from govpost.errors import CurrencyMismatchError, ValidationError
from govpost.money import Money
from govpost.periods import PeriodKind, business_date
from govpost.ratecards import Rate, RateCard, _valid_from, _valid_until
from govpost.shipments import MAX_WEIGHT_G as _MAX_WEIGHT_G
from govpost.shipments import Direction, Shipment
from govpost.tariffs import (
    FeeBreakdown,
    FlatTariff,
    Insurance,
    Surcharge,
    SurchargeKind,
    Tariff,
    WeightTariff,
    ZonePrice,
    ZoneStep,
    _amount,
    _fraction,
)

__all__ = [
    "MAX_WEIGHT_G",
    "AgentFee",
    "AgentFeeKind",
    "Budget",
    "Coverage",
    "FeeAgreement",
    "FeeBreakdown",
    "FlatTariff",
    "Insurance",
    "LumpSum",
    "PerPiece",
    "PeriodKind",
    "Rate",
    "RateCard",
    "ReturnPolicy",
    "Surcharge",
    "SurchargeKind",
    "Tariff",
    "Underuse",
    "WeightTariff",
    "ZonePrice",
    "ZoneStep",
    "business_date",
]

#: The heaviest piece govpost prices, in grams: :data:`govpost.shipments.MAX_WEIGHT_G`, the
#: most a shipment may weigh.
#:
#: .. versionadded:: 0.1.0
MAX_WEIGHT_G = _MAX_WEIGHT_G


class Underuse(enum.Enum):
    """What happens to a lump sum's unused quota.

    >>> Underuse("pro_rata")
    <Underuse.PRO_RATA: 'pro_rata'>

    .. versionadded:: 0.1.0
    """

    KEEP = "keep"  #: 结余留用: the carrier keeps the lump sum, no refund
    PRO_RATA = "pro_rata"  #: the unused share of the lump sum is refunded
    CARRY_FORWARD = "carry_forward"  #: unused pieces of quota move to the next period


class ReturnPolicy(enum.Enum):
    """How a returned item (退回) is billed under a per-piece agreement.

    >>> ReturnPolicy("no_charge")
    <ReturnPolicy.NO_CHARGE: 'no_charge'>

    .. versionadded:: 0.1.0
    """

    CHARGE_RETURN_LEG = "charge_return_leg"  #: the return leg is one more line, priced as the piece
    NO_CHARGE = "no_charge"  #: the return costs nothing
    REFUND_ORIGINAL = "refund_original"  #: a credit line negates the original charge


# --- settlement modes ----------------------------------------------------------------------------


def _card(value: RateCard | WeightTariff | FlatTariff) -> RateCard:
    given: object = value  # untyped callers pass anything
    if isinstance(given, WeightTariff | FlatTariff):
        return RateCard.single(given, reference="tariff")
    if not isinstance(given, RateCard):
        raise ValidationError(
            f"tariff {short(given)} must be a RateCard, a WeightTariff or a FlatTariff"
        )
    return given


def _overage(value: RateCard | WeightTariff | FlatTariff | None) -> RateCard | None:
    return None if value is None else _card(value)


def _discount(value: Decimal | str | int) -> Decimal:
    return _fraction(value, "discount")


@attrs.frozen(kw_only=True)
class PerPiece:
    """计件结算: every covered piece picked up is one line, priced by ``tariff`` less ``discount``.

    Args:
        tariff: a :class:`~govpost.ratecards.RateCard` (or a bare tariff, taken as valid
            forever).
        discount: fraction off the postage, in ``[0, 1)``: ``"0.15"`` is 15% off (八五折).

    >>> PerPiece(tariff=FlatTariff(price="12.00"), discount="0.15").discount
    Decimal('0.15')

    .. versionadded:: 0.1.0

    .. versionchanged:: 0.2.0
       The constructor declares the types it accepts.
    """

    tariff: RateCard = attrs.field(converter=_card)
    discount: Decimal = attrs.field(default=Decimal(0), converter=_discount)


def _lump_amount(value: Money | Decimal | str | int) -> Money:
    return _amount(value, "lump sum", positive=True)


def _quota(value: int | None) -> int | None:
    given: object = value  # untyped callers pass anything
    if given is None:
        return None
    if isinstance(given, bool) or not isinstance(given, int) or given <= 0:
        raise ValidationError(
            f"quota {short(given)} must be a positive int number of pieces or None"
        )
    return given


def _overage_discount(value: Decimal | str | int) -> Decimal:
    return _fraction(value, "overage discount")


def _underuse(value: Underuse | str) -> Underuse:
    return coerce_enum(Underuse, value, "underuse policy")


def _check_lump(instance: LumpSum, attribute: object, value: Underuse) -> None:
    if instance.quota is None and instance.underuse is not Underuse.KEEP:
        raise ValidationError(
            f"underuse policy {instance.underuse.value!r} needs a quota: without a quota nothing "
            f"can be unused; give quota= or use Underuse.KEEP"
        )
    if instance.quota is None and instance.overage is not None:
        raise ValidationError("an overage tariff needs a quota beyond which it applies")
    if instance.overage is not None and instance.overage.currency != instance.amount.currency:
        raise CurrencyMismatchError(
            f"lump sum {instance.amount} and its overage tariff in {instance.overage.currency} "
            f"differ in currency: use one currency"
        )


@attrs.frozen(kw_only=True)
class LumpSum:
    """包干结算: ``amount`` per period covers ``quota`` pieces.

    Args:
        amount: the lump sum L of a full period.
        quota: pieces Q covered by L; ``None`` = every piece.
        overage: the tariff of each piece beyond Q (``None`` = beyond Q is still covered).
        overage_discount: fraction off the overage postage.
        underuse: what happens when fewer than Q pieces are sent (:class:`Underuse`).

    >>> LumpSum(amount="3000.00", quota=500, overage=FlatTariff(price="8.00"),
    ...         underuse="pro_rata").underuse
    <Underuse.PRO_RATA: 'pro_rata'>

    .. versionadded:: 0.1.0

    .. versionchanged:: 0.2.0
       The constructor declares the types it accepts.
    """

    amount: Money = attrs.field(converter=_lump_amount)
    quota: int | None = attrs.field(default=None, converter=_quota)
    overage: RateCard | None = attrs.field(default=None, converter=_overage)
    overage_discount: Decimal = attrs.field(default=Decimal(0), converter=_overage_discount)
    underuse: Underuse = attrs.field(
        default=Underuse.KEEP, converter=_underuse, validator=_check_lump
    )


# --- coverage ------------------------------------------------------------------------------------


def _business_line(value: BusinessLine | str) -> BusinessLine:
    return coerce_enum(BusinessLine, value, "business line")


def _direction(value: Direction | str) -> Direction:
    return coerce_enum(Direction, value, "direction")


@attrs.frozen(kw_only=True, order=True)
class Coverage:
    """One (business line, direction) pair the government pays for.

    >>> Coverage(business_line="licence_delivery", direction="outbound_result").direction
    <Direction.OUTBOUND_RESULT: 'outbound_result'>

    .. versionadded:: 0.1.0

    .. versionchanged:: 0.2.0
       The constructor declares the types it accepts.
    """

    business_line: BusinessLine = attrs.field(converter=_business_line)
    direction: Direction = attrs.field(converter=_direction)

    @classmethod
    def all(cls) -> tuple[Coverage, ...]:
        """Every business line in both directions."""
        return tuple(cls(business_line=b, direction=d) for b in BusinessLine for d in Direction)


# --- budget --------------------------------------------------------------------------------------


def _annual_budget(value: Money | Decimal | str | int) -> Money:
    return _amount(value, "annual budget", positive=True)


def _strict(value: bool) -> bool:
    given: object = value  # untyped callers pass anything
    if not isinstance(given, bool):
        raise ValidationError(f"budget strict {short(given)} must be True or False")
    return given


@attrs.frozen(kw_only=True)
class Budget:
    """An annual budget (纳入财政预算) for an agreement's postage.

    Args:
        annual: the amount budgeted for a calendar year.
        strict: refuse a settlement that would exceed it (:class:`~govpost.errors.BudgetExceededError`);
            when ``False`` the overrun is only reported on the statement.

    >>> Budget(annual="20000.00", strict=False).annual
    Money('20000.00', 'CNY')

    .. versionadded:: 0.1.0

    .. versionchanged:: 0.2.0
       The constructor declares the types it accepts.
    """

    annual: Money = attrs.field(converter=_annual_budget)
    strict: bool = attrs.field(default=True, converter=_strict)


# --- agent fee -----------------------------------------------------------------------------------


class AgentFeeKind(enum.Enum):
    """Which way an :class:`AgentFee` goes.

    >>> AgentFeeKind("charge").label
    '加收'

    .. versionadded:: 0.2.0
    """

    DEDUCTION = "deduction"  #: 减收: the carrier's bill is reduced (the center did the work)
    CHARGE = "charge"  #: 加收: the carrier charges it on top (e.g. packaging it supplies)

    @property
    def label(self) -> str:
        """The Chinese name of the kind."""
        return "减收" if self is AgentFeeKind.DEDUCTION else "加收"


def _per_piece(value: Money) -> Money:
    given: object = value  # untyped callers pass anything
    what = "agent fee per piece"
    if not isinstance(given, Money):
        raise ValidationError(f"{what} {short(given)} must be a Money, e.g. Money('1.50')")
    if given.amount < 0:
        raise ValidationError(
            f"{what} {given} is negative: it must be more than zero (the direction is the kind)"
        )
    if given.amount == 0:
        raise ValidationError(f"{what} {given} is zero: give a positive amount, or no agent fee")
    if given.amount != given.rounded().amount:
        raise ValidationError(f"{what} {given} is not a whole number of fen: write it to the fen")
    return given


def _fee_reference(value: str) -> str:
    return text(value, "agent fee reference", max_len=500)


def _fee_kind(value: AgentFeeKind | str) -> AgentFeeKind:
    return coerce_enum(AgentFeeKind, value, "agent fee kind")


def _fee_label(value: str) -> str:
    return text(value, "agent fee label", max_len=100)


@attrs.frozen(kw_only=True)
class AgentFee:
    """A per-piece cost difference a fee agreement recognises for a government agent (政府代办).

    Where the center's own staff accept and pack the pieces, the agreement may recognise the
    difference per piece: a packaging fee the carrier pays back (减收), or one it charges
    (加收). Put it on the agreement (:attr:`FeeAgreement.agent_fee`) and
    :func:`~govpost.settlement.settle` adds one line of :attr:`amount_per_piece` per piece.

    Args:
        per_piece: the amount per piece, positive, whole fen.
        reference: the clause of the agreement that sets it.
        kind: :attr:`AgentFeeKind.DEDUCTION` (the default: the carrier's bill is reduced) or
            :attr:`AgentFeeKind.CHARGE`.
        label: what the fee is (``"包装费"`` by default).

    Raises:
        ValidationError: a negative, zero or sub-fen amount, a blank reference.

    >>> fee = AgentFee(per_piece=Money("1.50"), reference="黔邮协〔2018〕6号 第五条")
    >>> fee.amount_per_piece
    Money('-1.50', 'CNY')
    >>> AgentFee(per_piece=Money("-1.50"), reference="x")
    Traceback (most recent call last):
    ...
    govpost.errors.ValidationError: agent fee per piece -1.50 CNY is negative: it must be more than zero (the direction is the kind)

    It is a term of the agreement; :mod:`govpost.modes` exports the same class.

    .. versionadded:: 0.2.0
    """

    per_piece: Money = attrs.field(converter=_per_piece)
    reference: str = attrs.field(converter=_fee_reference)
    kind: AgentFeeKind = attrs.field(default=AgentFeeKind.DEDUCTION, converter=_fee_kind)
    label: str = attrs.field(default="包装费", converter=_fee_label)

    @property
    def amount_per_piece(self) -> Money:
        """The signed amount of one piece's line: negative for a deduction."""
        amount = self.per_piece.rounded()
        return -amount if self.kind is AgentFeeKind.DEDUCTION else amount


# --- agreements ----------------------------------------------------------------------------------

# Agreement ids and center codes: what a statement id and a file name can hold.


def _agreement_id(instance: object, attribute: object, value: str) -> None:
    given: object = value  # untyped callers pass anything
    if not isinstance(given, str) or not _CODE.fullmatch(given):
        raise ValidationError(
            f"agreement id {short(given)} must be 1-64 letters, digits, '-', '_' or '.'"
        )


def _carrier(value: str) -> str:
    return text(value, "carrier", max_len=300)


def _agreement_reference(value: str) -> str:
    return text(value, "agreement reference", max_len=300)


def _centers(values: Iterable[str]) -> frozenset[str]:
    given: object = values  # untyped callers pass anything
    if isinstance(given, str | bytes) or not isinstance(given, Iterable):
        raise ValidationError(f"centers {short(given)} must be a collection of center codes")
    codes = frozenset(given)
    if not codes:
        raise ValidationError("an agreement must cover at least one center code")
    for code in codes:
        if not isinstance(code, str) or not _CODE.fullmatch(code):
            raise ValidationError(f"center code {short(code)} is malformed (e.g. 'GZ-520100')")
    return codes


def _coverage(values: Coverage | Iterable[Coverage]) -> tuple[Coverage, ...]:
    given: object = (values,) if isinstance(values, Coverage) else values
    if isinstance(given, str | bytes | Mapping) or not isinstance(given, Iterable):
        raise ValidationError(f"covers {short(given)} must be a list of Coverage")
    items = set()
    for item in given:
        if not isinstance(item, Coverage):
            raise ValidationError(f"covers holds {short(item)}, not a Coverage")
        items.add(item)
    if not items:
        raise ValidationError(
            "an agreement must cover at least one (business line, direction): see Coverage.all()"
        )
    return tuple(sorted(items, key=lambda c: (c.business_line.value, c.direction.value)))


def _mode(value: PerPiece | LumpSum) -> PerPiece | LumpSum:
    given: object = value  # untyped callers pass anything
    if not isinstance(given, PerPiece | LumpSum):
        raise ValidationError(
            f"settlement mode {short(given)} must be PerPiece(...) or LumpSum(...)"
        )
    return given


def _period_kind(value: PeriodKind | str) -> PeriodKind:
    return coerce_enum(PeriodKind, value, "period")


def _budget(value: Budget | None) -> Budget | None:
    given: object = value  # untyped callers pass anything
    if given is not None and not isinstance(given, Budget):
        raise ValidationError(
            f"budget {short(given)} must be a Budget such as Budget(annual='20000.00') or None"
        )
    return value


def _return_policy(value: ReturnPolicy | str) -> ReturnPolicy:
    return coerce_enum(ReturnPolicy, value, "return policy")


def _agent_fee(value: AgentFee | None) -> AgentFee | None:
    given: object = value  # untyped callers pass anything
    if given is not None and not isinstance(given, AgentFee):
        raise ValidationError(
            f"agent fee {short(given)} must be an AgentFee such as "
            f"AgentFee(per_piece=Money('1.00'), reference='第五条') or None"
        )
    return value


def _check_agreement(instance: FeeAgreement, attribute: object, value: ReturnPolicy) -> None:
    if instance.valid_until is not None and instance.valid_until <= instance.valid_from:
        raise ValidationError(
            f"agreement {instance.id!r}: valid_until {instance.valid_until} must be after "
            f"valid_from {instance.valid_from}"
        )
    if instance.budget is not None and instance.budget.annual.currency != instance.currency:
        raise CurrencyMismatchError(
            f"agreement {instance.id!r}: budget {instance.budget.annual} is not in the "
            f"settlement currency {instance.currency}"
        )
    fee = instance.agent_fee
    if fee is not None and fee.per_piece.currency != instance.currency:
        raise CurrencyMismatchError(
            f"agreement {instance.id!r}: agent fee {fee.per_piece} is not in the settlement "
            f"currency {instance.currency}"
        )


@attrs.frozen(kw_only=True)
class FeeAgreement:
    """A "government pays postage" agreement (政府支付邮费协议).

    Args:
        id: the agreement's own identifier (letters, digits, ``-_.``), part of statement ids.
        carrier: the carrier's name, e.g. ``"ems"``.
        reference: the document that set the agreement.
        centers: codes of the service centers it covers.
        covers: the (business line, direction) pairs the government pays; anything else is
            the applicant's and never appears on a statement.
        mode: :class:`PerPiece` or :class:`LumpSum`.
        period: how often it is settled (a :class:`~govpost.periods.PeriodKind` or its value).
        valid_from: first business date in force (inclusive).
        valid_until: the date it ends (exclusive), or ``None``.
        budget: an annual budget, if any.
        return_policy: how returned items are billed (per-piece mode; a lump sum covers returns).
        agent_fee: the per-piece cost difference a government agent's agreement recognises
            (:class:`AgentFee`), or ``None``. :func:`~govpost.settlement.settle` adds one
            line of it per piece — charged, covered by the lump sum, or over its quota —,
            none for return legs, credits or the lump-sum line.

    Raises:
        ValidationError: a bad field; ``valid_until`` not after ``valid_from``.
        CurrencyMismatchError: budget, agent fee and tariff not all in one currency.

    >>> from datetime import date
    >>> agreement = FeeAgreement(
    ...     id="GZ-EMS", carrier="ems", reference="R", centers=["GZ-520100"],
    ...     covers=Coverage(business_line="licence_delivery", direction="outbound_result"),
    ...     mode=LumpSum(amount="3000.00"), period="quarter", valid_from=date(2018, 1, 1),
    ... )
    >>> agreement.period, agreement.in_force(date(2017, 12, 31))
    (<PeriodKind.QUARTER: 'quarter'>, False)

    .. versionadded:: 0.1.0

    .. versionchanged:: 0.2.0
       The constructor declares the types it accepts; ``agent_fee`` (a document without it
       reads as ``None``).
    """

    id: str = attrs.field(validator=_agreement_id)
    carrier: str = attrs.field(converter=_carrier)
    reference: str = attrs.field(converter=_agreement_reference)
    centers: frozenset[str] = attrs.field(converter=_centers)
    covers: tuple[Coverage, ...] = attrs.field(converter=_coverage)
    mode: PerPiece | LumpSum = attrs.field(converter=_mode)
    period: PeriodKind = attrs.field(default=PeriodKind.MONTH, converter=_period_kind)
    valid_from: date = attrs.field(converter=_valid_from)
    valid_until: date | None = attrs.field(default=None, converter=_valid_until)
    budget: Budget | None = attrs.field(default=None, converter=_budget)
    return_policy: ReturnPolicy = attrs.field(
        default=ReturnPolicy.CHARGE_RETURN_LEG,
        converter=_return_policy,
        validator=_check_agreement,
    )
    agent_fee: AgentFee | None = attrs.field(default=None, converter=_agent_fee)

    @property
    def currency(self) -> str:
        """The currency statements under this agreement are in."""
        mode = self.mode
        return mode.tariff.currency if isinstance(mode, PerPiece) else mode.amount.currency

    def in_force(self, day: date) -> bool:
        """Whether the agreement applies on business date ``day``."""
        return self.valid_from <= day and (self.valid_until is None or day < self.valid_until)

    def covers_shipment(self, shipment: Shipment) -> bool:
        """Whether the government pays for this shipment (its center, line and direction)."""
        return shipment.center in self.centers and any(
            c.business_line is shipment.business_line and c.direction is shipment.direction
            for c in self.covers
        )
