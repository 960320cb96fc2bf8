"""Agency services for other departments and their remittance statements (private).

The post collects money at its counters on behalf of another department — traffic-management
fees for the police (警邮), tax for the tax bureau (税邮) — keeps a commission (手续费) and remits
the rest. Money policy: the commission of each transaction is rounded half-up to the fen once;
the totals are sums of lines, never re-rounded; on every line and in total, collected == net +
commission.
"""

from __future__ import annotations

import csv
import hashlib
import io
from collections.abc import Iterable
from datetime import date, datetime
from decimal import Decimal
from typing import Self

import attrs

from govpost._fields import CODE as _CODE
from govpost._fields import aware, coerce_enum, optional_text, short, text
from govpost.centers import BusinessLine
from govpost.errors import CurrencyMismatchError, ValidationError
from govpost.identifiers import mask_name
from govpost.money import Money, _to_decimal
from govpost.periods import Period, business_date


def _code(what: str, value: object) -> str:
    if not isinstance(value, str) or not _CODE.fullmatch(value):
        raise ValidationError(
            f"{what} {short(value)} must be 1-64 letters, digits, '-', '_' or '.', starting with "
            f"a letter or digit"
        )
    return value


def _department_code(value: str) -> str:
    return _code("department code", value)


def _department_name(value: str) -> str:
    return text(value, "department name", max_len=200)


def _agency_line(value: BusinessLine | str) -> BusinessLine:
    line = coerce_enum(BusinessLine, value, "business line")
    if line is BusinessLine.LICENCE_DELIVERY:
        raise ValidationError(
            "licence delivery is the centers' own line, settled by govpost.settlement; an "
            "agency department is police (警邮), tax (税邮) or transport (交邮)"
        )
    return line


@attrs.frozen(kw_only=True)
class Department:
    """A department the post collects for (委托方): the police, the tax bureau.

    Args:
        code: the department's identifier, part of statement ids.
        name: its official name.
        business_line: POLICE (警邮), TAX (税邮) or TRANSPORT (交邮).

    >>> Department(code="GY-JGJ", name="贵阳市公安局交通管理局", business_line="police").business_line.label
    '警邮合作'

    .. versionadded:: 0.2.0
    """

    code: str = attrs.field(converter=_department_code)
    name: str = attrs.field(converter=_department_name)
    business_line: BusinessLine = attrs.field(converter=_agency_line)


def _optional_fee(value: Money | None) -> Money | None:
    given: object = value
    if given is None:
        return None
    return _whole_fen(given, "per-transaction commission")


def _whole_fen(value: object, what: str, *, positive: bool = False) -> Money:
    """``value`` as a Money of whole fen, zero or more (more than zero when ``positive``)."""
    if not isinstance(value, Money):
        raise ValidationError(f"{what} {short(value)} must be a Money, e.g. Money('3.00')")
    if value.amount < 0:
        raise ValidationError(f"{what} {value} is negative: it must be zero or more")
    if positive and value.amount == 0:
        raise ValidationError(f"{what} {value} is zero: give a positive amount, or none at all")
    if value.amount != value.rounded().amount:
        raise ValidationError(f"{what} {value} is not a whole number of fen: write it to the fen")
    return value


def _optional_rate(value: Decimal | str | None) -> Decimal | None:
    given: object = value
    if given is None:
        return None
    rate = _to_decimal(given, "commission rate")
    if not 0 <= rate < 1:
        raise ValidationError(
            f"commission rate {short(given)} must be a fraction in [0, 1): '0.0025' is 0.25%"
        )
    return rate


def _check_rule(
    instance: CommissionRule, attribute: attrs.Attribute[Decimal | None], value: Decimal | None
) -> None:
    if (instance.per_transaction is None) == (instance.rate is None):
        raise ValidationError(
            "a commission rule is either per_transaction=Money(...) or rate=Decimal(...), "
            "exactly one of them"
        )


