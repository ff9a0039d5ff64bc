"""Fault drill: watch the sun's fallback chain degrade and recover, decision by decision.

Run: ``python examples/fault_drill.py [--stand-in] [--per-phase N]``. The sun models are the
embedded local model (SmolLM2 via llama.cpp) behind ``FaultyChatModel`` -- or, with
``--stand-in`` or without the local model installed, a fixed-answer stand-in. Phases:

1. healthy: the primary decides;
2. primary down: connection errors, retries, the breaker opens, the backup decides;
3. primary and backup down: the planet council decides;
4. ... and the technical planet lies (adversarial extreme): the council trims it;
5. ... and the risk planet crashes: risk fails closed, HOLD;
6. recovery: both models come back, the primary's breaker probes half-open and closes.
"""

from __future__ import annotations

import argparse
import time
from datetime import timedelta
from pathlib import Path

from langchain_core.language_models.fake_chat_models import FakeListChatModel
from rich.console import Console
from rich.table import Table

from bus import Headline, MarketSnapshot, load_csv
from planets import RiskLimits, default_planets
from sun import ModelConfig, Sun, SunHooks, build_chat_model, local_available
from sun.resilience import BreakerConfig, ChainPolicy
from sun.testing import FaultSchedule, FaultyChatModel, wrap_planets

DATA = Path(__file__).resolve().parent / "data"
STAND_IN = '{"action": "BUY", "size": 0.2, "confidence": 0.5, "rationale": "stand-in model: technical trend is up"}'


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--stand-in", action="store_true", help="skip the local model")
    parser.add_argument("--per-phase", type=int, default=3, help="decisions per phase")
    args = parser.parse_args()
    console = Console(width=max(Console().width, 150))

    use_local = local_available() and not args.stand_in
    if use_local:
        model = build_chat_model("local", max_tokens=96, timeout_s=30.0)
        console.print("loading the local model ...")
        model.invoke("warm up")
        label = "local"
    else:
        model, label = FakeListChatModel(responses=[STAND_IN]), "openai:stand-in"

    primary_faults, backup_faults = FaultSchedule(["ok"]), FaultSchedule(["ok"])
    tech_faults, risk_faults = FaultSchedule(["ok"], seed=1), FaultSchedule(["ok"])
    planets = wrap_planets(default_planets(), {"technical": tech_faults, "risk": risk_faults})
    policy = ChainPolicy(
        timeout_s=8.0, backoff_s=0.05, breaker=BreakerConfig(failure_threshold=2, cooldown_s=1.5)
    )
    events: list[str] = []
    sun = Sun(
        label,
        planets=planets,
        limits=RiskLimits(max_position=0.5),
        checkpoint="none",
        models=ModelConfig(
            chat_model=FaultyChatModel(inner=model, schedule=primary_faults, name_tag="primary"),
            backup_models=[
                (f"{label}-backup", FaultyChatModel(inner=model, schedule=backup_faults))
            ],
            chain_policy=policy,
        ),
        hooks=SunHooks(
            health_listener=lambda e: events.append(
                f"{e['level']}: {e.get('from', '')}->{e.get('to', '')} {e['reason']}"
            )
        ),
    )
    goog = load_csv(DATA / "GOOG.csv", "GOOG")
    stamps = goog.timestamps[1500::20]

    phases = [
        ("healthy", {}),
        ("primary down", {"primary": "raise"}),
        ("primary + backup down", {"backup": "raise"}),
        ("+ technical planet lies", {"technical": "adversarial"}),
        ("+ risk planet crashes", {"risk": "crash"}),
        ("recovery", {"primary": None, "backup": None, "technical": None, "risk": None}),
    ]
    schedules = {
        "primary": primary_faults,
        "backup": backup_faults,
        "technical": tech_faults,
        "risk": risk_faults,
    }
    table = Table(title=f"fault drill (sun model: {label})")
    for column in ("phase", "level", "action", "target", "ms", "primary breaker", "why"):
        table.add_column(column)
    step = 0
    for phase, changes in phases:
        for name, fault in changes.items():
            schedules[name].force(fault)
        if phase == "recovery":
            time.sleep(policy.breaker.cooldown_s)  # let the breaker's cool-down pass
        for _ in range(args.per_phase):
            as_of = goog.up_to(stamps[step % len(stamps)]).last_timestamp
            step += 1
            news = Headline(timestamp=as_of - timedelta(hours=1), text="Google shares rise")
            snapshot = MarketSnapshot.at(as_of, {"GOOG": goog}, headlines=[news])
            started = time.perf_counter()
            decision = sun.decide(snapshot)
            elapsed = (time.perf_counter() - started) * 1e3
            failed = [
                f"{a.level.split(':')[0]}: {(a.error or '')[:40]}"
                for a in decision.attempts
                if not a.ok
            ]
            if decision.fallback_level in ("council", "hold"):
                failed = [decision.rationale.split(" (")[0].removeprefix("[council] ")]
            breaker = sun.health()["models"]["primary"]["breaker"]["state"]
            table.add_row(
                phase,
                decision.fallback_level,
                decision.action,
                f"{decision.target_position:+.3f}",
                f"{elapsed:.0f}",
                breaker,
                ("; ".join(failed) or "-")[:110],
            )
    console.print(table)
    console.print("[bold]breaker transitions[/bold]")
    for event in events:
        console.print(f"  {event[:140]}")
    sun.close()


if __name__ == "__main__":
    main()
