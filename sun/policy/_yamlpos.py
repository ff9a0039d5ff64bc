"""YAML with positions: parse once, remember the line of every mapping key and list item."""

from __future__ import annotations

from typing import Any

import yaml

Path = tuple[str | int, ...]

_Loader: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def load_with_lines(text: str) -> tuple[Any, dict[Path, int]]:
    """The document's data and a map from each element's path to its 1-based line.

    Raises:
        yaml.YAMLError: on malformed YAML (its ``problem_mark`` has the line).
    """
    node = yaml.compose(text, Loader=_Loader)
    lines: dict[Path, int] = {}
    if node is not None:
        _walk(node, (), lines)
    data = yaml.load(text, Loader=_Loader)
    return data, lines


def _walk(node: yaml.Node, path: Path, lines: dict[Path, int]) -> None:
    lines.setdefault(path, node.start_mark.line + 1)
    if isinstance(node, yaml.MappingNode):
        for key, value in node.value:
            child = (*path, str(key.value))
            lines[child] = key.start_mark.line + 1
            _walk(value, child, lines)
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            _walk(item, (*path, index), lines)


def line_of(lines: dict[Path, int], path: Path) -> int:
    """Line of ``path`` or of its nearest ancestor present in ``lines`` (0 if none)."""
    for end in range(len(path), -1, -1):
        if path[:end] in lines:
            return lines[path[:end]]
    return 0


def dotted(path: Path) -> str:
    """``("rules", 0, "plan")`` -> ``rules[0].plan``."""
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else part)
    return out
