"""The carrier's bill (对账单) and its reader (private: use govpost.settlement).

The bill reader is total: whatever the bytes or text, it returns a :class:`CarrierBill` or
raises :class:`~govpost.errors.DeserializationError` naming the line and field, in time linear
in the size of the bill, which is capped (:data:`MAX_BILL_BYTES`, :data:`MAX_BILL_ROWS`).
"""

from __future__ import annotations

import csv
import enum
import io
import re
from collections.abc import Callable, Mapping
from datetime import date
from decimal import Decimal
from os import PathLike
from pathlib import Path

import attrs

from govpost._fields import coerce_enum, short
from govpost.agreements import MAX_WEIGHT_G
from govpost.errors import DeserializationError, ValidationError
from govpost.money import Money
from govpost.privacy import scrub
from govpost.regions import Zone
from govpost.settlement._billable import BillableKind
from govpost.settlement._statement import SettlementStatement


class FeeType(enum.Enum):
    """What a row of the carrier's bill charges for.

    .. versionadded:: 0.1.0
    """

    POSTAGE = "postage"  #: 邮费 / 运费 / 资费
    INSURANCE = "insurance"  #: 保价费
    RETURN_RECEIPT = "return_receipt"  #: 回执费
    RETURN = "return"  #: 退回 (the return leg)
    CREDIT = "credit"  #: 冲销 / 退费 (a refund of an earlier charge)
    LUMP_SUM = "lump_sum"  #: 包干费 (no waybill)
    #: 代办费 / 包装费: a piece's agent fee (negative when the carrier deducts it, 减收).
    #:
    #: .. versionadded:: 0.2.0
    AGENT_FEE = "agent_fee"

    @property
    def billable(self) -> BillableKind:
        """The billable event the row charges for: postage and surcharges are the piece's.

        >>> FeeType.INSURANCE.billable
        <BillableKind.PIECE: 'piece'>

        .. versionadded:: 0.2.0
        """
        return _BILLABLE[self]


_BILLABLE = {
    FeeType.POSTAGE: BillableKind.PIECE,
    FeeType.INSURANCE: BillableKind.PIECE,
    FeeType.RETURN_RECEIPT: BillableKind.PIECE,
    FeeType.RETURN: BillableKind.RETURN_LEG,
    FeeType.CREDIT: BillableKind.CREDIT,
    FeeType.LUMP_SUM: BillableKind.LUMP_SUM,
    FeeType.AGENT_FEE: BillableKind.AGENT_FEE,
}
#: The fee type of each billable event's statement line, as the carrier bills it.
_FEE_OF = {
    BillableKind.PIECE: FeeType.POSTAGE,
    BillableKind.RETURN_LEG: FeeType.RETURN,
    BillableKind.CREDIT: FeeType.CREDIT,
    BillableKind.LUMP_SUM: FeeType.LUMP_SUM,
    BillableKind.AGENT_FEE: FeeType.AGENT_FEE,
}

_FEE_TYPES: dict[str, FeeType] = {
    **{t.value: t for t in FeeType},
    **dict.fromkeys(("邮费", "运费", "资费", "寄递费", "邮资"), FeeType.POSTAGE),
    **dict.fromkeys(("保价", "保价费"), FeeType.INSURANCE),
    **dict.fromkeys(("回执", "回执费"), FeeType.RETURN_RECEIPT),
    **dict.fromkeys(("退回", "退件", "退回费"), FeeType.RETURN),
    **dict.fromkeys(("冲销", "退费", "冲正"), FeeType.CREDIT),
    **dict.fromkeys(("包干", "包干费"), FeeType.LUMP_SUM),
    **dict.fromkeys(("代办费", "包装费", "代办包装费"), FeeType.AGENT_FEE),
}

