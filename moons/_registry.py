"""Registry of moons: name -> definition (parameters, warm-up, batch fn, incremental class)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from moons import batch, incremental
from moons._types import PanelSpec


@dataclass(frozen=True)
class MoonDef:
    """One moon.

    Attributes:
        name: registry key.
        params: the ``PanelSpec`` fields it reads.
        columns: the panel columns it produces.
        warmup: spec -> number of leading NaN bars of its columns.
        batch: the ``moons.batch`` function.
        incremental: the ``moons.incremental`` class.
        kwargs: spec -> keyword arguments of ``batch`` / ``incremental`` for that spec.
    """

    name: str
    params: tuple[str, ...]
    columns: tuple[str, ...]
    warmup: Callable[[PanelSpec], int]
    batch: Callable[..., object]
    incremental: type
    kwargs: Callable[[PanelSpec], dict[str, object]]


MOONS: dict[str, MoonDef] = {
    d.name: d
    for d in (
        MoonDef("sma", ("sma_period",), ("sma",), lambda s: s.sma_period - 1, batch.sma,
                incremental.Sma, lambda s: {"period": s.sma_period}),
        MoonDef("ema", ("ema_period",), ("ema",), lambda s: s.ema_period - 1, batch.ema,
                incremental.Ema, lambda s: {"period": s.ema_period}),
        MoonDef("rsi", ("rsi_period",), ("rsi",), lambda s: s.rsi_period, batch.rsi,
                incremental.Rsi, lambda s: {"period": s.rsi_period}),
        MoonDef("macd", ("macd_fast", "macd_slow", "macd_signal"),
                ("macd", "macd_signal", "macd_hist"),
                lambda s: s.macd_slow + s.macd_signal - 2, batch.macd, incremental.Macd,
                lambda s: {"fast": s.macd_fast, "slow": s.macd_slow, "signal": s.macd_signal}),
        MoonDef("bollinger", ("bb_period", "bb_k"), ("bb_mid", "bb_upper", "bb_lower", "bb_pctb"),
                lambda s: s.bb_period - 1, batch.bollinger, incremental.Bollinger,
                lambda s: {"period": s.bb_period, "k": s.bb_k}),
        MoonDef("atr", ("atr_period",), ("atr",), lambda s: s.atr_period, batch.atr,
                incremental.Atr, lambda s: {"period": s.atr_period}),
        MoonDef("realized_vol", ("vol_window", "periods_per_year"), ("realized_vol",),
                lambda s: s.vol_window, batch.realized_vol, incremental.RealizedVol,
                lambda s: {"window": s.vol_window, "periods_per_year": s.periods_per_year}),
        MoonDef("ret_z", ("ret_z_window",), ("ret_z",), lambda s: s.ret_z_window, batch.ret_z,
                incremental.RetZ, lambda s: {"window": s.ret_z_window}),
        MoonDef("max_drawdown", ("dd_window",), ("max_drawdown",), lambda s: s.dd_window - 1,
                batch.max_drawdown, incremental.MaxDrawdown, lambda s: {"window": s.dd_window}),
        MoonDef("var_cvar", ("var_window",), ("var95", "cvar95", "var99", "cvar99"),
                lambda s: s.var_window, batch.var_cvar, incremental.VarCvar,
                lambda s: {"window": s.var_window}),
        MoonDef("sharpe", ("sharpe_window", "periods_per_year"), ("sharpe",),
                lambda s: s.sharpe_window, batch.sharpe, incremental.Sharpe,
                lambda s: {"window": s.sharpe_window, "periods_per_year": s.periods_per_year}),
        MoonDef("beta_corr", ("beta_window",), ("beta", "correlation"),
                lambda s: s.beta_window, batch.beta_corr, incremental.BetaCorr,
                lambda s: {"window": s.beta_window}),
        MoonDef("volume_z", ("volume_z_window",), ("volume_z",),
                lambda s: s.volume_z_window - 1, batch.volume_z, incremental.VolumeZ,
                lambda s: {"window": s.volume_z_window}),
    )
}  # fmt: skip


def column_warmup(spec: PanelSpec) -> dict[str, int]:
    """Warm-up length (leading NaN bars) of every panel column under ``spec``."""
    return {col: d.warmup(spec) for d in MOONS.values() for col in d.columns}
