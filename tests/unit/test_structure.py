"""The shape of okenv/: no import cycle, no oversized module or function.

Both are read from the source with :mod:`ast` (nothing is imported), so a function-level or
``TYPE_CHECKING`` import counts like any other: a cycle hidden in a function body is still a
cycle in the design.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[2] / "okenv"
MAX_MODULE_LINES = 450
MAX_FUNCTION_LINES = 60

# Known offenders (none now); an entry that no longer exceeds its limit fails the test below.
# Each is "module" or "module:function".
ALLOWED: frozenset[str] = frozenset()


def _module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _modules() -> dict[str, Path]:
    return {_module_name(path): path for path in sorted(PACKAGE.rglob("*.py"))}


def _imported(name: str, path: Path, known: set[str]) -> Iterator[str]:
    """Every okenv module ``name`` imports, anywhere in its body (and the packages above
    each: importing ``okenv.okta.idx`` runs ``okenv.okta`` first)."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        targets: list[str] = []
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.rsplit(".", node.level - 1)[0] if node.level > 1 else package
                base = f"{anchor}.{base}" if base else anchor
            targets = [base, *(f"{base}.{alias.name}" for alias in node.names)]
        for target in targets:
            while target:
                if target in known and target != name:
                    yield target
                target = target.rpartition(".")[0]


def _graph() -> dict[str, set[str]]:
    modules = _modules()
    known = set(modules)
    return {name: set(_imported(name, path, known)) for name, path in modules.items()}


def _cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One import cycle (as a path that returns to its start), or None."""
    state: dict[str, int] = {}  # 1 = on the current path, 2 = done
    path: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        path.append(node)
        for nxt in sorted(graph[node]):
            if state.get(nxt) == 1:
                return [*path[path.index(nxt) :], nxt]
            if nxt not in state and (found := visit(nxt)) is not None:
                return found
        path.pop()
        state[node] = 2
        return None

    for start in sorted(graph):
        if start not in state and (found := visit(start)) is not None:
            return found
    return None


def test_no_import_cycle() -> None:
    cycle = _cycle(_graph())
    assert cycle is None, " -> ".join(cycle or [])


def test_the_cycle_finder_finds_cycles() -> None:
    """The walker above would pass on an empty graph: show it sees a function-level cycle."""
    assert _cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert _cycle({"a": {"b"}, "b": set()}) is None
    graph = _graph()
    assert "okenv.okta" in graph["okenv.okta.idx"] or graph["okenv.okta.idx"] >= {"okenv.okta"}


def _sizes() -> Iterator[tuple[str, int, int]]:
    """(what, lines, limit) for every module and function in okenv/."""
    for name, path in _modules().items():
        source = path.read_text()
        yield name, len(source.splitlines()), MAX_MODULE_LINES
        for node in ast.walk(ast.parse(source, str(path))):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                first = min([node.lineno, *(d.lineno for d in node.decorator_list)])
                lines = (node.end_lineno or node.lineno) - first + 1
                yield f"{name}:{node.name}", lines, MAX_FUNCTION_LINES


@pytest.mark.parametrize("kind", ["module", "function"])
def test_nothing_is_oversized(kind: str) -> None:
    over = [
        f"{what} ({lines} lines > {limit})"
        for what, lines, limit in _sizes()
        if lines > limit
        and (":" in what) == (kind == "function")
        and what not in ALLOWED
        and what.split(":")[0] not in ALLOWED
    ]
    assert not over, over


def test_the_allow_list_is_not_stale() -> None:
    """An entry that no longer exceeds its limit must be removed from ALLOWED."""
    oversized = {what for what, lines, limit in _sizes() if lines > limit}
    modules = {what.split(":")[0] for what in oversized}
    stale = {entry for entry in ALLOWED if entry not in oversized and entry not in modules}
    assert not stale, stale
