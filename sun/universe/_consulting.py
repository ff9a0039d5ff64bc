"""A universe pass's planets: the route of every instrument (over arrays where the router
can), then each planet scoring all its instruments in one batch, failures contained per
instrument; and memory's recall."""

from __future__ import annotations

import operator
import time
from itertools import repeat
from typing import Any, TypeGuard

import numpy as np

from bus import (
    PlanetReport,
)
from planets import Planet, PlanetBatch, VectorPlanet, report_many
from sun._policy_router import PolicyRouter
from sun._routing import Router, RoutingTree
from sun.universe._working import Reports, RunData

_PLANET = operator.attrgetter("planet")


class Consulting(RunData):
    """Routing, planet batches and recall of one pass."""

    def _route(self) -> list[dict[str, Any]]:
        """The router's choice per live instrument; the risk planet always added."""
        context = self.context
        router = context.orchestration.router
        untagged = any(h.instrument is None for h in self.snapshot.headlines)
        tagged = {h.instrument for h in self.snapshot.headlines}
        headlines = [untagged or self.names[i] in tagged for i in self.live]
        index: list[int] | None = None
        if _vectorized(router):
            columns = self.columns_of(self.live)
            flags = np.array(headlines, dtype=np.bool_)
            if isinstance(router, PolicyRouter):  # one route per class of profiles
                chosen, index = router.route_classes(columns, flags)
            else:
                chosen = router.route_many(columns, flags)
        else:
            chosen = [
                router.route(self.moons[i], h) for i, h in zip(self.live, headlines, strict=True)
            ]
        # routes repeat (route_many shares planets and params within a class): finish each
        # distinct one once
        known: dict[tuple[tuple[str, ...], int, str, tuple[str, ...]], dict[str, Any]] = {}
        routes = []
        for route in chosen:
            key = (route.planets, id(route.params), route.rule, route.path)
            if key not in known:
                planets = [p for p in route.planets if p in context.planets]
                if self.risk_planet not in planets:
                    planets.append(self.risk_planet)
                known[key] = {"planets": tuple(planets), "params": dict(route.params),
                              "rule": route.rule, "path": route.path}  # fmt: skip
            routes.append(known[key])
        if index is not None:
            routes = [routes[k] for k in index]
        return routes

    def _consult(self, routes: list[dict[str, Any]]) -> list[Reports]:
        """Every routed planet's reports: one batch per planet (vectorized where it can)."""
        groups = _by_route(routes)  # routes repeat: instruments grouped by distinct route
        collected: list[tuple[str, list[int], list[PlanetReport]]] = []
        for name, planet in sorted(self.context.planets.items()):
            asked = [(route, ks) for route, ks in groups if name in route["planets"]]
            if not asked:
                continue
            ks = asked[0][1] if len(asked) == 1 else sorted(k for _, g in asked for k in g)
            batch = self._batch([self.live[k] for k in ks], _params_of(name, asked, routes, ks))
            started = time.perf_counter()
            got, errors = self._ask(planet, batch)
            latency = (time.perf_counter() - started) * 1e3
            error = next((e for e in errors if e is not None), None)
            self.context.health.beat("planet", name, latency, error is None, error)
            collected.append((name, ks, got))
            if error is not None:
                for k, failure in zip(ks, errors, strict=True):
                    if failure is not None:
                        self.failed[k][name] = failure
        return _per_instrument(collected, len(self.live))

    def _batch(self, indices: list[int], params: list[dict[str, Any]]) -> PlanetBatch:
        return PlanetBatch(
            instruments=tuple(self.names[i] for i in indices),
            as_of=self.as_of,
            moons=self.columns_of(indices),
            snapshot=self.snapshot,
            view=self.view,
            limits=self.context.limits,
            params=params,
        )

    def _ask(
        self, planet: Planet, batch: PlanetBatch
    ) -> tuple[list[PlanetReport], list[str | None]]:
        """The batch's reports and each one's error; a failing planet gives "no data" naming
        the failure, per instrument when it is asked one by one (one bad instrument never
        sinks the rest)."""
        if isinstance(planet, VectorPlanet):
            try:
                return report_many(planet, batch), [None] * len(batch)
            except Exception:  # contained: retried one instrument at a time below
                pass
        timeout = self.context.orchestration.planet_timeout_s
        reports: list[PlanetReport] = []
        errors: list[str | None] = []
        pool = self.context.workers.pool() if timeout is not None else None
        contexts = [batch.context(i) for i in range(len(batch))]
        futures = [pool.submit(planet.report, c) for c in contexts] if pool else None
        deadline = time.monotonic() + (timeout or 0.0)
        for i, planet_input in enumerate(contexts):
            try:
                if futures is None:
                    report = planet.report(planet_input)
                else:
                    report = futures[i].result(max(0.0, deadline - time.monotonic()))
                reports.append(PlanetReport.model_validate(report.model_dump()))
                errors.append(None)
                continue
            except TimeoutError:
                error = f"planet timed out after {timeout:g}s"
            except Exception as failure:  # contained like the graph's consult node
                error = f"planet failed: {type(failure).__name__}: {failure}"
            errors.append(error)
            reports.append(planet.no_data(planet_input, {}, error[:300]))
        return reports, errors

    def _recall(self) -> list[tuple[str, ...]]:
        recaller = self.context.recaller
        if recaller is None:
            return [() for _ in self.live]
        panel = self.panel(range(len(self.names)))
        return [tuple(recaller(self.names[i], panel)) for i in self.live]


