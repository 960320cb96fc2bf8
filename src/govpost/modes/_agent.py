"""Government agent (政府代办): the agent fee of a settlement statement (private).

Where the center's own staff accept and pack the pieces, the agreement may recognise the cost
difference per piece — a packaging fee the carrier pays back (减收), or one it charges (加收).
:class:`~govpost.agreements.AgentFee` is that rule, a term of the agreement
(:attr:`FeeAgreement.agent_fee <govpost.agreements.FeeAgreement.agent_fee>`), and
:func:`~govpost.settlement.settle` puts its lines on the statement. :func:`apply_agent_fee`
gathers them — or, for a statement settled without the fee, computes them — with what is
payable.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import attrs

from govpost._fields import short
from govpost.agreements import AgentFee, AgentFeeKind
from govpost.errors import CurrencyMismatchError, ValidationError
from govpost.money import Money

if TYPE_CHECKING:
    from govpost.settlement import SettlementStatement


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
        statement_total: the statement's total without its agent fee lines (its postage).
        payable: ``statement_total + total``: the statement's own total when ``settle`` put
            the lines on it.

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
    """The agent fee lines of ``statement`` under ``fee``, and what is payable with them.

    Settle under an agreement that carries the fee (:attr:`FeeAgreement.agent_fee
    <govpost.agreements.FeeAgreement.agent_fee>`) and the statement holds the lines itself
    (:attr:`LineKind.AGENT_FEE <govpost.settlement.LineKind.AGENT_FEE>`), its total includes
    them: this function reads them, and checks that they are ``fee``'s. A statement settled
    without the fee (an agreement that did not carry it yet) gets the lines ``settle`` would
    have added, computed here, beside it — the same lines, so ``payable`` is the total the
    statement would have had.

    Either way, each piece the statement lists — charged per piece, covered by a lump sum, or
    over its quota — has one line of :attr:`~govpost.agreements.AgentFee.amount_per_piece`, ``refers_to`` its line
    id; return legs, credits and the lump-sum line have none (the center packed the piece once,
    whatever became of it). The total is the sum of the lines, ``statement_total`` the
    statement's total without them and ``payable`` the two together.

    Raises:
        ValidationError: not a statement, not an :class:`~govpost.agreements.AgentFee`, or a statement whose agent
            fee lines are not ``fee``'s (another amount or direction).
        CurrencyMismatchError: the fee is not in the statement's currency.

    >>> from datetime import date, datetime
    >>> import attrs
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
    >>> fee = AgentFee(per_piece=Money("1.50"), reference="第五条")
    >>> before = settle(agreement, pieces, Period.month(2018, 6))  # settled without the fee
    >>> adjustment = apply_agent_fee(before, fee)
    >>> adjustment.statement_total, adjustment.total, adjustment.payable
    (Money('36.00', 'CNY'), Money('-4.50', 'CNY'), Money('31.50', 'CNY'))
    >>> statement = settle(attrs.evolve(agreement, agent_fee=fee), pieces, Period.month(2018, 6))
    >>> statement.total, apply_agent_fee(statement, fee).payable
    (Money('31.50', 'CNY'), Money('31.50', 'CNY'))

    .. versionadded:: 0.2.0
    """
    from govpost.settlement import LineKind, SettlementStatement

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
    columns = given._columns
    carried = [columns._line(index) for index in columns._indices(LineKind.AGENT_FEE)]
    lines: tuple[AgentFeeLine, ...]
    if carried:
        for line in carried:
            if line.amount != amount or line.waybill is None or line.refers_to is None:
                raise ValidationError(
                    f"statement {given.statement_id} carries the agent fee line "
                    f"{line.line_id} of {line.amount}, not {amount} per piece as the fee "
                    f"given says: pass the agent_fee of the agreement it was settled under"
                )
        lines = tuple(
            AgentFeeLine(waybill=line.waybill, refers_to=line.refers_to, amount=line.amount)
            for line in carried
            if line.waybill is not None and line.refers_to is not None  # checked above
        )
    else:
        lines = tuple(
            AgentFeeLine(waybill=waybill, refers_to=columns._line_id(index), amount=amount)
            for index, (waybill, kind) in enumerate(columns._keys())
            if kind.is_piece and waybill is not None
        )
    total = sum((line.amount for line in lines), Money.zero(given.currency))
    postage = given.total - total if carried else given.total
    return AgentFeeAdjustment(
        statement_id=given.statement_id,
        reference=rule.reference,
        kind=rule.kind,
        lines=lines,
        total=total,
        statement_total=postage,
        payable=postage + total,
    )
