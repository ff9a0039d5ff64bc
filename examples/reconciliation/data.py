"""Seeded data: internal trades from real bars, broker confirmations with labelled breaks.

Equity trades come from GOOG daily closes, FX trades from EURUSD hourly closes, derivative
trades (BTC futures, 5 BTC per contract) from BTCUSD monthly closes. Each broker record is a
copy of the internal one unless a break is injected; the injected kind and its ground truth
(break type, materiality, expected resolution) are kept beside it.
"""

from __future__ import annotations

import csv
import random
from dataclasses import asdict, dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any, Literal

DATA = Path(__file__).resolve().parents[1] / "data"
MATERIAL_USD = 50_000.0
FEE_TOLERANCE_USD = 5.0

Resolution = Literal["auto_resolve", "correct", "investigate"]

# kind -> (share of breaks, break type, expected resolution)
BREAK_KINDS: dict[str, tuple[float, str, Resolution]] = {
    "rounding": (0.27, "CASH_BREAK", "auto_resolve"),
    "fees": (0.20, "CASH_BREAK", "auto_resolve"),  # large fee gaps become "correct"
    "price": (0.12, "TRADE_OMS_MISMATCH", "correct"),
    "quantity": (0.10, "TRADE_OMS_MISMATCH", "correct"),
    "fx_rate": (0.08, "CASH_BREAK", "correct"),
    "settlement_date": (0.08, "TRADE_OMS_MISMATCH", "correct"),
    "missing": (0.08, "BROKER_VS_INTERNAL", "investigate"),
    "duplicate": (0.06, "BROKER_VS_INTERNAL", "investigate"),
    "corrupt": (0.01, "BROKER_VS_INTERNAL", "investigate"),
}

AssetClass = Literal["equity", "fx", "derivative"]


@dataclass(frozen=True)
class Trade:
    """One trade record as either side books it (amounts in the trade currency)."""

    trade_id: str
    instrument: str
    asset_class: AssetClass
    side: Literal["BUY", "SELL"]
    quantity: float
    price: float
    multiplier: float
    trade_date: str
    settle_date: str
    currency: str
    fx_rate: float  # trade currency -> USD
    fees: float

    @property
    def notional_usd(self) -> float:
        """|quantity x price x multiplier| in USD."""
        return abs(self.quantity * self.price * self.multiplier) * self.fx_rate

    def cash_usd(self) -> float:
        """Signed settlement cash in USD, fees included."""
        sign = -1.0 if self.side == "BUY" else 1.0
        return sign * self.quantity * self.price * self.multiplier * self.fx_rate - self.fees


@dataclass(frozen=True)
class Truth:
    """Ground truth of an injected break."""

    kind: str
    break_type: str
    material: bool
    resolution: Resolution
    exposure_usd: float


@dataclass(frozen=True)
class Break:
    """An internal record and what the broker confirmed (None = missing), with the truth."""

    break_id: str
    internal: Trade
    broker: dict[str, Any] | None
    duplicate_count: int
    truth: Truth

    def as_inputs(self) -> dict[str, Any]:
        """JSON inputs handed to the agents (no ground truth)."""
        return {
            "break_id": self.break_id,
            "internal": asdict(self.internal),
            "broker": self.broker,
            "duplicate_count": self.duplicate_count,
        }


@dataclass(frozen=True)
class Dataset:
    """Internal trades, broker confirmations and the breaks between them."""

    internal: list[Trade]
    broker: list[dict[str, Any]]
    breaks: list[Break]


def _bars(name: str) -> list[tuple[str, float]]:
    with (DATA / name).open(newline="") as handle:
        rows = list(csv.reader(handle))[1:]
    return [(row[0][:10], float(row[4])) for row in rows if row[4]]


def _settle(day: str, lag: int) -> str:
    current = date.fromisoformat(day)
    while lag > 0:
        current += timedelta(days=1)
        if current.weekday() < 5:
            lag -= 1
    return current.isoformat()


def _trade(rng: random.Random, index: int, markets: dict[str, list[tuple[str, float]]]) -> Trade:
    roll = rng.random()
    asset: AssetClass = "equity" if roll < 0.6 else ("fx" if roll < 0.9 else "derivative")
    if asset == "equity":
        day, px = rng.choice(markets["GOOG"])
        qty, mult, ccy, fx, inst, lag = float(rng.randrange(10, 1000)), 1.0, "USD", 1.0, "GOOG", 2
        price = round(px * (1 + rng.uniform(-0.002, 0.002)), 4)
    elif asset == "fx":
        day, px = rng.choice(markets["EURUSD"])
        qty, mult, ccy, fx, inst, lag = (
            float(rng.randrange(10, 300) * 1000),
            1.0,
            "USD",
            1.0,
            "EURUSD",
            2,
        )
        price = round(px * (1 + rng.uniform(-0.0002, 0.0002)), 6)
    else:
        day, px = rng.choice(markets["BTCUSD"])
        qty, mult, ccy, fx, inst, lag = float(rng.randrange(1, 20)), 5.0, "USD", 1.0, "BTC-FUT", 1
        price = round(px * (1 + rng.uniform(-0.002, 0.002)), 4)
    fees = round(max(1.0, qty * price * mult * 0.0001), 2)
    return Trade(
        trade_id=f"T{index:06d}", instrument=inst, asset_class=asset,
        side=rng.choice(("BUY", "SELL")), quantity=qty, price=price, multiplier=mult,
        trade_date=day, settle_date=_settle(day, lag), currency=ccy, fx_rate=fx, fees=fees,
    )  # fmt: skip


