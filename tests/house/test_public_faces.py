"""What users are shown uses only public names, every package names its face, no cycles."""

from __future__ import annotations

import ast
import importlib
import re
from pathlib import Path

import grimp
import pytest

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("heliarch", "sun", "planets", "moons", "bus", "memory", "learning", "prompts")
PRIVATE_IMPORT = re.compile(r"\bfrom\s+([a-z_][\w.]*)\s+import\b|\bimport\s+([a-z_][\w.]*)")
PRIVATE_ATTRIBUTE = re.compile(r"\b(?:" + "|".join(PACKAGES) + r")(?:\.\w+)*\._\w+")


def _readme_code() -> str:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    return "\n".join(re.findall(r"```(?:python|bash|sh|console)?\n(.*?)```", text, re.S))


def _shown_sources() -> list[tuple[str, str]]:
    shown = [("README.md", _readme_code())]
    shown += [
        (str(path.relative_to(ROOT)), path.read_text(encoding="utf-8"))
        for path in sorted((ROOT / "examples").rglob("*.py"))
    ]
    shown.append(("langgraph.json", (ROOT / "langgraph.json").read_text(encoding="utf-8")))
    return shown


def _private_uses(text: str) -> list[str]:
    uses = []
    for match in PRIVATE_IMPORT.finditer(text):
        module = match.group(1) or match.group(2)
        if module.split(".")[0] in PACKAGES and any(p.startswith("_") for p in module.split(".")):
            uses.append(match.group(0))
    uses += PRIVATE_ATTRIBUTE.findall(text)
    uses += re.findall(r"\./[\w/]*/_\w+\.py", text)  # langgraph.json paths
    return uses


@pytest.mark.parametrize("name,text", _shown_sources(), ids=lambda v: v if "\n" not in v else "")
def test_readme_examples_and_studio_use_only_public_names(name: str, text: str) -> None:
    assert _private_uses(text) == [], f"{name} uses private names"


def test_the_scanner_catches_private_names() -> None:
    assert _private_uses("from sun._sun import Sun\nx = sun._replay.record(s)")
    assert _private_uses('{"graphs": {"sun": "./sun/_studio.py:graph"}}')
    assert not _private_uses("from sun.replay import record\nfrom sun import Sun")


def _public_packages() -> list[str]:
    found = []
    for package in PACKAGES:
        for init in sorted((ROOT / package).rglob("__init__.py")):
            parts = init.parent.relative_to(ROOT).parts
            if not any(part.startswith("_") for part in parts):
                found.append(".".join(parts))
    return found


@pytest.mark.parametrize("package", _public_packages())
def test_every_package_names_its_face(package: str) -> None:
    module = importlib.import_module(package)
    exported = getattr(module, "__all__", None)
    assert exported, f"{package}/__init__.py has no __all__"
    missing = [name for name in exported if not hasattr(module, name)]
    assert not missing, f"{package}.__all__ names what it does not define: {missing}"
    tree = ast.parse(Path(module.__file__ or "").read_text(encoding="utf-8"))
    defined = {
        alias.asname or alias.name
        for node in tree.body
        if isinstance(node, ast.ImportFrom) and (node.module or "").startswith(package + ".")
        for alias in node.names
    }
    unlisted = sorted(n for n in defined - set(exported) if not n.startswith("_"))
    assert not unlisted, f"{package} imports names it does not export: {unlisted}"


def test_no_import_cycles() -> None:
    graph = grimp.build_graph(*PACKAGES, exclude_type_checking_imports=False)
    cycles = []
    for module in sorted(graph.modules):
        for imported in graph.find_modules_directly_imported_by(module):
            if imported == module or _is_package_of(imported, module):
                continue
            back = graph.find_shortest_chain(importer=imported, imported=module)
            if back and not any(_is_package_of(m, module) for m in back[1:-1]):
                cycles.append(" -> ".join((module, *back)))
    assert not cycles, "import cycles:\n" + "\n".join(sorted(set(cycles))[:20])


def _is_package_of(candidate: str, module: str) -> bool:
    return module.startswith(candidate + ".")
