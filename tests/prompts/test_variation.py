"""Candidates from mutations: LLM output is sanitized text, budgets cap calls."""

from __future__ import annotations

from pydantic import BaseModel

from bus import LlmUsage
from prompts import Budget, Mutator, get_prompt, sanitize


def _call(answers: list[dict]):  # noqa: ANN202
    calls = []

    def call(system: str, user: str, schema: type[BaseModel]):  # noqa: ANN202
        calls.append(user)
        answer = answers[min(len(calls) - 1, len(answers) - 1)]
        return schema.model_validate(answer), LlmUsage(calls=1, prompt_tokens=80)

    return call, calls


def test_mutations_write_evolved_candidates() -> None:
    call, calls = _call([{"text": "Prefer HOLD when $cost or {x} planets disagree."}])
    base = get_prompt("sun_reason")
    made = Mutator(call, seed=1).propose(
        base, 3, mutations=("add_instruction", "reorder_evidence", "few_shot"),
        examples=["technical +0.8: price rose 3%, BUY was right"],
    )  # fmt: skip
    assert [t.version for t in made] == ["3", "4", "5"]  # after the packaged candidate v2
    assert all(t.origin == "evolved" and t.parent == "1" and t.is_candidate for t in made)
    assert "USD cost" in made[0].system and "$cost" not in made[0].system
    assert made[1].user != base.user and sorted(made[1].user.split()) == sorted(base.user.split())
    assert "BUY was right" in made[2].system
    assert get_prompt("sun_reason").version == "1"
    assert len(calls) == 1


def test_budget_stops_mutation() -> None:
    call, calls = _call([{"text": "Weigh risk first."}])
    budget = Budget(max_calls=1)
    made = Mutator(call, budget).propose(get_prompt("sun_reason"), 3, mutations=("rephrase",))
    assert len(made) == 1 and len(calls) == 1 and budget.exhausted()


def test_sanitize() -> None:
    assert sanitize("a\n$b ## c\x00") == "a USD b # c"
