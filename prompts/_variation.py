"""Candidate prompts: LLM mutations of the incumbent, few-shot from past episodes, or a person.

The LLM only ever writes *prompt text* (a sentence) or picks a number; its output is sanitized
(no ``$`` placeholders, no control characters, bounded length) and never executed. Every LLM call
is charged to a :class:`Budget` that caps calls and tokens for the whole evolution run.
"""

from __future__ import annotations

import random
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypeVar, cast

from pydantic import BaseModel, ConfigDict, Field

from bus import LlmUsage
from prompts._registry import PromptTemplate, get_prompt
from prompts._versions import write_version

MUTATIONS = ("rephrase", "add_instruction", "drop_instruction", "reorder_evidence", "few_shot")
_SENTENCE = re.compile(r"(?<=[.!?])\s+")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")

A = TypeVar("A", bound=BaseModel)

# (system, user, schema) -> (parsed answer or None, usage of the call)
StructuredCall = Callable[[str, str, type[BaseModel]], tuple[BaseModel | None, LlmUsage]]


class BudgetExceeded(RuntimeError):
    """The run's LLM call or token budget is spent."""


@dataclass
class Budget:
    """Caps on LLM calls and tokens for one evolution run (``None`` = unlimited)."""

    max_calls: int | None = None
    max_tokens: int | None = None
    used: LlmUsage = field(default_factory=LlmUsage)

    @property
    def tokens(self) -> int:
        """Prompt plus completion tokens spent."""
        return self.used.prompt_tokens + self.used.completion_tokens

    def exhausted(self, calls_needed: int = 1) -> bool:
        """Whether ``calls_needed`` more calls would break a cap."""
        if self.max_calls is not None and self.used.calls + calls_needed > self.max_calls:
            return True
        return self.max_tokens is not None and self.tokens >= self.max_tokens

    def check(self, calls_needed: int = 1) -> None:
        """Raise :class:`BudgetExceeded` when the next calls are not affordable."""
        if self.exhausted(calls_needed):
            raise BudgetExceeded(
                f"budget spent: {self.used.calls} calls / {self.tokens} tokens "
                f"(caps {self.max_calls} calls, {self.max_tokens} tokens)"
            )

    def charge(self, usage: LlmUsage) -> None:
        """Record spent usage."""
        if usage.calls or usage.prompt_tokens or usage.completion_tokens:
            self.used = self.used + usage

    def as_dict(self) -> dict[str, int | float | None]:
        """Spent and caps, for reports."""
        return {
            "calls": self.used.calls,
            "prompt_tokens": self.used.prompt_tokens,
            "completion_tokens": self.used.completion_tokens,
            "latency_ms": round(self.used.latency_ms, 1),
            "max_calls": self.max_calls,
            "max_tokens": self.max_tokens,
        }


class Sentence(BaseModel):
    """LLM output of the rephrase / add mutations."""

    model_config = ConfigDict(frozen=True)
    text: str = Field(min_length=3, max_length=200)


class Choice(BaseModel):
    """LLM output of the drop mutation: the 1-based number of the instruction to drop."""

    model_config = ConfigDict(frozen=True)
    index: int = Field(ge=1, le=50)


def sanitize(text: str, limit: int = 200) -> str:
    """LLM-written prompt text made inert: one line, no ``$`` placeholders, bounded length."""
    clean = _CONTROL.sub(" ", text).replace("$", "USD ").replace("##", "#")
    return " ".join(clean.split())[:limit].strip()


def sentences(text: str) -> list[str]:
    """Split a section into sentences (keeps line structure simple)."""
    return [s.strip() for s in _SENTENCE.split(" ".join(text.split())) if s.strip()]


@dataclass(frozen=True)
class Candidate:
    """A candidate prompt body before it is written as a version."""

    system: str
    user: str
    mutation: str
    note: str