@attrs.frozen(kw_only=True)
class CommissionRule:
    """What the post keeps of each transaction (手续费/佣金): a fixed amount, or a rate.

    The commission of a transaction is the fixed amount, or ``rate × collected`` rounded
    half-up to the fen (四舍五入) once — never the ambient half-even context.

    Args:
        per_transaction: a fixed amount per transaction, whole fen, zero or more.
        rate: a fraction of the amount collected, in ``[0, 1)``.

    Raises:
        ValidationError: both or neither given; a negative amount or rate.

    >>> CommissionRule(rate="0.0025").commission(Money("50.00"))   # 0.125 → 0.13
    Money('0.13', 'CNY')
    >>> CommissionRule(per_transaction=Money("3.00")).commission(Money("10.00"))
    Money('3.00', 'CNY')

    .. versionadded:: 0.2.0
    """

    per_transaction: Money | None = attrs.field(default=None, converter=_optional_fee)
    rate: Decimal | None = attrs.field(
        default=None, converter=_optional_rate, validator=_check_rule
    )

    def commission(self, collected: Money) -> Money:
        """The commission of one transaction that collected ``collected``, to the fen.

        Raises:
            CurrencyMismatchError: a fixed commission in another currency.

        .. versionadded:: 0.2.0
        """
        if self.per_transaction is not None:
            if self.per_transaction.currency != collected.currency:
                raise CurrencyMismatchError(
                    f"commission {self.per_transaction} and collected {collected} differ in "
                    f"currency: use one currency"
                )
            return self.per_transaction
        assert self.rate is not None  # the validator: exactly one is set
        return (collected * self.rate).rounded()


def _service_code(value: str) -> str:
    return _code("service code", value)


def _service_name(value: str) -> str:
    return text(value, "service name", max_len=200)


def _department(value: Department) -> Department:
    given: object = value
    if not isinstance(given, Department):
        raise ValidationError(f"department {short(given)} must be a Department")
    return given


def _service_fee(value: Money | None) -> Money | None:
    given: object = value
    return None if given is None else _whole_fen(given, "service fee")


def _rule(value: CommissionRule) -> CommissionRule:
    given: object = value
    if not isinstance(given, CommissionRule):
        raise ValidationError(f"commission {short(given)} must be a CommissionRule")
    return given


@attrs.frozen(kw_only=True)
class AgencyService:
    """A service the post handles at its counters for a department (代办业务).

    Args:
        code: the service's code.
        name: its name, e.g. ``"补领机动车驾驶证"``.
        department: the department it is done for.
        commission: what the post keeps of each transaction.
        fee: the fixed government fee collected per transaction (e.g. a 工本费), or ``None``
            when the amount varies (a fine, a tax).

    >>> police = Department(code="GY-JGJ", name="贵阳市公安局交通管理局", business_line="police")
    >>> service = AgencyService(code="JG-01", name="补领机动车驾驶证", department=police,
    ...     fee=Money("10.00"), commission=CommissionRule(per_transaction=Money("3.00")))
    >>> service.fee
    Money('10.00', 'CNY')

    .. versionadded:: 0.2.0
    """

    code: str = attrs.field(converter=_service_code)
    name: str = attrs.field(converter=_service_name)
    department: Department = attrs.field(converter=_department)
    commission: CommissionRule = attrs.field(converter=_rule)
    fee: Money | None = attrs.field(default=None, converter=_service_fee)

    def transaction(
        self,
        transaction_id: str,
        *,
        occurred_at: datetime,
        collected: Money | None = None,
        center: str | None = None,
        applicant: str | None = None,
    ) -> AgencyTransaction:
        """A transaction of this service; ``collected`` defaults to the service's fee.

        Raises:
            ValidationError: no ``collected`` for a service without a fixed fee.

        .. versionadded:: 0.2.0
        """
        amount = collected if collected is not None else self.fee
        if amount is None:
            raise ValidationError(
                f"service {self.code} has no fixed fee: give collected=Money(...) for "
                f"transaction {short(transaction_id)}"
            )
        return AgencyTransaction(
            transaction_id=transaction_id,
            service_code=self.code,
            occurred_at=occurred_at,
            collected=amount,
            center=center,
            applicant=applicant,
        )


def _transaction_id(value: str) -> str:
    return _code("transaction id", value)


def _occurred_at(value: datetime) -> datetime:
    return aware(value, "occurred_at")


