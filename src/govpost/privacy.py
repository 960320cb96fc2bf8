"""One scrubber for personal data in text: every repr, error message and log line uses it.

govpost never puts a name, mobile number, address or ID number into a ``repr``, an error
message or a log line unmasked (PIPL). Values it knows to be personal — a
:class:`~govpost.shipments.Recipient`'s fields, the argument of
:func:`~govpost.identifiers.validate_mobile` — are masked with the ``mask_*`` functions of
:mod:`govpost.identifiers`, or not shown at all. Text that merely *may* hold personal data — a
carrier's message, a courier's note, a value typed into the wrong field — goes through
:func:`scrub`, which masks what can be recognised in free text:

- mainland mobile numbers, however written: ``13985212345``, ``139 8521 2345``,
  ``139-8521-2345``, ``+86 139 8521 2345``, ``(+86)13985212345``, ``0086-139…``, full-width
  digits ``１３９８５２１２３４５``, mixed separators;
- resident ID numbers: 18 characters (the last may be ``X``) or 15 digits (first generation),
  compact or in groups separated by spaces or dashes;
- any value you name in ``known`` (a name, an address), wherever it appears.

::

    >>> scrub("call +86 139 8521 2345 about 520102 19900307 1236")
    'call +86 139****2345 about 520102********1236'
    >>> scrub("欧阳娜娜 lives at 中华南路1号", known=("欧阳娜娜", "中华南路1号"))
    '欧阳** lives at 中*****'

Names and addresses cannot be recognised in free text: pass them in ``known`` when you have
them. A number glued to further digits (``213985212345``) is a longer number, not a mobile,
and is left as it is, so that waybill numbers, amounts and timestamps stay readable.

For logs, :class:`ScrubbingFilter` scrubs every record that passes a handler; govpost's own
loggers (``govpost.*``) carry one already.

.. versionadded:: 0.2.0
"""

from __future__ import annotations

import logging
import re
import unicodedata
from collections.abc import Iterable

from govpost.identifiers import mask_id_number, mask_mobile, mask_name

__all__ = ["ScrubbingFilter", "scrub"]

#: What people and spreadsheets put between the digits of a number: whitespace (full-width
#: included), dashes of every width, dots.
_SEPARATOR = r"[\s\-.\u2010-\u2015\u2212\uff0d\uff0e]"

#: A run of digits (any script's decimal digits, full-width included) in groups joined by up to
#: three separators, and the ``X`` that may end an ID number. Separators and digits are
#: disjoint, so the match is linear in the text.
_RUN = re.compile(rf"\d+(?:{_SEPARATOR}{{1,3}}\d+)*[XxＸｘ]?")
_GROUP = re.compile(r"\d+")
_GLUED_TO_MASK = re.compile(r"\*+\d")
#: The head of a mask just before a run: a digit and the 4 to 8 stars of a masked number.
_MASK_BEFORE = re.compile(r"\d\*{4,8}\Z")
_MOBILE_SECOND = frozenset("3456789")

#: Known values shorter than this are ignored: masking every "张" in a text garbles it.
_MIN_KNOWN = 2


def _ascii(digits: str) -> str:
    """Any script's decimal digits as ASCII ``0``-``9``."""
    return digits if digits.isascii() else "".join(str(unicodedata.decimal(d)) for d in digits)


def _national_offset(digits: str) -> int | None:
    """Where the 11-digit mobile number starts in ``digits``, if ``digits`` is one.

    A mainland mobile is ``1`` then ``3``-``9`` then 9 digits, bare or after ``86`` or ``0086``.
    """
    for offset, prefix in ((0, ""), (2, "86"), (4, "0086")):
        if (
            len(digits) == offset + 11
            and digits.startswith(prefix)
            and digits[offset] == "1"
            and digits[offset + 1] in _MOBILE_SECOND
        ):
            return offset
    return None