def _by_route(routes: list[dict[str, Any]]) -> list[tuple[dict[str, Any], list[int]]]:
    """Each distinct route (by identity) with the positions routed by it, ascending."""
    groups: dict[int, tuple[dict[str, Any], list[int]]] = {}
    for k, route in enumerate(routes):
        group = groups.get(id(route))
        if group is None:
            groups[id(route)] = (route, [k])
        else:
            group[1].append(k)
    return list(groups.values())


def _per_instrument(
    collected: list[tuple[str, list[int], list[PlanetReport]]], n: int
) -> list[Reports]:
    """Each instrument's reports sorted by planet, from each planet's (name, positions,
    reports) in name order. When every report carries its batch's planet name (the usual
    case), each instrument's reports come out in name order as they are gathered; when every
    planet also reported on all ``n`` instruments, they are read off column by column."""
    named = all(_all_named(name, got) for name, _, got in collected)
    if collected and named and all(len(ks) == n for _, ks, _ in collected):
        # positions are distinct and in range(n): each planet's rows are in instrument order
        return list(zip(*(got for _, _, got in collected), strict=True))
    reports: list[list[PlanetReport]] = [[] for _ in range(n)]
    for _, ks, got in collected:
        for k, report in zip(ks, got, strict=True):
            reports[k].append(report)
    if named:
        return list(map(tuple, reports))
    return [tuple(sorted(rs, key=_PLANET)) for rs in reports]


def _all_named(name: str, reports: list[PlanetReport]) -> bool:
    """Whether every report carries planet ``name`` (its batch's planet)."""
    return all(map(operator.eq, repeat(name), map(_PLANET, reports)))


def _params_of(
    name: str,
    asked: list[tuple[dict[str, Any], list[int]]],
    routes: list[dict[str, Any]],
    ks: list[int],
) -> list[dict[str, Any]]:
    """Planet ``name``'s routing parameters per position in ``ks``, each a dict of its own;
    none when no route that asks it gives it any (the batch then hands each an empty dict)."""
    if not any(route["params"].get(name) for route, _ in asked):
        return []
    return [dict(routes[k]["params"].get(name) or {}) for k in ks]


def _vectorized(router: Router) -> TypeGuard[RoutingTree | PolicyRouter]:
    """Whether ``router.route_many`` is the array form of its ``route`` (neither overridden)."""
    if isinstance(router, RoutingTree):
        tree = type(router)
        return tree.route is RoutingTree.route and tree.route_many is RoutingTree.route_many
    if isinstance(router, PolicyRouter):
        kind = type(router)
        return kind.route is PolicyRouter.route and kind.route_many is PolicyRouter.route_many
    return False
