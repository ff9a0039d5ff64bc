"""Fault injection around real components, on a seeded schedule.

* :class:`FaultyChatModel` wraps any LangChain chat model (the embedded ``LocalChatModel``,
  a remote provider's model, ...). Per call it either passes through to the real model or
  raises (``ConnectionError``, ``TimeoutError``, an HTTP 429/503 error, a permanent 401
  error), hangs (sleeps ``hang_s``, then fails: the late caller is long gone, and no real
  inference is started behind its back), is slow (sleeps ``hang_s``, then answers for real), or
  answers malformed JSON, out-of-range values or adversarial (valid but extreme) values.
* :class:`FaultyPlanet` wraps a real planet. Per report it either passes through or crashes,
  hangs, or returns a NaN, out-of-range, self-contradictory or adversarial extreme report (the
  invalid ones built without validation, as a buggy or remote planet could deliver them).

A :class:`FaultSchedule` decides which fault happens on each call: a fixed cyclic ``pattern``
or seeded random ``rates``; :meth:`FaultSchedule.force` overrides it (a drill takes a model
down and brings it back).
"""

from __future__ import annotations

import json
import math
import random
import threading
import time
from collections.abc import Mapping, Sequence
from typing import Any, cast

from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, BaseMessage
from langchain_core.outputs import ChatGeneration, ChatResult
from langchain_core.runnables import Runnable, RunnableLambda
from pydantic import ConfigDict

from bus import PlanetReport
from planets import Planet, PlanetContext, Verdict

MODEL_FAULTS = (
    "ok",
    "raise",
    "timeout",
    "rate_limit",
    "server_error",
    "permanent",
    "hang",
    "slow",
    "malformed",
    "out_of_range",
    "adversarial",
)
PLANET_FAULTS = ("ok", "crash", "hang", "nan", "out_of_range", "contradictory", "adversarial")


class FaultSchedule:
    """Which fault each successive call gets (thread-safe, deterministic).

    Args:
        pattern: Fault names cycled in order (e.g. ``["ok", "malformed"]``).
        rates: ``{fault: probability}`` drawn with a seeded RNG; the remainder is ``ok``.
        seed: RNG seed for ``rates`` (and adversarial signs).
    """

    def __init__(
        self,
        pattern: Sequence[str] | None = None,
        rates: Mapping[str, float] | None = None,
        seed: int = 0,
    ) -> None:
        if pattern is not None and rates is not None:
            raise ValueError("give a pattern or rates, not both")
        if rates is not None and sum(rates.values()) > 1.0 + 1e-9:
            raise ValueError("fault rates must sum to at most 1")
        self.pattern = list(pattern or ["ok"])
        self.rates = dict(rates or {})
        self.rng = random.Random(seed)
        self._lock = threading.Lock()
        self._forced: str | None = None
        self.calls = 0
        self.history: list[str] = []

    def force(self, fault: str | None) -> None:
        """Give every call ``fault`` from now on (``None``: back to the schedule)."""
        with self._lock:
            self._forced = fault

    def next(self) -> str:
        """The fault of the next call (recorded in ``history``)."""
        with self._lock:
            if self._forced is not None:
                fault = self._forced
            elif self.rates:
                draw, fault, acc = self.rng.random(), "ok", 0.0
                for name, rate in self.rates.items():
                    acc += rate
                    if draw < acc:
                        fault = name
                        break
            else:
                fault = self.pattern[self.calls % len(self.pattern)]
            self.calls += 1
            self.history.append(fault)
            del self.history[:-1000]
            return fault

    def sign(self) -> float:
        """A seeded random sign for adversarial values."""
        with self._lock:
            return 1.0 if self.rng.random() < 0.5 else -1.0


class HttpStatusError(Exception):
    """An HTTP error with ``status_code`` (like the anthropic / openai / httpx errors)."""

    def __init__(self, status_code: int, message: str) -> None:
        super().__init__(f"HTTP {status_code}: {message}")
        self.status_code = status_code


def _raise_for(fault: str, name: str) -> None:
    if fault == "raise":
        raise ConnectionError(f"{name}: injected connection failure")
    if fault == "timeout":
        raise TimeoutError(f"{name}: injected provider timeout")
    if fault == "rate_limit":
        raise HttpStatusError(429, f"{name}: injected rate limit")
    if fault == "server_error":
        raise HttpStatusError(503, f"{name}: injected overload")
    if fault == "permanent":
        raise HttpStatusError(401, f"{name}: injected authentication error")


def _bad_text(fault: str, schema: Any, sign: float) -> str:
    fields = set(getattr(schema, "model_fields", {}) or {})
    action = "BUY" if sign > 0 else "SELL"
    if fault == "malformed":
        return '{"action": "BUY", "size": 0.4, "confid'  # truncated mid-object
    if "size" in fields or not fields:
        size, confidence = (7.5, 3.0) if fault == "out_of_range" else (1.0, 1.0)
        body = {"action": action, "size": size, "confidence": confidence}
    else:
        target = 7.5 * sign if fault == "out_of_range" else sign
        body = {"action": action, "target_position": target, "confidence": 1.0}
    return json.dumps({**body, "rationale": f"injected {fault}"})


