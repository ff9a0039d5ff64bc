"""Risk limits: the rules that supersede every decision."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class RiskLimits(BaseModel):
    """Hard limits enforced by the risk planet and the sun's guard.

    Positions are fractions of the maximum allowed exposure in ``[-1, 1]``; VaR and drawdown are
    positive loss fractions of the instrument's price (per bar for VaR).
    """

    model_config = ConfigDict(frozen=True)

    max_position: float = Field(default=1.0, gt=0.0, le=1.0)
    max_var95: float = Field(default=0.04, gt=0.0, description="largest tolerated per-bar VaR95")
    max_drawdown: float = Field(
        default=0.35, gt=0.0, lt=1.0, description="drawdown circuit breaker: flat beyond this"
    )
    target_volatility: float = Field(default=0.15, gt=0.0, description="annualized, for sizing")
    capital: float = Field(default=1_000_000.0, gt=0.0)
    max_notional: float = Field(default=250_000.0, gt=0.0)
    max_quantity: float = Field(default=100_000.0, gt=0.0)

    def var_cap(self, var95: float) -> float:
        """Largest position fraction whose scaled VaR95 stays within ``max_var95``."""
        if var95 <= 0.0:
            return self.max_position
        return min(self.max_position, self.max_var95 / var95)
