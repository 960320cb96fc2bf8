"""Every example script, and the README's quickstart, runs as written."""

from __future__ import annotations

import importlib.util
import re
import runpy
import sys
from pathlib import Path

import pytest

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