def _collected(value: Money) -> Money:
    return _whole_fen(value, "collected amount")


def _center(value: str | None) -> str | None:
    return None if value is None else _code("center code", value)


def _applicant(value: str | None) -> str | None:
    return optional_text(value, "applicant", max_len=100)


@attrs.frozen(kw_only=True, repr=False)
class AgencyTransaction:
    """One service done at a post counter, and the money collected for the department.

    Args:
        transaction_id: unique per transaction.
        service_code: the :class:`AgencyService` done.
        occurred_at: when (timezone-aware); its business date decides the period.
        collected: the amount collected on the department's behalf (代收), whole fen, ≥ 0.
        center: the counter's center or outlet code, if recorded.
        applicant: the person served; personal data, masked in ``repr``.

    >>> from datetime import datetime
    >>> from govpost.periods import SHANGHAI
    >>> AgencyTransaction(transaction_id="T-1", service_code="JG-01", collected=Money("10.00"),
    ...     occurred_at=datetime(2018, 6, 4, 9, 30, tzinfo=SHANGHAI), applicant="张三")
    AgencyTransaction(transaction_id='T-1', service_code='JG-01', occurred_at='2018-06-04T09:30:00+08:00', collected=Money('10.00', 'CNY'), applicant='张*')

    .. versionadded:: 0.2.0
    """

    transaction_id: str = attrs.field(converter=_transaction_id)
    service_code: str = attrs.field(converter=_service_code)
    occurred_at: datetime = attrs.field(converter=_occurred_at)
    collected: Money = attrs.field(converter=_collected)
    center: str | None = attrs.field(default=None, converter=_center)
    applicant: str | None = attrs.field(default=None, converter=_applicant)

    def __repr__(self) -> str:
        applicant = None if self.applicant is None else mask_name(self.applicant)
        return (
            f"AgencyTransaction(transaction_id={self.transaction_id!r}, "
            f"service_code={self.service_code!r}, occurred_at={self.occurred_at.isoformat()!r}, "
            f"collected={self.collected!r}, applicant={applicant!r})"
        )


def _line_day(value: date) -> date:
    given: object = value
    if isinstance(given, datetime) or not isinstance(given, date):
        raise ValidationError(f"remittance line day {short(given)} must be a datetime.date")
    return given


def _line_commission(value: Money) -> Money:
    return _whole_fen(value, "commission")


def _line_net(value: Money) -> Money:
    given: object = value
    if not isinstance(given, Money):
        raise ValidationError(f"net {short(given)} must be a Money, e.g. Money('49.87')")
    if given.amount != given.rounded().amount:
        raise ValidationError(f"net {given} is not a whole number of fen: write it to the fen")
    return given


@attrs.frozen(kw_only=True)
class RemittanceLine:
    """One transaction on a remittance statement: collected = net + commission.

    >>> from datetime import date
    >>> RemittanceLine(transaction_id="T-1", service_code="JG-01", day=date(2018, 6, 4),
    ...     collected=Money("10.00"), commission=Money("3.00"), net=Money("7.50"))
    Traceback (most recent call last):
    ...
    govpost.errors.ValidationError: remittance line T-1: collected 10.00 CNY must equal net 7.50 CNY + commission 3.00 CNY, and the commission be >= 0

    .. versionadded:: 0.2.0
    """

    transaction_id: str = attrs.field(converter=_transaction_id)
    service_code: str = attrs.field(converter=_service_code)
    day: date = attrs.field(converter=_line_day)
    collected: Money = attrs.field(converter=_collected)
    commission: Money = attrs.field(converter=_line_commission)
    net: Money = attrs.field(converter=_line_net)

    def __attrs_post_init__(self) -> None:
        if self.collected != self.net + self.commission:
            raise ValidationError(
                f"remittance line {self.transaction_id}: collected {self.collected} must equal "
                f"net {self.net} + commission {self.commission}, and the commission be >= 0"
            )


@attrs.frozen(kw_only=True)
class RemittanceSubtotal:
    """The transactions and amounts of one service on a remittance statement
    (:attr:`RemittanceStatement.by_service`; see :meth:`RemittanceStatement.build`).

    .. versionadded:: 0.2.0
    """

    key: str
    transactions: int
    collected: Money
    commission: Money
    net: Money


