"""The reflex loop: per bar tick, N instruments' moons and the hard risk rules, no graph.

Each :meth:`ReflexLoop.tick` advances a :class:`moons.StreamingPanel` by one bar (ONE compiled
call for every instrument) and applies the hard rules to the positions the sun set, in one
compiled pass (:func:`reflex_rules`):

* ``risk_fails_closed`` – an open position whose VaR or drawdown is not known: flat;
* ``drawdown_breaker`` – drawdown at or beyond ``RiskLimits.max_drawdown``: flat (the risk
  planet's veto, from the same kernel);
* ``stop`` – price moved ``stop_loss`` against the position from its entry: flat;
* ``var_cap`` – ``|position|`` above the VaR cap: clamped to it.

A rule only ever moves a position toward zero: the reflex never loosens a limit the sun set.
Each change is a critical :class:`bus.PlanetReport` from planet ``reflex``: posted to a
:class:`ReflexBook` (which the sun reads on its next universe decision) and, with
:meth:`ReflexLoop.emit`, sent to the sun on the bus's CRITICAL lane.
"""

from __future__ import annotations

import math
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

import numpy as np
from numba import njit

import moons
from bus import SUN, Bus, Envelope, PlanetReport, Priority
from planets import RiskLimits, risk_one

REFLEX = "reflex"
RULE_NAMES = ("", "risk_fails_closed", "drawdown_breaker", "stop", "var_cap")
_FIELDS = ("open", "high", "low", "close", "volume")


@njit(cache=True)
def reflex_rules(position, entry, close, var95, drawdown, max_position, max_var95,
                 drawdown_limit, stop_loss, new_position, rule):  # fmt: skip
    """Hard rules for every instrument: ``new_position`` and the rule code that set it.

    Codes: 0 unchanged, 1 risk fails closed, 2 drawdown breaker, 3 stop, 4 VaR cap.
    Returns the number of positions changed.
    """
    changed = 0
    for i in range(position.shape[0]):
        p = position[i]
        new_position[i] = p
        rule[i] = 0
        if p == 0.0:
            continue
        if not (math.isfinite(var95[i]) and math.isfinite(drawdown[i])):
            new_position[i], rule[i] = 0.0, 1
        else:
            _, cap, breach = risk_one(var95[i], drawdown[i], max_position, max_var95,
                                      drawdown_limit)  # fmt: skip
            move = close[i] / entry[i] - 1.0
            if breach:
                new_position[i], rule[i] = 0.0, 2
            elif (p > 0.0 and move <= -stop_loss) or (p < 0.0 and move >= stop_loss):
                new_position[i], rule[i] = 0.0, 3
            elif abs(p) > cap:
                new_position[i], rule[i] = math.copysign(cap, p), 4
        if rule[i] != 0:
            changed += 1
    return changed


@dataclass(frozen=True)
class ReflexRules:
    """Settings of the reflex loop beyond :class:`RiskLimits`.

    Attributes:
        stop_loss: Adverse move from the entry price (fraction) that flattens a position.
    """

    stop_loss: float = 0.08

    def __post_init__(self) -> None:
        if not (math.isfinite(self.stop_loss) and 0.0 < self.stop_loss < 1.0):
            raise ValueError(f"stop_loss must be in (0, 1), got {self.stop_loss!r}")


@dataclass(frozen=True)
class ReflexTick:
    """What one tick did: the panel, the positions after the rules, and the alerts."""

    panel: np.ndarray
    positions: np.ndarray
    rules: np.ndarray
    alerts: tuple[PlanetReport, ...]


class ReflexBook:
    """Critical reflex updates waiting for the sun's next decision (thread-safe).

    Per instrument the tightest cap wins; :meth:`take` hands them over and clears the book.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._pending: dict[str, PlanetReport] = {}

    def post(self, alerts: Sequence[PlanetReport]) -> None:
        """Keep each alert unless a tighter one is already waiting for its instrument."""
        with self._lock:
            for alert in alerts:
                held = self._pending.get(alert.instrument)
                if held is None or alert_cap(alert) < alert_cap(held):
                    self._pending[alert.instrument] = alert

    def take(self) -> dict[str, PlanetReport]:
        """Every waiting alert by instrument; the book is empty afterwards."""
        with self._lock:
            pending, self._pending = self._pending, {}
            return pending

    def __len__(self) -> int:
        with self._lock:
            return len(self._pending)

    async def handle(self, envelope: Envelope) -> None:
        """Bus handler for the sun's subscription: file reflex alerts, ignore the rest."""
        if envelope.payload_type != "planet_report":
            return None
        report = envelope.unwrap(PlanetReport)
        if report.planet == REFLEX and report.critical:
            self.post([report])
        return None


def alert_cap(alert: PlanetReport) -> float:
    """The largest |position| a reflex alert allows (0 when it flattens or says nothing)."""
    cap = alert.evidence.get("position_cap", 0.0)
    return cap if math.isfinite(cap) and cap >= 0.0 else 0.0