def _mask_run(match: re.Match[str]) -> str:
    """The run with every mobile and ID number it holds, aligned on its groups, masked.

    From each group on, the next groups are joined while they hold at most 18 digits: the
    first join that is a mobile wins (two numbers side by side are two numbers, not one ID);
    else the longest that is an ID number (18 characters, or 15 digits). Numbers found from
    later groups that overlap the one found and reach beyond it are masked together with it
    (in ``1990 139 8521 2345`` both ``1990 139 8521`` and ``139 8521 2345`` look like mobiles:
    all of it is masked).
    """
    text = match.group()
    check = text[-1] if text[-1] in "XxＸｘ" else ""
    groups = [(g.start(), g.end(), _ascii(g.group())) for g in _GROUP.finditer(text)]
    # A run glued to a mask ("…0086 130****0000" after one scrub) ends inside a masked number:
    # its last group is a number's head, not the end of an ID, so that scrubbing twice masks
    # what scrubbing once did (a mobile may still end there: "**139 8521 2345**" is masked).
    glued = _GLUED_TO_MASK.match(match.string, match.end()) is not None
    # A run just after a mask ("110105******130 2024-06-03" after one scrub) begins with the
    # masked number's tail, which starts no number of its own: else the tail and the digits
    # after it could pass for a mobile the second time. ("**139…**", bold, has no digit before
    # its stars: that number is still masked.)
    tail = _MASK_BEFORE.search(match.string, max(0, match.start() - 9), match.start())
    pieces: list[str] = []
    done = 0
    i = 0 if tail is None else 1
    while i < len(groups):
        found = _number_at(groups, i, check, glued)
        if found is None:
            i += 1
            continue
        last, start, end, masked = found
        merged = False
        k = i + 1
        while k <= last:
            later = _number_at(groups, k, check, glued)
            if later is not None and later[0] > last:
                last, end, merged = later[0], later[2], True
            k += 1
        if merged:
            # Joined once, when the chain is complete: joining at each link was quadratic in
            # a run of many short groups ("1 1 1 1 ...").
            start = groups[i][0]
            masked = mask_mobile("".join(g[2] for g in groups[i : last + 1]))
        pieces.append(text[done:start])
        pieces.append(masked)
        done = end
        i = last + 1
    pieces.append(text[done:])
    return "".join(pieces)


def _number_at(
    groups: list[tuple[int, int, str]], i: int, check: str, glued: bool = False
) -> tuple[int, int, int, str] | None:
    """The number that starts at group ``i``: (its last group, start, end, masked form)."""
    digits = ""
    identity: tuple[int, int, int, str] | None = None
    for j in range(i, len(groups)):
        if len(digits) + len(groups[j][2]) > 18:
            break  # checked before joining: a group may hold a million digits
        digits += groups[j][2]
        offset = _national_offset(digits)
        if offset is not None:
            national = digits[offset:]
            # The prefix (86, 0086) stays as written; the mask starts at the national number.
            start = _position(groups, i, offset)
            return j, start, groups[j][1], mask_mobile(national)
        end = groups[j][1]
        if glued and j == len(groups) - 1:
            break
        if len(digits) == 17 and check and j == len(groups) - 1:
            identity = (j, groups[i][0], end + 1, mask_id_number(digits + "X"))
        elif len(digits) == 18 or (len(digits) == 15 and identity is None):
            identity = (j, groups[i][0], end, mask_id_number(digits))
    return identity


def _position(groups: list[tuple[int, int, str]], i: int, offset: int) -> int:
    """The text position of the ``offset``-th digit counted from group ``i``."""
    for k in range(i, len(groups)):  # not groups[i:]: a copy of the rest for each number
        start, end, _ = groups[k]
        if offset < end - start:
            return start + offset
        offset -= end - start
    raise AssertionError("offset beyond the groups")  # pragma: no cover - callers stay inside


def _known_pattern(known: Iterable[str]) -> re.Pattern[str] | None:
    values = {v.strip() for v in known if isinstance(v, str) and len(v.strip()) >= _MIN_KNOWN}
    if not values:
        return None
    # Longest first: a full address is masked whole before any part of it is.
    return re.compile("|".join(re.escape(v) for v in sorted(values, key=len, reverse=True)))


