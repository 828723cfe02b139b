"""The project's modules import one another one way only: no import cycle.

The import graph is built from the source with `ast` (every `import` and `from ... import`,
at module level or inside functions, except under `if TYPE_CHECKING:`), over the apps and the
project package; migrations are left out. A cycle is reported as the path that closes it.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest
from django.conf import settings

ROOT = Path(settings.BASE_DIR)
PACKAGES = ("accounts", "audit", "nodes", "runs", "wfaib", "workflows")


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def project_modules() -> dict[str, Path]:
    found = {}
    for package in PACKAGES:
        for path in (ROOT / package).rglob("*.py"):
            if "migrations" not in path.parts:
                found[_module_name(path)] = path
    return found


def _is_type_checking(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING")


def _imports(tree: ast.AST):
    """Import statements anywhere in `tree`, skipping `if TYPE_CHECKING:` bodies."""
    for node in ast.iter_child_nodes(tree):
        if isinstance(node, ast.If) and _is_type_checking(node):
            yield from (i for child in node.orelse for i in _imports_in(child))
            continue
        yield from _imports_in(node)


def _imports_in(node: ast.AST):
    if isinstance(node, (ast.Import, ast.ImportFrom)):
        yield node
    else:
        yield from _imports(node)


def _targets(module: str, path: Path, node: ast.Import | ast.ImportFrom,
             modules: dict[str, Path]) -> set[str]:
    if isinstance(node, ast.Import):
        return {alias.name for alias in node.names}
    base = node.module or ""
    if node.level:
        package = module.split(".") if path.name == "__init__.py" else module.split(".")[:-1]
        package = package[:len(package) - (node.level - 1)]
        base = ".".join([*package, base] if base else package)
    # `from pkg import sub` imports the submodule pkg.sub; `from mod import name` imports mod.
    return {f"{base}.{a.name}" if f"{base}.{a.name}" in modules else base for a in node.names}


def import_graph() -> dict[str, set[str]]:
    modules = project_modules()
    graph: dict[str, set[str]] = {}
    for module, path in modules.items():
        tree = ast.parse(path.read_text(), filename=str(path))
        edges = set()
        for node in _imports(tree):
            for target in _targets(module, path, node, modules):
                # The deepest project module the name refers to (a.b.C -> a.b).
                while target and target not in modules:
                    target = target.rpartition(".")[0]
                if target and target != module:
                    edges.add(target)
        graph[module] = edges
    return graph


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """A cycle as a path [a, b, ..., a], or None (iterative depth-first search)."""
    state: dict[str, int] = {}  # 1 on the current path, 2 done
    for start in sorted(graph):
        if state.get(start):
            continue
        path, stack = [start], [iter(sorted(graph[start]))]
        state[start] = 1
        while stack:
            nxt = next(stack[-1], None)
            if nxt is None:
                state[path.pop()] = 2
                stack.pop()
            elif state.get(nxt) == 1:
                return [*path[path.index(nxt):], nxt]
            elif not state.get(nxt):
                state[nxt] = 1
                path.append(nxt)
                stack.append(iter(sorted(graph.get(nxt, ()))))
    return None


def test_the_project_has_no_import_cycle():
    cycle = find_cycle(import_graph())
    assert cycle is None, "import cycle: " + " -> ".join(cycle or [])


@pytest.mark.parametrize(("edges", "cycle"), [
    ({"a": {"b"}, "b": {"c"}, "c": set()}, None),
    ({"a": {"b"}, "b": {"c"}, "c": {"a"}}, ["a", "b", "c", "a"]),
    ({"a": {"a2"}, "a2": set(), "b": {"c"}, "c": {"b"}}, ["b", "c", "b"]),
])
def test_the_cycle_finder_finds_cycles(edges, cycle):
    assert find_cycle(edges) == cycle


def test_the_graph_sees_imports_inside_functions_but_not_type_checking_blocks(tmp_path):
    tree = ast.parse(
        "from typing import TYPE_CHECKING\n"
        "if TYPE_CHECKING:\n    from runs.models import Run\n"
        "def f():\n    from runs import services\n")
    names = {n.module for n in _imports(tree)}
    assert names == {"typing", "runs"}


def test_the_engine_and_dispatch_never_import_services():
    graph = import_graph()
    below_services = [m for m in graph if m.startswith("runs.engine") or m in (
        "runs.dispatch", "runs.heartbeat")]
    for module in below_services:
        assert "runs.services" not in graph[module], module
        assert "runs.tasks" not in graph[module], module


# Modules whose imports are all at module level (a function-level import hides a dependency,
# typically one that would close a cycle). AppConfig.ready() is Django's place for imports
# that need the app registry; it is not in this list.
MODULE_LEVEL_ONLY = (
    "runs.dispatch", "runs.services", "runs.tasks", "runs.recovery", "runs.scheduler",
    "runs.heartbeat", "runs.resume", "runs.management.commands.run_workflow",
    "runs.engine.executor", "runs.engine.journal", "runs.engine.state", "runs.engine.attempts",
    "runs.engine.loops", "runs.engine.waits", "runs.engine.hooks", "runs.engine.policies",
    "workflows.graph", "wfaib.health", "wfaib.conf",
)


@pytest.mark.parametrize("module", MODULE_LEVEL_ONLY)
def test_no_function_level_imports(module):
    path = project_modules()[module]
    tree = ast.parse(path.read_text())
    top = {id(n) for n in tree.body if isinstance(n, (ast.Import, ast.ImportFrom))}
    top |= {id(i) for n in tree.body if isinstance(n, ast.If) for i in n.body
            if isinstance(i, (ast.Import, ast.ImportFrom))}
    inner = [f"line {n.lineno}" for n in ast.walk(tree)
             if isinstance(n, (ast.Import, ast.ImportFrom)) and id(n) not in top]
    assert not inner, f"{module}: imports inside functions at {', '.join(inner)}"