#: The columns :meth:`CarrierBill.from_csv` looks for, field → accepted headers (first found).
#:
#: .. versionadded:: 0.1.0
DEFAULT_COLUMNS: Mapping[str, tuple[str, ...]] = {
    "waybill": ("waybill", "运单号", "邮件号"),
    "pickup_date": ("pickup_date", "揽收日期", "收寄日期"),
    "weight_g": ("weight_g", "重量(克)", "重量（克）", "重量(g)"),
    "weight_kg": ("weight_kg", "重量(千克)", "重量（千克）", "重量(kg)"),
    "destination": ("destination", "寄达地", "目的地", "区域", "zone"),
    "fee_type": ("fee_type", "费用类型"),
    "amount": ("amount", "金额"),
}

#: The largest bill :meth:`CarrierBill.from_csv` and :meth:`~CarrierBill.from_bytes` read, in
#: bytes (characters for :meth:`~CarrierBill.from_text`): 128 MiB, some hundred times a
#: province's monthly bill. Pass ``max_bytes=`` to read a larger one.
#:
#: .. versionadded:: 0.2.0
MAX_BILL_BYTES = 128 * 1024 * 1024

#: The most rows a bill may have (blank lines aside). Pass ``max_rows=`` to read more.
#:
#: .. versionadded:: 0.2.0
MAX_BILL_ROWS = 1_000_000

#: The largest amount, in yuan either way, one row of a bill may charge or credit: far above
#: any postage or lump sum, far below what a mistyped or hostile cell could claim.
#:
#: .. versionadded:: 0.2.0
MAX_BILL_AMOUNT = Decimal(1_000_000_000)

_REQUIRED = ("waybill", "pickup_date", "fee_type", "amount")
# ASCII digits only: \d would also read Arabic-Indic or full-width digits as a date.
_DATE = re.compile(r"([0-9]{4})\s*[-/.年]\s*([0-9]{1,2})\s*[-/.月]\s*([0-9]{1,2})(?![0-9])")
_CODE = re.compile(r"[0-9]{6}")
# Plain decimal notation: no exponent (1e5000), no "inf" or "NaN", ASCII digits only.
_NUMBER = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)")
_NUMBER_CHARS = 40  # longer cells are no amount or weight of a bill
_FEN = Decimal("0.01")
_WAYBILL_CHARS = 64
_ZONES: dict[str, Zone] = {**{z.value: z for z in Zone}, **{z.label: z for z in Zone}}


def _optional_zone(value: Zone | str | None) -> Zone | None:
    return None if value is None else coerce_enum(Zone, value, "zone")


@attrs.frozen(kw_only=True)
class BillRow:
    """One row of the carrier's bill.

    Attributes:
        line_no: the row's line number in the file (the header is line 1).
        waybill: the waybill number (``None`` on a lump-sum row).
        pickup_date: the date the carrier gives (pickup, or return for return rows).
        weight_g: the weight billed in grams, if the bill gives it.
        destination: the destination code, if the bill gives one.
        zone: the zone, if the bill gives one instead of a destination.
        fee_type: what the row charges for.
        amount: the amount (negative for credits).

    .. versionadded:: 0.1.0
    """

    line_no: int
    waybill: str | None
    pickup_date: date
    weight_g: int | None
    destination: str | None
    zone: Zone | None = attrs.field(converter=_optional_zone)
    fee_type: FeeType
    amount: Money


