"""Sentiment planet: recent headlines scored on the SentimentX scale, copies counted once.

Why the de-duplication and source cap: 10,000 copies of one headline used to count as 10,000
votes (confidence saturated at 5 headlines) and flipped a quant decision. Now near-identical
headlines (same :func:`planets.dedupe_key` -- case, punctuation, numbers, URLs ignored) count
once per instrument and lookback window, each source's total weight is capped, and the
confidence grows with independent evidence (distinct headlines from distinct sources).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta

from bus import Headline
from planets._base import Planet, PlanetContext, Verdict
from planets.sentiment._student import SentimentX, SentimentXScore, default_scorer
from planets.sentiment._text import dedupe_key

__all__ = ["MAX_CONFIDENCE", "SOURCE_CAP", "WINDOWS", "SentimentPlanet", "source_key"]

# A source's headlines together weigh at most this many confident headlines.
SOURCE_CAP = 1.0
# Evidence mass at which the confidence reaches half of MAX_CONFIDENCE.
HALF_MASS = 2.0
MAX_CONFIDENCE = 0.8
# How far back headlines count, by the node parameter ``window`` (a policy's expansion asks for
# "wide" when the planets conflict); "recent" when no window is given.
WINDOWS: Mapping[str, timedelta] = {"recent": timedelta(days=3), "wide": timedelta(days=14)}


def source_key(headline: Headline) -> str:
    """The headline's source, or -- when it has none -- its normalized text as its own source."""
    if headline.source is not None and headline.source.strip():
        return "source:" + headline.source.strip().lower()
    return "text:" + dedupe_key(headline.text)


@dataclass(frozen=True, slots=True)
class _Scored:
    source: str
    score: SentimentXScore


def _distinct(headlines: list[Headline]) -> list[Headline]:
    """One headline per dedupe key: the earliest (then lexically smallest text) of its copies."""
    best: dict[str, Headline] = {}
    for h in sorted(headlines, key=lambda h: (h.timestamp, h.text)):
        best.setdefault(dedupe_key(h.text), h)
    return list(best.values())


def _weights(items: list[_Scored]) -> list[float]:
    """Confidence of each headline, scaled so that no source weighs more than SOURCE_CAP."""
    totals: dict[str, float] = {}
    for it in items:
        totals[it.source] = totals.get(it.source, 0.0) + it.score.confidence
    return [
        it.score.confidence * min(1.0, SOURCE_CAP / totals[it.source]) if totals[it.source] else 0.0
        for it in items
    ]


class SentimentPlanet(Planet):
    """Weighted mean SentimentX (-10..+10) of the distinct recent headlines about the instrument.

    Args:
        scorer: the SentimentX scorer (default: the shipped student model, lexicon fallback).

    Headlines are data only: nothing in the text is ever followed. No headlines, or none the
    scorer knows anything about, is reported as "no data" (confidence 0), never as neutral.
    The evidence says which model scored (``model_is_student`` 1.0 / 0.0 for the lexicon).
    """

    name = "sentiment"
    in_process = True
    moons = ()

    def __init__(self, scorer: SentimentX | None = None) -> None:
        self.scorer = scorer if scorer is not None else default_scorer()

    @staticmethod
    def lookback(params: Mapping[str, object]) -> timedelta:
        """How far back headlines count for the node parameter ``window`` (see ``WINDOWS``).

        Raises:
            ValueError: naming a window that is not one of ``WINDOWS``.
        """
        window = params.get("window", "recent")
        if not isinstance(window, str) or window not in WINDOWS:
            raise ValueError(f"sentiment window {window!r} is not one of {sorted(WINDOWS)}")
        return WINDOWS[window]

    def select(self, context: PlanetContext) -> dict[str, float]:
        lookback = self.lookback(context.params)
        since = context.as_of - lookback
        recent = [
            h for h in context.snapshot.headlines_for(context.instrument) if h.timestamp >= since
        ]
        distinct = _distinct(recent)
        scored = [_Scored(source_key(h), self.scorer.score(h.text)) for h in distinct]
        with_signal = [s for s in scored if s.score.has_signal]
        evidence = {
            "lookback_days": lookback / timedelta(days=1),
            "headlines": float(len(recent)),
            "headlines_distinct": float(len(distinct)),
            "sources": float(len({s.source for s in scored})),
            "headlines_with_signal": float(len(with_signal)),
            "sources_with_signal": float(len({s.source for s in with_signal})),
            "model_is_student": 0.0 if self.scorer.model == "lexicon" else 1.0,
        }
        weights = _weights(with_signal)
        mass = sum(weights)
        if mass > 0.0:
            total = sum(w * s.score.score for w, s in zip(weights, with_signal, strict=True))
            evidence["sentimentx_mean"] = total / mass
            evidence["evidence_mass"] = mass
        return evidence

    def missing(self, evidence: Mapping[str, float]) -> tuple[str, ...]:
        if evidence.get("headlines", 0.0) == 0.0:
            days = evidence.get("lookback_days", WINDOWS["recent"] / timedelta(days=1))
            return (f"headlines from the last {days:g} days",)
        if "sentimentx_mean" not in evidence:
            return ("headlines the sentiment model can read",)
        return ()

    def score(self, context: PlanetContext, evidence: Mapping[str, float]) -> Verdict:
        mean = evidence["sentimentx_mean"]
        mass = evidence["evidence_mass"]
        distinct = int(evidence["headlines_with_signal"])
        sources = int(evidence["sources_with_signal"])
        model = self.scorer.model
        note = (
            f"SentimentX {mean:+.1f} over {distinct} distinct headline(s) from {sources} source(s)"
        )
        note += (
            f" [{model}]"
            if self.scorer.fallback_reason is None
            else (f" [{model}: {self.scorer.fallback_reason}]")
        )
        return Verdict(
            score=mean / 10.0,
            confidence=MAX_CONFIDENCE * (1.0 - math.exp(-mass * math.log(2.0) / HALF_MASS)),
            recommendations=(note,),
        )