def _count(value: int) -> int:
    given: object = value
    if isinstance(given, bool) or not isinstance(given, int) or given < 0:
        raise ValidationError(f"count {short(given)} must be an int >= 0")
    return given


@attrs.frozen(kw_only=True)
class RemittanceExclusions:
    """Transactions read but not on the statement, counted by reason.

    Attributes:
        other_department: of a service of another department.
        other_period: on a business date outside the period.
        duplicates: the same transaction given more than once (listed once).

    >>> RemittanceExclusions().other_period
    0

    .. versionadded:: 0.2.0
    """

    other_department: int = attrs.field(default=0, converter=_count)
    other_period: int = attrs.field(default=0, converter=_count)
    duplicates: int = attrs.field(default=0, converter=_count)


@attrs.frozen(kw_only=True)
class RemittanceStatement:
    """What the post remits to a department for a period (代收款项结算单).

    One line per transaction, sorted by date and transaction id: collected, commission (rounded
    half-up once), net = collected − commission. The totals are sums of the lines, never
    re-rounded, so collected == net + commission on every line and in total. The net may be
    negative only when a fixed commission exceeds what a transaction collected (the department
    then owes the post).

    Build it with :meth:`build`. The same inputs, in any order, give the same statement and
    the same :attr:`statement_id` ``"<department>-<period>-<digest>"``.

    >>> from datetime import datetime
    >>> from govpost.periods import SHANGHAI
    >>> tax = Department(code="GY-SWJ", name="国家税务总局贵阳市税务局", business_line="tax")
    >>> collect = AgencyService(code="SW-01", name="代征税款", department=tax,
    ...                         commission=CommissionRule(rate="0.01"))
    >>> tx = collect.transaction("S-1", collected=Money("333.33"),
    ...                          occurred_at=datetime(2018, 6, 20, 10, tzinfo=SHANGHAI))
    >>> statement = RemittanceStatement.build(tax, [collect], [tx], Period.month(2018, 6))
    >>> statement.commission, statement.net                 # 3.3333 → 3.33
    (Money('3.33', 'CNY'), Money('330.00', 'CNY'))

    .. versionadded:: 0.2.0
    """

    statement_id: str
    department_code: str
    department_name: str
    business_line: BusinessLine
    period: Period
    currency: str
    lines: tuple[RemittanceLine, ...]
    collected: Money
    commission: Money
    net: Money
    by_service: tuple[RemittanceSubtotal, ...]
    excluded: RemittanceExclusions = RemittanceExclusions()

    def __attrs_post_init__(self) -> None:
        zero = Money.zero(self.currency)
        what = f"remittance statement {short(self.statement_id)}"
        fix = "build it with RemittanceStatement.build"
        ids = [line.transaction_id for line in self.lines]
        if len(set(ids)) != len(ids):
            raise ValidationError(f"{what} lists a transaction twice: {fix}")
        if list(self.lines) != sorted(self.lines, key=lambda x: (x.day, x.transaction_id)):
            raise ValidationError(f"{what}: its lines are not sorted by date and id: {fix}")
        outside = [line for line in self.lines if not self.period.contains(line.day)]
        if outside:
            raise ValidationError(
                f"{what}: line {outside[0].transaction_id} of {outside[0].day} lies outside the "
                f"period {self.period}: {fix}"
            )
        for name in ("collected", "commission", "net"):
            total = sum((getattr(line, name) for line in self.lines), zero)
            if total != getattr(self, name):
                raise ValidationError(
                    f"remittance statement {self.statement_id}: {name} {getattr(self, name)} is "
                    f"not the sum of its lines ({total}); build it with RemittanceStatement.build"
                )
        if self.by_service != _subtotals(self.lines, zero):
            raise ValidationError(
                f"{what}: its per-service subtotals are not those of its lines: {fix}"
            )
        expected = _statement_id(
            self.department_code, self.department_name, self.period, self.currency, self.lines
        )
        if self.statement_id != expected:
            raise ValidationError(
                f"{what} does not match its content (expected {expected}): the document was "
                f"altered; {fix}"
            )

    @classmethod
    def build(
        cls,
        department: Department,
        services: Iterable[AgencyService],
        transactions: Iterable[AgencyTransaction],
        period: Period,
        *,
        currency: str = "CNY",
    ) -> Self:
        """The remittance statement of ``department`` for ``period``.

        Transactions of other departments' services and outside the period are counted in
        :attr:`excluded`, never listed; the same transaction given twice is listed once.

        Raises:
            ValidationError: a transaction of an unknown service, a collected amount other
                than its service's fixed fee, two transactions with one id and different
                content, two services with one code.
            CurrencyMismatchError: an amount in another currency than ``currency``.

        .. versionadded:: 0.2.0
        """
        dept = _department(department)
        if not isinstance(period, Period):
            raise ValidationError(
                f"period {short(period)} must be a Period such as Period.month(2018, 6)"
            )
        catalogue: dict[str, AgencyService] = {}
        for service in services:
            if not isinstance(service, AgencyService):
                raise ValidationError(
                    f"services must be AgencyService values, not {short(service)}"
                )
            held = catalogue.setdefault(service.code, service)
            if held != service:
                raise ValidationError(
                    f"two different services have the code {service.code}: give each its own"
                )
        seen: dict[str, AgencyTransaction] = {}
        other_department = other_period = duplicates = 0
        lines: list[RemittanceLine] = []
        for tx in transactions:
            if not isinstance(tx, AgencyTransaction):
                raise ValidationError(
                    f"transactions must be AgencyTransaction values, not {short(tx)}"
                )
            found = catalogue.get(tx.service_code)
            if found is None:
                known = ", ".join(sorted(catalogue)[:5]) or "none"
                raise ValidationError(
                    f"transaction {tx.transaction_id} is of service {tx.service_code!r}, which "
                    f"is not among the services given (known: {known}): pass its AgencyService"
                )
            held_tx = seen.get(tx.transaction_id)
            if held_tx is not None:
                if held_tx != tx:
                    raise ValidationError(
                        f"transaction id {tx.transaction_id} is given twice with different "
                        f"content: a transaction id names one transaction"
                    )
                duplicates += 1
                continue
            seen[tx.transaction_id] = tx
            if found.department.code != dept.code:
                other_department += 1
                continue
            day = business_date(tx.occurred_at)
            if not period.contains(day):
                other_period += 1
                continue
            lines.append(_line(found, tx, day, currency))
        lines.sort(key=lambda line: (line.day, line.transaction_id))
        zero = Money.zero(currency)
        by_service = _subtotals(lines, zero)
        return cls(
            statement_id=_statement_id(dept.code, dept.name, period, currency, lines),
            department_code=dept.code,
            department_name=dept.name,
            business_line=dept.business_line,
            period=period,
            currency=currency,
            lines=tuple(lines),
            collected=sum((line.collected for line in lines), zero),
            commission=sum((line.commission for line in lines), zero),
            net=sum((line.net for line in lines), zero),
            by_service=by_service,
            excluded=RemittanceExclusions(
                other_department=other_department,
                other_period=other_period,
                duplicates=duplicates,
            ),
        )

    @property
    def transactions(self) -> int:
        """The number of transactions on the statement."""
        return len(self.lines)

    def to_json(self, *, indent: int | None = None) -> str:
        """The statement in govpost's wire format (JSON), through the one converter.

        .. versionadded:: 0.2.0
        """
        from govpost.serialization import to_json

        return to_json(self, indent=indent)

    def to_csv(self) -> str:
        """The lines as CSV (UTF-8 text, header row first), one row per transaction.

        Columns: ``transaction_id, service_code, date, collected, commission, net,
        currency``. For a spreadsheet, save it with ``encoding="utf-8-sig"``.

        .. versionadded:: 0.2.0
        """
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(_CSV_COLUMNS)
        for line in self.lines:
            writer.writerow(
                [
                    line.transaction_id,
                    line.service_code,
                    line.day.isoformat(),
                    line.collected.to_str(),
                    line.commission.to_str(),
                    line.net.to_str(),
                    self.currency,
                ]
            )
        return out.getvalue()

    def to_table(self) -> str:
        """A human-readable statement; the totals also in capital numerals (大写金额).

        .. versionadded:: 0.2.0
        """
        from govpost.settlement import amount_in_words
        from govpost.settlement.documents import render_table

        head = [
            f"代收款项结算单 Remittance statement {self.statement_id}",
            f"委托方 Department: {self.department_name} ({self.department_code}), "
            f"{self.business_line.label}",
            f"期间 Period: {self.period} ({self.period.start} – {self.period.end}, end exclusive)",
            "",
        ]
        body = render_table(
            ["交易 Transaction", "业务", "日期", "代收", "手续费", "应解缴"],
            [
                [
                    line.transaction_id,
                    line.service_code,
                    line.day.isoformat(),
                    line.collected.to_str(),
                    line.commission.to_str(),
                    line.net.to_str(),
                ]
                for line in self.lines
            ],
        )
        services = render_table(
            ["业务 Service", "笔数", "代收", "手续费", "应解缴"],
            [
                [
                    s.key,
                    str(s.transactions),
                    s.collected.to_str(),
                    s.commission.to_str(),
                    s.net.to_str(),
                ]
                for s in self.by_service
            ],
        )
        excluded = self.excluded
        tail = [
            f"笔数 Transactions: {self.transactions}; not listed: {excluded.other_department} of "
            f"other departments, {excluded.other_period} of other periods, "
            f"{excluded.duplicates} duplicates",
            f"代收合计 Collected: {self.collected.to_str()} {self.currency}  "
            f"大写 {amount_in_words(self.collected)}",
            f"手续费合计 Commission: {self.commission.to_str()} {self.currency}  "
            f"大写 {amount_in_words(self.commission)}",
            f"应解缴合计 Net to remit: {self.net.to_str()} {self.currency}  "
            f"大写 {amount_in_words(self.net)}",
        ]
        return "\n".join([*head, body, "", "按业务 By service", services, "", *tail])


