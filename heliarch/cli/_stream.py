"""Live views: ``heliarch decide --stream`` steps and the backtest progress line."""

from __future__ import annotations

from typing import Any

from rich.console import Console
from rich.markup import escape

from bus import MarketSnapshot, SunDecision


def describe_event(mode: str, data: Any) -> str | None:
    """One line for a stream item, or None for items not worth a line."""
    if mode == "updates" and isinstance(data, dict):
        return f"[dim]step[/dim] {', '.join(data)}"
    if mode == "custom" and isinstance(data, dict):
        kind = data.get("event")
        if kind == "planet":
            extra = f"  [red]{escape(str(data['error']))}[/red]" if data.get("error") else ""
            return (
                f"  planet {data['planet']}: score {data['score']:+.3f} "
                f"conf {data['confidence']:.2f} ({data['ms']:.1f} ms){extra}"
            )
        if kind == "level":
            verdict = "ok" if data.get("ok") else escape(str(data.get("error")))
            return f"  level {data['level']}: {verdict}"
        if kind == "reasoned":
            return (
                f"  reasoned at {data['level']} by {data['reasoner']}: {data['action']} "
                f"({data['llm_calls']} LLM calls, ${data['cost_usd']:.6f})"
            )
    if mode == "messages":
        chunk = data[0] if isinstance(data, tuple) else data
        text = str(getattr(chunk, "content", ""))[:120]
        return f"  [dim]model:[/dim] {escape(text)}" if text else None
    return None


def stream_decision(sun: Any, snapshot: MarketSnapshot, console: Console) -> SunDecision:
    """Decide with ``sun.stream``, printing each step as it happens; returns the decision."""
    decision: SunDecision | None = None
    for mode, data in sun.stream(snapshot, stream_mode=["updates", "custom", "messages"]):
        line = describe_event(mode, data)
        if line is not None:
            console.print(line)
        if mode == "updates" and isinstance(data, dict) and "propagate" in data:
            decision = data["propagate"]["decision"]
    if decision is None:
        raise RuntimeError("the graph finished without a decision")
    return decision
