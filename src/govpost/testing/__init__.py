"""Test kit for carrier integrations and for property tests of code built on govpost.

Shipped for govpost's own tests and for agencies' and integrators' tests:

- :class:`FakeEmsServer`: a real HTTP server on ``127.0.0.1`` speaking the EMS open-platform
  protocol, with switchable :class:`Fault` s (timeouts before and after processing, 5xx, 429,
  connection resets, trickled, oversized and malformed answers, ``retCode`` errors,
  duplicate-order answers by code or by wording only, slow answers, dropped connections);
- :func:`carrier_contract`: the checks every carrier adapter must pass;
- :func:`sample_booking_request` and :func:`push_body`: realistic inputs;
- :mod:`govpost.testing.strategies`: a Hypothesis strategy for every govpost model, imported on
  its own (``from govpost.testing import strategies as gps``) because it needs Hypothesis
  (``pip install 'govpost[testing]'``); ``import govpost.testing`` does not import Hypothesis.

A test books through the real adapter against the fake server::

    >>> from govpost.carriers import load
    >>> with FakeEmsServer() as server:
    ...     with load("ems", **server.carrier_config()) as ems:
    ...         booking = ems.book(sample_booking_request("GZ-1"))
    ...     server.booked_order_ids
    ['GZ-1']

The fake server and the contract need ``cryptography`` for the EMS envelope, and the adapters
they test need ``requests``: install ``govpost[ems]``.

.. versionadded:: 0.1.0
.. versionchanged:: 0.2.0
   A package (the fake server, the contract and the samples each in a module of their own;
   every name importable from ``govpost.testing`` as before); :data:`PushSource` exported;
   :mod:`govpost.testing.strategies` added.
"""

from govpost.testing._contract import PushSource, carrier_contract
from govpost.testing._fake_ems import WORDING_ONLY_CODE, FakeEmsServer, Fault
from govpost.testing._samples import DEFAULT_SIGN_KEY, push_body, sample_booking_request

__all__ = [
    "DEFAULT_SIGN_KEY",
    "WORDING_ONLY_CODE",
    "FakeEmsServer",
    "Fault",
    "PushSource",
    "carrier_contract",
    "push_body",
    "sample_booking_request",
]