class Mutator:
    """Makes candidate prompts from an incumbent.

    Args:
        call: Structured LLM call (``(system, user, schema) -> (answer, usage)``); ``None``
            allows only the mutations that need no LLM (reorder, few-shot, person).
        budget: Shared run budget; every LLM call is checked and charged.
        seed: Seed of the random choices (which sentence, which order).
        directory: Template directory for the mutation prompts (default search path).
    """

    def __init__(
        self,
        call: StructuredCall | None,
        budget: Budget | None = None,
        seed: int = 0,
        directory: object = None,
    ) -> None:
        self.call = call
        self.budget = budget or Budget()
        self.rng = random.Random(seed)
        self.directory = directory

    def _ask(self, prompt_name: str, schema: type[A], **values: str) -> A | None:
        if self.call is None:
            raise ValueError(f"mutation via {prompt_name} needs an LLM")
        self.budget.check()
        system, user = get_prompt(prompt_name).render(**values)
        answer, usage = self.call(system, user, schema)
        self.budget.charge(usage)
        return cast(A | None, answer)  # a StructuredCall answers with an instance of ``schema``

    def mutate(
        self, base: PromptTemplate, mutation: str, examples: Sequence[str] = ()
    ) -> Candidate | None:
        """One candidate by ``mutation`` (see ``MUTATIONS``); ``None`` if the LLM failed."""
        parts = sentences(base.system)
        if mutation == "rephrase":
            editable = [i for i, s in enumerate(parts) if "JSON" not in s and "{" not in s]
            i = self.rng.choice(editable or list(range(len(parts))))
            answer = self._ask("mutate_rephrase", Sentence, sentence=parts[i])
            if answer is None or not sanitize(answer.text):
                return None
            new = [*parts[:i], sanitize(answer.text), *parts[i + 1 :]]
            return Candidate(_join(new), base.user, mutation, f"rephrased sentence {i + 1}")
        if mutation == "add_instruction":
            answer = self._ask("mutate_add", Sentence, instructions=base.system.strip())
            if answer is None or not sanitize(answer.text):
                return None
            text = sanitize(answer.text)
            return Candidate(_join([*parts, text]), base.user, mutation, f"added: {text[:60]}")
        if mutation == "drop_instruction":
            droppable = [i for i, s in enumerate(parts) if "JSON" not in s and "{" not in s]
            if len(droppable) < 2:
                return None
            numbered = "\n".join(f"{n + 1}. {parts[i]}" for n, i in enumerate(droppable))
            choice = self._ask("mutate_drop", Choice, numbered=numbered)
            if choice is None or choice.index > len(droppable):
                return None
            i = droppable[choice.index - 1]
            return Candidate(_join(parts[:i] + parts[i + 1 :]), base.user, mutation,
                             f"dropped sentence {i + 1}")  # fmt: skip
        if mutation == "reorder_evidence":
            lines = base.user.strip().splitlines()
            head, body, tail = lines[:1], lines[1:-1], lines[-1:]
            if len(body) < 2:
                return None
            order = list(range(len(body)))
            while order == sorted(order):
                self.rng.shuffle(order)
            new_user = "\n".join(head + [body[k] for k in order] + tail)
            return Candidate(base.system, new_user, mutation, f"evidence order {order}")
        if mutation == "few_shot":
            if not examples:
                return None
            shots = "\n".join(f"- {sanitize(e, 240)}" for e in examples)
            system = f"{base.system.strip()}\nPast decisions and their outcomes:\n{shots}"
            return Candidate(system, base.user, mutation, f"{len(examples)} few-shot examples")
        raise ValueError(f"unknown mutation {mutation!r}; choose from {MUTATIONS}")

    def propose(
        self,
        base: PromptTemplate,
        count: int,
        mutations: Sequence[str] = MUTATIONS,
        examples: Sequence[str] = (),
        directory: Path | None = None,
    ) -> list[PromptTemplate]:
        """Up to ``count`` distinct candidates, written as new ``evolved`` candidate versions.

        Mutations are tried round-robin; failed or duplicate ones are skipped. Stops early
        when the budget is spent.
        """
        made: list[PromptTemplate] = []
        seen = {(base.system.strip(), base.user.strip())}
        for attempt in range(count * 3):
            if len(made) >= count:
                break
            mutation = mutations[attempt % len(mutations)]
            try:
                candidate = self.mutate(base, mutation, examples)
            except BudgetExceeded:
                break
            if candidate is None:
                continue
            key = (candidate.system.strip(), candidate.user.strip())
            if key in seen:
                continue
            seen.add(key)
            made.append(
                write_version(
                    base.name,
                    candidate.system,
                    candidate.user,
                    parent=base.version,
                    origin="evolved",
                    variables=base.variables,
                    note=f"{candidate.mutation}: {candidate.note}",
                    directory=directory,
                )
            )
        return made


def _join(parts: Sequence[str]) -> str:
    return " ".join(p.strip() for p in parts if p.strip())
