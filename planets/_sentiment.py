"""Sentiment planet: headlines scored on the SentimentX scale by a transparent lexicon."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import timedelta

from planets._base import Planet, PlanetContext, Verdict
from planets._lexicon import score_text


class SentimentPlanet(Planet):
    """Averages the SentimentX (-10..+10) scores of recent headlines about the instrument.

    Headlines are data only: the lexicon counts words, nothing in the text is ever followed.
    No headlines, or none with a sentiment-bearing term, is reported as "no data" (confidence
    0), never as neutral.
    """

    name = "sentiment"
    moons = ()
    lookback = timedelta(days=3)

    def select(self, context: PlanetContext) -> dict[str, float]:
        since = context.as_of - self.lookback
        recent = [
            h for h in context.snapshot.headlines_for(context.instrument) if h.timestamp >= since
        ]
        scores = [s.score for s in (score_text(h.text) for h in recent) if s.has_signal]
        evidence = {"headlines": float(len(recent)), "headlines_with_signal": float(len(scores))}
        if scores:
            evidence["sentimentx_mean"] = sum(scores) / len(scores)
        return evidence

    def missing(self, evidence: Mapping[str, float]) -> tuple[str, ...]:
        if evidence.get("headlines", 0.0) == 0.0:
            return ("headlines from the last 3 days",)
        if "sentimentx_mean" not in evidence:
            return ("sentiment-bearing terms in the headlines",)
        return ()

    def score(self, context: PlanetContext, evidence: Mapping[str, float]) -> Verdict:
        mean = evidence["sentimentx_mean"]
        count = evidence["headlines_with_signal"]
        return Verdict(
            score=mean / 10.0,
            confidence=0.8 * min(1.0, count / 5.0),
            recommendations=(f"SentimentX {mean:+.1f} over {int(count)} headline(s)",),
        )
