"""Human-readable rendering of decisions and moon panels (rich tables)."""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from bus import MoonPanel, SunDecision


def _fmt(value: float) -> str:
    return "NaN (warm-up)" if not math.isfinite(value) else f"{value:.6g}"


def render_decision(decision: SunDecision, console: Console | None = None) -> None:
    """Print the decision, every planet report with its evidence, and the LLM usage."""
    console = console or Console()
    colour = {"BUY": "green", "SELL": "red", "HOLD": "yellow"}[decision.action]
    console.print(
        f"[bold]{decision.instrument}[/bold] @ {decision.as_of:%Y-%m-%d %H:%M}  "
        f"[bold {colour}]{decision.action}[/bold {colour}] target {decision.target_position:+.3f}  "
        f"confidence {decision.confidence:.2f}"
    )
    console.print(
        f"reasoner: [bold]{decision.reasoner}[/bold]   level: {decision.fallback_level}"
        + (
            f"   prompt: {decision.prompt.name} v{decision.prompt.version}"
            if decision.prompt
            else ""
        )
    )
    console.print(
        f"disposition: [bold]{decision.disposition}[/bold]"
        + (f" ({escape(decision.disposition_reason)})" if decision.disposition_reason else "")
    )
    if decision.review is not None:
        review = decision.review
        who = f" by {review.by}" if review.by else ""
        where = f"  thread_id {review.thread_id}" if review.thread_id else ""
        console.print(f"review: {review.status}{escape(who)}{where}")
    if decision.alert is not None:
        console.print(f"alert: {escape(decision.alert.reason)} (no order)")
    console.print(f"rationale: {escape(decision.rationale)}")
    for attempt in decision.attempts:
        status = "ok" if attempt.ok else f"failed: {escape(attempt.error or '')}"
        console.print(f"  attempt {attempt.level}: {status} ({attempt.latency_ms:.0f} ms)")
    for correction in decision.corrections:
        console.print(
            f"  guard {correction.rule}: {correction.before:+.3f} -> {correction.after:+.3f} "
            f"({escape(correction.reason)})"
        )
    table = Table(title="planet reports", show_lines=False)
    for column in ("planet", "score", "conf", "data", "veto", "evidence"):
        table.add_column(column)
    for report in decision.planet_reports:
        evidence = ", ".join(f"{k}={_fmt(v)}" for k, v in report.evidence.items())
        table.add_row(
            report.planet,
            f"{report.score:+.3f}",
            f"{report.confidence:.2f}",
            "yes" if report.has_data else "NO DATA",
            escape(report.veto_reason or ""),
            escape(evidence or "; ".join(report.recommendations)),
        )
    console.print(table)
    if decision.order_intent is not None:
        order = decision.order_intent
        console.print(
            f"order intent: {order.side} {order.quantity:,.2f} {order.instrument} "
            f"@ ~{order.reference_price:,.4g} (notional {order.notional:,.0f})"
            + (f" caps: {', '.join(order.caps)}" if order.caps else "")
        )
    render_trace(decision, console)
    usage = decision.llm_usage
    console.print(
        f"LLM usage: {usage.calls} call(s), {usage.prompt_tokens} prompt + "
        f"{usage.completion_tokens} completion tokens, {usage.latency_ms:.0f} ms, "
        f"{usage.cache_hits} cache hit(s)"
    )


def render_trace(decision: SunDecision, console: Console) -> None:
    """Print the decision's execution trace: each node ran / skipped / expanded, why, how long."""
    if not decision.trace:
        return
    table = Table(title="execution trace", show_lines=False)
    for column in ("node", "status", "ms", "why"):
        table.add_column(column)
    colours = {"ran": "green", "skipped": "yellow", "expanded": "cyan", "failed": "red"}
    for step in decision.trace:
        colour = colours[step.status]
        table.add_row(
            step.node,
            f"[{colour}]{step.status}[/{colour}]",
            f"{step.duration_ms:.2f}" if step.status != "skipped" else "",
            escape(step.reason),
        )
    console.print(table)


def render_panel(panel: MoonPanel, console: Console | None = None) -> None:
    """Print a moon panel: one column per instrument."""
    console = console or Console()
    table = Table(title=f"moon panel as of {panel.as_of:%Y-%m-%d %H:%M}")
    table.add_column("moon")
    instruments = list(panel.values)
    for name in instruments:
        table.add_column(name, justify="right")
    moons = list(panel.values[instruments[0]])
    for moon in moons:
        table.add_row(moon, *(_fmt(panel.values[i][moon]) for i in instruments))
    console.print(table)
    console.print(f"cache: {panel.cache_hits} hit(s), {panel.cache_misses} miss(es)")


def _figure(value: Any, spec: str) -> str:
    return (
        "n/a"
        if value is None or (isinstance(value, float) and math.isnan(value))
        else format(value, spec)
    )


def authority_line(grant: Mapping[str, Any] | None) -> str:
    """One line: a model level's authority and the measured figures it rests on."""
    if not grant:
        return "authority: decide (quant reasoner, no LLM)"
    level = grant["authority"]
    if "invalid_share" not in grant:
        return f"authority: {level} ({grant.get('source', 'configured')})"
    low, high = grant.get("sensitivity_ci") or (None, None)
    return (
        f"authority: {level} (check of {str(grant.get('measured', '?'))[:10]}, "
        f"{grant.get('prompt')}: input sensitivity {_figure(grant.get('sensitivity'), '+.2f')} "
        f"[{_figure(low, '+.2f')}, {_figure(high, '+.2f')}] over {grant.get('pairs')} mirrored "
        f"pairs, invalid answers {_figure(grant.get('invalid_share'), '.0%')} of "
        f"{2 * int(grant.get('dates') or 0)}, latency p95 "
        f"{_figure(grant.get('latency_p95_ms'), '.0f')} ms)"
    )