@attrs.frozen(kw_only=True)
class CarrierBill:
    """The carrier's monthly bill (对账单), as rows.

    .. versionadded:: 0.1.0
    """

    rows: tuple[BillRow, ...]
    currency: str = "CNY"

    @property
    def total(self) -> Money:
        """The sum of every row."""
        return sum((r.amount for r in self.rows), Money.zero(self.currency))

    @classmethod
    def from_csv(
        cls,
        path: str | PathLike[str],
        *,
        columns: Mapping[str, str] | None = None,
        encoding: str | None = None,
        currency: str = "CNY",
        max_rows: int = MAX_BILL_ROWS,
        max_bytes: int = MAX_BILL_BYTES,
    ) -> CarrierBill:
        """Read the carrier's bill from a CSV file.

        The encoding is detected: UTF-8, UTF-8 with a byte-order mark, or GBK (GB 18030), the
        usual encoding of a Chinese spreadsheet's CSV export. Columns are found by header:
        English names (``waybill, pickup_date, weight_g`` or ``weight_kg, destination,
        fee_type, amount``) or the usual Chinese ones (运单号, 揽收日期, 重量(克), 寄达地,
        费用类型, 金额; see :data:`DEFAULT_COLUMNS`). ``destination`` holds a GB/T 2260 code or
        a zone (同城/省内/省外); weight and destination are optional. A weight column that does
        not say its unit (``重量``) is refused rather than guessed: map it with ``columns=``.

        Numbers are read in plain decimal notation with ASCII digits (``1,234.50``, ``¥6.80``):
        an exponent (``1e5``), ``inf``, ``NaN`` or digits of other scripts (``٣``, ``３``) are
        refused, never guessed. A weight is a whole number of grams from 1 g to
        :data:`~govpost.agreements.MAX_WEIGHT_G`; an amount has at most two decimals and at
        most :data:`MAX_BILL_AMOUNT` yuan either way. Reading is linear in the size of the
        file, which may hold at most ``max_bytes`` bytes and ``max_rows`` rows.

        Args:
            path: the CSV file.
            columns: your headers for any field, e.g. ``{"waybill": "邮件号码",
                "weight_kg": "计费重量"}``.
            encoding: force an encoding instead of detecting it.
            currency: the currency of the amounts.
            max_rows: the most rows accepted (:data:`MAX_BILL_ROWS`).
            max_bytes: the largest file accepted (:data:`MAX_BILL_BYTES`).

        Raises:
            DeserializationError: a file too large, not text, a missing column, or a bad row —
                naming the line number and the field.
            OSError: the file cannot be opened or read.

        .. versionchanged:: 0.2.0
           Caps on size and rows; numbers must be finite, ASCII and within bounds.
        """
        _check_cap("max_bytes", max_bytes, str(path))
        with Path(path).open("rb") as file:
            raw = file.read(max_bytes + 1)  # one byte more tells a file over the cap
        return cls.from_bytes(
            raw,
            columns=columns,
            encoding=encoding,
            currency=currency,
            source=str(path),
            max_rows=max_rows,
            max_bytes=max_bytes,
        )

    @classmethod
    def from_bytes(
        cls,
        data: bytes,
        *,
        columns: Mapping[str, str] | None = None,
        encoding: str | None = None,
        currency: str = "CNY",
        source: str = "<bill>",
        max_rows: int = MAX_BILL_ROWS,
        max_bytes: int = MAX_BILL_BYTES,
    ) -> CarrierBill:
        """Read a bill from the bytes of a CSV file (an upload, a mail attachment).

        As :meth:`from_csv`, which reads the file and calls this.

        Raises:
            DeserializationError: more than ``max_bytes`` bytes, an encoding that is not text,
                or as :meth:`from_text`.

        .. versionadded:: 0.2.0
        """
        source = _source(source)
        _check_cap("max_bytes", max_bytes, source)
        _check_cap("max_rows", max_rows, source)
        if not isinstance(data, bytes | bytearray | memoryview):
            raise DeserializationError(
                f"{source}: expected the CSV as bytes, got {type(data).__name__}; use "
                f"CarrierBill.from_text() for text"
            )
        if len(data) > max_bytes:
            raise DeserializationError(
                f"{source}: the bill is larger than {max_bytes:,} bytes, more than any monthly "
                f"bill needs; split it by period, or pass max_bytes= if it is genuine"
            )
        text = _decode(bytes(data), encoding, source)
        return cls.from_text(
            text,
            columns=columns,
            currency=currency,
            source=source,
            max_rows=max_rows,
            max_bytes=max_bytes,
        )

    @classmethod
    def from_text(
        cls,
        text: str,
        *,
        columns: Mapping[str, str] | None = None,
        currency: str = "CNY",
        source: str = "<bill>",
        max_rows: int = MAX_BILL_ROWS,
        max_bytes: int = MAX_BILL_BYTES,
    ) -> CarrierBill:
        """Read a bill from CSV text (see :meth:`from_csv`).

        ``max_bytes`` caps the text's length in characters.

        Raises:
            DeserializationError: not text, too long, a character that is not Unicode text (a
                lone surrogate), a missing column, more than ``max_rows`` rows, or a bad row —
                naming the line number and the field.
        """
        source = _source(source)
        if not isinstance(text, str):
            raise DeserializationError(
                f"{source}: expected the CSV as text (str), got {type(text).__name__}; use "
                f"CarrierBill.from_csv(path) to read a file in any supported encoding"
            )
        _check_cap("max_rows", max_rows, source)
        _check_cap("max_bytes", max_bytes, source)
        if len(text) > max_bytes:
            raise DeserializationError(
                f"{source}: the bill is longer than {max_bytes:,} characters, more than any "
                f"monthly bill needs; split it by period, or pass max_bytes= if it is genuine"
            )
        if not text.isascii():
            try:
                text.encode("utf-8")
            except UnicodeEncodeError as exc:
                line = text.count("\n", 0, exc.start) + 1
                raise DeserializationError(
                    f"{source} line {line}: holds a character that is not Unicode text (a lone "
                    f"surrogate, from text decoded with errors='surrogateescape'?): decode the "
                    f"file strictly, or read it with CarrierBill.from_csv(path)"
                ) from None
        if columns is not None and (
            not isinstance(columns, Mapping)
            or not all(isinstance(k, str) and isinstance(v, str) for k, v in columns.items())
        ):
            raise DeserializationError(
                f"{source}: columns= must map field names to your headers, e.g. "
                f"{{'waybill': '邮件号码'}}, not {short(columns)}"
            )
        try:
            Money.zero(currency)
        except ValidationError:
            raise DeserializationError(
                f"{source}: currency= {short(currency)} is not an ISO 4217 code: use three "
                f"letters such as 'CNY'"
            ) from None
        reader = csv.reader(io.StringIO(text.lstrip("\ufeff")))
        rows: list[BillRow] = []
        try:
            header = next(reader, None)
            if header is None:
                raise DeserializationError(f"{source}: the CSV is empty; expected a header row")
            index = _columns(header, columns or {}, source)
            for record in reader:
                if not any(cell.strip() for cell in record):
                    continue
                if len(rows) == max_rows:
                    raise DeserializationError(
                        f"{source} line {reader.line_num}: the bill has more than {max_rows:,} "
                        f"rows; split it by period, or pass max_rows= if it is genuine"
                    )
                # The physical line the record ends on: a quoted cell may span lines.
                rows.append(_row(record, index, reader.line_num, source, currency))
        except csv.Error as exc:
            raise DeserializationError(
                f"{source} line {reader.line_num}: not readable as CSV ({exc})"
            ) from exc
        return cls(rows=tuple(rows), currency=Money.zero(currency).currency)

    @classmethod
    def from_statement(cls, statement: SettlementStatement) -> CarrierBill:
        """The bill the carrier should send for ``statement``: one row per line.

        Useful as the carrier's side of a test, or to tell the carrier what is expected.
        """
        lines = statement._columns  # read from the columns: no StatementLine is built
        rows = tuple(
            BillRow(
                line_no=i + 2,
                waybill=waybill,
                pickup_date=day,
                weight_g=weight or None,
                destination=destination,
                zone=None,
                fee_type=_FEE_OF[kind.billable],
                amount=lines._amount(i),
            )
            for i, (waybill, kind, _, destination, weight, day, _, _, _) in enumerate(lines._rows())
        )
        return cls(rows=rows, currency=statement.currency)


