"""The layers of ARCHITECTURE.md hold: data flows down, and no module imports itself in a loop.

Every import of a govpost module inside govpost is read from the source (module level, inside
functions and under ``TYPE_CHECKING`` alike) and checked against the layer of both ends.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

import govpost

SOURCE = Path(govpost.__file__).parent

# Lowest first; a module may import its own layer and the layers below, never one above.
LAYERS: list[tuple[str, ...]] = [
    (
        "govpost.errors",  # the root of errors; it shows a bad value through _fields, lazily
        "govpost._limits",
        "govpost.money",
        "govpost.identifiers",
        "govpost.regions",
        "govpost.privacy",
        "govpost._fields",
        "govpost.calendar",
        "govpost.periods",
        "govpost._convert",
        "govpost.serialization",
    ),
    ("govpost.centers",),
    ("govpost.shipments", "govpost.timelimits"),
    ("govpost.tariffs", "govpost.ratecards", "govpost.agreements"),
    ("govpost.applications",),
    ("govpost.settlement",),
    ("govpost.modes",),
    ("govpost.carriers",),
    ("govpost.store",),
    ("govpost.service",),
    ("govpost.reports",),
    ("govpost.cli", "govpost.__main__"),
    ("govpost.testing",),
]


def module_name(path: Path) -> str:
    parts = path.relative_to(SOURCE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def layer(name: str) -> int:
    for rank, members in enumerate(LAYERS):
        if any(name == m or name.startswith(m + ".") for m in members):
            return rank
    raise AssertionError(f"{name} has no layer: add it to LAYERS in {__file__}")


def imports(path: Path) -> Iterator[tuple[str, bool]]:
    """Every govpost module ``path`` imports, and whether the import runs at import time."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    top = {id(node) for node in tree.body if isinstance(node, ast.Import | ast.ImportFrom)}
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            # "from govpost.settlement import _engine" imports a module, not a name
            names = [node.module] + [f"{node.module}.{alias.name}" for alias in node.names]
        else:
            continue
        for name in names:
            if is_module(name):
                yield name, id(node) in top


def is_module(name: str) -> bool:
    if name.split(".")[0] != "govpost":
        return False
    path = SOURCE.parent / name.replace(".", "/")
    return path.with_suffix(".py").exists() or (path / "__init__.py").exists()


MODULES = {module_name(p): p for p in sorted(SOURCE.rglob("*.py"))}


@pytest.mark.parametrize("name", sorted(n for n in MODULES if n != "govpost"))
def test_no_module_imports_a_layer_above_its_own(name: str) -> None:
    """A module imports only its own layer and those below (the package's table of contents,
    ``govpost/__init__``, names everything lazily and is exempt)."""
    upward = sorted(
        target
        for target, _ in imports(MODULES[name])
        if target != "govpost" and layer(target) > layer(name)
    )
    assert [] == upward


def test_no_import_cycles_at_import_time() -> None:
    """No chain of module-level imports leads from a module back to itself."""
    graph = {
        name: sorted({t for t, at_top in imports(path) if at_top and t in MODULES and t != name})
        for name, path in MODULES.items()
    }
    cycles: list[list[str]] = []
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(node: str) -> None:
        state[node] = 1
        stack.append(node)
        for nxt in graph[node]:
            # importing a submodule runs its package's __init__ first
            if state.get(nxt) == 1 and not node.startswith(nxt + "."):
                cycles.append([*stack[stack.index(nxt) :], nxt])
            elif nxt not in state:
                visit(nxt)
        stack.pop()
        state[node] = 2

    for name in graph:
        if name not in state:
            visit(name)
    assert [] == cycles
