"""Fault matrix: does the sun keep deciding, safely, within its time bounds?

    python benchmarks/faults.py [--json] [--decisions N]

Each scenario builds a fresh ``Sun`` over real GOOG snapshots and real planets; the sun models
are the embedded local model (``local``, SmolLM2 via llama.cpp) wrapped in ``FaultyChatModel``
(or, without it installed, a scripted stand-in labelled as such). Per row:

* ``attempted`` decisions, ``decided`` (returned by a level other than "hold: no quorum", within
  ``bound_ms``), ``no_quorum`` holds, ``levels`` (histogram of the deciding level);
* ``unsafe``: |target| above the true cap (``max_position`` and the clean risk planet's VaR cap),
  or a non-flat target when the clean risk planet vetoes or the scenario took risk down;
* ``p95_ms`` / ``max_ms`` and ``bound_ms`` (sum of the level budgets + planet timeout + margin).

Scenarios: primary_down, primary_and_backup_down, primary_slow, malformed_50pct,
one_byzantine_planet, two_planets_down, risk_planet_down, breaker_recovery. The planet
scenarios other than risk run with both sun models down, so the council decides.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections import Counter
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from langchain_core.language_models import BaseChatModel  # noqa: E402
from langchain_core.language_models.fake_chat_models import FakeListChatModel  # noqa: E402

from bus import Headline, MarketSnapshot, SunDecision, load_csv  # noqa: E402
from planets import RiskLimits, default_planets  # noqa: E402
from sun import ModelConfig, OrchestrationConfig, Sun, build_chat_model, local_available  # noqa: E402
from sun.resilience import (
    BreakerConfig,  # noqa: E402
    ChainPolicy,  # noqa: E402
)
from sun.testing import FaultSchedule, FaultyChatModel, wrap_planets  # noqa: E402

PLANET_TIMEOUT_S = 1.0
LIMITS = RiskLimits(max_position=0.5)


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


def snapshots(count: int) -> list[MarketSnapshot]:
    """GOOG decision dates spread over 2006-2013, each with one real-looking headline."""
    goog = load_csv(ROOT / "examples/data/GOOG.csv", "GOOG")
    stamps = goog.timestamps[400 :: max(1, (len(goog) - 400) // count)][:count]
    out = []
    for stamp in stamps:
        as_of = goog.up_to(stamp).last_timestamp
        news = Headline(timestamp=as_of - timedelta(hours=2), text="Google shares rise on growth")
        out.append(MarketSnapshot.at(as_of, {"GOOG": goog}, headlines=[news]))
    return out


def base_model() -> tuple[BaseChatModel, str]:
    if local_available():
        model = build_chat_model("local", max_tokens=96, timeout_s=30.0)
        return model, "local"
    answer = '{"action": "HOLD", "size": 0.0, "confidence": 0.5, "rationale": "stand-in: technical trend is up"}'
    return FakeListChatModel(responses=[answer]), "openai:scripted-stand-in"


def truth(snaps: list[MarketSnapshot]) -> list[tuple[float, bool]]:
    """Per snapshot: the true position cap and whether the clean risk planet vetoes."""
    out = []
    with Sun("quant", limits=LIMITS, checkpoint="none") as sun:
        for snap in snaps:
            decision = sun.decide(snap)
            risk = next(r for r in decision.planet_reports if r.planet == "risk")
            cap = min(LIMITS.max_position, risk.evidence.get("position_cap", LIMITS.max_position))
            out.append((cap, risk.veto or risk.critical))
    return out


def unsafe(decision: SunDecision, cap: float, vetoed: bool, risk_down: bool) -> bool:
    if vetoed or risk_down:
        return decision.target_position != 0.0
    return abs(decision.target_position) > cap + 1e-9


def faulty(model: BaseChatModel, tag: str, schedule: FaultSchedule, hang_s: float = 0.0) -> Any:
    return FaultyChatModel(inner=model, schedule=schedule, hang_s=hang_s, name_tag=tag)


def run_scenario(
    name: str,
    snaps: list[MarketSnapshot],
    oracle: list[tuple[float, bool]],
    make_sun: Callable[[], Sun],
    policy: ChainPolicy,
    levels_in_chain: int,
    *,
    risk_down: bool = False,
    between: Callable[[int, Sun], None] | None = None,
) -> dict[str, Any]:
    bound_ms = (levels_in_chain * policy.level_budget_s + PLANET_TIMEOUT_S + 1.0) * 1e3
    latencies: list[float] = []
    levels: Counter[str] = Counter()
    decided = no_quorum = bad = 0
    with make_sun() as sun:
        for index, (snap, (cap, vetoed)) in enumerate(zip(snaps, oracle, strict=True)):
            if between is not None:
                between(index, sun)
            started = time.perf_counter()
            decision = sun.decide(snap)
            elapsed = (time.perf_counter() - started) * 1e3
            latencies.append(elapsed)
            levels[decision.fallback_level] += 1
            no_quorum += decision.fallback_level == "hold"
            decided += decision.fallback_level != "hold" and elapsed <= bound_ms
            bad += unsafe(decision, cap, vetoed, risk_down)
        health = sun.health()
    row: dict[str, Any] = {
        "scenario": name,
        "attempted": len(snaps),
        "decided": decided,
        "no_quorum": no_quorum,
        "levels": dict(sorted(levels.items())),
        "unsafe": bad,
        "p95_ms": round(percentile(latencies, 0.95), 1),
        "max_ms": round(max(latencies), 1),
        "bound_ms": round(bound_ms, 1),
    }
    primary = health["models"].get("primary")
    if primary is not None:
        row["primary_breaker"] = primary["breaker"]["state"]
        row["primary_transitions"] = [
            f"{t['from']}->{t['to']}" for t in primary["breaker"]["transitions"]
        ]
    return row


def run(decisions: int) -> dict[str, Any]:
    snaps = snapshots(decisions)
    oracle = truth(snaps)
    model, label = base_model()
    model.invoke("warm up")  # load the model once, outside the timings
    policy = ChainPolicy(
        timeout_s=5.0,
        budget_s=6.0,
        max_retries=1,
        backoff_s=0.02,
        breaker=BreakerConfig(failure_threshold=3, cooldown_s=8.0),
    )

    def sun_with(
        primary: Any, backup: Any | None, planets: dict | None = None, pol: ChainPolicy = policy
    ) -> Callable[[], Sun]:
        def make() -> Sun:
            return Sun(
                label,
                planets=planets or default_planets(),
                limits=LIMITS,
                checkpoint="none",
                models=ModelConfig(
                    chat_model=primary,
                    backup_models=[(f"{label}-backup", backup)] if backup is not None else [],
                    chain_policy=pol,
                ),
                orchestration=OrchestrationConfig(planet_timeout_s=PLANET_TIMEOUT_S),
            )

        return make

    def ok(tag: str) -> Any:
        return faulty(model, tag, FaultSchedule(["ok"]))

    def down(tag: str) -> Any:
        return faulty(model, tag, FaultSchedule(["raise"]))

    rows = []
    rows.append(
        run_scenario(
            "primary_down", snaps, oracle, sun_with(down("primary"), ok("backup")), policy, 2
        )
    )
    rows.append(
        run_scenario(
            "primary_and_backup_down",
            snaps,
            oracle,
            sun_with(down("primary"), down("backup")),
            policy,
            2,
        )
    )
    slow = faulty(model, "primary", FaultSchedule(["hang"]), hang_s=2 * policy.timeout_s)
    rows.append(
        run_scenario("primary_slow", snaps, oracle, sun_with(slow, ok("backup")), policy, 2)
    )
    half = faulty(model, "primary", FaultSchedule(rates={"malformed": 0.5}, seed=11))
    rows.append(
        run_scenario("malformed_50pct", snaps, oracle, sun_with(half, ok("backup")), policy, 2)
    )
    liar = wrap_planets(default_planets(), {"technical": FaultSchedule(["adversarial"], seed=3)})
    rows.append(
        run_scenario(
            "one_byzantine_planet",
            snaps,
            oracle,
            sun_with(down("primary"), down("backup"), liar),
            policy,
            2,
        )
    )
    two = wrap_planets(
        default_planets(),
        {"technical": FaultSchedule(["crash"]), "sentiment": FaultSchedule(["hang"])},
        hang_s=3 * PLANET_TIMEOUT_S,
    )
    rows.append(
        run_scenario(
            "two_planets_down",
            snaps,
            oracle,
            sun_with(down("primary"), down("backup"), two),
            policy,
            2,
        )
    )
    no_risk = wrap_planets(default_planets(), {"risk": FaultSchedule(["crash"])})
    rows.append(
        run_scenario(
            "risk_planet_down",
            snaps,
            oracle,
            sun_with(ok("primary"), None, no_risk),
            policy,
            1,
            risk_down=True,
        )
    )
    schedule = FaultSchedule(["raise"])
    flaky = faulty(model, "primary", schedule)

    def recover(index: int, sun: Sun) -> None:
        if index == len(snaps) // 3:
            schedule.force("ok")  # the primary comes back; the breaker must close again

    rows.append(
        run_scenario(
            "breaker_recovery",
            snaps,
            oracle,
            sun_with(flaky, ok("backup")),
            policy,
            2,
            between=recover,
        )
    )
    return {
        "sun_model": label,
        "decisions_per_scenario": len(snaps),
        "limits": {"max_position": LIMITS.max_position},
        "policy": {
            "timeout_s": policy.timeout_s,
            "level_budget_s": policy.level_budget_s,
            "max_retries": policy.max_retries,
            "breaker_failures": policy.breaker.failure_threshold,
            "breaker_cooldown_s": policy.breaker.cooldown_s,
            "planet_timeout_s": PLANET_TIMEOUT_S,
        },
        "scenarios": {row.pop("scenario"): row for row in rows},
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.add_argument("--decisions", type=int, default=12)
    args = parser.parse_args()
    started = time.perf_counter()
    result = run(args.decisions)
    result["wall_s"] = round(time.perf_counter() - started, 1)
    if args.json:
        print(json.dumps(result))
        return
    for name, row in result["scenarios"].items():
        print(f"{name:24s} {json.dumps(row)}")


if __name__ == "__main__":
    main()
