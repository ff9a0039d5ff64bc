"""The break profile: what the policy sees of a break before any agent runs."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from pydantic import Field

from examples.reconciliation.data import MATERIAL_USD, Break
from sun.policy import Profile, register_profile

RECON_POLICY = Path(__file__).with_name("policies") / "reconciliation.yaml"


class BreakProfile(Profile):
    """Observable facts of one break (never the ground truth)."""

    break_type: Literal["TRADE_OMS_MISMATCH", "CASH_BREAK", "BROKER_VS_INTERNAL"] = Field(
        "CASH_BREAK", description="Which family the differing fields belong to."
    )
    asset_class: Literal["equity", "fx", "derivative"] = "equity"
    fields_differing: int = Field(0, ge=0, description="Number of fields that differ.")
    cash_diff_usd: float = Field(0.0, description="|internal cash - broker cash| in USD.")
    notional_usd: float = Field(0.0, description="Internal notional in USD.")
    materiality: float = Field(
        0.0, description="Exposure / materiality threshold (>= 1 is material)."
    )
    data_quality: Literal["ok", "failed"] = "ok"


register_profile("reconciliation", BreakProfile)

_COMPARED = ("quantity", "price", "fees", "fx_rate", "settle_date")


@dataclass(frozen=True)
class BreakClassifier:
    """Builds a :class:`BreakProfile` from the two records of a break."""

    material_usd: float = MATERIAL_USD
    funding_rate: float = 0.05

    def classify(self, brk: Break) -> BreakProfile:
        """Profile one break from its internal record and the broker's confirmation."""
        internal, broker = brk.internal, brk.broker
        notional = internal.notional_usd
        base: dict[str, Any] = {"asset_class": internal.asset_class, "notional_usd": notional}
        if broker is None or brk.duplicate_count > 1:
            return BreakProfile(break_type="BROKER_VS_INTERNAL", fields_differing=1,
                                materiality=notional / self.material_usd, **base)  # fmt: skip
        if any(broker.get(k) is None for k in _COMPARED):
            return BreakProfile(break_type="BROKER_VS_INTERNAL", data_quality="failed",
                                materiality=notional / self.material_usd, **base)  # fmt: skip
        differing = [k for k in _COMPARED if broker[k] != getattr(internal, k)]
        cash = _cash(broker)
        cash_diff = abs(cash - internal.cash_usd())
        exposure = cash_diff
        if "settle_date" in differing:
            exposure = max(exposure, notional * self.funding_rate / 360 * 2)
        trade_fields = {"quantity", "settle_date"} & set(differing)
        price_rel = abs(broker["price"] - internal.price) / internal.price
        if trade_fields or ("price" in differing and price_rel >= 1e-4):
            kind = "TRADE_OMS_MISMATCH"
        else:
            kind = "CASH_BREAK"
        return BreakProfile(break_type=kind, fields_differing=len(differing), cash_diff_usd=cash_diff,
                            materiality=exposure / self.material_usd, **base)  # fmt: skip


def _cash(record: dict[str, Any]) -> float:
    sign = -1.0 if record["side"] == "BUY" else 1.0
    gross = record["quantity"] * record["price"] * record["multiplier"] * record["fx_rate"]
    return float(sign * gross - record["fees"])
