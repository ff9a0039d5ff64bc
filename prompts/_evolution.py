"""Prompt evolution: paired sequential A/B tests on past situations, held-out confirmation,
adoption by pin, and the same statistics live.

One run (:meth:`Evolution.run`):

1. The incumbent is the active version (pinned, else highest released).
2. Trials: Thompson sampling picks a candidate; it and the incumbent decide on the *same*
   selection situation (the incumbent's score is cached per situation); ``d = u_cand - u_inc``
   feeds that candidate's :class:`~prompts._stats.PairedSequentialTest` at ``alpha / K``
   (Bonferroni over ``K`` candidates, so the run's false-adoption rate stays <= ``alpha`` while
   the tests are checked after every trial).
3. A candidate whose test says *adopt* must also beat the incumbent on the held-out
   confirmation set (mean paired difference > 0) before it wins.
4. The winner is pinned (``auto_adopt``) or left for a person; every trial, its evidence and the
   adopt/reject decisions go to the :class:`~prompts._store.TrialStore`.

A trial's utility is in ``[-1, 1]``: the decision quality of the prompt's answer (see
:func:`decision_utility`), ``-1`` for an invalid structured output, minus a token-cost charge.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from prompts._live import LiveExperiment
from prompts._registry import PromptTemplate, get_prompt
from prompts._run import CandidateResult, EvolutionConfig, EvolutionResult
from prompts._scoring import Evaluator, TrialScore, decision_utility
from prompts._stats import PairedSequentialTest, ThompsonAllocator, confidence_sequence
from prompts._store import TrialStore
from prompts._variation import BudgetExceeded
from prompts._versions import pin_prompt

__all__ = [
    "Evaluator",
    "Evolution",
    "LiveExperiment",
    "TrialScore",
    "decision_utility",
]


class Evolution:
    """Runs paired sequential A/B tests of candidate prompts against the incumbent.

    Args:
        evaluator: Scores a prompt on a situation id.
        store: Where trials and decisions go (``None``: nothing is persisted).
        config: Statistics, budget and adoption settings.
        directory: Template directory (default: bundled + user directory).
    """

    def __init__(
        self,
        evaluator: Evaluator,
        store: TrialStore | None = None,
        config: EvolutionConfig | None = None,
        directory: Path | None = None,
    ) -> None:
        self.evaluator = evaluator
        self.store = store
        self.config = config or EvolutionConfig()
        self.directory = directory

    def _score(self, prompt: PromptTemplate, situation: str) -> TrialScore:
        self.config.budget.check()
        score = self.evaluator.evaluate(prompt, situation)
        self.config.budget.charge(score.usage)
        return score

    def run(
        self,
        name: str,
        candidates: Sequence[PromptTemplate],
        selection: Sequence[str],
        holdout: Sequence[str],
        incumbent: PromptTemplate | None = None,
    ) -> EvolutionResult:
        """Test ``candidates`` against the incumbent; adopt at most one winner."""
        cfg = self.config
        incumbent = incumbent or get_prompt(name, directory=self.directory)
        versions = [c.version for c in candidates]
        by_version = {c.version: c for c in candidates}
        results = {v: CandidateResult(version=v) for v in versions}
        run_id = None
        if self.store is not None:
            run_id = self.store.start_run(
                name,
                incumbent.version,
                "offline",
                {
                    "alpha": cfg.alpha,
                    "max_trials": cfg.max_trials,
                    "candidates": versions,
                    "selection": len(selection),
                    "holdout": len(holdout),
                    "seed": cfg.seed,
                    "budget": cfg.budget.as_dict(),
                },
            )
        if not candidates:
            return self._finish(run_id, name, incumbent, None, "no candidates", 0, results)
        per_alpha = cfg.alpha / len(candidates)
        horizon = min(cfg.max_trials, len(selection))
        tests = {
            v: PairedSequentialTest(alpha=per_alpha, bound=2.0, max_trials=horizon)
            for v in versions
        }
        order = list(selection)
        random.Random(cfg.seed).shuffle(order)
        cursor = dict.fromkeys(versions, 0)
        allocator = ThompsonAllocator(tuple(versions), seed=cfg.seed)
        cache: dict[str, TrialScore] = {}
        seq = 0
        cand_scores: dict[str, list[TrialScore]] = {v: [] for v in versions}
        winner: str | None = None
        outcome = "no winner"
        try:
            while winner is None:
                active = tuple(v for v in versions if results[v].outcome == "pending")
                if not active:
                    break
                v = allocator.choose(active)
                situation = order[cursor[v]]
                cursor[v] += 1
                if situation not in cache:
                    cache[situation] = self._score(incumbent, situation)
                inc = cache[situation]
                cand = self._score(by_version[v], situation)
                cand_scores[v].append(cand)
                d = cand.utility - inc.utility
                decision = tests[v].update(d)
                allocator.update(v, d)
                evidence = {**tests[v].evidence(), **_trial_detail(inc, cand)}
                seq = self._trial(run_id, seq, "selection", situation, v, inc, cand, evidence)
                if decision == "reject":
                    results[v].outcome = "rejected: " + _why(tests[v])
                elif decision == "adopt":
                    confirmed, holdout_evidence, seq = self._confirm(
                        run_id, seq, incumbent, by_version[v], holdout, cache
                    )
                    results[v].holdout = holdout_evidence
                    if confirmed:
                        results[v].outcome = "winner"
                        winner = v
                        outcome = "adopted" if cfg.auto_adopt else "winner awaiting approval"
                    else:
                        results[v].outcome = "rejected: lost on the held-out set"
        except BudgetExceeded as exc:
            outcome = f"no winner (budget exhausted: {exc})"
        for v in versions:
            results[v].selection = tests[v].evidence()
            scores = cand_scores[v]
            if scores:
                results[v].valid_rate = sum(s.valid for s in scores) / len(scores)
                results[v].mean_tokens = sum(s.tokens for s in scores) / len(scores)
            if results[v].outcome == "pending":
                results[v].outcome = "undecided"
        return self._finish(run_id, name, incumbent, winner, outcome, seq, results)

    def _confirm(
        self,
        run_id: str | None,
        seq: int,
        incumbent: PromptTemplate,
        candidate: PromptTemplate,
        holdout: Sequence[str],
        cache: dict[str, TrialScore],
    ) -> tuple[bool, dict[str, Any], int]:
        diffs = []
        for situation in holdout:
            key = f"holdout:{situation}"
            if key not in cache:
                cache[key] = self._score(incumbent, situation)
            inc = cache[key]
            cand = self._score(candidate, situation)
            diffs.append(cand.utility - inc.utility)
            evidence = {"holdout_n": len(diffs), **_trial_detail(inc, cand)}
            seq = self._trial(
                run_id, seq, "holdout", situation, candidate.version, inc, cand, evidence
            )
        mean = sum(diffs) / len(diffs) if diffs else 0.0
        low, high = confidence_sequence(diffs, self.config.alpha)
        return (
            bool(diffs) and mean > 0.0,
            {"n": len(diffs), "mean_diff": mean, "cs_low": low, "cs_high": high},
            seq,
        )

    def _trial(
        self,
        run_id: str | None,
        seq: int,
        phase: str,
        situation: str,
        variant: str,
        inc: TrialScore,
        cand: TrialScore,
        evidence: dict[str, Any],
    ) -> int:
        if self.store is not None and run_id is not None:
            self.store.add_trial(
                run_id,
                seq,
                phase,
                situation,
                variant,
                inc.utility,
                cand.utility,
                cand.utility - inc.utility,
                evidence,
            )
        return seq + 1

    def _finish(
        self,
        run_id: str | None,
        name: str,
        incumbent: PromptTemplate,
        winner: str | None,
        outcome: str,
        trials: int,
        results: dict[str, CandidateResult],
    ) -> EvolutionResult:
        result = EvolutionResult(
            run_id=run_id,
            name=name,
            incumbent=incumbent.version,
            winner=winner,
            outcome=outcome,
            trials=trials,
            candidates=list(results.values()),
            usage=self.config.budget.as_dict(),
        )
        if winner is not None and self.config.auto_adopt:
            pin_prompt(name, winner, f"adopted by evolution run {run_id}", self.directory)
        if self.store is not None and run_id is not None:
            for r in results.values():
                kind = "adopt" if r.version == winner and self.config.auto_adopt else (
                    "winner" if r.version == winner else "reject")  # fmt: skip
                evidence = {"selection": r.selection, "holdout": r.holdout,
                            "valid_rate": r.valid_rate, "mean_tokens": r.mean_tokens}  # fmt: skip
                self.store.add_event(name, kind, r.version, r.outcome, evidence, run_id)
            self.store.finish_run(run_id, outcome, winner, result.as_dict())
        return result


def _why(test: PairedSequentialTest) -> str:
    if test.worse.rejected:
        return "significantly worse (futility)"
    return f"no significant gain after {len(test.diffs)} trials"


def _trial_detail(inc: TrialScore, cand: TrialScore) -> dict[str, Any]:
    return {
        "inc_utility": inc.utility,
        "cand_utility": cand.utility,
        "inc_valid": inc.valid,
        "cand_valid": cand.valid,
        "inc_position": inc.position,
        "cand_position": cand.position,
        "inc_tokens": inc.tokens,
        "cand_tokens": cand.tokens,
    }
