"""Government agent (政府代办): the agreement's rule for the work the center does (private).

Where the center's own staff accept and pack the pieces, the agreement may recognise the cost
difference per piece — a packaging fee the carrier pays back (减收), or one it charges (加收).
:class:`AgentFee` is that rule as data; :func:`apply_agent_fee` turns a settlement statement's
pieces into its lines under the money policy (one line per piece, rounded once; the total is the
sum of the lines).
"""

from __future__ import annotations

import enum
from typing import TYPE_CHECKING

import attrs

from govpost._fields import coerce_enum, short, text
from govpost.errors import CurrencyMismatchError, ValidationError
from govpost.modes._agency import _whole_fen
from govpost.money import Money

if TYPE_CHECKING:
    from govpost.settlement import SettlementStatement


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
    return _whole_fen(value, "agent fee per piece", positive=True)


def _reference(value: str) -> str:
    return text(value, "agent fee reference", max_len=500)


def _kind(value: AgentFeeKind | str) -> AgentFeeKind:
    return coerce_enum(AgentFeeKind, value, "agent fee kind")


def _label(value: str) -> str:
    return text(value, "agent fee label", max_len=100)


@attrs.frozen(kw_only=True)
class AgentFee:
    """A per-piece cost difference a fee agreement recognises for a government agent (政府代办).

    Args:
        per_piece: the amount per piece, positive, whole fen.
        reference: the clause of the agreement that sets it.
        kind: :attr:`AgentFeeKind.DEDUCTION` (the default: the carrier's bill is reduced) or
            :attr:`AgentFeeKind.CHARGE`.
        label: what the fee is, printed on its lines (``"包装费"`` by default).

    Raises:
        ValidationError: a negative, zero or sub-fen amount, a blank reference.

    >>> fee = AgentFee(per_piece=Money("1.50"), reference="黔邮协〔2018〕6号 第五条")
    >>> fee.amount_per_piece
    Money('-1.50', 'CNY')
    >>> AgentFee(per_piece=Money("-1.50"), reference="x")
    Traceback (most recent call last):
    ...
    govpost.errors.ValidationError: agent fee per piece -1.50 CNY is negative: it must be zero or more

    .. versionadded:: 0.2.0
    """

    per_piece: Money = attrs.field(converter=_per_piece)
    reference: str = attrs.field(converter=_reference)
    kind: AgentFeeKind = attrs.field(default=AgentFeeKind.DEDUCTION, converter=_kind)
    label: str = attrs.field(default="包装费", converter=_label)

    @property
    def amount_per_piece(self) -> Money:
        """The signed amount of one piece's line: negative for a deduction."""
        amount = self.per_piece.rounded()
        return -amount if self.kind is AgentFeeKind.DEDUCTION else amount


@attrs.frozen(kw_only=True)
class AgentFeeLine:
    """The agent fee of one piece of a statement: ``refers_to`` is the piece's line id.

    >>> AgentFeeLine(waybill="A-1", refers_to="A-1/charge", amount=Money("-1.50")).amount
    Money('-1.50', 'CNY')

    .. versionadded:: 0.2.0
    """

    waybill: str
    refers_to: str
    amount: Money


@attrs.frozen(kw_only=True)
class AgentFeeAdjustment:
    """The agent fee lines of one settlement statement, and what is payable with them.

    :func:`apply_agent_fee` builds it; see there for an example.

    Attributes:
        statement_id: the statement the lines belong to.
        reference: the agreement clause that sets the fee.
        kind: deduction or charge.
        lines: one line per piece of the statement (charged, covered or overage), in its order.
        total: the sum of the lines.
        statement_total: the statement's total.
        payable: ``statement_total + total``.

    .. versionadded:: 0.2.0
    """

    statement_id: str
    reference: str
    kind: AgentFeeKind
    lines: tuple[AgentFeeLine, ...]
    total: Money
    statement_total: Money
    payable: Money

    @property
    def pieces(self) -> int:
        """The number of pieces the fee applies to."""
        return len(self.lines)


def apply_agent_fee(statement: SettlementStatement, fee: AgentFee) -> AgentFeeAdjustment:
    """The lines ``fee`` adds to ``statement``: one per piece picked up in the period.

    Each piece the statement lists — charged per piece, covered by a lump sum, or over its
    quota — gets one line of :attr:`AgentFee.amount_per_piece`; return legs, credits and the
    lump-sum line get none (the center packed the piece once, whatever became of it). The
    total is the sum of the lines and ``payable`` the statement's total plus it.

    Raises:
        ValidationError: not a statement, or not an :class:`AgentFee`.
        CurrencyMismatchError: the fee is not in the statement's currency.

    >>> from datetime import date, datetime
    >>> from govpost.agreements import Coverage, FeeAgreement, FlatTariff, PerPiece
    >>> from govpost.periods import SHANGHAI, Period
    >>> from govpost.settlement import settle
    >>> from govpost.shipments import Shipment
    >>> agreement = FeeAgreement(id="GZ-AGENT", carrier="ems", reference="协议", centers={"GZ-522700"},
    ...     covers=Coverage.all(), valid_from=date(2018, 1, 1),
    ...     mode=PerPiece(tariff=FlatTariff(price="12.00")))
    >>> at = datetime(2018, 6, 4, 16, tzinfo=SHANGHAI)
    >>> pieces = [Shipment(id=f"A-{i}", center="GZ-522700", business_line="licence_delivery",
    ...     direction="outbound_result", origin="522701", destination="522701", weight_g=200,
    ...     created_at=at, picked_up_at=at, status="picked_up") for i in range(3)]
    >>> statement = settle(agreement, pieces, Period.month(2018, 6))
    >>> adjustment = apply_agent_fee(statement, AgentFee(per_piece=Money("1.50"), reference="第五条"))
    >>> adjustment.statement_total, adjustment.total, adjustment.payable
    (Money('36.00', 'CNY'), Money('-4.50', 'CNY'), Money('31.50', 'CNY'))

    .. versionadded:: 0.2.0
    """
    from govpost.settlement import SettlementStatement

    given: object = statement
    if not isinstance(given, SettlementStatement):
        raise ValidationError(f"statement {short(given)} must be a SettlementStatement")
    rule: object = fee
    if not isinstance(rule, AgentFee):
        raise ValidationError(f"fee {short(rule)} must be an AgentFee")
    if rule.per_piece.currency != given.currency:
        raise CurrencyMismatchError(
            f"agent fee {rule.per_piece} is not in the statement's currency {given.currency}"
        )
    amount = rule.amount_per_piece
    lines = tuple(
        AgentFeeLine(waybill=line.waybill, refers_to=line.line_id, amount=amount)
        for line in given.lines
        if line.kind.is_piece and line.waybill is not None
    )
    total = sum((line.amount for line in lines), Money.zero(given.currency))
    return AgentFeeAdjustment(
        statement_id=given.statement_id,
        reference=rule.reference,
        kind=rule.kind,
        lines=lines,
        total=total,
        statement_total=given.total,
        payable=given.total + total,
    )
