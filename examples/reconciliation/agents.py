"""The seven reconciliation agents: deterministic functions of the break and upstream facts.

Each agent may wait ``delay_ms`` first: the simulated I/O (database, reference data, a model
call) that makes parallel stages pay off. No LLM is involved unless ``recon_agents`` is given
a ``decisioning`` agent (see :mod:`examples.reconciliation.llm`).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Mapping
from typing import Any

from examples.reconciliation.data import FEE_TOLERANCE_USD, MATERIAL_USD
from sun.policy import Agent, AgentCall, NodeOutput

AGENT_NAMES = (
    "BREAK_INGESTION",
    "DATA_ENRICHMENT",
    "MATCHING_CORRELATION",
    "RULES_TOLERANCE",
    "PATTERN_INTELLIGENCE",
    "DECISIONING",
    "WORKFLOW_FEEDBACK",
)
_COMPARED = ("quantity", "price", "fees", "fx_rate", "settle_date")


def _facts(call: AgentCall, node: str) -> Mapping[str, Any]:
    output = call.outputs.get(node)
    return output.facts if output is not None else {}


def differences(inputs: Mapping[str, Any]) -> dict[str, Any] | None:
    """Field differences and the cash gap between the two records (None if unreadable)."""
    internal, broker = inputs["internal"], inputs["broker"]
    if broker is None:
        return {"missing": True, "duplicate": False, "fields": "", "cash_diff": 0.0}
    if any(broker.get(k) is None for k in _COMPARED):
        return None
    fields = [k for k in _COMPARED if broker[k] != internal[k]]
    return {
        "missing": False,
        "duplicate": inputs["duplicate_count"] > 1,
        "fields": ",".join(fields),
        "cash_diff": abs(_cash(broker) - _cash(internal)),
        "fee_diff": abs(broker["fees"] - internal["fees"]),
        "price_rel": abs(broker["price"] - internal["price"]) / internal["price"],
        "qty_diff": abs(broker["quantity"] - internal["quantity"]),
        "fx_rel": abs(broker["fx_rate"] - internal["fx_rate"]) / internal["fx_rate"],
    }


def ingestion(call: AgentCall) -> NodeOutput:
    """Normalise the two records into field differences and the cash gap."""
    facts = differences(call.inputs)
    if facts is None:
        return NodeOutput(ok=False, data={"error": "broker record has empty fields"})
    return NodeOutput(facts=facts)


def enrichment(call: AgentCall) -> NodeOutput:
    """Reference data: notional in USD and whether the settlement dates follow the market lag."""
    internal = call.inputs["internal"]
    notional = (
        abs(internal["quantity"] * internal["price"] * internal["multiplier"]) * internal["fx_rate"]
    )
    return NodeOutput(facts={"notional": notional, "ref_fx_rate": internal["fx_rate"]})


def matching(call: AgentCall) -> NodeOutput:
    """Look for the counterpart: duplicates, missing confirmations, partial fills."""
    facts = _facts(call, "BREAK_INGESTION")
    duplicate = bool(facts.get("duplicate", False))
    missing = bool(facts.get("missing", False))
    confidence = 0.95 if duplicate or missing else 0.9
    return NodeOutput(score=0.0, confidence=confidence,
                      facts={"duplicate": duplicate, "missing": missing, "counterpart": not missing})  # fmt: skip


def tolerance(call: AgentCall) -> NodeOutput:
    """Tolerance rules on the raw records: rounding-sized cash gaps and small fee gaps close."""
    facts = differences(call.inputs) or {}
    fields = str(facts.get("fields", ""))
    cash = float(facts.get("cash_diff", 0.0))
    rounding = fields == "price" and float(facts.get("price_rel", 1.0)) < 1e-4 and cash <= 25.0
    fee = fields == "fees" and float(facts.get("fee_diff", 1e9)) <= FEE_TOLERANCE_USD
    within = bool(rounding or fee) and not facts.get("missing") and not facts.get("duplicate")
    return NodeOutput(
        facts={
            "within_tolerance": within,
            "rule": "rounding" if rounding else ("fee" if fee else "none"),
        }
    )


def pattern(call: AgentCall) -> NodeOutput:
    """Name the likely cause from the pattern of differing fields of the raw records."""
    facts = differences(call.inputs) or {}
    fields = set(str(facts.get("fields", "")).split(",")) - {""}
    cause, confidence = "unknown", 0.4
    if facts.get("missing"):
        cause, confidence = "missing", 0.95
    elif facts.get("duplicate"):
        cause, confidence = "duplicate", 0.95
    elif fields == {"price"}:
        small = float(facts.get("price_rel", 1.0)) < 1e-4
        cause, confidence = ("rounding", 0.85) if small else ("price", 0.9)
    elif len(fields) == 1:
        cause, confidence = {"fees": "fees", "quantity": "quantity", "fx_rate": "fx_rate",
                             "settle_date": "settlement_date"}.get(next(iter(fields)), "unknown"), 0.9  # fmt: skip
    return NodeOutput(confidence=confidence, facts={"cause": cause, "cause_confidence": confidence})


def decisioning(call: AgentCall) -> NodeOutput:
    """auto_resolve within tolerance; correct a confidently explained break; else investigate."""
    rules = _facts(call, "RULES_TOLERANCE")
    found = _facts(call, "PATTERN_INTELLIGENCE")
    material = float(call.profile.get("materiality", 0.0)) >= 1.0
    action = "investigate"
    if rules.get("within_tolerance") and not material:
        action = "auto_resolve"
    elif found.get("cause") in ("missing", "duplicate"):
        action = "investigate"
    elif found.get("cause") == "rounding" and not material:
        action = "auto_resolve"
    elif (
        found.get("cause") not in (None, "unknown")
        and float(found.get("cause_confidence", 0.0)) >= 0.8
    ):
        action = "correct"
    return NodeOutput(score=1.0 if action == "auto_resolve" else 0.0, confidence=0.9,
                      facts={"action": action, "material": material})  # fmt: skip


def feedback(call: AgentCall) -> NodeOutput:
    """Open the work item (queue, priority) and record the outcome for learning."""
    action = _facts(call, "DECISIONING").get("action", "investigate")
    exposure = float(call.profile.get("materiality", 0.0)) * MATERIAL_USD
    priority = "P1" if exposure >= MATERIAL_USD else ("P2" if action != "auto_resolve" else "P3")
    return NodeOutput(facts={"queue": f"recon-{action}", "priority": priority})


_IMPLEMENTATIONS: dict[str, Callable[[AgentCall], NodeOutput]] = {
    "BREAK_INGESTION": ingestion,
    "DATA_ENRICHMENT": enrichment,
    "MATCHING_CORRELATION": matching,
    "RULES_TOLERANCE": tolerance,
    "PATTERN_INTELLIGENCE": pattern,
    "DECISIONING": decisioning,
    "WORKFLOW_FEEDBACK": feedback,
}


def _delayed(fn: Callable[[AgentCall], NodeOutput], delay_ms: float) -> Agent:
    def agent(call: AgentCall) -> NodeOutput:
        if delay_ms > 0:
            time.sleep(delay_ms / 1000.0)
        return fn(call)

    agent.__name__ = fn.__name__
    return agent


def _adelayed(fn: Callable[[AgentCall], NodeOutput], delay_ms: float) -> Agent:
    async def agent(call: AgentCall) -> NodeOutput:
        if delay_ms > 0:
            await asyncio.sleep(delay_ms / 1000.0)
        return fn(call)

    agent.__name__ = fn.__name__
    return agent


def recon_agents(
    delay_ms: float = 0.0,
    *,
    asynchronous: bool = False,
    decisioning: Callable[[AgentCall], NodeOutput] | None = None,
) -> dict[str, Agent]:
    """The seven agents by name, each waiting ``delay_ms`` of simulated I/O first.

    With ``asynchronous=True`` they are coroutines (I/O awaited, as real service calls would
    be) for a graph built with ``build_policy_graph(asynchronous=True)``. ``decisioning``
    replaces the rule-based DECISIONING agent (e.g. ``llm_decisioning(recon_model("local"))``).
    """
    wrap = _adelayed if asynchronous else _delayed
    chosen = dict(_IMPLEMENTATIONS)
    if decisioning is not None:
        chosen["DECISIONING"] = decisioning
    return {name: wrap(fn, delay_ms) for name, fn in chosen.items()}


def run_sequential(
    inputs: Mapping[str, Any], profile: Mapping[str, Any], agents: Mapping[str, Agent]
) -> dict[str, NodeOutput]:
    """The baseline: all seven agents one after another, no policy (for the benchmark)."""
    outputs: dict[str, NodeOutput] = {}
    for name in AGENT_NAMES:
        call = AgentCall(
            node=name, params={}, inputs=inputs, profile=profile, outputs=dict(outputs)
        )
        try:
            raw = agents[name](call)
        except Exception:
            continue
        output = raw if isinstance(raw, NodeOutput) else NodeOutput.model_validate(dict(raw))
        if output.ok:
            outputs[name] = output
    return outputs


def _cash(record: Mapping[str, Any]) -> float:
    sign = -1.0 if record["side"] == "BUY" else 1.0
    gross = record["quantity"] * record["price"] * record["multiplier"] * record["fx_rate"]
    return float(sign * gross - record["fees"])
