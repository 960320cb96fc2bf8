"""Every tutorial (and the security page) runs as written and prints what it shows.

Each ``python`` block of a page runs in one namespace, in order; when a ``text`` block follows,
it is what the page promises the code prints, and the test compares it line by line.
"""

from __future__ import annotations

import contextlib
import io
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
TUTORIALS = sorted((ROOT / "docs" / "tutorial").glob("*.md"))
#: Pages outside the tutorials whose code is held to the same promise.
PAGES = [
    *TUTORIALS,
    ROOT / "docs" / "security.md",
    ROOT / "docs" / "applications.md",
    ROOT / "docs" / "howto" / "property-tests.md",
    ROOT / "docs" / "howto" / "door-pickup.md",
    ROOT / "docs" / "howto" / "stationed-staff.md",
    ROOT / "docs" / "howto" / "government-agent.md",
    ROOT / "docs" / "howto" / "agency-services.md",
    ROOT / "docs" / "howto" / "rotate-keys.md",
    ROOT / "docs" / "howto" / "upgrade-schema.md",
    ROOT / "docs" / "concepts.md",
    # The Chinese pages (中文文档).
    ROOT / "docs" / "zh" / "quickstart.md",
    ROOT / "docs" / "zh" / "concepts.md",
    ROOT / "docs" / "zh" / "settle-a-month.md",
]


def blocks(page: Path) -> list[tuple[str, str]]:
    text = page.read_text(encoding="utf-8")
    return [(m[1], m[2]) for m in re.finditer(r"```(python|text)\n(.*?)```", text, re.S)]


@pytest.mark.parametrize("page", PAGES, ids=[p.stem for p in PAGES])
def test_tutorial_blocks_run_and_print_what_the_page_shows(
    page: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(ROOT)
    namespace: dict[str, object] = {}
    found = blocks(page)
    assert sum(kind == "python" for kind, _ in found) >= 4
    compared = 0
    for index, (kind, code) in enumerate(found):
        if kind != "python":
            continue
        out = io.StringIO()
        with contextlib.redirect_stdout(out):
            exec(compile(code, f"{page.name} block {index}", "exec"), namespace)
        if index + 1 < len(found) and found[index + 1][0] == "text":
            shown = [line.rstrip() for line in found[index + 1][1].strip().splitlines()]
            printed = [line.rstrip() for line in out.getvalue().strip().splitlines()]
            assert printed == shown, f"block {index} prints something else than the page shows"
            compared += 1
    assert compared >= 4


def test_every_tutorial_is_in_the_index() -> None:
    index = (ROOT / "docs" / "index.md").read_text(encoding="utf-8")
    for page in TUTORIALS:
        assert f"tutorial/{page.stem}" in index
