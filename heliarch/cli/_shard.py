"""Sharded universes on the CLI: ``heliarch worker --universe N`` and ``heliarch universe-tick``.

Both sides load the same bundled universe (``bundled_universe(N, bars)``); the coordinator
publishes its last ``--ticks`` stamps as ticks, the workers decide the instruments the hash
ring gives them (see :mod:`sun.shard`).
"""

from __future__ import annotations

import asyncio
import json
import math
import os
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any
from uuid import uuid4

import typer

from heliarch.cli._errors import option, shown_url

if TYPE_CHECKING:
    from bus import BarSeries, RedisSecurity
    from sun.shard import ShardConfig, ShardTickResult

DEFAULT_BARS = 600
TLS_CERT_HELP = "client certificate (mutual TLS)"
TLS_KEY_HELP = "client certificate's private key"
TLS_CA_HELP = "CA that signed the Redis server certificate"
USER_HELP = "Redis ACL user (this process's role)"
PASSWORD_HELP = "file holding the ACL user's password (or HELIARCH_REDIS_PASSWORD)"
REDIS_HELP = "Redis URL (default: REDIS_URL or redis://127.0.0.1:6379/0)"


def redis_url(redis: str | None) -> str:
    """The Redis URL of the command (option, then ``REDIS_URL``, then the default)."""
    from planets.remote import DEFAULT_REDIS_URL

    return redis or os.environ.get("REDIS_URL") or DEFAULT_REDIS_URL


def redis_security(
    tls_cert: Path | None,
    tls_key: Path | None,
    tls_ca: Path | None,
    redis_user: str | None,
    redis_password_file: Path | None,
) -> RedisSecurity:
    """TLS and ACL settings from the options (and the HELIARCH_REDIS_* variables)."""
    from bus import RedisSecurity, read_password

    return RedisSecurity.from_env(
        tls_cert=str(tls_cert) if tls_cert else None,
        tls_key=str(tls_key) if tls_key else None,
        tls_ca=str(tls_ca) if tls_ca else None,
        username=redis_user,
        password=read_password(redis_password_file) if redis_password_file else None,
    )


def shard_config(
    heartbeat_s: float, member_ttl_s: float, claim_ttl_s: float, tick_timeout_s: float
) -> ShardConfig:
    """The pool timing, an invalid value named by its option."""
    from sun.shard import ShardConfig

    given = {
        "--heartbeat-s": heartbeat_s,
        "--member-ttl-s": member_ttl_s,
        "--claim-ttl-s": claim_ttl_s,
        "--tick-timeout-s": tick_timeout_s,
    }
    for name, value in given.items():
        if not (math.isfinite(value) and value > 0):
            raise ValueError(f"{name} {value!r}: must be a positive number of seconds")
    if member_ttl_s <= heartbeat_s:
        raise ValueError(f"--member-ttl-s {member_ttl_s!r}: must exceed --heartbeat-s")
    return ShardConfig(
        heartbeat_s=heartbeat_s,
        member_ttl_s=member_ttl_s,
        claim_ttl_s=claim_ttl_s,
        tick_timeout_s=tick_timeout_s,
    )


def load_bundled(n: int, bars: int) -> tuple[dict[str, BarSeries], BarSeries]:
    """``bundled_universe(n, bars)``, a bad size named by ``--universe`` / ``--universe-bars``."""
    from heliarch.backtest import bundled_universe

    return option(f"--universe {n} --universe-bars", bars, lambda b: bundled_universe(n, b))


def run_shard_worker(
    url: str,
    n: int,
    bars: int,
    *,
    model: str,
    pool: str,
    prefix: str,
    name: str | None,
    config: ShardConfig,
    security: RedisSecurity,
) -> None:
    """Serve a universe shard until SIGTERM / Ctrl-C (the ``heliarch worker`` universe mode)."""
    from redis.exceptions import RedisError

    from heliarch.cli._errors import model_option
    from sun import Sun
    from sun.shard import ShardWorker, serve_shard

    history, benchmark = load_bundled(n, bars)
    worker_name = name or f"shard-{os.getpid()}-{uuid4().hex[:6]}"

    def ready(worker: ShardWorker) -> None:
        print(f"ready {worker.name} universe={n} pool={pool} prefix={prefix}", flush=True)

    with Sun(model_option(model), checkpoint="none") as sun:
        try:
            stats = asyncio.run(
                serve_shard(
                    url, sun, history, pool=pool, prefix=prefix, name=worker_name,
                    config=config, benchmark=benchmark, security=security, on_ready=ready,
                )
            )  # fmt: skip
        except RedisError as error:
            raise ValueError(f"--redis {shown_url(url)}: cannot reach Redis: {error}") from error
    print(
        f"stopped ticks={stats.ticks} published={stats.published} "
        f"taken_over={stats.taken_over} refused={stats.refused} "
        f"failed_ticks={stats.failed_ticks}",
        flush=True,
    )


