"""The package layers: imports only go down (see docs/architecture.md), and no module circles."""

from __future__ import annotations

import grimp
from importlinter.cli import lint_imports


def test_imports_only_go_down_the_layers() -> None:
    assert lint_imports(no_cache=True) == 0, "an import runs up the layers: see the output above"


def _circles(graph: grimp.ImportGraph) -> list[list[str]]:
    """Groups of modules that import each other, directly or round a loop (Tarjan's algorithm)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(module: str) -> None:
        index[module] = low[module] = len(index)
        stack.append(module)
        on_stack.add(module)
        for imported in graph.find_modules_directly_imported_by(module):
            if imported not in index:
                visit(imported)
                low[module] = min(low[module], low[imported])
            elif imported in on_stack:
                low[module] = min(low[module], index[imported])
        if low[module] == index[module]:
            group = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                group.append(member)
                if member == module:
                    break
            if len(group) > 1:
                found.append(sorted(group))

    for module in sorted(graph.modules):
        if module not in index:
            visit(module)
    return found


def test_no_module_imports_itself_round_a_circle() -> None:
    # A back-reference imported for type hints only (``if TYPE_CHECKING:``) runs no import.
    graph = grimp.build_graph("chatserver", cache_dir=None, exclude_type_checking_imports=True)
    # A package's __init__ importing its own modules is no circle between the parts.
    for package in [m for m in graph.modules if graph.find_children(m)]:
        for child in graph.find_children(package):
            if graph.direct_import_exists(importer=package, imported=child):
                graph.remove_import(importer=package, imported=child)
    assert _circles(graph) == []
