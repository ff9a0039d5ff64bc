"""Technical planet: momentum and mean-reversion signals from the moon panel."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from planets._base import Planet, PlanetContext, Role, Verdict
from planets._batch import PlanetBatch
from planets._kernels import empty_outputs, style_code, technical_many, technical_one
from planets._verdicts import VerdictColumns

MOMENTUM = "momentum"
MEAN_REVERSION = "mean_reversion"
_FLAT = ("flat prices: ATR is zero, no technical signal",)


class TechnicalPlanet(Planet):
    """Scores trend (price vs SMA in ATRs, MACD histogram) and stretch (RSI, %b, return z).

    The router may pick a ``style`` (``momentum`` or ``mean_reversion``) through
    ``context.params``; without one both families are blended equally. The math is
    :func:`planets._kernels.technical_one`, shared with :meth:`score_many`.
    """

    name = "technical"
    roles = frozenset({Role.TECHNICAL})
    in_process = True
    moons = ("close", "sma", "ema", "macd_hist", "atr", "rsi", "bb_pctb", "ret_z")

    def style_of(self, params: Mapping[str, object]) -> object:
        """The style this planet scores with, given the route's parameters."""
        return params.get("style")

    def score(self, context: PlanetContext, evidence: Mapping[str, float]) -> Verdict:
        style = self.style_of(context.params)
        e = evidence
        score, confidence, flat = technical_one(
            e["close"], e["sma"], e["ema"], e["macd_hist"], e["atr"], e["rsi"], e["bb_pctb"],
            e["ret_z"], style_code(style),
        )  # fmt: skip
        return _verdict(score, confidence, flat, style)

    def score_many(self, batch: PlanetBatch, rows: np.ndarray) -> list[Verdict] | None:
        """Verdicts of the batch's instruments ``rows``: one kernel call over arrays."""
        columns = self.verdict_columns(batch, rows)
        return None if columns is None else columns.verdicts()

    def verdict_columns(self, batch: PlanetBatch, rows: np.ndarray) -> VerdictColumns | None:
        """:meth:`score_many` as columns (what :func:`planets.report_many` packages)."""
        if type(self).score is not TechnicalPlanet.score:
            return None  # a subclass changed the formula: the loop asks it one by one
        styles = self._styles(batch, rows)
        codes = np.array([style_code(s) for s in styles], dtype=np.int64)
        c = [np.ascontiguousarray(batch.column(m)[rows]) for m in self.moons[:8]]
        score, confidence, flat = empty_outputs(len(rows))
        technical_many(c[0], c[1], c[2], c[3], c[4], c[5], c[6], c[7], codes, score, confidence,
                       flat)  # fmt: skip
        score[flat] = 0.0
        confidence[flat] = 0.0
        recommendations = [
            _FLAT if f else _bias(s, style)
            for s, f, style in zip(score.tolist(), flat.tolist(), styles, strict=True)
        ]
        return VerdictColumns(score, confidence, recommendations)

    def _styles(self, batch: PlanetBatch, rows: np.ndarray) -> list[object]:
        """The style of each row (no routing parameters and the base ``style_of``: none)."""
        if not batch.params and type(self).style_of is TechnicalPlanet.style_of:
            return [None] * len(rows)
        return [self.style_of(batch.params_of(i)) for i in rows.tolist()]


def _bias(score: float, style: object) -> tuple[str]:
    # UP031: one ``%`` call is measurably cheaper than the f-string's three formats, same text
    text = "%s: %s bias %+.2f" % (style or "blend", "long" if score > 0 else "short", score)  # noqa: UP031
    return (text,)


def _verdict(score: float, confidence: float, flat: bool, style: object) -> Verdict:
    if flat:
        return Verdict(0.0, 0.0, _FLAT)
    return Verdict(score=score, confidence=confidence, recommendations=_bias(score, style))
