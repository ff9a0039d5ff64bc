"""Registry operations on top of the files: pin, rollback, diff, lineage, writing new versions.

New versions are always new files in the user prompt directory (the package directory may be
read-only); existing files are never rewritten.
"""

from __future__ import annotations

import difflib
import re
from datetime import date
from pathlib import Path

from prompts._paths import user_prompt_dir
from prompts._pins import PinBook, PinChange
from prompts._registry import PromptError, PromptTemplate, get_prompt, versions_of

ORIGINS = ("human", "evolved")
_NAME = re.compile(r"^[a-z0-9_]+$")


def active_prompt(name: str, directory: Path | None = None) -> PromptTemplate:
    """The version ``get_prompt(name)`` returns: pinned, else highest released."""
    return get_prompt(name, directory=directory)


def pin_prompt(
    name: str, version: str, reason: str = "", directory: Path | None = None
) -> PinChange:
    """Make ``version`` the active version of ``name`` (checked to exist)."""
    get_prompt(name, str(version), directory=directory)
    return PinBook.for_directory(directory).set(name, str(version), "pin", reason)


def unpin_prompt(name: str, reason: str = "", directory: Path | None = None) -> PinChange:
    """Drop the pin: the highest released version becomes active again."""
    return PinBook.for_directory(directory).set(name, None, "unpin", reason)


def rollback_prompt(
    name: str, to: str | None = None, reason: str = "", directory: Path | None = None
) -> PinChange:
    """Pin an earlier version: ``to``, else the active version's parent.

    Raises:
        PromptError: if there is nothing to roll back to.
    """
    current = active_prompt(name, directory)
    target = to if to is not None else current.parent
    if target is None:
        raise PromptError(f"{name} v{current.version} has no parent to roll back to")
    get_prompt(name, str(target), directory=directory)
    why = reason or f"rollback from v{current.version}"
    return PinBook.for_directory(directory).set(name, str(target), "rollback", why)


def lineage(name: str, directory: Path | None = None) -> list[PromptTemplate]:
    """All versions of ``name``, oldest first (each with its parent and origin)."""
    versions = versions_of(name, directory)
    if not versions:
        raise PromptError(f"no prompt named {name!r}")
    return versions


def diff_prompts(name: str, a: str, b: str, directory: Path | None = None) -> str:
    """A unified diff of two versions' system and user sections."""
    left, right = (get_prompt(name, v, directory=directory) for v in (a, b))
    lines: list[str] = []
    for section in ("system", "user"):
        lines += difflib.unified_diff(
            getattr(left, section).splitlines(keepends=True),
            getattr(right, section).splitlines(keepends=True),
            fromfile=f"{name}.v{a} ## {section}",
            tofile=f"{name}.v{b} ## {section}",
        )
    return "".join(lines)


def write_version(
    name: str,
    system: str,
    user: str,
    *,
    parent: str | None,
    origin: str,
    variables: tuple[str, ...] | None = None,
    status: str = "candidate",
    note: str = "",
    directory: Path | None = None,
) -> PromptTemplate:
    """Write the next version of ``name`` as a new file and return it (validated on read).

    Args:
        name: Prompt name.
        system / user: Section bodies (``$var`` placeholders).
        parent: Version it was derived from.
        origin: ``human`` or ``evolved``.
        variables: Declared variables (default: the parent's).
        status: ``candidate`` (under test; never active unless pinned) or ``released``.
        note: One line describing how it was made (front matter ``note``).
        directory: Where to write (default: the user prompt directory).
    """
    if not _NAME.match(name):
        raise PromptError(f"invalid prompt name {name!r}")
    if origin not in ORIGINS:
        raise PromptError(f"origin must be one of {ORIGINS}, got {origin!r}")
    if status not in ("candidate", "released"):
        raise PromptError(f"status must be candidate or released, got {status!r}")
    existing = versions_of(name, directory)
    if variables is None:
        base = get_prompt(name, parent, directory=directory) if parent else existing[-1]
        variables = base.variables
    target = Path(directory) if directory is not None else user_prompt_dir()
    target.mkdir(parents=True, exist_ok=True)
    version = max([int(t.version) for t in existing] + [0]) + 1
    path = target / f"{name}.v{version}.md"
    while path.exists():  # a concurrent writer took it
        version += 1
        path = target / f"{name}.v{version}.md"
    one_line = " ".join(note.split())
    text = (
        "---\n"
        f"name: {name}\nversion: {version}\nparent: {parent or ''}\n"
        f"created: {date.today().isoformat()}\norigin: {origin}\n"
        f"variables: {', '.join(variables)}\nstatus: {status}\n"
        + (f"note: {one_line}\n" if one_line else "")
        + "---\n"
        f"## system\n{system.strip()}\n## user\n{user.strip()}\n"
    )
    path.write_text(text, encoding="utf-8")
    try:
        return get_prompt(name, str(version), directory=directory)
    except PromptError:
        path.unlink(missing_ok=True)
        raise


def candidate_from_file(
    path: Path, name: str, parent: str | None = None, directory: Path | None = None
) -> PromptTemplate:
    """A person's candidate: a file with ``## system`` and ``## user`` sections (any front
    matter is ignored), written as the next version of ``name`` with origin ``human``.
    """
    raw = Path(path).read_text(encoding="utf-8")
    if raw.startswith("---\n"):
        raw = raw.split("---\n", 2)[2]
    parts = re.split(r"^## (system|user)\s*$", raw, flags=re.MULTILINE)
    bodies = dict(zip(parts[1::2], parts[2::2], strict=True))
    if set(bodies) != {"system", "user"}:
        raise PromptError(f"{path}: needs '## system' and '## user' sections")
    parent = parent or active_prompt(name, directory).version
    return write_version(
        name,
        bodies["system"],
        bodies["user"],
        parent=parent,
        origin="human",
        note=f"from {Path(path).name}",
        directory=directory,
    )