def _source(source: object) -> str:
    """The name of the bill in messages (a path, "<bill>"), never more than a line of it."""
    if not isinstance(source, str):
        return "<bill>"
    return source if len(source) <= 200 and source.isprintable() else short(source)


def _check_cap(name: str, value: object, source: str) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise DeserializationError(f"{source}: {name}= {short(value)} must be a positive int")


def _decode(raw: bytes, encoding: str | None, source: str) -> str:
    if encoding is not None:
        if not isinstance(encoding, str):
            raise DeserializationError(
                f"{source}: encoding= {short(encoding)} must be the name of an encoding such "
                f"as 'gbk', or None to detect it"
            )
        try:
            return raw.decode(encoding)
        except (ValueError, LookupError) as exc:  # UnicodeError, or not a text encoding
            raise DeserializationError(
                f"{source}: cannot decode as {short(encoding)}: {exc}"
            ) from exc
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        pass
    try:
        return raw.decode("gb18030")
    except UnicodeDecodeError as exc:
        raise DeserializationError(
            f"{source}: the file is neither UTF-8 nor GBK/GB 18030 ({exc}); save it as UTF-8 "
            f"or pass encoding="
        ) from exc


def _columns(header: list[str], given: Mapping[str, str], source: str) -> dict[str, int]:
    names = [h.strip().lstrip("\ufeff") for h in header]
    unknown = set(given) - set(DEFAULT_COLUMNS)
    if unknown:
        raise DeserializationError(
            f"{source}: columns= names unknown fields {_listing(sorted(unknown))}; the fields "
            f"are {', '.join(DEFAULT_COLUMNS)}"
        )
    position: dict[str, int] = {}
    for i, name in enumerate(names):
        position.setdefault(name, i)  # the first column of a repeated header
    index: dict[str, int] = {}
    for field, aliases in DEFAULT_COLUMNS.items():
        wanted = (given[field],) if field in given else aliases
        for alias in wanted:
            if alias in position:
                index[field] = position[alias]
                break
    for field in _REQUIRED:
        if field not in index:
            looked = (
                _listing([given[field]]) if field in given else " / ".join(DEFAULT_COLUMNS[field])
            )
            raise DeserializationError(
                f"{source}: no column for {field} (looked for {looked}); the header has "
                f"{_listing(names)}: rename the column or map it with columns={{{field!r}: "
                f"'your header'}}"
            )
    if "weight_g" in index and "weight_kg" in index:
        del index["weight_kg"]
    if "weight_g" not in index and "weight_kg" not in index:
        unitless = [n for n in names if n in ("重量", "计费重量", "weight")]
        if unitless:
            # Grams or kilograms? Guessing would misread 1 kg as 1 g: ask.
            raise DeserializationError(
                f"{source}: column {unitless[0]!r} does not say its unit: map it with "
                f"columns={{'weight_g': {unitless[0]!r}}} (grams) or "
                f"columns={{'weight_kg': {unitless[0]!r}}} (kilograms)"
            )
    return index