class FaultyChatModel(BaseChatModel):
    """A real chat model behind a seeded fault schedule (see the module docstring).

    ``with_structured_output`` delegates to the inner model's own (for ``LocalChatModel``
    the JSON grammar) on ``ok`` / ``slow`` calls; faulty answers come back unparsed so the
    caller's validation sees them exactly as a broken provider's output.
    """

    model_config = ConfigDict(arbitrary_types_allowed=True)

    inner: BaseChatModel
    schedule: FaultSchedule
    hang_s: float = 5.0
    name_tag: str = "model"

    @property
    def _llm_type(self) -> str:
        return f"faulty-{self.inner._llm_type}"

    def _fault(self) -> str:
        fault = self.schedule.next()
        _raise_for(fault, self.name_tag)
        if fault in ("hang", "slow"):
            time.sleep(self.hang_s)
        if fault == "hang":
            raise TimeoutError(f"{self.name_tag}: injected hang gave up after {self.hang_s:g}s")
        return fault

    def _generate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: Any = None,
        **kwargs: Any,
    ) -> ChatResult:
        fault = self._fault()
        if fault in ("ok", "slow"):
            message = self.inner.invoke(messages, stop=stop, **kwargs)
        else:
            message = AIMessage(_bad_text(fault, None, self.schedule.sign()))
        return ChatResult(generations=[ChatGeneration(message=message)])

    def with_structured_output(
        self, schema: Any, *, include_raw: bool = False, **kwargs: Any
    ) -> Runnable:
        """Structured output through the inner model, with faults injected per call."""
        real = self.inner.with_structured_output(schema, include_raw=True, **kwargs)

        def call(messages: Any) -> Any:
            fault = self._fault()
            if fault in ("ok", "slow"):
                out = cast(dict[str, Any], real.invoke(messages))  # include_raw=True: a dict
            else:
                raw = AIMessage(_bad_text(fault, schema, self.schedule.sign()))
                out = {"raw": raw, "parsed": None, "parsing_error": ValueError(fault)}
            if include_raw:
                return out
            if out.get("parsed") is None:
                raise ValueError(f"unparseable output: {out['raw'].content!r}")
            return out["parsed"]

        return RunnableLambda(call)


class FaultyPlanet(Planet):
    """A real planet behind a seeded fault schedule (faults apply to :meth:`report`)."""

    def __init__(self, inner: Planet, schedule: FaultSchedule, hang_s: float = 5.0) -> None:
        self.inner = inner
        self.schedule = schedule
        self.hang_s = hang_s
        self.name = inner.name
        self.moons = inner.moons
        self.directional = inner.directional
        self.roles = inner.roles
        self.in_process = inner.in_process  # consulted as the real planet set would be

    def __getattr__(self, attribute: str) -> Any:  # order_intent etc. of the inner planet
        # not score_many: a universe pass would score the inner planet's arrays directly and
        # skip the fault schedule, which applies per report
        if attribute in ("inner", "score_many"):
            raise AttributeError(attribute)
        return getattr(self.inner, attribute)

    def score(self, context: PlanetContext, evidence: Mapping[str, float]) -> Verdict:
        return self.inner.score(context, evidence)

    def report(self, context: PlanetContext) -> PlanetReport:
        fault = self.schedule.next()
        if fault == "crash":
            raise RuntimeError(f"{self.name}: injected crash")
        if fault == "hang":
            time.sleep(self.hang_s)
        honest = self.inner.report(context)
        if fault in ("ok", "hang"):
            return honest
        fields = honest.model_dump()
        if fault == "nan":
            fields.update(score=math.nan, confidence=math.nan)
        elif fault == "out_of_range":
            fields.update(score=4.2 * self.schedule.sign(), confidence=1.7, has_data=True)
        elif fault == "contradictory":
            fields.update(has_data=False, score=0.9, confidence=0.9, veto=True, veto_reason=None)
        elif fault == "adversarial":
            fields.update(score=self.schedule.sign(), confidence=1.0, has_data=True)
            fields.update(recommendations=("injected adversarial extreme",))
            return PlanetReport.model_validate(fields)  # well-formed: only robustness helps
        else:
            raise ValueError(f"unknown planet fault {fault!r}; known: {PLANET_FAULTS}")
        return PlanetReport.model_construct(**fields)  # skips validation, like a buggy planet


def wrap_planets(
    planets: Mapping[str, Planet], faults: Mapping[str, FaultSchedule], hang_s: float = 5.0
) -> dict[str, Planet]:
    """``planets`` with the named ones wrapped in :class:`FaultyPlanet`."""
    return {
        name: FaultyPlanet(planet, faults[name], hang_s) if name in faults else planet
        for name, planet in planets.items()
    }
