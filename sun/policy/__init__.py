"""Policies, not code: profiles -> declarative plans (YAML + CEL) -> a LangGraph executor.

    from sun.policy import (PolicyContext, TradingClassifier, build_policy_graph, load_policy,
                            run_policy, shipped_policy)
    policy = load_policy(shipped_policy("trading_default"))
    resolved = policy.select(TradingClassifier().classify(moon_row, headline_count=2))
    run = run_policy(build_policy_graph(), resolved, inputs, PolicyContext(agents=agents))

``check_policy(path)`` lists problems as file:line errors (``heliarch policy check``);
``Policy.explain(profile).render()`` shows each rule's verdict and the plan (``heliarch policy
explain``); ``PolicyStore`` reloads a file atomically; ``ReviewDesk`` lists, shows, approves,
rejects or modifies pending reviews over a checkpointer (``heliarch review``). Inside a sun
graph node: build agents with ``planet_agent(planet, planet_context)`` (plus the reasoner), the
profile with ``trading_profile(planet_context)``, then ``run_policy``/``arun_policy``; the
returned ``PolicyRun`` says which planets ran, the disposition and the trace.
"""

from pathlib import Path

from sun.policy._classes import ProfileClasses
from sun.policy._errors import PolicyError, PolicyLoadError
from sun.policy._executor import NodeTask, PolicyContext, PolicyState, build_policy_graph
from sun.policy._model import (
    AgentSpec,
    Budget,
    Checkpoint,
    FailureRule,
    Group,
    Plan,
    PlanNode,
    PolicyDoc,
    Rule,
    Then,
)
from sun.policy._outputs import summarize
from sun.policy._policy import (
    Explanation,
    Policy,
    ResolvedPlan,
    RuleCheck,
    check_policy,
    explain,
    load_policy,
)
from sun.policy._profile import (
    Profile,
    TradingClassifier,
    TradingProfile,
    profile_names,
    profile_type,
    register_profile,
)
from sun.policy._review import PendingReview, ReviewDesk
from sun.policy._run import (
    aresume_policy,
    arun_policy,
    new_thread_id,
    outcome_of,
    resume_policy,
    run_config,
    run_policy,
)
from sun.policy._schedule import required_missing
from sun.policy._schema import SCHEMA_PATH, policy_json_schema, write_json_schema
from sun.policy._store import PolicyStore
from sun.policy._trading import planet_agent, trading_profile
from sun.policy._types import (
    Agent,
    AgentCall,
    Alert,
    AlertSink,
    CheckpointRecord,
    Disposition,
    NodeOutput,
    PolicyRun,
    ReviewDecision,
    TraceEntry,
    Usage,
)

POLICY_DIR = Path(__file__).with_name("policies")


def shipped_policy(name: str) -> Path:
    """Path of a policy shipped with heliarch (``trading_default``, ``trading_guarded``)."""
    path = POLICY_DIR / f"{name}.yaml"
    if not path.is_file():
        known = sorted(p.stem for p in POLICY_DIR.glob("*.yaml"))
        raise FileNotFoundError(f"no shipped policy {name!r}; known: {known}")
    return path


__all__ = [
    "POLICY_DIR",
    "SCHEMA_PATH",
    "Agent",
    "AgentCall",
    "AgentSpec",
    "Alert",
    "AlertSink",
    "Budget",
    "Checkpoint",
    "CheckpointRecord",
    "Disposition",
    "Explanation",
    "FailureRule",
    "Group",
    "NodeOutput",
    "NodeTask",
    "PendingReview",
    "Plan",
    "PlanNode",
    "Policy",
    "PolicyContext",
    "PolicyDoc",
    "PolicyError",
    "PolicyLoadError",
    "PolicyRun",
    "PolicyState",
    "PolicyStore",
    "Profile",
    "ProfileClasses",
    "ResolvedPlan",
    "ReviewDecision",
    "ReviewDesk",
    "Rule",
    "RuleCheck",
    "Then",
    "TraceEntry",
    "TradingClassifier",
    "TradingProfile",
    "Usage",
    "aresume_policy",
    "arun_policy",
    "build_policy_graph",
    "check_policy",
    "explain",
    "load_policy",
    "new_thread_id",
    "outcome_of",
    "planet_agent",
    "policy_json_schema",
    "profile_names",
    "profile_type",
    "register_profile",
    "resume_policy",
    "run_config",
    "run_policy",
    "shipped_policy",
    "required_missing",
    "summarize",
    "trading_profile",
    "write_json_schema",
]
