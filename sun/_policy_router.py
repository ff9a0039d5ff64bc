"""The policy-driven router: a policy file's matched rule picks the planets (and their
parameters) of each decision; over many instruments, once per class of profiles the policy
cannot tell apart."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np

from sun._routing import Route
from sun.policy import PlanNode, Policy, TradingClassifier, load_policy, shipped_policy

DEFAULT_POLICY = "trading_default"
_CLASS_ROUTES = 4096  # class routes a router keeps (all forgotten when full)
_DEFERRED = "deferred: its skip_if reads planet outputs (decided after the planets it needs)"


@lru_cache(maxsize=16)
def _cached_policy(path: str, mtime_ns: int) -> Policy:
    return load_policy(path)


def policy_from(source: Policy | str | Path) -> Policy:
    """A loaded policy: itself, a shipped policy's name, or a file path (file:line errors)."""
    if isinstance(source, Policy):
        return source
    text = str(source)
    path = Path(text) if text.endswith((".yaml", ".yml")) or "/" in text else None
    resolved = path if path is not None else shipped_policy(text)
    if not resolved.is_file():
        raise FileNotFoundError(f"no policy file {text!r}")
    return _cached_policy(str(resolved.resolve()), resolved.stat().st_mtime_ns)


@dataclass(frozen=True)
class PolicyRouter:
    """A :class:`Router` driven by a policy file: the matched rule's plan picks the planets.

    Plan nodes whose agent is a planet become planets to consult (with their resolved
    parameters) unless their ``skip_if`` holds on the decision's profile; an LLM agent node in
    the plan means the model chain reasons. The sun evaluates the rule's checkpoints (DECIDE,
    EXPAND, HIL_REVIEW, ESCALATE) before the planets, after them, and after the guard (see
    :mod:`sun._checkpoints`); expansion nodes that are planets are consulted when expanded.

    Attributes:
        policy: The policy (default: the shipped ``trading_default``, the routing tree as data).
        classifier: Turns a moon row into the policy's :class:`TradingProfile`.
    """

    policy: Policy = field(default_factory=lambda: policy_from(DEFAULT_POLICY))
    classifier: TradingClassifier = field(default_factory=TradingClassifier)
    # class key -> the route of the class (see ``_classes``), kept across calls
    _class_routes: dict[tuple[Any, ...], Route] = field(
        default_factory=dict, init=False, repr=False, compare=False
    )

    @classmethod
    def load(cls, source: Policy | str | Path) -> PolicyRouter:
        """The router of a policy given as an object, a shipped name or a file path."""
        return cls(policy=policy_from(source))

    def route(self, moons: Mapping[str, float], has_headlines: bool) -> Route:
        """The matched rule's planets for one instrument's moon values."""
        values = self.classifier.classify(moons, int(has_headlines)).model_dump()
        rule = self.policy.select_rule(values)
        agents = self.policy.doc.agents
        planets: list[str] = []
        params: dict[str, dict[str, object]] = {}
        skipped: dict[str, str] = {}
        path = [self.policy.name, rule.name]
        llm = False
        deferred: dict[str, tuple[str, Mapping[str, Any]]] = {}
        for node in rule.plan.nodes:
            spec = agents.get(node.agent_name)
            why = self._skip_reason(node, values)
            if spec is not None and spec.kind == "planet":
                if why is not None:
                    skipped[node.agent_name] = why
                    continue
                if node.skip_if and self.policy.reads_run_time(node.skip_if):
                    deferred[node.name] = (node.agent_name, self.policy.node_params(node, values))
                    skipped.setdefault(node.agent_name, _DEFERRED)
                    continue
                planets.append(node.agent_name)
                resolved = self.policy.node_params(node, values)
                if resolved:
                    params[node.agent_name] = resolved
                path.append(node.label or node.name)
            elif spec is not None and spec.llm and why is None:
                llm = True
        nodes = {n.name: n.agent_name for n in rule.plan.nodes if n.agent_name in planets}
        expansions: dict[str, tuple[str, Mapping[str, Any]]] = {}
        for node in rule.plan.expansions:
            spec = agents.get(node.agent_name)
            if spec is not None and spec.kind == "planet":
                expansions[node.name] = (node.agent_name, self.policy.node_params(node, values))
                if node.agent_name not in planets:
                    skipped.setdefault(node.agent_name, "dormant expansion (runs if expanded)")
        return Route(
            tuple(planets), params, tuple(path), skipped, llm, rule.name, values, nodes,
            expansions, deferred,
        )  # fmt: skip

    def route_many(
        self, columns: Mapping[str, np.ndarray], has_headlines: np.ndarray
    ) -> list[Route]:
        """:meth:`route` for many instruments (``columns``: moon column -> one value per
        instrument): the profiles are classified over arrays, and the policy's conditions
        and parameters are evaluated once per class of profiles it cannot tell apart (see
        :class:`sun.policy.ProfileClasses`); routes of one class share their mappings.
        """
        counts = [int(bool(h)) for h in has_headlines]
        profiles = self.classifier.classify_many(columns, counts)
        fields = self.policy.profile_classes.fields
        distinct, index = self._classes(
            columns, counts, {name: [p[name] for p in profiles] for name in fields}
        )
        routes = []
        for k, values in zip(index, profiles, strict=True):
            chosen = distinct[k]
            routes.append(
                Route(chosen.planets, chosen.params, chosen.path, chosen.skipped, chosen.llm,
                      chosen.rule, values, chosen.nodes, chosen.expansions)
            )  # fmt: skip
        return routes

    def route_classes(
        self, columns: Mapping[str, np.ndarray], has_headlines: np.ndarray
    ) -> tuple[list[Route], list[int]]:
        """:meth:`route_many` without one :class:`Route` (and profile) per instrument: the
        distinct routes and, per instrument, the index of its route. A class's route is
        worked out once for the first instrument seen in it and kept across calls (equal
        class keys give equal planets, params, path, rule and nodes; its ``values`` stay that
        first instrument's profile; treat its mappings as read-only). Instrument ``i``'s
        ``route_many`` route has the planets, params, path, rule and nodes of
        ``routes[index[i]]`` (only its profile is its own)."""
        counts = [int(bool(h)) for h in has_headlines]
        table = self.classifier.classify_columns(columns, counts)
        fields = self.policy.profile_classes.fields
        return self._classes(columns, counts, {name: table[name] for name in fields})

    def _classes(
        self, columns: Mapping[str, np.ndarray], counts: list[int], table: Mapping[str, Any]
    ) -> tuple[list[Route], list[int]]:
        """The distinct routes and each instrument's index (``table``: the profile fields
        the policy's classes read, as columns)."""
        keys = self.policy.profile_classes.keys(table)
        # each distinct key's first instrument (later rows overwrite earlier ones reversed)
        first = dict(zip(reversed(keys), range(len(keys) - 1, -1, -1), strict=True))
        rows = sorted(first.values())
        slot = {keys[i]: k for k, i in enumerate(rows)}
        known = self._class_routes
        distinct = []
        for i in rows:
            route = known.get(keys[i])
            if route is None:
                row = {name: float(column[i]) for name, column in columns.items()}
                route = self.route(row, bool(counts[i]))
                if len(known) >= _CLASS_ROUTES:
                    known.clear()
                known[keys[i]] = route
            distinct.append(route)
        return distinct, list(map(slot.__getitem__, keys))

    def _skip_reason(self, node: PlanNode, values: Mapping[str, Any]) -> str | None:
        if not node.skip_if or self.policy.static_condition(node.skip_if, values) is not True:
            return None
        return node.skip_reason or f"skip_if [{node.skip_if}]"
