"""Fuzzing the wire format: ``from_json`` is total for every public model.

Whatever text reaches :func:`govpost.serialization.from_json` — random text, random JSON, or a
genuine document of the model with values swapped for JSON of another type, keys deleted or
added, values nested hundreds deep, digits of other scripts, escaped lone surrogates, numbers
like ``1e999999999`` — the answer is the model or a
:class:`~govpost.errors.DeserializationError` whose message can be printed; and what it
accepts, :func:`~govpost.serialization.to_json` writes back and reads again unchanged. Each
test runs 500 examples per model (10,000 with ``HYPOTHESIS_PROFILE=deep``).
"""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

import attrs
import pytest
from hypothesis import given
from hypothesis import strategies as st

from govpost import DeserializationError, Money, Recipient, from_json, to_json
from govpost.agreements import Insurance
from govpost.serialization import to_primitive
from govpost.settlement import BillRow, CarrierBill
from tests.fuzzing import fuzz_each
from tests.strategies import WIRE_MODELS

MODELS = sorted(WIRE_MODELS, key=lambda c: c.__qualname__)
BILL = "运单号,揽收日期,重量(克),寄达地,费用类型,金额\nEA1,2018-06-03,300,同城,邮费,6.80\n"

#: Any JSON value, small.
json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=20),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3)
    ),
    max_leaves=8,
)

#: JSON text that Python's reader takes in surprising ways, or that hostile senders write.
HOSTILE_TOKENS = [
    "1e999999999",
    "-1e5000",
    "1e-999999999",
    "1" * 5000,
    "9" * 4300,
    "123456789012345678901234567890",
    "-0",
    "0.1",
    '"\\ud800"',
    '"ok \\udfff"',
    '"\\ud83d\\ude00"',
    '"١٢"',
    '"１２"',
    '"12.5e3"',
    '"1E+999999"',
    '"1,000.00"',
    '" 12.50 "',
    '"+12"',
    '"NaN"',
    '"Infinity"',
    '"sNaN"',
    '"9' + "9" * 200 + '"',
    '"2018-06-01T09:30:00"',
    '"0001-01-01T00:00:00+14:00"',
    '"9999-12-31T23:59:59-14:00"',
    '"٢٠١٨-06-01"',
    '"２０１８-06-01T09:30:00+08:00"',
    '"５２０１００"',
    '"٥٢٠١٠٠"',
    '"ＥＡ１２３４５６７８５ＣＮ"',
    '"\\u0000"',
    '""',
    '" "',
    "[" * 200 + "]" * 200,
    "{}",
    "[]",
    "true",
]

_PLACEHOLDER = "\x00hostile\x00"
_SURROGATES = ["\ud800", "\udfff", "\udc80"]
_ARABIC_INDIC = str.maketrans("0123456789", "٠١٢٣٤٥٦٧٨٩")
_FULL_WIDTH = str.maketrans("0123456789", "０１２３４５６７８９")