def _listing(names: list[str]) -> str:
    """Header names for a message, personal numbers masked, cut at 200 characters."""
    # Scrubbing never shrinks text below a quarter: the first 1,000 characters hold every
    # number that could show in the first 200.
    text = scrub(", ".join(names)[:1000])
    return text if len(text) <= 200 else text[:197] + "..."


def _cell(record: list[str], index: dict[str, int], field: str) -> str | None:
    position = index.get(field)
    if position is None:
        return None
    return record[position].strip() if position < len(record) else ""


def _row(
    record: list[str], index: dict[str, int], line_no: int, source: str, currency: str
) -> BillRow:
    def bad(field: str, value: str, fix: str) -> DeserializationError:
        return DeserializationError(f"{source} line {line_no}, {field}: {short(value)} {fix}")

    fee_text = _cell(record, index, "fee_type") or ""
    fee_type = _FEE_TYPES.get(fee_text.lower() if fee_text.isascii() else fee_text)
    if fee_type is None:
        raise bad("fee_type", fee_text, f"is not a fee type; use one of {', '.join(_FEE_TYPES)}")
    waybill = (_cell(record, index, "waybill") or "").replace(" ", "").upper() or None
    if waybill is None and fee_type is not FeeType.LUMP_SUM:
        raise bad("waybill", "", "is empty: every row but a lump sum needs a waybill number")
    if waybill is not None and len(waybill) > _WAYBILL_CHARS:
        raise bad("waybill", waybill, f"is longer than {_WAYBILL_CHARS} characters: no waybill is")
    date_text = _cell(record, index, "pickup_date") or ""
    match = _DATE.match(date_text)
    try:
        if match is None:
            raise ValueError
        day = date(int(match[1]), int(match[2]), int(match[3]))
    except ValueError:
        raise bad("pickup_date", date_text, "is not a date like 2018-06-03") from None
    amount = _amount(_cell(record, index, "amount") or "", currency, bad)
    weight = _weight(record, index, bad)
    destination: str | None = None
    zone: Zone | None = None
    where = _cell(record, index, "destination")
    if where:
        if _CODE.fullmatch(where):
            destination = where
        elif where in _ZONES or where.lower() in _ZONES:
            zone = _ZONES.get(where) or _ZONES[where.lower()]
        else:
            raise bad(
                "destination",
                where,
                "is neither a 6-digit division code nor a zone (同城/省内/省外)",
            )
    return BillRow(
        line_no=line_no,
        waybill=waybill,
        pickup_date=day,
        weight_g=weight,
        destination=destination,
        zone=zone,
        fee_type=fee_type,
        amount=amount,
    )


