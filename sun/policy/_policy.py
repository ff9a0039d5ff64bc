"""Loading policies (atomically, with file:line errors), selecting a rule, explaining it."""

from __future__ import annotations

import functools
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, ValidationError

from sun.policy._cel import Compiled, compile_expression, evaluate
from sun.policy._classes import ProfileClasses
from sun.policy._errors import PolicyError, PolicyLoadError
from sun.policy._model import Budget, FailureRule, Plan, PlanNode, PolicyDoc, Rule
from sun.policy._profile import Profile, profile_samples, profile_type
from sun.policy._validate import validate
from sun.policy._yamlpos import dotted, line_of, load_with_lines


class ResolvedPlan(BaseModel):
    """The plan chosen for one decision, with parameters resolved from the profile."""

    model_config = ConfigDict(frozen=True)

    policy: str
    version: int
    rule: str
    profile: dict[str, Any]
    plan: Plan
    params: dict[str, dict[str, Any]]
    budget: Budget
    failure: FailureRule
    llm_agents: list[str] = []


class RuleCheck(BaseModel):
    """One rule's condition as evaluated by :meth:`Policy.explain`."""

    model_config = ConfigDict(frozen=True)

    rule: str
    when: str
    result: Literal["matched", "no", "error", "not reached"]
    detail: str = ""


class Explanation(BaseModel):
    """Why a profile gets its plan: each rule's verdict, the plan, and the static node preview."""

    model_config = ConfigDict(frozen=True)

    rules: list[RuleCheck]
    resolved: ResolvedPlan
    preview: dict[str, str]

    def render(self) -> str:
        """Human-readable text for ``heliarch policy explain``."""
        lines = [f"policy {self.resolved.policy} v{self.resolved.version}"]
        lines += [
            f"  rule {r.rule}: {r.result}  [{r.when}] {r.detail}".rstrip() for r in self.rules
        ]
        lines.append(f"plan of rule {self.resolved.rule}:")
        lines += [f"  {name}: {what}" for name, what in self.preview.items()]
        return "\n".join(lines)


_MEMO_SIZE = 4096


@dataclass(frozen=True)
class Policy:
    """A validated policy file with its conditions compiled."""

    path: str
    doc: PolicyDoc
    profile_type: type[Profile]
    compiled: Mapping[str, Compiled]
    _memo: dict[tuple[Any, ...], Any] = field(default_factory=dict, compare=False, repr=False)

    @property
    def name(self) -> str:
        """The policy's name."""
        return self.doc.policy

    @functools.cached_property
    def profile_classes(self) -> ProfileClasses:
        """The profiles this policy cannot tell apart (see :class:`ProfileClasses`)."""
        return ProfileClasses.of(self.compiled.values(), self.profile_type)

    def select(self, profile: Profile | Mapping[str, Any]) -> ResolvedPlan:
        """The plan of the first rule whose condition holds (ValueError if none does)."""
        values = self._values(profile)
        rule = self.select_rule(values)
        return self._resolve(rule.name, rule.plan, values)

    def select_rule(self, values: Mapping[str, Any]) -> Rule:
        """The first rule whose condition holds over profile ``values`` (ValueError if none)."""
        for rule in self.doc.rules:
            if self._holds(rule.when, values):
                return rule
        raise ValueError(f"policy {self.name}: no rule matches the profile {dict(values)}")

    def node_params(self, node: PlanNode, values: Mapping[str, Any]) -> dict[str, Any]:
        """``node``'s fixed parameters plus those computed from profile ``values``."""
        resolved = dict(node.params)
        for key, source in node.params_from.items():
            value = self.value_of(source, values)
            if value is not None:
                resolved[key] = value
        return resolved

    def static_condition(self, source: str, values: Mapping[str, Any]) -> Any:
        """A compiled condition's value over profile ``values``, or None when it also reads
        run-time variables (node outputs, summary) that a profile does not have."""
        if not self.compiled[source].variables <= values.keys():
            return None
        return self.value_of(source, values)

    def reads_run_time(self, source: str) -> bool:
        """Whether a compiled condition reads run-time values (node outputs, summary)."""
        return bool(self.compiled[source].variables & {"outputs", "summary"})

    def value_of(self, source: str, values: Mapping[str, Any]) -> Any:
        """A compiled expression's value over profile ``values``, memoized on the values of
        the variables it reads (profiles repeat: booleans, regimes, tiers)."""
        compiled = self.compiled[source]
        key = (source, *(values.get(name) for name in sorted(compiled.variables)))
        try:
            return self._memo[key]
        except KeyError:
            pass
        except TypeError:  # an unhashable value: evaluate without memo
            return evaluate(compiled, values)
        value = evaluate(compiled, values)
        if len(self._memo) >= _MEMO_SIZE:
            self._memo.clear()
        self._memo[key] = value
        return value

    def explain(self, profile: Profile | Mapping[str, Any]) -> Explanation:
        """Every rule's verdict for ``profile``, the matched plan, and what each node will do."""
        values = self._values(profile)
        checks: list[RuleCheck] = []
        matched: ResolvedPlan | None = None
        for rule in self.doc.rules:
            if matched is not None:
                checks.append(RuleCheck(rule=rule.name, when=rule.when, result="not reached"))
                continue
            try:
                hit = evaluate(self.compiled[rule.when], values) is True
            except Exception as error:
                checks.append(
                    RuleCheck(rule=rule.name, when=rule.when, result="error", detail=str(error))
                )
                continue
            checks.append(
                RuleCheck(rule=rule.name, when=rule.when, result="matched" if hit else "no")
            )
            if hit:
                matched = self._resolve(rule.name, rule.plan, values)
        if matched is None:
            raise ValueError(f"policy {self.name}: no rule matches the profile {values}")
        return Explanation(rules=checks, resolved=matched, preview=self._preview(matched, values))

    def _values(self, profile: Profile | Mapping[str, Any]) -> dict[str, Any]:
        if isinstance(profile, Profile):
            return profile.model_dump()
        return self.profile_type.model_validate(dict(profile)).model_dump()

    def _holds(self, source: str, values: Mapping[str, Any]) -> bool:
        return self.value_of(source, values) is True

    def _resolve(self, rule: str, plan: Plan, values: dict[str, Any]) -> ResolvedPlan:
        params = {node.name: self.node_params(node, values) for node in plan.all_nodes()}
        return ResolvedPlan(
            policy=self.name, version=self.doc.version, rule=rule, profile=values, plan=plan,
            params=params, budget=plan.budget or self.doc.budget,
            failure=plan.failure or self.doc.failure,
            llm_agents=sorted(name for name, spec in self.doc.agents.items() if spec.llm),
        )  # fmt: skip

    def _preview(self, resolved: ResolvedPlan, values: dict[str, Any]) -> dict[str, str]:
        out: dict[str, str] = {}
        for node in resolved.plan.nodes:
            what = f"run {resolved.params[node.name] or ''}".rstrip()
            if node.skip_if:
                compiled = self.compiled[node.skip_if]
                if compiled.variables <= set(values):
                    if evaluate(compiled, values) is True:
                        what = f"skip ({node.skip_reason or node.skip_if})"
                else:
                    what += f" unless [{node.skip_if}] at run time"
            out[node.name] = what
        for node in resolved.plan.expansions:
            out[node.name] = "dormant (runs only if a checkpoint expands it)"
        return out


