"""Technical planet: momentum and mean-reversion signals from the moon panel."""

from __future__ import annotations

from collections.abc import Mapping

from planets._base import Planet, PlanetContext, Role, Verdict, squash

MOMENTUM = "momentum"
MEAN_REVERSION = "mean_reversion"


class TechnicalPlanet(Planet):
    """Scores trend (price vs SMA in ATRs, MACD histogram) and stretch (RSI, %b, return z).

    The router may pick a ``style`` (``momentum`` or ``mean_reversion``) through
    ``context.params``; without one both families are blended equally.
    """

    name = "technical"
    roles = frozenset({Role.TECHNICAL})
    moons = ("close", "sma", "ema", "macd_hist", "atr", "rsi", "bb_pctb", "ret_z")

    def score(self, context: PlanetContext, evidence: Mapping[str, float]) -> Verdict:
        atr = evidence["atr"]
        if atr <= 0.0:
            return Verdict(0.0, 0.0, ("flat prices: ATR is zero, no technical signal",))
        momentum = (
            squash((evidence["close"] - evidence["sma"]) / atr, 2.0),
            squash((evidence["ema"] - evidence["sma"]) / atr, 1.0),
            squash(evidence["macd_hist"] / atr, 0.25),
        )
        reversion = (
            (50.0 - evidence["rsi"]) / 50.0,
            max(-1.0, min(1.0, (0.5 - evidence["bb_pctb"]) * 2.0)),
            -squash(evidence["ret_z"], 2.0),
        )
        style = context.params.get("style")
        signals: tuple[float, ...]
        if style == MOMENTUM:
            signals = momentum
        elif style == MEAN_REVERSION:
            signals = reversion
        else:
            signals = momentum + reversion
        score = sum(signals) / len(signals)
        agreeing = sum(1 for s in signals if s * score > 0) / len(signals)
        confidence = 0.2 + 0.6 * agreeing * min(1.0, abs(score) * 2.0)
        label = style or "blend"
        return Verdict(
            score=score,
            confidence=confidence,
            recommendations=(f"{label}: {'long' if score > 0 else 'short'} bias {score:+.2f}",),
        )
