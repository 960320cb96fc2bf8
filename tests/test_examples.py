"""Every example script, and the README's quickstart, runs as written."""

from __future__ import annotations

import ast
import doctest
import importlib
import importlib.util
import pkgutil
import re
import runpy
import sys
from pathlib import Path

import pytest

import govpost

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = sorted((ROOT / "examples").glob("*.py"))


@pytest.mark.parametrize("path", EXAMPLES, ids=[p.stem for p in EXAMPLES])
def test_example_main_runs(path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    spec = importlib.util.spec_from_file_location(f"example_{path.stem}", path)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    try:
        spec.loader.exec_module(module)
        module.main()
    finally:
        sys.modules.pop(spec.name, None)
    assert capsys.readouterr().out.strip(), f"{path.name} printed nothing"


def _readme_quickstart() -> str:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    section = text.split("<!-- quickstart-start -->")[1].split("<!-- quickstart-end -->")[0]
    match = re.search(r"```python\n(.*?)```", section, re.S)
    assert match is not None
    return match.group(1)


def test_readme_quickstart_runs_and_prints_what_its_comments_say(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = _readme_quickstart()
    assert len(code.strip().splitlines()) <= 20
    script = tmp_path / "quickstart.py"
    script.write_text(code, encoding="utf-8")
    runpy.run_path(str(script), run_name="__main__")
    printed = capsys.readouterr().out.splitlines()
    promised = [
        line.split("  # ", 1)[1].split("  (")[0]
        for line in code.splitlines()
        if line.startswith("print(") and "  # " in line and "exact" not in line
    ]
    shown = iter(printed)
    for expected in promised:
        assert any(expected == got.strip() for got in shown), f"README promises {expected!r}"


DOCS = ROOT / "docs"


def test_docs_quickstart_sessions_show_what_govpost_prints() -> None:
    """The ``pycon`` sessions of docs/quickstart.md are doctests: errors read as shown."""
    text = (DOCS / "quickstart.md").read_text(encoding="utf-8")
    sessions = re.findall(r"```pycon\n(.*?)```", text, re.S)
    assert sessions
    runner = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS)
    for index, session in enumerate(sessions):
        test = doctest.DocTestParser().get_doctest(session, {}, f"session {index}", None, 0)
        runner.run(test)
    assert 0 == runner.summarize(verbose=False).failed


def _public_modules() -> list[str]:
    package = importlib.import_module("govpost")
    found = ["govpost"]
    for info in pkgutil.walk_packages(package.__path__, "govpost."):
        if not any(part.startswith("_") for part in info.name.split(".")):
            found.append(info.name)
    return found


def _api_reference() -> str:
    """The API reference: docs/api.md and its pages, one per module, under docs/api/."""
    pages = [DOCS / "api.md", *sorted((DOCS / "api").glob("*.md"))]
    return "\n".join(page.read_text(encoding="utf-8") for page in pages)


def test_api_reference_covers_every_public_module() -> None:
    """A module is in the API reference, or everything it exports is re-exported by its package."""
    api = _api_reference()
    documented = set(re.findall(r"^\.\. automodule:: (\S+)$", api, re.M))
    missing = []
    for name in _public_modules():
        if name in documented:
            continue
        parent = importlib.import_module(name.rsplit(".", 1)[0])
        exported = getattr(importlib.import_module(name), "__all__", [])
        if not set(exported) <= set(getattr(parent, "__all__", [])):
            missing.append(name)
    assert [] == missing


def test_api_reference_values_are_the_real_values() -> None:
    """Constants written out by hand in the API reference (``:value:``) match the code."""
    api = _api_reference()
    pattern = r"^\.\. automodule:: (\S+)$|^\.\. py:data:: (\w+)\n(?:   :module: (\S+)\n)?(?:   :type: .*\n)?(?:   :value: (.*)\n)?"
    module, checked = "", 0
    for match in re.finditer(pattern, api, re.M):
        if match[1]:
            module = match[1]
            continue
        if match[4] is None:
            continue
        owner = importlib.import_module(match[3] or module)
        assert ast.literal_eval(match[4]) == getattr(owner, match[2]), match[2]
        checked += 1
    assert checked >= 4


def test_glossary_names_are_real_govpost_names() -> None:
    """Every name in the README glossary's last column resolves from ``govpost``."""
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    table = text.split("<!-- glossary-start -->")[1].split("<!-- glossary-end -->")[0]
    unresolved, checked = [], 0
    for row in table.strip().splitlines()[2:]:
        owner: object = None
        for name in re.findall(r"`([^`]+)`", row.rstrip(" |").rsplit("|", 1)[1]):
            parts = name.split(".")
            target: object = govpost if hasattr(govpost, parts[0]) else owner
            for part in parts:
                target = getattr(target, part, None)
            if target is None:
                unresolved.append(name)
            elif len(parts) > 1:
                owner = getattr(govpost, parts[0])
            checked += 1
    assert [] == unresolved
    assert checked >= 25