def _inject(
    rng: random.Random, kind: str, trade: Trade
) -> tuple[dict[str, Any] | None, int, Resolution, float]:
    """Broker record, duplicate count, resolution and USD exposure for one injected break."""
    resolution: Resolution = BREAK_KINDS[kind][2]
    broker = asdict(trade)
    exposure = 0.0
    if kind == "rounding":
        places = 4 if trade.asset_class == "fx" else 2
        rounded = round(trade.price, places)
        broker["price"] = rounded if rounded != trade.price else trade.price + 10.0**-places
        exposure = abs(broker["price"] - trade.price) * trade.quantity * trade.multiplier
    elif kind == "fees":
        gap = rng.uniform(0.01, FEE_TOLERANCE_USD) if rng.random() < 0.8 else rng.uniform(20, 800)
        broker["fees"] = round(trade.fees + gap, 2)
        exposure = abs(broker["fees"] - trade.fees)
        resolution = "auto_resolve" if exposure <= FEE_TOLERANCE_USD else "correct"
    elif kind == "price":
        # one in twenty is a one-tick error that looks just like rounding
        size = rng.uniform(2e-5, 9e-5) if rng.random() < 0.05 else rng.uniform(5e-4, 0.03)
        broker["price"] = round(trade.price * (1 + rng.choice((-1, 1)) * size), 6)
        exposure = abs(broker["price"] - trade.price) * trade.quantity * trade.multiplier
    elif kind == "quantity":
        broker["quantity"] = float(max(1, round(trade.quantity * rng.uniform(0.3, 0.95))))
        if rng.random() < 0.5:  # the broker charged fees on the quantity it filled
            broker["fees"] = round(trade.fees * broker["quantity"] / trade.quantity, 2)
        exposure = abs(broker["quantity"] - trade.quantity) * trade.price * trade.multiplier
    elif kind == "fx_rate":
        broker["fx_rate"] = round(trade.fx_rate * (1 + rng.uniform(0.001, 0.02)), 6)
        exposure = (
            abs(broker["fx_rate"] - trade.fx_rate) * trade.quantity * trade.price * trade.multiplier
        )
    elif kind == "settlement_date":
        broker["settle_date"] = _settle(trade.settle_date, rng.choice((1, 2)))
        exposure = trade.notional_usd * 0.05 / 360 * 2  # funding cost of the delay
    elif kind in ("missing", "duplicate"):
        exposure = trade.notional_usd
        return (
            (None if kind == "missing" else broker),
            (2 if kind == "duplicate" else 0),
            resolution,
            exposure,
        )
    elif kind == "corrupt":
        broker["price"] = None
        exposure = trade.notional_usd
    return broker, 1, resolution, exposure


def generate_breaks(n_breaks: int = 2000, seed: int = 7, clean_per_break: float = 4.0) -> Dataset:
    """Generate ``n_breaks`` labelled breaks among about ``(1 + clean_per_break) x`` trades."""
    rng = random.Random(seed)
    markets = {name: _bars(f"{name}.csv") for name in ("GOOG", "EURUSD", "BTCUSD")}
    kinds = list(BREAK_KINDS)
    weights = [BREAK_KINDS[k][0] for k in kinds]
    internal: list[Trade] = []
    broker: list[dict[str, Any]] = []
    breaks: list[Break] = []
    index = 0
    while len(breaks) < n_breaks:
        index += 1
        trade = _trade(rng, index, markets)
        internal.append(trade)
        if rng.random() >= 1.0 / (1.0 + clean_per_break):
            broker.append(asdict(trade))
            continue
        kind = rng.choices(kinds, weights)[0]
        record, copies, resolution, exposure = _inject(rng, kind, trade)
        broker.extend([record] * copies if record is not None else [])
        truth = Truth(kind=kind, break_type=BREAK_KINDS[kind][1], material=exposure >= MATERIAL_USD,
                      resolution=resolution, exposure_usd=exposure)  # fmt: skip
        breaks.append(Break(f"B{len(breaks):05d}", trade, record, copies, truth))
    return Dataset(internal, broker, breaks)


def write_files(dataset: Dataset, directory: Path) -> tuple[Path, Path, Path]:
    """Write internal.csv, broker.csv and truth.csv under ``directory``."""
    directory.mkdir(parents=True, exist_ok=True)
    paths = (directory / "internal.csv", directory / "broker.csv", directory / "truth.csv")
    fields = list(asdict(dataset.internal[0]))
    for path, rows in (
        (paths[0], [asdict(t) for t in dataset.internal]),
        (paths[1], dataset.broker),
    ):
        with path.open("w", newline="") as handle:
            writer = csv.DictWriter(handle, fieldnames=fields)
            writer.writeheader()
            writer.writerows(rows)
    with paths[2].open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["break_id", "trade_id", "kind", "break_type", "material", "resolution"])
        for b in dataset.breaks:
            t = b.truth
            writer.writerow(
                [b.break_id, b.internal.trade_id, t.kind, t.break_type, t.material, t.resolution]
            )
    return paths