def scrub(text: object, *, known: Iterable[str] = ()) -> str:
    """``str(text)`` with the personal data in it masked.

    Mobile numbers become ``139****2345`` (a ``+86``/``0086`` prefix stays as written), ID
    numbers ``520102********1236`` (15-digit ones ``520102******123``), and each occurrence of a
    ``known`` value is masked like a name (``mask_name``: its first character stays, or two for
    a compound surname). Known values shorter than 2 characters are ignored. Linear in the
    length of the text.

    Args:
        text: anything; it is converted with ``str()``.
        known: exact values to mask wherever they appear (names, addresses).

    >>> scrub("电话：139-8521-2345，或（+86）13800138000")
    '电话：139****2345，或（+86）138****8000'
    >>> scrub("１３９８５２１２３４５ / 0086 139 8521 2345 / 8613985212345")
    '139****2345 / 0086 139****2345 / 86139****2345'
    >>> scrub("ID 11010519491231002x, old ID 520102900307123")
    'ID 110105********002X, old ID 520102******123'
    >>> scrub("waybill 1012345678501, 12.50 CNY, 2024-06-03 10:15:00")
    'waybill 1012345678501, 12.50 CNY, 2024-06-03 10:15:00'

    .. versionadded:: 0.2.0
    """
    result = str(text)
    pattern = _known_pattern(known)
    if pattern is not None:
        result = pattern.sub(lambda m: mask_name(m.group()), result)
    return _RUN.sub(_mask_run, result)


class ScrubbingFilter(logging.Filter):
    """A :class:`logging.Filter` that scrubs every record it sees with :func:`scrub`.

    The message is rendered (``msg % args``) and scrubbed, so no argument reaches a formatter
    unmasked; a traceback or stack is kept as scrubbed text (``record.exc_text``), and
    ``record.exc_info`` is cleared so that no formatter renders the raw exception again.
    Records are never dropped (except by the ``name`` of :class:`logging.Filter`).

    Attach it to your *handlers*: a filter on a handler sees the records of every logger that
    reaches it, a filter on a logger only the records logged on that very logger. govpost's
    own loggers carry one already.

    Args:
        name: as for :class:`logging.Filter`: only records of this logger and its children
            pass (empty: all).
        known: values to mask wherever they appear (names, addresses); see :func:`scrub`.

    >>> import logging
    >>> handler = logging.StreamHandler()
    >>> handler.addFilter(ScrubbingFilter())
    >>> record = logging.makeLogRecord({"msg": "calling %s", "args": ("139 8521 2345",)})
    >>> handler.filter(record), record.getMessage()
    (True, 'calling 139****2345')

    .. versionadded:: 0.2.0
    """

    def __init__(self, name: str = "", *, known: Iterable[str] = ()) -> None:
        super().__init__(name)
        self.known: tuple[str, ...] = tuple(known)

    def filter(self, record: logging.LogRecord) -> bool:
        """Scrub ``record`` in place; ``False`` only when ``name`` excludes it."""
        if not super().filter(record):
            return False
        try:
            message = record.getMessage()
        except Exception:  # a bad format string is logged as it is, never raised from here
            message = f"{record.msg} {record.args!r}"
        record.msg = scrub(message, known=self.known)
        record.args = None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        record.exc_info = None
        if record.exc_text:
            record.exc_text = scrub(record.exc_text, known=self.known)
        if record.stack_info:
            record.stack_info = scrub(record.stack_info, known=self.known)
        return True


def _logger(name: str) -> logging.Logger:
    """govpost's logger ``name``, with a :class:`ScrubbingFilter` (attached once)."""
    logger = logging.getLogger(name)
    if not any(isinstance(f, ScrubbingFilter) for f in logger.filters):
        logger.addFilter(ScrubbingFilter())
    return logger
