"""``import govpost`` stays light and its table of contents is complete."""

from __future__ import annotations

import importlib
import inspect
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

    assert govpost.__version__ == version("govpost") == "0.2.0.dev0"


def test_unknown_attribute_is_an_attribute_error() -> None:
    with pytest.raises(AttributeError, match="no_such_name"):
        govpost.no_such_name  # type: ignore[attr-defined]  # noqa: B018


FOUNDATION = [
    "money",
    "identifiers",
    "privacy",
    "regions",
    "calendar",
    "periods",
    "centers",
    "timelimits",
    "serialization",
    "errors",
]


@pytest.mark.parametrize("module_name", FOUNDATION)
def test_every_public_object_says_when_it_was_added(module_name: str) -> None:
    """Every class and function a foundation module exports is documented with versionadded."""
    module = importlib.import_module(f"govpost.{module_name}")
    undocumented = [
        name
        for name in module.__all__
        if (inspect.isclass(obj := getattr(module, name)) or inspect.isfunction(obj))
        and ".. versionadded::" not in (inspect.getdoc(obj) or "")
    ]
    assert [] == undocumented
