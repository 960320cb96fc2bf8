"""``import govpost`` stays light and its table of contents is complete."""

from __future__ import annotations

import subprocess
import sys

import pytest

import govpost


def test_import_does_not_load_heavy_dependencies() -> None:
    code = (
        "import sys, govpost; "
        "heavy = {'requests', 'sqlalchemy', 'cryptography', 'phonenumbers', 'chinese_calendar', "
        "'cattrs', 'stdnum'}; "
        "print(sorted(m for m in heavy if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_all_is_sorted_and_every_name_resolves() -> None:
    assert govpost.__all__ == sorted(govpost.__all__)
    for name in govpost.__all__:
        assert getattr(govpost, name) is not None, name


def test_version_is_the_package_version() -> None:
    from importlib.metadata import version

    assert govpost.__version__ == version("govpost") == "0.1.0"


def test_unknown_attribute_is_an_attribute_error() -> None:
    with pytest.raises(AttributeError, match="no_such_name"):
        govpost.no_such_name  # type: ignore[attr-defined]  # noqa: B018