_CSV_COLUMNS = (
    "transaction_id",
    "service_code",
    "date",
    "collected",
    "commission",
    "net",
    "currency",
)


def _line(
    service: AgencyService, tx: AgencyTransaction, day: date, currency: str
) -> RemittanceLine:
    collected = tx.collected
    if collected.currency != currency:
        raise CurrencyMismatchError(
            f"transaction {tx.transaction_id} collected {collected}, not in the statement's "
            f"currency {currency}"
        )
    if service.fee is not None and collected != service.fee:
        raise ValidationError(
            f"transaction {tx.transaction_id} collected {collected} for service {service.code}, "
            f"whose fee is {service.fee}: correct the amount, or model a service without a fixed fee"
        )
    commission = service.commission.commission(collected)
    return RemittanceLine(
        transaction_id=tx.transaction_id,
        service_code=service.code,
        day=day,
        collected=collected,
        commission=commission,
        net=collected - commission,
    )


def _subtotals(lines: Iterable[RemittanceLine], zero: Money) -> tuple[RemittanceSubtotal, ...]:
    groups: dict[str, list[RemittanceLine]] = {}
    for line in lines:
        groups.setdefault(line.service_code, []).append(line)
    return tuple(
        RemittanceSubtotal(
            key=code,
            transactions=len(group),
            collected=sum((g.collected for g in group), zero),
            commission=sum((g.commission for g in group), zero),
            net=sum((g.net for g in group), zero),
        )
        for code, group in sorted(groups.items())
    )


def _statement_id(
    code: str, name: str, period: Period, currency: str, lines: Iterable[RemittanceLine]
) -> str:
    digest = hashlib.sha256()
    digest.update(f"{code}\n{name}\n{period}\n{currency}\n".encode())
    for line in sorted(lines, key=lambda x: (x.day, x.transaction_id)):
        digest.update(
            f"{line.transaction_id}\t{line.service_code}\t{line.day.isoformat()}\t"
            f"{line.collected.fen}\t{line.commission.fen}\n".encode()
        )
    return f"{code}-{period}-{digest.hexdigest()[:16]}"
