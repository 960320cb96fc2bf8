"""The govpost exception hierarchy.

Every error raised by govpost's public API derives from :class:`GovpostError`, and every leaf
also derives from the builtin it behaves like, so ``except ValueError`` keeps working for code
that does not know govpost::

    >>> from govpost.errors import ValidationError
    >>> issubclass(ValidationError, ValueError)
    True

Messages are public API: each says what was wrong, shows the offending value (masked when it is
personal data) and says how to fix it. Exceptions of the libraries govpost builds on (``decimal``,
``cattrs``, ``requests``, ``sqlalchemy``) are translated at the boundary with ``raise ... from``.

.. versionadded:: 0.1.0
"""

from __future__ import annotations

from typing import Any

__all__ = [
    "BudgetExceededError",
    "CalendarCoverageError",
    "CarrierError",
    "CurrencyMismatchError",
    "DeserializationError",
    "GovpostError",
    "InvalidTrackingNumberError",
    "InvalidTransitionError",
    "SettlementError",
    "StoreError",
    "UnknownCarrierError",
    "ValidationError",
    "WebhookVerificationError",
]


class GovpostError(Exception):
    """Root of every error govpost raises on purpose.

    .. versionadded:: 0.1.0
    """


class ValidationError(GovpostError, ValueError):
    """A value given to govpost is malformed or out of range.

    .. versionadded:: 0.1.0
    """


class CurrencyMismatchError(ValidationError):
    """Two amounts in different currencies were combined.

    .. versionadded:: 0.1.0
    """


class InvalidTrackingNumberError(ValidationError):
    """A tracking (waybill) number is not a valid UPU S10 or domestic EMS number.

    .. versionadded:: 0.1.0
    """


class CalendarCoverageError(GovpostError, LookupError):
    """The working-day calendar has no official schedule for the requested year.

    .. versionadded:: 0.1.0
    """


class InvalidTransitionError(GovpostError, ValueError):
    """A shipment status change that the transition table does not allow.

    .. versionadded:: 0.1.0
    """


class SettlementError(GovpostError):
    """Settlement could not be computed as asked (wrong period, agreement, or input).

    .. versionadded:: 0.1.0
    """


class BudgetExceededError(SettlementError, ValueError):
    """Settling would take the cumulative amount past the annual budget (strict mode).

    .. versionadded:: 0.1.0
    """


class CarrierError(GovpostError):
    """The carrier refused or failed a request.

    Args:
        message: what happened, in words.
        code: the carrier's own error code, when it sent one.
        retryable: whether repeating the same request may succeed (timeouts, 5xx, 429).
        raw: the carrier's response as received, kept for support tickets.

    .. versionadded:: 0.1.0
    """

    def __init__(
        self,
        message: str,
        *,
        code: str | None = None,
        retryable: bool = False,
        raw: Any = None,
    ) -> None:
        super().__init__(message)
        self.code = code
        self.retryable = retryable
        self.raw = raw


class UnknownCarrierError(CarrierError, LookupError):
    """No carrier adapter is registered under that name, or its plug-in failed to import.

    .. versionadded:: 0.1.0
    """


class WebhookVerificationError(GovpostError, ValueError):
    """A pushed message failed verification (signature, key, timestamp window) and was refused.

    .. versionadded:: 0.1.0
    """


class DeserializationError(GovpostError, ValueError):
    """A wire document (JSON, CSV row, database row) does not describe a valid govpost value.

    The message names the path of each bad field, as in ``@ $.lines[3].amount``.

    .. versionadded:: 0.1.0
    """


class StoreError(GovpostError, OSError):
    """The store could not read or write; nothing was half-written.

    .. versionadded:: 0.1.0
    """


def _short(value: object, *, code: bool = False) -> str:
    """How an error message shows a bad value: :func:`govpost._fields.short`, loaded on first use.

    The one way to that helper for modules that ``import govpost`` loads (money) or that the
    scrubber itself imports (identifiers, regions, calendar): the scrubber and its tables load
    with the first error, not with ``import govpost``. ``code=True`` is for a value that should
    have been a code (a waybill, a division): every character without an ASCII form shows as
    ``*``.
    """
    from govpost._fields import short  # privacy (the scrubber) imports identifiers and regions

    return short(value, code=code)


def _short_code(value: object) -> str:
    """:func:`_short` of a value that should have been a code (``code=True``)."""
    return _short(value, code=True)
