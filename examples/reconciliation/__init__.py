"""Trade reconciliation built on the heliarch policy engine (no LLM needed; with a model spec,
DECISIONING asks it: ``recon_agents(decisioning=llm_decisioning(recon_model("local")))``).

``generate_breaks`` derives internal trades from the bundled bars and a broker file with
labelled injected breaks; ``BreakClassifier`` profiles a break; ``recon_agents`` are the seven
agents; ``RECON_POLICY`` holds the simple / medium / complex reference rules.
"""

from examples.reconciliation.agents import AGENT_NAMES, recon_agents, run_sequential
from examples.reconciliation.data import (
    BREAK_KINDS,
    Break,
    Dataset,
    Trade,
    Truth,
    generate_breaks,
    write_files,
)
from examples.reconciliation.llm import ReconAnswer, llm_decisioning, recon_model
from examples.reconciliation.profile import RECON_POLICY, BreakClassifier, BreakProfile

__all__ = [
    "AGENT_NAMES",
    "BREAK_KINDS",
    "RECON_POLICY",
    "ReconAnswer",
    "Break",
    "BreakClassifier",
    "BreakProfile",
    "Dataset",
    "Trade",
    "Truth",
    "generate_breaks",
    "llm_decisioning",
    "recon_agents",
    "recon_model",
    "run_sequential",
    "write_files",
]
