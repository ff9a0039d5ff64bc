"""Package structure: no import cycles inside bus, complete ``__all__`` in the package faces,
and the contracts importable without any transport (no ``redis`` module loaded)."""

from __future__ import annotations

import ast
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def internal_imports(package: str) -> dict[str, set[str]]:
    """Modules of ``package`` each module imports (anywhere: top level, functions, TYPE_CHECKING)."""
    graph: dict[str, set[str]] = {}
    for path in sorted((ROOT / package).glob("*.py")):
        name = package if path.stem == "__init__" else f"{package}.{path.stem}"
        targets: set[str] = set()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                if node.module == package or node.module.startswith(f"{package}."):
                    targets.add(node.module)
            elif isinstance(node, ast.Import):
                targets.update(a.name for a in node.names if a.name.startswith(f"{package}."))
        graph[name] = targets - {name}
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Every cycle found by depth-first search (each reported once per entry point)."""
    found: list[list[str]] = []
    state: dict[str, int] = {}

    def visit(node: str, path: list[str]) -> None:
        state[node] = 1
        for target in sorted(graph.get(node, ())):
            if state.get(target) == 1:
                found.append([*path[path.index(target) :], target])
            elif target not in state:
                visit(target, [*path, target])
        state[node] = 2

    for node in sorted(graph):
        if node not in state:
            visit(node, [node])
    return found


@pytest.mark.parametrize("package", ["bus", "prompts"])
def test_no_import_cycles(package: str) -> None:
    graph = internal_imports(package)
    assert len(graph) > 3
    assert cycles(graph) == []


def test_cycle_finder_finds_a_cycle() -> None:
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == [["a", "b", "c", "a"]]


def public_bindings(package: str) -> tuple[set[str], list[str]]:
    """Public names bound in ``package/__init__.py`` and its ``__all__`` (read, not imported)."""
    tree = ast.parse((ROOT / package / "__init__.py").read_text(encoding="utf-8"))
    bound: set[str] = set()
    declared: list[str] = []
    top = [*tree.body, *(n for s in tree.body if isinstance(s, ast.If) for n in s.body)]
    for node in top:
        if isinstance(node, ast.ImportFrom) and node.module not in ("typing", "__future__"):
            bound.update(a.asname or a.name for a in node.names)
        elif isinstance(node, ast.FunctionDef | ast.ClassDef):
            bound.add(node.name)
        elif isinstance(node, ast.Assign):
            for target in node.targets:
                if isinstance(target, ast.Name) and target.id == "__all__":
                    declared = list(ast.literal_eval(node.value))
                elif isinstance(target, ast.Name):
                    bound.add(target.id)
    return {n for n in bound if not n.startswith("_")}, declared


@pytest.mark.parametrize("package", ["bus", "prompts", "memory", "learning"])
def test_package_all_is_complete(package: str) -> None:
    bound, declared = public_bindings(package)
    assert declared, f"{package}/__init__.py has no __all__"
    assert len(declared) == len(set(declared)), "duplicates in __all__"
    assert sorted(bound - set(declared)) == [], "public but not in __all__"
    assert sorted(set(declared) - bound) == [], "in __all__ but not bound"


def test_every_bus_name_resolves_including_the_lazy_transport() -> None:
    import bus

    for name in bus.__all__:
        assert getattr(bus, name) is not None, name
    from bus import RedisBus, RedisKeys, RedisStreamJournal  # the lazy names, the old way

    assert {RedisBus.__name__, RedisKeys.__name__, RedisStreamJournal.__name__} == {
        "RedisBus",
        "RedisKeys",
        "RedisStreamJournal",
    }
    with pytest.raises(AttributeError, match="no attribute 'Nope'"):
        bus.Nope  # noqa: B018 - the attribute access is the test


@pytest.mark.parametrize(
    "code",
    [
        "import bus, sys; assert not any(m.startswith('redis') for m in sys.modules)",
        "from bus import MarketSnapshot, decode_entry, InProcBus, JsonlJournal; import sys; "
        "assert not any(m.startswith('redis') for m in sys.modules)",
        "import prompts, sys; assert not any(m.startswith('redis') for m in sys.modules)",
        "from bus import RedisBus; import sys; assert 'redis.asyncio' in sys.modules",
    ],
)
def test_contracts_import_without_any_transport(code: str) -> None:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr
