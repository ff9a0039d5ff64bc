"""Dynamic agent factory: planets from declarative, validated specs — data, never code.

A :class:`PlanetSpec` names the planet, the moon-panel columns it reads (each tied to a moon of
``moons.MOONS`` with that moon's numeric parameters), one scoring rule from a FIXED vocabulary
(``threshold``, ``zscore``, ``crossover``, ``weighted_sum``) with numeric parameters, and an
optional prompt template name. The factory validates specs with pydantic, keeps proposals until
they are approved (auto-approval configurable), and builds :class:`DynamicPlanet` instances that
the sun and the council use like any other planet::

    factory = PlanetFactory(auto_approve=True)
    factory.propose(spec)
    sun = Sun(planets={**default_planets(), **factory.planets()})
    factory.attach(sun)                                  # route the new planets too

Safety: no path evaluates, compiles, imports or executes anything taken from a spec. Names are
strict identifiers, parameters are numbers, the rule kind selects one of four hand-written
functions, and free text (``description``) is checked for code-like content and only displayed.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Mapping
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any, Literal

from pydantic import ValidationError

from moons import DEFAULT_PANEL, PanelSpec
from planets._base import Planet
from planets._rules import DynamicPlanet
from planets._spec import (
    COLUMNS,
    IDENTIFIER,
    RESERVED,
    RULE_KINDS,
    CrossoverRule,
    Ident,
    MoonInput,
    Number,
    PlanetSpec,
    Rule,
    SpecError,
    ThresholdRule,
    WeightedSumRule,
    ZScoreRule,
    reject_code,
)

__all__ = [
    "COLUMNS",
    "IDENTIFIER",
    "RESERVED",
    "RULE_KINDS",
    "CrossoverRule",
    "DynamicPlanet",
    "FactoryRouting",
    "Ident",
    "MoonInput",
    "Number",
    "PlanetFactory",
    "PlanetSpec",
    "Proposal",
    "Rule",
    "SpecError",
    "ThresholdRule",
    "WeightedSumRule",
    "ZScoreRule",
    "reject_code",
]


@dataclass(frozen=True)
class Proposal:
    """A validated spec and its approval state."""

    spec: PlanetSpec
    status: Literal["pending", "approved", "rejected"]
    source: str
    note: str = ""


class PlanetFactory:
    """Validates, approves and builds dynamic planets; optionally persists approved specs.

    Args:
        auto_approve: Approve valid proposals immediately (otherwise :meth:`approve`).
        path: JSON file of approved specs, loaded at start and rewritten on change.
        panel: The moon panel the sun computes; specs with other moon parameters are refused.
    """

    def __init__(
        self,
        *,
        auto_approve: bool = False,
        path: Path | None = None,
        panel: PanelSpec = DEFAULT_PANEL,
    ) -> None:
        self.auto_approve = auto_approve
        self.path = Path(path) if path else None
        self.panel = panel
        self._lock = threading.Lock()
        self._proposals: dict[str, Proposal] = {}
        if self.path is not None and self.path.exists():
            for spec in self._load(self.path):
                self._proposals[spec.name] = Proposal(spec, "approved", "file")

    def _load(self, path: Path) -> list[PlanetSpec]:
        """The approved specs saved in ``path``, each passing :meth:`validate` like a proposal.

        Raises:
            SpecError: naming the file (and the spec's index) that is unreadable or invalid.
        """
        try:
            raw = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, ValueError) as exc:
            raise SpecError(f"{path}: unreadable planet specs: {exc}") from None
        if not isinstance(raw, list):
            raise SpecError(f"{path}: expected a JSON list of planet specs")
        specs = []
        for index, item in enumerate(raw):
            try:
                specs.append(self.validate(item))
            except SpecError as exc:
                raise SpecError(f"{path}: spec [{index}]: {exc}") from None
        return specs

    def validate(self, spec: PlanetSpec | Mapping[str, Any] | str) -> PlanetSpec:
        """Parse and validate a spec (model, dict or JSON text); raises ``SpecError``."""
        if not isinstance(spec, PlanetSpec | Mapping | str):
            raise SpecError(
                f"invalid planet spec: expected a PlanetSpec, a mapping or JSON text, "
                f"got {type(spec).__name__}"
            )
        try:
            if isinstance(spec, PlanetSpec):
                parsed = PlanetSpec.model_validate(spec.model_dump())
            elif isinstance(spec, str):
                parsed = PlanetSpec.model_validate_json(spec)
            else:
                parsed = PlanetSpec.model_validate(dict(spec))
        except ValidationError as exc:
            raise SpecError(f"invalid planet spec: {_describe(exc)}") from exc
        except ValueError as exc:
            raise SpecError(f"invalid planet spec: {exc}") from exc
        panel = asdict(self.panel)
        for moon in parsed.moons:
            for key, value in moon.params.items():
                if float(panel[key]) != float(value):
                    raise SpecError(
                        f"{parsed.name}: {moon.column} needs {key}={value:g} but the sun's panel "
                        f"computes {key}={panel[key]}"
                    )
        if parsed.prompt is not None:
            from prompts import PromptError, get_prompt

            try:
                get_prompt(parsed.prompt)
            except PromptError as exc:
                raise SpecError(f"{parsed.name}: {exc}") from exc
        return parsed

    def propose(
        self, spec: PlanetSpec | Mapping[str, Any] | str, source: str = "human"
    ) -> Proposal:
        """Validate and queue a spec (approved at once when ``auto_approve``)."""
        parsed = self.validate(spec)
        with self._lock:
            current = self._proposals.get(parsed.name)
            if current is not None and current.status == "approved" and current.spec != parsed:
                raise SpecError(f"a different planet named {parsed.name!r} is already approved")
            status: Literal["approved", "pending"] = "approved" if self.auto_approve else "pending"
            proposal = Proposal(parsed, status, source)
            self._proposals[parsed.name] = proposal
        if status == "approved":
            self._save()
        return proposal

    def approve(self, name: str, note: str = "") -> Proposal:
        """Approve a pending proposal."""
        return self._set(name, "approved", note)

    def reject(self, name: str, note: str = "") -> Proposal:
        """Reject a proposal (an approved planet is withdrawn)."""
        return self._set(name, "rejected", note)

    def _set(self, name: str, status: Literal["approved", "rejected"], note: str) -> Proposal:
        with self._lock:
            if name not in self._proposals:
                raise SpecError(f"no proposal named {name!r}")
            proposal = replace(self._proposals[name], status=status, note=note)
            self._proposals[name] = proposal
        self._save()
        return proposal

    def proposals(self) -> dict[str, Proposal]:
        """Every proposal by name."""
        with self._lock:
            return dict(self._proposals)

    def planets(self) -> dict[str, Planet]:
        """The approved planets, freshly built, by name."""
        with self._lock:
            approved = [p.spec for p in self._proposals.values() if p.status == "approved"]
        return {spec.name: DynamicPlanet(spec) for spec in approved}

    def _save(self) -> None:
        if self.path is None:
            return
        with self._lock:
            specs = [
                p.spec.model_dump(mode="json")
                for p in self._proposals.values()
                if p.status == "approved"
            ]
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.path.write_text(json.dumps(specs, indent=2), encoding="utf-8")

    def routing(self, base: Any) -> FactoryRouting:
        """A routing policy that consults ``base``'s planets plus the approved dynamic ones."""
        return FactoryRouting(base, tuple(self.planets()))

    def attach(self, sun: Any) -> None:
        """Route a sun's queries to the approved dynamic planets it was given."""
        names = tuple(n for n in self.planets() if n in sun.context.planets)
        base = sun.router
        if isinstance(base, FactoryRouting):
            base = base.base
        sun.router = FactoryRouting(base, names)

    def propose_with_llm(self, llm: Any, need: str) -> Proposal | None:
        """Ask an LLM for a spec (structured output) and :meth:`propose` it as ``source=llm``.

        ``llm`` is anything with ``invoke(messages, schema) -> result`` where ``result.parsed``
        is the validated schema instance or ``None`` (e.g. ``sun.StructuredLLM``). The answer is
        data; it is validated exactly like a person's spec and needs approval unless
        ``auto_approve``. Returns ``None`` when the model gave no valid spec.
        """
        from langchain_core.messages import HumanMessage, SystemMessage

        from prompts import get_prompt

        system, user = get_prompt("planet_spec").render(
            need=" ".join(need.split())[:300],
            columns=", ".join(sorted(COLUMNS)),
            rules=", ".join(RULE_KINDS),
        )
        result = llm.invoke([SystemMessage(system), HumanMessage(user)], PlanetSpec)
        parsed = result.parsed
        if parsed is None:
            return None
        try:
            return self.propose(parsed, source="llm")
        except SpecError:
            return None


@dataclass(frozen=True)
class FactoryRouting:
    """Wraps a routing policy and adds dynamic planets to every route (before ``risk``)."""

    base: Any
    extra: tuple[str, ...]

    def route(self, moons: Mapping[str, float], has_headlines: bool) -> Any:
        """The base route with the dynamic planets appended."""
        chosen = self.base.route(moons, has_headlines)
        planets = [p for p in chosen.planets if p != "risk"]
        planets += [p for p in self.extra if p not in planets]
        if "risk" in chosen.planets:
            planets.append("risk")
        return replace(chosen, planets=tuple(planets), path=(*chosen.path, "Dynamic"))


def _describe(error: ValidationError) -> str:
    """A pydantic error on one line: ``field.path: message`` for each problem."""
    parts = []
    for item in error.errors(include_url=False):
        where = ".".join(str(p) for p in item["loc"]) or "<spec>"
        parts.append(f"{where}: {item['msg']}")
    return "; ".join(parts)
