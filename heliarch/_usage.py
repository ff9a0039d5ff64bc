"""``heliarch usage``: what the LLMs cost, per decision and per model, and what caches saved.

Reads a backtest JSON report (``heliarch backtest --json`` / ``--out``) or a decision journal
(JSONL, ``sun.replay.record``): every object in it shaped like a ``SunDecision`` counts.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from bus import LlmUsage, SunDecision
from heliarch.backtest import usage_summary


def _decisions_in(node: Any) -> Iterator[SunDecision]:
    if isinstance(node, dict):
        if "llm_usage" in node and "fallback_level" in node and "reasoner" in node:
            yield SunDecision.model_validate(node)
            return
        for value in node.values():
            yield from _decisions_in(value)
    elif isinstance(node, list):
        for value in node:
            yield from _decisions_in(value)


def journal_usage(path: Path) -> dict[str, Any]:
    """Usage report over every decision in a JSONL journal."""
    total, costs = LlmUsage(), []
    by_model: dict[str, LlmUsage] = {}
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError as error:
            raise ValueError(f"{path}:{number}: not a JSON line ({error.msg})") from None
        for decision in _decisions_in(record):
            usage = decision.llm_usage
            total = total + usage
            costs.append(usage.cost_usd)
            if usage != LlmUsage():
                by_model[decision.reasoner] = by_model.get(decision.reasoner, LlmUsage()) + usage
    if not costs:
        raise ValueError(f"{path}: no decisions found (expected a decision journal)")
    return _report(str(path), "journal", len(costs), total, by_model, max(costs))


def backtest_usage(path: Path, report: dict[str, Any]) -> dict[str, Any]:
    """Usage report of a backtest JSON report (needs its ``llm`` section)."""
    llm = report.get("llm")
    if not isinstance(llm, dict):
        raise ValueError(f"{path}: not a backtest report (no 'llm' section)")
    total = LlmUsage(
        calls=llm.get("calls", 0),
        prompt_tokens=llm.get("prompt_tokens", 0),
        completion_tokens=llm.get("completion_tokens", 0),
        cache_hits=llm.get("cache_hits", 0),
        cost_usd=llm.get("cost_usd", 0.0),
        cache_saved_usd=llm.get("cache_saved_usd", 0.0),
    )
    by_model = {
        model: LlmUsage.model_validate(entry)
        for model, entry in (report.get("llm_by_model") or {}).items()
    }
    return _report(str(path), "backtest", int(report.get("decisions", 0)), total, by_model, None)


def _report(
    source: str,
    kind: str,
    decisions: int,
    total: LlmUsage,
    by_model: dict[str, LlmUsage],
    max_cost: float | None,
) -> dict[str, Any]:
    out = {
        "source": source,
        "kind": kind,
        "decisions": decisions,
        "total": usage_summary(total),
        "cost_per_decision_usd": round(total.cost_usd / max(1, decisions), 8),
        "calls_per_decision": round(total.calls / max(1, decisions), 4),
        "cache_saved_usd": round(total.cache_saved_usd, 6),
        "by_model": {model: usage_summary(u) for model, u in sorted(by_model.items())},
    }
    if max_cost is not None:
        out["max_cost_per_decision_usd"] = round(max_cost, 8)
    return out


def usage_report(path: Path) -> dict[str, Any]:
    """The usage report of a backtest JSON report or a JSONL decision journal.

    Raises:
        ValueError: The file is neither (the message says what was expected).
    """
    text = path.read_text(encoding="utf-8")
    try:
        whole = json.loads(text)
    except json.JSONDecodeError:
        return journal_usage(path)
    if isinstance(whole, dict) and "llm" in whole:
        return backtest_usage(path, whole)
    return journal_usage(path)
