"""The reference: the same hierarchy built the straightforward LangGraph way.

sun -> route -> Send per planet -> each planet a nested compiled subgraph -> Send per moon (each moon
computed on its own over the full history, no fused panel, no cache) -> score -> quant
reasoning -> guard. Planet scoring, reasoning and guard are the project's own, so only the
orchestration differs from the fast path.
"""

from __future__ import annotations

import operator
from typing import Annotated, Any, TypedDict

import numpy as np
from langgraph.graph import END, START, StateGraph
from langgraph.types import Send

from bus import MarketSnapshot, PlanetReport
from moons import batch
from planets import PlanetContext, RiskLimits, default_planets
from sun import QuantReasoner, ReasonInputs, RoutingTree, guard


def _moon_functions() -> dict[str, Any]:
    def last(values: np.ndarray) -> float:
        return float(values[-1])

    return {
        "close": lambda b: float(b.close[-1]),
        "sma": lambda b: last(batch.sma(b.close, 20)),
        "ema": lambda b: last(batch.ema(b.close, 20)),
        "macd_hist": lambda b: last(batch.macd(b.close, 12, 26, 9)[2]),
        "atr": lambda b: last(batch.atr(b.high, b.low, b.close, 14)),
        "rsi": lambda b: last(batch.rsi(b.close, 14)),
        "bb_pctb": lambda b: last(batch.bollinger(b.close, 20, 2.0)[3]),
        "ret_z": lambda b: last(batch.ret_z(b.close, 20)),
        "var95": lambda b: last(batch.var_cvar(b.close, 250)[0]),
        "cvar95": lambda b: last(batch.var_cvar(b.close, 250)[1]),
        "max_drawdown": lambda b: last(batch.max_drawdown(b.close, 60)),
        "realized_vol": lambda b: last(batch.realized_vol(b.close, 20, 252)),
        "volume_z": lambda b: last(batch.volume_z(b.volume, 20)),
    }


MOON_FUNCTIONS = _moon_functions()


class PlanetState(TypedDict, total=False):
    planet: str
    snapshot: MarketSnapshot
    instrument: str
    params: dict[str, Any]
    moon_values: Annotated[dict[str, float], operator.or_]
    report: PlanetReport


class NaiveState(TypedDict, total=False):
    snapshot: MarketSnapshot
    instrument: str
    params: dict[str, Any]
    reports: Annotated[list[PlanetReport], operator.add]
    decision: Any


def build_naive_graph(limits: RiskLimits | None = None) -> Any:
    """Compile the naive hierarchy."""
    limits = limits or RiskLimits()
    planets = default_planets()

    def planet_graph(name: str) -> Any:
        planet = planets[name]

        def fan_moons(state: PlanetState) -> list[Send] | str:
            sends = [Send("moon", {**state, "moon": m}) for m in planet.moons]
            return sends or "score"

        def moon(task: dict[str, Any]) -> PlanetState:
            series = task["snapshot"].bars[task["instrument"]]
            return {"moon_values": {task["moon"]: MOON_FUNCTIONS[task["moon"]](series)}}

        def score(state: PlanetState) -> PlanetState:
            context = PlanetContext(
                instrument=state["instrument"],
                as_of=state["snapshot"].as_of,
                moons=state.get("moon_values", {}),
                snapshot=state["snapshot"],
                limits=limits,
                params=state.get("params", {}),
            )
            return {"report": planet.report(context)}

        builder = StateGraph(PlanetState)
        builder.add_node("moon", moon)
        builder.add_node("score", score)
        builder.add_conditional_edges(START, fan_moons, ["moon", "score"])
        builder.add_edge("moon", "score")
        builder.add_edge("score", END)
        return builder.compile()

    subgraphs = {name: planet_graph(name) for name in planets}

    def ingest(state: NaiveState) -> NaiveState:
        snapshot = MarketSnapshot.model_validate(state["snapshot"].model_dump())
        return {"snapshot": snapshot, "instrument": snapshot.instruments[0]}

    def route(state: NaiveState) -> NaiveState:
        series = state["snapshot"].bars[state["instrument"]]
        needed = ("close", "sma", "atr", "volume_z")
        values = {name: MOON_FUNCTIONS[name](series) for name in needed}
        chosen = RoutingTree().route(values, bool(state["snapshot"].headlines))
        return {"params": {k: dict(v) for k, v in chosen.params.items()}}

    def consult(task: dict[str, Any]) -> NaiveState:
        out = subgraphs[task["planet"]].invoke(
            {
                "planet": task["planet"],
                "snapshot": task["snapshot"],
                "instrument": task["instrument"],
                "params": task["params"].get(task["planet"], {}),
            }
        )
        return {"reports": [out["report"]]}

    def reason(state: NaiveState) -> NaiveState:
        reports = tuple(sorted(state["reports"], key=lambda r: r.planet))
        inputs = ReasonInputs(
            instrument=state["instrument"],
            as_of=state["snapshot"].as_of.isoformat(),
            reports=reports,
            recalled=(),
            limits=limits,
            directional=frozenset({"technical", "sentiment"}),
        )
        guarded, _ = guard(QuantReasoner().reason(inputs), reports, limits)
        return {"decision": guarded}

    builder = StateGraph(NaiveState)
    builder.add_node("ingest", ingest)
    builder.add_node("route", route)
    builder.add_node("consult", consult)
    builder.add_node("reason", reason)
    builder.add_edge(START, "ingest")
    builder.add_edge("ingest", "route")
    builder.add_conditional_edges(
        "route",
        lambda s: [
            Send(
                "consult",
                {
                    "planet": p,
                    "snapshot": s["snapshot"],
                    "instrument": s["instrument"],
                    "params": s["params"],
                },  # fmt: skip
            )
            for p in ("technical", "risk", "sentiment", "execution")
        ],
        ["consult"],
    )
    builder.add_edge("consult", "reason")
    builder.add_edge("reason", END)
    return builder.compile()
