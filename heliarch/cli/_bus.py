"""``heliarch worker`` (serve planets over Redis) and ``heliarch replay`` (re-run a journal)."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import TYPE_CHECKING

import typer
from rich.console import Console
from rich.table import Table

from heliarch.cli._errors import shown_url
from heliarch.cli._shard import (
    PASSWORD_HELP,
    REDIS_HELP,
    TLS_CA_HELP,
    TLS_CERT_HELP,
    TLS_KEY_HELP,
    USER_HELP,
    redis_security,
    redis_url,
    run_shard_worker,
    shard_config,
)

if TYPE_CHECKING:
    from sun.replay import ReplayReport

console = Console()
err_console = Console(stderr=True)

PLANET_HELP = "planet to serve (repeat for several): technical, risk, sentiment, execution"


def worker(
    planet: list[str] | None = typer.Option(None, "--planet", "-p", help=PLANET_HELP),
    universe: int | None = typer.Option(
        None,
        "--universe",
        help="universe mode: decide a shard of the bundled N-instrument universe",
    ),
    universe_bars: int = typer.Option(600, help="universe mode: bars of the universe's clock"),
    model: str = typer.Option("quant", help="universe mode: the sun's model spec"),
    pool: str = typer.Option("default", help="universe mode: shard pool (the coordinator's)"),
    heartbeat_s: float = typer.Option(1.0, help="universe mode: heartbeat period"),
    member_ttl_s: float = typer.Option(3.0, help="universe mode: a silent worker is dead after"),
    claim_ttl_s: float = typer.Option(5.0, help="universe mode: an unpublished claim expires"),
    tick_timeout_s: float = typer.Option(60.0, help="universe mode: a tick is dropped after"),
    redis: str = typer.Option(None, "--redis", help=REDIS_HELP),
    prefix: str = typer.Option("heliarch:", help="key prefix shared with the sun"),
    group: str | None = typer.Option(None, help="consumer group (default: the planet's name)"),
    consumer: str | None = typer.Option(
        None, help="consumer name, the worker's name in universe mode (default: host-pid-random)"
    ),
    tls_cert: Path | None = typer.Option(None, help=TLS_CERT_HELP),
    tls_key: Path | None = typer.Option(None, help=TLS_KEY_HELP),
    tls_ca: Path | None = typer.Option(None, help=TLS_CA_HELP),
    redis_user: str | None = typer.Option(None, help=USER_HELP),
    redis_password_file: Path | None = typer.Option(None, help=PASSWORD_HELP),
) -> None:
    """Serve planet requests (--planet) or a universe shard (--universe) until SIGTERM / Ctrl-C.

    Run more workers with the same --group (planets) or --pool (universe) on any machine to
    scale out; universe workers split the instruments by consistent hashing and take over
    a dead worker's. TLS and ACL settings also come from HELIARCH_REDIS_TLS_CERT / _TLS_KEY /
    _TLS_CA / _USER / _PASSWORD.
    """
    from redis.exceptions import RedisError

    from planets.remote import serve_planets

    if bool(planet) == (universe is not None):
        raise ValueError("--planet / --universe: give exactly one (planet or universe worker)")
    url = redis_url(redis)
    security = redis_security(tls_cert, tls_key, tls_ca, redis_user, redis_password_file)
    if universe is not None:
        config = shard_config(heartbeat_s, member_ttl_s, claim_ttl_s, tick_timeout_s)
        run_shard_worker(
            url, universe, universe_bars, model=model, pool=pool, prefix=prefix,
            name=consumer, config=config, security=security,
        )  # fmt: skip
        return
    planets = list(planet or [])

    def ready(name: str) -> None:
        print(f"ready {name} planets={','.join(planets)} prefix={prefix}", flush=True)

    try:
        asyncio.run(
            serve_planets(
                url,
                planets,
                prefix=prefix,
                group=group,
                consumer=consumer,
                on_ready=ready,
                security=security,
            )
        )
    except RedisError as error:
        raise ValueError(f"--redis {shown_url(url)}: cannot reach Redis: {error}") from error
    print("stopped", flush=True)


REPLAY_EXIT_CODES = {
    0: "replayed, no divergence",
    1: "divergence (or a decision skipped)",
    2: "bad input: the journal cannot be read (unreachable Redis, bad key)",
    3: "journal invalid: tampered, truncated, empty or not a journal",
}
MAX_VIOLATIONS_SHOWN = 20


def replay(
    journal: str = typer.Argument(..., help="JSONL journal path, or a Redis URL (--key)"),
    key: str = typer.Option("heliarch:journal", help="stream key when JOURNAL is a Redis URL"),
    as_json: bool = typer.Option(False, "--json", help="print the report as JSON"),
) -> None:
    """Verify a journal, re-run its decisions deterministically and report any divergence.

    The journal is verified first (sequence, hash chain, HMAC with HELIARCH_JOURNAL_KEY when
    set, stored series hashes, a decision for every request); nothing is replayed from an
    invalid one. LLM answers come from the journal (no model is called); a model level that
    failed when recorded fails again with the recorded error. Exit codes: 0 replayed, no
    divergence; 1 divergence or a skipped decision (e.g. recorded with custom planets, which
    the CLI cannot rebuild); 2 the journal cannot be read (unreachable Redis, bad key);
    3 journal invalid (each violation on stderr with its line).
    """
    from redis.exceptions import RedisError

    from bus import journal_secret
    from sun.replay import JournalInvalidError
    from sun.replay import replay as run_replay

    try:
        report = run_replay(journal, key=key, secret=journal_secret())
    except JournalInvalidError as error:
        shown = error.violations[:MAX_VIOLATIONS_SHOWN]
        for violation in shown:
            typer.echo(f"journal invalid: {violation}", err=True)
        if len(error.violations) > len(shown):
            more = len(error.violations) - len(shown)
            typer.echo(f"journal invalid: ... and {more} more violation(s)", err=True)
        raise typer.Exit(3) from error
    except (RedisError, OSError, ValueError) as error:
        typer.echo(f"cannot read journal {shown_url(journal)}: {error}", err=True)
        raise typer.Exit(2) from error
    if as_json:
        print(json.dumps(report.to_dict(), indent=2, default=str))
    else:
        _render(report)
    if not report.ok:
        raise typer.Exit(1)


def _render(report: ReplayReport) -> None:
    console.print(
        f"replayed {report.replayed}/{report.decisions} decisions, "
        f"{len(report.divergences)} diverged; LLM answers in journal {report.llm_answers}, "
        f"served {report.llm_served}, missing {report.llm_missing}, "
        f"recorded failures reproduced {report.llm_failures_reproduced}"
    )
    for reason in report.skipped:
        console.print(f"[yellow]skipped[/yellow] {reason}")
    if not report.divergences:
        console.print("[green]no divergence[/green]")
        return
    table = Table(title="divergences")
    for column in ("instrument", "as_of", "recorded", "replayed", "fields"):
        table.add_column(column)
    for item in report.divergences:
        table.add_row(
            item.instrument, item.as_of, item.recorded, item.replayed, ", ".join(item.fields)
        )
    console.print(table)