class ReflexLoop:
    """Moons plus hard risk rules for ``instruments`` at every bar, without the graph.

    Args:
        instruments: The universe, in the order of every array passed to :meth:`tick`.
        limits: The risk limits (the same the sun's guard enforces).
        rules: Reflex-only settings (stop loss).
        spec: The moon panel parameters (must match the sun's for equal moon values).
        book: Where alerts go for the sun (a fresh book by default).
    """

    def __init__(
        self,
        instruments: Sequence[str],
        limits: RiskLimits | None = None,
        rules: ReflexRules | None = None,
        spec: moons.PanelSpec = moons.DEFAULT_PANEL,
        book: ReflexBook | None = None,
    ) -> None:
        self.instruments = tuple(instruments)
        if len(set(self.instruments)) != len(self.instruments):
            raise ValueError("instruments must be unique")
        self.limits = limits or RiskLimits()
        self.rules = rules or ReflexRules()
        self.book = book if book is not None else ReflexBook()
        n = len(self.instruments)
        self.panel = moons.StreamingPanel(n, spec)
        columns = list(moons.panel_columns(spec))
        self._var95, self._drawdown = columns.index("var95"), columns.index("max_drawdown")
        self.positions = np.zeros(n)
        self.entry = np.full(n, np.nan)
        self.last_close = np.full(n, np.nan)
        self._new = np.zeros(n)
        self._rule = np.zeros(n, dtype=np.int64)

    def warm_up(self, histories: Sequence[moons.Ohlcv]) -> np.ndarray:
        """Replay each instrument's history (same order as ``instruments``); the last panel."""
        if len(histories) != len(self.instruments):
            raise ValueError(f"{len(histories)} histories for {len(self.instruments)} instruments")
        last = self.panel.warmup_from(histories)
        self.last_close = np.array([h.close[-1] if len(h) else np.nan for h in histories])
        return last

    def set_targets(self, targets: Mapping[str, float]) -> None:
        """The positions the sun decided; a new or flipped position enters at the last close."""
        for name, target in targets.items():
            i = self._index(name)
            if not math.isfinite(target):
                raise ValueError(f"instrument {i} ({name!r}): target {target!r} is not finite")
            held = self.positions[i]
            if target != 0.0 and (held == 0.0 or (held > 0) != (target > 0)):
                self.entry[i] = self.last_close[i]
            self.positions[i] = target

    def _index(self, name: str) -> int:
        try:
            return self.instruments.index(name)
        except ValueError:
            raise KeyError(f"instrument {name!r} is not in the reflex loop's universe") from None

    def tick(
        self,
        open: object,
        high: object,
        low: object,
        close: object,
        volume: object,
        *,
        as_of: datetime,
    ) -> ReflexTick:
        """Advance every instrument by one bar and apply the hard rules.

        Raises:
            ValueError: naming the instrument (index and name) of a mismatched array shape
                or an invalid value; no state changes then.
        """
        arrays = [
            self._array(a, f)
            for a, f in zip((open, high, low, close, volume), _FIELDS, strict=True)
        ]
        try:
            panel = self.panel.update(*arrays)
        except ValueError as error:
            raise ValueError(self._name_bad(arrays, str(error))) from None
        c = arrays[3]
        self.last_close = c
        changed = reflex_rules(
            self.positions, self.entry, c, panel[:, self._var95], panel[:, self._drawdown],
            self.limits.max_position, self.limits.max_var95, self.limits.max_drawdown,
            self.rules.stop_loss, self._new, self._rule,
        )  # fmt: skip
        alerts: tuple[PlanetReport, ...] = ()
        if changed:
            alerts = self._alerts(as_of, panel, c)
            self.book.post(alerts)
            self.positions = self._new.copy()
        return ReflexTick(panel, self.positions.copy(), self._rule.copy(), alerts)

    def _array(self, values: object, field: str) -> np.ndarray:
        a = np.asarray(values, dtype=np.float64)
        n = len(self.instruments)
        if a.shape != (n,):
            size = int(a.size) if a.ndim == 1 else -1
            if 0 <= size < n:
                where = f"instrument {size} ({self.instruments[size]!r}) has no value"
            elif size > n:
                where = f"value {n} has no instrument (the universe has {n})"
            else:
                where = "expected one value per instrument"
            raise ValueError(f"{field}: shape {a.shape} for {n} instruments: {where}")
        return a

    def _name_bad(self, arrays: list[np.ndarray], message: str) -> str:
        for field, a in zip(_FIELDS, arrays, strict=True):
            bad = ~np.isfinite(a) | ((a < 0.0) if field == "volume" else (a <= 0.0))
            if bad.any():
                i = int(np.flatnonzero(bad)[0])
                return f"instrument {i} ({self.instruments[i]!r}): {field} = {float(a[i])!r} is not valid"
        return message

    def _alerts(
        self, as_of: datetime, panel: np.ndarray, close: np.ndarray
    ) -> tuple[PlanetReport, ...]:
        alerts = []
        for i in np.flatnonzero(self._rule).tolist():
            rule = RULE_NAMES[int(self._rule[i])]
            before, after = float(self.positions[i]), float(self._new[i])
            reason = (
                f"reflex {rule}: position {before:+.3f} -> {after:+.3f} "
                f"(close {close[i]:.6g}, entry {self.entry[i]:.6g}, "
                f"VaR95 {panel[i, self._var95]:.4g}, drawdown {panel[i, self._drawdown]:.4g})"
            )
            alerts.append(
                PlanetReport(
                    planet=REFLEX,
                    instrument=self.instruments[i],
                    as_of=as_of,
                    score=-1.0,
                    confidence=1.0,
                    evidence={"position_cap": abs(after), "position_before": before},
                    recommendations=(rule,),
                    veto=after == 0.0,
                    veto_reason=reason if after == 0.0 else None,
                    critical=True,
                    critical_reason=reason,
                )
            )
        return tuple(alerts)

    async def emit(self, bus: Bus, alerts: Sequence[PlanetReport]) -> None:
        """Send ``alerts`` to the sun on the bus's CRITICAL lane (read before other lanes)."""
        envelopes = [
            Envelope.wrap(
                a, sender=REFLEX, recipient=SUN, kind="report", priority=Priority.CRITICAL
            )
            for a in alerts
        ]
        if envelopes:
            await bus.send_many(envelopes)
