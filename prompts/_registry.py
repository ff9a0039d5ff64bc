"""Versioned prompt templates stored as files: ``templates/<name>.v<version>.md``.

Templates live in two places: the bundled ``prompts/templates`` (read-only in an installed
package) and a user-writable directory (:func:`user_prompt_dir`, by default
``$HELIARCH_DATA_DIR/prompts``) where evolved and hand-written versions are added. Calls without
an explicit ``directory`` see both; the active version of a name is the pinned one (see
:mod:`prompts._pins`), otherwise the highest released version.

Each file starts with a front-matter block of ``key: value`` lines between ``---`` markers
(name, version, parent, created, origin, variables), followed by a ``## system`` section and a
``## user`` section. Variables are ``$name`` placeholders (``string.Template``), so JSON
evidence with braces needs no escaping. Rendering fails loudly on a missing or unknown variable.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from string import Template

from prompts._paths import user_prompt_dir
from prompts._pins import PinBook

TEMPLATE_DIR = Path(__file__).resolve().parent / "templates"
_FILE_NAME = re.compile(r"^(?P<name>[a-z0-9_]+)\.v(?P<version>\d+)\.md$")
_SECTION = re.compile(r"^## (system|user)\s*$", re.MULTILINE)


class PromptError(ValueError):
    """A prompt template is missing, malformed, or rendered with the wrong variables."""


@dataclass(frozen=True)
class PromptTemplate:
    """One version of one prompt."""

    name: str
    version: str
    parent: str | None
    created: str
    origin: str
    variables: tuple[str, ...]
    system: str
    user: str
    path: Path
    status: str = "released"

    @property
    def is_candidate(self) -> bool:
        """An evolved or submitted version still under test (never active unless pinned)."""
        return self.status == "candidate"

    def render(self, **values: object) -> tuple[str, str]:
        """Return ``(system, user)`` with every declared variable substituted.

        Raises:
            PromptError: if a declared variable is missing or an undeclared one is given.
        """
        missing = sorted(set(self.variables) - set(values))
        unknown = sorted(set(values) - set(self.variables))
        if missing or unknown:
            raise PromptError(
                f"prompt {self.name} v{self.version}: missing {missing}, unknown {unknown}"
            )
        text = {key: str(value) for key, value in values.items()}
        return Template(self.system).substitute(text), Template(self.user).substitute(text)


def _parse(path: Path) -> PromptTemplate:
    raw = path.read_text(encoding="utf-8")
    parts = raw.split("---\n", 2)
    if len(parts) != 3 or parts[0].strip():
        raise PromptError(f"{path}: expected a '---' front-matter block at the top")
    meta: dict[str, str] = {}
    for line in parts[1].splitlines():
        if line.strip():
            key, _, value = line.partition(":")
            meta[key.strip()] = value.strip()
    sections = _SECTION.split(parts[2])
    bodies = dict(zip(sections[1::2], (s.strip() + "\n" for s in sections[2::2]), strict=True))
    for needed in ("name", "version", "created", "origin", "variables"):
        if needed not in meta:
            raise PromptError(f"{path}: front matter lacks '{needed}'")
    if set(bodies) != {"system", "user"}:
        raise PromptError(f"{path}: needs '## system' and '## user' sections")
    variables = tuple(v.strip() for v in meta["variables"].split(",") if v.strip())
    template = PromptTemplate(
        name=meta["name"],
        version=meta["version"],
        parent=meta.get("parent") or None,
        created=meta["created"],
        origin=meta["origin"],
        variables=variables,
        system=bodies["system"],
        user=bodies["user"],
        path=path,
        status=meta.get("status") or "released",
    )
    _check_placeholders(template)
    return template


def _check_placeholders(template: PromptTemplate) -> None:
    used: set[str] = set()
    for body in (template.system, template.user):
        for match in Template.pattern.finditer(body):
            name = match.group("named") or match.group("braced")
            if name:
                used.add(name)
    if used != set(template.variables):
        raise PromptError(
            f"{template.path}: placeholders {sorted(used)} != declared {sorted(template.variables)}"
        )


def _signature(directory: Path) -> tuple[tuple[str, int], ...]:
    if not directory.is_dir():
        return ()
    return tuple(
        sorted((p.name, p.stat().st_mtime_ns) for p in directory.glob("*.md") if p.is_file())
    )


def _load_all(directory: Path) -> dict[tuple[str, str], PromptTemplate]:
    """Every template in ``directory``, re-read only when its files change."""
    return _load_signed(directory, _signature(directory))


@lru_cache(maxsize=64)
def _load_signed(
    directory: Path, signature: tuple[tuple[str, int], ...]
) -> dict[tuple[str, str], PromptTemplate]:
    templates = {}
    for file_name, _ in signature:
        path = directory / file_name
        match = _FILE_NAME.match(path.name)
        if match is None:
            continue
        template = _parse(path)
        if (template.name, template.version) != (match["name"], match["version"]):
            raise PromptError(f"{path}: front matter disagrees with the file name")
        templates[(template.name, template.version)] = template
    return templates


def search_path(directory: Path | None = None) -> tuple[Path, ...]:
    """The directories searched: ``directory`` alone, or the bundled then the user directory."""
    if directory is not None:
        return (Path(directory),)
    return (TEMPLATE_DIR, user_prompt_dir())


def list_prompts(directory: Path | None = None) -> list[PromptTemplate]:
    """Every template version, sorted by name then numeric version.

    Args:
        directory: Only this directory; by default the bundled and the user directory.

    Raises:
        PromptError: if a version exists in both directories with different content.
    """
    merged: dict[tuple[str, str], PromptTemplate] = {}
    for folder in search_path(directory):
        for key, template in _load_all(folder).items():
            other = merged.get(key)
            if other is not None and (other.system, other.user) != (template.system, template.user):
                raise PromptError(f"{template.path}: {key[0]} v{key[1]} already in {other.path}")
            merged.setdefault(key, template)
    return sorted(merged.values(), key=lambda t: (t.name, int(t.version)))


def versions_of(name: str, directory: Path | None = None) -> list[PromptTemplate]:
    """All versions of ``name``, oldest first (empty if unknown)."""
    return [t for t in list_prompts(directory) if t.name == name]


def get_prompt(
    name: str, version: str | None = None, directory: Path | None = None
) -> PromptTemplate:
    """One template.

    With ``version=None``: the pinned version if one is pinned for this search path, otherwise
    the highest released (non-candidate) version, otherwise the highest version.
    """
    versions = versions_of(name, directory)
    where = ", ".join(str(d) for d in search_path(directory))
    if not versions:
        raise PromptError(f"no prompt named {name!r} in {where}")
    if version is None:
        pinned = PinBook.for_directory(directory).pinned(name)
        if pinned is not None:
            version = pinned
        else:
            released = [t for t in versions if not t.is_candidate]
            return (released or versions)[-1]
    for template in versions:
        if template.version == str(version):
            return template
    raise PromptError(
        f"prompt {name!r} has no version {version} (have {[t.version for t in versions]})"
    )
