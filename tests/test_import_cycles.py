"""The engine's modules import each other without a cycle (read from the source, so an import
under TYPE_CHECKING or inside a function counts too): each part can be read, tested and
replaced on its own, and the event owner and the clip pipeline meet only through
alerts/ports.py."""

from __future__ import annotations

import ast
from pathlib import Path

ENGINE = Path(__file__).resolve().parent.parent / "homesec_engine"


def _modules() -> dict[str, Path]:
    out = {}
    for path in ENGINE.rglob("*.py"):
        parts = list(path.relative_to(ENGINE.parent).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts = parts[:-1]
        out[".".join(parts)] = path
    return out


def import_graph() -> dict[str, set[str]]:
    """Module -> the engine modules it imports. A submodule's import of its own package
    (`from . import X` in a package's module) is left out: Python has always loaded the
    package before its submodule, so that edge cannot make an import fail."""
    modules = _modules()
    graph: dict[str, set[str]] = {}
    for name, path in modules.items():
        package = name.split(".") if path.name == "__init__.py" else name.split(".")[:-1]
        found: set[str] = set()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom):
                if node.level:
                    base = package[: len(package) - node.level + 1]
                    target = ".".join(base + ([node.module] if node.module else []))
                else:
                    target = node.module or ""
                for alias in node.names:
                    full = f"{target}.{alias.name}"
                    found.add(full if full in modules else target)
            elif isinstance(node, ast.Import):
                found.update(a.name for a in node.names)
        graph[name] = {m for m in found if m in modules and m != name
                       and not name.startswith(m + ".")}
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Groups of modules that reach each other (strongly connected, more than one)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    groups: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for nxt in sorted(graph[node]):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            group = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                group.append(member)
                if member == node:
                    break
            if len(group) > 1:
                groups.append(sorted(group))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return groups


def test_the_engine_has_no_import_cycle() -> None:
    # Given every import statement of the engine's modules
    graph = import_graph()
    # When the modules that reach each other through them are sought
    found = cycles(graph)
    # Then there are none
    assert not found, found


def test_a_cycle_would_be_found() -> None:
    # Given the two modules that once imported each other, as they did
    graph = {"homesec_engine.pipeline": {"homesec_engine.live.events"},
             "homesec_engine.live.events": {"homesec_engine.pipeline"},
             "homesec_engine.records": set()}
    # When cycles are sought / Then that one is named
    assert cycles(graph) == [["homesec_engine.live.events", "homesec_engine.pipeline"]]
    # And the real graph does see the event owner's imports
    assert "homesec_engine.alerts.event" in import_graph()["homesec_engine.alerts.owner"]