def universe_tick(
    universe: int = typer.Option(..., "--universe", help="instruments of the bundled universe"),
    universe_bars: int = typer.Option(DEFAULT_BARS, help="bars of the universe's clock"),
    ticks: int = typer.Option(5, help="ticks to publish: the clock's last TICKS stamps"),
    workers: int = typer.Option(1, help="wait for this many live workers before the first tick"),
    pool: str = typer.Option("default", help="shard pool (the workers' --pool)"),
    redis: str | None = typer.Option(None, "--redis", help=REDIS_HELP),
    prefix: str = typer.Option("heliarch:", help="key prefix shared with the workers"),
    wait_s: float = typer.Option(60.0, help="how long to wait for the workers"),
    tick_timeout_s: float = typer.Option(60.0, help="a tick not complete after this fails"),
    as_json: bool = typer.Option(False, "--json", help="print the run as one JSON object"),
    portfolio: bool = typer.Option(
        True, help="apply the default portfolio limits across the universe (shared by shards)"
    ),
    take_over_s: float = typer.Option(
        0.0, help="wait this long for a crashed coordinator's lease, then finish its open ticks"
    ),
    tls_cert: Path | None = typer.Option(None, help=TLS_CERT_HELP),
    tls_key: Path | None = typer.Option(None, help=TLS_KEY_HELP),
    tls_ca: Path | None = typer.Option(None, help=TLS_CA_HELP),
    redis_user: str | None = typer.Option(None, help=USER_HELP),
    redis_password_file: Path | None = typer.Option(None, help=PASSWORD_HELP),
) -> None:
    """Publish ticks of a bundled universe to sharded workers and collect every decision.

    Start the workers first: ``heliarch worker --universe N`` (same --universe, --pool and
    --prefix), on any machine. Each instrument of each tick is decided exactly once; a
    worker that dies is replaced by the others once its heartbeat and claims expire.
    """
    from redis.exceptions import RedisError

    from sun.shard import CoordinatorBusy, ShardTickFailed

    if ticks < 1:
        raise ValueError(f"--ticks {ticks}: must be at least 1")
    if workers < 1:
        raise ValueError(f"--workers {workers}: must be at least 1")
    config = shard_config(1.0, 3.0, 5.0, tick_timeout_s)
    history, benchmark = load_bundled(universe, universe_bars)
    if ticks > len(benchmark):
        raise ValueError(f"--ticks {ticks}: the clock has {len(benchmark)} stamps")
    security = redis_security(tls_cert, tls_key, tls_ca, redis_user, redis_password_file)
    url = redis_url(redis)
    run = TickRun(url, prefix, pool, config, security, ticks, workers, wait_s, portfolio,
                  take_over_s)  # fmt: skip
    try:
        report = asyncio.run(_coordinate(run, history, benchmark, None if as_json else _print_tick))
    except RedisError as error:
        raise ValueError(f"--redis {shown_url(url)}: cannot reach Redis: {error}") from error
    except (CoordinatorBusy, ShardTickFailed) as error:
        raise ValueError(f"--pool {pool}: {error}") from error
    if as_json:
        print(json.dumps(report, indent=2))
    else:
        typer.echo(
            f"{report['decisions']} decisions, {report['duplicates']} duplicates, "
            f"{report['instruments_per_s']:.0f} instruments/s, workers {report['workers']}"
        )


def _print_tick(tick: dict[str, Any]) -> None:
    shares = " ".join(f"{w}={n}" for w, n in sorted(tick["by_worker"].items()))
    failed = "".join(f"  failed {w}: {e}" for w, e in sorted(tick["failed_workers"].items()))
    took = " (taken over from a crashed coordinator)" if tick["taken_over"] else ""
    typer.echo(
        f"tick {tick['tick']} as of {tick['as_of']}: {tick['ms']:.1f} ms  {shares}{failed}{took}"
    )


@dataclass(frozen=True)
class TickRun:
    """What ``heliarch universe-tick`` runs: where, which pool, how many ticks, which limits."""

    url: str
    prefix: str
    pool: str
    config: ShardConfig
    security: RedisSecurity
    ticks: int
    workers: int
    wait_s: float
    portfolio: bool
    take_over_s: float


async def _coordinate(
    run: TickRun, history: dict[str, BarSeries], benchmark: BarSeries, show: Any
) -> dict[str, Any]:
    from bus import RedisBus, to_datetime
    from sun.shard import ShardCoordinator
    from sun.universe import PortfolioLimits

    limits = PortfolioLimits() if run.portfolio else None
    names = sorted(history)
    per_tick: list[dict[str, Any]] = []
    recovered: list[dict[str, Any]] = []
    bus = RedisBus(
        run.url, prefix=run.prefix, config=run.config.bus_config(), security=run.security
    )
    async with (
        bus,
        ShardCoordinator(bus, pool=run.pool, config=run.config, portfolio=limits) as coordinator,
    ):
        for result in await coordinator.take_over(run.take_over_s):
            recovered.append(_row(result, taken_over=True))
            if show is not None:
                show(recovered[-1])
        live = await coordinator.wait_for_workers(run.workers, run.wait_s)
        started = time.perf_counter()
        for stamp in benchmark.timestamps[-run.ticks :]:
            per_tick.append(_row(await coordinator.tick(to_datetime(stamp), names)))
            if show is not None:
                show(per_tick[-1])
        elapsed = time.perf_counter() - started
        duplicates = coordinator.duplicates
    decided = {w for row in per_tick for w in row["by_worker"]}
    return {
        "pool": run.pool,
        "instruments": len(names),
        "ticks": run.ticks,
        "workers": sorted(live | decided),
        "decisions": sum(sum(row["by_worker"].values()) for row in per_tick),
        "duplicates": duplicates,
        "elapsed_s": round(elapsed, 3),
        "ticks_per_s": round(run.ticks / elapsed, 2),
        "instruments_per_s": round(run.ticks * len(names) / elapsed, 1),
        "per_tick": per_tick,
        "taken_over": recovered,
    }


def _row(result: ShardTickResult, taken_over: bool = False) -> dict[str, Any]:
    shares = {w: len(i) for w, i in result.by_worker().items()}
    return {"tick": result.tick, "as_of": result.as_of.isoformat(),
            "ms": round(result.elapsed_s * 1000, 2), "by_worker": shares,
            "failed_workers": result.failed, "taken_over": taken_over}  # fmt: skip
