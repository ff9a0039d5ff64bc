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

Every version of one name declares the variables of its first version (one caller renders
them all with the same values). A file that is malformed, disagrees with its name, or
declares other variables is skipped with a :class:`PromptFileWarning` naming it and why
(:func:`skipped_prompts` lists them); asking for that very version raises the reason.
"""

from __future__ import annotations

import re
import warnings
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from string import Template

from prompts._errors import PromptError
from prompts._paths import user_prompt_dir
from prompts._pins import PinBook

TEMPLATE_DIR = Path(__file__).resolve().parent / "templates"
_FILE_NAME = re.compile(r"^(?P<name>[a-z0-9_]+)\.v(?P<version>\d+)\.md$")
_SECTION = re.compile(r"^## (system|user)\s*$", re.MULTILINE)


class PromptFileWarning(UserWarning):
    """A prompt file was skipped: malformed, or inconsistent with its prompt's variables."""


@dataclass(frozen=True)
class SkippedPrompt:
    """A prompt file that was not loaded, and why."""

    path: Path
    reason: str
    name: str | None = None
    version: str | None = None

    def __str__(self) -> str:
        return f"{self.path}: {self.reason}"


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


Loaded = tuple[dict[tuple[str, str], PromptTemplate], tuple[SkippedPrompt, ...]]


def _load_all(directory: Path) -> Loaded:
    """Every template in ``directory`` and the files skipped, re-read only when files change."""
    return _load_signed(directory, _signature(directory))


@lru_cache(maxsize=64)
def _load_signed(directory: Path, signature: tuple[tuple[str, int], ...]) -> Loaded:
    templates = {}
    skipped = []
    for file_name, _ in signature:
        path = directory / file_name
        match = _FILE_NAME.match(path.name)
        if match is None:
            continue
        try:
            template = _parse(path)
        except (PromptError, OSError, UnicodeDecodeError, ValueError) as error:
            reason = str(error).removeprefix(f"{path}: ")
            skipped.append(SkippedPrompt(path, reason, match["name"], match["version"]))
            continue
        if (template.name, template.version) != (match["name"], match["version"]):
            reason = f"front matter says {template.name} v{template.version}"
            skipped.append(SkippedPrompt(path, reason, match["name"], match["version"]))
            continue
        templates[(template.name, template.version)] = template
    return templates, tuple(skipped)


def _scan(directory: Path | None) -> tuple[list[PromptTemplate], list[SkippedPrompt]]:
    """The usable templates (sorted) and every skipped file, over the search path."""
    merged: dict[tuple[str, str], PromptTemplate] = {}
    skipped: list[SkippedPrompt] = []
    for folder in search_path(directory):
        templates, bad = _load_all(folder)
        skipped += bad
        for key, template in templates.items():
            other = merged.get(key)
            if other is not None and (other.system, other.user) != (template.system, template.user):
                reason = f"{key[0]} v{key[1]} already in {other.path} with other content"
                skipped.append(SkippedPrompt(template.path, reason, *key))
                continue
            merged.setdefault(key, template)
    usable = sorted(merged.values(), key=lambda t: (t.name, int(t.version)))
    return usable, skipped


def skipped_prompts(directory: Path | None = None) -> list[SkippedPrompt]:
    """The prompt files that are not loaded (malformed or inconsistent), each with why."""
    return _scan(directory)[1]


def search_path(directory: Path | None = None) -> tuple[Path, ...]:
    """The directories searched: ``directory`` alone, or the bundled then the user directory."""
    if directory is not None:
        return (Path(directory),)
    return (TEMPLATE_DIR, user_prompt_dir())


def list_prompts(directory: Path | None = None) -> list[PromptTemplate]:
    """Every usable template version, sorted by name then numeric version.

    A malformed or inconsistent file is skipped with a :class:`PromptFileWarning` (one line
    naming the file and why), so one bad file never hides the others.

    Args:
        directory: Only this directory; by default the bundled and the user directory.
    """
    templates, skipped = _scan(directory)
    for item in skipped:
        warnings.warn(f"skipped prompt file {item}", PromptFileWarning, stacklevel=2)
    return templates


def versions_of(name: str, directory: Path | None = None) -> list[PromptTemplate]:
    """All usable versions of ``name``, oldest first (empty if unknown)."""
    return [t for t in _scan(directory)[0] if t.name == name]


def get_prompt(
    name: str, version: str | None = None, directory: Path | None = None
) -> PromptTemplate:
    """One template.

    With ``version=None``: the pinned version if one is pinned for this search path, otherwise
    the highest released (non-candidate) version, otherwise the highest version.
    """
    templates, skipped = _scan(directory)
    versions = [t for t in templates if t.name == name]
    if version is None:
        version = PinBook.for_directory(directory).pinned(name)
    for item in skipped:
        if (item.name, item.version) == (name, None if version is None else str(version)):
            raise PromptError(f"prompt {name!r} v{version} is unusable: {item}")
    where = ", ".join(str(d) for d in search_path(directory))
    if not versions:
        raise PromptError(f"no prompt named {name!r} in {where}")
    if version is None:
        released = [t for t in versions if not t.is_candidate]
        return (released or versions)[-1]
    for template in versions:
        if template.version == str(version):
            return template
    raise PromptError(
        f"prompt {name!r} has no version {version} (have {[t.version for t in versions]})"
    )