def _paths(doc: Any, here: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Every place in a JSON document, the root included."""
    found = [here]
    if isinstance(doc, dict):
        for key, value in doc.items():
            found += _paths(value, (*here, key))
    elif isinstance(doc, list):
        for index, value in enumerate(doc):
            found += _paths(value, (*here, index))
    return found


def _get(doc: Any, path: tuple[Any, ...]) -> Any:
    for step in path:
        doc = doc[step]
    return doc


def _set(doc: Any, path: tuple[Any, ...], value: Any) -> Any:
    if not path:
        return value
    _get(doc, path[:-1])[path[-1]] = value
    return doc


def _other_digits(value: Any, table: dict[int, str]) -> Any:
    if isinstance(value, str):
        return value.translate(table)
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value).translate(table)
    return value


@st.composite
def mutated_documents(draw: st.DrawFn, cls: type[Any]) -> str:
    """A genuine document of ``cls`` with one to three mutations, as JSON text."""
    doc = to_primitive(draw(WIRE_MODELS[cls]))
    tokens: list[str] = []
    for _ in range(draw(st.integers(1, 3))):
        path = draw(st.sampled_from(_paths(doc)))
        node = _get(doc, path)
        action = draw(
            st.sampled_from(
                ["replace", "delete", "add", "hostile", "nest", "digits", "widen", "surrogate"]
            )
        )
        if action == "replace":
            doc = _set(doc, path, draw(json_values))
        elif action == "delete" and path:
            del _get(doc, path[:-1])[path[-1]]
        elif action == "add" and isinstance(node, dict):
            node[draw(st.text(max_size=12))] = draw(json_values)
        elif action == "hostile":
            tokens.append(draw(st.sampled_from(HOSTILE_TOKENS)))
            doc = _set(doc, path, _PLACEHOLDER)
        elif action == "nest":
            depth = draw(st.integers(1, 200))
            nested: Any = node
            for _ in range(depth):
                nested = [nested] if draw(st.booleans()) else {"x": nested}
            doc = _set(doc, path, nested)
        elif action == "digits":
            doc = _set(doc, path, _other_digits(node, _ARABIC_INDIC))
        elif action == "widen":
            doc = _set(doc, path, _other_digits(node, _FULL_WIDTH))
        elif action == "surrogate" and isinstance(node, str):
            # A lone surrogate in the Python str itself (or escaped, when written as ASCII).
            at = draw(st.integers(0, len(node)))
            doc = _set(doc, path, node[:at] + draw(st.sampled_from(_SURROGATES)) + node[at:])
    text = json.dumps(doc, ensure_ascii=draw(st.booleans()))
    quoted = json.dumps(_PLACEHOLDER)
    for token in tokens:
        text = text.replace(quoted, token, 1)
    return text


def _read(text: str | bytes, cls: type[Any]) -> None:
    """from_json answers with the model or a printable DeserializationError, nothing else;
    what it accepts round-trips."""
    try:
        value = from_json(text, cls)
    except DeserializationError as exc:
        str(exc).encode("utf-8")  # the message itself is valid text
        return
    text = to_json(value)
    text.encode("utf-8")  # what was accepted holds no lone surrogate
    assert from_json(text, cls) == value


@pytest.mark.parametrize("cls", MODELS, ids=lambda c: c.__qualname__)
def test_mutated_documents_give_the_model_or_a_deserialization_error(cls: type[Any]) -> None:
    """from_json of a mutated genuine document: the model or DeserializationError only."""

    @fuzz_each
    @given(mutated_documents(cls))
    def check(text: str) -> None:
        _read(text, cls)

    check()


@pytest.mark.parametrize("cls", MODELS, ids=lambda c: c.__qualname__)
def test_random_json_gives_a_deserialization_error(cls: type[Any]) -> None:
    """from_json of random JSON values and random text: the model or DeserializationError."""

    @fuzz_each
    @given(json_values.map(json.dumps) | st.text(max_size=60) | st.binary(max_size=60))
    def check(text: str | bytes) -> None:
        _read(text, cls)

    check()


# --- regressions ------------------------------------------------------------------------------


def test_a_lone_surrogate_in_a_name_is_refused_naming_its_path() -> None:
    """Regression: from_json accepted "\\ud800" in a recipient's name; booking then crashed
    with UnicodeEncodeError when the carrier request was encoded."""
    with pytest.raises(DeserializationError) as info:
        from_json('{"name": "张\\ud800三", "mobile": "13800138000"}', Recipient)
    assert str(info.value) == (
        "cannot read Recipient: the string holds a character that is not valid Unicode text (a "
        "lone surrogate at position 1): send real characters, not escaped UTF-16 halves @ $.name"
    )


def test_a_lone_surrogate_in_a_python_string_is_refused_too() -> None:
    """The same character in a str given to from_json (or to the constructor) is refused."""
    with pytest.raises(DeserializationError, match=r"lone surrogate.* @ \$\.address"):
        from_json('{"name": "张三", "address": "贵阳\ud800"}', Recipient)


@pytest.mark.parametrize("depth", [65, 1_000, 100_000])
def test_deep_json_is_refused_without_recursion_error(depth: int) -> None:
    """Regression: JSON nested ~1,000 deep raised RecursionError out of from_json."""
    with pytest.raises(DeserializationError) as info:
        from_json("[" * depth + "]" * depth, list[Money])
    assert f"nests arrays or objects {depth} deep, deeper than the limit of 64" in str(info.value)


@pytest.mark.parametrize(
    ("amount", "says"),
    [
        ("١٢", "is not a number written like"),
        ("１２", "is not a number written like"),
        ("1,000.00", "is not a number written like"),
        ("1e3", "is not a number written like"),
        ("1000000000000000", r"amount '1000000000000000' is 10\^15 or more"),
        ("-999999999999999.99", None),
    ],
)
def test_money_amounts_are_ascii_and_bounded(amount: str, says: str | None) -> None:
    """Decimal reads Arabic-Indic and full-width digits: the wire format does not."""
    document = json.dumps({"amount": amount, "currency": "CNY"})
    if says is None:
        assert from_json(document, Money) == Money(amount)
        return
    with pytest.raises(DeserializationError, match=says):
        from_json(document, Money)


@pytest.mark.parametrize("rate", ["٠.٠١", "０.０１", "0.0١", "𝟎.𝟎𝟏", "0,01", " 0.01", "0.01\n"])
def test_decimals_are_ascii_and_plain(rate: str) -> None:
    """Decimal reads digits of every script: the wire format's decimals (an insurance rate, a
    discount) do not. (A mutant letting other scripts through survived every other test: the
    fuzz suites only ask that what is read round-trips, which a Thai-digit rate does.)"""

    def document(rate: str) -> str:
        return json.dumps({"rate": rate, "minimum": {"amount": "1.00"}}, ensure_ascii=False)

    with pytest.raises(DeserializationError, match=r"is not written like .* @ \$\.rate"):
        from_json(document(rate), Insurance)
    assert from_json(document("0.01"), Insurance).rate == Decimal("0.01")


@pytest.mark.parametrize("line_no", [2**53, -(2**53), 10**30])
def test_json_integers_are_within_what_every_reader_holds(line_no: int) -> None:
    """Integers beyond ±(2^53 − 1) are read differently by other JSON readers (JavaScript's
    rounds them): refused both ways, even where the model sets no bound of its own (a bill
    row's line number). A mutant without the bound survived the fuzz suites."""
    row = attrs.evolve(CarrierBill.from_text(BILL).rows[0], line_no=line_no)
    document = to_json(attrs.evolve(row, line_no=2)).replace(
        '"line_no": 2', f'"line_no": {line_no}'
    )
    with pytest.raises(DeserializationError, match=r"beyond ±\(2\^53 − 1\).* @ \$\.line_no"):
        from_json(document, BillRow)
    with pytest.raises(ValueError, match=r"beyond ±\(2\^53 − 1\)"):
        to_json(row)
    top = attrs.evolve(row, line_no=2**53 - 1)
    assert from_json(to_json(top), BillRow) == top


def test_to_json_refuses_what_from_json_would_refuse() -> None:
    """The bounds hold both ways: an amount of 10^15 is not written."""
    with pytest.raises(ValueError, match=r"money amount '1000000000000000' is 10\^15 or more"):
        to_json(Money("1000000000000000"))
