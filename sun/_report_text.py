"""How planet reports read in a reasoning prompt: one compact line per planet with every
evidence value, and one line saying what its score means with moon values as plain
relations (``close 5.4% below SMA``, ``RSI 35``)."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

from bus import PlanetReport


def format_reports(reports: Sequence[PlanetReport]) -> str:
    """One compact line per planet: score, confidence and every evidence value.

    Evidence values are the reports' own numbers rounded to 4 significant digits (``%.4g``):
    prompt length dominates the embedded model's latency, and digits cost a token each.
    """
    lines = []
    for report in reports:
        if not report.has_data:
            lines.append(f"{report.planet}: NO DATA ({'; '.join(report.recommendations)})")
            continue
        evidence = " ".join(f"{k}={_number(v)}" for k, v in report.evidence.items())
        line = (
            f"{report.planet}: score={report.score:+.3f} conf={report.confidence:.2f} | {evidence}"
        )
        if report.veto:
            line += f" | VETO: {report.veto_reason}"
        lines.append(line)
    return "\n".join(lines)


def _number(value: float) -> str:
    return f"{value:.4g}" if math.isfinite(value) else "NaN"


def describe_reports(reports: Sequence[PlanetReport], risk_planet: str) -> str:
    """One line per planet saying what its score means, with moon values as relations.

    Directional scores run from -1 bearish to +1 bullish; the risk planet's score is risk
    appetite (+1 ample VaR headroom, -1 over the limit), never a direction.
    """
    lines = []
    for report in reports:
        meaning = "risk appetite, not direction" if report.planet == risk_planet else "direction"
        if not report.has_data:
            lines.append(f"{report.planet} ({meaning}): NO DATA")
            continue
        facts = _relations(report.evidence) or [
            f"{k} {_number(v)}" for k, v in report.evidence.items()
        ]
        line = (
            f"{report.planet} ({meaning}): score {report.score:+.3f}, confidence "
            f"{report.confidence:.2f}; " + ", ".join(facts)
        )
        if report.veto:
            line += f"; VETO: {report.veto_reason}"
        lines.append(line)
    return "\n".join(lines)


def _relations(evidence: Mapping[str, float]) -> list[str]:
    """Moon values as plain relations (``close 5.4% below SMA``, ``RSI 35``)."""
    out = []
    close = evidence.get("close", math.nan)
    for key in ("sma", "ema"):
        level = evidence.get(key, math.nan)
        if math.isfinite(close) and math.isfinite(level) and level > 0:
            gap = (close / level - 1.0) * 100.0
            out.append(f"close {abs(gap):.1f}% {'above' if gap >= 0 else 'below'} {key.upper()}")
    phrases = {
        "rsi": lambda v: f"RSI {v:.0f} ({'over' if v >= 50 else 'under'} 50)",
        "macd_hist": lambda v: f"MACD histogram {v:.3g} ({'positive' if v >= 0 else 'negative'})",
        "bb_pctb": lambda v: f"Bollinger %b {v:.2f}",
        "ret_z": lambda v: f"return z-score {v:+.2f}",
        "var95": lambda v: f"daily VaR95 {v * 100:.1f}%",
        "realized_vol": lambda v: f"volatility {v * 100:.0f}% a year",
        "max_drawdown": lambda v: f"drawdown {v * 100:.1f}%",
        "position_cap": lambda v: f"position cap {v:.2f}",
    }
    for key, phrase in phrases.items():
        value = evidence.get(key, math.nan)
        if math.isfinite(value):
            out.append(phrase(value))
    return out