def _number(text: str) -> Decimal | None:
    """``text`` as a Decimal if it is a plain decimal number of ASCII digits, else ``None``.

    Thousands separators and a yuan sign are dropped. Exponents, ``inf``, ``NaN`` and digits
    of other scripts are not numbers here: ``Decimal`` would read them all.
    """
    clean = text.replace(",", "").replace("¥", "").replace("￥", "").strip()
    if len(clean) > _NUMBER_CHARS or not _NUMBER.fullmatch(clean):
        return None
    return Decimal(clean)


def _amount(
    text: str, currency: str, bad: Callable[[str, str, str], DeserializationError]
) -> Money:
    value = _number(text)
    if value is None:
        raise bad(
            "amount",
            text,
            "is not an amount in yuan written like 12.50 (ASCII digits, no exponent)",
        )
    if abs(value) > MAX_BILL_AMOUNT:  # first: within the bound, fen fit the decimal context
        raise bad(
            "amount",
            text,
            f"is beyond ±{MAX_BILL_AMOUNT:,} yuan, more than any postage: check the column",
        )
    if value != value.quantize(_FEN):
        raise bad("amount", text, "is not an amount in yuan like 12.50: at most two decimals")
    return Money(value, currency)


def _weight(
    record: list[str], index: dict[str, int], bad: Callable[[str, str, str], DeserializationError]
) -> int | None:
    for field, scale in (("weight_g", 1), ("weight_kg", 1000)):
        text = _cell(record, index, field)
        if text is None:
            continue
        if not text:
            return None
        value = _number(text)
        if value is None:
            raise bad(field, text, "is not a number written like 250 or 1.25 (ASCII digits)")
        numerator, denominator = value.as_integer_ratio()  # exact, whatever the digits
        grams, rest = divmod(numerator * scale, denominator)
        if rest or grams <= 0:
            unit = "grams" if scale == 1 else "kilograms (to the gram)"
            raise bad(field, text, f"is not a positive whole number of {unit}")
        if grams > MAX_WEIGHT_G:
            raise bad(
                field,
                text,
                f"is over {MAX_WEIGHT_G:,} g, the heaviest piece govpost prices: check the unit",
            )
        return grams
    return None