def explain(policy: Policy | str | Path, profile: Profile | Mapping[str, Any]) -> Explanation:
    """The matched rule and plan for ``profile`` (for ``heliarch policy explain FILE``)."""
    return (policy if isinstance(policy, Policy) else load_policy(policy)).explain(profile)


def load_policy(path: str | Path) -> Policy:
    """Load and validate one policy file.

    Raises:
        PolicyLoadError: listing every problem with file, line and reason.
    """
    policy, errors = _load(str(path))
    if errors or policy is None:
        raise PolicyLoadError(errors)
    return policy


def check_policy(path: str | Path) -> list[PolicyError]:
    """Every problem of a policy file (empty when valid); for ``heliarch policy check FILE``."""
    return _load(str(path))[1]


def _load(path: str) -> tuple[Policy | None, list[PolicyError]]:
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as error:
        return None, [PolicyError(path, 0, "", f"cannot read: {error.strerror or error}")]
    try:
        data, lines = load_with_lines(text)
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        line = mark.line + 1 if mark is not None else 0
        return None, [
            PolicyError(path, line, "", f"invalid YAML: {getattr(error, 'problem', error)}")
        ]
    try:
        doc = PolicyDoc.model_validate(data)
    except ValidationError as error:
        return None, [_pydantic_error(path, lines, item) for item in error.errors()]
    try:
        kind = profile_type(doc.profile)
    except KeyError as error:
        return None, [
            PolicyError(path, line_of(lines, ("profile",)), "profile", str(error.args[0]))
        ]
    problems = validate(doc, profile_samples(kind))
    if problems:
        errors = [PolicyError(path, line_of(lines, p), dotted(p), reason) for p, reason in problems]
        return None, sorted(errors, key=lambda e: e.line)
    return Policy(path, doc, kind, _compile_all(doc)), []


def _pydantic_error(path: str, lines: dict[Any, int], item: Any) -> PolicyError:
    loc = tuple(item.get("loc", ()))
    return PolicyError(path, line_of(lines, loc), dotted(loc), str(item.get("msg", "invalid")))


def _compile_all(doc: PolicyDoc) -> dict[str, Compiled]:
    sources: set[str] = set()
    for rule in doc.rules:
        sources.add(rule.when)
        for node in rule.plan.all_nodes():
            sources.update(node.params_from.values())
            if node.skip_if:
                sources.add(node.skip_if)
        sources.update(checkpoint.when for checkpoint in rule.plan.checkpoints)
    return {source: compile_expression(source) for source in sources}
