"""The ``govpost`` command: settle, reconcile, report, track, validate, and the store's schema.

Installed as the console script ``govpost`` and runnable as ``python -m govpost``; built on
click. Every subcommand has a complete ``--help`` with examples::

    govpost validate KIND VALUE                      # waybill, id, uscc, division, mobile
    govpost track WAYBILL [--carrier NAME] [--config KEY=VALUE ...] [--from-store]
    govpost db upgrade [--db URL] [--to VERSION]
    govpost db version [--db URL]
    govpost settle --agreement ID --period 2018-06 [--save/--no-save] [--supersede]
    govpost reconcile --bill FILE.csv --period 2018-06 [--agreement ID]
    govpost report --period 2018 [--json | --csv [--encoding utf-8-sig|gbk]] [--chart out.png]

Commands that use the store take ``--db URL`` (default: the environment variable
``GOVPOST_DB``, else ``sqlite:///govpost.db``) and ``--keys`` (default: ``GOVPOST_STORE_KEYS``)
for the personal data it keeps encrypted. ``--json`` prints exactly one JSON document on
stdout. Progress is drawn on stderr only when it is a terminal, never with ``--json``.

Errors are one line on stderr, naming the bad value and how to fix it; ``govpost --debug``
(or ``GOVPOST_DEBUG=1``) prints the traceback first. The exit status (:class:`ExitCode`):

====  =========================================================================================
0     ok
1     a finding: reconciliation discrepancies, a saved statement that differs, a store or a
      carrier that refused (a carrier's error shows its code)
2     bad input: a bad option or value, an unreadable or malformed file, an unknown agreement
      or carrier
70    internal error: a bug in govpost (``EX_SOFTWARE``); run with ``--debug`` and report it
130   interrupted (Ctrl-C)
141   the output was closed before everything was written (``govpost ... | head``)
====  =========================================================================================

From Python, :data:`main` is the click group; click's test runner drives it as a shell
would::

    >>> from click.testing import CliRunner
    >>> result = CliRunner().invoke(main, ["validate", "division", "520100"])
    >>> result.exit_code, result.stdout
    (0, '520100  贵阳市, city level, in 贵州省\\n')
    >>> result = CliRunner().invoke(main, ["validate", "mobile", "12345"])
    >>> result.exit_code
    2
    >>> print(result.stderr, end="")
    govpost validate: error: mobile number ***** is not a mainland China mobile number: ...

.. versionadded:: 0.2.0
"""

from __future__ import annotations

from govpost.cli._app import main
from govpost.cli._shared import ExitCode

__all__ = ["ExitCode", "main"]
