"""A scripted chat model standing in for a remote LLM API in tests and drills (a remote API
cannot be reached offline; everything else in a test should be the real component)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, BaseMessage
from langchain_core.outputs import ChatGeneration, ChatResult


class ScriptedChatModel(BaseChatModel):
    """Answers with the next scripted text; an ``Exception`` in the script is raised instead.

    Each answer reports ``input_tokens`` / ``output_tokens`` of usage (as a provider would),
    so prices and budgets can be tested without a remote API.
    """

    script: list[Any]
    calls: int = 0
    prompts: list[str] = []
    input_tokens: int = 100
    output_tokens: int = 20

    @property
    def _llm_type(self) -> str:
        return "scripted"

    def _generate(
        self, messages: Sequence[BaseMessage], stop: Any = None, run_manager: Any = None, **kw: Any
    ) -> ChatResult:
        self.prompts.append("\n".join(str(m.content) for m in messages))
        answer = self.script[min(self.calls, len(self.script) - 1)]
        self.calls += 1
        if isinstance(answer, Exception):
            raise answer
        message = AIMessage(
            content=answer,
            usage_metadata={
                "input_tokens": self.input_tokens,
                "output_tokens": self.output_tokens,
                "total_tokens": self.input_tokens + self.output_tokens,
            },
        )
        return ChatResult(generations=[ChatGeneration(message=message)])
