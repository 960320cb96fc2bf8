"""One scrubber for personal data in text: every repr, error message and log line uses it.

:func:`scrub` masks the personal numbers it can recognise in free text — mainland mobile
numbers and resident ID numbers — with the masks of :mod:`govpost.identifiers`::

    >>> scrub("call 13985212345 about 520102199003071236")
    'call 139****2345 about 520102********1236'

.. versionadded:: 0.2.0
"""

from __future__ import annotations

import re

from govpost.identifiers import mask_id_number, mask_mobile

__all__ = ["scrub"]

#: Personal numbers in free text, found in one pass: an 18-character resident ID number
#: (GB 11643), or a mainland mobile number.
_PERSONAL = re.compile(
    r"(?P<id>(?<![0-9A-Za-z])\d{17}[\dXx](?![0-9A-Za-z]))|(?P<mobile>(?<!\d)1\d{10}(?!\d))"
)


def _mask(match: re.Match[str]) -> str:
    number = match.group()
    return mask_id_number(number) if match.group("id") else mask_mobile(number)


def scrub(text: object) -> str:
    """``str(text)`` with the personal numbers in it masked.

    .. versionadded:: 0.2.0
    """
    return _PERSONAL.sub(_mask, str(text))
