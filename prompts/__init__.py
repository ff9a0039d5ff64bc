"""Versioned prompt templates (files in ``prompts/templates`` and the user prompt directory),
their registry (pin, rollback, diff, lineage), and evolution by sequential A/B tests.
"""

from prompts._evolution import Evaluator, Evolution, LiveExperiment, TrialScore, decision_utility
from prompts._paths import user_prompt_dir
from prompts._pins import PinBook, PinChange
from prompts._registry import (
    TEMPLATE_DIR,
    PromptError,
    PromptFileWarning,
    PromptTemplate,
    SkippedPrompt,
    get_prompt,
    list_prompts,
    skipped_prompts,
    versions_of,
)
from prompts._run import CandidateResult, EvolutionConfig, EvolutionResult
from prompts._scoring import return_scale
from prompts._stats import (
    BettingTest,
    PairedSequentialTest,
    ThompsonAllocator,
    confidence_sequence,
    fixed_horizon_trials,
)
from prompts._store import TrialStore
from prompts._variation import MUTATIONS, Budget, BudgetExceeded, Mutator, sanitize
from prompts._versions import (
    active_prompt,
    candidate_from_file,
    diff_prompts,
    lineage,
    pin_prompt,
    rollback_prompt,
    unpin_prompt,
    write_version,
)

__all__ = [
    "MUTATIONS",
    "TEMPLATE_DIR",
    "BettingTest",
    "Budget",
    "BudgetExceeded",
    "CandidateResult",
    "Evaluator",
    "Evolution",
    "EvolutionConfig",
    "EvolutionResult",
    "LiveExperiment",
    "Mutator",
    "PairedSequentialTest",
    "PinBook",
    "PinChange",
    "PromptError",
    "PromptFileWarning",
    "PromptTemplate",
    "SkippedPrompt",
    "ThompsonAllocator",
    "TrialScore",
    "TrialStore",
    "active_prompt",
    "candidate_from_file",
    "confidence_sequence",
    "decision_utility",
    "return_scale",
    "diff_prompts",
    "fixed_horizon_trials",
    "get_prompt",
    "lineage",
    "list_prompts",
    "pin_prompt",
    "rollback_prompt",
    "sanitize",
    "unpin_prompt",
    "user_prompt_dir",
    "skipped_prompts",
    "versions_of",
    "write_version",
]
